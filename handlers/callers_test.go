package handlers_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/hue-cdt/cdt/domain"
	"github.com/hue-cdt/cdt/internal/apptest"
)

// judge compares an answer with the rule's decision; "" when they agree.
// jsonAnswers: refusals come in the API's error format (a page's refusal of
// a missing session is the login page instead).
func judge(got answer, want int, rw row, jsonAnswers bool) string {
	toLogin := got.status == http.StatusSeeOther && strings.HasPrefix(got.location, "/login")
	switch {
	case want == 0 && rw.cleared:
		if got.status == http.StatusSeeOther && strings.Contains(got.cookies, "cdt_access=;") {
			return ""
		}
	case want == 0:
		if slices.Contains(rw.ok, got.status) && !toLogin {
			return ""
		}
	case want == http.StatusUnauthorized && !jsonAnswers:
		if toLogin && !strings.Contains(got.cookies, "cdt_access=;") {
			return ""
		}
	case got.status == want:
		if !jsonAnswers || got.code == map[int]string{401: "unauthorized", 403: "forbidden", 404: "not_found"}[want] {
			return ""
		}
	}
	return fmt.Sprintf("got %d %s%s, want %s", got.status, got.code, got.location, map[int]string{0: fmt.Sprint("one of ", rw.ok),
		401: "401 (or the login page)", 403: "403", 404: "404"}[want])
}

// caller is one of the matrix's callers, with an API token and a page session.
type caller struct {
	name       string
	role       domain.Role // "" for anonymous
	user, pass string
	token      string
	browser    *apptest.Browser
	csrf       string
}

// answer is what the matrix reads of a response.
type answer struct {
	status   int
	code     string // error.code of a JSON error
	location string
	cookies  string
	cache    string // Cache-Control
}

var csrfField = regexp.MustCompile(`name="csrf_token" value="([^"]+)"`)

// session signs the caller in afresh: a token, and a browser with its cookies
// and a CSRF token (an anonymous browser has the CSRF cookie only).
func (cl *caller) session(e *apptest.Env) {
	cl.browser = e.Browser()
	form := "/login"
	if cl.role != "" {
		cl.token, _ = e.Login(cl.user, cl.pass)
		cl.browser.Login(cl.user, cl.pass)
		form = "/account"
	}
	m := csrfField.FindStringSubmatch(cl.browser.Get(form).Body)
	if m == nil {
		e.T.Fatalf("%s: no CSRF token on %s", cl.name, form)
	}
	cl.csrf = m[1]
	cl.browser.Client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
}

func (cl caller) callAPI(e *apptest.Env, method string, q req) answer {
	r := apptest.Request{Method: method, Path: q.path, Token: cl.token, Body: q.json}
	if q.csv != "" {
		ct, body := apptest.MultipartSheet("ds.csv", []byte(q.csv), true)
		r.Body, r.Header = body, map[string]string{"Content-Type": ct}
	}
	resp := e.Do(r)
	return answer{status: resp.Status, code: resp.ErrorCode(), location: resp.Header.Get("Location"),
		cookies: strings.Join(resp.Header.Values("Set-Cookie"), "\n"), cache: resp.Header.Get("Cache-Control")}
}

func (cl caller) callPage(t *testing.T, method string, q req) answer {
	var body io.Reader
	ctype := ""
	switch {
	case q.json != nil:
		b, _ := json.Marshal(q.json)
		body, ctype = bytes.NewReader(b), "application/json"
	case q.form != nil:
		body, ctype = strings.NewReader(q.form.Encode()), "application/x-www-form-urlencoded"
	}
	r, err := http.NewRequest(method, cl.browser.Base+q.path, body)
	if err != nil {
		t.Fatal(err)
	}
	if ctype != "" {
		r.Header.Set("Content-Type", ctype)
	}
	r.Header.Set("Origin", cl.browser.Base)
	r.Header.Set("X-CSRF-Token", cl.csrf)
	resp, err := cl.browser.Client.Do(r)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	a := answer{status: resp.StatusCode, location: resp.Header.Get("Location"), cookies: strings.Join(resp.Header.Values("Set-Cookie"), "\n"),
		cache: resp.Header.Get("Cache-Control")}
	var eb struct {
		Error struct{ Code string } `json:"error"`
	}
	if json.Unmarshal(b, &eb) == nil {
		a.code = eb.Error.Code
	}
	return a
}
