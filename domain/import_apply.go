package domain

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"
)

// Import statuses of a row.
const (
	ImportCreate    = "create"
	ImportUpdate    = "update"
	ImportUnchanged = "unchanged"
	ImportInvalid   = "invalid"
)

// ImportDecisionUnknown is the decision number of a team an import creates
// from a file that gives none; the commune leader corrects it on the team's
// page. The founding date is then the day of the import.
const ImportDecisionUnknown = "chưa rõ"

// ImportResult is what one row does (or, in a dry run, would do).
type ImportResult struct {
	Row      int
	Commune  string // the commune the row resolved to ("" when it did not)
	Status   string
	Errors   []FieldError // by column (ImportColumns), for an invalid row
	MemberID string       // the member created or matched
	// Changes lists what a row creates or updates: village, households, team,
	// decision_no, established_on, full_name, phone, position, affiliation,
	// gender, birth_year, active.
	Changes []string
}

// ImportSummary counts the rows of an import by status.
type ImportSummary struct {
	Rows, Create, Update, Unchanged, Invalid int
}

// Add counts r.
func (s *ImportSummary) Add(r ImportResult) {
	s.Rows++
	switch r.Status {
	case ImportCreate:
		s.Create++
	case ImportUpdate:
		s.Update++
	case ImportUnchanged:
		s.Unchanged++
	default:
		s.Invalid++
	}
}

// ImportContext is what applying rows to one commune needs besides the rows.
type ImportContext struct {
	By          string // the login (or tool) recorded in members' history
	Today       Date
	Now         time.Time
	CommuneType string // xa or phuong: the type of villages named without one
}

// importFields are a row's cells, read. Empty strings, -1 households and a 0
// birth year mean "not given": an update leaves the stored value.
type importFields struct {
	village, team, name, phone, affiliation, gender, decision string
	position                                                  Position
	households, birthYear                                     int
	established                                               Date
}

// readImportRow reads the cells of in, reporting every unreadable one.
func readImportRow(in ImportRow, today Date, p *Problems) importFields {
	f := importFields{village: CleanText(in.Village), team: CleanText(in.Team), name: CleanText(in.FullName),
		decision: CleanText(in.DecisionNo)}
	for field, v := range map[string]string{"team": f.team, "full_name": f.name, "phone": in.Phone} {
		if strings.TrimSpace(v) == "" {
			p.Add(field, "required")
		}
	}
	var ok bool
	if f.phone, ok = ImportPhone(in.Phone); !ok && in.Phone != "" {
		p.Add("phone", "phone")
	}
	if f.position, ok = ImportPosition(in.Position); !ok {
		p.Add("position", "import_position")
	}
	if f.affiliation, ok = ImportAffiliation(in.Affiliation); !ok {
		p.Add("affiliation", "import_affiliation")
	}
	if f.gender, ok = ImportGender(in.Gender); !ok {
		p.Add("gender", "import_gender")
	}
	if f.birthYear, ok = ImportBirthYear(in.BirthYear, today); !ok {
		p.Add("birth_year", "import_year")
	}
	if f.households, ok = ImportCount(in.Households); !ok {
		p.Add("households", "integer")
	}
	if f.established, ok = ImportDate(in.EstablishedOn); !ok {
		p.Add("established_on", "date")
	}
	return f
}

// ApplyImport applies the rows of one commune to r, in the registry's own
// rules (AddVillage, AddTeam, AddMember, UpdateTeam, UpdateMember: one leader
// per team, no phone twice, every field's limits), and says what each row
// did. Villages match by name in the commune, teams by name, members by phone
// (else by name within their team, whose phone then changes); names match
// without regard to case or tone-mark placement, and a name typed without
// diacritics matches the stored one and leaves it as it is. A row either
// applies whole or, invalid, changes nothing. Rows naming a leader go last,
// so that a team's old leader is stepped down by the file before the new one
// is named. Results are in the order of rows.
func ApplyImport(r *CommuneRegistry, rows []ImportRow, ic ImportContext) []ImportResult {
	im := &importer{r: r, ic: ic, seen: map[string]int{}}
	im.index()
	fields := make([]importFields, len(rows))
	out := make([]ImportResult, len(rows))
	order := make([]int, 0, len(rows))
	for i, in := range rows {
		var p Problems
		fields[i] = readImportRow(in, ic.Today, &p)
		if ph := fields[i].phone; ph != "" {
			if first, dup := im.seen[ph]; dup {
				p.Add("phone", "duplicate_row", first)
			} else {
				im.seen[ph] = in.Row
			}
		}
		out[i] = ImportResult{Row: in.Row, Commune: r.Code}
		if err := p.Err(); err != nil {
			out[i].Status, out[i].Errors = ImportInvalid, err.(*ValidationError).Fields
			continue
		}
		order = append(order, i)
	}
	sort.SliceStable(order, func(a, b int) bool {
		return fields[order[a]].position != PositionLeader && fields[order[b]].position == PositionLeader
	})
	for _, i := range order {
		sp := im.savepoint()
		res, err := im.apply(fields[i])
		if err != nil {
			im.rollback(sp)
			var ve *ValidationError
			if !errors.As(err, &ve) {
				ve = &ValidationError{Fields: []FieldError{{Field: "file", Code: "import_failed"}}}
			}
			out[i].Status, out[i].Errors = ImportInvalid, ve.Fields
			continue
		}
		res.Row, res.Commune = rows[i].Row, r.Code
		out[i] = res
	}
	return out
}

// importer applies rows to one registry, with indexes of its names and phones.
type importer struct {
	r    *CommuneRegistry
	ic   ImportContext
	seen map[string]int // phone → the first row of the file with it
	sp   *savepoint     // undoes the row being applied

	villages, teams map[string][]int // FoldKey and ASCIIFold of active names → indexes
	phones          map[string]int   // phone → member index (an active member first)
}

func (im *importer) index() {
	im.villages, im.teams, im.phones = map[string][]int{}, map[string][]int{}, map[string]int{}
	for i, v := range im.r.Villages {
		if v.Active {
			addName(im.villages, v.Name, i)
		}
	}
	for i, t := range im.r.Teams {
		if t.Active {
			addName(im.teams, t.Name, i)
		}
	}
	for i, m := range im.r.Members {
		if j, ok := im.phones[m.Phone]; m.Phone != "" && (!ok || m.Active && !im.r.Members[j].Active) {
			im.phones[m.Phone] = i
		}
	}
}

func addName(idx map[string][]int, name string, i int) {
	idx["f:"+FoldKey(name)] = append(idx["f:"+FoldKey(name)], i)
	idx["a:"+looseKey(name)] = append(idx["a:"+looseKey(name)], i)
}

// find returns the one index name has, exactly or else loosely (looseKey).
func find(idx map[string][]int, name string) int {
	if is := idx["f:"+FoldKey(name)]; len(is) == 1 {
		return is[0]
	}
	if is := idx["a:"+looseKey(name)]; len(is) == 1 {
		return is[0]
	}
	return -1
}

// looseKey compares names without diacritics, punctuation, or the
// abbreviations of a village's type ("TDP 1" is "Tổ dân phố 1").
func looseKey(name string) string {
	w := words(name)
	for short, long := range map[string]string{" tdp ": " to dan pho ", " kp ": " khu pho ", " cnscd ": " cong nghe so cong dong "} {
		w = strings.ReplaceAll(w, short, long)
	}
	return strings.TrimSpace(w)
}

// sameName reports whether typed names the same as stored: equal once folded,
// or typed without diacritics.
func sameName(stored, typed string) bool {
	return FoldKey(stored) == FoldKey(typed) ||
		ASCIIFold(stored) == ASCIIFold(typed) && ASCIIFold(typed) == strings.ToLower(CleanText(typed))
}

// savepoint is what undoes a row: the lengths and sequences before it, and
// the elements it replaced.
type savepoint struct {
	nv, nt, nm int
	seq        RegistrySeq
	villages   map[int]Village
	teams      map[int]Team
	members    map[int]Member
}

func (im *importer) savepoint() *savepoint {
	r := im.r
	im.sp = &savepoint{nv: len(r.Villages), nt: len(r.Teams), nm: len(r.Members), seq: r.Seq,
		villages: map[int]Village{}, teams: map[int]Team{}, members: map[int]Member{}}
	return im.sp
}

// keepVillage, keepTeam and keepMember save element i before the row
// replaces it (elements the row appended are undone by truncation).
func (im *importer) keepVillage(i int) { keep(im.sp.villages, im.r.Villages, i, im.sp.nv) }
func (im *importer) keepTeam(i int)    { keep(im.sp.teams, im.r.Teams, i, im.sp.nt) }
func (im *importer) keepMember(i int)  { keep(im.sp.members, im.r.Members, i, im.sp.nm) }

func keep[T any](saved map[int]T, list []T, i, n int) {
	if _, ok := saved[i]; !ok && i < n {
		saved[i] = list[i]
	}
}

func (im *importer) rollback(sp *savepoint) {
	r := im.r
	r.Villages, r.Teams, r.Members, r.Seq = r.Villages[:sp.nv], r.Teams[:sp.nt], r.Members[:sp.nm], sp.seq
	for i, v := range sp.villages {
		r.Villages[i] = v
	}
	for i, t := range sp.teams {
		r.Teams[i] = t
	}
	for i, m := range sp.members {
		r.Members[i] = m
	}
	im.index()
}

// renamed maps the registry's field names to the file's columns.
func renamed(err error, names map[string]string) error {
	var ve *ValidationError
	if !errors.As(err, &ve) {
		return err
	}
	out := &ValidationError{Fields: make([]FieldError, len(ve.Fields))}
	for i, f := range ve.Fields {
		if n, ok := names[f.Field]; ok {
			f.Field = n
		}
		out.Fields[i] = f
	}
	return out
}

// apply applies one read row; an error leaves the registry to be rolled back.
func (im *importer) apply(f importFields) (ImportResult, error) {
	res := &ImportResult{Status: ImportUnchanged}
	r, ic := im.r, im.ic
	change := func(what string) { res.Changes = append(res.Changes, what) }
	village := ""
	if f.village != "" {
		i := find(im.villages, f.village)
		switch {
		case i < 0:
			v, err := r.AddVillage(NewVillage{CommuneCode: r.Code, Name: f.village, Type: VillageTypeOf(f.village, ic.CommuneType),
				Households: max(f.households, 0)}, ic.Now)
			if err != nil {
				return *res, renamed(err, map[string]string{"name": "village", "type": "village"})
			}
			addName(im.villages, v.Name, len(r.Villages)-1)
			village = v.Code
			change("village")
		case f.households >= 0 && f.households != r.Villages[i].Households:
			village = r.Villages[i].Code
			im.keepVillage(i)
			if _, err := r.UpdateVillage(village, VillagePatch{Households: &f.households}, ic.Now); err != nil {
				return *res, err
			}
			change("households")
		default:
			village = r.Villages[i].Code
		}
	}
	team, err := im.team(f, village, change)
	if err != nil {
		return *res, err
	}
	err = im.member(f, team, res)
	return *res, err
}

// team finds or creates the row's team and moves it to the row's village.
func (im *importer) team(f importFields, village string, change func(string)) (string, error) {
	r, ic := im.r, im.ic
	i := find(im.teams, f.team)
	if i < 0 {
		est, dec := f.established, f.decision
		if est == "" {
			est = ic.Today
		}
		if dec == "" {
			dec = ImportDecisionUnknown
		}
		t, err := r.AddTeam(NewTeam{Name: f.team, CommuneCode: r.Code, VillageCode: village, EstablishedOn: string(est), DecisionNo: dec},
			ic.Today, ic.Now)
		if err != nil {
			return "", renamed(err, map[string]string{"name": "team", "village_code": "village"})
		}
		addName(im.teams, t.Name, len(r.Teams)-1)
		change("team")
		return t.ID, nil
	}
	t := r.Teams[i]
	var patch TeamPatch
	if village != "" && village != t.VillageCode {
		patch.VillageCode = &village
		change("village")
	}
	if f.decision != "" && f.decision != t.DecisionNo {
		patch.DecisionNo = &f.decision
		change("decision_no")
	}
	if f.established != "" && f.established != t.EstablishedOn {
		s := string(f.established)
		patch.EstablishedOn = &s
		change("established_on")
	}
	if patch != (TeamPatch{}) {
		im.keepTeam(i)
		if _, err := r.UpdateTeam(t.ID, patch, ic.Today, ic.Now); err != nil {
			return "", renamed(err, map[string]string{"name": "team", "village_code": "village"})
		}
	}
	return t.ID, nil
}

// member creates the row's member or brings the matched one up to the row.
func (im *importer) member(f importFields, team string, res *ImportResult) error {
	r, ic := im.r, im.ic
	names := map[string]string{"team_id": "team"}
	i, ok := im.phones[f.phone]
	if !ok {
		i = -1
		// The same person with a new phone: one active member of the team
		// by that name whose own phone the file does not list.
		for j, m := range r.Members {
			if _, listed := im.seen[m.Phone]; m.Active && m.TeamID == team && FoldKey(m.FullName) == FoldKey(f.name) && !listed {
				if i >= 0 {
					i = -1
					break
				}
				i = j
			}
		}
	}
	if i < 0 {
		var p Problems
		if f.gender == "" {
			p.Add("gender", "required")
		}
		if f.birthYear == 0 {
			p.Add("birth_year", "required")
		}
		if err := p.Err(); err != nil {
			return err
		}
		in := NewMember{TeamID: team, FullName: f.name, Phone: f.phone, Position: string(orDefault(f.position, PositionMember)),
			Affiliation: orDefault(f.affiliation, "other"), Gender: f.gender, BirthYear: f.birthYear}
		m, err := r.AddMember(in, ic.By, ic.Today, ic.Now)
		if err != nil {
			return renamed(err, names)
		}
		im.phones[m.Phone] = len(r.Members) - 1
		res.Status, res.MemberID = ImportCreate, m.ID
		return nil
	}
	m := r.Members[i]
	res.MemberID = m.ID
	var patch MemberPatch
	set := func(cond bool, field string, apply func()) {
		if cond {
			apply()
			res.Changes = append(res.Changes, field)
		}
	}
	set(m.TeamID != team, "team", func() { patch.TeamID = &team })
	set(!sameName(m.FullName, f.name), "full_name", func() { patch.FullName = &f.name })
	set(m.Phone != f.phone, "phone", func() { patch.Phone = &f.phone })
	pos := string(f.position)
	set(pos != "" && Position(pos) != m.Position, "position", func() { patch.Position = &pos })
	set(f.affiliation != "" && f.affiliation != m.Affiliation, "affiliation", func() { patch.Affiliation = &f.affiliation })
	set(f.gender != "" && f.gender != m.Gender, "gender", func() { patch.Gender = &f.gender })
	set(f.birthYear != 0 && f.birthYear != m.BirthYear, "birth_year", func() { patch.BirthYear = &f.birthYear })
	active := true
	set(!m.Active, "active", func() { patch.Active = &active })
	if patch != (MemberPatch{}) {
		im.keepMember(i)
		if _, err := r.UpdateMember(m.ID, patch, ic.By, ic.Today, ic.Now); err != nil {
			return renamed(err, names)
		}
		if patch.Phone != nil {
			delete(im.phones, m.Phone)
			im.phones[f.phone] = i
		}
	}
	if len(res.Changes) > 0 {
		res.Status = ImportUpdate
	}
	return nil
}

func orDefault[T ~string](v, def T) T {
	if v == "" {
		return def
	}
	return v
}

// RegistryImport is one import of a registry spreadsheet into the registries
// of the communes its rows name.
type RegistryImport struct {
	Rows []ImportRow
	// Communes are today's communes, the ones a row may name.
	Communes []Unit
	// Default is the commune of rows that name none ("": such rows are invalid).
	Default string
	// Allow says whether the caller may change commune's registry
	// (Scope.ManageCommune): rows of other communes are invalid.
	Allow func(commune string) error
	By    string
	Today Date
	Now   time.Time
}

// ImportReport is the outcome of an import, row by row in file order.
type ImportReport struct {
	Summary ImportSummary
	Rows    []ImportResult
	Input   []ImportRow // the rows as read, one per result
	// Written lists the communes whose registry was saved.
	Written []string
}

// Run applies the import commune by commune. A dry run reads the registries
// and applies the rows to copies: nothing is written. Otherwise each commune
// with at least one row to create or update is changed in one UpdateRegistry
// (the rows are applied again to the registry as it is then), and a commune
// whose rows change nothing is not written at all, so importing the same
// file twice writes nothing the second time. progress, if not nil, is told
// how many rows each commune held once it is done.
func (im RegistryImport) Run(ctx context.Context, store RegistryStore, dryRun bool, progress func(rows int)) (ImportReport, error) {
	finder := NewCommuneFinder(im.Communes)
	results := make([]ImportResult, len(im.Rows))
	groups := map[string][]int{}
	units := map[string]Unit{}
	for i, row := range im.Rows {
		results[i] = ImportResult{Row: row.Row, Status: ImportInvalid}
		name := row.Commune
		if name == "" {
			name = im.Default
		}
		u, code := finder.Find(name)
		if code == "" && im.Allow != nil && im.Allow(u.Code) != nil {
			code = "commune_not_in_scope"
		}
		if code != "" {
			results[i].Errors = []FieldError{{Field: "commune", Code: code}}
			continue
		}
		groups[u.Code] = append(groups[u.Code], i)
		units[u.Code] = u
	}
	codes := make([]string, 0, len(groups))
	for c := range groups {
		codes = append(codes, c)
	}
	sort.Strings(codes)
	var written []string
	for _, code := range codes {
		idx := groups[code]
		rows := make([]ImportRow, len(idx))
		for k, i := range idx {
			rows[k] = im.Rows[i]
		}
		ic := ImportContext{By: im.By, Today: im.Today, Now: im.Now, CommuneType: units[code].Type}
		reg, err := store.Registry(ctx, code)
		if err != nil {
			return ImportReport{}, fmt.Errorf("domain: import into %s: %w", code, err)
		}
		res := ApplyImport(reg.Clone(), rows, ic)
		if !dryRun && changes(res) {
			if _, err := store.UpdateRegistry(ctx, code, func(r *CommuneRegistry) error {
				res = ApplyImport(r, rows, ic)
				return nil
			}); err != nil {
				return ImportReport{}, fmt.Errorf("domain: import into %s: %w", code, err)
			}
			written = append(written, code)
		}
		for k, i := range idx {
			results[i] = res[k]
		}
		if progress != nil {
			progress(len(rows))
		}
	}
	rep := ImportReport{Rows: results, Input: im.Rows, Written: written}
	for _, r := range results {
		rep.Summary.Add(r)
	}
	return rep, nil
}

func changes(res []ImportResult) bool {
	for _, r := range res {
		if r.Status == ImportCreate || r.Status == ImportUpdate {
			return true
		}
	}
	return false
}
