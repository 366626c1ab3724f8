package api_test

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/hue-cdt/cdt/internal/app"
	"github.com/hue-cdt/cdt/internal/apptest"
)

func TestAssistanceIsIdempotentByClientID(t *testing.T) {
	e := apptest.New(t)
	f := e.NewFixture()
	rec := apptest.Record(f.VillageA, apptest.Start.Add(-time.Hour), "0905 000 111")
	first := e.Must(e.Post("/api/v1/assistance", f.MemberTokA, rec), 201)
	if first["created"] != true || first["id"] != f.MemberA+":"+rec["client_id"].(string) || first["team_id"] != f.TeamA1 {
		t.Fatalf("first: %v", first)
	}
	again := e.Must(e.Post("/api/v1/assistance", f.MemberTokA, rec), 200)
	if again["created"] != false || again["id"] != first["id"] {
		t.Fatalf("again: %v", again)
	}
	// Twenty concurrent sends of one new record: one created, nineteen duplicates.
	rec2 := apptest.Record(f.VillageA, apptest.Start.Add(-time.Minute), "0905000222")
	var wg sync.WaitGroup
	var mu sync.Mutex
	statuses := map[int]int{}
	ids := map[string]bool{}
	for range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := e.Post("/api/v1/assistance", f.MemberTokA, rec2)
			mu.Lock()
			statuses[r.Status]++
			ids[r.JSON()["id"].(string)] = true
			mu.Unlock()
		}()
	}
	wg.Wait()
	if statuses[201] != 1 || statuses[200] != 19 || len(ids) != 1 {
		t.Fatalf("concurrent duplicates: %v, ids %v", statuses, ids)
	}
	n, err := e.App.Store.Database.Collection("assistance").CountDocuments(context.Background(), bson.D{})
	if err != nil || n != 2 {
		t.Fatalf("%d records stored (%v), want 2", n, err)
	}
	// The buffer holds each created record once, so counts are right too.
	e.Settle()
	got, err := e.App.Live.MemberCount(context.Background(), f.CommuneA, f.MemberA, "2026-11-21", "2026-11-21")
	if err != nil || got != 2 {
		t.Fatalf("member count %d (%v), want 2", got, err)
	}
}

func TestAssistanceValidation(t *testing.T) {
	e := apptest.New(t)
	f := e.NewFixture()
	now := apptest.Start
	cases := []struct {
		name  string
		mut   func(map[string]any)
		field string
	}{
		{"unknown service", func(r map[string]any) { r["service"] = "teleport" }, "service"},
		{"village of another commune", func(r map[string]any) { r["village_code"] = f.VillageB }, "village_code"},
		{"ten minutes in the future", func(r map[string]any) { r["occurred_at"] = now.Add(11 * time.Minute).Format(time.RFC3339) }, "occurred_at"},
		{"older than 90 days", func(r map[string]any) { r["occurred_at"] = now.Add(-91 * 24 * time.Hour).Format(time.RFC3339) }, "occurred_at"},
		{"not a time", func(r map[string]any) { r["occurred_at"] = "yesterday" }, "occurred_at"},
		{"outcome", func(r map[string]any) { r["outcome"] = "maybe" }, "outcome"},
		{"gender", func(r map[string]any) { r["citizen_gender"] = "q" }, "citizen_gender"},
		{"age group", func(r map[string]any) { r["citizen_age_group"] = "old" }, "citizen_age_group"},
		{"note too long", func(r map[string]any) { r["note"] = strings.Repeat("ư", 501) }, "note"},
		{"client id", func(r map[string]any) { r["client_id"] = "12" }, "client_id"},
		{"household missing", func(r map[string]any) { r["household_ref"] = " " }, "household_ref"},
		{"household nonsense", func(r map[string]any) { r["household_ref"] = "12" }, "household_ref"},
	}
	for _, tc := range cases {
		t.Run(strings.ReplaceAll(tc.name, " ", "_"), func(t *testing.T) {
			rec := apptest.Record(f.VillageA, now.Add(-time.Hour), "0905111999")
			tc.mut(rec)
			r := e.Post("/api/v1/assistance", f.MemberTokA, rec)
			if r.Status != 422 || !strings.Contains(string(r.Body), `"field":"`+tc.field+`"`) {
				t.Fatalf("%d %s", r.Status, r.Body)
			}
		})
	}
	// Nine minutes ahead (a phone clock a little fast) is accepted.
	rec := apptest.Record(f.VillageA, now.Add(9*time.Minute), "0905111999")
	e.Must(e.Post("/api/v1/assistance", f.MemberTokA, rec), 201)
	n, _ := e.App.Store.Database.Collection("assistance").CountDocuments(context.Background(), bson.D{})
	if n != 1 {
		t.Fatalf("%d records stored; the rejected ones must not be", n)
	}
	// Only field members log.
	if r := e.Post("/api/v1/assistance", f.CommuneLeaderA, apptest.Record(f.VillageA, now, "0905111999")); r.Status != 403 {
		t.Fatalf("commune leader logging: %d", r.Status)
	}
}

func TestAssistanceBatchJudgesEachRecord(t *testing.T) {
	e := apptest.New(t)
	f := e.NewFixture()
	good := apptest.Record(f.VillageA, apptest.Start.Add(-2*time.Hour), "0905222333")
	e.Must(e.Post("/api/v1/assistance", f.MemberTokA, good), 201)
	bad := apptest.Record(f.VillageA, apptest.Start, "0905222334")
	bad["service"] = "nope"
	fresh := apptest.Record(f.VillageA, apptest.Start.Add(-time.Minute), "0905222335")
	body := map[string]any{"records": []any{good, bad, fresh, fresh, map[string]any{"client_id": "x", "extra": 1}}}
	m := e.Must(e.Post("/api/v1/assistance/batch", f.MemberTokA, body), 200)
	res := m["results"].([]any)
	want := []string{"duplicate", "invalid", "created", "duplicate", "invalid"}
	for i, w := range want {
		got := res[i].(map[string]any)
		if got["status"] != w {
			t.Fatalf("record %d: %v, want %s", i, got, w)
		}
		if w == "invalid" && got["error"].(map[string]any)["code"] != "validation_failed" {
			t.Fatalf("record %d error: %v", i, got)
		}
		if w != "invalid" && got["id"] == nil {
			t.Fatalf("record %d without id: %v", i, got)
		}
	}
	if res[0].(map[string]any)["client_id"] != good["client_id"] {
		t.Fatal("results are not in request order")
	}
	too := make([]any, 501)
	for i := range too {
		too[i] = apptest.Record(f.VillageA, apptest.Start, "0905222336")
	}
	if r := e.Post("/api/v1/assistance/batch", f.MemberTokA, map[string]any{"records": too}); r.Status != 422 {
		t.Fatalf("501 records: %d", r.Status)
	}
	n, _ := e.App.Store.Database.Collection("assistance").CountDocuments(context.Background(), bson.D{})
	if n != 2 {
		t.Fatalf("%d records stored, want 2", n)
	}
}

func TestAssistanceListsAreScoped(t *testing.T) {
	e := apptest.New(t)
	f := e.NewFixture()
	post := func(tok, village string, k int) {
		for i := range k {
			e.Must(e.Post("/api/v1/assistance", tok, apptest.Record(village, apptest.Start.Add(-time.Duration(i+1)*time.Hour),
				fmt.Sprintf("09051%05d", i))), 201)
		}
	}
	post(f.MemberTokA, f.VillageA, 3)
	post(f.MemberTokA2, f.VillageA, 2)
	post(f.MemberTokB, f.VillageB, 4)
	count := func(tok, q string) int {
		r := e.Get("/api/v1/assistance"+q, tok)
		if r.Status != 200 {
			return -r.Status
		}
		return len(r.JSON()["items"].([]any))
	}
	for _, settled := range []bool{false, true} {
		if settled {
			e.Settle() // the same answers from the rollups as from the buffer
		}
		cases := []struct {
			tok, q string
			want   int
		}{
			{f.MemberTokA, "", 3}, {f.MemberTokA, "?member=" + f.MemberA2, -403},
			{f.TeamLeaderA, "", 3}, {f.TeamLeaderA, "?member=" + f.MemberA, 3}, {f.TeamLeaderA, "?team=" + f.TeamA2, -403},
			{f.CommuneLeaderA, "", 5}, {f.CommuneLeaderA, "?team=" + f.TeamA2, 2}, {f.CommuneLeaderA, "?commune=" + f.CommuneB, -403},
			{f.CommuneLeaderA, "?member=" + f.MemberB, -403},
			{f.Admin, "?commune=" + f.CommuneB, 4}, {f.Admin, "", 9},
			{f.CommuneLeaderB, "?limit=2", 2}, {f.CommuneLeaderB, "?from=2026-11-21T05:30:00%2B07:00", 3}, {f.CommuneLeaderB, "?to=2026-11-21T05:30:00%2B07:00", 1},
		}
		for _, tc := range cases {
			if got := count(tc.tok, tc.q); got != tc.want {
				t.Errorf("settled=%v %s: %d, want %d", settled, tc.q, got, tc.want)
			}
		}
	}
	// Paging walks every record of the commune once, newest first.
	seen := map[string]bool{}
	cursor, last := "", "9999"
	for {
		m := e.Must(e.Get("/api/v1/assistance?limit=2&cursor="+cursor, f.CommuneLeaderA), 200)
		for _, it := range m["items"].([]any) {
			r := it.(map[string]any)
			if seen[r["id"].(string)] || r["occurred_at"].(string) > last {
				t.Fatalf("paging order: %v", r)
			}
			seen[r["id"].(string)], last = true, r["occurred_at"].(string)
			if _, leaked := r["household_ref"]; leaked {
				t.Fatal("household in a record")
			}
		}
		if m["next_cursor"] == nil {
			break
		}
		cursor = m["next_cursor"].(string)
	}
	if len(seen) != 5 {
		t.Fatalf("paged %d records", len(seen))
	}
}

// syncBuf collects log output.
type syncBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuf) Write(p []byte) (int, error) { s.mu.Lock(); defer s.mu.Unlock(); return s.b.Write(p) }

// TestHouseholdNumberIsNeverStored logs records with distinctive phone numbers
// and looks for them, in every spelling, in every collection, the answers and
// the logs.
func TestHouseholdNumberIsNeverStored(t *testing.T) {
	logs := &syncBuf{}
	e := apptest.New(t, func(c *app.Config) {
		c.Logger = slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	})
	f := e.NewFixture()
	refs := []string{"0987 654 321", "+84987654322", "HK-778899-TT"}
	var answers bytes.Buffer
	for _, ref := range refs {
		r := e.Post("/api/v1/assistance", f.MemberTokA, apptest.Record(f.VillageA, apptest.Start.Add(-time.Hour), ref))
		answers.Write(r.Body)
	}
	r := e.Post("/api/v1/assistance/batch", f.MemberTokA, map[string]any{"records": []any{
		apptest.Record(f.VillageA, apptest.Start.Add(-time.Hour), "0987654323"),
		apptest.Record("bad", apptest.Start, "0987654324")}})
	answers.Write(r.Body)
	e.Settle()
	answers.Write(e.Get("/api/v1/assistance", f.MemberTokA).Body)

	needles := []string{"987654321", "987654322", "987654323", "987654324", "778899", "HK778899TT"}
	ctx := context.Background()
	names, err := e.App.Store.Database.ListCollectionNames(ctx, bson.D{})
	if err != nil {
		t.Fatal(err)
	}
	docs := 0
	for _, name := range names {
		cur, err := e.App.Store.Database.Collection(name).Find(ctx, bson.D{})
		if err != nil {
			t.Fatal(err)
		}
		for cur.Next(ctx) {
			docs++
			raw := []byte(cur.Current.String())
			for _, n := range needles {
				if bytes.Contains(cur.Current, []byte(n)) || bytes.Contains(raw, []byte(n)) {
					t.Fatalf("%s holds %s: %s", name, n, raw)
				}
			}
		}
	}
	if docs < 10 {
		t.Fatalf("only %d documents searched", docs)
	}
	for _, n := range needles {
		if strings.Contains(answers.String(), n) || strings.Contains(logs.b.String(), n) {
			t.Fatalf("%s in an answer or a log line", n)
		}
	}
	// The same household typed two ways is one household.
	sets, err := e.App.Store.Rollups.HouseholdSets(ctx)
	if err != nil {
		t.Fatal(err)
	}
	// 0987654321, 0987654322 (= +84…), HK778899TT, 0987654323
	if n := sets[f.CommuneA].Len(); n != 4 {
		t.Fatalf("households: %d, want 4", n)
	}
}

func TestServicesCatalogue(t *testing.T) {
	e := apptest.New(t)
	a, _ := e.Login("admin", apptest.AdminPassword)
	m := e.Must(e.Get("/api/v1/services", a), 200)
	codes := map[string]map[string]any{}
	for _, it := range m["items"].([]any) {
		s := it.(map[string]any)
		codes[s["code"].(string)] = s
	}
	for _, c := range []string{"vneid_install", "vneid_activation", "public_service_online", "cashless_payment", "hue_s",
		"digital_signature", "digital_address", "ecommerce", "digital_skills", "other"} {
		if codes[c] == nil || codes[c]["name_vi"] == "" || codes[c]["name_en"] == "" || codes[c]["name_vi"] == codes[c]["name_en"] && c != "other" {
			t.Errorf("service %s: %v", c, codes[c])
		}
	}
	if codes["vneid_activation"]["name_vi"] != "Kích hoạt tài khoản định danh điện tử mức 2" {
		t.Fatalf("label: %v", codes["vneid_activation"])
	}
}

// A batch that names the member who logged it is stored only under that
// member's login: a phone shared by two members never credits one with the
// other's work, even if the phone tried.
func TestBatchOfAnotherMemberIsRefused(t *testing.T) {
	e := apptest.New(t)
	f := e.NewFixture()
	recs := []any{apptest.Record(f.VillageA, apptest.Start.Add(-time.Hour), "0905222444")}
	r := e.Post("/api/v1/assistance/batch", f.MemberTokA2, map[string]any{"member_id": f.MemberA, "records": recs})
	if r.Status != 409 || r.ErrorCode() != "member_mismatch" {
		t.Fatalf("A's batch under A2's login: %d %s", r.Status, r.Body)
	}
	if n, _ := e.App.Store.Database.Collection("assistance").CountDocuments(context.Background(), bson.D{}); n != 0 {
		t.Fatalf("%d records stored from a refused batch", n)
	}
	m := e.Must(e.Post("/api/v1/assistance/batch", f.MemberTokA, map[string]any{"member_id": f.MemberA, "records": recs}), 200)
	if st := m["results"].([]any)[0].(map[string]any)["status"]; st != "created" {
		t.Fatalf("A's batch under A's login: %v", m)
	}
}
