package domain

import (
	"encoding/json"
	"math/rand/v2"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestDayNumberAgreesWithTheCalendar(t *testing.T) {
	if n := DayNumber("2000-01-01"); n != 0 {
		t.Fatalf("2000-01-01 = %d", n)
	}
	for _, bad := range []Date{"", "2026-13-01", "2026-1-01", "20260101xx", "abcd-ef-gh"} {
		if n := DayNumber(bad); n != -1 {
			t.Errorf("DayNumber(%q) = %d, want -1", bad, n)
		}
	}
	r := rand.New(rand.NewPCG(1, 2))
	for range 2000 {
		d := Date("1999-12-31").AddDays(r.IntN(20000))
		if got, want := DayNumber(d), DaysBetween("2000-01-01", d); int(got) != want {
			t.Fatalf("DayNumber(%s) = %d, want %d", d, got, want)
		}
		if back := DateOfNumber(DayNumber(d)); back != d {
			t.Fatalf("DateOfNumber(DayNumber(%s)) = %s", d, back)
		}
	}
}

// TestTallyCountsLikeAMap compares the compact tally with a map of dates.
func TestTallyCountsLikeAMap(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	var tally Tally
	m := map[Date]int{}
	for range 3000 {
		d := Date("2026-06-01").AddDays(r.IntN(150))
		tally.Add(d, 1)
		m[d]++
	}
	count := func(from, to Date) int {
		n := 0
		for d, c := range m {
			if d >= from && d <= to {
				n += c
			}
		}
		return n
	}
	for range 200 {
		from := Date("2026-05-20").AddDays(r.IntN(170))
		to := from.AddDays(r.IntN(60))
		if got, want := tally.CountIn(from, to), count(from, to); got != want {
			t.Fatalf("CountIn(%s, %s) = %d, want %d", from, to, got, want)
		}
	}
	b, err := json.Marshal(tally)
	if err != nil {
		t.Fatal(err)
	}
	var back Tally
	if err := json.Unmarshal(b, &back); err != nil || back.Len() != len(m) || back.CountIn("2026-01-01", "2027-01-01") != 3000 {
		t.Fatalf("round trip: %v, %d days", err, back.Len())
	}
	tally.DropBefore("2026-08-01")
	for d := range m {
		if d < "2026-08-01" {
			delete(m, d)
		}
	}
	if tally.Len() != len(m) || tally.CountIn("2026-01-01", "2027-01-01") != count("2026-01-01", "2027-01-01") {
		t.Fatalf("after DropBefore: %d days, want %d", tally.Len(), len(m))
	}
	if err := json.Unmarshal([]byte(`{"2026-01-02":3,"2026-01-01":2}`), &back); err != nil || back.Len() != 2 ||
		back.CountIn("2026-01-02", "2026-01-02") != 3 {
		t.Errorf("the former object form: %v, %v", err, back)
	}
	if err := json.Unmarshal([]byte(`[1,2,3]`), &back); err == nil {
		t.Error("an odd array was accepted")
	}
}

func TestListedRecordsRoundTrip(t *testing.T) {
	at := time.Date(2026, 11, 20, 3, 4, 5, 6_000_000, time.UTC)
	for _, r := range []Record{
		{ID: "19753-M0012:0b7c6f0e-1d2a-4c3b-9e8f-00aa11bb22cc", TeamID: "19753-T003", CommuneCode: "19753",
			VillageCode: "19753-007", Service: "public_service_online", Outcome: "partial", OccurredAt: at,
			RecordedAt: at.Add(time.Hour), Gender: "f", AgeGroup: "over_60", Place: "door", Note: "cụ bà | mắt kém"},
		{ID: "19753-M0012:x", TeamID: "19753-T003", CommuneCode: "19999", VillageCode: "", Service: "future_service",
			Outcome: "done", OccurredAt: at, RecordedAt: at},
	} {
		enc := EncodeListed(r)
		got := DecodeListed(enc)
		r.MemberID, r.ClientID, _ = strings.Cut(r.ID, ":")
		r.OccurredAt, r.RecordedAt, r.Day = r.OccurredAt.Truncate(time.Millisecond), r.RecordedAt.Truncate(time.Millisecond), DateOf(r.OccurredAt)
		if !reflect.DeepEqual(got, r) {
			t.Errorf("round trip of %q:\n got %+v\nwant %+v", enc, got, r)
		}
		if r.Service == "public_service_online" && len(enc) > 110 { // the first form took 159
			t.Errorf("encoded in %d bytes: %q", len(enc), enc)
		}
	}
	// The first form, as lists stored before hold it.
	old := strings.Join([]string{"19753-M0012:c1", "19753-T003", "19753", "19753-007", "hue_s", "done",
		strconv.FormatInt(at.UnixMilli(), 36), strconv.FormatInt(at.UnixMilli(), 36), "m", "18_35", "desk", "ghi chú"}, "\x1f")
	if r := DecodeListed(old); r.TeamID != "19753-T003" || r.CommuneCode != "19753" || r.Service != "hue_s" || r.Place != "desk" ||
		r.Note != "ghi chú" || r.MemberID != "19753-M0012" || !r.OccurredAt.Equal(at.Truncate(time.Millisecond)) {
		t.Errorf("first form: %+v", r)
	}
}
