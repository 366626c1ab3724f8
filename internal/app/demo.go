package app

import (
	"context"
	"fmt"
	"time"

	"github.com/hue-cdt/cdt/domain"
	"github.com/hue-cdt/cdt/refdata"
	"github.com/hue-cdt/cdt/seed"
)

// Demo logins, listed in the README. They exist only with CDT_DEMO=true.
const (
	DemoPassword      = "demo12345"
	DemoProvince      = "demo.tinh"
	DemoCommune       = "demo.xa"
	DemoTeamLeader    = "demo.totruong"
	DemoMember        = "demo.thanhvien"
	DemoCommuneCode   = "19753" // Phường Phú Xuân
	demoSeed          = 20251
	demoLoadedSetting = "demo_loaded"
)

// loadDemo loads the demo data set once, on the first start with CDT_DEMO=true.
func (a *App) loadDemo(ctx context.Context) error {
	if _, ok, err := a.Store.Settings.Get(ctx, demoLoadedSetting); err != nil || ok {
		return err
	}
	start := time.Now()
	today := domain.DateOf(a.Cfg.Now())
	communes := a.Units.Find(domain.UnitFilter{Level: domain.LevelCommune, AsOf: today})
	regs := seed.Registries(communes, seed.Hue, demoSeed, today)
	if err := a.Store.Registry.ReplaceRegistries(ctx, regs); err != nil {
		return fmt.Errorf("demo: registries: %w", err)
	}
	var reg *domain.CommuneRegistry
	for _, r := range regs {
		if r.Code == DemoCommuneCode {
			reg = r
		}
	}
	team := reg.Teams[0]
	var leader, member string
	for _, m := range reg.Members {
		switch {
		case m.TeamID == team.ID && m.Position == domain.PositionLeader && leader == "":
			leader = m.ID
		case m.TeamID == team.ID && m.Position == domain.PositionMember && member == "":
			member = m.ID
		}
	}
	logins := []struct {
		name         string
		role         domain.Role
		unit, member string
	}{
		{DemoProvince, domain.RoleProvinceAdmin, refdata.ProvinceCode, ""},
		{DemoCommune, domain.RoleCommuneLeader, DemoCommuneCode, ""},
		{DemoTeamLeader, domain.RoleTeamLeader, DemoCommuneCode, leader},
		{DemoMember, domain.RoleMember, DemoCommuneCode, member},
	}
	for _, l := range logins {
		if err := a.CreateUser(ctx, l.name, DemoPassword, l.role, l.unit, l.member, "demo"); err != nil {
			return fmt.Errorf("demo: login %s: %w", l.name, err)
		}
	}
	if err := a.Store.Settings.Set(ctx, demoLoadedSetting, a.Cfg.Now().UTC().Format(time.RFC3339)); err != nil {
		return err
	}
	a.Log.Info("demo data loaded", "communes", len(regs), "ms", time.Since(start).Milliseconds())
	return nil
}
