package jobs

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/hue-cdt/cdt/domain"
)

// Held is a lease this process holds, renewed in the background while Keep runs.
type Held struct {
	leases domain.LeaseStore
	ttl    time.Duration
	mu     sync.Mutex
	lease  domain.Lease
}

// Acquire takes lease key for owner; a lease held by another process answers
// domain.ErrJobRunning.
func Acquire(ctx context.Context, leases domain.LeaseStore, key, owner string, ttl time.Duration) (*Held, error) {
	l, err := leases.AcquireLease(ctx, key, owner, ttl)
	if errors.Is(err, domain.ErrConflict) {
		return nil, fmt.Errorf("jobs: %s: %w", key, domain.ErrJobRunning)
	}
	if err != nil {
		return nil, err
	}
	return &Held{leases: leases, ttl: ttl, lease: l}, nil
}

// Keep renews the lease every ttl/3 until stop is called; the returned context
// is cancelled if the lease is lost (another process may then have taken it).
func (h *Held) Keep(ctx context.Context) (context.Context, func()) {
	runCtx, cancel := context.WithCancelCause(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(h.ttl / 3)
		defer t.Stop()
		for {
			select {
			case <-runCtx.Done():
				return
			case <-t.C:
				h.mu.Lock()
				next, err := h.leases.RenewLease(runCtx, h.lease, h.ttl)
				if err == nil {
					h.lease = next
				}
				h.mu.Unlock()
				if err != nil {
					if runCtx.Err() == nil {
						cancel(fmt.Errorf("jobs: lease %s lost: %w", h.lease.Key, err))
					}
					return
				}
			}
		}
	}()
	return runCtx, func() { cancel(nil); <-done }
}

// Release gives the lease up at once.
func (h *Held) Release(ctx context.Context) {
	h.mu.Lock()
	defer h.mu.Unlock()
	_ = h.leases.ReleaseLease(context.WithoutCancel(ctx), h.lease)
}

// WithLease runs fn while holding lease key, renewing it every ttl/3. If the
// lease is lost (the database stopped answering long enough for another
// process to take it over), fn's context is cancelled. A lease held by
// another process answers domain.ErrJobRunning without running fn.
func WithLease(ctx context.Context, leases domain.LeaseStore, key, owner string, ttl time.Duration, fn func(context.Context) error) error {
	h, err := Acquire(ctx, leases, key, owner, ttl)
	if err != nil {
		return err
	}
	runCtx, stop := h.Keep(ctx)
	err = fn(runCtx)
	cause := context.Cause(runCtx)
	stop()
	h.Release(ctx)
	if err != nil && cause != nil && !errors.Is(cause, context.Canceled) {
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
	lease domain.Lease // the newest lease this process took, kept to release it on exit
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
			// Release even when the last renewal was cut short by this very
			// cancellation: otherwise the next process waits out the TTL. The
			// release names the epoch and the owner, so it never ends another
			// process's lease.
			e.mu.Lock()
			l := e.lease
			e.held = false
			e.mu.Unlock()
			if l.Key != "" {
				_ = e.Leases.ReleaseLease(context.WithoutCancel(ctx), l)
			}
			return
		case <-t.C:
		}
	}
}

func (e *Elector) campaign(ctx context.Context) {
	l, err := e.Leases.AcquireLease(ctx, electorKey, e.Owner, e.TTL)
	if err != nil && ctx.Err() != nil {
		return // stopping: Run releases what is held
	}
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
