package apptest

import (
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/google/uuid"
	"go.mongodb.org/mongo-driver/v2/bson"
)

// NewUUID returns a random client ID.
func NewUUID() string { return uuid.NewString() }

// Record returns a valid assistance body for village, occurred at `at`.
func Record(village string, at time.Time, household string) map[string]any {
	return map[string]any{"client_id": NewUUID(), "service": "vneid_activation", "household_ref": household,
		"village_code": village, "occurred_at": at.Format(time.RFC3339), "outcome": "done",
		"citizen_gender": "f", "citizen_age_group": "over_60"}
}

// RandomPhone returns a plausible mobile number.
func RandomPhone(r *rand.Rand) string { return fmt.Sprintf("09%08d", r.IntN(100_000_000)) }

// Settle flushes the buffered records into deltas and consolidates them, as
// the background jobs of a server would.
func (e *Env) Settle() {
	e.T.Helper()
	ctx := context.Background()
	if err := e.App.Ingest.Flush(ctx); err != nil {
		e.T.Fatal(err)
	}
	if err := e.App.Consolidate(ctx); err != nil {
		e.T.Fatal(err)
	}
}

// HashHolders counts, per collection, the stored documents that hold the
// household hash, as text or as the 16 bytes it encodes (the sets of
// households reached keep raw keys).
func (e *Env) HashHolders(hash string) map[string]int {
	e.T.Helper()
	key, err := base64.RawURLEncoding.DecodeString(hash)
	if err != nil || len(key) != 16 {
		e.T.Fatalf("household hash %q: %v", hash, err)
	}
	ctx := context.Background()
	db := e.App.Store.Database
	names, err := db.ListCollectionNames(ctx, bson.D{})
	if err != nil {
		e.T.Fatal(err)
	}
	hits := map[string]int{}
	for _, name := range names {
		cur, err := db.Collection(name).Find(ctx, bson.D{})
		if err != nil {
			e.T.Fatal(err)
		}
		for cur.Next(ctx) {
			if bytes.Contains(cur.Current, []byte(hash)) || bytes.Contains(cur.Current, key) {
				hits[name]++
			}
		}
		err = cur.Err()
		_ = cur.Close(ctx)
		if err != nil {
			e.T.Fatal(err)
		}
	}
	return hits
}
