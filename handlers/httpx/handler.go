package httpx

import "github.com/gin-gonic/gin"

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
