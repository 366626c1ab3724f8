package jobs_test

import (
	"context"
	"errors"
	"log/slog"
	"testing"
	"time"

	"github.com/hue-cdt/cdt/internal/testdb"
	"github.com/hue-cdt/cdt/jobs"
)

// TestSchedulerTellsEveryRun: the scheduler's observer hears each run of a
// job with its name and outcome (the server's job metrics).
func TestSchedulerTellsEveryRun(t *testing.T) {
	db := testdb.Open(t)
	s, err := jobs.NewScheduler(db.Leases, "pObs", 5*time.Second, time.Now, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	type run struct {
		job string
		err error
	}
	runs := make(chan run, 4)
	s.Observe = func(job string, took time.Duration, err error) {
		if took < 0 {
			t.Errorf("negative duration %v", took)
		}
		runs <- run{job, err}
	}
	boom := errors.New("boom")
	if err := s.EveryFromStart("probe", time.Hour, func(context.Context) error { return boom }); err != nil {
		t.Fatal(err)
	}
	s.Start(context.Background())
	defer func() { _ = s.Stop() }()
	select {
	case r := <-runs:
		if r.job != "probe" || !errors.Is(r.err, boom) {
			t.Fatalf("observed %+v", r)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("the run was not observed")
	}
}
