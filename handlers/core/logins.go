package core

import (
	"context"
	"errors"
	"hash/fnv"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/hue-cdt/cdt/auth"
	"github.com/hue-cdt/cdt/domain"
)

// loginLocks serialise the sign-ins of one username within a server, so
// that parallel guesses cannot all pass the throttle before the first
// failure is counted. Usernames share 64 locks by hash.
type loginLocks [64]sync.Mutex

func (l *loginLocks) of(username string) *sync.Mutex {
	h := fnv.New32a()
	_, _ = h.Write([]byte(username))
	return &l[h.Sum32()%uint32(len(l))]
}

// Login signs username in from client (its address) as kind (auth.KindAPI or
// auth.KindWeb), within the throttle of domain.LoginThrottle: a client held
// back gets a *domain.RetryError (429) without its password being checked;
// a wrong password, an unknown or disabled login get ErrUnauthorized, in the
// same time. Every outcome goes to the audit trail (login, login_failed,
// login_throttled when a back-off begins).
func (d *Deps) Login(ctx context.Context, client, username, password, kind string) (auth.Tokens, domain.User, error) {
	name := domain.NormalizeUsername(username)
	mu := d.logins.of(name)
	mu.Lock()
	defer mu.Unlock()
	now := d.Now()
	th, err := d.Throttles.LoginThrottle(ctx, name)
	if err != nil {
		return auth.Tokens{}, domain.User{}, err
	}
	if wait := th.Wait(client, now); wait > 0 {
		return auth.Tokens{}, domain.User{}, &domain.RetryError{After: wait}
	}
	t, u, err := d.Auth.Login(ctx, name, password, kind)
	event := domain.AuditEvent{Actor: u.Username, Role: u.Role, Target: name, CommuneCode: loginCommune(u),
		Details: map[string]string{"client": client, "kind": kind}}
	switch {
	case errors.Is(err, domain.ErrUnauthorized) && !domain.ValidUsername(name):
		// No login can have this name: nothing to hold back or tell.
		event.Action, event.Target = domain.AuditLoginFailed, truncate(name, 64)
		d.Audit.Record(ctx, event)
		return auth.Tokens{}, domain.User{}, domain.ErrUnauthorized
	case errors.Is(err, domain.ErrUnauthorized):
		event.Action, event.Actor, event.Role = domain.AuditLoginFailed, "", ""
		d.Audit.Record(ctx, event)
		began := th.Failed(client, now)
		if u.Username == "" { // no owner to tell: forgotten after a day instead of a week
			th.Total, th.First = 0, time.Time{}
		}
		if began {
			d.Audit.Record(ctx, domain.AuditEvent{Action: domain.AuditLoginThrottled, Target: name, CommuneCode: event.CommuneCode,
				Details: map[string]string{"client": client, "failures": itoa(th.Clients[client].Failures),
					"failures_all_clients": itoa(th.Failures)}})
		}
		if err := d.Throttles.SaveLoginThrottle(ctx, th, now); err != nil {
			return auth.Tokens{}, domain.User{}, err
		}
		return auth.Tokens{}, domain.User{}, domain.ErrUnauthorized
	case err != nil:
		return auth.Tokens{}, domain.User{}, err
	}
	event.Action = domain.AuditLogin
	d.Audit.Record(ctx, event)
	if th.Failures > 0 || len(th.Clients) > 0 {
		th.Succeeded(client)
		if err := d.Throttles.SaveLoginThrottle(ctx, th, now); err != nil {
			return auth.Tokens{}, domain.User{}, err
		}
	}
	return t, u, nil
}

// truncate cuts s to n bytes at most, on a character boundary.
func truncate(s string, n int) string {
	for len(s) > n {
		_, size := utf8.DecodeLastRuneInString(s)
		s = s[:len(s)-size]
	}
	return s
}

// loginCommune is the commune a login belongs to ("" for the province and
// for no login).
func loginCommune(u domain.User) string {
	if u.Username == "" || u.Role == domain.RoleProvinceAdmin {
		return ""
	}
	return u.UnitCode
}

// LoginThrottle returns the failed sign-ins on username (the account page's
// notice).
func (d *Deps) LoginThrottle(ctx context.Context, username string) (domain.LoginThrottle, error) {
	return d.Throttles.LoginThrottle(ctx, username)
}

// Unlock lifts every back-off on login username, for a leader who manages
// it (Scope.ManageLogin: ErrNotFound otherwise).
func (d *Deps) Unlock(ctx context.Context, sc domain.Scope, username string) (domain.User, error) {
	u, err := d.Users.FindUser(ctx, domain.NormalizeUsername(username))
	if err != nil {
		return domain.User{}, err
	}
	if err := sc.ManageLogin(u); err != nil {
		return domain.User{}, err
	}
	mu := d.logins.of(u.Username)
	mu.Lock()
	defer mu.Unlock()
	th, err := d.Throttles.LoginThrottle(ctx, u.Username)
	if err != nil {
		return domain.User{}, err
	}
	th.Unlock()
	if err := d.Throttles.SaveLoginThrottle(ctx, th, d.Now()); err != nil {
		return domain.User{}, err
	}
	d.Audit.Record(ctx, domain.AuditEvent{Action: domain.AuditLoginUnlocked, Target: u.Username, CommuneCode: loginCommune(u)})
	return u, nil
}
