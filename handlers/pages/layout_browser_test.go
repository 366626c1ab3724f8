package pages_test

import (
	"context"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/hue-cdt/cdt/domain"
	"github.com/hue-cdt/cdt/internal/apptest"
	"github.com/hue-cdt/cdt/internal/browsertest"
	"github.com/hue-cdt/cdt/jobs"
	"github.com/hue-cdt/cdt/seed"
)

// TestPagesFitPhonesScreensAndPaper opens Huế's registry at its real scale
// (40 communes, 1,100 teams, 5,580 members) with a month of records in
// Chromium as a new user would: the commune dashboard on a 360 px
// phone, the province's ranking on a 1280 px screen and printed on A4.
// Nothing may be wider than the page, the charts keep their proportions,
// and the header's buttons and the breadcrumb links are 44 px touch
// targets. Screenshots and the PDF are kept under artifacts/.
func TestPagesFitPhonesScreensAndPaper(t *testing.T) {
	start := time.Now()
	e := apptest.New(t, apptest.RealClock)
	ctx := context.Background()
	today := domain.DateOf(time.Now())
	regs := seed.Registries(e.App.Units.Find(domain.UnitFilter{Level: domain.LevelCommune, AsOf: today}), seed.Hue, 7, today)
	if err := e.App.Store.Registry.ReplaceRegistries(ctx, regs); err != nil {
		t.Fatal(err)
	}
	if _, err := e.App.SeedRecords(ctx, regs, seed.RecordOptions{N: 4000, Days: 30, End: time.Now(), Seed: 7}); err != nil {
		t.Fatal(err)
	}
	loaded := time.Since(start)
	for d := today.AddDays(-6); d <= today; d = d.AddDays(1) { // a week of figures
		if _, err := e.App.Coverage.RunNow(ctx, jobs.RunOptions{Date: d, Trigger: jobs.TriggerManual}); err != nil {
			t.Fatal(err)
		}
	}
	t.Logf("data %.1f s, a week of coverage %.1f s", loaded.Seconds(), (time.Since(start) - loaded).Seconds())
	base := e.Browser().Base
	b := browsertest.New(t) // 360 × 640
	b.Login(base, "admin", apptest.AdminPassword)
	wide := func(what string, limit int) {
		t.Helper()
		if w := browsertest.Eval[int](b, "document.documentElement.scrollWidth"); w > limit {
			t.Errorf("%s is %d px wide, more than %d", what, w, limit)
		}
	}

	b.Viewport(360, 1800)                                         // the figures, the charts and the week's table
	b.Must(chromedp.Navigate(base + "/communes/19753/dashboard")) // Phú Xuân, a large ward
	b.Screenshot("dashboard-360.png")
	wide("the commune dashboard on a 360 px phone", 360)
	// Every chart shown is drawn in the proportions of its viewBox.
	stretched := browsertest.Eval[[]string](b, `[...document.querySelectorAll('svg.chart')].filter(s => s.getClientRects().length > 0)
		.map(s => { const r = s.getBoundingClientRect(), v = s.viewBox.baseVal; return [r.width / r.height, v.width / v.height] })
		.filter(([drawn, own]) => Math.abs(drawn / own - 1) > 0.02).map(([drawn, own]) => drawn.toFixed(2) + ':1 for ' + own.toFixed(2) + ':1')`)
	if shown := browsertest.Eval[int](b, `[...document.querySelectorAll('svg.chart')].filter(s => s.getClientRects().length > 0).length`); shown != 2 {
		t.Errorf("%d charts shown, want the daily records and the coverage", shown)
	}
	if len(stretched) > 0 {
		t.Errorf("charts stretched, their text with them: %q", stretched)
	}
	small := browsertest.Eval[[]string](b, `[...document.querySelectorAll('header.top nav a, header.top nav button, .crumbs a')]
		.filter(el => el.getClientRects().length > 0) // shown
		.filter(el => el.getBoundingClientRect().height < 44 || el.getBoundingClientRect().width < 44)
		.map(el => el.textContent.trim() + ' ' + Math.round(el.getBoundingClientRect().width) + '×' + Math.round(el.getBoundingClientRect().height))`)
	if n := browsertest.Eval[int](b, `document.querySelectorAll('header.top nav a, header.top nav button, .crumbs a').length`); n < 3 {
		t.Fatalf("%d header buttons and breadcrumb links", n)
	}
	if len(small) > 0 {
		t.Errorf("touch targets under 44 px: %q", small)
	}

	b.Viewport(1280, 800)
	b.Must(chromedp.Navigate(base + "/province"))
	b.Screenshot("province-1280.png")
	wide("the province page at 1280 px", 1280)
	fits := `(() => { const t = document.querySelector('.table-wrap table'), w = t.parentElement;
		return t.scrollWidth <= w.clientWidth + 1 && t.getBoundingClientRect().right <= document.documentElement.clientWidth })()`
	if !browsertest.Eval[bool](b, fits) {
		t.Errorf("the province table is cut at 1280 px: %s", browsertest.Eval[string](b, tableWidths))
	}
	// A4 less Chromium's 1 cm margins: 190 mm, 718 CSS px.
	b.Media("print")
	b.Viewport(718, 1000)
	b.Screenshot("province-a4-print.png")
	if !browsertest.Eval[bool](b, fits) {
		t.Errorf("the province table is cut on A4: %s", browsertest.Eval[string](b, tableWidths))
	}
	wide("the printed province page", 718)
	b.Media("")
	b.PDF("province-a4.pdf")
}

const tableWidths = `(() => { const t = document.querySelector('.table-wrap table');
	return 'table ' + t.scrollWidth + ' px in ' + t.parentElement.clientWidth + ' px, right edge ' + Math.round(t.getBoundingClientRect().right) })()`
