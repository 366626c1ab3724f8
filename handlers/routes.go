package handlers

import (
	"fmt"
	"io/fs"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/hue-cdt/cdt/domain"
	"github.com/hue-cdt/cdt/handlers/fieldapp"
	"github.com/hue-cdt/cdt/handlers/httpx"
	"github.com/hue-cdt/cdt/handlers/pages"
	"github.com/hue-cdt/cdt/handlers/render"
	"github.com/hue-cdt/cdt/templates"
)

// Route is one line of a route table: method, path, access rule, handler.
type Route struct {
	Method, Path string
	Rule         Rule
	Handler      httpx.Handler
}

// Table is the routes of one audience that share a prefix and middleware.
type Table struct {
	Audience string
	Prefix   string
	// Use runs before every route of the table (CSRF protection).
	Use []gin.HandlerFunc
	// Session runs before every route whose rule is not Public: it puts the
	// caller in the request or refuses it.
	Session gin.HandlerFunc
	Routes  []Route
}

const (
	get, post, patch, del = http.MethodGet, http.MethodPost, http.MethodPatch, http.MethodDelete
)

// tables lists every route the server serves. Adding a route is one line
// here and one row in the route × role matrix of routes_test.go.
func (s *Server) tables() []Table {
	a, p, app := s.api, s.pages, s.app
	json, page, plain := httpx.JSON, render.Handler, httpx.Plain
	static, _ := fs.Sub(templates.FS, "static")
	pageSession, jsonSession := s.sessions.Require(render.Error), s.sessions.Require(httpx.Fail)
	return []Table{
		{Audience: "site", Routes: []Route{
			{get, "/healthz", Public, plain(a.Health)},
			{get, "/readyz", Public, plain(a.Ready)},
			{get, "/static/*file", Public, plain(pages.Static(static))},
			{get, "/lang/:lang", Public, plain(p.SetLang)},
		}},
		{Audience: "api", Prefix: "/api/v1", Session: httpx.Bearer(s.d.Auth), Routes: []Route{
			{post, "/auth/login", Public, json(a.Login)},
			{post, "/auth/refresh", Public, json(a.Refresh)},
			{post, "/auth/logout", SignedIn, json(a.Logout)},
			{get, "/me", SignedIn, json(a.Me)},
			{post, "/auth/password", SignedIn, json(a.ChangePassword)},

			{get, "/units", InScope, json(a.ListUnits)},
			{get, "/units/:code", ReadOne, json(a.ShowUnit)},
			{post, "/units", ManageCommune, json(a.CreateUnit)},
			{patch, "/units/:code", ManageOne, json(a.UpdateUnit)},
			{get, "/teams", InScope, json(a.ListTeams)},
			{post, "/teams", ManageCommune, json(a.CreateTeam)},
			{get, "/teams/:id", ReadOne, json(a.ShowTeam)},
			{patch, "/teams/:id", ManageOne, json(a.UpdateTeam)},
			{get, "/members", InScope, json(a.ListMembers)},
			{post, "/members", ManageCommune, json(a.CreateMember)},
			{get, "/members/:id", ReadOne, json(a.ShowMember)},
			{patch, "/members/:id", ManageOne, json(a.UpdateMember)},
			{get, "/users", ManageCommune, json(a.ListUsers)},
			{post, "/users", ManageCommune, json(a.CreateUser)},
			{patch, "/users/:username", ManageOne, json(a.UpdateUser)},

			{get, "/services", SignedIn, json(a.ListServices)},
			{post, "/assistance", Field, json(a.CreateAssistance)},
			{post, "/assistance/batch", Field, json(a.CreateAssistanceBatch)},
			{get, "/assistance", InScope, json(a.ListAssistance)},

			{post, "/jobs/coverage/run", Province, json(a.RunCoverage)},
			{get, "/jobs/runs", Province, json(a.ListRuns)},
			{get, "/coverage/communes", Managers, json(a.ListCoverage)},
			{get, "/coverage/communes/:code/history", ManageCommune, json(a.CoverageHistory)},
			{get, "/exports/coverage.csv", Managers, json(a.ExportCSV)},
			{get, "/exports/coverage.xlsx", Managers, json(a.ExportXLSX)},

			{post, "/trainings", ManageCommune, json(a.CreateTraining)},
			{get, "/trainings", SignedIn, json(a.ListTrainings)},
			{get, "/trainings/:id", ReadOne, json(a.ShowTraining)},
			{post, "/trainings/:id/attendance", ManageOne, json(a.MarkAttendance)},
			{del, "/trainings/:id/attendance/:member", ManageOne, json(a.UnmarkAttendance)},
			{post, "/trainings/:id/attendance/sheet", ManageOne, json(a.UploadSheet)},
			{get, "/reports/training-progress", ManageCommune, json(a.TrainingProgress)},
			{get, "/exports/untrained.xlsx", ManageCommune, json(a.ExportUntrained)},
		}},
		{Audience: "pages", Use: []gin.HandlerFunc{s.csrf(render.Error)}, Session: pageSession, Routes: []Route{
			{get, "/login", Public, page(p.LoginPage)},
			{post, "/login", Public, page(p.LoginSubmit)},
			{post, "/logout", SignedIn, page(p.LogoutSubmit)},
			{get, "/", SignedIn, page(p.Home)},
			{get, "/account", SignedIn, page(p.AccountPage)},
			{post, "/account", SignedIn, page(p.AccountSubmit)},
			{get, "/units", SignedIn, page(p.UnitsPage)},

			{get, "/communes", Province, page(p.CommunesPage)},
			{get, "/communes/:code", ManageCommune, page(p.CommunePage)},
			{get, "/communes/:code/villages/new", ManageCommune, page(p.VillageForm)},
			{post, "/communes/:code/villages/new", ManageCommune, page(p.VillageForm)},
			{get, "/villages/:code/edit", ManageOne, page(p.VillageForm)},
			{post, "/villages/:code/edit", ManageOne, page(p.VillageForm)},
			{get, "/communes/:code/teams/new", ManageCommune, page(p.TeamForm)},
			{post, "/communes/:code/teams/new", ManageCommune, page(p.TeamForm)},
			{get, "/teams/:id", ReadOne, page(p.TeamPage)},
			{get, "/teams/:id/edit", ManageOne, page(p.TeamForm)},
			{post, "/teams/:id/edit", ManageOne, page(p.TeamForm)},
			{get, "/teams/:id/members/new", ManageOne, page(p.MemberForm)},
			{post, "/teams/:id/members/new", ManageOne, page(p.MemberForm)},
			{get, "/members/:id", ReadOne, page(p.MemberPage)},
			{get, "/members/:id/edit", ManageOne, page(p.MemberForm)},
			{post, "/members/:id/edit", ManageOne, page(p.MemberForm)},
			{get, "/members/:id/login", ManageOne, page(p.UserForm)},
			{post, "/members/:id/login", ManageOne, page(p.UserForm)},
			{get, "/communes/:code/users", ManageCommune, page(p.UsersPage)},
			{get, "/communes/:code/users/new", ManageCommune, page(p.UserForm)},
			{post, "/communes/:code/users/new", ManageCommune, page(p.UserForm)},
			{get, "/users", Province, page(p.UsersPage)},
			{get, "/users/new", Province, page(p.UserForm)},
			{post, "/users/new", Province, page(p.UserForm)},
			{post, "/users/:username/active", ManageOne, page(p.UserActive)},

			{get, "/communes/:code/dashboard", ManageCommune, page(p.DashboardPage)},
			{get, "/province", Province, page(p.ProvincePage)},
			{get, "/jobs", Province, page(p.JobsPage)},
			{post, "/jobs/coverage/run", Province, page(p.RunCoveragePage)},
			{get, "/exports/coverage.csv", Managers, json(a.ExportCSV)},
			{get, "/exports/coverage.xlsx", Managers, json(a.ExportXLSX)},

			{get, "/trainings", Managers, page(p.TrainingsPage)},
			{get, "/communes/:code/trainings", ManageCommune, page(p.TrainingsPage)},
			{get, "/trainings/new", Managers, page(p.TrainingForm)},
			{post, "/trainings/new", Managers, page(p.TrainingForm)},
			{get, "/trainings/:id", ReadOne, page(p.TrainingPage)},
			{post, "/trainings/:id/attend", ManageOne, page(p.AttendPage)},
			{post, "/trainings/:id/sheet", ManageOne, page(p.SheetPage)},
			{get, "/exports/untrained.xlsx", ManageCommune, json(a.ExportUntrained)},
		}},
		{Audience: "fieldapp", Routes: []Route{
			{get, "/app/sw.js", Public, json(fieldapp.ServiceWorker)},
			{get, "/app/manifest.webmanifest", Public, json(fieldapp.Manifest)},
		}},
		{Audience: "fieldapp", Use: []gin.HandlerFunc{s.csrf(render.Error)}, Session: pageSession, Routes: []Route{
			{get, "/app", Field, page(app.Home)},
			{get, "/app/log", Field, page(app.LogForm)},
			{post, "/app/log", Field, page(app.LogSubmit)},
			{get, "/app/records", Field, page(app.Records)},
		}},
		// The app's offline queue: the API's batch, with the page session.
		{Audience: "fieldapp", Prefix: "/app/api", Use: []gin.HandlerFunc{s.csrf(httpx.Fail)}, Session: jsonSession, Routes: []Route{
			{post, "/assistance/batch", Field, json(a.CreateAssistanceBatch)},
		}},
	}
}

// register builds the router from the tables: the one place where routes are
// added. Each route runs its table's middleware, its session unless the rule
// is Public, its rule's gate, then its handler.
func (s *Server) register() {
	for _, t := range s.tables() {
		g := s.engine.Group(t.Prefix, t.Use...)
		for _, r := range t.Routes {
			var chain []gin.HandlerFunc
			if !r.Rule.Public {
				if t.Session == nil {
					panic(fmt.Sprintf("handlers: %s %s%s needs a session its table has not", r.Method, t.Prefix, r.Path))
				}
				chain = append(chain, t.Session)
			}
			if r.Rule.Gate != nil {
				chain = append(chain, gate(r.Rule.Gate, r.Handler.Fail))
			}
			g.Handle(r.Method, r.Path, append(chain, r.Handler.Func())...)
			s.rules[r.Method+" "+t.Prefix+r.Path] = RouteRule{Method: r.Method, Path: t.Prefix + r.Path, Audience: t.Audience, Rule: r.Rule}
		}
	}
}

// gate refuses a caller the rule's gate refuses, answered by fail.
func gate(allow func(domain.Scope) error, fail func(*gin.Context, error)) gin.HandlerFunc {
	return func(c *gin.Context) {
		if err := allow(httpx.Scope(c)); err != nil {
			fail(c, err)
			c.Abort()
			return
		}
		c.Next()
	}
}

func (s *Server) csrf(fail func(*gin.Context, error)) gin.HandlerFunc {
	return httpx.CSRF(s.d.Auth.Secret, s.d.SecureCookies, fail)
}

// RouteRule is a route the router serves, with its audience and access rule.
type RouteRule struct {
	Method, Path, Audience string
	Rule                   Rule
}

// Routes lists every route the router serves, read from the router itself,
// with the rule its table gave it: a route that came from no table has the
// zero Rule (no name), which the route × role matrix refuses.
func (s *Server) Routes() []RouteRule {
	var out []RouteRule
	for _, r := range s.engine.Routes() {
		rr, ok := s.rules[r.Method+" "+r.Path]
		if !ok {
			rr = RouteRule{Method: r.Method, Path: r.Path}
		}
		out = append(out, rr)
	}
	return out
}
