package api

import (
	"bytes"
	"fmt"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/hue-cdt/cdt/domain"
	"github.com/hue-cdt/cdt/handlers/core"
	"github.com/hue-cdt/cdt/handlers/httpx"
	"github.com/hue-cdt/cdt/i18n"
	"github.com/hue-cdt/cdt/sheets"
)

// privacyView is a citizen's data request as the API shows it: never the
// household reference nor its hash.
type privacyView struct {
	ID              string     `json:"id"`
	Kind            string     `json:"kind"`
	Status          string     `json:"status"`
	CommuneCode     string     `json:"commune_code"`
	ReceivedOn      string     `json:"received_on"`
	DueOn           string     `json:"due_on"`
	Overdue         bool       `json:"overdue"`
	WorkingDaysLeft int        `json:"working_days_left"`
	HoursLeft       int        `json:"hours_left"`
	Contact         *string    `json:"contact"`
	Note            *string    `json:"note"`
	Reason          *string    `json:"reason"`
	Affected        int        `json:"affected"`
	CreatedAt       time.Time  `json:"created_at"`
	CreatedBy       string     `json:"created_by"`
	ClosedAt        *time.Time `json:"closed_at"`
	ClosedBy        *string    `json:"closed_by"`
}

func viewPrivacy(r domain.PrivacyRequest, now time.Time) privacyView {
	v := privacyView{ID: r.ID, Kind: r.Kind, Status: r.Status, CommuneCode: r.CommuneCode, ReceivedOn: string(r.ReceivedOn),
		DueOn: string(r.DueOn), Overdue: r.Overdue(now), Contact: ptr(r.Contact), Note: ptr(r.Note), Reason: ptr(r.Reason),
		Affected: r.Affected, CreatedAt: r.CreatedAt, CreatedBy: r.CreatedBy, ClosedBy: ptr(r.ClosedBy)}
	if r.Status == domain.PrivacyOpen {
		v.WorkingDaysLeft = domain.WorkingDaysLeft(r.DueOn, now)
		v.HoursLeft = int(max(domain.TimeLeft(r.DueOn, now), 0) / time.Hour)
	}
	if !r.ClosedAt.IsZero() {
		at := r.ClosedAt
		v.ClosedAt = &at
	}
	return v
}

// CreatePrivacyRequest answers POST /privacy/requests: 201 with the request,
// open, due two working days after it was received.
func (h *Handlers) CreatePrivacyRequest(c *gin.Context) error {
	var in domain.NewPrivacyRequest
	if err := httpx.Decode(c, &in, httpx.MaxBody); err != nil {
		return err
	}
	r, err := h.RegisterPrivacy(c.Request.Context(), httpx.Scope(c), in)
	if err != nil {
		return err
	}
	c.JSON(http.StatusCreated, viewPrivacy(r, h.Now()))
	return nil
}

// ListPrivacyRequests answers GET /privacy/requests?status&commune.
func (h *Handlers) ListPrivacyRequests(c *gin.Context) error {
	rs, err := h.FindPrivacy(c.Request.Context(), httpx.Scope(c), c.Query("status"), c.Query("commune"))
	if err != nil {
		return err
	}
	now := h.Now()
	items := make([]privacyView, len(rs))
	for i, r := range rs {
		items[i] = viewPrivacy(r, now)
	}
	c.JSON(http.StatusOK, gin.H{"items": items})
	return nil
}

// ShowPrivacyRequest answers GET /privacy/requests/{id}; an open access
// request comes with the records held about its household.
func (h *Handlers) ShowPrivacyRequest(c *gin.Context) error {
	ctx, sc := c.Request.Context(), httpx.Scope(c)
	r, err := h.PrivacyRequest(ctx, sc, c.Param("id"))
	if err != nil {
		return err
	}
	body := gin.H{"request": viewPrivacy(r, h.Now())}
	if r.Kind == domain.PrivacyAccess && r.Status == domain.PrivacyOpen {
		_, rows, err := h.PrivacyAccess(ctx, sc, r.ID)
		if err != nil {
			return err
		}
		body["records"] = rows
	}
	c.JSON(http.StatusOK, body)
	return nil
}

// FulfilPrivacyRequest answers POST /privacy/requests/{id}/fulfil: the
// request, done, with the records held about the household for an access
// request, how many records lost the household for a deletion or an
// objection. 409 if it is closed already.
func (h *Handlers) FulfilPrivacyRequest(c *gin.Context) error {
	r, rows, err := h.FulfilPrivacy(c.Request.Context(), httpx.Scope(c), c.Param("id"))
	if err != nil {
		return err
	}
	body := gin.H{"request": viewPrivacy(r, h.Now())}
	if r.Kind == domain.PrivacyAccess {
		if rows == nil {
			rows = []core.AccessRow{}
		}
		body["records"] = rows
	}
	c.JSON(http.StatusOK, body)
	return nil
}

// PrivacyAccessXLSX answers GET /privacy/requests/{id}/access.xlsx: the
// records held about the household of an open access request, to hand to
// the citizen (Vietnamese unless ?lang=en).
func (h *Handlers) PrivacyAccessXLSX(c *gin.Context) error {
	r, rows, err := h.PrivacyAccess(c.Request.Context(), httpx.Scope(c), c.Param("id"))
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	if err := sheets.WriteXLSX(&buf, AccessSheet(i18n.For(exportLang(c)), r, rows)); err != nil {
		return err
	}
	c.Header("Content-Disposition", fmt.Sprintf(`attachment; filename="cdt-%s.xlsx"`, r.ID))
	c.Data(http.StatusOK, sheets.ContentTypeXLSX, buf.Bytes())
	return nil
}

// AccessSheet is the answer to access request r: a first row that says what
// it is, then one row per record (day, help, outcome, team, commune).
func AccessSheet(l *i18n.Localizer, r domain.PrivacyRequest, rows []core.AccessRow) sheets.Sheet {
	out := make([][]any, len(rows))
	for i, row := range rows {
		out[i] = []any{string(row.Day), l.T("service." + row.Service), l.T("outcome." + row.Outcome), row.TeamName, row.CommuneName}
	}
	return sheets.Sheet{Name: l.T("privacy.sheet"), Header: true,
		Notice: l.T("privacy.sheet_notice", "ID", r.ID, "Received", string(r.ReceivedOn), "N", len(rows)),
		Head:   []any{l.T("field.date"), l.T("field.service"), l.T("field.outcome"), l.T("field.team"), l.T("export.commune")},
		Rows:   out, Widths: []sheets.Width{{From: "B", To: "B", Chars: 34}, {From: "D", To: "E", Chars: 26}}}
}
