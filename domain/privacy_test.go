package domain

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func fakeHash(s string) string { return "h:" + s }

func TestRegisterPrivacyRequest(t *testing.T) {
	at := time.Date(2026, 11, 26, 3, 0, 0, 0, time.UTC) // Thursday in Huế
	in := NewPrivacyRequest{Kind: PrivacyDelete, HouseholdRef: "+84 912 345 678", CommuneCode: "19753",
		ReceivedOn: "2026-11-26", Contact: "  gọi 0912 345 678  ", Note: "bà Lan, số 0912345678"}
	r, err := RegisterPrivacyRequest(in, fakeHash, "xa.phuxuan", at)
	if err != nil {
		t.Fatal(err)
	}
	if r.Household != "h:0912345678" || r.DueOn != "2026-11-30" || r.Status != PrivacyOpen || r.CreatedBy != "xa.phuxuan" ||
		!strings.HasPrefix(r.ID, "19753-PR-") || len(r.ID) != len("19753-PR-")+8 {
		t.Fatalf("request %+v", r)
	}
	if r.Contact != "gọi [SĐT]" || r.Note != "bà Lan, số [SĐT]" {
		t.Fatalf("contact %q note %q (both scrubbed: the paper request keeps the number)", r.Contact, r.Note)
	}
	for _, tc := range []struct {
		name  string
		edit  func(*NewPrivacyRequest)
		field string
	}{
		{"kind", func(n *NewPrivacyRequest) { n.Kind = "correct" }, "kind"},
		{"no reference", func(n *NewPrivacyRequest) { n.HouseholdRef = " " }, "household_ref"},
		{"bad reference", func(n *NewPrivacyRequest) { n.HouseholdRef = "12" }, "household_ref"},
		{"no commune", func(n *NewPrivacyRequest) { n.CommuneCode = "" }, "commune_code"},
		{"no date", func(n *NewPrivacyRequest) { n.ReceivedOn = "" }, "received_on"},
		{"bad date", func(n *NewPrivacyRequest) { n.ReceivedOn = "2026-02-30" }, "received_on"},
		{"tomorrow", func(n *NewPrivacyRequest) { n.ReceivedOn = "2026-11-27" }, "received_on"},
		{"too old", func(n *NewPrivacyRequest) { n.ReceivedOn = "2025-11-25" }, "received_on"},
		{"contact", func(n *NewPrivacyRequest) { n.Contact = strings.Repeat("x", MaxContactLen+1) }, "contact"},
	} {
		bad := in
		tc.edit(&bad)
		_, err := RegisterPrivacyRequest(bad, fakeHash, "x", at)
		var ve *ValidationError
		if !errors.As(err, &ve) || len(ve.Fields) != 1 || ve.Fields[0].Field != tc.field {
			t.Errorf("%s: %v", tc.name, err)
		}
	}
}

func TestPrivacyRequestLifecycleErasesWhatIsNoLongerNeeded(t *testing.T) {
	at := time.Date(2026, 11, 26, 3, 0, 0, 0, time.UTC)
	open := func(kind string) PrivacyRequest {
		r, err := RegisterPrivacyRequest(NewPrivacyRequest{Kind: kind, HouseholdRef: "0912345678", CommuneCode: "19753",
			ReceivedOn: "2026-11-26", Contact: "0912345678"}, fakeHash, "xa", at)
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	for _, kind := range PrivacyKinds {
		r := open(kind)
		if err := r.Fulfil(7, "xa2", at.Add(time.Hour)); err != nil {
			t.Fatal(err)
		}
		if r.Status != PrivacyDone || r.Affected != 7 || r.ClosedBy != "xa2" || r.Contact != "" ||
			(r.Household != "") == (kind != PrivacyObject) || r.Objects() != (kind == PrivacyObject) {
			t.Errorf("%s fulfilled: %+v", kind, r)
		}
		if err := r.Fulfil(1, "x", at); !errors.Is(err, ErrConflict) {
			t.Errorf("%s fulfilled twice: %v", kind, err)
		}
	}
	r := open(PrivacyObject)
	if !r.Objects() {
		t.Fatal("an open objection stands")
	}
	if err := r.Refuse(" ", "xa", at); !errors.Is(err, ErrInvalid) || r.Status != PrivacyOpen {
		t.Fatalf("refused without a reason: %v %+v", err, r)
	}
	if err := r.Refuse("không phải số của hộ, gọi 0987654321", "xa", at); err != nil {
		t.Fatal(err)
	}
	if r.Status != PrivacyRefused || r.Reason != "không phải số của hộ, gọi [SĐT]" || r.Household != "" || r.Objects() {
		t.Fatalf("refused: %+v", r)
	}
}

func TestPrivacyRequestOverdue(t *testing.T) {
	r := PrivacyRequest{Status: PrivacyOpen, ReceivedOn: "2026-11-26", DueOn: DueOn("2026-11-26")}
	end := time.Date(2026, 11, 30, 17, 0, 0, 0, time.UTC) // midnight in Huế
	if r.Overdue(end.Add(-time.Second)) || !r.Overdue(end) || TimeLeft(r.DueOn, end.Add(-time.Minute)) != time.Minute {
		t.Fatalf("overdue at the end of %s", r.DueOn)
	}
	if n := WorkingDaysLeft(r.DueOn, time.Date(2026, 11, 26, 3, 0, 0, 0, time.UTC)); n != 2 {
		t.Fatalf("working days left on the day received: %d", n)
	}
	if n := WorkingDaysLeft(r.DueOn, end.Add(-time.Hour)); n != 0 {
		t.Fatalf("working days left on the due day: %d", n)
	}
	r.Status = PrivacyDone
	if r.Overdue(end.Add(time.Hour)) {
		t.Fatal("a closed request is never overdue")
	}
}
