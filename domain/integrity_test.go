package domain

import (
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"
)

const flagDay = Date("2026-11-24") // a Tuesday

var flagNow = time.Date(2026, 11, 25, 18, 30, 0, 0, time.UTC)

// rb builds the records of one test.
type rb struct {
	n    int
	recs []Record
}

// add logs a record by member at hh:mm:ss on flagDay in Huế; opts are
// household=, service=, note=, skew= (seconds).
func (b *rb) add(member, clock string, opts ...string) Record {
	b.n++
	t, err := time.ParseInLocation("2006-01-02 15:04:05", string(flagDay)+" "+clock, Location)
	if err != nil {
		t, _ = time.ParseInLocation("2006-01-02 15:04", string(flagDay)+" "+clock, Location)
	}
	r := Record{ID: fmt.Sprintf("%s:%04d", member, b.n), MemberID: member, TeamID: "19753-T001", CommuneCode: "19753",
		Service: "vneid_activation", Household: fmt.Sprintf("hh%04d", b.n), OccurredAt: t.UTC(), Day: flagDay}
	for _, o := range opts {
		k, v, _ := strings.Cut(o, "=")
		switch k {
		case "household":
			r.Household = v
		case "service":
			r.Service = v
		case "note":
			r.Note = v
		case "skew":
			fmt.Sscan(v, &r.DeviceSkew)
		case "commune":
			r.CommuneCode = v
		}
	}
	b.recs = append(b.recs, r)
	return r
}

func detect(recs []Record) []Flag {
	return DetectIntegrity(IntegrityDay{Day: flagDay, Commune: "19753", Records: recs}, DefaultIntegrityThresholds(), flagNow)
}

func ofKind(fs []Flag, kind string) []Flag {
	var out []Flag
	for _, f := range fs {
		if f.Kind == kind {
			out = append(out, f)
		}
	}
	return out
}

func TestBurst(t *testing.T) {
	var b rb
	for i := range 7 { // planted: 7 records 60 s apart
		b.add("M1", fmt.Sprintf("09:%02d:00", i))
	}
	// near miss: a desk session, 5 citizens in 10 minutes, one of them helped with two services
	for _, c := range []string{"14:00", "14:03", "14:06", "14:09", "14:10"} {
		b.add("M2", c)
	}
	b.add("M2", "14:03:40", "household="+b.recs[len(b.recs)-4].Household, "service=hue_s")
	fs := ofKind(detect(b.recs), FlagBurst)
	if len(fs) != 1 || fs[0].MemberID != "M1" || len(fs[0].RecordIDs) != 7 || fs[0].Evidence.Peak != 7 ||
		fs[0].Evidence.WindowSeconds != 600 || fs[0].CommuneCode != "19753" || fs[0].Status != FlagOpen {
		t.Fatalf("burst flags %+v", fs)
	}
	if got := fs[0].Evidence.To.Sub(fs[0].Evidence.From); got != 6*time.Minute {
		t.Fatalf("span %v", got)
	}
}

func TestHouseholdManyMembers(t *testing.T) {
	var b rb
	for _, m := range []string{"M1", "M2", "M3"} { // planted: three members, one household, one service
		b.add(m, "10:00", "household=H1")
	}
	b.add("M4", "10:00", "household=H2") // near miss: two members for H2's activation, a third for another service
	b.add("M5", "15:00", "household=H2")
	b.add("M6", "16:00", "household=H2", "service=hue_s")
	b.add("M1", "11:00", "household=", "service=other") // consent refused: no household, never matched
	b.add("M2", "11:00", "household=", "service=other")
	b.add("M3", "11:00", "household=", "service=other")
	fs := ofKind(detect(b.recs), FlagHouseholdManyMembers)
	if len(fs) != 1 || len(fs[0].RecordIDs) != 3 || !reflect.DeepEqual(fs[0].Evidence.Members, []string{"M1", "M2", "M3"}) ||
		fs[0].MemberID != "" || fs[0].Evidence.Service != "vneid_activation" {
		t.Fatalf("flags %+v", fs)
	}
	if strings.Contains(fs[0].ID, "H1") {
		t.Fatalf("the ID shows the household: %s", fs[0].ID)
	}
}

func TestHouseholdManyCommunes(t *testing.T) {
	var a, b rb
	a.add("19753-M1", "09:00", "household=H1")
	b.add("20179-M7", "16:00", "household=H1", "commune=20179") // planted: another commune, same service, same day
	a.add("19753-M1", "09:30", "household=H2")                  // near miss: same household, another service elsewhere
	b.add("20179-M7", "10:00", "household=H2", "service=hue_s", "commune=20179")
	c := NewCommuneCrossing(flagDay)
	c.Add(a.recs)
	c.Add(b.recs)
	fs := c.Flags(DefaultIntegrityThresholds(), flagNow)
	if len(fs) != 2 || fs[0].CommuneCode == fs[1].CommuneCode || !reflect.DeepEqual(fs[0].Evidence.Communes, []string{"19753", "20179"}) {
		t.Fatalf("flags %+v", fs)
	}
	for _, f := range fs {
		if len(f.RecordIDs) != 1 || !strings.HasPrefix(f.RecordIDs[0], f.CommuneCode) || f.Evidence.Records != 2 {
			t.Errorf("commune %s sees %v", f.CommuneCode, f.RecordIDs)
		}
	}
	if again := c.Flags(DefaultIntegrityThresholds(), flagNow.Add(time.Hour)); again[0].ID != fs[0].ID {
		t.Fatal("flag IDs change between runs")
	}
}

func TestClockSkew(t *testing.T) {
	var b rb
	b.add("M1", "09:00", "skew=-7200") // planted: clock two hours ahead
	b.add("M1", "09:30", "skew=-7190")
	b.add("M2", "09:00", "skew=3540") // near miss: 59 minutes behind
	b.add("M3", "09:00", "skew=-90")
	fs := ofKind(detect(b.recs), FlagClockSkew)
	if len(fs) != 1 || fs[0].MemberID != "M1" || len(fs[0].RecordIDs) != 2 || fs[0].Evidence.SkewSeconds != -7200 ||
		fs[0].Evidence.Threshold != 3600 {
		t.Fatalf("flags %+v", fs)
	}
}

func TestNightBulk(t *testing.T) {
	var b rb
	for _, c := range []string{"00:10", "00:25", "01:40", "02:05", "23:10", "23:40"} { // planted: six records at night
		b.add("M1", c)
	}
	for _, c := range []string{"19:10", "20:00", "20:40", "21:15", "21:50", "22:30", "23:05", "04:40"} {
		b.add("M2", c) // near miss: evening work and three records at night
	}
	fs := ofKind(detect(b.recs), FlagNightBulk)
	if len(fs) != 1 || fs[0].MemberID != "M1" || len(fs[0].RecordIDs) != 6 || fs[0].Evidence.Records != 6 {
		t.Fatalf("flags %+v", fs)
	}
}

// With whole nights, a night across midnight is judged whole, as the night
// ending on the day; the day's own evening waits for the next day's run.
func TestNightBulkWholeNights(t *testing.T) {
	var prev, today rb
	for _, c := range []string{"23:20", "23:35", "23:50"} { // planted: 3 before midnight, 3 after
		r := prev.add("M1", c)
		r.Day, r.OccurredAt = flagDay.AddDays(-1), r.OccurredAt.Add(-24*time.Hour)
		prev.recs[len(prev.recs)-1] = r
	}
	for _, c := range []string{"00:05", "00:20", "00:40"} {
		today.add("M1", c)
	}
	r := prev.add("M2", "22:40") // near miss: two the evening before, two after midnight
	r.Day, r.OccurredAt = flagDay.AddDays(-1), r.OccurredAt.Add(-24*time.Hour)
	prev.recs[len(prev.recs)-1] = r
	r = prev.add("M2", "21:50") // before night hours: not counted
	r.Day, r.OccurredAt = flagDay.AddDays(-1), r.OccurredAt.Add(-24*time.Hour)
	prev.recs[len(prev.recs)-1] = r
	for _, c := range []string{"00:30", "01:00", "22:30", "23:00", "23:30"} { // this evening's three wait for tomorrow
		today.add("M2", c)
	}
	in := IntegrityDay{Day: flagDay, Commune: "19753", Records: today.recs, WholeNights: true, PrevEvening: prev.recs}
	fs := ofKind(DetectIntegrity(in, DefaultIntegrityThresholds(), flagNow), FlagNightBulk)
	if len(fs) != 1 || fs[0].MemberID != "M1" || len(fs[0].RecordIDs) != 6 || fs[0].Day != flagDay ||
		fs[0].Evidence.From.In(Location).Format("15:04") != "23:20" {
		t.Fatalf("flags %+v", fs)
	}
	in.WholeNights = false // judged by calendar day, the night falls in two halves
	if fs := ofKind(DetectIntegrity(in, DefaultIntegrityThresholds(), flagNow), FlagNightBulk); len(fs) != 1 || fs[0].MemberID != "M2" {
		t.Fatalf("calendar-day flags %+v", fs)
	}
}

func TestRepeatedNote(t *testing.T) {
	var b rb
	note := "Hỗ trợ kích hoạt VNeID mức 2 cho người dân thôn"
	for i, n := range []string{note, note, " hỗ trợ kích hoạt VNeID mức 2 cho người dân thôn.", note, strings.ToUpper(note)} {
		b.add("M1", fmt.Sprintf("%02d:00", 8+i), "note="+n) // planted: the same note five times
	}
	for i := range 8 {
		b.add("M2", fmt.Sprintf("%02d:00", 8+i), "note=đã xong") // near miss: a short note, repeated
	}
	for i := range 4 {
		b.add("M3", fmt.Sprintf("%02d:00", 8+i), "note=Hướng dẫn cài đặt ứng dụng VNeID") // near miss: four times
	}
	for i := range 3 {
		b.add("M4", fmt.Sprintf("%02d:00", 8+i), "note="+note) // near miss: another member's copies do not add up
	}
	fs := ofKind(detect(b.recs), FlagRepeatedNote)
	if len(fs) != 1 || fs[0].MemberID != "M1" || len(fs[0].RecordIDs) != 5 || fs[0].Evidence.Note != note {
		t.Fatalf("flags %+v", fs)
	}
}

func TestTrainingDay(t *testing.T) {
	start := time.Date(2026, 11, 23, 8, 0, 0, 0, Location) // a two-day course, 8:00–16:30
	tr := Training{ID: "TR-1", Title: "Tập huấn kỹ năng số", StartsAt: start.UTC(), EndsAt: start.Add(24*time.Hour + 8*time.Hour + 30*time.Minute).UTC(),
		Attendees: []Attendance{{MemberID: "M1"}, {MemberID: "M2"}}}
	var b rb
	b.add("M1", "09:15") // planted: two records during the training
	b.add("M1", "14:20")
	b.add("M2", "07:30") // near miss: before, at the break and after
	b.add("M2", "12:05")
	b.add("M2", "17:00")
	for _, c := range []string{"09:00", "10:00"} {
		b.add("M3", c) // near miss: not an attendee
	}
	fs := ofKind(DetectIntegrity(IntegrityDay{Day: flagDay, Commune: "19753", Records: b.recs, Trainings: []Training{tr}},
		DefaultIntegrityThresholds(), flagNow), FlagTrainingDay)
	if len(fs) != 1 || fs[0].MemberID != "M1" || len(fs[0].RecordIDs) != 2 || fs[0].Evidence.TrainingID != "TR-1" ||
		fs[0].Evidence.From.In(Location).Format("15:04") != "08:00" || fs[0].Evidence.To.In(Location).Format("15:04") != "16:30" {
		t.Fatalf("flags %+v", fs)
	}
	if _, _, ok := TrainingHours(tr, "2026-11-25"); ok {
		t.Fatal("the course is over on 25/11")
	}
}

func TestAboveMedian(t *testing.T) {
	reg := &CommuneRegistry{Code: "19753"}
	for i := 1; i <= 6; i++ {
		reg.Members = append(reg.Members, Member{ID: fmt.Sprintf("M%d", i), TeamID: "T1", Active: true})
	}
	// History: peers log 3 a day; M1 logged 20 yesterday (planted), M2 logged
	// 20 eight days ago, outside the window (near miss: not day after day),
	// M4 always logs 18 (near miss: zeal, not a change).
	counts := func(id string, d Date) int {
		switch {
		case id == "M1" && d == flagDay.AddDays(-1):
			return 20
		case id == "M2" && d == flagDay.AddDays(-8):
			return 20
		case id == "M6":
			return 0
		case id == "M4": // a zealous member: always about 18 a day
			return 18
		}
		return 3
	}
	var b rb
	for i := range 18 {
		b.add("M1", fmt.Sprintf("%02d:%02d", 7+i/3, (i%3)*20))
		b.add("M2", fmt.Sprintf("%02d:%02d", 7+i/3, (i%3)*20+5))
	}
	for i := range 3 {
		b.add("M3", fmt.Sprintf("%02d:00", 8+i))
	}
	for i := range 20 { // near miss: the zealous member's usual day
		b.add("M4", fmt.Sprintf("%02d:%02d", 7+i/3, (i%3)*20+10))
	}
	in := IntegrityDay{Day: flagDay, Commune: "19753", Records: b.recs, Registry: reg, Counts: counts}
	fs := ofKind(DetectIntegrity(in, DefaultIntegrityThresholds(), flagNow), FlagAboveMedian)
	if len(fs) != 1 || fs[0].MemberID != "M1" || len(fs[0].RecordIDs) != 18 || fs[0].Evidence.DaysAbove != 2 ||
		fs[0].Evidence.TeamMedian < 3 || fs[0].Evidence.TeamMedian > 3.5 || fs[0].Evidence.Threshold != 5*fs[0].Evidence.TeamMedian {
		t.Fatalf("flags %+v", fs[0].Evidence)
	}
	in.Counts = nil
	if fs := ofKind(DetectIntegrity(in, DefaultIntegrityThresholds(), flagNow), FlagAboveMedian); len(fs) != 0 {
		t.Fatal("without counts the rule cannot run")
	}
}

func TestFlagsAreDeterministicAndMergeKeepsReviews(t *testing.T) {
	var b rb
	for i := range 7 {
		b.add("M1", fmt.Sprintf("09:%02d", i))
	}
	first := detect(b.recs)
	b.add("M1", "09:07") // a late record joins the burst
	second := DetectIntegrity(IntegrityDay{Day: flagDay, Commune: "19753", Records: b.recs}, DefaultIntegrityThresholds(), flagNow.Add(24*time.Hour))
	if len(first) != 1 || len(second) != 1 || first[0].ID != second[0].ID || len(second[0].RecordIDs) != 8 {
		t.Fatalf("re-run: %v / %v", first, second)
	}
	if !strings.HasPrefix(first[0].ID, "19753:20261124:burst:") {
		t.Fatalf("id %s", first[0].ID)
	}
	merged := MergeFlag(first[0], second[0])
	if len(merged.RecordIDs) != 8 || !merged.CreatedAt.Equal(first[0].CreatedAt) {
		t.Fatalf("open flag merged: %+v", merged)
	}
	reviewed := first[0]
	if err := reviewed.Review(FlagReview{Status: FlagDismissed}, "xa", flagNow); err == nil {
		t.Fatal("dismissed without a comment")
	}
	if err := reviewed.Review(FlagReview{Status: FlagDismissed, Comment: "ngồi bàn một cửa, gọi 0912345678"}, "xa", flagNow); err != nil {
		t.Fatal(err)
	}
	if reviewed.Comment != "ngồi bàn một cửa, gọi [SĐT]" || reviewed.ReviewedBy != "xa" {
		t.Fatalf("review %+v", reviewed)
	}
	if kept := MergeFlag(reviewed, second[0]); kept.Status != FlagDismissed || len(kept.RecordIDs) != 7 {
		t.Fatalf("a reviewed flag was reopened: %+v", kept)
	}
	if err := reviewed.Review(FlagReview{Status: FlagOpen}, "xa", flagNow); err == nil {
		t.Fatal("a flag cannot be reviewed back to open")
	}
}

func TestIntegrityThresholdsFromNames(t *testing.T) {
	th := DefaultIntegrityThresholds()
	if err := th.Validate(); err != nil {
		t.Fatal(err)
	}
	for name, v := range map[string]string{"BURST_HOUSEHOLDS": "8", "BURST_WINDOW": "5m", "MEDIAN_FACTOR": "4.5", "NIGHT_START": "21"} {
		if err := th.Set(name, v); err != nil {
			t.Fatal(err)
		}
	}
	if th.BurstHouseholds != 8 || th.BurstWindow != 5*time.Minute || th.MedianFactor != 4.5 || th.NightStart != 21 {
		t.Fatalf("%+v", th)
	}
	for _, name := range IntegrityThresholdNames {
		if err := th.Set(name, "x"); err == nil {
			t.Errorf("%s accepted x", name)
		}
	}
	if err := th.Set("NOPE", "1"); err == nil {
		t.Error("unknown name accepted")
	}
	th.MedianDays = 9
	if err := th.Validate(); err == nil || !strings.Contains(err.Error(), "MEDIAN_DAYS") {
		t.Errorf("validate: %v", err)
	}
}
