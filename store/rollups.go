package store

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/hue-cdt/cdt/domain"
)

const (
	collDeltas = "assistance_deltas"
	collState  = "rollup_state"
)

// Rollups implements domain.StateStore. Deltas are a small queue; the
// consolidated state of generation G lives in per-commune collections, so
// that every read and write touches a small one (FerretDB scans the
// collection of every query, and an update or delete costs a few
// microseconds per document of it):
//
//	g<G>_state_<commune>      the rollup ("rollup")
//	g<G>_house_<commune>      the households reached, in domain.HouseholdShards shards ("h00"…)
//	g<G>_lists_<commune>      the heads of the commune's record lists ("c", "b00"…)
//	g<G>_pages_<commune>_<S>  sealed pages of those lists, at most domain.SegmentPages inserted in each
//
// Only the consolidator, which holds a lease, writes them.
type Rollups struct {
	db            *mongo.Database
	deltas, state *mongo.Collection
}

func newRollups(db *mongo.Database) *Rollups {
	return &Rollups{db: db, deltas: db.Collection(collDeltas), state: db.Collection(collState)}
}

// schemaV is the version every store-private document of the state carries.
const schemaV = domain.StateSchema

func genPrefix(gen int64) string { return "g" + strconv.FormatInt(gen, 10) + "_" }

func (s *Rollups) stateColl(gen int64, commune string) *mongo.Collection {
	return s.db.Collection(genPrefix(gen) + "state_" + commune)
}

// houseColl holds a commune's household shards, apart from its rollup: every
// lookup or replace of a shard scans it.
func (s *Rollups) houseColl(gen int64, commune string) *mongo.Collection {
	return s.db.Collection(genPrefix(gen) + "house_" + commune)
}

// listColl is the collection of one head document of a commune: one each,
// so that a lookup reads nothing else (a large ward's heads hold 4.5 MB at
// a million records).
func (s *Rollups) listColl(gen int64, commune, bucket string) *mongo.Collection {
	return s.db.Collection(genPrefix(gen) + "lists_" + commune + "_" + bucket)
}

// sep separates the records (and lines) of the strings that hold many: "␞",
// which JSON keeps as it is where a newline costs an escape that SQLite's
// parser reads on every lookup (notes never keep it: domain.EncodeListed).
const sep = domain.ListSep

func (s *Rollups) pageColl(gen int64, commune string, seg int) *mongo.Collection {
	return s.db.Collection(fmt.Sprintf("%spages_%s_%04d", genPrefix(gen), commune, seg))
}

// ---- deltas ----

// deltaDoc is a delta: its records in the compact form of the lists
// (domain.EncodeListed, every field), separated by "␞". The queue holds seconds
// of records; a page that shows live counts reads it, and one string is far
// cheaper for FerretDB to return than a sub-document per record.
type deltaDoc struct {
	ID      string    `bson:"_id"`
	V       int       `bson:"v"`
	Process string    `bson:"process"`
	Seq     int64     `bson:"seq"`
	At      time.Time `bson:"at"`
	Dup     bool      `bson:"dup,omitempty"`
	N       int       `bson:"n"`
	Records string    `bson:"records"`
}

// InsertDelta stores a delta (ErrConflict if its ID exists).
func (s *Rollups) InsertDelta(ctx context.Context, d domain.Delta) error {
	_, err := s.deltas.InsertOne(ctx, deltaDocOf(d))
	return wrap("insert delta", err)
}

func deltaDocOf(d domain.Delta) deltaDoc {
	lines := make([]string, len(d.Records))
	for i, r := range d.Records {
		lines[i] = domain.EncodeListed(r, domain.ListedFull)
	}
	return deltaDoc{ID: d.ID, V: schemaV, Process: d.Process, Seq: d.Seq, At: d.At.UTC(), Dup: d.Dup,
		N: len(lines), Records: strings.Join(lines, sep)}
}

// PendingDeltas returns up to limit deltas in ID order.
func (s *Rollups) PendingDeltas(ctx context.Context, limit int) ([]domain.Delta, error) {
	docs, err := findDocs[deltaDoc](ctx, "pending deltas", s.deltas, bson.D{},
		options.Find().SetSort(bson.D{{Key: "_id", Value: 1}}).SetLimit(int64(limit)))
	if err != nil {
		return nil, err
	}
	out := make([]domain.Delta, len(docs))
	for i, d := range docs {
		out[i] = domain.Delta{ID: d.ID, Process: d.Process, Seq: d.Seq, At: d.At, Dup: d.Dup}
		if d.Records == "" {
			continue
		}
		for _, line := range strings.Split(d.Records, sep) {
			r, ok := domain.DecodeListed(line)
			if !ok {
				return nil, fmt.Errorf("store: delta %s: a record in an unknown form", d.ID)
			}
			out[i].Records = append(out[i].Records, r)
		}
	}
	return out, nil
}

// ResolveDelta replaces a delta of records sent again by its resolution.
func (s *Rollups) ResolveDelta(ctx context.Context, d domain.Delta) error {
	doc := deltaDocOf(d)
	_, err := s.deltas.ReplaceOne(ctx, bson.D{{Key: "_id", Value: d.ID}}, doc)
	return wrap("resolve delta", err)
}

// DeleteDeltas removes consolidated deltas.
func (s *Rollups) DeleteDeltas(ctx context.Context, ids []string) error {
	// Every delete of many _ids decodes the whole queue: few, large ones.
	const batch = 20_000
	for i := 0; i < len(ids); i += batch {
		_, err := s.deltas.DeleteMany(ctx, bson.D{{Key: "_id", Value: bson.D{{Key: "$in", Value: ids[i:min(i+batch, len(ids))]}}}})
		if err != nil {
			return wrap("delete deltas", err)
		}
	}
	return nil
}

// ---- state ----

type stateDoc struct {
	ID       string           `bson:"_id"`
	Schema   int              `bson:"schema"`
	Gen      int64            `bson:"gen"`
	Version  int64            `bson:"version"`
	Communes map[string]int64 `bson:"communes"`
	Mark     map[string]int64 `bson:"mark"`
}

// State returns where the consolidated state is (schema 0 if none).
func (s *Rollups) State(ctx context.Context) (domain.ConsolidatedState, error) {
	var d stateDoc
	err := s.state.FindOne(ctx, bson.D{{Key: "_id", Value: "state"}}).Decode(&d)
	if errors.Is(err, mongo.ErrNoDocuments) {
		return domain.ConsolidatedState{Communes: map[string]int64{}, Mark: map[string]int64{}}, nil
	}
	if err != nil {
		return domain.ConsolidatedState{}, wrap("state", err)
	}
	st := domain.ConsolidatedState{Schema: d.Schema, Gen: d.Gen, Version: d.Version, Communes: d.Communes, Mark: d.Mark}
	if st.Communes == nil {
		st.Communes = map[string]int64{}
	}
	if st.Mark == nil {
		st.Mark = map[string]int64{}
	}
	return st, nil
}

// SaveState records the state (single writer: the consolidator).
func (s *Rollups) SaveState(ctx context.Context, st domain.ConsolidatedState) error {
	d := stateDoc{ID: "state", Schema: st.Schema, Gen: st.Gen, Version: st.Version, Communes: st.Communes, Mark: st.Mark}
	_, err := s.state.ReplaceOne(ctx, bson.D{{Key: "_id", Value: "state"}}, d, upsert())
	return wrap("save state", err)
}

// ---- rollups ----

// rollupDoc is a commune's rollup. Its per-day, per-member and per-team
// counts are kept as JSON in one binary value (Counts): only the
// consolidator writes them, FerretDB stores a type schema with every nested
// value (a large ward's rollup took 80 ms to write as sub-documents), and as
// a string the JSON's quotes cost an escape each that SQLite parses on every
// lookup in the collection (`cdt export rollups` gives them as ordinary
// documents).
type rollupDoc struct {
	ID        string           `bson:"_id"`
	V         int              `bson:"v"`
	Commune   string           `bson:"commune"`
	Version   int64            `bson:"version"`
	Seen      map[string]int64 `bson:"seen"`
	Total     int              `bson:"total"`
	Before    int              `bson:"before"`
	Late      int              `bson:"late"`
	Corrected int              `bson:"corrected"`
	Villages  map[string]int   `bson:"villages"`
	Counts    []byte           `bson:"counts"`
}

type rollupCounts struct {
	Days    map[domain.Date]*domain.DayCount `json:"days"`
	Members map[string]*domain.Activity      `json:"members"`
	Teams   map[string]*domain.Activity      `json:"teams"`
}

// Rollups returns every commune's rollup of generation gen.
func (s *Rollups) Rollups(ctx context.Context, gen int64) (map[string]*domain.Rollup, error) {
	communes, err := s.communes(ctx, gen, "state_")
	if err != nil {
		return nil, err
	}
	return s.RollupsOf(ctx, gen, communes)
}

// communes lists the communes that have collections of kind in gen.
func (s *Rollups) communes(ctx context.Context, gen int64, kind string) ([]string, error) {
	names, err := s.db.ListCollectionNames(ctx, bson.D{})
	if err != nil {
		return nil, wrap("collections", err)
	}
	var out []string
	for _, n := range names {
		if c, ok := strings.CutPrefix(n, genPrefix(gen)+kind); ok {
			out = append(out, c)
		}
	}
	sort.Strings(out)
	return out, nil
}

// RollupsOf reads the rollups of communes, one _id lookup each.
func (s *Rollups) RollupsOf(ctx context.Context, gen int64, communes []string) (map[string]*domain.Rollup, error) {
	out := make(map[string]*domain.Rollup, len(communes))
	for _, c := range communes {
		var d rollupDoc
		err := s.stateColl(gen, c).FindOne(ctx, bson.D{{Key: "_id", Value: "rollup"}}).Decode(&d)
		if errors.Is(err, mongo.ErrNoDocuments) {
			continue
		}
		if err != nil {
			return nil, wrap("rollup "+c, err)
		}
		r, err := d.rollup()
		if err != nil {
			return nil, err
		}
		out[c] = r
	}
	return out, nil
}

func (d rollupDoc) rollup() (*domain.Rollup, error) {
	var c rollupCounts
	if len(d.Counts) > 0 {
		if err := json.Unmarshal(d.Counts, &c); err != nil {
			return nil, fmt.Errorf("store: rollup %s: %w", d.Commune, err)
		}
	}
	r := domain.NewRollup(d.Commune)
	r.Version, r.Total, r.Before, r.Late, r.Corrected = d.Version, d.Total, d.Before, d.Late, d.Corrected
	if d.Seen != nil {
		r.Seen = d.Seen
	}
	if d.Villages != nil {
		r.Villages = d.Villages
	}
	if c.Days != nil {
		r.Days = c.Days
	}
	if c.Members != nil {
		r.Members = c.Members
	}
	if c.Teams != nil {
		r.Teams = c.Teams
	}
	for _, dc := range r.Days {
		dc.Services, dc.Outcomes, dc.Genders = nz(dc.Services), nz(dc.Outcomes), nz(dc.Genders)
		dc.AgeGroups, dc.Places = nz(dc.AgeGroups), nz(dc.Places)
	}
	return r, nil
}

func nz(m map[string]int) map[string]int {
	if m == nil {
		return map[string]int{}
	}
	return m
}

// SaveRollups writes rollups (the consolidator is their only writer).
func (s *Rollups) SaveRollups(ctx context.Context, gen int64, rs []*domain.Rollup) error {
	for _, r := range rs {
		counts, err := json.Marshal(rollupCounts{Days: r.Days, Members: r.Members, Teams: r.Teams})
		if err != nil {
			return fmt.Errorf("store: rollup %s: %w", r.Commune, err)
		}
		d := rollupDoc{ID: "rollup", V: schemaV, Commune: r.Commune, Version: r.Version, Seen: r.Seen, Total: r.Total,
			Before: r.Before, Late: r.Late, Corrected: r.Corrected, Villages: r.Villages, Counts: counts}
		if _, err := s.stateColl(gen, r.Commune).ReplaceOne(ctx, bson.D{{Key: "_id", Value: "rollup"}}, d, upsert()); err != nil {
			return wrap("save rollup "+r.Commune, err)
		}
	}
	return nil
}

// ---- households ----

// householdDoc keeps a shard of the households a commune reached as one
// binary value: per household its 16-byte hash, its first day (days since
// 2000-01-01, 2 bytes) and its village (2-byte index into Villages).
type householdDoc struct {
	ID       string         `bson:"_id"` // "h00"…
	V        int            `bson:"v"`
	Commune  string         `bson:"commune"`
	N        int            `bson:"n"`
	Villages []string       `bson:"villages"`
	Entries  []byte         `bson:"entries"`
	Retired  map[string]int `bson:"retired,omitempty"`
}

const householdEntry = 20

func shardID(n int) string { return fmt.Sprintf("h%02d", n) }

func (d householdDoc) shard() *domain.HouseholdShard {
	h := domain.NewHouseholdShard(d.Commune, d.N)
	for i := 0; i+householdEntry <= len(d.Entries); i += householdEntry {
		e := d.Entries[i : i+householdEntry]
		var k domain.HouseholdKey
		copy(k[:], e[:16])
		v := int(binary.BigEndian.Uint16(e[18:20]))
		village := ""
		if v < len(d.Villages) {
			village = d.Villages[v]
		}
		h.Set.Set(k, int32(binary.BigEndian.Uint16(e[16:18])), village)
	}
	for v, n := range d.Retired {
		h.Retired[v] = n
	}
	return h
}

// HouseholdShards reads shards ns of commune (empty ones for those missing),
// with one query: each lookup would scan the collection.
func (s *Rollups) HouseholdShards(ctx context.Context, gen int64, commune string, ns []int) (map[int]*domain.HouseholdShard, error) {
	out := make(map[int]*domain.HouseholdShard, len(ns))
	ids := make([]string, len(ns))
	for i, n := range ns {
		ids[i] = shardID(n)
		out[n] = domain.NewHouseholdShard(commune, n)
	}
	filter := bson.D{{Key: "_id", Value: bson.D{{Key: "$in", Value: ids}}}}
	if len(ids) == 1 {
		filter = bson.D{{Key: "_id", Value: ids[0]}} // the one filter FerretDB hands to SQL
	}
	err := s.eachShard(ctx, gen, commune, filter, func(h *domain.HouseholdShard) error {
		out[h.N] = h
		return nil
	})
	return out, err
}

// EachHouseholdShard streams the shards of commune, one query for them all.
func (s *Rollups) EachHouseholdShard(ctx context.Context, gen int64, commune string, fn func(*domain.HouseholdShard) error) error {
	return s.eachShard(ctx, gen, commune, bson.D{}, fn)
}

func (s *Rollups) eachShard(ctx context.Context, gen int64, commune string, filter bson.D, fn func(*domain.HouseholdShard) error) error {
	cur, err := s.houseColl(gen, commune).Find(ctx, filter)
	if err != nil {
		return wrap("household shards", err)
	}
	defer cur.Close(ctx)
	for cur.Next(ctx) {
		var d householdDoc
		if err := cur.Decode(&d); err != nil {
			return wrap("household shard", err)
		}
		if err := fn(d.shard()); err != nil {
			return err
		}
	}
	return wrap("household shards", cur.Err())
}

// SaveHouseholdShards writes shards, one bulk write per commune.
func (s *Rollups) SaveHouseholdShards(ctx context.Context, gen int64, shards []*domain.HouseholdShard) error {
	return s.writeShards(ctx, gen, shards, false)
}

// InsertHouseholdShards writes new shards, one insert per commune (an upsert
// would first look for each).
func (s *Rollups) InsertHouseholdShards(ctx context.Context, gen int64, shards []*domain.HouseholdShard) error {
	return s.writeShards(ctx, gen, shards, true)
}

func (s *Rollups) writeShards(ctx context.Context, gen int64, shards []*domain.HouseholdShard, fresh bool) error {
	byCommune := map[string][]any{}
	for _, h := range shards {
		d, err := toHouseholdDoc(h)
		if err != nil {
			return err
		}
		byCommune[h.Commune] = append(byCommune[h.Commune], d)
	}
	for c, docs := range byCommune {
		if err := writeDocs(ctx, s.houseColl(gen, c), docs, fresh); err != nil {
			return wrap("save household shards", err)
		}
	}
	return nil
}

// writeDocs inserts new documents, or replaces (upserts) documents by _id,
// in one round trip.
func writeDocs(ctx context.Context, c *mongo.Collection, docs []any, fresh bool) error {
	if len(docs) == 0 {
		return nil
	}
	if fresh {
		_, err := c.InsertMany(ctx, docs, options.InsertMany().SetOrdered(false))
		return err
	}
	models := make([]mongo.WriteModel, len(docs))
	for i, d := range docs {
		raw, err := bson.Marshal(d)
		if err != nil {
			return err
		}
		models[i] = mongo.NewReplaceOneModel().SetFilter(bson.D{{Key: "_id", Value: bson.Raw(raw).Lookup("_id")}}).
			SetReplacement(bson.Raw(raw)).SetUpsert(true)
	}
	return replaceMany(ctx, c, models)
}

// replaceBatch is how many replaces (or updates) go to the database in one
// bulk write. FerretDB keeps the read of every update of a batch open, each
// on a SQLite connection of its own, until the whole batch is done: a batch
// of 40 opened 40 connections, each holding its own copy of the schema of
// hundreds of collections (about 3 MB), and the pool keeps them.
const replaceBatch = 4

// replaceMany sends replace (or update) models in batches of replaceBatch.
func replaceMany(ctx context.Context, c *mongo.Collection, models []mongo.WriteModel) error {
	for i := 0; i < len(models); i += replaceBatch {
		if _, err := c.BulkWrite(ctx, models[i:min(i+replaceBatch, len(models))], options.BulkWrite().SetOrdered(false)); err != nil {
			return err
		}
	}
	return nil
}

func toHouseholdDoc(h *domain.HouseholdShard) (householdDoc, error) {
	type entry struct {
		k       domain.HouseholdKey
		day     int32
		village string
	}
	entries := make([]entry, 0, h.Set.Len())
	h.Set.Each(func(k domain.HouseholdKey, day int32, village string) {
		entries = append(entries, entry{k, day, village})
	})
	sort.Slice(entries, func(i, j int) bool { return bytes.Compare(entries[i].k[:], entries[j].k[:]) < 0 })
	d := householdDoc{ID: shardID(h.N), V: schemaV, Commune: h.Commune, N: h.N, Entries: make([]byte, 0, len(entries)*householdEntry)}
	if len(h.Retired) > 0 {
		d.Retired = h.Retired
	}
	villages := map[string]int{}
	var e [householdEntry]byte
	for _, f := range entries {
		if f.day < 0 || f.day > math.MaxUint16 {
			return d, fmt.Errorf("store: household first day %s outside 2000–2179", domain.DateOfNumber(f.day))
		}
		v, ok := villages[f.village]
		if !ok {
			v = len(d.Villages)
			villages[f.village] = v
			d.Villages = append(d.Villages, f.village)
		}
		copy(e[:16], f.k[:])
		binary.BigEndian.PutUint16(e[16:18], uint16(f.day))
		binary.BigEndian.PutUint16(e[18:20], uint16(v))
		d.Entries = append(d.Entries, e[:]...)
	}
	return d, nil
}

// HouseholdSets returns, per commune, every household reached (tests and
// tools: the coverage job streams the shards instead).
func (s *Rollups) HouseholdSets(ctx context.Context) (map[string]*domain.HouseholdSet, error) {
	st, err := s.State(ctx)
	if err != nil {
		return nil, err
	}
	communes, err := s.communes(ctx, st.Gen, "house_")
	if err != nil {
		return nil, err
	}
	out := map[string]*domain.HouseholdSet{}
	for _, c := range communes {
		set := domain.NewHouseholdSet()
		if err := s.EachHouseholdShard(ctx, st.Gen, c, func(h *domain.HouseholdShard) error {
			set.Merge(h.Set)
			return nil
		}); err != nil {
			return nil, err
		}
		out[c] = set
	}
	return out, nil
}

// ---- record lists ----

// headDoc is one document of a commune's list heads. Each list is kept as
// lines of one string (Lists, lines ending in "␞"): "#<key>", then "T<record>" for the records
// of its tail, newest first, in the form of domain.EncodeListed, then
// "P<page>" for its sealed pages, newest first, as
// "id|collection|records|newest ms|oldest ms|newest id|oldest id".
// FerretDB writes a type schema with every element of an array and SQLite
// parses it on every lookup: with arrays, a lookup in a large ward's heads
// collection took 77 ms at a million records; one string per document is
// read like any other (`cdt export` and the record exports give the lists
// as rows).
type headDoc struct {
	ID      string       `bson:"_id"`
	V       int          `bson:"v"`
	Commune string       `bson:"commune"`
	Keys    []string     `bson:"keys"`
	Lists   string       `bson:"lists"`
	Book    *pageBookDoc `bson:"book,omitempty"`
}

type pageBookDoc struct {
	Seg      int            `bson:"seg"`
	Inserted int            `bson:"inserted"`
	Live     map[string]int `bson:"live"`
	Next     int64          `bson:"next"`
	Trash    string         `bson:"trash"` // page references, one per line
}

func encodeRef(r domain.PageRef) string {
	return strings.Join([]string{r.ID, strconv.Itoa(r.Seg), strconv.Itoa(r.N), strconv.FormatInt(r.Newest.At, 36),
		strconv.FormatInt(r.Oldest.At, 36), r.Newest.ID, r.Oldest.ID}, "|")
}

func encodeDir(d domain.DirRef) string {
	return strings.Join([]string{d.ID, strconv.Itoa(d.Seg), strconv.Itoa(d.Pages), strconv.Itoa(d.Records),
		strconv.FormatInt(d.Newest.At, 36), strconv.FormatInt(d.Oldest.At, 36), d.Newest.ID, d.Oldest.ID}, "|")
}

func decodeDir(s string) (domain.DirRef, error) {
	f := strings.Split(s, "|")
	if len(f) != 8 {
		return domain.DirRef{}, fmt.Errorf("store: directory reference %q", s)
	}
	seg, err1 := strconv.Atoi(f[1])
	pages, err2 := strconv.Atoi(f[2])
	recs, err3 := strconv.Atoi(f[3])
	na, err4 := strconv.ParseInt(f[4], 36, 64)
	oa, err5 := strconv.ParseInt(f[5], 36, 64)
	if err := errors.Join(err1, err2, err3, err4, err5); err != nil {
		return domain.DirRef{}, fmt.Errorf("store: directory reference %q: %w", s, err)
	}
	return domain.DirRef{ID: f[0], Seg: seg, Pages: pages, Records: recs, Newest: domain.Pos{At: na, ID: f[6]},
		Oldest: domain.Pos{At: oa, ID: f[7]}}, nil
}

func decodeRef(s string) (domain.PageRef, error) {
	f := strings.Split(s, "|")
	if len(f) != 7 {
		return domain.PageRef{}, fmt.Errorf("store: page reference %q", s)
	}
	seg, err1 := strconv.Atoi(f[1])
	n, err2 := strconv.Atoi(f[2])
	na, err3 := strconv.ParseInt(f[3], 36, 64)
	oa, err4 := strconv.ParseInt(f[4], 36, 64)
	if err := errors.Join(err1, err2, err3, err4); err != nil {
		return domain.PageRef{}, fmt.Errorf("store: page reference %q: %w", s, err)
	}
	return domain.PageRef{ID: f[0], Seg: seg, N: n, Newest: domain.Pos{At: na, ID: f[5]}, Oldest: domain.Pos{At: oa, ID: f[6]}}, nil
}

func entry(line string) (domain.ListEntry, error) {
	p, ok := domain.ListedPos(line)
	if !ok {
		return domain.ListEntry{}, fmt.Errorf("store: a listed record in an unknown form")
	}
	return domain.ListEntry{Pos: p, Enc: line}, nil
}

// entries splits records kept one per line.
func entries(text string) ([]domain.ListEntry, error) {
	if text == "" {
		return nil, nil
	}
	lines := strings.Split(text, sep)
	out := make([]domain.ListEntry, len(lines))
	for i, line := range lines {
		e, err := entry(line)
		if err != nil {
			return nil, err
		}
		out[i] = e
	}
	return out, nil
}

func joinEntries(es []domain.ListEntry) string {
	var b strings.Builder
	for i, e := range es {
		if i > 0 {
			b.WriteString(sep)
		}
		b.WriteString(e.Enc)
	}
	return b.String()
}

func encodeHeads(b *domain.HeadBucket) ([]string, string) {
	keys := make([]string, 0, len(b.Heads))
	for k := range b.Heads {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var sb strings.Builder
	for _, k := range keys {
		h := b.Heads[k]
		sb.WriteString("#" + k + sep)
		for _, e := range h.Tail {
			sb.WriteString("T" + e.Enc + sep)
		}
		for _, p := range h.Pages {
			sb.WriteString("P" + encodeRef(p) + sep)
		}
		for _, d := range h.Dirs {
			sb.WriteString("D" + encodeDir(d) + sep)
		}
	}
	return keys, sb.String()
}

// decodeHeads reads the lists of a head document; only (when set) limits it
// to one list.
func decodeHeads(text, only string) (map[string]*domain.ListHead, error) {
	out := map[string]*domain.ListHead{}
	var h *domain.ListHead
	if only != "" {
		i := strings.Index(text, "#"+only+sep)
		if i < 0 {
			return out, nil
		}
		text = text[i:]
	}
	for len(text) > 0 {
		line, rest, _ := strings.Cut(text, sep)
		text = rest
		switch {
		case line == "":
		case line[0] == '#':
			if only != "" && h != nil {
				return out, nil
			}
			h = &domain.ListHead{Key: line[1:]}
			out[h.Key] = h
		case h == nil:
			return nil, fmt.Errorf("store: list heads begin with %q", line)
		case line[0] == 'T':
			e, err := entry(line[1:])
			if err != nil {
				return nil, err
			}
			h.Tail = append(h.Tail, e)
		case line[0] == 'P':
			ref, err := decodeRef(line[1:])
			if err != nil {
				return nil, err
			}
			h.Pages = append(h.Pages, ref)
		case line[0] == 'D':
			d, err := decodeDir(line[1:])
			if err != nil {
				return nil, err
			}
			h.Dirs = append(h.Dirs, d)
		default:
			return nil, fmt.Errorf("store: list heads: line %q", line)
		}
	}
	return out, nil
}

// HeadBuckets reads head documents of commune, one _id lookup each.
func (s *Rollups) HeadBuckets(ctx context.Context, gen int64, commune string, ids []string) (map[string]*domain.HeadBucket, error) {
	out := make(map[string]*domain.HeadBucket, len(ids))
	for _, id := range ids {
		c := s.listColl(gen, commune, id)
		b := &domain.HeadBucket{Commune: commune, ID: id, Heads: map[string]*domain.ListHead{}}
		if id == "c" {
			b.Pages = &domain.PageBook{Live: map[int]int{}}
		}
		out[id] = b
		var d headDoc
		err := c.FindOne(ctx, bson.D{{Key: "_id", Value: id}}).Decode(&d)
		if errors.Is(err, mongo.ErrNoDocuments) {
			continue
		}
		if err != nil {
			return nil, wrap("list heads", err)
		}
		if b.Heads, err = decodeHeads(d.Lists, ""); err != nil {
			return nil, err
		}
		if d.Book != nil {
			b.Pages.Seg, b.Pages.Inserted, b.Pages.Next = d.Book.Seg, d.Book.Inserted, d.Book.Next
			for k, n := range d.Book.Live {
				seg, _ := strconv.Atoi(k)
				b.Pages.Live[seg] = n
			}
			for _, t := range strings.Split(d.Book.Trash, sep) {
				if t == "" {
					continue
				}
				ref, err := decodeRef(t)
				if err != nil {
					return nil, err
				}
				b.Pages.Trash = append(b.Pages.Trash, ref)
			}
		}
	}
	return out, nil
}

// SaveHeadBuckets writes head documents, one bulk write per commune.
func (s *Rollups) SaveHeadBuckets(ctx context.Context, gen int64, bs []*domain.HeadBucket) error {
	return s.writeHeads(ctx, gen, bs, false)
}

// InsertHeadBuckets writes new head documents, one insert per commune.
func (s *Rollups) InsertHeadBuckets(ctx context.Context, gen int64, bs []*domain.HeadBucket) error {
	return s.writeHeads(ctx, gen, bs, true)
}

func (s *Rollups) writeHeads(ctx context.Context, gen int64, bs []*domain.HeadBucket, fresh bool) error {
	for _, b := range bs {
		keys, text := encodeHeads(b)
		d := headDoc{ID: b.ID, V: schemaV, Commune: b.Commune, Keys: keys, Lists: text}
		if pb := b.Pages; pb != nil {
			d.Book = &pageBookDoc{Seg: pb.Seg, Inserted: pb.Inserted, Next: pb.Next, Live: map[string]int{}}
			for seg, n := range pb.Live {
				d.Book.Live[strconv.Itoa(seg)] = n
			}
			refs := make([]string, len(pb.Trash))
			for i, t := range pb.Trash {
				refs[i] = encodeRef(t)
			}
			d.Book.Trash = strings.Join(refs, sep)
		}
		if err := writeDocs(ctx, s.listColl(gen, b.Commune, b.ID), []any{d}, fresh); err != nil {
			return wrap("save list heads", err)
		}
	}
	return nil
}

// ListHead returns the head of list key, decoding only that list of its
// document.
func (s *Rollups) ListHead(ctx context.Context, gen int64, key string) (*domain.ListHead, error) {
	var d headDoc
	bucket := domain.ListBucket(key)
	err := s.listColl(gen, domain.ListCommune(key), bucket).FindOne(ctx, bson.D{{Key: "_id", Value: bucket}},
		options.FindOne().SetProjection(bson.D{{Key: "lists", Value: 1}})).Decode(&d)
	if errors.Is(err, mongo.ErrNoDocuments) {
		return &domain.ListHead{Key: key}, nil
	}
	if err != nil {
		return nil, wrap("list head", err)
	}
	heads, err := decodeHeads(d.Lists, key)
	if err != nil {
		return nil, err
	}
	if h := heads[key]; h != nil {
		return h, nil
	}
	return &domain.ListHead{Key: key}, nil
}

// pageDoc is a sealed page of a list: its records, newest first, separated
// by "␞" (R), for the reason given at headDoc; or (Kind "dir") a directory:
// the references of older pages, newest first.
type pageDoc struct {
	ID     string    `bson:"_id"`
	V      int       `bson:"v"`
	Kind   string    `bson:"kind,omitempty"`
	Key    string    `bson:"key"`
	N      int       `bson:"n"`
	Newest time.Time `bson:"newest"`
	Oldest time.Time `bson:"oldest"`
	R      string    `bson:"r"`
}

// ListPage reads a sealed page.
func (s *Rollups) ListPage(ctx context.Context, gen int64, commune string, ref domain.PageRef) ([]domain.ListEntry, error) {
	var d pageDoc
	err := s.pageColl(gen, commune, ref.Seg).FindOne(ctx, bson.D{{Key: "_id", Value: ref.ID}}).Decode(&d)
	if errors.Is(err, mongo.ErrNoDocuments) {
		return nil, domain.ErrPageGone
	}
	if err != nil {
		return nil, wrap("list page", err)
	}
	return entries(d.R)
}

// ListDir reads a directory of pages.
func (s *Rollups) ListDir(ctx context.Context, gen int64, commune string, ref domain.DirRef) ([]domain.PageRef, error) {
	var d pageDoc
	err := s.pageColl(gen, commune, ref.Seg).FindOne(ctx, bson.D{{Key: "_id", Value: ref.ID}}).Decode(&d)
	if errors.Is(err, mongo.ErrNoDocuments) {
		return nil, domain.ErrPageGone
	}
	if err != nil {
		return nil, wrap("list directory", err)
	}
	var out []domain.PageRef
	for _, line := range strings.Split(d.R, sep) {
		ref, err := decodeRef(line)
		if err != nil {
			return nil, err
		}
		out = append(out, ref)
	}
	return out, nil
}

// InsertPages stores new pages, one insert per collection.
func (s *Rollups) InsertPages(ctx context.Context, gen int64, commune string, pages []domain.ListPage) error {
	bySeg := map[int][]any{}
	for _, p := range pages {
		d := pageDoc{ID: p.Ref.ID, V: schemaV, Key: p.Key, N: len(p.Entries),
			Newest: time.UnixMilli(p.Ref.Newest.At).UTC(), Oldest: time.UnixMilli(p.Ref.Oldest.At).UTC(), R: joinEntries(p.Entries)}
		if p.Dir != nil {
			refs := make([]string, len(p.Dir))
			for i, r := range p.Dir {
				refs[i] = encodeRef(r)
			}
			d.Kind, d.N, d.R = "dir", len(p.Dir), strings.Join(refs, sep)
		}
		bySeg[p.Ref.Seg] = append(bySeg[p.Ref.Seg], d)
	}
	for seg, docs := range bySeg {
		c := s.pageColl(gen, commune, seg)
		for i := 0; i < len(docs); i += 200 {
			_, err := c.InsertMany(ctx, docs[i:min(i+200, len(docs))], options.InsertMany().SetOrdered(false))
			if err != nil && !isDupOnly(err) {
				return wrap("insert pages", err)
			}
		}
	}
	return nil
}

// isDupOnly reports a bulk insert whose only failures are duplicate IDs.
func isDupOnly(err error) bool {
	var bwe mongo.BulkWriteException
	if !errors.As(err, &bwe) || bwe.WriteConcernError != nil {
		return false
	}
	for _, we := range bwe.WriteErrors {
		if !isDup(we) && we.Code != 11000 {
			return false
		}
	}
	return true
}

// DeletePages deletes replaced pages, one _id each (a delete of many _ids at
// once would decode the whole collection).
func (s *Rollups) DeletePages(ctx context.Context, gen int64, commune string, refs []domain.PageRef) error {
	bySeg := map[int][]mongo.WriteModel{}
	for _, r := range refs {
		bySeg[r.Seg] = append(bySeg[r.Seg], mongo.NewDeleteOneModel().SetFilter(bson.D{{Key: "_id", Value: r.ID}}))
	}
	for seg, models := range bySeg {
		if _, err := s.pageColl(gen, commune, seg).BulkWrite(ctx, models, options.BulkWrite().SetOrdered(false)); err != nil {
			return wrap("delete pages", err)
		}
	}
	return nil
}

// DropSegment removes a collection of pages none of which is live.
func (s *Rollups) DropSegment(ctx context.Context, gen int64, commune string, seg int) error {
	return wrap("drop page segment", s.pageColl(gen, commune, seg).Drop(ctx))
}

// DropGen removes every collection of generation gen.
func (s *Rollups) DropGen(ctx context.Context, gen int64) error {
	names, err := s.db.ListCollectionNames(ctx, bson.D{})
	if err != nil {
		return wrap("collections", err)
	}
	for _, n := range names {
		if strings.HasPrefix(n, genPrefix(gen)) {
			if err := s.db.Collection(n).Drop(ctx); err != nil {
				return wrap("drop "+n, err)
			}
		}
	}
	return nil
}

// DropOldState removes the collections of the state's first forms (rollups,
// household sets and recent lists of schema 2): nothing reads them since a
// rebuild wrote the state of this version.
func (s *Rollups) DropOldState(ctx context.Context) error {
	names, err := s.db.ListCollectionNames(ctx, bson.D{})
	if err != nil {
		return wrap("collections", err)
	}
	for _, n := range names {
		if n == "rollups" || n == "households" || strings.HasPrefix(n, "recent_") {
			if err := s.db.Collection(n).Drop(ctx); err != nil {
				return wrap("drop "+n, err)
			}
		}
	}
	return nil
}
