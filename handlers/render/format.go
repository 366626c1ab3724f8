package render

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/hue-cdt/cdt/domain"
	"github.com/hue-cdt/cdt/i18n"
)

// Numbers, percentages and days are written as the reader of each language
// writes them, and the same way everywhere on a page: 5.580 and 12,5 % and
// 21/11/2026 in Vietnamese, 5,580 and 12.5% and 21 Nov 2026 in English.

// marks returns the thousands separator and decimal mark of lang.
func marks(lang string) (thousands, decimal string) {
	if lang == i18n.EN {
		return ",", "."
	}
	return ".", ","
}

// Num writes n with lang's thousands separator: 5.580 (vi), 5,580 (en).
func Num(lang string, n int) string {
	sep, _ := marks(lang)
	s := fmt.Sprint(n)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	if neg {
		b.WriteByte('-')
	}
	for i, r := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteString(sep)
		}
		b.WriteRune(r)
	}
	return b.String()
}

// Signed writes n with its sign, as a change: +1.234, -12, 0.
func Signed(lang string, n int) string {
	if n > 0 {
		return "+" + Num(lang, n)
	}
	return Num(lang, n)
}

// Dec writes f with one decimal in lang's marks: 12,5 (vi), 12.5 (en).
func Dec(lang string, f float64) string {
	_, decimal := marks(lang)
	tenths := int(math.Round(math.Abs(f) * 10))
	s := Num(lang, tenths/10) + decimal + strconv.Itoa(tenths%10)
	if f < 0 && tenths != 0 {
		s = "-" + s
	}
	return s
}

// Pct writes a ratio as a percentage with one decimal: 12,5 % (vi), 12.5% (en).
func Pct(lang string, f float64) string {
	if lang == i18n.EN {
		return Dec(lang, f*100) + "%"
	}
	return Dec(lang, f*100) + " %"
}

// Points writes the change of a ratio in percentage points, signed, with
// the unit of l's language: +3,7 điểm, +3.7 pts.
func Points(l *i18n.Localizer, diff float64) string {
	s := Dec(l.Lang(), diff*100)
	if math.Round(diff*1000) > 0 {
		s = "+" + s
	}
	return s + " " + l.T("dash.points")
}

// FormatInt writes n as Vietnamese does (1.100).
func FormatInt(n int) string { return Num(i18n.VI, n) }

// FormatPct writes a ratio as a Vietnamese percentage with one decimal (12,5 %).
func FormatPct(f float64) string { return Pct(i18n.VI, f) }

// FormatDay writes a calendar day as its readers expect: 21/11/2026 in
// Vietnamese, 21 Nov 2026 in English.
func FormatDay(lang string, d any) string {
	s := fmt.Sprint(d)
	t, err := time.Parse(domain.DateLayout, s)
	if err != nil {
		return s
	}
	if lang == i18n.EN {
		return t.Format("2 Jan 2006")
	}
	return t.Format("02/01/2006")
}

// DateTime writes an instant as a day and a time in Huế: 21/11/2026 09:05
// (vi), 21 Nov 2026 09:05 (en).
func DateTime(lang string, t time.Time) string {
	if t.IsZero() {
		return ""
	}
	t = t.In(domain.Location)
	return FormatDay(lang, t.Format(domain.DateLayout)) + " " + t.Format("15:04")
}
