package httpx

import (
	"strconv"

	"github.com/gin-gonic/gin"

	"github.com/hue-cdt/cdt/domain"
)

// Handler is a route's handler: Serve returns its error, and Fail answers it
// (in the error format of the API, or as an error page).
type Handler struct {
	Serve func(*gin.Context) error
	Fail  func(*gin.Context, error)
}

// JSON is a handler whose failures are answered in the error format of API.md.
func JSON(h func(*gin.Context) error) Handler { return Handler{Serve: h, Fail: Fail} }

// Plain is a handler that answers everything itself.
func Plain(h gin.HandlerFunc) Handler {
	return Handler{Serve: func(c *gin.Context) error { h(c); return nil }, Fail: Fail}
}

// Func adapts h for gin.
func (h Handler) Func() gin.HandlerFunc {
	return func(c *gin.Context) {
		if err := h.Serve(c); err != nil {
			h.Fail(c, err)
		}
	}
}

// Audited is h recording action in the audit trail each time it answers
// without error: the path read, its query and the size of the answer, for
// the commune the query names (commune, unit, or a team's or member's), else
// the caller's. The route tables wrap with it every route that lists
// records or exports a file.
func Audited(log domain.AuditLog, action string, h Handler) Handler {
	return Handler{Fail: h.Fail, Serve: func(c *gin.Context) error {
		if err := h.Serve(c); err != nil {
			return err
		}
		if c.Writer.Status() < 400 {
			details := map[string]string{"bytes": strconv.Itoa(c.Writer.Size())}
			if q := c.Request.URL.RawQuery; q != "" {
				details["query"] = q
			}
			log.Record(c.Request.Context(), domain.AuditEvent{Action: action, Target: c.Request.URL.Path,
				CommuneCode: communeOfQuery(c), Details: details})
		}
		return nil
	}}
}

// communeOfQuery is the commune a request's query names, "" for none.
func communeOfQuery(c *gin.Context) string {
	for _, k := range []string{"commune", "unit"} {
		if v := c.Query(k); len(v) == 5 {
			return v
		}
	}
	for _, k := range []string{"team", "member"} {
		if v := c.Query(k); v != "" {
			return domain.CommuneOf(v)
		}
	}
	return ""
}
