package handlers

import (
	"fmt"
	"net/http"
	"runtime/debug"
	"strings"
	"sync"
	"time"

	"github.com/gin-gonic/gin"
	"golang.org/x/time/rate"

	"github.com/hue-cdt/cdt/domain"
)

// recover turns a panic into a 500 in the error format and logs its stack.
func (s *Server) recover(c *gin.Context) {
	defer func() {
		if r := recover(); r != nil {
			if r == http.ErrAbortHandler {
				panic(r)
			}
			s.d.Logger.ErrorContext(c.Request.Context(), "panic", "path", c.Request.URL.Path, "panic", fmt.Sprint(r),
				"stack", string(debug.Stack()))
			s.fail(c, fmt.Errorf("panic: %v", r))
		}
	}()
	c.Next()
}

// logRequests logs one line per request at debug level, and slow or failed
// requests at info and above.
func (s *Server) logRequests(c *gin.Context) {
	start := time.Now()
	c.Next()
	d := time.Since(start)
	status := c.Writer.Status()
	level := -4 // debug
	switch {
	case status >= 500:
		level = 8
	case d > time.Second:
		level = 0
	}
	s.d.Logger.Log(c.Request.Context(), levelOf(level), "request", "method", c.Request.Method, "path", c.Request.URL.Path,
		"status", status, "ms", d.Milliseconds(), "bytes", c.Writer.Size())
}

func securityHeaders(c *gin.Context) {
	h := c.Writer.Header()
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Referrer-Policy", "same-origin")
	if !strings.HasPrefix(c.Request.URL.Path, "/api/") {
		h.Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "+
			"connect-src 'self'; manifest-src 'self'; worker-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
	}
	c.Next()
}

// bearer authenticates the JSON API: Authorization: Bearer <access token>.
func (s *Server) bearer(c *gin.Context) {
	h := c.GetHeader("Authorization")
	token, ok := strings.CutPrefix(h, "Bearer ")
	if !ok || token == "" {
		s.fail(c, domain.ErrUnauthorized)
		return
	}
	claims, err := s.d.Auth.Verify(strings.TrimSpace(token))
	if err != nil {
		s.fail(c, err)
		return
	}
	caller, err := s.d.Auth.Caller(c.Request.Context(), claims)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.Request = c.Request.WithContext(domain.WithCaller(c.Request.Context(), caller))
	c.Next()
}

// caller returns the authenticated caller of the request.
func caller(c *gin.Context) domain.Caller {
	cl, _ := domain.CallerFrom(c.Request.Context())
	return cl
}

func scope(c *gin.Context) domain.Scope { return domain.ScopeOf(caller(c)) }

// limiters hands out one token bucket per key and forgets idle ones.
type limiters struct {
	mu      sync.Mutex
	buckets map[string]*bucket
	sweep   time.Time
}

type bucket struct {
	l    *rate.Limiter
	seen time.Time
}

func newLimiters() *limiters { return &limiters{buckets: map[string]*bucket{}} }

// allow takes one token from the bucket of key, created with r per second and burst.
func (ls *limiters) allow(key string, r rate.Limit, burst int) bool {
	ls.mu.Lock()
	defer ls.mu.Unlock()
	now := time.Now()
	if now.Sub(ls.sweep) > time.Minute {
		for k, b := range ls.buckets {
			if now.Sub(b.seen) > 10*time.Minute {
				delete(ls.buckets, k)
			}
		}
		ls.sweep = now
	}
	b, ok := ls.buckets[key]
	if !ok {
		b = &bucket{l: rate.NewLimiter(r, burst)}
		ls.buckets[key] = b
	}
	b.seen = now
	return b.l.AllowN(now, 1)
}
