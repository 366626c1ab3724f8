package handlers

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/hue-cdt/cdt/domain"
	"github.com/hue-cdt/cdt/i18n"
	"github.com/hue-cdt/cdt/refdata"
	"github.com/hue-cdt/cdt/sheets"
)

// trainingVisible reports whether the caller may see training t: province
// trainings are public to every login, a commune's to that commune.
func trainingVisible(sc domain.Scope, t domain.Training) bool {
	return t.Level == domain.LevelProvinceTraining || sc.Admin() || sc.Caller.CommuneCode == t.UnitCode
}

// trainingUnit checks that the caller may organise a training for unit and
// returns its level.
func (s *Server) trainingUnit(sc domain.Scope, unit string) (string, error) {
	if u, ok := s.d.Units.Get(unit, s.today()); ok && u.Level == domain.LevelProvince {
		if !sc.Admin() {
			return "", domain.ErrForbidden
		}
		return domain.LevelProvinceTraining, nil
	}
	if _, ok := s.currentCommune(unit); !ok {
		return "", domain.Invalid("unit_code", "unknown_unit")
	}
	return domain.LevelCommuneTraining, sc.ManageCommune(unit)
}

// createTraining creates a training for the caller's scope.
func (s *Server) createTraining(ctx context.Context, sc domain.Scope, in domain.NewTraining) (domain.Training, error) {
	t, err := domain.ValidateTraining(in, s.d.Now())
	level := ""
	if t.UnitCode != "" {
		var lerr error
		if level, lerr = s.trainingUnit(sc, t.UnitCode); lerr != nil && !errors.Is(lerr, domain.ErrInvalid) {
			return domain.Training{}, lerr
		} else if lerr != nil {
			var p domain.Problems
			p.Merge("", err)
			p.Merge("", lerr)
			err = p.Err()
		}
	}
	if err != nil {
		return domain.Training{}, err
	}
	t.ID, t.Level, t.CreatedAt, t.CreatedBy = domain.NewTrainingID(s.d.Now()), level, s.d.Now(), sc.Caller.Username
	if t.OrganizingUnit == "" {
		u, _ := s.d.Units.Get(t.UnitCode, s.today())
		t.OrganizingUnit = u.Name
	}
	return t, s.d.Trainings.CreateTraining(ctx, &t)
}

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

func viewTraining(sc domain.Scope, t domain.Training, withAttendees bool) trainingView {
	v := trainingView{ID: t.ID, Title: t.Title, Topics: t.Topics, Level: t.Level, UnitCode: t.UnitCode, OrganizingUnit: t.OrganizingUnit,
		StartsAt: t.StartsAt, EndsAt: t.EndsAt, Location: t.Location, Trainer: t.Trainer, MaterialsURL: ptr(t.MaterialsURL),
		Attendance: len(t.Attendees)}
	if withAttendees {
		v.Attendees = []attendeeView{}
		for _, a := range t.Attendees {
			if sc.Admin() || a.Commune == sc.Caller.CommuneCode && sc.Caller.Role == domain.RoleCommuneLeader {
				v.Attendees = append(v.Attendees, attendeeView{MemberID: a.MemberID, TeamID: a.TeamID, Commune: a.Commune, MarkedAt: a.MarkedAt, Source: a.Source})
			}
		}
	}
	return v
}

func (s *Server) postTraining(c *gin.Context) error {
	var in domain.NewTraining
	if err := decode(c, &in, maxBody); err != nil {
		return err
	}
	t, err := s.createTraining(c.Request.Context(), scope(c), in)
	if err != nil {
		return err
	}
	c.JSON(http.StatusCreated, viewTraining(scope(c), t, true))
	return nil
}

// visibleTrainings returns the trainings the caller may see, newest first,
// optionally only those of unit.
func (s *Server) visibleTrainings(ctx context.Context, sc domain.Scope, unit string) ([]domain.Training, error) {
	all, err := s.d.Trainings.Trainings(ctx)
	if err != nil {
		return nil, err
	}
	var out []domain.Training
	for _, t := range all {
		if trainingVisible(sc, t) && (unit == "" || t.UnitCode == unit) {
			out = append(out, t)
		}
	}
	return out, nil
}

func (s *Server) listTrainings(c *gin.Context) error {
	ts, err := s.visibleTrainings(c.Request.Context(), scope(c), c.Query("unit"))
	if err != nil {
		return err
	}
	items := make([]trainingView, len(ts))
	for i, t := range ts {
		items[i] = viewTraining(scope(c), t, false)
	}
	c.JSON(http.StatusOK, gin.H{"items": items, "total": len(items)})
	return nil
}

// training returns training id if the caller may see it (404 otherwise).
func (s *Server) training(c *gin.Context, id string) (domain.Training, error) {
	t, err := s.d.Trainings.Training(c.Request.Context(), id)
	if err != nil {
		return domain.Training{}, err
	}
	if !trainingVisible(scope(c), t) {
		return domain.Training{}, domain.ErrNotFound
	}
	return t, nil
}

func (s *Server) showTraining(c *gin.Context) error {
	t, err := s.training(c, c.Param("id"))
	if err != nil {
		return err
	}
	c.JSON(http.StatusOK, viewTraining(scope(c), t, true))
	return nil
}

// attendanceMembers resolves member IDs the caller may mark present. Every
// bad ID is reported; nothing is marked unless all are good.
func (s *Server) attendanceMembers(ctx context.Context, sc domain.Scope, ids []string) ([]domain.Member, error) {
	if !sc.Admin() && sc.Caller.Role != domain.RoleCommuneLeader {
		return nil, domain.ErrForbidden
	}
	var p domain.Problems
	var out []domain.Member
	if len(ids) == 0 {
		p.Add("member_ids", "required")
	}
	if len(ids) > 2000 {
		p.Add("member_ids", "too_many", 2000)
		return nil, p.Err()
	}
	for i, id := range ids {
		field := fmt.Sprintf("member_ids[%d]", i)
		commune := domain.CommuneOf(id)
		if _, ok := s.currentCommune(commune); !ok {
			p.Add(field, "unknown_member")
			continue
		}
		if sc.ManageCommune(commune) != nil {
			p.Add(field, "not_in_scope")
			continue
		}
		reg, err := s.d.Registry.Registry(ctx, commune)
		if err != nil {
			return nil, err
		}
		m, ok := reg.Member(id)
		switch {
		case !ok:
			p.Add(field, "unknown_member")
		case !m.Active:
			p.Add(field, "member_inactive")
		default:
			out = append(out, m)
		}
	}
	return out, p.Err()
}

type attendanceRequest struct {
	MemberIDs []string `json:"member_ids"`
}

// markAttendance answers POST /trainings/{id}/attendance: {"recorded"} is how
// many members this call newly marked (0 when all were already present).
func (s *Server) markAttendance(c *gin.Context) error {
	t, err := s.training(c, c.Param("id"))
	if err != nil {
		return err
	}
	var req attendanceRequest
	if err := decode(c, &req, maxBatchBody); err != nil {
		return err
	}
	n, err := s.attend(c.Request.Context(), scope(c), t.ID, req.MemberIDs, "list")
	if err != nil {
		return err
	}
	c.JSON(http.StatusOK, gin.H{"recorded": n})
	return nil
}

func (s *Server) attend(ctx context.Context, sc domain.Scope, training string, ids []string, source string) (int, error) {
	members, err := s.attendanceMembers(ctx, sc, ids)
	if err != nil {
		return 0, err
	}
	n := 0
	_, err = s.d.Trainings.UpdateTraining(ctx, training, func(t *domain.Training) error {
		n = t.Attend(members, sc.Caller.Username, source, s.d.Now())
		return nil
	})
	return n, err
}

// unmarkAttendance answers DELETE /trainings/{id}/attendance/{member}.
func (s *Server) unmarkAttendance(c *gin.Context) error {
	t, err := s.training(c, c.Param("id"))
	if err != nil {
		return err
	}
	member := c.Param("member")
	if err := scope(c).ManageCommune(domain.CommuneOf(member)); err != nil {
		return err
	}
	found := false
	_, err = s.d.Trainings.UpdateTraining(c.Request.Context(), t.ID, func(t *domain.Training) error {
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

// ---- sign-in sheets ----

// readSheet reads the rows of an uploaded sign-in sheet.
func readSheet(name string, data []byte) ([]domain.SheetRow, error) {
	records, err := sheets.Read(name, data)
	if err != nil {
		return nil, err
	}
	return domain.SheetRows(records)
}

type sheetResult struct {
	Rows                                                      []sheetRowView `json:"rows"`
	Matched, Ambiguous, Unmatched, Duplicate, Empty, Recorded int
	DryRun                                                    bool `json:"dry_run"`
}

type sheetRowView struct {
	Row        int      `json:"row"`
	Status     string   `json:"status"`
	MemberID   *string  `json:"member_id"`
	MemberName string   `json:"member_name,omitempty"`
	Team       string   `json:"team,omitempty"`
	Reason     string   `json:"reason,omitempty"`
	Message    string   `json:"message,omitempty"`
	Candidates []string `json:"candidates,omitempty"`
	Input      []string `json:"input"`
}

// sheet matches an uploaded sign-in sheet against the members in the caller's
// scope (a commune training: its commune) and, unless dryRun, marks the
// matched ones present. Ambiguous and unmatched rows are never written.
func (s *Server) sheet(ctx context.Context, sc domain.Scope, l *i18n.Localizer, t domain.Training, name string, data []byte, dryRun bool) (sheetResult, error) {
	rows, err := readSheet(name, data)
	if err != nil {
		return sheetResult{}, err
	}
	communes := s.currentCommuneCodes()
	switch {
	case t.Level == domain.LevelCommuneTraining:
		communes = []string{t.UnitCode}
	case !sc.Admin():
		communes = []string{sc.Caller.CommuneCode}
	}
	var regs []*domain.CommuneRegistry
	members := map[string]domain.Member{}
	teams := map[string]string{}
	for _, code := range communes {
		if sc.ManageCommune(code) != nil {
			return sheetResult{}, domain.ErrForbidden
		}
		reg, err := s.d.Registry.Registry(ctx, code)
		if err != nil {
			return sheetResult{}, err
		}
		regs = append(regs, reg)
		for _, m := range reg.Members {
			members[m.ID] = m
		}
		for _, tm := range reg.Teams {
			teams[tm.ID] = tm.Name
		}
	}
	res := sheetResult{DryRun: dryRun}
	var ids []string
	for _, m := range domain.MatchSheet(rows, regs) {
		v := sheetRowView{Row: m.Row, Status: m.Status, MemberID: ptr(m.MemberID), Reason: m.Reason, Candidates: m.Candidates,
			Input: []string{m.SheetRow.MemberID, m.SheetRow.Phone, m.SheetRow.Name, m.SheetRow.Team}}
		if mem, ok := members[m.MemberID]; ok {
			v.MemberName, v.Team = mem.FullName, teams[mem.TeamID]
		}
		if m.Reason != "" {
			v.Message = l.T("sheet."+m.Reason, "Row", strings.Join(m.Candidates, ", "))
		}
		switch m.Status {
		case domain.SheetMatched:
			res.Matched++
			ids = append(ids, m.MemberID)
		case domain.SheetAmbiguous:
			res.Ambiguous++
		case domain.SheetUnmatched:
			res.Unmatched++
		case domain.SheetDuplicate:
			res.Duplicate++
		case domain.SheetEmpty:
			res.Empty++
		}
		res.Rows = append(res.Rows, v)
	}
	if !dryRun && len(ids) > 0 {
		n, err := s.attend(ctx, sc, t.ID, ids, "sheet")
		if err != nil {
			return sheetResult{}, err
		}
		res.Recorded = n
	}
	return res, nil
}

// uploadSheet answers POST /trainings/{id}/attendance/sheet (multipart: file,
// dry_run=true to preview without writing).
func (s *Server) uploadSheet(c *gin.Context) error {
	t, err := s.training(c, c.Param("id"))
	if err != nil {
		return err
	}
	name, data, err := uploadedFile(c)
	if err != nil {
		return err
	}
	res, err := s.sheet(c.Request.Context(), scope(c), i18n.For(apiLang(c)), t, name, data, c.PostForm("dry_run") != "false")
	if err != nil {
		return err
	}
	c.JSON(http.StatusOK, gin.H{"dry_run": res.DryRun, "rows": res.Rows, "matched": res.Matched, "ambiguous": res.Ambiguous,
		"unmatched": res.Unmatched, "duplicate": res.Duplicate, "empty": res.Empty, "recorded": res.Recorded})
	return nil
}

const maxSheet = 5 << 20

func uploadedFile(c *gin.Context) (string, []byte, error) {
	c.Request.Body = http.MaxBytesReader(c.Writer, c.Request.Body, maxSheet+64<<10)
	fh, err := c.FormFile("file")
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return "", nil, domain.ErrTooLarge
		}
		return "", nil, domain.Invalid("file", "required")
	}
	f, err := fh.Open()
	if err != nil {
		return "", nil, domain.Invalid("file", "required")
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxSheet+1))
	if err != nil {
		return "", nil, err
	}
	if len(data) > maxSheet {
		return "", nil, domain.ErrTooLarge
	}
	return fh.Filename, data, nil
}

// ---- progress ----

// progressScope resolves ?unit= to the communes of the report.
func (s *Server) progressScope(sc domain.Scope, unit string) ([]string, error) {
	if unit == "" {
		if sc.Admin() {
			unit = refdata.ProvinceCode
		} else {
			unit = sc.Caller.CommuneCode
		}
	}
	if u, ok := s.d.Units.Get(unit, s.today()); ok && u.Level == domain.LevelProvince {
		if !sc.Admin() {
			return nil, domain.ErrForbidden
		}
		return s.currentCommuneCodes(), nil
	}
	if _, ok := s.currentCommune(unit); !ok {
		return nil, domain.Invalid("unit", "unknown_unit")
	}
	if err := sc.ReadCommune(unit); err != nil {
		return nil, err
	}
	return []string{unit}, nil
}

func (s *Server) progress(ctx context.Context, communes []string) (domain.Progress, []*domain.CommuneRegistry, map[string]map[string]bool, error) {
	ts, err := s.d.Trainings.Trainings(ctx)
	if err != nil {
		return domain.Progress{}, nil, nil, err
	}
	trained := domain.TrainedMembers(ts)
	var regs []*domain.CommuneRegistry
	err = s.eachRegistry(ctx, communes, func(r *domain.CommuneRegistry) { regs = append(regs, r) })
	if err != nil {
		return domain.Progress{}, nil, nil, err
	}
	return domain.ComputeProgress(regs, trained), regs, trained, nil
}

type communeProgressView struct {
	CommuneCode    string `json:"commune_code"`
	TeamsTotal     int    `json:"teams_total"`
	TeamsTrained   int    `json:"teams_trained"`
	MembersTotal   int    `json:"members_total"`
	MembersTrained int    `json:"members_trained"`
}

// trainingProgress answers GET /reports/training-progress?unit=CODE.
func (s *Server) trainingProgress(c *gin.Context) error {
	communes, err := s.progressScope(scope(c), c.Query("unit"))
	if err != nil {
		return err
	}
	p, _, _, err := s.progress(c.Request.Context(), communes)
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

// exportUntrained answers GET /exports/untrained.xlsx?unit=: the active members
// never trained, to fill the next course.
func (s *Server) exportUntrained(c *gin.Context) error {
	communes, err := s.progressScope(scope(c), c.Query("unit"))
	if err != nil {
		return err
	}
	_, regs, trained, err := s.progress(c.Request.Context(), communes)
	if err != nil {
		return err
	}
	l := i18n.For(exportLang(c))
	teamNames, communeNames := map[string]string{}, map[string]string{}
	for _, reg := range regs {
		for _, t := range reg.Teams {
			teamNames[t.ID] = t.Name
		}
		u, _ := s.d.Units.Get(reg.Code, s.today())
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
	err = sheets.WriteXLSX(&buf, sheets.Sheet{Name: l.T("export.sheet_untrained"), Head: head, Rows: rows,
		Widths: []sheets.Width{{From: "B", To: "B", Chars: 26}, {From: "F", To: "G", Chars: 26}}})
	if err != nil {
		return err
	}
	c.Header("Content-Disposition", fmt.Sprintf(`attachment; filename="cdt-untrained-%s.xlsx"`, s.today()))
	c.Data(http.StatusOK, sheets.ContentTypeXLSX, buf.Bytes())
	return nil
}
