package app_test

import (
	"context"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/hue-cdt/cdt/domain"
	"github.com/hue-cdt/cdt/internal/apptest"
)

// TestRetentionDropsOldHouseholdHashes: on real records, the clean-up drops
// the household hash of the records older than the retention period (5
// years) from the records, the lists and the sets of households reached, and
// keeps it on newer ones; the households stay counted as reached, and one
// reached both before and after the cutoff stays one household when it is
// assisted again.
func TestRetentionDropsOldHouseholdHashes(t *testing.T) {
	e := apptest.New(t)
	f := e.NewFixture()
	ctx := context.Background()
	hash := func(ref string) string {
		n, ok := domain.NormalizeHouseholdRef(ref)
		if !ok {
			t.Fatalf("%s does not normalise", ref)
		}
		return e.App.Ingest.Hash(n)
	}
	log := func(tok string, refs ...string) {
		at := e.Clock.Now().Add(-time.Hour)
		for _, ref := range refs {
			rec := apptest.Record(f.VillageA, at, ref)
			rec["consent"] = "given"
			e.Must(e.Post("/api/v1/assistance", tok, rec), 201)
		}
		e.Settle()
	}
	login := func() (admin, member string) {
		admin, _ = e.Login("admin", apptest.AdminPassword)
		member, _ = e.Login("member.a", apptest.Password)
		return admin, member
	}
	reached := func(admin string) float64 {
		e.RunCoverage(admin)
		for _, it := range e.Must(e.Get("/api/v1/coverage/communes", admin), 200)["items"].([]any) {
			if row := it.(map[string]any); row["commune_code"] == f.CommuneA {
				return row["households_reached"].(float64)
			}
		}
		t.Fatal("no coverage row")
		return 0
	}
	const both, oldOnly, recent = "0905 600 001", "0905 600 002", "0905 600 003"

	log(f.MemberTokA, both, oldOnly) // 2026-11-21
	e.Clock.Set(apptest.Start.AddDate(3, 0, 0))
	admin, member := login()
	log(member, both, recent) // 2029-11-21
	if n := reached(admin); n != 3 {
		t.Fatalf("households reached before the clean-up: %v", n)
	}
	if h := e.HashHolders(hash(oldOnly)); h["assistance"] != 1 || len(h) < 3 {
		t.Fatalf("before the clean-up the old household's hash is in %v, want its record, the list and the set", h)
	}

	e.Clock.Set(apptest.Start.AddDate(5, 0, 2)) // 2031-11-23: the 2026 records are over 5 years old
	admin, member = login()
	done, err := e.App.Cleanup.Run(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if done["household_hashes"] != 2 {
		t.Fatalf("clean-up %v, want the hashes of the 2 old records dropped", done)
	}
	cur, err := e.App.Store.Database.Collection("assistance").Find(ctx, bson.D{})
	if err != nil {
		t.Fatal(err)
	}
	var docs []bson.M
	if err := cur.All(ctx, &docs); err != nil {
		t.Fatal(err)
	}
	cutoff := apptest.Start.AddDate(0, 0, 2)
	for _, d := range docs {
		at := d["occurred_at"].(bson.DateTime).Time()
		h, _ := d["household"].(string)
		if old := at.Before(cutoff); old != (h == "") {
			t.Errorf("record of %s keeps household %q", at, h)
		}
	}
	if len(docs) != 4 {
		t.Fatalf("%d records, want 4: records are kept, only their hash goes", len(docs))
	}
	if h := e.HashHolders(hash(oldOnly)); len(h) != 0 {
		t.Fatalf("the old household's hash is still in %v", h)
	}
	if h := e.HashHolders(hash(both)); h["assistance"] != 1 {
		t.Fatalf("the household reached again in 2029 is in %v, want its newer record", h)
	}
	if n := reached(admin); n != 3 {
		t.Fatalf("households reached after the clean-up: %v, want still 3", n)
	}
	// The household reached in 2029 is known by its hash: assisted again it
	// is the same household; the one whose hash is gone counts again.
	log(member, both, oldOnly)
	if n := reached(admin); n != 4 {
		t.Fatalf("households reached after both are assisted again: %v, want 4", n)
	}
	if again, err := e.App.Cleanup.Run(ctx); err != nil || again["household_hashes"] != 0 {
		t.Fatalf("a second clean-up the same day: %v %v", again, err)
	}
}
