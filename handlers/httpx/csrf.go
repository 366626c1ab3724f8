package httpx

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/gorilla/csrf"

	"github.com/hue-cdt/cdt/auth"
)

// CSRF names.
const (
	cookieCSRF = "cdt_csrf"
	// CSRFField is the form field of the token.
	CSRFField  = "csrf_token"
	csrfHeader = "X-CSRF-Token"
)

type ginKey struct{}

// CSRF protects the routes of a page audience with gorilla/csrf, its key
// derived from secret; a refused request is answered by fail with ErrCSRF.
// Plain-HTTP requests (local use, tests) are marked so that its Referer check,
// meant for HTTPS, does not reject them; the Origin check still applies.
func CSRF(secret []byte, secure bool, fail func(*gin.Context, error)) gin.HandlerFunc {
	key := hmac.New(sha256.New, secret)
	key.Write([]byte("cdt csrf key"))
	protect := csrf.Protect(key.Sum(nil),
		csrf.CookieName(cookieCSRF), csrf.FieldName(CSRFField), csrf.RequestHeader(csrfHeader),
		csrf.Path("/"), csrf.Secure(secure), csrf.HttpOnly(true), csrf.SameSite(csrf.SameSiteLaxMode),
		csrf.MaxAge(int(auth.RefreshTTL/time.Second)),
		csrf.ErrorHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if c, ok := r.Context().Value(ginKey{}).(*gin.Context); ok {
				fail(c, ErrCSRF)
			}
		})))
	return func(c *gin.Context) {
		r := c.Request.WithContext(context.WithValue(c.Request.Context(), ginKey{}, c))
		if r.TLS == nil && r.Header.Get("X-Forwarded-Proto") != "https" {
			r = csrf.PlaintextHTTPRequest(r)
		}
		passed := false
		protect(http.HandlerFunc(func(_ http.ResponseWriter, r2 *http.Request) {
			passed = true
			c.Request = r2
		})).ServeHTTP(c.Writer, r)
		if !passed {
			c.Abort()
			return
		}
		c.Next()
	}
}

// CSRFToken is the token a page puts in its forms.
func CSRFToken(c *gin.Context) string { return csrf.Token(c.Request) }
