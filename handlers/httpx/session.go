package httpx

import (
	"errors"
	"net/http"
	"net/url"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/hue-cdt/cdt/auth"
	"github.com/hue-cdt/cdt/domain"
)

// Cookie names of a page session.
const (
	cookieAccess  = "cdt_access"
	cookieRefresh = "cdt_refresh"
)

// Sessions are the pages' sessions: the access and refresh tokens in HttpOnly
// cookies, the access token refreshed from the refresh cookie as needed.
type Sessions struct {
	Auth *auth.Service
	// Secure marks the cookies Secure (CDT_SECURE_COOKIES).
	Secure bool
}

// SetCookie sets a cookie of the pages: HttpOnly, SameSite=Lax, on every path.
func (s Sessions) SetCookie(c *gin.Context, name, value string, maxAge time.Duration) {
	http.SetCookie(c.Writer, &http.Cookie{Name: name, Value: value, Path: "/", MaxAge: int(maxAge / time.Second),
		HttpOnly: true, Secure: s.Secure, SameSite: http.SameSiteLaxMode})
}

// Start puts a new session's tokens in the cookies.
func (s Sessions) Start(c *gin.Context, t auth.Tokens) {
	s.SetCookie(c, cookieAccess, t.Access, auth.AccessTTL)
	s.SetCookie(c, cookieRefresh, t.Refresh, auth.RefreshTTL)
}

// Clear removes the session's cookies.
func (s Sessions) Clear(c *gin.Context) {
	s.SetCookie(c, cookieAccess, "", -time.Second)
	s.SetCookie(c, cookieRefresh, "", -time.Second)
}

// Caller authenticates a request from its cookies, rotating the refresh token
// when the access token has expired.
func (s Sessions) Caller(c *gin.Context) (domain.Caller, error) {
	ctx := c.Request.Context()
	if tok, err := c.Cookie(cookieAccess); err == nil && tok != "" {
		if claims, err := s.Auth.Verify(tok); err == nil {
			cl, err := s.Auth.Caller(ctx, claims)
			if !errors.Is(err, domain.ErrUnauthorized) {
				return cl, err
			}
			// An ended session: the refresh cookie decides (it is ended too,
			// unless the browser signed in again meanwhile).
		}
	}
	ref, err := c.Cookie(cookieRefresh)
	if err != nil || ref == "" {
		return domain.Caller{}, domain.ErrUnauthorized
	}
	t, u, err := s.Auth.Refresh(ctx, ref)
	switch {
	case errors.Is(err, auth.ErrGrace):
		return s.Auth.CallerOfUser(ctx, u, t.SessionID)
	case err != nil:
		if errors.Is(err, domain.ErrUnauthorized) || errors.Is(err, domain.ErrTokenReused) {
			s.Clear(c)
		}
		return domain.Caller{}, err
	}
	s.Start(c, t)
	return s.Auth.CallerOfUser(ctx, u, t.SessionID)
}

// Require needs a signed-in session: it puts the caller in the request, or
// answers the failure with fail (a page sends the browser to the login, a
// page's JSON call answers 401 in the error format).
func (s Sessions) Require(fail func(*gin.Context, error)) gin.HandlerFunc {
	return func(c *gin.Context) {
		cl, err := s.Caller(c)
		if err != nil {
			fail(c, err)
			c.Abort()
			return
		}
		SetCaller(c, cl)
		c.Next()
	}
}

// ToLogin sends the browser to the login page, back here afterwards for a GET.
func ToLogin(c *gin.Context) {
	next := ""
	if c.Request.Method == http.MethodGet {
		next = "?next=" + url.QueryEscape(c.Request.URL.RequestURI())
	}
	c.Redirect(http.StatusSeeOther, "/login"+next)
	c.Abort()
}
