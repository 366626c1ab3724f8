package store_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/hue-cdt/cdt/domain"
	"github.com/hue-cdt/cdt/internal/testdb"
	"github.com/hue-cdt/cdt/store"
)

// clock is a settable clock shared by the handles of one test.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func addVillage(name string) func(*domain.CommuneRegistry) error {
	return func(r *domain.CommuneRegistry) error {
		_, err := r.AddVillage(domain.NewVillage{Name: name, Type: domain.TypeThon, Households: 10}, now)
		return err
	}
}

func villageNames(reg *domain.CommuneRegistry) map[string]bool {
	out := map[string]bool{}
	for _, v := range reg.Villages {
		out[v.Name] = true
	}
	return out
}

// A writer that stalls after winning its claim, long enough for another
// writer to take it for dead, must not overwrite that writer's change when
// it wakes: both changes are kept.
func TestRegistryWriterThatStallsAfterItsClaimLosesNothing(t *testing.T) {
	ctx := context.Background()
	c := &clock{t: now}
	name := testdb.Name(t)
	a := testdb.OpenNamed(t, name, store.Options{RegistryTTL: time.Millisecond, Now: c.now})
	b := testdb.OpenNamed(t, name, store.Options{RegistryTTL: time.Millisecond, Now: c.now})
	if err := a.Registry.EnsureRegistries(ctx, []string{"19753"}); err != nil {
		t.Fatal(err)
	}
	stalled, resume := make(chan struct{}), make(chan struct{})
	var once sync.Once
	store.SetWriteHook(a.Registry, func(step string) error {
		if step == "claimed" {
			once.Do(func() { close(stalled); <-resume })
		}
		return nil
	})
	done := make(chan error, 1)
	go func() {
		_, err := a.Registry.UpdateRegistry(ctx, "19753", addVillage("Thôn của A"))
		done <- err
	}()
	<-stalled
	c.add(store.StaleClaim + time.Second) // A's claim now looks abandoned
	if _, err := b.Registry.UpdateRegistry(ctx, "19753", addVillage("Thôn của B")); err != nil {
		t.Fatal(err)
	}
	close(resume)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	fresh := testdb.OpenNamed(t, name)
	reg, err := fresh.Registry.Registry(ctx, "19753")
	if err != nil {
		t.Fatal(err)
	}
	if got := villageNames(reg); !got["Thôn của A"] || !got["Thôn của B"] {
		t.Fatalf("after a stalled writer woke: %v (version %d)", got, reg.Version)
	}
	counts, _ := fresh.Registry.RegistryCounts(ctx)
	if counts["19753"].Villages != 2 || counts["19753"].Version != reg.Version {
		t.Fatalf("version document %+v, registry version %d", counts["19753"], reg.Version)
	}
}

var errCrash = errors.New("crash")

// A writer that dies between any two steps of a write leaves no other
// process on a stale copy beyond the revalidation interval, and the next
// write goes through once the dead writer's claim has lapsed.
func TestRegistryWriterCrashLeavesNoStaleCache(t *testing.T) {
	for _, step := range []string{"claimed", "versioned", "replaced"} {
		t.Run(step, func(t *testing.T) {
			ctx := context.Background()
			c := &clock{t: now}
			name := testdb.Name(t)
			const ttl = 5 * time.Millisecond
			a := testdb.OpenNamed(t, name, store.Options{RegistryTTL: ttl, Now: c.now})
			b := testdb.OpenNamed(t, name, store.Options{RegistryTTL: ttl, Now: c.now})
			if err := a.Registry.EnsureRegistries(ctx, []string{"19753"}); err != nil {
				t.Fatal(err)
			}
			if _, err := a.Registry.UpdateRegistry(ctx, "19753", addVillage("Thôn 1")); err != nil {
				t.Fatal(err)
			}
			if _, err := b.Registry.Registry(ctx, "19753"); err != nil { // B caches version 1
				t.Fatal(err)
			}
			store.SetWriteHook(a.Registry, func(s string) error {
				if s == step {
					return errCrash
				}
				return nil
			})
			if _, err := a.Registry.UpdateRegistry(ctx, "19753", addVillage("Thôn 2")); !errors.Is(err, errCrash) {
				t.Fatalf("the write did not stop at %s: %v", step, err)
			}
			// What is stored, read by a process with no cache.
			stored, err := testdb.OpenNamed(t, name).Registry.Registry(ctx, "19753")
			if err != nil {
				t.Fatal(err)
			}
			c.add(2 * ttl)
			seen, err := b.Registry.Registry(ctx, "19753")
			if err != nil {
				t.Fatal(err)
			}
			if seen.Version != stored.Version || len(seen.Villages) != len(stored.Villages) {
				t.Fatalf("crash after %s: B reads version %d with %d villages, the database holds version %d with %d",
					step, seen.Version, len(seen.Villages), stored.Version, len(stored.Villages))
			}
			// The next write, from B, once A's claim has lapsed.
			c.add(store.StaleClaim + time.Second)
			reg, err := b.Registry.UpdateRegistry(ctx, "19753", addVillage("Thôn 3"))
			if err != nil {
				t.Fatal(err)
			}
			c.add(2 * ttl)
			for _, db := range []*store.DB{a, b} {
				got, err := db.Registry.Registry(ctx, "19753")
				if err != nil {
					t.Fatal(err)
				}
				if got.Version != reg.Version || !villageNames(got)["Thôn 3"] || len(got.Villages) != len(reg.Villages) {
					t.Fatalf("after the next write: version %d %v, want %d %v", got.Version, villageNames(got), reg.Version, villageNames(reg))
				}
			}
			counts, _ := b.Registry.RegistryCounts(ctx)
			if counts["19753"].Version != reg.Version || counts["19753"].Villages != len(reg.Villages) {
				t.Fatalf("version document %+v after the next write, registry %d with %d villages", counts["19753"], reg.Version, len(reg.Villages))
			}
		})
	}
}
