package domain

import (
	"context"
	"time"
)

// Process is one running cdt server, as the others see it. A server that stops
// without saying so (crash, kill -9) may leave records whose delta it never
// flushed; the consolidator rebuilds those deltas from the records.
type Process struct {
	ID        string
	Host      string
	PID       int
	Started   time.Time
	Heartbeat time.Time
	Flushed   int64 // last delta seq flushed
	Stopped   bool  // stopped cleanly, everything flushed
	Recovered bool  // its unflushed deltas were rebuilt
}

// ProcessStore persists the process registry.
type ProcessStore interface {
	SaveProcess(ctx context.Context, p Process) error
	Processes(ctx context.Context) ([]Process, error)
	// RecordsOfDeltasAfter returns the records of process whose delta seq is
	// greater than seq (a scan of the assistance collection: recovery only).
	RecordsOfDeltasAfter(ctx context.Context, process string, seq int64) ([]Record, error)
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
