package handlers

import (
	"context"
	"net/http"
	"sort"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/hue-cdt/cdt/domain"
)

// JobStarter starts a coverage run in the background and answers its ID;
// domain.ErrJobRunning while a run is in progress anywhere.
type JobStarter interface {
	StartCoverageRun(ctx context.Context, date domain.Date, full bool) (string, error)
}

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

func (s *Server) viewCoverage(r domain.CoverageRow) coverageView {
	u, _ := s.d.Units.Get(r.CommuneCode, s.today())
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

// coverageScope returns the communes whose coverage the caller may read (nil: all).
func coverageScope(sc domain.Scope) ([]string, error) {
	switch {
	case sc.Admin():
		return nil, nil
	case sc.Caller.Role == domain.RoleCommuneLeader:
		return []string{sc.Caller.CommuneCode}, nil
	}
	return nil, domain.ErrForbidden
}

// coverageRows returns the rows of date ("" = the latest of each commune) in scope.
func (s *Server) coverageRows(ctx context.Context, sc domain.Scope, date domain.Date) ([]domain.CoverageRow, error) {
	communes, err := coverageScope(sc)
	if err != nil {
		return nil, err
	}
	var rows []domain.CoverageRow
	if date == "" {
		latest, err := s.d.Coverage.Latest(ctx, communes)
		if err != nil {
			return nil, err
		}
		for _, l := range latest {
			rows = append(rows, l.Row)
		}
	} else {
		all, err := s.d.Coverage.Day(ctx, date)
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

func (s *Server) writeCoverage(c *gin.Context, rows []domain.CoverageRow) {
	items := make([]coverageView, len(rows))
	for i, r := range rows {
		items[i] = s.viewCoverage(r)
	}
	c.JSON(http.StatusOK, gin.H{"items": items})
}

// listCoverage answers GET /coverage/communes?date=.
func (s *Server) listCoverage(c *gin.Context) error {
	date, err := queryDate(c, "date")
	if err != nil {
		return err
	}
	rows, err := s.coverageRows(c.Request.Context(), scope(c), date)
	if err != nil {
		return err
	}
	s.writeCoverage(c, rows)
	return nil
}

// coverageHistory answers GET /coverage/communes/{code}/history?from&to
// (default: the last 90 days).
func (s *Server) coverageHistory(c *gin.Context) error {
	code := c.Param("code")
	if err := scope(c).ReadCommune(code); err != nil {
		return err
	}
	if _, ok := s.currentCommune(code); !ok {
		return domain.ErrNotFound
	}
	from, err := queryDate(c, "from")
	if err != nil {
		return err
	}
	to, err := queryDate(c, "to")
	if err != nil {
		return err
	}
	if to == "" {
		to = s.today()
	}
	if from == "" {
		from = to.AddDays(-domain.TrendDays + 1)
	}
	if from > to || domain.DaysBetween(from, to) > 3660 {
		return domain.Invalid("from", "date_range", string(from)+"–"+string(to))
	}
	rows, err := s.d.Coverage.History(c.Request.Context(), code, from, to)
	if err != nil {
		return err
	}
	s.writeCoverage(c, rows)
	return nil
}

type runRequest struct {
	Date string `json:"date"`
	Full bool   `json:"full"`
}

// runCoverage answers POST /jobs/coverage/run (province admins): 202 with the
// run's ID, 409 job_running while a run is in progress.
func (s *Server) runCoverage(c *gin.Context) error {
	if !scope(c).Admin() {
		return domain.ErrForbidden
	}
	var req runRequest
	if c.Request.ContentLength > 0 {
		if err := decode(c, &req, maxBody); err != nil {
			return err
		}
	}
	date := s.today()
	if req.Date != "" {
		d, ok := domain.ParseDate(req.Date)
		if !ok || d > s.today() {
			return domain.Invalid("date", "date")
		}
		date = d
	}
	id, err := s.d.Jobs.StartCoverageRun(c.Request.Context(), date, req.Full)
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
}

func viewRun(r domain.JobRun) runView {
	v := runView{RunID: r.ID, Job: r.Job, Status: r.Status, Trigger: r.Trigger, Mode: r.Mode, Date: string(r.Date),
		Attempt: r.Attempt, Owner: r.Owner, StartedAt: r.StartedAt, Communes: r.Communes, Records: r.Records, Error: ptr(r.Error)}
	if !r.FinishedAt.IsZero() && r.Status != domain.RunRunning {
		f := r.FinishedAt
		d := f.Sub(r.StartedAt).Milliseconds()
		v.FinishedAt, v.DurationMS = &f, &d
	}
	return v
}

// listRuns answers GET /jobs/runs?job=coverage (province admins).
func (s *Server) listRuns(c *gin.Context) error {
	if !scope(c).Admin() {
		return domain.ErrForbidden
	}
	limit, err := queryInt(c, "limit")
	if err != nil {
		return err
	}
	if limit == 0 {
		limit = 50
	}
	runs, err := s.d.Coverage.Runs(c.Request.Context(), c.Query("job"), min(limit, 200))
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
