package domain

import "context"

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

// Scope is the one place where "may this caller touch that" is decided.
// Methods return nil, ErrForbidden (the caller may know the thing exists) or
// ErrNotFound (existence itself must not leak).
type Scope struct{ Caller Caller }

// ScopeOf returns the scope of c.
func ScopeOf(c Caller) Scope { return Scope{Caller: c} }

// Admin reports whether the caller is a province admin.
func (s Scope) Admin() bool { return s.Caller.Role == RoleProvinceAdmin }

// ManageCommune allows creating and changing villages, teams, members and logins of commune.
func (s Scope) ManageCommune(commune string) error {
	switch {
	case s.Admin():
		return nil
	case s.Caller.Role == RoleCommuneLeader && s.Caller.CommuneCode == commune:
		return nil
	}
	return ErrForbidden
}

// ReadCommune allows reading a commune's registry and coverage as a whole.
func (s Scope) ReadCommune(commune string) error { return s.ManageCommune(commune) }

// FilterCommune checks an explicit ?commune= filter. An empty filter is narrowed to
// the caller's own commune for commune leaders; field roles are narrowed further by
// the caller of FilterCommune.
func (s Scope) FilterCommune(commune string) (string, error) {
	if s.Admin() {
		return commune, nil
	}
	if commune == "" {
		return s.Caller.CommuneCode, nil
	}
	if commune != s.Caller.CommuneCode {
		return "", ErrForbidden
	}
	return commune, nil
}

// ReadTeam allows reading one team (404 outside scope).
func (s Scope) ReadTeam(t Team) error {
	if s.ReadCommune(t.CommuneCode) == nil {
		return nil
	}
	if s.Caller.Role.Field() && s.Caller.TeamID == t.ID {
		return nil
	}
	return ErrNotFound
}

// ReadMember allows reading one member (404 outside scope): commune leaders their
// commune, team leaders their team, members themselves.
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

// CreateLogin allows creating a login with role bound to unit. Commune leaders may
// create field logins and other commune leaders of their own commune.
func (s Scope) CreateLogin(role Role, communeOfUnit string) error {
	if s.Admin() {
		return nil
	}
	if s.Caller.Role != RoleCommuneLeader || communeOfUnit != s.Caller.CommuneCode {
		return ErrForbidden
	}
	if role == RoleProvinceAdmin {
		return ErrForbidden
	}
	return nil
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
