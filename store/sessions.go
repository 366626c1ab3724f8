package store

import (
	"context"
	"fmt"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/hue-cdt/cdt/domain"
)

// Sessions stores signed-in devices. A refresh token names its session and a
// counter; using it inserts "<session>:<counter>" into session_claims, and the
// unique _id lets each counter be used exactly once, even by two concurrent
// requests on two servers.
//
// Ending a session, or every session of a login, also inserts a revocation
// into the small collection revocations, kept for domain.RevocationKeep:
// every server reads it whole every few seconds, never the sessions.
type Sessions struct {
	coll, claims, revocations *mongo.Collection
}

type revocationDoc struct {
	ID       string    `bson:"_id"` // "s:<session>" or "u:<username>"
	Session  string    `bson:"session,omitempty"`
	Username string    `bson:"username"`
	At       time.Time `bson:"at"`
	Until    time.Time `bson:"until"`
}

type sessionDoc struct {
	ID         string    `bson:"_id"`
	Username   string    `bson:"username"`
	Kind       string    `bson:"kind"`
	Counter    int       `bson:"counter"`
	SecretHash []byte    `bson:"secret_hash"`
	PrevHash   []byte    `bson:"prev_hash,omitempty"`
	CreatedAt  time.Time `bson:"created_at"`
	RotatedAt  time.Time `bson:"rotated_at"`
	ExpiresAt  time.Time `bson:"expires_at"`
	RevokedAt  time.Time `bson:"revoked_at,omitempty"`
	Reason     string    `bson:"reason,omitempty"`
}

type sessionClaimDoc struct {
	ID string    `bson:"_id"`
	At time.Time `bson:"at"`
}

// CreateSession inserts s.
func (s *Sessions) CreateSession(ctx context.Context, x *domain.Session) error {
	_, err := s.coll.InsertOne(ctx, sessionDoc{ID: x.ID, Username: x.Username, Kind: x.Kind, Counter: x.Counter,
		SecretHash: x.SecretHash, CreatedAt: x.CreatedAt.UTC(), RotatedAt: x.RotatedAt.UTC(), ExpiresAt: x.ExpiresAt.UTC()})
	return wrap("create session", err)
}

// FindSession returns session id.
func (s *Sessions) FindSession(ctx context.Context, id string) (domain.Session, error) {
	var d sessionDoc
	if err := s.coll.FindOne(ctx, bson.D{{Key: "_id", Value: id}}).Decode(&d); err != nil {
		return domain.Session{}, wrap("find session", err)
	}
	return d.toDomain(), nil
}

func (d sessionDoc) toDomain() domain.Session {
	return domain.Session{ID: d.ID, Username: d.Username, Kind: d.Kind, Counter: d.Counter, SecretHash: d.SecretHash, PrevHash: d.PrevHash,
		CreatedAt: d.CreatedAt, RotatedAt: d.RotatedAt, ExpiresAt: d.ExpiresAt, RevokedAt: d.RevokedAt, Reason: d.Reason}
}

// ClaimCounter uses counter n of session id once; ErrConflict the second time.
func (s *Sessions) ClaimCounter(ctx context.Context, id string, n int, now time.Time) error {
	_, err := s.claims.InsertOne(ctx, sessionClaimDoc{ID: fmt.Sprintf("%s:%d", id, n), At: now.UTC()})
	return wrap("claim session counter", err)
}

// Rotate records the new counter and secret; only the claimant of the previous
// counter calls it, so it is the only writer.
func (s *Sessions) Rotate(ctx context.Context, id string, counter int, secretHash, prevHash []byte, now, expires time.Time) error {
	_, err := s.coll.UpdateOne(ctx, bson.D{{Key: "_id", Value: id}}, bson.D{{Key: "$set", Value: bson.D{
		{Key: "counter", Value: counter}, {Key: "secret_hash", Value: secretHash}, {Key: "prev_hash", Value: prevHash},
		{Key: "rotated_at", Value: now.UTC()}, {Key: "expires_at", Value: expires.UTC()}}}})
	return wrap("rotate session", err)
}

// RevokeSession ends session id and records its revocation, which ends its
// access tokens on every server.
func (s *Sessions) RevokeSession(ctx context.Context, id, reason string, now time.Time) error {
	cur, err := s.FindSession(ctx, id)
	if err != nil {
		return err
	}
	if err := s.revoke(ctx, revocationDoc{ID: "s:" + id, Session: id, Username: cur.Username}, now); err != nil {
		return err
	}
	return s.end(ctx, cur, reason, now)
}

// revoke records a revocation; a later one of the same _id moves it forward.
// Two concurrent first revocations race to insert it: the loser updates.
func (s *Sessions) revoke(ctx context.Context, d revocationDoc, now time.Time) error {
	var err error
	for range 2 {
		_, err = s.revocations.UpdateOne(ctx, bson.D{{Key: "_id", Value: d.ID}}, bson.D{
			{Key: "$set", Value: bson.D{{Key: "session", Value: d.Session}, {Key: "username", Value: d.Username}}},
			{Key: "$max", Value: bson.D{{Key: "at", Value: now.UTC()}, {Key: "until", Value: now.Add(domain.RevocationKeep).UTC()}}}},
			options.UpdateOne().SetUpsert(true))
		if !isDup(err) {
			break
		}
	}
	return wrap("record revocation", err)
}

// end marks session cur ended. Besides marking it, it uses up the next
// counters, so that the session can never rotate again even if a concurrent
// rotation overwrites the mark.
func (s *Sessions) end(ctx context.Context, cur domain.Session, reason string, now time.Time) error {
	id := cur.ID
	for n := cur.Counter; n <= cur.Counter+2; n++ {
		if err := s.ClaimCounter(ctx, id, n, now); err != nil && !isConflict(err) {
			return err
		}
	}
	_, err := s.coll.UpdateOne(ctx, bson.D{{Key: "_id", Value: id}}, bson.D{{Key: "$set", Value: bson.D{
		{Key: "revoked_at", Value: now.UTC()}, {Key: "reason", Value: reason}}}})
	return wrap("revoke session", err)
}

// RevokeUserSessions records that every session of username begun before now
// is over (which ends their access tokens on every server), then ends each.
func (s *Sessions) RevokeUserSessions(ctx context.Context, username, reason string, now time.Time) error {
	if err := s.revoke(ctx, revocationDoc{ID: "u:" + username, Username: username}, now); err != nil {
		return err
	}
	docs, err := findDocs[sessionDoc](ctx, "find sessions", s.coll, bson.D{{Key: "username", Value: username}})
	if err != nil {
		return err
	}
	for _, d := range docs {
		if d.RevokedAt.IsZero() {
			if err := s.end(ctx, d.toDomain(), reason, now); err != nil {
				return err
			}
		}
	}
	return nil
}

// Revocations lists the revocations still kept: a small collection, read
// whole.
func (s *Sessions) Revocations(ctx context.Context) ([]domain.Revocation, error) {
	docs, err := findDocs[revocationDoc](ctx, "find revocations", s.revocations, bson.D{})
	if err != nil {
		return nil, err
	}
	out := make([]domain.Revocation, len(docs))
	for i, d := range docs {
		out[i] = domain.Revocation{Session: d.Session, Username: d.Username, At: d.At}
	}
	return out, nil
}

// DeleteExpiredSessions removes sessions past their expiry, claims older than
// the longest session and revocations past their keep, keeping the
// collections small.
func (s *Sessions) DeleteExpiredSessions(ctx context.Context, now time.Time) (int, error) {
	res, err := s.coll.DeleteMany(ctx, bson.D{{Key: "expires_at", Value: bson.D{{Key: "$lt", Value: now.UTC()}}}})
	if err != nil {
		return 0, wrap("delete sessions", err)
	}
	if _, err := s.claims.DeleteMany(ctx, bson.D{{Key: "at", Value: bson.D{{Key: "$lt", Value: now.Add(-120 * 24 * time.Hour).UTC()}}}}); err != nil {
		return 0, wrap("delete session claims", err)
	}
	if _, err := s.revocations.DeleteMany(ctx, bson.D{{Key: "until", Value: bson.D{{Key: "$lt", Value: now.UTC()}}}}); err != nil {
		return 0, wrap("delete revocations", err)
	}
	return int(res.DeletedCount), nil
}

func isConflict(err error) bool { return err != nil && errorsIs(err, domain.ErrConflict) }
