package pages_test

import (
	"context"
	"encoding/json"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"
	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/hue-cdt/cdt/domain"
	"github.com/hue-cdt/cdt/internal/apptest"
	"github.com/hue-cdt/cdt/jobs"
)

// count reads the number in "Label (N)" or "N · …" text.
func count(t *testing.T, s string) int {
	t.Helper()
	m := regexp.MustCompile(`\d[\d.]*`).FindString(s)
	n, err := strconv.Atoi(strings.ReplaceAll(m, ".", ""))
	if err != nil {
		t.Fatalf("no number in %q", s)
	}
	return n
}

// stat is the figure of the headline labelled label, and its "of N".
func stat(t *testing.T, doc *goquery.Document, label string) (value, of int) {
	t.Helper()
	var found *goquery.Selection
	doc.Find(".stat").Each(func(_ int, s *goquery.Selection) {
		l, _, _ := strings.Cut(s.Find("span").First().Text(), "·")
		if strings.TrimSpace(l) == label {
			found = s
		}
	})
	if found == nil {
		t.Fatalf("no figure %q", label)
	}
	value = count(t, found.Find("b").Text())
	if _, rest, ok := strings.Cut(found.Find("span").First().Text(), "·"); ok {
		of = count(t, rest)
	}
	return value, of
}

// section is the rows of the table under the heading that starts with title.
func section(doc *goquery.Document, title string) (heading string, rows *goquery.Selection) {
	h := doc.Find("h2").FilterFunction(func(_ int, s *goquery.Selection) bool {
		return strings.HasPrefix(strings.TrimSpace(s.Text()), title)
	}).First()
	return strings.TrimSpace(h.Text()), h.NextAllFiltered(".table-wrap").First().Find("tbody tr:not(.empty)")
}

// TestEveryFigureOnAPageAgrees reads the real pages and compares the figures
// each shows with the lists beside them: one computation per page, labelled
// with its time.
func TestEveryFigureOnAPageAgrees(t *testing.T) {
	e := apptest.New(t, apptest.Insecure)
	f := e.NewFixture()
	ctx := context.Background()
	today := domain.DateOf(apptest.Start)
	noTeam := e.Must(e.Post("/api/v1/units", f.CommuneLeaderA, map[string]any{"level": "village", "parent_code": f.CommuneA,
		"name": "Thôn Không Tổ", "households": 60}), 201)["code"].(string)
	// Member A and the team leader last logged 30 days ago: active in
	// yesterday's window, idle in today's.
	e.Must(e.Post("/api/v1/assistance", f.MemberTokA, apptest.Record(f.VillageA, apptest.Start.Add(-30*24*time.Hour), "0905111001")), 201)
	e.Must(e.Post("/api/v1/assistance", f.TeamLeaderA, apptest.Record(f.VillageA, apptest.Start.Add(-30*24*time.Hour), "0905111003")), 201)
	e.Settle()
	if _, err := e.App.Coverage.RunNow(ctx, jobs.RunOptions{Date: today.AddDays(-1), Trigger: jobs.TriggerNightly}); err != nil {
		t.Fatal(err)
	}
	// Today member A2 logs: idle in yesterday's figures, active now.
	e.Must(e.Post("/api/v1/assistance", f.MemberTokA2, apptest.Record(f.VillageA, apptest.Start.Add(-time.Hour), "0905111002")), 201)
	e.Settle()
	// A member of team A1 leaves.
	left := e.Must(e.Post("/api/v1/members", f.Admin, map[string]any{"team_id": f.TeamA1, "full_name": "Phan Văn Đi",
		"phone": "0905111666", "position": "member", "affiliation": "resident", "gender": "m", "birth_year": 1990}), 201)["id"].(string)
	e.Must(e.Patch("/api/v1/members/"+left, f.Admin, map[string]any{"active": false}), 200)

	leader := e.Browser()
	dash := leader.Login("leader.a", apptest.Password)
	if dash.URL.Path != "/communes/"+f.CommuneA+"/dashboard" {
		t.Fatalf("landing: %s", dash.URL)
	}
	active, members := stat(t, dash.Doc, "Thành viên hoạt động (30 ngày)")
	heading, rows := section(dash.Doc, "Thành viên chưa hoạt động")
	if count(t, heading[strings.Index(heading, "("):]) != rows.Length() || rows.Length() != members-active {
		t.Errorf("dashboard: %d of %d members active, but %q lists %d idle", active, members, heading, rows.Length())
	}
	teamsActive, teams := stat(t, dash.Doc, "Tổ hoạt động (30 ngày)")
	heading, rows = section(dash.Doc, "Tổ chưa hoạt động")
	if rows.Length() != teams-teamsActive {
		t.Errorf("dashboard: %d of %d teams active, but %q lists %d idle", teamsActive, teams, heading, rows.Length())
	}
	if !strings.Contains(dash.Doc.Find("#idle").Text(), "Số liệu đến hết ngày") {
		t.Errorf("the idle lists do not say when they were computed: %q", dash.Doc.Find("#idle").Text())
	}
	// Figures computed before runs listed the idle: the lists are counted
	// over the same window.
	latest := e.App.Store.Database.Collection("coverage_latest")
	var doc bson.M
	if err := latest.FindOne(ctx, bson.D{{Key: "_id", Value: f.CommuneA}}).Decode(&doc); err != nil {
		t.Fatal(err)
	}
	var fields map[string]any
	if err := json.Unmarshal([]byte(doc["row"].(string)), &fields); err != nil {
		t.Fatal(err)
	}
	if fields["IdleMembers"] == nil {
		t.Fatalf("the run did not list the idle members: %v", fields)
	}
	delete(fields, "IdleTeams")
	delete(fields, "IdleMembers")
	old, _ := json.Marshal(fields)
	if _, err := latest.UpdateOne(ctx, bson.D{{Key: "_id", Value: f.CommuneA}}, bson.D{{Key: "$set", Value: bson.D{{Key: "row", Value: string(old)}}}}); err != nil {
		t.Fatal(err)
	}
	_, rows = section(leader.Get("/communes/"+f.CommuneA+"/dashboard").Doc, "Thành viên chưa hoạt động")
	if rows.Length() != members-active {
		t.Errorf("dashboard of an older run: %d of %d members active, %d listed idle", active, members, rows.Length())
	}

	// The commune page: a village without a team says so; counts match the tables.
	commune := leader.Get("/communes/" + f.CommuneA)
	if commune.Doc.Find(`a[href="/teams/"]`).Length() > 0 {
		t.Error("commune page: a link to /teams/ with no team")
	}
	row := commune.Doc.Find("tr").FilterFunction(func(_ int, s *goquery.Selection) bool { return strings.Contains(s.Text(), noTeam) })
	if !strings.Contains(row.Text(), "Chưa có tổ") {
		t.Errorf("commune page: the village without a team reads %q", row.Text())
	}
	withTeam, _ := stat(t, commune.Doc, "Thôn có tổ")
	heading, rows = section(commune.Doc, "Thôn, tổ dân phố")
	linked := rows.Find(`a[href^="/teams/"]`).Length()
	if withTeam != linked {
		t.Errorf("commune page: %d villages with a team, %d linked in %q", withTeam, linked, heading)
	}
	nTeams, _ := stat(t, commune.Doc, "Tổ CNSCĐ")
	heading, _ = section(commune.Doc, "Các tổ CNSCĐ")
	if count(t, heading) != nTeams {
		t.Errorf("commune page: %d teams, but %q", nTeams, heading)
	}
	nVillages, _ := stat(t, commune.Doc, "Thôn, TDP")
	heading, _ = section(commune.Doc, "Thôn, tổ dân phố")
	if count(t, heading) != nVillages {
		t.Errorf("commune page: %d villages, but %q", nVillages, heading)
	}

	// A team's page: the heading counts the members in the table, as the
	// commune leader and as one of its members sees it.
	for _, who := range []struct{ user, pass string }{{"leader.a", apptest.Password}, {"member.a", apptest.Password}} {
		b := e.Browser()
		b.Login(who.user, who.pass)
		team := b.Get("/teams/" + f.TeamA1)
		heading, rows := section(team.Doc, "Thành viên")
		if count(t, heading) != rows.Length() {
			t.Errorf("team page as %s: %q above a table of %d", who.user, heading, rows.Length())
		}
		if who.user == "member.a" && !strings.Contains(team.Doc.Find("#members-note").Text(), "2") {
			t.Errorf("team page as a member: nothing says the team has 2 members: %q", team.Doc.Find("main").Text())
		}
	}
}
