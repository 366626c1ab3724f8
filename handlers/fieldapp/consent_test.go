package fieldapp_test

import (
	"fmt"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/hue-cdt/cdt/internal/apptest"
	"github.com/hue-cdt/cdt/internal/browsertest"
)

// TestConsentTravelsWithTheOfflineQueue: on the phone, nothing is
// preselected; saving without an answer queues nothing;
// "refused" greys out the household reference and the record, queued
// offline, reaches the server with its consent and no household; the next
// citizen is asked again. A note's phone number is removed, and the phone
// says so once the record is sent.
func TestConsentTravelsWithTheOfflineQueue(t *testing.T) {
	e := apptest.New(t, apptest.RealClock)
	e.NewFixture()
	srv := httptest.NewServer(e.App.Server.Handler())
	t.Cleanup(srv.Close)
	b := openLog(t, srv.URL, "member.a")
	if browsertest.Eval[int](b, `document.querySelectorAll('input[name="consent"]:checked').length`) != 0 {
		t.Fatal("a consent answer is preselected")
	}
	b.Must(chromedp.Click(`label.tile:has(input[name="service"][value="hue_s"])`),
		chromedp.SendKeys("#household_ref", "0905 313 131"), chromedp.Click("#save"))
	// The browser holds the form back: the answer is required.
	if q := browsertest.Eval[int](b, "window.cdt.queued"); q != 0 ||
		!browsertest.Eval[bool](b, `document.querySelector('input[name="consent"]').validity.valueMissing`) {
		t.Fatalf("saved without an answer: %d queued", q)
	}
	b.Offline(true)
	saves := browsertest.Eval[int](b, "window.cdt.saves")
	b.Must(chromedp.Click(`label.tile:has(input[name="consent"][value="refused"])`))
	if !browsertest.Eval[bool](b, "document.querySelector('#household_ref').disabled") {
		t.Fatal("the household reference is still asked after a refusal")
	}
	b.Must(chromedp.Click(`details summary`), chromedp.SendKeys("#note", "con gái: 0935 222 111"), chromedp.Click("#save"))
	b.Until(fmt.Sprintf("window.cdt.saves > %d", saves))
	settled(b, "window.cdt.pending === 1")
	if browsertest.Eval[int](b, `document.querySelectorAll('input[name="consent"]:checked').length`) != 0 ||
		browsertest.Eval[bool](b, "document.querySelector('#household_ref').disabled") {
		t.Fatal("the next citizen's answer is taken for granted")
	}
	b.Offline(false)
	settled(b, "window.cdt.pending === 0 && window.cdt.sent === 1")
	if s := browsertest.Eval[string](b, "document.querySelector('#saved').innerText"); !strings.Contains(s, "ghi chú") {
		t.Errorf("the phone does not say the note lost a number: %q", s)
	}
	docs := stored(t, e)
	if len(docs) != 1 || docs[0]["consent"] != "refused" || docs[0]["household"] != nil || docs[0]["note"] != "con gái: [SĐT]" {
		t.Fatalf("stored %v", docs)
	}
}
