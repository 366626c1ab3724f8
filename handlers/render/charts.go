package render

import (
	"fmt"
	"html/template"
	"math"
	"strings"
)

// Charts are SVG drawn on the server: no script, no CDN, readable in print.
// They use presentation attributes only (the pages' CSP forbids inline styles),
// carry a <title> per mark for a tooltip, and the pages print the numbers
// beside them.

const (
	chartBlue  = "#0b5cab"
	chartLight = "#9cc3f0"
	chartInk   = "#5b6573"
)

// Sparkline draws values as a small line, for tables.
func Sparkline(values []float64, w, h int) template.HTML {
	if len(values) < 2 {
		return ""
	}
	hi := 0.0
	for _, v := range values {
		hi = math.Max(hi, v)
	}
	if hi == 0 {
		hi = 1
	}
	var pts []string
	for i, v := range values {
		x := float64(i) / float64(len(values)-1) * float64(w-2)
		y := float64(h-2) - v/hi*float64(h-4)
		pts = append(pts, fmt.Sprintf("%.1f,%.1f", x+1, y+1))
	}
	return template.HTML(fmt.Sprintf(`<svg class="spark" width="%d" height="%d" viewBox="0 0 %d %d" role="img" aria-hidden="true">`+
		`<polyline fill="none" stroke="%s" stroke-width="1.5" points="%s"/></svg>`, w, h, w, h, chartBlue, strings.Join(pts, " ")))
}

// BarSeries is one chart of daily bars with a moving-average line.
type BarSeries struct {
	Labels []string  // one per bar (dates)
	Values []float64 // bar heights
	Line   []float64 // optional line over the bars (same length)
	Title  string    // accessible name
	// Percent says the values are percentages (12.5 for 12,5 %): tooltips
	// write them as such, with their decimal.
	Percent bool
	Lang    string // the numbers' language (Vietnamese by default)
}

// Bars draws a bar chart with an optional line, y axis from 0 to the
// maximum. The chart keeps its proportions, so its text is never stretched:
// it is drawn twice, wide for screens and paper and narrow for phones, and
// the style sheet shows the one that fits.
func Bars(s BarSeries) template.HTML {
	return drawBars(s, 640, 180, "chart wide") + drawBars(s, 340, 200, "chart narrow")
}

func drawBars(s BarSeries, w, h int, class string) template.HTML {
	const left, bottom = 36, 20
	n := len(s.Values)
	if n == 0 {
		return ""
	}
	hi := 0.0
	for i, v := range s.Values {
		hi = math.Max(hi, v)
		if i < len(s.Line) {
			hi = math.Max(hi, s.Line[i])
		}
	}
	if hi == 0 {
		hi = 1
	}
	hi = niceCeil(hi)
	plotW, plotH := float64(w-left-4), float64(h-bottom-8)
	bw := plotW / float64(n)
	var b strings.Builder
	fmt.Fprintf(&b, `<svg class="%s" viewBox="0 0 %d %d" role="img" aria-label="%s">`, class, w, h, template.HTMLEscapeString(s.Title))
	for _, f := range []float64{0, 0.5, 1} {
		y := 8 + plotH*(1-f)
		fmt.Fprintf(&b, `<line x1="%d" x2="%d" y1="%.1f" y2="%.1f" stroke="#d8dde4" stroke-width="1"/>`, left, w-4, y, y)
		fmt.Fprintf(&b, `<text x="%d" y="%.1f" font-size="11" text-anchor="end" fill="%s">%s</text>`, left-4, y+4, chartInk, axisLabel(s.Lang, hi*f))
	}
	for i, v := range s.Values {
		bh := v / hi * plotH
		x := float64(left) + float64(i)*bw
		fmt.Fprintf(&b, `<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="%s"><title>%s: %s</title></rect>`,
			x+0.5, 8+plotH-bh, math.Max(bw-1, 0.5), bh, chartLight, template.HTMLEscapeString(s.Labels[i]), s.value(v))
	}
	if len(s.Line) == n {
		var pts []string
		for i, v := range s.Line {
			pts = append(pts, fmt.Sprintf("%.1f,%.1f", float64(left)+(float64(i)+0.5)*bw, 8+plotH-v/hi*plotH))
		}
		fmt.Fprintf(&b, `<polyline fill="none" stroke="%s" stroke-width="2" points="%s"/>`, chartBlue, strings.Join(pts, " "))
	}
	fmt.Fprintf(&b, `<text x="%d" y="%d" font-size="11" fill="%s">%s</text>`, left, h-4, chartInk, template.HTMLEscapeString(s.Labels[0]))
	fmt.Fprintf(&b, `<text x="%d" y="%d" font-size="11" text-anchor="end" fill="%s">%s</text>`, w-4, h-4, chartInk, template.HTMLEscapeString(s.Labels[n-1]))
	b.WriteString(`</svg>`)
	return template.HTML(b.String())
}

// HBar is one line of a horizontal bar list.
type HBar struct {
	Label string
	Value int
	Width float64 // 0–100, of the largest
}

// HBars scales values to the largest.
func HBars(labels []string, values []int) []HBar {
	hi := 0
	for _, v := range values {
		hi = max(hi, v)
	}
	out := make([]HBar, len(values))
	for i, v := range values {
		w := 0.0
		if hi > 0 {
			w = float64(v) / float64(hi) * 100
		}
		out[i] = HBar{Label: labels[i], Value: v, Width: w}
	}
	return out
}

// Meter draws a horizontal gauge of a ratio (coverage), 0–100 %.
func Meter(f float64) template.HTML {
	f = math.Max(0, math.Min(1, f))
	return template.HTML(fmt.Sprintf(`<svg class="meter" width="80" height="10" viewBox="0 0 80 10" aria-hidden="true">`+
		`<rect width="80" height="10" rx="2" fill="#e3e8ef"/><rect width="%.1f" height="10" rx="2" fill="%s"/></svg>`, f*80, chartBlue))
}

// BarWidth draws the bar of an HBar (an SVG, as inline widths need style).
func BarWidth(pct float64) template.HTML {
	return template.HTML(fmt.Sprintf(`<svg class="hb" viewBox="0 0 100 8" preserveAspectRatio="none" aria-hidden="true">`+
		`<rect width="%.1f" height="8" rx="1" fill="%s"/></svg>`, math.Max(pct, 0.5), chartBlue))
}

func niceCeil(v float64) float64 {
	if v <= 10 {
		return math.Ceil(v)
	}
	p := math.Pow(10, math.Floor(math.Log10(v)))
	for _, m := range []float64{1, 2, 2.5, 5, 10} {
		if m*p >= v {
			return m * p
		}
	}
	return 10 * p
}

// MovingAverage is the mean of the last k values at each point.
func MovingAverage(v []float64, k int) []float64 {
	out := make([]float64, len(v))
	sum := 0.0
	for i, x := range v {
		sum += x
		if i >= k {
			sum -= v[i-k]
		}
		out[i] = sum / float64(min(i+1, k))
	}
	return out
}

// axisLabel writes a value of the y axis: whole, or with one decimal when
// the axis is short (0, 0,5, 1 for a coverage under 1 %).
func axisLabel(lang string, v float64) string {
	if v == math.Trunc(v) {
		return Num(lang, int(v))
	}
	return Dec(lang, v)
}

// value writes a bar's value for its tooltip.
func (s BarSeries) value(v float64) string {
	if s.Percent {
		return Pct(s.Lang, v/100)
	}
	return Num(s.Lang, int(v))
}
