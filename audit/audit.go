// Package audit records the audit trail without slowing requests: Writer
// buffers events in memory and writes them to the store about every second
// and when the server stops.
package audit

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/hue-cdt/cdt/domain"
)

// FlushEvery is how often buffered events are written.
const FlushEvery = time.Second

// DefaultMax is how many events a writer holds while the database is away;
// beyond, new events are dropped (and counted in the log).
const DefaultMax = 100_000

// Writer is the domain.AuditLog of a server. Record appends to a buffer and
// returns at once; Run writes the buffer every FlushEvery and a last time
// when its context ends, so a clean stop loses nothing. A crash loses the
// events of the last second at most. A failed write is retried at the next
// flush: the store skips events it already holds.
type Writer struct {
	Store   domain.AuditStore
	Process string // this server's ID: part of every event ID
	Now     func() time.Time
	Log     *slog.Logger
	Max     int

	mu      sync.Mutex
	pending []domain.AuditEvent
	seq     uint64
	dropped int
	flushMu sync.Mutex
	warned  time.Time
}

// Record adds e to the trail: its ID and time, and from the caller in ctx
// (when e names no actor) the actor, role and commune.
func (w *Writer) Record(ctx context.Context, e domain.AuditEvent) {
	if e.At.IsZero() {
		e.At = w.now()
	}
	if cl, ok := domain.CallerFrom(ctx); ok && e.Actor == "" && cl.Username != "" {
		e.Actor, e.Role = cl.Username, cl.Role
		if e.CommuneCode == "" {
			e.CommuneCode = cl.CommuneCode
		}
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	max := w.Max
	if max == 0 {
		max = DefaultMax
	}
	if len(w.pending) >= max {
		w.dropped++
		return
	}
	w.seq++
	e.ID = fmt.Sprintf("%019d-%s-%012d", e.At.UnixNano(), w.Process, w.seq)
	w.pending = append(w.pending, e)
}

func (w *Writer) now() time.Time {
	if w.Now == nil {
		return time.Now()
	}
	return w.Now()
}

// Pending is how many events wait to be written.
func (w *Writer) Pending() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return len(w.pending)
}

// Flush writes the buffered events now. On failure they stay buffered (in
// front of newer ones) for the next flush.
func (w *Writer) Flush(ctx context.Context) error {
	w.flushMu.Lock()
	defer w.flushMu.Unlock()
	w.mu.Lock()
	batch, dropped := w.pending, w.dropped
	w.pending, w.dropped = nil, 0
	w.mu.Unlock()
	if dropped > 0 && w.Log != nil {
		w.Log.Error("audit: events dropped while the database was away", "dropped", dropped)
	}
	if len(batch) == 0 {
		return nil
	}
	if err := w.Store.AppendAudit(ctx, batch); err != nil {
		w.mu.Lock()
		w.pending = append(batch, w.pending...)
		w.mu.Unlock()
		return fmt.Errorf("audit: write %d events: %w", len(batch), err)
	}
	return nil
}

// Run flushes every FlushEvery until ctx ends, then a last time (with up to
// 10 s) so that a clean stop loses nothing.
func (w *Writer) Run(ctx context.Context) {
	t := time.NewTicker(FlushEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
			defer cancel()
			w.report(w.Flush(fctx))
			return
		case <-t.C:
			w.report(w.Flush(ctx))
		}
	}
}

// report logs a failed flush, at most once a minute.
func (w *Writer) report(err error) {
	if err == nil || w.Log == nil || time.Since(w.warned) < time.Minute {
		return
	}
	w.warned = time.Now()
	w.Log.Warn("audit: the trail could not be written; retrying", "err", err, "pending", w.Pending())
}
