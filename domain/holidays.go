package domain

import (
	"sort"
	"time"
)

// Vietnamese public holidays, for deadlines counted in working days (a
// citizen's data request is answered within two working days: Law
// 91/2025/QH15, Decree 356/2025/NĐ-CP).
//
// The rules (Bộ luật Lao động 45/2019/QH14, Art. 112(1)): Tết Dương lịch
// (1/1), Tết Âm lịch (5 days), Giỗ Tổ Hùng Vương (10/3 lunar), Ngày Chiến
// thắng (30/4), Ngày Quốc tế Lao động (1/5) and Quốc khánh (2/9 and one day
// before or after it). A holiday that falls on the weekly rest day is made up
// on the next working day (Art. 111(3)). The Prime Minister fixes the days of
// Tết and of the second National Day holiday each year (Art. 112(3)); the
// Ministry (of Labour until February 2025, of Home Affairs since) publishes
// the schedule of public employees, which often swaps a working day with a
// Saturday.
//
// cdt follows the public employees' schedule, since the commune answers the
// request: where the Government published it (2025, 2026) the table below is
// that schedule; other years are computed from the rules above (see
// computedYear). Sources, and what was verified: holidays_SOURCES.md.
//
// Not in the table: Ngày Văn hóa Việt Nam (24/11). The Politburo's Resolution
// 80-NQ/TW (January 2026) chose it as a paid day off and Government
// Resolution 30/NQ-CP (February 2026) asked for Art. 112(1) to be amended;
// no amendment in force could be verified. Leaving it out can only make a
// due date earlier, never later than the law allows. Add it to holidayRules
// once the amended Labour Code applies.

// Holiday kinds; each has a name in the message catalogue (holiday.<kind>).
const (
	HolidayNewYear      = "new_year"      // Tết Dương lịch
	HolidayTet          = "tet"           // Tết Âm lịch (Nguyên đán)
	HolidayHungKings    = "hung_kings"    // Giỗ Tổ Hùng Vương, 10/3 lunar
	HolidayReunion      = "reunification" // Ngày Chiến thắng, 30/4
	HolidayLabour       = "labour_day"    // Ngày Quốc tế Lao động, 1/5
	HolidayNational     = "national_day"  // Quốc khánh, 2/9 and one adjacent day
	HolidayCompensatory = "compensatory"  // nghỉ bù: a holiday fell on a weekend
	HolidaySwapped      = "swapped"       // hoán đổi: a working day moved to a Saturday
)

// Holiday is one day off for public employees in Vietnam.
type Holiday struct {
	Date Date
	Kind string // one of the Holiday* kinds
}

// LunarHolidays are the solar dates of the two lunar holidays of a year, in
// Vietnam's time zone (UTC+7; the Chinese calendar, at UTC+8, differs in some
// years, e.g. 2030).
type LunarHolidays struct {
	Tet       Date // 1/1 lunar (mùng 1 Tết)
	HungKings Date // 10/3 lunar
}

// lunarTable holds the lunar holidays of each year cdt knows. 2025 and 2026
// were checked against the Government's published schedules; later years are
// computed (the test recomputes every line with the astronomical algorithm of
// the Vietnamese calendar). A year missing here makes TestHolidayTableCovers
// fail three years ahead.
var lunarTable = map[int]LunarHolidays{
	2025: {"2025-01-29", "2025-04-07"}, // TB 6150/TB-BLĐTBXH (2024): Tết 27–31/1 = 28 Chạp – mùng 3; Hùng Kings Mon 7/4
	2026: {"2026-02-17", "2026-04-26"}, // VPCP 9859/VPCP-KGVX (13/10/2025): 14/2 = 27 Chạp, 22/2 = mùng 6; Hùng Kings Sun 26/4
	2027: {"2027-02-06", "2027-04-16"}, // computed
	2028: {"2028-01-26", "2028-04-04"}, // computed
	2029: {"2029-02-13", "2029-04-23"}, // computed
	2030: {"2030-02-02", "2030-04-12"}, // computed (China: 3/2, one hour later new moon)
	2031: {"2031-01-23", "2031-04-01"}, // computed
}

// publishedYears are the public employees' schedules the Government
// published, as days off that are not weekends (holidays on a weekend are
// listed too, so pages can name them) and the Saturdays worked instead.
var publishedYears = map[int]struct {
	off  []Holiday
	work []Date
}{
	// 1/1 one day (Wed); Tết 25/1–2/2 with 27–31/1 off; Hùng Kings Mon 7/4;
	// 30/4–4/5 with Fri 2/5 swapped for Sat 26/4; Quốc khánh 30/8–2/9 with
	// Mon 1/9 and Tue 2/9 off. TB 6150/TB-BLĐTBXH (2024), Bộ Nội vụ 8/2025.
	2025: {off: []Holiday{{"2025-01-01", HolidayNewYear},
		{"2025-01-27", HolidayTet}, {"2025-01-28", HolidayTet}, {"2025-01-29", HolidayTet}, {"2025-01-30", HolidayTet}, {"2025-01-31", HolidayTet},
		{"2025-04-07", HolidayHungKings}, {"2025-04-30", HolidayReunion}, {"2025-05-01", HolidayLabour}, {"2025-05-02", HolidaySwapped},
		{"2025-09-01", HolidayNational}, {"2025-09-02", HolidayNational}},
		work: []Date{"2025-04-26"}},
	// 1/1–4/1 with Fri 2/1 swapped for Sat 10/1 (VPCP 12729/VPCP-KGVX,
	// 25/12/2025); Tết 14/2–22/2 with 16–20/2 off (VPCP 9859/VPCP-KGVX,
	// 13/10/2025); Hùng Kings Sun 26/4 made up Mon 27/4; 30/4 Thu, 1/5 Fri;
	// Quốc khánh 29/8–2/9 with Mon 31/8 swapped for Sat 22/8 (VPCP 9859).
	2026: {off: []Holiday{{"2026-01-01", HolidayNewYear}, {"2026-01-02", HolidaySwapped},
		{"2026-02-16", HolidayTet}, {"2026-02-17", HolidayTet}, {"2026-02-18", HolidayTet}, {"2026-02-19", HolidayTet}, {"2026-02-20", HolidayTet},
		{"2026-04-26", HolidayHungKings}, {"2026-04-27", HolidayCompensatory}, {"2026-04-30", HolidayReunion}, {"2026-05-01", HolidayLabour},
		{"2026-08-31", HolidaySwapped}, {"2026-09-01", HolidayNational}, {"2026-09-02", HolidayNational}},
		work: []Date{"2026-01-10", "2026-08-22"}},
}

// calendarYear is one year's days off and worked weekend days.
type calendarYear struct {
	off  map[Date]string
	work map[Date]bool
	list []Holiday
}

var calendar = buildCalendar()

func buildCalendar() map[int]calendarYear {
	out := map[int]calendarYear{}
	for y := range lunarTable {
		cy := calendarYear{off: map[Date]string{}, work: map[Date]bool{}}
		if p, ok := publishedYears[y]; ok {
			cy.list = append(cy.list, p.off...)
			for _, d := range p.work {
				cy.work[d] = true
			}
		} else {
			cy.list = computedYear(y)
		}
		sort.Slice(cy.list, func(i, j int) bool { return cy.list[i].Date < cy.list[j].Date })
		for _, h := range cy.list {
			cy.off[h.Date] = h.Kind
		}
		out[y] = cy
	}
	return out
}

// computedYear applies the Labour Code to year y: Tết is the last day of the
// lunar year and the first four of the new one (the Government's usual
// choice when it gives five days in a row), the second National Day holiday
// is the adjacent day that joins a weekend (the choices of 2023–2026), and
// every holiday on a Saturday or Sunday is made up on the next free weekday.
func computedYear(y int) []Holiday {
	at := func(m time.Month, d int) Date {
		return Date(time.Date(y, m, d, 0, 0, 0, 0, time.UTC).Format(DateLayout))
	}
	lunar := lunarTable[y]
	hs := []Holiday{{at(time.January, 1), HolidayNewYear}}
	for i := -1; i <= 3; i++ {
		hs = append(hs, Holiday{lunar.Tet.AddDays(i), HolidayTet})
	}
	hs = append(hs, Holiday{lunar.HungKings, HolidayHungKings}, Holiday{at(time.April, 30), HolidayReunion},
		Holiday{at(time.May, 1), HolidayLabour}, Holiday{at(time.September, 2), HolidayNational})
	second := at(time.September, 1)
	switch at(time.September, 2).Time().Weekday() {
	case time.Monday, time.Thursday, time.Sunday:
		second = at(time.September, 3)
	}
	hs = append(hs, Holiday{second, HolidayNational})
	taken := map[Date]bool{}
	for _, h := range hs {
		taken[h.Date] = true
	}
	sort.Slice(hs, func(i, j int) bool { return hs[i].Date < hs[j].Date })
	var comp []Holiday
	for _, h := range hs {
		if !weekend(h.Date) {
			continue
		}
		d := h.Date.Next()
		for weekend(d) || taken[d] {
			d = d.Next()
		}
		taken[d] = true
		comp = append(comp, Holiday{d, HolidayCompensatory})
	}
	return append(hs, comp...)
}

func weekend(d Date) bool {
	wd := d.Time().Weekday()
	return wd == time.Saturday || wd == time.Sunday
}

func yearOf(d Date) int {
	if len(d) < 4 {
		return 0
	}
	y := 0
	for _, c := range d[:4] {
		y = y*10 + int(c-'0')
	}
	return y
}

// HolidayYears is the first and last year the holiday table covers. Outside
// it only weekends and the solar holidays (1/1, 30/4, 1/5, 2/9) are known.
func HolidayYears() (first, last int) {
	for y := range lunarTable {
		if first == 0 || y < first {
			first = y
		}
		if y > last {
			last = y
		}
	}
	return first, last
}

// HolidayPublished reports whether year y follows a schedule the Government
// published (true) or one computed from the Labour Code (false).
func HolidayPublished(y int) bool {
	_, ok := publishedYears[y]
	return ok
}

// Holidays lists the days off of year y in date order (empty outside the table).
func Holidays(y int) []Holiday { return append([]Holiday(nil), calendar[y].list...) }

// solarHolidays are the fixed-date holidays, known for any year.
var solarHolidays = map[string]string{"01-01": HolidayNewYear, "04-30": HolidayReunion, "05-01": HolidayLabour, "09-02": HolidayNational}

// HolidayOn returns the holiday on d, if d is one. Outside HolidayYears only
// the fixed-date holidays are known.
func HolidayOn(d Date) (Holiday, bool) {
	if cy, ok := calendar[yearOf(d)]; ok {
		k, ok := cy.off[d]
		return Holiday{d, k}, ok
	}
	if len(d) == len(DateLayout) {
		if k, ok := solarHolidays[string(d[5:])]; ok {
			return Holiday{d, k}, true
		}
	}
	return Holiday{}, false
}

// IsWorkingDay reports whether public offices work on d: a weekday that is no
// holiday, or a Saturday worked in exchange for a day off.
func IsWorkingDay(d Date) bool {
	if cy, ok := calendar[yearOf(d)]; ok && cy.work[d] {
		return true
	}
	if weekend(d) {
		return false
	}
	_, off := HolidayOn(d)
	return !off
}

// AddWorkingDays returns the n-th working day after d (d itself is not
// counted, whether or not it is a working day); with n < 0, the n-th before.
// AddWorkingDays(d, 0) is d.
func AddWorkingDays(d Date, n int) Date {
	step := 1
	if n < 0 {
		step, n = -1, -n
	}
	for n > 0 {
		d = d.AddDays(step)
		if IsWorkingDay(d) {
			n--
		}
	}
	return d
}

// PrivacyAnswerDays is how many working days a data-subject request may take
// (Decree 356/2025/NĐ-CP).
const PrivacyAnswerDays = 2

// DueOn is the last day to answer a request received on received: two
// working days later.
func DueOn(received Date) Date { return AddWorkingDays(received, PrivacyAnswerDays) }

// Deadline is the instant a request due on due becomes overdue: the end of
// that day in Huế.
func Deadline(due Date) time.Time { return due.Next().Time() }

// TimeLeft is the time from now to the deadline of due; negative once overdue.
func TimeLeft(due Date, now time.Time) time.Duration { return Deadline(due).Sub(now) }

// Overdue reports whether a request due on due is late at now.
func Overdue(due Date, now time.Time) bool { return !now.Before(Deadline(due)) }

// WorkingDaysLeft counts the working days after today (in Huế) up to and
// including due: 2 on the day a request arrives, 0 on the due day and after
// it (Overdue tells whether it is late).
func WorkingDaysLeft(due Date, now time.Time) int {
	n := 0
	for d := DateOf(now).Next(); d <= due; d = d.Next() {
		if IsWorkingDay(d) {
			n++
		}
	}
	return n
}
