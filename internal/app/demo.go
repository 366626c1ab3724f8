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

// AddDay stores one more day of generated records the way servers do: in
// batches, each flushed as a delta and consolidated (a server consolidates
// every 15 s during the day). It returns how many it stored and the time the
// consolidations took.
func (a *App) AddDay(ctx context.Context, n int, seedN uint64) (int, time.Duration, error) {
	counts, err := a.Store.Registry.RegistryCounts(ctx)
	if err != nil {
		return 0, 0, err
	}
	var regs []*domain.CommuneRegistry
	for code := range counts {
		reg, err := a.Store.Registry.Registry(ctx, code)
		if err != nil {
			return 0, 0, err
		}
		if len(reg.Members) > 0 {
			regs = append(regs, reg)
		}
	}
	process := "day" + newProcessID()
	var seq int64
	stored := 0
	var consolidating time.Duration
	err = seed.Records(regs, seed.RecordOptions{N: n, Days: 1, End: a.Cfg.Now(), Seed: seedN, Process: process,
		Hash: a.Ingest.Hash}, func(batch []domain.Record) error {
		seq++
		id := domain.DeltaID(process, seq)
		recs := append([]domain.Record(nil), batch...)
		for i := range recs {
			recs[i].Delta = id
		}
		res, err := a.Store.Assistance.InsertRecords(ctx, recs)
		if err != nil {
			return err
		}
		var created []domain.Record
		for i, r := range res {
			if r.Created {
				created = append(created, recs[i])
			}
		}
		stored += len(created)
		if err := a.Store.Rollups.InsertDelta(ctx, domain.Delta{ID: id, Process: process, Seq: seq, At: a.Cfg.Now(), Records: created}); err != nil {
			return err
		}
		t := time.Now()
		err = a.Consolidate(ctx)
		consolidating += time.Since(t)
		return err
	})
	return stored, consolidating, err
}

// ScanRecords times one plain cursor scan of the records with the fields the
// coverage job reads: the database's own limit for a full run.
func (a *App) ScanRecords(ctx context.Context) (int, time.Duration, error) {
	start := time.Now()
	n := 0
	err := a.Store.Assistance.ScanRecords(ctx, func(domain.Record) error { n++; return nil })
	return n, time.Since(start), err
}
