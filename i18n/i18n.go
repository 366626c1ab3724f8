// Package i18n is cdt's one message catalogue. Every string a user reads goes
// through it, in Vietnamese (the default of the pages) and English (the default
// of the JSON API, as API.md asks). Messages live in locales/*.json.
package i18n

import (
	"embed"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"sync"

	goi18n "github.com/nicksnyder/go-i18n/v2/i18n"
	"golang.org/x/text/language"
)

//go:embed locales/*.json
var files embed.FS

// The two interface languages.
const (
	VI = "vi"
	EN = "en"
)

// Langs lists the languages, Vietnamese first.
var Langs = []string{VI, EN}

var (
	bundle     *goi18n.Bundle
	localizers map[string]*Localizer
	loadOnce   sync.Once
	ids        map[string][]string
)

func load() {
	bundle = goi18n.NewBundle(language.Vietnamese)
	bundle.RegisterUnmarshalFunc("json", json.Unmarshal)
	ids = map[string][]string{}
	localizers = map[string]*Localizer{}
	for _, l := range Langs {
		path := "locales/" + l + ".json"
		if _, err := bundle.LoadMessageFileFS(files, path); err != nil {
			panic(fmt.Sprintf("i18n: %s: %v", path, err))
		}
		raw, _ := files.ReadFile(path)
		var m map[string]any
		_ = json.Unmarshal(raw, &m)
		for k := range m {
			ids[l] = append(ids[l], k)
		}
		sort.Strings(ids[l])
		localizers[l] = &Localizer{lang: l, loc: goi18n.NewLocalizer(bundle, l)}
	}
}

// Localizer translates messages into one language.
type Localizer struct {
	lang string
	loc  *goi18n.Localizer
}

// For returns the localizer of lang (Vietnamese for anything but "en").
func For(lang string) *Localizer {
	loadOnce.Do(load)
	if l, ok := localizers[Normalize(lang)]; ok {
		return l
	}
	return localizers[VI]
}

// Normalize maps any language tag to vi or en.
func Normalize(lang string) string {
	if strings.HasPrefix(strings.ToLower(strings.TrimSpace(lang)), "en") {
		return EN
	}
	return VI
}

// Lang is the localizer's language.
func (l *Localizer) Lang() string { return l.lang }

// T translates message id; args are name, value pairs for its template
// ({{.Name}}). A missing message shows as "!id", which tests look for.
func (l *Localizer) T(id string, args ...any) string {
	var data map[string]any
	if len(args) > 0 {
		data = make(map[string]any, len(args)/2)
		for i := 0; i+1 < len(args); i += 2 {
			data[fmt.Sprint(args[i])] = args[i+1]
		}
	}
	s, err := l.loc.Localize(&goi18n.LocalizeConfig{MessageID: id, TemplateData: data})
	if err != nil {
		return "!" + id
	}
	return s
}

// Has reports whether id exists in the localizer's language.
func (l *Localizer) Has(id string) bool {
	_, err := l.loc.Localize(&goi18n.LocalizeConfig{MessageID: id})
	return err == nil
}

// IDs lists the message IDs of lang.
func IDs(lang string) []string {
	loadOnce.Do(load)
	return append([]string(nil), ids[lang]...)
}

// FromAcceptLanguage picks vi when the header prefers Vietnamese over English,
// en otherwise (the API's rule).
func FromAcceptLanguage(header string) string {
	tags, _, err := language.ParseAcceptLanguage(header)
	if err != nil {
		return EN
	}
	for _, t := range tags {
		base, _ := t.Base()
		switch base.String() {
		case VI:
			return VI
		case EN:
			return EN
		}
	}
	return EN
}
