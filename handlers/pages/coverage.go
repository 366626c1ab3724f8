package pages

import (
	"errors"
	"fmt"
	"html/template"
	"net/http"
	"sort"

	"github.com/gin-gonic/gin"

	"github.com/hue-cdt/cdt/domain"
	"github.com/hue-cdt/cdt/handlers/httpx"
	"github.com/hue-cdt/cdt/handlers/render"
	"github.com/hue-cdt/cdt/i18n"
)

type headline struct {
	Label, Value, Of, Delta string
	Up, Down                bool
}

type idleTeam struct {
	Team    domain.TeamView
	Last    domain.Date
	Phone   string
	Village string
}

type idleMember struct {
	Member domain.Member
	Team   string
	Last   domain.Date
}

type dashboardData struct {
	Commune     domain.Unit
	Latest      *domain.CoverageLatest
	Headlines   []headline
	Daily       template.HTML
	Coverage    template.HTML
	DailyTable  []domain.TrendPoint // the last days, as numbers beside the chart
	Services    []render.HBar
	Villages    []domain.VillageCoverage
	IdleTeams   []idleTeam
	IdleMembers []idleMember
	Admin       bool
}

// DashboardPage answers GET /communes/{code}/dashboard: yesterday's coverage of
// a commune the caller reads (403 for another), its villages and idle teams.
func (h *Handlers) DashboardPage(c *gin.Context) error {
	u, reg, err := h.managedCommune(c, c.Param("code"))
	if err != nil {
		return err
	}
	ctx := c.Request.Context()
	l := render.Loc(c)
	d := dashboardData{Commune: u, Admin: httpx.Scope(c).Admin()}
	latest, err := h.Coverage.Latest(ctx, []string{u.Code})
	if err != nil {
		return err
	}
	if cl, ok := latest[u.Code]; ok {
		d.Latest = &cl
		fillDashboard(l, &d, cl)
	}
	if err := h.idle(c, u.Code, reg, &d); err != nil {
		return err
	}
	render.HTML(c, http.StatusOK, tplDashboard, u.Name, render.Page{Data: d})
	return nil
}

func fillDashboard(l *i18n.Localizer, d *dashboardData, cl domain.CoverageLatest) {
	r := cl.Row
	var prev *domain.TrendPoint
	monthAgo := r.Date.AddDays(-30)
	for i := range cl.Trend {
		if cl.Trend[i].Date <= monthAgo {
			prev = &cl.Trend[i]
		}
	}
	delta := func(now, then float64, percent bool) (string, bool, bool) {
		if prev == nil {
			return "", false, false
		}
		diff := now - then
		if percent {
			return fmt.Sprintf("%+.1f %s", diff*100, l.T("dash.points")), diff > 0, diff < 0
		}
		return fmt.Sprintf("%+d", int(diff)), diff > 0, diff < 0
	}
	h := func(label, value, of string, now, then float64, percent bool) headline {
		dl, up, down := delta(now, then, percent)
		return headline{Label: l.T(label), Value: value, Of: of, Delta: dl, Up: up, Down: down}
	}
	var p domain.TrendPoint
	if prev != nil {
		p = *prev
	}
	d.Headlines = []headline{
		h("cov.coverage", render.FormatPct(r.HouseholdCoverage), l.T("dash.of_households", "N", render.FormatInt(r.HouseholdsTotal)),
			r.HouseholdCoverage, p.HouseholdCoverage, true),
		h("cov.households_reached", render.FormatInt(r.HouseholdsReached), "", float64(r.HouseholdsReached), float64(p.HouseholdsReached), false),
		h("cov.assistance_30d", render.FormatInt(r.Assistance30d), "", float64(r.Assistance30d), float64(p.Assistance30d), false),
		h("cov.members_active", render.FormatInt(r.MembersActive30d), l.T("dash.of", "N", render.FormatInt(r.MembersTotal)),
			float64(r.MembersActive30d), float64(p.MembersActive30d), false),
		h("cov.teams_active", render.FormatInt(r.TeamsActive30d), l.T("dash.of", "N", render.FormatInt(r.TeamsTotal)),
			float64(r.TeamsActive30d), float64(p.TeamsActive30d), false),
		{Label: l.T("stat.villages_with_team"), Value: render.FormatInt(r.VillagesWithTeam), Of: l.T("dash.of", "N", render.FormatInt(r.VillagesTotal))},
		{Label: l.T("cov.members_trained"), Value: render.FormatInt(r.MembersTrained), Of: l.T("dash.of", "N", render.FormatInt(r.MembersTotal))},
		{Label: l.T("cov.assistance_total"), Value: render.FormatInt(r.AssistanceTotal)},
	}
	labels := make([]string, len(cl.Trend))
	daily := make([]float64, len(cl.Trend))
	cov := make([]float64, len(cl.Trend))
	for i, t := range cl.Trend {
		labels[i], daily[i], cov[i] = string(t.Date), float64(t.Assistance), t.HouseholdCoverage*100
	}
	d.Daily = render.Bars(render.BarSeries{Labels: labels, Values: daily, Line: render.MovingAverage(daily, 7), Title: l.T("dash.daily")})
	d.Coverage = render.Bars(render.BarSeries{Labels: labels, Values: cov, Title: l.T("cov.coverage"), Unit: " %"})
	n := len(cl.Trend)
	d.DailyTable = append([]domain.TrendPoint(nil), cl.Trend[max(0, n-7):]...)
	codes := append([]string(nil), domain.Services...)
	sort.SliceStable(codes, func(i, j int) bool { return r.ByService[codes[i]] > r.ByService[codes[j]] })
	labelsS := make([]string, len(codes))
	values := make([]int, len(codes))
	for i, code := range codes {
		labelsS[i], values[i] = l.T("service."+code), r.ByService[code]
	}
	d.Services = render.HBars(labelsS, values)
	d.Villages = append([]domain.VillageCoverage(nil), r.Villages...)
	sort.SliceStable(d.Villages, func(i, j int) bool { return d.Villages[i].Coverage < d.Villages[j].Coverage })
}

// idle lists the teams and members with no record in the last 30 days, from
// the live rollups, so the commune leader can call them.
func (h *Handlers) idle(c *gin.Context, commune string, reg *domain.CommuneRegistry, d *dashboardData) error {
	r, err := h.Live.Rollup(c.Request.Context(), commune)
	if err != nil {
		return err
	}
	if r == nil {
		r = domain.NewRollup(commune)
	}
	from, today := h.Today().AddDays(-29), h.Today()
	teams := reg.TeamViews(func(t domain.Team) bool { return t.Active })
	leaders := map[string]domain.Member{}
	for _, m := range reg.Members {
		if m.Active && m.Position == domain.PositionLeader {
			leaders[m.TeamID] = m
		}
	}
	teamName := map[string]string{}
	for _, t := range teams {
		teamName[t.ID] = t.Name
		if r.Teams[t.ID].CountIn(from, today) == 0 {
			it := idleTeam{Team: t, Phone: leaders[t.ID].Phone}
			if a := r.Teams[t.ID]; a != nil {
				it.Last = a.Last
			}
			if v, ok := reg.Village(t.VillageCode); ok {
				it.Village = v.Name
			}
			d.IdleTeams = append(d.IdleTeams, it)
		}
	}
	for _, m := range reg.Members {
		if !m.Active || r.Members[m.ID].CountIn(from, today) > 0 {
			continue
		}
		im := idleMember{Member: m, Team: teamName[m.TeamID]}
		if a := r.Members[m.ID]; a != nil {
			im.Last = a.Last
		}
		d.IdleMembers = append(d.IdleMembers, im)
	}
	sort.SliceStable(d.IdleMembers, func(i, j int) bool { return d.IdleMembers[i].Last < d.IdleMembers[j].Last })
	return nil
}

type provinceRow struct {
	Rank    int
	Commune domain.Unit
	Row     domain.CoverageRow
	Spark   template.HTML
	Active  float64 // share of members active in 30 days
	PerTeam float64 // records in 30 days per team
}

type provinceData struct {
	Date   domain.Date
	Totals domain.CoverageRow
	Rows   []provinceRow
	Sort   string
	Runs   []domain.JobRun
}

// ProvincePage answers GET /province?sort=coverage|activity: every commune
// ranked by household coverage (or activity), the city's totals.
func (h *Handlers) ProvincePage(c *gin.Context) error {
	ctx := c.Request.Context()
	latest, err := h.Coverage.Latest(ctx, nil)
	if err != nil {
		return err
	}
	d := provinceData{Sort: c.DefaultQuery("sort", "coverage"), Totals: domain.CoverageRow{ByService: map[string]int{}}}
	for _, u := range h.Units.Find(domain.UnitFilter{Level: domain.LevelCommune, AsOf: h.Today()}) {
		cl, ok := latest[u.Code]
		if !ok {
			continue
		}
		r := cl.Row
		if r.Date > d.Date {
			d.Date = r.Date
		}
		var spark []float64
		for _, t := range cl.Trend[max(0, len(cl.Trend)-30):] {
			spark = append(spark, float64(t.Assistance))
		}
		pr := provinceRow{Commune: u, Row: r, Spark: render.Sparkline(spark, 90, 22)}
		if r.MembersTotal > 0 {
			pr.Active = float64(r.MembersActive30d) / float64(r.MembersTotal)
		}
		if r.TeamsTotal > 0 {
			pr.PerTeam = float64(r.Assistance30d) / float64(r.TeamsTotal)
		}
		d.Rows = append(d.Rows, pr)
		addRow(&d.Totals, r)
	}
	if d.Totals.HouseholdsTotal > 0 {
		d.Totals.HouseholdCoverage = float64(d.Totals.HouseholdsReached) / float64(d.Totals.HouseholdsTotal)
	}
	sort.SliceStable(d.Rows, func(i, j int) bool {
		if d.Sort == "activity" {
			return d.Rows[i].Active > d.Rows[j].Active
		}
		return d.Rows[i].Row.HouseholdCoverage > d.Rows[j].Row.HouseholdCoverage
	})
	for i := range d.Rows {
		d.Rows[i].Rank = i + 1
	}
	if d.Runs, err = h.Coverage.Runs(ctx, "coverage", 5); err != nil {
		return err
	}
	render.HTML(c, http.StatusOK, tplProvince, render.Loc(c).T("province.title"), render.Page{Data: d})
	return nil
}

func addRow(t *domain.CoverageRow, r domain.CoverageRow) {
	t.VillagesTotal += r.VillagesTotal
	t.VillagesWithTeam += r.VillagesWithTeam
	t.TeamsTotal += r.TeamsTotal
	t.TeamsActive30d += r.TeamsActive30d
	t.MembersTotal += r.MembersTotal
	t.MembersActive30d += r.MembersActive30d
	t.MembersTrained += r.MembersTrained
	t.HouseholdsTotal += r.HouseholdsTotal
	t.HouseholdsReached += r.HouseholdsReached
	t.AssistanceTotal += r.AssistanceTotal
	t.Assistance30d += r.Assistance30d
	for k, v := range r.ByService {
		t.ByService[k] += v
	}
}

// JobsPage answers GET /jobs: the coverage runs.
func (h *Handlers) JobsPage(c *gin.Context) error {
	runs, err := h.Coverage.Runs(c.Request.Context(), "coverage", 50)
	if err != nil {
		return err
	}
	render.HTML(c, http.StatusOK, tplJobs, render.Loc(c).T("jobs.title"), render.Page{Data: map[string]any{"Runs": runs}})
	return nil
}

// RunCoveragePage answers POST /jobs/coverage/run: a coverage run starts.
func (h *Handlers) RunCoveragePage(c *gin.Context) error {
	_, err := h.Jobs.StartCoverageRun(c.Request.Context(), h.Today(), c.PostForm("full") == "true")
	if errors.Is(err, domain.ErrJobRunning) {
		c.Redirect(http.StatusSeeOther, "/jobs?done=job_running")
		return nil
	}
	if err != nil {
		return err
	}
	c.Redirect(http.StatusSeeOther, "/jobs?done=job_started")
	return nil
}
