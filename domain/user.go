package domain

import (
	"context"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"
)

// User is a login. Field roles are bound to a member; every login is bound to a
// unit (its commune, or the province for province admins).
type User struct {
	Username     string
	PasswordHash []byte
	Role         Role
	UnitCode     string
	MemberID     string
	Active       bool
	CreatedAt    time.Time
	CreatedBy    string
	UpdatedAt    time.Time
}

// NewUser is the input that creates a login.
type NewUser struct {
	Username string
	Password string
	Role     string
	UnitCode string
	MemberID string
}

// Password limits. bcrypt reads at most 72 bytes.
const (
	MinPasswordLen = 8
	MaxPasswordLen = 72
)

var usernameRE = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{2,39}$`)

// ValidUsername reports whether name (normalised) is a username a login may
// have.
func ValidUsername(name string) bool { return usernameRE.MatchString(name) }

// NormalizeUsername lower-cases and trims a username.
func NormalizeUsername(s string) string { return strings.ToLower(strings.TrimSpace(s)) }

// ValidateNewUser checks the fields of in that do not need the registry. The
// caller checks that the unit and member exist and agree.
func ValidateNewUser(in NewUser) error {
	var p Problems
	if !usernameRE.MatchString(NormalizeUsername(in.Username)) {
		p.Add("username", "username")
	}
	switch n := len(in.Password); {
	case utf8.RuneCountInString(in.Password) < MinPasswordLen:
		p.Add("password", "too_short", MinPasswordLen)
	case n > MaxPasswordLen:
		p.Add("password", "too_long", MaxPasswordLen)
	}
	role := Role(in.Role)
	if !role.Valid() {
		p.Add("role", "one_of", "member, team_leader, commune_leader, province_admin")
	}
	if in.UnitCode == "" {
		p.Add("unit_code", "required")
	}
	if role.Field() && in.MemberID == "" {
		p.Add("member_id", "required")
	}
	if !role.Field() && role.Valid() && in.MemberID != "" {
		p.Add("member_id", "not_allowed")
	}
	return p.Err()
}

// UserFilter selects logins.
type UserFilter struct {
	UnitCode string
	MemberID string
	Role     Role
}

// UserStore persists logins.
type UserStore interface {
	CreateUser(ctx context.Context, u *User) error               // ErrConflict
	FindUser(ctx context.Context, username string) (User, error) // ErrNotFound
	FindUsers(ctx context.Context, f UserFilter) ([]User, error)
	UpdatePassword(ctx context.Context, username string, hash []byte, now time.Time) error
	SetUserActive(ctx context.Context, username string, active bool, now time.Time) error
	CountUsers(ctx context.Context) (int, error)
}

// Session is one signed-in device. Its refresh token rotates on every use: the
// token names the session and a counter, and a counter may be used once.
type Session struct {
	ID         string
	Username   string
	Kind       string // "api" or "web"
	Counter    int
	SecretHash []byte
	PrevHash   []byte // the secret of the previous counter, for the web grace period
	CreatedAt  time.Time
	RotatedAt  time.Time
	ExpiresAt  time.Time
	RevokedAt  time.Time
	Reason     string
}

// Revocation ends access tokens before they expire: those of one session
// (Session set), or those of every session of Username begun before At
// (Session empty: the login was disabled or its password changed or reset).
// Revocations are few and short-lived, so every server process reads them
// all every few seconds instead of reading sessions on every request.
type Revocation struct {
	Session  string
	Username string
	At       time.Time
}

// RevocationKeep is how long a revocation is kept: longer than an access
// token lives (15 minutes, with 30 s of leeway), after which no token it
// ends can still be valid.
const RevocationKeep = 20 * time.Minute

// SessionStore persists sessions.
type SessionStore interface {
	CreateSession(ctx context.Context, s *Session) error
	FindSession(ctx context.Context, id string) (Session, error) // ErrNotFound
	// ClaimCounter marks counter n of session id as used; it answers ErrConflict
	// when it was used before, atomically even under concurrent claims.
	ClaimCounter(ctx context.Context, id string, n int, now time.Time) error
	// Rotate stores the new counter and secret after a successful claim.
	Rotate(ctx context.Context, id string, counter int, secretHash, prevHash []byte, now, expires time.Time) error
	// RevokeSession ends session id and records its revocation.
	RevokeSession(ctx context.Context, id, reason string, now time.Time) error
	// RevokeUserSessions records that every session of username begun
	// before now is over, then ends each.
	RevokeUserSessions(ctx context.Context, username, reason string, now time.Time) error
	// Revocations lists the revocations of the last RevocationKeep.
	Revocations(ctx context.Context) ([]Revocation, error)
	// DeleteExpiredSessions removes expired sessions and revocations.
	DeleteExpiredSessions(ctx context.Context, now time.Time) (int, error)
}

// Settings stores small named secrets and flags (the generated JWT and household keys).
type SettingsStore interface {
	// GetOrCreateSetting returns the stored value of name, storing create() first
	// if there is none; concurrent callers all get the same value.
	GetOrCreateSetting(ctx context.Context, name string, create func() (string, error)) (string, error)
}

// LoginCommune checks that a login's unit suits its role and returns the commune
// the login belongs to ("" for the province): province admins are bound to a
// province, commune leaders to a current commune, field logins to an active
// member of the commune they name (team leaders to a leader or deputy).
func LoginCommune(ctx context.Context, units *UnitCatalog, regs RegistryStore, role Role, unit, memberID string, today Date) (string, error) {
	switch role {
	case RoleProvinceAdmin:
		if u, ok := units.Get(unit, today); !ok || u.Level != LevelProvince {
			return "", Invalid("unit_code", "unknown_unit")
		}
		return "", nil
	case RoleCommuneLeader:
		if u, ok := units.Get(unit, today); !ok || u.Level != LevelCommune {
			return "", Invalid("unit_code", "not_a_commune")
		}
		return unit, nil
	}
	commune := CommuneOf(memberID)
	if u, ok := units.Get(commune, today); !ok || u.Level != LevelCommune {
		return "", Invalid("member_id", "unknown_member")
	}
	reg, err := regs.Registry(ctx, commune)
	if err != nil {
		return "", err
	}
	m, ok := reg.Member(memberID)
	switch {
	case !ok:
		return "", Invalid("member_id", "unknown_member")
	case !m.Active:
		return "", Invalid("member_id", "member_inactive")
	case unit != commune:
		return "", Invalid("unit_code", "unit_mismatch")
	case role == RoleTeamLeader && m.Position == PositionMember:
		return "", Invalid("role", "role_member")
	}
	return commune, nil
}

// LoginRoles are the roles a login of member m may have: member, and
// team_leader for a team's leader or deputy. The last fits their position
// best, and is what a form offers first.
func (m Member) LoginRoles() []Role {
	if m.Position == PositionMember {
		return []Role{RoleMember}
	}
	return []Role{RoleMember, RoleTeamLeader}
}
