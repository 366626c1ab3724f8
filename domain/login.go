package domain

import (
	"context"
	"fmt"
	"sort"
	"time"
)

// Sign-in throttling. Failed sign-ins are counted per username and client
// (its address): after LoginFreeFailures, that client must wait before its
// next attempt on that username, twice as long after each further failure,
// up to LoginClientMaxWait. The owner, from another address, is not held
// back. A slower, shorter back-off counts the failures of every client on
// one username (a guess spread over many addresses): after LoginUserFree it
// holds back every client, up to LoginUserMaxWait only, so the owner waits a
// minute at most. A success forgets the client's failures and the username's
// count; a leader who manages the login can lift every back-off (unlock).
// The owner sees a notice of the failures on their account page for
// LoginNoticeKeep, and the audit trail records when a back-off begins.
const (
	LoginFreeFailures  = 3
	LoginClientMaxWait = 15 * time.Minute
	LoginUserFree      = 20
	LoginUserMaxWait   = time.Minute
	LoginForget        = 24 * time.Hour     // a client without failure for this long starts afresh
	LoginNoticeKeep    = 7 * 24 * time.Hour // the owner's notice, after the last failure
	loginMaxClients    = 64                 // clients remembered per username (the most recent)
)

// LoginThrottle is what is known of the failed sign-ins on one username.
type LoginThrottle struct {
	Username string
	Failures int       // from every client, since the last success or unlock
	Last     time.Time // the last failure
	Clients  map[string]ClientFailures
	// The owner's notice: Total failures since First.
	Total int
	First time.Time
}

// ClientFailures are the failures of one client on one username.
type ClientFailures struct {
	Failures int
	Last     time.Time
}

// backoff is the wait after over failures beyond the free ones: 1 s, 2 s,
// 4 s… up to most.
func backoff(over int, most time.Duration) time.Duration {
	if over <= 0 {
		return 0
	}
	return min(time.Second<<min(over-1, 30), most)
}

// Wait is how long client must wait before it may try the username again
// (0: now).
func (t LoginThrottle) Wait(client string, now time.Time) time.Duration {
	var w time.Duration
	if c, ok := t.Clients[client]; ok && now.Sub(c.Last) < LoginForget {
		w = backoff(c.Failures-LoginFreeFailures, LoginClientMaxWait) - now.Sub(c.Last)
	}
	if now.Sub(t.Last) < LoginForget {
		w = max(w, backoff(t.Failures-LoginUserFree, LoginUserMaxWait)-now.Sub(t.Last))
	}
	return max(w, 0)
}

// Held reports whether some client is held back now.
func (t LoginThrottle) Held(now time.Time) bool {
	for c := range t.Clients {
		if t.Wait(c, now) > 0 {
			return true
		}
	}
	return false
}

// Failed records a failed sign-in of client at now. It reports whether a
// back-off begins with it (the client's, or every client's on the username),
// which the audit trail records.
func (t *LoginThrottle) Failed(client string, now time.Time) (began bool) {
	if t.Clients == nil {
		t.Clients = map[string]ClientFailures{}
	}
	c := t.Clients[client]
	if now.Sub(c.Last) >= LoginForget {
		c = ClientFailures{}
	}
	if now.Sub(t.Last) >= LoginForget {
		t.Failures = 0
	}
	c.Failures++
	c.Last = now
	t.Clients[client] = c
	t.Failures++
	t.Last = now
	if t.Total == 0 || now.Sub(t.First) >= LoginNoticeKeep {
		t.Total, t.First = 0, now
	}
	t.Total++
	t.forgetOldClients(now)
	return c.Failures == LoginFreeFailures+1 || t.Failures == LoginUserFree+1
}

// forgetOldClients keeps the loginMaxClients most recent clients.
func (t *LoginThrottle) forgetOldClients(now time.Time) {
	for k, c := range t.Clients {
		if now.Sub(c.Last) >= LoginForget {
			delete(t.Clients, k)
		}
	}
	if len(t.Clients) <= loginMaxClients {
		return
	}
	keys := make([]string, 0, len(t.Clients))
	for k := range t.Clients {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool { return t.Clients[keys[i]].Last.After(t.Clients[keys[j]].Last) })
	for _, k := range keys[loginMaxClients:] {
		delete(t.Clients, k)
	}
}

// Succeeded forgets the failures of client and the username's count: the
// owner is in. The notice stays.
func (t *LoginThrottle) Succeeded(client string) {
	delete(t.Clients, client)
	t.Failures = 0
}

// Unlock lifts every back-off on the username; the notice stays.
func (t *LoginThrottle) Unlock() {
	t.Clients, t.Failures = nil, 0
}

// Empty reports whether there is nothing left to keep: no failure to count
// and no notice to show.
func (t LoginThrottle) Empty(now time.Time) bool {
	return len(t.Clients) == 0 && t.Failures == 0 && (t.Total == 0 || now.Sub(t.Last) >= LoginNoticeKeep)
}

// RetryError is ErrRateLimited with how long to wait.
type RetryError struct{ After time.Duration }

func (e *RetryError) Error() string { return fmt.Sprintf("too many requests: retry after %v", e.After) }

// Unwrap makes a RetryError an ErrRateLimited.
func (e *RetryError) Unwrap() error { return ErrRateLimited }

// LoginThrottleStore keeps the failed sign-ins, one small document per
// username that failed lately.
type LoginThrottleStore interface {
	// LoginThrottle returns the failures on username (none: the zero value).
	LoginThrottle(ctx context.Context, username string) (LoginThrottle, error)
	// SaveLoginThrottle stores t, or forgets the username when t is Empty.
	SaveLoginThrottle(ctx context.Context, t LoginThrottle, now time.Time) error
	// LoginThrottles returns those of usernames that have failures.
	LoginThrottles(ctx context.Context, usernames []string) (map[string]LoginThrottle, error)
	// DeleteLoginThrottles forgets the usernames without failure since
	// before, and those without a notice (no login has them) since
	// unowned.
	DeleteLoginThrottles(ctx context.Context, before, unowned time.Time) error
}
