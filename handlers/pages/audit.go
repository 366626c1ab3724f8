package pages

import (
	"errors"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/hue-cdt/cdt/domain"
	"github.com/hue-cdt/cdt/handlers/httpx"
	"github.com/hue-cdt/cdt/handlers/render"
)

// AuditPage answers GET /audit: the audit trail, newest first, filtered by
// commune (province admins), actor, action and dates; a commune leader sees
// their commune's. The filters are the API's (GET /api/v1/audit).
func (h *Handlers) AuditPage(c *gin.Context) error {
	sc, l := httpx.Scope(c), render.Loc(c)
	form := map[string]string{}
	for _, k := range []string{"commune", "actor", "action", "from", "to"} {
		form[k] = c.Query(k)
	}
	data := map[string]any{"Admin": sc.Admin(), "Actions": domain.AuditActions}
	f, err := httpx.QueryAudit(c)
	var events []domain.AuditEvent
	next := ""
	if err == nil {
		events, next, err = h.FindAudit(c.Request.Context(), sc, f)
	}
	if errors.Is(err, domain.ErrInvalid) {
		render.HTML(c, http.StatusUnprocessableEntity, tplAudit, l.T("audit.title"), render.Page{Form: form, Data: data,
			Errors: httpx.FieldErrors(l, err)})
		return nil
	}
	if err != nil {
		return err
	}
	names := map[string]string{"": "—"}
	var communes []domain.Unit
	for _, code := range h.CommuneCodes() {
		u, _ := h.Commune(code)
		names[code] = u.Name
		communes = append(communes, u)
	}
	if !sc.Admin() {
		data["Commune"], _ = h.Commune(sc.Caller.CommuneCode)
	}
	data["Events"], data["Communes"], data["CommuneNames"] = events, communes, names
	if next != "" {
		v := c.Request.URL.Query()
		v.Set("cursor", next)
		data["Next"] = "/audit?" + v.Encode()
	}
	render.HTML(c, http.StatusOK, tplAudit, l.T("audit.title"), render.Page{Form: form, Data: data})
	return nil
}
