package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/hue-cdt/cdt/domain"
	"github.com/hue-cdt/cdt/internal/app"
	"github.com/hue-cdt/cdt/refdata"
	"github.com/hue-cdt/cdt/seed"
	"github.com/hue-cdt/cdt/sheets"
)

// TestImportTheWholeProvinceTwice writes Huế's generated registry (40
// communes, 1,100 teams, 5,580 members) as a spreadsheet such as communes
// keep, checks it with --dry-run, imports it into an empty embedded
// database with `cdt import registry`, and imports it again: the second run
// finds every row unchanged and writes nothing. The registry read back is
// the one generated. The times are logged for BENCHMARKS.md.
func TestImportTheWholeProvinceTwice(t *testing.T) {
	dir := t.TempDir()
	today := domain.DateOf(time.Now())
	communes := refdata.Catalog().Find(domain.UnitFilter{Level: domain.LevelCommune, AsOf: today})
	regs := seed.Registries(communes, seed.Hue, 1, today)
	sheet := seed.RegistrySheet(regs, communes, 1)
	file := filepath.Join(dir, "dang-ky-hue.xlsx")
	f, err := os.Create(file)
	if err != nil {
		t.Fatal(err)
	}
	head := make([]any, len(sheet[0]))
	for i, h := range sheet[0] {
		head[i] = h
	}
	rows := make([][]any, len(sheet)-1)
	for i, rec := range sheet[1:] {
		rows[i] = make([]any, len(rec))
		for j, v := range rec {
			rows[i][j] = v
		}
	}
	if err := sheets.WriteXLSX(f, sheets.Sheet{Name: "Danh sách", Head: head, Rows: rows, Header: true}); err != nil {
		t.Fatal(err)
	}
	f.Close()
	if len(rows) != seed.Hue.Members {
		t.Fatalf("%d rows", len(rows))
	}
	getenv := func(k string) string { return map[string]string{"CDT_DATA_DIR": filepath.Join(dir, "data")}[k] }
	summary := regexp.MustCompile(`(\d+) rows in ([\d.]+) s: (\d+) created, (\d+) updated, (\d+) unchanged, (\d+) invalid; (\d+) communes written`)
	cdt := func(args ...string) (string, time.Duration) {
		var out, errb syncBuffer
		start := time.Now()
		if err := run(context.Background(), append([]string{"import", "registry", file}, args...), getenv, strings.NewReader(""), &out, &errb); err != nil {
			t.Fatalf("%v\n%s", err, errb.String())
		}
		took := time.Since(start)
		m := summary.FindStringSubmatch(out.String())
		if m == nil {
			t.Fatalf("no summary: %s", out.String())
		}
		return fmt.Sprintf("%s %s/%s/%s/%s %s", m[1], m[3], m[4], m[5], m[6], m[7]), took
	}
	want := fmt.Sprintf("%d %d/0/0/0", seed.Hue.Members, seed.Hue.Members)
	dry, dryTook := cdt("--dry-run", "--quiet")
	if dry != want+" 0" {
		t.Fatalf("dry run: %s, want %s 0", dry, want)
	}
	first, firstTook := cdt("--quiet")
	if first != want+" 40" {
		t.Fatalf("first import: %s, want %s 40", first, want)
	}
	second, secondTook := cdt("--quiet")
	if want := fmt.Sprintf("%d 0/0/%d/0 0", seed.Hue.Members, seed.Hue.Members); second != want {
		t.Fatalf("second import: %s, want %s", second, want)
	}

	cfg, err := app.FromEnv(getenv)
	if err != nil {
		t.Fatal(err)
	}
	a, err := app.Open(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close(context.Background())
	ctx := context.Background()
	counts, err := a.Store.Registry.RegistryCounts(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var teams, members int
	for _, c := range communes {
		n := counts[c.Code]
		teams += n.Teams
		members += n.Members
		if n.Version != 1 {
			t.Errorf("%s: version %d: written %d times", c.Code, n.Version, n.Version)
		}
	}
	if teams != seed.Hue.Teams || members != seed.Hue.Members {
		t.Fatalf("%d teams, %d members", teams, members)
	}
	imported := map[string]*domain.CommuneRegistry{}
	for _, g := range regs {
		r, err := a.Store.Registry.Registry(ctx, g.Code)
		if err != nil {
			t.Fatal(err)
		}
		imported[g.Code] = r
		if got, want := people(r), people(g); got != want {
			t.Fatalf("%s: the registry read back differs from the generated one:\n%s\nwant\n%s", g.Code, got, want)
		}
	}
	// The database's own cost of writing the same 40 registries, in the same run.
	var back []*domain.CommuneRegistry
	for _, g := range regs {
		back = append(back, imported[g.Code])
	}
	start := time.Now()
	if err := a.Store.Registry.ReplaceRegistries(ctx, back); err != nil {
		t.Fatal(err)
	}
	raw := time.Since(start)
	t.Logf("Huế registry, %d rows, embedded database: dry run %.1f s, first import %.1f s, second import %.1f s (whole command, "+
		"database start included); ReplaceRegistries of the 40 registries %.2f s", len(rows), dryTook.Seconds(), firstTook.Seconds(),
		secondTook.Seconds(), raw.Seconds())
}

// people lists a registry's teams and members by what the spreadsheet says
// of them, sorted, for comparison.
func people(r *domain.CommuneRegistry) string {
	teams := map[string]domain.Team{}
	villages := map[string]domain.Village{}
	for _, v := range r.Villages {
		villages[v.Code] = v
	}
	for _, t := range r.Teams {
		teams[t.ID] = t
	}
	var lines []string
	for _, m := range r.Members {
		t := teams[m.TeamID]
		v := villages[t.VillageCode]
		lines = append(lines, strings.Join([]string{t.Name, v.Name, fmt.Sprint(v.Households), t.DecisionNo, string(t.EstablishedOn),
			m.FullName, m.Phone, string(m.Position), m.Affiliation, m.Gender, fmt.Sprint(m.BirthYear)}, "|"))
	}
	sort.Strings(lines)
	return strings.Join(lines, "\n")
}
