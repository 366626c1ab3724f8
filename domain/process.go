package domain

import (
	"context"
	"time"
)

// Process is one running cdt server, as the others see it. Its heartbeat
// says whether a group of records it stored may still be waiting for its
// delta: the consolidator counts a record sent again (a duplicate) only once
// no server can still write the delta that first carried it.
type Process struct {
	ID        string
	Host      string
	PID       int
	Started   time.Time
	Heartbeat time.Time
	Flushed   int64 // last delta seq written
	Stopped   bool  // stopped cleanly, every delta written
	// Inflight is when the oldest group of records stored without its delta
	// yet began (zero: none, at Heartbeat).
	Inflight time.Time
}

// DeadAfter is how long a process may go without a heartbeat (each beats
// every second) before the others take it for dead: they take over its
// leases and stop waiting for its deltas.
const DeadAfter = 10 * time.Second

// Settled reports whether p can no longer write a delta for records stored
// before t: it stopped, it is dead (no heartbeat since before deadline), or
// a heartbeat after t showed no group in flight that began before t.
func (p Process) Settled(t, deadline time.Time) bool {
	return p.Stopped || p.Heartbeat.Before(deadline) ||
		p.Heartbeat.After(t) && (p.Inflight.IsZero() || p.Inflight.After(t))
}

// ProcessStore persists the process registry.
type ProcessStore interface {
	SaveProcess(ctx context.Context, p Process) error
	Processes(ctx context.Context) ([]Process, error)
}

// Lease is a time-limited exclusive right, held by one process.
type Lease struct {
	Key   string
	Epoch int64
	Owner string
	Until time.Time
}

// LeaseStore hands out leases. Taking a lease is an insert of "<key>#<epoch>",
// so two processes can never hold the same epoch.
type LeaseStore interface {
	// AcquireLease takes key for ttl, or renews it if owner holds it; ErrConflict
	// when another owner holds an unexpired lease.
	AcquireLease(ctx context.Context, key, owner string, ttl time.Duration) (Lease, error)
	// RenewLease extends a held lease; ErrConflict when it was lost.
	RenewLease(ctx context.Context, l Lease, ttl time.Duration) (Lease, error)
	ReleaseLease(ctx context.Context, l Lease) error
	// CurrentLease returns the newest lease of key (ErrNotFound if none).
	CurrentLease(ctx context.Context, key string) (Lease, error)
}

// Sleep waits for d, or less if ctx ends first (then it returns ctx's error).
func Sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
