package seed

import (
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/hue-cdt/cdt/domain"
	"github.com/hue-cdt/cdt/refdata"
)

// integrityMeasure is the outcome of running the detectors day by day over
// a generated data set with planted patterns.
type integrityMeasure struct {
	records, clean int
	planted        map[string]int // kind → planted records
	caught         map[string]int // kind → planted records of that kind flagged by that kind
	falseFlags     map[string]int // kind → clean records flagged by that kind
	anyFalse       int            // clean records flagged by any kind
	flags          map[string]int // kind → flags
	days           int
	communes       int
	members        int
	// member_above_median on the days of a run after its first: the rule
	// needs one day of history, so this is what it can catch.
	laterPlanted, laterCaught int
}

// measureIntegrity generates records for every fourth commune of Huế at the
// density of a million records over 90 days for the whole city, plants
// patterns into them, and runs the detectors the way the integrity job does:
// commune by commune, day by day, then the cross-commune pass, with
// per-member daily counts of the previous days as the rollups keep them.
// The first MedianLookback days are history only (a running server has it);
// the `days` days after them are measured.
// wholeNights chooses how night_bulk judges nights (IntegrityDay.WholeNights).
func measureIntegrity(t testing.TB, days int, seed uint64, th domain.IntegrityThresholds, wholeNights bool) integrityMeasure {
	measured := days
	days += th.MedianLookback
	t.Helper()
	all := refdata.Catalog().Find(domain.UnitFilter{Level: domain.LevelCommune, AsOf: "2026-11-21"})
	regs := Registries(all, Hue, seed, "2026-11-21")
	var subset []*domain.CommuneRegistry
	registry := map[string]*domain.CommuneRegistry{}
	members := 0
	for i, reg := range regs {
		if i%4 == 0 {
			subset = append(subset, reg)
			registry[reg.Code] = reg
			members += len(reg.Members)
		}
	}
	end := time.Date(2026, 11, 21, 16, 59, 0, 0, time.UTC) // 23:59 in Huế
	first := domain.DateOf(end.Add(-time.Duration(days) * 24 * time.Hour))
	from := domain.DateOf(end).AddDays(-measured + 1) // the first day measured
	trainings := PeriodTrainings(subset, first, domain.DateOf(end), seed, refdata.ProvinceCode)
	n := int(1_000_000.0 / 90 / float64(Hue.Members) * float64(members) * float64(days))
	truth := map[string]string{}
	byDay := map[domain.Date]map[string][]domain.Record{}
	counts := map[string]map[domain.Date]int{}
	err := Records(subset, RecordOptions{N: n, Days: days, End: end, Seed: seed, Process: "measure",
		Hash: func(s string) string { return s }, Trainings: trainings,
		Plant: &Plant{Planted: func(id, kind string) { truth[id] = kind }}}, func(rs []domain.Record) error {
		for _, r := range rs {
			if byDay[r.Day] == nil {
				byDay[r.Day] = map[string][]domain.Record{}
			}
			byDay[r.Day][r.CommuneCode] = append(byDay[r.Day][r.CommuneCode], r)
			if counts[r.MemberID] == nil {
				counts[r.MemberID] = map[domain.Date]int{}
			}
			counts[r.MemberID][r.Day]++
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	m := integrityMeasure{planted: map[string]int{}, caught: map[string]int{},
		falseFlags: map[string]int{}, flags: map[string]int{}, communes: len(subset), members: members, days: measured}
	dates := make([]domain.Date, 0, len(byDay))
	for d, byCommune := range byDay {
		if d < from {
			continue
		}
		dates = append(dates, d)
		for _, rs := range byCommune {
			for _, r := range rs {
				m.records++
				if k := truth[r.ID]; k != "" {
					m.planted[k]++
				} else {
					m.clean++
				}
			}
		}
	}
	sort.Slice(dates, func(i, j int) bool { return dates[i] < dates[j] })
	count := func(id string, d domain.Date) int { return counts[id][d] }
	now := end.Add(time.Hour)
	flagged := map[string]map[string]bool{} // kind → record IDs
	for _, day := range dates {
		var ts []domain.Training
		for _, tr := range trainings {
			if _, _, ok := domain.TrainingHours(tr, day); ok {
				ts = append(ts, tr)
			}
		}
		cross := domain.NewCommuneCrossing(day)
		var flags []domain.Flag
		codes := make([]string, 0, len(byDay[day]))
		for c := range byDay[day] {
			codes = append(codes, c)
		}
		sort.Strings(codes)
		for _, c := range codes {
			recs := byDay[day][c]
			var evening []domain.Record
			for _, r := range byDay[day.AddDays(-1)][c] {
				if r.OccurredAt.In(domain.Location).Hour() >= th.NightStart {
					evening = append(evening, r)
				}
			}
			flags = append(flags, domain.DetectIntegrity(domain.IntegrityDay{Day: day, Commune: c, Records: recs,
				Registry: registry[c], Counts: count, Trainings: ts, WholeNights: wholeNights, PrevEvening: evening}, th, now)...)
			cross.Add(recs)
		}
		flags = append(flags, cross.Flags(th, now)...)
		for _, f := range flags {
			m.flags[f.Kind]++
			if flagged[f.Kind] == nil {
				flagged[f.Kind] = map[string]bool{}
			}
			for _, id := range f.RecordIDs {
				flagged[f.Kind][id] = true
			}
		}
	}
	// The first day of each padder's run (in the measured days).
	firstDay := map[string]domain.Date{}
	for _, d := range dates {
		for _, rs := range byDay[d] {
			for _, r := range rs {
				if truth[r.ID] == domain.FlagAboveMedian {
					if f, ok := firstDay[r.MemberID]; !ok || d < f {
						firstDay[r.MemberID] = d
					}
				}
			}
		}
	}
	for _, d := range dates {
		for _, rs := range byDay[d] {
			for _, r := range rs {
				if truth[r.ID] == domain.FlagAboveMedian && d > firstDay[r.MemberID] {
					m.laterPlanted++
					if flagged[domain.FlagAboveMedian][r.ID] {
						m.laterCaught++
					}
				}
			}
		}
	}
	measuredIDs := map[string]bool{}
	for _, d := range dates {
		for _, rs := range byDay[d] {
			for _, r := range rs {
				measuredIDs[r.ID] = true
			}
		}
	}
	anyKind := map[string]bool{}
	for kind, ids := range flagged {
		for id := range ids {
			if !measuredIDs[id] { // the evening before the first day measured
				continue
			}
			switch truth[id] {
			case kind:
				m.caught[kind]++
			case "":
				m.falseFlags[kind]++
				anyKind[id] = true
			}
		}
	}
	m.anyFalse = len(anyKind)
	return m
}

func (m integrityMeasure) table() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%d communes, %d members, %d days, %d records (%d clean, %d planted)\n\n", m.communes, m.members, m.days,
		m.records, m.clean, m.records-m.clean)
	b.WriteString("| kind | planted records | recall | flags | clean records flagged | false-flag rate |\n|---|---|---|---|---|---|\n")
	for _, k := range domain.FlagKinds {
		fmt.Fprintf(&b, "| `%s` | %d | %.1f %% | %d | %d | %.2f %% |\n", k, m.planted[k], m.recall(k)*100, m.flags[k],
			m.falseFlags[k], m.falseRate(k)*100)
	}
	fmt.Fprintf(&b, "| `%s` after a run's first day | %d | %.1f %% | | | |\n", domain.FlagAboveMedian, m.laterPlanted,
		m.laterRecall()*100)
	fmt.Fprintf(&b, "| any kind | %d | %.1f %% | | %d | %.2f %% |\n", m.records-m.clean, m.recallAll()*100, m.anyFalse,
		float64(m.anyFalse)/float64(m.clean)*100)
	return b.String()
}

func (m integrityMeasure) recall(kind string) float64 {
	if m.planted[kind] == 0 {
		return 0
	}
	return float64(m.caught[kind]) / float64(m.planted[kind])
}

func (m integrityMeasure) recallAll() float64 {
	caught := 0
	for _, n := range m.caught {
		caught += n
	}
	return float64(caught) / float64(m.records-m.clean)
}

func (m integrityMeasure) laterRecall() float64 {
	return float64(m.laterCaught) / float64(max(m.laterPlanted, 1))
}

func (m integrityMeasure) falseRate(kind string) float64 {
	return float64(m.falseFlags[kind]) / float64(m.clean)
}

// TestIntegrityRecallAndFalseFlags is the measurement of BENCHMARKS.md
// ("Integrity: recall and false flags"), on three seeds: for every kind, at
// least 95 % of the planted records are flagged by that kind, and at most
// 2 % of the clean records are. member_above_median needs one day of
// history: it is held to 95 % on the days of a run after the first.
//
//	go test ./seed -run TestIntegrityRecallAndFalseFlags -v
func TestIntegrityRecallAndFalseFlags(t *testing.T) {
	for _, seed := range []uint64{1, 2, 3} {
		m := measureIntegrity(t, 28, seed, domain.DefaultIntegrityThresholds(), true)
		t.Logf("seed %d: %s", seed, m.table())
		if m.records < 80_000 || m.clean < m.records*90/100 {
			t.Fatalf("%d records, %d clean: not the data set of the measurement", m.records, m.clean)
		}
		for _, k := range domain.FlagKinds {
			recall := m.recall(k)
			if k == domain.FlagAboveMedian {
				recall = m.laterRecall()
			}
			if m.planted[k] < 100 {
				t.Errorf("seed %d, %s: only %d planted records", seed, k, m.planted[k])
			}
			if recall < 0.95 {
				t.Errorf("seed %d, %s: recall %.1f %%, want ≥ 95 %%", seed, k, recall*100)
			}
			if f := m.falseRate(k); f > 0.02 {
				t.Errorf("seed %d, %s: %.2f %% of the clean records flagged, want ≤ 2 %%", seed, k, f*100)
			}
		}
	}
}

// TestPlantingLeavesTheNormalRecordsAlone: the same seed gives the same
// normal records with and without planted patterns, and every extra record
// is in the ground truth.
func TestPlantingLeavesTheNormalRecordsAlone(t *testing.T) {
	all := refdata.Catalog().Find(domain.UnitFilter{Level: domain.LevelCommune, AsOf: "2026-11-21"})
	regs := Registries(all, Hue, 4, "2026-11-21")[:6]
	end := time.Date(2026, 11, 21, 10, 0, 0, 0, time.UTC)
	run := func(plant *Plant) []domain.Record {
		var out []domain.Record
		err := Records(regs, RecordOptions{N: 8000, Days: 20, End: end, Seed: 4, Process: "p", Plant: plant,
			Hash: func(s string) string { return s }}, func(rs []domain.Record) error { out = append(out, rs...); return nil })
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	plain := run(nil)
	truth := map[string]string{}
	planted := run(&Plant{Planted: func(id, kind string) { truth[id] = kind }})
	var normal []domain.Record
	for _, r := range planted {
		if truth[r.ID] == "" {
			normal = append(normal, r)
		}
	}
	if len(plain) != 8000 || len(normal) != 8000 || len(truth) == 0 || len(planted) != 8000+len(truth) {
		t.Fatalf("%d plain, %d normal + %d planted = %d", len(plain), len(normal), len(truth), len(planted))
	}
	for i := range plain {
		if plain[i].ID != normal[i].ID || !plain[i].OccurredAt.Equal(normal[i].OccurredAt) {
			t.Fatalf("record %d differs: %+v / %+v", i, plain[i], normal[i])
		}
	}
	kinds := map[string]bool{}
	for _, k := range truth {
		kinds[k] = true
	}
	if len(kinds) < 6 {
		t.Fatalf("planted kinds %v", kinds)
	}
}
