package render

import "testing"

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

func TestEveryPageTemplateParses(t *testing.T) {
	if err := pageViews.load(); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"login.html", "error.html", "dashboard.html", "app_log.html", "training.html"} {
		if pageViews.sets[name] == nil {
			t.Errorf("%s is not parsed", name)
		}
	}
	if _, ok := pageViews.sets["base.html"]; ok {
		t.Error("the layout is parsed as a page")
	}
	if u := pageViews.static["app.js"]; len(u) < len("/static/app.js?v=") {
		t.Errorf("app.js has no versioned URL: %q", u)
	}
}
