package domain

import (
	"context"
	"reflect"
	"strings"
	"testing"
)

func TestImportHeadersAreFoundByName(t *testing.T) {
	for name, tc := range map[string]struct {
		records [][]string
		want    map[string]string // column → cell of the first row
		err     string
	}{
		"API.md's headers": {records: [][]string{
			{"Xã/Phường", "Thôn/Tổ dân phố", "Tổ", "Họ và tên", "Số điện thoại", "Chức vụ", "Đơn vị", "Giới tính", "Năm sinh"},
			{"19753", "TDP 1", "Tổ 1", "Lê An", "0905111222", "Tổ trưởng", "Đoàn TN", "Nam", "1990"}},
			want: map[string]string{"commune": "19753", "village": "TDP 1", "team": "Tổ 1", "full_name": "Lê An", "phone": "0905111222",
				"position": "Tổ trưởng", "affiliation": "Đoàn TN", "gender": "Nam", "birth_year": "1990"}},
		"any order, no diacritics, notes and a title above": {records: [][]string{
			{"DANH SÁCH THÀNH VIÊN TỔ CÔNG NGHỆ SỐ CỘNG ĐỒNG"},
			{"Phường Phú Xuân"},
			{"STT", "HO VA TEN (*)", "SDT (Zalo)", "to cnscd", "Gioi tinh", "Ngày sinh", "Chức danh", "Đơn vị công tác", "Thôn"},
			{"1", "Lê An", "0905 111 222", "Tổ 1", "Nữ", "12/03/1990", "Tổ phó", "Hội LHPN", "Thôn 1"}},
			want: map[string]string{"full_name": "Lê An", "phone": "0905 111 222", "team": "Tổ 1", "gender": "Nữ", "birth_year": "12/03/1990",
				"position": "Tổ phó", "affiliation": "Hội LHPN", "village": "Thôn 1"}},
		"no header":       {records: [][]string{{"a", "b"}, {"1", "2"}}, err: "import_header"},
		"no phone column": {records: [][]string{{"Họ và tên", "Tổ", "Giới tính"}, {"Lê An", "Tổ 1", "Nam"}}, err: "import_missing"},
		"only a header":   {records: [][]string{{"Họ và tên", "Tổ", "Số điện thoại"}, {"", " ", ""}}, err: "sheet_empty"},
	} {
		rows, err := ImportRows(tc.records)
		if tc.err != "" {
			if got := fields(err)["file"]; got != tc.err {
				t.Errorf("%s: %v, want file %s", name, err, tc.err)
			}
			continue
		}
		if err != nil || len(rows) != 1 {
			t.Fatalf("%s: %v %v", name, rows, err)
		}
		r := rows[0]
		got := map[string]string{"commune": r.Commune, "village": r.Village, "team": r.Team, "full_name": r.FullName, "phone": r.Phone,
			"position": r.Position, "affiliation": r.Affiliation, "gender": r.Gender, "birth_year": r.BirthYear}
		for k, v := range got {
			if v != tc.want[k] {
				t.Errorf("%s: %s = %q, want %q", name, k, v, tc.want[k])
			}
		}
		if r.Row != len(tc.records) {
			t.Errorf("%s: row %d, want the file's line %d", name, r.Row, len(tc.records))
		}
	}
}

func TestImportCellsAreReadAsPeopleWriteThem(t *testing.T) {
	phones := map[string]string{
		"0905111222": "0905111222", "0905 111 222": "0905111222", "0905.111.222": "0905111222", "+84 905 111 222": "0905111222",
		"84905111222": "0905111222", "905111222": "0905111222", "9.05111222E+08": "0905111222", "905111222.0": "0905111222",
		"0905111222 / 0234 3822 123": "0905111222", "0905-111-222; 0912000111": "0905111222",
		"090511122": "", "abc": "", "0234 3822": "",
	}
	for in, want := range phones {
		got, ok := ImportPhone(in)
		if got != want || ok != (want != "") {
			t.Errorf("phone %q: %q %v, want %q", in, got, ok, want)
		}
	}
	positions := map[string]Position{"Tổ trưởng": PositionLeader, "to truong": PositionLeader, "Tổ phó": PositionDeputy,
		"Phó tổ trưởng": PositionDeputy, "Thành viên": PositionMember, "tổ viên": PositionMember, "leader": PositionLeader,
		"Tổ trưởng tổ dân phố": PositionLeader, "": ""}
	for in, want := range positions {
		if got, ok := ImportPosition(in); got != want || !ok {
			t.Errorf("position %q: %q %v, want %q", in, got, ok, want)
		}
	}
	if _, ok := ImportPosition("Chủ tịch"); ok {
		t.Error("an unknown post is read")
	}
	affiliations := map[string]string{"Công an xã": "commune_police", "CA phường": "commune_police", "Đoàn TN": "youth_union",
		"Bí thư Chi đoàn": "youth_union", "Hội LHPN": "womens_union", "Hội Phụ nữ": "womens_union", "Hội Nông dân": "farmers_union",
		"Hội CCB": "veterans_association", "MTTQ": "fatherland_front", "Ban công tác Mặt trận": "fatherland_front",
		"Viettel Huế": "telecom", "VNPT": "telecom", "Giáo viên trường THCS": "school", "Trưởng thôn": "village_head",
		"Tổ trưởng TDP": "village_head", "Người dân": "resident", "Khác": "other", "youth_union": "youth_union", "": ""}
	for in, want := range affiliations {
		if got, ok := ImportAffiliation(in); got != want || !ok {
			t.Errorf("affiliation %q: %q %v, want %q", in, got, ok, want)
		}
	}
	if _, ok := ImportAffiliation("Câu lạc bộ thơ"); ok {
		t.Error("an unknown organisation is read")
	}
	genders := map[string]string{"Nam": "m", "NỮ": "f", "nu": "f", "Khác": "x", "f": "f", "": ""}
	for in, want := range genders {
		if got, ok := ImportGender(in); got != want || !ok {
			t.Errorf("gender %q: %q %v", in, got, ok)
		}
	}
	years := map[string]int{"1985": 1985, "1985.0": 1985, "15/03/1985": 1985, "1985-03-15": 1985, "03-15-85": 1985,
		"03-15-05": 2005, "31121": 1985, "": 0}
	for in, want := range years {
		if got, ok := ImportBirthYear(in, today); got != want || !ok {
			t.Errorf("birth year %q: %d %v, want %d", in, got, ok, want)
		}
	}
	if _, ok := ImportBirthYear("tháng 3", today); ok {
		t.Error("a month is read as a year")
	}
	dates := map[string]Date{"01/08/2025": "2025-08-01", "2025-08-01": "2025-08-01", "1/8/2025": "2025-08-01", "08-01-25": "2025-08-01",
		"45870": "2025-08-01", "": ""}
	for in, want := range dates {
		if got, ok := ImportDate(in); got != want || !ok {
			t.Errorf("date %q: %q %v, want %q", in, got, ok, want)
		}
	}
	for in, want := range map[string]int{"1250": 1250, "1.250": 1250, "1,250": 1250, "": -1} {
		if got, ok := ImportCount(in); got != want || !ok {
			t.Errorf("households %q: %d %v", in, got, ok)
		}
	}
	for name, want := range map[string]string{"Thôn Phú Hòa": TypeThon, "Bản A Đớt": TypeBan, "TDP 3": TypeToDanPho,
		"Tổ dân phố Đông Ba": TypeToDanPho, "Khu phố 2": TypeToDanPho, "Vĩnh Lưu": TypeThon} {
		if got := VillageTypeOf(name, TypeXa); got != want {
			t.Errorf("village %q: %s, want %s", name, got, want)
		}
	}
	if got := VillageTypeOf("Đông Ba", TypePhuong); got != TypeToDanPho {
		t.Errorf("a ward's village named without a type: %s", got)
	}
}

func TestCommunesAreFoundByCodeOrName(t *testing.T) {
	f := NewCommuneFinder([]Unit{{Code: "19753", Name: "Phường Phú Xuân", Type: TypePhuong},
		{Code: "20179", Name: "Xã Nam Đông", Type: TypeXa}, {Code: "1", Name: "Phường An Cựu"}, {Code: "2", Name: "Xã An Cựu"}})
	for in, want := range map[string]string{"19753": "19753", "Phường Phú Xuân": "19753", "phu xuan": "19753", "P. Phú Xuân": "19753",
		"Xa Nam Dong": "20179", "Nam Đông": "20179", "Phường An Cựu": "1", "An Cựu": "ambiguous_commune", "Hà Nội": "unknown_commune",
		"": "required", "99999": "unknown_commune"} {
		u, code := f.Find(in)
		if got := u.Code + code; got != want {
			t.Errorf("%q: %q, want %q", in, got, want)
		}
	}
}

// importFixture is a commune with one village, one team (leader An, member
// Bình) and a second team.
func importFixture(t *testing.T) *CommuneRegistry {
	r := &CommuneRegistry{Code: "19753"}
	v, _ := r.AddVillage(NewVillage{Name: "Tổ dân phố 1", Type: TypeToDanPho, Households: 200}, now)
	t1, _ := r.AddTeam(NewTeam{Name: "Tổ CNSCĐ TDP 1", VillageCode: v.Code, EstablishedOn: "2025-08-01", DecisionNo: "15/QĐ"}, today, now)
	if _, err := r.AddTeam(NewTeam{Name: "Tổ CNSCĐ phường", EstablishedOn: "2025-08-01", DecisionNo: "16/QĐ"}, today, now); err != nil {
		t.Fatal(err)
	}
	for _, m := range []NewMember{
		{TeamID: t1.ID, FullName: "Nguyễn Văn An", Phone: "0905111222", Position: "leader", Affiliation: "village_head", Gender: "m", BirthYear: 1970},
		{TeamID: t1.ID, FullName: "Trần Thị Bình", Phone: "0905111333", Position: "member", Affiliation: "youth_union", Gender: "f", BirthYear: 1995},
	} {
		if _, err := r.AddMember(m, "admin", today, now); err != nil {
			t.Fatal(err)
		}
	}
	return r
}

func row(n int, village, team, name, phone, pos, aff, gender, year string) ImportRow {
	return ImportRow{Row: n, Village: village, Team: team, FullName: name, Phone: phone, Position: pos, Affiliation: aff, Gender: gender, BirthYear: year}
}

func TestApplyImportDiffsRowsAgainstTheRegistry(t *testing.T) {
	ic := ImportContext{By: "leader", Today: today, Now: now, CommuneType: TypePhuong}
	type want struct {
		status  string
		changes []string
		errors  map[string]string
	}
	for name, tc := range map[string]struct {
		rows []ImportRow
		want []want
		then func(t *testing.T, r *CommuneRegistry)
	}{
		"the registry as it is: unchanged, names without diacritics too": {
			rows: []ImportRow{row(2, "TDP 1", "To CNSCD TDP 1", "Nguyen Van An", "+84 905 111 222", "Tổ trưởng", "Trưởng thôn", "Nam", "1970"),
				row(3, "Tổ dân phố 1", "Tổ CNSCĐ TDP 1", "TRẦN THỊ BÌNH", "905111333", "", "", "", "")},
			want: []want{{status: ImportUnchanged}, {status: ImportUnchanged}},
		},
		"a member moves, is promoted and the old leader steps down in the same file": {
			rows: []ImportRow{row(2, "", "Tổ CNSCĐ TDP 1", "Trần Thị Bình", "0905111333", "Tổ trưởng", "", "", ""),
				row(3, "", "Tổ CNSCĐ phường", "Nguyễn Văn An", "0905111222", "Thành viên", "", "", "")},
			want: []want{{status: ImportUpdate, changes: []string{"position"}}, {status: ImportUpdate, changes: []string{"team", "position"}}},
			then: func(t *testing.T, r *CommuneRegistry) {
				if m, _ := r.Member("19753-M0002"); m.Position != PositionLeader {
					t.Errorf("Bình: %+v", m)
				}
				if m, _ := r.Member("19753-M0001"); m.TeamID != "19753-T002" || m.History[len(m.History)-1].Kind != "moved" {
					t.Errorf("An: %+v", m)
				}
			},
		},
		"new village, team and member; a second row of the new team": {
			rows: []ImportRow{
				{Row: 2, Village: "Thôn Vĩnh Lưu", Households: "1.250", Team: "Tổ Vĩnh Lưu", FullName: "Lê Thị Cúc", Phone: "0912 000 111",
					Position: "Tổ trưởng", Affiliation: "Hội LHPN", Gender: "Nữ", BirthYear: "12/03/1988", DecisionNo: "20/QĐ-UBND", EstablishedOn: "01/09/2025"},
				row(3, "Thôn Vĩnh Lưu", "Tổ Vĩnh Lưu", "Hồ Văn Dũng", "0912000222", "", "", "Nam", "1990")},
			want: []want{{status: ImportCreate}, {status: ImportCreate}},
			then: func(t *testing.T, r *CommuneRegistry) {
				v := r.Villages[1]
				tm := r.Teams[2]
				if v.Name != "Thôn Vĩnh Lưu" || v.Type != TypeThon || v.Households != 1250 {
					t.Errorf("village %+v", v)
				}
				if tm.VillageCode != v.Code || tm.DecisionNo != "20/QĐ-UBND" || tm.EstablishedOn != "2025-09-01" {
					t.Errorf("team %+v", tm)
				}
				m := r.Members[2] // Cúc, the team's leader, comes last
				if m.TeamID != tm.ID || m.Position != PositionMember || m.Affiliation != "other" || m.Phone != "0912000222" {
					t.Errorf("second member %+v", m)
				}
			},
		},
		"an invalid row changes nothing, not even its new village and team": {
			rows: []ImportRow{row(2, "Thôn Mới", "Tổ Mới", "Phan Văn Em", "0912000333", "", "", "", "1990")},
			want: []want{{status: ImportInvalid, errors: map[string]string{"gender": "required"}}},
			then: func(t *testing.T, r *CommuneRegistry) {
				if len(r.Villages) != 1 || len(r.Teams) != 2 || len(r.Members) != 2 || r.Seq.Village != 1 {
					t.Errorf("the registry changed: %d villages, %d teams, %d members, %+v", len(r.Villages), len(r.Teams), len(r.Members), r.Seq)
				}
			},
		},
		"the registry's rules: a second leader, one phone twice in the file, bad cells": {
			rows: []ImportRow{row(2, "", "Tổ CNSCĐ TDP 1", "Phan Văn Em", "0912000333", "Tổ trưởng", "Đoàn TN", "Nam", "1990"),
				row(3, "", "Tổ CNSCĐ phường", "Võ Thị Gấm", "0912000333", "", "", "Nữ", "1991"),
				row(4, "", "", "", "12345", "Chủ tịch", "CLB thơ", "không rõ", "năm ngoái"),
				row(5, "", "Tổ CNSCĐ phường", "Đặng Văn Hải", "0912000444", "", "", "Nam", "2020")},
			want: []want{{status: ImportInvalid, errors: map[string]string{"position": "team_has_leader"}},
				{status: ImportInvalid, errors: map[string]string{"phone": "duplicate_row"}},
				{status: ImportInvalid, errors: map[string]string{"team": "required", "full_name": "required", "phone": "phone",
					"position": "import_position", "affiliation": "import_affiliation", "gender": "import_gender", "birth_year": "import_year"}},
				{status: ImportInvalid, errors: map[string]string{"birth_year": "range"}}},
		},
		"two namesakes of one team are two members": {
			rows: []ImportRow{row(2, "", "Tổ CNSCĐ phường", "Lê Văn Hùng", "0912000555", "", "", "Nam", "1980"),
				row(3, "", "Tổ CNSCĐ phường", "Lê Văn Hùng", "0912000666", "", "", "Nam", "1999")},
			want: []want{{status: ImportCreate}, {status: ImportCreate}},
		},
		"a new phone for a known name": {
			rows: []ImportRow{row(2, "", "Tổ CNSCĐ TDP 1", "Trần Thị Bình", "0977000999", "", "", "", "")},
			want: []want{{status: ImportUpdate, changes: []string{"phone"}}},
			then: func(t *testing.T, r *CommuneRegistry) {
				if m, _ := r.Member("19753-M0002"); m.Phone != "0977000999" {
					t.Errorf("Bình: %+v", m)
				}
			},
		},
	} {
		t.Run(name, func(t *testing.T) {
			r := importFixture(t)
			got := ApplyImport(r, tc.rows, ic)
			if len(got) != len(tc.want) {
				t.Fatalf("%d results for %d rows", len(got), len(tc.rows))
			}
			for i, w := range tc.want {
				g := got[i]
				errs := map[string]string{}
				for _, f := range g.Errors {
					errs[f.Field] = f.Code
				}
				if g.Status != w.status || g.Row != tc.rows[i].Row || (w.errors != nil && !reflect.DeepEqual(errs, w.errors)) ||
					(w.changes != nil && !reflect.DeepEqual(g.Changes, w.changes)) {
					t.Errorf("row %d: %s %v %v, want %s %v %v", tc.rows[i].Row, g.Status, g.Changes, errs, w.status, w.changes, w.errors)
				}
			}
			if tc.then != nil {
				tc.then(t, r)
			}
			again := ApplyImport(r, tc.rows, ic)
			for i, g := range again {
				if g.Status == ImportCreate || g.Status == ImportUpdate {
					t.Errorf("row %d again: %s %v", tc.rows[i].Row, g.Status, g.Changes)
				}
			}
		})
	}
}

func TestMemberRejoinsThroughAnImport(t *testing.T) {
	r := importFixture(t)
	active := false
	if _, err := r.UpdateMember("19753-M0002", MemberPatch{Active: &active}, "admin", today, now); err != nil {
		t.Fatal(err)
	}
	got := ApplyImport(r, []ImportRow{row(2, "", "Tổ CNSCĐ TDP 1", "Trần Thị Bình", "0905111333", "", "", "", "")},
		ImportContext{By: "x", Today: today, Now: now})
	if got[0].Status != ImportUpdate || !reflect.DeepEqual(got[0].Changes, []string{"active"}) {
		t.Fatalf("%+v", got[0])
	}
	if m, _ := r.Member("19753-M0002"); !m.Active || m.History[len(m.History)-1].Kind != "rejoined" {
		t.Fatalf("%+v", m)
	}
}

// memRegistries is a RegistryStore in memory that counts writes.
type memRegistries struct {
	RegistryStore
	regs   map[string]*CommuneRegistry
	writes int
}

func (m *memRegistries) Registry(_ context.Context, c string) (*CommuneRegistry, error) {
	if r, ok := m.regs[c]; ok {
		return r, nil
	}
	return nil, ErrNotFound
}

func (m *memRegistries) UpdateRegistry(_ context.Context, c string, fn func(*CommuneRegistry) error) (*CommuneRegistry, error) {
	next := m.regs[c].Clone()
	if err := fn(next); err != nil {
		return nil, err
	}
	next.Version++
	m.regs[c], m.writes = next, m.writes+1
	return next, nil
}

func TestRegistryImportRunsCommuneByCommune(t *testing.T) {
	st := &memRegistries{regs: map[string]*CommuneRegistry{"19753": importFixture(t), "20179": {Code: "20179"}}}
	communes := []Unit{{Code: "19753", Name: "Phường Phú Xuân", Type: TypePhuong}, {Code: "20179", Name: "Xã Nam Đông", Type: TypeXa}}
	rows := []ImportRow{
		{Row: 2, Commune: "Phú Xuân", Team: "Tổ CNSCĐ TDP 1", FullName: "Trần Thị Bình", Phone: "0905111333"},
		{Row: 3, Commune: "Xã Nam Đông", Village: "Thôn 1", Team: "Tổ thôn 1", FullName: "Hồ Văn Dũng", Phone: "0905111555", Gender: "Nam", BirthYear: "1980"},
		{Row: 4, Team: "Tổ thôn 1", FullName: "Hồ Thị Em", Phone: "0905111666", Gender: "Nữ", BirthYear: "1982"},
		{Row: 5, Commune: "Đà Nẵng", Team: "Tổ 1", FullName: "Lê Văn F", Phone: "0905111777", Gender: "Nam", BirthYear: "1982"},
	}
	onlyNamDong := func(c string) error {
		if c != "20179" {
			return ErrForbidden
		}
		return nil
	}
	im := RegistryImport{Rows: rows, Communes: communes, Default: "20179", Allow: onlyNamDong, By: "leader.b", Today: today, Now: now}
	progress := 0
	rep, err := im.Run(context.Background(), st, true, func(n int) { progress += n })
	if err != nil {
		t.Fatal(err)
	}
	statuses := func(rep ImportReport) string {
		var s []string
		for _, r := range rep.Rows {
			s = append(s, r.Status)
			for _, e := range r.Errors {
				s[len(s)-1] += ":" + e.Field + "=" + e.Code
			}
		}
		return strings.Join(s, " ")
	}
	want := "invalid:commune=commune_not_in_scope create create invalid:commune=unknown_commune"
	if got := statuses(rep); got != want || st.writes != 0 || progress != 2 {
		t.Fatalf("dry run: %s (writes %d, progress %d), want %s", got, st.writes, progress, want)
	}
	if rep.Summary != (ImportSummary{Rows: 4, Create: 2, Invalid: 2}) {
		t.Fatalf("summary %+v", rep.Summary)
	}
	if rep, err = im.Run(context.Background(), st, false, nil); err != nil || statuses(rep) != want || st.writes != 1 ||
		!reflect.DeepEqual(rep.Written, []string{"20179"}) {
		t.Fatalf("import: %s %v, %d writes", statuses(rep), err, st.writes)
	}
	if c := st.regs["20179"].Count(); c.Villages != 1 || c.Teams != 1 || c.Members != 2 {
		t.Fatalf("Nam Đông: %+v", c)
	}
	if rep, err = im.Run(context.Background(), st, false, nil); err != nil || st.writes != 1 || rep.Summary.Unchanged != 2 {
		t.Fatalf("second import: %+v %v, %d writes", rep.Summary, err, st.writes)
	}
}
