package apptest

import (
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"
)

// Browser is a cookie-keeping HTTP client for the pages, over a real listener.
type Browser struct {
	T      testing.TB
	Base   string
	Client *http.Client
}

// Browser starts an HTTP server on the stack (once per Env) and returns a
// client with an empty cookie jar. Pages need CDT_SECURE_COOKIES=false here:
// Go's cookie jar, unlike browsers, sends no Secure cookie to http://127.0.0.1.
func (e *Env) Browser() *Browser {
	if e.srv == nil {
		e.srv = httptest.NewServer(e.h)
		e.T.Cleanup(e.srv.Close)
	}
	jar, _ := cookiejar.New(nil)
	return &Browser{T: e.T, Base: e.srv.URL, Client: &http.Client{Jar: jar}}
}

// Page is a fetched HTML page.
type Page struct {
	Status int
	URL    *url.URL
	Header http.Header
	Body   string
	Doc    *goquery.Document
}

// Get fetches a page, following redirects.
func (b *Browser) Get(path string) Page {
	b.T.Helper()
	resp, err := b.Client.Get(b.Base + path)
	if err != nil {
		b.T.Fatal(err)
	}
	return b.page(resp)
}

// Submit posts form values (plus the CSRF token of from) to path.
func (b *Browser) Submit(from Page, path string, values url.Values) Page {
	b.T.Helper()
	if values == nil {
		values = url.Values{}
	}
	if tok, ok := from.Doc.Find(`input[name="csrf_token"]`).First().Attr("value"); ok && values.Get("csrf_token") == "" {
		values.Set("csrf_token", tok)
	}
	req, _ := http.NewRequest(http.MethodPost, b.Base+path, strings.NewReader(values.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", b.Base)
	resp, err := b.Client.Do(req)
	if err != nil {
		b.T.Fatal(err)
	}
	return b.page(resp)
}

func (b *Browser) page(resp *http.Response) Page {
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	doc, err := goquery.NewDocumentFromReader(strings.NewReader(string(body)))
	if err != nil {
		b.T.Fatal(err)
	}
	return Page{Status: resp.StatusCode, URL: resp.Request.URL, Header: resp.Header, Body: string(body), Doc: doc}
}

// Login signs in through the login form and returns the page it lands on.
func (b *Browser) Login(username, password string) Page {
	b.T.Helper()
	form := b.Get("/login")
	return b.Submit(form, "/login", url.Values{"username": {username}, "password": {password}})
}
