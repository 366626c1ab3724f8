package seed

import (
	"crypto/sha256"
	"encoding/hex"
	"testing"
	"time"

	"github.com/hue-cdt/cdt/domain"
	"github.com/hue-cdt/cdt/refdata"
)

func generate(t *testing.T, n int, seed uint64) ([]*domain.CommuneRegistry, []domain.Record) {
	t.Helper()
	communes := refdata.Catalog().Find(domain.UnitFilter{Level: domain.LevelCommune, AsOf: "2026-11-21"})
	regs := Registries(communes, Hue, 1, "2026-11-21")
	end := time.Date(2026, 11, 21, 10, 0, 0, 0, time.UTC)
	var out []domain.Record
	batches := 0
	err := Records(regs, RecordOptions{N: n, Days: 90, End: end, Seed: seed, Process: "seed-test", Batch: 700,
		Hash: func(s string) string { h := sha256.Sum256([]byte(s)); return hex.EncodeToString(h[:]) }},
		func(rs []domain.Record) error {
			batches++
			if len(rs) > 700 {
				t.Fatalf("batch of %d records, want at most 700", len(rs))
			}
			out = append(out, rs...)
			return nil
		})
	if err != nil {
		t.Fatal(err)
	}
	if len(out) != n || batches < n/700 {
		t.Fatalf("%d records in %d batches, want %d", len(out), batches, n)
	}
	return regs, out
}

// TestGeneratedRecordsAreValidRealisticAndDeterministic checks what `cdt seed`
// promises: valid records of registered members, a weekly rhythm, the service
// mix, households that come back, and the same data for the same seed.
func TestGeneratedRecordsAreValidRealisticAndDeterministic(t *testing.T) {
	regs, recs := generate(t, 30_000, 5)
	members := map[string]domain.Member{}
	villages := map[string]string{}
	registered := map[string]int{}
	for _, reg := range regs {
		for _, m := range reg.Members {
			members[m.ID] = m
		}
		for _, v := range reg.Villages {
			villages[v.Code] = reg.Code
			registered[v.Code] = v.Households
		}
	}
	services := map[string]bool{}
	for _, s := range domain.Services {
		services[s] = true
	}
	hue := domain.Location
	first := time.Date(2026, 11, 21, 10, 0, 0, 0, time.UTC).AddDate(0, 0, -91)
	ids := map[string]bool{}
	byWeekday := map[time.Weekday]int{}
	byService := map[string]int{}
	households := map[string]int{}
	reached := map[string]map[string]bool{}
	active := map[string]bool{}
	for _, r := range recs {
		m, ok := members[r.MemberID]
		if !ok || m.TeamID != r.TeamID || villages[r.VillageCode] != r.CommuneCode || r.CommuneCode != m.CommuneCode {
			t.Fatalf("record %s: member %q team %q village %q commune %q do not match the registry", r.ID, r.MemberID, r.TeamID, r.VillageCode, r.CommuneCode)
		}
		if !services[r.Service] || len(r.Household) != 64 || r.ID != r.MemberID+":"+r.ClientID || ids[r.ID] {
			t.Fatalf("bad record %+v", r)
		}
		if r.OccurredAt.Before(first) || r.OccurredAt.After(time.Date(2026, 11, 21, 10, 0, 0, 0, time.UTC)) ||
			string(r.Day) != r.OccurredAt.In(hue).Format("2006-01-02") || r.RecordedAt.Before(r.OccurredAt) {
			t.Fatalf("record %s: occurred %v day %s recorded %v", r.ID, r.OccurredAt, r.Day, r.RecordedAt)
		}
		ids[r.ID] = true
		byWeekday[r.OccurredAt.In(hue).Weekday()]++
		byService[r.Service]++
		households[r.Household]++
		if reached[r.VillageCode] == nil {
			reached[r.VillageCode] = map[string]bool{}
		}
		reached[r.VillageCode][r.Household] = true
		active[r.MemberID] = true
	}
	weekday := float64(byWeekday[time.Tuesday]+byWeekday[time.Wednesday]+byWeekday[time.Thursday]) / 3
	if sunday := float64(byWeekday[time.Sunday]); sunday > 0.8*weekday {
		t.Errorf("Sundays %v records, mid-week days %v: no weekly rhythm", sunday, weekday)
	}
	if byService["vneid_activation"] < byService["digital_signature"]*4 || byService["ecommerce"] == 0 {
		t.Errorf("service mix %v", byService)
	}
	again := 0
	for _, n := range households {
		if n > 1 {
			again++
		}
	}
	if again < len(households)/20 || len(households) < len(recs)/4 {
		t.Errorf("%d households for %d records, %d helped more than once: households should come back, but not all",
			len(households), len(recs), again)
	}
	for v, hs := range reached {
		if len(hs) > max(registered[v], 20) {
			t.Errorf("village %s: %d households reached of %d registered", v, len(hs), registered[v])
		}
	}
	if len(active) > len(members)*97/100 || len(active) < len(members)/2 {
		t.Errorf("%d of %d members logged: some should be idle, most active", len(active), len(members))
	}
	_, same := generate(t, 30_000, 5)
	for _, i := range []int{0, 777, 29_999} {
		if same[i].ID != recs[i].ID || !same[i].OccurredAt.Equal(recs[i].OccurredAt) || same[i].Household != recs[i].Household {
			t.Fatalf("record %d differs with the same seed: %+v / %+v", i, same[i], recs[i])
		}
	}
	_, other := generate(t, 1000, 6)
	if other[0].ID == recs[0].ID && other[1].ID == recs[1].ID {
		t.Error("another seed gave the same records")
	}
}

// TestNationalRegistryHasTheCountrysShape generates the national registry
// of `cdt seed --scale national` in memory.
func TestNationalRegistryHasTheCountrysShape(t *testing.T) {
	units := SyntheticUnits(NationalCommunes-40, 3)
	var communes []domain.Unit
	for _, u := range units {
		if u.Level == domain.LevelCommune {
			communes = append(communes, u)
		}
	}
	communes = append(communes, refdata.Catalog().Find(domain.UnitFilter{Level: domain.LevelCommune, AsOf: "2026-11-21"})...)
	regs := Registries(communes, National, 3, "2026-11-21")
	var teams, members int
	codes := map[string]bool{}
	for _, r := range regs {
		if codes[r.Code] {
			t.Fatalf("commune %s twice", r.Code)
		}
		codes[r.Code] = true
		c := r.Count()
		teams += c.Teams
		members += c.Members
		if c.Teams == 0 {
			t.Fatalf("commune %s has no team", r.Code)
		}
	}
	if len(regs) != NationalCommunes || teams != National.Teams || members != National.Members {
		t.Fatalf("communes=%d teams=%d members=%d", len(regs), teams, members)
	}
}
