package ingest_test

import (
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/hue-cdt/cdt/domain"
	"github.com/hue-cdt/cdt/ingest"
	"github.com/hue-cdt/cdt/internal/testdb"
	"github.com/hue-cdt/cdt/jobs"
	"github.com/hue-cdt/cdt/refdata"
	"github.com/hue-cdt/cdt/seed"
	"github.com/hue-cdt/cdt/store"
)

func TestMain(m *testing.M) { testdb.Main(m) }

var now = time.Date(2026, 11, 21, 9, 0, 0, 0, time.UTC)

type fixture struct {
	db      *store.DB
	regs    []*domain.CommuneRegistry
	svc     *ingest.Service
	live    *ingest.Live
	cons    *jobs.Consolidator
	members []domain.Member
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	ctx := context.Background()
	db := testdb.Open(t)
	units := refdata.Catalog().Find(domain.UnitFilter{Level: domain.LevelCommune, AsOf: "2026-11-21"})[:2]
	regs := seed.Registries(units, seed.Shape{Villages: 20, Teams: 16, Members: 80}, 5, "2026-11-21")
	var codes []string
	for _, u := range units {
		codes = append(codes, u.Code)
	}
	if err := db.Registry.EnsureRegistries(ctx, codes); err != nil {
		t.Fatal(err)
	}
	if err := db.Registry.ReplaceRegistries(ctx, regs); err != nil {
		t.Fatal(err)
	}
	clock := func() time.Time { return now }
	f := &fixture{db: db, regs: regs,
		svc: &ingest.Service{Registry: db.Registry, Store: db.Assistance, Deltas: db.Rollups, Processes: db.Processes,
			Key: []byte("k"), Now: clock, Logger: slog.New(slog.DiscardHandler), Process: "pT"},
		live: &ingest.Live{State: db.Rollups, Records: db.Assistance},
		cons: &jobs.Consolidator{Store: db.Rollups, Processes: db.Processes, Scanner: db.Assistance, Now: clock,
			Log: slog.New(slog.DiscardHandler), TempDir: t.TempDir()}}
	for _, reg := range regs {
		for _, m := range reg.Members {
			if t, ok := reg.Team(m.TeamID); m.Active && ok && t.VillageCode != "" {
				f.members = append(f.members, m)
			}
		}
	}
	t.Cleanup(func() { f.svc.Stop(context.Background()) })
	return f
}

func (f *fixture) caller(m domain.Member) domain.Caller {
	return domain.Caller{Username: "u." + m.ID, Role: domain.RoleMember, MemberID: m.ID, TeamID: m.TeamID, CommuneCode: m.CommuneCode}
}

func (f *fixture) record(m domain.Member, at time.Time) domain.NewRecord {
	var village string
	for _, reg := range f.regs {
		if t, ok := reg.Team(m.TeamID); ok {
			village = t.VillageCode
		}
	}
	return domain.NewRecord{ClientID: uuid.NewString(), Service: "vneid_activation", HouseholdRef: fmt.Sprintf("09%08d", rand.IntN(1e8)),
		VillageCode: village, OccurredAt: at.Format(time.RFC3339), Outcome: "done"}
}

// Many requests at once are stored in groups, each answered only once its
// delta is written: every record acknowledged is in a delta, once, and a
// record sent again is a duplicate that goes into a delta of its own kind.
func TestRequestsAreGroupedAndAcknowledgedInADelta(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	var mu sync.Mutex
	acked := map[string]bool{}
	var wg sync.WaitGroup
	for w := range 32 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			m := f.members[w%len(f.members)]
			for range 10 {
				res, err := f.svc.Log(ctx, f.caller(m), []domain.NewRecord{f.record(m, now.Add(-time.Hour))}, time.Time{})
				if err != nil || res[0].Status != ingest.Created {
					t.Errorf("log: %+v %v", res, err)
					return
				}
				mu.Lock()
				acked[res[0].ID] = true
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	deltas, err := f.db.Rollups.PendingDeltas(ctx, 1000)
	if err != nil {
		t.Fatal(err)
	}
	inDeltas := map[string]int{}
	for _, d := range deltas {
		for _, r := range d.Records {
			inDeltas[r.ID]++
			if r.Delta != d.ID {
				t.Fatalf("record %s names delta %s, is in %s", r.ID, r.Delta, d.ID)
			}
		}
	}
	if len(acked) != 320 || len(inDeltas) != 320 {
		t.Fatalf("%d acknowledged, %d in deltas", len(acked), len(inDeltas))
	}
	for id, n := range inDeltas {
		if n != 1 || !acked[id] {
			t.Fatalf("record %s in %d deltas", id, n)
		}
	}
	if len(deltas) >= 320 {
		t.Errorf("%d deltas for 320 records: no grouping", len(deltas))
	}
	// Sent again: a duplicate, in a "dup" delta.
	m := f.members[0]
	rec := f.record(m, now.Add(-time.Hour))
	if res, err := f.svc.Log(ctx, f.caller(m), []domain.NewRecord{rec}, time.Time{}); err != nil || res[0].Status != ingest.Created {
		t.Fatalf("%+v %v", res, err)
	}
	res, err := f.svc.Log(ctx, f.caller(m), []domain.NewRecord{rec}, time.Time{})
	if err != nil || res[0].Status != ingest.Duplicate {
		t.Fatalf("sent again: %+v %v", res, err)
	}
	deltas, _ = f.db.Rollups.PendingDeltas(ctx, 1000)
	last := deltas[len(deltas)-1]
	if !last.Dup || len(last.Records) != 1 || last.Records[0].ID != res[0].ID {
		t.Fatalf("last delta %+v", last)
	}
}

// A phone whose clock is 30 minutes ahead or 2 hours behind still logs: the
// time is corrected by the clock's offset, the time as sent is kept, and the
// rollup counts corrected records. An offset within the tolerance changes
// nothing.
func TestDeviceClockOffsetIsCorrected(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	m := f.members[0]
	happened := now.Add(-10 * time.Minute)
	for _, c := range []struct {
		name   string
		offset time.Duration
		fixed  bool
	}{{"30 min ahead", 30 * time.Minute, true}, {"2 h behind", -2 * time.Hour, true}, {"90 s ahead", 90 * time.Second, false}} {
		device := now.Add(c.offset)
		rec := f.record(m, happened.Add(c.offset)) // the time as the phone's clock showed it
		res, err := f.svc.Log(ctx, f.caller(m), []domain.NewRecord{rec}, device)
		if err != nil || res[0].Status != ingest.Created {
			t.Fatalf("%s: %+v %v", c.name, res, err)
		}
		got := res[0].Record
		switch {
		case c.fixed && (!got.OccurredAt.Equal(happened) || !got.SentOccurredAt.Equal(happened.Add(c.offset)) ||
			got.DeviceSkew != int64(-c.offset/time.Second)):
			t.Fatalf("%s: corrected %+v", c.name, got)
		case !c.fixed && (!got.OccurredAt.Equal(happened.Add(c.offset)) || !got.SentOccurredAt.IsZero()):
			t.Fatalf("%s: within the tolerance, changed: %+v", c.name, got)
		}
	}
	// Without the device time a record 30 minutes in the future is refused.
	if res, err := f.svc.Log(ctx, f.caller(m), []domain.NewRecord{f.record(m, now.Add(30*time.Minute))}, time.Time{}); err != nil ||
		res[0].Status != ingest.Invalid {
		t.Fatalf("future record: %+v %v", res, err)
	}
	if _, err := f.cons.Run(ctx); err != nil {
		t.Fatal(err)
	}
	r, err := f.live.Rollup(ctx, m.CommuneCode)
	if err != nil || r == nil || r.Corrected != 2 || r.Total != 3 {
		t.Fatalf("rollup %+v %v", r, err)
	}
	// Stored with both times, and read back so.
	recs, _, err := f.live.FindRecords(ctx, domain.RecordFilter{MemberID: m.ID, Limit: 10})
	if err != nil || len(recs) != 3 {
		t.Fatalf("%d records %v", len(recs), err)
	}
	var day []domain.Record
	if err := f.live.DayRecords(ctx, m.CommuneCode, domain.DateOf(happened), func(r domain.Record) error {
		day = append(day, r)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	corrected := 0
	for _, r := range day {
		if !r.SentOccurredAt.IsZero() {
			corrected++
		}
		if r.Household == "" || r.By == "" || r.RecordedAt.IsZero() {
			t.Fatalf("a day's record lacks a stored field: %+v", r)
		}
	}
	if corrected != 2 || len(day) != 3 {
		t.Fatalf("day records: %d, %d corrected", len(day), corrected)
	}
}

// Readers of the live figures and lists, the consolidator and the coverage
// job's reads of the rollups run at once (go test -race).
func TestLiveReadsDuringConsolidation(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	stop := make(chan struct{})
	var wg sync.WaitGroup
	errs := make(chan error, 100)
	run := func(fn func() error) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				if err := fn(); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	for w := range 4 {
		run(func() error {
			m := f.members[(w*7+rand.IntN(5))%len(f.members)]
			_, err := f.svc.Log(ctx, f.caller(m), []domain.NewRecord{f.record(m, now.Add(-time.Duration(rand.IntN(48))*time.Hour))}, time.Time{})
			return err
		})
	}
	m := f.members[1]
	today := domain.DateOf(now)
	run(func() error {
		_, err := f.live.MemberCount(ctx, m.CommuneCode, m.ID, today.AddDays(-6), today)
		return err
	})
	run(func() error {
		r, err := f.live.Rollup(ctx, m.CommuneCode)
		if r != nil {
			_ = r.Members[m.ID].CountIn(today.AddDays(-29), today)
			for _, dc := range r.Days {
				_ = dc.Services["vneid_activation"]
			}
		}
		return err
	})
	run(func() error {
		_, _, err := f.live.Recent(ctx, domain.TeamList(m.TeamID), func(domain.Record) bool { return true }, 20)
		return err
	})
	run(func() error {
		_, _, err := f.live.FindRecords(ctx, domain.RecordFilter{CommuneCode: m.CommuneCode, From: now.Add(-72 * time.Hour), Limit: 50})
		return err
	})
	run(func() error {
		rs, err := f.cons.Rollups(ctx)
		for _, r := range rs {
			for _, a := range r.Members {
				_ = a.CountIn(today.AddDays(-29), today)
			}
		}
		return err
	})
	run(func() error { _, err := f.cons.Run(ctx); return err })
	time.Sleep(3 * time.Second)
	close(stop)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if _, err := f.cons.Run(ctx); err != nil {
		t.Fatal(err)
	}
	n, err := f.db.Assistance.CountRecords(ctx)
	if err != nil {
		t.Fatal(err)
	}
	rs, _ := f.cons.Rollups(ctx)
	total := 0
	for _, r := range rs {
		total += r.Total
	}
	if n == 0 || int64(total) != n {
		t.Fatalf("%d records stored, %d counted", n, total)
	}
}
