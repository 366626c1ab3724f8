package app

import (
	"context"
	"strings"
	"testing"
	"time"
)

// dropCalls is a hashDropper that records its cutoffs.
type dropCalls struct{ cutoffs []time.Time }

func (d *dropCalls) DropHouseholdsBefore(_ context.Context, cutoff time.Time) (int, error) {
	d.cutoffs = append(d.cutoffs, cutoff)
	return 7, nil
}

// TestRetentionSweepsOnceADay: the clean-up runs hourly, the household
// hashes' sweep once per day in Huế, with the start of the same day
// RetentionYears ago as its cutoff.
func TestRetentionSweepsOnceADay(t *testing.T) {
	d := &dropCalls{}
	sweep := retentionSweep(d, 5)
	at := time.Date(2026, 11, 21, 2, 0, 0, 0, time.UTC) // 09:00 in Huế
	for h := range 14 {                                 // up to 22:00 in Huế: one day
		n, err := sweep(context.Background(), at.Add(time.Duration(h)*time.Hour))
		if err != nil || (h == 0) != (n == 7) {
			t.Fatalf("hour %d: %d %v", h, n, err)
		}
	}
	if _, err := sweep(context.Background(), at.Add(15*time.Hour)); err != nil { // 00:00 the next day in Huế
		t.Fatal(err)
	}
	want := []time.Time{time.Date(2021, 11, 20, 17, 0, 0, 0, time.UTC), time.Date(2021, 11, 21, 17, 0, 0, 0, time.UTC)}
	if len(d.cutoffs) != 2 || !d.cutoffs[0].Equal(want[0]) || !d.cutoffs[1].Equal(want[1]) {
		t.Fatalf("cutoffs %v, want %v", d.cutoffs, want)
	}
}

func TestRetentionYearsFromTheEnvironment(t *testing.T) {
	c, err := FromEnv(func(string) string { return "" })
	if err != nil || c.RetentionYears != 5 {
		t.Fatalf("default: %d %v", c.RetentionYears, err)
	}
	c, err = FromEnv(func(k string) string { return map[string]string{"CDT_RETENTION_YEARS": "3"}[k] })
	if err != nil || c.RetentionYears != 3 {
		t.Fatalf("3: %d %v", c.RetentionYears, err)
	}
	for _, bad := range []string{"0", "-1", "five", "31", "2.5"} {
		_, err := FromEnv(func(k string) string { return map[string]string{"CDT_RETENTION_YEARS": bad}[k] })
		if err == nil || !strings.Contains(err.Error(), "CDT_RETENTION_YEARS") {
			t.Errorf("%q: %v", bad, err)
		}
	}
}
