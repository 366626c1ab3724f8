package store

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"math"
	"sort"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/hue-cdt/cdt/domain"
)

const (
	collDeltas     = "assistance_deltas"
	collRollups    = "rollups"
	collHouseholds = "households"
	collRecent     = "recent"
	collState      = "rollup_state"
)

// Rollups stores deltas (insert-only) and the consolidated state. Only the
// consolidator, which holds a lease, writes the state documents, so their
// read-modify-write is safe.
type Rollups struct {
	deltas, rollups, households, state *mongo.Collection
	recent                             []*mongo.Collection
}

func newRollups(db *mongo.Database) *Rollups {
	r := &Rollups{deltas: db.Collection(collDeltas), rollups: db.Collection(collRollups),
		households: db.Collection(collHouseholds), state: db.Collection(collState)}
	for i := range RecentShards {
		r.recent = append(r.recent, db.Collection(fmt.Sprintf("%s_%02d", collRecent, i)))
	}
	return r
}

type deltaDoc struct {
	ID      string      `bson:"_id"`
	Process string      `bson:"process"`
	Seq     int64       `bson:"seq"`
	At      time.Time   `bson:"at"`
	Records []recordDoc `bson:"records"`
}

// InsertDelta stores a flushed delta.
func (s *Rollups) InsertDelta(ctx context.Context, d domain.Delta) error {
	doc := deltaDoc{ID: d.ID, Process: d.Process, Seq: d.Seq, At: d.At.UTC(), Records: make([]recordDoc, len(d.Records))}
	for i, r := range d.Records {
		doc.Records[i] = toRecordDoc(r)
	}
	_, err := s.deltas.InsertOne(ctx, doc)
	return wrap("insert delta", err)
}

// PendingDeltas returns up to limit deltas in (process, seq) order.
func (s *Rollups) PendingDeltas(ctx context.Context, limit int) ([]domain.Delta, error) {
	docs, err := findDocs[deltaDoc](ctx, "pending deltas", s.deltas, bson.D{}, options.Find().SetSort(bson.D{{Key: "_id", Value: 1}}).SetLimit(int64(limit)))
	if err != nil {
		return nil, err
	}
	out := make([]domain.Delta, len(docs))
	for i, d := range docs {
		out[i] = domain.Delta{ID: d.ID, Process: d.Process, Seq: d.Seq, At: d.At, Records: make([]domain.Record, len(d.Records))}
		for j, r := range d.Records {
			out[i].Records[j] = r.toDomain()
		}
	}
	return out, nil
}

// DeleteDeltas removes consolidated deltas.
func (s *Rollups) DeleteDeltas(ctx context.Context, ids []string) error {
	for i := 0; i < len(ids); i += 200 {
		_, err := s.deltas.DeleteMany(ctx, bson.D{{Key: "_id", Value: bson.D{{Key: "$in", Value: ids[i:min(i+200, len(ids))]}}}})
		if err != nil {
			return wrap("delete deltas", err)
		}
	}
	return nil
}

// rollupDoc is a commune's rollup. Its per-day, per-member and per-team
// counts are kept as one JSON string (Counts): only the consolidator reads or
// writes them, and FerretDB stores a type schema with every nested value, which
// made a large ward's rollup take 80 ms to write as sub-documents.
type rollupDoc struct {
	ID       string           `bson:"_id"`
	Version  int64            `bson:"version"`
	Seen     map[string]int64 `bson:"seen"`
	Total    int              `bson:"total"`
	Before   int              `bson:"before"`
	Late     int              `bson:"late"`
	Villages map[string]int   `bson:"villages"`
	Counts   string           `bson:"counts"`
}

type rollupCounts struct {
	Days    map[domain.Date]*domain.DayCount `json:"days"`
	Members map[string]*domain.Activity      `json:"members"`
	Teams   map[string]*domain.Activity      `json:"teams"`
}

// Rollups returns every commune's rollup.
func (s *Rollups) Rollups(ctx context.Context) (map[string]*domain.Rollup, error) {
	docs, err := findDocs[rollupDoc](ctx, "rollups", s.rollups, bson.D{})
	if err != nil {
		return nil, err
	}
	return rollupsFrom(docs)
}

// RollupsOf reads the rollups of communes one by one: an _id filter is the
// only one FerretDB answers without decoding the whole collection in Go.
func (s *Rollups) RollupsOf(ctx context.Context, communes []string) (map[string]*domain.Rollup, error) {
	var docs []rollupDoc
	for _, c := range communes {
		var d rollupDoc
		err := s.rollups.FindOne(ctx, bson.D{{Key: "_id", Value: c}}).Decode(&d)
		if errors.Is(err, mongo.ErrNoDocuments) {
			continue
		}
		if err != nil {
			return nil, wrap("rollup "+c, err)
		}
		docs = append(docs, d)
	}
	return rollupsFrom(docs)
}

func rollupsFrom(docs []rollupDoc) (map[string]*domain.Rollup, error) {
	out := make(map[string]*domain.Rollup, len(docs))
	for _, d := range docs {
		var c rollupCounts
		if d.Counts != "" {
			if err := json.Unmarshal([]byte(d.Counts), &c); err != nil {
				return nil, fmt.Errorf("store: rollup %s: %w", d.ID, err)
			}
		}
		r := domain.NewRollup(d.ID)
		r.Version, r.Total, r.Before, r.Late = d.Version, d.Total, d.Before, d.Late
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
		out[d.ID] = r
	}
	return out, nil
}

func nz(m map[string]int) map[string]int {
	if m == nil {
		return map[string]int{}
	}
	return m
}

// SaveRollup writes a commune's rollup (the consolidator is its only writer).
func (s *Rollups) SaveRollup(ctx context.Context, r *domain.Rollup) error {
	counts, err := json.Marshal(rollupCounts{Days: r.Days, Members: r.Members, Teams: r.Teams})
	if err != nil {
		return fmt.Errorf("store: rollup %s: %w", r.Commune, err)
	}
	d := rollupDoc{ID: r.Commune, Version: r.Version, Seen: r.Seen, Total: r.Total, Before: r.Before, Late: r.Late,
		Villages: r.Villages, Counts: string(counts)}
	_, err = s.rollups.ReplaceOne(ctx, bson.D{{Key: "_id", Value: r.Commune}}, d, upsert())
	return wrap("save rollup", err)
}

// householdDoc keeps the first contacts of a commune as one binary value:
// per household its 16-byte hash, its first day (days since 2000-01-01, 2
// bytes) and its village (2-byte index into Villages). A map or arrays of
// 20,000 entries made a slow document on both backends.
type householdDoc struct {
	ID       string           `bson:"_id"`
	Version  int64            `bson:"version"`
	Seen     map[string]int64 `bson:"seen"`
	Villages []string         `bson:"villages"`
	Entries  []byte           `bson:"entries"`
}

const householdEntry = 20

// HouseholdSets returns every commune's set of reached households.
func (s *Rollups) HouseholdSets(ctx context.Context) (map[string]*domain.HouseholdSet, error) {
	cur, err := s.households.Find(ctx, bson.D{})
	if err != nil {
		return nil, wrap("household sets", err)
	}
	out := map[string]*domain.HouseholdSet{}
	for cur.Next(ctx) {
		var d householdDoc
		if err := cur.Decode(&d); err != nil {
			return nil, wrap("household sets", err)
		}
		h := domain.NewHouseholdSet(d.ID)
		h.Version = d.Version
		if d.Seen != nil {
			h.Seen = d.Seen
		}
		for i := 0; i+householdEntry <= len(d.Entries); i += householdEntry {
			e := d.Entries[i : i+householdEntry]
			var k domain.HouseholdKey
			copy(k[:], e[:16])
			v := int(binary.BigEndian.Uint16(e[18:20]))
			village := ""
			if v < len(d.Villages) {
				village = d.Villages[v]
			}
			h.Set(k, int32(binary.BigEndian.Uint16(e[16:18])), village)
		}
		out[d.ID] = h
	}
	return out, wrap("household sets", cur.Err())
}

// SaveHouseholdSet writes a commune's household set.
func (s *Rollups) SaveHouseholdSet(ctx context.Context, h *domain.HouseholdSet) error {
	type entry struct {
		k       domain.HouseholdKey
		day     int32
		village string
	}
	entries := make([]entry, 0, h.Len())
	h.Each(func(k domain.HouseholdKey, day int32, village string) {
		entries = append(entries, entry{k, day, village})
	})
	sort.Slice(entries, func(i, j int) bool { return bytes.Compare(entries[i].k[:], entries[j].k[:]) < 0 })
	d := householdDoc{ID: h.Commune, Version: h.Version, Seen: h.Seen, Entries: make([]byte, 0, len(entries)*householdEntry)}
	villages := map[string]int{}
	var e [householdEntry]byte
	for _, f := range entries {
		if f.day < 0 || f.day > math.MaxUint16 {
			return fmt.Errorf("store: household first day %s outside 2000–2179", domain.DateOfNumber(f.day))
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
	_, err := s.households.ReplaceOne(ctx, bson.D{{Key: "_id", Value: h.Commune}}, d, upsert())
	return wrap("save household set", err)
}

// recentDoc keeps a list's records as one string each, fields separated by
// U+001F (which CleanText never lets into a note): one value per record is far
// cheaper for FerretDB to write than a sub-document.
type recentDoc struct {
	ID      string   `bson:"_id"`
	Records []string `bson:"r"`
}

// RecentShards is how many collections hold the recent lists. Every read on
// FerretDB scans its collection: 64 shards keep each under a megabyte at Huế
// scale (5,580 members × 30 records).
const RecentShards = 64

func (s *Rollups) recentColl(key string) *mongo.Collection {
	h := fnv.New32a()
	h.Write([]byte(key))
	return s.recent[h.Sum32()%RecentShards]
}

// Recent returns a recent list (empty if none).
func (s *Rollups) Recent(ctx context.Context, key string) (*domain.Recent, error) {
	var d recentDoc
	err := s.recentColl(key).FindOne(ctx, bson.D{{Key: "_id", Value: key}}).Decode(&d)
	if errors.Is(err, mongo.ErrNoDocuments) {
		return &domain.Recent{Key: key}, nil
	}
	if err != nil {
		return nil, wrap("recent", err)
	}
	r := &domain.Recent{Key: key, Records: make([]domain.Record, len(d.Records))}
	for i, rd := range d.Records {
		r.Records[i] = domain.DecodeListed(rd)
	}
	return r, nil
}

// SaveRecent writes a recent list. Household hashes are not kept in it.
func (s *Rollups) SaveRecent(ctx context.Context, r *domain.Recent) error {
	d := recentDoc{ID: r.Key, Records: make([]string, len(r.Records))}
	for i, rec := range r.Records {
		d.Records[i] = domain.EncodeListed(rec)
	}
	_, err := s.recentColl(r.Key).ReplaceOne(ctx, bson.D{{Key: "_id", Value: r.Key}}, d, upsert())
	return wrap("save recent", err)
}

// InsertRecents writes lists (records in the form of domain.EncodeListed)
// in bulk, one InsertMany per shard.
func (s *Rollups) InsertRecents(ctx context.Context, lists map[string][]string) error {
	byShard := map[*mongo.Collection][]any{}
	for key, recs := range lists {
		c := s.recentColl(key)
		byShard[c] = append(byShard[c], recentDoc{ID: key, Records: recs})
	}
	for c, docs := range byShard {
		for i := 0; i < len(docs); i += 500 {
			if _, err := c.InsertMany(ctx, docs[i:min(i+500, len(docs))]); err != nil {
				return wrap("insert recent lists", err)
			}
		}
	}
	return nil
}

// RecentMany reads the lists of keys with one query per shard.
func (s *Rollups) RecentMany(ctx context.Context, keys []string) (map[string]*domain.Recent, error) {
	byShard := map[*mongo.Collection][]string{}
	out := make(map[string]*domain.Recent, len(keys))
	for _, k := range keys {
		c := s.recentColl(k)
		byShard[c] = append(byShard[c], k)
		out[k] = &domain.Recent{Key: k}
	}
	for c, ks := range byShard {
		docs, err := findDocs[recentDoc](ctx, "recent lists", c, bson.D{{Key: "_id", Value: bson.D{{Key: "$in", Value: ks}}}})
		if err != nil {
			return nil, err
		}
		for _, d := range docs {
			r := &domain.Recent{Key: d.ID, Records: make([]domain.Record, len(d.Records))}
			for i, rd := range d.Records {
				r.Records[i] = domain.DecodeListed(rd)
			}
			out[d.ID] = r
		}
	}
	return out, nil
}

// SaveRecents writes lists with one bulk write per shard.
func (s *Rollups) SaveRecents(ctx context.Context, rs []*domain.Recent) error {
	byShard := map[*mongo.Collection][]mongo.WriteModel{}
	for _, r := range rs {
		d := recentDoc{ID: r.Key, Records: make([]string, len(r.Records))}
		for i, rec := range r.Records {
			d.Records[i] = domain.EncodeListed(rec)
		}
		c := s.recentColl(r.Key)
		byShard[c] = append(byShard[c], mongo.NewReplaceOneModel().SetFilter(bson.D{{Key: "_id", Value: r.Key}}).
			SetReplacement(d).SetUpsert(true))
	}
	for c, models := range byShard {
		if _, err := c.BulkWrite(ctx, models, options.BulkWrite().SetOrdered(false)); err != nil {
			return wrap("save recent lists", err)
		}
	}
	return nil
}

type stateDoc struct {
	ID       string   `bson:"_id"`
	Version  int64    `bson:"version"`
	All      bool     `bson:"all"`
	Communes []string `bson:"communes"`
	Recent   []string `bson:"recent"`
}

// State returns what the last consolidation changed.
func (s *Rollups) State(ctx context.Context) (domain.StateChange, error) {
	var d stateDoc
	err := s.state.FindOne(ctx, bson.D{{Key: "_id", Value: "state"}}).Decode(&d)
	if errors.Is(err, mongo.ErrNoDocuments) {
		return domain.StateChange{All: true}, nil
	}
	return domain.StateChange{Version: d.Version, All: d.All, Communes: d.Communes, Recent: d.Recent}, wrap("state", err)
}

// SaveState records a consolidation (single writer: the consolidator).
func (s *Rollups) SaveState(ctx context.Context, c domain.StateChange) error {
	if len(c.Communes)+len(c.Recent) > 2000 {
		c.All, c.Communes, c.Recent = true, nil, nil
	}
	d := stateDoc{ID: "state", Version: c.Version, All: c.All, Communes: c.Communes, Recent: c.Recent}
	_, err := s.state.ReplaceOne(ctx, bson.D{{Key: "_id", Value: "state"}}, d, upsert())
	return wrap("save state", err)
}

// ClearState removes every delta and every rollup (a full rebuild follows).
func (s *Rollups) ClearState(ctx context.Context) error {
	for _, c := range append([]*mongo.Collection{s.rollups, s.households}, s.recent...) {
		if _, err := c.DeleteMany(ctx, bson.D{}); err != nil {
			return wrap("clear state", err)
		}
	}
	return nil
}
