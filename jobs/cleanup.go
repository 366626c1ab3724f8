package jobs

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"
)

// Sweep deletes what one housekeeping collection no longer needs, as of now,
// and says how many documents went.
type Sweep func(ctx context.Context, now time.Time) (int, error)

// Cleanup keeps the housekeeping collections bounded: expired sessions and
// used claims, old job runs, ended processes, and whatever else a package
// adds. FerretDB reads nothing by index, so a collection that only grows
// makes every query on it slower with age; each sweep deletes by what the
// live data still needs. The scheduler runs it on the leader.
//
// Adding a collection is one call: cleanup.Add("audit", store.PruneAudit).
type Cleanup struct {
	Now func() time.Time
	Log *slog.Logger

	mu     sync.Mutex
	sweeps []namedSweep
}

type namedSweep struct {
	name  string
	sweep Sweep
}

// Add registers a sweep under the name of the collection it keeps bounded.
func (c *Cleanup) Add(name string, s Sweep) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.sweeps = append(c.sweeps, namedSweep{name, s})
}

// Names lists the collections the clean-up keeps bounded, in order.
func (c *Cleanup) Names() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make([]string, len(c.sweeps))
	for i, s := range c.sweeps {
		out[i] = s.name
	}
	return out
}

// Run runs every sweep once; one that fails does not keep the others from
// running. It returns how many documents each sweep deleted.
func (c *Cleanup) Run(ctx context.Context) (map[string]int, error) {
	c.mu.Lock()
	sweeps := append([]namedSweep(nil), c.sweeps...)
	c.mu.Unlock()
	now := c.Now()
	deleted := map[string]int{}
	var errs []error
	for _, s := range sweeps {
		if ctx.Err() != nil {
			errs = append(errs, ctx.Err())
			break
		}
		start := time.Now()
		n, err := s.sweep(ctx, now)
		deleted[s.name] += n
		if err != nil {
			errs = append(errs, fmt.Errorf("jobs: clean-up %s: %w", s.name, err))
			continue
		}
		if n > 0 {
			c.Log.Info("clean-up", "collection", s.name, "deleted", n, "ms", time.Since(start).Milliseconds())
		}
	}
	return deleted, errors.Join(errs...)
}
