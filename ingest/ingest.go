// Package ingest is the write path of assistance records: it validates what
// phones send against the member's registry, replaces the household reference
// by a keyed hash, and stores the records (idempotently, by their client ID)
// together with the delta that brings them into the rollups, before it
// answers. It also answers the pages' questions about the records (live.go).
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

// Service stores records in groups: every request hands its valid records to
// one writer per process, which inserts everything queued meanwhile with one
// InsertMany, then inserts the group's delta, and only then answers every
// request of the group. So a record acknowledged is a record in a delta, and
// a crash loses no acknowledged record from the rollups. A record that was
// stored already (sent again) is answered as a duplicate and goes into a
// "dup" delta: its first delta may never have been written, and the
// consolidator counts it unless it is counted already.
type Service struct {
	Registry  domain.RegistryStore
	Store     domain.AssistanceStore
	Deltas    DeltaWriter
	Processes domain.ProcessStore
	// Key is the HMAC key of household references (CDT_HOUSEHOLD_KEY).
	Key     []byte
	Now     func() time.Time
	Logger  *slog.Logger
	Process string // this server's process ID, unique per start
	// HeartbeatEvery is how often the process says it is alive (default 1 s).
	HeartbeatEvery time.Duration
	// MaxGroup is the most records one group inserts (default 1,000).
	MaxGroup int
	// Observe, when set, is told the results of every successful Log
	// (the server's metrics).
	Observe func(results []Result)
	// Objected, when set, refuses the records of households that objected
	// (a citizen's objection, Law 91/2025/QH15).
	Objected *Objections

	once    sync.Once
	queue   chan *job
	stop    context.CancelFunc
	stopped chan struct{}

	mu       sync.Mutex
	seq      int64
	inflight time.Time // start of the group being stored (zero: none)
	flushed  int64
	started  time.Time
}

// DeltaWriter stores deltas.
type DeltaWriter interface {
	InsertDelta(ctx context.Context, d domain.Delta) error
}

type job struct {
	recs []domain.Record
	done chan jobResult
}

type jobResult struct {
	res []domain.InsertResult
	err error
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

// ErrStopping answers records that arrive while the server stops.
var ErrStopping = fmt.Errorf("ingest: the server is stopping: %w", domain.ErrUnavailable)

// Hash is the keyed hash kept in place of a normalised household reference:
// HMAC-SHA256, first 128 bits, base64url.
func (s *Service) Hash(normalized string) string {
	m := hmac.New(sha256.New, s.Key)
	m.Write([]byte(normalized))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil)[:16])
}

// Log validates and stores records sent by caller, each judged on its own.
// deviceNow is the phone's clock when it sent them (zero if unknown): the
// records' times are corrected by its offset (domain.SkewTolerance).
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
	skew := domain.DeviceSkew(now, deviceNow)
	results := make([]Result, len(in))
	var recs []domain.Record
	var idx []int
	seen := map[string]bool{}
	for i, nr := range in {
		results[i].ClientID = nr.ClientID
		rec, ref, err := domain.RecordFor(nr, m, reg, cl.Username, now, skew)
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
	res, err := s.store(ctx, recs)
	if err != nil {
		return nil, err
	}
	for k, r := range res {
		i := idx[k]
		switch {
		case r.Err != nil:
			return nil, r.Err
		case r.Created:
			results[i].Status = Created
		default:
			results[i].Status = Duplicate
		}
	}
	return results, nil
}

// store hands recs to the writer and waits for their group to be stored
// with its delta.
func (s *Service) store(ctx context.Context, recs []domain.Record) ([]domain.InsertResult, error) {
	s.once.Do(s.startWriter)
	j := &job{recs: recs, done: make(chan jobResult, 1)}
	select {
	case s.queue <- j:
	case <-s.stopped:
		return nil, ErrStopping
	case <-ctx.Done():
		return nil, waited(ctx)
	}
	select {
	case r := <-j.done:
		return r.res, r.err
	case <-s.stopped:
		select {
		case r := <-j.done:
			return r.res, r.err
		default:
			return nil, ErrStopping
		}
	case <-ctx.Done():
		// The group goes on; the phone sends the record again and gets a
		// duplicate. A request that ran out of time waited for the database.
		return nil, waited(ctx)
	}
}

// waited is the error of a request whose context ended while its records
// waited for the database: unavailable when its time ran out.
func waited(ctx context.Context) error {
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return fmt.Errorf("ingest: records not stored in time: %w: %w", domain.ErrUnavailable, ctx.Err())
	}
	return ctx.Err()
}

func (s *Service) startWriter() {
	if s.MaxGroup == 0 {
		s.MaxGroup = 1000
	}
	if s.Logger == nil {
		s.Logger = slog.Default()
	}
	ctx, cancel := context.WithCancel(context.Background())
	s.queue, s.stop, s.stopped = make(chan *job, 256), cancel, make(chan struct{})
	go s.write(ctx)
}

// write is the writer: one group at a time, everything queued meanwhile.
func (s *Service) write(ctx context.Context) {
	defer close(s.stopped)
	for {
		var group []*job
		select {
		case j := <-s.queue:
			group = append(group, j)
		case <-ctx.Done():
			s.drain()
			return
		}
		n := len(group[0].recs)
	more:
		for n < s.MaxGroup {
			select {
			case j := <-s.queue:
				group = append(group, j)
				n += len(j.recs)
			default:
				break more
			}
		}
		s.writeGroup(ctx, group)
	}
}

// groupCtx is what a group's writes run under: a stop lets the group in
// progress finish.
func groupCtx(ctx context.Context) context.Context { return context.WithoutCancel(ctx) }

// drain answers what is queued when the writer stops.
func (s *Service) drain() {
	for {
		select {
		case j := <-s.queue:
			j.done <- jobResult{err: ErrStopping}
		default:
			return
		}
	}
}

func (s *Service) writeGroup(ctx context.Context, group []*job) {
	s.mu.Lock()
	s.seq++
	seq := s.seq
	s.inflight = s.Now()
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		s.inflight = time.Time{}
		s.mu.Unlock()
	}()
	id := domain.DeltaID(s.Process, seq)
	var all []domain.Record
	for _, j := range group {
		for i := range j.recs {
			j.recs[i].Delta = id
		}
		all = append(all, j.recs...)
	}
	fail := func(err error) {
		for _, j := range group {
			j.done <- jobResult{err: err}
		}
	}
	ictx, cancel := context.WithTimeout(groupCtx(ctx), 30*time.Second)
	res, err := s.Store.InsertRecords(ictx, all)
	cancel()
	if err != nil {
		fail(err)
		return
	}
	var created, dup []domain.Record
	for i, r := range res {
		switch {
		case r.Err != nil:
		case r.Created:
			created = append(created, all[i])
		default:
			dup = append(dup, all[i])
		}
	}
	// The deltas must be written before anyone is answered: retry until
	// they are, or until the server stops (then nobody is answered, and the
	// phones send the records again).
	for _, d := range []domain.Delta{{ID: id, Process: s.Process, Seq: seq, Records: created},
		{Process: s.Process, Dup: true, Records: dup}} {
		if len(d.Records) == 0 {
			continue
		}
		if d.Dup {
			s.mu.Lock()
			s.seq++
			d.Seq = s.seq
			s.mu.Unlock()
			d.ID = domain.DeltaID(s.Process, d.Seq)
		}
		d.At = s.Now().UTC()
		if err := s.insertDelta(ctx, d); err != nil {
			fail(err)
			return
		}
	}
	s.mu.Lock()
	s.flushed = s.seq
	s.mu.Unlock()
	k := 0
	for _, j := range group {
		j.done <- jobResult{res: res[k : k+len(j.recs)]}
		k += len(j.recs)
	}
}

// insertDelta retries until the delta is written; once the server stops, it
// gives up after ten seconds.
func (s *Service) insertDelta(ctx context.Context, d domain.Delta) error {
	var giveUp time.Time
	for wait := 50 * time.Millisecond; ; wait = min(2*wait, 2*time.Second) {
		ictx, cancel := context.WithTimeout(groupCtx(ctx), 30*time.Second)
		err := s.Deltas.InsertDelta(ictx, d)
		cancel()
		if err == nil || errors.Is(err, domain.ErrConflict) {
			return nil
		}
		s.Logger.Error("writing an assistance delta; retrying", "delta", d.ID, "err", err)
		if ctx.Err() != nil {
			if giveUp.IsZero() {
				giveUp = time.Now().Add(10 * time.Second)
			}
			if time.Now().After(giveUp) {
				return fmt.Errorf("ingest: delta %s: %w", d.ID, err)
			}
		}
		time.Sleep(wait)
	}
}

// Flush returns once every record acknowledged so far is in a delta, which
// is at once: a record is acknowledged only after its delta is written.
func (s *Service) Flush(context.Context) error { return nil }

// Start registers the process, so that the consolidator knows when a
// group it may have in flight is settled.
func (s *Service) Start(ctx context.Context) error {
	if s.HeartbeatEvery == 0 {
		s.HeartbeatEvery = time.Second
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
	p := domain.Process{ID: s.Process, Host: host, PID: os.Getpid(), Started: s.started, Heartbeat: s.Now(),
		Flushed: s.flushed, Stopped: stopped, Inflight: s.inflight}
	s.mu.Unlock()
	return s.Processes.SaveProcess(ctx, p)
}

// Run beats the heartbeat every HeartbeatEvery until ctx ends, then stops
// the writer and records a clean stop.
func (s *Service) Run(ctx context.Context) {
	tick := time.NewTicker(s.HeartbeatEvery)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			s.Stop(context.Background())
			return
		case <-tick.C:
			if err := s.heartbeat(ctx, false); err != nil && ctx.Err() == nil {
				s.Logger.Warn("process heartbeat", "err", err)
			}
		}
	}
}

// Stop lets the group in progress finish, answers what is queued with
// ErrStopping and records a clean stop.
func (s *Service) Stop(ctx context.Context) {
	s.once.Do(s.startWriter)
	s.stop()
	<-s.stopped
	ctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	if err := s.heartbeat(ctx, true); err != nil {
		s.Logger.Warn("process stop", "err", err)
	}
}
