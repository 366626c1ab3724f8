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
	"fmt"
	"net/http"
	"strings"
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
)

// Deps are the server's collaborators.
type Deps = core.Deps

// Server is the router of the HTTP server, built from the route tables.
type Server struct {
	engine   *gin.Engine
	rules    map[string]RouteRule // "METHOD /path" → its table's rule
	gzipOnce sync.Once
	gzipped  http.Handler
}

// New builds the server and its routes.
func New(deps Deps) *Server {
	gin.SetMode(gin.ReleaseMode)
	d := deps.WithDefaults()
	limits := httpx.NewLimiters() // one set: the API and the pages share the login buckets
	sessions := httpx.Sessions{Auth: d.Auth, Secure: d.SecureCookies}
	to := audiences{api: api.New(&d, limits), pages: pages.New(&d, limits, sessions), app: fieldapp.New(&d), sessions: sessions}
	s := &Server{engine: gin.New(), rules: map[string]RouteRule{}}
	// Only the configured proxies' forwarding headers name the client; with
	// none, the client is the TCP peer (gin trusts every proxy by default).
	if err := s.engine.SetTrustedProxies(d.TrustedProxies); err != nil {
		panic(fmt.Sprintf("handlers: trusted proxies: %v", err)) // checked with the configuration
	}
	s.engine.HandleMethodNotAllowed = true
	s.engine.ContextWithFallback = true
	if d.Observe != nil {
		s.engine.Use(httpx.Observe(d.Observe))
	}
	s.engine.Use(httpx.WithLogger(d.Logger), httpx.Recover, httpx.LogRequests, httpx.SecurityHeaders(d.SecureCookies), httpx.Deadline(d.RequestTimeout))
	s.engine.NoRoute(unrouted(domain.ErrNotFound))
	s.engine.NoMethod(unrouted(httpx.ErrMethod))
	s.register(to.tables())
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

// register builds the router from the tables: the one place where routes are
// added. Each route runs its table's middleware, its session unless the rule
// is Public, its rule's gate, then its handler.
func (s *Server) register(tables []Table) {
	for _, t := range tables {
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

// unrouted answers a path no route serves (or a method it does not take):
// in the API's error format under the machine prefixes, and for anything
// else, which a person typed or followed, as an error page in their language.
func unrouted(err error) gin.HandlerFunc {
	return func(c *gin.Context) {
		p := c.Request.URL.Path
		for _, prefix := range []string{"/api/", "/app/api/", "/open/", "/metrics", "/static/", "/app/sw.js", "/app/manifest"} {
			if strings.HasPrefix(p, prefix) {
				httpx.Fail(c, err)
				return
			}
		}
		render.Error(c, err)
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
