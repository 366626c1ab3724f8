// Package ingest is the write path of assistance records: it validates what
// phones send against the member's registry, replaces the household reference
// by a keyed hash, stores the records (idempotently, by their client ID) and
// buffers them into the deltas that keep the rollups up to date.
package ingest

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"time"

	"github.com/hue-cdt/cdt/domain"
)

// Service stores records and flushes their deltas.
type Service struct {
	Registry  domain.RegistryStore
	Store     domain.AssistanceStore
	Rollups   domain.RollupStore
	Processes domain.ProcessStore
	// Key is the HMAC key of household references (CDT_HOUSEHOLD_KEY).
	Key     []byte
	Now     func() time.Time
	Logger  *slog.Logger
	Process string // this server's process ID, unique per start
	// FlushEvery is how often buffered records become a delta (default 1 s).
	FlushEvery time.Duration
	// Observe, when set, is told the results of every successful Log
	// (the server's metrics).
	Observe func(results []Result)
	// Objected, when set, refuses the records of households that objected
	// (a citizen's objection, Law 91/2025/QH15).
	Objected *Objections

	// insert holds a read lock while records are being stored, flush the write
	// lock while it swaps the buffer: a record is always flushed in the delta
	// its document names.
	insert  sync.RWMutex
	mu      sync.Mutex
	seq     int64
	buf     []domain.Record
	queue   []domain.Delta // swapped out, not yet stored (kept in order on errors)
	flushed int64
	started time.Time
	flushMu sync.Mutex
}

// Result is the outcome of one record of a request.
type Result struct {
	ClientID string
	ID       string
	Status   string // created, duplicate, invalid
	Record   domain.Record
	Err      error // a validation error when invalid
}

// Status values.
const (
	Created   = "created"
	Duplicate = "duplicate"
	Invalid   = "invalid"
)

// Hash is the keyed hash kept in place of a normalised household reference:
// HMAC-SHA256, first 128 bits, base64url.
func (s *Service) Hash(normalized string) string {
	m := hmac.New(sha256.New, s.Key)
	m.Write([]byte(normalized))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil)[:16])
}

// Log validates and stores records sent by caller, each judged on its own.
// deviceNow is the phone's clock when it sent them (zero if unknown).
func (s *Service) Log(ctx context.Context, cl domain.Caller, in []domain.NewRecord, deviceNow time.Time) ([]Result, error) {
	results, err := s.log(ctx, cl, in, deviceNow)
	if err == nil && s.Observe != nil {
		s.Observe(results)
	}
	return results, err
}

func (s *Service) log(ctx context.Context, cl domain.Caller, in []domain.NewRecord, deviceNow time.Time) ([]Result, error) {
	if err := domain.ScopeOf(cl).Field(); err != nil {
		return nil, err
	}
	reg, err := s.Registry.Registry(ctx, cl.CommuneCode)
	if err != nil {
		return nil, err
	}
	m, ok := reg.Member(cl.MemberID)
	if !ok || !m.Active {
		return nil, domain.ErrForbidden
	}
	now := s.Now()
	var skew int64
	if !deviceNow.IsZero() {
		skew = int64(now.Sub(deviceNow).Round(time.Second) / time.Second)
	}
	results := make([]Result, len(in))
	var recs []domain.Record
	var idx []int
	seen := map[string]bool{}
	for i, nr := range in {
		results[i].ClientID = nr.ClientID
		rec, ref, err := domain.RecordFor(nr, m, reg, cl.Username, now)
		if err != nil {
			results[i].Status, results[i].Err = Invalid, err
			continue
		}
		if ref != "" { // "" when the citizen refused consent: nothing to hash
			rec.Household = s.Hash(ref)
		}
		if objected, err := s.Objected.Has(ctx, rec.Household); err != nil {
			return nil, err
		} else if objected {
			results[i].Status, results[i].Err = Invalid, domain.Invalid("household_ref", "household_objected")
			continue
		}
		rec.DeviceSkew = skew
		results[i].ID, results[i].Record = rec.ID, rec
		if seen[rec.ID] { // the same record twice in one batch
			results[i].Status = Duplicate
			continue
		}
		seen[rec.ID] = true
		recs = append(recs, rec)
		idx = append(idx, i)
	}
	if len(recs) == 0 {
		return results, nil
	}
	s.insert.RLock()
	defer s.insert.RUnlock()
	delta := s.currentDelta()
	for i := range recs {
		recs[i].Delta = delta
	}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second) // the rebuild cut relies on inserts ending fast
	defer cancel()
	res, err := s.Store.InsertRecords(ctx, recs)
	if err != nil {
		return nil, err
	}
	var created []domain.Record
	for k, r := range res {
		i := idx[k]
		switch {
		case r.Err != nil:
			return nil, r.Err
		case r.Created:
			results[i].Status = Created
			created = append(created, recs[k])
		default:
			results[i].Status = Duplicate
		}
	}
	s.mu.Lock()
	s.buf = append(s.buf, created...)
	s.mu.Unlock()
	return results, nil
}

func (s *Service) currentDelta() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return domain.DeltaID(s.Process, s.seq+1)
}

// Buffered returns the records stored by this process and not yet flushed
// (pages merge them into live counts).
func (s *Service) Buffered() []domain.Record {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := append([]domain.Record(nil), s.buf...)
	for _, d := range s.queue {
		out = append(out, d.Records...)
	}
	return out
}

// Flush turns the buffer into the next delta and stores every queued delta in
// order. A delta is never lost: on error it stays queued for the next flush.
func (s *Service) Flush(ctx context.Context) error {
	s.flushMu.Lock()
	defer s.flushMu.Unlock()
	s.insert.Lock()
	s.mu.Lock()
	s.seq++
	if len(s.buf) > 0 {
		s.queue = append(s.queue, domain.Delta{ID: domain.DeltaID(s.Process, s.seq), Process: s.Process, Seq: s.seq,
			At: s.Now().UTC(), Records: s.buf})
		s.buf = nil
	}
	queue, last := append([]domain.Delta(nil), s.queue...), s.seq
	s.mu.Unlock()
	s.insert.Unlock()
	for _, d := range queue {
		if err := s.Rollups.InsertDelta(ctx, d); err != nil && !errors.Is(err, domain.ErrConflict) {
			return fmt.Errorf("ingest: flush %s: %w", d.ID, err)
		}
		s.mu.Lock()
		s.queue = s.queue[1:]
		s.mu.Unlock()
	}
	s.mu.Lock()
	s.flushed = last
	s.mu.Unlock()
	return nil
}

// Start registers the process (for crash recovery) and seeds its sequence.
func (s *Service) Start(ctx context.Context) error {
	if s.FlushEvery == 0 {
		s.FlushEvery = time.Second
	}
	if s.Logger == nil {
		s.Logger = slog.Default()
	}
	s.started = s.Now()
	return s.heartbeat(ctx, false)
}

func (s *Service) heartbeat(ctx context.Context, stopped bool) error {
	host, _ := os.Hostname()
	s.mu.Lock()
	flushed := s.flushed
	s.mu.Unlock()
	return s.Processes.SaveProcess(ctx, domain.Process{ID: s.Process, Host: host, PID: os.Getpid(), Started: s.started,
		Heartbeat: s.Now(), Flushed: flushed, Stopped: stopped})
}

// Run flushes every FlushEvery and beats the heartbeat every 10 s until ctx
// ends, then flushes a last time and marks the process stopped.
func (s *Service) Run(ctx context.Context) {
	tick := time.NewTicker(s.FlushEvery)
	defer tick.Stop()
	beat := time.Now()
	for {
		select {
		case <-ctx.Done():
			s.Stop(context.Background())
			return
		case <-tick.C:
			if err := s.Flush(ctx); err != nil && ctx.Err() == nil {
				s.Logger.Error("flushing assistance deltas", "err", err)
			}
			if time.Since(beat) > 10*time.Second {
				beat = time.Now()
				if err := s.heartbeat(ctx, false); err != nil && ctx.Err() == nil {
					s.Logger.Warn("process heartbeat", "err", err)
				}
			}
		}
	}
}

// Stop flushes what is left and records a clean stop.
func (s *Service) Stop(ctx context.Context) {
	ctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	if err := s.Flush(ctx); err != nil {
		s.Logger.Error("last flush of assistance deltas", "err", err)
		return // not "stopped": the consolidator will rebuild what was lost
	}
	if err := s.heartbeat(ctx, true); err != nil {
		s.Logger.Warn("process stop", "err", err)
	}
}
