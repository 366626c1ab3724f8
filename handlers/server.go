// Package handlers is cdt's HTTP layer: the JSON API of API.md under /api/v1 and
// the server-rendered pages. Handlers are thin: decode, check scope, call the
// domain and the stores through their interfaces, answer.
package handlers

import (
	"io/fs"
	"net/http"
	"sync"

	"github.com/gin-gonic/gin"
	"github.com/klauspost/compress/gzhttp"

	"github.com/hue-cdt/cdt/domain"
	"github.com/hue-cdt/cdt/handlers/api"
	"github.com/hue-cdt/cdt/handlers/core"
	"github.com/hue-cdt/cdt/handlers/fieldapp"
	"github.com/hue-cdt/cdt/handlers/httpx"
	"github.com/hue-cdt/cdt/handlers/pages"
	"github.com/hue-cdt/cdt/handlers/render"
	"github.com/hue-cdt/cdt/templates"
)

// Deps are the server's collaborators.
type Deps = core.Deps

// Server holds the routes.
type Server struct {
	d        *core.Deps
	engine   *gin.Engine
	limiter  *httpx.Limiters
	api      *api.Handlers
	pages    *pages.Handlers
	app      *fieldapp.Handlers
	sessions httpx.Sessions
	gzipOnce sync.Once
	gzipped  http.Handler
}

// New builds the server and its routes.
func New(deps Deps) *Server {
	gin.SetMode(gin.ReleaseMode)
	d := deps.WithDefaults()
	s := &Server{d: &d, engine: gin.New(), limiter: httpx.NewLimiters()}
	s.api = api.New(s.d, s.limiter)
	s.sessions = httpx.Sessions{Auth: d.Auth, Secure: d.SecureCookies}
	s.pages = pages.New(s.d, s.limiter, s.sessions)
	s.app = fieldapp.New(s.d)
	s.engine.HandleMethodNotAllowed = true
	s.engine.ContextWithFallback = true
	s.engine.Use(httpx.WithLogger(d.Logger), httpx.Recover, httpx.LogRequests, httpx.SecurityHeaders)
	s.engine.NoRoute(httpx.JSON(func(c *gin.Context) error { return domain.ErrNotFound }).Func())
	s.engine.NoMethod(httpx.JSON(func(c *gin.Context) error { return httpx.ErrMethod }).Func())
	s.routes()
	s.pageRoutes()
	s.appRoutes()
	return s
}

// Handler is the http.Handler of the server, compressing text answers for the
// slow connections of the hills.
func (s *Server) Handler() http.Handler {
	s.gzipOnce.Do(func() {
		wrap, err := gzhttp.NewWrapper(gzhttp.MinSize(1024))
		if err != nil {
			panic(err)
		}
		s.gzipped = wrap(s.engine)
	})
	return s.gzipped
}

func (s *Server) routes() {
	e, a := s.engine, s.api
	j := func(h func(*gin.Context) error) gin.HandlerFunc { return httpx.JSON(h).Func() }
	e.GET("/healthz", a.Health)
	e.GET("/readyz", a.Ready)

	v1 := e.Group("/api/v1")
	v1.POST("/auth/login", j(a.Login))
	v1.POST("/auth/refresh", j(a.Refresh))

	authed := v1.Group("", httpx.Bearer(s.d.Auth))
	authed.POST("/auth/logout", j(a.Logout))
	authed.GET("/me", j(a.Me))

	authed.GET("/units", j(a.ListUnits))
	authed.GET("/units/:code", j(a.ShowUnit))
	authed.POST("/units", j(a.CreateUnit))
	authed.PATCH("/units/:code", j(a.UpdateUnit))

	authed.GET("/teams", j(a.ListTeams))
	authed.POST("/teams", j(a.CreateTeam))
	authed.GET("/teams/:id", j(a.ShowTeam))
	authed.PATCH("/teams/:id", j(a.UpdateTeam))

	authed.GET("/members", j(a.ListMembers))
	authed.POST("/members", j(a.CreateMember))
	authed.GET("/members/:id", j(a.ShowMember))
	authed.PATCH("/members/:id", j(a.UpdateMember))

	authed.GET("/users", j(a.ListUsers))
	authed.POST("/users", j(a.CreateUser))
	authed.PATCH("/users/:username", j(a.UpdateUser))
	authed.POST("/auth/password", j(a.ChangePassword))

	authed.GET("/services", j(a.ListServices))
	authed.POST("/assistance", j(a.CreateAssistance))
	authed.POST("/assistance/batch", j(a.CreateAssistanceBatch))
	authed.GET("/assistance", j(a.ListAssistance))

	authed.POST("/jobs/coverage/run", j(a.RunCoverage))
	authed.GET("/jobs/runs", j(a.ListRuns))
	authed.GET("/coverage/communes", j(a.ListCoverage))
	authed.GET("/coverage/communes/:code/history", j(a.CoverageHistory))
	authed.GET("/exports/coverage.csv", j(a.ExportCSV))
	authed.GET("/exports/coverage.xlsx", j(a.ExportXLSX))

	authed.POST("/trainings", j(a.CreateTraining))
	authed.GET("/trainings", j(a.ListTrainings))
	authed.GET("/trainings/:id", j(a.ShowTraining))
	authed.POST("/trainings/:id/attendance", j(a.MarkAttendance))
	authed.DELETE("/trainings/:id/attendance/:member", j(a.UnmarkAttendance))
	authed.POST("/trainings/:id/attendance/sheet", j(a.UploadSheet))
	authed.GET("/reports/training-progress", j(a.TrainingProgress))
	authed.GET("/exports/untrained.xlsx", j(a.ExportUntrained))
}

func (s *Server) csrf(fail func(*gin.Context, error)) gin.HandlerFunc {
	return httpx.CSRF(s.d.Auth.Secret, s.d.SecureCookies, fail)
}

func (s *Server) pageRoutes() {
	e, p := s.engine, s.pages
	pg := func(h func(*gin.Context) error) gin.HandlerFunc { return render.Handler(h).Func() }
	j := func(h func(*gin.Context) error) gin.HandlerFunc { return httpx.JSON(h).Func() }
	static, _ := fs.Sub(templates.FS, "static")
	e.GET("/static/*file", pages.Static(static))
	e.GET("/lang/:lang", p.SetLang)

	pub := e.Group("", s.csrf(render.Error))
	pub.GET("/login", pg(p.LoginPage))
	pub.POST("/login", pg(p.LoginSubmit))

	g := e.Group("", s.csrf(render.Error), s.sessions.Require(render.Error))
	g.POST("/logout", pg(p.LogoutSubmit))
	g.GET("/", pg(p.Home))
	g.GET("/account", pg(p.AccountPage))
	g.POST("/account", pg(p.AccountSubmit))
	g.GET("/communes", pg(p.CommunesPage))
	g.GET("/communes/:code", pg(p.CommunePage))
	g.GET("/communes/:code/villages/new", pg(p.VillageForm))
	g.POST("/communes/:code/villages/new", pg(p.VillageForm))
	g.GET("/villages/:code/edit", pg(p.VillageForm))
	g.POST("/villages/:code/edit", pg(p.VillageForm))
	g.GET("/communes/:code/teams/new", pg(p.TeamForm))
	g.POST("/communes/:code/teams/new", pg(p.TeamForm))
	g.GET("/teams/:id", pg(p.TeamPage))
	g.GET("/teams/:id/edit", pg(p.TeamForm))
	g.POST("/teams/:id/edit", pg(p.TeamForm))
	g.GET("/teams/:id/members/new", pg(p.MemberForm))
	g.POST("/teams/:id/members/new", pg(p.MemberForm))
	g.GET("/members/:id", pg(p.MemberPage))
	g.GET("/members/:id/edit", pg(p.MemberForm))
	g.POST("/members/:id/edit", pg(p.MemberForm))
	g.GET("/members/:id/login", pg(p.UserForm))
	g.POST("/members/:id/login", pg(p.UserForm))
	g.GET("/communes/:code/users", pg(p.UsersPage))
	g.GET("/communes/:code/users/new", pg(p.UserForm))
	g.POST("/communes/:code/users/new", pg(p.UserForm))
	g.GET("/users", pg(p.UsersPage))
	g.GET("/users/new", pg(p.UserForm))
	g.POST("/users/new", pg(p.UserForm))
	g.POST("/users/:username/active", pg(p.UserActive))
	g.GET("/units", pg(p.UnitsPage))
	g.GET("/communes/:code/dashboard", pg(p.DashboardPage))
	g.GET("/province", pg(p.ProvincePage))
	g.GET("/jobs", pg(p.JobsPage))
	g.POST("/jobs/coverage/run", pg(p.RunCoveragePage))
	g.GET("/exports/coverage.csv", j(s.api.ExportCSV))
	g.GET("/exports/coverage.xlsx", j(s.api.ExportXLSX))
	g.GET("/trainings", pg(p.TrainingsPage))
	g.GET("/communes/:code/trainings", pg(p.TrainingsPage))
	g.GET("/trainings/new", pg(p.TrainingForm))
	g.POST("/trainings/new", pg(p.TrainingForm))
	g.GET("/trainings/:id", pg(p.TrainingPage))
	g.POST("/trainings/:id/attend", pg(p.AttendPage))
	g.POST("/trainings/:id/sheet", pg(p.SheetPage))
	g.GET("/exports/untrained.xlsx", j(s.api.ExportUntrained))

	g.GET("/app", pg(s.app.Home))
	g.GET("/app/log", pg(s.app.LogForm))
	g.POST("/app/log", pg(s.app.LogSubmit))
	g.GET("/app/records", pg(s.app.Records))
}

func (s *Server) appRoutes() {
	e := s.engine
	e.GET("/app/sw.js", httpx.JSON(fieldapp.ServiceWorker).Func())
	e.GET("/app/manifest.webmanifest", httpx.JSON(fieldapp.Manifest).Func())
	sync := e.Group("/app/api", s.csrf(httpx.Fail), s.sessions.Require(httpx.Fail))
	sync.POST("/assistance/batch", httpx.JSON(s.api.CreateAssistanceBatch).Func())
}
