package jobs

import (
	"bufio"
	"context"
	"fmt"
	"hash/fnv"
	"os"
	"sort"
	"strings"

	"github.com/hue-cdt/cdt/domain"
)

// Rebuild recomputes the whole consolidated state from one scan of the
// records. It first consolidates what is pending; then it counts exactly the
// records whose delta is consolidated or pending (seq at or below the
// watermark of its process), and those of a server that is gone, so records
// arriving meanwhile are neither lost nor counted twice: their deltas come
// later.
//
// The new state is written as the next generation of collections, and the
// state switches to it at the end: readers see the old state until then, and
// a rebuild that dies leaves it as it was.
func (j *Consolidator) Rebuild(ctx context.Context, also map[string]int64) (int, error) {
	return j.RebuildFrom(ctx, also, j.Scanner.ScanRecords)
}

// RebuildFrom is Rebuild with another source of records than a scan of the
// collection: a seeder passes the records it generates and stores. also adds
// processes to the watermark (records written in bulk by a seeder carry a
// delta that was never stored).
func (j *Consolidator) RebuildFrom(ctx context.Context, also map[string]int64, source func(context.Context, func(domain.Record) error) error) (int, error) {
	j.mu.Lock()
	defer j.mu.Unlock()
	if err := j.load(ctx); err != nil {
		return 0, err
	}
	if j.state.Schema == domain.StateSchema {
		if _, err := j.run(ctx); err != nil {
			return 0, err
		}
	}
	return j.rebuild(ctx, also, source)
}

func (j *Consolidator) rebuild(ctx context.Context, also map[string]int64, source func(context.Context, func(domain.Record) error) error) (int, error) {
	old := j.state
	mark := map[string]int64{}
	for p, s := range old.Mark {
		mark[p] = s
	}
	j.pub.Lock()
	for _, r := range j.rollups {
		for p, s := range r.Seen {
			mark[p] = max(mark[p], s)
		}
	}
	j.pub.Unlock()
	for p, s := range also {
		mark[p] = max(mark[p], s)
	}
	// The old rollups are not needed any more: let them go before the scan
	// (readers wait for the consolidator's lock, which this holds).
	j.publish(nil)
	// Deltas still pending (before a first state, or waiting): their records
	// are stored, so the scan counts them, and the rollups take them as
	// applied.
	pending, err := j.Store.PendingDeltas(ctx, 100_000)
	if err != nil {
		return 0, err
	}
	for _, d := range pending {
		mark[d.Process] = max(mark[d.Process], d.Seq)
	}
	// A record counts when its delta is consolidated or pending (seq at or
	// below the mark), or when the server that stored it is gone: then its
	// delta will never come. Other records' deltas come after the rebuild.
	gone := map[string]bool{}
	if j.Processes != nil {
		procs, err := j.Processes.Processes(ctx)
		if err != nil {
			return 0, err
		}
		deadline := j.Now().Add(-j.deadAfter())
		for _, p := range procs {
			if p.Stopped || p.Heartbeat.Before(deadline) {
				gone[p.ID] = true
			}
		}
	}
	excluded := map[string]bool{}
	if j.Excluded != nil {
		if excluded, err = j.Excluded(ctx); err != nil {
			return 0, err
		}
	}
	spill, err := newSpill(j.TempDir)
	if err != nil {
		return 0, err
	}
	defer spill.remove()
	// The scan keeps the rollups only: households and lists are built one
	// commune at a time from its spilled records, so that memory never holds
	// every commune's households at once.
	rollups := map[string]*domain.Rollup{}
	n := 0
	err = source(ctx, func(rec domain.Record) error {
		p, seq, ok := domain.ParseDeltaID(rec.Delta)
		if !ok || seq > mark[p] && !gone[p] || excluded[rec.ID] {
			return nil
		}
		c := rec.CommuneCode
		if rollups[c] == nil {
			rollups[c] = domain.NewRollup(c)
		}
		rollups[c].Count(rec)
		n++
		return spill.add(rec)
	})
	if err != nil {
		return n, fmt.Errorf("jobs: rebuild: %w", err)
	}
	if err := spill.flush(); err != nil {
		return n, err
	}
	j.Log.Debug("rebuild: records read", "records", n)
	gen := old.Gen + 1
	if err := j.Store.DropGen(ctx, gen); err != nil { // what a rebuild that died left
		return n, err
	}
	nonce := newNonce()
	if err := spill.each(func(commune string, lines []string) error {
		if err := j.writeHouseholds(ctx, gen, commune, lines); err != nil {
			return err
		}
		return j.writeLists(ctx, gen, commune, lines, nonce)
	}); err != nil {
		return n, err
	}
	j.Log.Debug("rebuild: lists written")
	today := domain.DateOf(j.Now())
	next := domain.ConsolidatedState{Schema: domain.StateSchema, Gen: gen, Version: old.Version + 1,
		Communes: map[string]int64{}, Mark: mark}
	saved := make([]*domain.Rollup, 0, len(rollups))
	for c, r := range rollups {
		r.Seen = copyMark(mark)
		r.Trim(today)
		r.Version = next.Version
		next.Communes[c] = next.Version
		saved = append(saved, r)
	}
	if err := j.Store.SaveRollups(ctx, gen, saved); err != nil {
		return n, err
	}
	if err := j.Store.SaveState(ctx, next); err != nil {
		return n, err
	}
	j.state = next
	j.publish(rollups)
	j.Log.Debug("rebuild: state switched", "gen", gen)
	if old.Schema == domain.StateSchema {
		if err := j.Store.DropGen(ctx, old.Gen); err != nil {
			j.Log.Warn("dropping the previous state", "gen", old.Gen, "err", err)
		}
	}
	j.Log.Debug("rebuild: previous state dropped", "gen", old.Gen)
	return n, nil
}

// writeHouseholds writes a commune's households reached from all its
// records (the lines of the spill files).
func (j *Consolidator) writeHouseholds(ctx context.Context, gen int64, commune string, lines []string) error {
	shards := make([]*domain.HouseholdShard, domain.HouseholdShards)
	for i := range shards {
		shards[i] = domain.NewHouseholdShard(commune, i)
	}
	villages := map[string]string{}
	for _, line := range lines {
		rec, ok := domain.DecodeListed(line)
		if !ok {
			return fmt.Errorf("jobs: rebuild: a spilled record in an unknown form")
		}
		k, ok := domain.ParseHouseholdKey(rec.Household)
		if !ok {
			continue
		}
		v, seen := villages[rec.VillageCode]
		if !seen {
			v, villages[rec.VillageCode] = rec.VillageCode, rec.VillageCode
		}
		shards[domain.ShardOf(k)].Set.Set(k, domain.DayNumber(rec.Day), v)
	}
	var used []*domain.HouseholdShard
	for _, h := range shards {
		if h.Set.Len() > 0 {
			used = append(used, h)
		}
	}
	return j.Store.InsertHouseholdShards(ctx, gen, used)
}

// writeLists writes a commune's lists from all its records (the lines of
// the spill files, in the encoding of commune lists): the commune's list,
// then its teams' and its members', one list at a time, so that memory holds
// the commune's lines and one list's encodings at most.
func (j *Consolidator) writeLists(ctx context.Context, gen int64, commune string, lines []string, nonce string) error {
	all := make([]domain.ListEntry, len(lines))
	byKey := map[string][]int32{} // list → indexes into all
	for i, line := range lines {
		p, ok1 := domain.ListedPos(line)
		member, team, _, ok2 := domain.ListedOwner(line)
		if !ok1 || !ok2 {
			return fmt.Errorf("jobs: rebuild: a spilled record in an unknown form")
		}
		all[i] = domain.ListEntry{Pos: p, Enc: line}
		for _, key := range []string{domain.MemberList(member), domain.TeamList(team)} {
			byKey[key] = append(byKey[key], int32(i))
		}
	}
	w := &listWriter{st: j.Store, gen: gen, commune: commune, nonce: nonce, book: &domain.PageBook{Live: map[int]int{}},
		buckets: map[string]*domain.HeadBucket{}}
	w.buckets["c"] = &domain.HeadBucket{Commune: commune, ID: "c", Heads: map[string]*domain.ListHead{}, Pages: w.book}
	put := func(key string, es []domain.ListEntry) error {
		domain.SortEntries(es)
		h, pages := domain.SealList(key, es, w.alloc)
		id := domain.ListBucket(key)
		if w.buckets[id] == nil {
			w.buckets[id] = &domain.HeadBucket{Commune: commune, ID: id, Heads: map[string]*domain.ListHead{}}
		}
		w.buckets[id].Heads[key] = h
		w.pages = append(w.pages, pages...)
		if len(w.pages) >= 100 {
			if err := j.Store.InsertPages(ctx, gen, commune, w.pages); err != nil {
				return err
			}
			w.pages = nil
		}
		return nil
	}
	if err := put(domain.CommuneList(commune), all); err != nil {
		return err
	}
	for _, key := range sortedKeys(byKey) {
		es := make([]domain.ListEntry, len(byKey[key]))
		for k, i := range byKey[key] { // all is sorted by now: lines are not
			p, _ := domain.ListedPos(lines[i])
			short, _ := domain.ShortListed(lines[i])
			es[k] = domain.ListEntry{Pos: p, Enc: short}
		}
		delete(byKey, key)
		if err := put(key, es); err != nil {
			return err
		}
	}
	if err := j.Store.InsertPages(ctx, gen, commune, w.pages); err != nil {
		return err
	}
	bs := make([]*domain.HeadBucket, 0, len(w.buckets))
	for _, id := range sortedKeys(w.buckets) {
		bs = append(bs, w.buckets[id])
	}
	return j.Store.InsertHeadBuckets(ctx, gen, bs)
}

func copyMark(m map[string]int64) map[string]int64 {
	out := make(map[string]int64, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

// spill keeps a rebuild's records on disk, in files by commune (one file
// each for the first spillFiles communes, then shared), so that the lists
// are built one commune at a time and a rebuild holds no more than one
// commune's records in memory.
type spill struct {
	dir   string
	files []*os.File
	w     []*bufio.Writer
	of    map[string]int
}

const spillFiles = 256

func newSpill(tmp string) (*spill, error) {
	dir, err := os.MkdirTemp(tmp, "cdt-rebuild-")
	if err != nil {
		return nil, fmt.Errorf("jobs: rebuild: %w", err)
	}
	return &spill{dir: dir, of: map[string]int{}}, nil
}

func (s *spill) file(commune string) (*bufio.Writer, error) {
	i, ok := s.of[commune]
	if !ok {
		if len(s.files) < spillFiles {
			f, err := os.Create(fmt.Sprintf("%s/%03d", s.dir, len(s.files)))
			if err != nil {
				return nil, fmt.Errorf("jobs: rebuild: %w", err)
			}
			s.files = append(s.files, f)
			s.w = append(s.w, bufio.NewWriterSize(f, 8<<10))
			i = len(s.files) - 1
		} else {
			h := fnv.New32a()
			h.Write([]byte(commune))
			i = int(h.Sum32() % spillFiles)
		}
		s.of[commune] = i
	}
	return s.w[i], nil
}

func (s *spill) add(rec domain.Record) error {
	w, err := s.file(rec.CommuneCode)
	if err != nil {
		return err
	}
	if _, err := w.WriteString(domain.EncodeListed(rec, domain.ListedFull)); err != nil {
		return err
	}
	return w.WriteByte('\n')
}

func (s *spill) flush() error {
	for _, w := range s.w {
		if err := w.Flush(); err != nil {
			return fmt.Errorf("jobs: rebuild: %w", err)
		}
	}
	return nil
}

// each calls fn with every commune's lines, one file at a time.
func (s *spill) each(fn func(commune string, lines []string) error) error {
	for _, f := range s.files {
		if _, err := f.Seek(0, 0); err != nil {
			return err
		}
		byCommune := map[string][]string{}
		sc := bufio.NewScanner(f)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			line := sc.Text()
			_, _, commune, ok := domain.ListedOwner(line)
			if !ok {
				return fmt.Errorf("jobs: rebuild: a spilled record in an unknown form")
			}
			byCommune[commune] = append(byCommune[commune], strings.Clone(line))
		}
		if err := sc.Err(); err != nil {
			return err
		}
		communes := make([]string, 0, len(byCommune))
		for c := range byCommune {
			communes = append(communes, c)
		}
		sort.Strings(communes)
		for _, c := range communes {
			if err := fn(c, byCommune[c]); err != nil {
				return err
			}
			delete(byCommune, c)
		}
	}
	return nil
}

func (s *spill) remove() {
	for _, f := range s.files {
		f.Close()
	}
	os.RemoveAll(s.dir)
}
