package fieldapp

import (
	"strings"
	"testing"

	"github.com/hue-cdt/cdt/i18n"
)

// The sentences app.js shows exist in both languages, with their
// placeholders left for app.js.
func TestAppMessagesExist(t *testing.T) {
	for _, lang := range i18n.Langs {
		msgs := messages(i18n.For(lang))
		for k, v := range msgs {
			if strings.HasPrefix(v, "!") || strings.Contains(v, "<no value>") {
				t.Errorf("%s: %s is %q", lang, k, v)
			}
		}
		if !strings.Contains(msgs["app.saved_what"], "{{.Service}}") || !strings.Contains(msgs["app.queue_others"], "{{.N}}") {
			t.Errorf("%s: placeholders filled on the server: %q", lang, msgs["app.saved_what"])
		}
	}
}
