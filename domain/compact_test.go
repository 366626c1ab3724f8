package domain

import (
	"encoding/json"
	"math/rand/v2"
	"reflect"
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
			RecordedAt: at.Add(time.Hour), Gender: "f", AgeGroup: "over_60", Place: "door", Note: "cụ bà | mắt kém",
			Household: "q5uZ3hlvUqW2dpTdkJz3ZA", By: "lan.nguyen", DeviceSkew: -1800, SentOccurredAt: at.Add(30 * time.Minute),
			Delta: "pabc:000000000012", Consent: ConsentGiven},
		{ID: "19753-M0012:x", TeamID: "19753-T003", CommuneCode: "19999", VillageCode: "", Service: "future_service",
			Outcome: "done", OccurredAt: at, RecordedAt: at, Consent: ConsentUnrecorded},
		{ID: "19753-M0013:y", TeamID: "19753-T003", CommuneCode: "19753", Service: "vneid_level2",
			Outcome: "done", OccurredAt: at, RecordedAt: at, Consent: ConsentRefused},
	} {
		for _, full := range []Full{ListedFull, ListedShort} {
			enc := EncodeListed(r, full)
			got, ok := DecodeListed(enc)
			want := r
			want.MemberID, want.ClientID, _ = strings.Cut(r.ID, ":")
			want.OccurredAt, want.RecordedAt, want.Day = r.OccurredAt.Truncate(time.Millisecond), r.RecordedAt.Truncate(time.Millisecond), DateOf(r.OccurredAt)
			if !full {
				want.Household, want.By, want.DeviceSkew, want.SentOccurredAt, want.Delta = "", "", 0, time.Time{}, ""
			}
			if !ok || !reflect.DeepEqual(got, want) {
				t.Errorf("round trip of %q:\n got %+v\nwant %+v", enc, got, want)
			}
			if p, ok := ListedPos(enc); !ok || p != PosOf(want) {
				t.Errorf("position of %q: %+v", enc, p)
			}
			if short, ok := ShortListed(enc); !ok || short != EncodeListed(r, ListedShort) {
				t.Errorf("short of %q: %q", enc, short)
			}
			if m, tm, c, ok := ListedOwner(enc); !ok || m != want.MemberID || tm != want.TeamID || c != want.CommuneCode {
				t.Errorf("owner of %q: %s %s %s", enc, m, tm, c)
			}
			if full == ListedShort && r.Service == "public_service_online" && len(enc) > 120 {
				t.Errorf("encoded in %d bytes: %q", len(enc), enc)
			}
		}
	}
	if _, ok := DecodeListed("2|19753-M0012:c1|"); ok {
		t.Error("an older form was decoded")
	}
}
