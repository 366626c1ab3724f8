// Package apptest runs the whole cdt stack (stores on the real test database,
// the gin engine) inside a test and talks to it through httptest.
package apptest

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/hue-cdt/cdt/internal/app"
	"github.com/hue-cdt/cdt/internal/testdb"
)

// Clock is a settable clock for tests.
type Clock struct {
	mu sync.Mutex
	t  time.Time
}

// Now returns the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

// Set moves the clock.
func (c *Clock) Set(t time.Time) {
	c.mu.Lock()
	c.t = t
	c.mu.Unlock()
}

// Add moves the clock by d.
func (c *Clock) Add(d time.Duration) { c.Set(c.Now().Add(d)) }

// Env is one running stack.
type Env struct {
	T     testing.TB
	App   *app.App
	Clock *Clock
	h     http.Handler
	srv   *httptest.Server
}

// RealClock makes the stack use the real time (browser tests: the browser's
// clock is real).
func RealClock(c *app.Config) { c.Now = time.Now }

// Start is 2026-11-21 09:00 in Huế.
var Start = time.Date(2026, 11, 21, 2, 0, 0, 0, time.UTC)

// AdminPassword is the password of the login "admin" in every Env.
const AdminPassword = "admin-password-1"

// New starts a stack on a fresh database; change cfg with configure. Every
// /api/v1 request sent to it, and its answer, are checked against the
// OpenAPI document (openapi.go).
func New(t testing.TB, configure ...func(*app.Config)) *Env {
	t.Helper()
	clock := &Clock{t: Start}
	cfg := app.Defaults()
	cfg.MongoURI = testdb.URI()
	cfg.DB = testdb.Name(t)
	cfg.AdminPassword = AdminPassword
	cfg.Now = clock.Now
	cfg.BcryptCost = bcrypt.MinCost
	for _, f := range configure {
		f(&cfg)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	a, err := app.Open(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		_ = a.Audit.Flush(ctx) // before the drop: Close would write it into a dropped database
		_ = a.Store.Drop(ctx)
		a.Close(ctx)
	})
	return &Env{T: t, App: a, Clock: clock, h: specCheck{t: t, next: a.Server.Handler()}}
}

// Response is an answer of the server.
type Response struct {
	Status int
	Header http.Header
	Body   []byte
}

// JSON decodes the body into a generic map.
func (r Response) JSON() map[string]any {
	var m map[string]any
	_ = json.Unmarshal(r.Body, &m)
	return m
}

// Decode decodes the body into v.
func (r Response) Decode(t testing.TB, v any) {
	t.Helper()
	if err := json.Unmarshal(r.Body, v); err != nil {
		t.Fatalf("decode %s: %v", r.Body, err)
	}
}

// ErrorCode is error.code of an error answer.
func (r Response) ErrorCode() string {
	if e, ok := r.JSON()["error"].(map[string]any); ok {
		s, _ := e["code"].(string)
		return s
	}
	return ""
}

// Request is one request to send.
type Request struct {
	Method, Path, Token string
	Body                any // encoded as JSON unless it is a string or []byte
	Header              map[string]string
}

// Do sends a request through the handler.
func (e *Env) Do(r Request) Response {
	var body io.Reader
	switch b := r.Body.(type) {
	case nil:
	case string:
		body = strings.NewReader(b)
	case []byte:
		body = bytes.NewReader(b)
	default:
		j, err := json.Marshal(b)
		if err != nil {
			e.T.Fatal(err)
		}
		body = bytes.NewReader(j)
	}
	req := httptest.NewRequest(r.Method, r.Path, body)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if r.Token != "" {
		req.Header.Set("Authorization", "Bearer "+r.Token)
	}
	for k, v := range r.Header {
		req.Header.Set(k, v)
	}
	rec := httptest.NewRecorder()
	e.h.ServeHTTP(rec, req)
	return Response{Status: rec.Code, Header: rec.Header(), Body: rec.Body.Bytes()}
}

// Get is a GET with a token.
func (e *Env) Get(path, token string) Response {
	return e.Do(Request{Method: http.MethodGet, Path: path, Token: token})
}

// Post is a POST of a JSON body with a token.
func (e *Env) Post(path, token string, body any) Response {
	return e.Do(Request{Method: http.MethodPost, Path: path, Token: token, Body: body})
}

// Patch is a PATCH of a JSON body with a token.
func (e *Env) Patch(path, token string, body any) Response {
	return e.Do(Request{Method: http.MethodPatch, Path: path, Token: token, Body: body})
}

// Login signs in and returns the access and refresh tokens.
func (e *Env) Login(username, password string) (access, refresh string) {
	e.T.Helper()
	r := e.Post("/api/v1/auth/login", "", map[string]string{"username": username, "password": password})
	if r.Status != http.StatusOK {
		e.T.Fatalf("login %s: %d %s", username, r.Status, r.Body)
	}
	m := r.JSON()
	return m["access_token"].(string), m["refresh_token"].(string)
}

// Must checks a status and returns the decoded body.
func (e *Env) Must(r Response, status int) map[string]any {
	e.T.Helper()
	if r.Status != status {
		e.T.Fatalf("status %d, want %d: %s", r.Status, status, r.Body)
	}
	return r.JSON()
}

// Twin starts a second stack on e's database, with e's clock: another server
// process sharing the database, with its own caches.
func (e *Env) Twin() *Env {
	e.T.Helper()
	cfg := e.App.Cfg
	cfg.AdminPassword = "" // the first stack created the admin
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	a, err := app.Open(ctx, cfg)
	if err != nil {
		e.T.Fatal(err)
	}
	e.T.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		a.Close(ctx)
	})
	return &Env{T: e.T, App: a, Clock: e.Clock, h: specCheck{t: e.T, next: a.Server.Handler()}}
}
