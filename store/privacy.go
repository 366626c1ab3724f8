package store

import (
	"context"
	"fmt"
	"sort"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"

	"github.com/hue-cdt/cdt/domain"
)

const (
	collPrivacy       = "privacy_requests"
	collPrivacyClaims = "privacy_claims"
)

// Privacy stores citizens' data requests, one small document each. The
// collection stays small (a few requests per commune and year), so its
// scans are cheap; a change claims the request's next version first (see
// claimVersion), so two leaders closing one request at once cannot both win.
type Privacy struct {
	coll, claims *mongo.Collection
	now          func() time.Time
}

func newPrivacy(db *mongo.Database, now func() time.Time) *Privacy {
	return &Privacy{coll: db.Collection(collPrivacy), claims: db.Collection(collPrivacyClaims), now: now}
}

type privacyDoc struct {
	ID         string    `bson:"_id"`
	Kind       string    `bson:"kind"`
	Commune    string    `bson:"commune_code"`
	Household  string    `bson:"household,omitempty"`
	ReceivedOn string    `bson:"received_on"`
	DueOn      string    `bson:"due_on"`
	Contact    string    `bson:"contact,omitempty"`
	Note       string    `bson:"note,omitempty"`
	Status     string    `bson:"status"`
	Reason     string    `bson:"reason,omitempty"`
	Affected   int       `bson:"affected,omitempty"`
	CreatedAt  time.Time `bson:"created_at"`
	CreatedBy  string    `bson:"created_by"`
	ClosedAt   time.Time `bson:"closed_at,omitempty"`
	ClosedBy   string    `bson:"closed_by,omitempty"`
	Version    int64     `bson:"version"`
}

func toPrivacyDoc(r domain.PrivacyRequest) privacyDoc {
	return privacyDoc{ID: r.ID, Kind: r.Kind, Commune: r.CommuneCode, Household: r.Household, ReceivedOn: string(r.ReceivedOn),
		DueOn: string(r.DueOn), Contact: r.Contact, Note: r.Note, Status: r.Status, Reason: r.Reason, Affected: r.Affected,
		CreatedAt: r.CreatedAt.UTC(), CreatedBy: r.CreatedBy, ClosedAt: r.ClosedAt.UTC(), ClosedBy: r.ClosedBy, Version: r.Version}
}

func (d privacyDoc) toDomain() domain.PrivacyRequest {
	r := domain.PrivacyRequest{ID: d.ID, Kind: d.Kind, CommuneCode: d.Commune, Household: d.Household,
		ReceivedOn: domain.Date(d.ReceivedOn), DueOn: domain.Date(d.DueOn), Contact: d.Contact, Note: d.Note, Status: d.Status,
		Reason: d.Reason, Affected: d.Affected, CreatedAt: d.CreatedAt, CreatedBy: d.CreatedBy, ClosedBy: d.ClosedBy, Version: d.Version}
	if d.ClosedBy != "" {
		r.ClosedAt = d.ClosedAt
	}
	return r
}

// CreatePrivacyRequest stores a new request.
func (s *Privacy) CreatePrivacyRequest(ctx context.Context, r domain.PrivacyRequest) error {
	_, err := s.coll.InsertOne(ctx, toPrivacyDoc(r))
	return wrap("create privacy request", err)
}

// PrivacyRequest returns request id.
func (s *Privacy) PrivacyRequest(ctx context.Context, id string) (domain.PrivacyRequest, error) {
	var d privacyDoc
	if err := s.coll.FindOne(ctx, bson.D{{Key: "_id", Value: id}}).Decode(&d); err != nil {
		return domain.PrivacyRequest{}, wrap("privacy request "+id, err)
	}
	return d.toDomain(), nil
}

// UpdatePrivacyRequest applies fn to a copy of request id and saves it once
// it has claimed the next version.
func (s *Privacy) UpdatePrivacyRequest(ctx context.Context, id string, fn func(*domain.PrivacyRequest) error) (domain.PrivacyRequest, error) {
	return updateVersioned(ctx, s.claims, "privacy-"+id, s.now, 20,
		func() (domain.PrivacyRequest, int64, error) {
			cur, err := s.PrivacyRequest(ctx, id)
			return cur, cur.Version, err
		}, fn,
		func(next *domain.PrivacyRequest, v int64) error {
			next.ID, next.Version = id, v
			_, err := s.coll.ReplaceOne(ctx, bson.D{{Key: "_id", Value: id}}, toPrivacyDoc(*next))
			return wrap("save privacy request", err)
		})
}

// FindPrivacyRequests lists the requests matching f, most recently received
// first (then newest registered).
func (s *Privacy) FindPrivacyRequests(ctx context.Context, f domain.PrivacyFilter) ([]domain.PrivacyRequest, error) {
	q := bson.D{}
	if f.Status != "" {
		q = append(q, bson.E{Key: "status", Value: f.Status})
	}
	if f.CommuneCode != "" {
		q = append(q, bson.E{Key: "commune_code", Value: f.CommuneCode})
	}
	docs, err := findDocs[privacyDoc](ctx, "find privacy requests", s.coll, q)
	if err != nil {
		return nil, err
	}
	out := make([]domain.PrivacyRequest, len(docs))
	for i, d := range docs {
		out[i] = d.toDomain()
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].ReceivedOn != out[j].ReceivedOn {
			return out[i].ReceivedOn > out[j].ReceivedOn
		}
		if !out[i].CreatedAt.Equal(out[j].CreatedAt) {
			return out[i].CreatedAt.After(out[j].CreatedAt)
		}
		return out[i].ID < out[j].ID
	})
	return out, nil
}

// ObjectedHouseholds returns the household hashes whose objection stands.
func (s *Privacy) ObjectedHouseholds(ctx context.Context) (map[string]bool, error) {
	docs, err := findDocs[privacyDoc](ctx, "objected households", s.coll, bson.D{{Key: "kind", Value: domain.PrivacyObject}})
	if err != nil {
		return nil, err
	}
	out := map[string]bool{}
	for _, d := range docs {
		if r := d.toDomain(); r.Objects() {
			out[r.Household] = true
		}
	}
	return out, nil
}

// DeletePrivacyRequest removes request id.
func (s *Privacy) DeletePrivacyRequest(ctx context.Context, id string) error {
	res, err := s.coll.DeleteOne(ctx, bson.D{{Key: "_id", Value: id}})
	if err != nil {
		return wrap("delete privacy request", err)
	}
	if res.DeletedCount == 0 {
		return fmt.Errorf("store: privacy request %s: %w", id, domain.ErrNotFound)
	}
	return nil
}

var _ domain.PrivacyStore = (*Privacy)(nil)
