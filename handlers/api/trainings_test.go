package api_test

import (
	"bytes"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"

	"github.com/hue-cdt/cdt/internal/apptest"
)

func TestTrainingProgressFromAttendance(t *testing.T) {
	e := apptest.New(t)
	f := e.NewFixture()
	prov := e.NewTraining(f.Admin, "46")
	if r := e.Post("/api/v1/trainings", f.CommuneLeaderA, map[string]any{"title": "X", "topics": []string{"hue_s"}, "unit_code": "46",
		"starts_at": "2026-11-01", "ends_at": "2026-11-01"}); r.Status != 403 {
		t.Fatalf("commune leader creates a province training: %d", r.Status)
	}
	local := e.NewTraining(f.CommuneLeaderA, f.CommuneA)
	if r := e.Get("/api/v1/trainings/"+local, f.CommuneLeaderB); r.Status != 404 {
		t.Fatalf("another commune's training: %d", r.Status)
	}
	// Idempotent per member: the second call records only the new one.
	m := e.Must(e.Post("/api/v1/trainings/"+prov+"/attendance", f.Admin, map[string]any{"member_ids": []string{f.MemberA, f.MemberB}}), 200)
	if m["recorded"].(float64) != 2 {
		t.Fatalf("recorded %v", m["recorded"])
	}
	m = e.Must(e.Post("/api/v1/trainings/"+prov+"/attendance", f.Admin, map[string]any{"member_ids": []string{f.MemberA, f.MemberB}}), 200)
	if m["recorded"].(float64) != 0 {
		t.Fatalf("again: recorded %v", m["recorded"])
	}
	// A commune leader marks only their own members; a bad list changes nothing.
	r := e.Post("/api/v1/trainings/"+local+"/attendance", f.CommuneLeaderA, map[string]any{"member_ids": []string{f.LeaderA, f.MemberB, "19753-M9999"}})
	if r.Status != 422 || !strings.Contains(string(r.Body), `member_ids[1]`) || !strings.Contains(string(r.Body), `member_ids[2]`) {
		t.Fatalf("bad list: %d %s", r.Status, r.Body)
	}
	e.Must(e.Post("/api/v1/trainings/"+local+"/attendance", f.CommuneLeaderA, map[string]any{"member_ids": []string{f.LeaderA}}), 200)

	rep := e.Must(e.Get("/api/v1/reports/training-progress", f.Admin), 200)
	// Commune A: teams A1 (LeaderA, MemberA trained) and A2 (MemberA2 not) → 1 of 2 teams.
	// Commune B: team B1 (MemberB trained) → 1 of 1. Active members: 4 in all, 3 trained.
	if rep["teams_total"].(float64) != 3 || rep["teams_trained"].(float64) != 2 || rep["members_total"].(float64) != 4 ||
		rep["members_trained"].(float64) != 3 {
		t.Fatalf("report: %v", rep)
	}
	topics := rep["by_topic"].(map[string]any)
	if topics["vneid_activation"].(float64) != 3 || topics["cyber_safety"].(float64) != 3 || topics["hue_s"].(float64) != 0 {
		t.Fatalf("by_topic: %v", topics)
	}
	if len(rep["by_commune"].([]any)) != 40 {
		t.Fatalf("by_commune: %d communes", len(rep["by_commune"].([]any)))
	}
	mine := e.Must(e.Get("/api/v1/reports/training-progress?unit="+f.CommuneA, f.CommuneLeaderA), 200)
	if mine["teams_trained"].(float64) != 1 || mine["members_trained"].(float64) != 2 {
		t.Fatalf("commune A: %v", mine)
	}
	if r := e.Get("/api/v1/reports/training-progress?unit=46", f.CommuneLeaderA); r.Status != 403 {
		t.Fatalf("leader asks the province: %d", r.Status)
	}
	// A trained member who leaves no longer counts; their team loses its training.
	e.Must(e.Patch("/api/v1/members/"+f.MemberB, f.Admin, map[string]any{"active": false}), 200)
	rep = e.Must(e.Get("/api/v1/reports/training-progress", f.Admin), 200)
	if rep["teams_trained"].(float64) != 1 || rep["members_trained"].(float64) != 2 {
		t.Fatalf("after B left: %v", rep)
	}
	// The coverage job uses the same definition.
	e.RunCoverage(f.Admin)
	for _, it := range e.Must(e.Get("/api/v1/coverage/communes", f.Admin), 200)["items"].([]any) {
		row := it.(map[string]any)
		if row["commune_code"] == f.CommuneA && row["members_trained"].(float64) != 2 {
			t.Fatalf("coverage members_trained: %v", row["members_trained"])
		}
	}
	// Undo a mistake.
	if r := e.Do(apptest.Request{Method: "DELETE", Path: "/api/v1/trainings/" + local + "/attendance/" + f.LeaderA, Token: f.CommuneLeaderA}); r.Status != 204 {
		t.Fatalf("unmark: %d", r.Status)
	}
}

func TestSignInSheetDryRunThenImport(t *testing.T) {
	e := apptest.New(t)
	f := e.NewFixture()
	e.Must(e.Post("/api/v1/members", f.Admin, map[string]any{"team_id": f.TeamA2, "full_name": "Trần Thị Bình",
		"position": "member", "affiliation": "resident", "gender": "f", "birth_year": 1990}), 201) // a namesake in another team
	tr := e.NewTraining(f.CommuneLeaderA, f.CommuneA)
	csv := "\ufeffHọ và tên,Số điện thoại,Tổ\n" +
		"Nguyễn Văn An,,\n" + // unique name
		",0905 111 444,\n" + // phone of MemberA2
		"Trần Thị Bình,,\n" + // two of that name: ambiguous
		"Trần Thị Bình,,TDP 1\n" + // narrowed by the team
		"Người Lạ,,\n" // nobody
	send := func(dry bool) map[string]any {
		ct, body := apptest.MultipartSheet("diem-danh.csv", []byte(csv), dry)
		r := e.Do(apptest.Request{Method: "POST", Path: "/api/v1/trainings/" + tr + "/attendance/sheet", Token: f.CommuneLeaderA,
			Body: body, Header: map[string]string{"Content-Type": ct, "Accept-Language": "vi"}})
		return e.Must(r, 200)
	}
	dry := send(true)
	if dry["matched"].(float64) != 3 || dry["ambiguous"].(float64) != 1 || dry["unmatched"].(float64) != 1 || dry["recorded"].(float64) != 0 {
		t.Fatalf("dry run: %v", dry)
	}
	rows := dry["rows"].([]any)
	amb := rows[2].(map[string]any)
	if amb["status"] != "ambiguous" || len(amb["candidates"].([]any)) != 2 || !strings.Contains(amb["message"].(string), "tổ") {
		t.Fatalf("ambiguous row: %v", amb)
	}
	got := e.Must(e.Get("/api/v1/trainings/"+tr, f.CommuneLeaderA), 200)
	if got["attendance"].(float64) != 0 {
		t.Fatal("the dry run wrote attendance")
	}
	done := send(false)
	if done["recorded"].(float64) != 3 {
		t.Fatalf("import: %v", done)
	}
	if again := send(false); again["recorded"].(float64) != 0 {
		t.Fatalf("the same sheet twice recorded %v", again["recorded"])
	}
	// The same in XLSX, and a bad file.
	x := excelize.NewFile()
	x.SetSheetRow("Sheet1", "A1", &[]any{"Mã thành viên"})
	x.SetSheetRow("Sheet1", "A2", &[]any{f.LeaderA})
	var buf bytes.Buffer
	x.Write(&buf)
	ct, body := apptest.MultipartSheet("ds.xlsx", buf.Bytes(), true)
	r := e.Do(apptest.Request{Method: "POST", Path: "/api/v1/trainings/" + tr + "/attendance/sheet", Token: f.CommuneLeaderA,
		Body: body, Header: map[string]string{"Content-Type": ct}})
	if m := e.Must(r, 200); m["matched"].(float64) != 1 {
		t.Fatalf("xlsx: %v", m)
	}
	ct, body = apptest.MultipartSheet("ds.pdf", []byte("%PDF"), true)
	r = e.Do(apptest.Request{Method: "POST", Path: "/api/v1/trainings/" + tr + "/attendance/sheet", Token: f.CommuneLeaderA,
		Body: body, Header: map[string]string{"Content-Type": ct}})
	if r.Status != 422 {
		t.Fatalf("pdf: %d", r.Status)
	}
	// Never trained, for the next course: only the namesake in team A2 is left.
	x2 := e.Get("/api/v1/exports/untrained.xlsx?unit="+f.CommuneA, f.CommuneLeaderA)
	book, err := excelize.OpenReader(bytes.NewReader(x2.Body))
	if err != nil {
		t.Fatal(err)
	}
	list, _ := book.GetRows("Chưa tập huấn")
	if len(list) != 3 || !strings.Contains(list[0][0], "dữ liệu cá nhân") || list[1][4] != "Số điện thoại" ||
		list[2][1] != "Trần Thị Bình" || list[2][5] != "Tổ CNSCĐ phường" {
		t.Fatalf("untrained: %v", list)
	}
}
