// Package templates carries the HTML templates and the static files (CSS,
// JavaScript, icons, the web app manifest) inside the binary.
package templates

import "embed"

// FS holds *.html and static/.
//
//go:embed *.html static sw.js.tmpl
var FS embed.FS
