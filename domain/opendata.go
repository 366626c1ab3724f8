package domain

import (
	"math"
	"sort"
)

// The open-data feed publishes each commune's latest coverage figures to
// anyone. A small count can point at a few households or people (three
// households helped with a digital signature in a small commune), so:
//
//   - every count from 1 to OpenMinCount-1 is withheld (published as null);
//     0 is published, for it tells nothing about anyone;
//   - a ratio is published only when every count it is computed from is:
//     household_coverage is null when households_reached or households_total
//     is, or else anyone could multiply it back into the withheld count;
//   - by_service adds up to assistance_30d, so one withheld service would be
//     the difference between the total and the others: while the withheld
//     services of a commune are a single one or add up to less than
//     OpenMinCount, the smallest published one is withheld too (once all
//     are withheld they add up to the published total, at least
//     OpenMinCount, and none can be told apart).
//
// The feed has no names, phones or records, only these counts.

// OpenMinCount is the smallest count the open-data feed publishes, 0 aside.
const OpenMinCount = 5

// OpenCoverage is one commune's line of the open-data feed: nil is a
// withheld figure.
type OpenCoverage struct {
	CommuneCode, CommuneName string
	Date                     Date
	VillagesTotal            *int
	VillagesWithTeam         *int
	TeamsTotal               *int
	TeamsActive30d           *int
	HouseholdsTotal          *int
	HouseholdsReached        *int
	HouseholdCoverage        *float64 // 0–1, rounded to 4 decimals
	Assistance30d            *int
	ByService                map[string]*int // every service code
}

// OpenCount is n as the feed publishes it: nil from 1 to OpenMinCount-1.
func OpenCount(n int) *int {
	if n > 0 && n < OpenMinCount {
		return nil
	}
	return &n
}

// OpenCoverageOf is the published line of a commune's coverage row.
func OpenCoverageOf(r CoverageRow, name string) OpenCoverage {
	o := OpenCoverage{CommuneCode: r.CommuneCode, CommuneName: name, Date: r.Date,
		VillagesTotal: OpenCount(r.VillagesTotal), VillagesWithTeam: OpenCount(r.VillagesWithTeam),
		TeamsTotal: OpenCount(r.TeamsTotal), TeamsActive30d: OpenCount(r.TeamsActive30d),
		HouseholdsTotal: OpenCount(r.HouseholdsTotal), HouseholdsReached: OpenCount(r.HouseholdsReached),
		Assistance30d: OpenCount(r.Assistance30d), ByService: map[string]*int{}}
	if o.HouseholdsTotal != nil && o.HouseholdsReached != nil {
		c := math.Round(ratio(r.HouseholdsReached, r.HouseholdsTotal)*10000) / 10000
		o.HouseholdCoverage = &c
	}
	for _, s := range Services {
		o.ByService[s] = OpenCount(r.ByService[s])
	}
	o.withholdDerivable(r)
	return o
}

// withholdDerivable withholds more services (or the total) until the
// withheld services can no longer be worked out from the total.
func (o *OpenCoverage) withholdDerivable(r CoverageRow) {
	if o.Assistance30d == nil {
		return // the total is withheld: nothing to subtract from
	}
	for {
		n, sum := 0, 0
		var open []string
		for _, s := range Services {
			switch {
			case o.ByService[s] == nil:
				n++
				sum += r.ByService[s]
			case r.ByService[s] > 0:
				open = append(open, s)
			}
		}
		if n == 0 || n > 1 && sum >= OpenMinCount || len(open) == 0 {
			return
		}
		sort.SliceStable(open, func(i, j int) bool { return r.ByService[open[i]] < r.ByService[open[j]] })
		o.ByService[open[0]] = nil
	}
}
