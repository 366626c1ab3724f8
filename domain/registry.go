package domain

import (
	"context"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// CommuneRegistry is the registry of one current commune: its villages, its teams
// and their members. It is stored as one document so that every list a commune
// leader opens is one read of one small document, whatever the size of the rest of
// the country, and so that rules spanning the commune (one leader per team, no two
// members with one phone) are checked and saved atomically.
type CommuneRegistry struct {
	Code     string
	Version  int64
	Villages []Village
	Teams    []Team
	Members  []Member
	Seq      RegistrySeq
}

// RegistrySeq numbers the IDs generated in a commune.
type RegistrySeq struct {
	Village, Team, Member int
}

// RegistryCount summarises a commune registry.
type RegistryCount struct {
	Villages, Teams, Members int // active ones
	Version                  int64
}

// Count summarises r.
func (r *CommuneRegistry) Count() RegistryCount {
	var c RegistryCount
	for _, v := range r.Villages {
		if v.Active {
			c.Villages++
		}
	}
	for _, t := range r.Teams {
		if t.Active {
			c.Teams++
		}
	}
	for _, m := range r.Members {
		if m.Active {
			c.Members++
		}
	}
	c.Version = r.Version
	return c
}

// Clone returns a deep copy that may be modified.
func (r *CommuneRegistry) Clone() *CommuneRegistry {
	c := *r
	c.Villages = append([]Village(nil), r.Villages...)
	c.Teams = append([]Team(nil), r.Teams...)
	c.Members = make([]Member, len(r.Members))
	for i, m := range r.Members {
		m.History = append([]MemberEvent(nil), m.History...)
		c.Members[i] = m
	}
	return &c
}

// RegistryStore persists commune registries.
type RegistryStore interface {
	// Registry returns the registry of a current commune (ErrNotFound otherwise).
	// The value may be shared with other readers: never modify it.
	Registry(ctx context.Context, commune string) (*CommuneRegistry, error)
	// UpdateRegistry applies fn to a private copy of the registry and saves the
	// result atomically, calling fn again if another writer changed it meanwhile.
	UpdateRegistry(ctx context.Context, commune string, fn func(r *CommuneRegistry) error) (*CommuneRegistry, error)
	// Registries returns the registries of communes (read-only), in one pass
	// over the database when many must be read; missing communes are left out.
	Registries(ctx context.Context, communes []string) (map[string]*CommuneRegistry, error)
	// RegistryCounts returns the summary of every commune registry.
	RegistryCounts(ctx context.Context) (map[string]RegistryCount, error)
	// EnsureRegistries creates an empty registry for each commune that has none.
	EnsureRegistries(ctx context.Context, communes []string) error
	// ReplaceRegistries writes whole registries at once (demo and seed data).
	ReplaceRegistries(ctx context.Context, regs []*CommuneRegistry) error
}

// CommuneOf returns the commune code that prefixes a village, team or member ID.
func CommuneOf(id string) string {
	c, _, ok := strings.Cut(id, "-")
	if !ok {
		return ""
	}
	return c
}

// ---- villages ----

// Village is a thôn, bản or tổ dân phố of a commune, created by its commune.
type Village struct {
	Code        string
	CommuneCode string
	Name        string
	Type        string
	Households  int
	Active      bool
	CreatedAt   time.Time
	UpdatedAt   time.Time
}

// NewVillage is the input that creates a village.
type NewVillage struct {
	CommuneCode string
	Name        string
	Type        string
	Households  int
}

// Limits shared by validation and the pages.
const (
	MaxNameLen        = 120
	MaxVillageHH      = 50000
	MaxDecisionLen    = 60
	FirstTeamDate     = Date("2021-01-01")
	MinBirthYear      = 1930
	MinMemberAge      = 14
	MaxNoteLen        = 500
	MaxDetailsPerPage = 500
)

// AddVillage validates in and appends a village with a new code.
func (r *CommuneRegistry) AddVillage(in NewVillage, now time.Time) (Village, error) {
	var p Problems
	name := CleanText(in.Name)
	checkName(&p, "name", name)
	if !p.Has("name") && r.villageByName(name, "") != nil {
		p.Add("name", "duplicate")
	}
	if !contains(VillageTypes, in.Type) {
		p.Add("type", "one_of", strings.Join(VillageTypes, ", "))
	}
	if in.Households < 0 || in.Households > MaxVillageHH {
		p.Add("households", "range", fmt.Sprintf("0–%d", MaxVillageHH))
	}
	if err := p.Err(); err != nil {
		return Village{}, err
	}
	r.Seq.Village++
	v := Village{
		Code: fmt.Sprintf("%s-%03d", r.Code, r.Seq.Village), CommuneCode: r.Code,
		Name: name, Type: in.Type, Households: in.Households, Active: true,
		CreatedAt: now.UTC(), UpdatedAt: now.UTC(),
	}
	r.Villages = append(r.Villages, v)
	return v, nil
}

// VillagePatch changes a village; nil fields stay.
type VillagePatch struct {
	Name       *string
	Type       *string
	Households *int
	Active     *bool
}

// UpdateVillage applies patch to village code.
func (r *CommuneRegistry) UpdateVillage(code string, patch VillagePatch, now time.Time) (Village, error) {
	i := r.villageIndex(code)
	if i < 0 {
		return Village{}, fmt.Errorf("village %s: %w", code, ErrNotFound)
	}
	v := r.Villages[i]
	var p Problems
	if patch.Name != nil {
		v.Name = CleanText(*patch.Name)
		checkName(&p, "name", v.Name)
		if !p.Has("name") && r.villageByName(v.Name, code) != nil {
			p.Add("name", "duplicate")
		}
	}
	if patch.Type != nil {
		v.Type = *patch.Type
		if !contains(VillageTypes, v.Type) {
			p.Add("type", "one_of", strings.Join(VillageTypes, ", "))
		}
	}
	if patch.Households != nil {
		v.Households = *patch.Households
		if v.Households < 0 || v.Households > MaxVillageHH {
			p.Add("households", "range", fmt.Sprintf("0–%d", MaxVillageHH))
		}
	}
	if patch.Active != nil {
		if !*patch.Active && v.Active {
			for _, t := range r.Teams {
				if t.Active && t.VillageCode == code {
					p.Add("active", "village_has_team")
					break
				}
			}
		}
		v.Active = *patch.Active
	}
	if err := p.Err(); err != nil {
		return Village{}, err
	}
	v.UpdatedAt = now.UTC()
	r.Villages[i] = v
	return v, nil
}

// Village returns village code.
func (r *CommuneRegistry) Village(code string) (Village, bool) {
	if i := r.villageIndex(code); i >= 0 {
		return r.Villages[i], true
	}
	return Village{}, false
}

func (r *CommuneRegistry) villageIndex(code string) int {
	for i := range r.Villages {
		if r.Villages[i].Code == code {
			return i
		}
	}
	return -1
}

func (r *CommuneRegistry) villageByName(name, except string) *Village {
	key := FoldKey(name)
	for i := range r.Villages {
		v := &r.Villages[i]
		if v.Active && v.Code != except && FoldKey(v.Name) == key {
			return v
		}
	}
	return nil
}

// ---- teams ----

// Team is a Tổ công nghệ số cộng đồng, founded by a decision of its commune.
type Team struct {
	ID            string
	CommuneCode   string
	VillageCode   string // empty for a commune-level team
	Name          string
	EstablishedOn Date
	DecisionNo    string
	Active        bool
	CreatedAt     time.Time
	UpdatedAt     time.Time
}

// NewTeam is the input that creates a team.
type NewTeam struct {
	Name          string
	CommuneCode   string
	VillageCode   string
	EstablishedOn string
	DecisionNo    string
}

// TeamPatch changes a team; nil fields stay.
type TeamPatch struct {
	Name          *string
	VillageCode   *string
	EstablishedOn *string
	DecisionNo    *string
	Active        *bool
}

// AddTeam validates in and appends a team with a new ID.
func (r *CommuneRegistry) AddTeam(in NewTeam, today Date, now time.Time) (Team, error) {
	t := Team{CommuneCode: r.Code, Active: true}
	p := r.applyTeam(&t, TeamPatch{Name: &in.Name, VillageCode: &in.VillageCode,
		EstablishedOn: &in.EstablishedOn, DecisionNo: &in.DecisionNo}, today)
	if err := p.Err(); err != nil {
		return Team{}, err
	}
	r.Seq.Team++
	t.ID = fmt.Sprintf("%s-T%03d", r.Code, r.Seq.Team)
	t.CreatedAt, t.UpdatedAt = now.UTC(), now.UTC()
	r.Teams = append(r.Teams, t)
	return t, nil
}

// UpdateTeam applies patch to team id.
func (r *CommuneRegistry) UpdateTeam(id string, patch TeamPatch, today Date, now time.Time) (Team, error) {
	i := r.teamIndex(id)
	if i < 0 {
		return Team{}, fmt.Errorf("team %s: %w", id, ErrNotFound)
	}
	t := r.Teams[i]
	p := r.applyTeam(&t, patch, today)
	if patch.Active != nil && !*patch.Active && r.Teams[i].Active {
		for _, m := range r.Members {
			if m.Active && m.TeamID == id {
				p.Add("active", "team_has_members")
				break
			}
		}
	}
	if err := p.Err(); err != nil {
		return Team{}, err
	}
	t.UpdatedAt = now.UTC()
	r.Teams[i] = t
	return t, nil
}

func (r *CommuneRegistry) applyTeam(t *Team, patch TeamPatch, today Date) *Problems {
	var p Problems
	if patch.Name != nil {
		t.Name = CleanText(*patch.Name)
		checkName(&p, "name", t.Name)
		if !p.Has("name") {
			key := FoldKey(t.Name)
			for _, o := range r.Teams {
				if o.Active && o.ID != t.ID && FoldKey(o.Name) == key {
					p.Add("name", "duplicate")
					break
				}
			}
		}
	}
	if patch.VillageCode != nil {
		t.VillageCode = strings.TrimSpace(*patch.VillageCode)
		if t.VillageCode != "" {
			if v, ok := r.Village(t.VillageCode); !ok || !v.Active {
				p.Add("village_code", "unknown_village")
			}
		}
	}
	if patch.EstablishedOn != nil {
		d, ok := ParseDate(strings.TrimSpace(*patch.EstablishedOn))
		switch {
		case *patch.EstablishedOn == "":
			p.Add("established_on", "required")
		case !ok:
			p.Add("established_on", "date")
		case d < FirstTeamDate || d > today:
			p.Add("established_on", "date_range", string(FirstTeamDate)+"–"+string(today))
		}
		t.EstablishedOn = d
	}
	if patch.DecisionNo != nil {
		t.DecisionNo = CleanText(*patch.DecisionNo)
		switch n := utf8.RuneCountInString(t.DecisionNo); {
		case n == 0:
			p.Add("decision_no", "required")
		case n > MaxDecisionLen:
			p.Add("decision_no", "too_long", MaxDecisionLen)
		}
	}
	if patch.Active != nil {
		t.Active = *patch.Active
	}
	return &p
}

// Team returns team id.
func (r *CommuneRegistry) Team(id string) (Team, bool) {
	if i := r.teamIndex(id); i >= 0 {
		return r.Teams[i], true
	}
	return Team{}, false
}

func (r *CommuneRegistry) teamIndex(id string) int {
	for i := range r.Teams {
		if r.Teams[i].ID == id {
			return i
		}
	}
	return -1
}

// TeamView is a team with the figures derived from its members.
type TeamView struct {
	Team
	LeaderID    string
	LeaderName  string
	MemberCount int
}

// TeamViews returns the teams that pass keep, in ID order, with their derived fields.
func (r *CommuneRegistry) TeamViews(keep func(Team) bool) []TeamView {
	out := make([]TeamView, 0, len(r.Teams))
	idx := map[string]int{}
	for _, t := range r.Teams {
		if keep == nil || keep(t) {
			idx[t.ID] = len(out)
			out = append(out, TeamView{Team: t})
		}
	}
	for _, m := range r.Members {
		i, ok := idx[m.TeamID]
		if !ok || !m.Active {
			continue
		}
		out[i].MemberCount++
		if m.Position == PositionLeader {
			out[i].LeaderID, out[i].LeaderName = m.ID, m.FullName
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

// ---- members ----

// Position is a member's post in the team.
type Position string

const (
	PositionLeader Position = "leader"
	PositionDeputy Position = "deputy"
	PositionMember Position = "member"
)

// Positions lists every position.
var Positions = []string{string(PositionLeader), string(PositionDeputy), string(PositionMember)}

// Affiliations are the organisations a member comes from (API.md).
var Affiliations = []string{"commune_police", "youth_union", "womens_union", "farmers_union",
	"veterans_association", "fatherland_front", "telecom", "school", "village_head", "resident", "other"}

// Genders of members and citizens.
var Genders = []string{"f", "m", "x"}

// Member is a person in a team. A member who leaves keeps their record (inactive)
// and their history.
type Member struct {
	ID          string
	CommuneCode string
	TeamID      string
	FullName    string
	Phone       string
	Position    Position
	Affiliation string
	Gender      string
	BirthYear   int
	Active      bool
	JoinedOn    Date
	LeftOn      Date
	History     []MemberEvent
	CreatedAt   time.Time
	UpdatedAt   time.Time
}

// MemberEvent is one change in a member's membership.
type MemberEvent struct {
	At       time.Time
	Kind     string // joined, moved, position, left, rejoined
	TeamID   string
	Position Position
	By       string
}

// NewMember is the input that creates a member.
type NewMember struct {
	TeamID      string
	FullName    string
	Phone       string
	Position    string
	Affiliation string
	Gender      string
	BirthYear   int
	JoinedOn    string
}

// MemberPatch changes a member; nil fields stay.
type MemberPatch struct {
	TeamID      *string
	FullName    *string
	Phone       *string
	Position    *string
	Affiliation *string
	Gender      *string
	BirthYear   *int
	Active      *bool
	LeftOn      *string
}

// AddMember validates in and appends a member with a new ID.
func (r *CommuneRegistry) AddMember(in NewMember, by string, today Date, now time.Time) (Member, error) {
	m := Member{CommuneCode: r.Code, Active: true, JoinedOn: today}
	if in.JoinedOn != "" {
		m.JoinedOn = Date(in.JoinedOn)
	}
	p := r.applyMember(&m, MemberPatch{TeamID: &in.TeamID, FullName: &in.FullName, Phone: &in.Phone,
		Position: &in.Position, Affiliation: &in.Affiliation, Gender: &in.Gender, BirthYear: &in.BirthYear}, today)
	if in.JoinedOn != "" {
		if d, ok := ParseDate(in.JoinedOn); !ok || d > today {
			p.Add("joined_on", "date")
		}
	}
	if err := p.Err(); err != nil {
		return Member{}, err
	}
	r.Seq.Member++
	m.ID = fmt.Sprintf("%s-M%04d", r.Code, r.Seq.Member)
	m.CreatedAt, m.UpdatedAt = now.UTC(), now.UTC()
	m.History = []MemberEvent{{At: now.UTC(), Kind: "joined", TeamID: m.TeamID, Position: m.Position, By: by}}
	r.Members = append(r.Members, m)
	return m, nil
}

// UpdateMember applies patch to member id and records membership changes in its history.
func (r *CommuneRegistry) UpdateMember(id string, patch MemberPatch, by string, today Date, now time.Time) (Member, error) {
	i := r.memberIndex(id)
	if i < 0 {
		return Member{}, fmt.Errorf("member %s: %w", id, ErrNotFound)
	}
	old := r.Members[i]
	m := old
	m.History = append([]MemberEvent(nil), old.History...)
	p := r.applyMember(&m, patch, today)
	if patch.LeftOn != nil && *patch.LeftOn != "" {
		d, ok := ParseDate(*patch.LeftOn)
		if !ok || d > today || d < m.JoinedOn {
			p.Add("left_on", "date")
		}
		m.LeftOn = d
	}
	if err := p.Err(); err != nil {
		return Member{}, err
	}
	ev := func(kind string) {
		m.History = append(m.History, MemberEvent{At: now.UTC(), Kind: kind, TeamID: m.TeamID, Position: m.Position, By: by})
	}
	switch {
	case old.Active && !m.Active:
		if m.LeftOn == "" {
			m.LeftOn = today
		}
		ev("left")
	case !old.Active && m.Active:
		m.LeftOn, m.JoinedOn = "", today
		ev("rejoined")
	case old.TeamID != m.TeamID:
		ev("moved")
	case old.Position != m.Position:
		ev("position")
	}
	m.UpdatedAt = now.UTC()
	r.Members[i] = m
	return m, nil
}

func (r *CommuneRegistry) applyMember(m *Member, patch MemberPatch, today Date) *Problems {
	var p Problems
	if patch.TeamID != nil {
		m.TeamID = strings.TrimSpace(*patch.TeamID)
		if t, ok := r.Team(m.TeamID); !ok || !t.Active {
			if m.TeamID == "" {
				p.Add("team_id", "required")
			} else {
				p.Add("team_id", "unknown_team")
			}
		}
	}
	if patch.FullName != nil {
		m.FullName = CleanText(*patch.FullName)
		checkName(&p, "full_name", m.FullName)
	}
	if patch.Phone != nil {
		m.Phone = ""
		if s := strings.TrimSpace(*patch.Phone); s != "" {
			ph, ok := NormalizePhone(s)
			if !ok {
				p.Add("phone", "phone")
			}
			m.Phone = ph
		}
	}
	if patch.Position != nil {
		m.Position = Position(*patch.Position)
		if !contains(Positions, *patch.Position) {
			p.Add("position", "one_of", strings.Join(Positions, ", "))
		}
	}
	if patch.Affiliation != nil {
		m.Affiliation = *patch.Affiliation
		if !contains(Affiliations, m.Affiliation) {
			p.Add("affiliation", "one_of", strings.Join(Affiliations, ", "))
		}
	}
	if patch.Gender != nil {
		m.Gender = *patch.Gender
		if !contains(Genders, m.Gender) {
			p.Add("gender", "one_of", strings.Join(Genders, ", "))
		}
	}
	if patch.BirthYear != nil {
		m.BirthYear = *patch.BirthYear
		maxYear := today.Time().Year() - MinMemberAge
		if m.BirthYear < MinBirthYear || m.BirthYear > maxYear {
			p.Add("birth_year", "range", fmt.Sprintf("%d–%d", MinBirthYear, maxYear))
		}
	}
	if patch.Active != nil {
		m.Active = *patch.Active
		if m.Active {
			if t, ok := r.Team(m.TeamID); !ok || !t.Active {
				p.Add("active", "team_inactive")
			}
		}
	}
	// Rules across the commune, checked on the result.
	if m.Active && !p.Has("position") && !p.Has("team_id") && m.Position == PositionLeader {
		for _, o := range r.Members {
			if o.Active && o.ID != m.ID && o.TeamID == m.TeamID && o.Position == PositionLeader {
				p.Add("position", "team_has_leader", o.ID)
				break
			}
		}
	}
	if m.Active && m.Phone != "" && !p.Has("phone") {
		for _, o := range r.Members {
			if o.Active && o.ID != m.ID && o.Phone == m.Phone {
				p.Add("phone", "duplicate", o.ID)
				break
			}
		}
	}
	return &p
}

// Member returns member id.
func (r *CommuneRegistry) Member(id string) (Member, bool) {
	if i := r.memberIndex(id); i >= 0 {
		return r.Members[i], true
	}
	return Member{}, false
}

func (r *CommuneRegistry) memberIndex(id string) int {
	for i := range r.Members {
		if r.Members[i].ID == id {
			return i
		}
	}
	return -1
}

// ---- text helpers ----

// CleanText trims s, folds runs of white space into one space and normalises it
// to Unicode NFC, so that names typed on different keyboards compare equal.
func CleanText(s string) string {
	return norm.NFC.String(strings.Join(strings.Fields(s), " "))
}

// FoldKey is a comparison key for names: NFC, lower case, and the two tone-mark
// placements of Vietnamese (hoà/hòa, thuỷ/thủy) folded together.
func FoldKey(s string) string {
	s = strings.ToLower(CleanText(s))
	return toneFold.Replace(s)
}

var toneFold = strings.NewReplacer(
	"oà", "òa", "oá", "óa", "oả", "ỏa", "oã", "õa", "oạ", "ọa",
	"oè", "òe", "oé", "óe", "oẻ", "ỏe", "oẽ", "õe", "oẹ", "ọe",
	"uỳ", "ùy", "uý", "úy", "uỷ", "ủy", "uỹ", "ũy", "uỵ", "ụy",
)

func checkName(p *Problems, field, s string) {
	switch n := utf8.RuneCountInString(s); {
	case n == 0:
		p.Add(field, "required")
	case n > MaxNameLen:
		p.Add(field, "too_long", MaxNameLen)
	default:
		for _, r := range s {
			if unicode.IsControl(r) {
				p.Add(field, "characters")
				return
			}
		}
	}
}

// NormalizePhone returns a Vietnamese phone number in its 0-prefixed national
// form (0912345678). It accepts spaces, dots, dashes and the +84 or 84 prefix.
func NormalizePhone(s string) (string, bool) {
	var b strings.Builder
	for _, r := range s {
		switch {
		case r >= '0' && r <= '9':
			b.WriteRune(r)
		case r == ' ' || r == '.' || r == '-' || r == '(' || r == ')' || (r == '+' && b.Len() == 0):
		default:
			return "", false
		}
	}
	d := b.String()
	switch {
	case strings.HasPrefix(d, "84") && len(d) == 11:
		d = "0" + d[2:]
	case strings.HasPrefix(d, "0084") && len(d) == 13:
		d = "0" + d[4:]
	}
	if len(d) != 10 || d[0] != '0' || d[1] == '0' {
		return "", false
	}
	if _, err := strconv.Atoi(d); err != nil {
		return "", false
	}
	return d, true
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
