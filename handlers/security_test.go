package handlers_test

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/hue-cdt/cdt/internal/app"
	"github.com/hue-cdt/cdt/internal/apptest"
)

// noFollow makes a browser stop at redirects, to read their Location.
func noFollow(b *apptest.Browser) *apptest.Browser {
	b.Client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return b
}

// offSite reports whether a browser would leave the site for location:
// browsers read a backslash as a slash and drop tabs and newlines.
func offSite(location string) bool {
	l := strings.NewReplacer("\\", "/", "\t", "", "\n", "", "\r", "").Replace(location)
	u, err := url.Parse(l)
	return err != nil || u.Host != "" || u.Scheme != "" || strings.HasPrefix(l, "//") || !strings.HasPrefix(l, "/")
}

// TestRedirectsStayOnTheSite is issue 11's open redirect: /lang/en?next=/%5Cevil.example/
// and the login form's next=/\evil.example/ sent the browser to
// /\evil.example/, which browsers read as //evil.example/.
func TestRedirectsStayOnTheSite(t *testing.T) {
	e := apptest.New(t, apptest.Insecure, func(c *app.Config) { c.LoginRate = 1000 })
	e.NewFixture()
	evil := []string{`/\evil.example/`, `/%5Cevil.example/`, `//evil.example/`, `/%2F/evil.example/`, `/%2fevil.example`,
		"/\t/evil.example/", `https://evil.example/`, `javascript:alert(1)`, `/\/evil.example`, `/.\evil.example`}
	for _, next := range evil {
		b := noFollow(e.Browser())
		resp, err := b.Client.Get(b.Base + "/lang/en?next=" + url.QueryEscape(next))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if loc := resp.Header.Get("Location"); resp.StatusCode != http.StatusSeeOther || offSite(loc) || loc != "/" {
			t.Errorf("/lang/en?next=%q: %d to %q", next, resp.StatusCode, loc)
		}
		// The literal URL, not re-encoded.
		raw, err := b.Client.Get(b.Base + "/lang/en?next=/%5Cevil.example/")
		if err != nil {
			t.Fatal(err)
		}
		raw.Body.Close()
		if loc := raw.Header.Get("Location"); loc != "/" {
			t.Errorf("/lang/en?next=/%%5Cevil.example/: to %q", loc)
		}

		login := b.Get("/login")
		p := b.Submit(login, "/login", url.Values{"username": {"leader.a"}, "password": {apptest.Password}, "next": {next}})
		if loc := p.Header.Get("Location"); p.Status != http.StatusSeeOther || loc != "/" {
			t.Errorf("login with next=%q: %d to %q", next, p.Status, loc)
		}
		// Signed in, the login page sends the browser on to next.
		resp, err = b.Client.Get(b.Base + "/login?next=" + url.QueryEscape(next))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if loc := resp.Header.Get("Location"); loc != "/" {
			t.Errorf("/login?next=%q signed in: to %q", next, loc)
		}
	}
	// A path of the site is kept, query included.
	b := noFollow(e.Browser())
	resp, err := b.Client.Get(b.Base + "/lang/en?next=" + url.QueryEscape("/communes/19753/dashboard?x=1"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if loc := resp.Header.Get("Location"); loc != "/communes/19753/dashboard?x=1" {
		t.Errorf("a path of the site: to %q", loc)
	}
}

// login posts a login from the client address peer (the TCP peer of
// httptest is 192.0.2.1) with an X-Forwarded-For header.
func loginFrom(e *apptest.Env, username, password, forwardedFor string) apptest.Response {
	return e.Do(apptest.Request{Method: http.MethodPost, Path: "/api/v1/auth/login",
		Body:   map[string]string{"username": username, "password": password},
		Header: map[string]string{"X-Forwarded-For": forwardedFor}})
}

// TestForwardedForCountsOnlyFromTrustedProxies is issue 11's bypass of the
// per-address login limit with a rotating X-Forwarded-For: gin trusted every
// proxy. By default no proxy is trusted and the client is the TCP peer.
func TestForwardedForCountsOnlyFromTrustedProxies(t *testing.T) {
	attempts := func(e *apptest.Env) (limited int) {
		for i := range 40 {
			r := loginFrom(e, fmt.Sprintf("nobody%d", i), "wrong-password", fmt.Sprintf("10.0.%d.%d", i/200, i%200+1))
			if r.Status == http.StatusTooManyRequests {
				limited++
			}
		}
		return limited
	}
	if n := attempts(apptest.New(t)); n == 0 {
		t.Errorf("no proxy trusted: 40 logins from one peer with 40 forwarded addresses were never limited")
	}
	trusting := apptest.New(t, func(c *app.Config) { c.TrustedProxies = []string{"192.0.2.0/24"} })
	if n := attempts(trusting); n != 0 {
		t.Errorf("the peer is a trusted proxy: 40 distinct forwarded clients were limited %d times", n)
	}
}

// probe is an access token (or a page cookie) whose session has just ended,
// and when it ended.
type probe struct {
	name   string
	token  string // bearer token; or
	cookie string // a copied cdt_access cookie
	ended  time.Time
}

// alive asks env whether p still gets in: GET /api/v1/me with the token, or
// GET /account with the cookie alone.
func (p probe) alive(t *testing.T, e *apptest.Env) bool {
	if p.token != "" {
		r := e.Get("/api/v1/me", p.token)
		if r.Status != http.StatusOK && r.Status != http.StatusUnauthorized {
			t.Fatalf("%s: %d %s", p.name, r.Status, r.Body)
		}
		return r.Status == http.StatusOK
	}
	r := e.Do(apptest.Request{Method: http.MethodGet, Path: "/account", Header: map[string]string{"Cookie": "cdt_access=" + p.cookie}})
	return r.Status == http.StatusOK
}

// TestEndedSessionsStopTheirTokensOnEveryProcess is issue 11's "tokens
// outlive their session": after logout, refresh-token reuse, disabling the
// login, a password change or reset, the access token kept working for up to
// 15 minutes (a disabled commune leader created a village); a validly signed
// token with an invented session was accepted; a copied cdt_access cookie
// worked after the page logout. API.md v2: such a token answers 401 within 5
// seconds on every server process. Two stacks on one database stand for two
// processes: A ends the sessions, B must refuse their tokens within 5 s (A at
// once).
func TestEndedSessionsStopTheirTokensOnEveryProcess(t *testing.T) {
	a := apptest.New(t, apptest.Insecure, func(c *app.Config) { c.LoginRate = 1000 })
	f := a.NewFixture()
	b := a.Twin()
	var probes []probe
	live := func(name, token string) string {
		for _, e := range []*apptest.Env{a, b} {
			a.Must(e.Get("/api/v1/me", token), 200) // B caches the live session first
		}
		return token
	}
	end := func(p ...probe) {
		for i := range p {
			p[i].ended = time.Now()
			if p[i].alive(t, a) {
				t.Errorf("%s: still accepted by the process that ended the session", p[i].name)
			}
		}
		probes = append(probes, p...)
	}

	// Logout.
	tok := live("logout", mustLogin(a, "admin", apptest.AdminPassword))
	a.Must(a.Post("/api/v1/auth/logout", tok, nil), http.StatusNoContent)
	end(probe{name: "logout", token: tok})

	// Refresh-token reuse ends the session: the old and the new access token.
	r0 := a.Must(a.Post("/api/v1/auth/login", "", map[string]string{"username": "admin", "password": apptest.AdminPassword}), 200)
	a0 := live("reuse", r0["access_token"].(string))
	r1 := a.Must(a.Post("/api/v1/auth/refresh", "", map[string]string{"refresh_token": r0["refresh_token"].(string)}), 200)
	a1 := live("reuse", r1["access_token"].(string))
	if r := a.Post("/api/v1/auth/refresh", "", map[string]string{"refresh_token": r0["refresh_token"].(string)}); r.ErrorCode() != "token_reused" {
		t.Fatalf("reuse: %d %s", r.Status, r.Body)
	}
	end(probe{name: "reuse, the first access token", token: a0}, probe{name: "reuse, the rotated access token", token: a1})

	// The login disabled by an admin.
	live("disabled", f.CommuneLeaderA)
	a.Must(a.Patch("/api/v1/users/leader.a", f.Admin, map[string]any{"active": false}), 200)
	end(probe{name: "disabled commune leader", token: f.CommuneLeaderA})

	// A password change ends every session of the login.
	tl1, tl2 := live("password", mustLogin(a, "tl.a", apptest.Password)), live("password", mustLogin(a, "tl.a", apptest.Password))
	a.Must(a.Post("/api/v1/auth/password", tl2, map[string]string{"current_password": apptest.Password, "new_password": "new-password-9"}), 204)
	end(probe{name: "password change, another session", token: tl1}, probe{name: "password change, this session", token: tl2})

	// A password reset by the commune leader.
	live("reset", f.MemberTokB)
	a.Must(a.Patch("/api/v1/users/member.b", f.CommuneLeaderB, map[string]any{"password": "reset-password-9"}), 200)
	end(probe{name: "password reset", token: f.MemberTokB})

	// The page logout ends the session of the cookie, copied or not.
	br := a.Browser()
	br.Login("member.a", apptest.Password)
	u, _ := url.Parse(br.Base)
	var cookie string
	for _, c := range br.Client.Jar.Cookies(u) {
		if c.Name == "cdt_access" {
			cookie = c.Value
		}
	}
	page := probe{name: "copied cdt_access cookie", cookie: cookie}
	if cookie == "" || !page.alive(t, a) || !page.alive(t, b) {
		t.Fatal("the page session does not work before its logout")
	}
	br.Submit(br.Get("/app"), "/logout", nil)
	end(page)

	// Every process refuses every probe within 5 s.
	deadline := time.Now().Add(5 * time.Second)
	pending := append([]probe(nil), probes...)
	var slowest time.Duration
	for len(pending) > 0 && time.Now().Before(deadline) {
		var still []probe
		for _, p := range pending {
			d := time.Since(p.ended)
			if p.alive(t, b) {
				still = append(still, p)
			} else if slowest = max(slowest, d); d > 5*time.Second {
				t.Errorf("%s: refused by the other process after %v", p.name, d)
			}
		}
		pending = still
		time.Sleep(100 * time.Millisecond)
	}
	for _, p := range pending {
		t.Errorf("%s: still accepted by the other process after 5 s", p.name)
	}
	t.Logf("the other process refused every ended session within %v", slowest.Round(10*time.Millisecond))
	// The disabled leader cannot create a village, on either process.
	for _, e := range []*apptest.Env{a, b} {
		r := e.Post("/api/v1/units", f.CommuneLeaderA, map[string]any{"level": "village", "parent_code": f.CommuneA, "name": "Thôn Mới"})
		if r.Status != http.StatusUnauthorized {
			t.Errorf("the disabled leader creates a village: %d %s", r.Status, r.Body)
		}
	}
}

func mustLogin(e *apptest.Env, username, password string) string {
	tok, _ := e.Login(username, password)
	return tok
}

// TestTokensNameALiveSession: a validly signed token with an invented
// session, or with another login's session, is refused.
func TestTokensNameALiveSession(t *testing.T) {
	e := apptest.New(t)
	f := e.NewFixture()
	secret, _, err := e.App.Store.Settings.Get(t.Context(), "jwt_secret")
	if err != nil {
		t.Fatal(err)
	}
	sidOf := func(tok string) string {
		var c jwt.MapClaims
		if _, _, err := jwt.NewParser().ParseUnverified(tok, &c); err != nil {
			t.Fatal(err)
		}
		return c["sid"].(string)
	}
	sign := func(sub, role, sid string) string {
		s, err := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{"iss": "cdt", "aud": []string{"cdt-api"}, "sub": sub,
			"role": role, "unit": "46", "sid": sid, "iat": apptest.Start.Unix(), "exp": apptest.Start.Add(time.Hour).Unix()}).SignedString([]byte(secret))
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	for name, tok := range map[string]string{
		"invented session":        sign("admin", "province_admin", "invented-session-id"),
		"empty session":           sign("admin", "province_admin", ""),
		"another login's session": sign("admin", "province_admin", sidOf(f.MemberTokA)),
	} {
		if r := e.Get("/api/v1/me", tok); r.Status != http.StatusUnauthorized || r.ErrorCode() != "unauthorized" {
			t.Errorf("%s: %d %s", name, r.Status, r.Body)
		}
	}
	// The same claims with the admin's own session pass.
	if r := e.Get("/api/v1/me", sign("admin", "province_admin", sidOf(f.Admin))); r.Status != http.StatusOK {
		t.Fatalf("control: %d %s", r.Status, r.Body)
	}
}

// TestStaticFilesListNoDirectory is issue 11's listing of /static/.
func TestStaticFilesListNoDirectory(t *testing.T) {
	e := apptest.New(t)
	for _, path := range []string{"/static/", "/static", "/static/.", "/static/%2e/"} {
		if r := e.Get(path, ""); r.Status == http.StatusOK || strings.Contains(string(r.Body), "app.css") {
			t.Errorf("%s: %d %.200s", path, r.Status, r.Body)
		}
	}
	if r := e.Get("/static/app.css", ""); r.Status != http.StatusOK {
		t.Fatalf("a static file: %d", r.Status)
	}
}

// TestStrictTransportSecurityWithSecureCookies: HSTS when the cookies are
// Secure (CDT_SECURE_COOKIES, the default), on pages and the API; not on a
// plain-HTTP development server.
func TestStrictTransportSecurityWithSecureCookies(t *testing.T) {
	secure, plain := apptest.New(t), apptest.New(t, apptest.Insecure)
	for _, path := range []string{"/login", "/api/v1/services", "/healthz", "/static/app.css"} {
		if h := secure.Get(path, "").Header.Get("Strict-Transport-Security"); !strings.Contains(h, "max-age=") {
			t.Errorf("secure cookies, %s: Strict-Transport-Security %q", path, h)
		}
		if h := plain.Get(path, "").Header.Get("Strict-Transport-Security"); h != "" {
			t.Errorf("insecure cookies, %s: Strict-Transport-Security %q", path, h)
		}
	}
}

// TestOthersFailuresDoNotLockTheOwnerOut is issue 11's "lockout by anyone":
// ten bad attempts on a username locked its owner's correct password out
// too. Attempts are now held back per username and client, with a back-off
// that grows: the attacker's address waits longer and longer, the owner,
// elsewhere, signs in.
func TestOthersFailuresDoNotLockTheOwnerOut(t *testing.T) {
	e := apptest.New(t, func(c *app.Config) { c.TrustedProxies = []string{"192.0.2.0/24"} })
	e.NewFixture()
	const attacker, owner = "203.0.113.9", "198.51.100.7"
	var last apptest.Response
	for range 10 {
		last = loginFrom(e, "leader.a", "guess-guess", attacker)
	}
	if last.Status != http.StatusTooManyRequests || last.Header.Get("Retry-After") == "" {
		t.Fatalf("the attacker's tenth attempt: %d %s", last.Status, last.Body)
	}
	if r := loginFrom(e, "leader.a", apptest.Password, owner); r.Status != http.StatusOK {
		t.Fatalf("the owner, from another address, is locked out: %d %s", r.Status, r.Body)
	}
	// The attacker waits longer after each failure (1 s, 2 s, 4 s… here,
	// the clock standing still, the wait left).
	e.Clock.Add(time.Hour)
	var waits []string
	for range 3 {
		loginFrom(e, "leader.a", "guess-again", attacker)
		r := loginFrom(e, "leader.a", "guess-again", attacker)
		waits = append(waits, r.Header.Get("Retry-After"))
		e.Clock.Add(time.Hour)
	}
	if strings.Join(waits, ",") != "2,4,8" {
		t.Errorf("the attacker's waits %v, want 2,4,8 seconds", waits)
	}
	// The owner is told, on their account page; the audit trail says when
	// the back-off began.
	b := e.Browser()
	b.Login("leader.a", apptest.Password)
	if p := b.Get("/account"); !strings.Contains(p.Body, "đăng nhập sai") {
		t.Errorf("no notice on the owner's account page:\n%s", p.Body)
	}
	admin := mustLogin(e, "admin", apptest.AdminPassword)
	trail := e.Must(e.Get("/api/v1/audit?action=login_throttled", admin), 200)["items"].([]any)
	if len(trail) == 0 || trail[0].(map[string]any)["target"] != "leader.a" || trail[0].(map[string]any)["commune_code"] != "19753" {
		t.Errorf("login_throttled in the audit trail: %v", trail)
	}
	// The admin, who manages the login, releases it: the next attempt is
	// judged on its password again.
	loginFrom(e, "leader.a", "guess-again", attacker)
	if r := loginFrom(e, "leader.a", "guess-again", attacker); r.Status != http.StatusTooManyRequests {
		t.Fatalf("not held back before the release: %d", r.Status)
	}
	e.Must(e.Post("/api/v1/users/leader.a/unlock", admin, nil), 200)
	if r := loginFrom(e, "leader.a", "guess-again", attacker); r.Status != http.StatusUnauthorized {
		t.Fatalf("after the release: %d %s", r.Status, r.Body)
	}
	if trail := e.Must(e.Get("/api/v1/audit?action=login_unlocked", admin), 200)["items"].([]any); len(trail) != 1 ||
		trail[0].(map[string]any)["actor"] != "admin" {
		t.Errorf("login_unlocked in the audit trail: %v", trail)
	}
}
