package handlers_test

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/hue-cdt/cdt/domain"
	"github.com/hue-cdt/cdt/internal/app"
	"github.com/hue-cdt/cdt/internal/apptest"
)

// A request of the matrix: its path and body. A route that names a resource
// or a commune gives one in the callers' scope (commune A: village V1, team
// A1, member MA, the login member.a, a training of A) and one outside it
// (commune B).
type req struct {
	path string
	json any        // a JSON body
	form url.Values // a form body (pages)
	csv  string     // a sign-in sheet, sent as a multipart file
}

// A row of the matrix: how to call one route.
type row struct {
	// rule is who may call the route: the name of the rule its table must give it.
	rule    string
	in, out func() req // out is nil for a route that names no resource
	ok      []int      // the statuses that mean the caller got through
	// fresh: the request ends the caller's session, so it is sent from a new one.
	fresh bool
	// before restores what an allowed request undid (attendance to remove).
	before func(out bool)
	// cleared: allowed means the session cookies were cleared (logout, whose
	// redirect to /login looks like a refusal otherwise).
	cleared bool
}

func in(r req) func() req        { return func() req { return r } }
func get(path string) func() req { return in(req{path: path}) }

// expect is the decision of a rule for a caller of role (anonymous: "") and a
// resource in or out of their scope: 0 = through, else the status refused.
func expect(rule string, role domain.Role, out bool) int {
	if rule == "operations" {
		// The rule looks at the client, not the login: the matrix sets no
		// CDT_METRICS_TOKEN and calls pages from the loopback interface, so
		// every caller, anonymous or not, gets through alike. Refusals are
		// TestMetrics*'s.
		return 0
	}
	if role == "" {
		if rule == "public" {
			return 0
		}
		return http.StatusUnauthorized
	}
	admin, leader := role == domain.RoleProvinceAdmin, role == domain.RoleCommuneLeader
	switch rule {
	case "public", "signed-in":
		return 0
	case "province":
		return pick(admin, 0, http.StatusForbidden)
	case "managers":
		return pick(admin || leader, 0, http.StatusForbidden)
	case "field":
		return pick(admin || leader, http.StatusForbidden, 0)
	case "in-scope":
		return pick(out && !admin, http.StatusForbidden, 0)
	case "read-one":
		return pick(out && !admin, http.StatusNotFound, 0)
	case "manage-commune":
		return pick(admin || leader && !out, 0, http.StatusForbidden)
	case "verify-one":
		switch {
		case admin:
			return 0
		case role == domain.RoleMember:
			return http.StatusForbidden // the gate, before the record is looked at
		}
		return pick(out, http.StatusNotFound, 0)
	case "manage-one":
		switch {
		case admin:
			return 0
		case !leader:
			return http.StatusForbidden // the gate, before the resource is looked at
		}
		return pick(out, http.StatusNotFound, 0)
	}
	return -1
}

func pick(cond bool, yes, no int) int {
	if cond {
		return yes
	}
	return no
}

// cacheable are the routes whose answers carry nothing personal and may be
// cached: the static files, the favicon, the phone app's shell, the open
// data feed (public by design, counts of 1 to 4 already withheld) and the
// API's OpenAPI document.
var cacheable = map[string]bool{
	"GET /static/*file": true, "GET /favicon.ico": true,
	"GET /app/sw.js": true, "GET /app/manifest.webmanifest": true,
	"GET /open/coverage.json": true, "GET /open/coverage.csv": true,
	"GET /api/openapi.json": true,
}

// scoped says which rules name a resource or a commune in their requests.
var scoped = map[string]bool{"in-scope": true, "read-one": true, "manage-commune": true, "manage-one": true, "verify-one": true}

// TestEveryRouteAnswersItsRule walks the router's own list of routes and
// sends every route, as every role and anonymously, a request inside and
// (where the route names one) outside the caller's scope, through the whole
// server on the real database; each answer must be the decision of the
// route's rule. A route without a rule, without a row here, or a row without
// a route fails.
func TestEveryRouteAnswersItsRule(t *testing.T) {
	e := apptest.New(t, apptest.Insecure, func(c *app.Config) { c.LoginRate = 10_000 })
	f := e.NewFixture()
	trA, trB := e.NewTraining(f.Admin, f.CommuneA), e.NewTraining(f.Admin, f.CommuneB)
	mark := func(training, member string) {
		e.Must(e.Post("/api/v1/trainings/"+training+"/attendance", f.Admin, map[string]any{"member_ids": []string{member}}), 200)
	}
	n := 0
	unique := func() int { n++; return n }
	record := func() any { return apptest.Record(f.VillageA, apptest.Start.Add(-time.Hour), "0905000111") }
	training := func(unit string) any {
		return map[string]any{"title": fmt.Sprintf("Tập huấn %d", unique()), "topics": []string{"hue_s"}, "unit_code": unit,
			"starts_at": "2026-11-10T08:00:00+07:00", "ends_at": "2026-11-10T11:00:00+07:00"}
	}
	empty := url.Values{}
	ix := newIntegrityFixture(e, f)
	// A citizen's data request of commune, registered by the admin.
	privacyReq := func(commune, kind string) string {
		return e.Must(e.Post("/api/v1/privacy/requests", f.Admin, map[string]any{"kind": kind, "commune_code": commune,
			"household_ref": fmt.Sprintf("0905%06d", unique()), "received_on": "2026-11-20"}), 201)["id"].(string)
	}
	newPrivacy := func(commune string) any {
		return map[string]any{"kind": "access", "commune_code": commune, "household_ref": fmt.Sprintf("0905%06d", unique()),
			"received_on": "2026-11-20", "contact": "tại UBND"}
	}
	prA, prB := privacyReq(f.CommuneA, "delete"), privacyReq(f.CommuneB, "delete")
	accA, accB := privacyReq(f.CommuneA, "access"), privacyReq(f.CommuneB, "access")
	fulfil := func(prefix, commune string) func() req {
		return func() req {
			return req{path: prefix + "/privacy/requests/" + privacyReq(commune, "object") + "/fulfil", json: map[string]any{}}
		}
	}
	fulfilPage := func(commune string) func() req {
		return func() req {
			return req{path: "/privacy/requests/" + privacyReq(commune, "delete") + "/fulfil", form: empty}
		}
	}

	rows := map[string]row{
		"GET /healthz":                  {rule: "public", in: get("/healthz"), ok: []int{200}},
		"GET /readyz":                   {rule: "public", in: get("/readyz"), ok: []int{200}},
		"GET /metrics":                  {rule: "operations", in: get("/metrics"), ok: []int{200}},
		"GET /open/coverage.json":       {rule: "public", in: get("/open/coverage.json"), ok: []int{200}},
		"GET /open/coverage.csv":        {rule: "public", in: get("/open/coverage.csv"), ok: []int{200}},
		"GET /static/*file":             {rule: "public", in: get("/static/app.css"), ok: []int{200}},
		"GET /lang/:lang":               {rule: "public", in: get("/lang/vi"), ok: []int{303}},
		"GET /favicon.ico":              {rule: "public", in: get("/favicon.ico"), ok: []int{200}},
		"GET /app/sw.js":                {rule: "public", in: get("/app/sw.js"), ok: []int{200}},
		"GET /app/manifest.webmanifest": {rule: "public", in: get("/app/manifest.webmanifest"), ok: []int{200}},
		"GET /app/offline":              {rule: "public", in: get("/app/offline"), ok: []int{200}},
		"GET /privacy":                  {rule: "public", in: get("/privacy"), ok: []int{200}},
		"GET /api/openapi.json":         {rule: "public", in: get("/api/openapi.json"), ok: []int{200}},
		"GET /api/docs":                 {rule: "public", in: get("/api/docs"), ok: []int{200}},

		"POST /api/v1/auth/login": {rule: "public", in: in(req{path: "/api/v1/auth/login", json: map[string]string{"username": "admin", "password": apptest.AdminPassword}}), ok: []int{200}},
		"POST /api/v1/auth/refresh": {rule: "public", in: func() req {
			_, refresh := e.Login("admin", apptest.AdminPassword)
			return req{path: "/api/v1/auth/refresh", json: map[string]string{"refresh_token": refresh}}
		}, ok: []int{200}},
		"POST /api/v1/auth/logout":   {rule: "signed-in", in: get("/api/v1/auth/logout"), ok: []int{204}, fresh: true},
		"GET /api/v1/me":             {rule: "signed-in", in: get("/api/v1/me"), ok: []int{200}},
		"POST /api/v1/auth/password": {rule: "signed-in", in: in(req{path: "/api/v1/auth/password", json: map[string]string{"current_password": "wrong-password", "new_password": "whatever-1234"}}), ok: []int{422}},
		"GET /api/v1/units":          {rule: "in-scope", in: get("/api/v1/units?level=village&parent=" + f.CommuneA), out: get("/api/v1/units?level=village&parent=" + f.CommuneB), ok: []int{200}},
		"GET /api/v1/units/:code":    {rule: "read-one", in: get("/api/v1/units/" + f.VillageA), out: get("/api/v1/units/" + f.VillageB), ok: []int{200}},
		"POST /api/v1/units": {rule: "manage-commune",
			in: func() req {
				return req{path: "/api/v1/units", json: map[string]any{"level": "village", "parent_code": f.CommuneA, "name": fmt.Sprint("Tổ dân phố ", 100+unique())}}
			},
			out: func() req {
				return req{path: "/api/v1/units", json: map[string]any{"level": "village", "parent_code": f.CommuneB, "name": fmt.Sprint("Thôn ", 100+unique())}}
			},
			ok: []int{201}},
		"PATCH /api/v1/units/:code": {rule: "manage-one", in: in(req{path: "/api/v1/units/" + f.VillageA, json: map[string]any{"households": 250}}),
			out: in(req{path: "/api/v1/units/" + f.VillageB, json: map[string]any{"households": 180}}), ok: []int{200}},
		"GET /api/v1/teams": {rule: "in-scope", in: get("/api/v1/teams?commune=" + f.CommuneA), out: get("/api/v1/teams?commune=" + f.CommuneB), ok: []int{200}},
		"POST /api/v1/teams": {rule: "manage-commune",
			in:  func() req { return req{path: "/api/v1/teams", json: newTeam(f.CommuneA, unique())} },
			out: func() req { return req{path: "/api/v1/teams", json: newTeam(f.CommuneB, unique())} },
			ok:  []int{201}},
		"GET /api/v1/teams/:id": {rule: "read-one", in: get("/api/v1/teams/" + f.TeamA1), out: get("/api/v1/teams/" + f.TeamB1), ok: []int{200}},
		"PATCH /api/v1/teams/:id": {rule: "manage-one", in: in(req{path: "/api/v1/teams/" + f.TeamA1, json: map[string]any{"decision_no": "15/QĐ-UBND"}}),
			out: in(req{path: "/api/v1/teams/" + f.TeamB1, json: map[string]any{"decision_no": "15/QĐ-UBND"}}), ok: []int{200}},
		"GET /api/v1/members": {rule: "in-scope", in: get("/api/v1/members?commune=" + f.CommuneA), out: get("/api/v1/members?commune=" + f.CommuneB), ok: []int{200}},
		"POST /api/v1/members": {rule: "manage-commune",
			in:  func() req { return req{path: "/api/v1/members", json: newMember(f.TeamA2, unique())} },
			out: func() req { return req{path: "/api/v1/members", json: newMember(f.TeamB1, unique())} },
			ok:  []int{201}},
		"GET /api/v1/members/:id": {rule: "read-one", in: get("/api/v1/members/" + f.MemberA), out: get("/api/v1/members/" + f.MemberB), ok: []int{200}},
		"PATCH /api/v1/members/:id": {rule: "manage-one", in: in(req{path: "/api/v1/members/" + f.MemberA, json: map[string]any{"birth_year": 1995}}),
			out: in(req{path: "/api/v1/members/" + f.MemberB, json: map[string]any{"birth_year": 1995}}), ok: []int{200}},
		"GET /api/v1/users": {rule: "manage-commune", in: get("/api/v1/users?unit=" + f.CommuneA), out: get("/api/v1/users?unit=" + f.CommuneB), ok: []int{200}},
		"POST /api/v1/users": {rule: "manage-commune",
			in:  func() req { return req{path: "/api/v1/users", json: newLeader(f.CommuneA, unique())} },
			out: func() req { return req{path: "/api/v1/users", json: newLeader(f.CommuneB, unique())} },
			ok:  []int{201}},
		"PATCH /api/v1/users/:username": {rule: "manage-one", in: in(req{path: "/api/v1/users/member.a", json: map[string]any{"active": true}}),
			out: in(req{path: "/api/v1/users/member.b", json: map[string]any{"active": true}}), ok: []int{200}},
		"POST /api/v1/users/:username/unlock": {rule: "manage-one", in: get("/api/v1/users/member.a/unlock"),
			out: get("/api/v1/users/member.b/unlock"), ok: []int{200}},
		"GET /api/v1/services":    {rule: "signed-in", in: get("/api/v1/services"), ok: []int{200}},
		"POST /api/v1/assistance": {rule: "field", in: func() req { return req{path: "/api/v1/assistance", json: record()} }, ok: []int{201}},
		"POST /api/v1/assistance/batch": {rule: "field", in: func() req {
			return req{path: "/api/v1/assistance/batch", json: map[string]any{"records": []any{record()}}}
		}, ok: []int{200}},
		"GET /api/v1/assistance":         {rule: "in-scope", in: get("/api/v1/assistance?commune=" + f.CommuneA), out: get("/api/v1/assistance?commune=" + f.CommuneB), ok: []int{200}},
		"POST /api/v1/jobs/coverage/run": {rule: "province", in: get("/api/v1/jobs/coverage/run"), ok: []int{202, 409}},
		"GET /api/v1/jobs/runs":          {rule: "province", in: get("/api/v1/jobs/runs"), ok: []int{200}},
		"GET /api/v1/coverage/communes":  {rule: "managers", in: get("/api/v1/coverage/communes"), ok: []int{200}},
		"GET /api/v1/coverage/communes/:code/history": {rule: "manage-commune", in: get("/api/v1/coverage/communes/" + f.CommuneA + "/history"),
			out: get("/api/v1/coverage/communes/" + f.CommuneB + "/history"), ok: []int{200}},
		"GET /api/v1/exports/coverage.csv":  {rule: "managers", in: get("/api/v1/exports/coverage.csv"), ok: []int{200}},
		"GET /api/v1/exports/coverage.xlsx": {rule: "managers", in: get("/api/v1/exports/coverage.xlsx"), ok: []int{200}},
		"GET /api/v1/exports/assistance.csv": {rule: "in-scope", in: get("/api/v1/exports/assistance.csv?commune=" + f.CommuneA),
			out: get("/api/v1/exports/assistance.csv?commune=" + f.CommuneB), ok: []int{200}},
		"GET /api/v1/exports/assistance.xlsx": {rule: "in-scope", in: get("/api/v1/exports/assistance.xlsx?commune=" + f.CommuneA),
			out: get("/api/v1/exports/assistance.xlsx?commune=" + f.CommuneB), ok: []int{200}},
		"POST /api/v1/trainings": {rule: "manage-commune",
			in:  func() req { return req{path: "/api/v1/trainings", json: training(f.CommuneA)} },
			out: func() req { return req{path: "/api/v1/trainings", json: training(f.CommuneB)} },
			ok:  []int{201}},
		"GET /api/v1/trainings":     {rule: "signed-in", in: get("/api/v1/trainings"), ok: []int{200}},
		"GET /api/v1/trainings/:id": {rule: "read-one", in: get("/api/v1/trainings/" + trA), out: get("/api/v1/trainings/" + trB), ok: []int{200}},
		"POST /api/v1/trainings/:id/attendance": {rule: "manage-one", in: in(req{path: "/api/v1/trainings/" + trA + "/attendance", json: map[string]any{"member_ids": []string{f.MemberA}}}),
			out: in(req{path: "/api/v1/trainings/" + trB + "/attendance", json: map[string]any{"member_ids": []string{f.MemberB}}}), ok: []int{200}},
		"DELETE /api/v1/trainings/:id/attendance/:member": {rule: "manage-one", in: get("/api/v1/trainings/" + trA + "/attendance/" + f.MemberA),
			out: get("/api/v1/trainings/" + trB + "/attendance/" + f.MemberB), ok: []int{204},
			before: func(out bool) {
				if out {
					mark(trB, f.MemberB)
				} else {
					mark(trA, f.MemberA)
				}
			}},
		"POST /api/v1/trainings/:id/attendance/sheet": {rule: "manage-one", in: in(req{path: "/api/v1/trainings/" + trA + "/attendance/sheet", csv: "Họ và tên\nTrần Thị Bình\n"}),
			out: in(req{path: "/api/v1/trainings/" + trB + "/attendance/sheet", csv: "Họ và tên\nHồ Văn Dũng\n"}), ok: []int{200}},
		"GET /api/v1/reports/training-progress": {rule: "manage-commune", in: get("/api/v1/reports/training-progress?unit=" + f.CommuneA),
			out: get("/api/v1/reports/training-progress?unit=" + f.CommuneB), ok: []int{200}},
		"GET /api/v1/exports/untrained.xlsx": {rule: "manage-commune", in: get("/api/v1/exports/untrained.xlsx?unit=" + f.CommuneA),
			out: get("/api/v1/exports/untrained.xlsx?unit=" + f.CommuneB), ok: []int{200}},
		"POST /api/v1/imports/registry": {rule: "managers", in: in(req{path: "/api/v1/imports/registry?dry_run=true",
			csv: "Xã/Phường,Tổ,Họ và tên,Số điện thoại\n19753,Tổ CNSCĐ TDP 1,Trần Thị Bình,0905111333\n"}), ok: []int{200}},
		"GET /api/v1/audit": {rule: "manage-commune", in: get("/api/v1/audit?commune=" + f.CommuneA), out: get("/api/v1/audit?commune=" + f.CommuneB), ok: []int{200}},
		"GET /api/v1/integrity/flags": {rule: "manage-commune", in: get("/api/v1/integrity/flags?commune=" + f.CommuneA),
			out: get("/api/v1/integrity/flags?commune=" + f.CommuneB), ok: []int{200}},
		"PATCH /api/v1/integrity/flags/:id": {rule: "manage-one",
			in:  in(req{path: "/api/v1/integrity/flags/" + ix.flagA, json: map[string]string{"status": "dismissed", "comment": "Đã gọi, đúng"}}),
			out: in(req{path: "/api/v1/integrity/flags/" + ix.flagB, json: map[string]string{"status": "dismissed", "comment": "Đã gọi, đúng"}}), ok: []int{200}},
		"POST /api/v1/assistance/:id/verification": {rule: "verify-one",
			in:  in(req{path: "/api/v1/assistance/" + ix.recA + "/verification", json: map[string]string{"reason": "Xin xác nhận"}}),
			out: in(req{path: "/api/v1/assistance/" + ix.recB + "/verification", json: map[string]string{"reason": "Xin xác nhận"}}), ok: []int{201, 409}},
		"GET /api/v1/verifications": {rule: "in-scope", in: get("/api/v1/verifications?commune=" + f.CommuneA),
			out: get("/api/v1/verifications?commune=" + f.CommuneB), ok: []int{200}},
		"PATCH /api/v1/verifications/:id": {rule: "read-one",
			in:  in(req{path: "/api/v1/verifications/" + ix.verA, json: map[string]string{"status": "confirmed", "answer": "Đúng"}}),
			out: in(req{path: "/api/v1/verifications/" + ix.verB, json: map[string]string{"status": "confirmed", "answer": "Đúng"}}), ok: []int{200}},
		"POST /api/v1/privacy/requests": {rule: "manage-commune",
			in:  func() req { return req{path: "/api/v1/privacy/requests", json: newPrivacy(f.CommuneA)} },
			out: func() req { return req{path: "/api/v1/privacy/requests", json: newPrivacy(f.CommuneB)} }, ok: []int{201}},
		"GET /api/v1/privacy/requests": {rule: "manage-commune", in: get("/api/v1/privacy/requests?commune=" + f.CommuneA),
			out: get("/api/v1/privacy/requests?commune=" + f.CommuneB), ok: []int{200}},
		"GET /api/v1/privacy/requests/:id": {rule: "manage-one", in: get("/api/v1/privacy/requests/" + prA),
			out: get("/api/v1/privacy/requests/" + prB), ok: []int{200}},
		"POST /api/v1/privacy/requests/:id/fulfil": {rule: "manage-one", in: fulfil("/api/v1", f.CommuneA),
			out: fulfil("/api/v1", f.CommuneB), ok: []int{200}},
		"GET /api/v1/privacy/requests/:id/access.xlsx": {rule: "manage-one", in: get("/api/v1/privacy/requests/" + accA + "/access.xlsx"),
			out: get("/api/v1/privacy/requests/" + accB + "/access.xlsx"), ok: []int{200}},

		"GET /login":          {rule: "public", in: get("/login"), ok: []int{200, 303}},
		"POST /login":         {rule: "public", in: in(req{path: "/login", form: url.Values{"username": {"admin"}, "password": {apptest.AdminPassword}}}), ok: []int{303}, fresh: true},
		"POST /logout":        {rule: "signed-in", in: in(req{path: "/logout", form: empty}), ok: []int{303}, fresh: true, cleared: true},
		"GET /":               {rule: "signed-in", in: get("/"), ok: []int{303}},
		"GET /account":        {rule: "signed-in", in: get("/account"), ok: []int{200}},
		"POST /account":       {rule: "signed-in", in: in(req{path: "/account", form: url.Values{"current_password": {"wrong-password"}, "new_password": {"whatever-1234"}}}), ok: []int{422}},
		"GET /units":          {rule: "signed-in", in: get("/units"), ok: []int{200}},
		"GET /communes":       {rule: "province", in: get("/communes"), ok: []int{200}},
		"GET /communes/:code": {rule: "manage-commune", in: get("/communes/" + f.CommuneA), out: get("/communes/" + f.CommuneB), ok: []int{200}},
		"GET /communes/:code/villages/new": {rule: "manage-commune", in: get("/communes/" + f.CommuneA + "/villages/new"),
			out: get("/communes/" + f.CommuneB + "/villages/new"), ok: []int{200}},
		"POST /communes/:code/villages/new": {rule: "manage-commune", in: in(req{path: "/communes/" + f.CommuneA + "/villages/new", form: empty}),
			out: in(req{path: "/communes/" + f.CommuneB + "/villages/new", form: empty}), ok: []int{422}},
		"GET /villages/:code/edit": {rule: "manage-one", in: get("/villages/" + f.VillageA + "/edit"), out: get("/villages/" + f.VillageB + "/edit"), ok: []int{200}},
		"POST /villages/:code/edit": {rule: "manage-one", in: in(req{path: "/villages/" + f.VillageA + "/edit", form: empty}),
			out: in(req{path: "/villages/" + f.VillageB + "/edit", form: empty}), ok: []int{422}},
		"GET /communes/:code/teams/new": {rule: "manage-commune", in: get("/communes/" + f.CommuneA + "/teams/new"), out: get("/communes/" + f.CommuneB + "/teams/new"), ok: []int{200}},
		"POST /communes/:code/teams/new": {rule: "manage-commune", in: in(req{path: "/communes/" + f.CommuneA + "/teams/new", form: empty}),
			out: in(req{path: "/communes/" + f.CommuneB + "/teams/new", form: empty}), ok: []int{422}},
		"GET /teams/:id":      {rule: "read-one", in: get("/teams/" + f.TeamA1), out: get("/teams/" + f.TeamB1), ok: []int{200}},
		"GET /teams/:id/edit": {rule: "manage-one", in: get("/teams/" + f.TeamA1 + "/edit"), out: get("/teams/" + f.TeamB1 + "/edit"), ok: []int{200}},
		"POST /teams/:id/edit": {rule: "manage-one", in: in(req{path: "/teams/" + f.TeamA1 + "/edit", form: empty}),
			out: in(req{path: "/teams/" + f.TeamB1 + "/edit", form: empty}), ok: []int{422}},
		"GET /teams/:id/members/new": {rule: "manage-one", in: get("/teams/" + f.TeamA1 + "/members/new"), out: get("/teams/" + f.TeamB1 + "/members/new"), ok: []int{200}},
		"POST /teams/:id/members/new": {rule: "manage-one", in: in(req{path: "/teams/" + f.TeamA1 + "/members/new", form: empty}),
			out: in(req{path: "/teams/" + f.TeamB1 + "/members/new", form: empty}), ok: []int{422}},
		"GET /members/:id":      {rule: "read-one", in: get("/members/" + f.MemberA), out: get("/members/" + f.MemberB), ok: []int{200}},
		"GET /members/:id/edit": {rule: "manage-one", in: get("/members/" + f.MemberA + "/edit"), out: get("/members/" + f.MemberB + "/edit"), ok: []int{200}},
		"POST /members/:id/edit": {rule: "manage-one", in: in(req{path: "/members/" + f.MemberA + "/edit", form: empty}),
			out: in(req{path: "/members/" + f.MemberB + "/edit", form: empty}), ok: []int{422}},
		"GET /members/:id/login": {rule: "manage-one", in: get("/members/" + f.MemberA + "/login"), out: get("/members/" + f.MemberB + "/login"), ok: []int{200}},
		"POST /members/:id/login": {rule: "manage-one", in: in(req{path: "/members/" + f.MemberA + "/login", form: empty}),
			out: in(req{path: "/members/" + f.MemberB + "/login", form: empty}), ok: []int{422}},
		"GET /communes/:code/users":     {rule: "manage-commune", in: get("/communes/" + f.CommuneA + "/users"), out: get("/communes/" + f.CommuneB + "/users"), ok: []int{200}},
		"GET /communes/:code/users/new": {rule: "manage-commune", in: get("/communes/" + f.CommuneA + "/users/new"), out: get("/communes/" + f.CommuneB + "/users/new"), ok: []int{200}},
		"POST /communes/:code/users/new": {rule: "manage-commune", in: in(req{path: "/communes/" + f.CommuneA + "/users/new", form: empty}),
			out: in(req{path: "/communes/" + f.CommuneB + "/users/new", form: empty}), ok: []int{422}},
		"GET /users":      {rule: "province", in: get("/users"), ok: []int{200}},
		"GET /users/new":  {rule: "province", in: get("/users/new"), ok: []int{200}},
		"POST /users/new": {rule: "province", in: in(req{path: "/users/new", form: empty}), ok: []int{422}},
		"POST /users/:username/active": {rule: "manage-one", in: in(req{path: "/users/member.a/active", form: url.Values{"active": {"true"}}}),
			out: in(req{path: "/users/member.b/active", form: url.Values{"active": {"true"}}}), ok: []int{303}},
		"POST /users/:username/unlock": {rule: "manage-one", in: in(req{path: "/users/member.a/unlock", form: empty}),
			out: in(req{path: "/users/member.b/unlock", form: empty}), ok: []int{303}},
		"GET /communes/:code/dashboard": {rule: "manage-commune", in: get("/communes/" + f.CommuneA + "/dashboard"), out: get("/communes/" + f.CommuneB + "/dashboard"), ok: []int{200}},
		"GET /province":                 {rule: "province", in: get("/province"), ok: []int{200}},
		"GET /jobs":                     {rule: "province", in: get("/jobs"), ok: []int{200}},
		"POST /jobs/coverage/run":       {rule: "province", in: in(req{path: "/jobs/coverage/run", form: empty}), ok: []int{303}},
		"GET /exports/coverage.csv":     {rule: "managers", in: get("/exports/coverage.csv"), ok: []int{200}},
		"GET /exports/coverage.xlsx":    {rule: "managers", in: get("/exports/coverage.xlsx"), ok: []int{200}},
		"GET /exports/assistance.csv": {rule: "in-scope", in: get("/exports/assistance.csv?commune=" + f.CommuneA),
			out: get("/exports/assistance.csv?commune=" + f.CommuneB), ok: []int{200}},
		"GET /exports/assistance.xlsx": {rule: "in-scope", in: get("/exports/assistance.xlsx?commune=" + f.CommuneA),
			out: get("/exports/assistance.xlsx?commune=" + f.CommuneB), ok: []int{200}},
		"GET /trainings":                {rule: "managers", in: get("/trainings"), ok: []int{200, 303}},
		"GET /communes/:code/trainings": {rule: "manage-commune", in: get("/communes/" + f.CommuneA + "/trainings"), out: get("/communes/" + f.CommuneB + "/trainings"), ok: []int{200}},
		"GET /trainings/new":            {rule: "managers", in: get("/trainings/new"), ok: []int{200}},
		"POST /trainings/new":           {rule: "managers", in: in(req{path: "/trainings/new", form: empty}), ok: []int{422}},
		"GET /trainings/:id":            {rule: "read-one", in: get("/trainings/" + trA), out: get("/trainings/" + trB), ok: []int{200}},
		"POST /trainings/:id/attend": {rule: "manage-one", in: in(req{path: "/trainings/" + trA + "/attend", form: url.Values{"member_id": {f.MemberA}}}),
			out: in(req{path: "/trainings/" + trB + "/attend", form: url.Values{"member_id": {f.MemberB}}}), ok: []int{303}},
		"POST /trainings/:id/sheet": {rule: "manage-one", in: in(req{path: "/trainings/" + trA + "/sheet", form: empty}),
			out: in(req{path: "/trainings/" + trB + "/sheet", form: empty}), ok: []int{422}},
		"GET /exports/untrained.xlsx":         {rule: "manage-commune", in: get("/exports/untrained.xlsx?unit=" + f.CommuneA), out: get("/exports/untrained.xlsx?unit=" + f.CommuneB), ok: []int{200}},
		"GET /imports/registry":               {rule: "managers", in: get("/imports/registry"), ok: []int{200}},
		"POST /imports/registry":              {rule: "managers", in: in(req{path: "/imports/registry", form: empty}), ok: []int{422}},
		"GET /imports/registry/template.xlsx": {rule: "managers", in: get("/imports/registry/template.xlsx"), ok: []int{200}},
		"GET /audit":                          {rule: "manage-commune", in: get("/audit?commune=" + f.CommuneA), out: get("/audit?commune=" + f.CommuneB), ok: []int{200}},
		"GET /integrity":                      {rule: "managers", in: get("/integrity"), ok: []int{200, 303}},
		"GET /communes/:code/integrity": {rule: "manage-commune", in: get("/communes/" + f.CommuneA + "/integrity"),
			out: get("/communes/" + f.CommuneB + "/integrity"), ok: []int{200}},
		"POST /integrity/flags/:id": {rule: "manage-one",
			in:  in(req{path: "/integrity/flags/" + ix.flagA, form: url.Values{"action": {"dismiss"}, "comment": {"Đã gọi, đúng"}}}),
			out: in(req{path: "/integrity/flags/" + ix.flagB, form: url.Values{"action": {"dismiss"}, "comment": {"Đã gọi, đúng"}}}), ok: []int{303}},
		"POST /verifications/:id": {rule: "manage-one", in: in(req{path: "/verifications/" + ix.verA, form: url.Values{"status": {"unreachable"}}}),
			out: in(req{path: "/verifications/" + ix.verB, form: url.Values{"status": {"unreachable"}}}), ok: []int{303}},
		"GET /privacy/requests": {rule: "manage-commune", in: get("/privacy/requests?commune=" + f.CommuneA),
			out: get("/privacy/requests?commune=" + f.CommuneB), ok: []int{200}},
		"POST /privacy/requests": {rule: "manage-commune",
			in: func() req {
				return req{path: "/privacy/requests", form: url.Values{"kind": {"delete"}, "commune_code": {f.CommuneA},
					"household_ref": {fmt.Sprintf("0905%06d", unique())}, "received_on": {"2026-11-20"}}}
			},
			out: func() req {
				return req{path: "/privacy/requests", form: url.Values{"kind": {"delete"}, "commune_code": {f.CommuneB},
					"household_ref": {fmt.Sprintf("0905%06d", unique())}, "received_on": {"2026-11-20"}}}
			}, ok: []int{303}},
		"GET /privacy/requests/:id":         {rule: "manage-one", in: get("/privacy/requests/" + accA), out: get("/privacy/requests/" + accB), ok: []int{200}},
		"POST /privacy/requests/:id/fulfil": {rule: "manage-one", in: fulfilPage(f.CommuneA), out: fulfilPage(f.CommuneB), ok: []int{200}},
		"GET /privacy/requests/:id/access.xlsx": {rule: "manage-one", in: get("/privacy/requests/" + accA + "/access.xlsx"),
			out: get("/privacy/requests/" + accB + "/access.xlsx"), ok: []int{200}},

		"GET /app":                    {rule: "field", in: get("/app"), ok: []int{200}},
		"GET /app/log":                {rule: "field", in: get("/app/log"), ok: []int{200}},
		"POST /app/log":               {rule: "field", in: in(req{path: "/app/log", form: empty}), ok: []int{422}},
		"GET /app/records":            {rule: "field", in: get("/app/records"), ok: []int{200}},
		"POST /app/verifications/:id": {rule: "field", in: in(req{path: "/app/verifications/" + ix.verA, form: url.Values{"status": {"confirmed"}}}), ok: []int{303}},
		"POST /app/api/assistance/batch": {rule: "field", in: func() req {
			return req{path: "/app/api/assistance/batch", json: map[string]any{"records": []any{record()}}}
		}, ok: []int{200}},
	}

	callers := []caller{{name: "anonymous"}, {name: "admin", role: domain.RoleProvinceAdmin, user: "admin", pass: apptest.AdminPassword},
		{name: "commune leader", role: domain.RoleCommuneLeader, user: "leader.a", pass: apptest.Password},
		{name: "team leader", role: domain.RoleTeamLeader, user: "tl.a", pass: apptest.Password},
		{name: "member", role: domain.RoleMember, user: "member.a", pass: apptest.Password}}
	for i := range callers {
		callers[i].session(e)
	}

	served := map[string]bool{}
	checked := 0
	for _, r := range e.App.Server.Routes() {
		key := r.Method + " " + r.Path
		served[key] = true
		if r.Rule.Name == "" {
			t.Errorf("%s: served without a rule (it comes from no route table)", key)
			continue
		}
		rw, ok := rows[key]
		if !ok {
			t.Errorf("%s: no row in this matrix", key)
			continue
		}
		if r.Rule.Name != rw.rule {
			t.Errorf("%s: the route table gives it rule %q, this matrix %q", key, r.Rule.Name, rw.rule)
			continue
		}
		if expect(r.Rule.Name, domain.RoleMember, false) < 0 {
			t.Errorf("%s: rule %q has no expectations here", key, r.Rule.Name)
			continue
		}
		if scoped[r.Rule.Name] != (rw.out != nil) {
			t.Errorf("%s: rule %q and the row disagree on whether the route names a resource", key, r.Rule.Name)
			continue
		}
		api := strings.HasPrefix(r.Path, "/api/v1/")
		for _, cl := range callers {
			for _, out := range []bool{false, true} {
				mk := rw.in
				if out {
					if mk = rw.out; mk == nil {
						continue
					}
				}
				if rw.before != nil {
					rw.before(out)
				}
				who := cl
				if rw.fresh {
					who.session(e)
				}
				q := mk()
				var got answer
				if api {
					got = who.callAPI(e, r.Method, q)
				} else {
					got = who.callPage(t, r.Method, q)
				}
				checked++
				// Whatever the answer, a browser or proxy keeps no copy of
				// it: any of them may carry personal data, refusals too.
				if !cacheable[key] && !strings.Contains(got.cache, "no-store") {
					t.Errorf("%s as %s: Cache-Control %q, want no-store", key, cl.name, got.cache)
				}
				want := expect(r.Rule.Name, cl.role, out)
				if msg := judge(got, want, rw, api || strings.HasPrefix(r.Path, "/app/api/")); msg != "" {
					t.Errorf("%s as %s, %s scope (%s): %s", key, cl.name, map[bool]string{false: "in", true: "out of"}[out], q.path, msg)
				}
			}
		}
	}
	for key := range rows {
		if !served[key] {
			t.Errorf("%s: a row for a route the router does not serve", key)
		}
	}
	if len(served) < 90 {
		t.Fatalf("only %d routes served: the walk is broken", len(served))
	}
	t.Logf("%d routes, %d requests (5 callers, in and out of scope)", len(served), checked)
}

// newTeam, newMember, newLeader are valid bodies, unique by n.
func newTeam(commune string, n int) any {
	return map[string]any{"name": fmt.Sprint("Tổ CNSCĐ số ", n), "commune_code": commune, "established_on": "2025-09-01", "decision_no": "1/QĐ"}
}

func newMember(team string, n int) any {
	return map[string]any{"team_id": team, "full_name": "Phan Văn Mới", "phone": fmt.Sprintf("0977%06d", n), "position": "member",
		"affiliation": "youth_union", "gender": "m", "birth_year": 1990}
}

func newLeader(commune string, n int) any {
	return map[string]any{"username": fmt.Sprint("leader.new", n), "password": "long-enough-1", "role": "commune_leader", "unit_code": commune}
}
