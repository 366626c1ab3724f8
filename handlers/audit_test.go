package handlers_test

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/hue-cdt/cdt/internal/app"
	"github.com/hue-cdt/cdt/internal/apptest"
)

// trail reads every event of the audit trail a token may read, following
// the cursors.
func trail(t *testing.T, e *apptest.Env, token, query string) []map[string]any {
	t.Helper()
	var out []map[string]any
	cursor := ""
	for range 100 {
		q := query
		if cursor != "" {
			q += "&cursor=" + url.QueryEscape(cursor)
		}
		m := e.Must(e.Get("/api/v1/audit?limit=500&"+q, token), 200)
		for _, it := range m["items"].([]any) {
			out = append(out, it.(map[string]any))
		}
		next, _ := m["next_cursor"].(string)
		if next == "" {
			return out
		}
		cursor = next
	}
	t.Fatal("the trail's cursors do not end")
	return nil
}

// find returns the events of action on target.
func find(events []map[string]any, action, target string) []map[string]any {
	var out []map[string]any
	for _, ev := range events {
		if ev["action"] == action && (target == "" || ev["target"] == target) {
			out = append(out, ev)
		}
	}
	return out
}

// TestAuditTrailRecordsWhatHappens does what issue 12 names — sign-ins and
// failures (API and pages), registry changes (villages, teams, members,
// logins, with before → after), record lists read, exports — and reads it
// back from GET /audit: the province admin sees all, a commune leader their
// commune's only.
func TestAuditTrailRecordsWhatHappens(t *testing.T) {
	e := apptest.New(t, apptest.Insecure, func(c *app.Config) { c.LoginRate = 1000 })
	f := e.NewFixture()
	// Sign-ins: a wrong password for a login of commune A, an unknown
	// username, a page sign-in.
	if r := e.Post("/api/v1/auth/login", "", map[string]string{"username": "leader.a", "password": "wrong-one"}); r.Status != 401 {
		t.Fatal(r.Status)
	}
	e.Post("/api/v1/auth/login", "", map[string]string{"username": "nobody.here", "password": "wrong-one"})
	e.Browser().Login("leader.a", apptest.Password)
	// Registry changes by the leader of A.
	e.Must(e.Patch("/api/v1/units/"+f.VillageA, f.CommuneLeaderA, map[string]any{"households": 260}), 200)
	e.Must(e.Patch("/api/v1/members/"+f.MemberA, f.CommuneLeaderA, map[string]any{"phone": "0905999888"}), 200)
	e.Must(e.Patch("/api/v1/users/member.a", f.CommuneLeaderA, map[string]any{"active": false}), 200)
	e.Must(e.Post("/api/v1/users", f.CommuneLeaderA, map[string]any{"username": "leader.a2", "password": "long-enough-1",
		"role": "commune_leader", "unit_code": f.CommuneA}), 201)
	// Record lists: the leader's and the team's, and the phone app's page.
	e.Must(e.Get("/api/v1/assistance?commune="+f.CommuneA, f.CommuneLeaderA), 200)
	e.Must(e.Get("/api/v1/assistance?commune="+f.CommuneB, f.Admin), 200)
	app := e.Browser()
	app.Login("member.a2", apptest.Password)
	if p := app.Get("/app/records"); p.Status != 200 {
		t.Fatalf("/app/records: %d", p.Status)
	}
	// Every export route the router serves, as the admin, with no query: the
	// OpenAPI check refuses a query parameter a route's document does not list.
	exports := 0
	for _, r := range e.App.Server.Routes() {
		if r.Method == http.MethodGet && strings.Contains(r.Path, "/exports/") && strings.HasPrefix(r.Path, "/api/") {
			e.Must(e.Get(r.Path, f.Admin), 200)
			exports++
		}
	}

	all := trail(t, e, f.Admin, "")
	check := func(what string, got []map[string]any, n int, fields map[string]any) {
		t.Helper()
		if len(got) < n {
			t.Errorf("%s: %d events, want %d", what, len(got), n)
			return
		}
		for k, v := range fields {
			if fmt.Sprint(got[0][k]) != fmt.Sprint(v) {
				t.Errorf("%s: %s = %v, want %v (%v)", what, k, got[0][k], v, got[0])
			}
		}
	}
	check("API sign-in of the admin", find(all, "login", "admin"), 1, map[string]any{"actor": "admin", "role": "province_admin", "commune_code": nil})
	check("page sign-in", find(all, "login", "leader.a"), 2, map[string]any{"actor": "leader.a", "commune_code": f.CommuneA})
	check("wrong password", find(all, "login_failed", "leader.a"), 1, map[string]any{"actor": nil, "commune_code": f.CommuneA})
	check("unknown username", find(all, "login_failed", "nobody.here"), 1, map[string]any{"actor": nil, "commune_code": nil})
	check("village changed", find(all, "registry_change", f.VillageA), 1, map[string]any{"actor": "leader.a", "commune_code": f.CommuneA,
		"details": map[string]any{"kind": "village", "op": "changed", "changes": []any{map[string]any{"field": "households", "before": "250", "after": "260"}}}})
	check("member changed", find(all, "registry_change", f.MemberA), 1, map[string]any{"actor": "leader.a",
		"details": map[string]any{"kind": "member", "op": "changed", "changes": []any{map[string]any{"field": "phone", "before": "0905111333", "after": "0905999888"}}}})
	check("login disabled", find(all, "registry_change", "member.a"), 1, map[string]any{"actor": "leader.a",
		"details": map[string]any{"kind": "login", "op": "changed", "changes": []any{map[string]any{"field": "active", "before": "true", "after": "false"}}}})
	check("login created", find(all, "registry_change", "leader.a2"), 1, map[string]any{"actor": "leader.a", "commune_code": f.CommuneA})
	check("fixture's team created by the admin", find(all, "registry_change", f.TeamA1), 1, map[string]any{"actor": "admin"})
	check("records read by the leader", find(find(all, "records_viewed", "/api/v1/assistance"), "records_viewed", ""), 2, nil)
	check("the app's records page", find(all, "records_viewed", "/app/records"), 1, map[string]any{"actor": "member.a2", "commune_code": f.CommuneA})
	if got := find(all, "export", ""); len(got) != exports || exports < 3 {
		t.Errorf("%d export events for %d export routes", len(got), exports)
	}

	// A commune leader reads their commune's events only.
	own := trail(t, e, f.CommuneLeaderA, "")
	for _, ev := range own {
		if ev["commune_code"] != f.CommuneA {
			t.Errorf("leader of A reads an event of %v: %v", ev["commune_code"], ev)
		}
	}
	if len(find(own, "registry_change", f.VillageA)) != 2 || len(find(own, "login_failed", "nobody.here")) != 0 {
		t.Errorf("the leader's trail: %d events", len(own))
	}
	// Filters.
	for _, ev := range trail(t, e, f.Admin, "actor=leader.a&action=registry_change") {
		if ev["actor"] != "leader.a" || ev["action"] != "registry_change" {
			t.Errorf("filtered: %v", ev)
		}
	}
	if r := e.Get("/api/v1/audit?action=nonsense", f.Admin); r.Status != 422 {
		t.Errorf("an unknown action: %d", r.Status)
	}
	// The page shows the same, in Vietnamese by default.
	b := e.Browser()
	b.Login("leader.a", apptest.Password)
	p := b.Get("/audit?action=registry_change")
	if p.Status != 200 || !strings.Contains(p.Body, "Sửa danh sách") || !strings.Contains(p.Body, "households: 250 → 260") {
		t.Errorf("the audit page: %d\n%s", p.Status, p.Body)
	}
}
