package store_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/hue-cdt/cdt/domain"
	"github.com/hue-cdt/cdt/internal/testdb"
)

func registerRequest(t *testing.T, kind, commune, ref, received string, at time.Time) domain.PrivacyRequest {
	t.Helper()
	r, err := domain.RegisterPrivacyRequest(domain.NewPrivacyRequest{Kind: kind, HouseholdRef: ref, CommuneCode: commune,
		ReceivedOn: received, Contact: "bà Lan, 0912 345 678"}, func(s string) string { return "hash-" + s[len(s)-4:] }, "xa."+commune, at)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestPrivacyRequestsCreateFindUpdateDelete(t *testing.T) {
	ctx := context.Background()
	db := testdb.Open(t)
	at := time.Date(2026, 11, 26, 3, 0, 0, 0, time.UTC)
	a := registerRequest(t, domain.PrivacyAccess, "19753", "0912345678", "2026-11-24", at)
	b := registerRequest(t, domain.PrivacyObject, "19753", "0905111222", "2026-11-26", at)
	c := registerRequest(t, domain.PrivacyDelete, "20179", "0987654321", "2026-11-25", at)
	for _, r := range []domain.PrivacyRequest{a, b, c} {
		if err := db.Privacy.CreatePrivacyRequest(ctx, r); err != nil {
			t.Fatal(err)
		}
	}
	t.Run("ErrConflictSameID", func(t *testing.T) {
		if err := db.Privacy.CreatePrivacyRequest(ctx, a); !errors.Is(err, domain.ErrConflict) {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("ReadBackAsRegistered", func(t *testing.T) {
		got, err := db.Privacy.PrivacyRequest(ctx, a.ID)
		if err != nil || got.Household != "hash-5678" || got.DueOn != "2026-11-26" || got.Contact != a.Contact ||
			got.CreatedBy != "xa.19753" || !got.CreatedAt.Equal(a.CreatedAt) || !got.ClosedAt.IsZero() || got.Status != domain.PrivacyOpen {
			t.Fatalf("got %+v, %v", got, err)
		}
	})
	t.Run("ErrNotFoundUnknownID", func(t *testing.T) {
		if _, err := db.Privacy.PrivacyRequest(ctx, "19753-PR-00000000"); !errors.Is(err, domain.ErrNotFound) {
			t.Fatalf("err = %v", err)
		}
		if err := db.Privacy.DeletePrivacyRequest(ctx, "19753-PR-00000000"); !errors.Is(err, domain.ErrNotFound) {
			t.Fatalf("delete: %v", err)
		}
	})
	t.Run("ListByCommuneAndStatusNewestFirst", func(t *testing.T) {
		got, err := db.Privacy.FindPrivacyRequests(ctx, domain.PrivacyFilter{CommuneCode: "19753", Status: domain.PrivacyOpen})
		if err != nil || len(got) != 2 || got[0].ID != b.ID || got[1].ID != a.ID {
			t.Fatalf("got %v, %v", ids(got), err)
		}
		all, err := db.Privacy.FindPrivacyRequests(ctx, domain.PrivacyFilter{})
		if err != nil || len(all) != 3 || all[1].ID != c.ID {
			t.Fatalf("all %v, %v", ids(all), err)
		}
	})
	t.Run("FulfilErasesContactAndHash", func(t *testing.T) {
		got, err := db.Privacy.UpdatePrivacyRequest(ctx, a.ID, func(r *domain.PrivacyRequest) error {
			return r.Fulfil(12, "xa.19753", at.Add(time.Hour))
		})
		if err != nil || got.Version != 1 {
			t.Fatalf("got %+v, %v", got, err)
		}
		back, _ := db.Privacy.PrivacyRequest(ctx, a.ID)
		if back.Status != domain.PrivacyDone || back.Affected != 12 || back.Contact != "" || back.Household != "" ||
			back.ClosedBy != "xa.19753" || !back.ClosedAt.Equal(at.Add(time.Hour)) {
			t.Fatalf("after fulfil: %+v", back)
		}
		var raw bson.M
		if err := db.Database.Collection("privacy_requests").FindOne(ctx, bson.D{{Key: "_id", Value: a.ID}}).Decode(&raw); err != nil {
			t.Fatal(err)
		}
		for k, v := range raw {
			if s, ok := v.(string); ok && (strings.Contains(s, "0912") || strings.Contains(s, "hash-")) {
				t.Errorf("stored %s = %q after fulfilment", k, s)
			}
		}
		open, _ := db.Privacy.FindPrivacyRequests(ctx, domain.PrivacyFilter{Status: domain.PrivacyOpen})
		if len(open) != 2 {
			t.Fatalf("open after fulfil: %v", ids(open))
		}
	})
	t.Run("ObjectionStandsUntilRefused", func(t *testing.T) {
		obj, err := db.Privacy.ObjectedHouseholds(ctx)
		if err != nil || len(obj) != 1 || !obj["hash-1222"] {
			t.Fatalf("objected %v, %v", obj, err)
		}
		if _, err := db.Privacy.UpdatePrivacyRequest(ctx, b.ID, func(r *domain.PrivacyRequest) error {
			return r.Refuse("số của người khác", "xa.19753", at)
		}); err != nil {
			t.Fatal(err)
		}
		if obj, err := db.Privacy.ObjectedHouseholds(ctx); err != nil || len(obj) != 0 {
			t.Fatalf("objected after refusal %v, %v", obj, err)
		}
	})
	t.Run("DeleteRemovesIt", func(t *testing.T) {
		if err := db.Privacy.DeletePrivacyRequest(ctx, c.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := db.Privacy.PrivacyRequest(ctx, c.ID); !errors.Is(err, domain.ErrNotFound) {
			t.Fatalf("after delete: %v", err)
		}
	})
}

// Two leaders fulfil one request at once: exactly one wins, the other is told
// it is closed already.
func TestPrivacyRequestConcurrentFulfilOneWins(t *testing.T) {
	ctx := context.Background()
	db := testdb.Open(t)
	at := time.Date(2026, 11, 26, 3, 0, 0, 0, time.UTC)
	r := registerRequest(t, domain.PrivacyDelete, "19753", "0912345678", "2026-11-26", at)
	if err := db.Privacy.CreatePrivacyRequest(ctx, r); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	errs := make([]error, 4)
	for i := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, errs[i] = db.Privacy.UpdatePrivacyRequest(ctx, r.ID, func(p *domain.PrivacyRequest) error {
				return p.Fulfil(i+1, "leader", at)
			})
		}()
	}
	wg.Wait()
	won := 0
	for _, err := range errs {
		switch {
		case err == nil:
			won++
		case !errors.Is(err, domain.ErrConflict):
			t.Errorf("loser's error: %v", err)
		}
	}
	got, _ := db.Privacy.PrivacyRequest(ctx, r.ID)
	if won != 1 || got.Version != 1 || got.Status != domain.PrivacyDone {
		t.Fatalf("%d winners, stored %+v", won, got)
	}
}

func ids(rs []domain.PrivacyRequest) []string {
	out := make([]string, len(rs))
	for i, r := range rs {
		out[i] = r.ID
	}
	return out
}
