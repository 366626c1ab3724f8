package api_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/hue-cdt/cdt/internal/apptest"
)

func TestUnitsAsOfAnyDate(t *testing.T) {
	e := apptest.New(t)
	a, _ := e.Login("admin", apptest.AdminPassword)
	count := func(q string) (int, map[string]any) {
		m := e.Must(e.Get("/api/v1/units?"+q, a), 200)
		items := m["items"].([]any)
		if int(m["total"].(float64)) != len(items) {
			t.Fatalf("total %v for %d items", m["total"], len(items))
		}
		if len(items) == 0 {
			return 0, nil
		}
		return len(items), items[0].(map[string]any)
	}
	for q, want := range map[string]int{
		"level=commune":                             40,
		"level=commune&as_of=2024-06-30":            141,
		"level=commune&as_of=2025-03-01":            133,
		"level=district&as_of=2024-06-30":           9,
		"level=district":                            0,
		"level=commune&parent=474&as_of=2024-06-30": 36,
		"level=province":                            1,
	} {
		if n, _ := count(q); n != want {
			t.Errorf("%s: %d units, want %d", q, n, want)
		}
	}
	_, first := count("level=commune&as_of=2024-06-30&parent=474")
	for _, k := range []string{"code", "name", "level", "type", "parent_code", "valid_from", "valid_to", "successor_code"} {
		if _, ok := first[k]; !ok {
			t.Fatalf("unit without %s: %v", k, first)
		}
	}
	old := e.Must(e.Get("/api/v1/units/19750?as_of=2024-01-01", a), 200)
	if old["name"] != "Phường Tây Lộc" || old["successor_code"] != "19750" || old["valid_to"] != "2024-12-31" {
		t.Fatalf("19750 in 2024: %v", old)
	}
	now := e.Must(e.Get("/api/v1/units/19753", a), 200)
	if now["name"] != "Phường Phú Xuân" || now["valid_to"] != nil || now["households_2019"] == nil {
		t.Fatalf("19753 today: %v", now)
	}
	if r := e.Get("/api/v1/units/19750", a); r.Status != 404 {
		t.Fatalf("19750 no longer exists today: %d", r.Status)
	}
	if r := e.Get("/api/v1/units?as_of=2024-02-30", a); r.Status != 422 {
		t.Fatalf("bad date: %d", r.Status)
	}
}

func TestVillagesTeamsMembersEndToEnd(t *testing.T) {
	e := apptest.New(t)
	f := e.NewFixture()
	tok := f.CommuneLeaderA

	v := e.Must(e.Post("/api/v1/units", tok, map[string]any{"level": "village", "parent_code": f.CommuneA, "name": "Tổ dân phố 2", "households": 310}), 201)
	if v["code"] != f.CommuneA+"-002" || v["type"] != "to_dan_pho" || v["parent_code"] != f.CommuneA || v["households"].(float64) != 310 {
		t.Fatalf("village: %v", v)
	}
	e.Must(e.Patch("/api/v1/units/"+v["code"].(string), tok, map[string]any{"households": 320}), 200)
	vs := e.Must(e.Get("/api/v1/units?level=village&parent="+f.CommuneA, tok), 200)
	if vs["total"].(float64) != 2 {
		t.Fatalf("villages: %v", vs)
	}
	team := e.Must(e.Post("/api/v1/teams", tok, map[string]any{"name": "Tổ CNSCĐ TDP 2", "commune_code": f.CommuneA,
		"village_code": v["code"], "established_on": "2025-07-20", "decision_no": "45/QĐ-UBND"}), 201)
	tid := team["id"].(string)
	m := e.Must(e.Post("/api/v1/members", tok, map[string]any{"team_id": tid, "full_name": "  Phan  Thị   Hoa ", "phone": "+84 905 123 456",
		"position": "leader", "affiliation": "womens_union", "gender": "f", "birth_year": 1988}), 201)
	if m["full_name"] != "Phan Thị Hoa" || m["phone"] != "0905123456" || m["active"] != true {
		t.Fatalf("member normalised: %v", m)
	}
	got := e.Must(e.Get("/api/v1/teams/"+tid, tok), 200)
	if got["leader_member_id"] != m["id"] || got["member_count"].(float64) != 1 {
		t.Fatalf("team view: %v", got)
	}
	// A second leader in the same team is refused, field by field.
	r := e.Post("/api/v1/members", tok, map[string]any{"team_id": tid, "full_name": "Võ Văn Tài", "phone": "0905123456",
		"position": "leader", "affiliation": "resident", "gender": "m", "birth_year": 1990})
	if r.Status != 422 || !strings.Contains(string(r.Body), `"team_has_leader"`) || !strings.Contains(string(r.Body), `"field":"phone","code":"duplicate"`) {
		t.Fatalf("second leader: %d %s", r.Status, r.Body)
	}
	// Leaving keeps the member and their history.
	left := e.Must(e.Patch("/api/v1/members/"+m["id"].(string), tok, map[string]any{"active": false}), 200)
	hist := left["history"].([]any)
	if left["active"] != false || left["left_on"] == nil || len(hist) != 2 || hist[1].(map[string]any)["kind"] != "left" {
		t.Fatalf("left member: %v", left)
	}
	all := e.Must(e.Get("/api/v1/members?status=all&team="+tid, tok), 200)
	act := e.Must(e.Get("/api/v1/members?team="+tid, tok), 200)
	if all["total"].(float64) != 1 || act["total"].(float64) != 0 {
		t.Fatalf("status filter: all=%v active=%v", all["total"], act["total"])
	}
	// A login for a member of the commune.
	m2 := e.Must(e.Post("/api/v1/members", tok, map[string]any{"team_id": tid, "full_name": "Võ Văn Tài", "position": "member",
		"affiliation": "resident", "gender": "m", "birth_year": 1990}), 201)
	u := e.Must(e.Post("/api/v1/users", tok, map[string]any{"username": "tai.vo", "password": "mat-khau-1", "role": "member",
		"unit_code": f.CommuneA, "member_id": m2["id"]}), 201)
	if u["role"] != "member" || u["member_id"] != m2["id"] {
		t.Fatalf("user: %v", u)
	}
	e.Login("tai.vo", "mat-khau-1")
	if r := e.Post("/api/v1/users", tok, map[string]any{"username": "tai.vo2", "password": "mat-khau-1", "role": "member",
		"unit_code": f.CommuneA, "member_id": m2["id"]}); r.Status != 422 {
		t.Fatalf("second login for one member: %d", r.Status)
	}
}

func TestPaginationWalksEveryItemOnce(t *testing.T) {
	e := apptest.New(t)
	f := e.NewFixture()
	for i := range 7 {
		e.Must(e.Post("/api/v1/members", f.Admin, map[string]any{"team_id": f.TeamA2, "full_name": fmt.Sprintf("Thành viên %d", i),
			"position": "member", "affiliation": "resident", "gender": "m", "birth_year": 1980 + i}), 201)
	}
	seen := map[string]bool{}
	cursor := ""
	pages := 0
	for {
		m := e.Must(e.Get("/api/v1/members?commune="+f.CommuneA+"&limit=3&cursor="+cursor, f.CommuneLeaderA), 200)
		pages++
		if m["total"].(float64) != 10 {
			t.Fatalf("total: %v", m["total"])
		}
		for _, it := range m["items"].([]any) {
			id := it.(map[string]any)["id"].(string)
			if seen[id] {
				t.Fatalf("%s twice", id)
			}
			seen[id] = true
		}
		if m["next_cursor"] == nil {
			break
		}
		cursor = m["next_cursor"].(string)
	}
	if len(seen) != 10 || pages != 4 {
		t.Fatalf("%d members over %d pages", len(seen), pages)
	}
	if r := e.Get("/api/v1/members?cursor=!!!", f.Admin); r.Status != 422 {
		t.Fatalf("bad cursor: %d", r.Status)
	}
}

func TestBadInputGetsTheErrorFormatAndChangesNothing(t *testing.T) {
	e := apptest.New(t)
	f := e.NewFixture()
	before := e.Must(e.Get("/api/v1/teams?status=all&commune="+f.CommuneA, f.Admin), 200)["total"]
	vi := map[string]string{"Accept-Language": "vi-VN,vi;q=0.9"}
	cases := []struct {
		name   string
		body   any
		header map[string]string
		status int
		code   string
		detail string
	}{
		{"malformed", `{"name":`, nil, 400, "malformed_json", ""},
		{"trailing", `{"name":"a"} {}`, nil, 400, "malformed_json", ""},
		{"empty", ``, nil, 400, "malformed_json", ""},
		{"unknown field", `{"name":"a","colour":"red"}`, nil, 422, "validation_failed", "colour"},
		{"wrong type", `{"name":5}`, nil, 422, "validation_failed", "name"},
		{"too large", `{"name":"` + strings.Repeat("a", 70<<10) + `"}`, nil, 413, "body_too_large", ""},
		{"invalid values in Vietnamese", map[string]any{"name": "", "commune_code": f.CommuneA, "village_code": "19753-999",
			"established_on": "2025-13-01", "decision_no": ""}, vi, 422, "validation_failed", "Ngày thành lập"},
		{"old commune", map[string]any{"name": "T", "commune_code": "19750", "established_on": "2025-08-01", "decision_no": "1"}, nil, 422, "validation_failed", "commune_code"},
	}
	for _, tc := range cases {
		t.Run(strings.ReplaceAll(tc.name, " ", "_"), func(t *testing.T) {
			r := e.Do(apptest.Request{Method: "POST", Path: "/api/v1/teams", Token: f.Admin, Body: tc.body, Header: tc.header})
			if r.Status != tc.status || r.ErrorCode() != tc.code || !strings.Contains(string(r.Body), tc.detail) {
				t.Fatalf("%d %s", r.Status, r.Body)
			}
			errObj := r.JSON()["error"].(map[string]any)
			if errObj["message"] == "" || errObj["details"] == nil {
				t.Fatalf("incomplete error: %s", r.Body)
			}
		})
	}
	r := e.Do(apptest.Request{Method: "POST", Path: "/api/v1/teams", Token: f.Admin, Header: vi,
		Body: map[string]any{"name": "", "commune_code": f.CommuneA, "established_on": "x", "decision_no": ""}})
	details := r.JSON()["error"].(map[string]any)["details"].([]any)
	if len(details) != 3 || r.JSON()["error"].(map[string]any)["message"] != "Một số trường chưa hợp lệ." {
		t.Fatalf("every bad field at once, in Vietnamese: %s", r.Body)
	}
	after := e.Must(e.Get("/api/v1/teams?status=all&commune="+f.CommuneA, f.Admin), 200)["total"]
	if before != after {
		t.Fatalf("teams before %v, after %v", before, after)
	}
	if r := e.Get("/api/v1/nothing", f.Admin); r.Status != 404 || r.ErrorCode() != "not_found" {
		t.Fatalf("unknown route: %d %s", r.Status, r.Body)
	}
	if r := e.Do(apptest.Request{Method: "DELETE", Path: "/api/v1/teams", Token: f.Admin}); r.Status != 405 {
		t.Fatalf("wrong method: %d %s", r.Status, r.Body)
	}
}

func TestHealthAndReadiness(t *testing.T) {
	e := apptest.New(t)
	if r := e.Get("/healthz", ""); r.Status != 200 {
		t.Fatalf("healthz %d", r.Status)
	}
	if r := e.Get("/readyz", ""); r.Status != 200 {
		t.Fatalf("readyz %d", r.Status)
	}
	_ = e.App.Store.Close(t.Context())
	if r := e.Get("/readyz", ""); r.Status != 503 || r.ErrorCode() != "database_unavailable" {
		t.Fatalf("readyz with the database gone: %d %s", r.Status, r.Body)
	}
}
