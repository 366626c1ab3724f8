package domain

import (
	"sort"
	"strings"
	"unicode"

	"golang.org/x/text/unicode/norm"
)

// SheetRow is one line of a sign-in sheet: a member ID, or a phone, or a full
// name with the team (any of them may be empty).
type SheetRow struct {
	Row      int // 1-based line in the file, header included
	MemberID string
	Phone    string
	Name     string
	Team     string
}

// Sheet match statuses.
const (
	SheetMatched   = "matched"
	SheetAmbiguous = "ambiguous"
	SheetUnmatched = "unmatched"
	SheetDuplicate = "duplicate"
	SheetEmpty     = "empty"
)

// SheetMatch says what one row of a sheet matched and why.
type SheetMatch struct {
	SheetRow
	Status     string
	MemberID   string   // the member matched
	Reason     string   // a rule code for the catalogue: sheet.<reason>
	Candidates []string // member IDs, when ambiguous
}

// MatchSheet matches the rows of a sign-in sheet to the active members of
// regs: by member ID, else by phone, else by name (narrowed by team when the
// row names one). A row that fits several members is ambiguous and lists them;
// nothing is guessed.
func MatchSheet(rows []SheetRow, regs []*CommuneRegistry) []SheetMatch {
	byID := map[string]Member{}
	byPhone := map[string][]Member{}
	byName := map[string][]Member{}
	byASCII := map[string][]Member{} // names typed without diacritics
	teams := map[string]Team{}
	villages := map[string]string{}
	for _, reg := range regs {
		for _, t := range reg.Teams {
			teams[t.ID] = t
		}
		for _, v := range reg.Villages {
			villages[v.Code] = v.Name
		}
		for _, m := range reg.Members {
			if !m.Active {
				continue
			}
			byID[m.ID] = m
			if m.Phone != "" {
				byPhone[m.Phone] = append(byPhone[m.Phone], m)
			}
			k := FoldKey(m.FullName)
			byName[k] = append(byName[k], m)
			a := ASCIIFold(m.FullName)
			byASCII[a] = append(byASCII[a], m)
		}
	}
	teamFits := func(m Member, team string) bool {
		t := teams[m.TeamID]
		q := ASCIIFold(team)
		return t.ID == strings.TrimSpace(team) || strings.Contains(ASCIIFold(t.Name), q) ||
			(t.VillageCode != "" && strings.Contains(ASCIIFold(villages[t.VillageCode]), q))
	}
	seen := map[string]int{}
	out := make([]SheetMatch, 0, len(rows))
	for _, r := range rows {
		m := SheetMatch{SheetRow: r}
		id, phone, name, team := strings.TrimSpace(r.MemberID), strings.TrimSpace(r.Phone), CleanText(r.Name), CleanText(r.Team)
		var found []Member
		switch {
		case id != "":
			if mem, ok := byID[id]; ok {
				found = []Member{mem}
			} else {
				m.Status, m.Reason = SheetUnmatched, "unknown_id"
			}
		case phone == "" && name == "":
			m.Status, m.Reason = SheetEmpty, "empty"
		}
		if m.Status == "" && found == nil && phone != "" {
			if p, ok := NormalizePhone(phone); ok {
				found = byPhone[p]
			}
		}
		narrow := func(ms []Member) []Member {
			if team == "" {
				return ms
			}
			var fit []Member
			for _, c := range ms {
				if teamFits(c, team) {
					fit = append(fit, c)
				}
			}
			return fit
		}
		if m.Status == "" && found == nil && name != "" {
			found = narrow(byName[FoldKey(name)])
			if len(found) == 0 { // typed without diacritics: match, but say so
				if found = narrow(byASCII[ASCIIFold(name)]); len(found) > 0 {
					m.Reason = "no_accents"
				}
			}
		}
		switch {
		case m.Status != "":
		case len(found) == 1:
			m.Status, m.MemberID = SheetMatched, found[0].ID
			if first, dup := seen[found[0].ID]; dup {
				m.Status, m.Reason = SheetDuplicate, "duplicate_row"
				m.Candidates = []string{itoa64(int64(first))}
			}
			seen[found[0].ID] = r.Row
		case len(found) > 1:
			m.Status, m.Reason = SheetAmbiguous, "several"
			for _, c := range found {
				m.Candidates = append(m.Candidates, c.ID)
			}
			sort.Strings(m.Candidates)
			if team == "" {
				m.Reason = "several_no_team"
			}
		default:
			m.Status, m.Reason = SheetUnmatched, "not_found"
		}
		out = append(out, m)
	}
	return out
}

// ASCIIFold lower-cases s and removes Vietnamese diacritics ("Tổ trưởng" →
// "to truong"), for lenient matching of headers and team names typed by hand.
func ASCIIFold(s string) string {
	var b strings.Builder
	for _, r := range norm.NFD.String(strings.ToLower(CleanText(s))) {
		switch {
		case unicode.Is(unicode.Mn, r):
		case r == 'đ':
			b.WriteRune('d')
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// MaxSheetRows is the most rows a sign-in sheet may hold, header excluded.
const MaxSheetRows = 3000

// sheetHeaders maps the column names people use to the fields of a row;
// headers are compared without diacritics or case.
var sheetHeaders = map[string][]string{
	"member_id": {"ma thanh vien", "member_id", "member id", "id", "ma"},
	"phone":     {"so dien thoai", "sdt", "dien thoai", "phone", "phone number", "so dt"},
	"name":      {"ho va ten", "ho ten", "ten", "full_name", "full name", "name", "hoten"},
	"team":      {"to", "ten to", "to cnscd", "team", "team name", "thon", "to dan pho"},
}

// SheetRows reads the rows of a sign-in sheet from its cells, the first line
// being the header: its columns are found by name (Mã thành viên, Số điện
// thoại, Họ và tên, Tổ, in any order, with or without diacritics). An empty
// sheet, one without any of the columns or one longer than MaxSheetRows is a
// validation error on "file".
func SheetRows(records [][]string) ([]SheetRow, error) {
	if len(records) == 0 {
		return nil, Invalid("file", "sheet_empty")
	}
	col := map[string]int{}
	for i, h := range records[0] {
		k := ASCIIFold(h)
		for field, names := range sheetHeaders {
			for _, n := range names {
				if _, taken := col[field]; k == n && !taken {
					col[field] = i
				}
			}
		}
	}
	_, hasID := col["member_id"]
	_, hasPhone := col["phone"]
	_, hasName := col["name"]
	if !hasID && !hasPhone && !hasName {
		return nil, Invalid("file", "sheet_columns")
	}
	if len(records) > MaxSheetRows+1 {
		return nil, Invalid("file", "too_many", MaxSheetRows)
	}
	get := func(rec []string, field string) string {
		if i, ok := col[field]; ok && i < len(rec) {
			return strings.TrimSpace(rec[i])
		}
		return ""
	}
	var rows []SheetRow
	for i, rec := range records[1:] {
		rows = append(rows, SheetRow{Row: i + 2, MemberID: get(rec, "member_id"), Phone: get(rec, "phone"),
			Name: get(rec, "name"), Team: get(rec, "team")})
	}
	return rows, nil
}
