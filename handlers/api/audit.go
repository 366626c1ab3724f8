package api

import (
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/hue-cdt/cdt/domain"
	"github.com/hue-cdt/cdt/handlers/httpx"
)

type auditView struct {
	At          time.Time      `json:"at"`
	Actor       *string        `json:"actor"`
	Role        *string        `json:"role"`
	Action      string         `json:"action"`
	Target      string         `json:"target"`
	CommuneCode *string        `json:"commune_code"`
	Details     map[string]any `json:"details"`
}

func viewAudit(e domain.AuditEvent) auditView {
	details := map[string]any{}
	for k, v := range e.Details {
		details[k] = v
	}
	if len(e.Changes) > 0 {
		details["changes"] = e.Changes
	}
	return auditView{At: e.At.UTC(), Actor: orNull(e.Actor), Role: orNull(string(e.Role)), Action: e.Action, Target: e.Target,
		CommuneCode: orNull(e.CommuneCode), Details: details}
}

func orNull(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// ListAudit answers GET /audit?commune&actor&action&from&to&limit&cursor:
// the audit trail, newest first, as the caller may read it (province admins
// all, commune leaders their commune). A page may hold fewer events than
// the limit, even none, and still have a next_cursor: each call reads a
// bounded part of the trail.
func (h *Handlers) ListAudit(c *gin.Context) error {
	f, err := httpx.QueryAudit(c)
	if err != nil {
		return err
	}
	events, next, err := h.FindAudit(c.Request.Context(), httpx.Scope(c), f)
	if err != nil {
		return err
	}
	items := make([]auditView, len(events))
	for i, e := range events {
		items[i] = viewAudit(e)
	}
	c.JSON(http.StatusOK, gin.H{"items": items, "next_cursor": orNull(next)})
	return nil
}
