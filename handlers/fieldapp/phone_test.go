package fieldapp_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/hue-cdt/cdt/domain"
	"github.com/hue-cdt/cdt/internal/apptest"
	"github.com/hue-cdt/cdt/internal/browsertest"
)

// The tests of issue 10's field-app cases: a phone shared by two members,
// optional fields, typos, a phone clock that is off, and every link offline.

// stored returns the assistance documents on the server, oldest first.
func stored(t *testing.T, e *apptest.Env) []bson.M {
	t.Helper()
	if err := e.App.Ingest.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	cur, err := e.App.Store.Database.Collection("assistance").Find(context.Background(), bson.D{})
	if err != nil {
		t.Fatal(err)
	}
	var docs []bson.M
	if err := cur.All(context.Background(), &docs); err != nil {
		t.Fatal(err)
	}
	for i := range docs {
		for j := i + 1; j < len(docs); j++ {
			if docs[j]["recorded_at"].(bson.DateTime) < docs[i]["recorded_at"].(bson.DateTime) {
				docs[i], docs[j] = docs[j], docs[i]
			}
		}
	}
	return docs
}

// openLog signs user in on a fresh phone and opens the log form, under the
// service worker's control.
func openLog(t *testing.T, base, user string) *browsertest.Browser {
	t.Helper()
	b := browsertest.New(t)
	b.Login(base, user, apptest.Password)
	b.Must(chromedp.Navigate(base + "/app/log"))
	b.WaitController()
	b.Until("window.cdt && window.cdt.ready && !window.cdt.busy")
	return b
}

// logRecord fills the form's required fields and saves; it waits until the
// page has handled the save (queued it, or refused it on the phone).
func logRecord(b *browsertest.Browser, service, household string) {
	b.T.Helper()
	saves := browsertest.Eval[int](b, "window.cdt.saves")
	browsertest.Eval[bool](b, "(document.querySelector('#household_ref').value = '', true)")
	b.Must(chromedp.Click(fmt.Sprintf(`label.tile:has(input[name="service"][value=%q])`, service)),
		chromedp.Click(`label.tile:has(input[name="consent"][value="given"])`),
		chromedp.SendKeys("#household_ref", household),
		chromedp.Click(`label.tile:has(input[name="outcome"][value="done"])`),
		chromedp.Click("#save"))
	b.Until(fmt.Sprintf("window.cdt.saves > %d", saves))
}

// settled waits until the page has nothing in flight.
func settled(b *browsertest.Browser, cond string) {
	b.T.Helper()
	b.Until("!window.cdt.busy && " + cond)
}

// TestSharedPhoneSendsEachRecordAsItsMember: member A logs on a phone with
// no network, A's session ends, member B signs in on the same phone. A's
// records are neither sent as B's nor shown to B (only how many wait); the
// server refuses a batch logged by another member; when A signs in again,
// A's records go out as A's.
func TestSharedPhoneSendsEachRecordAsItsMember(t *testing.T) {
	e := apptest.New(t, apptest.RealClock)
	f := e.NewFixture()
	base := e.Browser().Base
	closing := e.Must(e.Post("/api/v1/units", f.CommuneLeaderA, map[string]any{"level": "village", "parent_code": f.CommuneA,
		"name": "Tổ dân phố 9", "households": 40}), 201)["code"].(string)

	b := openLog(t, base, "member.a")
	// A's first record goes to a village that closes before it is sent: the
	// server refuses it, and it waits on the phone for A to fix it.
	b.Offline(true)
	b.Must(chromedp.SetValue("#village_code", closing))
	logRecord(b, "hue_s", "0905 333 001")
	e.Must(e.Patch("/api/v1/units/"+closing, f.CommuneLeaderA, map[string]any{"active": false}), 200)
	b.Offline(false)
	settled(b, "window.cdt.rejected === 1 && window.cdt.pending === 0")
	// A's second record waits for the network.
	b.Offline(true)
	b.Must(chromedp.SetValue("#village_code", f.VillageA))
	logRecord(b, "vneid_activation", "0905 333 002")
	settled(b, "window.cdt.pending === 1")
	// A's session ends (it expired: the server ends it, the browser drops its cookies).
	if err := e.App.Store.Sessions.RevokeUserSessions(context.Background(), "member.a", "test", time.Now()); err != nil {
		t.Fatal(err)
	}
	b.ClearCookies()
	// A leaves the app (A's page would sync as the network returns, and its
	// refused request set a CSRF cookie of its own while B's login form loads).
	b.Must(chromedp.Navigate("about:blank"))
	b.Offline(false)

	// B signs in on the same phone.
	b.Login(base, "member.a2", apptest.Password)
	for _, page := range []string{"/app", "/app/log"} {
		b.Must(chromedp.Navigate(base + page))
		b.Until("window.cdt && window.cdt.ready")
		browsertest.Eval[bool](b, "(document.querySelector('#sync-now').click(), true)")
		time.Sleep(300 * time.Millisecond)
		settled(b, "window.cdt.others === 2")
		if p, r := browsertest.Eval[int](b, "window.cdt.pending"), browsertest.Eval[int](b, "window.cdt.rejected"); p != 0 || r != 0 {
			t.Fatalf("%s: B's queue shows %d waiting and %d refused records of A's", page, p, r)
		}
		text := browsertest.Eval[string](b, "document.body.innerText")
		if !browsertest.Eval[bool](b, "document.querySelector('#rejected').hidden") {
			t.Fatalf("%s: B is shown A's refused record", page)
		}
		for _, leak := range []string{"333 001", "333001", "333 002", "333002", "•••001"} {
			if strings.Contains(text, leak) {
				t.Fatalf("%s: B sees %q of A's records:\n%s", page, leak, text)
			}
		}
		if note := browsertest.Eval[string](b, "document.querySelector('#queue-others').innerText"); !strings.Contains(note, "2") {
			t.Fatalf("%s: B is not told that 2 records of another login wait: %q", page, note)
		}
	}
	for _, d := range stored(t, e) {
		t.Fatalf("a record was sent while B was signed in: %v", d)
	}
	// Offline, B is never shown a page the phone kept for A (A's records
	// list was kept when A's service worker installed).
	b.Offline(true)
	b.Must(chromedp.Navigate(base + "/app/records"))
	b.Until("document.readyState === 'complete'")
	if who := browsertest.Eval[string](b, "(document.querySelector('header .who') || {}).textContent || ''"); who == "member.a" {
		t.Fatal("offline, B is shown the records page kept for A")
	}
	b.Offline(false)
	b.Must(chromedp.Navigate(base + "/app"))
	b.Until("window.cdt && window.cdt.ready")

	// The server refuses, by itself, a batch that says it was logged by another member.
	status := browsertest.Eval[int](b, fmt.Sprintf(`fetch('/app/api/assistance/batch', {method: 'POST', credentials: 'same-origin',
		headers: {'Content-Type': 'application/json', 'X-CSRF-Token': document.querySelector('meta[name="csrf-token"]').content},
		body: JSON.stringify({member_id: %q, sent_at: new Date().toISOString(), records: [{client_id: crypto.randomUUID(),
			service: 'hue_s', household_ref: '0905333003', village_code: %q, occurred_at: new Date().toISOString(), outcome: 'done'}]})
	}).then((r) => r.status)`, f.MemberA, f.VillageA))
	if status != http.StatusConflict || len(stored(t, e)) != 0 {
		t.Fatalf("a batch of A's sent with B's session: %d, %d stored", status, len(stored(t, e)))
	}

	// B signs out; A signs in again: A's waiting record goes out as A's.
	b.Must(chromedp.Click(`header form[action="/logout"] button`))
	b.Until("location.pathname === '/login'")
	b.Login(base, "member.a", apptest.Password)
	b.Until("window.cdt && window.cdt.ready")
	settled(b, "window.cdt.pending === 0 && window.cdt.rejected === 1 && window.cdt.others === 0")
	docs := stored(t, e)
	if len(docs) != 1 || docs[0]["member_id"] != f.MemberA || docs[0]["by"] != "member.a" {
		t.Fatalf("after A signed in again: %v", docs)
	}
	if got := browsertest.Eval[string](b, "document.querySelector('#rejected').innerText"); !strings.Contains(got, "001") {
		t.Fatalf("A does not see A's refused record: %q", got)
	}
}

// TestOptionalFieldsDoNotCarryOver: nothing optional is preselected, and what
// a member picked for one citizen is not given to the next one.
func TestOptionalFieldsDoNotCarryOver(t *testing.T) {
	e := apptest.New(t, apptest.RealClock)
	e.NewFixture()
	b := openLog(t, e.Browser().Base, "member.a")
	checked := "Array.from(document.querySelectorAll('#log details input:checked')).map((i) => i.name + '=' + i.value).join(',')"
	if got := browsertest.Eval[string](b, checked); got != "" {
		t.Fatalf("optional fields preselected without being shown: %s", got)
	}
	b.Must(chromedp.Click("#log details summary"),
		chromedp.Click(`label.tile:has(input[name="citizen_gender"][value="f"])`),
		chromedp.Click(`label.tile:has(input[name="citizen_age_group"][value="over_60"])`),
		chromedp.Click(`label.tile:has(input[name="place"][value="desk"])`),
		chromedp.SendKeys("#note", "hướng dẫn cài VNeID"))
	logRecord(b, "vneid_install", "0905 444 001")
	settled(b, "window.cdt.pending === 0 && window.cdt.sent === 1")
	if got := browsertest.Eval[string](b, checked+" + '|' + document.querySelector('#note').value"); got != "|" {
		t.Fatalf("after a save the optional fields still hold %q", got)
	}
	// The member collapses the details and logs the next citizen.
	browsertest.Eval[bool](b, "(document.querySelector('#log details').open = false, true)")
	logRecord(b, "vneid_install", "0905 444 002")
	settled(b, "window.cdt.pending === 0 && window.cdt.sent === 2")
	docs := stored(t, e)
	if len(docs) != 2 {
		t.Fatalf("%d records stored", len(docs))
	}
	if docs[0]["citizen_gender"] != "f" || docs[0]["citizen_age_group"] != "over_60" || docs[0]["place"] != "desk" || docs[0]["note"] == nil {
		t.Fatalf("the first record lost what was picked: %v", docs[0])
	}
	for _, k := range []string{"citizen_gender", "citizen_age_group", "place", "note"} {
		if v, ok := docs[1][k]; ok {
			t.Errorf("the second record got %s=%v, which the member never picked for it", k, v)
		}
	}
}

// householdCase is one line of domain/testdata/household_refs.json, the table
// that domain's TestHouseholdRefTable holds the server's rule to.
type householdCase struct {
	In  string `json:"in"`
	Out string `json:"out"`
}

// randomRefs are typed references of every kind, phone-like most of them,
// with the characters where Go's and JavaScript's rules could part.
func randomRefs(n int) []string {
	r := rand.New(rand.NewPCG(10, 3))
	alphabet := []string{"0", "1", "2", "3", "4", "5", "6", "7", "8", "9", "0", "9", "8", "4", "a", "b", "z", "O", "A", "Z",
		" ", ".", "-", "/", "+", "(", ")", "\t", "\u00a0", "\u0085", "\ufeff", "ı", "ſ", "ß", "ố", "８", "ﬃ", "\u3000", "\u2028", "đ"}
	prefixes := []string{"", "", "0", "09", "84", "+84", "0084", "+", " "}
	out := make([]string, n)
	for i := range out {
		var sb strings.Builder
		sb.WriteString(prefixes[r.IntN(len(prefixes))])
		for range r.IntN(16) {
			if r.IntN(3) > 0 {
				sb.WriteString(string(rune('0' + r.IntN(10))))
			} else {
				sb.WriteString(alphabet[r.IntN(len(alphabet))])
			}
		}
		out[i] = sb.String()
	}
	return out
}

// TestTypoIsCaughtOnThePhone: the phone checks the household number with the
// server's rule (the shared table, and thousands of random inputs through
// both implementations) before it queues a record; a saved record is named
// in the confirmation; a refused one is named at the top of the screen.
func TestTypoIsCaughtOnThePhone(t *testing.T) {
	e := apptest.New(t, apptest.RealClock)
	f := e.NewFixture()
	base := e.Browser().Base
	closing := e.Must(e.Post("/api/v1/units", f.CommuneLeaderA, map[string]any{"level": "village", "parent_code": f.CommuneA,
		"name": "Tổ dân phố 9", "households": 40}), 201)["code"].(string)
	b := openLog(t, base, "member.a")

	// One rule on both sides.
	raw, err := os.ReadFile("../../domain/testdata/household_refs.json")
	if err != nil {
		t.Fatal(err)
	}
	var table []householdCase
	if err := json.Unmarshal(raw, &table); err != nil {
		t.Fatal(err)
	}
	inputs := randomRefs(4000)
	for _, c := range table {
		inputs = append(inputs, c.In)
	}
	if !browsertest.Eval[bool](b, "typeof (window.cdtHousehold || {}).normalize === 'function'") {
		t.Fatal("the page has no household check")
	}
	js, _ := json.Marshal(inputs)
	got := browsertest.Eval[[]string](b, fmt.Sprintf("%s.map((s) => window.cdtHousehold.normalize(s) || '')", js))
	valid := 0
	for i, in := range inputs {
		want, ok := domainNormalize(in)
		if got[i] != want {
			t.Errorf("household %q: the phone says %q, the server %q", in, got[i], want)
		}
		if ok {
			valid++
		}
	}
	for _, c := range table {
		if w, _ := domainNormalize(c.In); w != c.Out {
			t.Fatalf("the table says %q for %q, the server %q", c.Out, c.In, w)
		}
	}
	if valid < 500 || valid > len(inputs)-500 {
		t.Fatalf("the random inputs are too one-sided: %d of %d valid", valid, len(inputs))
	}

	// The seen typo: refused on the phone, nothing queued, the number kept to fix.
	logRecord(b, "hue_s", "12345")
	if q := browsertest.Eval[int](b, "window.cdt.queued"); q != 0 {
		t.Fatalf("a typo was queued (%d)", q)
	}
	msg := browsertest.Eval[string](b, "document.querySelector('#household_ref-error').innerText")
	if !strings.Contains(msg, "Số điện thoại") || !browsertest.Eval[bool](b, "document.querySelector('#saved').hidden") ||
		browsertest.Eval[string](b, "document.querySelector('#household_ref').value") != "12345" {
		t.Fatalf("the typo is not shown where it was typed: %q", msg)
	}

	// A good number: the confirmation names the service, the masked number, the time.
	logRecord(b, "hue_s", "0905 123 456")
	settled(b, "window.cdt.pending === 0 && window.cdt.sent === 1")
	saved := browsertest.Eval[string](b, "document.querySelector('#saved').innerText")
	now := time.Now().In(time.FixedZone("ICT", 7*3600))
	if !strings.Contains(saved, "Hue-S") || !strings.Contains(saved, "456") || strings.Contains(saved, "0905") ||
		!(strings.Contains(saved, now.Format("15:04")) || strings.Contains(saved, now.Add(-time.Minute).Format("15:04"))) {
		t.Fatalf("the confirmation does not say what was saved: %q", saved)
	}
	if browsertest.Eval[string](b, "document.querySelector('#household_ref-error').innerText") != "" {
		t.Fatal("the typo's message stays after a good save")
	}

	// A record the server refuses is named at the top of the screen.
	b.Offline(true)
	b.Must(chromedp.SetValue("#village_code", closing))
	logRecord(b, "cashless_payment", "0905 777 888")
	e.Must(e.Patch("/api/v1/units/"+closing, f.CommuneLeaderA, map[string]any{"active": false}), 200)
	b.Offline(false)
	settled(b, "window.cdt.rejected === 1 && window.cdt.pending === 0")
	top := browsertest.Eval[string](b, "document.querySelector('#rejected').innerText")
	if !strings.Contains(top, "Thanh toán không dùng tiền mặt") || !strings.Contains(top, "888") || strings.Contains(top, "0905 777") ||
		!strings.Contains(top, "Thôn/tổ dân phố") {
		t.Fatalf("the refused record is not named: %q", top)
	}
	if !browsertest.Eval[bool](b, `document.querySelector('#rejected').getBoundingClientRect().top < document.querySelector('h1').getBoundingClientRect().top`) {
		t.Fatal("the refused record is not at the top of the screen")
	}
	if status := browsertest.Eval[string](b, "document.querySelector('#queue-status').innerText"); status == "Đã gửi." {
		t.Fatalf("the status says everything was sent: %q", status)
	}
}

// recorder keeps the bodies and device-time headers of the batches the phone sends.
type recorder struct {
	h       http.Handler
	mu      sync.Mutex
	batches []sentBatch
}

type sentBatch struct {
	Header  string
	SentAt  string              `json:"sent_at"`
	Records []map[string]string `json:"records"`
}

func (r *recorder) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	if req.Method == http.MethodPost && strings.HasSuffix(req.URL.Path, "/assistance/batch") {
		body, _ := io.ReadAll(req.Body)
		req.Body = io.NopCloser(bytes.NewReader(body))
		var b sentBatch
		_ = json.Unmarshal(body, &b)
		b.Header = req.Header.Get("X-Device-Time")
		r.mu.Lock()
		r.batches = append(r.batches, b)
		r.mu.Unlock()
	}
	r.h.ServeHTTP(w, req)
}

func (r *recorder) sent() []sentBatch {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]sentBatch(nil), r.batches...)
}

// TestFixedRecordKeepsWhenTheHelpHappened: "Sửa" sends the record again with
// the time it was logged and the phone's time of sending.
func TestFixedRecordKeepsWhenTheHelpHappened(t *testing.T) {
	e := apptest.New(t, apptest.RealClock)
	f := e.NewFixture()
	rec := &recorder{h: e.App.Server.Handler()}
	srv := httptest.NewServer(rec)
	t.Cleanup(srv.Close)
	closing := e.Must(e.Post("/api/v1/units", f.CommuneLeaderA, map[string]any{"level": "village", "parent_code": f.CommuneA,
		"name": "Tổ dân phố 9", "households": 40}), 201)["code"].(string)
	b := openLog(t, srv.URL, "member.a")
	b.Offline(true)
	b.Must(chromedp.SetValue("#village_code", closing))
	logRecord(b, "hue_s", "0905 555 001")
	e.Must(e.Patch("/api/v1/units/"+closing, f.CommuneLeaderA, map[string]any{"active": false}), 200)
	time.Sleep(1100 * time.Millisecond) // the fix is sent at a later second than the record was logged
	b.Offline(false)
	settled(b, "window.cdt.rejected === 1 && window.cdt.pending === 0")
	b.Must(chromedp.Click("#rejected button.fix"))
	b.Until("document.querySelector('#household_ref').value !== ''")
	time.Sleep(1100 * time.Millisecond)
	saves := browsertest.Eval[int](b, "window.cdt.saves")
	b.Must(chromedp.SetValue("#village_code", f.VillageA), chromedp.Click("#save"))
	b.Until(fmt.Sprintf("window.cdt.saves > %d", saves))
	settled(b, "window.cdt.pending === 0 && window.cdt.rejected === 0")
	batches := rec.sent()
	if len(batches) < 2 {
		t.Fatalf("%d batches sent", len(batches))
	}
	first, last := batches[0], batches[len(batches)-1]
	if len(first.Records) != 1 || len(last.Records) != 1 || first.Records[0]["client_id"] != last.Records[0]["client_id"] {
		t.Fatalf("batches %+v", batches)
	}
	if first.Records[0]["occurred_at"] != last.Records[0]["occurred_at"] {
		t.Fatalf("the fix changed when the help happened: %s then %s", first.Records[0]["occurred_at"], last.Records[0]["occurred_at"])
	}
	if last.SentAt <= first.SentAt || last.Header != last.SentAt || first.Header != first.SentAt {
		t.Fatalf("the device time is not the time of sending: %+v then %+v", first, last)
	}
	docs := stored(t, e)
	if len(docs) != 1 || docs[0]["village_code"] != f.VillageA {
		t.Fatalf("stored %v", docs)
	}
}

// skewedPhone logs one record online and one offline on a phone whose clock
// is off by skew, and checks the server keeps the time the help happened.
// The server corrects occurred_at by the offset of the device time sent with
// each batch (X-Device-Time, sent_at).
func skewedPhone(t *testing.T, skew time.Duration) {
	e := apptest.New(t, apptest.RealClock)
	e.NewFixture()
	rec := &recorder{h: e.App.Server.Handler()}
	srv := httptest.NewServer(rec)
	t.Cleanup(srv.Close)
	b := browsertest.New(t)
	b.ShiftClock(skew)
	b.Login(srv.URL, "member.a", apptest.Password)
	b.Must(chromedp.Navigate(srv.URL + "/app/log"))
	b.WaitController()
	b.Until("window.cdt && window.cdt.ready && !window.cdt.busy")
	if d := time.Duration(browsertest.Eval[float64](b, "Date.now()"))*time.Millisecond - time.Duration(time.Now().UnixMilli())*time.Millisecond; (d - skew).Abs() > 5*time.Second {
		t.Fatalf("the page's clock is off by %s, want %s", d, skew)
	}
	start := time.Now()
	logRecord(b, "vneid_activation", "0905 666 001")
	settled(b, "window.cdt.pending === 0")
	b.Offline(true)
	logRecord(b, "vneid_activation", "0905 666 002")
	settled(b, "window.cdt.pending === 1")
	b.Offline(false)
	settled(b, "window.cdt.pending === 0")
	end := time.Now()
	if r := browsertest.Eval[int](b, "window.cdt.rejected"); r != 0 {
		t.Errorf("a phone %s off: %d of 2 records refused: %s", skew, r, browsertest.Eval[string](b, "document.querySelector('#rejected').innerText"))
	}
	for _, batch := range rec.sent() {
		dt, err := time.Parse(time.RFC3339, batch.Header)
		if err != nil || dt.Sub(start) < skew-5*time.Second || dt.Sub(end) > skew+5*time.Second {
			t.Errorf("X-Device-Time %q is not the phone's time of sending", batch.Header)
		}
	}
	docs := stored(t, e)
	if len(docs) != 2 {
		t.Fatalf("a phone %s off: %d of 2 records stored", skew, len(docs))
	}
	for _, d := range docs {
		at := d["occurred_at"].(bson.DateTime).Time()
		if at.Before(start.Add(-2*time.Second)) || at.After(end.Add(2*time.Second)) {
			t.Errorf("a phone %s off: occurred_at %s, the help happened between %s and %s", skew, at.UTC(), start.UTC(), end.UTC())
		}
	}
}

func TestFastPhoneClockRecordsKeepTheirTime(t *testing.T) { skewedPhone(t, 30*time.Minute) }

func TestSlowPhoneClockRecordsKeepTheirTime(t *testing.T) { skewedPhone(t, -2*time.Hour) }

// TestEveryAppLinkWorksOffline visits, with no network, every link and button
// of every screen of the app: each opens its page from the service worker, or
// is visibly unavailable and stays where it is. None leads to the browser's
// offline page, and none shows another page than the one it names.
func TestEveryAppLinkWorksOffline(t *testing.T) {
	e := apptest.New(t, apptest.RealClock)
	e.NewFixture()
	base := e.Browser().Base
	b := openLog(t, base, "tl.a") // a team leader: the team's records too
	screens := []string{"/app", "/app/log", "/app/records", "/app/records?team=1"}
	for _, s := range screens {
		b.Must(chromedp.Navigate(base + s))
		b.Until("window.cdt && window.cdt.ready && !window.cdt.busy")
	}
	b.Offline(true)
	pathOf := "decodeURIComponent(document.body.dataset.path || '')"
	open := func(screen string) {
		t.Helper()
		b.Must(chromedp.Navigate(base + screen))
		b.Until("document.readyState === 'complete' && window.cdt && window.cdt.ready && window.cdt.linksChecked")
		if got := browsertest.Eval[string](b, pathOf); got != screen {
			t.Fatalf("offline, %s shows the page of %q", screen, got)
		}
	}
	targets := `Array.from(document.querySelectorAll('a[href], form:not(#log) button[type=submit]'))`
	visited := 0
	for _, screen := range screens {
		open(screen)
		n := browsertest.Eval[int](b, targets+".length")
		for i := range n {
			open(screen)
			el := fmt.Sprintf("%s[%d]", targets, i)
			what := browsertest.Eval[string](b, el+".outerHTML")
			href := browsertest.Eval[string](b, fmt.Sprintf("%s.href || %s.form.action", el, el))
			if browsertest.Eval[bool](b, el+".getAttribute('aria-disabled') === 'true'") {
				browsertest.Eval[bool](b, fmt.Sprintf("(%s.click(), true)", el))
				time.Sleep(150 * time.Millisecond)
				if got := browsertest.Eval[string](b, pathOf); got != screen {
					t.Errorf("%s: %s is marked unavailable but led to %q", screen, what, got)
				}
				if !browsertest.Eval[bool](b, "!document.querySelector('#offline-note').hidden") {
					t.Errorf("%s: %s is unavailable and nothing says so", screen, what)
				}
				visited++
				continue
			}
			u, err := url.Parse(href)
			if err != nil {
				t.Fatal(err)
			}
			want := u.Path
			if u.RawQuery != "" {
				want += "?" + u.RawQuery
			}
			// Leaving the page drops window.__stay; a link that goes nowhere fails the wait.
			browsertest.Eval[bool](b, fmt.Sprintf("(window.__stay = true, %s.click(), true)", el))
			b.Until("window.__stay !== true")
			b.Until("document.readyState === 'complete'")
			loc := browsertest.Eval[string](b, "location.href")
			if strings.HasPrefix(loc, "chrome-error:") {
				t.Errorf("%s: %s leads to the browser's offline page", screen, what)
				continue
			}
			if got := browsertest.Eval[string](b, pathOf); got != want && !browsertest.Eval[bool](b, "!!document.querySelector('#offline-page')") {
				t.Errorf("%s: %s (%s) shows the page of %q", screen, what, want, got)
			}
			visited++
		}
	}
	if visited < 20 {
		t.Fatalf("only %d links and buttons visited", visited)
	}
}

// domainNormalize is the server's rule, "" for a refusal.
func domainNormalize(s string) (string, bool) {
	out, ok := domain.NormalizeHouseholdRef(s)
	if !ok {
		return "", false
	}
	return out, true
}
