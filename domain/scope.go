package domain

import (
	"context"
	"errors"
)

// Role is what a login may do. The four roles and their scopes are fixed by API.md.
type Role string

const (
	RoleMember        Role = "member"
	RoleTeamLeader    Role = "team_leader"
	RoleCommuneLeader Role = "commune_leader"
	RoleProvinceAdmin Role = "province_admin"
)

// Roles lists every role, least powerful first.
var Roles = []Role{RoleMember, RoleTeamLeader, RoleCommuneLeader, RoleProvinceAdmin}

// Valid reports whether r is one of the four roles.
func (r Role) Valid() bool {
	for _, x := range Roles {
		if r == x {
			return true
		}
	}
	return false
}

// Field reports whether the role belongs to a team member (member or team_leader).
func (r Role) Field() bool { return r == RoleMember || r == RoleTeamLeader }

// Caller is the authenticated user of one request, with everything the scope rules
// need resolved: the commune and team of a field role come from its member record.
type Caller struct {
	Username    string
	Role        Role
	UnitCode    string // the unit the login is bound to (commune, or the province)
	MemberID    string // field roles only
	TeamID      string // field roles only: the member's current team
	CommuneCode string // every role but province_admin
	SessionID   string
}

// Scope is the one place where "may this caller touch that" is decided: the
// HTTP layer compares no role itself. Each method says what it answers:
//
//   - ErrForbidden (403) when the caller may not use a feature at all, or names
//     something outside their scope in a filter or a body (a commune's code is
//     public reference data, so refusing it leaks nothing);
//   - ErrNotFound (404) for one resource outside the scope (a team, a member,
//     a village, a login, a training), whose existence itself must not leak.
//
// A feature gate (Province, Manage, Field) runs before the resource check, so
// a role that may never do a thing gets 403 whatever the resource.
type Scope struct{ Caller Caller }

// ScopeOf returns the scope of c.
func ScopeOf(c Caller) Scope { return Scope{Caller: c} }

// Admin reports whether the caller is a province admin. It decides what a page
// shows (links up to the province's pages), not access: every access decision
// is one of the methods below, which answer an error.
func (s Scope) Admin() bool { return s.Caller.Role == RoleProvinceAdmin }

func (s Scope) communeLeader() bool { return s.Caller.Role == RoleCommuneLeader }

func (s Scope) own(commune string) bool {
	return commune != "" && commune == s.Caller.CommuneCode
}

// Province allows what only the province does: the list of every commune, the
// province's dashboard, the coverage jobs and the province admins' logins.
// ErrForbidden for everyone else.
func (s Scope) Province() error {
	if s.Admin() {
		return nil
	}
	return ErrForbidden
}

// Manage allows the managers' work: registry changes, logins, coverage and its
// exports, trainings and attendance, reports. Province admins and commune
// leaders pass; members and team leaders get ErrForbidden whatever the commune
// or resource, so the answer never depends on what exists. Which commune a
// manager may touch is ManageCommune's.
func (s Scope) Manage() error {
	if s.Admin() || s.communeLeader() {
		return nil
	}
	return ErrForbidden
}

// Field allows the field work: the members' phone app and logging assistance,
// for members and team leaders bound to a member. ErrForbidden for everyone
// else (leaders log nothing themselves).
func (s Scope) Field() error {
	if s.Caller.Role.Field() && s.Caller.MemberID != "" {
		return nil
	}
	return ErrForbidden
}

// ManageCommune allows creating and changing villages, teams, members and
// logins of commune, and marking its members at trainings: province admins
// any commune, commune leaders their own. ErrForbidden otherwise.
func (s Scope) ManageCommune(commune string) error {
	if s.Admin() || s.communeLeader() && s.own(commune) {
		return nil
	}
	return ErrForbidden
}

// ReadCommune allows reading a commune as a whole: its registry pages, its
// coverage and history, its attendance at trainings. The same people as
// ManageCommune; ErrForbidden otherwise.
func (s Scope) ReadCommune(commune string) error { return s.ManageCommune(commune) }

// ManageUnit allows organising a training for unit u and reading its reports
// (training progress, members never trained): the province's for province
// admins, a commune's as ReadCommune. ErrForbidden otherwise.
func (s Scope) ManageUnit(u Unit) error {
	if u.Level == LevelProvince {
		return s.Province()
	}
	return s.ManageCommune(u.Code)
}

// FilterCommune checks an explicit ?commune= filter of a list (teams, members,
// villages, records). Province admins may name any commune ("" = every one);
// everyone else reads their own commune, "" included, and gets ErrForbidden for
// another. Field roles are narrowed further by TeamFilter and ReadMember.
func (s Scope) FilterCommune(commune string) (string, error) {
	if s.Admin() {
		return commune, nil
	}
	if commune == "" {
		return s.Caller.CommuneCode, nil
	}
	if !s.own(commune) {
		return "", ErrForbidden
	}
	return commune, nil
}

// TeamFilter checks an explicit ?team= filter of a registry list: members and
// team leaders see their own team only ("" becomes it; another is
// ErrForbidden); managers keep the filter ("" = every team).
func (s Scope) TeamFilter(team string) (string, error) {
	if !s.Caller.Role.Field() {
		return team, nil
	}
	if team != "" && team != s.Caller.TeamID {
		return "", ErrForbidden
	}
	return s.Caller.TeamID, nil
}

// ReadVillage allows reading one village: every login the villages of its own
// commune, province admins all. ErrNotFound otherwise.
func (s Scope) ReadVillage(code string) error {
	if s.Admin() || s.own(CommuneOf(code)) {
		return nil
	}
	return ErrNotFound
}

// ReadTeam allows reading one team: managers their commune's, members and team
// leaders their own team. ErrNotFound otherwise.
func (s Scope) ReadTeam(t Team) error {
	if s.ReadCommune(t.CommuneCode) == nil {
		return nil
	}
	if s.Caller.Role.Field() && s.Caller.TeamID == t.ID {
		return nil
	}
	return ErrNotFound
}

// ReadMember allows reading one member: managers their commune's, team leaders
// their team's, members themselves. ErrNotFound otherwise; lists keep only the
// members it allows.
func (s Scope) ReadMember(m Member) error {
	if s.ReadCommune(m.CommuneCode) == nil {
		return nil
	}
	switch s.Caller.Role {
	case RoleTeamLeader:
		if m.TeamID == s.Caller.TeamID || m.ID == s.Caller.MemberID {
			return nil
		}
	case RoleMember:
		if m.ID == s.Caller.MemberID {
			return nil
		}
	}
	return ErrNotFound
}

// Records narrows a filter of assistance records to the caller's scope: a
// member reads their own records, a team leader their team's (or one of its
// members'), a commune leader their commune's. A commune, team or member named
// outside that scope is ErrForbidden. teamOf tells a member's team (ErrNotFound
// when there is no such member); it is asked only about a team leader's filter.
func (s Scope) Records(f RecordFilter, teamOf func(memberID string) (string, error)) (RecordFilter, error) {
	cl := s.Caller
	switch cl.Role {
	case RoleMember:
		if f.MemberID != "" && f.MemberID != cl.MemberID || f.TeamID != "" && f.TeamID != cl.TeamID {
			return f, ErrForbidden
		}
		f.MemberID = cl.MemberID
	case RoleTeamLeader:
		if f.TeamID != "" && f.TeamID != cl.TeamID {
			return f, ErrForbidden
		}
		if f.MemberID != "" && f.MemberID != cl.MemberID {
			team, err := teamOf(f.MemberID)
			if errors.Is(err, ErrNotFound) || err == nil && team != cl.TeamID {
				return f, ErrForbidden
			}
			if err != nil {
				return f, err
			}
		}
		if f.MemberID == "" {
			f.TeamID = cl.TeamID
		}
	default:
		commune, err := s.FilterCommune(f.CommuneCode)
		if err != nil {
			return f, err
		}
		f.CommuneCode = commune
		for _, id := range []string{f.MemberID, f.TeamID} {
			if id != "" && !s.Admin() && !s.own(CommuneOf(id)) {
				return f, ErrForbidden
			}
		}
	}
	if f.CommuneCode != "" && (f.MemberID != "" || f.TeamID != "") && CommuneOf(f.MemberID+f.TeamID) != f.CommuneCode {
		return f, ErrForbidden
	}
	return f, nil
}

// Coverage returns the communes whose coverage figures and exports the caller
// may read: nil (every commune) for province admins, their own for a commune
// leader. ErrForbidden for members and team leaders.
func (s Scope) Coverage() ([]string, error) {
	switch {
	case s.Admin():
		return nil, nil
	case s.communeLeader():
		return []string{s.Caller.CommuneCode}, nil
	}
	return nil, ErrForbidden
}

// Users narrows a filter of logins: province admins see every login, a commune
// leader their commune's (an explicit unit outside it is ErrForbidden).
// ErrForbidden for members and team leaders.
func (s Scope) Users(f UserFilter) (UserFilter, error) {
	switch {
	case s.Admin():
		return f, nil
	case s.communeLeader():
		if f.UnitCode != "" && !s.own(f.UnitCode) {
			return f, ErrForbidden
		}
		f.UnitCode = s.Caller.CommuneCode
		return f, nil
	}
	return f, ErrForbidden
}

// ManageLogin allows changing login u (enable, disable, reset its password):
// province admins every login, commune leaders the logins bound to their
// commune, province admins' never. ErrNotFound otherwise: whether a username
// exists must not leak.
func (s Scope) ManageLogin(u User) error {
	if s.Admin() || s.communeLeader() && s.own(u.UnitCode) && u.Role != RoleProvinceAdmin {
		return nil
	}
	return ErrNotFound
}

// SetLoginActive allows enabling or disabling login u: ManageLogin, and nobody
// disables their own login (a validation error on "active", 422: the caller
// may see the login, the change is what is refused).
func (s Scope) SetLoginActive(u User, active bool) error {
	if err := s.ManageLogin(u); err != nil {
		return err
	}
	if u.Username == s.Caller.Username && !active {
		return Invalid("active", "not_allowed")
	}
	return nil
}

// CreateLogin allows creating a login with role bound to a unit of
// communeOfUnit: province admins any, commune leaders field logins and other
// commune leaders of their own commune. ErrForbidden otherwise.
func (s Scope) CreateLogin(role Role, communeOfUnit string) error {
	if s.Admin() {
		return nil
	}
	if !s.communeLeader() || !s.own(communeOfUnit) || role == RoleProvinceAdmin {
		return ErrForbidden
	}
	return nil
}

// ReadTraining allows reading training t: a province training every login, a
// commune's the logins of that commune, province admins all. ErrNotFound
// otherwise; lists keep only the trainings it allows.
func (s Scope) ReadTraining(t Training) error {
	if t.Level == LevelProvinceTraining || s.Admin() || s.own(t.UnitCode) {
		return nil
	}
	return ErrNotFound
}

type callerKey struct{}

// WithCaller stores the caller in ctx.
func WithCaller(ctx context.Context, c Caller) context.Context {
	return context.WithValue(ctx, callerKey{}, c)
}

// CallerFrom returns the caller stored in ctx.
func CallerFrom(ctx context.Context) (Caller, bool) {
	c, ok := ctx.Value(callerKey{}).(Caller)
	return c, ok
}

// Audit allows reading the audit trail: province admins all of it (commune
// "" or any), commune leaders their commune's ("" becomes it; another is
// ErrForbidden); everyone else ErrForbidden. It returns the commune to read.
func (s Scope) Audit(commune string) (string, error) {
	switch {
	case s.Admin():
		return commune, nil
	case s.communeLeader() && (commune == "" || s.own(commune)):
		return s.Caller.CommuneCode, nil
	}
	return "", ErrForbidden
}
