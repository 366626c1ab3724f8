package fieldapp_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/hue-cdt/cdt/internal/apptest"
)

func TestTheFieldAppIsInstallable(t *testing.T) {
	e := apptest.New(t)
	m := e.Must(e.Get("/app/manifest.webmanifest", ""), 200)
	if m["start_url"] != "/app" || m["display"] != "standalone" || m["name"] == "" || m["lang"] != "vi" {
		t.Fatalf("manifest: %v", m)
	}
	icons := m["icons"].([]any)
	if len(icons) != 2 {
		t.Fatalf("icons: %v", icons)
	}
	for _, ic := range icons {
		src := ic.(map[string]any)["src"].(string)
		r := e.Get(src, "")
		if r.Status != 200 || r.Header.Get("Content-Type") != "image/png" || !strings.Contains(r.Header.Get("Cache-Control"), "immutable") {
			t.Fatalf("icon %s: %d %v", src, r.Status, r.Header)
		}
	}
	sw := e.Get("/app/sw.js", "")
	if sw.Status != 200 || sw.Header.Get("Service-Worker-Allowed") != "/app" || !strings.Contains(string(sw.Body), "/static/app.js?v=") ||
		!strings.Contains(sw.Header.Get("Content-Type"), "javascript") {
		t.Fatalf("service worker: %d %v", sw.Status, sw.Header)
	}
	// Pages need a session; the shell files do not.
	if r := e.Get("/app/log", ""); r.Status != http.StatusSeeOther || !strings.HasPrefix(r.Header.Get("Location"), "/login") {
		t.Fatalf("log page without a session: %d %v", r.Status, r.Header)
	}
}

// A team leader's list of the team's records names each member.
func TestTeamRecordsNameTheirMembers(t *testing.T) {
	e := apptest.New(t, apptest.Insecure)
	f := e.NewFixture()
	e.LogSome(f.MemberTokA, f.VillageA, 2)
	e.Settle()
	b := e.Browser()
	b.Login("tl.a", apptest.Password)
	p := b.Get("/app/records?team=1")
	text := p.Doc.Find("ul.records").Text()
	if p.Status != http.StatusOK || !strings.Contains(text, "Trần Thị Bình") || strings.Contains(text, f.MemberA) {
		t.Fatalf("team records: %d %q", p.Status, text)
	}
}
