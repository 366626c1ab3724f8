package handlers

import (
	"errors"
	"fmt"
	"html/template"
	"net/http"
	"sort"

	"github.com/gin-gonic/gin"

	"github.com/hue-cdt/cdt/domain"
	"github.com/hue-cdt/cdt/handlers/httpx"
	"github.com/hue-cdt/cdt/i18n"
)

const (
	tplDashboard = "dashboard.html"
	tplProvince  = "province.html"
	tplJobs      = "jobs.html"
)

func init() {
	extraPages = append(extraPages, tplDashboard, tplProvince, tplJobs)
	extraPageRoutes = append(extraPageRoutes, func(s *Server, g *gin.RouterGroup) {
		g.GET("/communes/:code/dashboard", s.page(s.dashboardPage))
		g.GET("/province", s.page(s.provincePage))
		g.GET("/jobs", s.page(s.jobsPage))
		g.POST("/jobs/coverage/run", s.page(s.runCoveragePage))
		g.GET("/exports/coverage.csv", httpx.JSON(s.api.ExportCSV).Func())
		g.GET("/exports/coverage.xlsx", httpx.JSON(s.api.ExportXLSX).Func())
	})
	homeProvince = "/province"
	homeCommune = func(code string) string { return "/communes/" + code + "/dashboard" }
}

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
	Services    []hbar
	Villages    []domain.VillageCoverage
	IdleTeams   []idleTeam
	IdleMembers []idleMember
	Admin       bool
}

func (s *Server) dashboardPage(c *gin.Context) error {
	u, reg, err := s.managedCommune(c, c.Param("code"))
	if err != nil {
		return err
	}
	ctx := c.Request.Context()
	l := loc(c)
	d := dashboardData{Commune: u, Admin: scope(c).Admin()}
	latest, err := s.d.Coverage.Latest(ctx, []string{u.Code})
	if err != nil {
		return err
	}
	if cl, ok := latest[u.Code]; ok {
		d.Latest = &cl
		s.fillDashboard(l, &d, cl)
	}
	if err := s.idle(c, u.Code, reg, &d); err != nil {
		return err
	}
	s.render(c, http.StatusOK, tplDashboard, u.Name, pageData{Data: d})
	return nil
}

func (s *Server) fillDashboard(l *i18n.Localizer, d *dashboardData, cl domain.CoverageLatest) {
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
		h("cov.coverage", formatPct(r.HouseholdCoverage), l.T("dash.of_households", "N", formatInt(r.HouseholdsTotal)),
			r.HouseholdCoverage, p.HouseholdCoverage, true),
		h("cov.households_reached", formatInt(r.HouseholdsReached), "", float64(r.HouseholdsReached), float64(p.HouseholdsReached), false),
		h("cov.assistance_30d", formatInt(r.Assistance30d), "", float64(r.Assistance30d), float64(p.Assistance30d), false),
		h("cov.members_active", formatInt(r.MembersActive30d), l.T("dash.of", "N", formatInt(r.MembersTotal)),
			float64(r.MembersActive30d), float64(p.MembersActive30d), false),
		h("cov.teams_active", formatInt(r.TeamsActive30d), l.T("dash.of", "N", formatInt(r.TeamsTotal)),
			float64(r.TeamsActive30d), float64(p.TeamsActive30d), false),
		{Label: l.T("stat.villages_with_team"), Value: formatInt(r.VillagesWithTeam), Of: l.T("dash.of", "N", formatInt(r.VillagesTotal))},
		{Label: l.T("cov.members_trained"), Value: formatInt(r.MembersTrained), Of: l.T("dash.of", "N", formatInt(r.MembersTotal))},
		{Label: l.T("cov.assistance_total"), Value: formatInt(r.AssistanceTotal)},
	}
	labels := make([]string, len(cl.Trend))
	daily := make([]float64, len(cl.Trend))
	cov := make([]float64, len(cl.Trend))
	for i, t := range cl.Trend {
		labels[i], daily[i], cov[i] = string(t.Date), float64(t.Assistance), t.HouseholdCoverage*100
	}
	d.Daily = bars(barSeries{Labels: labels, Values: daily, Line: movingAverage(daily, 7), Title: l.T("dash.daily")})
	d.Coverage = bars(barSeries{Labels: labels, Values: cov, Title: l.T("cov.coverage"), Unit: " %"})
	n := len(cl.Trend)
	d.DailyTable = append([]domain.TrendPoint(nil), cl.Trend[max(0, n-7):]...)
	codes := append([]string(nil), domain.Services...)
	sort.SliceStable(codes, func(i, j int) bool { return r.ByService[codes[i]] > r.ByService[codes[j]] })
	labelsS := make([]string, len(codes))
	values := make([]int, len(codes))
	for i, code := range codes {
		labelsS[i], values[i] = l.T("service."+code), r.ByService[code]
	}
	d.Services = hbars(labelsS, values)
	d.Villages = append([]domain.VillageCoverage(nil), r.Villages...)
	sort.SliceStable(d.Villages, func(i, j int) bool { return d.Villages[i].Coverage < d.Villages[j].Coverage })
}

// idle lists the teams and members with no record in the last 30 days, from
// the live rollups, so the commune leader can call them.
func (s *Server) idle(c *gin.Context, commune string, reg *domain.CommuneRegistry, d *dashboardData) error {
	r, err := s.d.Live.Rollup(c.Request.Context(), commune)
	if err != nil {
		return err
	}
	if r == nil {
		r = domain.NewRollup(commune)
	}
	from, today := s.today().AddDays(-29), s.today()
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

// provincePage ranks every commune by household coverage (or activity).
func (s *Server) provincePage(c *gin.Context) error {
	if !scope(c).Admin() {
		return domain.ErrNotFound
	}
	ctx := c.Request.Context()
	latest, err := s.d.Coverage.Latest(ctx, nil)
	if err != nil {
		return err
	}
	d := provinceData{Sort: c.DefaultQuery("sort", "coverage"), Totals: domain.CoverageRow{ByService: map[string]int{}}}
	for _, u := range s.d.Units.Find(domain.UnitFilter{Level: domain.LevelCommune, AsOf: s.today()}) {
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
		pr := provinceRow{Commune: u, Row: r, Spark: sparkline(spark, 90, 22)}
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
	if d.Runs, err = s.d.Coverage.Runs(ctx, "coverage", 5); err != nil {
		return err
	}
	s.render(c, http.StatusOK, tplProvince, loc(c).T("province.title"), pageData{Data: d})
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

// jobsPage lists the coverage runs (province admins).
func (s *Server) jobsPage(c *gin.Context) error {
	if !scope(c).Admin() {
		return domain.ErrNotFound
	}
	runs, err := s.d.Coverage.Runs(c.Request.Context(), "coverage", 50)
	if err != nil {
		return err
	}
	s.render(c, http.StatusOK, tplJobs, loc(c).T("jobs.title"), pageData{Data: map[string]any{"Runs": runs}})
	return nil
}

// runCoveragePage starts a coverage run from the jobs page.
func (s *Server) runCoveragePage(c *gin.Context) error {
	if !scope(c).Admin() {
		return domain.ErrNotFound
	}
	_, err := s.d.Jobs.StartCoverageRun(c.Request.Context(), s.today(), c.PostForm("full") == "true")
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
