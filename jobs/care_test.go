package jobs_test

import (
	"context"
	"math/rand/v2"
	"sort"
	"testing"
	"time"

	"github.com/hue-cdt/cdt/domain"
	"github.com/hue-cdt/cdt/internal/testdb"
	"github.com/hue-cdt/cdt/jobs"
)

func (w *world) care(j *jobs.Consolidator) *jobs.Care {
	return &jobs.Care{Consolidator: j, Records: w.db.Assistance}
}

// householdsOf groups the stored records by household hash.
func householdsOf(t *testing.T, w *world) map[string][]domain.Record {
	t.Helper()
	out := map[string][]domain.Record{}
	if err := w.db.Assistance.ScanRecords(context.Background(), func(r domain.Record) error {
		if r.Household != "" {
			out[r.Household] = append(out[r.Household], r)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return out
}

// An excluded record leaves every figure and list, its household's first
// contact moves to its next record, and a full rebuild keeps it out.
func TestExcludeRecord(t *testing.T) {
	ctx := context.Background()
	w := newWorld(t, testdb.Open(t), 2)
	svc := w.service("pA")
	w.logRandom(t, svc, rand.New(rand.NewPCG(6, 6)), 300)
	j := w.consolidator()
	if _, err := j.Run(ctx); err != nil {
		t.Fatal(err)
	}
	// A household reached at least twice in one commune: exclude its first contact.
	var first domain.Record
	for _, recs := range householdsOf(t, w) {
		sort.Slice(recs, func(a, b int) bool { return recs[a].Day < recs[b].Day })
		if len(recs) > 1 && recs[0].CommuneCode == recs[1].CommuneCode && recs[0].Day < recs[1].Day {
			first = recs[0]
			break
		}
	}
	if first.ID == "" {
		t.Fatal("no household reached twice")
	}
	care := w.care(j)
	if err := care.ExcludeRecord(ctx, first.ID, "integrity: confirmed"); err != nil {
		t.Fatal(err)
	}
	check(t, "after exclusion", w, j, recountRecords(t, w.db)) // the recount skips excluded records
	if err := care.ExcludeRecord(ctx, first.ID, "again"); err == nil {
		t.Fatal("a record excluded twice")
	}
	if err := care.ExcludeRecord(ctx, "19753-M9999:nope", "x"); err == nil {
		t.Fatal("an unknown record excluded")
	}
	if _, err := j.Rebuild(ctx, nil); err != nil {
		t.Fatal(err)
	}
	check(t, "after a rebuild", w, j, recountRecords(t, w.db))
}

// A household's records are found in every commune; forgotten, the hash is
// gone from records, lists and sets, and the households reached drop.
func TestForgetHousehold(t *testing.T) {
	ctx := context.Background()
	w := newWorld(t, testdb.Open(t), 3)
	svc := w.service("pA")
	w.logRandom(t, svc, rand.New(rand.NewPCG(7, 7)), 400)
	j := w.consolidator()
	if _, err := j.Run(ctx); err != nil {
		t.Fatal(err)
	}
	var hash string
	var want []domain.Record
	for h, recs := range householdsOf(t, w) {
		communes := map[string]bool{}
		for _, r := range recs {
			communes[r.CommuneCode] = true
		}
		if len(communes) > 1 && len(recs) > len(want) {
			hash, want = h, recs
		}
	}
	if hash == "" {
		t.Fatal("no household reached in two communes")
	}
	care := w.care(j)
	got, err := care.HouseholdRecords(ctx, hash)
	if err != nil || len(got) != len(want) {
		t.Fatalf("records of the household: %d, want %d (%v)", len(got), len(want), err)
	}
	for _, r := range got {
		if r.Household != hash || r.By == "" {
			t.Fatalf("record %+v", r)
		}
	}
	before, _ := w.db.Rollups.HouseholdSets(ctx)
	n, err := care.ForgetHousehold(ctx, hash)
	if err != nil || n != len(want) {
		t.Fatalf("forgot %d records (%v), want %d", n, err, len(want))
	}
	after, _ := w.db.Rollups.HouseholdSets(ctx)
	for c, set := range before {
		if _, had := set.First(hash); had && after[c].Len() != set.Len()-1 {
			t.Fatalf("%s: %d households, want %d", c, after[c].Len(), set.Len()-1)
		}
	}
	if recs, _ := care.HouseholdRecords(ctx, hash); len(recs) != 0 {
		t.Fatalf("%d records still carry it", len(recs))
	}
	if left := householdsOf(t, w)[hash]; len(left) != 0 {
		t.Fatalf("%d stored records still carry it", len(left))
	}
	for _, r := range want {
		if err := w.live().DayRecords(ctx, r.CommuneCode, r.Day, func(d domain.Record) error {
			if d.Household == hash {
				t.Fatalf("a listed record still carries it")
			}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
	}
	check(t, "after forgetting", w, j, recountRecords(t, w.db))
}

// Household hashes older than a cutoff are dropped from records and lists;
// the households they reached stay counted.
func TestDropHouseholdsBefore(t *testing.T) {
	ctx := context.Background()
	w := newWorld(t, testdb.Open(t), 2)
	svc := w.service("pA")
	w.logRandom(t, svc, rand.New(rand.NewPCG(8, 8)), 300)
	j := w.consolidator()
	if _, err := j.Run(ctx); err != nil {
		t.Fatal(err)
	}
	today := domain.DateOf(now)
	counts := func() map[string]int {
		out := map[string]int{}
		rs, _ := j.Rollups(ctx)
		for c := range rs {
			hc, err := j.Households(ctx, []string{c}, today)
			if err != nil {
				t.Fatal(err)
			}
			out[c] = hc.Total
		}
		return out
	}
	before := counts()
	cutoff := now.Add(-30 * 24 * time.Hour)
	n, err := w.care(j).DropHouseholdsBefore(ctx, cutoff)
	if err != nil || n == 0 {
		t.Fatalf("dropped %d (%v)", n, err)
	}
	for h, recs := range householdsOf(t, w) {
		for _, r := range recs {
			if r.OccurredAt.Before(cutoff) {
				t.Fatalf("record %s of %s still carries %s", r.ID, r.Day, h)
			}
		}
	}
	if after := counts(); len(after) != len(before) {
		t.Fatalf("communes %v, want %v", after, before)
	} else {
		for c := range before {
			if after[c] != before[c] {
				t.Fatalf("%s: %d households reached, want %d", c, after[c], before[c])
			}
		}
	}
	rs, _ := j.Rollups(ctx)
	for c := range rs {
		if err := w.live().DayRecords(ctx, c, domain.DateOf(cutoff).AddDays(-1), func(r domain.Record) error {
			if r.Household != "" {
				t.Fatalf("a listed record before the cutoff carries a household")
			}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
	}
}
