package domain

import (
	"strconv"
	"strings"
	"time"
	"unicode"
)

// A registry import reads the spreadsheets communes keep of their villages,
// teams and members: one line per member, with the commune, the village and
// the team the member belongs to. The rules here are pure: which column is
// which (headers in any order, with or without diacritics), how each cell is
// read (unit names or codes, phone numbers in any common form, positions and
// organisations as people write them), and how a row matches the registry
// (import_apply.go).

// ImportRow is one line of a registry spreadsheet, its cells as typed.
type ImportRow struct {
	Row           int // 1-based line in the file
	Commune       string
	Village       string
	Households    string
	Team          string
	FullName      string
	Phone         string
	Position      string
	Affiliation   string
	Gender        string
	BirthYear     string
	DecisionNo    string
	EstablishedOn string
}

// MaxImportRows is the most member lines one import may hold (a province's
// registry: Huế has 5,580 members).
const MaxImportRows = 20000

// ImportColumns are the columns of a registry spreadsheet, in the order of
// the template; the first nine are API.md's.
var ImportColumns = []string{"commune", "village", "team", "full_name", "phone", "position", "affiliation", "gender", "birth_year",
	"households", "decision_no", "established_on"}

// ImportHeaders are the template's header of each column, as API.md names them.
var ImportHeaders = map[string]string{
	"commune": "Xã/Phường", "village": "Thôn/Tổ dân phố", "team": "Tổ", "full_name": "Họ và tên", "phone": "Số điện thoại",
	"position": "Chức vụ", "affiliation": "Đơn vị", "gender": "Giới tính", "birth_year": "Năm sinh",
	"households": "Số hộ", "decision_no": "Số quyết định", "established_on": "Ngày thành lập",
}

// importHeaders maps the headers people write (folded by headerKey) to columns.
var importHeaders = map[string][]string{
	"commune": {"xa phuong", "xa", "phuong", "xa phuong thi tran", "ma xa", "ma xa phuong", "ten xa", "ten xa phuong",
		"don vi hanh chinh", "dvhc", "commune", "commune code", "commune name"},
	"village": {"thon to dan pho", "thon", "to dan pho", "tdp", "thon tdp", "thon ban", "thon ban tdp", "thon ban to dan pho",
		"ban", "thon xom", "ten thon", "ten thon to dan pho", "dia ban", "village"},
	"households": {"so ho", "so ho gia dinh", "tong so ho", "households"},
	"team":       {"to", "ten to", "to cnscd", "ten to cnscd", "to cong nghe so", "to cong nghe so cong dong", "team", "team name"},
	"full_name":  {"ho va ten", "ho ten", "ho va ten thanh vien", "ten thanh vien", "full name", "name"},
	"phone":      {"so dien thoai", "sdt", "dien thoai", "so dt", "dt", "dtdd", "dien thoai di dong", "phone", "phone number", "mobile"},
	"position":   {"chuc vu", "chuc vu trong to", "chuc danh", "vai tro", "nhiem vu", "position", "role"},
	"affiliation": {"don vi", "don vi cong tac", "co quan", "co quan don vi", "noi cong tac", "to chuc", "thanh phan",
		"affiliation", "organisation", "organization"},
	"gender":         {"gioi tinh", "gioi", "nam nu", "gender", "sex"},
	"birth_year":     {"nam sinh", "ngay sinh", "ngay thang nam sinh", "birth year", "year of birth", "date of birth"},
	"decision_no":    {"so quyet dinh", "quyet dinh", "so qd", "quyet dinh thanh lap", "so quyet dinh thanh lap", "decision no", "decision"},
	"established_on": {"ngay thanh lap", "ngay quyet dinh", "ngay qd", "ngay thanh lap to", "established on"},
}

// headerKey folds a header for comparison: no diacritics, no case, no
// punctuation, no note in brackets ("Số điện thoại (Zalo)" → "so dien thoai").
func headerKey(s string) string {
	if i := strings.IndexAny(s, "(["); i > 0 {
		s = s[:i]
	}
	s = strings.ReplaceAll(s, "*", "")
	var b strings.Builder
	for _, r := range ASCIIFold(s) {
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			b.WriteRune(r)
		} else {
			b.WriteRune(' ')
		}
	}
	return strings.Join(strings.Fields(b.String()), " ")
}

// importColumn names the column of a header ("" when it is none of them).
func importColumn(header string) string {
	k := headerKey(header)
	for col, names := range importHeaders {
		for _, n := range names {
			if k == n {
				return col
			}
		}
	}
	return ""
}

// importHeaderLines is how far down a file its header may be: sheets often
// open with a title and a line of the commune's name.
const importHeaderLines = 10

// ImportRows reads the rows of a registry spreadsheet from its cells: the
// header is the first line (of the first ten) that names the member's full
// name and at least two other columns; each column is found by its header, in
// any order, with or without diacritics. Lines with no cell filled are
// skipped. Without a commune column, every row's commune is "" (the caller
// gives one). Errors are validation errors on "file": no header, a required
// column missing (param: its template header), too many rows.
func ImportRows(records [][]string) ([]ImportRow, error) {
	head, col := -1, map[string]int{}
	for i := 0; i < len(records) && i < importHeaderLines && head < 0; i++ {
		found := map[string]int{}
		for j, h := range records[i] {
			if c := importColumn(h); c != "" {
				if _, taken := found[c]; !taken {
					found[c] = j
				}
			}
		}
		if _, ok := found["full_name"]; ok && len(found) >= 3 {
			head, col = i, found
		}
	}
	if head < 0 {
		return nil, Invalid("file", "import_header")
	}
	for _, c := range []string{"team", "full_name", "phone"} {
		if _, ok := col[c]; !ok {
			return nil, Invalid("file", "import_missing", ImportHeaders[c])
		}
	}
	get := func(rec []string, c string) string {
		if i, ok := col[c]; ok && i < len(rec) {
			return strings.TrimSpace(rec[i])
		}
		return ""
	}
	var rows []ImportRow
	for i, rec := range records[head+1:] {
		r := ImportRow{Row: head + i + 2, Commune: get(rec, "commune"), Village: get(rec, "village"), Households: get(rec, "households"),
			Team: get(rec, "team"), FullName: get(rec, "full_name"), Phone: get(rec, "phone"), Position: get(rec, "position"),
			Affiliation: get(rec, "affiliation"), Gender: get(rec, "gender"), BirthYear: get(rec, "birth_year"),
			DecisionNo: get(rec, "decision_no"), EstablishedOn: get(rec, "established_on")}
		if r.Village+r.Team+r.FullName+r.Phone+r.Position+r.Affiliation+r.Gender+r.BirthYear+r.DecisionNo+r.EstablishedOn == "" {
			continue // an empty line, or one holding only its commune or a number
		}
		if len(rows) == MaxImportRows {
			return nil, Invalid("file", "too_many", MaxImportRows)
		}
		rows = append(rows, r)
	}
	if len(rows) == 0 {
		return nil, Invalid("file", "sheet_empty")
	}
	return rows, nil
}

// ---- cells ----

// ImportPhone reads a member's phone number as spreadsheets hold it: any form
// NormalizePhone reads, a number that lost its leading zero in Excel
// (912345678, 9.12345678E+08), or several numbers of which the first is
// taken ("0905 111 222 / 0234 3822 123").
func ImportPhone(s string) (string, bool) {
	s = strings.TrimSpace(s)
	first := strings.FieldsFunc(s, func(r rune) bool { return r == '/' || r == ';' || r == ',' || r == '\n' })
	if len(first) > 1 {
		s = strings.TrimSpace(first[0])
	}
	if strings.ContainsAny(s, "eE") { // Excel's scientific form
		if f, err := strconv.ParseFloat(s, 64); err == nil && f > 0 && f < 1e13 && f == float64(int64(f)) {
			s = strconv.FormatInt(int64(f), 10)
		}
	}
	s = strings.TrimSuffix(s, ".0")
	if p, ok := NormalizePhone(s); ok {
		return p, true
	}
	if d := strings.Map(keepDigit, s); len(d) == 9 && d[0] != '0' && strings.Map(keepPhoneRune, s) == s {
		return NormalizePhone("0" + d)
	}
	return "", false
}

func keepDigit(r rune) rune {
	if r >= '0' && r <= '9' {
		return r
	}
	return -1
}

func keepPhoneRune(r rune) rune {
	if r >= '0' && r <= '9' || r == ' ' || r == '.' || r == '-' {
		return r
	}
	return -1
}

// words folds s into its words without diacritics, for the keyword rules.
func words(s string) string { return " " + headerKey(s) + " " }

func hasWord(w string, phrases ...string) bool {
	for _, p := range phrases {
		if strings.Contains(w, " "+p+" ") {
			return true
		}
	}
	return false
}

// ImportPosition reads a post in the team: "Tổ trưởng", "Tổ phó", "Thành
// viên" and their variants, or the codes. "" stays "" (not given).
func ImportPosition(s string) (Position, bool) {
	w := strings.ReplaceAll(words(s), " to dan pho ", " ")
	switch {
	case strings.TrimSpace(w) == "":
		return "", true
	case hasWord(w, "deputy", "pho"):
		return PositionDeputy, true
	case hasWord(w, "leader", "truong"):
		return PositionLeader, true
	case hasWord(w, "member", "thanh vien", "to vien", "uy vien", "vien", "tv"):
		return PositionMember, true
	}
	return "", false
}

// affiliationWords are the organisations as people name them, tried in order
// (a village head's school must not read as a school).
var affiliationWords = []struct {
	code    string
	phrases []string
}{
	{"village_head", []string{"truong thon", "thon truong", "truong ban", "truong khu pho", "to truong tdp", "to truong to dan pho", "truong tdp", "village head"}},
	{"commune_police", []string{"cong an", "ca xa", "ca phuong", "cax", "police"}},
	{"youth_union", []string{"doan thanh nien", "doan tn", "dtn", "chi doan", "doan", "thanh nien", "youth union", "youth"}},
	{"womens_union", []string{"phu nu", "lhpn", "hpn", "women", "womens union"}},
	{"farmers_union", []string{"nong dan", "hnd", "hoi nd", "farmers", "farmers union"}},
	{"veterans_association", []string{"cuu chien binh", "ccb", "veterans", "veteran"}},
	{"fatherland_front", []string{"mat tran", "mttq", "fatherland front", "fatherland"}},
	{"telecom", []string{"vien thong", "viettel", "vnpt", "mobifone", "vinaphone", "buu dien", "fpt", "telecom"}},
	{"school", []string{"truong hoc", "giao vien", "hoc sinh", "sinh vien", "truong th", "truong thcs", "truong thpt", "truong mam non", "school", "teacher"}},
	{"resident", []string{"nguoi dan", "cong dan", "dan", "resident"}},
	{"other", []string{"khac", "other"}},
}

// ImportAffiliation reads the organisation a member comes from: a code of
// API.md or its name as people write it ("Công an xã", "Đoàn TN", "Hội LHPN",
// "Viettel"…). "" stays "" (not given).
func ImportAffiliation(s string) (string, bool) {
	if contains(Affiliations, strings.TrimSpace(s)) {
		return strings.TrimSpace(s), true
	}
	w := words(s)
	if strings.TrimSpace(w) == "" {
		return "", true
	}
	for _, a := range affiliationWords {
		if hasWord(w, a.phrases...) {
			return a.code, true
		}
	}
	return "", false
}

// ImportGender reads Nam/Nữ/Khác (or m/f/x, male/female). "" stays "".
func ImportGender(s string) (string, bool) {
	switch strings.TrimSpace(headerKey(s)) {
	case "":
		return "", true
	case "nam", "m", "male", "trai":
		return "m", true
	case "nu", "f", "female", "gai":
		return "f", true
	case "khac", "x", "other":
		return "x", true
	}
	return "", false
}

// ImportBirthYear reads a year of birth: 1985, 1985.0, a date (15/03/1985,
// 1985-03-15, Excel's 03-15-85) or an Excel date serial. 0 when empty.
func ImportBirthYear(s string, today Date) (int, bool) {
	s = strings.TrimSuffix(strings.TrimSpace(s), ".0")
	if s == "" {
		return 0, true
	}
	if n, err := strconv.Atoi(s); err == nil {
		switch {
		case n >= 1000 && n <= 9999:
			return n, true
		case n >= 10000 && n <= 80000: // an Excel date serial
			return excelDate(n).Year(), true
		}
		return 0, false
	}
	parts := strings.FieldsFunc(s, func(r rune) bool { return r == '/' || r == '-' || r == '.' || r == ' ' })
	if len(parts) != 3 {
		return 0, false
	}
	for _, p := range parts {
		if len(p) == 4 {
			if n, err := strconv.Atoi(p); err == nil {
				return n, true
			}
		}
	}
	if yy, err := strconv.Atoi(parts[2]); err == nil && len(parts[2]) == 2 { // Excel's m-d-yy
		y := 2000 + yy
		if y > today.Time().Year()-MinMemberAge {
			y -= 100
		}
		return y, true
	}
	return 0, false
}

// excelDate is the day of an Excel date serial (1900 system).
func excelDate(n int) time.Time {
	return time.Date(1899, 12, 30, 0, 0, 0, 0, time.UTC).AddDate(0, 0, n)
}

// ImportDate reads a founding date: dd/mm/yyyy, yyyy-mm-dd, dd-mm-yyyy,
// dd.mm.yyyy, Excel's mm-dd-yy or an Excel date serial. "" when empty.
func ImportDate(s string) (Date, bool) {
	s = strings.TrimSpace(s)
	if s == "" {
		return "", true
	}
	if d, ok := ParseDate(s); ok {
		return d, true
	}
	if n, err := strconv.Atoi(s); err == nil && n >= 10000 && n <= 80000 {
		return DateOf(excelDate(n).Add(12 * time.Hour)), true
	}
	for _, layout := range []string{"2/1/2006", "2-1-2006", "2.1.2006", "1-2-06"} {
		if t, err := time.Parse(layout, s); err == nil {
			return Date(t.Format(DateLayout)), true
		}
	}
	return "", false
}

// ImportCount reads a number of households: 1250, 1.250, 1,250. -1 when empty.
func ImportCount(s string) (int, bool) {
	s = strings.TrimSuffix(strings.TrimSpace(s), ".0")
	if s == "" {
		return -1, true
	}
	n, err := strconv.Atoi(strings.NewReplacer(".", "", ",", "", " ", "").Replace(s))
	return n, err == nil && n >= 0
}

// VillageTypeOf guesses a village's type from its name ("Thôn …", "Bản …",
// "Tổ dân phố …", "TDP …"), else from its commune's: villages of a ward are
// residential groups, of a rural commune thôn.
func VillageTypeOf(name, communeType string) string {
	w := words(name)
	switch {
	case strings.HasPrefix(w, " thon "):
		return TypeThon
	case strings.HasPrefix(w, " ban "):
		return TypeBan
	case strings.HasPrefix(w, " to dan pho "), strings.HasPrefix(w, " tdp "), strings.HasPrefix(w, " to "),
		strings.HasPrefix(w, " khu pho "), strings.HasPrefix(w, " khoi "):
		return TypeToDanPho
	case communeType == TypePhuong:
		return TypeToDanPho
	}
	return TypeThon
}

// CommuneFinder finds a current commune by its GSO code or its name, with or
// without diacritics and with or without its type ("Phường Phú Xuân", "Phu
// Xuan", "P. Phú Xuân").
type CommuneFinder struct {
	byCode map[string]Unit
	byName map[string][]Unit
}

// NewCommuneFinder indexes communes (today's).
func NewCommuneFinder(communes []Unit) *CommuneFinder {
	f := &CommuneFinder{byCode: map[string]Unit{}, byName: map[string][]Unit{}}
	for _, u := range communes {
		f.byCode[u.Code] = u
		full, short := headerKey(u.Name), communeKey(u.Name)
		f.byName[full] = append(f.byName[full], u)
		if short != full {
			f.byName[short] = append(f.byName[short], u)
		}
	}
	return f
}

// communeKey is a commune's name without its type.
func communeKey(name string) string {
	k := headerKey(name)
	for _, p := range []string{"thi tran ", "phuong ", "xa ", "tt ", "p ", "x "} {
		if rest, ok := strings.CutPrefix(k, p); ok {
			return rest
		}
	}
	return k
}

// Find returns the commune s names; code says why not: "required",
// "unknown_commune" or "ambiguous_commune".
func (f *CommuneFinder) Find(s string) (Unit, string) {
	s = strings.TrimSpace(s)
	if s == "" {
		return Unit{}, "required"
	}
	if u, ok := f.byCode[strings.TrimSuffix(s, ".0")]; ok {
		return u, ""
	}
	for _, k := range []string{headerKey(s), communeKey(s)} {
		switch us := f.byName[k]; len(us) {
		case 0:
		case 1:
			return us[0], ""
		default:
			return Unit{}, "ambiguous_commune"
		}
	}
	return Unit{}, "unknown_commune"
}
