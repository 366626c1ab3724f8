package httpx

import (
	"net/url"
	"path"
	"strings"
	"testing"
)

// browserView is how a browser reads a Location: backslashes as slashes,
// tabs and newlines dropped, and (net/http's Redirect) the path cleaned.
func browserView(loc string) string {
	loc = strings.NewReplacer("\\", "/", "\t", "", "\n", "", "\r", "").Replace(loc)
	p, q, _ := strings.Cut(loc, "?")
	if p != "" && p[0] == '/' {
		trailing := strings.HasSuffix(p, "/")
		p = path.Clean(p)
		if trailing && !strings.HasSuffix(p, "/") {
			p += "/"
		}
	}
	if q != "" {
		return p + "?" + q
	}
	return p
}

// sameSite reports whether a browser on base follows loc to base's origin.
func sameSite(loc string) bool {
	base, _ := url.Parse("https://cdt.example/communes/19753")
	u, err := url.Parse(browserView(loc))
	if err != nil {
		return false
	}
	r := base.ResolveReference(u)
	return r.Scheme == "https" && r.Host == "cdt.example" && r.User == nil
}

func TestSafeNext(t *testing.T) {
	for in, want := range map[string]string{
		"":                                "/",
		"/":                               "/",
		"/communes/19753/dashboard?x=1&y": "/communes/19753/dashboard?x=1&y",
		"/units?q=Ph%C3%BA%20Xu%C3%A2n":   "/units?q=Ph%C3%BA%20Xu%C3%A2n",
		"/app#log":                        "/app#log",
		`/\evil.example/`:                 "/",
		`/%5Cevil.example/`:               "/",
		`/%5cevil.example/`:               "/",
		"//evil.example/":                 "/",
		"/%2F/evil.example/":              "/",
		"/%2fevil.example":                "/",
		"/\t/evil.example/":               "/",
		"/\n/evil.example/":               "/",
		"/%09/evil.example/":              "/",
		"/ /evil.example":                 "/",
		"https://evil.example/":           "/",
		"http:/evil.example":              "/",
		"javascript:alert(1)":             "/",
		"evil.example":                    "/",
		"./x":                             "/",
		"/Phú":                            "/",
		"/%":                              "/",
		"/%zz":                            "/",
	} {
		if got := SafeNext(in); got != want {
			t.Errorf("SafeNext(%q) = %q, want %q", in, got, want)
		}
	}
}

// FuzzSafeNext: whatever the input, the target is "/" or the input itself,
// and a browser following it stays on the site.
func FuzzSafeNext(f *testing.F) {
	for _, s := range []string{"/", "/communes/19753", `/\evil`, "//evil", "/%5Cevil", "/\t/evil", "https://x", "/a?next=//b", "/%2e%2e/x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		got := SafeNext(in)
		if got != "/" && got != in {
			t.Fatalf("SafeNext(%q) = %q: neither the input nor /", in, got)
		}
		if !sameSite(got) {
			t.Fatalf("SafeNext(%q) = %q leaves the site (a browser reads %q)", in, got, browserView(got))
		}
		if strings.HasPrefix(got, "//") || strings.ContainsAny(got, "\\\t\r\n ") {
			t.Fatalf("SafeNext(%q) = %q", in, got)
		}
	})
}
