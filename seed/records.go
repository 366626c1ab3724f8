package seed

import (
	"fmt"
	"math"
	"math/rand/v2"
	"sort"
	"time"

	"github.com/hue-cdt/cdt/domain"
)

// RecordOptions shape generated assistance records.
type RecordOptions struct {
	N       int       // records (planted ones come on top)
	Days    int       // spread over the days before End
	End     time.Time // the last instant
	Seed    uint64
	Process string                         // delta process name ("seed-…"); records carry DeltaID(Process, 1)
	Hash    func(normalized string) string // the household HMAC of the server
	Batch   int                            // records per call of emit (default 1000)
	// Progress, if set, is told how many records each batch held.
	Progress func(n int)
	// Trainings are courses held during the period (PeriodTrainings): their
	// attendees log nothing during the course's hours, but for one call
	// answered at the break now and then.
	Trainings []domain.Training
	// Plant, if set, mixes integrity patterns into the records (plant.go).
	Plant *Plant
}

var serviceMix = weighted{{"vneid_activation", 28}, {"vneid_install", 15}, {"public_service_online", 18},
	{"cashless_payment", 10}, {"hue_s", 9}, {"digital_skills", 7}, {"health_insurance_app", 5},
	{"digital_signature", 3}, {"digital_address", 2}, {"ecommerce", 1}, {"other", 2}}
var outcomeMix = weighted{{"done", 80}, {"partial", 15}, {"referred", 5}}
var genderMix = weighted{{"f", 55}, {"m", 44}, {"x", 1}}
var ageMix = weighted{{"under_18", 3}, {"18_35", 22}, {"36_60", 45}, {"over_60", 30}}

type worker struct {
	m        domain.Member
	village  string
	villages []domain.Village // the commune's active villages
	weight   float64
	noteRate float64  // share of records with a note
	habits   []string // the member's own phrases
	skew     int64    // how far the phone's clock is off, in seconds (+ behind)
}

// generator holds the state of one run of Records.
type generator struct {
	r          *rand.Rand
	opts       RecordOptions
	workers    []worker
	cum        []float64
	households map[string]int
	team       map[string][]int // team → worker indexes
	away       map[string][][2]time.Time
	start, end time.Time
	batch      []domain.Record
	delta      string
	emit       func([]domain.Record) error
	seq        uint64
}

// Records generates opts.N records by the members of regs and passes them to
// emit in batches, day after day, so that a million records never sit in
// memory at once. It is meant to look like real work, not clean data:
//
//   - members differ in zeal (log-normal; a few carry much of the work, some
//     are idle for weeks; team leaders do more);
//   - weekdays are busier than weekends, mornings than afternoons, the work
//     grows over the period; a few members work in the evening, rarely late;
//   - most help is door to door: one household, sometimes two or three
//     services a minute apart; some is a desk session at the commune's
//     public-service centre, several citizens a few minutes apart;
//   - households come back (a Zipf-like pick), and a household sometimes
//     calls a second member of the team for the same service the same day;
//   - now and then a member types up a round afterwards, a record every
//     half minute;
//   - notes: most members rarely write one, a few note nearly every record,
//     with their own phrases, common phrases and short ones ("đã xong");
//   - phone clocks drift: most by seconds, some by minutes, a few by half an
//     hour;
//   - members at a training (opts.Trainings) log before and after it, and
//     sometimes answer one call at the break.
func Records(regs []*domain.CommuneRegistry, opts RecordOptions, emit func([]domain.Record) error) error {
	if opts.Batch == 0 {
		opts.Batch = 1000
	}
	g := &generator{r: rand.New(rand.NewPCG(opts.Seed, 0xa551)), opts: opts, households: map[string]int{},
		team: map[string][]int{}, emit: emit, delta: domain.DeltaID(opts.Process, 1)}
	if err := g.hire(regs); err != nil {
		return err
	}
	days := max(opts.Days, 1)
	g.end = opts.End.UTC()
	g.start = g.end.Add(-time.Duration(days) * 24 * time.Hour)
	g.batch = make([]domain.Record, 0, opts.Batch)
	// Day weights: weekdays 1, Saturday 0.6, Sunday 0.3, growing 40 % over the period.
	quota := make([]float64, days)
	sum := 0.0
	for i := range days {
		w := 1.0
		switch g.day(i).Time().Weekday() {
		case time.Saturday:
			w = 0.6
		case time.Sunday:
			w = 0.3
		}
		quota[i] = w * (0.8 + 0.4*float64(i)/float64(days))
		sum += quota[i]
	}
	var plant *planter
	if opts.Plant != nil {
		plant = newPlanter(g, opts.Plant, days)
	}
	done, carry := 0, 0.0
	for i := range days {
		exact := float64(opts.N)*quota[i]/sum + carry
		n := int(math.Round(exact))
		carry = exact - float64(n)
		if i == days-1 {
			n = opts.N - done
		}
		day := g.day(i)
		g.away = awayOn(opts.Trainings, day)
		for made := 0; made < n; {
			for _, rec := range g.episode(day, n-made) {
				if err := g.out(rec); err != nil {
					return err
				}
				made++
			}
		}
		done += n
		if plant != nil && i > 0 && i < days-1 { // whole days only
			if err := plant.day(i, day); err != nil {
				return err
			}
		}
	}
	return g.flush()
}

// day is the calendar day of the i-th day of the period.
func (g *generator) day(i int) domain.Date {
	return domain.DateOf(g.start.Add(time.Duration(i)*24*time.Hour + time.Hour))
}

// hire turns the active members of regs into workers.
func (g *generator) hire(regs []*domain.CommuneRegistry) error {
	r := g.r
	total := 0.0
	for _, reg := range regs {
		var vs []domain.Village
		for _, v := range reg.Villages {
			if v.Active {
				vs = append(vs, v)
			}
			g.households[v.Code] = max(v.Households, 20)
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
			wk := worker{m: m, village: village, villages: vs, weight: w, noteRate: 0.06}
			switch x := r.IntN(100); {
			case x < 5:
				wk.noteRate = 0.8 // notes nearly everything
			case x < 12:
				wk.noteRate = 0.35
			}
			for range 2 + r.IntN(3) {
				wk.habits = append(wk.habits, habitPhrases[r.IntN(len(habitPhrases))])
			}
			switch x := r.IntN(1000); {
			case x < 700:
				wk.skew = int64(r.IntN(61) - 30)
			case x < 900:
				wk.skew = signed(r, 30+r.IntN(150))
			case x < 985:
				wk.skew = signed(r, 180+r.IntN(720))
			default:
				wk.skew = signed(r, 900+r.IntN(1800))
			}
			g.team[m.TeamID] = append(g.team[m.TeamID], len(g.workers))
			g.workers = append(g.workers, wk)
			total += w
			g.cum = append(g.cum, total)
		}
	}
	if len(g.workers) == 0 || total == 0 {
		return fmt.Errorf("seed: no active member to log records")
	}
	return nil
}

func signed(r *rand.Rand, n int) int64 {
	if r.IntN(2) == 0 {
		return int64(-n)
	}
	return int64(n)
}

// pickWorker picks a worker in proportion to zeal.
func (g *generator) pickWorker() int {
	x := g.r.Float64() * g.cum[len(g.cum)-1]
	return sort.SearchFloat64s(g.cum, x)
}

// startOfWork picks when a piece of work starts on day: mornings 7–11,
// afternoons 14–17, a few evenings until 21:30, rarely later.
func (g *generator) startOfWork(day domain.Date) time.Time {
	var hour float64
	switch x := g.r.IntN(1000); {
	case x < 600:
		hour = 7 + 4*g.r.Float64()
	case x < 950:
		hour = 14 + 3*g.r.Float64()
	case x < 997:
		hour = 19 + 2.5*g.r.Float64()
	default:
		hour = 21.5 + g.r.Float64()
	}
	return day.Time().Add(time.Duration(hour * float64(time.Hour))).UTC().Truncate(time.Second)
}

// episode is one piece of honest work by one member: at most n records.
func (g *generator) episode(day domain.Date, n int) []domain.Record {
	r := g.r
	wi := g.pickWorker()
	w := &g.workers[wi]
	at := g.startOfWork(day)
	var out []domain.Record
	add := func(w *worker, at time.Time, village, hh, service, place string) {
		if len(out) < n {
			out = append(out, g.record(w, at, village, hh, service, place))
		}
	}
	services := func(at time.Time, village, hh, place string) time.Time {
		k := 1
		if x := r.IntN(100); x < 5 {
			k = 3
		} else if x < 20 {
			k = 2
		}
		for i := range k {
			if i > 0 {
				at = at.Add(time.Duration(20+r.IntN(70)) * time.Second)
			}
			add(w, at, village, hh, serviceMix.pick(r), place)
		}
		return at
	}
	switch x := r.IntN(1000); {
	case x < 80: // a desk session at the commune's public-service centre
		for k := 2 + r.IntN(3) + r.IntN(3); k > 0 && len(out) < n; k-- {
			v := g.anyVillage(w)
			at = services(at, v, g.household(v), "desk").Add(time.Duration(150+r.IntN(570)) * time.Second)
		}
	case x < 105: // the household calls a second member of the team
		v := g.villageOf(w)
		hh, service := g.household(v), serviceMix.pick(r)
		add(w, at, v, hh, service, "door")
		if mates := g.team[w.m.TeamID]; len(mates) > 1 {
			mate := &g.workers[mates[r.IntN(len(mates))]]
			if mate.m.ID != w.m.ID {
				later := at.Add(time.Duration(1+r.IntN(5)) * time.Hour)
				if domain.DateOf(later) == day {
					add(mate, later, v, hh, service, "door")
				}
			}
		}
	case x < 108: // a round typed up afterwards, a record every half minute
		v := g.villageOf(w)
		for k := 5 + r.IntN(5); k > 0; k-- {
			add(w, at, v, g.household(v), serviceMix.pick(r), "door")
			at = at.Add(time.Duration(25+r.IntN(45)) * time.Second)
		}
	default: // a door-to-door visit
		v := g.villageOf(w)
		services(at, v, g.household(v), "door")
	}
	return g.keepOffTraining(out)
}

// keepOffTraining moves the records of members at a training to after it;
// one in eight members answers one call at the break.
func (g *generator) keepOffTraining(recs []domain.Record) []domain.Record {
	for i := range recs {
		for _, iv := range g.away[recs[i].MemberID] {
			at := recs[i].OccurredAt
			if at.Before(iv[0]) || !at.Before(iv[1]) {
				continue
			}
			if g.r.IntN(8) == 0 && i == 0 {
				continue // a call at the break
			}
			shift := iv[1].Sub(iv[0]) + time.Duration(10+g.r.IntN(50))*time.Minute
			g.move(&recs[i], at.Add(shift))
		}
	}
	return recs
}

func (g *generator) move(rec *domain.Record, at time.Time) {
	if domain.DateOf(at) != rec.Day {
		at = rec.Day.Time().Add(22*time.Hour - time.Duration(g.r.IntN(3600))*time.Second).UTC()
	}
	if at.After(g.end) {
		at = g.end
	}
	rec.RecordedAt = rec.RecordedAt.Add(at.Sub(rec.OccurredAt))
	if rec.RecordedAt.After(g.end) {
		rec.RecordedAt = g.end
	}
	rec.OccurredAt = at
}

// awayOn gives, per member, the hours of the trainings they attend on day.
func awayOn(ts []domain.Training, day domain.Date) map[string][][2]time.Time {
	out := map[string][][2]time.Time{}
	for _, t := range ts {
		from, to, ok := domain.TrainingHours(t, day)
		if !ok {
			continue
		}
		for _, a := range t.Attendees {
			out[a.MemberID] = append(out[a.MemberID], [2]time.Time{from, to})
		}
	}
	return out
}

func (g *generator) villageOf(w *worker) string {
	if g.r.IntN(10) == 0 && len(w.villages) > 0 {
		return w.villages[g.r.IntN(len(w.villages))].Code
	}
	return w.village
}

func (g *generator) anyVillage(w *worker) string {
	if len(w.villages) == 0 {
		return w.village
	}
	return w.villages[g.r.IntN(len(w.villages))].Code
}

// household picks a household of village: some are helped again and again
// (a Zipf-like pick), so reached households never exceed registered ones.
func (g *generator) household(village string) string {
	hh := int(math.Pow(g.r.Float64(), 1.6) * float64(g.households[village]))
	return householdRef(village, hh)
}

func householdRef(village string, hh int) string {
	return fmt.Sprintf("09%08d", (hashInt(village)*7919+hh*104729)%100_000_000)
}

// record makes one record of w; hh is the household reference.
func (g *generator) record(w *worker, at time.Time, village, hh, service, place string) domain.Record {
	r := g.r
	if at.Before(g.start) {
		at = g.start.Add(time.Minute)
	}
	if at.After(g.end) {
		at = g.end.Add(-time.Duration(r.IntN(3600)) * time.Second)
	}
	recorded := at.Add(time.Duration(30+r.IntN(300)) * time.Second)
	if r.IntN(100) < 15 { // logged offline, synced hours later
		recorded = at.Add(time.Duration(1+r.IntN(47)) * time.Hour)
	}
	if recorded.After(g.end) {
		recorded = g.end
	}
	g.seq++
	cid := fmt.Sprintf("%08x-%04x-4%03x-8%03x-%012x", r.Uint32(), r.IntN(1<<16), r.IntN(1<<12), r.IntN(1<<12), r.Int64N(1<<48))
	note := ""
	if r.Float64() < w.noteRate {
		note = g.note(w)
	}
	return domain.Record{ID: w.m.ID + ":" + cid, ClientID: cid, MemberID: w.m.ID, TeamID: w.m.TeamID,
		CommuneCode: w.m.CommuneCode, VillageCode: village, Service: service, Household: g.opts.Hash(hh),
		OccurredAt: at, Day: domain.DateOf(at), RecordedAt: recorded, Outcome: outcomeMix.pick(r),
		Gender: genderMix.pick(r), AgeGroup: ageMix.pick(r), Place: place, Note: note, By: "seed", Delta: g.delta,
		DeviceSkew: w.skew + int64(r.IntN(11)-5), Consent: domain.ConsentGiven}
}

// note is a note as members write them: their own phrases, common ones,
// short ones, or a detail of the day.
func (g *generator) note(w *worker) string {
	r := g.r
	switch x := r.IntN(100); {
	case x < 40:
		return w.habits[r.IntN(len(w.habits))]
	case x < 65:
		return commonNotes[r.IntN(len(commonNotes))]
	case x < 80:
		return shortNotes[r.IntN(len(shortNotes))]
	default:
		return fmt.Sprintf(detailNotes[r.IntN(len(detailNotes))], 60+r.IntN(35), 2+r.IntN(6))
	}
}

// out adds rec to the current batch and emits full batches.
func (g *generator) out(rec domain.Record) error {
	g.batch = append(g.batch, rec)
	if len(g.batch) == g.opts.Batch {
		return g.flush()
	}
	return nil
}

func (g *generator) flush() error {
	if len(g.batch) == 0 {
		return nil
	}
	if err := g.emit(g.batch); err != nil {
		return err
	}
	if g.opts.Progress != nil {
		g.opts.Progress(len(g.batch))
	}
	g.batch = g.batch[:0]
	return nil
}

func hashInt(s string) int {
	h := 0
	for _, c := range s {
		h = (h*31 + int(c)) % 1_000_003
	}
	return h
}

// Phrases of notes. None holds personal data.
var habitPhrases = []string{
	"Hướng dẫn cài đặt và kích hoạt VNeID mức 2",
	"Hỗ trợ nộp hồ sơ dịch vụ công trực tuyến",
	"Hướng dẫn thanh toán không dùng tiền mặt qua ứng dụng ngân hàng",
	"Cài đặt Hue-S và hướng dẫn gửi phản ánh hiện trường",
	"Hướng dẫn sử dụng VssID tra cứu bảo hiểm",
	"Hướng dẫn đăng ký tài khoản trên Cổng dịch vụ công quốc gia",
	"Tích hợp giấy phép lái xe vào VNeID",
	"Hỗ trợ đăng ký khai sinh trực tuyến cho con",
	"Hướng dẫn nhận diện cuộc gọi lừa đảo",
	"Người dân đã tự thao tác được sau khi hướng dẫn",
	"Hỗ trợ cập nhật thông tin cư trú trên VNeID",
	"Hướng dẫn mở tài khoản ngân hàng trên điện thoại",
}

var commonNotes = []string{
	"Hướng dẫn cài đặt ứng dụng VNeID",
	"Kích hoạt tài khoản định danh mức 2",
	"Người dân chưa có điện thoại thông minh",
	"Chưa có căn cước gắn chip, hẹn lại",
	"Điện thoại không nhận mã OTP, hẹn hôm khác",
	"Đã hướng dẫn con cháu trong nhà cùng làm",
	"Hồ sơ còn thiếu giấy tờ, chuyển bộ phận một cửa",
	"Người cao tuổi, cần hỗ trợ thêm",
}

var shortNotes = []string{"đã xong", "ok", "xong", "hẹn lại", "mất sóng", "chưa xong", "đã hướng dẫn", "tốt"}

var detailNotes = []string{
	"Cụ ông %d tuổi, nhà có %d người",
	"Bà cụ %d tuổi, hướng dẫn %d lần mới xong",
	"Hộ có người %d tuổi, cần quay lại sau %d ngày",
}
