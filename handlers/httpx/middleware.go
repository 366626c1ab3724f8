package httpx

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"runtime/debug"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/hue-cdt/cdt/auth"
	"github.com/hue-cdt/cdt/domain"
)

type loggerKey struct{}

// WithLogger gives every request the server's logger, for Fail and the error
// pages; it runs first.
func WithLogger(l *slog.Logger) gin.HandlerFunc {
	return func(c *gin.Context) {
		c.Set(loggerKey{}, l)
		c.Next()
	}
}

// Log is the logger of the request (slog's default before WithLogger).
func Log(c *gin.Context) *slog.Logger {
	if v, ok := c.Get(loggerKey{}); ok {
		return v.(*slog.Logger)
	}
	return slog.Default()
}

// Deadline bounds the request to d: every database operation it makes ends
// by then, and a database that stops answering is answered 503
// database_unavailable instead of holding the request.
func Deadline(d time.Duration) gin.HandlerFunc {
	return func(c *gin.Context) {
		ctx, cancel := context.WithTimeout(c.Request.Context(), d)
		defer cancel()
		c.Request = c.Request.WithContext(ctx)
		c.Next()
	}
}

// Recover turns a panic into a 500 in the error format and logs its stack.
func Recover(c *gin.Context) {
	defer func() {
		if r := recover(); r != nil {
			if r == http.ErrAbortHandler {
				panic(r)
			}
			Log(c).ErrorContext(c.Request.Context(), "panic", "path", c.Request.URL.Path, "panic", fmt.Sprint(r),
				"stack", string(debug.Stack()))
			Fail(c, fmt.Errorf("panic: %v", r))
		}
	}()
	c.Next()
}

// LogRequests logs one line per request at debug level, and slow or failed
// requests at info and above.
func LogRequests(c *gin.Context) {
	start := time.Now()
	c.Next()
	d := time.Since(start)
	status := c.Writer.Status()
	level := slog.LevelDebug
	switch {
	case status >= 500:
		level = slog.LevelError
	case d > time.Second:
		level = slog.LevelInfo
	}
	Log(c).Log(c.Request.Context(), level, "request", "method", c.Request.Method, "path", c.Request.URL.Path,
		"status", status, "ms", d.Milliseconds(), "bytes", c.Writer.Size())
}

// SecurityHeaders sets the headers every answer carries; pages get a strict
// content security policy (no inline script or style). Every answer is
// Cache-Control: no-store unless its handler says otherwise (static files,
// the phone app's shell): any of them may carry personal data. With hsts
// (Secure cookies: the site is served over HTTPS), browsers are told to use
// HTTPS only.
func SecurityHeaders(hsts bool) gin.HandlerFunc {
	return func(c *gin.Context) {
		h := c.Writer.Header()
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Referrer-Policy", "same-origin")
		h.Set("Cache-Control", "no-store")
		if hsts {
			h.Set("Strict-Transport-Security", "max-age=31536000")
		}
		if !strings.HasPrefix(c.Request.URL.Path, "/api/") {
			h.Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "+
				"connect-src 'self'; manifest-src 'self'; worker-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
		}
		c.Next()
	}
}

// Bearer authenticates the JSON API: Authorization: Bearer <access token>.
func Bearer(a *auth.Service) gin.HandlerFunc {
	return func(c *gin.Context) {
		token, ok := strings.CutPrefix(c.GetHeader("Authorization"), "Bearer ")
		if !ok || token == "" {
			Fail(c, domain.ErrUnauthorized)
			return
		}
		claims, err := a.Verify(strings.TrimSpace(token))
		if err != nil {
			Fail(c, err)
			return
		}
		caller, err := a.Caller(c.Request.Context(), claims)
		if err != nil {
			Fail(c, err)
			return
		}
		SetCaller(c, caller)
		c.Next()
	}
}

// Observe tells observe of every answer: its method, its route's pattern
// ("" when no route matched), its status and how long it took (the
// server's metrics). It runs first, so it times the whole chain.
func Observe(observe func(method, route string, status int, took time.Duration)) gin.HandlerFunc {
	return func(c *gin.Context) {
		start := time.Now()
		c.Next()
		observe(c.Request.Method, c.FullPath(), c.Writer.Status(), time.Since(start))
	}
}
