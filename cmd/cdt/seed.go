package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/schollz/progressbar/v3"

	"github.com/hue-cdt/cdt/domain"
	"github.com/hue-cdt/cdt/internal/app"
	"github.com/hue-cdt/cdt/refdata"
	"github.com/hue-cdt/cdt/seed"
)

// seedCmd writes a generated data set into the configured database:
// cdt seed --scale hue|national [--records N] [--days D] [--seed N] [--replace]
// [--plant-integrity [--truth FILE]].
func seedCmd(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := newFlagSet("seed", stderr)
	config := configFlags(fs, getenv)
	scale := fs.String("scale", "hue", "hue (1,100 teams, 5,580 members) or national (3,321 communes, 74,000 teams, 340,000 members)")
	records := fs.Int("records", 0, "assistance records to generate (default: 100,000 for hue, none for national)")
	days := fs.Int("days", 90, "spread the records over this many days before now")
	seedN := fs.Uint64("seed", 1, "random seed: the same seed gives the same data")
	replace := fs.Bool("replace", false, "drop the database first (it must otherwise hold no teams)")
	quiet := fs.Bool("quiet", false, "no progress bar")
	plant := fs.Bool("plant-integrity", false, "mix integrity patterns (bursts, shared households, night bulk, skewed clocks, repeated notes, padding members, records during trainings) into the records, with courses during the period")
	truthFile := fs.String("truth", "planted-integrity.json", "with --plant-integrity: where to write which records were planted, per kind")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *scale != "hue" && *scale != "national" {
		return fmt.Errorf("--scale: want hue or national, got %q", *scale)
	}
	if *records == 0 && *scale == "hue" && !flagSet(fs, "records") {
		*records = 100_000
	}
	if *records < 0 || *days < 1 || *days > 90 {
		return errors.New("--records must be ≥ 0 and --days between 1 and 90 (records older than 90 days are refused)")
	}
	start := time.Now()
	a, cfg, err := openTool(ctx, config, stdout, stderr)
	if err != nil {
		return err
	}
	if *replace {
		if err := a.Store.Drop(ctx); err != nil {
			a.Close(context.Background())
			return err
		}
		a.Close(context.Background())
		if a, err = app.Open(ctx, cfg); err != nil {
			return err
		}
	}
	defer a.Close(context.Background())
	counts, err := a.Store.Registry.RegistryCounts(ctx)
	if err != nil {
		return err
	}
	for code, c := range counts {
		if c.Teams > 0 {
			return fmt.Errorf("the database already holds teams (commune %s): use --replace to start from an empty one", code)
		}
	}
	today := domain.DateOf(a.Cfg.Now())
	communes := a.Units.Find(domain.UnitFilter{Level: domain.LevelCommune, AsOf: today})
	shape := seed.Hue
	if *scale == "national" {
		extra := seed.SyntheticUnits(seed.NationalCommunes-len(communes), *seedN)
		if err := a.Store.Units.SaveExtraUnits(ctx, extra); err != nil {
			return err
		}
		a.Units = domain.NewUnitCatalog(append(refdata.Catalog().All(), extra...))
		communes = a.Units.Find(domain.UnitFilter{Level: domain.LevelCommune, AsOf: today})
		shape = seed.National
	}
	fmt.Fprintf(stderr, "generating %d communes, %d villages, %d teams, %d members…\n", len(communes), shape.Villages, shape.Teams, shape.Members)
	regs := seed.Registries(communes, shape, *seedN, today)
	bar := newBar(len(regs), "registries", *quiet, stderr)
	for i := 0; i < len(regs); i += 200 {
		if err := a.Store.Registry.ReplaceRegistries(ctx, regs[i:min(i+200, len(regs))]); err != nil {
			return err
		}
		_ = bar.Add(min(200, len(regs)-i))
	}
	_ = bar.Finish()
	ts := seed.Trainings(regs, seed.HueTrainedShare, *seedN, refdata.ProvinceCode)
	if err := a.Store.Trainings.InsertTrainings(ctx, ts); err != nil {
		return err
	}
	n := 0
	if *records > 0 {
		opts := seed.RecordOptions{N: *records, Days: *days, End: a.Cfg.Now(), Seed: *seedN}
		var truth plantedTruth
		if *plant {
			first := domain.DateOf(opts.End.Add(-time.Duration(*days) * 24 * time.Hour))
			courses := seed.PeriodTrainings(regs, first, domain.DateOf(opts.End), *seedN, refdata.ProvinceCode)
			if err := a.Store.Trainings.InsertTrainings(ctx, courses); err != nil {
				return err
			}
			ts = append(ts, courses...)
			truth = plantedTruth{Seed: *seedN, Planted: map[string][]string{}}
			opts.Trainings = courses
			opts.Plant = &seed.Plant{Planted: func(id, kind string) { truth.Planted[kind] = append(truth.Planted[kind], id) }}
		}
		bar := newBar(*records, "records", *quiet, stderr)
		opts.Progress = func(k int) { _ = bar.Add(k) }
		n, err = a.SeedRecords(ctx, regs, opts)
		_ = bar.Finish()
		if err != nil {
			return err
		}
		if *plant {
			if err := truth.write(*truthFile, n); err != nil {
				return err
			}
			fmt.Fprintf(stdout, "planted %d records (%s): ground truth in %s\n", truth.count(), truth.summary(), *truthFile)
		}
	}
	fmt.Fprintf(stdout, "seeded %s: %d communes, %d teams, %d members, %d trainings, %d records in %.1f s\n", *scale, len(regs),
		shape.Teams, shape.Members, len(ts), n, time.Since(start).Seconds())
	return nil
}

func newBar(n int, what string, quiet bool, w io.Writer) *progressbar.ProgressBar {
	if quiet {
		return progressbar.DefaultSilent(int64(n))
	}
	return progressbar.NewOptions(n, progressbar.OptionSetWriter(w), progressbar.OptionSetDescription(what),
		progressbar.OptionShowCount(), progressbar.OptionShowIts(), progressbar.OptionSetItsString("docs"),
		progressbar.OptionThrottle(200*time.Millisecond), progressbar.OptionOnCompletion(func() { fmt.Fprintln(w) }))
}

// plantedTruth is the ground truth of --plant-integrity: which records were
// planted, per flag kind.
type plantedTruth struct {
	Seed    uint64              `json:"seed"`
	Records int                 `json:"records"` // records stored, planted ones included
	Planted map[string][]string `json:"planted"` // kind → record IDs
}

func (p *plantedTruth) count() int {
	n := 0
	for _, ids := range p.Planted {
		n += len(ids)
	}
	return n
}

func (p *plantedTruth) summary() string {
	var parts []string
	for _, k := range domain.FlagKinds {
		parts = append(parts, fmt.Sprintf("%s %d", k, len(p.Planted[k])))
	}
	return strings.Join(parts, ", ")
}

func (p *plantedTruth) write(path string, records int) error {
	p.Records = records
	b, err := json.MarshalIndent(p, "", " ")
	if err != nil {
		return err
	}
	if err := os.WriteFile(path, append(b, '\n'), 0o644); err != nil {
		return fmt.Errorf("--truth: %w", err)
	}
	return nil
}
