package jobs

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"time"

	"github.com/hue-cdt/cdt/domain"
)

// DayReader reads one commune's records of one day, newest first, with every
// stored field (domain.RecordStream.DayRecords).
type DayReader interface {
	DayRecords(ctx context.Context, commune string, day domain.Date, fn func(domain.Record) error) error
}

// SpanReader reads one commune's records that occurred in [from, to),
// newest first, with every stored field: the day and the evening before it
// in one read of the commune's list (ingest.Live.SpanRecords).
type SpanReader interface {
	SpanRecords(ctx context.Context, commune string, from, to time.Time, fn func(domain.Record) error) error
}

// RollupReader gives a commune's rollup (ingest.Live.Rollup): the
// per-member per-day counts that member_above_median compares with.
type RollupReader interface {
	Rollup(ctx context.Context, commune string) (*domain.Rollup, error)
}

// TrainingReader gives the trainings whose hours overlap [from, to).
type TrainingReader interface {
	TrainingsBetween(ctx context.Context, from, to time.Time) ([]domain.Training, error)
}

// Integrity flags, for one day, the records that suggest padding or errors
// (domain.DetectIntegrity, issue 12): it reads each commune's records of the
// day once (and the last evening hours of the day before, so that a night
// across midnight is judged whole), runs the detectors, and stores the flags
// with their evidence. A re-run of a day replaces what it found (the flags'
// IDs are natural keys) and keeps every review. Before that, it finishes
// the exclusions of confirmed flags that a failure left incomplete. A second
// job, Sample, draws each week's verification sample.
type Integrity struct {
	Units     *domain.UnitCatalog
	Registry  domain.RegistryStore
	Records   DayReader
	Rollups   RollupReader   // nil: member_above_median is skipped
	Trainings TrainingReader // nil: training_day is skipped
	Flags     domain.FlagStore
	Verify    domain.VerificationStore
	// Exclude takes a record out of the figures (domain.RecordCare's
	// ExcludeRecord); nil leaves confirmed flags' exclusions pending.
	Exclude    func(ctx context.Context, id, reason string) error
	Runs       domain.CoverageStore // where runs are recorded (with the coverage runs)
	Leases     domain.LeaseStore
	Thresholds domain.IntegrityThresholds
	Owner      string
	Now        func() time.Time
	Log        *slog.Logger
	LeaseTTL   time.Duration // default 1 min
	// SampleSize is how many records per commune the weekly sample draws
	// (default 5).
	SampleSize int
}

// Job names in runs and leases.
const (
	IntegrityJob = "integrity"
	SampleJob    = "verification-sample"
)

// ExcludeReason is the reason an excluded record carries.
func ExcludeReason(flagID string) string { return "integrity flag " + flagID + " confirmed" }

// RunDay flags the records of day (trigger: nightly, catch-up or manual),
// holding the job's lease: domain.ErrJobRunning while another run of it is
// in progress anywhere.
func (j *Integrity) RunDay(ctx context.Context, day domain.Date, trigger string) (domain.JobRun, error) {
	return j.run(ctx, IntegrityJob, day, trigger, func(ctx context.Context, rec *domain.JobRun) error {
		return j.flagDay(ctx, rec)
	})
}

// run records a run of job for day around fn, under the job's lease.
func (j *Integrity) run(ctx context.Context, job string, day domain.Date, trigger string, fn func(context.Context, *domain.JobRun) error) (domain.JobRun, error) {
	ttl := j.LeaseTTL
	if ttl == 0 {
		ttl = time.Minute
	}
	nonce := make([]byte, 3)
	_, _ = rand.Read(nonce)
	held, err := Acquire(ctx, j.Leases, job, j.Owner+"/"+hex.EncodeToString(nonce), ttl)
	if err != nil {
		return domain.JobRun{}, err
	}
	defer held.Release(ctx)
	if err := j.abandonOrphans(ctx, job); err != nil {
		return domain.JobRun{}, err
	}
	rec := domain.JobRun{ID: newRunID(j.Now()), Job: job, Status: domain.RunRunning, Trigger: trigger, Mode: "day", Date: day,
		Attempt: 1, Owner: j.Owner, StartedAt: j.Now().UTC()}
	if err := j.Runs.StartRun(ctx, rec); err != nil {
		return rec, err
	}
	runCtx, stop := held.Keep(ctx)
	err = fn(runCtx, &rec)
	if cause := context.Cause(runCtx); err != nil && cause != nil && !errors.Is(cause, context.Canceled) {
		err = fmt.Errorf("%w (%v)", err, cause)
	}
	stop()
	rec.FinishedAt, rec.Status = j.Now().UTC(), domain.RunSucceeded
	if err != nil {
		rec.Status, rec.Error = domain.RunFailed, err.Error()
		if ctx.Err() != nil {
			rec.Error, rec.Interrupted = "interrupted: the server stopped", true
		}
	}
	if ferr := j.Runs.FinishRun(context.WithoutCancel(ctx), rec); err == nil {
		err = ferr
	}
	j.Log.Info(job+" run", "run", rec.ID, "status", rec.Status, "date", day, "trigger", trigger, "communes", rec.Communes,
		"records", rec.Records, "ms", rec.FinishedAt.Sub(rec.StartedAt).Milliseconds(), "err", err)
	return rec, err
}

// abandonOrphans fails the runs of job left running by a process that died
// (this process holds the job's lease now).
func (j *Integrity) abandonOrphans(ctx context.Context, job string) error {
	return abandonOrphanRuns(ctx, j.Runs, job, j.Now(), j.Log)
}

// errEnough stops a read early.
var errEnough = errors.New("jobs: enough records")

func (j *Integrity) flagDay(ctx context.Context, rec *domain.JobRun) error {
	phases := map[string]time.Duration{}
	mark := func(name string, start time.Time) { phases[name] += time.Since(start) }
	defer func() {
		args := []any{"run", rec.ID}
		for _, p := range []string{"exclusions", "registries", "trainings", "read", "rollups", "detect", "save"} {
			args = append(args, p, phases[p].Milliseconds())
		}
		j.Log.Debug("integrity phases (ms)", args...)
	}()
	t0 := time.Now()
	if err := j.FinishExclusions(ctx); err != nil {
		return err
	}
	mark("exclusions", t0)
	day, th, now := rec.Date, j.Thresholds, j.Now()
	communes := j.Units.Find(domain.UnitFilter{Level: domain.LevelCommune, AsOf: day})
	codes := make([]string, len(communes))
	for i, c := range communes {
		codes[i] = c.Code
	}
	t0 = time.Now()
	regs, err := j.Registry.Registries(ctx, codes)
	if err != nil {
		return err
	}
	mark("registries", t0)
	t0 = time.Now()
	var trainings []domain.Training
	if j.Trainings != nil {
		all, err := j.Trainings.TrainingsBetween(ctx, day.Time(), day.Next().Time())
		if err != nil {
			return err
		}
		for _, t := range all {
			if _, _, ok := domain.TrainingHours(t, day); ok {
				trainings = append(trainings, t)
			}
		}
	}
	mark("trainings", t0)
	cross := domain.NewCommuneCrossing(day)
	briefs := map[string]domain.FlaggedRecord{} // records with a household: the cross-commune flags'
	var flags []domain.Flag
	for _, code := range codes {
		t0 = time.Now()
		recs, evening, err := j.readDay(ctx, code, day)
		if err != nil {
			return err
		}
		mark("read", t0)
		t0 = time.Now()
		rec.Records += len(recs)
		in := domain.IntegrityDay{Day: day, Commune: code, Records: recs, Registry: regs[code], Trainings: trainings,
			WholeNights: true, PrevEvening: evening}
		// member_above_median looks back only for a member with enough
		// records today: the rollup is read for those communes alone.
		if j.Rollups != nil && busiest(recs) >= th.MedianMinRecords {
			r, err := j.Rollups.Rollup(ctx, code)
			if err != nil {
				return err
			}
			if r != nil {
				in.Counts = func(member string, d domain.Date) int {
					if a := r.Members[member]; a != nil {
						return a.CountIn(d, d)
					}
					return 0
				}
			}
		}
		mark("rollups", t0)
		t0 = time.Now()
		found := domain.DetectIntegrity(in, th, now)
		describe(found, append(slices.Clone(recs), evening...))
		flags = append(flags, found...)
		cross.Add(recs)
		for _, r := range recs {
			if r.Household != "" {
				briefs[r.ID] = domain.BriefOf(r)
			}
		}
		mark("detect", t0)
	}
	crossing := cross.Flags(th, now)
	for i := range crossing {
		for _, id := range crossing[i].RecordIDs {
			crossing[i].Records = append(crossing[i].Records, briefs[id])
		}
	}
	flags = append(flags, crossing...)
	rec.Communes = len(codes)
	t0 = time.Now()
	defer mark("save", t0)
	return j.Flags.SaveFlags(ctx, day, flags)
}

// readDay reads commune's records of day and those of the evening before
// from NightStart on (so that a night across midnight is judged whole):
// in one read when the reader can, else the day, then the day before,
// newest first, stopping at its first record before NightStart.
func (j *Integrity) readDay(ctx context.Context, commune string, day domain.Date) (recs, evening []domain.Record, err error) {
	dayStart := day.Time()
	eveStart := time.Date(dayStart.Year(), dayStart.Month(), dayStart.Day()-1, j.Thresholds.NightStart, 0, 0, 0, domain.Location)
	if sr, ok := j.Records.(SpanReader); ok {
		err = sr.SpanRecords(ctx, commune, eveStart, day.Next().Time(), func(r domain.Record) error {
			if r.Day == day {
				recs = append(recs, r)
			} else if !r.OccurredAt.Before(eveStart) {
				evening = append(evening, r)
			}
			return nil
		})
		return recs, evening, err
	}
	if err := j.Records.DayRecords(ctx, commune, day, func(r domain.Record) error {
		recs = append(recs, r)
		return nil
	}); err != nil {
		return nil, nil, err
	}
	err = j.Records.DayRecords(ctx, commune, day.AddDays(-1), func(r domain.Record) error {
		if r.OccurredAt.Before(eveStart) {
			return errEnough
		}
		evening = append(evening, r)
		return nil
	})
	if errors.Is(err, errEnough) {
		err = nil
	}
	return recs, evening, err
}

// busiest is the most records one member has in recs.
func busiest(recs []domain.Record) int {
	n, most := map[string]int{}, 0
	for _, r := range recs {
		n[r.MemberID]++
		most = max(most, n[r.MemberID])
	}
	return most
}

// describe fills each flag's Records from recs.
func describe(flags []domain.Flag, recs []domain.Record) {
	if len(flags) == 0 {
		return
	}
	byID := make(map[string]domain.Record, len(recs))
	for _, r := range recs {
		byID[r.ID] = r
	}
	for i := range flags {
		flags[i].Records = flags[i].Records[:0]
		for _, id := range flags[i].RecordIDs {
			if r, ok := byID[id]; ok {
				flags[i].Records = append(flags[i].Records, domain.BriefOf(r))
			}
		}
	}
}

// FinishExclusions excludes from the figures the records of confirmed flags
// that are not excluded yet (the confirmation excludes them at once; this
// finishes what a failure interrupted).
func (j *Integrity) FinishExclusions(ctx context.Context) error {
	if j.Exclude == nil {
		return nil
	}
	confirmed, _, err := j.Flags.FindFlags(ctx, domain.FlagFilter{Status: domain.FlagConfirmed})
	if err != nil {
		return err
	}
	for _, f := range confirmed {
		if len(f.PendingExclusion()) == 0 {
			continue
		}
		if _, err := ExcludeFlagged(ctx, j.Flags, j.Exclude, f.ID); err != nil {
			return err
		}
	}
	return nil
}

// ExcludeFlagged excludes the records of confirmed flag id that are not
// excluded yet and records each in the flag as it goes. A record that is
// no longer counted (excluded already, or gone) counts as excluded.
func ExcludeFlagged(ctx context.Context, flags domain.FlagStore, exclude func(ctx context.Context, id, reason string) error, id string) (domain.Flag, error) {
	f, err := flags.Flag(ctx, id)
	if err != nil {
		return f, err
	}
	for _, rid := range f.PendingExclusion() {
		err := exclude(ctx, rid, ExcludeReason(f.ID))
		if err != nil && !errors.Is(err, domain.ErrNotFound) && !errors.Is(err, domain.ErrConflict) {
			return f, fmt.Errorf("jobs: exclude record %s of flag %s: %w", rid, f.ID, err)
		}
		if f, err = flags.UpdateFlag(ctx, id, func(cur *domain.Flag) error {
			if !slices.Contains(cur.Excluded, rid) {
				cur.Excluded = append(cur.Excluded, rid)
			}
			return nil
		}); err != nil {
			return f, err
		}
	}
	return f, nil
}

// NightlyDay is the day a nightly run flags: the day that ended.
func (j *Integrity) NightlyDay() domain.Date { return domain.DateOf(j.Now()).AddDays(-1) }

// RunNightly flags the day that ended unless a nightly run did (a run
// already in progress elsewhere answers domain.ErrJobRunning). It reports
// whether it ran.
func (j *Integrity) RunNightly(ctx context.Context, trigger string) (bool, error) {
	day := j.NightlyDay()
	done, err := j.done(ctx, IntegrityJob, day)
	if err != nil || done {
		return false, err
	}
	_, err = j.RunDay(ctx, day, trigger)
	return err == nil, err
}

// done reports whether a scheduled run of job succeeded for day.
func (j *Integrity) done(ctx context.Context, job string, day domain.Date) (bool, error) {
	runs, err := j.Runs.Runs(ctx, job, 100)
	if err != nil {
		return false, err
	}
	for _, r := range runs {
		if r.Date == day && r.Status == domain.RunSucceeded && r.Trigger != TriggerManual {
			return true, nil
		}
	}
	return false, nil
}

// SampleWeek is the week a scheduled sample draws: the last complete week
// (Monday to Sunday) before now.
func (j *Integrity) SampleWeek() domain.Date {
	return domain.SampleWeek(domain.DateOf(j.Now())).AddDays(-7)
}

// RunSample draws the sample of the last complete week unless a scheduled
// run did. It reports whether it ran.
func (j *Integrity) RunSample(ctx context.Context, trigger string) (bool, error) {
	week := j.SampleWeek()
	done, err := j.done(ctx, SampleJob, week)
	if err != nil || done {
		return false, err
	}
	_, err = j.Sample(ctx, week, trigger)
	return err == nil, err
}

// Sample draws the verification sample of the week starting on Monday week
// (any day of it is taken to its Monday): per commune, SampleSize records
// of the week at random (domain.DrawSample), each a verification request
// the commune checks by phone. Drawing a week again adds nothing (the
// requests' IDs are natural keys).
func (j *Integrity) Sample(ctx context.Context, week domain.Date, trigger string) (domain.JobRun, error) {
	week = domain.SampleWeek(week)
	return j.run(ctx, SampleJob, week, trigger, func(ctx context.Context, rec *domain.JobRun) error {
		n := j.SampleSize
		if n == 0 {
			n = 5
		}
		now := j.Now()
		communes := j.Units.Find(domain.UnitFilter{Level: domain.LevelCommune, AsOf: week.AddDays(6)})
		for _, c := range communes {
			var recs []domain.Record
			for d := week; d <= week.AddDays(6); d = d.Next() {
				if err := j.Records.DayRecords(ctx, c.Code, d, func(r domain.Record) error {
					r.Household, r.Note = "", ""
					recs = append(recs, r)
					return nil
				}); err != nil {
					return err
				}
			}
			rec.Records += len(recs)
			for _, r := range domain.DrawSample(recs, n, c.Code, week) {
				v, err := domain.NewVerification(r, domain.VerifyFromSample, "", "", now)
				if err != nil {
					return err
				}
				v.ID = domain.SampleID(week, r.ID)
				if err := j.Verify.CreateVerification(ctx, v); err != nil && !errors.Is(err, domain.ErrConflict) {
					return err
				}
			}
		}
		rec.Communes = len(communes)
		return nil
	})
}
