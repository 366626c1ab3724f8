package api

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/hue-cdt/cdt/domain"
	"github.com/hue-cdt/cdt/handlers/httpx"
	"github.com/hue-cdt/cdt/i18n"
)

type importSummaryView struct {
	Rows      int `json:"rows"`
	Create    int `json:"create"`
	Update    int `json:"update"`
	Unchanged int `json:"unchanged"`
	Invalid   int `json:"invalid"`
}

type importRowView struct {
	Row         int                 `json:"row"`
	Status      string              `json:"status"`
	Errors      []httpx.FieldDetail `json:"errors"`
	CommuneCode *string             `json:"commune_code"`
	MemberID    *string             `json:"member_id"`
	Changes     []string            `json:"changes"`
}

// ImportRegistry answers POST /imports/registry?dry_run=true|false&commune=
// (multipart: file): every row of a registry spreadsheet as create, update,
// unchanged or invalid, with the reason per field. A dry run (the default)
// writes nothing; dry_run=false writes the valid rows.
func (h *Handlers) ImportRegistry(c *gin.Context) error {
	dry := true
	switch v := c.DefaultQuery("dry_run", c.PostForm("dry_run")); v {
	case "", "true", "1":
	case "false", "0":
		dry = false
	default:
		return domain.Invalid("dry_run", "boolean")
	}
	name, data, err := httpx.UploadedFile(c)
	if err != nil {
		return err
	}
	rep, err := h.Deps.ImportRegistry(c.Request.Context(), httpx.Scope(c), name, data, c.Query("commune"), dry)
	if err != nil {
		return err
	}
	c.JSON(http.StatusOK, ImportBody(i18n.For(httpx.APILang(c)), rep, dry))
	return nil
}

// ImportBody is the answer of an import, in l's language.
func ImportBody(l *i18n.Localizer, rep domain.ImportReport, dry bool) gin.H {
	rows := make([]importRowView, len(rep.Rows))
	for i, r := range rep.Rows {
		rows[i] = importRowView{Row: r.Row, Status: r.Status, Errors: httpx.Details(l, &domain.ValidationError{Fields: r.Errors}),
			CommuneCode: ptr(r.Commune), MemberID: ptr(r.MemberID), Changes: append([]string{}, r.Changes...)}
	}
	return gin.H{"dry_run": dry, "summary": importSummaryView(rep.Summary), "rows": rows}
}
