package jobs

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/hue-cdt/cdt/domain"
)

// Coverage computes every current commune's coverage figures for one day from
// the consolidated rollups (a full run first rebuilds them from one scan of
// the records) and stores them as history.
type Coverage struct {
	Units        *domain.UnitCatalog
	Registry     domain.RegistryStore
	Store        domain.CoverageStore
	Consolidator *Consolidator
	Leases       domain.LeaseStore
	// Trained lists the members who attended a training (nil: none yet).
	Trained func(ctx context.Context) (map[string]bool, error)
	Owner   string
	Now     func() time.Time
	Log     *slog.Logger
	// At is the time of day of the nightly run (Huế time; default 01:00).
	AtHour, AtMinute int
	LeaseTTL         time.Duration // default 1 min
	// Delay holds every run this long after it starts (CDT_DEBUG_JOB_DELAY,
	// for the tests of the lease; zero in production).
	Delay time.Duration
}

// CoverageJob is the job name in runs and leases.
const CoverageJob = "coverage"

// Triggers of a run.
const (
	TriggerNightly = "nightly"
	TriggerCatchUp = "catch-up"
	TriggerManual  = "manual"
)

// RunOptions choose what a run computes.
type RunOptions struct {
	Date    domain.Date // default: today (manual) or yesterday (nightly)
	Full    bool        // rebuild the rollups from the records first
	Trigger string
	Attempt int
	// SkipIf is asked while holding the lease; true means nothing to do.
	SkipIf func(ctx context.Context) (bool, error)
}

// ErrSkipped answers Begin when SkipIf said there was nothing to do.
var ErrSkipped = errors.New("jobs: nothing to do")

// Run is a started coverage run.
type Run struct {
	j    *Coverage
	held *Held
	rec  domain.JobRun
	full bool
}

// ID is the run's ID.
func (r *Run) ID() string { return r.rec.ID }

// Begin takes the job's lease, marks runs whose holder died as failed and
// records the start of a new run. It answers domain.ErrJobRunning while
// another run, anywhere, is in progress.
func (j *Coverage) Begin(ctx context.Context, o RunOptions) (*Run, error) {
	ttl := j.LeaseTTL
	if ttl == 0 {
		ttl = time.Minute
	}
	// Each run holds the lease under its own name, so that a second run in the
	// same process is refused like one in another process.
	nonce := make([]byte, 3)
	_, _ = rand.Read(nonce)
	held, err := Acquire(ctx, j.Leases, CoverageJob, j.Owner+"/"+hex.EncodeToString(nonce), ttl)
	if err != nil {
		return nil, err
	}
	if err := j.abandonOrphans(ctx); err != nil {
		held.Release(ctx)
		return nil, err
	}
	if o.SkipIf != nil {
		skip, err := o.SkipIf(ctx)
		if err != nil || skip {
			held.Release(ctx)
			if err == nil {
				err = ErrSkipped
			}
			return nil, err
		}
	}
	if o.Date == "" {
		o.Date = domain.DateOf(j.Now())
	}
	if o.Attempt == 0 {
		o.Attempt = 1
	}
	mode := "incremental"
	if o.Full {
		mode = "full"
	}
	rec := domain.JobRun{ID: newRunID(j.Now()), Job: CoverageJob, Status: domain.RunRunning, Trigger: o.Trigger, Mode: mode,
		Date: o.Date, Attempt: o.Attempt, Owner: j.Owner, StartedAt: j.Now().UTC()}
	if err := j.Store.StartRun(ctx, rec); err != nil {
		held.Release(ctx)
		return nil, err
	}
	return &Run{j: j, held: held, rec: rec, full: o.Full}, nil
}

// abandonOrphans fails the runs left "running" by a process that died: this
// process holds the lease now, so nobody else is running.
func (j *Coverage) abandonOrphans(ctx context.Context) error {
	return abandonOrphanRuns(ctx, j.Store, CoverageJob, j.Now(), j.Log)
}

// runLog is where a job's runs are recorded.
type runLog interface {
	FinishRun(ctx context.Context, r domain.JobRun) error
	Runs(ctx context.Context, job string, limit int) ([]domain.JobRun, error)
}

// abandonOrphanRuns fails job's runs left "running" by a process that died,
// as interrupted; the caller holds the job's lease, so nobody else runs it.
func abandonOrphanRuns(ctx context.Context, runs runLog, job string, now time.Time, log *slog.Logger) error {
	recent, err := runs.Runs(ctx, job, 20)
	if err != nil {
		return err
	}
	for _, r := range recent {
		if r.Status == domain.RunRunning {
			r.Status, r.FinishedAt, r.Interrupted = domain.RunFailed, now.UTC(), true
			r.Error = "abandoned: the process running it stopped before it finished"
			if err := runs.FinishRun(ctx, r); err != nil {
				return err
			}
			log.Warn(job+" run abandoned by its process", "run", r.ID, "owner", r.Owner)
		}
	}
	return nil
}

// Execute does the work of a begun run, records its outcome and releases the lease.
func (r *Run) Execute(ctx context.Context) (domain.JobRun, error) {
	runCtx, stop := r.held.Keep(ctx)
	err := r.j.compute(runCtx, &r.rec, r.full)
	if cause := context.Cause(runCtx); err != nil && cause != nil && !errors.Is(cause, context.Canceled) {
		err = fmt.Errorf("%w (%v)", err, cause)
	}
	stop()
	r.rec.FinishedAt = r.j.Now().UTC()
	r.rec.Status = domain.RunSucceeded
	// A run stopped from above (the server is stopping) is recorded as failed,
	// for API.md has no other end, but it is no fault: the next start redoes
	// the day.
	interrupted := err != nil && ctx.Err() != nil
	if err != nil {
		r.rec.Status, r.rec.Error = domain.RunFailed, err.Error()
		if interrupted {
			r.rec.Error, r.rec.Interrupted = "interrupted: the server stopped", true
		}
	}
	ferr := r.j.Store.FinishRun(context.WithoutCancel(ctx), r.rec)
	r.held.Release(ctx)
	if err == nil {
		err = ferr
	}
	level := slog.LevelInfo
	if err != nil && !interrupted {
		level = slog.LevelError
	}
	r.j.Log.Log(ctx, level, "coverage run", "run", r.rec.ID, "status", r.rec.Status, "date", r.rec.Date, "mode", r.rec.Mode,
		"trigger", r.rec.Trigger, "communes", r.rec.Communes, "ms", r.rec.FinishedAt.Sub(r.rec.StartedAt).Milliseconds(), "err", err)
	return r.rec, err
}

// RunNow begins and executes a run.
func (j *Coverage) RunNow(ctx context.Context, o RunOptions) (domain.JobRun, error) {
	r, err := j.Begin(ctx, o)
	if err != nil {
		return domain.JobRun{}, err
	}
	return r.Execute(ctx)
}

func (j *Coverage) compute(ctx context.Context, rec *domain.JobRun, full bool) error {
	phase := time.Now()
	mark := func(name string) {
		j.Log.Debug("coverage phase", "run", rec.ID, "phase", name, "ms", time.Since(phase).Milliseconds())
		phase = time.Now()
	}
	if j.Delay > 0 {
		if err := domain.Sleep(ctx, j.Delay); err != nil {
			return err
		}
	}
	// The rollups have one writer at a time: consolidate under the lease the
	// periodic consolidation uses, waiting while another process holds it.
	// Every record acknowledged before the run began is in a delta: the run
	// counts them all.
	started := j.Now()
	err := j.underConsolidationLease(ctx, func(ctx context.Context) error {
		if full {
			n, err := j.Consolidator.Rebuild(ctx, nil)
			rec.Records = n
			if err != nil {
				return err
			}
		}
		n, err := j.Consolidator.RunUntil(ctx, started)
		rec.Records += n
		return err
	})
	if err != nil {
		return err
	}
	mark("consolidate")
	rollups, err := j.Consolidator.Rollups(ctx)
	if err != nil {
		return err
	}
	mark("state")
	today := domain.DateOf(j.Now())
	communes := j.Units.Find(domain.UnitFilter{Level: domain.LevelCommune, AsOf: today})
	// Every code the rollups know, mapped to the commune it belongs to today.
	byCurrent := map[string][]string{}
	for code := range rollups {
		if now, ok := j.currentOf(code, today); ok {
			byCurrent[now] = append(byCurrent[now], code)
		}
	}
	var trained map[string]bool
	if j.Trained != nil {
		if trained, err = j.Trained(ctx); err != nil {
			return err
		}
	}
	mark("trained")
	codesNow := make([]string, len(communes))
	for i, c := range communes {
		codesNow[i] = c.Code
	}
	regs, err := j.Registry.Registries(ctx, codesNow)
	if err != nil {
		return err
	}
	mark("registries")
	rows := make([]domain.CoverageRow, 0, len(communes))
	dayCounts := map[string]int{}
	for _, c := range communes {
		reg := regs[c.Code]
		in := domain.CoverageInput{Date: rec.Date, Commune: c.Code, Registry: reg, Trained: trained}
		for _, code := range byCurrent[c.Code] {
			in.Rollups = append(in.Rollups, rollups[code])
			if dc := rollups[code].Days[rec.Date]; dc != nil {
				dayCounts[c.Code] += dc.N
			}
		}
		if codes := byCurrent[c.Code]; len(codes) > 0 {
			if in.Households, err = j.Consolidator.Households(ctx, codes, rec.Date); err != nil {
				return err
			}
		}
		rows = append(rows, domain.ComputeCoverage(in))
	}
	mark("compute")
	codes := make([]string, len(rows))
	for i, r := range rows {
		codes[i] = r.CommuneCode
	}
	old, err := j.Store.Latest(ctx, codes)
	if err != nil {
		return err
	}
	latest := make([]domain.CoverageLatest, 0, len(rows))
	for _, r := range rows {
		l := old[r.CommuneCode]
		if l.Row.Date <= r.Date {
			l.Row = r
		}
		l.Trend = domain.MergeTrend(l.Trend, domain.PointOf(r, dayCounts[r.CommuneCode]))
		latest = append(latest, l)
	}
	mark("latest")
	if err := j.Store.SaveCoverage(ctx, rec.Date, rows, latest, rec.ID); err != nil {
		return err
	}
	mark("save")
	rec.Communes = len(rows)
	return nil
}

// ConsolidateLease is the lease of the rollups' single writer.
const ConsolidateLease = "consolidate"

func (j *Coverage) underConsolidationLease(ctx context.Context, fn func(context.Context) error) error {
	ttl := j.LeaseTTL
	if ttl == 0 {
		ttl = time.Minute
	}
	return UnderLease(ctx, j.Leases, ConsolidateLease, j.Owner+"/coverage", ttl, fn)
}

// UnderLease runs fn while holding lease key, waiting while another process
// holds it.
func UnderLease(ctx context.Context, leases domain.LeaseStore, key, owner string, ttl time.Duration, fn func(context.Context) error) error {
	for {
		err := WithLease(ctx, leases, key, owner, ttl, fn)
		if !errors.Is(err, domain.ErrJobRunning) {
			return err
		}
		if err := domain.Sleep(ctx, 200*time.Millisecond); err != nil {
			return err
		}
	}
}

// currentOf maps a commune code of any period to today's commune.
func (j *Coverage) currentOf(code string, today domain.Date) (string, bool) {
	vs := j.Units.Versions(code)
	if len(vs) == 0 {
		return "", false
	}
	last := vs[len(vs)-1]
	return j.Units.Current(code, last.ValidFrom, today)
}

// NightlyDate is the day a nightly run computes at now: the day that just
// ended, once the run's time of day has passed.
func (j *Coverage) NightlyDate(now time.Time) (domain.Date, bool) {
	local := now.In(domain.Location)
	at := time.Date(local.Year(), local.Month(), local.Day(), j.AtHour, j.AtMinute, 0, 0, domain.Location)
	if local.Before(at) {
		return "", false
	}
	return domain.DateOf(now).AddDays(-1), true
}

// BackfillDays is how far back a nightly run fills days no nightly run
// computed (the server was down, or it is a new installation with records).
const BackfillDays = 35 // a month and a few days: the dashboards compare with 30 days before

// RunNightly computes the day that just ended unless a nightly run did it
// already, and the days before it that no run computed (up to BackfillDays,
// never before the first record). Each day's check is made while holding the
// lease, so two servers never compute one night twice. It reports whether it
// computed anything.
func (j *Coverage) RunNightly(ctx context.Context, trigger string, attempt int) (bool, error) {
	date, due := j.NightlyDate(j.Now())
	if !due {
		return false, nil
	}
	days, err := j.missingDays(ctx, date)
	if err != nil {
		return false, err
	}
	ran := false
	for _, d := range days {
		r, err := j.Begin(ctx, RunOptions{Date: d, Trigger: trigger, Attempt: attempt,
			SkipIf: func(ctx context.Context) (bool, error) { return j.nightlyDone(ctx, d) }})
		if errors.Is(err, ErrSkipped) {
			continue
		}
		if err != nil {
			return ran, err
		}
		if _, err := r.Execute(ctx); err != nil {
			return ran, err
		}
		ran = true
	}
	return ran, nil
}

// missingDays lists, oldest first, latest and the days before it back to the
// last nightly run, at most BackfillDays, none before the first record.
func (j *Coverage) missingDays(ctx context.Context, latest domain.Date) ([]domain.Date, error) {
	runs, err := j.Store.Runs(ctx, CoverageJob, 500)
	if err != nil {
		return nil, err
	}
	done := map[domain.Date]bool{}
	for _, r := range runs {
		if r.Status == domain.RunSucceeded && r.Trigger != TriggerManual {
			done[r.Date] = true
		}
	}
	if done[latest] {
		return nil, nil // the usual answer, without reading the rollups
	}
	first, err := j.firstDay(ctx)
	if err != nil {
		return nil, err
	}
	var days []domain.Date
	for d := latest; len(days) < BackfillDays && !done[d] && (d == latest || (first != "" && d >= first)); d = d.AddDays(-1) {
		days = append([]domain.Date{d}, days...)
	}
	return days, nil
}

// firstDay is the earliest day the rollups hold a record for ("" if none).
func (j *Coverage) firstDay(ctx context.Context) (domain.Date, error) {
	rollups, err := j.Consolidator.Rollups(ctx)
	if err != nil {
		return "", err
	}
	var first domain.Date
	for _, r := range rollups {
		for d := range r.Days {
			if first == "" || d < first {
				first = d
			}
		}
	}
	return first, nil
}

func (j *Coverage) nightlyDone(ctx context.Context, date domain.Date) (bool, error) {
	runs, err := j.Store.Runs(ctx, CoverageJob, 200)
	if err != nil {
		return false, err
	}
	for _, r := range runs {
		if r.Date == date && r.Status == domain.RunSucceeded && r.Trigger != TriggerManual {
			return true, nil
		}
	}
	return false, nil
}

func newRunID(now time.Time) string {
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	return now.UTC().Format("20060102T150405") + "-" + hex.EncodeToString(b)
}
