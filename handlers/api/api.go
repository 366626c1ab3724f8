// Package api is the JSON API of API.md under /api/v1, for the phones' sync,
// other systems and scripts: decode strictly, ask domain.Scope, call the
// stores through core, answer in the API's format. Its routes are listed, with
// their access rules, in the route table of package handlers.
package api

import (
	"context"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/hue-cdt/cdt/domain"
	"github.com/hue-cdt/cdt/handlers/core"
	"github.com/hue-cdt/cdt/handlers/httpx"
)

// Handlers answers the API's routes.
type Handlers struct {
	*core.Deps
	limits *httpx.Limiters
}

// New returns the API's handlers; limits are the server's rate limiters.
func New(d *core.Deps, limits *httpx.Limiters) *Handlers { return &Handlers{Deps: d, limits: limits} }

// Health answers GET /healthz while the process runs.
func (h *Handlers) Health(c *gin.Context) { c.JSON(http.StatusOK, gin.H{"status": "ok"}) }

// Metrics answers GET /metrics for the operations' clients only
// (httpx.OperationsClient).
func (h *Handlers) Metrics(c *gin.Context) {
	if h.Deps.Metrics == nil {
		httpx.Fail(c, domain.ErrNotFound)
		return
	}
	httpx.ServeOperations(c, h.MetricsToken, h.Deps.Metrics)
}

// Ready answers GET /readyz: 200 while the database answers and can write,
// 503 otherwise.
func (h *Handlers) Ready(c *gin.Context) {
	ctx, cancel := context.WithTimeout(c.Request.Context(), 2*time.Second)
	defer cancel()
	if err := h.Deps.Ready(ctx); err != nil {
		httpx.Fail(c, domain.ErrUnavailable)
		return
	}
	c.JSON(http.StatusOK, gin.H{"status": "ready"})
}
