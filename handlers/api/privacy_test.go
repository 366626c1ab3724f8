package api_test

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"
	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/hue-cdt/cdt/domain"
	"github.com/hue-cdt/cdt/internal/apptest"
)

// storedRecords reads the assistance documents as stored.
func storedRecords(t *testing.T, e *apptest.Env) []bson.M {
	t.Helper()
	cur, err := e.App.Store.Database.Collection("assistance").Find(context.Background(), bson.D{})
	if err != nil {
		t.Fatal(err)
	}
	var docs []bson.M
	if err := cur.All(context.Background(), &docs); err != nil {
		t.Fatal(err)
	}
	return docs
}

func withConsent(rec map[string]any, consent, note string) map[string]any {
	rec["consent"], rec["note"] = consent, note
	return rec
}

// TestConsentRefusedKeepsNoHousehold: with "consent":"refused" the household
// reference is discarded before hashing (the record counts, the household
// does not); "given" hashes it; another value is a field error that stores
// nothing.
func TestConsentRefusedKeepsNoHousehold(t *testing.T) {
	e := apptest.New(t)
	f := e.NewFixture()
	at := apptest.Start.Add(-time.Hour)
	refused := e.Must(e.Post("/api/v1/assistance", f.MemberTokA, withConsent(apptest.Record(f.VillageA, at, "0905 123 456"), "refused", "")), 201)
	e.Must(e.Post("/api/v1/assistance", f.MemberTokA, withConsent(apptest.Record(f.VillageA, at, "0905 654 321"), "given", "")), 201)
	// Refused needs no reference at all.
	e.Must(e.Post("/api/v1/assistance", f.MemberTokA, withConsent(apptest.Record(f.VillageA, at, ""), "refused", "")), 201)
	r := e.Post("/api/v1/assistance", f.MemberTokA, withConsent(apptest.Record(f.VillageA, at, "0905 111 999"), "maybe", ""))
	if r.Status != 422 || !strings.Contains(string(r.Body), `"consent"`) {
		t.Fatalf("consent maybe: %d %s", r.Status, r.Body)
	}
	docs := storedRecords(t, e)
	if len(docs) != 3 {
		t.Fatalf("%d records stored, want 3", len(docs))
	}
	hashed := 0
	for _, d := range docs {
		h, _ := d["household"].(string)
		if d["_id"] == refused["id"] && h != "" {
			t.Fatalf("a refused record keeps a household: %v", d)
		}
		if h != "" {
			hashed++
		}
	}
	if hashed != 1 {
		t.Fatalf("%d records with a household, want 1 (the one given)", hashed)
	}
}

// TestNoteLosesPersonalDataOnEveryPath: phone numbers, citizen ID numbers and
// e-mail addresses typed into a note are removed before storage whether the
// record comes one by one, in a batch (the phone's queue) or from the form
// without JavaScript; the answer shows the note as stored.
func TestNoteLosesPersonalDataOnEveryPath(t *testing.T) {
	e := apptest.New(t, apptest.Insecure)
	f := e.NewFixture()
	at := apptest.Start.Add(-time.Hour)
	one := e.Must(e.Post("/api/v1/assistance", f.MemberTokA, withConsent(apptest.Record(f.VillageA, at, "0905123456"),
		"given", "gọi lại 0912 345 678, CCCD 046095001234")), 201)
	if one["note"] != "gọi lại [SĐT], CCCD [CCCD]" {
		t.Fatalf("answered note %q", one["note"])
	}
	batch := e.Must(e.Post("/api/v1/assistance/batch", f.MemberTokA, map[string]any{"records": []any{
		withConsent(apptest.Record(f.VillageA, at, "0905123457"), "given", "email lan.tran@gmail.com, +84 935 111 222")}}), 200)
	res := batch["results"].([]any)[0].(map[string]any)
	if res["status"] != "created" || res["record"].(map[string]any)["note"] != "email [email], [SĐT]" {
		t.Fatalf("batch %v", res)
	}
	b := e.Browser()
	b.Login("member.a", apptest.Password)
	form := b.Get("/app/log")
	if form.Doc.Find(`input[name="consent"]:checked`).Length() != 0 || form.Doc.Find(`input[name="consent"]`).Length() != 2 {
		t.Fatal("the consent choice is preselected or missing")
	}
	if !strings.Contains(form.Doc.Find("#notice").Text(), "đồng ý") {
		t.Fatalf("no notice to read out: %q", form.Doc.Find("#notice").Text())
	}
	// Without an answer on consent the form is refused, nothing is stored.
	noAnswer := b.Submit(form, "/app/log", map[string][]string{"client_id": {apptest.NewUUID()}, "service": {"hue_s"},
		"household_ref": {"0905123458"}, "village_code": {f.VillageA}, "outcome": {"done"}})
	if noAnswer.Status != 422 || noAnswer.Doc.Find("#consent-error").Text() == "" {
		t.Fatalf("no consent: %d %q", noAnswer.Status, noAnswer.Doc.Find("#consent-error").Text())
	}
	done := b.Submit(form, "/app/log", map[string][]string{"client_id": {apptest.NewUUID()}, "service": {"hue_s"},
		"household_ref": {"0905123458"}, "village_code": {f.VillageA}, "outcome": {"done"}, "consent": {"refused"},
		"note": {"SĐT người nhà (0234) 3822 123"}})
	if done.Status != 200 || done.URL.Path != "/app" || !strings.Contains(done.Doc.Find(".flash").Text(), "ghi chú") {
		t.Fatalf("form: %d %s %q", done.Status, done.URL, done.Doc.Find(".flash").Text())
	}
	notes := map[string]bool{}
	for _, d := range storedRecords(t, e) {
		notes[d["note"].(string)] = true
	}
	for _, want := range []string{"gọi lại [SĐT], CCCD [CCCD]", "email [email], [SĐT]", "SĐT người nhà [SĐT]"} {
		if !notes[want] {
			t.Errorf("stored notes %v, want %q", notes, want)
		}
	}
}

// TestPrivacyRequestsAreDueInTwoWorkingDays: a commune leader registers
// requests for their commune only; due_on skips the weekend; the list shows
// the time left and the overdue ones; the household reference is never
// answered or kept; registering is in the audit trail.
func TestPrivacyRequestsAreDueInTwoWorkingDays(t *testing.T) {
	e := apptest.New(t) // today: Saturday 2026-11-21 in Huế
	f := e.NewFixture()
	fri := e.Must(e.Post("/api/v1/privacy/requests", f.CommuneLeaderA, map[string]any{"kind": "access", "commune_code": f.CommuneA,
		"household_ref": "0905 777 888", "received_on": "2026-11-20", "contact": "gọi 0905777888 hoặc lan@gmail.com",
		"note": "bà Lan, CCCD 046095001234"}), 201)
	if fri["due_on"] != "2026-11-24" || fri["status"] != "open" || fri["working_days_left"].(float64) != 2 || fri["overdue"] != false {
		t.Fatalf("received Friday: %v", fri)
	}
	if fri["contact"] != "gọi [SĐT] hoặc [email]" || fri["note"] != "bà Lan, CCCD [CCCD]" {
		t.Fatalf("contact %q note %q: personal data kept", fri["contact"], fri["note"])
	}
	wed := e.Must(e.Post("/api/v1/privacy/requests", f.CommuneLeaderA, map[string]any{"kind": "delete", "commune_code": f.CommuneA,
		"household_ref": "0905 777 889", "received_on": "2026-11-18"}), 201)
	if wed["due_on"] != "2026-11-20" || wed["overdue"] != true {
		t.Fatalf("received Wednesday, due Friday, overdue on Saturday: %v", wed)
	}
	if r := e.Post("/api/v1/privacy/requests", f.CommuneLeaderA, map[string]any{"kind": "delete", "commune_code": f.CommuneB,
		"household_ref": "0905 777 890", "received_on": "2026-11-20"}); r.Status != 403 {
		t.Fatalf("another commune: %d", r.Status)
	}
	if r := e.Post("/api/v1/privacy/requests", f.CommuneLeaderA, map[string]any{"kind": "forget", "commune_code": f.CommuneA,
		"household_ref": "x", "received_on": "2026-11-22"}); r.Status != 422 || r.ErrorCode() != "validation_failed" {
		t.Fatalf("bad input: %d %s", r.Status, r.Body)
	} else {
		for _, field := range []string{`"kind"`, `"household_ref"`, `"received_on"`} {
			if !strings.Contains(string(r.Body), field) {
				t.Errorf("no error on %s: %s", field, r.Body)
			}
		}
	}
	if r := e.Post("/api/v1/privacy/requests", f.TeamLeaderA, map[string]any{"kind": "delete", "commune_code": f.CommuneA,
		"household_ref": "0905 777 891", "received_on": "2026-11-20"}); r.Status != 403 {
		t.Fatalf("a team leader: %d", r.Status)
	}
	e.Must(e.Post("/api/v1/privacy/requests", f.CommuneLeaderB, map[string]any{"kind": "object", "commune_code": f.CommuneB,
		"household_ref": "0905 777 892", "received_on": "2026-11-20"}), 201)

	list := e.Get("/api/v1/privacy/requests?status=open", f.CommuneLeaderA)
	items := list.JSON()["items"].([]any)
	if list.Status != 200 || len(items) != 2 || items[0].(map[string]any)["id"] != fri["id"] {
		t.Fatalf("leader A's open requests: %s", list.Body)
	}
	if all := e.Must(e.Get("/api/v1/privacy/requests", f.Admin), 200)["items"].([]any); len(all) != 3 {
		t.Fatalf("the province sees %d requests, want 3", len(all))
	}
	if r := e.Get("/api/v1/privacy/requests?status=lost", f.Admin); r.Status != 422 {
		t.Fatalf("status lost: %d", r.Status)
	}
	if r := e.Get("/api/v1/privacy/requests/"+fri["id"].(string), f.CommuneLeaderB); r.Status != 404 {
		t.Fatalf("leader B reads A's request: %d", r.Status)
	}
	for _, body := range []string{string(list.Body)} {
		if strings.Contains(body, "777") || strings.Contains(body, "household") {
			t.Fatalf("the household is answered: %s", body)
		}
	}
	audit := e.Must(e.Get("/api/v1/audit?action=privacy_request&commune="+f.CommuneA, f.Admin), 200)["items"].([]any)
	if len(audit) != 2 || audit[0].(map[string]any)["details"].(map[string]any)["step"] != "registered" {
		t.Fatalf("audit: %v", audit)
	}
}

// TestObjectedHouseholdIsRefusedOnLaterRecords: once an objection is
// registered, a record with that household reference is refused with a
// field error that says why (in any of its written forms); with consent
// refused it is taken, without the household. Another server sharing the
// database refuses it too, within the cache's period.
func TestObjectedHouseholdIsRefusedOnLaterRecords(t *testing.T) {
	e := apptest.New(t)
	f := e.NewFixture()
	twin := e.Twin()
	at := apptest.Start.Add(-time.Hour)
	// The twin has read the (empty) set of objections before the objection.
	twin.Must(twin.Post("/api/v1/assistance", f.MemberTokA, withConsent(apptest.Record(f.VillageA, at, "0905 246 810"), "given", "")), 201)
	e.Must(e.Post("/api/v1/privacy/requests", f.CommuneLeaderA, map[string]any{"kind": "object", "commune_code": f.CommuneA,
		"household_ref": "+84 905 246 810", "received_on": "2026-11-21"}), 201)
	r := e.Post("/api/v1/assistance", f.MemberTokA, withConsent(apptest.Record(f.VillageA, at, "0905246810"), "given", ""))
	if r.Status != 422 || !strings.Contains(string(r.Body), "household_objected") || !strings.Contains(string(r.Body), "objected to its data") {
		t.Fatalf("objected household: %d %s", r.Status, r.Body)
	}
	batch := e.Must(e.Post("/api/v1/assistance/batch", f.MemberTokA, map[string]any{"records": []any{
		withConsent(apptest.Record(f.VillageA, at, "0905.246.810"), "given", ""),
		withConsent(apptest.Record(f.VillageA, at, "0905.246.810"), "refused", ""),
		withConsent(apptest.Record(f.VillageA, at, "0905 246 811"), "given", "")}}), 200)["results"].([]any)
	if s := []any{batch[0].(map[string]any)["status"], batch[1].(map[string]any)["status"], batch[2].(map[string]any)["status"]}; s[0] != "invalid" || s[1] != "created" || s[2] != "created" {
		t.Fatalf("batch statuses %v", s)
	}
	deadline := time.Now().Add(15 * time.Second)
	for {
		r := twin.Post("/api/v1/assistance", f.MemberTokA, withConsent(apptest.Record(f.VillageA, at, "0905246810"), "given", ""))
		if r.Status == 422 {
			break
		}
		if r.Status != 201 || time.Now().After(deadline) {
			t.Fatalf("the other server still takes the objected household: %d %s", r.Status, r.Body)
		}
		time.Sleep(500 * time.Millisecond)
	}
}

// TestMembersContactsOnlyForTheirLeaders: a member's phone number and birth
// year reach the member, their team leader, the commune leader and the
// province, nobody else.
func TestMembersContactsOnlyForTheirLeaders(t *testing.T) {
	e := apptest.New(t)
	f := e.NewFixture()
	for _, c := range []struct {
		who, tok, member string
		see              bool
	}{
		{"the member", f.MemberTokA, f.MemberA, true},
		{"their team leader", f.TeamLeaderA, f.MemberA, true},
		{"the commune leader", f.CommuneLeaderA, f.MemberA, true},
		{"the province", f.Admin, f.MemberA, true},
		{"another member of the team", f.MemberTokA, f.LeaderA, false},
		{"a team leader of another team", f.TeamLeaderA, f.MemberA2, false},
		{"a member of another team", f.MemberTokA2, f.MemberA, false},
		{"another commune's leader", f.CommuneLeaderB, f.MemberA, false},
	} {
		r := e.Get("/api/v1/members/"+c.member, c.tok)
		if got := r.Status == 200 && strings.Contains(string(r.Body), "0905111") && strings.Contains(string(r.Body), "1995"); got != c.see {
			t.Errorf("%s reads %s's phone and birth year: %v, want %v (%d)", c.who, c.member, got, c.see, r.Status)
		}
		list := e.Get("/api/v1/members", c.tok)
		for _, it := range list.JSON()["items"].([]any) {
			m := it.(map[string]any)
			if m["id"] == c.member && !c.see {
				t.Errorf("%s lists %s: %v", c.who, c.member, m)
			}
		}
	}
}

// reached is commune's households_reached as the latest coverage run says.
func reached(t *testing.T, e *apptest.Env, admin, commune string) float64 {
	t.Helper()
	e.Settle()
	e.RunCoverage(admin)
	for _, it := range e.Must(e.Get("/api/v1/coverage/communes", admin), 200)["items"].([]any) {
		if row := it.(map[string]any); row["commune_code"] == commune {
			return row["households_reached"].(float64)
		}
	}
	t.Fatalf("no coverage row for %s", commune)
	return 0
}

// TestFulfillingPrivacyRequests: an access request answers the household's
// records (date, service, outcome, team; nobody else's) as JSON and XLSX; a
// deletion removes the household from every record and households_reached
// drops at the next run; fulfilling twice is 409; every step is audited.
func TestFulfillingPrivacyRequests(t *testing.T) {
	e := apptest.New(t)
	f := e.NewFixture()
	at := apptest.Start.Add(-2 * time.Hour)
	for _, ref := range []string{"0905 444 001", "0905 444 001", "0905 444 002", "0905 444 003"} {
		e.Must(e.Post("/api/v1/assistance", f.MemberTokA, withConsent(apptest.Record(f.VillageA, at, ref), "given", "bà Lan")), 201)
	}
	if n := reached(t, e, f.Admin, f.CommuneA); n != 3 {
		t.Fatalf("households reached before: %v", n)
	}
	acc := e.Must(e.Post("/api/v1/privacy/requests", f.CommuneLeaderA, map[string]any{"kind": "access", "commune_code": f.CommuneA,
		"household_ref": "+84 905 444 001", "received_on": "2026-11-21"}), 201)["id"].(string)
	shown := e.Must(e.Get("/api/v1/privacy/requests/"+acc, f.CommuneLeaderA), 200)
	if recs := shown["records"].([]any); len(recs) != 2 || recs[0].(map[string]any)["team_name"] != "Tổ CNSCĐ TDP 1" ||
		strings.Contains(string(e.Get("/api/v1/privacy/requests/"+acc, f.CommuneLeaderA).Body), "bà Lan") {
		t.Fatalf("access: %v", shown)
	}
	x := e.Get("/api/v1/privacy/requests/"+acc+"/access.xlsx", f.CommuneLeaderA)
	book, err := excelize.OpenReader(bytes.NewReader(x.Body))
	if err != nil {
		t.Fatal(err)
	}
	rows, _ := book.GetRows("Dữ liệu của hộ")
	if len(rows) != 4 || !strings.Contains(rows[0][0], acc) || rows[2][1] != "Kích hoạt tài khoản định danh điện tử mức 2" {
		t.Fatalf("xlsx rows %v", rows)
	}
	done := e.Must(e.Post("/api/v1/privacy/requests/"+acc+"/fulfil", f.CommuneLeaderA, nil), 200)
	if done["request"].(map[string]any)["status"] != "done" || len(done["records"].([]any)) != 2 {
		t.Fatalf("fulfil access: %v", done)
	}
	if r := e.Post("/api/v1/privacy/requests/"+acc+"/fulfil", f.CommuneLeaderA, nil); r.Status != 409 {
		t.Fatalf("fulfilled twice: %d", r.Status)
	}
	del := e.Must(e.Post("/api/v1/privacy/requests", f.CommuneLeaderA, map[string]any{"kind": "delete", "commune_code": f.CommuneA,
		"household_ref": "0905444001", "received_on": "2026-11-21"}), 201)["id"].(string)
	gone := e.Must(e.Post("/api/v1/privacy/requests/"+del+"/fulfil", f.CommuneLeaderA, nil), 200)["request"].(map[string]any)
	if gone["affected"].(float64) != 2 {
		t.Fatalf("deletion: %v", gone)
	}
	hashed := 0
	for _, d := range storedRecords(t, e) {
		if h, _ := d["household"].(string); h != "" {
			hashed++
		}
	}
	if hashed != 2 {
		t.Fatalf("%d records keep a household, want 2", hashed)
	}
	if n := reached(t, e, f.Admin, f.CommuneA); n != 2 {
		t.Fatalf("households reached after the deletion: %v, want 2", n)
	}
	steps := map[string]int{}
	for _, it := range e.Must(e.Get("/api/v1/audit?action=privacy_request&commune="+f.CommuneA, f.Admin), 200)["items"].([]any) {
		steps[it.(map[string]any)["details"].(map[string]any)["step"].(string)]++
	}
	if steps["registered"] != 2 || steps["fulfilled"] != 2 || steps["access_read"] < 2 {
		t.Fatalf("audit steps %v", steps)
	}
}

// TestFulfilledObjectionForgetsTheHousehold: fulfilling an objection removes
// the household's hash from every record, list and set of households reached
// (only the request keeps it, to go on refusing the household);
// households_reached drops at the next run; an access request finds nothing
// about the household any more; its new records are refused with
// household_objected, also by a server started afterwards.
func TestFulfilledObjectionForgetsTheHousehold(t *testing.T) {
	e := apptest.New(t)
	f := e.NewFixture()
	at := apptest.Start.Add(-3 * time.Hour)
	for _, ref := range []string{"0905 555 001", "0905 555 001", "0905 555 002", "0905 555 003"} {
		e.Must(e.Post("/api/v1/assistance", f.MemberTokA, withConsent(apptest.Record(f.VillageA, at, ref), "given", "")), 201)
	}
	// The same household in another commune, logged by its member.
	e.Must(e.Post("/api/v1/assistance", f.MemberTokB, withConsent(apptest.Record(f.VillageB, at, "0905555001"), "given", "")), 201)
	if n := reached(t, e, f.Admin, f.CommuneA); n != 3 {
		t.Fatalf("households reached before: %v", n)
	}
	norm, ok := domain.NormalizeHouseholdRef("0905 555 001")
	if !ok {
		t.Fatal("the reference does not normalise")
	}
	hash := e.App.Ingest.Hash(norm)
	before := e.HashHolders(hash)
	kinds := map[string]int{}
	for name := range before {
		for _, k := range []string{"_lists_", "_house_"} { // the communes' record lists, their households reached
			if strings.Contains(name, k) {
				kinds[k]++
			}
		}
	}
	if before["assistance"] != 3 || kinds["_lists_"] != 2 || kinds["_house_"] != 2 {
		t.Fatalf("before the objection the hash is in %v, want the 3 records and both communes' lists and sets", before)
	}

	obj := e.Must(e.Post("/api/v1/privacy/requests", f.CommuneLeaderA, map[string]any{"kind": "object", "commune_code": f.CommuneA,
		"household_ref": "+84 905 555 001", "received_on": "2026-11-21"}), 201)["id"].(string)
	done := e.Must(e.Post("/api/v1/privacy/requests/"+obj+"/fulfil", f.CommuneLeaderA, nil), 200)
	req := done["request"].(map[string]any)
	if req["status"] != "done" || req["affected"].(float64) != 3 || done["records"] != nil {
		t.Fatalf("fulfilled objection: %v", done)
	}
	after := e.HashHolders(hash)
	if len(after) != 1 || after["privacy_requests"] != 1 {
		t.Fatalf("after the objection the hash is in %v, want the request only", after)
	}
	hashed := 0
	for _, d := range storedRecords(t, e) {
		if h, _ := d["household"].(string); h != "" {
			hashed++
		}
	}
	if hashed != 2 {
		t.Fatalf("%d records keep a household, want the other 2", hashed)
	}
	if recs, err := e.App.RecordCare().HouseholdRecords(context.Background(), hash); err != nil || len(recs) != 0 {
		t.Fatalf("the household's records are still found: %v %v", recs, err)
	}
	if n := reached(t, e, f.Admin, f.CommuneA); n != 2 {
		t.Fatalf("households reached after the objection: %v, want 2", n)
	}
	if n := reached(t, e, f.Admin, f.CommuneB); n != 0 {
		t.Fatalf("households reached in the other commune: %v, want 0", n)
	}
	acc := e.Must(e.Post("/api/v1/privacy/requests", f.CommuneLeaderA, map[string]any{"kind": "access", "commune_code": f.CommuneA,
		"household_ref": "0905555001", "received_on": "2026-11-21"}), 201)["id"].(string)
	if recs := e.Must(e.Get("/api/v1/privacy/requests/"+acc, f.CommuneLeaderA), 200)["records"].([]any); len(recs) != 0 {
		t.Fatalf("an access request after the objection finds %v", recs)
	}
	later := apptest.Start.Add(-time.Hour)
	for _, env := range []*apptest.Env{e, e.Twin()} {
		r := env.Post("/api/v1/assistance", f.MemberTokA, withConsent(apptest.Record(f.VillageA, later, "0905.555.001"), "given", ""))
		if r.Status != 422 || !strings.Contains(string(r.Body), "household_objected") {
			t.Fatalf("a new record of the objected household: %d %s", r.Status, r.Body)
		}
	}
	if n := len(storedRecords(t, e)); n != 5 {
		t.Fatalf("%d records stored, want 5", n)
	}
}
