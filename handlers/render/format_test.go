package render

import (
	"reflect"
	"testing"
	"time"

	"github.com/hue-cdt/cdt/i18n"
)

func TestNumbersAndDaysAsReadersWriteThem(t *testing.T) {
	for n, want := range map[int]string{0: "0", 999: "999", 1100: "1.100", 1234567: "1.234.567", -5580: "-5.580"} {
		if got := FormatInt(n); got != want {
			t.Errorf("FormatInt(%d) = %q, want %q", n, got, want)
		}
	}
	if got := FormatPct(0.125); got != "12,5 %" {
		t.Errorf("FormatPct(0.125) = %q", got)
	}
	if got := FormatDay("vi", "2026-11-21"); got != "21/11/2026" {
		t.Errorf("Vietnamese day %q", got)
	}
	if got := FormatDay("en", "2026-11-21"); got != "21 Nov 2026" {
		t.Errorf("English day %q", got)
	}
	if got := FormatDay("vi", "soon"); got != "soon" {
		t.Errorf("not a day: %q", got)
	}
}

func TestEachLanguageWritesItsOwnNumbers(t *testing.T) {
	at := time.Date(2026, 11, 21, 2, 5, 0, 0, time.UTC) // 09:05 in Huế
	for _, c := range []struct{ lang, num, signed, pct, dec, when string }{
		{"vi", "5.580", "+1.234", "12,5 %", "-3,7", "21/11/2026 09:05"},
		{"en", "5,580", "+1,234", "12.5%", "-3.7", "21 Nov 2026 09:05"},
	} {
		got := []string{Num(c.lang, 5580), Signed(c.lang, 1234), Pct(c.lang, 0.125), Dec(c.lang, -3.66), DateTime(c.lang, at)}
		want := []string{c.num, c.signed, c.pct, c.dec, c.when}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s: %q, want %q", c.lang, got, want)
		}
	}
	if got := Points(i18n.For("vi"), 0.037); got != "+3,7 điểm %" {
		t.Errorf("vi points %q", got)
	}
	if got := Points(i18n.For("en"), -0.0123); got != "-1.2 points" {
		t.Errorf("en points %q", got)
	}
	if got := Signed("vi", 0) + Signed("en", -12); got != "0-12" {
		t.Errorf("signed %q", got)
	}
}

func TestEveryPageTemplateParses(t *testing.T) {
	if err := pageViews.load(); err != nil {
		t.Fatal(err)
	}
	for _, lang := range i18n.Langs {
		for _, name := range []string{"login.html", "error.html", "dashboard.html", "app_log.html", "training.html", "import.html"} {
			if pageViews.sets[lang][name] == nil {
				t.Errorf("%s: %s is not parsed", lang, name)
			}
		}
		if _, ok := pageViews.sets[lang]["base.html"]; ok {
			t.Error("the layout is parsed as a page")
		}
	}
	if u := pageViews.static["app.js"]; len(u) < len("/static/app.js?v=") {
		t.Errorf("app.js has no versioned URL: %q", u)
	}
}
