package seed

import (
	"fmt"
	"math"
	"math/rand/v2"
	"time"

	"github.com/hue-cdt/cdt/domain"
)

// RecordOptions shape generated assistance records.
type RecordOptions struct {
	N       int       // records
	Days    int       // spread over the days before End
	End     time.Time // the last instant
	Seed    uint64
	Process string                         // delta process name ("seed-…"); records carry DeltaID(Process, 1)
	Hash    func(normalized string) string // the household HMAC of the server
	Batch   int                            // records per call of emit (default 1000)
	// Progress, if set, is told how many records each batch held.
	Progress func(n int)
}

var serviceMix = weighted{{"vneid_activation", 28}, {"vneid_install", 15}, {"public_service_online", 18},
	{"cashless_payment", 10}, {"hue_s", 9}, {"digital_skills", 7}, {"health_insurance_app", 5},
	{"digital_signature", 3}, {"digital_address", 2}, {"ecommerce", 1}, {"other", 2}}
var outcomeMix = weighted{{"done", 80}, {"partial", 15}, {"referred", 5}}
var genderMix = weighted{{"f", 55}, {"m", 44}, {"x", 1}}
var ageMix = weighted{{"under_18", 3}, {"18_35", 22}, {"36_60", 45}, {"over_60", 30}}
var placeMix = weighted{{"door", 75}, {"desk", 25}}

type worker struct {
	m        domain.Member
	village  string
	villages []domain.Village
	weight   float64
}

// Records generates opts.N records by the members of regs and passes them to
// emit in batches, so that a million records never sit in memory at once.
// Members differ in zeal (a few carry much of the work, some are idle for
// weeks), weekdays are busier than weekends, mornings than evenings, the work
// grows over the period, and households come back.
func Records(regs []*domain.CommuneRegistry, opts RecordOptions, emit func([]domain.Record) error) error {
	if opts.Batch == 0 {
		opts.Batch = 1000
	}
	r := rand.New(rand.NewPCG(opts.Seed, 0xa551))
	var workers []worker
	var cum []float64
	total := 0.0
	households := map[string]int{}
	for _, reg := range regs {
		var vs []domain.Village
		for _, v := range reg.Villages {
			if v.Active {
				vs = append(vs, v)
			}
			households[v.Code] = max(v.Households, 20)
		}
		idleTeam := map[string]bool{}
		for _, t := range reg.Teams {
			idleTeam[t.ID] = r.IntN(100) < 5 // a few teams stopped altogether
		}
		for _, m := range reg.Members {
			if !m.Active {
				continue
			}
			t, _ := reg.Team(m.TeamID)
			w := math.Exp(r.NormFloat64() * 0.9) // log-normal zeal
			if r.IntN(100) < 12 || idleTeam[t.ID] {
				w = 0 // idle members: the ones the commune leader must call
			}
			if m.Position == domain.PositionLeader {
				w *= 1.5
			}
			village := t.VillageCode
			if village == "" && len(vs) > 0 {
				village = vs[r.IntN(len(vs))].Code
			}
			workers = append(workers, worker{m: m, village: village, villages: vs, weight: w})
			total += w
			cum = append(cum, total)
		}
	}
	if len(workers) == 0 || total == 0 {
		return fmt.Errorf("seed: no active member to log records")
	}
	// Day weights: weekdays 1, Saturday 0.6, Sunday 0.3, growing 40 % over the period.
	days := max(opts.Days, 1)
	end := opts.End.UTC()
	start := end.Add(-time.Duration(days) * 24 * time.Hour)
	dayW := make([]float64, days)
	dayCum := 0.0
	for i := range days {
		d := domain.DateOf(start.Add(time.Duration(i)*24*time.Hour + time.Hour))
		w := 1.0
		switch d.Time().Weekday() {
		case time.Saturday:
			w = 0.6
		case time.Sunday:
			w = 0.3
		}
		w *= 0.8 + 0.4*float64(i)/float64(days)
		dayCum += w
		dayW[i] = dayCum
	}
	pickCum := func(c []float64) int {
		x := r.Float64() * c[len(c)-1]
		lo, hi := 0, len(c)-1
		for lo < hi {
			mid := (lo + hi) / 2
			if c[mid] < x {
				lo = mid + 1
			} else {
				hi = mid
			}
		}
		return lo
	}
	batch := make([]domain.Record, 0, opts.Batch)
	delta := domain.DeltaID(opts.Process, 1)
	for i := range opts.N {
		w := workers[pickCum(cum)]
		day := pickCum(dayW)
		// Hours in Huế: mornings 7–11, afternoons 14–17, a few evenings.
		var hour float64
		switch x := r.IntN(100); {
		case x < 60:
			hour = 7 + 4*r.Float64()
		case x < 95:
			hour = 14 + 3*r.Float64()
		default:
			hour = 19 + 2*r.Float64()
		}
		dayStart := domain.DateOf(start.Add(time.Duration(day)*24*time.Hour + time.Hour)).Time()
		at := dayStart.Add(time.Duration(hour * float64(time.Hour))).UTC().Truncate(time.Second)
		if at.After(end) {
			at = end.Add(-time.Duration(r.IntN(3600)) * time.Second)
		}
		if at.Before(start) {
			at = start.Add(time.Minute)
		}
		recorded := at.Add(time.Duration(30+r.IntN(300)) * time.Second)
		if r.IntN(100) < 15 { // logged offline, synced hours later
			recorded = at.Add(time.Duration(1+r.IntN(47)) * time.Hour)
		}
		if recorded.After(end) {
			recorded = end
		}
		village := w.village
		if r.IntN(10) == 0 && len(w.villages) > 0 {
			village = w.villages[r.IntN(len(w.villages))].Code
		}
		// Households: the village's own, some helped again and again (a
		// Zipf-like pick), so reached households never exceed registered ones.
		hh := int(math.Pow(r.Float64(), 1.6) * float64(households[village]))
		ref := fmt.Sprintf("09%08d", (hashInt(village)*7919+hh*104729)%100_000_000)
		cid := fmt.Sprintf("%08x-%04x-4%03x-8%03x-%012x", r.Uint32(), r.IntN(1<<16), r.IntN(1<<12), r.IntN(1<<12), r.Int64N(1<<48))
		rec := domain.Record{ID: w.m.ID + ":" + cid, ClientID: cid, MemberID: w.m.ID, TeamID: w.m.TeamID,
			CommuneCode: w.m.CommuneCode, VillageCode: village, Service: serviceMix.pick(r), Household: opts.Hash(ref),
			OccurredAt: at, Day: domain.DateOf(at), RecordedAt: recorded, Outcome: outcomeMix.pick(r),
			Gender: genderMix.pick(r), AgeGroup: ageMix.pick(r), Place: placeMix.pick(r), By: "seed", Delta: delta}
		batch = append(batch, rec)
		if len(batch) == opts.Batch || i == opts.N-1 {
			if err := emit(batch); err != nil {
				return err
			}
			if opts.Progress != nil {
				opts.Progress(len(batch))
			}
			batch = batch[:0]
		}
	}
	return nil
}

func hashInt(s string) int {
	h := 0
	for _, c := range s {
		h = (h*31 + int(c)) % 1_000_003
	}
	return h
}
