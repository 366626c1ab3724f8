package api_test

import (
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"golang.org/x/crypto/bcrypt"

	"github.com/hue-cdt/cdt/internal/app"
	"github.com/hue-cdt/cdt/internal/apptest"
)

func TestLoginAnswersTheContract(t *testing.T) {
	e := apptest.New(t)
	r := e.Post("/api/v1/auth/login", "", map[string]string{"username": "ADMIN ", "password": apptest.AdminPassword})
	m := e.Must(r, 200)
	if m["token_type"] != "Bearer" || m["expires_in"].(float64) != 900 || m["refresh_token"] == "" {
		t.Fatalf("login body: %v", m)
	}
	u := m["user"].(map[string]any)
	if u["username"] != "admin" || u["role"] != "province_admin" || u["unit_code"] != "46" || u["id"] != "admin" {
		t.Fatalf("user: %v", u)
	}
	t.Run("WrongPassword401", func(t *testing.T) {
		r := e.Post("/api/v1/auth/login", "", map[string]string{"username": "admin", "password": "wrong-password"})
		if r.Status != 401 || r.ErrorCode() != "invalid_credentials" {
			t.Fatalf("%d %s", r.Status, r.Body)
		}
	})
	t.Run("UnknownUser401", func(t *testing.T) {
		r := e.Post("/api/v1/auth/login", "", map[string]string{"username": "nobody", "password": "whatever-1"})
		if r.Status != 401 || r.ErrorCode() != "invalid_credentials" {
			t.Fatalf("%d %s", r.Status, r.Body)
		}
	})
	t.Run("MissingFields422", func(t *testing.T) {
		r := e.Post("/api/v1/auth/login", "", map[string]string{})
		if r.Status != 422 || len(r.JSON()["error"].(map[string]any)["details"].([]any)) != 2 {
			t.Fatalf("%d %s", r.Status, r.Body)
		}
	})
}

func TestLoginIsRateLimited(t *testing.T) {
	e := apptest.New(t)
	var last apptest.Response
	for range 12 {
		last = e.Post("/api/v1/auth/login", "", map[string]string{"username": "admin", "password": "guess-guess"})
	}
	if last.Status != 429 || last.ErrorCode() != "rate_limited" || last.Header.Get("Retry-After") == "" {
		t.Fatalf("after 12 bad logins: %d %s", last.Status, last.Body)
	}
}

func TestRefreshRotatesAndDetectsReuse(t *testing.T) {
	e := apptest.New(t)
	_, r0 := e.Login("admin", apptest.AdminPassword)
	m := e.Must(e.Post("/api/v1/auth/refresh", "", map[string]string{"refresh_token": r0}), 200)
	a1, r1 := m["access_token"].(string), m["refresh_token"].(string)
	if r1 == r0 || a1 == "" {
		t.Fatal("refresh did not rotate the token")
	}
	e.Must(e.Get("/api/v1/me", a1), 200)

	// The used token again: reuse, answered token_reused, and the session ends,
	// so the legitimate holder of r1 must sign in again too.
	r := e.Post("/api/v1/auth/refresh", "", map[string]string{"refresh_token": r0})
	if r.Status != 401 || r.ErrorCode() != "token_reused" {
		t.Fatalf("reuse: %d %s", r.Status, r.Body)
	}
	r = e.Post("/api/v1/auth/refresh", "", map[string]string{"refresh_token": r1})
	if r.Status != 401 || r.ErrorCode() != "token_reused" {
		t.Fatalf("after reuse, the newest token: %d %s", r.Status, r.Body)
	}
	for _, bad := range []string{"", "garbage", "a.b.c", "x.0.y"} {
		r := e.Post("/api/v1/auth/refresh", "", map[string]string{"refresh_token": bad})
		if r.Status != 401 && r.Status != 422 {
			t.Fatalf("refresh %q: %d", bad, r.Status)
		}
	}
}

func TestConcurrentRefreshWithOneTokenHasOneWinner(t *testing.T) {
	e := apptest.New(t)
	_, r0 := e.Login("admin", apptest.AdminPassword)
	var wg sync.WaitGroup
	var mu sync.Mutex
	codes := map[int]int{}
	for range 6 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := e.Post("/api/v1/auth/refresh", "", map[string]string{"refresh_token": r0})
			mu.Lock()
			codes[r.Status]++
			mu.Unlock()
		}()
	}
	wg.Wait()
	if codes[200] != 1 || codes[401] != 5 {
		t.Fatalf("statuses: %v", codes)
	}
}

func TestLogoutEndsTheSession(t *testing.T) {
	e := apptest.New(t)
	a, r := e.Login("admin", apptest.AdminPassword)
	if got := e.Post("/api/v1/auth/logout", a, nil); got.Status != http.StatusNoContent {
		t.Fatalf("logout: %d %s", got.Status, got.Body)
	}
	if got := e.Post("/api/v1/auth/refresh", "", map[string]string{"refresh_token": r}); got.Status != 401 {
		t.Fatalf("refresh after logout: %d", got.Status)
	}
}

func TestAccessTokenRules(t *testing.T) {
	e := apptest.New(t)
	good, _ := e.Login("admin", apptest.AdminPassword)
	parts := strings.Split(good, ".")
	sign := func(method jwt.SigningMethod, key any, claims jwt.MapClaims) string {
		s, err := jwt.NewWithClaims(method, claims).SignedString(key)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	var own jwt.MapClaims // the session of the good token: a token must name a live one
	if _, _, err := jwt.NewParser().ParseUnverified(good, &own); err != nil {
		t.Fatal(err)
	}
	claims := func(mut func(jwt.MapClaims)) jwt.MapClaims {
		c := jwt.MapClaims{"iss": "cdt", "aud": []string{"cdt-api"}, "sub": "admin", "role": "province_admin",
			"unit": "46", "sid": own["sid"], "iat": apptest.Start.Unix(), "exp": apptest.Start.Add(time.Hour).Unix()}
		mut(c)
		return c
	}
	secret, _, err := e.App.Store.Settings.Get(t.Context(), "jwt_secret")
	if err != nil || secret == "" {
		t.Fatalf("jwt secret: %v", err)
	}
	key := []byte(secret)
	for name, tok := range map[string]string{
		"alg none":         strings.Join([]string{"eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0", parts[1], ""}, "."),
		"HS512":            sign(jwt.SigningMethodHS512, key, claims(func(jwt.MapClaims) {})),
		"wrong key":        sign(jwt.SigningMethodHS256, []byte("another-secret-another-secret-xx"), claims(func(jwt.MapClaims) {})),
		"wrong issuer":     sign(jwt.SigningMethodHS256, key, claims(func(c jwt.MapClaims) { c["iss"] = "evil" })),
		"wrong audience":   sign(jwt.SigningMethodHS256, key, claims(func(c jwt.MapClaims) { c["aud"] = "other" })),
		"no expiry":        sign(jwt.SigningMethodHS256, key, claims(func(c jwt.MapClaims) { delete(c, "exp") })),
		"expired":          sign(jwt.SigningMethodHS256, key, claims(func(c jwt.MapClaims) { c["exp"] = apptest.Start.Add(-time.Hour).Unix() })),
		"tampered payload": parts[0] + "." + parts[1] + "x." + parts[2],
	} {
		if r := e.Get("/api/v1/me", tok); r.Status != 401 || r.ErrorCode() != "unauthorized" {
			t.Errorf("%s: %d %s", name, r.Status, r.Body)
		}
	}
	// The same claims signed correctly pass, so the cases above fail for their one reason.
	if r := e.Get("/api/v1/me", sign(jwt.SigningMethodHS256, key, claims(func(jwt.MapClaims) {}))); r.Status != 200 {
		t.Fatalf("control token: %d %s", r.Status, r.Body)
	}
	// Access tokens expire after 15 minutes.
	e.Clock.Add(16 * time.Minute)
	if r := e.Get("/api/v1/me", good); r.Status != 401 {
		t.Fatalf("expired login token: %d", r.Status)
	}
}

func TestDisabledLoginAndMemberWhoLeftAreLockedOut(t *testing.T) {
	e := apptest.New(t)
	f := e.NewFixture()
	e.Must(e.Get("/api/v1/me", f.MemberTokA), 200)
	e.Must(e.Patch("/api/v1/members/"+f.MemberA, f.CommuneLeaderA, map[string]any{"active": false}), 200)
	if r := e.Get("/api/v1/me", f.MemberTokA); r.Status != 401 {
		t.Fatalf("a member who left still has access: %d", r.Status)
	}
	_, refresh := e.Login("member.b", apptest.Password)
	e.Must(e.Patch("/api/v1/users/member.b", f.CommuneLeaderB, map[string]any{"active": false}), 200)
	if r := e.Post("/api/v1/auth/refresh", "", map[string]string{"refresh_token": refresh}); r.Status != 401 {
		t.Fatalf("a disabled login can refresh: %d", r.Status)
	}
	if r := e.Post("/api/v1/auth/login", "", map[string]string{"username": "member.b", "password": apptest.Password}); r.Status != 401 {
		t.Fatalf("a disabled login can sign in: %d", r.Status)
	}
}

func TestChangePassword(t *testing.T) {
	e := apptest.New(t)
	a, _ := e.Login("admin", apptest.AdminPassword)
	r := e.Post("/api/v1/auth/password", a, map[string]string{"current_password": "nope-nope", "new_password": "new-password-2"})
	if r.Status != 422 {
		t.Fatalf("wrong current password: %d %s", r.Status, r.Body)
	}
	e.Must(e.Post("/api/v1/auth/password", a, map[string]string{"current_password": apptest.AdminPassword, "new_password": "new-password-2"}), 204)
	e.Login("admin", "new-password-2")
}

// A hash of another cost than the configured one is replaced at the next
// login, so that every login costs the same to check as an unknown one.
func TestLoginRehashesAtTheConfiguredCost(t *testing.T) {
	e := apptest.New(t, func(c *app.Config) { c.BcryptCost = 5 })
	old, err := bcrypt.GenerateFromPassword([]byte(apptest.AdminPassword), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	if err := e.App.Store.Users.UpdatePassword(t.Context(), "admin", old, apptest.Start); err != nil {
		t.Fatal(err)
	}
	e.Login("admin", apptest.AdminPassword)
	u, err := e.App.Store.Users.FindUser(t.Context(), "admin")
	if err != nil {
		t.Fatal(err)
	}
	if c, _ := bcrypt.Cost(u.PasswordHash); c != 5 {
		t.Fatalf("hash cost after login: %d, want 5", c)
	}
	e.Login("admin", apptest.AdminPassword)
}
