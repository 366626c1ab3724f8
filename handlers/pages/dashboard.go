package pages

import (
	"html/template"
	"net/http"
	"sort"

	"github.com/gin-gonic/gin"

	"github.com/hue-cdt/cdt/domain"
	"github.com/hue-cdt/cdt/handlers/core"
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
	Integrity   core.IntegritySummary
	Rates       []rateLine
	Privacy     []privacyRow // citizens' data requests still open
}

// DashboardPage answers GET /communes/{code}/dashboard: a commune's figures
// as the latest coverage run computed them (403 for a commune the caller does
// not read): headline, charts, villages and the idle teams and members, all
// of one computation, labelled with its day.
func (h *Handlers) DashboardPage(c *gin.Context) error {
	u, reg, err := h.managedCommune(c, c.Param("code"))
	if err != nil {
		return err
	}
	ctx := c.Request.Context()
	l := render.Loc(c)
	d := dashboardData{Commune: u, Admin: httpx.Scope(c).Admin()}
	if d.Integrity, d.Rates, err = h.integrityOf(c, u.Code); err != nil {
		return err
	}
	if d.Privacy, err = h.openPrivacy(ctx, l, httpx.Scope(c), u.Code); err != nil {
		return err
	}
	latest, err := h.Coverage.Latest(ctx, []string{u.Code})
	if err != nil {
		return err
	}
	if cl, ok := latest[u.Code]; ok {
		d.Latest = &cl
		fillDashboard(l, &d, cl)
		if err := h.idle(c, cl.Row, reg, &d); err != nil {
			return err
		}
	}
	render.HTML(c, http.StatusOK, tplDashboard, u.Name, render.Page{Data: d})
	return nil
}

// fillDashboard sets the figures, charts and lists of the latest coverage.
func fillDashboard(l *i18n.Localizer, d *dashboardData, cl domain.CoverageLatest) {
	r := cl.Row
	d.Headlines = headlines(l, r, monthBefore(cl))
	labels := make([]string, len(cl.Trend))
	daily := make([]float64, len(cl.Trend))
	cov := make([]float64, len(cl.Trend))
	for i, t := range cl.Trend {
		labels[i], daily[i], cov[i] = render.FormatDay(l.Lang(), t.Date), float64(t.Assistance), t.HouseholdCoverage*100
	}
	d.Daily = render.Bars(render.BarSeries{Labels: labels, Values: daily, Line: render.MovingAverage(daily, 7), Title: l.T("dash.daily"), Lang: l.Lang()})
	d.Coverage = render.Bars(render.BarSeries{Labels: labels, Values: cov, Title: l.T("cov.coverage"), Percent: true, Lang: l.Lang()})
	n := len(cl.Trend)
	d.DailyTable = append([]domain.TrendPoint(nil), cl.Trend[max(0, n-7):]...)
	codes := append([]string(nil), domain.Services...)
	sort.SliceStable(codes, func(i, j int) bool { return r.ByService[codes[i]] > r.ByService[codes[j]] })
	names := make([]string, len(codes))
	values := make([]int, len(codes))
	for i, code := range codes {
		names[i], values[i] = l.T("service."+code), r.ByService[code]
	}
	d.Services = render.HBars(names, values)
	d.Villages = append([]domain.VillageCoverage(nil), r.Villages...)
	sort.SliceStable(d.Villages, func(i, j int) bool { return d.Villages[i].Coverage < d.Villages[j].Coverage })
}

// monthBefore is the last day of the trend at least 30 days before the
// latest figures (nil when the trend is shorter).
func monthBefore(cl domain.CoverageLatest) *domain.TrendPoint {
	var prev *domain.TrendPoint
	monthAgo := cl.Row.Date.AddDays(-30)
	for i := range cl.Trend {
		if cl.Trend[i].Date <= monthAgo {
			prev = &cl.Trend[i]
		}
	}
	return prev
}

// headlines are the dashboard's figures, with their change since prev.
func headlines(l *i18n.Localizer, r domain.CoverageRow, prev *domain.TrendPoint) []headline {
	var p domain.TrendPoint
	if prev != nil {
		p = *prev
	}
	h := func(label, value, of string, now, then float64, percent bool) headline {
		hl := headline{Label: l.T(label), Value: value, Of: of}
		if prev == nil {
			return hl
		}
		diff := now - then
		hl.Delta, hl.Up, hl.Down = render.Signed(l.Lang(), int(diff)), diff > 0, diff < 0
		if percent {
			hl.Delta = render.Points(l, diff)
		}
		return hl
	}
	n := func(v int) string { return render.Num(l.Lang(), v) }
	of := func(total int) string { return l.T("dash.of", "N", n(total)) }
	return []headline{
		h("cov.coverage", render.Pct(l.Lang(), r.HouseholdCoverage), l.T("dash.of_households", "N", n(r.HouseholdsTotal)),
			r.HouseholdCoverage, p.HouseholdCoverage, true),
		h("cov.households_reached", n(r.HouseholdsReached), "", float64(r.HouseholdsReached), float64(p.HouseholdsReached), false),
		h("cov.assistance_30d", n(r.Assistance30d), "", float64(r.Assistance30d), float64(p.Assistance30d), false),
		h("cov.members_active", n(r.MembersActive30d), of(r.MembersTotal), float64(r.MembersActive30d), float64(p.MembersActive30d), false),
		h("cov.teams_active", n(r.TeamsActive30d), of(r.TeamsTotal), float64(r.TeamsActive30d), float64(p.TeamsActive30d), false),
		{Label: l.T("stat.villages_with_team"), Value: n(r.VillagesWithTeam), Of: of(r.VillagesTotal)},
		{Label: l.T("cov.members_trained"), Value: n(r.MembersTrained), Of: of(r.MembersTotal)},
		{Label: l.T("cov.assistance_total"), Value: n(r.AssistanceTotal)},
	}
}

// idle lists the teams and members with no record in the window of row, as
// the run that computed row found them; names and phones are the registry's.
// A row computed before runs kept these lists is matched by a count from the
// rollups over the same window.
func (h *Handlers) idle(c *gin.Context, row domain.CoverageRow, reg *domain.CommuneRegistry, d *dashboardData) error {
	teams, members := row.IdleTeams, row.IdleMembers
	if teams == nil || members == nil {
		var err error
		if teams, members, err = h.idleFromRollups(c, row, reg); err != nil {
			return err
		}
	}
	views := map[string]domain.TeamView{}
	for _, t := range reg.TeamViews(nil) {
		views[t.ID] = t
	}
	leaders := map[string]domain.Member{}
	for _, m := range reg.Members {
		if m.Active && m.Position == domain.PositionLeader {
			leaders[m.TeamID] = m
		}
	}
	for _, it := range teams {
		t, ok := views[it.ID]
		if !ok {
			t = domain.TeamView{Team: domain.Team{ID: it.ID, Name: it.ID}}
		}
		idle := idleTeam{Team: t, Last: it.Last, Phone: leaders[it.ID].Phone}
		if v, ok := reg.Village(t.VillageCode); ok {
			idle.Village = v.Name
		}
		d.IdleTeams = append(d.IdleTeams, idle)
	}
	for _, it := range members {
		m, ok := reg.Member(it.ID)
		if !ok {
			m = domain.Member{ID: it.ID, FullName: it.ID}
		}
		d.IdleMembers = append(d.IdleMembers, idleMember{Member: m, Team: views[m.TeamID].Name, Last: it.Last})
	}
	sort.SliceStable(d.IdleMembers, func(i, j int) bool { return d.IdleMembers[i].Last < d.IdleMembers[j].Last })
	return nil
}

// idleFromRollups counts the idle teams and members of row's window from the
// live rollups, for a row that does not list them.
func (h *Handlers) idleFromRollups(c *gin.Context, row domain.CoverageRow, reg *domain.CommuneRegistry) (teams, members []domain.Idle, err error) {
	r, err := h.Live.Rollup(c.Request.Context(), row.CommuneCode)
	if err != nil {
		return nil, nil, err
	}
	if r == nil {
		r = domain.NewRollup(row.CommuneCode)
	}
	from, to := domain.Window(row.Date)
	for _, t := range reg.Teams {
		if t.Active && r.Teams[t.ID].CountIn(from, to) == 0 {
			teams = append(teams, domain.Idle{ID: t.ID, Last: lastOf(r.Teams[t.ID])})
		}
	}
	for _, m := range reg.Members {
		if m.Active && r.Members[m.ID].CountIn(from, to) == 0 {
			members = append(members, domain.Idle{ID: m.ID, Last: lastOf(r.Members[m.ID])})
		}
	}
	return teams, members, nil
}

func lastOf(a *domain.Activity) domain.Date {
	if a == nil {
		return ""
	}
	return a.Last
}
