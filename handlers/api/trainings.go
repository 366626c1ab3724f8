package api

import (
	"bytes"
	"fmt"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/hue-cdt/cdt/domain"
	"github.com/hue-cdt/cdt/handlers/httpx"
	"github.com/hue-cdt/cdt/i18n"
	"github.com/hue-cdt/cdt/sheets"
)

type trainingView struct {
	ID             string         `json:"id"`
	Title          string         `json:"title"`
	Topics         []string       `json:"topics"`
	Level          string         `json:"level"`
	UnitCode       string         `json:"unit_code"`
	OrganizingUnit string         `json:"organizing_unit"`
	StartsAt       time.Time      `json:"starts_at"`
	EndsAt         time.Time      `json:"ends_at"`
	Location       string         `json:"location"`
	Trainer        string         `json:"trainer"`
	MaterialsURL   *string        `json:"materials_url"`
	Attendance     int            `json:"attendance"`
	Attendees      []attendeeView `json:"attendees,omitempty"`
}

type attendeeView struct {
	MemberID string    `json:"member_id"`
	TeamID   string    `json:"team_id"`
	Commune  string    `json:"commune_code"`
	MarkedAt time.Time `json:"marked_at"`
	Source   string    `json:"source"`
}

// viewTraining presents t; with its attendees, only those of communes sc reads.
func viewTraining(sc domain.Scope, t domain.Training, withAttendees bool) trainingView {
	v := trainingView{ID: t.ID, Title: t.Title, Topics: t.Topics, Level: t.Level, UnitCode: t.UnitCode, OrganizingUnit: t.OrganizingUnit,
		StartsAt: t.StartsAt, EndsAt: t.EndsAt, Location: t.Location, Trainer: t.Trainer, MaterialsURL: ptr(t.MaterialsURL),
		Attendance: len(t.Attendees)}
	if withAttendees {
		v.Attendees = []attendeeView{}
		for _, a := range t.Attendees {
			if sc.ReadCommune(a.Commune) == nil {
				v.Attendees = append(v.Attendees, attendeeView{MemberID: a.MemberID, TeamID: a.TeamID, Commune: a.Commune, MarkedAt: a.MarkedAt, Source: a.Source})
			}
		}
	}
	return v
}

// CreateTraining answers POST /trainings for a unit the caller manages (403
// for another).
func (h *Handlers) CreateTraining(c *gin.Context) error {
	var in domain.NewTraining
	if err := httpx.Decode(c, &in, httpx.MaxBody); err != nil {
		return err
	}
	sc := httpx.Scope(c)
	t, err := h.Deps.CreateTraining(c.Request.Context(), sc, in)
	if err != nil {
		return err
	}
	c.JSON(http.StatusCreated, viewTraining(sc, t, true))
	return nil
}

// ListTrainings answers GET /trainings?unit=: the trainings the caller may see.
func (h *Handlers) ListTrainings(c *gin.Context) error {
	sc := httpx.Scope(c)
	ts, err := h.VisibleTrainings(c.Request.Context(), sc, c.Query("unit"))
	if err != nil {
		return err
	}
	items := make([]trainingView, len(ts))
	for i, t := range ts {
		items[i] = viewTraining(sc, t, false)
	}
	c.JSON(http.StatusOK, gin.H{"items": items, "total": len(items)})
	return nil
}

// ShowTraining answers GET /trainings/{id} (404 outside the caller's scope).
func (h *Handlers) ShowTraining(c *gin.Context) error {
	sc := httpx.Scope(c)
	t, err := h.Training(c.Request.Context(), sc, c.Param("id"))
	if err != nil {
		return err
	}
	c.JSON(http.StatusOK, viewTraining(sc, t, true))
	return nil
}

type attendanceRequest struct {
	MemberIDs []string `json:"member_ids"`
}

// MarkAttendance answers POST /trainings/{id}/attendance: {"recorded"} is how
// many members this call newly marked (0 when all were already present).
func (h *Handlers) MarkAttendance(c *gin.Context) error {
	ctx, sc := c.Request.Context(), httpx.Scope(c)
	t, err := h.Training(ctx, sc, c.Param("id"))
	if err != nil {
		return err
	}
	var req attendanceRequest
	if err := httpx.Decode(c, &req, httpx.MaxBatchBody); err != nil {
		return err
	}
	n, err := h.Attend(ctx, sc, t.ID, req.MemberIDs, "list")
	if err != nil {
		return err
	}
	c.JSON(http.StatusOK, gin.H{"recorded": n})
	return nil
}

// UnmarkAttendance answers DELETE /trainings/{id}/attendance/{member}: 403 for
// a member of a commune the caller does not manage, 404 for one not marked.
func (h *Handlers) UnmarkAttendance(c *gin.Context) error {
	ctx, sc := c.Request.Context(), httpx.Scope(c)
	t, err := h.Training(ctx, sc, c.Param("id"))
	if err != nil {
		return err
	}
	member := c.Param("member")
	if err := sc.ManageCommune(domain.CommuneOf(member)); err != nil {
		return err
	}
	found := false
	_, err = h.Trainings.UpdateTraining(ctx, t.ID, func(t *domain.Training) error {
		found = t.Unattend(member)
		return nil
	})
	if err != nil {
		return err
	}
	if !found {
		return domain.ErrNotFound
	}
	c.Status(http.StatusNoContent)
	return nil
}

// UploadSheet answers POST /trainings/{id}/attendance/sheet (multipart: file,
// dry_run=false to write; a preview otherwise).
func (h *Handlers) UploadSheet(c *gin.Context) error {
	ctx, sc := c.Request.Context(), httpx.Scope(c)
	t, err := h.Training(ctx, sc, c.Param("id"))
	if err != nil {
		return err
	}
	name, data, err := httpx.UploadedFile(c)
	if err != nil {
		return err
	}
	res, err := h.Sheet(ctx, sc, i18n.For(httpx.APILang(c)), t, name, data, c.PostForm("dry_run") != "false")
	if err != nil {
		return err
	}
	c.JSON(http.StatusOK, gin.H{"dry_run": res.DryRun, "rows": res.Rows, "matched": res.Matched, "ambiguous": res.Ambiguous,
		"unmatched": res.Unmatched, "duplicate": res.Duplicate, "empty": res.Empty, "recorded": res.Recorded})
	return nil
}

type communeProgressView struct {
	CommuneCode    string `json:"commune_code"`
	TeamsTotal     int    `json:"teams_total"`
	TeamsTrained   int    `json:"teams_trained"`
	MembersTotal   int    `json:"members_total"`
	MembersTrained int    `json:"members_trained"`
}

// TrainingProgress answers GET /reports/training-progress?unit=CODE, the
// province's or a commune's as the caller may read (403 otherwise).
func (h *Handlers) TrainingProgress(c *gin.Context) error {
	communes, err := h.ReportCommunes(httpx.Scope(c), c.Query("unit"))
	if err != nil {
		return err
	}
	p, _, _, err := h.Progress(c.Request.Context(), communes)
	if err != nil {
		return err
	}
	byTopic := map[string]int{}
	for _, tp := range domain.TrainingTopics {
		byTopic[tp] = p.ByTopic[tp]
	}
	byCommune := make([]communeProgressView, len(p.ByCommune))
	for i, cp := range p.ByCommune {
		byCommune[i] = communeProgressView(cp)
	}
	c.JSON(http.StatusOK, gin.H{"teams_total": p.TeamsTotal, "teams_trained": p.TeamsTrained, "members_total": p.MembersTotal,
		"members_trained": p.MembersTrained, "by_topic": byTopic, "by_commune": byCommune})
	return nil
}

// ExportUntrained answers GET /exports/untrained.xlsx?unit=: the active
// members never trained, to fill the next course.
func (h *Handlers) ExportUntrained(c *gin.Context) error {
	communes, err := h.ReportCommunes(httpx.Scope(c), c.Query("unit"))
	if err != nil {
		return err
	}
	_, regs, trained, err := h.Progress(c.Request.Context(), communes)
	if err != nil {
		return err
	}
	l := i18n.For(exportLang(c))
	teamNames, communeNames := map[string]string{}, map[string]string{}
	for _, reg := range regs {
		for _, t := range reg.Teams {
			teamNames[t.ID] = t.Name
		}
		u, _ := h.Units.Get(reg.Code, h.Today())
		communeNames[reg.Code] = u.Name
	}
	head := []any{l.T("member.id"), l.T("field.full_name"), l.T("field.position"), l.T("field.affiliation"), l.T("field.phone"),
		l.T("field.team"), l.T("export.commune")}
	var rows [][]any
	for _, m := range domain.Untrained(regs, trained) {
		rows = append(rows, []any{m.ID, m.FullName, l.T("position." + string(m.Position)), l.T("affiliation." + m.Affiliation), m.Phone,
			teamNames[m.TeamID], communeNames[m.CommuneCode]})
	}
	var buf bytes.Buffer
	// Members' phone numbers: the file says so before anything else.
	err = sheets.WriteXLSX(&buf, sheets.Sheet{Name: l.T("export.sheet_untrained"), Notice: l.T("export.members_personal"), Head: head, Rows: rows,
		Widths: []sheets.Width{{From: "B", To: "B", Chars: 26}, {From: "F", To: "G", Chars: 26}}})
	if err != nil {
		return err
	}
	c.Header("Content-Disposition", fmt.Sprintf(`attachment; filename="cdt-untrained-%s.xlsx"`, h.Today()))
	c.Data(http.StatusOK, sheets.ContentTypeXLSX, buf.Bytes())
	return nil
}
