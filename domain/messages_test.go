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

func TestRedactionAndConsentMessages(t *testing.T) {
	var ids []string
	for _, m := range (domain.Redaction{Phones: 1, CitizenIDs: 1, Emails: 1}).Messages() {
		ids = append(ids, m.ID)
		if got := i18n.For(i18n.VI).T(m.ID, "N", 2); got == "" || got[0] == '!' {
			t.Errorf("%s: %q", m.ID, got)
		}
	}
	for _, c := range append(domain.Consents, domain.ConsentUnrecorded) {
		ids = append(ids, "consent."+c)
	}
	requireMessages(t, append(ids, "pii.why", "field.consent")...)
}

func TestPrivacyMessages(t *testing.T) {
	var ids []string
	for _, k := range domain.PrivacyKinds {
		ids = append(ids, "privacy.kind."+k, "privacy.kind_help."+k)
	}
	for _, s := range domain.PrivacyStatuses {
		ids = append(ids, "privacy.status."+s)
	}
	requireMessages(t, append(ids, "rule.future_date", "rule.household_objected", "field.kind", "field.received_on",
		"field.contact", "field.reason", "privacy.due", "privacy.left", "privacy.due_today", "privacy.overdue")...)
}
