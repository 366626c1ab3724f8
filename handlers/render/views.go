// Package render draws cdt's pages: the templates of templates/ with the data
// every page receives, numbers and days as Vietnamese readers write them, and
// SVG charts drawn on the server. The pages and the field app render through
// it; it decides nothing about access.
package render

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"html/template"
	"io/fs"
	"strings"
	"sync"
	"time"

	"github.com/hue-cdt/cdt/domain"
	"github.com/hue-cdt/cdt/i18n"
	"github.com/hue-cdt/cdt/templates"
)

// views holds the parsed templates, one set per page (base layout + page).
type views struct {
	once   sync.Once
	err    error
	sets   map[string]map[string]*template.Template // language → page → its set
	static map[string]string                        // file → URL with a content hash, for caching
}

// layouts are the templates every page is parsed with; every other *.html of
// templates/ is a page.
var layouts = []string{"base.html", "partials.html"}

var pageViews views

func (v *views) load() error {
	v.once.Do(func() {
		if v.static, v.err = staticURLs(); v.err != nil {
			return
		}
		pages, err := fs.Glob(templates.FS, "*.html")
		if err != nil {
			v.err = err
			return
		}
		// One set per language: num, pct and date write in the page's language.
		v.sets = map[string]map[string]*template.Template{}
		for _, lang := range i18n.Langs {
			funcs := v.funcs(lang)
			v.sets[lang] = map[string]*template.Template{}
			for _, name := range pages {
				if name == layouts[0] || name == layouts[1] {
					continue
				}
				t, err := template.New(name).Funcs(funcs).ParseFS(templates.FS, append(append([]string(nil), layouts...), name)...)
				if err != nil {
					v.err = fmt.Errorf("template %s: %w", name, err)
					return
				}
				v.sets[lang][name] = t
			}
		}
	})
	return v.err
}

// staticURLs gives every static file a URL with its content hash.
func staticURLs() (map[string]string, error) {
	out := map[string]string{}
	err := fs.WalkDir(templates.FS, "static", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(templates.FS, p)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(b)
		name := strings.TrimPrefix(p, "static/")
		out[name] = "/static/" + name + "?v=" + hex.EncodeToString(sum[:4])
		return nil
	})
	return out, err
}

func (v *views) funcs(lang string) template.FuncMap {
	return template.FuncMap{
		"static": func(name string) string {
			if u, ok := v.static[name]; ok {
				return u
			}
			return "/static/" + name
		},
		"num":     func(n int) string { return Num(lang, n) },
		"pct":     func(f float64) string { return Pct(lang, f) },
		"dec":     func(f float64) string { return Dec(lang, f) },
		"date":    func(t time.Time) string { return DateTime(lang, t) },
		"isAdmin": func(c domain.Caller) bool { return domain.ScopeOf(c).Admin() },
		"json":    jsonAttr,
		"day":     FormatDay,
		"add":     func(a, b int) int { return a + b },
		"meter":   Meter,
		"bar":     BarWidth,
		"list":    func(v ...any) []any { return v }, // several arguments for a sub-template
	}
}

// StaticURLs maps each static file to its URL with a content hash.
func StaticURLs() (map[string]string, error) {
	if err := pageViews.load(); err != nil {
		return nil, err
	}
	return pageViews.static, nil
}

// jsonAttr encodes v for a data- attribute or a script block.
func jsonAttr(v any) template.JS {
	b, _ := json.Marshal(v)
	return template.JS(b)
}
