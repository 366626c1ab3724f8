package api_test

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"github.com/hue-cdt/cdt/internal/app"
	"github.com/hue-cdt/cdt/internal/apptest"
)

func TestCoverageAPI(t *testing.T) {
	e := apptest.New(t)
	f := e.NewFixture()
	e.LogSome(f.MemberTokA, f.VillageA, 5)
	e.LogSome(f.MemberTokB, f.VillageB, 3)
	e.Settle()
	run := e.RunCoverage(f.Admin)
	if run["date"] != "2026-11-21" || run["communes"].(float64) != 40 || run["finished_at"] == nil || run["duration_ms"] == nil {
		t.Fatalf("run: %v", run)
	}
	all := e.Must(e.Get("/api/v1/coverage/communes", f.Admin), 200)["items"].([]any)
	if len(all) != 40 {
		t.Fatalf("%d rows", len(all))
	}
	var a map[string]any
	for _, it := range all {
		if it.(map[string]any)["commune_code"] == f.CommuneA {
			a = it.(map[string]any)
		}
	}
	for _, k := range []string{"commune_code", "date", "villages_total", "villages_with_team", "teams_total", "teams_active_30d",
		"members_total", "members_active_30d", "members_trained", "households_total", "households_reached",
		"household_coverage", "assistance_total", "assistance_30d", "by_service"} {
		if _, ok := a[k]; !ok {
			t.Fatalf("row without %s: %v", k, a)
		}
	}
	// Fixture A: villages V1 (250 households) with team A1; team A2 at commune level.
	want := map[string]float64{"villages_total": 1, "villages_with_team": 1, "teams_total": 2, "teams_active_30d": 1,
		"members_total": 3, "members_active_30d": 1, "households_total": 250, "households_reached": 5,
		"assistance_total": 5, "assistance_30d": 5, "household_coverage": 0.02}
	for k, v := range want {
		if a[k].(float64) != v {
			t.Errorf("%s = %v, want %v", k, a[k], v)
		}
	}
	if a["by_service"].(map[string]any)["vneid_activation"].(float64) != 5 {
		t.Fatalf("by_service: %v", a["by_service"])
	}
	// Scope.
	mine := e.Must(e.Get("/api/v1/coverage/communes", f.CommuneLeaderA), 200)["items"].([]any)
	if len(mine) != 1 || mine[0].(map[string]any)["commune_code"] != f.CommuneA {
		t.Fatalf("commune leader sees %v", mine)
	}
	for _, p := range []string{"/api/v1/coverage/communes/" + f.CommuneB + "/history"} {
		if r := e.Get(p, f.CommuneLeaderA); r.Status != 403 {
			t.Fatalf("%s: %d", p, r.Status)
		}
	}
	if r := e.Get("/api/v1/coverage/communes", f.MemberTokA); r.Status != 403 {
		t.Fatalf("member: %d", r.Status)
	}
	if r := e.Post("/api/v1/jobs/coverage/run", f.CommuneLeaderA, nil); r.Status != 403 {
		t.Fatalf("commune leader runs the job: %d", r.Status)
	}
	dated := e.Must(e.Get("/api/v1/coverage/communes?date=2026-11-21", f.CommuneLeaderB), 200)["items"].([]any)
	if len(dated) != 1 || dated[0].(map[string]any)["assistance_total"].(float64) != 3 {
		t.Fatalf("dated: %v", dated)
	}
	if r := e.Get("/api/v1/coverage/communes?date=2020-01-01", f.Admin); r.Status != 404 {
		t.Fatalf("a day never computed: %d", r.Status)
	}
	hist := e.Must(e.Get("/api/v1/coverage/communes/"+f.CommuneA+"/history", f.CommuneLeaderA), 200)["items"].([]any)
	if len(hist) != 1 || hist[0].(map[string]any)["date"] != "2026-11-21" {
		t.Fatalf("history: %v", hist)
	}
}

func TestOnlyOneCoverageRunAtATime(t *testing.T) {
	e := apptest.New(t, func(c *app.Config) { c.JobDelay = 2 * time.Second })
	a, _ := e.Login("admin", apptest.AdminPassword)
	e.Must(e.Post("/api/v1/jobs/coverage/run", a, nil), 202)
	r := e.Post("/api/v1/jobs/coverage/run", a, map[string]any{"full": true})
	if r.Status != 409 || r.ErrorCode() != "job_running" {
		t.Fatalf("second run: %d %s", r.Status, r.Body)
	}
	runs := e.Must(e.Get("/api/v1/jobs/runs?job=coverage", a), 200)["items"].([]any)
	if len(runs) != 1 || runs[0].(map[string]any)["status"] != "running" {
		t.Fatalf("runs: %v", runs)
	}
}

func TestExportsAreScopedAndVietnamese(t *testing.T) {
	e := apptest.New(t)
	f := e.NewFixture()
	e.LogSome(f.MemberTokA, f.VillageA, 4)
	e.Settle()
	e.RunCoverage(f.Admin)
	csv := e.Get("/api/v1/exports/coverage.csv", f.CommuneLeaderA)
	if csv.Status != 200 || !bytes.HasPrefix(csv.Body, []byte("\ufeff")) || !strings.Contains(csv.Header.Get("Content-Type"), "text/csv") {
		t.Fatalf("csv: %d %v", csv.Status, csv.Header)
	}
	lines := strings.Split(strings.TrimSpace(string(csv.Body)), "\n")
	if len(lines) != 2 || !strings.Contains(lines[0], "Tỷ lệ hộ được hỗ trợ (%)") || !strings.Contains(lines[1], "Phường Phú Xuân") {
		t.Fatalf("csv of a commune leader: %q", lines)
	}
	if adm := e.Get("/api/v1/exports/coverage.csv", f.Admin); len(strings.Split(strings.TrimSpace(string(adm.Body)), "\n")) != 41 {
		t.Fatal("the admin's csv does not list every commune")
	}
	x := e.Get("/api/v1/exports/coverage.xlsx", f.CommuneLeaderA)
	book, err := excelize.OpenReader(bytes.NewReader(x.Body))
	if err != nil {
		t.Fatal(err)
	}
	if sheets := book.GetSheetList(); len(sheets) != 2 || sheets[0] != "Xã phường" || sheets[1] != "Thôn tổ dân phố" {
		t.Fatalf("sheets: %v", sheets)
	}
	rows, _ := book.GetRows("Xã phường")
	vrows, _ := book.GetRows("Thôn tổ dân phố")
	if len(rows) != 2 || rows[1][0] != f.CommuneA || len(vrows) != 2 || vrows[1][3] != "Tổ dân phố 1" {
		t.Fatalf("xlsx rows: %v / %v", rows, vrows)
	}
	if r := e.Get("/api/v1/exports/coverage.xlsx", f.MemberTokA); r.Status != 403 {
		t.Fatalf("member export: %d", r.Status)
	}
}
