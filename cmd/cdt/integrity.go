package main

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/hue-cdt/cdt/domain"
	"github.com/hue-cdt/cdt/internal/app"
	"github.com/hue-cdt/cdt/jobs"
)

// jobsRunIntegrity runs the integrity job for a day (cdt jobs run integrity
// [--date D], default yesterday in Huế) or draws a week's verification
// sample (cdt jobs run verification-sample [--week D], default the last
// complete week), once, now.
func jobsRunIntegrity(ctx context.Context, job string, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := newFlagSet("jobs run "+job, stderr)
	config := configFlags(fs, getenv)
	date := fs.String("date", "", "integrity: the day to flag (default: yesterday)")
	week := fs.String("week", "", "verification-sample: a day of the week to sample (default: the last complete week)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	parse := func(name, s string) (domain.Date, error) {
		if s == "" {
			return "", nil
		}
		d, ok := domain.ParseDate(s)
		if !ok {
			return "", fmt.Errorf("--%s: %q is not a date (YYYY-MM-DD)", name, s)
		}
		return d, nil
	}
	day, err := parse("date", *date)
	if err != nil {
		return err
	}
	wk, err := parse("week", *week)
	if err != nil {
		return err
	}
	a, _, err := openApp(ctx, config, stdout, stderr, "")
	if err != nil {
		return err
	}
	defer a.Close(context.Background())
	var run domain.JobRun
	if job == jobs.IntegrityJob {
		if day == "" {
			day = a.Integrity.NightlyDay()
		}
		run, err = a.Integrity.RunDay(ctx, day, jobs.TriggerManual)
	} else {
		if wk == "" {
			wk = a.Integrity.SampleWeek()
		}
		run, err = a.Integrity.Sample(ctx, wk, jobs.TriggerManual)
	}
	if errors.Is(err, domain.ErrJobRunning) {
		return fmt.Errorf("a %s run is in progress (another server or command holds it); try again when it ends", job)
	}
	if err != nil {
		return fmt.Errorf("%s run %s failed: %w", job, run.ID, err)
	}
	fmt.Fprintf(stdout, "%s run %s %s: %s, %d communes, %d records read, %.1f s\n", job, run.ID, run.Status, run.Date,
		run.Communes, run.Records, run.FinishedAt.Sub(run.StartedAt).Seconds())
	return nil
}

// benchIntegrity runs cdt bench integrity [--date D] [--rounds N] on the
// configured database (seeded beforehand): the integrity run of a day
// against one plain read of that day's records.
func benchIntegrity(ctx context.Context, date string, rounds int, getenv func(string) string, stdout, stderr io.Writer) error {
	cfg, err := app.FromEnv(getenv)
	if err != nil {
		return err
	}
	cfg.Logger = app.NewLogger(stderr, cfg.LogFormat, cfg.LogLevel) // CDT_LOG_LEVEL=debug: the job's phases
	a, err := app.Open(ctx, cfg)
	if err != nil {
		return err
	}
	defer a.Close(context.Background())
	day := a.Integrity.NightlyDay()
	if date != "" {
		var ok bool
		if day, ok = domain.ParseDate(date); !ok {
			return fmt.Errorf("--date: %q is not a date (YYYY-MM-DD)", date)
		}
	}
	b, err := a.BenchIntegrity(ctx, day, rounds)
	if err != nil {
		return err
	}
	ratio := 0.0
	if b.Plain > 0 {
		ratio = float64(b.Job) / float64(b.Plain)
	}
	fmt.Fprintf(stdout, "integrity %s: %d records in %d communes; plain read %d ms, integrity run %d ms (%.2f×), %d flags\n",
		b.Day, b.Records, b.Communes, b.Plain.Milliseconds(), b.Job.Milliseconds(), ratio, b.Flags)
	return nil
}
