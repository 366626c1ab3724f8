package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/hue-cdt/cdt/domain"
)

// Audit keeps the audit trail. It is append-only and grows by millions of
// events, and FerretDB scans a whole collection for every query, so the
// trail is partitioned by time and by commune, and each query reads a few
// small partitions, newest first:
//
//   - audit_d_YYYYMMDD holds every event of one day (UTC): the province's
//     view reads today's, then yesterday's…
//   - audit_c_<commune>_YYYYMM holds the events of one commune in one month:
//     a commune leader's view reads their commune's months only.
//
// Every event with a commune is written to both (the price of a write-time
// index on a database that reads none). An event's _id is its time in
// nanoseconds (19 digits), its server and a sequence number, so _id order is
// time order and a retried write of the same event is refused as a
// duplicate, which makes AppendAudit idempotent. Retention, when it comes, is
// dropping whole partitions.
type Audit struct {
	db *mongo.Database

	mu    sync.Mutex
	names []string // partition names, listed at most every listTTL
	seen  map[string]bool
	read  time.Time
}

const (
	auditDayPrefix     = "audit_d_"
	auditCommunePrefix = "audit_c_"
	auditListTTL       = 10 * time.Second
	// A call of FindAudit reads at most this many partitions, then answers
	// what it found and where to go on: each page costs a bounded time
	// whatever the trail's size and the filters.
	auditMaxDays   = 10
	auditMaxMonths = 2
)

func newAudit(db *mongo.Database) *Audit { return &Audit{db: db, seen: map[string]bool{}} }

type auditDoc struct {
	ID      string    `bson:"_id"`
	At      time.Time `bson:"at"`
	Actor   string    `bson:"actor,omitempty"`
	Role    string    `bson:"role,omitempty"`
	Action  string    `bson:"action"`
	Target  string    `bson:"target,omitempty"`
	Commune string    `bson:"commune,omitempty"`
	// Details and Changes as one JSON string: FerretDB writes a type schema
	// with every nested value.
	Extra string `bson:"extra,omitempty"`
}

type auditExtra struct {
	Details map[string]string    `json:"d,omitempty"`
	Changes []domain.AuditChange `json:"c,omitempty"`
}

func auditDocOf(e domain.AuditEvent) auditDoc {
	d := auditDoc{ID: e.ID, At: e.At.UTC(), Actor: e.Actor, Role: string(e.Role), Action: e.Action, Target: e.Target, Commune: e.CommuneCode}
	if len(e.Details) > 0 || len(e.Changes) > 0 {
		b, _ := json.Marshal(auditExtra{Details: e.Details, Changes: e.Changes})
		d.Extra = string(b)
	}
	return d
}

func (d auditDoc) toDomain() domain.AuditEvent {
	e := domain.AuditEvent{ID: d.ID, At: d.At, Actor: d.Actor, Role: domain.Role(d.Role), Action: d.Action, Target: d.Target,
		CommuneCode: d.Commune}
	if d.Extra != "" {
		var x auditExtra
		if json.Unmarshal([]byte(d.Extra), &x) == nil {
			e.Details, e.Changes = x.Details, x.Changes
		}
	}
	return e
}

// AuditBound is the _id bound of instant t: events at t or later have IDs
// at or above it.
func AuditBound(t time.Time) string { return fmt.Sprintf("%019d", t.UnixNano()) }

func dayPartition(t time.Time) string { return auditDayPrefix + t.UTC().Format("20060102") }

func communePartition(commune string, t time.Time) string {
	return auditCommunePrefix + commune + "_" + t.UTC().Format("200601")
}

// AppendAudit stores events in their partitions; an event stored before is
// skipped.
func (a *Audit) AppendAudit(ctx context.Context, events []domain.AuditEvent) error {
	byColl := map[string][]any{}
	for _, e := range events {
		d := auditDocOf(e)
		byColl[dayPartition(e.At)] = append(byColl[dayPartition(e.At)], d)
		if e.CommuneCode != "" {
			c := communePartition(e.CommuneCode, e.At)
			byColl[c] = append(byColl[c], d)
		}
	}
	for name, docs := range byColl {
		_, err := a.db.Collection(name).InsertMany(ctx, docs, options.InsertMany().SetOrdered(false))
		if err != nil && !onlyDuplicates(err) {
			return wrap("append audit", err)
		}
		a.mu.Lock()
		if !a.seen[name] {
			a.seen[name] = true
			a.names = append(a.names, name)
		}
		a.mu.Unlock()
	}
	return nil
}

// onlyDuplicates reports whether every write error of a bulk insert is a
// duplicate _id (events stored by an earlier, retried flush).
func onlyDuplicates(err error) bool {
	var bwe mongo.BulkWriteException
	if !errors.As(err, &bwe) || bwe.WriteConcernError != nil || len(bwe.WriteErrors) == 0 {
		return false
	}
	for _, we := range bwe.WriteErrors {
		if !mongo.IsDuplicateKeyError(we) {
			return false
		}
	}
	return true
}

// partition is one collection of the trail and the instants it covers.
type partition struct {
	name       string
	start, end time.Time
}

// partitions lists the partitions a filter reads, newest first: the
// commune's months, or every day.
func (a *Audit) partitions(ctx context.Context, commune string, now time.Time) ([]partition, error) {
	a.mu.Lock()
	stale := time.Since(a.read) > auditListTTL
	a.mu.Unlock()
	if stale {
		names, err := a.db.ListCollectionNames(ctx, bson.D{})
		if err != nil {
			return nil, wrap("list audit partitions", err)
		}
		a.mu.Lock()
		for _, n := range names {
			if strings.HasPrefix(n, "audit_") && !a.seen[n] {
				a.seen[n] = true
				a.names = append(a.names, n)
			}
		}
		a.read = time.Now()
		a.mu.Unlock()
	}
	// The newest partitions may have been started by another server since
	// the list was read: they are read whether listed or not.
	want := map[string]bool{}
	if commune == "" {
		want[dayPartition(now)], want[dayPartition(now.AddDate(0, 0, -1))] = true, true
	} else {
		want[communePartition(commune, now)], want[communePartition(commune, now.AddDate(0, -1, 0))] = true, true
	}
	a.mu.Lock()
	for _, n := range a.names {
		want[n] = want[n] || partitionOf(n, commune)
	}
	a.mu.Unlock()
	var out []partition
	for n, ok := range want {
		if p, parsed := parsePartition(n, commune); ok && parsed {
			out = append(out, p)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].start.After(out[j].start) })
	return out, nil
}

// partitionOf reports whether collection name is a partition that a filter
// on commune ("" for every commune) reads.
func partitionOf(name, commune string) bool {
	if commune == "" {
		return strings.HasPrefix(name, auditDayPrefix)
	}
	return strings.HasPrefix(name, auditCommunePrefix+commune+"_")
}

func parsePartition(name, commune string) (partition, bool) {
	if commune == "" {
		t, err := time.Parse("20060102", strings.TrimPrefix(name, auditDayPrefix))
		if err != nil || !strings.HasPrefix(name, auditDayPrefix) {
			return partition{}, false
		}
		return partition{name: name, start: t, end: t.AddDate(0, 0, 1)}, true
	}
	prefix := auditCommunePrefix + commune + "_"
	t, err := time.Parse("200601", strings.TrimPrefix(name, prefix))
	if err != nil || !strings.HasPrefix(name, prefix) {
		return partition{}, false
	}
	return partition{name: name, start: t, end: t.AddDate(0, 1, 0)}, true
}

// FindAudit returns the events of f, newest first, reading partitions from
// the newest down until the page is full, the filter's From is passed, or
// the partitions one call may read are read (then the bound answered lets
// the next call go on).
func (a *Audit) FindAudit(ctx context.Context, f domain.AuditFilter) ([]domain.AuditEvent, string, error) {
	limit := domain.ClampLimit(f.Limit)
	upper := f.Before
	if !f.To.IsZero() && (upper == "" || AuditBound(f.To) < upper) {
		upper = AuditBound(f.To)
	}
	lower := ""
	if !f.From.IsZero() {
		lower = AuditBound(f.From)
	}
	parts, err := a.partitions(ctx, f.CommuneCode, time.Now())
	if err != nil {
		return nil, "", err
	}
	budget := auditMaxDays
	if f.CommuneCode != "" {
		budget = auditMaxMonths
	}
	var out []domain.AuditEvent
	for _, p := range parts {
		switch {
		case upper != "" && AuditBound(p.start) >= upper:
			continue // newer than the page
		case lower != "" && AuditBound(p.end) <= lower:
			return out, "", nil // older than From, and so are the rest
		case budget == 0:
			return out, upper, nil
		}
		budget--
		q := bson.D{}
		id := bson.D{}
		if upper != "" {
			id = append(id, bson.E{Key: "$lt", Value: upper})
		}
		if lower != "" {
			id = append(id, bson.E{Key: "$gte", Value: lower})
		}
		if len(id) > 0 {
			q = append(q, bson.E{Key: "_id", Value: id})
		}
		if f.Actor != "" {
			q = append(q, bson.E{Key: "actor", Value: f.Actor})
		}
		if f.Action != "" {
			q = append(q, bson.E{Key: "action", Value: f.Action})
		}
		docs, err := findDocs[auditDoc](ctx, "find audit", a.db.Collection(p.name), q,
			options.Find().SetSort(bson.D{{Key: "_id", Value: -1}}).SetLimit(int64(limit-len(out)+1)))
		if err != nil {
			return nil, "", err
		}
		for _, d := range docs {
			out = append(out, d.toDomain())
		}
		if len(out) > limit {
			out = out[:limit]
			return out, out[limit-1].ID, nil
		}
		upper = AuditBound(p.start)
	}
	return out, "", nil
}
