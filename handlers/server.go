// Package handlers is cdt's HTTP layer: the JSON API of API.md under /api/v1 and
// the server-rendered pages. Handlers are thin: decode, check scope, call the
// domain and the stores through their interfaces, answer.
package handlers

import (
	"context"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/klauspost/compress/gzhttp"

	"github.com/hue-cdt/cdt/auth"
	"github.com/hue-cdt/cdt/domain"
	"github.com/hue-cdt/cdt/ingest"
)

// Deps are the server's collaborators.
type Deps struct {
	Units     *domain.UnitCatalog
	Registry  domain.RegistryStore
	Users     domain.UserStore
	Auth      *auth.Service
	Ingest    *ingest.Service
	Live      *ingest.Live
	Records   domain.AssistanceStore
	Coverage  domain.CoverageStore
	Jobs      JobStarter
	Trainings domain.TrainingStore
	// TrainingTarget is the share of teams the province wants trained (0–1).
	TrainingTarget float64
	// Ping answers whether the database is reachable (readiness).
	Ping   func(context.Context) error
	Logger *slog.Logger
	Now    func() time.Time
	// SecureCookies marks page cookies Secure (on by default; browsers accept
	// Secure cookies from http://localhost and 127.0.0.1).
	SecureCookies bool
	// LoginRate is how many login attempts one client may make per minute.
	LoginRate int
	// AssistRate is how many assistance requests one member may send per
	// second (CDT_ASSIST_RATE, default 50; API.md asks for at least 20).
	AssistRate int
}

// Server holds the routes.
type Server struct {
	d        Deps
	engine   *gin.Engine
	limiter  *limiters
	gzipOnce sync.Once
	gzipped  http.Handler
}

// New builds the server and its routes.
func New(d Deps) *Server {
	gin.SetMode(gin.ReleaseMode)
	if d.Now == nil {
		d.Now = time.Now
	}
	if d.Logger == nil {
		d.Logger = slog.Default()
	}
	if d.LoginRate == 0 {
		d.LoginRate = 10
	}
	if d.AssistRate == 0 {
		d.AssistRate = 50
	}
	s := &Server{d: d, engine: gin.New(), limiter: newLimiters()}
	s.engine.HandleMethodNotAllowed = true
	s.engine.ContextWithFallback = true
	s.engine.Use(s.recover, s.logRequests, securityHeaders)
	s.engine.NoRoute(s.wrap(func(c *gin.Context) error { return domain.ErrNotFound }))
	s.engine.NoMethod(s.wrap(func(c *gin.Context) error { return errMethod }))
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
	e := s.engine
	e.GET("/healthz", s.healthz)
	e.GET("/readyz", s.readyz)

	api := e.Group("/api/v1")
	api.POST("/auth/login", s.wrap(s.login))
	api.POST("/auth/refresh", s.wrap(s.refresh))

	authed := api.Group("", s.bearer)
	authed.POST("/auth/logout", s.wrap(s.logout))
	authed.GET("/me", s.wrap(s.me))

	authed.GET("/units", s.wrap(s.listUnits))
	authed.GET("/units/:code", s.wrap(s.showUnit))
	authed.POST("/units", s.wrap(s.createUnit))
	authed.PATCH("/units/:code", s.wrap(s.updateUnit))

	authed.GET("/teams", s.wrap(s.listTeams))
	authed.POST("/teams", s.wrap(s.createTeam))
	authed.GET("/teams/:id", s.wrap(s.showTeam))
	authed.PATCH("/teams/:id", s.wrap(s.updateTeam))

	authed.GET("/members", s.wrap(s.listMembers))
	authed.POST("/members", s.wrap(s.createMember))
	authed.GET("/members/:id", s.wrap(s.showMember))
	authed.PATCH("/members/:id", s.wrap(s.updateMember))

	authed.GET("/users", s.wrap(s.listUsers))
	authed.POST("/users", s.wrap(s.createUser))
	authed.PATCH("/users/:username", s.wrap(s.updateUser))
	authed.POST("/auth/password", s.wrap(s.changePassword))

	authed.GET("/services", s.wrap(s.listServices))
	authed.POST("/assistance", s.wrap(s.createAssistance))
	authed.POST("/assistance/batch", s.wrap(s.createAssistanceBatch))
	authed.GET("/assistance", s.wrap(s.listAssistance))

	authed.POST("/jobs/coverage/run", s.wrap(s.runCoverage))
	authed.GET("/jobs/runs", s.wrap(s.listRuns))
	authed.GET("/coverage/communes", s.wrap(s.listCoverage))
	authed.GET("/coverage/communes/:code/history", s.wrap(s.coverageHistory))
	authed.GET("/exports/coverage.csv", s.wrap(s.exportCSV))
	authed.GET("/exports/coverage.xlsx", s.wrap(s.exportXLSX))
	authed.GET("/exports/assistance.csv", s.wrap(s.exportRecordsCSV))
	authed.GET("/exports/assistance.xlsx", s.wrap(s.exportRecordsXLSX))

	authed.POST("/trainings", s.wrap(s.postTraining))
	authed.GET("/trainings", s.wrap(s.listTrainings))
	authed.GET("/trainings/:id", s.wrap(s.showTraining))
	authed.POST("/trainings/:id/attendance", s.wrap(s.markAttendance))
	authed.DELETE("/trainings/:id/attendance/:member", s.wrap(s.unmarkAttendance))
	authed.POST("/trainings/:id/attendance/sheet", s.wrap(s.uploadSheet))
	authed.GET("/reports/training-progress", s.wrap(s.trainingProgress))
	authed.GET("/exports/untrained.xlsx", s.wrap(s.exportUntrained))
}

// today is the current calendar day in Asia/Ho_Chi_Minh.
func (s *Server) today() domain.Date { return domain.DateOf(s.d.Now()) }

func (s *Server) healthz(c *gin.Context) { c.JSON(http.StatusOK, gin.H{"status": "ok"}) }

func (s *Server) readyz(c *gin.Context) {
	ctx, cancel := context.WithTimeout(c.Request.Context(), 2*time.Second)
	defer cancel()
	if err := s.d.Ping(ctx); err != nil {
		s.fail(c, domain.ErrUnavailable)
		return
	}
	c.JSON(http.StatusOK, gin.H{"status": "ready"})
}
