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
	// DemoRecords is the number of assistance records of the demo, over 90 days.
	DemoRecords = 40_000
)

// SeedRecords writes generated records in bulk and rebuilds the rollups from
// them. It returns the number of records in the rollups.
func (a *App) SeedRecords(ctx context.Context, regs []*domain.CommuneRegistry, o seed.RecordOptions) (int, error) {
	if o.Process == "" {
		o.Process = "seed" + newProcessID()
	}
	o.Hash = a.Ingest.Hash
	// The generator feeds both the database and the rebuild of the rollups,
	// so the records are not read back.
	source := func(ctx context.Context, count func(domain.Record) error) error {
		return seed.Records(regs, o, func(batch []domain.Record) error {
			res, err := a.Store.Assistance.InsertRecords(ctx, batch)
			if err != nil {
				return err
			}
			for i, r := range res {
				if r.Err != nil {
					return r.Err
				}
				if err := count(batch[i]); err != nil {
					return err
				}
			}
			return nil
		})
	}
	return a.Consolidator.RebuildFrom(ctx, map[string]int64{o.Process: 1}, source)
}

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
	if err := a.Store.Trainings.InsertTrainings(ctx, seed.Trainings(regs, seed.HueTrainedShare, demoSeed, refdata.ProvinceCode)); err != nil {
		return fmt.Errorf("demo: trainings: %w", err)
	}
	n, err := a.SeedRecords(ctx, regs, seed.RecordOptions{N: DemoRecords, Days: 90, End: a.Cfg.Now(), Seed: demoSeed})
	if err != nil {
		return fmt.Errorf("demo: records: %w", err)
	}
	if err := a.Store.Settings.Set(ctx, demoLoadedSetting, a.Cfg.Now().UTC().Format(time.RFC3339)); err != nil {
		return err
	}
	a.Log.Info("demo data loaded", "communes", len(regs), "records", n, "ms", time.Since(start).Milliseconds())
	return nil
}
