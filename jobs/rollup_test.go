package jobs_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"reflect"
	"sort"
	"strings"
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

type world struct {
	db    *store.DB
	regs  []*domain.CommuneRegistry
	clock func() time.Time
	tmp   string
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
	return &world{db: db, regs: regs, clock: func() time.Time { return now }, tmp: t.TempDir()}
}

func (w *world) service(process string) *ingest.Service {
	return &ingest.Service{Registry: w.db.Registry, Store: w.db.Assistance, Deltas: w.db.Rollups, Processes: w.db.Processes,
		Key: []byte("k"), Now: func() time.Time { return w.clock() }, Logger: slog.New(slog.DiscardHandler), Process: process}
}

func (w *world) consolidator() *jobs.Consolidator {
	return &jobs.Consolidator{Store: w.db.Rollups, Processes: w.db.Processes, Scanner: w.db.Assistance,
		Excluded: w.db.Assistance.Excluded, Now: func() time.Time { return w.clock() }, Log: slog.New(slog.DiscardHandler),
		DeadAfter: time.Minute, TempDir: w.tmp}
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
	lists    map[string][]domain.Record // every record of each list
}

func recountRecords(t *testing.T, db *store.DB) recount {
	rc := recount{total: map[string]int{}, days: map[string]map[domain.Date]int{}, services: map[string]map[string]int{},
		members: map[string]int{}, hh: map[string]map[string]domain.Date{}, lists: map[string][]domain.Record{}}
	excluded, err := db.Assistance.Excluded(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	err = db.Assistance.ScanRecords(context.Background(), func(r domain.Record) error {
		if excluded[r.ID] {
			return nil
		}
		c := r.CommuneCode
		rc.total[c]++
		if rc.days[c] == nil {
			rc.days[c], rc.services[c], rc.hh[c] = map[domain.Date]int{}, map[string]int{}, map[string]domain.Date{}
		}
		rc.days[c][r.Day]++
		rc.services[c][r.Service]++
		rc.members[r.MemberID]++
		for _, k := range domain.ListKeys(r) {
			rc.lists[k] = append(rc.lists[k], r)
		}
		rc.lists[""] = append(rc.lists[""], r) // every record: the province's list
		if r.Household == "" {
			return nil
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

func (w *world) live() *ingest.Live {
	return &ingest.Live{State: w.db.Rollups, Records: w.db.Assistance}
}

func check(t *testing.T, label string, w *world, j *jobs.Consolidator, rc recount) {
	t.Helper()
	ctx := context.Background()
	rollups, err := j.Rollups(ctx)
	if err != nil {
		t.Fatal(err)
	}
	households, err := w.db.Rollups.HouseholdSets(ctx)
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
			if dc.N != 0 {
				days[d] = dc.N
			}
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
	checkLists(t, label, w.live(), rc)
}

// checkLists reads every list page after page, and a random stretch of each,
// and compares them with the records.
func checkLists(t *testing.T, label string, l *ingest.Live, rc recount) {
	t.Helper()
	ctx := context.Background()
	r := rand.New(rand.NewPCG(9, 9))
	for key, recs := range rc.lists {
		sort.Slice(recs, func(i, j int) bool { return recs[i].SortKey() > recs[j].SortKey() })
		f := domain.RecordFilter{Limit: 7}
		switch key[:min(2, len(key))] {
		case "":
			f.Limit = 50
		case "m:":
			f.MemberID = key[2:]
		case "t:":
			f.TeamID = key[2:]
		default:
			f.CommuneCode = key[2:]
		}
		if r.IntN(2) == 0 && len(recs) > 2 { // a stretch of it
			a, b := recs[r.IntN(len(recs))].OccurredAt, recs[r.IntN(len(recs))].OccurredAt
			if b.Before(a) {
				a, b = b, a
			}
			f.From, f.To = a, b
			var in []domain.Record
			for _, rec := range recs {
				if !rec.OccurredAt.Before(a) && rec.OccurredAt.Before(b) {
					in = append(in, rec)
				}
			}
			recs = in
		}
		var got []domain.Record
		for {
			page, next, err := l.FindRecords(ctx, f)
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, page...)
			if next == "" {
				break
			}
			f.After = next
		}
		if len(got) != len(recs) {
			t.Fatalf("%s: list %s has %d records, want %d", label, key, len(got), len(recs))
		}
		for i := range recs {
			g := got[i]
			if g.ID != recs[i].ID || !g.OccurredAt.Equal(recs[i].OccurredAt.Truncate(time.Millisecond)) || g.Service != recs[i].Service ||
				g.Household != "" || g.Note != recs[i].Note {
				t.Fatalf("%s: list %s record %d = %+v, want %+v", label, key, i, g, recs[i])
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
		if round == 2 {
			// A consolidator that dies after saving the state but before deleting
			// its deltas presents them again: copy the pending deltas first.
			pending, _ := w.db.Rollups.PendingDeltas(ctx, 1000)
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
		check(t, fmt.Sprint("round ", round), w, j, recountRecords(t, w.db))
	}
	if left, _ := w.db.Rollups.PendingDeltas(ctx, 10); len(left) != 0 {
		t.Fatalf("%d deltas left", len(left))
	}
}

// A record stored by a server that died before it wrote the record's delta
// is counted once the phone sends it again and that server is gone; a record
// sent again whose delta was written is not counted twice.
func TestRecordsSentAgainCountOnce(t *testing.T) {
	ctx := context.Background()
	w := newWorld(t, testdb.Open(t), 2)
	r := rand.New(rand.NewPCG(2, 2))
	svc := w.service("pA")
	if err := svc.Start(ctx); err != nil {
		t.Fatal(err)
	}
	w.logRandom(t, svc, r, 40)
	// The dead server stored three records and died before their delta.
	var orphans []domain.Record
	for _, d := range mustPending(t, w) {
		orphans = append(orphans, d.Records[0])
	}
	if len(orphans) < 3 {
		t.Fatalf("%d deltas", len(orphans))
	}
	j := w.consolidator()
	if _, err := j.Run(ctx); err != nil {
		t.Fatal(err)
	}
	dead := w.service("pDead")
	if err := dead.Start(ctx); err != nil {
		t.Fatal(err)
	}
	var lost []domain.Record
	for i := range 3 {
		rec := orphans[i]
		rec.ID = rec.MemberID + ":" + uuid.NewString()
		rec.ClientID = strings.TrimPrefix(rec.ID, rec.MemberID+":")
		rec.Delta = domain.DeltaID("pDead", 7)
		rec.Household = svc.Hash("0905000001")
		lost = append(lost, rec)
	}
	if _, err := w.db.Assistance.InsertRecords(ctx, lost); err != nil {
		t.Fatal(err)
	}
	// Sent again through a live server: duplicates, one of them of a record
	// counted already.
	alive := w.service("pB")
	if err := alive.Start(ctx); err != nil {
		t.Fatal(err)
	}
	for _, rec := range append(lost, orphans[0]) {
		cl := domain.Caller{Username: "u", Role: domain.RoleMember, MemberID: rec.MemberID, TeamID: rec.TeamID, CommuneCode: rec.CommuneCode}
		in := domain.NewRecord{ClientID: rec.ClientID, Service: rec.Service, HouseholdRef: "0905000001", VillageCode: rec.VillageCode,
			OccurredAt: rec.OccurredAt.Format(time.RFC3339), Outcome: rec.Outcome}
		res, err := alive.Log(ctx, cl, []domain.NewRecord{in}, time.Time{})
		if err != nil || res[0].Status != ingest.Duplicate {
			t.Fatalf("sent again: %+v %v", res, err)
		}
	}
	// The dead server's heartbeat is fresh: they wait.
	st, err := j.Run(ctx)
	if err != nil || st.Records != 0 || st.Waiting == 0 {
		t.Fatalf("while the first server may write: %+v %v", st, err)
	}
	w.clock = func() time.Time { return now.Add(2 * time.Minute) }
	if err := alive.Start(ctx); err != nil { // the live server beats on
		t.Fatal(err)
	}
	st, err = j.Run(ctx)
	if err != nil || st.Records != 3 || st.Waiting != 0 {
		t.Fatalf("once it is gone: %+v %v", st, err)
	}
	check(t, "after records sent again", w, j, recountRecords(t, w.db))
}

func mustPending(t *testing.T, w *world) []domain.Delta {
	t.Helper()
	ds, err := w.db.Rollups.PendingDeltas(context.Background(), 1000)
	if err != nil {
		t.Fatal(err)
	}
	return ds
}

func TestRebuildEqualsIncrementalEvenWithRecordsArriving(t *testing.T) {
	ctx := context.Background()
	w := newWorld(t, testdb.Open(t), 3)
	r := rand.New(rand.NewPCG(3, 3))
	svc := w.service("pR")
	if err := svc.Start(ctx); err != nil {
		t.Fatal(err)
	}
	w.logRandom(t, svc, r, 200)
	j := w.consolidator()
	if _, err := j.Run(ctx); err != nil {
		t.Fatal(err)
	}
	// Records stored whose delta a live server has not written yet when the
	// rebuild starts belong to that delta: the rebuild leaves them to it, so
	// they count once.
	live := w.service("pLive")
	if err := live.Start(ctx); err != nil {
		t.Fatal(err)
	}
	w.logRandom(t, svc, r, 30)
	late := mustPending(t, w)
	if err := w.db.Rollups.DeleteDeltas(ctx, idsOf(late)); err != nil {
		t.Fatal(err)
	}
	var moved []domain.Record
	for _, d := range late {
		for _, rec := range d.Records {
			rec.ID = rec.MemberID + ":" + uuid.NewString()
			rec.Delta = domain.DeltaID("pLive", 5)
			moved = append(moved, rec)
		}
	}
	if _, err := w.db.Assistance.InsertRecords(ctx, moved); err != nil {
		t.Fatal(err)
	}
	for _, d := range late { // these ones were never stored: forget them
		for _, rec := range d.Records {
			if _, err := w.db.Database.Collection("assistance").DeleteOne(ctx, map[string]string{"_id": rec.ID}); err != nil {
				t.Fatal(err)
			}
		}
	}
	n, err := j.Rebuild(ctx, nil)
	if err != nil || n != 200 {
		t.Fatalf("rebuild counted %d (%v), want 200", n, err)
	}
	check(t, "rebuild", w, j, recountWithout(recountRecords(t, w.db), moved))
	if err := w.db.Rollups.InsertDelta(ctx, domain.Delta{ID: domain.DeltaID("pLive", 5), Process: "pLive", Seq: 5, At: now,
		Records: moved}); err != nil {
		t.Fatal(err)
	}
	if _, err := j.Run(ctx); err != nil {
		t.Fatal(err)
	}
	check(t, "rebuild then delta", w, j, recountRecords(t, w.db))
}

func idsOf(ds []domain.Delta) []string {
	var out []string
	for _, d := range ds {
		out = append(out, d.ID)
	}
	return out
}

// recountWithout is rc without recs: a recount done again from the records
// that remain is simpler.
func recountWithout(rc recount, recs []domain.Record) recount {
	drop := map[string]bool{}
	for _, r := range recs {
		drop[r.ID] = true
	}
	out := recount{total: map[string]int{}, days: map[string]map[domain.Date]int{}, services: map[string]map[string]int{},
		members: map[string]int{}, hh: map[string]map[string]domain.Date{}, lists: map[string][]domain.Record{}}
	for key, list := range rc.lists {
		for _, r := range list {
			if drop[r.ID] {
				continue
			}
			out.lists[key] = append(out.lists[key], r)
			if !strings.HasPrefix(key, "c:") {
				continue
			}
			c := r.CommuneCode
			out.total[c]++
			if out.days[c] == nil {
				out.days[c], out.services[c], out.hh[c] = map[domain.Date]int{}, map[string]int{}, map[string]domain.Date{}
			}
			out.days[c][r.Day]++
			out.services[c][r.Service]++
			out.members[r.MemberID]++
			if d, ok := out.hh[c][r.Household]; r.Household != "" && (!ok || r.Day < d) {
				out.hh[c][r.Household] = r.Day
			}
		}
	}
	return out
}

// Lists long enough to seal pages, with records arriving late into them, and
// a rebuild of them, still match the records.
func TestListsWithSealedPages(t *testing.T) {
	ctx := context.Background()
	w := newWorld(t, testdb.Open(t), 1)
	reg := w.regs[0]
	var members []domain.Member
	for _, m := range reg.Members {
		if t, ok := reg.Team(m.TeamID); m.Active && ok && t.VillageCode != "" && len(members) < 3 {
			members = append(members, m)
		}
	}
	svc := w.service("pS")
	j := w.consolidator()
	r := rand.New(rand.NewPCG(12, 12))
	for i := range 1300 {
		m := members[i%len(members)]
		team, _ := reg.Team(m.TeamID)
		cl := domain.Caller{Username: "u", Role: domain.RoleMember, MemberID: m.ID, TeamID: m.TeamID, CommuneCode: reg.Code}
		at := now.Add(-time.Duration(r.IntN(60*24*60)) * time.Minute)
		rec := domain.NewRecord{ClientID: uuid.NewString(), Service: domain.Services[r.IntN(len(domain.Services))],
			HouseholdRef: fmt.Sprintf("09050%05d", r.IntN(900)), VillageCode: team.VillageCode, OccurredAt: at.Format(time.RFC3339),
			Outcome: "done", Note: "ghi chú ␞ số " + fmt.Sprint(i)}
		if res, err := svc.Log(ctx, cl, []domain.NewRecord{rec}, time.Time{}); err != nil || res[0].Status != ingest.Created {
			t.Fatalf("log: %+v %v", res, err)
		}
		if i%250 == 249 {
			if _, err := j.Run(ctx); err != nil {
				t.Fatal(err)
			}
		}
	}
	if _, err := j.Run(ctx); err != nil {
		t.Fatal(err)
	}
	h, err := w.db.Rollups.ListHead(ctx, 1, domain.CommuneList(reg.Code))
	if err != nil || len(h.Pages) == 0 {
		t.Fatalf("the commune's list has %d sealed pages (%v)", len(h.Pages), err)
	}
	check(t, "incremental", w, j, recountRecords(t, w.db))
	if _, err := j.Rebuild(ctx, nil); err != nil {
		t.Fatal(err)
	}
	check(t, "rebuilt", w, j, recountRecords(t, w.db))
}

// failingHeads fails the n-th save of head documents, once.
type failingHeads struct {
	domain.StateStore
	mu    sync.Mutex
	calls int
	n     int
}

func (f *failingHeads) SaveHeadBuckets(ctx context.Context, gen int64, bs []*domain.HeadBucket) error {
	f.mu.Lock()
	f.calls++
	fail := f.calls == f.n
	f.mu.Unlock()
	if fail {
		return errors.New("disk full")
	}
	return f.StateStore.SaveHeadBuckets(ctx, gen, bs)
}

// A consolidator that keeps the head documents it wrote reads them again
// when another process wrote the state since, and after a pass of its own
// that failed half way (whose changes to the cached heads were never saved).
func TestCachedHeadsFollowOtherWritersAndFailedPasses(t *testing.T) {
	ctx := context.Background()
	w := newWorld(t, testdb.Open(t), 3)
	svc := w.service("pH")
	r := rand.New(rand.NewPCG(5, 5))
	fail := &failingHeads{StateStore: w.db.Rollups}
	j1 := w.consolidator()
	j1.CacheHeads, j1.Workers, j1.Store = true, 1, fail
	j2 := w.consolidator()
	j2.CacheHeads = true
	for round, j := range []*jobs.Consolidator{j1, j2, j1, j1, j2, j1} {
		w.logRandom(t, svc, r, 120)
		if round == 3 {
			// The second commune's heads fail to save: the first commune's
			// are saved, the second's changed in the cache only.
			fail.mu.Lock()
			fail.n = fail.calls + 2
			fail.mu.Unlock()
			if _, err := j.Run(ctx); err == nil {
				t.Fatal("the pass did not fail")
			}
		}
		if _, err := j.Run(ctx); err != nil {
			t.Fatal(err)
		}
		check(t, fmt.Sprint("round ", round), w, j, recountRecords(t, w.db))
	}
}
