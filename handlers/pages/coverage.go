package pages

import (
	"errors"
	"html/template"
	"net/http"
	"sort"

	"github.com/gin-gonic/gin"

	"github.com/hue-cdt/cdt/domain"
	"github.com/hue-cdt/cdt/handlers/httpx"
	"github.com/hue-cdt/cdt/handlers/render"
)

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
	// Privacy: the citizens' data requests still open, every commune.
	Privacy []privacyRow
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
		if cl, ok := latest[u.Code]; ok {
			d.Rows = append(d.Rows, newProvinceRow(u, cl))
			d.Date = max(d.Date, cl.Row.Date)
			addRow(&d.Totals, cl.Row)
		}
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
	if d.Privacy, err = h.openPrivacy(ctx, render.Loc(c), httpx.Scope(c), ""); err != nil {
		return err
	}
	render.HTML(c, http.StatusOK, tplProvince, render.Loc(c).T("province.title"), render.Page{Data: d})
	return nil
}

// newProvinceRow is commune u's line of the province's ranking.
func newProvinceRow(u domain.Unit, cl domain.CoverageLatest) provinceRow {
	r := cl.Row
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
	return pr
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

// JobsPage answers GET /jobs: the runs of the jobs (coverage, integrity,
// the verification sample), newest first.
func (h *Handlers) JobsPage(c *gin.Context) error {
	runs, err := h.Coverage.Runs(c.Request.Context(), "", 50)
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
