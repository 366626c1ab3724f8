package domain

import "testing"

func TestOpenDataWithholdsSmallCounts(t *testing.T) {
	val := func(p *int) int {
		if p == nil {
			return -1
		}
		return *p
	}
	for name, tc := range map[string]struct {
		row      CoverageRow
		counts   map[string]int // published value, -1 for null
		coverage float64        // -1 for null
		services map[string]int
	}{
		"large counts are published, zeros too": {
			row: CoverageRow{VillagesTotal: 12, VillagesWithTeam: 0, TeamsTotal: 12, TeamsActive30d: 9, HouseholdsTotal: 3000,
				HouseholdsReached: 1234, Assistance30d: 40, ByService: map[string]int{"hue_s": 25, "vneid_activation": 15}},
			counts:   map[string]int{"villages_total": 12, "villages_with_team": 0, "teams_active_30d": 9, "households_reached": 1234, "assistance_30d": 40},
			coverage: 0.4113, services: map[string]int{"hue_s": 25, "vneid_activation": 15, "ecommerce": 0},
		},
		"1 to 4 are null, and the ratio built on them": {
			row:      CoverageRow{VillagesTotal: 4, TeamsTotal: 1, TeamsActive30d: 5, HouseholdsTotal: 900, HouseholdsReached: 3, Assistance30d: 3, ByService: map[string]int{"hue_s": 3}},
			counts:   map[string]int{"villages_total": -1, "teams_total": -1, "teams_active_30d": 5, "households_total": 900, "households_reached": -1, "assistance_30d": -1},
			coverage: -1, services: map[string]int{"hue_s": -1, "other": 0},
		},
		"a withheld denominator withholds the ratio": {
			row:      CoverageRow{HouseholdsTotal: 4, HouseholdsReached: 0},
			counts:   map[string]int{"households_total": -1, "households_reached": 0},
			coverage: -1,
		},
		"one small service is not left to subtraction: the next smallest goes too": {
			row:    CoverageRow{Assistance30d: 50, ByService: map[string]int{"hue_s": 30, "ecommerce": 3, "digital_skills": 9, "cashless_payment": 8}},
			counts: map[string]int{"assistance_30d": 50}, coverage: 0,
			services: map[string]int{"hue_s": 30, "ecommerce": -1, "cashless_payment": -1, "digital_skills": 9},
		},
		"two small services adding up to less than 5 take a third": {
			row:      CoverageRow{Assistance30d: 40, ByService: map[string]int{"hue_s": 30, "ecommerce": 1, "digital_skills": 2, "other": 7}},
			counts:   map[string]int{"assistance_30d": 40},
			services: map[string]int{"hue_s": 30, "ecommerce": -1, "digital_skills": -1, "other": -1},
		},
		"every service small: all withheld, the total stays": {
			row:      CoverageRow{Assistance30d: 6, ByService: map[string]int{"ecommerce": 2, "hue_s": 4}},
			counts:   map[string]int{"assistance_30d": 6},
			services: map[string]int{"ecommerce": -1, "hue_s": -1},
		},
		"a small service and one large one: both withheld": {
			row:      CoverageRow{Assistance30d: 8, ByService: map[string]int{"ecommerce": 3, "hue_s": 5}},
			counts:   map[string]int{"assistance_30d": 8},
			services: map[string]int{"ecommerce": -1, "hue_s": -1},
		},
	} {
		o := OpenCoverageOf(tc.row, "X")
		got := map[string]int{"villages_total": val(o.VillagesTotal), "villages_with_team": val(o.VillagesWithTeam),
			"teams_total": val(o.TeamsTotal), "teams_active_30d": val(o.TeamsActive30d), "households_total": val(o.HouseholdsTotal),
			"households_reached": val(o.HouseholdsReached), "assistance_30d": val(o.Assistance30d)}
		for k, want := range tc.counts {
			if got[k] != want {
				t.Errorf("%s: %s = %d, want %d", name, k, got[k], want)
			}
		}
		cov := -1.0
		if o.HouseholdCoverage != nil {
			cov = *o.HouseholdCoverage
		}
		if cov != tc.coverage {
			t.Errorf("%s: coverage %v, want %v", name, cov, tc.coverage)
		}
		for s, want := range tc.services {
			if g := val(o.ByService[s]); g != want {
				t.Errorf("%s: %s = %d, want %d", name, s, g, want)
			}
		}
		if len(o.ByService) != len(Services) {
			t.Errorf("%s: %d services", name, len(o.ByService))
		}
		// Whatever is published, no withheld service is the total less the others.
		if o.Assistance30d != nil {
			rest, withheld := *o.Assistance30d, 0
			for _, s := range Services {
				if p := o.ByService[s]; p != nil {
					rest -= *p
				} else {
					withheld++
				}
			}
			if withheld == 1 || withheld > 1 && rest < OpenMinCount && rest > 0 {
				t.Errorf("%s: the withheld services are derivable: %d over %d", name, rest, withheld)
			}
		}
	}
}
