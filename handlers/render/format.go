package render

import (
	"fmt"
	"strings"
	"time"

	"github.com/hue-cdt/cdt/domain"
	"github.com/hue-cdt/cdt/i18n"
)

// FormatInt writes n with dots between thousands, as Vietnamese does (1.100).
func FormatInt(n int) string {
	s := fmt.Sprint(n)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, r := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte('.')
		}
		b.WriteRune(r)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}

// FormatPct writes a ratio as a percentage with one decimal and a comma (12,5 %).
func FormatPct(f float64) string {
	return strings.Replace(fmt.Sprintf("%.1f %%", f*100), ".", ",", 1)
}

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
