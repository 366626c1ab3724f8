package main

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/hue-cdt/cdt/domain"
	"github.com/hue-cdt/cdt/jobs"
)

// jobsRun runs a job once, now, and exits: cdt jobs run coverage [--full] [--date D].
func jobsRun(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) >= 2 && args[0] == "run" && (args[1] == jobs.IntegrityJob || args[1] == jobs.SampleJob) {
		return jobsRunIntegrity(ctx, args[1], args[2:], getenv, stdout, stderr)
	}
	if len(args) < 2 || args[0] != "run" || args[1] != jobs.CoverageJob {
		return errors.New("usage: cdt jobs run coverage [--full] [--date YYYY-MM-DD] | integrity [--date YYYY-MM-DD] | verification-sample [--week YYYY-MM-DD]")
	}
	fs := newFlagSet("jobs run coverage", stderr)
	config := configFlags(fs, getenv)
	full := fs.Bool("full", false, "rebuild the rollups from every record first")
	date := fs.String("date", "", "the day to compute (default: today)")
	if err := fs.Parse(args[2:]); err != nil {
		return err
	}
	var d domain.Date
	if *date != "" {
		var ok bool
		if d, ok = domain.ParseDate(*date); !ok {
			return fmt.Errorf("--date: %q is not a date (YYYY-MM-DD)", *date)
		}
	}
	a, _, err := openApp(ctx, config, stdout, stderr, "")
	if err != nil {
		return err
	}
	defer a.Close(context.Background())
	run, err := a.Coverage.RunNow(ctx, jobs.RunOptions{Date: d, Full: *full, Trigger: jobs.TriggerManual})
	if errors.Is(err, domain.ErrJobRunning) {
		return errors.New("a coverage run is in progress (another server or command holds it); try again when it ends")
	}
	if err != nil {
		return fmt.Errorf("coverage run %s failed: %w", run.ID, err)
	}
	fmt.Fprintf(stdout, "coverage run %s %s: %s, %d communes, %d records consolidated, %.1f s\n", run.ID, run.Status, run.Date,
		run.Communes, run.Records, run.FinishedAt.Sub(run.StartedAt).Seconds())
	return nil
}
