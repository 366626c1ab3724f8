package domain

import (
	"time"
)

// Location is Asia/Ho_Chi_Minh: every day, "today" and schedule in cdt is a calendar
// day there. Instants are stored in UTC.
var Location = mustLoad("Asia/Ho_Chi_Minh")

func mustLoad(name string) *time.Location {
	loc, err := time.LoadLocation(name)
	if err != nil {
		// time/tzdata is imported by cmd/cdt; this fixed zone has had no DST since 1975.
		return time.FixedZone("ICT", 7*3600)
	}
	return loc
}

// Date is a calendar day written YYYY-MM-DD. The empty Date means "none".
// Dates compare correctly as strings.
type Date string

// DateLayout is the layout of a Date.
const DateLayout = "2006-01-02"

// ParseDate checks s is a real calendar day.
func ParseDate(s string) (Date, bool) {
	t, err := time.Parse(DateLayout, s)
	if err != nil || t.Format(DateLayout) != s {
		return "", false
	}
	return Date(s), true
}

// DateOf is the calendar day of t in Asia/Ho_Chi_Minh.
func DateOf(t time.Time) Date { return Date(t.In(Location).Format(DateLayout)) }

// Time is the start of the day in Asia/Ho_Chi_Minh.
func (d Date) Time() time.Time {
	t, err := time.ParseInLocation(DateLayout, string(d), Location)
	if err != nil {
		return time.Time{}
	}
	return t
}

// AddDays moves the date by n days.
func (d Date) AddDays(n int) Date {
	return Date(d.Time().AddDate(0, 0, n).Format(DateLayout))
}

// Next is the following day.
func (d Date) Next() Date { return d.AddDays(1) }

// DaysBetween counts the days from a to b (b-a).
func DaysBetween(a, b Date) int {
	ta, tb := a.Time(), b.Time()
	return int(tb.Sub(ta).Hours()/24 + 0.5)
}

// String returns the date itself.
func (d Date) String() string { return string(d) }
