package domain

import (
	"errors"
	"fmt"
	"reflect"
	"testing"
	"time"
)

var now = time.Date(2026, 11, 21, 2, 0, 0, 0, time.UTC)

const today = Date("2026-11-21")

func fields(err error) map[string]string {
	out := map[string]string{}
	var ve *ValidationError
	if errors.As(err, &ve) {
		for _, f := range ve.Fields {
			out[f.Field] = f.Code
		}
	}
	return out
}

func TestRegistryRules(t *testing.T) {
	r := &CommuneRegistry{Code: "19753"}
	v, err := r.AddVillage(NewVillage{Name: "Tổ dân phố 1", Type: TypeToDanPho, Households: 200}, now)
	if err != nil || v.Code != "19753-001" {
		t.Fatalf("%+v %v", v, err)
	}
	tests := []struct {
		name string
		err  error
		want map[string]string
	}{
		{"village name folded duplicate", func() error {
			_, err := r.AddVillage(NewVillage{Name: " tổ dân  phố 1 ", Type: TypeToDanPho}, now)
			return err
		}(), map[string]string{"name": "duplicate"}},
		{"village bad type and households", func() error {
			_, err := r.AddVillage(NewVillage{Name: "X", Type: "city", Households: -1}, now)
			return err
		}(), map[string]string{"type": "one_of", "households": "range"}},
		{"team in the future, unknown village, no decision", func() error {
			_, err := r.AddTeam(NewTeam{Name: "T", VillageCode: "19753-099", EstablishedOn: "2027-01-01"}, today, now)
			return err
		}(), map[string]string{"village_code": "unknown_village", "established_on": "date_range", "decision_no": "required"}},
	}
	for _, tc := range tests {
		got := fields(tc.err)
		if fmt.Sprint(got) != fmt.Sprint(tc.want) {
			t.Errorf("%s: %v, want %v", tc.name, got, tc.want)
		}
	}
	team, err := r.AddTeam(NewTeam{Name: "Tổ 1", VillageCode: v.Code, EstablishedOn: "2025-08-01", DecisionNo: "1/QĐ"}, today, now)
	if err != nil {
		t.Fatal(err)
	}
	lead, err := r.AddMember(NewMember{TeamID: team.ID, FullName: "A", Phone: "0905000001", Position: "leader", Affiliation: "resident", Gender: "m", BirthYear: 1980}, "x", today, now)
	if err != nil {
		t.Fatal(err)
	}
	_, err = r.AddMember(NewMember{TeamID: team.ID, FullName: "B", Phone: "+84 905 000 001", Position: "leader", Affiliation: "resident", Gender: "f", BirthYear: 2020}, "x", today, now)
	if got := fields(err); got["position"] != "team_has_leader" || got["phone"] != "duplicate" || got["birth_year"] != "range" {
		t.Fatalf("second leader: %v", got)
	}
	active := false
	if _, err := r.UpdateTeam(team.ID, TeamPatch{Active: &active}, today, now); fields(err)["active"] != "team_has_members" {
		t.Fatalf("dissolving a team with members: %v", err)
	}
	if _, err := r.UpdateVillage(v.Code, VillagePatch{Active: &active}, now); fields(err)["active"] != "village_has_team" {
		t.Fatalf("closing a village with a team: %v", err)
	}
	left, err := r.UpdateMember(lead.ID, MemberPatch{Active: &active}, "x", today, now)
	if err != nil || left.LeftOn != today || left.History[len(left.History)-1].Kind != "left" {
		t.Fatalf("leaving: %+v %v", left, err)
	}
	// Once the leader left, another may lead; the phone is free again too.
	if _, err := r.AddMember(NewMember{TeamID: team.ID, FullName: "C", Phone: "0905000001", Position: "leader", Affiliation: "resident", Gender: "f", BirthYear: 1990}, "x", today, now); err != nil {
		t.Fatalf("new leader after the old one left: %v", err)
	}
	if got := r.TeamViews(nil)[0]; got.MemberCount != 1 || got.LeaderName != "C" {
		t.Fatalf("team view: %+v", got)
	}
}

func TestNormalizePhone(t *testing.T) {
	for in, want := range map[string]string{
		"0905 123 456": "0905123456", "+84 905 123 456": "0905123456", "84905123456": "0905123456",
		"0084-905-123-456": "0905123456", "(090) 512.3456": "0905123456",
		"12345": "", "0005123456": "", "09051234567": "", "09o5123456": "", "+84+905123456": "",
	} {
		got, ok := NormalizePhone(in)
		if got != want || ok != (want != "") {
			t.Errorf("%q → %q %v, want %q", in, got, ok, want)
		}
	}
}

func TestDates(t *testing.T) {
	// 23:30 UTC on 21 Nov is already 22 Nov in Huế.
	if d := DateOf(time.Date(2026, 11, 21, 23, 30, 0, 0, time.UTC)); d != "2026-11-22" {
		t.Fatalf("DateOf = %s", d)
	}
	if d := Date("2026-03-01").AddDays(-1); d != "2026-02-28" {
		t.Fatalf("AddDays = %s", d)
	}
	if n := DaysBetween("2026-01-01", "2026-03-01"); n != 59 {
		t.Fatalf("DaysBetween = %d", n)
	}
	for _, s := range []string{"2026-02-30", "2026-2-1", "", "x"} {
		if _, ok := ParseDate(s); ok {
			t.Errorf("ParseDate(%q) accepted", s)
		}
	}
}

func TestPaginate(t *testing.T) {
	items := []string{"a", "b", "c", "d", "e"}
	id := func(s string) string { return s }
	p, _ := Paginate(items, id, "", 2)
	if fmt.Sprint(p.Items) != "[a b]" || p.Total != 5 || p.NextCursor == "" {
		t.Fatalf("page 1: %+v", p)
	}
	p, _ = Paginate(items, id, p.NextCursor, 2)
	p, _ = Paginate(items, id, p.NextCursor, 2)
	if fmt.Sprint(p.Items) != "[e]" || p.NextCursor != "" {
		t.Fatalf("last page: %+v", p)
	}
	if _, err := Paginate(items, id, "@@", 2); !errors.Is(err, ErrInvalid) {
		t.Fatalf("bad cursor: %v", err)
	}
	if ClampLimit(0) != DefaultLimit || ClampLimit(10_000) != MaxLimit {
		t.Fatal("limits")
	}
}

func TestFoldKeyJoinsToneMarkPlacements(t *testing.T) {
	if FoldKey("Phường Thuỷ Biều") != FoldKey("phường  thủy biều") || FoldKey("Hoà") != FoldKey("hòa") {
		t.Fatal("tone marks not folded")
	}
	if FoldKey("Hòa") == FoldKey("Hoa") {
		t.Fatal("folded too much")
	}
}

func TestMatchSheet(t *testing.T) {
	r := &CommuneRegistry{Code: "19753"}
	v, _ := r.AddVillage(NewVillage{Name: "Tổ dân phố 3", Type: TypeToDanPho, Households: 100}, now)
	t1, _ := r.AddTeam(NewTeam{Name: "Tổ CNSCĐ TDP 3", VillageCode: v.Code, EstablishedOn: "2025-08-01", DecisionNo: "1"}, today, now)
	t2, _ := r.AddTeam(NewTeam{Name: "Tổ CNSCĐ phường", EstablishedOn: "2025-08-01", DecisionNo: "1"}, today, now)
	add := func(team, name, phone string) Member {
		m, err := r.AddMember(NewMember{TeamID: team, FullName: name, Phone: phone, Position: "member", Affiliation: "resident", Gender: "f", BirthYear: 1990}, "x", today, now)
		if err != nil {
			t.Fatal(err)
		}
		return m
	}
	lan1 := add(t1.ID, "Nguyễn Thị Lan", "0905000101")
	lan2 := add(t2.ID, "Nguyễn Thị Lan", "0905000102")
	hoa := add(t1.ID, "Trần Thị Hoà", "")
	rows := []SheetRow{
		{Row: 2, MemberID: hoa.ID},
		{Row: 3, Phone: "+84 905 000 101"},
		{Row: 4, Name: "nguyễn thị lan"},
		{Row: 5, Name: "Nguyen Thi Lan", Team: "phuong"},
		{Row: 6, Name: "Nguyễn Thị Lan", Team: "tdp 3"},
		{Row: 7, Name: "Trần Thị Hòa"},
		{Row: 8, Name: "Lê Văn Không"},
		{Row: 9, MemberID: "19753-M9999"},
		{Row: 10},
	}
	got := MatchSheet(rows, []*CommuneRegistry{r})
	want := []struct{ status, member, reason string }{
		{SheetMatched, hoa.ID, ""}, {SheetMatched, lan1.ID, ""}, {SheetAmbiguous, "", "several_no_team"},
		{SheetMatched, lan2.ID, "no_accents"}, // typed without diacritics, narrowed by the team
		{SheetDuplicate, lan1.ID, "duplicate_row"}, {SheetDuplicate, hoa.ID, "duplicate_row"},
		{SheetUnmatched, "", "not_found"}, {SheetUnmatched, "", "unknown_id"}, {SheetEmpty, "", "empty"},
	}
	for i, w := range want {
		g := got[i]
		if g.Status != w.status || g.MemberID != w.member || g.Reason != w.reason {
			t.Errorf("row %d: %s %s %s, want %s %s %s", rows[i].Row, g.Status, g.MemberID, g.Reason, w.status, w.member, w.reason)
		}
	}
	if c := got[2].Candidates; len(c) != 2 || c[0] != lan1.ID || c[1] != lan2.ID {
		t.Fatalf("candidates: %v", c)
	}
	if ASCIIFold("Tổ CNSCĐ  Phường") != "to cnscd phuong" {
		t.Fatalf("fold: %q", ASCIIFold("Tổ CNSCĐ  Phường"))
	}
}

func TestTrainingProgressFollowsAPIDefinitions(t *testing.T) {
	r := &CommuneRegistry{Code: "20179"}
	a, _ := r.AddTeam(NewTeam{Name: "A", EstablishedOn: "2025-08-01", DecisionNo: "1"}, today, now)
	b, _ := r.AddTeam(NewTeam{Name: "B", EstablishedOn: "2025-08-01", DecisionNo: "1"}, today, now)
	m := func(team string) Member {
		x, _ := r.AddMember(NewMember{TeamID: team, FullName: "X", Position: "member", Affiliation: "resident", Gender: "m", BirthYear: 1990}, "x", today, now)
		return x
	}
	a1, a2, b1 := m(a.ID), m(a.ID), m(b.ID)
	tr := Training{Topics: []string{"vneid_activation", "cyber_safety"}}
	tr.Attend([]Member{a1, b1}, "x", "list", now)
	if n := tr.Attend([]Member{a1, a2}, "x", "list", now); n != 1 {
		t.Fatalf("attend again: %d newly marked, want 1", n)
	}
	// b1 leaves team B: B is no longer trained (no active trained member).
	inactive := false
	if _, err := r.UpdateMember(b1.ID, MemberPatch{Active: &inactive}, "x", today, now); err != nil {
		t.Fatal(err)
	}
	p := ComputeProgress([]*CommuneRegistry{r}, TrainedMembers([]Training{tr}))
	if p.TeamsTotal != 2 || p.TeamsTrained != 1 || p.MembersTotal != 2 || p.MembersTrained != 2 ||
		p.ByTopic["cyber_safety"] != 2 || len(p.ByCommune) != 1 {
		t.Fatalf("progress: %+v", p)
	}
	if _, err := ValidateTraining(NewTraining{Title: "", Topics: []string{"nope"}, StartsAt: "2026-02-01", EndsAt: "2026-01-01"}, now); len(fields(err)) != 4 {
		t.Fatalf("validation: %v", fields(err))
	}
}

func TestSheetRowsFindTheirColumns(t *testing.T) {
	rows, err := SheetRows([][]string{{"STT", "Họ và Tên", "Tổ", "SĐT"}, {"1", " Nguyễn Văn An ", "Tổ 1", "0905111222"}, {"2"}})
	if err != nil {
		t.Fatal(err)
	}
	want := []SheetRow{{Row: 2, Name: "Nguyễn Văn An", Team: "Tổ 1", Phone: "0905111222"}, {Row: 3}}
	if !reflect.DeepEqual(rows, want) {
		t.Fatalf("rows: %+v", rows)
	}
	long := [][]string{{"ma thanh vien"}}
	for range MaxSheetRows + 1 {
		long = append(long, []string{"19753-M0001"})
	}
	for name, tc := range map[string]struct {
		records [][]string
		code    string
	}{
		"empty":      {nil, "sheet_empty"},
		"no columns": {[][]string{{"a", "b"}, {"1", "2"}}, "sheet_columns"},
		"too long":   {long, "too_many"},
	} {
		if _, err := SheetRows(tc.records); fields(err)["file"] != tc.code {
			t.Errorf("%s: %v, want file %s", name, err, tc.code)
		}
	}
}

func TestUntrainedAndTrainedByMonth(t *testing.T) {
	reg := &CommuneRegistry{Code: "19753",
		Teams: []Team{{ID: "19753-T001", Active: true}, {ID: "19753-T002", Active: true}, {ID: "19753-T003"}},
		Members: []Member{{ID: "19753-M0002", TeamID: "19753-T001", Active: true}, {ID: "19753-M0001", TeamID: "19753-T001", Active: true},
			{ID: "19753-M0003", TeamID: "19753-T002", Active: true}, {ID: "19753-M0004", TeamID: "19753-T003"}}}
	ts := []Training{{EndsAt: time.Date(2026, 9, 30, 10, 0, 0, 0, Location), Attendees: []Attendance{{MemberID: "19753-M0001"}}}}
	var ids []string
	for _, m := range Untrained([]*CommuneRegistry{reg}, TrainedMembers(ts)) {
		ids = append(ids, m.ID)
	}
	if !reflect.DeepEqual(ids, []string{"19753-M0002", "19753-M0003"}) {
		t.Fatalf("untrained: %v", ids)
	}
	got := TrainedByMonth([]*CommuneRegistry{reg}, ts, now, 3)
	if len(got) != 3 {
		t.Fatalf("months: %+v", got)
	}
	for i, want := range []struct {
		month string
		share float64
	}{{"2026-09-30", 0.5}, {"2026-10-31", 0.5}, {"2026-11-30", 0.5}} {
		if m := got[i].Month.Format("2006-01-02"); m != want.month || got[i].Share != want.share {
			t.Errorf("month %d: %s %v, want %s %v", i, m, got[i].Share, want.month, want.share)
		}
	}
	ts[0].EndsAt = time.Date(2026, 10, 1, 8, 0, 0, 0, Location) // trained in October: not by the end of September
	if got := TrainedByMonth([]*CommuneRegistry{reg}, ts, now, 3); got[0].Share != 0 || got[1].Share != 0.5 {
		t.Errorf("a training of 1 October counts in September: %+v", got)
	}
	if got := TrainedByMonth(nil, ts, now, 3); got != nil {
		t.Errorf("no teams: %+v", got)
	}
	if id := NewTrainingID(now); len(id) != len("TR20261121-a1b2c3") || id[:10] != "TR20261121" {
		t.Errorf("training ID %q", id)
	}
}

func TestLoginRolesFollowThePosition(t *testing.T) {
	if got := (Member{Position: PositionMember}).LoginRoles(); !reflect.DeepEqual(got, []Role{RoleMember}) {
		t.Errorf("member: %v", got)
	}
	if got := (Member{Position: PositionDeputy}).LoginRoles(); !reflect.DeepEqual(got, []Role{RoleMember, RoleTeamLeader}) {
		t.Errorf("deputy: %v", got)
	}
}
