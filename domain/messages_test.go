package domain_test

import (
	"testing"

	"github.com/hue-cdt/cdt/domain"
	"github.com/hue-cdt/cdt/i18n"
)

// requireMessages fails for every id missing in Vietnamese or English.
func requireMessages(t *testing.T, ids ...string) {
	t.Helper()
	for _, lang := range i18n.Langs {
		for _, id := range ids {
			if !i18n.For(lang).Has(id) {
				t.Errorf("%s: no message %q", lang, id)
			}
		}
	}
}

func TestHolidayKindsHaveNames(t *testing.T) {
	first, last := domain.HolidayYears()
	var ids []string
	for y := first; y <= last; y++ {
		for _, h := range domain.Holidays(y) {
			ids = append(ids, "holiday."+h.Kind)
		}
	}
	if len(ids) < 11*(last-first+1) {
		t.Fatalf("%d holidays in %d–%d", len(ids), first, last)
	}
	requireMessages(t, ids...)
}
