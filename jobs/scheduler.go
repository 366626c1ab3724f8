package jobs

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/go-co-op/gocron/v2"

	"github.com/hue-cdt/cdt/domain"
)

// Scheduler runs cdt's recurring jobs with gocron. Jobs run only on the leader
// among the processes sharing the database, never overlap themselves, and log
// their failures.
type Scheduler struct {
	// Observe, when set before Start, is told every run: the job's name,
	// how long it took and its error (the server's metrics).
	Observe func(job string, took time.Duration, err error)

	s       gocron.Scheduler
	elector *Elector
	log     *slog.Logger
	cancel  context.CancelFunc
	done    chan struct{}
}

// NewScheduler builds a scheduler in Asia/Ho_Chi_Minh time.
func NewScheduler(leases domain.LeaseStore, owner string, leaderTTL time.Duration, now func() time.Time, log *slog.Logger) (*Scheduler, error) {
	e := &Elector{Leases: leases, Owner: owner, Now: now, TTL: leaderTTL}
	s, err := gocron.NewScheduler(gocron.WithLocation(domain.Location), gocron.WithDistributedElector(e),
		gocron.WithStopTimeout(20*time.Second),
		gocron.WithGlobalJobOptions(gocron.WithSingletonMode(gocron.LimitModeReschedule)))
	if err != nil {
		return nil, fmt.Errorf("jobs: scheduler: %w", err)
	}
	return &Scheduler{s: s, elector: e, log: log}, nil
}

// Every runs fn every d.
func (s *Scheduler) Every(name string, d time.Duration, fn func(context.Context) error) error {
	_, err := s.s.NewJob(gocron.DurationJob(d), gocron.NewTask(s.task(name, fn)), gocron.WithName(name))
	return err
}

// EveryFromStart runs fn at start (once this process leads) and every d.
func (s *Scheduler) EveryFromStart(name string, d time.Duration, fn func(context.Context) error) error {
	_, err := s.s.NewJob(gocron.DurationJob(d), gocron.NewTask(s.task(name, fn)), gocron.WithName(name),
		gocron.WithStartAt(gocron.WithStartImmediately()))
	return err
}

// Daily runs fn every day at hour:minute in Huế.
func (s *Scheduler) Daily(name string, hour, minute uint, fn func(context.Context) error) error {
	_, err := s.s.NewJob(gocron.DailyJob(1, gocron.NewAtTimes(gocron.NewAtTime(hour, minute, 0))),
		gocron.NewTask(s.task(name, fn)), gocron.WithName(name))
	return err
}

func (s *Scheduler) task(name string, fn func(context.Context) error) func(context.Context) {
	return func(ctx context.Context) {
		start := time.Now()
		err := fn(ctx)
		if err != nil && ctx.Err() == nil {
			s.log.Error("job failed", "job", name, "err", err)
		}
		if s.Observe != nil && ctx.Err() == nil {
			s.Observe(name, time.Since(start), err)
		}
	}
}

// Leading reports whether this process is the leader now.
func (s *Scheduler) Leading() bool { return s.elector.Leading() }

// Start campaigns for leadership and starts the jobs.
func (s *Scheduler) Start(ctx context.Context) {
	ctx, s.cancel = context.WithCancel(ctx)
	s.done = make(chan struct{})
	if s.elector.TTL == 0 {
		s.elector.TTL = 30 * time.Second
	}
	s.elector.campaign(ctx) // lead before the jobs that run at start are asked
	go func() {
		defer close(s.done)
		s.elector.Run(ctx)
	}()
	s.s.Start()
}

// Stop stops the jobs (waiting for running ones) and gives up leadership.
func (s *Scheduler) Stop() error {
	err := s.s.Shutdown()
	if s.cancel != nil {
		s.cancel()
		<-s.done
	}
	return err
}
