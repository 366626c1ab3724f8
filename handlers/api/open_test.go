package api_test

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/hue-cdt/cdt/internal/apptest"
)

// TestOpenCoveragePublishesNoSmallCounts: the feed needs no login, lists
// every commune's latest figures, withholds counts from 1 to 4 (and the
// ratio built on one), names nobody, and is cacheable.
func TestOpenCoveragePublishesNoSmallCounts(t *testing.T) {
	e := apptest.New(t)
	f := e.NewFixture()
	empty := e.Must(e.Get("/open/coverage.json", ""), 200)
	if empty["total"].(float64) != 0 || len(empty["items"].([]any)) != 0 {
		t.Fatalf("before any run: %v", empty)
	}
	e.LogSome(f.MemberTokA, f.VillageA, 12) // 12 records, 7 households
	for i := range 3 {
		e.Must(e.Post("/api/v1/assistance", f.MemberTokB, apptest.Record(f.VillageB, apptest.Start.Add(-time.Duration(i+1)*time.Hour),
			"090700000"+string(rune('1'+i)))), 201)
	}
	e.Settle()
	e.RunCoverage(f.Admin)

	r := e.Get("/open/coverage.json", "")
	if r.Status != 200 || r.Header.Get("Cache-Control") != "public, max-age=3600" || r.Header.Get("ETag") == "" ||
		r.Header.Get("Last-Modified") == "" || r.Header.Get("Access-Control-Allow-Origin") != "*" {
		t.Fatalf("feed: %d %v", r.Status, r.Header)
	}
	for _, secret := range []string{"Nguyễn Văn An", "Trần Thị Bình", "0905111", "0905000", "-M0", "household_ref", "member_id", "full_name"} {
		if strings.Contains(string(r.Body), secret) {
			t.Errorf("the feed holds %q", secret)
		}
	}
	var feed struct {
		Items []map[string]any
		Total int
	}
	if err := json.Unmarshal(r.Body, &feed); err != nil {
		t.Fatal(err)
	}
	if feed.Total != 40 || len(feed.Items) != 40 {
		t.Fatalf("%d communes", feed.Total)
	}
	byCode := map[string]map[string]any{}
	for _, it := range feed.Items {
		byCode[it["commune_code"].(string)] = it
	}
	a, b := byCode[f.CommuneA], byCode[f.CommuneB]
	wantA := map[string]any{"commune_name": "Phường Phú Xuân", "date": "2026-11-21", "villages_total": nil, "teams_total": nil,
		"villages_with_team": nil, "households_total": 250.0, "households_reached": 7.0, "household_coverage": 0.028, "assistance_30d": 12.0}
	for k, v := range wantA {
		if a[k] != v {
			t.Errorf("Phú Xuân %s = %v, want %v", k, a[k], v)
		}
	}
	if s := a["by_service"].(map[string]any); s["vneid_activation"] != 12.0 || s["hue_s"] != 0.0 || len(s) != 11 {
		t.Errorf("Phú Xuân by_service %v", s)
	}
	for _, k := range []string{"households_reached", "household_coverage", "assistance_30d"} {
		if v, ok := b[k]; !ok || v != nil {
			t.Errorf("Nam Đông %s = %v, want null (3 households, 3 records)", k, v)
		}
	}
	if s := b["by_service"].(map[string]any); s["vneid_activation"] != nil {
		t.Errorf("Nam Đông by_service %v", s)
	}
	if again := e.Do(apptest.Request{Method: "GET", Path: "/open/coverage.json", Header: map[string]string{"If-None-Match": r.Header.Get("ETag")}}); again.Status != 304 {
		t.Errorf("If-None-Match: %d", again.Status)
	}
	if again := e.Do(apptest.Request{Method: "GET", Path: "/open/coverage.json", Header: map[string]string{"If-Modified-Since": r.Header.Get("Last-Modified")}}); again.Status != 304 {
		t.Errorf("If-Modified-Since: %d", again.Status)
	}

	csv := e.Get("/open/coverage.csv", "")
	lines := strings.Split(strings.TrimPrefix(string(csv.Body), "\ufeff"), "\n")
	if csv.Status != 200 || !strings.HasPrefix(csv.Header.Get("Content-Type"), "text/csv") || len(lines) != 42 ||
		!strings.HasPrefix(lines[0], "commune_code,commune_name,date,villages_total,") || !strings.Contains(lines[0], "by_service.vneid_activation") {
		t.Fatalf("csv: %d %q", csv.Status, lines[0])
	}
	for _, l := range lines {
		if strings.HasPrefix(l, f.CommuneB+",") && !strings.Contains(l, ",,,") {
			t.Errorf("Nam Đông's line shows its small counts: %s", l)
		}
		if strings.HasPrefix(l, f.CommuneA+",") && !strings.Contains(l, ",250,7,0.028,12,") {
			t.Errorf("Phú Xuân's line: %s", l)
		}
	}
}
