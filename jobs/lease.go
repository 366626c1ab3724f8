package jobs

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/hue-cdt/cdt/domain"
)

// WithLease runs fn while holding lease key, renewing it every ttl/3. If the
// lease is lost (the database stopped answering long enough for another
// process to take it over), fn's context is cancelled. A lease held by
// another process answers domain.ErrJobRunning without running fn.
func WithLease(ctx context.Context, leases domain.LeaseStore, key, owner string, ttl time.Duration, fn func(context.Context) error) error {
	l, err := leases.AcquireLease(ctx, key, owner, ttl)
	if errors.Is(err, domain.ErrConflict) {
		return fmt.Errorf("jobs: %s: %w", key, domain.ErrJobRunning)
	}
	if err != nil {
		return err
	}
	runCtx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		t := time.NewTicker(ttl / 3)
		defer t.Stop()
		for {
			select {
			case <-runCtx.Done():
				return
			case <-t.C:
				next, err := leases.RenewLease(runCtx, l, ttl)
				if err != nil {
					if runCtx.Err() == nil {
						cancel(fmt.Errorf("jobs: lease %s lost: %w", key, err))
					}
					return
				}
				l = next
			}
		}
	}()
	err = fn(runCtx)
	cancel(nil)
	wg.Wait()
	_ = leases.ReleaseLease(context.WithoutCancel(ctx), l)
	if cause := context.Cause(runCtx); err != nil && cause != nil && !errors.Is(cause, context.Canceled) {
		return fmt.Errorf("%w (%v)", err, cause)
	}
	return err
}

// Elector makes one process of those sharing a database the scheduler's leader
// (gocron's distributed elector): it holds the lease "scheduler" and renews it
// in the background. A leader that cannot renew in time stops leading before
// its lease expires, so two leaders never overlap.
type Elector struct {
	Leases domain.LeaseStore
	Owner  string
	TTL    time.Duration
	Now    func() time.Time

	mu    sync.Mutex
	lease domain.Lease
	held  bool
}

// Key is the lease of the scheduler's leader.
const electorKey = "scheduler"

// Run campaigns and renews until ctx ends, then releases the lease.
func (e *Elector) Run(ctx context.Context) {
	if e.TTL == 0 {
		e.TTL = 30 * time.Second
	}
	t := time.NewTicker(e.TTL / 4)
	defer t.Stop()
	for {
		e.campaign(ctx)
		select {
		case <-ctx.Done():
			e.mu.Lock()
			l, held := e.lease, e.held
			e.held = false
			e.mu.Unlock()
			if held {
				_ = e.Leases.ReleaseLease(context.WithoutCancel(ctx), l)
			}
			return
		case <-t.C:
		}
	}
}

func (e *Elector) campaign(ctx context.Context) {
	l, err := e.Leases.AcquireLease(ctx, electorKey, e.Owner, e.TTL)
	e.mu.Lock()
	defer e.mu.Unlock()
	e.held = err == nil
	if e.held {
		e.lease = l
	}
}

// IsLeader answers nil while this process leads, with a margin before expiry.
func (e *Elector) IsLeader(context.Context) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.held && e.Now().Before(e.lease.Until.Add(-e.TTL/3)) {
		return nil
	}
	return errors.New("jobs: not the scheduler leader")
}

// Leading reports whether this process leads now.
func (e *Elector) Leading() bool { return e.IsLeader(context.Background()) == nil }
