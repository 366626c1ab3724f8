package store

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
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
	cur, err := s.deltas.Find(ctx, bson.D{}, options.Find().SetSort(bson.D{{Key: "_id", Value: 1}}).SetLimit(int64(limit)))
	if err != nil {
		return nil, wrap("pending deltas", err)
	}
	var docs []deltaDoc
	if err := cur.All(ctx, &docs); err != nil {
		return nil, wrap("pending deltas", err)
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

type dayDoc struct {
	N         int            `bson:"n"`
	Services  map[string]int `bson:"s,omitempty"`
	Outcomes  map[string]int `bson:"o,omitempty"`
	Genders   map[string]int `bson:"g,omitempty"`
	AgeGroups map[string]int `bson:"a,omitempty"`
	Places    map[string]int `bson:"p,omitempty"`
}

type activityDoc struct {
	Last string         `bson:"last"`
	N    int            `bson:"n"`
	Days map[string]int `bson:"d,omitempty"`
}

type rollupDoc struct {
	ID       string                 `bson:"_id"`
	Version  int64                  `bson:"version"`
	Seen     map[string]int64       `bson:"seen"`
	Total    int                    `bson:"total"`
	Before   int                    `bson:"before"`
	Late     int                    `bson:"late"`
	Days     map[string]dayDoc      `bson:"days"`
	Members  map[string]activityDoc `bson:"members"`
	Teams    map[string]activityDoc `bson:"teams"`
	Villages map[string]int         `bson:"villages"`
}

func toActivityDocs(m map[string]*domain.Activity) map[string]activityDoc {
	out := make(map[string]activityDoc, len(m))
	for id, a := range m {
		d := activityDoc{Last: string(a.Last), N: a.N, Days: make(map[string]int, len(a.Days))}
		for day, n := range a.Days {
			d.Days[string(day)] = n
		}
		out[id] = d
	}
	return out
}

func fromActivityDocs(m map[string]activityDoc) map[string]*domain.Activity {
	out := make(map[string]*domain.Activity, len(m))
	for id, d := range m {
		a := &domain.Activity{Last: domain.Date(d.Last), N: d.N, Days: make(map[domain.Date]int, len(d.Days))}
		for day, n := range d.Days {
			a.Days[domain.Date(day)] = n
		}
		out[id] = a
	}
	return out
}

// Rollups returns every commune's rollup.
func (s *Rollups) Rollups(ctx context.Context) (map[string]*domain.Rollup, error) {
	cur, err := s.rollups.Find(ctx, bson.D{})
	if err != nil {
		return nil, wrap("rollups", err)
	}
	var docs []rollupDoc
	if err := cur.All(ctx, &docs); err != nil {
		return nil, wrap("rollups", err)
	}
	return rollupsFrom(docs), nil
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
	return rollupsFrom(docs), nil
}

func rollupsFrom(docs []rollupDoc) map[string]*domain.Rollup {
	out := make(map[string]*domain.Rollup, len(docs))
	for _, d := range docs {
		r := &domain.Rollup{Commune: d.ID, Version: d.Version, Seen: d.Seen, Total: d.Total, Before: d.Before,
			Late: d.Late, Days: make(map[domain.Date]*domain.DayCount, len(d.Days)), Members: fromActivityDocs(d.Members),
			Teams: fromActivityDocs(d.Teams), Villages: d.Villages}
		if r.Seen == nil {
			r.Seen = map[string]int64{}
		}
		if r.Villages == nil {
			r.Villages = map[string]int{}
		}
		for day, dd := range d.Days {
			r.Days[domain.Date(day)] = &domain.DayCount{N: dd.N, Services: nz(dd.Services), Outcomes: nz(dd.Outcomes),
				Genders: nz(dd.Genders), AgeGroups: nz(dd.AgeGroups), Places: nz(dd.Places)}
		}
		out[d.ID] = r
	}
	return out
}

func nz(m map[string]int) map[string]int {
	if m == nil {
		return map[string]int{}
	}
	return m
}

// SaveRollup writes a commune's rollup (the consolidator is its only writer).
func (s *Rollups) SaveRollup(ctx context.Context, r *domain.Rollup) error {
	d := rollupDoc{ID: r.Commune, Version: r.Version, Seen: r.Seen, Total: r.Total, Before: r.Before,
		Late: r.Late, Days: make(map[string]dayDoc, len(r.Days)), Members: toActivityDocs(r.Members),
		Teams: toActivityDocs(r.Teams), Villages: r.Villages}
	for day, dc := range r.Days {
		d.Days[string(day)] = dayDoc{N: dc.N, Services: dc.Services, Outcomes: dc.Outcomes, Genders: dc.Genders,
			AgeGroups: dc.AgeGroups, Places: dc.Places}
	}
	_, err := s.rollups.ReplaceOne(ctx, bson.D{{Key: "_id", Value: r.Commune}}, d, upsert())
	return wrap("save rollup", err)
}

// householdDoc keeps first contacts as parallel arrays: a map with 20,000
// hashed keys would make a slow and large document on both backends.
type householdDoc struct {
	ID       string           `bson:"_id"`
	Version  int64            `bson:"version"`
	Seen     map[string]int64 `bson:"seen"`
	Hashes   []string         `bson:"h"`
	Days     []string         `bson:"d"`
	Villages []string         `bson:"v"`
}

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
		h := &domain.HouseholdSet{Commune: d.ID, Version: d.Version, Seen: d.Seen,
			First: make(map[string]domain.FirstContact, len(d.Hashes))}
		if h.Seen == nil {
			h.Seen = map[string]int64{}
		}
		for i, hash := range d.Hashes {
			if i < len(d.Days) && i < len(d.Villages) {
				h.First[hash] = domain.FirstContact{Day: domain.Date(d.Days[i]), Village: d.Villages[i]}
			}
		}
		out[d.ID] = h
	}
	return out, wrap("household sets", cur.Err())
}

// SaveHouseholdSet writes a commune's household set.
func (s *Rollups) SaveHouseholdSet(ctx context.Context, h *domain.HouseholdSet) error {
	d := householdDoc{ID: h.Commune, Version: h.Version, Seen: h.Seen,
		Hashes: make([]string, 0, len(h.First)), Days: make([]string, 0, len(h.First)), Villages: make([]string, 0, len(h.First))}
	keys := make([]string, 0, len(h.First))
	for k := range h.First {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		f := h.First[k]
		d.Hashes, d.Days, d.Villages = append(d.Hashes, k), append(d.Days, string(f.Day)), append(d.Villages, f.Village)
	}
	_, err := s.households.ReplaceOne(ctx, bson.D{{Key: "_id", Value: h.Commune}}, d, upsert())
	return wrap("save household set", err)
}

type recentDoc struct {
	ID      string      `bson:"_id"`
	Records []recordDoc `bson:"records"`
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
		r.Records[i] = rd.toDomain()
	}
	return r, nil
}

// SaveRecent writes a recent list. Household hashes are not kept in it.
func (s *Rollups) SaveRecent(ctx context.Context, r *domain.Recent) error {
	d := recentDoc{ID: r.Key, Records: make([]recordDoc, len(r.Records))}
	for i, rec := range r.Records {
		rec.Household = ""
		d.Records[i] = toRecordDoc(rec)
	}
	_, err := s.recentColl(r.Key).ReplaceOne(ctx, bson.D{{Key: "_id", Value: r.Key}}, d, upsert())
	return wrap("save recent", err)
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
