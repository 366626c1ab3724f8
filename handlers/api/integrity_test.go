package api_test

import (
	"context"
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/hue-cdt/cdt/domain"
	"github.com/hue-cdt/cdt/internal/apptest"
	"github.com/hue-cdt/cdt/jobs"
)

// plantBurst logs, as the member of tok, n households helped a minute
// apart from at.
func plantBurst(e *apptest.Env, tok, village string, at time.Time, n int, prefix string) []string {
	e.T.Helper()
	var ids []string
	for i := range n {
		r := apptest.Record(village, at.Add(time.Duration(i)*time.Minute), fmt.Sprintf("%s%04d", prefix, i))
		ids = append(ids, e.Must(e.Post("/api/v1/assistance", tok, r), 201)["id"].(string))
	}
	return ids
}

func items(m map[string]any) []map[string]any {
	var out []map[string]any
	for _, it := range m["items"].([]any) {
		out = append(out, it.(map[string]any))
	}
	return out
}

// The integrity job flags a planted burst, not the near miss beside it,
// stores the flag with its records and evidence, and a re-run of the day
// replaces it: one flag, the same ID and creation time, its review kept.
func TestIntegrityJobFlagsStoresAndRerunsIdempotently(t *testing.T) {
	e := apptest.New(t)
	f := e.NewFixture()
	ctx := context.Background()
	day := domain.Date("2026-11-20")
	at := time.Date(2026, 11, 20, 14, 0, 0, 0, domain.Location)
	burst := plantBurst(e, f.MemberTokA, f.VillageA, at, 8, "090511")
	plantBurst(e, f.MemberTokA2, f.VillageA, at, 4, "090522") // 4 households in 10 minutes: honest
	e.Settle()

	run, err := e.App.Integrity.RunDay(ctx, day, jobs.TriggerManual)
	if err != nil || run.Status != domain.RunSucceeded || run.Records != 12 {
		t.Fatalf("run = %+v, %v; want succeeded over 12 records", run, err)
	}
	flags := items(e.Must(e.Get("/api/v1/integrity/flags?commune="+f.CommuneA, f.CommuneLeaderA), 200))
	if len(flags) != 1 {
		t.Fatalf("flags = %v, want the burst only", flags)
	}
	fl := flags[0]
	if fl["kind"] != "burst" || fl["member_id"] != f.MemberA || fl["status"] != "open" || fl["day"] != string(day) ||
		len(fl["record_ids"].([]any)) != len(burst) || len(fl["records"].([]any)) != len(burst) {
		t.Errorf("flag = %v", fl)
	}
	ev := fl["evidence"].(map[string]any)
	if ev["peak"].(float64) < 6 || ev["window_seconds"].(float64) != 600 {
		t.Errorf("evidence = %v", ev)
	}
	rec := fl["records"].([]any)[0].(map[string]any)
	if rec["service"] != "vneid_activation" || rec["village_code"] != f.VillageA || rec["occurred_at"] == "" {
		t.Errorf("a flagged record = %v", rec)
	}
	vi := e.Do(apptest.Request{Method: "GET", Path: "/api/v1/integrity/flags?commune=" + f.CommuneA, Token: f.CommuneLeaderA,
		Header: map[string]string{"Accept-Language": "vi"}}).JSON()
	if reason := items(vi)[0]["reason"].(string); !strings.Contains(reason, "hộ") || strings.Contains(reason, "{{") {
		t.Errorf("Vietnamese reason %q", reason)
	}
	if e.Get("/api/v1/integrity/flags?commune="+f.CommuneB, f.CommuneLeaderA).Status != 403 {
		t.Error("a leader read another commune's flags")
	}

	// A re-run replaces: one flag, its first creation time.
	later := func() { // an hour on: the access tokens are new
		e.Clock.Add(time.Hour)
		f.Admin, _ = e.Login("admin", apptest.AdminPassword)
		f.CommuneLeaderA, _ = e.Login("leader.a", apptest.Password)
		f.CommuneLeaderB, _ = e.Login("leader.b", apptest.Password)
	}
	later()
	if _, err := e.App.Integrity.RunDay(ctx, day, jobs.TriggerManual); err != nil {
		t.Fatal(err)
	}
	again := items(e.Must(e.Get("/api/v1/integrity/flags", f.Admin), 200))
	if len(again) != 1 || again[0]["id"] != fl["id"] || again[0]["created_at"] != fl["created_at"] {
		t.Fatalf("after a re-run: %v, want the same single flag", again)
	}

	// The figures of the day as computed before the review.
	if _, err := e.App.Coverage.RunNow(ctx, jobs.RunOptions{Date: day, Trigger: jobs.TriggerManual}); err != nil {
		t.Fatal(err)
	}

	// Review: a dismissal needs a comment; a confirmation is audited, and
	// survives the next re-run.
	id := fl["id"].(string)
	r := e.Patch("/api/v1/integrity/flags/"+id, f.CommuneLeaderA, map[string]string{"status": "dismissed"})
	if r.Status != 422 || !strings.Contains(string(r.Body), `"comment"`) {
		t.Errorf("dismissal without a comment: %d %s", r.Status, r.Body)
	}
	if got := e.Patch("/api/v1/integrity/flags/"+id, f.CommuneLeaderB, map[string]string{"status": "confirmed"}); got.Status != 404 {
		t.Errorf("another commune's leader reviewed: %d", got.Status)
	}
	ok := e.Must(e.Patch("/api/v1/integrity/flags/"+id, f.CommuneLeaderA, map[string]string{"status": "confirmed",
		"comment": "Đã gọi hộ dân 0905 111 222, không có"}), 200)
	if ok["status"] != "confirmed" || ok["reviewed_by"] != "leader.a" || strings.Contains(ok["comment"].(string), "0905") {
		t.Errorf("confirmed = %v (the comment keeps no phone number)", ok)
	}
	if n := len(ok["excluded_record_ids"].([]any)); n != len(burst) {
		t.Errorf("%d records excluded on confirmation, want %d", n, len(burst))
	}
	// The next coverage run leaves the confirmed records out; the history
	// keeps what was computed before.
	if _, err := e.App.Coverage.RunNow(ctx, jobs.RunOptions{Date: day.Next(), Trigger: jobs.TriggerManual}); err != nil {
		t.Fatal(err)
	}
	hist := items(e.Must(e.Get("/api/v1/coverage/communes/"+f.CommuneA+"/history?from=2026-11-20&to=2026-11-21", f.Admin), 200))
	if len(hist) != 2 || hist[0]["assistance_total"].(float64) != 12 || hist[1]["assistance_total"].(float64) != 4 {
		t.Errorf("history = %v, want 12 records before the confirmation and 4 after", hist)
	}
	later()
	if _, err := e.App.Integrity.RunDay(ctx, day, jobs.TriggerManual); err != nil {
		t.Fatal(err)
	}
	kept := items(e.Must(e.Get("/api/v1/integrity/flags?status=confirmed", f.Admin), 200))
	if len(kept) != 1 || kept[0]["reviewed_by"] != "leader.a" {
		t.Errorf("after a re-run, confirmed flags = %v", kept)
	}
	audit := items(e.Must(e.Get("/api/v1/audit?action=flag_reviewed", f.Admin), 200))
	if len(audit) != 1 || audit[0]["target"] != id || audit[0]["commune_code"] != f.CommuneA ||
		audit[0]["details"].(map[string]any)["status"] != "confirmed" {
		t.Errorf("audit = %v", audit)
	}
	runs := items(e.Must(e.Get("/api/v1/jobs/runs?job=integrity", f.Admin), 200))
	if len(runs) != 3 || runs[0]["status"] != "succeeded" {
		t.Errorf("integrity runs = %v", runs)
	}
	for _, q := range []string{"kind=nonsense", "status=maybe", "from=yesterday", "limit=9999"} {
		if got := e.Get("/api/v1/integrity/flags?"+q, f.Admin); got.Status != 422 {
			t.Errorf("?%s: %d, want 422", q, got.Status)
		}
	}
}

// A leader asks a member about a record; the member sees the question in
// their app and answers there; the leader reads the answer. A team leader
// asks about their team's records only; a member asks nothing.
func TestVerificationRoundTrip(t *testing.T) {
	e := apptest.New(t, apptest.Insecure)
	f := e.NewFixture()
	at := apptest.Start.Add(-3 * time.Hour)
	recA := plantBurst(e, f.MemberTokA, f.VillageA, at, 1, "090533")[0]
	recA2 := plantBurst(e, f.MemberTokA2, f.VillageA, at, 1, "090544")[0]
	e.Settle()

	v := e.Must(e.Post("/api/v1/assistance/"+recA+"/verification", f.CommuneLeaderA, map[string]string{"reason": "Hộ dân nói chưa được hỗ trợ"}), 201)
	for k, want := range map[string]any{"record_id": recA, "member_id": f.MemberA, "status": "requested", "reason": "Hộ dân nói chưa được hỗ trợ"} {
		if v[k] != want {
			t.Errorf("%s = %v, want %v", k, v[k], want)
		}
	}
	if v["id"] == "" || v["created_at"] == "" {
		t.Errorf("verification = %v", v)
	}
	if got := e.Post("/api/v1/assistance/"+recA+"/verification", f.CommuneLeaderA, map[string]string{"reason": "lần nữa"}); got.Status != 409 {
		t.Errorf("a second question while one is open: %d, want 409", got.Status)
	}
	for _, c := range []struct {
		name, tok, rec string
		want           int
	}{
		{"member", f.MemberTokA2, recA, 403}, {"team leader, another team", f.TeamLeaderA, recA2, 404},
		{"leader, another commune", f.CommuneLeaderB, recA2, 404}, {"no such record", f.CommuneLeaderA, f.MemberA + ":nope", 404},
		{"no reason", f.CommuneLeaderA, recA2, 422},
	} {
		body := map[string]string{"reason": "x"}
		if c.want == 422 {
			body = map[string]string{"reason": " "}
		}
		if got := e.Post("/api/v1/assistance/"+c.rec+"/verification", c.tok, body); got.Status != c.want {
			t.Errorf("%s: %d, want %d", c.name, got.Status, c.want)
		}
	}
	mine := items(e.Must(e.Get("/api/v1/verifications?status=requested", f.MemberTokA), 200))
	if len(mine) != 1 || mine[0]["id"] != v["id"] {
		t.Fatalf("member's verifications = %v", mine)
	}
	if others := items(e.Must(e.Get("/api/v1/verifications", f.MemberTokA2), 200)); len(others) != 0 {
		t.Errorf("another member sees %v", others)
	}

	// The member's app shows it at the top, with the reason, and takes the answer.
	b := e.Browser()
	b.Login("member.a", apptest.Password)
	home := b.Get("/app")
	if home.Status != 200 || !strings.Contains(home.Body, "Hộ dân nói chưa được hỗ trợ") || !strings.Contains(home.Body, `action="/app/verifications/`+v["id"].(string)+`"`) {
		t.Fatalf("app home (%d) does not ask: %.2000s", home.Status, home.Body)
	}
	bad := b.Submit(home, "/app/verifications/"+v["id"].(string), url.Values{"status": {"corrected"}})
	if bad.Status != 422 {
		t.Errorf("corrected without corrections: %d, want 422", bad.Status)
	}
	done := b.Submit(home, "/app/verifications/"+v["id"].(string), url.Values{"status": {"corrected"}, "answer": {"Là cài VNeID, không phải kích hoạt"},
		"corrected_service": {"vneid_install"}})
	if done.Status != 200 || strings.Contains(done.Body, `action="/app/verifications/`) {
		t.Errorf("after the answer (%d) the question is still asked", done.Status)
	}
	got := items(e.Must(e.Get("/api/v1/verifications?commune="+f.CommuneA, f.CommuneLeaderA), 200))
	if len(got) != 1 || got[0]["status"] != "corrected" || got[0]["answered_by"] != "member.a" ||
		got[0]["corrected"].(map[string]any)["service"] != "vneid_install" {
		t.Errorf("leader reads %v", got)
	}
	// Answered, a record may be asked about again.
	again := e.Must(e.Post("/api/v1/assistance/"+recA+"/verification", f.TeamLeaderA, map[string]string{"reason": "Hỏi lại"}), 201)
	if again["id"] == v["id"] {
		t.Error("a new question took the old one's ID")
	}
	if got := e.Patch("/api/v1/verifications/"+again["id"].(string), f.MemberTokA2, map[string]string{"status": "confirmed"}); got.Status != 404 {
		t.Errorf("another member answered: %d", got.Status)
	}
	if got := e.Patch("/api/v1/verifications/"+again["id"].(string), f.MemberTokA, map[string]string{"status": "maybe"}); got.Status != 422 {
		t.Errorf("a bad status: %d", got.Status)
	}
	ans := e.Must(e.Patch("/api/v1/verifications/"+again["id"].(string), f.MemberTokA, map[string]string{"status": "not_confirmed", "answer": "Nhập nhầm"}), 200)
	if ans["status"] != "not_confirmed" || ans["answered_at"] == nil {
		t.Errorf("answer = %v", ans)
	}

	// The review queue shows the answers and the outcome rates.
	lb := e.Browser()
	lb.Login("leader.a", apptest.Password)
	q := lb.Get("/communes/" + f.CommuneA + "/integrity")
	if q.Status != 200 || !strings.Contains(q.Body, "Là cài VNeID") || !strings.Contains(q.Body, "Nhập nhầm") {
		t.Errorf("review queue (%d) does not show the answers", q.Status)
	}
}

// The weekly sample draws up to SampleSize records per commune, one per
// member first, as verification requests the commune checks by phone;
// drawing the week again adds nothing.
func TestWeeklySampleDrawsOncePerWeek(t *testing.T) {
	e := apptest.New(t)
	f := e.NewFixture()
	ctx := context.Background()
	// Monday 2026-11-16 to Sunday 2026-11-22; the clock is on Saturday the 21st.
	plantBurst(e, f.MemberTokA, f.VillageA, time.Date(2026, 11, 17, 9, 0, 0, 0, domain.Location), 6, "090555")
	plantBurst(e, f.MemberTokA2, f.VillageA, time.Date(2026, 11, 19, 9, 0, 0, 0, domain.Location), 3, "090566")
	plantBurst(e, f.MemberTokB, f.VillageB, time.Date(2026, 11, 15, 9, 0, 0, 0, domain.Location), 3, "090577") // the week before
	e.Settle()
	e.App.Integrity.SampleSize = 4
	run, err := e.App.Integrity.Sample(ctx, "2026-11-19", jobs.TriggerManual)
	if err != nil || run.Date != "2026-11-16" || run.Records != 9 {
		t.Fatalf("run = %+v, %v", run, err)
	}
	got := items(e.Must(e.Get("/api/v1/verifications?source=sample", f.Admin), 200))
	members := map[any]int{}
	for _, v := range got {
		members[v["member_id"]]++
		if v["source"] != "sample" || v["status"] != "requested" || v["commune_code"] != f.CommuneA {
			t.Errorf("sample verification = %v", v)
		}
	}
	if len(got) != 4 || members[f.MemberA] == 0 || members[f.MemberA2] == 0 {
		t.Errorf("sample = %d verifications over %v, want 4 covering both members", len(got), members)
	}
	if _, err := e.App.Integrity.Sample(ctx, "2026-11-22", jobs.TriggerManual); err != nil {
		t.Fatal(err)
	}
	if n := len(items(e.Must(e.Get("/api/v1/verifications", f.Admin), 200))); n != 4 {
		t.Errorf("after drawing the week again: %d verifications, want 4", n)
	}
	// The leader records the phone check's outcome.
	id := got[0]["id"].(string)
	ok := e.Must(e.Patch("/api/v1/verifications/"+id, f.CommuneLeaderA, map[string]string{"status": "unreachable"}), 200)
	if ok["status"] != "unreachable" || ok["answered_by"] != "leader.a" {
		t.Errorf("outcome = %v", ok)
	}
}
