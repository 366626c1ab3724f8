package store

import (
	"context"
	"fmt"
	"strings"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/hue-cdt/cdt/domain"
)

const collLeases = "leases"

// Leases implements domain.LeaseStore with one document per epoch,
// "<key>#<epoch>": taking a lease inserts the next epoch, and the unique _id
// lets exactly one contender win it. Only the owner of an epoch updates it.
type Leases struct {
	coll, procs *mongo.Collection
	now         func() time.Time
}

type leaseDoc struct {
	ID    string    `bson:"_id"`
	Key   string    `bson:"key"`
	Epoch int64     `bson:"epoch"`
	Owner string    `bson:"owner"`
	Until time.Time `bson:"until"`
}

func leaseID(key string, epoch int64) string { return fmt.Sprintf("%s#%012d", key, epoch) }

func (d leaseDoc) lease() domain.Lease {
	return domain.Lease{Key: d.Key, Epoch: d.Epoch, Owner: d.Owner, Until: d.Until}
}

// CurrentLease returns the newest epoch of key.
func (s *Leases) CurrentLease(ctx context.Context, key string) (domain.Lease, error) {
	var d leaseDoc
	err := s.coll.FindOne(ctx, bson.D{{Key: "key", Value: key}}, options.FindOne().SetSort(bson.D{{Key: "epoch", Value: -1}})).Decode(&d)
	if err != nil {
		return domain.Lease{}, wrap("lease "+key, err)
	}
	return d.lease(), nil
}

// AcquireLease takes or renews key.
func (s *Leases) AcquireLease(ctx context.Context, key, owner string, ttl time.Duration) (domain.Lease, error) {
	now := s.now()
	cur, err := s.CurrentLease(ctx, key)
	switch {
	case err == nil && cur.Owner == owner && cur.Until.After(now):
		return s.RenewLease(ctx, cur, ttl)
	case err == nil && cur.Until.After(now) && !s.ownerDead(ctx, cur.Owner, now):
		return domain.Lease{}, fmt.Errorf("store: lease %s held by %s: %w", key, cur.Owner, domain.ErrConflict)
	case err != nil && !errorsIs(err, domain.ErrNotFound):
		return domain.Lease{}, err
	}
	next := leaseDoc{ID: leaseID(key, cur.Epoch+1), Key: key, Epoch: cur.Epoch + 1, Owner: owner, Until: now.Add(ttl).UTC()}
	if _, err := s.coll.InsertOne(ctx, next); err != nil {
		if isDup(err) {
			return domain.Lease{}, fmt.Errorf("store: lease %s taken meanwhile: %w", key, domain.ErrConflict)
		}
		return domain.Lease{}, wrap("acquire lease "+key, err)
	}
	// Keep the collection small: older epochs are history.
	_, _ = s.coll.DeleteMany(ctx, bson.D{{Key: "key", Value: key}, {Key: "epoch", Value: bson.D{{Key: "$lt", Value: next.Epoch - 2}}}})
	return next.lease(), nil
}

// ownerDead reports whether the process that holds a lease (its owner up to
// the first "/") stopped or went without a heartbeat for domain.DeadAfter: a
// server killed while it held a lease gives it up in seconds, not at its
// expiry. An owner that never registered (a command-line run) is not known
// dead.
func (s *Leases) ownerDead(ctx context.Context, owner string, now time.Time) bool {
	id, _, _ := strings.Cut(owner, "/")
	var d processDoc
	if err := s.procs.FindOne(ctx, bson.D{{Key: "_id", Value: id}}).Decode(&d); err != nil {
		return false
	}
	return d.Stopped || d.Heartbeat.Before(now.Add(-domain.DeadAfter))
}

// RenewLease extends l if it is still the newest epoch and unexpired.
func (s *Leases) RenewLease(ctx context.Context, l domain.Lease, ttl time.Duration) (domain.Lease, error) {
	now := s.now()
	cur, err := s.CurrentLease(ctx, l.Key)
	if err != nil {
		return domain.Lease{}, err
	}
	if cur.Epoch != l.Epoch || cur.Owner != l.Owner || !cur.Until.After(now) {
		return domain.Lease{}, fmt.Errorf("store: lease %s lost: %w", l.Key, domain.ErrConflict)
	}
	l.Until = now.Add(ttl).UTC()
	_, err = s.coll.UpdateOne(ctx, bson.D{{Key: "_id", Value: leaseID(l.Key, l.Epoch)}}, bson.D{{Key: "$set", Value: bson.D{{Key: "until", Value: l.Until}}}})
	if err != nil {
		return domain.Lease{}, wrap("renew lease "+l.Key, err)
	}
	return l, nil
}

// ReleaseLease ends l at once, so another process may take it.
func (s *Leases) ReleaseLease(ctx context.Context, l domain.Lease) error {
	_, err := s.coll.UpdateOne(ctx, bson.D{{Key: "_id", Value: leaseID(l.Key, l.Epoch)}, {Key: "owner", Value: l.Owner}},
		bson.D{{Key: "$set", Value: bson.D{{Key: "until", Value: s.now().Add(-time.Second).UTC()}}}})
	return wrap("release lease "+l.Key, err)
}
