// Package handlers is cdt's HTTP layer. It builds the one router of the
// server from the route tables of routes.go — every route with its access
// rule — over the packages that serve each audience:
//
//   - api: the JSON API of API.md under /api/v1;
//   - pages: the province's and commune leaders' pages;
//   - fieldapp: the members' phone app under /app;
//
// and the packages they share: core (the collaborators and the operations
// every audience performs), httpx (errors, decoding, sessions, CSRF,
// middleware) and render (templates, formats, charts). Every access decision
// is a method of domain.Scope.
package handlers

import (
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
)

// Deps are the server's collaborators.
type Deps = core.Deps

// Server is the HTTP server's router and the audiences behind it.
type Server struct {
	d        *core.Deps
	engine   *gin.Engine
	sessions httpx.Sessions
	api      *api.Handlers
	pages    *pages.Handlers
	app      *fieldapp.Handlers
	rules    map[string]RouteRule // "METHOD /path" → its table's rule
	gzipOnce sync.Once
	gzipped  http.Handler
}

// New builds the server and its routes.
func New(deps Deps) *Server {
	gin.SetMode(gin.ReleaseMode)
	d := deps.WithDefaults()
	limits := httpx.NewLimiters() // one set: the API and the pages share the login buckets
	s := &Server{d: &d, engine: gin.New(), sessions: httpx.Sessions{Auth: d.Auth, Secure: d.SecureCookies},
		rules: map[string]RouteRule{}}
	s.api = api.New(s.d, limits)
	s.pages = pages.New(s.d, limits, s.sessions)
	s.app = fieldapp.New(s.d)
	s.engine.HandleMethodNotAllowed = true
	s.engine.ContextWithFallback = true
	s.engine.Use(httpx.WithLogger(d.Logger), httpx.Recover, httpx.LogRequests, httpx.SecurityHeaders)
	s.engine.NoRoute(httpx.JSON(func(c *gin.Context) error { return domain.ErrNotFound }).Func())
	s.engine.NoMethod(httpx.JSON(func(c *gin.Context) error { return httpx.ErrMethod }).Func())
	s.register()
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
