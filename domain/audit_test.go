package domain

import (
	"fmt"
	"testing"
)

func TestRegistryChangesSayWhatChanged(t *testing.T) {
	reg, m := testRegistry(t)
	before := reg.Clone()
	after := reg.Clone()
	if _, err := after.AddVillage(NewVillage{Name: "Thôn Mới", Type: TypeThon, Households: 90}, now); err != nil {
		t.Fatal(err)
	}
	for i := range after.Villages {
		if after.Villages[i].Code == "19753-001" {
			after.Villages[i].Households = 250
			after.Villages[i].UpdatedAt = now.Add(1)
		}
	}
	for i := range after.Members {
		if after.Members[i].ID == m.ID {
			after.Members[i].Phone = "0905999888"
			after.Members[i].History = append(after.Members[i].History, MemberEvent{Kind: "position"})
		}
	}
	got := map[string]string{}
	for _, e := range RegistryChanges(before, after) {
		if e.Action != AuditRegistryChange || e.CommuneCode != "19753" {
			t.Errorf("%+v", e)
		}
		got[e.Target] = fmt.Sprint(e.Details["kind"], " ", e.Details["op"], " ", e.Changes)
	}
	want := map[string]string{
		"19753-001":   "village changed [{households 200 250}]",
		"19753-002":   "village created [{name  Thôn Mới} {type  thon} {households  90} {active  true}]",
		"19753-M0001": "member changed [{phone 0905111222 0905999888}]",
	}
	if len(got) != len(want) {
		t.Fatalf("changes %v, want %v", got, want)
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s: %q, want %q", k, got[k], v)
		}
	}
	if n := len(RegistryChanges(before, before.Clone())); n != 0 {
		t.Errorf("%d changes without a change", n)
	}
}

func TestSnakeNamesOfFields(t *testing.T) {
	for in, want := range map[string]string{"TeamID": "team_id", "BirthYear": "birth_year", "Households": "households", "VillageCode": "village_code"} {
		if got := snake(in); got != want {
			t.Errorf("snake(%q) = %q, want %q", in, got, want)
		}
	}
}
