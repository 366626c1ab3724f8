package jobs_test

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hue-cdt/cdt/domain"
	"github.com/hue-cdt/cdt/internal/testdb"
	"github.com/hue-cdt/cdt/jobs"
)

// stallingLeases lets the first AcquireLease through and holds every later
// one until its context ends: a renewal in flight when the process stops.
type stallingLeases struct {
	domain.LeaseStore
	calls atomic.Int32
	stall chan struct{} // closed when a renewal is waiting
}

func (s *stallingLeases) AcquireLease(ctx context.Context, key, owner string, ttl time.Duration) (domain.Lease, error) {
	if s.calls.Add(1) == 1 {
		return s.LeaseStore.AcquireLease(ctx, key, owner, ttl)
	}
	close(s.stall)
	<-ctx.Done()
	return domain.Lease{}, ctx.Err()
}

// TestStoppedLeaderReleasesDuringARenewal: a leader stopped while renewing
// still gives its lease up, so a server started next leads at once instead of
// waiting out the TTL (and running its start-up jobs a check period late).
func TestStoppedLeaderReleasesDuringARenewal(t *testing.T) {
	db := testdb.Open(t)
	leases := &stallingLeases{LeaseStore: db.Leases, stall: make(chan struct{})}
	e := &jobs.Elector{Leases: leases, Owner: "pOld", TTL: time.Minute, Now: time.Now}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); e.Run(ctx) }()
	// Run campaigns at once, then every TTL/4; a one-minute TTL is too slow to
	// wait for, so a second Run's immediate campaign plays the renewal.
	deadline := time.Now().Add(10 * time.Second)
	for !e.Leading() {
		if time.Now().After(deadline) {
			t.Fatal("the elector never led")
		}
		time.Sleep(10 * time.Millisecond)
	}
	ctx2, cancel2 := context.WithCancel(context.Background())
	done2 := make(chan struct{})
	go func() { defer close(done2); e.Run(ctx2) }()
	<-leases.stall
	cancel2()
	<-done2
	cancel()
	<-done
	if e.Leading() {
		t.Fatal("a stopped elector still leads")
	}
	if _, err := db.Leases.AcquireLease(context.Background(), "scheduler", "pNew", time.Minute); err != nil {
		t.Fatalf("the next process cannot lead: %v", err)
	}
}
