package domain

import (
	"context"
	"sort"
	"time"
)

// CoverageRow is one commune's figures for one day (API.md's definitions).
// Days are calendar days in Huế; the 30-day window of a day D is D and the 29
// days before it; a team or member is active when it logged at least one
// record in the window.
type CoverageRow struct {
	CommuneCode       string
	Date              Date
	VillagesTotal     int
	VillagesWithTeam  int
	TeamsTotal        int
	TeamsActive30d    int
	MembersTotal      int
	MembersActive30d  int
	MembersTrained    int
	HouseholdsTotal   int
	HouseholdsReached int
	HouseholdCoverage float64
	AssistanceTotal   int
	Assistance30d     int
	ByService         map[string]int // in the window
	ByOutcome         map[string]int // in the window
	LateTotal         int            // records that reached the server more than a day after they occurred, ever
	Villages          []VillageCoverage
	// The active teams and members with no record in the window, from the
	// same computation as the figures above, so that a dashboard's lists
	// agree with its headline. Never null in a row computed since they exist
	// (a row read back with null lists predates them).
	IdleTeams, IdleMembers []Idle
}

// Idle is a team or member with no record in a row's window, and the day of
// its last record on or before the row's day ("" when none is known).
type Idle struct {
	ID   string
	Last Date
}

// VillageCoverage is one village's line of a commune's coverage.
type VillageCoverage struct {
	Code, Name string
	Households int
	Reached    int
	Assistance int // records ever
	HasTeam    bool
	Coverage   float64
}

// CoverageInput is what the coverage of one commune is computed from.
type CoverageInput struct {
	Date     Date
	Commune  string
	Registry *CommuneRegistry
	// Rollups of every commune code (of any period) that is part of Commune
	// today.
	Rollups []*Rollup
	// Households reached on or before Date, over every such code, a
	// household counted once.
	Households HouseholdCount
	// Trained is the set of members who attended at least one training.
	Trained map[string]bool
}

// Window returns the first and last day of the 30-day window of d.
func Window(d Date) (Date, Date) { return d.AddDays(-29), d }

// ComputeCoverage computes a commune's row for in.Date.
func ComputeCoverage(in CoverageInput) CoverageRow {
	row := CoverageRow{CommuneCode: in.Commune, Date: in.Date, ByService: map[string]int{}, ByOutcome: map[string]int{}}
	from, to := Window(in.Date)
	reg := in.Registry
	if reg == nil {
		reg = &CommuneRegistry{Code: in.Commune}
	}
	// Activity across the rollups of the commune's codes.
	memberDays := map[string]int{}
	teamDays := map[string]int{}
	memberLast, teamLast := map[string]Date{}, map[string]Date{}
	villageRecords := map[string]int{}
	for _, r := range in.Rollups {
		for day, dc := range r.Days {
			if day <= in.Date {
				row.AssistanceTotal += dc.N
			}
			if day >= from && day <= to {
				row.Assistance30d += dc.N
				for s, n := range dc.Services {
					row.ByService[s] += n
				}
				for o, n := range dc.Outcomes {
					row.ByOutcome[o] += n
				}
			}
		}
		row.AssistanceTotal += r.Before
		row.LateTotal += r.Late
		for id, a := range r.Members {
			memberDays[id] += a.CountIn(from, to)
			memberLast[id] = max(memberLast[id], lastOn(a, in.Date))
		}
		for id, a := range r.Teams {
			teamDays[id] += a.CountIn(from, to)
			teamLast[id] = max(teamLast[id], lastOn(a, in.Date))
		}
		for v, n := range r.Villages {
			villageRecords[v] += n
		}
	}
	row.HouseholdsReached = in.Households.Total
	reachedBy := in.Households.ByVillage
	// The registry as it is now.
	teamVillages := map[string]bool{}
	row.IdleTeams, row.IdleMembers = []Idle{}, []Idle{}
	for _, t := range reg.Teams {
		if !t.Active {
			continue
		}
		row.TeamsTotal++
		if teamDays[t.ID] > 0 {
			row.TeamsActive30d++
		} else {
			row.IdleTeams = append(row.IdleTeams, Idle{ID: t.ID, Last: teamLast[t.ID]})
		}
		if t.VillageCode != "" {
			teamVillages[t.VillageCode] = true
		}
	}
	for _, m := range reg.Members {
		if !m.Active {
			continue
		}
		row.MembersTotal++
		if memberDays[m.ID] > 0 {
			row.MembersActive30d++
		} else {
			row.IdleMembers = append(row.IdleMembers, Idle{ID: m.ID, Last: memberLast[m.ID]})
		}
		if in.Trained[m.ID] {
			row.MembersTrained++
		}
	}
	for _, v := range reg.Villages {
		if !v.Active {
			continue
		}
		row.VillagesTotal++
		row.HouseholdsTotal += v.Households
		if teamVillages[v.Code] {
			row.VillagesWithTeam++
		}
		vc := VillageCoverage{Code: v.Code, Name: v.Name, Households: v.Households, Reached: reachedBy[v.Code],
			Assistance: villageRecords[v.Code], HasTeam: teamVillages[v.Code]}
		vc.Coverage = ratio(vc.Reached, vc.Households)
		row.Villages = append(row.Villages, vc)
	}
	sort.Slice(row.Villages, func(i, j int) bool { return row.Villages[i].Code < row.Villages[j].Code })
	row.HouseholdCoverage = ratio(row.HouseholdsReached, row.HouseholdsTotal)
	return row
}

// lastOn is the day of a's last record on or before day: its last record, or
// the last one in its kept days when the last came later.
func lastOn(a *Activity, day Date) Date {
	if a == nil {
		return ""
	}
	if a.Last <= day {
		return a.Last
	}
	return a.Days.LastOn(day)
}

func ratio(a, b int) float64 {
	if b <= 0 {
		return 0
	}
	return float64(a) / float64(b)
}

// TrendPoint is one day of a commune's trend.
type TrendPoint struct {
	Date              Date
	Assistance        int // records that day
	Assistance30d     int
	HouseholdsReached int
	HouseholdCoverage float64
	MembersActive30d  int
	TeamsActive30d    int
}

// TrendDays is how many days a commune's trend keeps.
const TrendDays = 90

// CoverageLatest is what dashboards read: a commune's newest row, its
// villages, and the trend of its last days, in one small document.
type CoverageLatest struct {
	Row     CoverageRow
	Trend   []TrendPoint // oldest first
	Updated time.Time
	RunID   string
}

// PointOf returns the trend point of a row, with the day's own count.
func PointOf(row CoverageRow, dayCount int) TrendPoint {
	return TrendPoint{Date: row.Date, Assistance: dayCount, Assistance30d: row.Assistance30d,
		HouseholdsReached: row.HouseholdsReached, HouseholdCoverage: row.HouseholdCoverage,
		MembersActive30d: row.MembersActive30d, TeamsActive30d: row.TeamsActive30d}
}

// MergeTrend puts p into trend (replacing its day), keeps it sorted and at most
// TrendDays long ending at the newest day.
func MergeTrend(trend []TrendPoint, p TrendPoint) []TrendPoint {
	out := make([]TrendPoint, 0, len(trend)+1)
	for _, t := range trend {
		if t.Date != p.Date {
			out = append(out, t)
		}
	}
	out = append(out, p)
	sort.Slice(out, func(i, j int) bool { return out[i].Date < out[j].Date })
	if n := len(out); n > 0 {
		oldest := out[n-1].Date.AddDays(-TrendDays + 1)
		k := 0
		for k < n && out[k].Date < oldest {
			k++
		}
		out = out[k:]
	}
	return out
}

// JobRun is one run of a job, as recorded.
type JobRun struct {
	ID         string
	Job        string
	Status     string // running, succeeded, failed
	Trigger    string // nightly, manual, catch-up
	Mode       string // incremental or full
	Date       Date   // the day computed
	Attempt    int
	Owner      string // the process that ran it
	StartedAt  time.Time
	FinishedAt time.Time
	Communes   int
	Records    int
	Error      string
	// Interrupted marks a failed run that was stopped, not broken: its
	// server stopped (or died) before it finished; the day is redone.
	Interrupted bool
}

// Job run statuses.
const (
	RunRunning   = "running"
	RunSucceeded = "succeeded"
	RunFailed    = "failed"
)

// CoverageStore persists coverage figures and job runs.
type CoverageStore interface {
	SaveCoverage(ctx context.Context, date Date, rows []CoverageRow, latest []CoverageLatest, runID string) error
	// Latest returns the latest figures of communes (all when nil).
	Latest(ctx context.Context, communes []string) (map[string]CoverageLatest, error)
	// Day returns the rows computed for date (ErrNotFound if none).
	Day(ctx context.Context, date Date) ([]CoverageRow, error)
	// History returns a commune's rows for days [from, to], oldest first.
	History(ctx context.Context, commune string, from, to Date) ([]CoverageRow, error)

	StartRun(ctx context.Context, r JobRun) error
	FinishRun(ctx context.Context, r JobRun) error
	Runs(ctx context.Context, job string, limit int) ([]JobRun, error)
}
