package store

import (
	"cmp"
	"context"
	"errors"
	"strings"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/hue-cdt/cdt/domain"
)

const collAssistance = "assistance"

func init() {
	// Read indexes: MongoDB answers the record lists with them. FerretDB v1
	// never reads by index, and every index slows its inserts, so they are
	// created only on MongoDB (see EnsureIndexes).
	readIndexes = append(readIndexes,
		index{collAssistance, bson.D{{Key: "member_id", Value: 1}, {Key: "occurred_at", Value: -1}}, false, "member_time"},
		index{collAssistance, bson.D{{Key: "team_id", Value: 1}, {Key: "occurred_at", Value: -1}}, false, "team_time"},
		index{collAssistance, bson.D{{Key: "commune_code", Value: 1}, {Key: "occurred_at", Value: -1}}, false, "commune_time"},
		index{collAssistance, bson.D{{Key: "household", Value: 1}}, false, "household"},
	)
}

// Assistance stores assistance records, one document each, _id
// member:client_id, and the records excluded from the figures.
type Assistance struct{ coll, excluded *mongo.Collection }

type recordDoc struct {
	ID         string    `bson:"_id"`
	ClientID   string    `bson:"client_id,omitempty"`
	MemberID   string    `bson:"member_id"`
	TeamID     string    `bson:"team_id"`
	Commune    string    `bson:"commune_code"`
	Village    string    `bson:"village_code"`
	Service    string    `bson:"service"`
	Household  string    `bson:"household,omitempty"`
	OccurredAt time.Time `bson:"occurred_at"`
	Day        string    `bson:"day,omitempty"`
	RecordedAt time.Time `bson:"recorded_at"`
	Outcome    string    `bson:"outcome"`
	Gender     string    `bson:"citizen_gender,omitempty"`
	AgeGroup   string    `bson:"citizen_age_group,omitempty"`
	Place      string    `bson:"place,omitempty"`
	Note       string    `bson:"note,omitempty"`
	By         string    `bson:"by,omitempty"`
	Delta      string    `bson:"delta,omitempty"`
	Skew       int64     `bson:"device_skew,omitempty"`
	Consent    string    `bson:"consent,omitempty"` // absent on records stored before consent was asked: unrecorded
	// SentAt is occurred_at as the device sent it, when it was corrected by
	// the device's clock offset.
	SentAt time.Time `bson:"occurred_at_sent,omitempty"`
}

func toRecordDoc(r domain.Record) recordDoc {
	return recordDoc{ID: r.ID, ClientID: r.ClientID, MemberID: r.MemberID, TeamID: r.TeamID, Commune: r.CommuneCode,
		Village: r.VillageCode, Service: r.Service, Household: r.Household, OccurredAt: r.OccurredAt.UTC(), Day: string(r.Day),
		RecordedAt: r.RecordedAt.UTC(), Outcome: r.Outcome, Gender: r.Gender, AgeGroup: r.AgeGroup, Place: r.Place,
		Note: r.Note, By: r.By, Delta: r.Delta, Skew: r.DeviceSkew, SentAt: utcOrZero(r.SentOccurredAt),
		Consent: r.Consent}
}

func utcOrZero(t time.Time) time.Time {
	if t.IsZero() {
		return t
	}
	return t.UTC()
}

func (d recordDoc) toDomain() domain.Record {
	return domain.Record{ID: d.ID, ClientID: d.ClientID, MemberID: d.MemberID, TeamID: d.TeamID, CommuneCode: d.Commune,
		VillageCode: d.Village, Service: d.Service, Household: d.Household, OccurredAt: d.OccurredAt, Day: domain.Date(d.Day),
		RecordedAt: d.RecordedAt, Outcome: d.Outcome, Gender: d.Gender, AgeGroup: d.AgeGroup, Place: d.Place, Note: d.Note,
		By: d.By, Delta: d.Delta, DeviceSkew: d.Skew, SentOccurredAt: d.SentAt, Consent: cmp.Or(d.Consent, domain.ConsentUnrecorded)}
}

// InsertRecords stores records; a duplicate _id means the record was there.
func (s *Assistance) InsertRecords(ctx context.Context, recs []domain.Record) ([]domain.InsertResult, error) {
	out := make([]domain.InsertResult, len(recs))
	if len(recs) == 0 {
		return out, nil
	}
	if len(recs) == 1 {
		_, err := s.coll.InsertOne(ctx, toRecordDoc(recs[0]))
		switch {
		case err == nil:
			out[0].Created = true
		case isDup(err):
		default:
			return nil, wrap("insert record", err)
		}
		return out, nil
	}
	docs := make([]any, len(recs))
	for i, r := range recs {
		docs[i] = toRecordDoc(r)
		out[i].Created = true
	}
	_, err := s.coll.InsertMany(ctx, docs, options.InsertMany().SetOrdered(false))
	var bwe mongo.BulkWriteException
	switch {
	case err == nil:
	case errors.As(err, &bwe) && bwe.WriteConcernError == nil:
		for _, we := range bwe.WriteErrors {
			if we.Index < 0 || we.Index >= len(out) {
				return nil, wrap("insert records", err)
			}
			out[we.Index].Created = false
			if !isDup(we) && we.Code != 11000 {
				out[we.Index].Err = wrap("insert record", we)
			}
		}
	default:
		return nil, wrap("insert records", err)
	}
	return out, nil
}

// FindRecords returns records matching f, newest first. On MongoDB the read
// indexes answer it; on FerretDB it scans the collection (BENCHMARKS.md).
func (s *Assistance) FindRecords(ctx context.Context, f domain.RecordFilter) ([]domain.Record, string, error) {
	q := bson.D{}
	for k, v := range map[string]string{"commune_code": f.CommuneCode, "team_id": f.TeamID, "member_id": f.MemberID} {
		if v != "" {
			q = append(q, bson.E{Key: k, Value: v})
		}
	}
	tr := bson.D{}
	if !f.From.IsZero() {
		tr = append(tr, bson.E{Key: "$gte", Value: f.From.UTC()})
	}
	if !f.To.IsZero() {
		tr = append(tr, bson.E{Key: "$lt", Value: f.To.UTC()})
	}
	if len(tr) > 0 {
		q = append(q, bson.E{Key: "occurred_at", Value: tr})
	}
	if f.After != "" {
		ts, id, ok := strings.Cut(f.After, "|")
		t, err := time.Parse("20060102T150405.000", ts)
		if !ok || err != nil {
			return nil, "", domain.Invalid("cursor", "cursor")
		}
		q = append(q, bson.E{Key: "$or", Value: bson.A{
			bson.D{{Key: "occurred_at", Value: bson.D{{Key: "$lt", Value: t}}}},
			bson.D{{Key: "occurred_at", Value: t}, {Key: "_id", Value: bson.D{{Key: "$lt", Value: id}}}},
		}})
	}
	limit := domain.ClampLimit(f.Limit)
	opts := options.Find().SetSort(bson.D{{Key: "occurred_at", Value: -1}, {Key: "_id", Value: -1}}).SetLimit(int64(limit + 1))
	docs, err := findDocs[recordDoc](ctx, "find records", s.coll, q, opts)
	if err != nil {
		return nil, "", err
	}
	out := make([]domain.Record, 0, len(docs))
	for _, d := range docs {
		out = append(out, d.toDomain())
	}
	next := ""
	if len(out) > limit {
		out = out[:limit]
		next = out[limit-1].SortKey()
	}
	return out, next, nil
}

// ScanRecords streams every record, with every field, to fn, in batches: the
// full rebuild of the consolidated state and the benchmarks use it.
func (s *Assistance) ScanRecords(ctx context.Context, fn func(domain.Record) error) error {
	return s.scan(ctx, bson.D{}, 0, fn)
}

// ScanFirst streams the first n records in the collection's own order, the
// cheapest read FerretDB has (its limit is passed to the database): the
// benchmarks' measure of what reading n records costs.
func (s *Assistance) ScanFirst(ctx context.Context, n int, fn func(domain.Record) error) error {
	return s.scan(ctx, bson.D{}, n, fn)
}

func (s *Assistance) scan(ctx context.Context, q bson.D, limit int, fn func(domain.Record) error) error {
	o := options.Find().SetBatchSize(1000)
	if limit > 0 {
		o.SetLimit(int64(limit))
	}
	cur, err := s.coll.Find(ctx, q, o)
	if err != nil {
		return wrap("scan records", err)
	}
	defer cur.Close(ctx)
	for cur.Next(ctx) {
		var d recordDoc
		if err := cur.Decode(&d); err != nil {
			return wrap("scan records", err)
		}
		if err := fn(d.toDomain()); err != nil {
			return err
		}
	}
	return wrap("scan records", cur.Err())
}

// HouseholdRecords returns the records that carry household hash (a scan of
// the collection: on FerretDB about three minutes at a million records).
func (s *Assistance) HouseholdRecords(ctx context.Context, hash string) ([]domain.Record, error) {
	var out []domain.Record
	err := s.scan(ctx, bson.D{{Key: "household", Value: hash}}, 0, func(r domain.Record) error {
		out = append(out, r)
		return nil
	})
	return out, err
}

// ForgetHousehold removes household hash from every record that carries it.
func (s *Assistance) ForgetHousehold(ctx context.Context, hash string) (int, error) {
	res, err := s.coll.UpdateMany(ctx, bson.D{{Key: "household", Value: hash}},
		bson.D{{Key: "$unset", Value: bson.D{{Key: "household", Value: ""}}}})
	if err != nil {
		return 0, wrap("forget household", err)
	}
	return int(res.ModifiedCount), nil
}

// DropHouseholdsBefore removes the household hash of every record that
// occurred before cutoff.
func (s *Assistance) DropHouseholdsBefore(ctx context.Context, cutoff time.Time) (int, error) {
	res, err := s.coll.UpdateMany(ctx, bson.D{{Key: "occurred_at", Value: bson.D{{Key: "$lt", Value: cutoff.UTC()}}},
		{Key: "household", Value: bson.D{{Key: "$exists", Value: true}}}},
		bson.D{{Key: "$unset", Value: bson.D{{Key: "household", Value: ""}}}})
	if err != nil {
		return 0, wrap("drop household hashes", err)
	}
	return int(res.ModifiedCount), nil
}

// exclusionDoc is a record excluded from the figures (an integrity flag
// confirmed): a full rebuild leaves it out.
type exclusionDoc struct {
	ID     string    `bson:"_id"` // the record's
	V      int       `bson:"v"`
	Reason string    `bson:"reason"`
	At     time.Time `bson:"at"`
}

// Exclude records that the record id is excluded (ErrConflict if it is already).
func (s *Assistance) Exclude(ctx context.Context, id, reason string, at time.Time) error {
	_, err := s.excluded.InsertOne(ctx, exclusionDoc{ID: id, V: schemaV, Reason: reason, At: at.UTC()})
	return wrap("exclude record", err)
}

// Excluded returns the IDs of the excluded records.
func (s *Assistance) Excluded(ctx context.Context) (map[string]bool, error) {
	docs, err := findDocs[exclusionDoc](ctx, "excluded records", s.excluded, bson.D{})
	if err != nil {
		return nil, err
	}
	out := make(map[string]bool, len(docs))
	for _, d := range docs {
		out[d.ID] = true
	}
	return out, nil
}

// CountRecords is the approximate number of records ($collStats, cheap on both backends).
func (s *Assistance) CountRecords(ctx context.Context) (int64, error) {
	cur, err := s.coll.Aggregate(ctx, mongo.Pipeline{{{Key: "$collStats", Value: bson.D{{Key: "count", Value: bson.D{}}}}}})
	if err != nil {
		return 0, wrap("count records", err)
	}
	var out []struct {
		Count int64 `bson:"count"`
	}
	if err := cur.All(ctx, &out); err != nil {
		return 0, wrap("count records", err)
	}
	if len(out) == 0 {
		return 0, nil
	}
	return out[0].Count, nil
}

// RecordDocument is the document InsertRecords stores for r (benchmarks insert
// it directly to measure the database's own limit).
func RecordDocument(r domain.Record) any { return toRecordDoc(r) }
