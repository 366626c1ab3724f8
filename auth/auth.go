// Package auth signs people in: bcrypt passwords, short-lived HS256 access
// tokens, and refresh tokens that rotate on every use and betray their reuse.
package auth

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"golang.org/x/crypto/bcrypt"

	"github.com/hue-cdt/cdt/domain"
)

// Token lifetimes and the JWT names.
const (
	Issuer       = "cdt"
	Audience     = "cdt-api"
	AccessTTL    = 15 * time.Minute
	RefreshTTL   = 30 * 24 * time.Hour // field members go offline for days
	WebGrace     = 20 * time.Second    // a web page's parallel requests may present the previous token
	KindAPI      = "api"
	KindWeb      = "web"
	secretBytes  = 32
	sessionBytes = 16
)

// Service issues and checks tokens.
type Service struct {
	Users    domain.UserStore
	Sessions domain.SessionStore
	Registry domain.RegistryStore
	Secret   []byte
	Now      func() time.Time
	// Cost is the bcrypt cost of new password hashes (bcrypt.DefaultCost if 0).
	Cost int

	dummyOnce sync.Once
	dummy     []byte
	liveOnce  sync.Once
	live      *sessionView // which sessions are alive (sessions.go)
}

// Tokens is what a login or refresh answers.
type Tokens struct {
	Access    string
	Refresh   string
	ExpiresIn int // seconds
	SessionID string
}

// Claims are the access token's claims.
type Claims struct {
	jwt.RegisteredClaims
	Role     string `json:"role"`
	Unit     string `json:"unit,omitempty"`
	MemberID string `json:"mid,omitempty"`
	Session  string `json:"sid"`
}

// cost is the bcrypt cost of every hash: new passwords' and the dummy's.
func (s *Service) cost() int {
	if s.Cost == 0 {
		return bcrypt.DefaultCost
	}
	return max(s.Cost, bcrypt.MinCost)
}

// HashPassword hashes a password with bcrypt.
func (s *Service) HashPassword(pw string) ([]byte, error) {
	h, err := bcrypt.GenerateFromPassword([]byte(pw), s.cost())
	if err != nil {
		return nil, fmt.Errorf("auth: hash password: %w", err)
	}
	return h, nil
}

// Login checks a username and password and opens a session of kind. A
// refusal is ErrUnauthorized, whatever the reason, and takes as long for an
// unknown username; it returns the login when there is one (for the audit
// trail; the caller tells the client nothing more).
func (s *Service) Login(ctx context.Context, username, password, kind string) (Tokens, domain.User, error) {
	u, err := s.Users.FindUser(ctx, domain.NormalizeUsername(username))
	if errors.Is(err, domain.ErrNotFound) {
		s.burn(password) // the same time whether or not the login exists
		return Tokens{}, domain.User{}, domain.ErrUnauthorized
	}
	if err != nil {
		return Tokens{}, domain.User{}, err
	}
	if bcrypt.CompareHashAndPassword(u.PasswordHash, []byte(password)) != nil || !u.Active {
		return Tokens{}, u, domain.ErrUnauthorized
	}
	s.rehash(ctx, u, password)
	if _, err := s.callerOf(ctx, u, ""); err != nil {
		return Tokens{}, domain.User{}, err
	}
	now := s.Now()
	sess := &domain.Session{ID: randomString(sessionBytes), Username: u.Username, Kind: kind,
		CreatedAt: now, RotatedAt: now, ExpiresAt: now.Add(RefreshTTL)}
	secret := randomString(secretBytes)
	sess.SecretHash = hash(secret)
	if err := s.Sessions.CreateSession(ctx, sess); err != nil {
		return Tokens{}, domain.User{}, err
	}
	t, err := s.issue(u, sess.ID, 0, secret)
	return t, u, err
}

// burn compares password with a hash of the configured cost, so that an
// unknown login takes as long to refuse as a wrong password.
func (s *Service) burn(password string) {
	_ = bcrypt.CompareHashAndPassword(s.dummyHash(), []byte(password))
}

func (s *Service) dummyHash() []byte {
	s.dummyOnce.Do(func() { s.dummy, _ = bcrypt.GenerateFromPassword([]byte(randomString(secretBytes)), s.cost()) })
	return s.dummy
}

// rehash stores the password of u again at the configured cost when its
// hash has another (the cost was raised): every login then costs the same to
// check, the unknown ones included.
func (s *Service) rehash(ctx context.Context, u domain.User, password string) {
	if c, err := bcrypt.Cost(u.PasswordHash); err != nil || c == s.cost() {
		return
	}
	if h, err := s.HashPassword(password); err == nil {
		_ = s.Users.UpdatePassword(ctx, u.Username, h, s.Now()) // best effort: the next login tries again
	}
}

// ErrGrace is returned by Refresh for a web session whose previous token is
// presented again within WebGrace of its rotation (parallel requests of one
// page): the caller is who they say, but no new tokens are issued.
var ErrGrace = errors.New("auth: previous token within grace period")

// CheckPassword reports ErrUnauthorized unless password is username's.
func (s *Service) CheckPassword(ctx context.Context, username, password string) error {
	u, err := s.Users.FindUser(ctx, username)
	if err != nil {
		return err
	}
	if bcrypt.CompareHashAndPassword(u.PasswordHash, []byte(password)) != nil {
		return domain.ErrUnauthorized
	}
	return nil
}

// Refresh rotates a refresh token. A token used twice answers ErrTokenReused and
// ends its session, so that a stolen token is worth one use at most.
func (s *Service) Refresh(ctx context.Context, refresh string) (Tokens, domain.User, error) {
	sid, counter, secret, ok := parseRefresh(refresh)
	if !ok {
		return Tokens{}, domain.User{}, domain.ErrUnauthorized
	}
	sess, err := s.Sessions.FindSession(ctx, sid)
	if errors.Is(err, domain.ErrNotFound) {
		return Tokens{}, domain.User{}, domain.ErrUnauthorized
	}
	if err != nil {
		return Tokens{}, domain.User{}, err
	}
	now := s.Now()
	switch {
	case !sess.RevokedAt.IsZero() && sess.Reason == "reuse":
		return Tokens{}, domain.User{}, domain.ErrTokenReused
	case !sess.RevokedAt.IsZero() || now.After(sess.ExpiresAt):
		return Tokens{}, domain.User{}, domain.ErrUnauthorized
	case counter == sess.Counter-1 && sess.Kind == KindWeb && now.Sub(sess.RotatedAt) < WebGrace && equal(hash(secret), sess.PrevHash):
		u, err := s.activeUser(ctx, sess.Username)
		if err != nil {
			return Tokens{}, domain.User{}, err
		}
		return Tokens{SessionID: sid}, u, ErrGrace
	case counter < sess.Counter:
		return Tokens{}, domain.User{}, s.reused(ctx, sid, now)
	case counter > sess.Counter || !equal(hash(secret), sess.SecretHash):
		return Tokens{}, domain.User{}, domain.ErrUnauthorized
	}
	if err := s.Sessions.ClaimCounter(ctx, sid, counter, now); errors.Is(err, domain.ErrConflict) {
		return Tokens{}, domain.User{}, s.reused(ctx, sid, now)
	} else if err != nil {
		return Tokens{}, domain.User{}, err
	}
	u, err := s.activeUser(ctx, sess.Username)
	if err != nil {
		return Tokens{}, domain.User{}, err
	}
	next := randomString(secretBytes)
	if err := s.Sessions.Rotate(ctx, sid, counter+1, hash(next), sess.SecretHash, now, now.Add(RefreshTTL)); err != nil {
		return Tokens{}, domain.User{}, err
	}
	t, err := s.issue(u, sid, counter+1, next)
	return t, u, err
}

func (s *Service) reused(ctx context.Context, sid string, now time.Time) error {
	if err := s.Sessions.RevokeSession(ctx, sid, "reuse", now); err != nil {
		return err
	}
	s.ended(domain.Revocation{Session: sid, At: now})
	return domain.ErrTokenReused
}

func (s *Service) activeUser(ctx context.Context, username string) (domain.User, error) {
	u, err := s.Users.FindUser(ctx, username)
	if errors.Is(err, domain.ErrNotFound) || (err == nil && !u.Active) {
		return domain.User{}, domain.ErrUnauthorized
	}
	return u, err
}

// Logout ends session sid and its access tokens (at once on this process,
// within RevocationRefresh on the others).
func (s *Service) Logout(ctx context.Context, sid string) error {
	now := s.Now()
	err := s.Sessions.RevokeSession(ctx, sid, "logout", now)
	if errors.Is(err, domain.ErrNotFound) {
		return nil
	}
	if err == nil {
		s.ended(domain.Revocation{Session: sid, At: now})
	}
	return err
}

func (s *Service) issue(u domain.User, sid string, counter int, secret string) (Tokens, error) {
	now := s.Now()
	c := Claims{
		RegisteredClaims: jwt.RegisteredClaims{
			Issuer: Issuer, Subject: u.Username, Audience: jwt.ClaimStrings{Audience},
			IssuedAt: jwt.NewNumericDate(now), NotBefore: jwt.NewNumericDate(now),
			ExpiresAt: jwt.NewNumericDate(now.Add(AccessTTL)), ID: randomString(9),
		},
		Role: string(u.Role), Unit: u.UnitCode, MemberID: u.MemberID, Session: sid,
	}
	access, err := jwt.NewWithClaims(jwt.SigningMethodHS256, c).SignedString(s.Secret)
	if err != nil {
		return Tokens{}, fmt.Errorf("auth: sign: %w", err)
	}
	return Tokens{Access: access, Refresh: sid + "." + strconv.Itoa(counter) + "." + secret,
		ExpiresIn: int(AccessTTL / time.Second), SessionID: sid}, nil
}

// Verify checks an access token: HS256 only, signature, issuer, audience,
// expiry. Caller then checks that its session is alive.
func (s *Service) Verify(token string) (Claims, error) {
	p := jwt.NewParser(jwt.WithValidMethods([]string{jwt.SigningMethodHS256.Alg()}), jwt.WithIssuer(Issuer),
		jwt.WithAudience(Audience), jwt.WithExpirationRequired(), jwt.WithIssuedAt(),
		jwt.WithLeeway(30*time.Second), jwt.WithTimeFunc(s.Now))
	var c Claims
	if _, err := p.ParseWithClaims(token, &c, func(*jwt.Token) (any, error) { return s.Secret, nil }); err != nil {
		return Claims{}, fmt.Errorf("auth: %w: %w", domain.ErrUnauthorized, err)
	}
	if c.Subject == "" || !domain.Role(c.Role).Valid() {
		return Claims{}, fmt.Errorf("auth: %w: incomplete claims", domain.ErrUnauthorized)
	}
	return c, nil
}

// Caller turns verified claims into the request's caller: their session must
// be alive (a live session of this login, not ended, of a login still active:
// sessions.go), and a field member's team and commune are resolved from the
// registry (a member who left, or moved, is seen at once).
func (s *Service) Caller(ctx context.Context, c Claims) (domain.Caller, error) {
	if err := s.checkSession(ctx, c); err != nil {
		return domain.Caller{}, err
	}
	u := domain.User{Username: c.Subject, Role: domain.Role(c.Role), UnitCode: c.Unit, MemberID: c.MemberID}
	return s.callerOf(ctx, u, c.Session)
}

// CallerOfUser is Caller for a user already loaded (pages after a refresh).
func (s *Service) CallerOfUser(ctx context.Context, u domain.User, sid string) (domain.Caller, error) {
	return s.callerOf(ctx, u, sid)
}

func (s *Service) callerOf(ctx context.Context, u domain.User, sid string) (domain.Caller, error) {
	cl := domain.Caller{Username: u.Username, Role: u.Role, UnitCode: u.UnitCode, MemberID: u.MemberID, SessionID: sid}
	switch {
	case u.Role == domain.RoleProvinceAdmin:
		return cl, nil
	case u.Role == domain.RoleCommuneLeader:
		cl.CommuneCode = u.UnitCode
		return cl, nil
	}
	commune := domain.CommuneOf(u.MemberID)
	reg, err := s.Registry.Registry(ctx, commune)
	if errors.Is(err, domain.ErrNotFound) {
		return domain.Caller{}, domain.ErrUnauthorized
	}
	if err != nil {
		return domain.Caller{}, err
	}
	m, ok := reg.Member(u.MemberID)
	if !ok || !m.Active {
		return domain.Caller{}, fmt.Errorf("auth: member %s is not active: %w", u.MemberID, domain.ErrUnauthorized)
	}
	cl.CommuneCode, cl.TeamID = commune, m.TeamID
	return cl, nil
}

func parseRefresh(t string) (sid string, counter int, secret string, ok bool) {
	parts := strings.Split(t, ".")
	if len(parts) != 3 || parts[0] == "" || parts[2] == "" {
		return "", 0, "", false
	}
	n, err := strconv.Atoi(parts[1])
	if err != nil || n < 0 {
		return "", 0, "", false
	}
	return parts[0], n, parts[2], true
}

func hash(s string) []byte {
	h := sha256.Sum256([]byte(s))
	return h[:]
}

func equal(a, b []byte) bool { return len(a) > 0 && subtle.ConstantTimeCompare(a, b) == 1 }

func randomString(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b) // crypto/rand.Read never fails (Go ≥1.24)
	return base64.RawURLEncoding.EncodeToString(b)
}

// RandomSecret returns a new random key, base64url encoded.
func RandomSecret() (string, error) { return randomString(32), nil }
