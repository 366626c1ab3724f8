package fieldapp_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/hue-cdt/cdt/internal/apptest"
	"github.com/hue-cdt/cdt/internal/browsertest"
)

// TestOfflineLoggingOnAPhone logs one record online, three with the network
// off, and checks that exactly three more reach the server once it is back,
// none twice. It runs with the production cookie settings (Secure).
func TestOfflineLoggingOnAPhone(t *testing.T) {
	e := apptest.New(t, apptest.RealClock)
	f := e.NewFixture()
	base := e.Browser().Base
	b := browsertest.New(t)
	b.Login(base, "member.a", apptest.Password)
	if path := browsertest.Eval[string](b, "location.pathname"); path != "/app" {
		t.Fatalf("a member lands on %s", path)
	}
	b.Must(chromedp.Navigate(base + "/app/log"))
	b.WaitController()
	b.Until("window.cdt && !window.cdt.busy")

	records := func() int64 {
		n, err := e.App.Store.Database.Collection("assistance").CountDocuments(context.Background(), bson.D{})
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	log := func(household string, wantPending int) {
		t.Helper()
		b.Must(chromedp.Click(`label.tile:has(input[name="service"][value="vneid_activation"])`),
			chromedp.Click(`label.tile:has(input[name="consent"][value="given"])`),
			chromedp.SendKeys("#household_ref", household),
			chromedp.Click(`label.tile:has(input[name="outcome"][value="done"])`),
			chromedp.Click("#save"))
		// Wait for the page to take the record before typing the next one.
		b.Until(fmt.Sprintf("window.cdt.pending === %d && document.querySelector('#household_ref').value === ''", wantPending))
	}

	log("0905 111 001", 0)
	b.Until("window.cdt.sent === 1 && !window.cdt.busy")
	if n := records(); n != 1 {
		t.Fatalf("online: %d records on the server, want 1", n)
	}

	b.Offline(true)
	log("0905 111 002", 1)
	log("0905 111 003", 2)
	log("0905 111 004", 3)
	b.Until("!window.cdt.busy")
	if got := browsertest.Eval[string](b, "document.querySelector('#queue-count').textContent"); got != "3" {
		t.Fatalf("the page shows %q records waiting, want 3", got)
	}
	if n := records(); n != 1 {
		t.Fatalf("offline: %d records on the server, want 1", n)
	}
	browsertest.Eval[bool](b, "(document.querySelector('#save').scrollIntoView({block: 'center'}), true)")
	shot := b.Screenshot("log-form-offline.png")
	if st, err := os.Stat(shot); err != nil || st.Size() < 2000 {
		t.Fatalf("screenshot %s: %v", shot, err)
	}
	// A reload with no network is served by the service worker; the queue is kept.
	b.Must(chromedp.Reload())
	b.Until("window.cdt && window.cdt.pending === 3")

	b.Offline(false)
	b.Until("window.cdt.pending === 0 && !window.cdt.busy")
	if n := records(); n != 4 {
		t.Fatalf("back online: %d records on the server, want 4", n)
	}
	// None twice: four distinct households, each once.
	cur, err := e.App.Store.Database.Collection("assistance").Aggregate(context.Background(), []bson.D{
		{{Key: "$group", Value: bson.D{{Key: "_id", Value: "$household"}, {Key: "n", Value: bson.D{{Key: "$sum", Value: 1}}}}}}})
	if err != nil {
		t.Fatal(err)
	}
	var groups []struct {
		N int `bson:"n"`
	}
	if err := cur.All(context.Background(), &groups); err != nil {
		t.Fatal(err)
	}
	if len(groups) != 4 {
		t.Fatalf("%d distinct households, want 4", len(groups))
	}
	for _, g := range groups {
		if g.N != 1 {
			t.Fatalf("a household stored %d times", g.N)
		}
	}
	// The page counts today's records, and the records appear on the home page.
	b.Must(chromedp.Navigate(base + "/app"))
	e.App.Ingest.Flush(context.Background())
	if today := browsertest.Eval[string](b, "document.querySelector('#count-today').textContent"); today != "4" {
		t.Fatalf("today's count on the home page: %s", today)
	}
	_ = f
}

// TestRejectedRecordStaysVisibleWithItsReason sends a record the server
// refuses (its village was closed meanwhile) and checks the page keeps it with
// the server's reason until the member fixes it.
func TestRejectedRecordStaysVisibleWithItsReason(t *testing.T) {
	e := apptest.New(t, apptest.RealClock)
	f := e.NewFixture()
	base := e.Browser().Base
	v2 := e.Must(e.Post("/api/v1/units", f.CommuneLeaderA, map[string]any{"level": "village", "parent_code": f.CommuneA,
		"name": "Tổ dân phố 8", "households": 90}), 201)["code"].(string)
	b := browsertest.New(t)
	b.Login(base, "member.a", apptest.Password)
	b.Must(chromedp.Navigate(base + "/app/log"))
	b.WaitController()
	b.Offline(true)
	b.Must(chromedp.SetValue("#village_code", v2),
		chromedp.Click(`label.tile:has(input[name="service"][value="hue_s"])`),
		chromedp.Click(`label.tile:has(input[name="consent"][value="given"])`),
		chromedp.SendKeys("#household_ref", "0905222777"), chromedp.Click("#save"))
	b.Until("window.cdt.pending === 1")
	e.Must(e.Patch("/api/v1/units/"+v2, f.CommuneLeaderA, map[string]any{"active": false}), 200)
	b.Offline(false)
	b.Until("window.cdt.rejected === 1 && window.cdt.pending === 0 && !window.cdt.busy")
	reason := browsertest.Eval[string](b, "document.querySelector('#rejected').textContent")
	if reason == "" || !contains(reason, "Thôn/tổ dân phố") {
		t.Fatalf("no reason shown: %q", reason)
	}
	// Fix: the member picks the team's village and saves again.
	b.Must(chromedp.Click("#rejected button.fix"))
	b.Must(chromedp.SetValue("#village_code", f.VillageA), chromedp.SendKeys("#household_ref", "0905222777"), chromedp.Click("#save"))
	b.Until("window.cdt.pending === 0 && window.cdt.rejected === 0 && !window.cdt.busy")
	n, _ := e.App.Store.Database.Collection("assistance").CountDocuments(context.Background(), bson.D{{Key: "village_code", Value: f.VillageA}})
	if n != 1 {
		t.Fatalf("fixed record stored %d times", n)
	}
}

func contains(s, sub string) bool {
	return len(s) >= len(sub) && (s == sub || len(sub) == 0 || indexOf(s, sub) >= 0)
}

func indexOf(s, sub string) int {
	for i := 0; i+len(sub) <= len(s); i++ {
		if s[i:i+len(sub)] == sub {
			return i
		}
	}
	return -1
}

// countingHandler counts the bytes a handler writes: the transfer size.
type countingHandler struct {
	h     http.Handler
	mu    sync.Mutex
	bytes int
	paths []string
}

type countingWriter struct {
	http.ResponseWriter
	c *countingHandler
}

func (w countingWriter) Write(p []byte) (int, error) {
	w.c.mu.Lock()
	w.c.bytes += len(p)
	w.c.mu.Unlock()
	return w.ResponseWriter.Write(p)
}

func (w countingWriter) WriteHeader(code int) {
	n := len("HTTP/1.1 200 OK\r\n\r\n")
	for k, vs := range w.Header() {
		for _, v := range vs {
			n += len(k) + len(v) + 4
		}
	}
	w.c.mu.Lock()
	w.c.bytes += n
	w.c.mu.Unlock()
	w.ResponseWriter.WriteHeader(code)
}

func (c *countingHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	c.mu.Lock()
	c.paths = append(c.paths, r.URL.Path)
	c.mu.Unlock()
	c.h.ServeHTTP(countingWriter{w, c}, r)
}

func (c *countingHandler) reset() (int, []string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	n, p := c.bytes, c.paths
	c.bytes, c.paths = 0, nil
	return n, p
}

// TestLogPageTransferSize measures what the log page costs a phone on its first
// visit (empty cache: page, styles, script, and the service worker's copy of
// the app shell) and on a repeat visit, and keeps both within a budget.
func TestLogPageTransferSize(t *testing.T) {
	e := apptest.New(t, apptest.RealClock)
	e.NewFixture()
	counter := &countingHandler{h: e.App.Server.Handler()}
	srv := httptest.NewServer(counter)
	t.Cleanup(srv.Close)
	b := browsertest.New(t)
	// A phone's first visit: a fresh profile signs in and lands on the log
	// page. Counting starts when the login form is sent.
	b.Must(chromedp.Navigate(srv.URL+"/login?next=/app/log"), chromedp.WaitVisible("#username"),
		chromedp.SendKeys("#username", "member.a"), chromedp.SendKeys("#password", apptest.Password))
	counter.reset()
	b.Must(chromedp.Submit("#password"))
	b.Until("location.pathname === '/app/log'")
	b.WaitController()
	b.Until("window.cdt && !window.cdt.busy")
	time.Sleep(500 * time.Millisecond) // the service worker's install fetches finish
	first, firstPaths := counter.reset()
	b.Must(chromedp.Navigate(srv.URL + "/app/log"))
	b.Until("window.cdt && !window.cdt.busy && !!navigator.serviceWorker.controller")
	time.Sleep(300 * time.Millisecond)
	repeat, repeatPaths := counter.reset()
	t.Logf("log page transfer: first visit %d bytes %v; repeat visit %d bytes %v", first, firstPaths, repeat, repeatPaths)
	report := fmt.Sprintf("first visit: %d bytes over %d requests\nrepeat visit: %d bytes over %d requests\n",
		first, len(firstPaths), repeat, len(repeatPaths))
	_ = os.MkdirAll(filepath.Join("..", "..", "artifacts"), 0o755)
	_ = os.WriteFile(filepath.Join("..", "..", "artifacts", "log-page-transfer.txt"), []byte(report), 0o644)
	if first > 60_000 || repeat > 12_000 || repeat >= first {
		t.Fatalf("transfer budget: first %d (≤ 60 kB), repeat %d (≤ 12 kB)", first, repeat)
	}
	for _, p := range repeatPaths {
		if strings.HasPrefix(p, "/static/") {
			t.Fatalf("a repeat visit fetched %s again", p)
		}
	}
}
