package store_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/hue-cdt/cdt/domain"
	"github.com/hue-cdt/cdt/internal/testdb"
	"github.com/hue-cdt/cdt/refdata"
	"github.com/hue-cdt/cdt/store"
)

func TestMain(m *testing.M) { testdb.Main(m) }

var now = time.Date(2026, 11, 21, 3, 0, 0, 0, time.UTC)

func TestRegistryCreateReadAndCache(t *testing.T) {
	ctx := context.Background()
	db := testdb.Open(t)
	if err := db.Registry.EnsureRegistries(ctx, []string{"19753", "20179"}); err != nil {
		t.Fatal(err)
	}
	reg, err := db.Registry.UpdateRegistry(ctx, "19753", func(r *domain.CommuneRegistry) error {
		v, err := r.AddVillage(domain.NewVillage{Name: "Tổ dân phố 1", Type: domain.TypeToDanPho, Households: 210}, now)
		if err != nil {
			return err
		}
		_, err = r.AddTeam(domain.NewTeam{Name: "Tổ CNSCĐ TDP 1", VillageCode: v.Code, EstablishedOn: "2025-08-01", DecisionNo: "12/QĐ-UBND"}, "2026-11-21", now)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if reg.Version != 1 || reg.Villages[0].Code != "19753-001" || reg.Teams[0].ID != "19753-T001" {
		t.Fatalf("registry after first write: %+v", reg)
	}
	got, err := db.Registry.Registry(ctx, "19753")
	if err != nil || got.Version != 1 || len(got.Teams) != 1 || got.Teams[0].EstablishedOn != "2025-08-01" {
		t.Fatalf("read back: %+v, %v", got, err)
	}
	counts, err := db.Registry.RegistryCounts(ctx)
	if err != nil || counts["19753"].Teams != 1 || counts["19753"].Villages != 1 || counts["20179"].Teams != 0 {
		t.Fatalf("counts: %+v %v", counts, err)
	}
	t.Run("ErrNotFoundForUnknownCommune", func(t *testing.T) {
		if _, err := db.Registry.Registry(ctx, "99999"); !errors.Is(err, domain.ErrNotFound) {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("ValidationErrorChangesNothing", func(t *testing.T) {
		_, err := db.Registry.UpdateRegistry(ctx, "19753", func(r *domain.CommuneRegistry) error {
			_, err := r.AddVillage(domain.NewVillage{Name: "tổ dân  phố 1", Type: domain.TypeToDanPho}, now)
			return err
		})
		if !errors.Is(err, domain.ErrInvalid) {
			t.Fatalf("duplicate village name: %v", err)
		}
		got, _ := db.Registry.Registry(ctx, "19753")
		if got.Version != 1 || len(got.Villages) != 1 {
			t.Fatalf("registry changed by a rejected write: %+v", got)
		}
	})
}

// Two handles on one database stand for two cdt processes: each has its own
// cache and its own in-process lock, so only the claims keep their writes apart.
func TestRegistryConcurrentWritersFromTwoProcessesLoseNothing(t *testing.T) {
	ctx := context.Background()
	name := testdb.Name(t)
	a := testdb.OpenNamed(t, name, store.Options{RegistryTTL: time.Millisecond})
	b := testdb.OpenNamed(t, name, store.Options{RegistryTTL: time.Millisecond})
	if err := a.Registry.EnsureRegistries(ctx, []string{"19753"}); err != nil {
		t.Fatal(err)
	}
	const perWriter = 8
	var wg sync.WaitGroup
	errs := make(chan error, 4*perWriter)
	for w, db := range []*store.DB{a, b, a, b} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range perWriter {
				_, err := db.Registry.UpdateRegistry(ctx, "19753", func(r *domain.CommuneRegistry) error {
					_, err := r.AddVillage(domain.NewVillage{Name: fmt.Sprintf("Thôn %d-%d", w, i), Type: domain.TypeThon, Households: 10}, now)
					return err
				})
				if err != nil {
					errs <- err
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	time.Sleep(5 * time.Millisecond)
	for _, db := range []*store.DB{a, b} {
		reg, err := db.Registry.Registry(ctx, "19753")
		if err != nil {
			t.Fatal(err)
		}
		codes := map[string]bool{}
		for _, v := range reg.Villages {
			codes[v.Code] = true
		}
		if len(reg.Villages) != 4*perWriter || len(codes) != 4*perWriter || reg.Version != 4*perWriter {
			t.Fatalf("villages=%d distinct codes=%d version=%d, want %d each", len(reg.Villages), len(codes), reg.Version, 4*perWriter)
		}
	}
}

func TestUsers(t *testing.T) {
	ctx := context.Background()
	db := testdb.Open(t)
	u := &domain.User{Username: "lan.nguyen", PasswordHash: []byte("x"), Role: domain.RoleMember, UnitCode: "19753",
		MemberID: "19753-M0001", Active: true, CreatedAt: now, UpdatedAt: now}
	if err := db.Users.CreateUser(ctx, u); err != nil {
		t.Fatal(err)
	}
	t.Run("ErrConflictSameUsername", func(t *testing.T) {
		if err := db.Users.CreateUser(ctx, u); !errors.Is(err, domain.ErrConflict) {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("FoundByNameAndFilter", func(t *testing.T) {
		got, err := db.Users.FindUser(ctx, "lan.nguyen")
		if err != nil || got.MemberID != "19753-M0001" || got.Role != domain.RoleMember {
			t.Fatalf("%+v %v", got, err)
		}
		list, err := db.Users.FindUsers(ctx, domain.UserFilter{UnitCode: "19753"})
		if err != nil || len(list) != 1 {
			t.Fatalf("%+v %v", list, err)
		}
	})
	t.Run("ErrNotFound", func(t *testing.T) {
		if _, err := db.Users.FindUser(ctx, "nobody"); !errors.Is(err, domain.ErrNotFound) {
			t.Fatalf("err = %v", err)
		}
		if err := db.Users.SetUserActive(ctx, "nobody", false, now); !errors.Is(err, domain.ErrNotFound) {
			t.Fatalf("err = %v", err)
		}
	})
}

func TestSessionCounterIsUsedOnceUnderConcurrency(t *testing.T) {
	ctx := context.Background()
	db := testdb.Open(t)
	s := &domain.Session{ID: "s1", Username: "a", Kind: "api", Counter: 0, CreatedAt: now, RotatedAt: now, ExpiresAt: now.Add(time.Hour)}
	if err := db.Sessions.CreateSession(ctx, s); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	wins, conflicts := 0, 0
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			err := db.Sessions.ClaimCounter(ctx, "s1", 0, now)
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				wins++
			case errors.Is(err, domain.ErrConflict):
				conflicts++
			default:
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if wins != 1 || conflicts != 7 {
		t.Fatalf("wins=%d conflicts=%d", wins, conflicts)
	}
	if err := db.Sessions.RevokeSession(ctx, "s1", "logout", now); err != nil {
		t.Fatal(err)
	}
	got, _ := db.Sessions.FindSession(ctx, "s1")
	if got.RevokedAt.IsZero() || !errors.Is(db.Sessions.ClaimCounter(ctx, "s1", 1, now), domain.ErrConflict) {
		t.Fatalf("revoked session can still rotate: %+v", got)
	}
	if n, err := db.Sessions.DeleteExpiredSessions(ctx, now.Add(2*time.Hour)); err != nil || n != 1 {
		t.Fatalf("deleted %d, %v", n, err)
	}
}

func TestSettingsAndUnits(t *testing.T) {
	ctx := context.Background()
	db := testdb.Open(t)
	var wg sync.WaitGroup
	vals := make([]string, 6)
	for i := range vals {
		wg.Add(1)
		go func() {
			defer wg.Done()
			v, err := db.Settings.GetOrCreateSetting(ctx, "jwt_secret", func() (string, error) { return fmt.Sprint("v", i), nil })
			if err != nil {
				t.Error(err)
			}
			vals[i] = v
		}()
	}
	wg.Wait()
	for _, v := range vals {
		if v != vals[0] || v == "" {
			t.Fatalf("concurrent creators disagree: %v", vals)
		}
	}
	units, _ := refdata.Units()
	for range 2 { // the second call finds them unchanged
		if err := db.Units.SaveUnits(ctx, units); err != nil {
			t.Fatal(err)
		}
	}
	n, err := db.Database.Collection("units").CountDocuments(ctx, map[string]any{})
	if err != nil || int(n) != len(units) {
		t.Fatalf("units stored: %d of %d (%v)", n, len(units), err)
	}
}
