package core

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/hue-cdt/cdt/domain"
	"github.com/hue-cdt/cdt/i18n"
	"github.com/hue-cdt/cdt/refdata"
	"github.com/hue-cdt/cdt/sheets"
)

// trainingLevel returns the level of a training organised for unit, if sc may
// organise it (Scope.ManageUnit). A unit that is neither the province nor a
// commune of today is a validation error.
func (d *Deps) trainingLevel(sc domain.Scope, unit string) (string, error) {
	u, ok := d.Units.Get(unit, d.Today())
	switch {
	case ok && u.Level == domain.LevelProvince:
		return domain.LevelProvinceTraining, sc.ManageUnit(u)
	case ok && u.Level == domain.LevelCommune:
		return domain.LevelCommuneTraining, sc.ManageUnit(u)
	}
	return "", domain.Invalid("unit_code", "unknown_unit")
}

// CreateTraining creates a training for a unit of sc's scope. Every bad field
// is reported at once; a unit outside the scope is ErrForbidden.
func (d *Deps) CreateTraining(ctx context.Context, sc domain.Scope, in domain.NewTraining) (domain.Training, error) {
	t, err := domain.ValidateTraining(in, d.Now())
	level := ""
	if t.UnitCode != "" {
		var lerr error
		if level, lerr = d.trainingLevel(sc, t.UnitCode); lerr != nil && !errors.Is(lerr, domain.ErrInvalid) {
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
	t.ID, t.Level, t.CreatedAt, t.CreatedBy = domain.NewTrainingID(d.Now()), level, d.Now(), sc.Caller.Username
	if t.OrganizingUnit == "" {
		u, _ := d.Units.Get(t.UnitCode, d.Today())
		t.OrganizingUnit = u.Name
	}
	return t, d.Trainings.CreateTraining(ctx, &t)
}

// Training returns training id if sc may read it (ErrNotFound otherwise).
func (d *Deps) Training(ctx context.Context, sc domain.Scope, id string) (domain.Training, error) {
	t, err := d.Trainings.Training(ctx, id)
	if err != nil {
		return domain.Training{}, err
	}
	if err := sc.ReadTraining(t); err != nil {
		return domain.Training{}, err
	}
	return t, nil
}

// VisibleTrainings returns the trainings sc may read, newest first, only
// those of unit unless it is "".
func (d *Deps) VisibleTrainings(ctx context.Context, sc domain.Scope, unit string) ([]domain.Training, error) {
	all, err := d.Trainings.Trainings(ctx)
	if err != nil {
		return nil, err
	}
	var out []domain.Training
	for _, t := range all {
		if sc.ReadTraining(t) == nil && (unit == "" || t.UnitCode == unit) {
			out = append(out, t)
		}
	}
	return out, nil
}

// Attend marks members ids present at training, as source ("list" or
// "sheet"), and returns how many were not marked before. Only managers mark
// (Scope.Manage), and only members of communes they manage: every bad ID is
// reported and nothing is marked unless all are good.
func (d *Deps) Attend(ctx context.Context, sc domain.Scope, training string, ids []string, source string) (int, error) {
	members, err := d.attendanceMembers(ctx, sc, ids)
	if err != nil {
		return 0, err
	}
	n := 0
	_, err = d.Trainings.UpdateTraining(ctx, training, func(t *domain.Training) error {
		n = t.Attend(members, sc.Caller.Username, source, d.Now())
		return nil
	})
	return n, err
}

func (d *Deps) attendanceMembers(ctx context.Context, sc domain.Scope, ids []string) ([]domain.Member, error) {
	if err := sc.Manage(); err != nil {
		return nil, err
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
		if _, ok := d.Commune(commune); !ok {
			p.Add(field, "unknown_member")
			continue
		}
		if sc.ManageCommune(commune) != nil {
			p.Add(field, "not_in_scope")
			continue
		}
		reg, err := d.Registry.Registry(ctx, commune)
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

// SheetResult is what an uploaded sign-in sheet matched, row by row.
type SheetResult struct {
	Rows                                                      []SheetRowView `json:"rows"`
	Matched, Ambiguous, Unmatched, Duplicate, Empty, Recorded int
	DryRun                                                    bool `json:"dry_run"`
}

// SheetRowView is one row of a sheet as the API and the training page show it.
type SheetRowView struct {
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

// Sheet matches an uploaded sign-in sheet against the members sc manages (a
// commune training: its commune) and, unless dryRun, marks the matched ones
// present. Ambiguous and unmatched rows are never written; l translates the
// reasons.
func (d *Deps) Sheet(ctx context.Context, sc domain.Scope, l *i18n.Localizer, t domain.Training, name string, data []byte, dryRun bool) (SheetResult, error) {
	lim := sheets.DefaultLimits()
	lim.MaxRows = domain.MaxSheetRows
	records, err := sheets.ReadLimited(name, bytes.NewReader(data), lim)
	if err != nil {
		return SheetResult{}, err
	}
	rows, err := domain.SheetRows(records)
	if err != nil {
		return SheetResult{}, err
	}
	communes := d.CommuneCodes()
	switch {
	case t.Level == domain.LevelCommuneTraining:
		communes = []string{t.UnitCode}
	case !sc.Admin():
		communes = []string{sc.Caller.CommuneCode}
	}
	var regs []*domain.CommuneRegistry
	for _, code := range communes {
		if err := sc.ManageCommune(code); err != nil {
			return SheetResult{}, err
		}
		reg, err := d.Registry.Registry(ctx, code)
		if err != nil {
			return SheetResult{}, err
		}
		regs = append(regs, reg)
	}
	res, ids := sheetResult(l, domain.MatchSheet(rows, regs), regs)
	res.DryRun = dryRun
	if !dryRun && len(ids) > 0 {
		if res.Recorded, err = d.Attend(ctx, sc, t.ID, ids, "sheet"); err != nil {
			return SheetResult{}, err
		}
	}
	return res, nil
}

// sheetResult presents the matches and counts them; ids are the members matched.
func sheetResult(l *i18n.Localizer, matches []domain.SheetMatch, regs []*domain.CommuneRegistry) (res SheetResult, ids []string) {
	members := map[string]domain.Member{}
	teams := map[string]string{}
	for _, reg := range regs {
		for _, m := range reg.Members {
			members[m.ID] = m
		}
		for _, tm := range reg.Teams {
			teams[tm.ID] = tm.Name
		}
	}
	for _, m := range matches {
		v := SheetRowView{Row: m.Row, Status: m.Status, MemberID: ptr(m.MemberID), Reason: m.Reason, Candidates: m.Candidates,
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
	return res, ids
}

func ptr(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// ReportCommunes resolves the ?unit= of a training report to its communes:
// the province (every commune) or one commune, as sc allows
// (Scope.ManageUnit); without unit, the province for admins and the caller's
// commune for others. A unit of neither kind is a validation error.
func (d *Deps) ReportCommunes(sc domain.Scope, unit string) ([]string, error) {
	if unit == "" {
		unit = sc.Caller.CommuneCode
		if sc.Admin() {
			unit = refdata.ProvinceCode
		}
	}
	u, ok := d.Units.Get(unit, d.Today())
	if !ok || u.Level != domain.LevelProvince && u.Level != domain.LevelCommune {
		return nil, domain.Invalid("unit", "unknown_unit")
	}
	if err := sc.ManageUnit(u); err != nil {
		return nil, err
	}
	if u.Level == domain.LevelProvince {
		return d.CommuneCodes(), nil
	}
	return []string{unit}, nil
}

// Progress computes the training progress of communes, with their registries
// and who was trained on what.
func (d *Deps) Progress(ctx context.Context, communes []string) (domain.Progress, []*domain.CommuneRegistry, map[string]map[string]bool, error) {
	ts, err := d.Trainings.Trainings(ctx)
	if err != nil {
		return domain.Progress{}, nil, nil, err
	}
	trained := domain.TrainedMembers(ts)
	var regs []*domain.CommuneRegistry
	if err := d.EachRegistry(ctx, communes, func(r *domain.CommuneRegistry) { regs = append(regs, r) }); err != nil {
		return domain.Progress{}, nil, nil, err
	}
	return domain.ComputeProgress(regs, trained), regs, trained, nil
}
