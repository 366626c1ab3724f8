package apptest

import (
	"context"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/google/uuid"
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
