package pages_test

import (
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/hue-cdt/cdt/internal/apptest"
)

// TestPrivacyPageInBothLanguages: the privacy page is open to anyone, in
// Vietnamese and English, says how long household hashes are kept
// (CDT_RETENTION_YEARS), and every page's footer and the phone app link to it.
func TestPrivacyPageInBothLanguages(t *testing.T) {
	e := apptest.New(t, apptest.Insecure)
	e.NewFixture()
	b := e.Browser()
	vi := b.Get("/privacy")
	if vi.Status != 200 || !strings.Contains(vi.Body, "Quyền riêng tư") || !strings.Contains(vi.Body, "sau 5 năm") ||
		!strings.Contains(vi.Body, "91/2025/QH15") {
		t.Fatalf("vi: %d\n%s", vi.Status, vi.Doc.Find("main").Text())
	}
	b.Get("/lang/en")
	en := b.Get("/privacy")
	if en.Status != 200 || !strings.Contains(en.Body, "Privacy and personal data") || !strings.Contains(en.Body, "after 5 years") ||
		strings.Contains(en.Body, "!policy.") {
		t.Fatalf("en: %d\n%s", en.Status, en.Doc.Find("main").Text())
	}
	if b.Get("/login").Doc.Find(`footer a[href="/privacy"]`).Length() != 1 {
		t.Fatal("no link to the privacy page in the footer")
	}
	m := e.Browser()
	m.Login("member.a", apptest.Password)
	for _, p := range []string{"/app", "/app/log"} {
		if m.Get(p).Doc.Find(`main a[href="/privacy"]`).Length() == 0 {
			t.Errorf("%s does not link to the privacy page", p)
		}
	}
}

// TestPrivacyRequestsOnTheLeadersPages: a commune leader registers a request
// with the form; it shows with its time left on the request's page, the
// commune's dashboard and the province's page, an overdue one highlighted; a
// form with mistakes says what is wrong and keeps no household number.
func TestPrivacyRequestsOnTheLeadersPages(t *testing.T) {
	e := apptest.New(t, apptest.Insecure) // Saturday 2026-11-21
	f := e.NewFixture()
	b := e.Browser()
	b.Login("leader.a", apptest.Password)
	list := b.Get("/privacy/requests")
	if list.Status != 200 || list.Doc.Find(`input[name="kind"]:checked`).Length() != 0 {
		t.Fatalf("list: %d", list.Status)
	}
	bad := b.Submit(list, "/privacy/requests", url.Values{"kind": {"access"}, "household_ref": {"0905 999 000"}, "received_on": {"2026-12-01"},
		"commune_code": {f.CommuneA}})
	if bad.Status != 422 || !strings.Contains(bad.Body, "field-error") || strings.Contains(bad.Body, "0905 999 000") {
		t.Fatalf("a future date: %d", bad.Status)
	}
	done := b.Submit(list, "/privacy/requests", url.Values{"kind": {"delete"}, "household_ref": {"0905 999 000"}, "received_on": {"2026-11-20"},
		"commune_code": {f.CommuneA}, "contact": {"trực tiếp tại UBND"}})
	if done.Status != 200 || !strings.HasPrefix(done.URL.Path, "/privacy/requests/"+f.CommuneA+"-PR-") ||
		!strings.Contains(done.Doc.Find("#left").Text(), "Còn 2 ngày làm việc") || done.Doc.Find("#fulfil").Length() != 1 {
		t.Fatalf("registered: %d %s %q", done.Status, done.URL, done.Doc.Find("#request").Text())
	}
	e.Must(e.Post("/api/v1/privacy/requests", f.CommuneLeaderA, map[string]any{"kind": "object", "commune_code": f.CommuneA,
		"household_ref": "0905 999 001", "received_on": "2026-11-18"}), 201)
	e.Must(e.Post("/api/v1/privacy/requests", f.CommuneLeaderB, map[string]any{"kind": "access", "commune_code": f.CommuneB,
		"household_ref": "0905 999 002", "received_on": "2026-11-21"}), 201)

	dash := b.Get("/communes/" + f.CommuneA + "/dashboard")
	rows := dash.Doc.Find("#privacy-open tr")
	if rows.Length() != 2 || dash.Doc.Find("#privacy-open tr.overdue").Length() != 1 ||
		!strings.Contains(dash.Doc.Find("#privacy-open tr.overdue").Text(), "Quá hạn") {
		t.Fatalf("dashboard box: %q", dash.Doc.Find("#privacy-open").Text())
	}
	if b.Get("/privacy/requests?commune="+f.CommuneB).Status != 403 {
		t.Fatal("leader A lists commune B's requests")
	}
	p := e.Browser()
	p.Login("admin", apptest.AdminPassword)
	prov := p.Get("/province")
	if n := prov.Doc.Find("#privacy-open tr").Length(); n != 3 {
		t.Fatalf("the province sees %d open requests, want 3: %q", n, prov.Doc.Find("#privacy-open").Text())
	}
	// Tuesday 10:00 in Huế: the request received on Friday is due today.
	e.Clock.Set(time.Date(2026, 11, 24, 3, 0, 0, 0, time.UTC))
	today := b.Get("/privacy/requests?status=open")
	if got := today.Doc.Find("#requests tbody").Text(); !strings.Contains(got, "Hạn là hôm nay · còn 14 giờ") {
		t.Fatalf("due today: %q", got)
	}
}
