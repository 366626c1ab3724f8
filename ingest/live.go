package ingest

import (
	"context"
	"sort"
	"sync"

	"github.com/hue-cdt/cdt/domain"
)

// Live answers the pages' questions about recent activity exactly and without
// scanning records: the consolidated rollups and recent lists (cached, and
// dropped precisely when a consolidation rewrites them), plus the deltas not yet
// consolidated, plus this server's buffer.
type Live struct {
	Rollups domain.RollupStore
	Ingest  *Service

	mu      sync.Mutex
	version int64
	valid   bool
	rollups map[string]*domain.Rollup
	recent  map[string]*domain.Recent
}

// snapshot is one consistent view: deltas are read before the state, so a
// consolidation in between is seen in the state (and skipped in the deltas).
type snapshot struct {
	rollups  map[string]*domain.Rollup
	pending  []domain.Record // in deltas not yet applied
	buffered []domain.Record
}

func (l *Live) refresh(ctx context.Context) (domain.StateChange, error) {
	st, err := l.Rollups.State(ctx)
	if err != nil {
		return st, err
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	switch {
	case l.valid && st.Version == l.version:
		return st, nil
	case l.valid && st.Version == l.version+1 && !st.All:
		for _, c := range st.Communes {
			delete(l.rollups, c)
		}
		for _, k := range st.Recent {
			delete(l.recent, k)
		}
		changed, err := l.Rollups.RollupsOf(ctx, st.Communes)
		if err != nil {
			l.valid = false
			return st, err
		}
		for c, r := range changed {
			l.rollups[c] = r
		}
	default:
		all, err := l.Rollups.Rollups(ctx)
		if err != nil {
			l.valid = false
			return st, err
		}
		l.rollups, l.recent = all, map[string]*domain.Recent{}
	}
	l.version, l.valid = st.Version, true
	return st, nil
}

func (l *Live) snapshot(ctx context.Context) (*snapshot, error) {
	deltas, err := l.Rollups.PendingDeltas(ctx, 1000)
	if err != nil {
		return nil, err
	}
	if _, err := l.refresh(ctx); err != nil {
		return nil, err
	}
	l.mu.Lock()
	s := &snapshot{rollups: l.rollups}
	for _, d := range deltas {
		for _, rec := range d.Records {
			if r := l.rollups[rec.CommuneCode]; r == nil || !r.Applied(d) {
				s.pending = append(s.pending, rec)
			}
		}
	}
	l.mu.Unlock()
	if l.Ingest != nil {
		s.buffered = l.Ingest.Buffered()
	}
	return s, nil
}

func (s *snapshot) unconsolidated() []domain.Record {
	return append(append([]domain.Record(nil), s.pending...), s.buffered...)
}

// MemberCount returns how many records member logged on days [from, to].
func (l *Live) MemberCount(ctx context.Context, commune, member string, from, to domain.Date) (int, error) {
	s, err := l.snapshot(ctx)
	if err != nil {
		return 0, err
	}
	n := 0
	if r := s.rollups[commune]; r != nil {
		n = r.Members[member].CountIn(from, to)
	}
	for _, rec := range s.unconsolidated() {
		if rec.MemberID == member && rec.Day >= from && rec.Day <= to {
			n++
		}
	}
	return n, nil
}

// Rollup returns the consolidated rollup of commune (nil if none). It does not
// include the records of the last seconds.
func (l *Live) Rollup(ctx context.Context, commune string) (*domain.Rollup, error) {
	if _, err := l.refresh(ctx); err != nil {
		return nil, err
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.rollups[commune], nil
}

// Recent returns the newest records of list key ("m:<member>", "t:<team>",
// "c:<commune>"), at most n, and whether that is every record the key has
// (the list was not full).
func (l *Live) Recent(ctx context.Context, key string, keep func(domain.Record) bool, n int) ([]domain.Record, bool, error) {
	s, err := l.snapshot(ctx)
	if err != nil {
		return nil, false, err
	}
	l.mu.Lock()
	r, ok := l.recent[key]
	l.mu.Unlock()
	if !ok {
		if r, err = l.Rollups.Recent(ctx, key); err != nil {
			return nil, false, err
		}
		l.mu.Lock()
		l.recent[key] = r
		l.mu.Unlock()
	}
	capacity := 0
	seen := map[string]bool{}
	var out []domain.Record
	for _, rec := range append(s.unconsolidated(), r.Records...) {
		if seen[rec.ID] || !keep(rec) {
			continue
		}
		if capacity == 0 {
			capacity = domain.RecentKeys(rec)[key]
		}
		seen[rec.ID] = true
		rec.Household = ""
		out = append(out, rec)
	}
	complete := len(r.Records) < capacity || capacity == 0
	sort.SliceStable(out, func(i, j int) bool { return out[i].SortKey() > out[j].SortKey() })
	if len(out) > n {
		out, complete = out[:n], false
	}
	return out, complete, nil
}
