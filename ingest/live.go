package ingest

import (
	"context"
	"errors"
	"iter"
	"sort"
	"sync"

	"github.com/hue-cdt/cdt/domain"
)

// Live answers the pages' and the API's questions about records without
// reading the records themselves: the consolidated rollups (cached, and
// reloaded per commune when a consolidation changed it), the record lists,
// and the deltas not yet consolidated, so that what was acknowledged a moment
// ago shows at once.
type Live struct {
	State   domain.StateStore
	Records domain.AssistanceStore // where records are inserted

	mu       sync.Mutex
	gen      int64
	loaded   bool
	versions map[string]int64
	// rollups is replaced, never changed: a reader keeps the map it got.
	rollups map[string]*domain.Rollup
}

// view is one consistent look at the state: deltas are read before the
// state, so that a consolidation in between shows in the state (and its
// records are skipped in the deltas).
type view struct {
	gen     int64
	rollups map[string]*domain.Rollup
	pending []domain.Delta
}

func (l *Live) refresh(ctx context.Context) (int64, map[string]*domain.Rollup, error) {
	st, err := l.State.State(ctx)
	if err != nil {
		return 0, nil, err
	}
	l.mu.Lock()
	gen, loaded, versions, cached := l.gen, l.loaded, l.versions, l.rollups
	l.mu.Unlock()
	var changed []string
	if !loaded || gen != st.Gen {
		cached, versions = map[string]*domain.Rollup{}, map[string]int64{}
		for c := range st.Communes {
			changed = append(changed, c)
		}
	} else {
		for c, v := range st.Communes {
			if versions[c] != v {
				changed = append(changed, c)
			}
		}
	}
	if len(changed) == 0 && loaded && gen == st.Gen {
		return st.Gen, cached, nil
	}
	fresh, err := l.State.RollupsOf(ctx, st.Gen, changed)
	if err != nil {
		return 0, nil, err
	}
	next := make(map[string]*domain.Rollup, len(cached)+len(fresh))
	nextV := make(map[string]int64, len(st.Communes))
	for c, r := range cached {
		next[c] = r
	}
	for c := range versions {
		nextV[c] = versions[c]
	}
	for _, c := range changed {
		if r := fresh[c]; r != nil {
			next[c] = r
		} else {
			delete(next, c)
		}
		nextV[c] = st.Communes[c]
	}
	l.mu.Lock()
	l.gen, l.loaded, l.versions, l.rollups = st.Gen, true, nextV, next
	l.mu.Unlock()
	return st.Gen, next, nil
}

func (l *Live) view(ctx context.Context) (*view, error) {
	pending, err := l.State.PendingDeltas(ctx, 1000)
	if err != nil {
		return nil, err
	}
	gen, rollups, err := l.refresh(ctx)
	if err != nil {
		return nil, err
	}
	return &view{gen: gen, rollups: rollups, pending: pending}, nil
}

// listView is what the lists need: the deltas not yet consolidated (read
// first) and the state's generation, not the rollups.
func (l *Live) listView(ctx context.Context) (*view, error) {
	pending, err := l.State.PendingDeltas(ctx, 1000)
	if err != nil {
		return nil, err
	}
	st, err := l.State.State(ctx)
	if err != nil {
		return nil, err
	}
	return &view{gen: st.Gen, pending: pending}, nil
}

// unconsolidated returns the records of deltas that the rollups do not
// count yet (records sent again wait for the consolidator's check).
func (v *view) unconsolidated() []domain.Record {
	var out []domain.Record
	for _, d := range v.pending {
		if d.Dup {
			continue
		}
		for _, rec := range d.Records {
			if r := v.rollups[rec.CommuneCode]; r == nil || !r.Applied(d) {
				out = append(out, rec)
			}
		}
	}
	return out
}

// MemberCount returns how many records member logged on days [from, to].
func (l *Live) MemberCount(ctx context.Context, commune, member string, from, to domain.Date) (int, error) {
	v, err := l.view(ctx)
	if err != nil {
		return 0, err
	}
	n := 0
	if r := v.rollups[commune]; r != nil {
		n = r.Members[member].CountIn(from, to)
	}
	for _, rec := range v.unconsolidated() {
		if rec.MemberID == member && rec.Day >= from && rec.Day <= to {
			n++
		}
	}
	return n, nil
}

// Rollup returns the consolidated rollup of commune (nil if none). It does not
// include the records of the last seconds. The caller must not change it.
func (l *Live) Rollup(ctx context.Context, commune string) (*domain.Rollup, error) {
	_, rollups, err := l.refresh(ctx)
	if err != nil {
		return nil, err
	}
	return rollups[commune], nil
}

// Recent returns the newest records of list key ("m:<member>", "t:<team>",
// "c:<commune>") that keep accepts, at most n, and whether that is every
// record the list has.
func (l *Live) Recent(ctx context.Context, key string, keep func(domain.Record) bool, n int) ([]domain.Record, bool, error) {
	f := domain.RecordFilter{Limit: n}
	switch key[:2] {
	case "m:":
		f.MemberID = key[2:]
	case "t:":
		f.TeamID = key[2:]
	default:
		f.CommuneCode = key[2:]
	}
	var out []domain.Record
	complete := true
	err := l.walk(ctx, f, func(r domain.Record) (bool, error) {
		if !keep(r) {
			return true, nil
		}
		if len(out) == n {
			complete = false
			return false, nil
		}
		r.Household = ""
		out = append(out, r)
		return true, nil
	})
	return out, complete, err
}

// InsertRecords stores records (domain.AssistanceStore).
func (l *Live) InsertRecords(ctx context.Context, recs []domain.Record) ([]domain.InsertResult, error) {
	return l.Records.InsertRecords(ctx, recs)
}

// FindRecords answers a page of records, newest first, from the record
// lists and the deltas not yet consolidated (domain.AssistanceStore).
func (l *Live) FindRecords(ctx context.Context, f domain.RecordFilter) ([]domain.Record, string, error) {
	limit := domain.ClampLimit(f.Limit)
	var out []domain.Record
	next := ""
	err := l.walk(ctx, f, func(r domain.Record) (bool, error) {
		if len(out) == limit {
			next = out[limit-1].SortKey()
			return false, nil
		}
		r.Household = ""
		out = append(out, r)
		return true, nil
	})
	if err != nil {
		return nil, "", err
	}
	return out, next, nil
}

// EachRecord calls fn with every record matching f, newest first
// (domain.RecordStream).
func (l *Live) EachRecord(ctx context.Context, f domain.RecordFilter, fn func(domain.Record) (bool, error)) error {
	f.After = ""
	return l.walk(ctx, f, func(r domain.Record) (bool, error) {
		r.Household = ""
		return fn(r)
	})
}

// DayRecords calls fn with every record of commune that occurred on day,
// with every stored field, newest first (domain.RecordStream). It reads the
// commune's list pages of that day: about one page read per 64 records.
func (l *Live) DayRecords(ctx context.Context, commune string, day domain.Date, fn func(domain.Record) error) error {
	f := domain.RecordFilter{CommuneCode: commune, From: day.Time(), To: day.Next().Time()}
	return l.walk(ctx, f, func(r domain.Record) (bool, error) { return true, fn(r) })
}

// matches reports whether r passes the fields of f that its list does not.
func matches(f domain.RecordFilter, r domain.Record) bool {
	return (f.MemberID == "" || r.MemberID == f.MemberID) && (f.TeamID == "" || r.TeamID == f.TeamID) &&
		(f.CommuneCode == "" || r.CommuneCode == f.CommuneCode)
}

// listOf chooses the list that answers f: the member's, the team's, the
// commune's, or (no filter) every commune's.
func listOf(f domain.RecordFilter) string {
	switch {
	case f.MemberID != "":
		return domain.MemberList(f.MemberID)
	case f.TeamID != "":
		return domain.TeamList(f.TeamID)
	case f.CommuneCode != "":
		return domain.CommuneList(f.CommuneCode)
	}
	return ""
}

// walk calls fn with the records matching f, newest first: the lists'
// records merged with those of the deltas not yet consolidated. A page
// replaced while it is read makes it start again (once the records it
// passed on are skipped).
func (l *Live) walk(ctx context.Context, f domain.RecordFilter, fn func(domain.Record) (bool, error)) error {
	q := domain.ListQuery{}
	if !f.From.IsZero() {
		q.From = f.From.UnixMilli()
	}
	if !f.To.IsZero() {
		q.To = f.To.UnixMilli()
	}
	if f.After != "" {
		p, ok := domain.ParseSortKey(f.After)
		if !ok {
			return domain.Invalid("cursor", "cursor")
		}
		q.After = &p
	}
	emitted := map[string]bool{} // across attempts
	var err error
	for range 5 {
		var v *view
		if v, err = l.listView(ctx); err != nil {
			return err
		}
		// Records of the deltas, newest first, merged in as the lists are walked.
		var pend []domain.Record
		for _, d := range v.pending {
			for _, r := range d.Records {
				if matches(f, r) && q.Keeps(domain.PosOf(r)) {
					pend = append(pend, r)
				}
			}
		}
		sort.Slice(pend, func(i, j int) bool { return domain.PosOf(pend[j]).Before(domain.PosOf(pend[i])) })
		stop := false
		var ferr error
		emit := func(r domain.Record) bool {
			if emitted[r.ID] {
				return true
			}
			emitted[r.ID] = true
			ok, err := fn(r)
			if err != nil {
				ferr = err
			}
			stop = !ok || err != nil
			return !stop
		}
		err = l.lists(ctx, v.gen, f, q, func(e domain.ListEntry) bool {
			for len(pend) > 0 && !domain.PosOf(pend[0]).Before(e.Pos) {
				if !emit(pend[0]) {
					return false
				}
				pend = pend[1:]
			}
			r, ok := domain.DecodeListed(e.Enc)
			if !ok || !matches(f, r) {
				return true
			}
			return emit(r)
		})
		switch {
		case ferr != nil:
			return ferr
		case errors.Is(err, domain.ErrPageGone):
			continue // a consolidation replaced a page: read the head again
		case err != nil:
			return err
		}
		for _, r := range pend {
			if stop || !emit(r) {
				break
			}
		}
		return ferr
	}
	return err
}

// lists walks the list of f, or every commune's list merged when f names
// none.
func (l *Live) lists(ctx context.Context, gen int64, f domain.RecordFilter, q domain.ListQuery, fn func(domain.ListEntry) bool) error {
	if key := listOf(f); key != "" {
		return l.walkList(ctx, gen, key, q, fn)
	}
	st, err := l.State.State(ctx)
	if err != nil {
		return err
	}
	communes := make([]string, 0, len(st.Communes))
	for c := range st.Communes {
		communes = append(communes, c)
	}
	return mergeLists(ctx, communes, func(ctx context.Context, c string, fn func(domain.ListEntry) bool) error {
		return l.walkList(ctx, gen, domain.CommuneList(c), q, fn)
	}, fn)
}

func (l *Live) walkList(ctx context.Context, gen int64, key string, q domain.ListQuery, fn func(domain.ListEntry) bool) error {
	h, err := l.State.ListHead(ctx, gen, key)
	if err != nil {
		return err
	}
	return domain.WalkList(ctx, h, q, domain.ListsOf(l.State, gen, domain.ListCommune(key)), fn)
}

// mergeLists walks several lists at once, newest first. Each list is read
// as a coroutine (iter.Pull): one page at a time, and only when the merge
// gets to it, so a merge of forty communes reads what it returns and a
// little more, one query at a time.
func mergeLists(ctx context.Context, keys []string, walk func(context.Context, string, func(domain.ListEntry) bool) error,
	fn func(domain.ListEntry) bool) error {
	type src struct {
		next func() (domain.ListEntry, bool)
		stop func()
		err  *error
		head domain.ListEntry
		ok   bool
	}
	srcs := make([]*src, len(keys))
	for i, k := range keys {
		var err error
		seq := func(yield func(domain.ListEntry) bool) { err = walk(ctx, k, yield) }
		next, stop := iter.Pull(seq)
		srcs[i] = &src{next: next, stop: stop, err: &err}
		defer stop()
	}
	pull := func(s *src) error {
		s.head, s.ok = s.next()
		if !s.ok {
			return *s.err
		}
		return nil
	}
	for _, s := range srcs {
		if err := pull(s); err != nil {
			return err
		}
	}
	for {
		var best *src
		for _, s := range srcs {
			if s.ok && (best == nil || best.head.Pos.Before(s.head.Pos)) {
				best = s
			}
		}
		if best == nil || !fn(best.head) {
			return nil
		}
		if err := pull(best); err != nil {
			return err
		}
	}
}

// Pending returns the deltas not yet consolidated (the coverage job waits
// for them).
func (l *Live) Pending(ctx context.Context) ([]domain.Delta, error) {
	return l.State.PendingDeltas(ctx, 1000)
}
