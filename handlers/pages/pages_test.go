package pages_test

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"

	"github.com/hue-cdt/cdt/internal/apptest"
)

func TestPageSessionCookiesAreHardened(t *testing.T) {
	e := apptest.New(t) // default: Secure cookies
	form := e.Do(apptest.Request{Method: "GET", Path: "/login"})
	if form.Status != 200 || !strings.Contains(string(form.Body), `name="csrf_token"`) {
		t.Fatalf("login page: %d", form.Status)
	}
	csrfCookie := form.Header.Get("Set-Cookie")
	tok := regexp.MustCompile(`name="csrf_token" value="([^"]+)"`).FindStringSubmatch(string(form.Body))[1]
	r := e.Do(apptest.Request{Method: "POST", Path: "/login", Body: "username=admin&password=" + apptest.AdminPassword + "&csrf_token=" + url.QueryEscape(tok),
		Header: map[string]string{"Content-Type": "application/x-www-form-urlencoded", "Cookie": strings.Split(csrfCookie, ";")[0]}})
	if r.Status != http.StatusSeeOther {
		t.Fatalf("login: %d %s", r.Status, r.Body)
	}
	cookies := r.Header.Values("Set-Cookie")
	names := map[string]string{}
	for _, c := range cookies {
		names[strings.SplitN(c, "=", 2)[0]] = c
	}
	for _, name := range []string{"cdt_access", "cdt_refresh"} {
		c := names[name]
		if !strings.Contains(c, "HttpOnly") || !strings.Contains(c, "Secure") || !strings.Contains(c, "SameSite=Lax") {
			t.Fatalf("%s: %q", name, c)
		}
	}
	if !strings.Contains(csrfCookie, "HttpOnly") || !strings.Contains(csrfCookie, "Secure") {
		t.Fatalf("csrf cookie: %q", csrfCookie)
	}
}

func TestFormsNeedTheCSRFToken(t *testing.T) {
	e := apptest.New(t, apptest.Insecure)
	b := e.Browser()
	home := b.Login("admin", apptest.AdminPassword)
	if home.Status != 200 || home.URL.Path != "/province" {
		t.Fatalf("admin lands on %s (%d)", home.URL, home.Status)
	}
	form := b.Get("/communes/19753/villages/new")
	bad := b.Submit(form, "/communes/19753/villages/new", url.Values{"name": {"Tổ dân phố 9"}, "type": {"to_dan_pho"}, "csrf_token": {"forged"}})
	if bad.Status != http.StatusForbidden {
		t.Fatalf("forged token: %d", bad.Status)
	}
	// A cross-site form (Origin of another site) is refused even with a token.
	req, _ := http.NewRequest("POST", b.Base+"/communes/19753/villages/new", strings.NewReader("name=X&type=thon"))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", "https://evil.example")
	resp, err := b.Client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden {
		t.Fatalf("cross-site post: %d", resp.StatusCode)
	}
	page := b.Get("/communes/19753")
	if strings.Contains(page.Body, "Tổ dân phố 9") {
		t.Fatal("a refused form changed data")
	}
}

func TestCommuneLeaderManagesTheRegistryFromPages(t *testing.T) {
	e := apptest.New(t, apptest.Insecure)
	f := e.NewFixture()
	b := e.Browser()
	home := b.Login("leader.a", apptest.Password)
	if home.URL.Path != "/communes/"+f.CommuneA+"/dashboard" || !strings.Contains(home.Body, "Phường Phú Xuân") {
		t.Fatalf("commune leader lands on %s", home.URL)
	}
	// Village
	form := b.Get("/communes/" + f.CommuneA + "/villages/new")
	bad := b.Submit(form, "/communes/"+f.CommuneA+"/villages/new", url.Values{"name": {""}, "type": {"to_dan_pho"}, "households": {"abc"}})
	if bad.Status != 422 || bad.Doc.Find(".field-error").Length() < 1 {
		t.Fatalf("invalid village form: %d", bad.Status)
	}
	ok := b.Submit(form, "/communes/"+f.CommuneA+"/villages/new", url.Values{"name": {"Tổ dân phố 7"}, "type": {"to_dan_pho"}, "households": {"215"}})
	if ok.Status != 200 || !strings.Contains(ok.Body, "Tổ dân phố 7") || ok.Doc.Find(".flash").Length() != 1 {
		t.Fatalf("village created: %d %s", ok.Status, ok.URL)
	}
	// Team in that village
	form = b.Get("/communes/" + f.CommuneA + "/teams/new")
	village := ""
	form.Doc.Find(`select[name="village_code"] option`).Each(func(_ int, s *goquery.Selection) {
		if strings.Contains(s.Text(), "Tổ dân phố 7") {
			village, _ = s.Attr("value")
		}
	})
	team := b.Submit(form, "/communes/"+f.CommuneA+"/teams/new", url.Values{"name": {"Tổ CNSCĐ TDP 7"}, "village_code": {village},
		"established_on": {"2025-08-15"}, "decision_no": {"77/QĐ-UBND"}})
	if team.Status != 200 || !strings.HasPrefix(team.URL.Path, "/teams/") || !strings.Contains(team.Body, "77/QĐ-UBND") {
		t.Fatalf("team page: %d %s", team.Status, team.URL)
	}
	// Member
	teamPath := team.URL.Path
	form = b.Get(teamPath + "/members/new")
	member := b.Submit(form, teamPath+"/members/new", url.Values{"full_name": {"Đặng Thị Mai"}, "phone": {"0912 345 678"},
		"position": {"leader"}, "affiliation": {"village_head"}, "gender": {"f"}, "birth_year": {"1979"}})
	if member.Status != 200 || !strings.Contains(member.Body, "0912345678") {
		t.Fatalf("member page: %d %s", member.Status, member.URL)
	}
	// Login for the member, as team leader
	form = b.Get(member.URL.Path + "/login")
	created := b.Submit(form, member.URL.Path+"/login", url.Values{"username": {"mai.dang"}, "password": {"mat-khau-2"}, "role": {"team_leader"}})
	if created.Status != 200 || !strings.Contains(created.Body, "mai.dang") {
		t.Fatalf("login created: %d %s", created.Status, created.URL)
	}
	b2 := e.Browser()
	landing := b2.Login("mai.dang", "mat-khau-2")
	if landing.Status != 200 || !strings.Contains(landing.Body, "Đặng Thị Mai") {
		t.Fatalf("the new team leader lands on %s", landing.URL)
	}
	// Another commune's team, member or village does not exist for this leader
	// (404); the other commune itself, whose code is public, is refused (403),
	// as the API refuses it, and so is the province's list.
	for p, want := range map[string]int{"/teams/" + f.TeamB1: 404, "/members/" + f.MemberB: 404, "/villages/" + f.VillageB + "/edit": 404,
		"/communes/" + f.CommuneB: 403, "/communes/" + f.CommuneB + "/teams/new": 403, "/communes/" + f.CommuneB + "/users": 403, "/communes": 403} {
		if r := b.Get(p); r.Status != want {
			t.Errorf("%s: %d, want %d", p, r.Status, want)
		}
	}
}

func TestPagesInBothLanguagesHaveNoMissingMessages(t *testing.T) {
	e := apptest.New(t, apptest.Insecure)
	f := e.NewFixture()
	b := e.Browser()
	b.Login("admin", apptest.AdminPassword)
	paths := []string{"/communes", "/communes/" + f.CommuneA, "/communes/" + f.CommuneA + "/villages/new",
		"/villages/" + f.VillageA + "/edit", "/communes/" + f.CommuneA + "/teams/new", "/teams/" + f.TeamA1,
		"/teams/" + f.TeamA1 + "/edit", "/teams/" + f.TeamA1 + "/members/new", "/members/" + f.MemberA,
		"/members/" + f.MemberA + "/edit", "/members/" + f.LeaderA + "/login", "/communes/" + f.CommuneA + "/users",
		"/users", "/users/new", "/units", "/units?as_of=2024-05-01", "/account", "/teams/nope",
		"/province", "/communes/" + f.CommuneA + "/dashboard", "/jobs", "/trainings", "/trainings/new",
		"/communes/" + f.CommuneA + "/trainings"}
	for _, lang := range []string{"vi", "en"} {
		b.Get("/lang/" + lang)
		for _, p := range paths {
			pg := b.Get(p)
			if pg.Status != 200 && p != "/teams/nope" {
				t.Errorf("%s %s: %d", lang, p, pg.Status)
			}
			if m := regexp.MustCompile(`![a-z_]+\.[a-z_.0-9]+`).FindString(pg.Body); m != "" {
				t.Errorf("%s %s: missing message %s", lang, p, m)
			}
			if got, _ := pg.Doc.Find("html").Attr("lang"); got != lang {
				t.Errorf("%s %s: html lang %q", lang, p, got)
			}
		}
	}
	units := b.Get("/units?as_of=2024-05-01")
	if n := units.Doc.Find("tbody tr").Length(); n != 141 {
		t.Fatalf("units page in 2024 lists %d communes", n)
	}
}
