package handlers_test

import (
	"context"
	"fmt"
	"os"
	"testing"

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
		chromedp.SendKeys("#household_ref", "0905222777"), chromedp.Click("#save"))
	b.Until("window.cdt.pending === 1")
	e.Must(e.Patch("/api/v1/units/"+v2, f.CommuneLeaderA, map[string]any{"active": false}), 200)
	b.Offline(false)
	b.Until("window.cdt.rejected === 1 && window.cdt.pending === 0 && !window.cdt.busy")
	reason := browsertest.Eval[string](b, "document.querySelector('#queue-rejected').textContent")
	if reason == "" || !contains(reason, "Thôn/tổ dân phố") {
		t.Fatalf("no reason shown: %q", reason)
	}
	// Fix: the member picks the team's village and saves again.
	b.Must(chromedp.Click("#queue-rejected button"))
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
