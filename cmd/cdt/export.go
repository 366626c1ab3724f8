package main

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sort"
	"strconv"

	"github.com/hue-cdt/cdt/domain"
	"github.com/hue-cdt/cdt/i18n"
	"github.com/hue-cdt/cdt/internal/app"
	"github.com/hue-cdt/cdt/internal/export"
)

const exportUsage = "usage: cdt export registries|rollups|coverage|records [--format json|csv] [--commune CODE] [--from D] [--to D]"

// exportCmd writes what the database keeps in compact strings (registries,
// rollups, coverage history, record lists) as ordinary documents, one JSON
// object a line (what mongoexport gives), or as CSV.
func exportCmd(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return errors.New(exportUsage)
	}
	what := args[0]
	fs := newFlagSet("export "+what, stderr)
	config := configFlags(fs, getenv)
	format := fs.String("format", "json", "json (one document a line) or csv")
	commune := fs.String("commune", "", "one commune only")
	from := fs.String("from", "", "records and history: the first day (YYYY-MM-DD)")
	to := fs.String("to", "", "records and history: the last day (YYYY-MM-DD)")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	if *format != "json" && *format != "csv" {
		return fmt.Errorf("--format: json or csv, not %q", *format)
	}
	var fromD, toD domain.Date
	for _, d := range []struct {
		s   string
		dst *domain.Date
	}{{*from, &fromD}, {*to, &toD}} {
		if d.s == "" {
			continue
		}
		var ok bool
		if *d.dst, ok = domain.ParseDate(d.s); !ok {
			return fmt.Errorf("%q is not a date (YYYY-MM-DD)", d.s)
		}
	}
	cfg, err := config()
	if err != nil {
		return fmt.Errorf("configuration: %w", err)
	}
	cfg.Logger = app.NewLogger(stderr, cfg.LogFormat, "warn")
	a, err := app.Open(ctx, cfg)
	if err != nil {
		return err
	}
	defer a.Close(context.Background())
	communes := []string{*commune}
	if *commune == "" {
		communes = nil
		for _, u := range a.Units.Find(domain.UnitFilter{Level: domain.LevelCommune, AsOf: domain.DateOf(a.Cfg.Now())}) {
			communes = append(communes, u.Code)
		}
	}
	out := &exporter{w: stdout, csv: *format == "csv"}
	switch what {
	case "registries":
		return out.registries(ctx, a, communes)
	case "rollups":
		return out.rollups(ctx, a, communes)
	case "coverage":
		if fromD == "" {
			fromD = "2000-01-01"
		}
		if toD == "" {
			toD = domain.DateOf(a.Cfg.Now())
		}
		return out.coverage(ctx, a, communes, fromD, toD)
	case "records":
		f := domain.RecordFilter{CommuneCode: *commune}
		if fromD != "" {
			f.From = fromD.Time()
		}
		if toD != "" {
			f.To = toD.Next().Time()
		}
		src := func(ctx context.Context, fn func(domain.Record) (bool, error)) error {
			return a.Live.EachRecord(ctx, f, fn)
		}
		regs := func(ctx context.Context, c string) (*domain.CommuneRegistry, error) {
			return a.Store.Registry.Registry(ctx, c)
		}
		if out.csv {
			_, err := export.CSV(ctx, stdout, i18n.For(i18n.EN), regs, src)
			return err
		}
		enc := json.NewEncoder(stdout)
		return src(ctx, func(r domain.Record) (bool, error) { return true, enc.Encode(recordJSON(r)) })
	}
	return errors.New(exportUsage)
}

type exporter struct {
	w   io.Writer
	csv bool
	cw  *csv.Writer
}

func (e *exporter) doc(v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	_, err = e.w.Write(append(b, '\n'))
	return err
}

func (e *exporter) row(cells ...any) error {
	if e.cw == nil {
		e.cw = csv.NewWriter(e.w)
	}
	rec := make([]string, len(cells))
	for i, c := range cells {
		rec[i] = fmt.Sprint(c)
	}
	if err := e.cw.Write(rec); err != nil {
		return err
	}
	e.cw.Flush()
	return e.cw.Error()
}

func (e *exporter) registries(ctx context.Context, a *app.App, communes []string) error {
	regs, err := a.Store.Registry.Registries(ctx, communes)
	if err != nil {
		return err
	}
	if e.csv {
		if err := e.row("commune_code", "village_code", "village", "households", "team_id", "team", "member_id", "full_name",
			"position", "affiliation", "gender", "birth_year", "active", "joined_on", "left_on"); err != nil {
			return err
		}
	}
	for _, c := range sortedCodes(regs) {
		reg := regs[c]
		if !e.csv {
			if err := e.doc(map[string]any{"commune_code": c, "version": reg.Version, "villages": reg.Villages,
				"teams": reg.Teams, "members": reg.Members}); err != nil {
				return err
			}
			continue
		}
		for _, m := range reg.Members {
			t, _ := reg.Team(m.TeamID)
			v, _ := reg.Village(t.VillageCode)
			if err := e.row(c, v.Code, v.Name, v.Households, t.ID, t.Name, m.ID, m.FullName, m.Position, m.Affiliation,
				m.Gender, m.BirthYear, m.Active, m.JoinedOn, m.LeftOn); err != nil {
				return err
			}
		}
	}
	return nil
}

func (e *exporter) rollups(ctx context.Context, a *app.App, communes []string) error {
	all, err := a.Consolidator.Rollups(ctx)
	if err != nil {
		return err
	}
	keep := map[string]bool{}
	for _, c := range communes {
		keep[c] = true
	}
	if e.csv {
		head := []any{"commune_code", "date", "records"}
		for _, s := range domain.Services {
			head = append(head, "service_"+s)
		}
		for _, o := range domain.Outcomes {
			head = append(head, "outcome_"+o)
		}
		if err := e.row(head...); err != nil {
			return err
		}
	}
	for _, c := range sortedCodes(all) {
		r := all[c]
		if !keep[c] {
			continue
		}
		days := make([]string, 0, len(r.Days))
		for d := range r.Days {
			days = append(days, string(d))
		}
		sort.Strings(days)
		if e.csv {
			for _, d := range days {
				dc := r.Days[domain.Date(d)]
				line := []any{c, d, dc.N}
				for _, s := range domain.Services {
					line = append(line, dc.Services[s])
				}
				for _, o := range domain.Outcomes {
					line = append(line, dc.Outcomes[o])
				}
				if err := e.row(line...); err != nil {
					return err
				}
			}
			continue
		}
		dayDocs := map[string]any{}
		for _, d := range days {
			dc := r.Days[domain.Date(d)]
			dayDocs[d] = map[string]any{"records": dc.N, "services": dc.Services, "outcomes": dc.Outcomes,
				"genders": dc.Genders, "age_groups": dc.AgeGroups, "places": dc.Places}
		}
		activity := func(m map[string]*domain.Activity) map[string]any {
			out := map[string]any{}
			for id, act := range m {
				out[id] = map[string]any{"records": act.N, "last_day": act.Last, "days": act.Days}
			}
			return out
		}
		if err := e.doc(map[string]any{"commune_code": c, "version": r.Version, "total": r.Total, "before_kept_days": r.Before,
			"late": r.Late, "corrected": r.Corrected, "villages": r.Villages, "days": dayDocs,
			"members": activity(r.Members), "teams": activity(r.Teams)}); err != nil {
			return err
		}
	}
	return nil
}

func (e *exporter) coverage(ctx context.Context, a *app.App, communes []string, from, to domain.Date) error {
	if e.csv {
		if err := e.row("commune_code", "date", "villages_total", "villages_with_team", "teams_total", "teams_active_30d",
			"members_total", "members_active_30d", "members_trained", "households_total", "households_reached",
			"household_coverage", "assistance_total", "assistance_30d"); err != nil {
			return err
		}
	}
	for _, c := range communes {
		rows, err := a.Store.Coverage.History(ctx, c, from, to)
		if err != nil {
			return err
		}
		for _, r := range rows {
			if e.csv {
				err = e.row(c, r.Date, r.VillagesTotal, r.VillagesWithTeam, r.TeamsTotal, r.TeamsActive30d, r.MembersTotal,
					r.MembersActive30d, r.MembersTrained, r.HouseholdsTotal, r.HouseholdsReached,
					strconv.FormatFloat(r.HouseholdCoverage, 'f', 4, 64), r.AssistanceTotal, r.Assistance30d)
			} else {
				err = e.doc(map[string]any{"commune_code": c, "date": r.Date, "villages_total": r.VillagesTotal,
					"villages_with_team": r.VillagesWithTeam, "teams_total": r.TeamsTotal, "teams_active_30d": r.TeamsActive30d,
					"members_total": r.MembersTotal, "members_active_30d": r.MembersActive30d, "members_trained": r.MembersTrained,
					"households_total": r.HouseholdsTotal, "households_reached": r.HouseholdsReached,
					"household_coverage": r.HouseholdCoverage, "assistance_total": r.AssistanceTotal,
					"assistance_30d": r.Assistance30d, "by_service": r.ByService, "by_outcome": r.ByOutcome, "late_total": r.LateTotal})
			}
			if err != nil {
				return err
			}
		}
	}
	return nil
}

func recordJSON(r domain.Record) map[string]any {
	m := map[string]any{"id": r.ID, "member_id": r.MemberID, "team_id": r.TeamID, "commune_code": r.CommuneCode,
		"village_code": r.VillageCode, "service": r.Service, "outcome": r.Outcome, "day": r.Day, "occurred_at": r.OccurredAt,
		"recorded_at": r.RecordedAt}
	for k, v := range map[string]string{"citizen_gender": r.Gender, "citizen_age_group": r.AgeGroup, "place": r.Place, "note": r.Note} {
		if v != "" {
			m[k] = v
		}
	}
	return m
}

func sortedCodes[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
