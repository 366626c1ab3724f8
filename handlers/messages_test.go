package handlers_test

import (
	"os"
	"path/filepath"
	"regexp"
	"testing"

	"github.com/hue-cdt/cdt/i18n"
)

// TestEveryMessageKeyInTheCodeExists scans the Go code and templates for
// literal message keys and checks both languages have them.
func TestEveryMessageKeyInTheCodeExists(t *testing.T) {
	re := regexp.MustCompile(`(?:\.L\.T|\bT)\(?\s*"([a-z_]+\.[a-z_0-9.]*[a-z_0-9])"`)
	var files []string
	for _, pat := range []string{"*.go", "*/*.go", "../templates/*.html", "../internal/*/*.go", "../jobs/*.go", "../sheets/*.go"} {
		m, _ := filepath.Glob(pat)
		files = append(files, m...)
	}
	found := 0
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range re.FindAllStringSubmatch(string(b), -1) {
			found++
			for _, lang := range i18n.Langs {
				if !i18n.For(lang).Has(m[1]) {
					t.Errorf("%s: %q missing in %s", f, m[1], lang)
				}
			}
		}
	}
	if found < 50 {
		t.Fatalf("only %d keys found: the scan is broken", found)
	}
}
