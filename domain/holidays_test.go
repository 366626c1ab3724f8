package domain

import (
	"math"
	"testing"
	"time"
)

func TestDueOnSkipsWeekendsHolidaysAndKeepsSwappedSaturdays(t *testing.T) {
	for _, tc := range []struct{ received, due, why string }{
		{"2026-11-26", "2026-11-30", "Thu: Fri, (weekend), Mon"},
		{"2026-11-28", "2026-12-01", "received on a Saturday: Mon, Tue"},
		{"2025-01-24", "2025-02-04", "Fri before Tết 2025: 25/1–2/2 off"},
		{"2026-02-12", "2026-02-23", "Thu before Tết 2026: Fri 13/2, then 14–22/2 off"},
		{"2026-02-13", "2026-02-24", "Fri before Tết 2026"},
		{"2026-02-18", "2026-02-24", "received during Tết"},
		{"2025-04-04", "2025-04-09", "Fri before Hùng Kings Mon 7/4/2025"},
		{"2026-04-24", "2026-04-29", "Hùng Kings on Sun 26/4/2026, made up Mon 27/4"},
		{"2025-04-25", "2025-04-28", "Sat 26/4/2025 is worked (swap for Fri 2/5)"},
		{"2025-04-29", "2025-05-06", "30/4–4/5/2025 off"},
		{"2026-04-29", "2026-05-05", "30/4 Thu and 1/5 Fri 2026"},
		{"2025-08-29", "2025-09-04", "Quốc khánh 2025: Mon 1/9, Tue 2/9"},
		{"2026-08-21", "2026-08-24", "Sat 22/8/2026 is worked (swap for Mon 31/8)"},
		{"2026-08-28", "2026-09-04", "Quốc khánh 2026: 29/8–2/9 off"},
		{"2025-12-30", "2026-01-05", "year end: Wed 31/12, then 1–4/1/2026 off"},
		{"2026-01-09", "2026-01-12", "Sat 10/1/2026 is worked (swap for Fri 2/1)"},
		{"2026-12-30", "2027-01-04", "year end 2026: Thu 31/12, Fri 1/1/2027 off"},
		{"2027-02-04", "2027-02-15", "computed Tết 2027: Fri 5/2–Tue 9/2 + 2 days made up"},
		{"2027-09-01", "2027-09-07", "computed Quốc khánh 2027: Thu 2/9 + Fri 3/9"},
		{"2028-08-31", "2028-09-06", "computed Quốc khánh 2028: Fri 1/9, Sat 2/9 made up Mon 4/9"},
		{"2029-12-31", "2030-01-03", "year end 2029: Tue 1/1/2030 off"},
		{"2030-01-31", "2030-02-11", "computed Tết 2030 (mùng 1 = Sat 2/2)"},
	} {
		if got := DueOn(Date(tc.received)); got != Date(tc.due) {
			t.Errorf("DueOn(%s) = %s, want %s (%s)", tc.received, got, tc.due, tc.why)
		}
	}
}

func TestAddWorkingDaysBothWaysAndNeverLandsOnADayOff(t *testing.T) {
	if AddWorkingDays("2026-02-23", -1) != "2026-02-13" || AddWorkingDays("2026-02-13", 0) != "2026-02-13" {
		t.Fatalf("backwards over Tết: %s", AddWorkingDays("2026-02-23", -1))
	}
	first, last := HolidayYears()
	for d := Date(time.Date(first, 1, 1, 0, 0, 0, 0, time.UTC).Format(DateLayout)); yearOf(d) <= last; d = d.Next() {
		due := DueOn(d)
		if !IsWorkingDay(due) || AddWorkingDays(due, -2) > d || DaysBetween(d, due) > 12 {
			t.Fatalf("DueOn(%s) = %s", d, due)
		}
	}
}

// TestHolidayYearsGiveElevenDaysOff checks every year against Art. 112: 11
// days off, each holiday on a weekend made up, each swapped day worked back.
func TestHolidayYearsGiveElevenDaysOff(t *testing.T) {
	first, last := HolidayYears()
	for y := first; y <= last; y++ {
		offWeekdays, workedWeekends := 0, 0
		kinds := map[string]int{}
		for d := Date(time.Date(y, 1, 1, 0, 0, 0, 0, time.UTC).Format(DateLayout)); yearOf(d) == y; d = d.Next() {
			h, off := HolidayOn(d)
			if off {
				kinds[h.Kind]++
			}
			switch {
			case !weekend(d) && !IsWorkingDay(d):
				offWeekdays++
			case weekend(d) && IsWorkingDay(d):
				workedWeekends++
			}
		}
		if offWeekdays-workedWeekends != 11 {
			t.Errorf("%d: %d weekdays off, %d weekend days worked: want 11 days off in all", y, offWeekdays, workedWeekends)
		}
		if kinds[HolidayTet] != 5 || kinds[HolidayNational] != 2 || kinds[HolidayNewYear] != 1 || kinds[HolidayHungKings] != 1 ||
			kinds[HolidayReunion] != 1 || kinds[HolidayLabour] != 1 {
			t.Errorf("%d: holidays by kind %v", y, kinds)
		}
		lunar := lunarTable[y]
		if h, _ := HolidayOn(lunar.Tet); h.Kind != HolidayTet {
			t.Errorf("%d: mùng 1 Tết %s is %q", y, lunar.Tet, h.Kind)
		}
		if h, _ := HolidayOn(lunar.HungKings); h.Kind != HolidayHungKings {
			t.Errorf("%d: Hùng Kings' day %s is %q", y, lunar.HungKings, h.Kind)
		}
		if h, _ := HolidayOn(Date(time.Date(y, 9, 2, 0, 0, 0, 0, time.UTC).Format(DateLayout))); h.Kind != HolidayNational {
			t.Errorf("%d: 2/9 is %q", y, h.Kind)
		}
	}
	if !HolidayPublished(2026) || HolidayPublished(2027) {
		t.Error("2026 follows the published schedule, 2027 the computed one")
	}
	if h, ok := HolidayOn("2040-04-30"); !ok || h.Kind != HolidayReunion || IsWorkingDay("2040-04-30") {
		t.Error("fixed-date holidays are known outside the table")
	}
}

// TestHolidayTableCovers fails when the lunar table does not reach three years
// past the current one: add the next years (and their published schedules).
func TestHolidayTableCovers(t *testing.T) {
	now := time.Now().In(Location).Year()
	for y := now; y <= now+3; y++ {
		if _, ok := lunarTable[y]; !ok {
			t.Errorf("no holidays for %d: extend lunarTable (domain/holidays.go) and holidays_SOURCES.md", y)
		}
	}
}

// TestLunarTableMatchesTheVietnameseCalendar recomputes every line of the
// lunar table with the astronomical rules of the Vietnamese calendar
// (months start on the day of the new moon at UTC+7; month 11 holds the
// winter solstice; a leap month is the first without a major solar term),
// after the published algorithm of Hồ Ngọc Đức. It also checks past years
// whose dates were published.
func TestLunarTableMatchesTheVietnameseCalendar(t *testing.T) {
	for y, want := range lunarTable {
		if tet := lunarToSolar(1, 1, y); tet != want.Tet {
			t.Errorf("%d: Tết computed %s, table %s", y, tet, want.Tet)
		}
		if hk := lunarToSolar(10, 3, y); hk != want.HungKings {
			t.Errorf("%d: Hùng Kings computed %s, table %s", y, hk, want.HungKings)
		}
	}
	for _, tc := range []struct {
		d, m, y int
		want    Date
	}{{1, 1, 2020, "2020-01-25"}, {1, 1, 2023, "2023-01-22"}, {1, 1, 2024, "2024-02-10"},
		{10, 3, 2022, "2022-04-10"}, {10, 3, 2024, "2024-04-18"}} {
		if got := lunarToSolar(tc.d, tc.m, tc.y); got != tc.want {
			t.Errorf("%d/%d/%d lunar = %s, want %s", tc.d, tc.m, tc.y, got, tc.want)
		}
	}
}

// ---- the Vietnamese lunar calendar (test only) ----

const lunarTZ = 7.0
const synodic = 29.530588853

func julianDay(d Date) int {
	t := d.Time()
	y, m, dd := t.Year(), int(t.Month()), t.Day()
	a := (14 - m) / 12
	yy := y + 4800 - a
	mm := m + 12*a - 3
	return dd + (153*mm+2)/5 + 365*yy + yy/4 - yy/100 + yy/400 - 32045
}

func dateOfJulianDay(jd int) Date {
	a := jd + 32044
	b := (4*a + 3) / 146097
	c := a - b*146097/4
	d := (4*c + 3) / 1461
	e := c - 1461*d/4
	m := (5*e + 2) / 153
	return Date(time.Date(b*100+d-4800+m/10, time.Month(m+3-12*(m/10)), e-(153*m+2)/5+1, 0, 0, 0, 0, time.UTC).Format(DateLayout))
}

// newMoonDay is the local day of the k-th new moon after 1 January 1900
// (Meeus' series, with the ΔT correction).
func newMoonDay(k int) int {
	kf := float64(k)
	T := kf / 1236.85
	T2, T3 := T*T, T*T*T
	dr := math.Pi / 180
	jd := 2415020.75933 + 29.53058868*kf + 0.0001178*T2 - 0.000000155*T3
	jd += 0.00033 * math.Sin((166.56+132.87*T-0.009173*T2)*dr)
	M := (359.2242 + 29.10535608*kf - 0.0000333*T2 - 0.00000347*T3) * dr
	Mp := (306.0253 + 385.81691806*kf + 0.0107306*T2 + 0.00001236*T3) * dr
	F := (21.2964 + 390.67050646*kf - 0.0016528*T2 - 0.00000239*T3) * dr
	c := (0.1734-0.000393*T)*math.Sin(M) + 0.0021*math.Sin(2*M) - 0.4068*math.Sin(Mp) + 0.0161*math.Sin(2*Mp) -
		0.0004*math.Sin(3*Mp) + 0.0104*math.Sin(2*F) - 0.0051*math.Sin(M+Mp) - 0.0074*math.Sin(M-Mp) +
		0.0004*math.Sin(2*F+M) - 0.0004*math.Sin(2*F-M) - 0.0006*math.Sin(2*F+Mp) + 0.0010*math.Sin(2*F-Mp) +
		0.0005*math.Sin(2*Mp+M)
	deltaT := -0.000278 + 0.000265*T + 0.000262*T2
	return int(math.Floor(jd + c - deltaT + 0.5 + lunarTZ/24))
}

// solarTerm is the sun's longitude at the start of local day jd, in twelfths
// of the circle (0 = the spring equinox's sector).
func solarTerm(jd int) int {
	T := (float64(jd) - 0.5 - lunarTZ/24 - 2451545.0) / 36525
	T2 := T * T
	dr := math.Pi / 180
	M := (357.52910 + 35999.05030*T - 0.0001559*T2 - 0.00000048*T*T2) * dr
	L0 := 280.46645 + 36000.76983*T + 0.0003032*T2
	dl := (1.914600-0.004817*T-0.000014*T2)*math.Sin(M) + (0.019993-0.000101*T)*math.Sin(2*M) + 0.000290*math.Sin(3*M)
	l := math.Mod((L0+dl)*dr, 2*math.Pi)
	if l < 0 {
		l += 2 * math.Pi
	}
	return int(l / math.Pi * 6)
}

// month11 is the first day of the lunar month holding the winter solstice of year y.
func month11(y int) int {
	k := int(float64(julianDay(Date(time.Date(y, 12, 31, 0, 0, 0, 0, time.UTC).Format(DateLayout)))-2415021) / synodic)
	nm := newMoonDay(k)
	if solarTerm(nm) >= 9 {
		nm = newMoonDay(k - 1)
	}
	return nm
}

// lunarToSolar converts day d of (non-leap) month m of lunar year y.
func lunarToSolar(d, m, y int) Date {
	a11, b11 := month11(y-1), month11(y)
	if m >= 11 {
		a11, b11 = month11(y), month11(y+1)
	}
	k := int(math.Floor(0.5 + (float64(a11)-2415021.076998695)/synodic))
	off := (m - 11 + 12) % 12
	if b11-a11 > 365 { // a leap year: the leap month is the first without a solar-term change
		leap := 1
		for arc := solarTerm(newMoonDay(k + 1)); leap < 14; leap++ {
			next := solarTerm(newMoonDay(k + leap + 1))
			if next == arc {
				break
			}
			arc = next
		}
		if off >= leap {
			off++
		}
	}
	return dateOfJulianDay(newMoonDay(k+off) + d - 1)
}
