package app

import (
	"context"
	"errors"
	"time"

	"github.com/hue-cdt/cdt/domain"
	"github.com/hue-cdt/cdt/handlers/core"
	"github.com/hue-cdt/cdt/jobs"
)

// newIntegrity builds the integrity job (issue 12) on the stores: the
// day's records come from the record lists (domain.RecordStream.DayRecords)
// where the store has them, else from pages of the records by commune and
// time.
func (a *App) newIntegrity() *jobs.Integrity {
	st := a.Store
	var reader jobs.DayReader
	if r, ok := any(a.Live).(jobs.DayReader); ok {
		reader = r
	} else if f, ok := any(st.Assistance).(recordFinder); ok {
		reader = dayPages{f}
	}
	return &jobs.Integrity{Units: a.Units, Registry: st.Registry, Records: reader, Rollups: a.Live, Trainings: st.Trainings,
		Flags: st.Integrity, Verify: st.Integrity, Exclude: a.excludeRecord(), Runs: st.Coverage, Leases: st.Leases,
		Thresholds: a.Cfg.Integrity, Owner: a.Process, Now: a.Cfg.Now, Log: a.Log, LeaseTTL: a.Cfg.JobLeaseTTL}
}

// integrityDeps are the HTTP layer's collaborators of the review queue and
// the verification loop.
func (a *App) integrityDeps() core.Integrity {
	return core.Integrity{Flags: a.Store.Integrity, Verifications: a.Store.Integrity, Exclude: a.excludeRecord(),
		ExcludeFlagged: jobs.ExcludeFlagged}
}

// excludeRecord takes a record out of the figures (domain.RecordCare):
// its lists, rollups and households at once, the coverage figures from the
// next run.
func (a *App) excludeRecord() func(ctx context.Context, id, reason string) error {
	return func(ctx context.Context, id, reason string) error {
		return a.RecordCare().ExcludeRecord(ctx, id, reason)
	}
}

// integrityNightly flags the day that ended, once the nightly coverage is
// due (the integrity run follows the coverage run), and draws the week's
// verification sample once a week. Runs in progress elsewhere are left
// to finish there.
func (a *App) integrityNightly(ctx context.Context, trigger string) error {
	if _, due := a.Coverage.NightlyDate(a.Cfg.Now()); !due {
		return nil
	}
	for _, j := range []struct {
		name string
		run  func(context.Context, string) (bool, error)
	}{{jobs.IntegrityJob, a.Integrity.RunNightly}, {jobs.SampleJob, a.Integrity.RunSample}} {
		start := time.Now()
		ran, err := j.run(ctx, trigger)
		if errors.Is(err, domain.ErrJobRunning) {
			continue
		}
		if ran || err != nil {
			a.Metrics.Job(j.name, time.Since(start), err) // beside the scheduler's own names
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// recordFinder is the records' own paged search.
type recordFinder interface {
	FindRecords(ctx context.Context, f domain.RecordFilter) ([]domain.Record, string, error)
}

// dayPages reads a commune's day as pages of its records by time.
type dayPages struct{ f recordFinder }

func (p dayPages) DayRecords(ctx context.Context, commune string, day domain.Date, fn func(domain.Record) error) error {
	f := domain.RecordFilter{CommuneCode: commune, From: day.Time(), To: day.Next().Time(), Limit: 1000}
	for {
		recs, next, err := p.f.FindRecords(ctx, f)
		if err != nil {
			return err
		}
		for _, r := range recs {
			if err := fn(r); err != nil {
				return err
			}
		}
		if next == "" {
			return nil
		}
		f.After = next
	}
}

// IntegrityBench is one measurement of cdt bench integrity.
type IntegrityBench struct {
	Day      domain.Date
	Records  int           // the day's records
	Plain    time.Duration // one plain read of every commune's day
	Job      time.Duration // one integrity run of the day
	Flags    int           // flags stored for the day
	Communes int
}

// BenchIntegrity measures the integrity run of day against a plain read of
// the same day's records (every commune's DayRecords, nothing else): the
// best of rounds of each, alternated so that neither profits from a cache
// warmed by the other alone.
func (a *App) BenchIntegrity(ctx context.Context, day domain.Date, rounds int) (IntegrityBench, error) {
	b := IntegrityBench{Day: day}
	codes := a.Units.Find(domain.UnitFilter{Level: domain.LevelCommune, AsOf: day})
	b.Communes = len(codes)
	for i := range max(rounds, 1) {
		start := time.Now()
		n := 0
		for _, c := range codes {
			if err := a.Integrity.Records.DayRecords(ctx, c.Code, day, func(domain.Record) error { n++; return nil }); err != nil {
				return b, err
			}
		}
		if d := time.Since(start); i == 0 || d < b.Plain {
			b.Plain = d
		}
		b.Records = n
		start = time.Now()
		if _, err := a.Integrity.RunDay(ctx, day, jobs.TriggerManual); err != nil {
			return b, err
		}
		if d := time.Since(start); i == 0 || d < b.Job {
			b.Job = d
		}
	}
	flags, _, err := a.Store.Integrity.FindFlags(ctx, domain.FlagFilter{From: day, To: day})
	b.Flags = len(flags)
	return b, err
}
