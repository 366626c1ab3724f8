package api_test

import (
	"bytes"
	"context"
	"testing"

	"github.com/hue-cdt/cdt/internal/apptest"
	"github.com/hue-cdt/cdt/sheets"
)

type importAnswer struct {
	DryRun  bool `json:"dry_run"`
	Summary struct{ Rows, Create, Update, Unchanged, Invalid int }
	Rows    []struct {
		Row         int
		Status      string
		CommuneCode *string `json:"commune_code"`
		MemberID    *string `json:"member_id"`
		Changes     []string
		Errors      []struct{ Field, Code, Message string }
	}
}

// upload posts a registry file to the import endpoint.
func upload(e *apptest.Env, tok, query, name string, data []byte) apptest.Response {
	ct, body := apptest.MultipartSheet(name, data, true)
	return e.Do(apptest.Request{Method: "POST", Path: "/api/v1/imports/registry" + query, Token: tok, Body: body,
		Header: map[string]string{"Content-Type": ct, "Accept-Language": "vi"}})
}

func TestCommuneLeaderImportsTheirCommuneOnly(t *testing.T) {
	e := apptest.New(t)
	f := e.NewFixture()
	csv := "Xã/Phường,Thôn/Tổ dân phố,Tổ,Họ và tên,Số điện thoại,Chức vụ,Đơn vị,Giới tính,Năm sinh\n" +
		"Phú Xuân,Tổ dân phố 1,Tổ CNSCĐ TDP 1,Trần Thị Bình,0905 111 333,Thành viên,Đoàn TN,Nữ,1995\n" + // as registered
		"19753,Tổ dân phố 2,Tổ CNSCĐ TDP 2,Phạm Văn Giang,+84 912 000 111,Tổ trưởng,Công an phường,Nam,1988\n" + // new village, team, member
		"Phú Xuân,,Tổ CNSCĐ phường,Lê Thị Cúc,0905111444,Tổ phó,Hội LHPN,Nữ,1995\n" + // promoted
		"Nam Đông,Thôn Phú Hòa,Tổ CNSCĐ Phú Hòa,Hồ Văn Dũng,0905111555,,,Nam,1990\n" + // another commune
		",,Tổ CNSCĐ phường,Võ Thị Hoa,0905111999,,,không rõ,1990\n" // no commune: the leader's; a bad gender
	version := func() int64 {
		c, err := e.App.Store.Registry.RegistryCounts(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		return c[f.CommuneA].Version
	}
	before := version()
	var dry importAnswer
	r := upload(e, f.CommuneLeaderA, "?dry_run=true", "danh-sach.csv", []byte(csv))
	e.Must(r, 200)
	r.Decode(t, &dry)
	want := []string{"unchanged", "create", "update", "invalid", "invalid"}
	for i, w := range want {
		if dry.Rows[i].Status != w || dry.Rows[i].Row != i+2 {
			t.Errorf("row %d: %+v, want %s", i+2, dry.Rows[i], w)
		}
	}
	if s := dry.Summary; !dry.DryRun || s.Rows != 5 || s.Create != 1 || s.Update != 1 || s.Unchanged != 1 || s.Invalid != 2 {
		t.Fatalf("summary %+v", dry.Summary)
	}
	if e := dry.Rows[3].Errors; len(e) != 1 || e[0].Field != "commune" || e[0].Code != "commune_not_in_scope" || e[0].Message == "" {
		t.Errorf("another commune's row: %+v", e)
	}
	if e := dry.Rows[4].Errors; len(e) != 1 || e[0].Field != "gender" || e[0].Message != "Giới tính: ghi Nam, Nữ hoặc Khác." {
		t.Errorf("bad gender: %+v", e)
	}
	if c := dry.Rows[2].Changes; len(c) != 2 || c[0] != "position" || c[1] != "affiliation" {
		t.Errorf("promotion: %v", c)
	}
	if version() != before {
		t.Fatal("the dry run wrote")
	}

	var done importAnswer
	r = upload(e, f.CommuneLeaderA, "?dry_run=false", "danh-sach.csv", []byte(csv))
	e.Must(r, 200)
	r.Decode(t, &done)
	if done.DryRun || done.Summary != dry.Summary || version() != before+1 {
		t.Fatalf("import: %+v, version %d → %d", done.Summary, before, version())
	}
	id := *done.Rows[1].MemberID
	m := e.Must(e.Get("/api/v1/members/"+id, f.CommuneLeaderA), 200)
	if m["phone"] != "0912000111" || m["position"] != "leader" || m["affiliation"] != "commune_police" || m["birth_year"].(float64) != 1988 {
		t.Fatalf("imported member %v", m)
	}
	team := e.Must(e.Get("/api/v1/teams/"+m["team_id"].(string), f.CommuneLeaderA), 200)
	if team["name"] != "Tổ CNSCĐ TDP 2" || team["village_code"] == nil || team["decision_no"] != "chưa rõ" {
		t.Fatalf("imported team %v", team)
	}
	if e.Must(e.Get("/api/v1/members/"+f.MemberA2, f.Admin), 200)["position"] != "deputy" {
		t.Fatal("Cúc is not deputy")
	}
	if e.Must(e.Get("/api/v1/members?commune="+f.CommuneB, f.Admin), 200)["total"].(float64) != 1 {
		t.Fatal("the leader of A changed B")
	}

	var again importAnswer
	r = upload(e, f.CommuneLeaderA, "?dry_run=false", "danh-sach.csv", []byte(csv))
	e.Must(r, 200)
	r.Decode(t, &again)
	if s := again.Summary; s.Unchanged != 3 || s.Invalid != 2 || s.Create+s.Update != 0 || version() != before+1 {
		t.Fatalf("second import: %+v, version %d", again.Summary, version())
	}
}

func TestAdminImportsAnXLSXWithHeadersOfTheirOwn(t *testing.T) {
	e := apptest.New(t)
	f := e.NewFixture()
	var buf bytes.Buffer
	err := sheets.WriteXLSX(&buf, sheets.Sheet{Name: "DS", Head: []any{"STT", "Ho ten", "SDT", "To CNSCD", "Thon", "Gioi tinh", "Nam sinh", "Xa"},
		Rows: [][]any{{1, "Hồ Văn Dũng", 905111555, "Tổ CNSCĐ Phú Hòa", "Thôn Phú Hòa", "Nam", 1990, "Xa Nam Dong"},
			{2, "Nguyễn Thị Mai", "0905 777 888", "Tổ CNSCĐ Phú Hòa", "Thôn Phú Hòa", "Nữ", "02/09/1979", "20179"}}})
	if err != nil {
		t.Fatal(err)
	}
	var a importAnswer
	r := upload(e, f.Admin, "?dry_run=false", "ds.xlsx", buf.Bytes())
	e.Must(r, 200)
	r.Decode(t, &a)
	if a.Summary.Rows != 2 || a.Rows[0].Status != "update" || a.Rows[1].Status != "create" || *a.Rows[1].CommuneCode != f.CommuneB {
		t.Fatalf("%+v", a)
	}
	if c := a.Rows[0].Changes; len(c) != 2 || c[0] != "gender" || c[1] != "birth_year" { // the fixture has f, 1995
		t.Fatalf("changes %v", a.Rows[0].Changes)
	}
	for name, tc := range map[string]struct {
		file, query string
		data        []byte
		status      int
		field, code string
	}{
		"a picture":    {"a.png", "", []byte("\x89PNG"), 422, "file", "sheet_type"},
		"no header":    {"a.csv", "", []byte("x,y\n1,2\n"), 422, "file", "import_header"},
		"bad dry_run":  {"a.csv", "?dry_run=maybe", []byte("Họ và tên,Tổ,SĐT\nA,B,0905111222\n"), 422, "dry_run", "boolean"},
		"missing file": {"", "", nil, 422, "file", "required"},
	} {
		var r apptest.Response
		if tc.file == "" {
			r = e.Do(apptest.Request{Method: "POST", Path: "/api/v1/imports/registry", Token: f.Admin, Body: "x",
				Header: map[string]string{"Content-Type": "multipart/form-data; boundary=zzz"}})
		} else {
			r = upload(e, f.Admin, tc.query, tc.file, tc.data)
		}
		var body struct {
			Error struct {
				Code    string
				Details []struct{ Field, Code string }
			}
		}
		r.Decode(t, &body)
		if r.Status != tc.status || len(body.Error.Details) != 1 || body.Error.Details[0].Field != tc.field || body.Error.Details[0].Code != tc.code {
			t.Errorf("%s: %d %s", name, r.Status, r.Body)
		}
	}
}
