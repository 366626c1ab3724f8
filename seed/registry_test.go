package seed

import (
	"testing"

	"github.com/hue-cdt/cdt/domain"
	"github.com/hue-cdt/cdt/refdata"
)

func TestHueRegistryHasTheReportedShape(t *testing.T) {
	communes := refdata.Catalog().Find(domain.UnitFilter{Level: domain.LevelCommune, AsOf: "2026-11-21"})
	regs := Registries(communes, Hue, 1, "2026-11-21")
	var villages, teams, members, leaders int
	phones := map[string]bool{}
	for _, r := range regs {
		c := r.Count()
		villages += c.Villages
		teams += c.Teams
		members += c.Members
		if c.Teams == 0 || c.Villages < c.Teams {
			t.Fatalf("%s: %+v", r.Code, c)
		}
		for _, m := range r.Members {
			if m.Position == domain.PositionLeader {
				leaders++
			}
			if phones[m.Phone] {
				t.Fatalf("phone %s used twice", m.Phone)
			}
			phones[m.Phone] = true
		}
	}
	if len(regs) != 40 || villages != Hue.Villages || teams != Hue.Teams || leaders != teams {
		t.Fatalf("communes=%d villages=%d teams=%d leaders=%d", len(regs), villages, teams, leaders)
	}
	if members != Hue.Members {
		t.Fatalf("members = %d, want %d", members, Hue.Members)
	}
	again := Registries(communes, Hue, 1, "2026-11-21")
	if again[7].Members[3].FullName != regs[7].Members[3].FullName || again[7].Members[3].Phone != regs[7].Members[3].Phone {
		t.Fatal("the same seed gave different data")
	}
}

func TestHueTrainingHistoryMatchesTheProvinceCount(t *testing.T) {
	communes := refdata.Catalog().Find(domain.UnitFilter{Level: domain.LevelCommune, AsOf: "2026-11-21"})
	regs := Registries(communes, Hue, 1, "2026-11-21")
	ts := Trainings(regs, HueTrainedShare, 1, "46")
	p := domain.ComputeProgress(regs, domain.TrainedMembers(ts))
	if p.TeamsTotal != 1100 || p.TeamsTrained != 866 {
		t.Fatalf("teams trained %d of %d, want 866 of 1100", p.TeamsTrained, p.TeamsTotal)
	}
	if p.MembersTrained < 866 || p.ByTopic["team_operations"] == 0 {
		t.Fatalf("members trained %d, by topic %v", p.MembersTrained, p.ByTopic)
	}
}
