// Package jobs holds cdt's background work as plain Run(ctx) units: the
// consolidation of assistance deltas into rollups, the coverage job, and the
// scheduler that runs them once across servers.
package jobs

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"sort"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/hue-cdt/cdt/domain"
)

// Consolidator applies pending deltas to the rollups, the record lists and
// the households reached. Run it under a lease: it must be the state's only
// writer.
type Consolidator struct {
	Store     domain.StateStore
	Processes domain.ProcessStore
	Scanner   domain.RecordScanner
	// Excluded lists the records excluded from the figures (nil: none).
	Excluded func(ctx context.Context) (map[string]bool, error)
	Now      func() time.Time
	Log      *slog.Logger
	// DeadAfter is how long without a heartbeat makes a server dead (default
	// 10 s): records sent again wait that long at most for the delta of the
	// server that first stored them.
	DeadAfter time.Duration
	// MaxRecords is how many records one pass applies at most (default 20,000).
	MaxRecords int
	// TempDir holds a rebuild's spill files (default: the system's).
	TempDir string
	// Workers is how many communes a pass writes at a time (default 2).
	Workers int
	// CacheHeads keeps the head documents this consolidator wrote last in
	// memory, so that a pass reads only those another process changed
	// (the server's consolidator; tens of MB at a million records).
	CacheHeads bool

	mu    sync.Mutex
	state domain.ConsolidatedState
	ready bool
	// rollups is published whole after each pass and never changed: a reader
	// (the coverage job) keeps the map it got.
	rollups map[string]*domain.Rollup
	pub     sync.Mutex
	heads   headCache
}

// headCache holds the head documents as of state (gen, version): valid only
// while the state is still that one. The first pass to take cached
// documents to change them marks the cache as its own (pass) until its new
// state is saved: a pass that fails half way leaves the cache marked by it,
// and the next pass, another, reads every document again.
type headCache struct {
	mu           sync.Mutex
	gen, version int64                         // version -1: being changed by pass
	pass         string                        // the nonce of that pass
	buckets      map[string]*domain.HeadBucket // commune + "/" + ID
}

// take returns the cached buckets ids of commune for pass (all of them or
// none), as of state st.
func (h *headCache) take(st domain.ConsolidatedState, pass, commune string, ids []string) map[string]*domain.HeadBucket {
	h.mu.Lock()
	defer h.mu.Unlock()
	if !h.current(st, pass) {
		h.buckets = nil
		return nil
	}
	h.version, h.pass = -1, pass
	out := make(map[string]*domain.HeadBucket, len(ids))
	for _, id := range ids {
		b := h.buckets[commune+"/"+id]
		if b == nil {
			return nil
		}
		out[id] = b
	}
	return out
}

func (h *headCache) current(st domain.ConsolidatedState, pass string) bool {
	return h.gen == st.Gen && (h.version == st.Version || h.version == -1 && h.pass == pass)
}

// put adds buckets that pass read from the database.
func (h *headCache) put(st domain.ConsolidatedState, pass string, bs map[string]*domain.HeadBucket) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.buckets == nil || !h.current(st, pass) {
		h.buckets, h.gen = map[string]*domain.HeadBucket{}, st.Gen
	}
	h.version, h.pass = -1, pass
	for _, b := range bs {
		h.buckets[b.Commune+"/"+b.ID] = b
	}
}

// saved marks the cache current as of the state just saved.
func (h *headCache) saved(st domain.ConsolidatedState) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.buckets != nil && h.gen == st.Gen {
		h.version = st.Version
	}
}

// Stats says what one consolidation did.
type Stats struct {
	Deltas, Records int
	// Waiting counts deltas of records sent again that wait for the server
	// that first stored them to settle; Oldest is the oldest of them.
	Waiting int
	Oldest  time.Time
}

func (j *Consolidator) deadAfter() time.Duration {
	if j.DeadAfter == 0 {
		return domain.DeadAfter
	}
	return j.DeadAfter
}

// Run consolidates every pending delta that can be.
func (j *Consolidator) Run(ctx context.Context) (Stats, error) {
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.run(ctx)
}

func (j *Consolidator) run(ctx context.Context) (Stats, error) {
	var st Stats
	if err := j.load(ctx); err != nil {
		return st, err
	}
	if j.state.Schema != domain.StateSchema {
		level := slog.LevelWarn
		if j.state.Schema == 0 {
			level = slog.LevelInfo // a new database
		}
		j.Log.Log(ctx, level, "building the consolidated state from the records", "schema", j.state.Schema,
			"want", domain.StateSchema)
		if _, err := j.rebuild(ctx, nil, j.Scanner.ScanRecords); err != nil {
			return st, err
		}
	}
	max := j.MaxRecords
	if max == 0 {
		max = 20_000
	}
	for {
		// A delta holds at least one record, or none when all were sent
		// before: max deltas hold at least as many records as a pass takes.
		deltas, err := j.Store.PendingDeltas(ctx, max)
		if err != nil {
			return st, err
		}
		ready, waiting, err := j.resolve(ctx, deltas)
		if err != nil {
			return st, err
		}
		st.Waiting = len(waiting)
		st.Oldest = time.Time{}
		for _, d := range waiting {
			if st.Oldest.IsZero() || d.At.Before(st.Oldest) {
				st.Oldest = d.At
			}
		}
		if len(ready) == 0 {
			return st, nil
		}
		// One pass applies whole deltas, up to max records.
		n, k := 0, 0
		for k < len(ready) && (k == 0 || n+len(ready[k].Records) <= max) {
			n += len(ready[k].Records)
			k++
		}
		if err := j.apply(ctx, ready[:k]); err != nil {
			j.ready = false // the cache may hold half a pass: reload next time
			return st, err
		}
		st.Deltas += k
		st.Records += n
	}
}

// RunUntil consolidates every delta written before t, waiting (at most
// twice DeadAfter) for those of records sent again whose first server may
// still write their first delta. It returns how many records it applied.
func (j *Consolidator) RunUntil(ctx context.Context, t time.Time) (int, error) {
	n := 0
	giveUp := time.Now().Add(2 * j.deadAfter())
	for {
		st, err := j.Run(ctx)
		n += st.Records
		if err != nil || st.Waiting == 0 || st.Oldest.After(t) {
			return n, err
		}
		if time.Now().After(giveUp) {
			return n, fmt.Errorf("jobs: %d deltas of records sent again still wait for the servers that first stored them", st.Waiting)
		}
		if err := domain.Sleep(ctx, 200*time.Millisecond); err != nil {
			return n, err
		}
	}
}

// load reads the state and the rollups unless this consolidator wrote them last.
func (j *Consolidator) load(ctx context.Context) error {
	st, err := j.Store.State(ctx)
	if err != nil {
		return err
	}
	if j.ready && st.Gen == j.state.Gen && st.Version == j.state.Version {
		return nil
	}
	rollups, err := j.Store.Rollups(ctx, st.Gen)
	if err != nil {
		return err
	}
	j.state, j.ready = st, true
	j.publish(rollups)
	return nil
}

func (j *Consolidator) publish(rollups map[string]*domain.Rollup) {
	j.pub.Lock()
	j.rollups = rollups
	j.pub.Unlock()
}

// Rollups returns the consolidated rollups (cached; the caller must not
// change them).
func (j *Consolidator) Rollups(ctx context.Context) (map[string]*domain.Rollup, error) {
	j.mu.Lock()
	err := j.load(ctx)
	j.mu.Unlock()
	if err != nil {
		return nil, err
	}
	j.pub.Lock()
	defer j.pub.Unlock()
	return j.rollups, nil
}

// Households counts, as of day, the households reached in the communes
// codes (the codes of one commune today), one shard at a time; a household
// reached under two codes counts once.
func (j *Consolidator) Households(ctx context.Context, codes []string, day domain.Date) (domain.HouseholdCount, error) {
	j.mu.Lock()
	gen := j.state.Gen
	j.mu.Unlock()
	c := domain.HouseholdCount{Day: day, ByVillage: map[string]int{}}
	if len(codes) == 1 {
		err := j.Store.EachHouseholdShard(ctx, gen, codes[0], func(s *domain.HouseholdShard) error {
			c.AddShard(s)
			return nil
		})
		return c, err
	}
	merged := domain.NewHouseholdShard("", 0)
	for _, code := range codes {
		err := j.Store.EachHouseholdShard(ctx, gen, code, func(s *domain.HouseholdShard) error {
			merged.Set.Merge(s.Set)
			for v, n := range s.Retired {
				merged.Retired[v] += n
			}
			return nil
		})
		if err != nil {
			return c, err
		}
	}
	c.AddShard(merged)
	return c, nil
}

// resolve turns the deltas of records sent again into ordinary ones, with
// only the records that nothing counts yet, once no server can still write
// the delta that first carried them. It returns the deltas ready to apply, in
// order, and those that wait (with every later delta of their process: a
// process's deltas apply in order).
func (j *Consolidator) resolve(ctx context.Context, deltas []domain.Delta) (ready, waiting []domain.Delta, err error) {
	hasDup := false
	for _, d := range deltas {
		hasDup = hasDup || d.Dup
	}
	if !hasDup {
		return deltas, nil, nil
	}
	var procs []domain.Process
	if j.Processes != nil {
		if procs, err = j.Processes.Processes(ctx); err != nil {
			return nil, nil, err
		}
	}
	excluded := map[string]bool{}
	if j.Excluded != nil {
		if excluded, err = j.Excluded(ctx); err != nil {
			return nil, nil, err
		}
	}
	inDeltas := map[string]bool{}
	for _, d := range deltas {
		if !d.Dup {
			for _, r := range d.Records {
				inDeltas[r.ID] = true
			}
		}
	}
	deadline := j.Now().Add(-j.deadAfter())
	held := map[string]bool{} // processes with a delta waiting
	heads := map[string]*domain.ListHead{}
	for _, d := range deltas {
		if held[d.Process] {
			waiting = append(waiting, d)
			continue
		}
		if !d.Dup {
			ready = append(ready, d)
			continue
		}
		settled := true
		for _, p := range procs {
			settled = settled && p.Settled(d.At, deadline)
		}
		if !settled {
			held[d.Process] = true
			waiting = append(waiting, d)
			continue
		}
		var fresh []domain.Record
		for _, r := range d.Records {
			if inDeltas[r.ID] || excluded[r.ID] {
				continue
			}
			has, err := j.listed(ctx, heads, r)
			if err != nil {
				return nil, nil, err
			}
			if !has {
				fresh = append(fresh, r)
				inDeltas[r.ID] = true
			}
		}
		// Written before anything of it is applied: a pass that dies half way
		// finds the same answer again.
		resolved := domain.Delta{ID: d.ID, Process: d.Process, Seq: d.Seq, At: d.At, Records: fresh}
		if err := j.Store.ResolveDelta(ctx, resolved); err != nil {
			return nil, nil, err
		}
		if len(fresh) > 0 {
			j.Log.Info("records sent again counted: their first delta was never written", "delta", d.ID, "records", len(fresh))
		}
		ready = append(ready, resolved)
	}
	return ready, waiting, nil
}

// listed reports whether r is in its member's list.
func (j *Consolidator) listed(ctx context.Context, heads map[string]*domain.ListHead, r domain.Record) (bool, error) {
	key := domain.MemberList(r.MemberID)
	h := heads[key]
	if h == nil {
		var err error
		if h, err = j.Store.ListHead(ctx, j.state.Gen, key); err != nil {
			return false, err
		}
		heads[key] = h
	}
	p := domain.PosOf(r)
	for _, e := range h.Tail {
		if e.Pos == p {
			return true, nil
		}
	}
	rd := domain.ListsOf(j.Store, j.state.Gen, domain.ListCommune(key))
	ref, ok, err := domain.FindPage(ctx, h, p, rd)
	if err != nil || !ok {
		return false, err
	}
	entries, err := rd.Page(ctx, ref)
	if err != nil {
		return false, err
	}
	for _, e := range entries {
		if e.Pos == p {
			return true, nil
		}
	}
	return false, nil
}

// pass is the work of one consolidation.
type pass struct {
	j       *Consolidator
	gen     int64
	nonce   string
	rollups map[string]*domain.Rollup // copies being changed
	lists   map[string]map[string][]domain.ListEntry
	house   map[string]map[int][]domain.Record
}

func newNonce() string {
	b := make([]byte, 3)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func (j *Consolidator) apply(ctx context.Context, deltas []domain.Delta) error {
	p := &pass{j: j, gen: j.state.Gen, nonce: newNonce(), rollups: map[string]*domain.Rollup{},
		lists: map[string]map[string][]domain.ListEntry{}, house: map[string]map[int][]domain.Record{}}
	var t phases
	records := 0
	began := time.Now()
	defer func() {
		level := slog.LevelDebug
		if time.Since(began) > 2*time.Second {
			level = slog.LevelInfo // a slow pass: what it spent its time on
		}
		j.Log.Log(ctx, level, "consolidation pass", "ms", time.Since(began).Milliseconds(), "deltas", len(deltas), "records", records, "communes", len(p.rollups),
			"read_heads_ms", t[0].Milliseconds(), "add_ms", t[1].Milliseconds(), "save_lists_ms", t[2].Milliseconds(),
			"households_ms", t[3].Milliseconds(), "rollups_ms", t[4].Milliseconds(), "trash_ms", t[5].Milliseconds())
	}()
	for _, d := range deltas {
		records += len(d.Records)
		communes := map[string]bool{}
		for _, rec := range d.Records {
			communes[rec.CommuneCode] = true
			p.add(rec)
		}
		for c := range communes {
			j.rollupCopy(p.rollups, c).Apply(d)
		}
	}
	// The communes' lists and households are independent: Workers of them
	// at a time (the database decodes and encodes one commune's documents
	// while this process prepares another's).
	var trash []trashed
	var mu sync.Mutex
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(j.workers())
	for _, c := range sortedKeys(p.rollups) {
		g.Go(func() error {
			var ct phases
			tr, err := p.commune(gctx, c, &ct)
			mu.Lock()
			defer mu.Unlock()
			for i := range 4 {
				t[i] += ct[i]
			}
			trash = append(trash, tr)
			return err
		})
	}
	if err := g.Wait(); err != nil {
		return err
	}
	sort.Slice(trash, func(a, b int) bool { return trash[a].commune < trash[b].commune })
	ids := make([]string, len(deltas))
	for i, d := range deltas {
		ids[i] = d.ID
	}
	t.start()
	return j.finish(ctx, p.rollups, trash, ids, &t)
}

// phases times the steps of a pass, for its debug log line.
type phases [7]time.Duration

func (t *phases) start() { t[6] = time.Duration(time.Now().UnixNano()) }

func (t *phases) lap(i int) {
	now := time.Duration(time.Now().UnixNano())
	t[i] += now - t[6]
	t[6] = now
}

// commune writes the lists and household shards of commune that the pass
// changes.
func (p *pass) commune(ctx context.Context, c string, t *phases) (trashed, error) {
	j := p.j
	t.start()
	w, err := j.lists(ctx, p.gen, c, p.nonce, keysOf(p.lists[c]))
	if err != nil {
		return trashed{}, err
	}
	t.lap(0)
	for _, key := range sortedKeys(p.lists[c]) {
		edit, err := domain.AddToList(ctx, w.head(key), p.lists[c][key], w.rd, w.alloc)
		if err != nil {
			return trashed{}, fmt.Errorf("jobs: list %s: %w", key, err)
		}
		w.take(edit)
	}
	t.lap(1)
	tr, err := w.save(ctx)
	if err != nil {
		return trashed{}, err
	}
	t.lap(2)
	if err := p.saveHouseholds(ctx, c); err != nil {
		return trashed{}, err
	}
	t.lap(3)
	return tr, nil
}

func (j *Consolidator) workers() int {
	if j.Workers > 0 {
		return j.Workers
	}
	return 2
}

// rollupCopy returns the copy of commune's rollup that rollups holds for a
// change, made from the published one the first time.
func (j *Consolidator) rollupCopy(rollups map[string]*domain.Rollup, commune string) *domain.Rollup {
	if r := rollups[commune]; r != nil {
		return r
	}
	j.pub.Lock()
	old := j.rollups[commune]
	j.pub.Unlock()
	r := domain.NewRollup(commune)
	if old != nil {
		r = old.Clone()
	}
	rollups[commune] = r
	return r
}

// finish saves the changed rollups (last: a pass that dies before them is
// applied again, and lists and household sets take the same records twice
// without change) and the state, publishes them, deletes the deltas applied
// and the pages replaced by the pass before.
func (j *Consolidator) finish(ctx context.Context, changed map[string]*domain.Rollup, trash []trashed, deltas []string, t *phases) error {
	today := domain.DateOf(j.Now())
	communes := sortedKeys(changed)
	saved := make([]*domain.Rollup, 0, len(communes))
	for _, c := range communes {
		r := changed[c]
		r.Trim(today)
		r.Version++
		saved = append(saved, r)
	}
	if err := j.Store.SaveRollups(ctx, j.state.Gen, saved); err != nil {
		return err
	}
	next := j.state
	next.Version++
	next.Communes = make(map[string]int64, len(j.state.Communes)+len(communes))
	for c, v := range j.state.Communes {
		next.Communes[c] = v
	}
	for _, t := range trash {
		next.Communes[t.commune] = next.Version
	}
	for _, c := range communes {
		next.Communes[c] = next.Version
	}
	if err := j.Store.SaveState(ctx, next); err != nil {
		return err
	}
	j.state = next
	j.heads.saved(next)
	j.pub.Lock()
	published := make(map[string]*domain.Rollup, len(j.rollups)+len(saved))
	for c, r := range j.rollups {
		published[c] = r
	}
	j.pub.Unlock()
	for _, r := range saved {
		published[r.Commune] = r
	}
	j.publish(published)
	t.lap(4)
	defer t.lap(5)
	if len(deltas) > 0 {
		if err := j.Store.DeleteDeltas(ctx, deltas); err != nil {
			return err
		}
	}
	// Pages replaced by the pass before: whoever read a head naming them has
	// had a whole pass to read them.
	for _, t := range trash {
		if err := j.Store.DeletePages(ctx, j.state.Gen, t.commune, t.refs); err != nil {
			return err
		}
		for _, seg := range t.drop {
			if err := j.Store.DropSegment(ctx, j.state.Gen, t.commune, seg); err != nil {
				return err
			}
		}
	}
	return nil
}

// add sorts one record into the lists and household shards it changes.
func (p *pass) add(rec domain.Record) {
	c := rec.CommuneCode
	if p.lists[c] == nil {
		p.lists[c] = map[string][]domain.ListEntry{}
		p.house[c] = map[int][]domain.Record{}
	}
	for _, key := range domain.ListKeys(rec) {
		p.lists[c][key] = append(p.lists[c][key], domain.EntryOf(rec, key))
	}
	if k, ok := domain.ParseHouseholdKey(rec.Household); ok {
		n := domain.ShardOf(k)
		p.house[c][n] = append(p.house[c][n], rec)
	}
}

func (p *pass) saveHouseholds(ctx context.Context, c string) error {
	if len(p.house[c]) == 0 {
		return nil
	}
	ns := sortedKeys(p.house[c])
	shards, err := p.j.Store.HouseholdShards(ctx, p.gen, c, ns)
	if err != nil {
		return err
	}
	var changed []*domain.HouseholdShard
	for _, n := range ns {
		s := shards[n]
		dirty := false
		for _, rec := range p.house[c][n] {
			dirty = s.Set.Add(rec) || dirty
		}
		if dirty {
			changed = append(changed, s)
		}
	}
	return p.j.Store.SaveHouseholdShards(ctx, p.gen, changed)
}

// listWriter changes a commune's lists: it reads the head documents it
// needs, names new pages and puts them in the commune's current page
// collection, and writes pages and heads.
type listWriter struct {
	st      domain.StateStore
	gen     int64
	commune string
	nonce   string
	buckets map[string]*domain.HeadBucket
	ids     []string
	book    *domain.PageBook
	old     []domain.PageRef // replaced by the pass before
	pages   []domain.ListPage
	rd      domain.ListReader
}

// trashed is what a commune's lists no longer name.
type trashed struct {
	commune string
	refs    []domain.PageRef
	drop    []int
}

func (j *Consolidator) lists(ctx context.Context, gen int64, commune, nonce string, keys []string) (*listWriter, error) {
	ids := map[string]bool{"c": true}
	for _, key := range keys {
		ids[domain.ListBucket(key)] = true
	}
	w := &listWriter{st: j.Store, gen: gen, commune: commune, nonce: nonce, ids: sortedKeys(ids),
		rd: domain.ListsOf(j.Store, gen, commune)}
	if j.CacheHeads {
		w.buckets = j.heads.take(j.state, nonce, commune, w.ids)
	}
	if w.buckets == nil {
		var err error
		if w.buckets, err = j.Store.HeadBuckets(ctx, gen, commune, w.ids); err != nil {
			return nil, err
		}
		if j.CacheHeads {
			j.heads.put(j.state, nonce, w.buckets)
		}
	}
	w.book = w.buckets["c"].Pages
	w.old, w.book.Trash = w.book.Trash, nil
	return w, nil
}

func (w *listWriter) head(key string) *domain.ListHead {
	return w.buckets[domain.ListBucket(key)].Head(key)
}

func (w *listWriter) alloc(key string) (string, int) {
	b := w.book
	b.Next++
	if b.Inserted >= domain.SegmentPages {
		b.Seg, b.Inserted = b.Seg+1, 0
	}
	b.Inserted++
	b.Live[b.Seg]++
	return domain.NewPageID(b.Next, w.nonce), b.Seg
}

// take collects what a list change made and replaced.
func (w *listWriter) take(e domain.ListEdit) {
	w.pages = append(w.pages, e.Insert...)
	for _, ref := range e.Replace {
		w.book.Live[ref.Seg]--
		w.book.Trash = append(w.book.Trash, ref)
	}
}

// save writes the new pages, then the heads that name them. It returns the
// pages the previous pass replaced (to delete now) and the page collections
// that hold no live page (to drop).
func (w *listWriter) save(ctx context.Context) (trashed, error) {
	t := trashed{commune: w.commune}
	if err := w.st.InsertPages(ctx, w.gen, w.commune, w.pages); err != nil {
		return t, err
	}
	dropped := map[int]bool{}
	for seg, n := range w.book.Live {
		if n <= 0 && seg != w.book.Seg {
			t.drop = append(t.drop, seg)
			dropped[seg] = true
			delete(w.book.Live, seg)
		}
	}
	bs := make([]*domain.HeadBucket, 0, len(w.ids))
	for _, id := range w.ids {
		bs = append(bs, w.buckets[id])
	}
	if err := w.st.SaveHeadBuckets(ctx, w.gen, bs); err != nil {
		return t, err
	}
	for _, ref := range w.old {
		if !dropped[ref.Seg] {
			t.refs = append(t.refs, ref)
		}
	}
	return t, nil
}

func sortedKeys[K int | string, V any](m map[K]V) []K {
	out := make([]K, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out
}

func keysOf[V any](m map[string]V) []string { return sortedKeys(m) }
