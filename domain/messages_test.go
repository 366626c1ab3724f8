package domain_test

import (
	"strings"
	"testing"
	"time"

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

// TestFlagReasonsRenderInBothLanguages renders the reason of a flag of every
// kind, with its numbers, in Vietnamese and English.
func TestFlagReasonsRenderInBothLanguages(t *testing.T) {
	at := time.Date(2026, 11, 24, 2, 5, 0, 0, time.UTC) // 09:05 in Huế
	e := domain.Evidence{Records: 7, Threshold: 6, Peak: 7, WindowSeconds: 600, From: at, To: at.Add(6 * time.Minute),
		Service: "vneid_activation", Members: []string{"a", "b", "c"}, Communes: []string{"19753", "20179"}, SkewSeconds: -7500,
		Note: "Hỗ trợ kích hoạt", TeamMedian: 2.5, DaysAbove: 3, Days: 7, TrainingTitle: "Tập huấn kỹ năng số"}
	want := map[string][]string{
		domain.FlagBurst:                 {"7", "10", "09:05", "09:11"},
		domain.FlagHouseholdManyMembers:  {"3", "7"},
		domain.FlagHouseholdManyCommunes: {"19753, 20179", "2"},
		domain.FlagClockSkew:             {"2", "5", "7"},
		domain.FlagNightBulk:             {"7", "09:05"},
		domain.FlagRepeatedNote:          {"Hỗ trợ kích hoạt", "7"},
		domain.FlagAboveMedian:           {"7", "2", "5", "3"},
		domain.FlagTrainingDay:           {"7", "Tập huấn kỹ năng số", "09:05"},
	}
	ids := []string{"format.decimal_point"}
	for _, k := range domain.FlagKinds {
		ids = append(ids, "integrity.kind."+k, "integrity.reason."+k)
		f := domain.Flag{Kind: k, Evidence: e}
		if k == domain.FlagClockSkew {
			f.Evidence.Threshold = 3600
		}
		for _, lang := range i18n.Langs {
			got := f.Reason(i18n.For(lang).T)
			if strings.Contains(got, "!") || strings.Contains(got, "<no value>") {
				t.Errorf("%s %s: %q", lang, k, got)
			}
			for _, w := range want[k] {
				if !strings.Contains(got, w) {
					t.Errorf("%s %s: %q lacks %q", lang, k, got, w)
				}
			}
		}
	}
	if vi := (domain.Flag{Kind: domain.FlagAboveMedian, Evidence: e}).Reason(i18n.For(i18n.VI).T); !strings.Contains(vi, "2,5") {
		t.Errorf("Vietnamese decimals take a comma: %q", vi)
	}
	if vi := (domain.Flag{Kind: domain.FlagHouseholdManyMembers, Evidence: e}).Reason(i18n.For(i18n.VI).T); !strings.Contains(vi, "Kích hoạt") {
		t.Errorf("the service is named: %q", vi)
	}
	for _, s := range domain.FlagStatuses {
		ids = append(ids, "integrity.status."+s)
	}
	requireMessages(t, append(ids, "integrity.skew.ahead", "integrity.skew.behind")...)
}
