package store

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// The deletions of the clean-up job (jobs.Cleanup): each keeps one
// housekeeping collection bounded by what the live data still needs. Every
// query here scans its collection once (FerretDB reads nothing by index), so
// deletions go by batches of _ids, a scan per batch.

// deleteBatch is how many _ids one DeleteMany names.
const deleteBatch = 5000

// claimAge is how old a claim must be before it may go: a writer reads a
// document, then claims the next version within one request.
const claimAge = 24 * time.Hour

// deleteIDs deletes the documents of coll with the given _ids.
func deleteIDs(ctx context.Context, coll *mongo.Collection, ids []string) (int, error) {
	n := 0
	for i := 0; i < len(ids); i += deleteBatch {
		res, err := coll.DeleteMany(ctx, bson.D{{Key: "_id", Value: bson.D{{Key: "$in", Value: ids[i:min(i+deleteBatch, len(ids))]}}}})
		if err != nil {
			return n, wrap("delete "+coll.Name(), err)
		}
		n += int(res.DeletedCount)
	}
	return n, nil
}

// pruneClaims deletes the version claims (claimVersion) of coll older than
// claimAge that no writer can need any more: those below the current version
// of their document (current, by claim key), and those of documents that no
// longer exist. A claim at or above the current version may belong to a write
// in progress, or block a writer that died mid-write until staleClaim: kept.
func pruneClaims(ctx context.Context, coll *mongo.Collection, current map[string]int64, now time.Time) (int, error) {
	docs, err := findDocs[claimDoc](ctx, "claims", coll, bson.D{{Key: "at", Value: bson.D{{Key: "$lt", Value: now.Add(-claimAge).UTC()}}}},
		options.Find().SetProjection(bson.D{{Key: "commune", Value: 1}, {Key: "version", Value: 1}, {Key: "at", Value: 1}}))
	if err != nil {
		return 0, err
	}
	var dead []string
	for _, d := range docs {
		if v, ok := current[d.Commune]; !ok || d.Version < v {
			dead = append(dead, d.ID)
		}
	}
	return deleteIDs(ctx, coll, dead)
}

// PruneClaims deletes the claims of registry versions written long ago.
func (r *Registries) PruneClaims(ctx context.Context, now time.Time) (int, error) {
	counts, err := r.RegistryCounts(ctx)
	if err != nil {
		return 0, err
	}
	current := make(map[string]int64, len(counts))
	for c, n := range counts {
		current[c] = n.Version
	}
	return pruneClaims(ctx, r.claims, current, now)
}

// versions returns the version of every document of coll under key prefix+_id.
func versions(ctx context.Context, coll *mongo.Collection, prefix string) (map[string]int64, error) {
	docs, err := findDocs[struct {
		ID      string `bson:"_id"`
		Version int64  `bson:"version"`
	}](ctx, coll.Name(), coll, bson.D{}, options.Find().SetProjection(bson.D{{Key: "version", Value: 1}}))
	if err != nil {
		return nil, err
	}
	out := make(map[string]int64, len(docs))
	for _, d := range docs {
		out[prefix+d.ID] = d.Version
	}
	return out, nil
}

// PruneClaims deletes the claims of training versions written long ago.
func (s *Trainings) PruneClaims(ctx context.Context, now time.Time) (int, error) {
	current, err := versions(ctx, s.coll, "training-")
	if err != nil {
		return 0, err
	}
	return pruneClaims(ctx, s.claims, current, now)
}

// PruneClaims deletes the claims of privacy-request versions written long
// ago, and those of deleted requests.
func (s *Privacy) PruneClaims(ctx context.Context, now time.Time) (int, error) {
	current, err := versions(ctx, s.coll, "privacy-")
	if err != nil {
		return 0, err
	}
	return pruneClaims(ctx, s.claims, current, now)
}

// DeleteUsedClaims deletes the refresh-counter claims no refresh can meet
// again: those of sessions that are gone, and those below their session's
// counter (a refresh token of an older counter is refused as reused by the
// counter alone). The claims of the current counter and above stay: they
// settle concurrent refreshes and keep a revoked session from rotating.
func (s *Sessions) DeleteUsedClaims(ctx context.Context, _ time.Time) (int, error) {
	sessions, err := findDocs[struct {
		ID      string `bson:"_id"`
		Counter int    `bson:"counter"`
	}](ctx, "sessions", s.coll, bson.D{}, options.Find().SetProjection(bson.D{{Key: "counter", Value: 1}}))
	if err != nil {
		return 0, err
	}
	counter := make(map[string]int, len(sessions))
	for _, d := range sessions {
		counter[d.ID] = d.Counter
	}
	claims, err := findDocs[sessionClaimDoc](ctx, "session claims", s.claims, bson.D{},
		options.Find().SetProjection(bson.D{{Key: "_id", Value: 1}}))
	if err != nil {
		return 0, err
	}
	var dead []string
	for _, c := range claims {
		i := strings.LastIndexByte(c.ID, ':')
		n, err := strconv.Atoi(c.ID[i+1:])
		if i < 0 || err != nil {
			continue // not a claim this code wrote: leave it
		}
		if cur, ok := counter[c.ID[:i]]; !ok || n < cur {
			dead = append(dead, c.ID)
		}
	}
	return deleteIDs(ctx, s.claims, dead)
}

// DeleteRunsBefore deletes the runs that ended and started before before.
func (s *Coverage) DeleteRunsBefore(ctx context.Context, before time.Time) (int, error) {
	res, err := s.runs.DeleteMany(ctx, bson.D{{Key: "started_at", Value: bson.D{{Key: "$lt", Value: before.UTC()}}},
		{Key: "status", Value: bson.D{{Key: "$ne", Value: "running"}}}})
	if err != nil {
		return 0, wrap("delete runs", err)
	}
	return int(res.DeletedCount), nil
}

// Counts returns the number of documents of each named collection (tests and
// the clean-up's log).
func (d *DB) Counts(ctx context.Context, names ...string) (map[string]int64, error) {
	out := map[string]int64{}
	for _, n := range names {
		c, err := d.Database.Collection(n).CountDocuments(ctx, bson.D{})
		if err != nil {
			return nil, fmt.Errorf("store: count %s: %w", n, err)
		}
		out[n] = c
	}
	return out, nil
}
