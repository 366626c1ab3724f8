// Package jobs holds cdt's background work as plain Run(ctx) units: the
// consolidation of assistance deltas into rollups, the coverage job, and the
// scheduler that runs them once across servers.
package jobs

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/hue-cdt/cdt/domain"
)

// Consolidator applies pending deltas to the rollups, household sets and
// recent lists. Run it under a lease: it must be the state's only writer.
type Consolidator struct {
	Store     domain.RollupStore
	Processes domain.ProcessStore
	Scanner   domain.RecordScanner
	Now       func() time.Time
	Log       *slog.Logger
	// DeadAfter is how long without a heartbeat makes a server dead (default 5 min).
	DeadAfter time.Duration

	mu         sync.Mutex
	version    int64 // state version the cache below reflects
	rollups    map[string]*domain.Rollup
	households map[string]*domain.HouseholdSet
}

// Stats says what one consolidation did.
type Stats struct {
	Deltas, Records, Recovered int
}

// Run consolidates every pending delta.
func (j *Consolidator) Run(ctx context.Context) (Stats, error) {
	j.mu.Lock()
	defer j.mu.Unlock()
	var st Stats
	n, err := j.recover(ctx)
	if err != nil {
		return st, err
	}
	st.Recovered = n
	for {
		deltas, err := j.Store.PendingDeltas(ctx, 200)
		if err != nil {
			return st, err
		}
		if len(deltas) == 0 {
			return st, nil
		}
		if err := j.apply(ctx, deltas); err != nil {
			j.rollups = nil // the cache may hold half-applied deltas: reload next time
			return st, err
		}
		st.Deltas += len(deltas)
		for _, d := range deltas {
			st.Records += len(d.Records)
		}
	}
}

// load refreshes the cached state unless this consolidator wrote it last.
func (j *Consolidator) load(ctx context.Context) error {
	st, err := j.Store.State(ctx)
	if err != nil {
		return err
	}
	v := st.Version
	if j.rollups != nil && v == j.version {
		return nil
	}
	if j.rollups, err = j.Store.Rollups(ctx); err != nil {
		return err
	}
	if j.households, err = j.Store.HouseholdSets(ctx); err != nil {
		return err
	}
	j.version = v
	return nil
}

func (j *Consolidator) apply(ctx context.Context, deltas []domain.Delta) error {
	if err := j.load(ctx); err != nil {
		return err
	}
	touched := map[string]bool{}
	recent := map[string][]domain.Record{}
	for _, d := range deltas {
		communes := map[string]bool{}
		for _, rec := range d.Records {
			communes[rec.CommuneCode] = true
		}
		for c := range communes {
			r := j.rollups[c]
			if r == nil {
				r = domain.NewRollup(c)
				j.rollups[c] = r
			}
			h := j.households[c]
			if h == nil {
				h = domain.NewHouseholdSet(c)
				j.households[c] = h
			}
			if r.Apply(d) {
				touched[c] = true
			}
			if h.Apply(d) {
				touched[c] = true
			}
		}
		for _, rec := range d.Records {
			for k := range domain.RecentKeys(rec) {
				recent[k] = append(recent[k], rec)
			}
		}
	}
	today := domain.DateOf(j.Now())
	for c := range touched {
		r, h := j.rollups[c], j.households[c]
		r.Trim(today)
		r.Version++
		h.Version++
		if err := j.Store.SaveRollup(ctx, r); err != nil {
			return err
		}
		if err := j.Store.SaveHouseholdSet(ctx, h); err != nil {
			return err
		}
	}
	keys, err := j.saveRecent(ctx, recent)
	if err != nil {
		return err
	}
	change := domain.StateChange{Version: j.version + 1, Recent: keys}
	for c := range touched {
		change.Communes = append(change.Communes, c)
	}
	sort.Strings(change.Communes)
	if err := j.Store.SaveState(ctx, change); err != nil {
		return err
	}
	j.version++
	ids := make([]string, len(deltas))
	for i, d := range deltas {
		ids[i] = d.ID
	}
	return j.Store.DeleteDeltas(ctx, ids)
}

func (j *Consolidator) saveRecent(ctx context.Context, recent map[string][]domain.Record) ([]string, error) {
	keys := make([]string, 0, len(recent))
	for k := range recent {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	lists, err := j.Store.RecentMany(ctx, keys)
	if err != nil {
		return nil, err
	}
	out := make([]*domain.Recent, 0, len(keys))
	for _, k := range keys {
		r := lists[k]
		r.Add(recent[k], domain.RecentKeys(recent[k][0])[k])
		out = append(out, r)
	}
	if err := j.Store.SaveRecents(ctx, out); err != nil {
		return nil, err
	}
	return keys, nil
}

// recover rebuilds the deltas that dead servers stored records for but never
// flushed, from the records themselves (which name their delta).
func (j *Consolidator) recover(ctx context.Context) (int, error) {
	if j.Processes == nil {
		return 0, nil
	}
	procs, err := j.Processes.Processes(ctx)
	if err != nil {
		return 0, err
	}
	dead := j.DeadAfter
	if dead == 0 {
		dead = 5 * time.Minute
	}
	n := 0
	for _, p := range procs {
		if p.Stopped || p.Recovered || j.Now().Sub(p.Heartbeat) < dead {
			continue
		}
		recs, err := j.Processes.RecordsOfDeltasAfter(ctx, p.ID, p.Flushed)
		if err != nil {
			return n, err
		}
		byDelta := map[string][]domain.Record{}
		for _, r := range recs {
			byDelta[r.Delta] = append(byDelta[r.Delta], r)
		}
		for id, rs := range byDelta {
			proc, seq, ok := domain.ParseDeltaID(id)
			if !ok || proc != p.ID {
				continue
			}
			err := j.Store.InsertDelta(ctx, domain.Delta{ID: id, Process: proc, Seq: seq, At: j.Now(), Records: rs})
			if err != nil && !errors.Is(err, domain.ErrConflict) {
				return n, err
			}
			n += len(rs)
		}
		p.Recovered = true
		if err := j.Processes.SaveProcess(ctx, p); err != nil {
			return n, err
		}
		j.Log.Warn("rebuilt the unflushed deltas of a dead server", "process", p.ID, "host", p.Host,
			"last_heartbeat", p.Heartbeat, "records", len(recs))
	}
	return n, nil
}

// Rebuild recomputes the whole state from one scan of the records. It first
// consolidates what is pending; then it counts exactly the records whose delta
// is consolidated (seq at or below the watermark of their process), so records
// arriving meanwhile are neither lost nor counted twice: their deltas come later.
//
// also adds processes to the watermark: records written in bulk by a seeder
// carry a delta that was never stored (DeltaID(process, 1)).
func (j *Consolidator) Rebuild(ctx context.Context, also map[string]int64) (int, error) {
	return j.RebuildFrom(ctx, also, j.Scanner.ScanRecords)
}

// RebuildFrom is Rebuild with another source of records than a scan of the
// collection: a seeder passes the records it generates and stores.
func (j *Consolidator) RebuildFrom(ctx context.Context, also map[string]int64, source func(context.Context, func(domain.Record) error) error) (int, error) {
	if _, err := j.Run(ctx); err != nil {
		return 0, err
	}
	j.mu.Lock()
	defer j.mu.Unlock()
	old, err := j.Store.Rollups(ctx)
	if err != nil {
		return 0, err
	}
	mark := map[string]int64{}
	for _, r := range old {
		for p, s := range r.Seen {
			mark[p] = max(mark[p], s)
		}
	}
	// The old state is not needed any more: let it go before the scan.
	j.rollups, j.households = nil, nil
	state, err := j.Store.State(ctx)
	if err != nil {
		return 0, err
	}
	j.version = state.Version
	for p, s := range also {
		mark[p] = max(mark[p], s)
	}
	rollups := map[string]*domain.Rollup{}
	households := map[string]*domain.HouseholdSet{}
	recent := newTopN()
	interned := map[string]string{}
	intern := func(s string) string {
		if v, ok := interned[s]; ok {
			return v
		}
		interned[s] = s
		return s
	}
	n := 0
	err = source(ctx, func(rec domain.Record) error {
		p, seq, ok := domain.ParseDeltaID(rec.Delta)
		if !ok || seq > mark[p] {
			return nil
		}
		// Household sets keep each household's first day and village:
		// share those strings rather than keep one copy per household.
		rec.Day, rec.VillageCode = domain.Date(intern(string(rec.Day))), intern(rec.VillageCode)
		c := rec.CommuneCode
		if rollups[c] == nil {
			rollups[c], households[c] = domain.NewRollup(c), domain.NewHouseholdSet(c)
		}
		rollups[c].Count(rec)
		households[c].Add(rec)
		recent.add(rec)
		n++
		return nil
	})
	if err != nil {
		return n, fmt.Errorf("jobs: rebuild: %w", err)
	}
	if err := j.Store.ClearState(ctx); err != nil {
		return n, err
	}
	today := domain.DateOf(j.Now())
	for c, r := range rollups {
		r.Seen, households[c].Seen = copyMark(mark), copyMark(mark)
		r.Trim(today)
		r.Version, households[c].Version = j.version+1, j.version+1
		if err := j.Store.SaveRollup(ctx, r); err != nil {
			return n, err
		}
		if err := j.Store.SaveHouseholdSet(ctx, households[c]); err != nil {
			return n, err
		}
	}
	if err := j.Store.InsertRecents(ctx, recent.encoded()); err != nil {
		return n, err
	}
	if err := j.Store.SaveState(ctx, domain.StateChange{Version: j.version + 1, All: true}); err != nil {
		return n, err
	}
	j.rollups, j.households, j.version = rollups, households, j.version+1
	return n, nil
}

func copyMark(m map[string]int64) map[string]int64 {
	out := make(map[string]int64, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

// topN keeps the newest records of every recent list, each record encoded
// once (domain.EncodeListed) and shared by its member's, team's and commune's
// lists: a million-record rebuild holds about 230,000 list entries.
type topN struct {
	lists map[string][]listed
}

type listed struct {
	at  int64   // OccurredAt, Unix milliseconds
	enc *string // begins with the record's ID, which breaks ties
}

// newer reports whether the record (at, id) comes before b in a list.
func newer(at int64, id string, b listed) bool {
	return at > b.at || (at == b.at && id > listedID(*b.enc))
}

func listedID(enc string) string {
	id, _, _ := strings.Cut(enc, "\x1f")
	return id
}

func newTopN() *topN { return &topN{lists: map[string][]listed{}} }

func (t *topN) add(rec domain.Record) {
	e := listed{at: rec.OccurredAt.UnixMilli()}
	for _, kn := range [...]struct {
		key string
		n   int
	}{{"m:" + rec.MemberID, domain.RecentMember}, {"t:" + rec.TeamID, domain.RecentTeam}, {"c:" + rec.CommuneCode, domain.RecentCommune}} {
		l := t.lists[kn.key]
		if len(l) == kn.n && !newer(e.at, rec.ID, l[kn.n-1]) {
			continue
		}
		if e.enc == nil {
			enc := domain.EncodeListed(rec)
			e.enc = &enc
		}
		i := sort.Search(len(l), func(i int) bool { return newer(e.at, rec.ID, l[i]) })
		if l == nil {
			l = make([]listed, 0, kn.n) // no room lost to append's doubling
		}
		if len(l) < kn.n {
			l = append(l, listed{})
		}
		copy(l[i+1:], l[i:])
		l[i] = e
		t.lists[kn.key] = l
	}
}

// encoded returns the lists, newest first.
func (t *topN) encoded() map[string][]string {
	out := make(map[string][]string, len(t.lists))
	for k, l := range t.lists {
		recs := make([]string, len(l))
		for i, e := range l {
			recs[i] = *e.enc
		}
		out[k] = recs
	}
	return out
}

// State returns the consolidated rollups and household sets (cached).
func (j *Consolidator) State(ctx context.Context) (map[string]*domain.Rollup, map[string]*domain.HouseholdSet, error) {
	j.mu.Lock()
	defer j.mu.Unlock()
	if err := j.load(ctx); err != nil {
		return nil, nil, err
	}
	return j.rollups, j.households, nil
}
