package domain

import (
	"fmt"
	"testing"
	"time"
)

// A delta counts once in a rollup, whenever it is presented again (a
// consolidation that died half way), and only its records of the commune
// count; a household set takes the same records again without change.
func TestDeltasCountOnceAndOnlyInTheirCommune(t *testing.T) {
	rec := func(i int, commune string) Record {
		at := time.Date(2026, 11, 20, 3, 0, i, 0, time.UTC)
		return Record{ID: fmt.Sprintf("m%d:c%d", i, i), MemberID: fmt.Sprintf("m%d", i), TeamID: "t1", CommuneCode: commune,
			VillageCode: commune + "-001", Service: "vneid_activation", Household: HouseholdKey{byte(i % 3)}.String(),
			OccurredAt: at, Day: DateOf(at), RecordedAt: at, Outcome: "done"}
	}
	d1 := Delta{Process: "pA", Seq: 1, Records: []Record{rec(1, "19753"), rec(2, "19753"), rec(3, "20179")}}
	d2 := Delta{Process: "pA", Seq: 2, Records: []Record{rec(4, "19753")}}
	dB := Delta{Process: "pB", Seq: 1, Records: []Record{rec(5, "19753")}}
	r, h := NewRollup("19753"), NewHouseholdSet()
	for i, step := range []struct {
		d    Delta
		want bool
	}{{d1, true}, {d1, false}, {d2, true}, {d1, false}, {dB, true}, {d2, false}, {dB, false}} {
		if got := r.Apply(step.d); got != step.want {
			t.Fatalf("step %d: rollup Apply(%s/%d) = %v", i, step.d.Process, step.d.Seq, got)
		}
		for _, rec := range step.d.Records {
			if rec.CommuneCode == "19753" {
				h.Add(rec)
			}
		}
	}
	// Records 1, 2, 4, 5 are of the commune; their households are h1, h2, h1, h2.
	if r.Total != 4 || h.Len() != 2 {
		t.Fatalf("total %d, households %d; want 4 and 2", r.Total, h.Len())
	}
}
