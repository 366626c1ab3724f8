package handlers_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"

	"github.com/hue-cdt/cdt/handlers/openapi"
	"github.com/hue-cdt/cdt/internal/apptest"
)

// openAPIPath is a gin route pattern as OpenAPI writes it: /teams/:id →
// /teams/{id}.
func openAPIPath(p string) string {
	parts := strings.Split(p, "/")
	for i, s := range parts {
		if strings.HasPrefix(s, ":") || strings.HasPrefix(s, "*") {
			parts[i] = "{" + s[1:] + "}"
		}
	}
	return strings.Join(parts, "/")
}

// TestOpenAPIListsEveryRoute walks the router's own list of routes: every
// /api/v1 route it serves must be an operation of the OpenAPI document, and
// every operation of the document a route it serves.
func TestOpenAPIListsEveryRoute(t *testing.T) {
	e := apptest.New(t)
	doc, err := openapi.Document()
	if err != nil {
		t.Fatal(err)
	}
	if len(doc.Servers) != 1 || doc.Servers[0].URL != "/api/v1" {
		t.Fatalf("servers %v, want the one /api/v1", doc.Servers)
	}
	documented := map[string]bool{}
	for p, item := range doc.Paths.Map() {
		for method := range item.Operations() {
			documented[method+" /api/v1"+p] = true
		}
	}
	served := map[string]bool{}
	for _, r := range e.App.Server.Routes() {
		if !strings.HasPrefix(r.Path, "/api/v1/") {
			continue
		}
		key := r.Method + " " + openAPIPath(r.Path)
		served[key] = true
		if !documented[key] {
			t.Errorf("%s: served, but not in the OpenAPI document (handlers/openapi/spec)", key)
		}
	}
	for key := range documented {
		if !served[key] {
			t.Errorf("%s: in the OpenAPI document, but the router does not serve it", key)
		}
	}
	if len(served) < 40 {
		t.Fatalf("only %d /api/v1 routes served: the walk is broken", len(served))
	}
	t.Logf("%d /api/v1 routes served, %d documented", len(served), len(documented))
}

// TestOpenAPIServed: the document is served as JSON anyone may cache, and
// its page lists every operation, in the caller's language.
func TestOpenAPIServed(t *testing.T) {
	e := apptest.New(t)
	r := e.Get("/api/openapi.json", "")
	if r.Status != http.StatusOK || !strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") {
		t.Fatalf("GET /api/openapi.json: %d %s", r.Status, r.Header.Get("Content-Type"))
	}
	m := r.JSON()
	if m["openapi"] != "3.0.3" || m["paths"].(map[string]any)["/assistance/batch"] == nil {
		t.Fatalf("not the document: %.200s", r.Body)
	}
	if cc := r.Header.Get("Cache-Control"); !strings.Contains(cc, "public") {
		t.Errorf("Cache-Control %q, want public", cc)
	}
	again := e.Do(apptest.Request{Method: http.MethodGet, Path: "/api/openapi.json", Header: map[string]string{"If-None-Match": r.Header.Get("ETag")}})
	if again.Status != http.StatusNotModified {
		t.Errorf("same ETag again: %d, want 304", again.Status)
	}

	doc, _ := openapi.Document()
	ops := 0
	for _, item := range doc.Paths.Map() {
		ops += len(item.Operations())
	}
	// accept: the pages' language, their cookie's.
	for _, lang := range []struct{ accept, title, required string }{{"vi", "Tài liệu API", "bắt buộc"}, {"en", "API documentation", "required"}} {
		p := e.Do(apptest.Request{Method: http.MethodGet, Path: "/api/docs", Header: map[string]string{"Cookie": "cdt_lang=" + lang.accept}})
		if p.Status != http.StatusOK || !strings.HasPrefix(p.Header.Get("Content-Type"), "text/html") {
			t.Fatalf("GET /api/docs (%s): %d %s", lang.accept, p.Status, p.Header.Get("Content-Type"))
		}
		if csp := p.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'none'") {
			t.Errorf("docs page CSP %q", csp)
		}
		d, err := goquery.NewDocumentFromReader(strings.NewReader(string(p.Body)))
		if err != nil {
			t.Fatal(err)
		}
		if h := d.Find("h1").First().Text(); h != lang.title {
			t.Errorf("%s: title %q, want %q", lang.accept, h, lang.title)
		}
		if n := d.Find("section.apidoc-op").Length(); n != ops {
			t.Errorf("%s: %d operations shown, the document has %d", lang.accept, n, ops)
		}
		if d.Find("script[src], link[href^='http']").Length() > 0 {
			t.Errorf("%s: the page loads something from elsewhere", lang.accept)
		}
		batch := d.Find("#logAssistanceBatch")
		if !strings.Contains(batch.Text(), "POST /api/v1/assistance/batch") || !strings.Contains(batch.Text(), lang.required) {
			t.Errorf("%s: the batch's section: %q", lang.accept, batch.Text())
		}
		if batch.Find("code").FilterFunction(func(_ int, s *goquery.Selection) bool { return s.Text() == "duplicate" }).Length() != 1 {
			t.Errorf("%s: the document's `code` is not shown as code", lang.accept)
		}
		if got := d.Find("h2").Eq(1).Text(); got != "auth" {
			t.Errorf("%s: the first area is %q, want auth (x-areas)", lang.accept, got)
		}
		if batch.Find("a[href='#schema-BatchResult']").Length() == 0 {
			t.Errorf("%s: the batch's answer does not link its schema", lang.accept)
		}
		if d.Find("#schema-Error").Length() != 1 || d.Find("footer a[href='/api/docs']").Length() != 1 {
			t.Errorf("%s: no Error schema or no footer link", lang.accept)
		}
	}
}
