package httpx

import (
	"github.com/gin-gonic/gin"

	"github.com/hue-cdt/cdt/domain"
)

// Caller returns the authenticated caller of the request (the zero Caller
// before a session or bearer middleware has run).
func Caller(c *gin.Context) domain.Caller {
	cl, _ := domain.CallerFrom(c.Request.Context())
	return cl
}

// Scope returns the scope of the caller: every access decision is one of its
// methods.
func Scope(c *gin.Context) domain.Scope { return domain.ScopeOf(Caller(c)) }

// SetCaller stores the caller in the request's context.
func SetCaller(c *gin.Context, cl domain.Caller) {
	c.Request = c.Request.WithContext(domain.WithCaller(c.Request.Context(), cl))
}
