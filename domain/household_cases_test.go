package domain_test

import (
	"encoding/json"
	"os"
	"testing"

	"github.com/hue-cdt/cdt/domain"
)

// HouseholdCase is one line of testdata/household_refs.json: what
// NormalizeHouseholdRef makes of a typed reference ("" for a refusal). The
// field app's check (templates/static/app.js) runs on the same table in a
// Chromium test, so the phone and the server refuse the same typos.
type HouseholdCase struct {
	In   string `json:"in"`
	Out  string `json:"out"`
	Note string `json:"note,omitempty"`
}

func TestHouseholdRefTable(t *testing.T) {
	b, err := os.ReadFile("testdata/household_refs.json")
	if err != nil {
		t.Fatal(err)
	}
	var cases []HouseholdCase
	if err := json.Unmarshal(b, &cases); err != nil {
		t.Fatal(err)
	}
	if len(cases) < 30 {
		t.Fatalf("only %d cases", len(cases))
	}
	for _, c := range cases {
		got, ok := domain.NormalizeHouseholdRef(c.In)
		if !ok {
			got = ""
		}
		if got != c.Out || ok != (c.Out != "") {
			t.Errorf("NormalizeHouseholdRef(%q) = %q, %v; the table says %q (%s)", c.In, got, ok, c.Out, c.Note)
		}
	}
}
