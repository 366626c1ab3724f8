package domain

import (
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
)

// DayNumber is d as days since 2000-01-01 (the civil calendar, no time zone),
// or -1 when d is not a date. It is cheap enough to call per record.
func DayNumber(d Date) int32 {
	s := string(d)
	if len(s) != 10 || s[4] != '-' || s[7] != '-' {
		return -1
	}
	num := func(s string) int {
		n := 0
		for _, c := range s {
			if c < '0' || c > '9' {
				return -1
			}
			n = n*10 + int(c-'0')
		}
		return n
	}
	y, m, dd := num(s[:4]), num(s[5:7]), num(s[8:])
	if y < 0 || m < 1 || m > 12 || dd < 1 || dd > 31 {
		return -1
	}
	// Days from civil (H. Hinnant), shifted so that 2000-01-01 is 0.
	if m <= 2 {
		y--
	}
	era := y / 400
	yoe := y - era*400
	mp := (m + 9) % 12
	doy := (153*mp+2)/5 + dd - 1
	doe := yoe*365 + yoe/4 - yoe/100 + doy
	return int32(era*146097 + doe - 730425)
}

// DateOfNumber is the date DayNumber n stands for.
func DateOfNumber(n int32) Date {
	// Civil from days (H. Hinnant).
	z := int(n) + 730425
	era := z / 146097
	if z < 0 {
		era = (z - 146096) / 146097
	}
	doe := z - era*146097
	yoe := (doe - doe/1460 + doe/36524 - doe/146096) / 365
	y := yoe + era*400
	doy := doe - (365*yoe + yoe/4 - yoe/100)
	mp := (5*doy + 2) / 153
	d := doy - (153*mp+2)/5 + 1
	m := mp + 3
	if m > 12 {
		m -= 12
	}
	if m <= 2 {
		y++
	}
	b := make([]byte, 0, 10)
	b = append(b, byte('0'+y/1000%10), byte('0'+y/100%10), byte('0'+y/10%10), byte('0'+y%10), '-',
		byte('0'+m/10), byte('0'+m%10), '-', byte('0'+d/10), byte('0'+d%10))
	return Date(b)
}

// Tally counts events per day in about 8 bytes a day, sorted by day: a
// member's or a team's activity over the kept window (a map of dates took 50
// bytes a day, which made a million-record rebuild hold 40 MB of them).
type Tally []tallyDay

type tallyDay struct{ day, n int32 }

// Add counts n events on day (not a date: ignored).
func (t *Tally) Add(day Date, n int) {
	k := DayNumber(day)
	if k < 0 {
		return
	}
	s := *t
	i := sort.Search(len(s), func(i int) bool { return s[i].day >= k })
	if i < len(s) && s[i].day == k {
		s[i].n += int32(n)
		return
	}
	s = append(s, tallyDay{})
	copy(s[i+1:], s[i:])
	s[i] = tallyDay{k, int32(n)}
	*t = s
}

// CountIn sums the days [from, to].
func (t Tally) CountIn(from, to Date) int {
	f, l := DayNumber(from), DayNumber(to)
	n := 0
	for _, d := range t {
		if d.day >= f && d.day <= l {
			n += int(d.n)
		}
	}
	return n
}

// DropBefore forgets the days before day.
func (t *Tally) DropBefore(day Date) {
	k := DayNumber(day)
	s := *t
	i := sort.Search(len(s), func(i int) bool { return s[i].day >= k })
	if i > 0 {
		*t = append(s[:0:0], s[i:]...)
	}
}

// LastOn is the last day on or before day with events ("" when none is kept).
func (t Tally) LastOn(day Date) Date {
	k := DayNumber(day)
	i := sort.Search(len(t), func(i int) bool { return t[i].day > k })
	if i == 0 {
		return ""
	}
	return DateOfNumber(t[i-1].day)
}

// Len is the number of days with events.
func (t Tally) Len() int { return len(t) }

// MarshalJSON writes [day, n, day, n, …] with days as DayNumber.
func (t Tally) MarshalJSON() ([]byte, error) {
	b := make([]byte, 0, 2+len(t)*10)
	b = append(b, '[')
	for i, d := range t {
		if i > 0 {
			b = append(b, ',')
		}
		b = strconv.AppendInt(b, int64(d.day), 10)
		b = append(b, ',')
		b = strconv.AppendInt(b, int64(d.n), 10)
	}
	return append(b, ']'), nil
}

// UnmarshalJSON reads what MarshalJSON writes, and the object of dates
// that rollups were stored with before.
func (t *Tally) UnmarshalJSON(b []byte) error {
	if len(b) > 0 && b[0] == '{' {
		var m map[Date]int
		if err := json.Unmarshal(b, &m); err != nil {
			return err
		}
		*t = nil
		for d, n := range m {
			t.Add(d, n)
		}
		return nil
	}
	var flat []int32
	if err := json.Unmarshal(b, &flat); err != nil {
		return err
	}
	if len(flat)%2 != 0 {
		return fmt.Errorf("tally: odd number of values")
	}
	s := make(Tally, 0, len(flat)/2)
	for i := 0; i < len(flat); i += 2 {
		s = append(s, tallyDay{flat[i], flat[i+1]})
	}
	sort.Slice(s, func(i, j int) bool { return s[i].day < s[j].day })
	*t = s
	return nil
}
