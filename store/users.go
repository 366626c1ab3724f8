package store

import (
	"context"
	"sort"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"

	"github.com/hue-cdt/cdt/domain"
)

// Users stores logins, one document per login with the username as _id, so that
// a second login with the same name is rejected by the database itself.
type Users struct{ coll *mongo.Collection }

type userDoc struct {
	ID           string    `bson:"_id"`
	PasswordHash []byte    `bson:"password_hash"`
	Role         string    `bson:"role"`
	UnitCode     string    `bson:"unit_code"`
	MemberID     string    `bson:"member_id,omitempty"`
	Active       bool      `bson:"active"`
	CreatedAt    time.Time `bson:"created_at"`
	CreatedBy    string    `bson:"created_by,omitempty"`
	UpdatedAt    time.Time `bson:"updated_at"`
}

func (d userDoc) toDomain() domain.User {
	return domain.User{Username: d.ID, PasswordHash: d.PasswordHash, Role: domain.Role(d.Role), UnitCode: d.UnitCode,
		MemberID: d.MemberID, Active: d.Active, CreatedAt: d.CreatedAt, CreatedBy: d.CreatedBy, UpdatedAt: d.UpdatedAt}
}

// CreateUser inserts u; ErrConflict when the username is taken.
func (s *Users) CreateUser(ctx context.Context, u *domain.User) error {
	d := userDoc{ID: u.Username, PasswordHash: u.PasswordHash, Role: string(u.Role), UnitCode: u.UnitCode,
		MemberID: u.MemberID, Active: u.Active, CreatedAt: u.CreatedAt.UTC(), CreatedBy: u.CreatedBy, UpdatedAt: u.UpdatedAt.UTC()}
	_, err := s.coll.InsertOne(ctx, d)
	return wrap("create user "+u.Username, err)
}

// FindUser returns login username.
func (s *Users) FindUser(ctx context.Context, username string) (domain.User, error) {
	var d userDoc
	if err := s.coll.FindOne(ctx, bson.D{{Key: "_id", Value: username}}).Decode(&d); err != nil {
		return domain.User{}, wrap("find user "+username, err)
	}
	return d.toDomain(), nil
}

// FindUsers returns the logins matching f, by username.
func (s *Users) FindUsers(ctx context.Context, f domain.UserFilter) ([]domain.User, error) {
	q := bson.D{}
	if f.UnitCode != "" {
		q = append(q, bson.E{Key: "unit_code", Value: f.UnitCode})
	}
	if f.MemberID != "" {
		q = append(q, bson.E{Key: "member_id", Value: f.MemberID})
	}
	if f.Role != "" {
		q = append(q, bson.E{Key: "role", Value: string(f.Role)})
	}
	docs, err := findDocs[userDoc](ctx, "find users", s.coll, q)
	if err != nil {
		return nil, err
	}
	out := make([]domain.User, len(docs))
	for i, d := range docs {
		out[i] = d.toDomain()
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Username < out[j].Username })
	return out, nil
}

// UpdatePassword replaces the password hash of username.
func (s *Users) UpdatePassword(ctx context.Context, username string, hash []byte, now time.Time) error {
	return s.set(ctx, username, bson.D{{Key: "password_hash", Value: hash}, {Key: "updated_at", Value: now.UTC()}})
}

// SetUserActive enables or disables a login.
func (s *Users) SetUserActive(ctx context.Context, username string, active bool, now time.Time) error {
	return s.set(ctx, username, bson.D{{Key: "active", Value: active}, {Key: "updated_at", Value: now.UTC()}})
}

func (s *Users) set(ctx context.Context, username string, fields bson.D) error {
	res, err := s.coll.UpdateOne(ctx, bson.D{{Key: "_id", Value: username}}, bson.D{{Key: "$set", Value: fields}})
	if err == nil && res.MatchedCount == 0 {
		err = mongo.ErrNoDocuments
	}
	return wrap("update user "+username, err)
}

// CountUsers counts logins.
func (s *Users) CountUsers(ctx context.Context) (int, error) {
	n, err := s.coll.CountDocuments(ctx, bson.D{})
	return int(n), wrap("count users", err)
}
