package auth

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/hue-cdt/cdt/domain"
)

// Every request's access token must name a live session of an active login.
// Reading the session on every request would scan the sessions collection
// each time (FerretDB reads nothing by index, and sessions grow with logins),
// so each process keeps a view: the sessions it has met, read once each, and
// the revocations of the last minutes, re-read from their small collection
// at most every RevocationRefresh. A session ended on another process is
// therefore refused here within RevocationRefresh (plus one request), and at
// once on the process that ended it.
const (
	// RevocationRefresh is how old the view of the revocations may get.
	RevocationRefresh = 2 * time.Second
	// revocationStale is how long a view may serve when the revocations
	// cannot be read (the database is away): then requests fail.
	revocationStale = 5 * time.Second
	// sessionIdle is how long a session met here stays in the view unused.
	sessionIdle = AccessTTL + time.Minute
	// maxUnknown bounds the remembered session IDs that name no session.
	maxUnknown = 10_000
)

// metSession is what the view knows of one session ID.
type metSession struct {
	username string    // "" when no such session exists
	created  time.Time // when the session began
	dead     bool      // ended, expired, or its login disabled, when read or since
	used     time.Time // last request (real time), to forget idle ones
}

// sessionView is one process's view of which sessions are alive.
type sessionView struct {
	mu       sync.RWMutex
	sessions map[string]*metSession
	unknown  int
	ended    map[string]bool      // sessions revoked
	cutoff   map[string]time.Time // login → sessions begun before are over
	read     time.Time            // when the revocations were read (real time)
	swept    time.Time

	refresh sync.Mutex // one reader of the revocations at a time
}

func (s *Service) view() *sessionView {
	s.liveOnce.Do(func() {
		s.live = &sessionView{sessions: map[string]*metSession{}, ended: map[string]bool{}, cutoff: map[string]time.Time{}}
	})
	return s.live
}

// checkSession refuses claims whose session is not alive: unknown, of
// another login, ended (logout, reuse, expiry), or of a login disabled or
// whose password changed since the session began.
func (s *Service) checkSession(ctx context.Context, c Claims) error {
	v := s.view()
	if err := s.fresh(ctx, v); err != nil {
		return err
	}
	if c.Session == "" {
		return fmt.Errorf("auth: %w: no session", domain.ErrUnauthorized)
	}
	now := time.Now()
	v.mu.Lock()
	m, ok := v.sessions[c.Session]
	if ok {
		m.used = now
	}
	v.mu.Unlock()
	if !ok {
		var err error
		if m, err = s.meet(ctx, v, c.Session, now); err != nil {
			return err
		}
	}
	v.mu.RLock()
	defer v.mu.RUnlock()
	cut, hasCut := v.cutoff[m.username]
	switch {
	case m.username == "":
		return fmt.Errorf("auth: %w: no such session", domain.ErrUnauthorized)
	case m.username != c.Subject:
		return fmt.Errorf("auth: %w: the session of another login", domain.ErrUnauthorized)
	case m.dead || v.ended[c.Session] || hasCut && !m.created.After(cut):
		return fmt.Errorf("auth: %w: session ended", domain.ErrUnauthorized)
	}
	return nil
}

// meet reads a session the view has not met: once per session and process.
func (s *Service) meet(ctx context.Context, v *sessionView, sid string, now time.Time) (*metSession, error) {
	m := &metSession{used: now}
	sess, err := s.Sessions.FindSession(ctx, sid)
	switch {
	case errors.Is(err, domain.ErrNotFound):
	case err != nil:
		return nil, err
	default:
		m.username, m.created = sess.Username, sess.CreatedAt
		m.dead = !sess.RevokedAt.IsZero() || s.Now().After(sess.ExpiresAt)
		if !m.dead {
			u, err := s.Users.FindUser(ctx, sess.Username)
			if err != nil && !errors.Is(err, domain.ErrNotFound) {
				return nil, err
			}
			m.dead = err != nil || !u.Active
		}
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	if m.username == "" {
		if v.unknown >= maxUnknown {
			v.forgetUnknown()
		}
		v.unknown++
	}
	v.sessions[sid] = m
	return m, nil
}

// forgetUnknown drops the remembered IDs of no session; v.mu is held.
func (v *sessionView) forgetUnknown() {
	for id, m := range v.sessions {
		if m.username == "" {
			delete(v.sessions, id)
		}
	}
	v.unknown = 0
}

// fresh re-reads the revocations when the view is older than
// RevocationRefresh. When they cannot be read, the old view serves for up to
// revocationStale; after that requests fail rather than trust it.
func (s *Service) fresh(ctx context.Context, v *sessionView) error {
	v.mu.RLock()
	age := time.Since(v.read)
	v.mu.RUnlock()
	if age < RevocationRefresh {
		return nil
	}
	v.refresh.Lock()
	defer v.refresh.Unlock()
	v.mu.RLock()
	age = time.Since(v.read)
	v.mu.RUnlock()
	if age < RevocationRefresh {
		return nil // another request read them meanwhile
	}
	revs, err := s.Sessions.Revocations(ctx)
	if err != nil {
		if age < revocationStale {
			return nil
		}
		return err
	}
	now := time.Now()
	v.mu.Lock()
	defer v.mu.Unlock()
	v.ended, v.cutoff = map[string]bool{}, map[string]time.Time{}
	for _, r := range revs {
		v.apply(r)
	}
	v.read = now
	if now.Sub(v.swept) > time.Minute {
		for id, m := range v.sessions {
			if now.Sub(m.used) > sessionIdle {
				delete(v.sessions, id)
			}
		}
		v.swept = now
	}
	return nil
}

// apply adds one revocation to the view, and marks the sessions it ends dead
// for good (the revocation itself is forgotten after RevocationKeep); v.mu
// is held.
func (v *sessionView) apply(r domain.Revocation) {
	if r.Session != "" {
		v.ended[r.Session] = true
		if m, ok := v.sessions[r.Session]; ok {
			m.dead = true
		}
		return
	}
	if r.At.After(v.cutoff[r.Username]) {
		v.cutoff[r.Username] = r.At
	}
	for _, m := range v.sessions {
		if m.username == r.Username && !m.created.After(r.At) {
			m.dead = true
		}
	}
}

// ended tells this process's view at once of a revocation it made.
func (s *Service) ended(r domain.Revocation) {
	v := s.view()
	v.mu.Lock()
	defer v.mu.Unlock()
	v.apply(r)
}

// EndUserSessions ends every session of username begun before now, and
// their access tokens: within RevocationRefresh on every process, at once on
// this one (a login disabled, a password changed or reset).
func (s *Service) EndUserSessions(ctx context.Context, username, reason string) error {
	now := s.Now()
	if err := s.Sessions.RevokeUserSessions(ctx, username, reason, now); err != nil {
		return err
	}
	s.ended(domain.Revocation{Username: username, At: now})
	return nil
}
