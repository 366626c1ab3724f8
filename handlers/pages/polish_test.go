package pages_test

import (
	"bytes"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"

	"github.com/hue-cdt/cdt/internal/apptest"
)

var (
	isoDay = regexp.MustCompile(`\b\d{4}-\d{2}-\d{2}\b`)
	// A number written the other language's way: 1,234 or 0,5% in English,
	// 1.234 beside a comma decimal is fine in Vietnamese, 12.5 % is not.
	viWrong = regexp.MustCompile(`\d\.\d %|\d,\d{3}\b`)
	enWrong = regexp.MustCompile(`\d,\d ?%|\d\.\d{3}\b| %`)
)

// visible is the text a reader sees, charts' labels and tooltips included.
func visible(doc *goquery.Document) string {
	var b strings.Builder
	doc.Find("main").Each(func(_ int, s *goquery.Selection) { b.WriteString(s.Text()) })
	return b.String()
}

// TestNumbersAndDaysFollowTheLanguage reads the pages a leader reads in
// Vietnamese and in English: every number, percentage and day is written
// the language's way, and no ISO date shows beside dd/mm/yyyy.
func TestNumbersAndDaysFollowTheLanguage(t *testing.T) {
	e := apptest.New(t, apptest.Insecure)
	f := e.NewFixture()
	e.Must(e.Patch("/api/v1/units/"+f.VillageA, f.Admin, map[string]any{"households": 12500}), 200)
	e.LogSome(f.MemberTokA, f.VillageA, 6)
	e.Settle()
	e.RunCoverage(f.Admin)
	b := e.Browser()
	b.Login("admin", apptest.AdminPassword)
	pages := []string{"/province", "/communes", "/communes/" + f.CommuneA, "/communes/" + f.CommuneA + "/dashboard", "/jobs",
		"/members/" + f.MemberA, "/teams/" + f.TeamA1}
	for _, lang := range []struct {
		code, households, pct string
		wrong                 *regexp.Regexp
	}{{"vi", "12.500", "0,0 %", viWrong}, {"en", "12,500", "0.0%", enWrong}} {
		b.Get("/lang/" + lang.code)
		for _, p := range pages {
			page := b.Get(p)
			text := visible(page.Doc)
			if page.Status != 200 {
				t.Fatalf("%s %s: %d", lang.code, p, page.Status)
			}
			if m := isoDay.FindString(text); m != "" {
				t.Errorf("%s %s shows the ISO day %s", lang.code, p, m)
			}
			if m := lang.wrong.FindString(text); m != "" {
				t.Errorf("%s %s writes %q the other language's way", lang.code, p, m)
			}
		}
		prov := visible(b.Get("/province").Doc)
		if !strings.Contains(prov, lang.households) || !strings.Contains(prov, lang.pct) {
			t.Errorf("%s province: no %s or %s in %q", lang.code, lang.households, lang.pct, prov[:min(400, len(prov))])
		}
	}
}

// TestUnknownPagesAnswerAnErrorPage: a path nobody serves, or a method a
// page does not take, answers a page in the reader's language; the API's
// paths keep answering in its JSON format.
func TestUnknownPagesAnswerAnErrorPage(t *testing.T) {
	e := apptest.New(t, apptest.Insecure)
	b := e.Browser()
	for _, c := range []struct {
		lang, method, path string
		status             int
		title              string
	}{
		{"vi", "GET", "/khong-co-trang-nay", 404, "Không tìm thấy"},
		{"en", "GET", "/no/such/page", 404, "Not found"},
		{"en", "DELETE", "/login", 405, "Method not allowed"},
		{"vi", "PUT", "/province", 405, "Không dùng được cách gửi này"},
	} {
		req, _ := http.NewRequest(c.method, b.Base+c.path, nil)
		req.AddCookie(&http.Cookie{Name: "cdt_lang", Value: c.lang})
		resp, err := b.Client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		page := pageOf(t, resp)
		if page.Status != c.status || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") ||
			strings.TrimSpace(page.Doc.Find("main h1").Text()) != c.title || page.Doc.Find(`html[lang="`+c.lang+`"]`).Length() != 1 {
			t.Errorf("%s %s (%s): %d %s %q", c.method, c.path, c.lang, page.Status, resp.Header.Get("Content-Type"), page.Doc.Find("main h1").Text())
		}
	}
	for _, p := range []string{"/api/v1/nothing", "/open/nothing.json"} {
		if r := e.Get(p, ""); r.Status != 404 || r.ErrorCode() != "not_found" {
			t.Errorf("%s: %d %s", p, r.Status, r.Body)
		}
	}
	if r := e.Do(apptest.Request{Method: "PUT", Path: "/api/v1/me"}); r.Status != 405 || r.ErrorCode() != "method_not_allowed" {
		t.Errorf("PUT /api/v1/me: %d %s", r.Status, r.Body)
	}
}

// TestEveryPageHasAFavicon: the icon the pages link, and /favicon.ico that
// browsers ask for by themselves, are PNG images.
func TestEveryPageHasAFavicon(t *testing.T) {
	e := apptest.New(t, apptest.Insecure)
	b := e.Browser()
	login := b.Get("/login")
	href, ok := login.Doc.Find(`link[rel="icon"]`).Attr("href")
	if !ok {
		t.Fatal("the pages link no icon")
	}
	for _, p := range []string{href, "/favicon.ico"} {
		r := e.Get(p, "")
		if r.Status != 200 || r.Header.Get("Content-Type") != "image/png" || !bytes.HasPrefix(r.Body, []byte("\x89PNG")) {
			t.Errorf("%s: %d %s", p, r.Status, r.Header.Get("Content-Type"))
		}
	}
}

// TestFormsLabelTheirFieldsAndGuessNothing: every field of the course page
// (the member search, the sign-in sheet) has a label, and a new member's
// gender is asked, not preselected.
func TestFormsLabelTheirFieldsAndGuessNothing(t *testing.T) {
	e := apptest.New(t, apptest.Insecure)
	f := e.NewFixture()
	training := e.NewTraining(f.CommuneLeaderA, f.CommuneA)
	b := e.Browser()
	b.Login("leader.a", apptest.Password)
	for _, p := range []string{"/trainings/" + training, "/teams/" + f.TeamA1 + "/members/new", "/imports/registry"} {
		page := b.Get(p)
		page.Doc.Find("main input, main select, main textarea").Each(func(_ int, s *goquery.Selection) {
			if typ, _ := s.Attr("type"); typ == "hidden" || typ == "submit" || typ == "checkbox" && s.ParentFiltered("label").Length() == 1 {
				return
			}
			id, _ := s.Attr("id")
			name, _ := s.Attr("name")
			if _, aria := s.Attr("aria-label"); !aria && (id == "" || page.Doc.Find(`label[for="`+id+`"]`).Length() == 0) {
				t.Errorf("%s: the field %q has no label", p, name)
			}
		})
	}
	form := b.Get("/teams/" + f.TeamA1 + "/members/new")
	chosen := form.Doc.Find(`select[name="gender"] option[selected]`)
	if v, _ := chosen.Attr("value"); chosen.Length() != 1 || v != "" {
		t.Errorf("a gender is preselected: %q", v)
	}
	if _, ok := form.Doc.Find(`select[name="gender"]`).Attr("required"); !ok {
		t.Error("the gender is not required")
	}
}
