package jobs_test

import (
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"reflect"
	"sort"
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

type world struct {
	db    *store.DB
	regs  []*domain.CommuneRegistry
	clock func() time.Time
}

func newWorld(t *testing.T, db *store.DB, communes int) *world {
	t.Helper()
	ctx := context.Background()
	units := refdata.Catalog().Find(domain.UnitFilter{Level: domain.LevelCommune, AsOf: "2026-11-21"})[:communes]
	regs := seed.Registries(units, seed.Shape{Villages: 12 * communes, Teams: 10 * communes, Members: 50 * communes}, 7, "2026-11-21")
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
	return &world{db: db, regs: regs, clock: func() time.Time { return now }}
}

func (w *world) service(process string) *ingest.Service {
	return &ingest.Service{Registry: w.db.Registry, Store: w.db.Assistance, Rollups: w.db.Rollups, Processes: w.db.Processes,
		Key: []byte("k"), Now: w.clock, Logger: slog.New(slog.DiscardHandler), Process: process}
}

func (w *world) consolidator() *jobs.Consolidator {
	return &jobs.Consolidator{Store: w.db.Rollups, Processes: w.db.Processes, Scanner: w.db.Assistance, Now: w.clock,
		Log: slog.New(slog.DiscardHandler), DeadAfter: time.Minute}
}

// logRandom logs n random records through svc for random members.
func (w *world) logRandom(t *testing.T, svc *ingest.Service, r *rand.Rand, n int) {
	t.Helper()
	for range n {
		reg, err := w.db.Registry.Registry(context.Background(), w.regs[r.IntN(len(w.regs))].Code)
		if err != nil {
			t.Fatal(err)
		}
		m := reg.Members[r.IntN(len(reg.Members))]
		if !m.Active {
			continue
		}
		team, _ := reg.Team(m.TeamID)
		village := team.VillageCode
		cl := domain.Caller{Username: "u", Role: domain.RoleMember, MemberID: m.ID, TeamID: m.TeamID, CommuneCode: reg.Code}
		at := now.Add(-time.Duration(r.IntN(60*24)) * time.Hour) // up to 60 days back
		rec := domain.NewRecord{ClientID: uuid.NewString(), Service: domain.Services[r.IntN(len(domain.Services))],
			HouseholdRef: fmt.Sprintf("09050%05d", r.IntN(400)), VillageCode: village, OccurredAt: at.Format(time.RFC3339),
			Outcome: domain.Outcomes[r.IntN(3)]}
		res, err := svc.Log(context.Background(), cl, []domain.NewRecord{rec}, time.Time{})
		if err != nil || res[0].Status != ingest.Created {
			t.Fatalf("log: %+v %v", res, err)
		}
	}
}

// recount computes, straight from the records, what the rollups must say.
type recount struct {
	total    map[string]int
	days     map[string]map[domain.Date]int
	services map[string]map[string]int
	members  map[string]int
	hh       map[string]map[string]domain.Date
	recent   map[string][]domain.Record // every record of each recent list's key
}

func recountRecords(t *testing.T, db *store.DB) recount {
	rc := recount{total: map[string]int{}, days: map[string]map[domain.Date]int{}, services: map[string]map[string]int{},
		members: map[string]int{}, hh: map[string]map[string]domain.Date{}, recent: map[string][]domain.Record{}}
	err := db.Assistance.ScanRecords(context.Background(), func(r domain.Record) error {
		c := r.CommuneCode
		rc.total[c]++
		if rc.days[c] == nil {
			rc.days[c], rc.services[c], rc.hh[c] = map[domain.Date]int{}, map[string]int{}, map[string]domain.Date{}
		}
		rc.days[c][r.Day]++
		rc.services[c][r.Service]++
		rc.members[r.MemberID]++
		for _, k := range []string{"m:" + r.MemberID, "t:" + r.TeamID, "c:" + r.CommuneCode} {
			rc.recent[k] = append(rc.recent[k], r)
		}
		if d, ok := rc.hh[c][r.Household]; !ok || r.Day < d {
			rc.hh[c][r.Household] = r.Day
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return rc
}

func check(t *testing.T, label string, j *jobs.Consolidator, rc recount) {
	t.Helper()
	rollups, households, err := j.State(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for c, total := range rc.total {
		r, h := rollups[c], households[c]
		if r == nil || r.Total != total {
			t.Fatalf("%s: %s total %v, want %d", label, c, r, total)
		}
		days := map[domain.Date]int{}
		services := map[string]int{}
		for d, dc := range r.Days {
			days[d] = dc.N
			for s, n := range dc.Services {
				services[s] += n
			}
		}
		if !reflect.DeepEqual(days, rc.days[c]) || !reflect.DeepEqual(services, rc.services[c]) {
			t.Fatalf("%s: %s days or services differ", label, c)
		}
		for id, a := range r.Members {
			if a.N != rc.members[id] {
				t.Fatalf("%s: member %s %d, want %d", label, id, a.N, rc.members[id])
			}
		}
		if h.Len() != len(rc.hh[c]) {
			t.Fatalf("%s: %s households %d, want %d", label, c, h.Len(), len(rc.hh[c]))
		}
		for hash, d := range rc.hh[c] {
			if f, ok := h.First(hash); !ok || f.Day != d {
				t.Fatalf("%s: household first day %s, want %s", label, f.Day, d)
			}
		}
	}
	// Every recent list holds the newest records of its key, newest first.
	for key, recs := range rc.recent {
		sort.Slice(recs, func(i, j int) bool { return recs[i].SortKey() > recs[j].SortKey() })
		want := recs[:min(len(recs), domain.RecentKeys(recs[0])[key])]
		got, err := j.Store.Recent(context.Background(), key)
		if err != nil {
			t.Fatal(err)
		}
		if len(got.Records) != len(want) {
			t.Fatalf("%s: list %s has %d records, want %d", label, key, len(got.Records), len(want))
		}
		for i := range want {
			g := got.Records[i]
			if g.ID != want[i].ID || !g.OccurredAt.Equal(want[i].OccurredAt.Truncate(time.Millisecond)) || g.Service != want[i].Service || g.Household != "" {
				t.Fatalf("%s: list %s record %d = %+v, want %+v", label, key, i, g, want[i])
			}
		}
	}
}

func TestConsolidationMatchesARecountAndAppliesEachDeltaOnce(t *testing.T) {
	ctx := context.Background()
	w := newWorld(t, testdb.Open(t), 3)
	svc := w.service("pA")
	r := rand.New(rand.NewPCG(1, 1))
	j := w.consolidator()
	for round := range 4 {
		w.logRandom(t, svc, r, 150)
		if err := svc.Flush(ctx); err != nil {
			t.Fatal(err)
		}
		if round == 2 {
			// A consolidator that dies after saving the state but before deleting
			// its deltas presents them again: copy the pending deltas first.
			pending, _ := w.db.Rollups.PendingDeltas(ctx, 100)
			if _, err := j.Run(ctx); err != nil {
				t.Fatal(err)
			}
			for _, d := range pending {
				if err := w.db.Rollups.InsertDelta(ctx, d); err != nil {
					t.Fatal(err)
				}
			}
			j = w.consolidator() // a fresh process takes over
		}
		if _, err := j.Run(ctx); err != nil {
			t.Fatal(err)
		}
		check(t, fmt.Sprint("round ", round), j, recountRecords(t, w.db))
	}
	if left, _ := w.db.Rollups.PendingDeltas(ctx, 10); len(left) != 0 {
		t.Fatalf("%d deltas left", len(left))
	}
}

func TestDeadServersUnflushedRecordsAreRecovered(t *testing.T) {
	ctx := context.Background()
	w := newWorld(t, testdb.Open(t), 2)
	r := rand.New(rand.NewPCG(2, 2))
	crashed := w.service("pDead")
	if err := crashed.Start(ctx); err != nil {
		t.Fatal(err)
	}
	w.logRandom(t, crashed, r, 40)
	if err := crashed.Flush(ctx); err != nil { // one delta reaches the database…
		t.Fatal(err)
	}
	w.logRandom(t, crashed, r, 25) // …the next is lost with the process (never flushed, no heartbeat)
	alive := w.service("pAlive")
	w.logRandom(t, alive, r, 30)
	if err := alive.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	j := w.consolidator()
	st, err := j.Run(ctx) // the dead server's heartbeat is fresh: nothing to recover yet
	if err != nil || st.Recovered != 0 || st.Records != 70 {
		t.Fatalf("first run: %+v %v", st, err)
	}
	w.clock = func() time.Time { return now.Add(2 * time.Minute) }
	j.Now = w.clock
	st, err = j.Run(ctx)
	// Its heartbeat predates its one flush, so both of its deltas are rebuilt;
	// the consolidated one is skipped by the watermark and counts once.
	if err != nil || st.Recovered != 65 {
		t.Fatalf("recovery: %+v %v", st, err)
	}
	check(t, "after recovery", j, recountRecords(t, w.db))
	if st, _ = j.Run(ctx); st.Recovered != 0 {
		t.Fatal("recovered twice")
	}
}

func TestRebuildEqualsIncrementalEvenWithRecordsArriving(t *testing.T) {
	ctx := context.Background()
	w := newWorld(t, testdb.Open(t), 3)
	r := rand.New(rand.NewPCG(3, 3))
	svc := w.service("pR")
	w.logRandom(t, svc, r, 200)
	if err := svc.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	j := w.consolidator()
	if _, err := j.Run(ctx); err != nil {
		t.Fatal(err)
	}
	// Records stored but not flushed when the rebuild starts belong to a later
	// delta: the rebuild must leave them to it, so they count once.
	w.logRandom(t, svc, r, 30)
	n, err := j.Rebuild(ctx, nil)
	if err != nil || n != 200 {
		t.Fatalf("rebuild counted %d (%v), want 200", n, err)
	}
	if err := svc.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := j.Run(ctx); err != nil {
		t.Fatal(err)
	}
	check(t, "rebuild then delta", j, recountRecords(t, w.db))
}
