package i18n

import (
	"strings"
	"testing"
)

func TestBothLanguagesHaveTheSameMessages(t *testing.T) {
	vi, en := IDs(VI), IDs(EN)
	if len(vi) == 0 || strings.Join(vi, ",") != strings.Join(en, ",") {
		t.Fatalf("vi has %d messages, en %d; they must match", len(vi), len(en))
	}
}

func TestTranslateWithData(t *testing.T) {
	got := For(VI).T("rule.too_long", "Field", For(VI).T("field.name"), "Param", 120)
	if got != "Tên: dài quá 120 ký tự." {
		t.Fatalf("vi: %q", got)
	}
	if got := For("en-US").T("error.forbidden"); got != "You are not allowed to do this." {
		t.Fatalf("en: %q", got)
	}
	if got := For(EN).T("no.such.message"); got != "!no.such.message" {
		t.Fatalf("missing: %q", got)
	}
}

func TestFromAcceptLanguage(t *testing.T) {
	for header, want := range map[string]string{
		"vi": VI, "vi-VN,vi;q=0.9,en;q=0.8": VI, "en-US,en;q=0.9,vi;q=0.5": EN,
		"": EN, "fr-FR": EN, "garbage;;;": EN,
	} {
		if got := FromAcceptLanguage(header); got != want {
			t.Errorf("%q → %s, want %s", header, got, want)
		}
	}
}
