package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/hue-cdt/cdt/domain"
	"github.com/hue-cdt/cdt/i18n"
	"github.com/hue-cdt/cdt/internal/app"
	"github.com/hue-cdt/cdt/sheets"
)

// importCmd imports a registry spreadsheet:
// cdt import registry FILE [--commune CODE] [--dry-run] [--quiet].
// Without --commune every row names its commune; with it, rows that name
// none go to CODE and rows of another commune are invalid. Messages are in
// Vietnamese unless LANG asks for English.
func importCmd(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "registry" {
		return errors.New("usage: cdt import registry FILE [--commune CODE] [--dry-run]")
	}
	fs := newFlagSet("import registry", stderr)
	config := configFlags(fs, getenv)
	commune := fs.String("commune", "", "the commune of rows that name none; rows of another commune are refused")
	dry := fs.Bool("dry-run", false, "check every row and write nothing")
	quiet := fs.Bool("quiet", false, "no progress bar")
	// The file may come before or after the flags.
	var file string
	rest := args[1:]
	if len(rest) > 0 && !strings.HasPrefix(rest[0], "-") {
		file, rest = rest[0], rest[1:]
	}
	if err := fs.Parse(rest); err != nil {
		return err
	}
	switch {
	case file == "" && fs.NArg() == 1:
		file = fs.Arg(0)
	case fs.NArg() > 0:
		file = ""
	}
	if file == "" {
		return errors.New("usage: cdt import registry FILE [--commune CODE] [--dry-run]")
	}
	data, err := os.ReadFile(file)
	if err != nil {
		return err
	}
	l := i18n.For(getenv("LANG"))
	records, err := sheets.Read(filepath.Base(file), data)
	if err == nil {
		var rows []domain.ImportRow
		if rows, err = domain.ImportRows(records); err == nil {
			return importRows(ctx, rows, *commune, *dry, *quiet, config, l, stdout, stderr)
		}
	}
	return fmt.Errorf("%s: %s", file, problems(l, err))
}

func importRows(ctx context.Context, rows []domain.ImportRow, commune string, dry, quiet bool, config func() (app.Config, error),
	l *i18n.Localizer, stdout, stderr io.Writer) error {
	start := time.Now()
	a, _, err := openTool(ctx, config, stdout, stderr)
	if err != nil {
		return err
	}
	defer a.Close(context.Background())
	today := domain.DateOf(a.Cfg.Now())
	im := domain.RegistryImport{Rows: rows, Communes: a.Units.Find(domain.UnitFilter{Level: domain.LevelCommune, AsOf: today}),
		Default: commune, By: "cli", Today: today, Now: a.Cfg.Now()}
	if commune != "" {
		if _, ok := a.Units.Commune(commune, today); !ok {
			return fmt.Errorf("--commune %s: not a commune of today", commune)
		}
		im.Allow = func(c string) error {
			if c != commune {
				return domain.ErrForbidden
			}
			return nil
		}
	}
	bar := newBar(len(rows), "rows", quiet, stderr)
	rep, err := im.Run(ctx, a.Store.Registry, dry, func(n int) { _ = bar.Add(n) })
	_ = bar.Finish()
	if err != nil {
		return err
	}
	for i, r := range rep.Rows {
		if r.Status == domain.ImportInvalid {
			in := rep.Input[i]
			fmt.Fprintf(stdout, "%d\t%s\t%s\t%s\n", r.Row, in.FullName, in.Phone, problems(l, &domain.ValidationError{Fields: r.Errors}))
		}
	}
	s := rep.Summary
	verb := "imported"
	if dry {
		verb = "checked (dry run, nothing written)"
	}
	fmt.Fprintf(stdout, "%s %d rows in %.1f s: %d created, %d updated, %d unchanged, %d invalid; %d communes written\n",
		verb, s.Rows, time.Since(start).Seconds(), s.Create, s.Update, s.Unchanged, s.Invalid, len(rep.Written))
	return nil
}

// problems translates the field errors of err; other errors as they are.
func problems(l *i18n.Localizer, err error) string {
	var ve *domain.ValidationError
	if !errors.As(err, &ve) {
		return err.Error()
	}
	var out []string
	for _, f := range ve.Fields {
		label := f.Field
		if l.Has("field." + f.Field) {
			label = l.T("field." + f.Field)
		}
		out = append(out, l.T("rule."+f.Code, "Field", label, "Param", f.Param))
	}
	return strings.Join(out, " ")
}
