package httpx

import (
	"net/url"
	"strings"
)

// maxNext bounds a redirect target; the longest path of the site is far shorter.
const maxNext = 2048

// SafeNext returns next when it is a path of this site to send a browser to
// (after signing in, after a language switch), and "/" otherwise. It is the
// one check of every redirect target that comes from a request.
//
// Only a path is kept: it starts with one "/" and holds printable ASCII; it
// has no scheme, host or user; no backslash (browsers read "/\evil" as
// "//evil"), no control character or space (browsers drop tabs and newlines,
// so "/\t/evil" is "//evil" too), and no encoded slash or backslash (%2F,
// %5C), which a proxy or a later decoding could turn into one.
func SafeNext(next string) string {
	if !localPath(next) {
		return "/"
	}
	return next
}

func localPath(p string) bool {
	if len(p) == 0 || len(p) > maxNext || p[0] != '/' || strings.HasPrefix(p, "//") {
		return false
	}
	for i := 0; i < len(p); i++ {
		if c := p[i]; c <= ' ' || c >= 0x7f || c == '\\' {
			return false
		}
	}
	lower := strings.ToLower(p)
	if strings.Contains(lower, "%2f") || strings.Contains(lower, "%5c") {
		return false
	}
	u, err := url.Parse(p)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil || u.Opaque != "" {
		return false
	}
	// Decoded once, the path must still be plain: no control character,
	// space or backslash hidden behind a percent sign.
	dec, err := url.PathUnescape(u.EscapedPath())
	if err != nil || strings.HasPrefix(dec, "//") {
		return false
	}
	for i := 0; i < len(dec); i++ {
		if c := dec[i]; c < ' ' || c == 0x7f || c == '\\' {
			return false
		}
	}
	return true
}
