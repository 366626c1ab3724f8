package pages

import (
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
