package domain

import (
	"sort"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// IntegrityDay is what the detectors need for one commune's day. Only
// Records is required; a detector whose context is missing is skipped.
type IntegrityDay struct {
	Day     Date
	Commune string
	// Records are the commune's records whose Day is Day.
	Records []Record
	// Registry gives the teams (member_above_median).
	Registry *CommuneRegistry
	// Counts is a member's number of records on a day before Day: the
	// rollups' per-member per-day counts (Rollup.Members[id].CountIn(d, d))
	// (member_above_median).
	Counts func(memberID string, day Date) int
	// Trainings are the trainings whose dates include Day (training_day).
	Trainings []Training
	// WholeNights makes night_bulk judge the night that ends on Day, from
	// NightStart the evening before to NightEnd, so that a night across
	// midnight is judged whole: PrevEvening then holds the commune's records
	// of the day before from NightStart on (the job keeps them from the
	// previous day's pass, or reads them), and Day's own evening is left to
	// the next day's run. Without it, night_bulk judges Day's night hours
	// (before NightEnd and from NightStart), and a night across midnight in
	// two halves.
	WholeNights bool
	PrevEvening []Record
}

// DetectIntegrity runs every per-commune detector on one commune's day and
// returns its flags, open, created at now, in ID order.
// household_many_communes needs every commune: see CommuneCrossing.
func DetectIntegrity(in IntegrityDay, th IntegrityThresholds, now time.Time) []Flag {
	byMember := map[string][]Record{}
	for _, r := range in.Records {
		byMember[r.MemberID] = append(byMember[r.MemberID], r)
	}
	evening := map[string][]Record{}
	for _, r := range in.PrevEvening {
		evening[r.MemberID] = append(evening[r.MemberID], r)
	}
	members := make([]string, 0, len(byMember))
	for m, rs := range byMember {
		sort.Slice(rs, func(i, j int) bool { return rs[i].OccurredAt.Before(rs[j].OccurredAt) })
		members = append(members, m)
	}
	sort.Strings(members)
	var out []Flag
	add := func(kind, member, subject string, recs []Record, e Evidence) {
		out = append(out, newFlag(kind, in.Commune, member, in.Day, subject, recs, e, now))
	}
	for _, m := range members {
		rs := byMember[m]
		if recs, e := detectBurst(rs, th); recs != nil {
			add(FlagBurst, m, m, recs, e)
		}
		if recs, e := detectSkew(rs, th); recs != nil {
			add(FlagClockSkew, m, m, recs, e)
		}
		if !in.WholeNights {
			if recs, e := detectNight(rs, th); recs != nil {
				add(FlagNightBulk, m, m, recs, e)
			}
		}
		for _, g := range detectNotes(rs, th) {
			add(FlagRepeatedNote, m, m+"|"+g.key, g.recs, g.e)
		}
		for _, g := range detectTraining(rs, m, in.Day, in.Trainings, th) {
			add(FlagTrainingDay, m, m+"|"+g.key, g.recs, g.e)
		}
	}
	if in.WholeNights {
		for _, m := range nightOwls(byMember, evening) {
			var night []Record
			for _, r := range evening[m] {
				if th.Night(r.OccurredAt) && r.Day == in.Day.AddDays(-1) && r.OccurredAt.In(Location).Hour() >= th.NightStart {
					night = append(night, r)
				}
			}
			for _, r := range byMember[m] {
				if th.Night(r.OccurredAt) && r.OccurredAt.In(Location).Hour() < th.NightEnd {
					night = append(night, r)
				}
			}
			sort.Slice(night, func(i, j int) bool { return night[i].OccurredAt.Before(night[j].OccurredAt) })
			if recs, e := detectNight(night, th); recs != nil {
				add(FlagNightBulk, m, m, recs, e)
			}
		}
	}
	for _, g := range detectSharedHouseholds(in.Records, th) {
		add(FlagHouseholdManyMembers, "", g.key, g.recs, g.e)
	}
	out = append(out, detectAboveMedian(in, byMember, members, th, now)...)
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

// nightOwls lists, sorted, the members with records today or the evening before.
func nightOwls(today, evening map[string][]Record) []string {
	seen := map[string]bool{}
	var out []string
	for _, m := range []map[string][]Record{today, evening} {
		for id := range m {
			if !seen[id] {
				seen[id] = true
				out = append(out, id)
			}
		}
	}
	sort.Strings(out)
	return out
}

func newFlag(kind, commune, member string, day Date, subject string, recs []Record, e Evidence, now time.Time) Flag {
	ids := make([]string, len(recs))
	for i, r := range recs {
		ids[i] = r.ID
	}
	sort.Strings(ids)
	return Flag{ID: FlagID(kind, commune, day, subject), Kind: kind, CommuneCode: commune, MemberID: member, Day: day,
		RecordIDs: ids, Evidence: e, Status: FlagOpen, CreatedAt: now.UTC().Truncate(time.Millisecond)}
}

// group is the records and evidence of one flag among several of a kind.
type group struct {
	key  string
	recs []Record
	e    Evidence
}

// detectBurst marks every record of a window of BurstWindow in which at
// least BurstHouseholds households were helped (rs sorted by time). Two
// services for one household count once; a record without a household
// (consent refused) counts as one.
func detectBurst(rs []Record, th IntegrityThresholds) ([]Record, Evidence) {
	if len(rs) < th.BurstHouseholds {
		return nil, Evidence{}
	}
	key := func(i int) string {
		if rs[i].Household == "" {
			return "#" + rs[i].ID
		}
		return rs[i].Household
	}
	in := make([]bool, len(rs))
	window := map[string]int{}
	peak, j := 0, 0
	for i := range rs {
		for j < len(rs) && rs[j].OccurredAt.Sub(rs[i].OccurredAt) <= th.BurstWindow {
			window[key(j)]++
			j++
		}
		if n := len(window); n >= th.BurstHouseholds {
			for k := i; k < j; k++ {
				in[k] = true
			}
			peak = max(peak, n)
		}
		if window[key(i)]--; window[key(i)] == 0 {
			delete(window, key(i))
		}
	}
	recs := pick(rs, in)
	if recs == nil {
		return nil, Evidence{}
	}
	return recs, Evidence{Records: len(recs), Threshold: float64(th.BurstHouseholds), Peak: peak,
		WindowSeconds: int64(th.BurstWindow / time.Second), From: recs[0].OccurredAt, To: recs[len(recs)-1].OccurredAt}
}

func pick(rs []Record, in []bool) []Record {
	var out []Record
	for i, ok := range in {
		if ok {
			out = append(out, rs[i])
		}
	}
	return out
}

// detectSkew flags the records sent from a clock ClockSkew or more off.
func detectSkew(rs []Record, th IntegrityThresholds) ([]Record, Evidence) {
	limit := int64(th.ClockSkew / time.Second)
	var out []Record
	var worst int64
	for _, r := range rs {
		if abs64(r.DeviceSkew) >= limit {
			out = append(out, r)
			if abs64(r.DeviceSkew) > abs64(worst) {
				worst = r.DeviceSkew
			}
		}
	}
	if out == nil {
		return nil, Evidence{}
	}
	return out, Evidence{Records: len(out), Threshold: float64(limit), SkewSeconds: worst}
}

func abs64(x int64) int64 {
	if x < 0 {
		return -x
	}
	return x
}

// Night reports whether t falls in the night hours of th, in Huế.
func (th IntegrityThresholds) Night(t time.Time) bool {
	h := t.In(Location).Hour()
	if th.NightStart > th.NightEnd {
		return h >= th.NightStart || h < th.NightEnd
	}
	return h >= th.NightStart && h < th.NightEnd
}

func detectNight(rs []Record, th IntegrityThresholds) ([]Record, Evidence) {
	var out []Record
	for _, r := range rs {
		if th.Night(r.OccurredAt) {
			out = append(out, r)
		}
	}
	if len(out) < th.NightRecords {
		return nil, Evidence{}
	}
	return out, Evidence{Records: len(out), Threshold: float64(th.NightRecords), From: out[0].OccurredAt, To: out[len(out)-1].OccurredAt}
}

// NoteKey is the form in which two notes count as the same: folded case and
// tone marks' placement, letters and digits only.
func NoteKey(note string) string {
	var b strings.Builder
	for _, r := range FoldKey(note) {
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			b.WriteRune(r)
		}
	}
	return b.String()
}

func detectNotes(rs []Record, th IntegrityThresholds) []group {
	byNote := map[string][]Record{}
	for _, r := range rs {
		if k := NoteKey(r.Note); utf8.RuneCountInString(k) >= th.NoteMinLen {
			byNote[k] = append(byNote[k], r)
		}
	}
	var out []group
	for k, recs := range byNote {
		if len(recs) >= th.NoteRecords {
			note := recs[0].Note
			if utf8.RuneCountInString(note) > 120 {
				note = string([]rune(note)[:120]) + "…"
			}
			out = append(out, group{k, recs, Evidence{Records: len(recs), Threshold: float64(th.NoteRecords), Note: note}})
		}
	}
	return out
}

// TrainingHours are the hours of training t on day d in Huế: its daily start
// and end times (a course of several days meets at the same hours), or
// false when d is not one of its days.
func TrainingHours(t Training, d Date) (time.Time, time.Time, bool) {
	first, last := DateOf(t.StartsAt), DateOf(t.EndsAt)
	if d < first || d > last {
		return time.Time{}, time.Time{}, false
	}
	day := d.Time()
	from := t.StartsAt.In(Location)
	to := t.EndsAt.In(Location)
	start := day.Add(time.Duration(from.Hour())*time.Hour + time.Duration(from.Minute())*time.Minute)
	end := day.Add(time.Duration(to.Hour())*time.Hour + time.Duration(to.Minute())*time.Minute)
	if !end.After(start) {
		end = day.Add(24 * time.Hour)
	}
	return start, end, true
}

func detectTraining(rs []Record, member string, day Date, trainings []Training, th IntegrityThresholds) []group {
	var out []group
	for _, t := range trainings {
		present := false
		for _, a := range t.Attendees {
			present = present || a.MemberID == member
		}
		start, end, ok := TrainingHours(t, day)
		if !present || !ok {
			continue
		}
		var recs []Record
		for _, r := range rs {
			if !r.OccurredAt.Before(start) && r.OccurredAt.Before(end) {
				recs = append(recs, r)
			}
		}
		if len(recs) >= th.TrainingRecords {
			out = append(out, group{t.ID, recs, Evidence{Records: len(recs), Threshold: float64(th.TrainingRecords),
				From: start, To: end, TrainingID: t.ID, TrainingTitle: t.Title}})
		}
	}
	return out
}

// detectSharedHouseholds flags a household logged for one service by
// HouseholdMembers or more members of the commune in the day.
func detectSharedHouseholds(rs []Record, th IntegrityThresholds) []group {
	byKey := map[string][]Record{}
	for _, r := range rs {
		if r.Household != "" {
			k := r.Household + "|" + r.Service
			byKey[k] = append(byKey[k], r)
		}
	}
	var out []group
	for k, recs := range byKey {
		if len(recs) < th.HouseholdMembers {
			continue
		}
		members := distinct(recs, func(r Record) string { return r.MemberID })
		if len(members) >= th.HouseholdMembers {
			out = append(out, group{k, recs, Evidence{Records: len(recs), Threshold: float64(th.HouseholdMembers),
				Service: recs[0].Service, Members: members}})
		}
	}
	return out
}

func distinct(rs []Record, key func(Record) string) []string {
	seen := map[string]bool{}
	var out []string
	for _, r := range rs {
		if k := key(r); !seen[k] {
			seen[k] = true
			out = append(out, k)
		}
	}
	sort.Strings(out)
	return out
}

// detectAboveMedian flags members far above their team's median today and
// on enough recent days (see IntegrityThresholds).
func detectAboveMedian(in IntegrityDay, byMember map[string][]Record, members []string, th IntegrityThresholds, now time.Time) []Flag {
	if in.Registry == nil || in.Counts == nil {
		return nil
	}
	team := map[string][]string{}
	for _, m := range in.Registry.Members {
		if m.Active {
			team[m.TeamID] = append(team[m.TeamID], m.ID)
		}
	}
	lookFrom, lookTo := in.Day.AddDays(-th.MedianLookback), in.Day.AddDays(-1)
	rate := func(id string) (float64, bool) { // records per active day in the lookback
		n, days := 0, 0
		for d := lookFrom; d <= lookTo; d = d.Next() {
			if c := in.Counts(id, d); c > 0 {
				n, days = n+c, days+1
			}
		}
		return float64(n) / float64(max(days, 1)), days > 0
	}
	// ownRate is the member's records per active day before the window:
	// a member who always logs this much is zealous, not padding.
	ownFrom, ownTo := in.Day.AddDays(-th.MedianLookback), in.Day.AddDays(-th.MedianWindow)
	ownRate := func(id string) (float64, int) {
		n, days := 0, 0
		for d := ownFrom; d <= ownTo; d = d.Next() {
			if c := in.Counts(id, d); c > 0 {
				n, days = n+c, days+1
			}
		}
		return float64(n) / float64(max(days, 1)), days
	}
	var communeMedian *float64
	var out []Flag
	for _, id := range members {
		rs := byMember[id]
		if len(rs) < th.MedianMinRecords {
			continue
		}
		m, ok := in.Registry.Member(id)
		if !ok {
			continue
		}
		var peers []float64
		for _, p := range team[m.TeamID] {
			if r, ok := rate(p); ok && p != id {
				peers = append(peers, r)
			}
		}
		if len(peers) < 2 { // too few to speak of a team: the commune's members instead
			if communeMedian == nil {
				var all []float64
				for _, ps := range team {
					for _, p := range ps {
						if r, ok := rate(p); ok {
							all = append(all, r)
						}
					}
				}
				med := median(all)
				communeMedian = &med
			}
			peers = []float64{*communeMedian}
		}
		base := median(peers)
		limit := max(float64(th.MedianMinRecords), th.MedianFactor*base)
		if own, days := ownRate(id); days >= 3 {
			limit = max(limit, th.MedianSelfFactor*own)
		}
		if float64(len(rs)) < limit {
			continue
		}
		above := 1
		for d := in.Day.AddDays(-th.MedianWindow + 1); d < in.Day; d = d.Next() {
			if float64(in.Counts(id, d)) >= limit {
				above++
			}
		}
		if above < th.MedianDays {
			continue
		}
		out = append(out, newFlag(FlagAboveMedian, in.Commune, id, in.Day, id, rs, Evidence{Records: len(rs), Threshold: limit,
			TeamMedian: base, DaysAbove: above, Days: th.MedianWindow}, now))
	}
	return out
}

func median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := append([]float64(nil), xs...)
	sort.Float64s(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// CommuneCrossing finds households logged in several communes on one day
// (household_many_communes). The job adds each commune's records of the day
// as it goes through them, then asks for the flags: it keeps only the
// household, service, commune and ID of each record, never whole records.
type CommuneCrossing struct {
	day  Date
	seen map[string][]crossing // household|service → where it was logged
}

type crossing struct{ commune, member, id string }

// NewCommuneCrossing starts the cross-commune pass of day.
func NewCommuneCrossing(day Date) *CommuneCrossing {
	return &CommuneCrossing{day: day, seen: map[string][]crossing{}}
}

// Add takes one commune's records of the day.
func (c *CommuneCrossing) Add(recs []Record) {
	for _, r := range recs {
		if r.Household != "" && r.Day == c.day {
			k := r.Household + "|" + r.Service
			c.seen[k] = append(c.seen[k], crossing{r.CommuneCode, r.MemberID, r.ID})
		}
	}
}

// Flags returns one flag per commune involved in each household logged in
// HouseholdCommunes or more communes: each commune leader sees the records
// of their commune, and the evidence names the other communes.
func (c *CommuneCrossing) Flags(th IntegrityThresholds, now time.Time) []Flag {
	var out []Flag
	for k, xs := range c.seen {
		communes := map[string][]crossing{}
		for _, x := range xs {
			communes[x.commune] = append(communes[x.commune], x)
		}
		if len(communes) < th.HouseholdCommunes {
			continue
		}
		names := make([]string, 0, len(communes))
		for cc := range communes {
			names = append(names, cc)
		}
		sort.Strings(names)
		service := k[strings.LastIndexByte(k, '|')+1:]
		for _, cc := range names {
			recs := make([]Record, len(communes[cc]))
			for i, x := range communes[cc] {
				recs[i] = Record{ID: x.id, MemberID: x.member}
			}
			members := distinct(recs, func(r Record) string { return r.MemberID })
			member := ""
			if len(members) == 1 {
				member = members[0]
			}
			out = append(out, newFlag(FlagHouseholdManyCommunes, cc, member, c.day, k, recs, Evidence{Records: len(xs),
				Threshold: float64(th.HouseholdCommunes), Service: service, Members: members, Communes: names}, now))
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}
