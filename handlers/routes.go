package handlers

import (
	"io/fs"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/hue-cdt/cdt/domain"
	"github.com/hue-cdt/cdt/handlers/api"
	"github.com/hue-cdt/cdt/handlers/fieldapp"
	"github.com/hue-cdt/cdt/handlers/httpx"
	"github.com/hue-cdt/cdt/handlers/openapi"
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

// audiences are the handlers the route tables lead to, and the sessions
// that let callers in.
type audiences struct {
	api      *api.Handlers
	pages    *pages.Handlers
	app      *fieldapp.Handlers
	sessions httpx.Sessions
}

// tables lists every route the server serves, audience by audience. Adding
// a route is one line in one of these tables and one row in the route × role
// matrix of routes_test.go.
func (s audiences) tables() []Table {
	return append([]Table{s.siteTable(), s.openTable(), s.docsTable(), s.apiTable(), s.pagesTable()}, s.appTables()...)
}

// csrf protects a table's forms; fail answers a refused request.
func (s audiences) csrf(fail func(*gin.Context, error)) gin.HandlerFunc {
	return httpx.CSRF(s.sessions.Auth.Secret, s.sessions.Secure, fail)
}

// The kinds of handler: failures answered in the API's error format, as an
// error page, or by the handler itself.
func json(h func(*gin.Context) error) httpx.Handler { return httpx.JSON(h) }
func page(h func(*gin.Context) error) httpx.Handler { return render.Handler(h) }
func plain(h gin.HandlerFunc) httpx.Handler         { return httpx.Plain(h) }

// export and viewed record, in the audit trail, every answer of a route
// that exports a file or lists records (domain.AuditExport,
// domain.AuditRecordsViewed): every such route is wrapped with one.
func (s audiences) export(h httpx.Handler) httpx.Handler {
	return httpx.Audited(s.api.Audit, domain.AuditExport, h)
}

func (s audiences) viewed(h httpx.Handler) httpx.Handler {
	return httpx.Audited(s.api.Audit, domain.AuditRecordsViewed, h)
}

// siteTable: health, static files, the language switch. No session, no CSRF.
func (s audiences) siteTable() Table {
	static, _ := fs.Sub(templates.FS, "static")
	return Table{Audience: "site", Routes: []Route{
		{get, "/healthz", Public, plain(s.api.Health)},
		{get, "/readyz", Public, plain(s.api.Ready)},
		{get, "/metrics", Operations, plain(s.api.Metrics)},
		{get, "/static/*file", Public, plain(pages.Static(static))},
		{get, "/favicon.ico", Public, plain(pages.Favicon(static))},
		{get, "/lang/:lang", Public, plain(s.pages.SetLang)},
		{get, "/privacy", Public, page(s.pages.PrivacyPolicy)},
	}}
}

// openTable: the open-data feed, for anyone (no login, no cookie).
func (s audiences) openTable() Table {
	return Table{Audience: "open", Prefix: "/open", Routes: []Route{
		{get, "/coverage.json", Public, json(s.api.OpenCoverageJSON)},
		{get, "/coverage.csv", Public, json(s.api.OpenCoverageCSV)},
	}}
}

// docsTable: the API's OpenAPI document and its page, for anyone. A route
// added to apiTable is described in handlers/openapi/spec (see README, API).
func (s audiences) docsTable() Table {
	return Table{Audience: "docs", Prefix: "/api", Routes: []Route{
		{get, "/openapi.json", Public, json(openapi.ServeJSON)},
		{get, "/docs", Public, page(openapi.Page)},
	}}
}

// apiTable: the JSON API of API.md, with bearer tokens.
func (s audiences) apiTable() Table {
	a := s.api
	return Table{Audience: "api", Prefix: "/api/v1", Session: httpx.Bearer(s.sessions.Auth), Routes: []Route{
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
		{post, "/users/:username/unlock", ManageOne, json(a.UnlockUser)},

		{get, "/services", SignedIn, json(a.ListServices)},
		{post, "/assistance", Field, json(a.CreateAssistance)},
		{post, "/assistance/batch", Field, json(a.CreateAssistanceBatch)},
		{get, "/assistance", InScope, s.viewed(json(a.ListAssistance))},

		{post, "/jobs/coverage/run", Province, json(a.RunCoverage)},
		{get, "/jobs/runs", Province, json(a.ListRuns)},
		{get, "/coverage/communes", Managers, json(a.ListCoverage)},
		{get, "/coverage/communes/:code/history", ManageCommune, json(a.CoverageHistory)},
		{get, "/exports/coverage.csv", Managers, s.export(json(a.ExportCSV))},
		{get, "/exports/coverage.xlsx", Managers, s.export(json(a.ExportXLSX))},
		{get, "/exports/assistance.csv", InScope, s.export(json(a.ExportRecordsCSV))},
		{get, "/exports/assistance.xlsx", InScope, s.export(json(a.ExportRecordsXLSX))},

		{post, "/trainings", ManageCommune, json(a.CreateTraining)},
		{get, "/trainings", SignedIn, json(a.ListTrainings)},
		{get, "/trainings/:id", ReadOne, json(a.ShowTraining)},
		{post, "/trainings/:id/attendance", ManageOne, json(a.MarkAttendance)},
		{del, "/trainings/:id/attendance/:member", ManageOne, json(a.UnmarkAttendance)},
		{post, "/trainings/:id/attendance/sheet", ManageOne, json(a.UploadSheet)},
		{get, "/reports/training-progress", ManageCommune, json(a.TrainingProgress)},
		{get, "/exports/untrained.xlsx", ManageCommune, s.export(json(a.ExportUntrained))},

		{get, "/audit", ManageCommune, json(a.ListAudit)},

		{get, "/integrity/flags", ManageCommune, s.viewed(json(a.ListFlags))},
		{patch, "/integrity/flags/:id", ManageOne, json(a.PatchFlag)},
		{post, "/assistance/:id/verification", VerifyOne, json(a.RequestVerification)},
		{get, "/verifications", InScope, s.viewed(json(a.ListVerifications))},
		{patch, "/verifications/:id", ReadOne, json(a.PatchVerification)},
		{post, "/privacy/requests", ManageCommune, json(a.CreatePrivacyRequest)},
		{get, "/privacy/requests", ManageCommune, json(a.ListPrivacyRequests)},
		{get, "/privacy/requests/:id", ManageOne, json(a.ShowPrivacyRequest)},
		{post, "/privacy/requests/:id/fulfil", ManageOne, json(a.FulfilPrivacyRequest)},
		{get, "/privacy/requests/:id/access.xlsx", ManageOne, s.export(json(a.PrivacyAccessXLSX))},

		{post, "/imports/registry", Managers, json(a.ImportRegistry)},
	}}
}

// pagesTable: the province's and commune leaders' pages, with the cookie
// session and CSRF protection. The exports are the API's, for a link.
func (s audiences) pagesTable() Table {
	a, p := s.api, s.pages
	return Table{Audience: "pages", Use: []gin.HandlerFunc{s.csrf(render.Error)}, Session: s.sessions.Require(render.Error), Routes: []Route{
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
		{post, "/users/:username/unlock", ManageOne, page(p.UserUnlock)},

		{get, "/communes/:code/dashboard", ManageCommune, page(p.DashboardPage)},
		{get, "/province", Province, page(p.ProvincePage)},
		{get, "/jobs", Province, page(p.JobsPage)},
		{post, "/jobs/coverage/run", Province, page(p.RunCoveragePage)},
		{get, "/exports/coverage.csv", Managers, s.export(json(a.ExportCSV))},
		{get, "/exports/coverage.xlsx", Managers, s.export(json(a.ExportXLSX))},
		{get, "/exports/assistance.csv", InScope, s.export(json(a.ExportRecordsCSV))},
		{get, "/exports/assistance.xlsx", InScope, s.export(json(a.ExportRecordsXLSX))},

		{get, "/trainings", Managers, page(p.TrainingsPage)},
		{get, "/communes/:code/trainings", ManageCommune, page(p.TrainingsPage)},
		{get, "/trainings/new", Managers, page(p.TrainingForm)},
		{post, "/trainings/new", Managers, page(p.TrainingForm)},
		{get, "/trainings/:id", ReadOne, page(p.TrainingPage)},
		{post, "/trainings/:id/attend", ManageOne, page(p.AttendPage)},
		{post, "/trainings/:id/sheet", ManageOne, page(p.SheetPage)},
		{get, "/exports/untrained.xlsx", ManageCommune, s.export(json(a.ExportUntrained))},

		{get, "/audit", ManageCommune, page(p.AuditPage)},

		{get, "/integrity", Managers, page(p.IntegrityPage)},
		{get, "/communes/:code/integrity", ManageCommune, s.viewed(page(p.ReviewPage))},
		{post, "/integrity/flags/:id", ManageOne, page(p.ReviewFlagSubmit)},
		{post, "/verifications/:id", ManageOne, page(p.VerificationSubmit)},
		{get, "/privacy/requests", ManageCommune, page(p.PrivacyRequestsPage)},
		{post, "/privacy/requests", ManageCommune, page(p.PrivacyRequestSubmit)},
		{get, "/privacy/requests/:id", ManageOne, page(p.PrivacyRequestPage)},
		{post, "/privacy/requests/:id/fulfil", ManageOne, page(p.PrivacyFulfilSubmit)},
		{get, "/privacy/requests/:id/access.xlsx", ManageOne, s.export(json(a.PrivacyAccessXLSX))},

		{get, "/imports/registry", Managers, page(p.ImportPage)},
		{post, "/imports/registry", Managers, page(p.ImportSubmit)},
		{get, "/imports/registry/template.xlsx", Managers, page(p.ImportTemplate)},
	}}
}

// appTables: the members' phone app — its shell files, its pages, and its
// offline queue, which posts to the API's batch with the page session.
func (s audiences) appTables() []Table {
	return []Table{
		{Audience: "fieldapp", Routes: []Route{
			{get, "/app/sw.js", Public, json(fieldapp.ServiceWorker)},
			{get, "/app/manifest.webmanifest", Public, json(fieldapp.Manifest)},
			{get, "/app/offline", Public, page(fieldapp.Offline)},
		}},
		{Audience: "fieldapp", Use: []gin.HandlerFunc{s.csrf(render.Error)}, Session: s.sessions.Require(render.Error), Routes: []Route{
			{get, "/app", Field, page(s.app.Home)},
			{get, "/app/log", Field, page(s.app.LogForm)},
			{post, "/app/log", Field, page(s.app.LogSubmit)},
			{get, "/app/records", Field, s.viewed(page(s.app.Records))},
			{post, "/app/verifications/:id", Field, page(s.app.AnswerSubmit)},
		}},
		{Audience: "fieldapp", Prefix: "/app/api", Use: []gin.HandlerFunc{s.csrf(httpx.Fail)}, Session: s.sessions.Require(httpx.Fail), Routes: []Route{
			{post, "/assistance/batch", Field, json(s.api.CreateAssistanceBatch)},
		}},
	}
}
