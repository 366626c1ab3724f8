package domain

import (
	"errors"
	"strings"
	"testing"
	"time"
)

// testRegistry is a commune with one village, one team and one member.
func testRegistry(t *testing.T) (*CommuneRegistry, Member) {
	t.Helper()
	reg := &CommuneRegistry{Code: "19753"}
	v, err := reg.AddVillage(NewVillage{Name: "Tổ dân phố 1", Type: TypeToDanPho, Households: 200}, now)
	if err != nil {
		t.Fatal(err)
	}
	tm, err := reg.AddTeam(NewTeam{Name: "Tổ CNSCĐ TDP 1", VillageCode: v.Code, EstablishedOn: "2025-08-01", DecisionNo: "1/QĐ"}, today, now)
	if err != nil {
		t.Fatal(err)
	}
	m, err := reg.AddMember(NewMember{TeamID: tm.ID, FullName: "Nguyễn Thị Lan", Phone: "0905111222", Position: "member",
		Affiliation: "youth_union", Gender: "f", BirthYear: 1990}, "test", today, now)
	if err != nil {
		t.Fatal(err)
	}
	return reg, m
}

func newRecordInput() NewRecord {
	return NewRecord{ClientID: "7b2f8c1e-0d4a-4f7e-9a51-3c2b1d0e9f88", Service: "vneid_activation", HouseholdRef: "0912 345 678",
		VillageCode: "19753-001", OccurredAt: now.Add(-time.Hour).Format("2006-01-02T15:04:05Z07:00"), Outcome: "done"}
}

func TestRecordForConsent(t *testing.T) {
	reg, m := testRegistry(t)
	t.Run("AbsentIsUnrecordedAndHashedAsInV1", func(t *testing.T) {
		rec, ref, err := RecordFor(newRecordInput(), m, reg, "lan", now, 0)
		if err != nil || ref != "0912345678" || rec.Consent != ConsentUnrecorded {
			t.Fatalf("rec %+v ref %q err %v", rec, ref, err)
		}
	})
	t.Run("GivenKeepsTheReference", func(t *testing.T) {
		in := newRecordInput()
		in.Consent = ConsentGiven
		rec, ref, err := RecordFor(in, m, reg, "lan", now, 0)
		if err != nil || ref != "0912345678" || rec.Consent != ConsentGiven {
			t.Fatalf("rec %+v ref %q err %v", rec, ref, err)
		}
	})
	t.Run("RefusedDiscardsTheReferenceEvenWhenTyped", func(t *testing.T) {
		for _, typed := range []string{"", "0912 345 678", "not a reference!"} {
			in := newRecordInput()
			in.Consent, in.HouseholdRef = ConsentRefused, typed
			rec, ref, err := RecordFor(in, m, reg, "lan", now, 0)
			if err != nil || ref != "" || rec.Household != "" || rec.Consent != ConsentRefused {
				t.Fatalf("typed %q: rec %+v ref %q err %v", typed, rec, ref, err)
			}
		}
	})
	t.Run("GivenStillNeedsAValidReference", func(t *testing.T) {
		in := newRecordInput()
		in.Consent, in.HouseholdRef = ConsentGiven, ""
		_, _, err := RecordFor(in, m, reg, "lan", now, 0)
		var ve *ValidationError
		if !errors.As(err, &ve) || len(ve.Fields) != 1 || ve.Fields[0].Field != "household_ref" {
			t.Fatalf("err %v", err)
		}
	})
	t.Run("UnknownValueIsRefused", func(t *testing.T) {
		in := newRecordInput()
		in.Consent = "yes"
		_, _, err := RecordFor(in, m, reg, "lan", now, 0)
		if err == nil || !strings.Contains(err.Error(), "consent: one_of") {
			t.Fatalf("err %v", err)
		}
	})
}

func TestRecordForRemovesPersonalDataFromTheNote(t *testing.T) {
	reg, m := testRegistry(t)
	in := newRecordInput()
	in.Note = "  gọi lại 0912 345 678,  CCCD 046095001234, gửi lan@gmail.com; phí 1.200.000đ ngày 12/03/2026 "
	rec, _, err := RecordFor(in, m, reg, "lan", now, 0)
	if err != nil {
		t.Fatal(err)
	}
	if rec.Note != "gọi lại [SĐT], CCCD [CCCD], gửi [email]; phí 1.200.000đ ngày 12/03/2026" ||
		rec.NoteRedaction != (Redaction{Phones: 1, CitizenIDs: 1, Emails: 1}) {
		t.Fatalf("note %q redaction %+v", rec.Note, rec.NoteRedaction)
	}
	in.Note = strings.Repeat("a", MaxNoteLen-6) + " 0912345678" // 505 typed, 500 once the number is gone
	if rec, _, err := RecordFor(in, m, reg, "lan", now, 0); err != nil || len([]rune(rec.Note)) != MaxNoteLen {
		t.Fatalf("note of %d runes: %v", len([]rune(rec.Note)), err)
	}
	in.Note = strings.Repeat("a", MaxNoteLen+1)
	if _, _, err := RecordFor(in, m, reg, "lan", now, 0); err == nil || !strings.Contains(err.Error(), "note: too_long") {
		t.Fatalf("too long: %v", err)
	}
}
