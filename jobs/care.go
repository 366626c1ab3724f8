package jobs

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/hue-cdt/cdt/domain"
)

// CareRecords is what Care changes in the records themselves.
type CareRecords interface {
	// Exclude records that a record is excluded (ErrConflict if it is already).
	Exclude(ctx context.Context, id, reason string, at time.Time) error
	// ForgetHousehold removes a household hash from every record (a scan).
	ForgetHousehold(ctx context.Context, hash string) (int, error)
	// DropHouseholdsBefore removes the household hash of every record that
	// occurred before cutoff (a scan).
	DropHouseholdsBefore(ctx context.Context, cutoff time.Time) (int, error)
}

// Care implements domain.RecordCare: each change goes through the
// consolidator, the state's single writer. Run its methods under the
// consolidation lease (App.RecordCare does).
type Care struct {
	Consolidator *Consolidator
	Records      CareRecords
	// Lease runs fn while holding the consolidation lease (nil: the caller
	// holds it).
	Lease func(ctx context.Context, fn func(context.Context) error) error
}

var _ domain.RecordCare = (*Care)(nil)

func (c *Care) locked(ctx context.Context, fn func(ctx context.Context) error) error {
	run := func(ctx context.Context) error {
		j := c.Consolidator
		j.mu.Lock()
		defer j.mu.Unlock()
		if _, err := j.run(ctx); err != nil { // everything acknowledged first
			return err
		}
		return fn(ctx)
	}
	if c.Lease == nil {
		return run(ctx)
	}
	return c.Lease(ctx, run)
}

// ExcludeRecord takes record id out of every figure and list. It costs a
// read of its member's list and, when the record was its household's first
// contact, of its commune's list (to find the household's next first
// contact): a few seconds for a large ward at a million records.
func (c *Care) ExcludeRecord(ctx context.Context, id, reason string) error {
	return c.locked(ctx, func(ctx context.Context) error {
		j := c.Consolidator
		member, _, _ := strings.Cut(id, ":")
		rec, found, err := j.findInList(ctx, domain.MemberList(member), func(r domain.Record) bool { return r.ID == id })
		if err != nil {
			return err
		}
		if !found {
			return fmt.Errorf("jobs: record %s: %w", id, domain.ErrNotFound)
		}
		// The commune's list keeps every field of the record (its household).
		full, _, err := j.findInList(ctx, domain.CommuneList(rec.CommuneCode), func(r domain.Record) bool { return r.ID == id })
		if err != nil {
			return err
		}
		if err := c.Records.Exclude(ctx, id, reason, j.Now()); err != nil {
			return err
		}
		e := j.newEdit()
		for _, key := range domain.ListKeys(rec) {
			e.remove(rec.CommuneCode, key, domain.PosOf(rec))
		}
		e.uncount(rec)
		if k, ok := domain.ParseHouseholdKey(full.Household); ok {
			e.refirst(rec.CommuneCode, k)
		}
		return j.commit(ctx, e)
	})
}

// HouseholdRecords returns the records that carry household hash, with every
// stored field: the communes that reached it are found in their household
// shards, then their lists are read whole (a few seconds per large ward at a
// million records).
func (c *Care) HouseholdRecords(ctx context.Context, hash string) ([]domain.Record, error) {
	var out []domain.Record
	err := c.locked(ctx, func(ctx context.Context) error {
		var err error
		out, err = c.Consolidator.householdRecords(ctx, hash)
		return err
	})
	return out, err
}

// ForgetHousehold removes household hash from every record, list and set of
// households reached. The records themselves are updated with one scan of
// the assistance collection (minutes at a million records on FerretDB).
func (c *Care) ForgetHousehold(ctx context.Context, hash string) (int, error) {
	k, ok := domain.ParseHouseholdKey(hash)
	if !ok {
		return 0, domain.Invalid("household", "household_ref")
	}
	n := 0
	err := c.locked(ctx, func(ctx context.Context) error {
		j := c.Consolidator
		recs, err := j.householdRecords(ctx, hash)
		if err != nil {
			return err
		}
		e := j.newEdit()
		for _, r := range recs {
			r.Household = ""
			e.replace(r.CommuneCode, domain.CommuneList(r.CommuneCode), domain.PosOf(r), domain.EncodeListed(r, domain.ListedFull))
			e.forget(r.CommuneCode, k)
		}
		if err := j.commit(ctx, e); err != nil {
			return err
		}
		n, err = c.Records.ForgetHousehold(ctx, hash)
		return err
	})
	return n, err
}

// DropHouseholdsBefore removes the household hash of every record that
// occurred before cutoff. A household first reached before it and not since
// leaves the sets, counted as reached without its hash; one reached since
// keeps its hash on those newer records, so it stays in the set with its
// first contact moved to the first of them (assisted again, it is still one
// household). It reads every commune's whole list and scans the assistance
// collection.
func (c *Care) DropHouseholdsBefore(ctx context.Context, cutoff time.Time) (int, error) {
	n := 0
	err := c.locked(ctx, func(ctx context.Context) error {
		j := c.Consolidator
		e := j.newEdit()
		q := domain.ListQuery{To: cutoff.UnixMilli()}
		day := domain.DayNumber(domain.DateOf(cutoff))
		for _, commune := range sortedKeys(j.state.Communes) {
			err := j.walk(ctx, domain.CommuneList(commune), q, func(r domain.Record) bool {
				if r.Household != "" {
					r.Household = ""
					e.replace(commune, domain.CommuneList(commune), domain.PosOf(r), domain.EncodeListed(r, domain.ListedFull))
				}
				return true
			})
			if err != nil {
				return err
			}
			if err := j.retire(ctx, e, commune, day, cutoff); err != nil {
				return err
			}
		}
		if err := j.commit(ctx, e); err != nil {
			return err
		}
		var err error
		n, err = c.Records.DropHouseholdsBefore(ctx, cutoff)
		return err
	})
	return n, err
}

// retire takes out of commune's sets the households first reached before
// day (the cutoff's): those reached again since cutoff get the first of
// their newer records as first contact, the others are counted as retired.
func (j *Consolidator) retire(ctx context.Context, e *edit, commune string, day int32, cutoff time.Time) error {
	type oldContact struct {
		shard   *domain.HouseholdShard
		village string
	}
	old := map[domain.HouseholdKey]oldContact{}
	err := j.Store.EachHouseholdShard(ctx, j.state.Gen, commune, func(s *domain.HouseholdShard) error {
		n := len(old)
		s.Set.Each(func(k domain.HouseholdKey, first int32, village string) {
			if first < day {
				old[k] = oldContact{shard: s, village: village}
			}
		})
		if len(old) > n {
			e.shard(s)
		}
		return nil
	})
	if err != nil || len(old) == 0 {
		return err
	}
	for k, c := range old {
		c.shard.Set.Remove(k)
	}
	since := map[domain.HouseholdKey]bool{}
	err = j.walk(ctx, domain.CommuneList(commune), domain.ListQuery{From: cutoff.UnixMilli()}, func(r domain.Record) bool {
		if k, ok := domain.ParseHouseholdKey(r.Household); ok {
			if c, was := old[k]; was {
				c.shard.Set.Add(r) // keeps the earliest
				since[k] = true
			}
		}
		return true
	})
	if err != nil {
		return err
	}
	for k, c := range old {
		if !since[k] {
			c.shard.Retired[c.village]++
		}
	}
	return nil
}

// ---- the consolidator's side ----

// edit is a change of the consolidated state outside the deltas, per
// commune: list entries to remove or rewrite, records to take out of the
// rollup, households to forget or whose first contact to find again, shards
// to write.
type edit struct {
	communes map[string]*communeEdit
}

type communeEdit struct {
	removes  map[string][]domain.Pos
	replaces map[string]map[domain.Pos]string
	uncount  []domain.Record
	forget   []domain.HouseholdKey
	refirst  []domain.HouseholdKey
	shards   []*domain.HouseholdShard
}

func (j *Consolidator) newEdit() *edit { return &edit{communes: map[string]*communeEdit{}} }

func (e *edit) of(commune string) *communeEdit {
	c := e.communes[commune]
	if c == nil {
		c = &communeEdit{removes: map[string][]domain.Pos{}, replaces: map[string]map[domain.Pos]string{}}
		e.communes[commune] = c
	}
	return c
}

func (e *edit) remove(commune, key string, p domain.Pos) {
	c := e.of(commune)
	c.removes[key] = append(c.removes[key], p)
}

func (e *edit) replace(commune, key string, p domain.Pos, enc string) {
	c := e.of(commune)
	if c.replaces[key] == nil {
		c.replaces[key] = map[domain.Pos]string{}
	}
	c.replaces[key][p] = enc
}

func (e *edit) uncount(r domain.Record) { c := e.of(r.CommuneCode); c.uncount = append(c.uncount, r) }
func (e *edit) forget(commune string, k domain.HouseholdKey) {
	c := e.of(commune)
	c.forget = append(c.forget, k)
}
func (e *edit) refirst(commune string, k domain.HouseholdKey) {
	c := e.of(commune)
	c.refirst = append(c.refirst, k)
}
func (e *edit) shard(s *domain.HouseholdShard) { c := e.of(s.Commune); c.shards = append(c.shards, s) }

// commit writes an edit: lists first, then households (whose first contacts
// are found again in the lists as they are now), then the rollups and the
// state. The consolidator's lock is held.
func (j *Consolidator) commit(ctx context.Context, e *edit) error {
	nonce := newNonce()
	rollups := map[string]*domain.Rollup{}
	var trash []trashed
	for _, commune := range sortedKeys(e.communes) {
		ce := e.communes[commune]
		keys := append(sortedKeys(ce.removes), sortedKeys(ce.replaces)...)
		w, err := j.lists(ctx, j.state.Gen, commune, nonce, keys)
		if err != nil {
			return err
		}
		for _, key := range sortedKeys(ce.removes) {
			le, err := domain.RemoveFromList(ctx, w.head(key), ce.removes[key], w.rd, w.alloc)
			if err != nil {
				return err
			}
			w.take(le)
		}
		for _, key := range sortedKeys(ce.replaces) {
			le, err := domain.ReplaceInList(ctx, w.head(key), ce.replaces[key], w.rd, w.alloc)
			if err != nil {
				return err
			}
			w.take(le)
		}
		t, err := w.save(ctx)
		if err != nil {
			return err
		}
		trash = append(trash, t)
		if err := j.commitHouseholds(ctx, commune, ce); err != nil {
			return err
		}
		if len(ce.uncount) > 0 {
			r := j.rollupCopy(rollups, commune)
			for _, rec := range ce.uncount {
				r.Uncount(rec)
			}
		}
	}
	return j.finish(ctx, rollups, trash, nil, &phases{})
}

func (j *Consolidator) commitHouseholds(ctx context.Context, commune string, ce *communeEdit) error {
	changed := map[int]*domain.HouseholdShard{}
	for _, s := range ce.shards {
		changed[s.N] = s
	}
	shard := func(k domain.HouseholdKey) (*domain.HouseholdShard, error) {
		n := domain.ShardOf(k)
		if s := changed[n]; s != nil {
			return s, nil
		}
		got, err := j.Store.HouseholdShards(ctx, j.state.Gen, commune, []int{n})
		if err != nil {
			return nil, err
		}
		changed[n] = got[n]
		return got[n], nil
	}
	for _, k := range append(append([]domain.HouseholdKey(nil), ce.forget...), ce.refirst...) {
		s, err := shard(k)
		if err != nil {
			return err
		}
		s.Set.Remove(k)
	}
	if len(ce.refirst) > 0 {
		// The remaining records of those households, in the list as written.
		want := map[string]domain.HouseholdKey{}
		for _, k := range ce.refirst {
			want[k.String()] = k
		}
		err := j.walk(ctx, domain.CommuneList(commune), domain.ListQuery{}, func(r domain.Record) bool {
			if k, ok := want[r.Household]; ok {
				changed[domain.ShardOf(k)].Set.Add(r)
			}
			return true
		})
		if err != nil {
			return err
		}
	}
	if len(changed) == 0 {
		return nil
	}
	shards := make([]*domain.HouseholdShard, 0, len(changed))
	for _, n := range sortedKeys(changed) {
		shards = append(shards, changed[n])
	}
	return j.Store.SaveHouseholdShards(ctx, j.state.Gen, shards)
}

// walk calls fn with the decoded records of list key that q keeps.
func (j *Consolidator) walk(ctx context.Context, key string, q domain.ListQuery, fn func(domain.Record) bool) error {
	h, err := j.Store.ListHead(ctx, j.state.Gen, key)
	if err != nil {
		return err
	}
	return domain.WalkList(ctx, h, q, domain.ListsOf(j.Store, j.state.Gen, domain.ListCommune(key)), func(e domain.ListEntry) bool {
		r, ok := domain.DecodeListed(e.Enc)
		return !ok || fn(r)
	})
}

func (j *Consolidator) findInList(ctx context.Context, key string, match func(domain.Record) bool) (domain.Record, bool, error) {
	var found domain.Record
	ok := false
	err := j.walk(ctx, key, domain.ListQuery{}, func(r domain.Record) bool {
		if match(r) {
			found, ok = r, true
			return false
		}
		return true
	})
	return found, ok, err
}

func (j *Consolidator) householdRecords(ctx context.Context, hash string) ([]domain.Record, error) {
	k, ok := domain.ParseHouseholdKey(hash)
	if !ok {
		return nil, domain.Invalid("household", "household_ref")
	}
	var out []domain.Record
	for _, c := range sortedKeys(j.state.Communes) {
		shards, err := j.Store.HouseholdShards(ctx, j.state.Gen, c, []int{domain.ShardOf(k)})
		if err != nil {
			return nil, err
		}
		if _, reached := shards[domain.ShardOf(k)].Set.First(hash); !reached {
			continue
		}
		if err := j.walk(ctx, domain.CommuneList(c), domain.ListQuery{}, func(r domain.Record) bool {
			if r.Household == hash {
				out = append(out, r)
			}
			return true
		}); err != nil {
			return nil, err
		}
	}
	return out, nil
}
