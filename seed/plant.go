package seed

import (
	"fmt"
	"math/rand/v2"
	"sort"
	"time"

	"github.com/hue-cdt/cdt/domain"
)

// Plant mixes the patterns of issue 12 into generated records, on top of
// the normal ones, and tells which records it planted (the ground truth of
// the integrity measurement). The normal records are the same with and
// without Plant: patterns draw from their own random source.
type Plant struct {
	// Planted is told the ID and the kind (a domain.Flag* kind) of every
	// planted record.
	Planted func(recordID, kind string)
	// Rate scales how many patterns are planted; 0 means 1, which plants
	// about one record in twelve.
	Rate float64
}

// Planted patterns, per 1,000 active members and whole day (Rate 1).
const (
	plantBursts      = 2.0
	plantShared      = 2.0
	plantCross       = 1.5
	plantSkews       = 1.5
	plantNights      = 1.0
	plantNotes       = 1.5
	plantPadders     = 4.0  // members padding day after day, per 1,000, over the period
	plantAtTraining  = 0.15 // share of a training's attendees who log during it
	plantPaddingDays = 5    // a padder's run lasts 5–9 days
)

// paddingNotes are notes copied onto many records.
var paddingNotes = []string{
	"Hỗ trợ kích hoạt tài khoản định danh điện tử mức 2 cho người dân",
	"Hướng dẫn người dân cài đặt ứng dụng Hue-S và VNeID",
	"Tuyên truyền, hướng dẫn người dân sử dụng dịch vụ công trực tuyến",
	"Đi từng ngõ, gõ từng nhà hướng dẫn kỹ năng số cơ bản",
}

type planter struct {
	g       *generator
	p       *Plant
	r       *rand.Rand
	rate    float64
	byID    map[string]int
	padders map[int][2]int // worker → first and last day of their run
}

func newPlanter(g *generator, p *Plant, days int) *planter {
	pl := &planter{g: g, p: p, r: rand.New(rand.NewPCG(g.opts.Seed, 0x91a7)), rate: p.Rate, byID: map[string]int{},
		padders: map[int][2]int{}}
	if pl.rate == 0 {
		pl.rate = 1
	}
	for i, w := range g.workers {
		pl.byID[w.m.ID] = i
	}
	// Padders: members of teams with at least three others, a run of days
	// each in the second half of the period (before it, they work honestly:
	// the rule compares them with their own past too).
	n := pl.count(plantPadders)
	for range n * 4 {
		if len(pl.padders) >= n {
			break
		}
		wi := pl.r.IntN(len(g.workers))
		if len(g.team[g.workers[wi].m.TeamID]) < 4 {
			continue
		}
		length := plantPaddingDays + pl.r.IntN(5)
		first := days/2 + pl.r.IntN(max(days-days/2-length-1, 1))
		pl.padders[wi] = [2]int{first, min(first+length-1, days-2)}
	}
	return pl
}

// count draws how many of a pattern to plant: perThousand per 1,000 workers
// on average.
func (pl *planter) count(perThousand float64) int {
	x := perThousand * pl.rate * float64(len(pl.g.workers)) / 1000
	n := int(x)
	if pl.r.Float64() < x-float64(n) {
		n++
	}
	return n
}

// day plants the patterns of the i-th day of the period.
func (pl *planter) day(i int, day domain.Date) error {
	saved := pl.g.r
	pl.g.r = pl.r // records draw their details from the plant's source
	defer func() { pl.g.r = saved }()
	var recs []domain.Record
	var kinds []string
	put := func(kind string, rs ...domain.Record) {
		for _, r := range rs {
			recs = append(recs, r)
			kinds = append(kinds, kind)
		}
	}
	for _, p := range []struct {
		rate float64
		kind string
		make func(domain.Date) []domain.Record
	}{
		{plantBursts, domain.FlagBurst, pl.burst}, {plantShared, domain.FlagHouseholdManyMembers, pl.shared},
		{plantCross, domain.FlagHouseholdManyCommunes, pl.cross}, {plantSkews, domain.FlagClockSkew, pl.skewed},
		{plantNights, domain.FlagNightBulk, pl.night}, {plantNotes, domain.FlagRepeatedNote, pl.repeated},
	} {
		for range pl.count(p.rate) {
			put(p.kind, p.make(day)...)
		}
	}
	wis := make([]int, 0, len(pl.padders))
	for wi, run := range pl.padders {
		if i >= run[0] && i <= run[1] {
			wis = append(wis, wi)
		}
	}
	sort.Ints(wis)
	for _, wi := range wis {
		put(domain.FlagAboveMedian, pl.padding(wi, day)...)
	}
	put(domain.FlagTrainingDay, pl.atTraining(day)...)
	for k, rec := range recs {
		if err := pl.g.out(rec); err != nil {
			return err
		}
		pl.p.Planted(rec.ID, kinds[k])
	}
	return nil
}

// at is a time on day, hour in Huế (hours past 24 fall on the next day).
func at(day domain.Date, hour float64) time.Time {
	return day.Time().Add(time.Duration(hour * float64(time.Hour))).UTC().Truncate(time.Second)
}

func (pl *planter) seconds(from, to int) time.Duration {
	return time.Duration(from+pl.r.IntN(to-from+1)) * time.Second
}

// series is k door-to-door records by worker wi from t on, spaced by
// gap(), each for a household of their village.
func (pl *planter) series(wi, k int, t time.Time, gap func() time.Duration) []domain.Record {
	w := &pl.g.workers[wi]
	out := make([]domain.Record, 0, k)
	for range k {
		v := pl.g.villageOf(w)
		out = append(out, pl.g.record(w, t, v, pl.g.household(v), serviceMix.pick(pl.r), "door"))
		t = t.Add(gap())
	}
	return out
}

// burst: 7–14 households "helped" 15–75 seconds apart.
func (pl *planter) burst(day domain.Date) []domain.Record {
	return pl.series(pl.r.IntN(len(pl.g.workers)), 7+pl.r.IntN(8), at(day, 8+8*pl.r.Float64()),
		func() time.Duration { return pl.seconds(15, 75) })
}

// shared: one household, one service, logged by 3–4 members of a team.
func (pl *planter) shared(day domain.Date) []domain.Record {
	var mates []int
	for range 20 {
		wi := pl.r.IntN(len(pl.g.workers))
		if t := pl.g.team[pl.g.workers[wi].m.TeamID]; len(t) >= 3 {
			mates = append([]int(nil), t...)
			break
		}
	}
	if mates == nil {
		return nil
	}
	pl.r.Shuffle(len(mates), func(i, j int) { mates[i], mates[j] = mates[j], mates[i] })
	mates = mates[:min(len(mates), 3+pl.r.IntN(2))]
	first := &pl.g.workers[mates[0]]
	v := pl.g.villageOf(first)
	hh, service := pl.g.household(v), serviceMix.pick(pl.r)
	var out []domain.Record
	for _, wi := range mates {
		out = append(out, pl.g.record(&pl.g.workers[wi], at(day, 7+10*pl.r.Float64()), v, hh, service, "door"))
	}
	return out
}

// cross: one household, one service, logged in 2–3 communes.
func (pl *planter) cross(day domain.Date) []domain.Record {
	first := pl.r.IntN(len(pl.g.workers))
	v := pl.g.villageOf(&pl.g.workers[first])
	hh, service := pl.g.household(v), serviceMix.pick(pl.r)
	communes := map[string]bool{}
	var out []domain.Record
	want := 2
	if pl.r.IntN(5) == 0 {
		want = 3
	}
	for tries := 0; len(out) < want && tries < 50; tries++ {
		wi := first
		if len(out) > 0 {
			wi = pl.r.IntN(len(pl.g.workers))
		}
		w := &pl.g.workers[wi]
		if communes[w.m.CommuneCode] {
			continue
		}
		communes[w.m.CommuneCode] = true
		out = append(out, pl.g.record(w, at(day, 7+10*pl.r.Float64()), w.village, hh, service, "door"))
	}
	if len(out) < 2 {
		return nil
	}
	return out
}

// skewed: 3–8 records sent from a clock 1.5–30 hours off.
func (pl *planter) skewed(day domain.Date) []domain.Record {
	skew := signed(pl.r, 5400+pl.r.IntN(102600))
	out := pl.series(pl.r.IntN(len(pl.g.workers)), 3+pl.r.IntN(6), at(day, 7+9*pl.r.Float64()),
		func() time.Duration { return pl.seconds(600, 2400) })
	for i := range out {
		out[i].DeviceSkew = skew + int64(pl.r.IntN(11)-5)
	}
	return out
}

// night: 6–12 records from 22:00–03:00 on, 4–12 minutes apart.
func (pl *planter) night(day domain.Date) []domain.Record {
	return pl.series(pl.r.IntN(len(pl.g.workers)), 6+pl.r.IntN(7), at(day, 22+5*pl.r.Float64()),
		func() time.Duration { return pl.seconds(240, 720) })
}

// repeated: one note copied onto 6–10 records of a day.
func (pl *planter) repeated(day domain.Date) []domain.Record {
	note := paddingNotes[pl.r.IntN(len(paddingNotes))]
	out := pl.series(pl.r.IntN(len(pl.g.workers)), 6+pl.r.IntN(5), at(day, 7+6*pl.r.Float64()),
		func() time.Duration { return pl.seconds(480, 1800) })
	for i := range out {
		out[i].Note = note
	}
	return out
}

// padding: a padder's day, 22–35 records 6–20 minutes apart from 7:00.
func (pl *planter) padding(wi int, day domain.Date) []domain.Record {
	return pl.series(wi, 22+pl.r.IntN(14), at(day, 7+pl.r.Float64()), func() time.Duration { return pl.seconds(360, 1200) })
}

// atTraining: attendees logging 2–5 records during the training's hours.
func (pl *planter) atTraining(day domain.Date) []domain.Record {
	var out []domain.Record
	for _, t := range pl.g.opts.Trainings {
		from, to, ok := domain.TrainingHours(t, day)
		if !ok {
			continue
		}
		for _, a := range t.Attendees {
			wi, ok := pl.byID[a.MemberID]
			if !ok || pl.r.Float64() >= plantAtTraining {
				continue
			}
			span := int(to.Sub(from) / time.Second)
			for range 2 + pl.r.IntN(4) {
				w := &pl.g.workers[wi]
				v := pl.g.villageOf(w)
				out = append(out, pl.g.record(w, from.Add(time.Duration(pl.r.IntN(span))*time.Second), v, pl.g.household(v),
					serviceMix.pick(pl.r), "door"))
			}
		}
	}
	return out
}

// PeriodTrainings generates the courses held between from and to: each
// commune's own (a weekday every two weeks or so, for 8–20 of its members,
// a morning, an afternoon or a whole day) and a city course each month for
// the leaders of a third of the teams.
func PeriodTrainings(regs []*domain.CommuneRegistry, from, to domain.Date, seed uint64, province string) []domain.Training {
	r := rand.New(rand.NewPCG(seed, 0x7a18))
	var out []domain.Training
	hours := func(day domain.Date) (time.Time, time.Time) {
		switch r.IntN(4) {
		case 0:
			return at(day, 7.5), at(day, 11.5)
		case 1:
			return at(day, 13.5), at(day, 17)
		}
		return at(day, 8), at(day, 16.5)
	}
	weekday := func(d domain.Date) domain.Date {
		for d.Time().Weekday() == time.Saturday || d.Time().Weekday() == time.Sunday {
			d = d.Next()
		}
		return d
	}
	for _, reg := range regs {
		var members []domain.Member
		for _, m := range reg.Members {
			if m.Active {
				members = append(members, m)
			}
		}
		if len(members) == 0 {
			continue
		}
		n := 0
		for d := from.AddDays(r.IntN(14)); d <= to; d = d.AddDays(10 + r.IntN(9)) {
			day := weekday(d)
			if day > to {
				break
			}
			n++
			start, end := hours(day)
			t := domain.Training{ID: fmt.Sprintf("TR-S-%s-%d", reg.Code, n), Title: "Bồi dưỡng kỹ năng số cho Tổ công nghệ số cộng đồng",
				Topics: []string{"vneid_activation", "public_service_online"}, Level: domain.LevelCommuneTraining, UnitCode: reg.Code,
				OrganizingUnit: "UBND " + reg.Code, StartsAt: start, EndsAt: end, Location: "Hội trường UBND", CreatedBy: "seed"}
			for _, k := range r.Perm(len(members))[:min(len(members), 8+r.IntN(13))] {
				m := members[k]
				t.Attendees = append(t.Attendees, domain.Attendance{MemberID: m.ID, Commune: m.CommuneCode, TeamID: m.TeamID,
					MarkedAt: end, By: "seed", Source: "list"})
			}
			out = append(out, t)
		}
	}
	n := 0
	for d := from.AddDays(3); d <= to; d = d.AddDays(30) {
		day := weekday(d)
		if day > to {
			break
		}
		n++
		t := domain.Training{ID: fmt.Sprintf("TR-S-P%d", n), Title: "Tập huấn Tổ trưởng Tổ công nghệ số cộng đồng",
			Topics: []string{"team_operations", "cyber_safety"}, Level: domain.LevelProvinceTraining, UnitCode: province,
			OrganizingUnit: "Sở Khoa học và Công nghệ thành phố Huế", StartsAt: at(day, 8), EndsAt: at(day, 16.5),
			Location: "Hội trường Sở Khoa học và Công nghệ", CreatedBy: "seed"}
		for _, reg := range regs {
			for _, m := range reg.Members {
				if m.Active && m.Position == domain.PositionLeader && r.IntN(3) == 0 {
					t.Attendees = append(t.Attendees, domain.Attendance{MemberID: m.ID, Commune: m.CommuneCode, TeamID: m.TeamID,
						MarkedAt: t.EndsAt, By: "seed", Source: "list"})
				}
			}
		}
		out = append(out, t)
	}
	return out
}
