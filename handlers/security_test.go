package handlers_test

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

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
