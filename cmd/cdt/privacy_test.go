package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/hue-cdt/cdt/internal/apptest"
)

// planted are personal data typed into free text, as members and leaders
// write them, each with the byte strings that would betray it on disk.
var planted = []struct{ typed, kind string }{
	{"0912 345 671", "phone"}, {"+84 905 111 222", "phone"}, {"84-935-222-333", "phone"}, {"0084 977 333 444", "phone"},
	{"(0234) 3822 123", "phone"}, {"0234.382.5678", "phone"}, {"01234 567 890", "phone"}, {"+84 (0) 913 444 555", "phone"},
	{"0987654321", "phone"}, {"0903.456.789", "phone"}, {"0868-111-999", "phone"},
	{"046095001234", "citizen_id"}, {"0460 9500 1235", "citizen_id"}, {"CMND 191234567", "citizen_id"},
	{"lan.tran@gmail.com", "email"}, {"hoang_minh@yahoo.com.vn", "email"}, {"ubnd.phuxuan@thuathienhue.gov.vn", "email"},
}

// needles are what must not be found: each planted value as typed (without
// its label) and as bare digits, and the local part of each address.
func needles() []string {
	var out []string
	for _, p := range planted {
		v := strings.TrimPrefix(p.typed, "CMND ")
		switch p.kind {
		case "email":
			out = append(out, v, v[:strings.Index(v, "@")])
		default:
			digits := strings.Map(func(r rune) rune {
				if r >= '0' && r <= '9' {
					return r
				}
				return -1
			}, v)
			out = append(out, v, digits[len(digits)-9:]) // the last nine digits: every prefix form ends with them
		}
	}
	return out
}

// TestPlantedPersonalDataIsNowhereOnDisk plants phone numbers (every
// Vietnamese form), 12-digit citizen ID numbers and e-mail addresses in the
// notes of records sent through every path (the API one by one and in a
// batch, the phone's queue, the form without JavaScript, a corrected record
// sent again, a record refused as invalid) and in every text a leader types
// about a citizen (a privacy request's contact and note, through the API
// and the page), through a real server; then it stops the server and
// searches every byte of the data directory (SQLite files, WAL) and
// everything the server printed, at debug level.
func TestPlantedPersonalDataIsNowhereOnDisk(t *testing.T) {
	dir := t.TempDir()
	env := map[string]string{"CDT_DATA_DIR": dir, "CDT_ADDR": "127.0.0.1:0", "CDT_ADMIN_PASSWORD": "admin-pass-1",
		"CDT_LOG_LEVEL": "debug", "CDT_SECURE_COOKIES": "false"}
	s := startServer(t, env)
	tok := s.login(t, "admin", "admin-pass-1")
	_, v := s.call(t, "POST", "/api/v1/units", tok, map[string]any{"level": "village", "parent_code": "20056", "name": "Thôn A Đớt", "households": 120})
	_, team := s.call(t, "POST", "/api/v1/teams", tok, map[string]any{"name": "Tổ CNSCĐ A Đớt", "commune_code": "20056",
		"village_code": v["code"], "established_on": "2025-08-01", "decision_no": "9/QĐ-UBND"})
	_, m := s.call(t, "POST", "/api/v1/members", tok, map[string]any{"team_id": team["id"], "full_name": "Hồ Thị Hoa",
		"position": "member", "affiliation": "youth_union", "gender": "f", "birth_year": 1999})
	for _, u := range []map[string]any{
		{"username": "hoa.ho", "password": "mat-khau-9", "role": "member", "unit_code": "20056", "member_id": m["id"]},
		{"username": "lanh.dao", "password": "mat-khau-9", "role": "commune_leader", "unit_code": "20056"},
	} {
		if st, body := s.call(t, "POST", "/api/v1/users", tok, u); st != 201 {
			t.Fatalf("login %v: %d %v", u["username"], st, body)
		}
	}
	mt, lt := s.login(t, "hoa.ho", "mat-khau-9"), s.login(t, "lanh.dao", "mat-khau-9")
	at := time.Now().Add(-time.Hour).Format(time.RFC3339)
	n := 0
	record := func(note string) map[string]any {
		n++
		return map[string]any{"client_id": fmt.Sprintf("%08d-1111-4111-8111-111111111111", n), "service": "vneid_activation",
			"household_ref": fmt.Sprintf("0905 000 %03d", n), "village_code": v["code"], "occurred_at": at, "outcome": "done",
			"consent": "given", "note": note}
	}
	note := func(i int) string {
		return fmt.Sprintf("gọi lại %s giúp bà %d", planted[i%len(planted)].typed, i)
	}

	// The API, one by one: every planted value once.
	for i := range planted {
		if st, body := s.call(t, "POST", "/api/v1/assistance", mt, record(note(i))); st != 201 {
			t.Fatalf("record %d: %d %v", i, st, body)
		}
	}
	// A batch, with everything in one note; a correction sent again under
	// the same client_id; a record refused (no such village).
	all := make([]string, len(planted))
	for i, p := range planted {
		all[i] = p.typed
	}
	first := record(strings.Join(all, "; "))
	again := map[string]any{}
	for k, x := range first {
		again[k] = x
	}
	again["note"] = "sửa: " + planted[0].typed
	bad := record(note(3))
	bad["village_code"] = "99999"
	if st, body := s.call(t, "POST", "/api/v1/assistance/batch", mt, map[string]any{"records": []any{first, again, bad}}); st != 200 {
		t.Fatalf("batch: %d %v", st, body)
	}

	// The phone app: the form without JavaScript, and the offline queue.
	base := "http://" + s.addr
	jar, _ := cookiejar.New(nil)
	b := &apptest.Browser{T: t, Base: base, Client: &http.Client{Jar: jar}}
	b.Login("hoa.ho", "mat-khau-9")
	form := b.Get("/app/log")
	if p := b.Submit(form, "/app/log", url.Values{"client_id": {"a0000000-1111-4111-8111-111111111111"}, "service": {"hue_s"},
		"household_ref": {"0905 000 900"}, "village_code": {v["code"].(string)}, "outcome": {"done"}, "consent": {"given"},
		"note": {strings.Join(all, " | ")}}); p.Status != 200 || p.URL.Path != "/app" {
		t.Fatalf("app form: %d %s", p.Status, p.URL)
	}
	csrf, _ := b.Get("/app/log").Doc.Find(`meta[name="csrf-token"]`).Attr("content")
	queued, _ := json.Marshal(map[string]any{"records": []any{record(strings.Join(all, "\n"))}, "sent_at": time.Now().Format(time.RFC3339)})
	req, _ := http.NewRequest("POST", base+"/app/api/assistance/batch", bytes.NewReader(queued))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-CSRF-Token", csrf)
	req.Header.Set("Origin", base)
	resp, err := b.Client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	qb, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(qb), `"created"`) {
		t.Fatalf("queue: %d %s", resp.StatusCode, qb)
	}

	// A leader types about citizens: a privacy request's contact and note,
	// by the API and by the page.
	if st, body := s.call(t, "POST", "/api/v1/privacy/requests", lt, map[string]any{"kind": "access", "commune_code": "20056",
		"household_ref": "0966 112 233", "received_on": time.Now().Format("2006-01-02"),
		"contact": "gọi " + planted[1].typed + " hoặc " + planted[14].typed, "note": strings.Join(all, ", ")}); st != 201 {
		t.Fatalf("privacy request: %d %v", st, body)
	}
	lb := &apptest.Browser{T: t, Base: base, Client: &http.Client{Jar: func() http.CookieJar { j, _ := cookiejar.New(nil); return j }()}}
	lb.Login("lanh.dao", "mat-khau-9")
	page := lb.Get("/privacy/requests")
	if p := lb.Submit(page, "/privacy/requests", url.Values{"kind": {"delete"}, "commune_code": {"20056"}, "household_ref": {"0966 112 234"},
		"received_on": {time.Now().Format("2006-01-02")}, "contact": {planted[4].typed + " " + planted[15].typed},
		"note": {strings.Join(all, " / ")}}); p.Status != 200 || !strings.HasPrefix(p.URL.Path, "/privacy/requests/20056-PR-") {
		t.Fatalf("privacy request page: %d %s", p.Status, p.URL)
	}

	time.Sleep(1500 * time.Millisecond) // a delta flush and the audit trail's
	if err := s.stop(); err != nil {
		t.Fatal(err)
	}
	find := append(needles(), "966 112 233", "966112233", "966 112 234", "966112234")
	// Stored data is searchable as text: the village's name and the markers
	// left in the notes are found.
	assertNowhereOnDisk(t, dir, find, []string{"A Đớt", "[SĐT]", "[CCCD]", "[email]"})
	printed := s.stderr.String() + s.stdout.String()
	if !strings.Contains(printed, "/app/api/assistance/batch") {
		t.Fatal("the captured log misses the requests (is it the server's?)")
	}
	for _, n := range find {
		if strings.Contains(printed, n) {
			t.Errorf("the server printed %q", n)
		}
	}
}
