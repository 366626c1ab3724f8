package api

import (
	"context"
	"net/http"
	"sort"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/hue-cdt/cdt/domain"
	"github.com/hue-cdt/cdt/handlers/httpx"
)

type coverageView struct {
	CommuneCode       string         `json:"commune_code"`
	CommuneName       string         `json:"commune_name"`
	Date              string         `json:"date"`
	VillagesTotal     int            `json:"villages_total"`
	VillagesWithTeam  int            `json:"villages_with_team"`
	TeamsTotal        int            `json:"teams_total"`
	TeamsActive30d    int            `json:"teams_active_30d"`
	MembersTotal      int            `json:"members_total"`
	MembersActive30d  int            `json:"members_active_30d"`
	MembersTrained    int            `json:"members_trained"`
	HouseholdsTotal   int            `json:"households_total"`
	HouseholdsReached int            `json:"households_reached"`
	HouseholdCoverage float64        `json:"household_coverage"`
	AssistanceTotal   int            `json:"assistance_total"`
	Assistance30d     int            `json:"assistance_30d"`
	ByService         map[string]int `json:"by_service"`
	ByOutcome         map[string]int `json:"by_outcome"`
}

func (h *Handlers) viewCoverage(r domain.CoverageRow) coverageView {
	u, _ := h.Units.Get(r.CommuneCode, h.Today())
	bs := map[string]int{}
	for _, code := range domain.Services { // every service, zeros included
		bs[code] = r.ByService[code]
	}
	return coverageView{CommuneCode: r.CommuneCode, CommuneName: u.Name, Date: string(r.Date), VillagesTotal: r.VillagesTotal,
		VillagesWithTeam: r.VillagesWithTeam, TeamsTotal: r.TeamsTotal, TeamsActive30d: r.TeamsActive30d,
		MembersTotal: r.MembersTotal, MembersActive30d: r.MembersActive30d, MembersTrained: r.MembersTrained,
		HouseholdsTotal: r.HouseholdsTotal, HouseholdsReached: r.HouseholdsReached, HouseholdCoverage: r.HouseholdCoverage,
		AssistanceTotal: r.AssistanceTotal, Assistance30d: r.Assistance30d, ByService: bs, ByOutcome: r.ByOutcome}
}

// coverageRows returns the rows of date ("" = the latest of each commune) in
// sc's scope (Scope.Coverage).
func (h *Handlers) coverageRows(ctx context.Context, sc domain.Scope, date domain.Date) ([]domain.CoverageRow, error) {
	communes, err := sc.Coverage()
	if err != nil {
		return nil, err
	}
	var rows []domain.CoverageRow
	if date == "" {
		latest, err := h.Coverage.Latest(ctx, communes)
		if err != nil {
			return nil, err
		}
		for _, l := range latest {
			rows = append(rows, l.Row)
		}
	} else {
		all, err := h.Coverage.Day(ctx, date)
		if err != nil {
			return nil, err
		}
		keep := map[string]bool{}
		for _, c := range communes {
			keep[c] = true
		}
		for _, r := range all {
			if communes == nil || keep[r.CommuneCode] {
				rows = append(rows, r)
			}
		}
	}
	sort.Slice(rows, func(i, j int) bool { return rows[i].CommuneCode < rows[j].CommuneCode })
	return rows, nil
}

func (h *Handlers) writeCoverage(c *gin.Context, rows []domain.CoverageRow) {
	items := make([]coverageView, len(rows))
	for i, r := range rows {
		items[i] = h.viewCoverage(r)
	}
	c.JSON(http.StatusOK, gin.H{"items": items})
}

// ListCoverage answers GET /coverage/communes?date=.
func (h *Handlers) ListCoverage(c *gin.Context) error {
	date, err := httpx.QueryDate(c, "date")
	if err != nil {
		return err
	}
	rows, err := h.coverageRows(c.Request.Context(), httpx.Scope(c), date)
	if err != nil {
		return err
	}
	h.writeCoverage(c, rows)
	return nil
}

// CoverageHistory answers GET /coverage/communes/{code}/history?from&to
// (default: the last 90 days) of a commune the caller reads (403 for another).
func (h *Handlers) CoverageHistory(c *gin.Context) error {
	code := c.Param("code")
	if err := httpx.Scope(c).ReadCommune(code); err != nil {
		return err
	}
	if _, ok := h.Commune(code); !ok {
		return domain.ErrNotFound
	}
	from, err := httpx.QueryDate(c, "from")
	if err != nil {
		return err
	}
	to, err := httpx.QueryDate(c, "to")
	if err != nil {
		return err
	}
	if to == "" {
		to = h.Today()
	}
	if from == "" {
		from = to.AddDays(-domain.TrendDays + 1)
	}
	if from > to || domain.DaysBetween(from, to) > 3660 {
		return domain.Invalid("from", "date_range", string(from)+"–"+string(to))
	}
	rows, err := h.Coverage.History(c.Request.Context(), code, from, to)
	if err != nil {
		return err
	}
	h.writeCoverage(c, rows)
	return nil
}

type runRequest struct {
	Date string `json:"date"`
	Full bool   `json:"full"`
}

// RunCoverage answers POST /jobs/coverage/run: 202 with the run's ID, 409
// job_running while a run is in progress.
func (h *Handlers) RunCoverage(c *gin.Context) error {
	var req runRequest
	if c.Request.ContentLength > 0 {
		if err := httpx.Decode(c, &req, httpx.MaxBody); err != nil {
			return err
		}
	}
	date := h.Today()
	if req.Date != "" {
		d, ok := domain.ParseDate(req.Date)
		if !ok || d > h.Today() {
			return domain.Invalid("date", "date")
		}
		date = d
	}
	id, err := h.Jobs.StartCoverageRun(c.Request.Context(), date, req.Full)
	if err != nil {
		return err
	}
	c.JSON(http.StatusAccepted, gin.H{"run_id": id})
	return nil
}

type runView struct {
	RunID      string     `json:"run_id"`
	Job        string     `json:"job"`
	Status     string     `json:"status"`
	Trigger    string     `json:"trigger"`
	Mode       string     `json:"mode"`
	Date       string     `json:"date"`
	Attempt    int        `json:"attempt"`
	Owner      string     `json:"owner"`
	StartedAt  time.Time  `json:"started_at"`
	FinishedAt *time.Time `json:"finished_at"`
	DurationMS *int64     `json:"duration_ms"`
	Communes   int        `json:"communes"`
	Records    int        `json:"records"`
	Error      *string    `json:"error"`
	// Interrupted is true for a failed run cut short by its server's stop.
	Interrupted bool `json:"interrupted"`
}

func viewRun(r domain.JobRun) runView {
	v := runView{RunID: r.ID, Job: r.Job, Status: r.Status, Trigger: r.Trigger, Mode: r.Mode, Date: string(r.Date),
		Attempt: r.Attempt, Owner: r.Owner, StartedAt: r.StartedAt, Communes: r.Communes, Records: r.Records, Error: ptr(r.Error),
		Interrupted: r.Interrupted}
	if !r.FinishedAt.IsZero() && r.Status != domain.RunRunning {
		f := r.FinishedAt
		d := f.Sub(r.StartedAt).Milliseconds()
		v.FinishedAt, v.DurationMS = &f, &d
	}
	return v
}

// ListRuns answers GET /jobs/runs?job=coverage&limit=.
func (h *Handlers) ListRuns(c *gin.Context) error {
	limit, err := httpx.QueryInt(c, "limit")
	if err != nil {
		return err
	}
	if limit == 0 {
		limit = 50
	}
	runs, err := h.Coverage.Runs(c.Request.Context(), c.Query("job"), min(limit, 200))
	if err != nil {
		return err
	}
	items := make([]runView, len(runs))
	for i, r := range runs {
		items[i] = viewRun(r)
	}
	c.JSON(http.StatusOK, gin.H{"items": items})
	return nil
}
