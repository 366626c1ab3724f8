package domain

import (
	"errors"
	"fmt"
	"testing"
	"time"
)

func TestVerificationSettleRules(t *testing.T) {
	now := time.Date(2026, 11, 26, 3, 0, 0, 0, time.UTC)
	rec := Record{ID: "19753-M002:c1", MemberID: "19753-M002", TeamID: "19753-T01", CommuneCode: "19753", Service: "hue_s",
		VillageCode: "19753-001", OccurredAt: now.Add(-time.Hour)}
	if _, err := NewVerification(rec, VerifyFromRequest, "  ", "leader.a", now); !errors.Is(err, ErrInvalid) {
		t.Errorf("a request without a reason: %v", err)
	}
	if v, err := NewVerification(rec, VerifyFromSample, "", "", now); err != nil || v.Status != VerifyRequested || v.Service != "hue_s" {
		t.Errorf("a sample needs no reason: %+v %v", v, err)
	}
	v, err := NewVerification(rec, VerifyFromRequest, "Gọi 0905123456 để hỏi", "leader.a", now)
	if err != nil || v.Reason == "Gọi 0905123456 để hỏi" {
		t.Fatalf("reason kept a phone number: %q %v", v.Reason, err)
	}
	village := func(c string) bool { return c == "19753-001" || c == "19753-002" }
	for _, c := range []struct {
		name string
		in   VerificationAnswer
		ok   bool
	}{
		{"confirmed", VerificationAnswer{Status: VerifyConfirmed}, true},
		{"unknown status", VerificationAnswer{Status: "maybe"}, false},
		{"corrected without corrections", VerificationAnswer{Status: VerifyCorrected}, false},
		{"corrections without corrected", VerificationAnswer{Status: VerifyConfirmed, Corrected: Correction{Service: "hue_s"}}, false},
		{"corrected service", VerificationAnswer{Status: VerifyCorrected, Corrected: Correction{Service: "vneid_install"}}, true},
		{"corrected to no such service", VerificationAnswer{Status: VerifyCorrected, Corrected: Correction{Service: "magic"}}, false},
		{"corrected village of the commune", VerificationAnswer{Status: VerifyCorrected, Corrected: Correction{VillageCode: "19753-002"}}, true},
		{"corrected village elsewhere", VerificationAnswer{Status: VerifyCorrected, Corrected: Correction{VillageCode: "20179-001"}}, false},
		{"corrected time in the future", VerificationAnswer{Status: VerifyCorrected, Corrected: Correction{OccurredAt: now.Add(time.Hour)}}, false},
		{"answer too long", VerificationAnswer{Status: VerifyUnreachable, Answer: string(make([]byte, 501))}, false},
	} {
		x := v
		err := x.Settle(c.in, "member.a", now, village)
		if (err == nil) != c.ok {
			t.Errorf("%s: %v", c.name, err)
		}
		if err != nil && x.Status != VerifyRequested {
			t.Errorf("%s: refused but changed to %s", c.name, x.Status)
		}
	}
}

func TestDrawSampleIsReproducibleAndSpreadsOverMembers(t *testing.T) {
	var recs []Record
	for i := range 40 {
		m := "19753-M001" // one busy member and three others
		if i%10 == 0 {
			m = fmt.Sprintf("19753-M00%d", 2+i/10)
		}
		recs = append(recs, Record{ID: fmt.Sprintf("%s:%02d", m, i), MemberID: m})
	}
	a := DrawSample(recs, 5, "19753", "2026-11-16")
	b := DrawSample(recs, 5, "19753", "2026-11-16")
	c := DrawSample(recs, 5, "19753", "2026-11-23")
	if len(a) != 5 || fmt.Sprint(a) != fmt.Sprint(b) {
		t.Fatalf("draws differ: %v / %v", a, b)
	}
	if fmt.Sprint(a) == fmt.Sprint(c) {
		t.Error("two weeks drew the same sample")
	}
	members := map[string]bool{}
	for _, r := range a {
		members[r.MemberID] = true
	}
	if len(members) != 5 {
		t.Errorf("sample covers %d members, want all 5", len(members))
	}
	if got := DrawSample(recs[:3], 5, "19753", "2026-11-16"); len(got) != 3 {
		t.Errorf("fewer records than the sample: %d", len(got))
	}
	if SampleWeek("2026-11-22") != "2026-11-16" || SampleWeek("2026-11-16") != "2026-11-16" || SampleWeek("2026-11-23") != "2026-11-23" {
		t.Error("SampleWeek: weeks start on Monday")
	}
}

func TestVerificationScope(t *testing.T) {
	rec := Record{ID: "19753-M002:c1", MemberID: "19753-M002", TeamID: "19753-T01", CommuneCode: "19753"}
	v := Verification{MemberID: rec.MemberID, TeamID: rec.TeamID, CommuneCode: rec.CommuneCode}
	for _, c := range []struct {
		name        string
		caller      Caller
		ask, answer error
	}{
		{"admin", Caller{Role: RoleProvinceAdmin}, nil, nil},
		{"leader", Caller{Role: RoleCommuneLeader, CommuneCode: "19753"}, nil, nil},
		{"other leader", Caller{Role: RoleCommuneLeader, CommuneCode: "20179"}, ErrNotFound, ErrNotFound},
		{"team leader", Caller{Role: RoleTeamLeader, CommuneCode: "19753", TeamID: "19753-T01", MemberID: "19753-M001"}, nil, nil},
		{"other team leader", Caller{Role: RoleTeamLeader, CommuneCode: "19753", TeamID: "19753-T02", MemberID: "19753-M009"}, ErrNotFound, ErrNotFound},
		{"the member", Caller{Role: RoleMember, CommuneCode: "19753", TeamID: "19753-T01", MemberID: "19753-M002"}, ErrForbidden, nil},
		{"another member", Caller{Role: RoleMember, CommuneCode: "19753", TeamID: "19753-T01", MemberID: "19753-M003"}, ErrForbidden, ErrNotFound},
	} {
		sc := ScopeOf(c.caller)
		if err := sc.AskVerification(rec); !errors.Is(err, c.ask) {
			t.Errorf("%s asks: %v, want %v", c.name, err, c.ask)
		}
		if err := sc.AnswerVerification(v); !errors.Is(err, c.answer) {
			t.Errorf("%s answers: %v, want %v", c.name, err, c.answer)
		}
	}
}

func TestConfirmedAndExcludedFlagStaysConfirmed(t *testing.T) {
	now := time.Now()
	f := Flag{ID: "x", Status: FlagOpen, RecordIDs: []string{"a", "b"}}
	if err := f.Review(FlagReview{Status: FlagConfirmed}, "leader.a", now); err != nil {
		t.Fatal(err)
	}
	if got := f.PendingExclusion(); len(got) != 2 {
		t.Fatalf("pending = %v", got)
	}
	f.Excluded = []string{"a"}
	if got := f.PendingExclusion(); len(got) != 1 || got[0] != "b" {
		t.Errorf("pending = %v", got)
	}
	if err := f.Review(FlagReview{Status: FlagDismissed, Comment: "nhầm"}, "leader.a", now); !errors.Is(err, ErrConflict) {
		t.Errorf("dismissing an excluded flag: %v", err)
	}
}
