// Package export writes records as CSV or XLSX as they stream from the
// record lists: one row per record, memory that does not grow with the
// number of rows, never a household reference or hash.
package export

import (
	"bufio"
	"context"
	"encoding/csv"
	"fmt"
	"io"
	"time"

	"github.com/xuri/excelize/v2"

	"github.com/hue-cdt/cdt/domain"
	"github.com/hue-cdt/cdt/i18n"
)

// Source calls fn with the records to export, in order, until fn returns
// false (domain.RecordStream's EachRecord with its filter bound).
type Source func(ctx context.Context, fn func(domain.Record) (bool, error)) error

// Registries gives the registry of a commune, for the names of members,
// teams and villages (records of communes no longer current show codes only).
type Registries func(ctx context.Context, commune string) (*domain.CommuneRegistry, error)

// columns are the export's columns: message IDs of their headers.
var columns = []string{"rec.id", "rec.day", "rec.occurred_at", "rec.recorded_at", "export.commune_code", "export.village_code",
	"export.village", "rec.team_id", "rec.team", "rec.member_id", "rec.member_name", "rec.service", "rec.service_name",
	"rec.outcome", "rec.gender", "rec.age_group", "rec.place"}

// Header is the header row in the language of l.
func Header(l *i18n.Localizer) []string {
	out := make([]string, len(columns))
	for i, c := range columns {
		out[i] = l.T(c)
	}
	return out
}

// rows turns records into rows, with names from the registries and labels
// translated once per code.
type rows struct {
	l      *i18n.Localizer
	regs   Registries
	cache  map[string]*domain.CommuneRegistry
	labels map[string]string
}

func newRows(l *i18n.Localizer, regs Registries) *rows {
	return &rows{l: l, regs: regs, cache: map[string]*domain.CommuneRegistry{}, labels: map[string]string{}}
}

func (w *rows) label(prefix, code string) string {
	if code == "" {
		return ""
	}
	k := prefix + code
	if v, ok := w.labels[k]; ok {
		return v
	}
	v := w.l.T(k)
	if len(v) > 0 && v[0] == '!' {
		v = code // a code the catalogue does not know (yet)
	}
	w.labels[k] = v
	return v
}

func (w *rows) registry(ctx context.Context, commune string) *domain.CommuneRegistry {
	reg, ok := w.cache[commune]
	if !ok {
		reg, _ = w.regs(ctx, commune) // names are a courtesy: codes stand without them
		w.cache[commune] = reg
	}
	return reg
}

func (w *rows) row(ctx context.Context, r domain.Record) []string {
	var member, team, village string
	if reg := w.registry(ctx, r.CommuneCode); reg != nil {
		if m, ok := reg.Member(r.MemberID); ok {
			member = m.FullName
		}
		if t, ok := reg.Team(r.TeamID); ok {
			team = t.Name
		}
		if v, ok := reg.Village(r.VillageCode); ok {
			village = v.Name
		}
	}
	local := func(t time.Time) string { return t.In(domain.Location).Format("2006-01-02 15:04:05") }
	return []string{r.ID, string(r.Day), local(r.OccurredAt), local(r.RecordedAt), r.CommuneCode, r.VillageCode, village,
		r.TeamID, team, r.MemberID, member, r.Service, w.label("service.", r.Service), w.label("outcome.", r.Outcome),
		w.label("gender.", r.Gender), w.label("age.", r.AgeGroup), w.label("place.", r.Place)}
}

// CSV writes the records as CSV (UTF-8 with a BOM, so that Excel reads
// Vietnamese), flushing every thousand rows. It returns how many it wrote.
func CSV(ctx context.Context, out io.Writer, l *i18n.Localizer, regs Registries, src Source) (int, error) {
	bw := bufio.NewWriterSize(out, 64<<10)
	if _, err := bw.WriteString("\ufeff"); err != nil {
		return 0, err
	}
	cw := csv.NewWriter(bw)
	if err := cw.Write(Header(l)); err != nil {
		return 0, err
	}
	w := newRows(l, regs)
	n := 0
	err := src(ctx, func(r domain.Record) (bool, error) {
		if err := cw.Write(w.row(ctx, r)); err != nil {
			return false, err
		}
		if n++; n%1000 == 0 {
			cw.Flush()
			if err := bw.Flush(); err != nil {
				return false, err
			}
			if f, ok := out.(interface{ Flush() }); ok {
				f.Flush()
			}
		}
		return true, nil
	})
	if err != nil {
		return n, err
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return n, err
	}
	return n, bw.Flush()
}

// XLSX writes the records as one sheet with excelize's stream writer, which
// keeps rows on disk rather than in memory; the workbook goes out once the
// last row is in. It returns how many rows it wrote.
func XLSX(ctx context.Context, out io.Writer, l *i18n.Localizer, regs Registries, src Source) (int, error) {
	f := excelize.NewFile()
	defer f.Close()
	sheet := l.T("export.sheet_records")
	if err := f.SetSheetName("Sheet1", sheet); err != nil {
		return 0, err
	}
	sw, err := f.NewStreamWriter(sheet)
	if err != nil {
		return 0, err
	}
	bold, err := f.NewStyle(&excelize.Style{Font: &excelize.Font{Bold: true}})
	if err != nil {
		return 0, err
	}
	_ = sw.SetColWidth(1, 1, 48)
	_ = sw.SetColWidth(3, 4, 20)
	_ = sw.SetColWidth(11, 11, 26)
	head := Header(l)
	cells := make([]any, len(head))
	for i, h := range head {
		cells[i] = excelize.Cell{StyleID: bold, Value: h}
	}
	if err := sw.SetPanes(&excelize.Panes{Freeze: true, YSplit: 1, TopLeftCell: "A2", ActivePane: "bottomLeft"}); err != nil {
		return 0, err
	}
	if err := sw.SetRow("A1", cells, excelize.RowOpts{Height: 30}); err != nil {
		return 0, err
	}
	w := newRows(l, regs)
	n := 0
	row := make([]any, len(head))
	err = src(ctx, func(r domain.Record) (bool, error) {
		for i, v := range w.row(ctx, r) {
			row[i] = v
		}
		n++
		cell, err := excelize.CoordinatesToCellName(1, n+1)
		if err != nil {
			return false, err
		}
		return true, sw.SetRow(cell, row)
	})
	if err != nil {
		return n, err
	}
	if err := sw.Flush(); err != nil {
		return n, fmt.Errorf("export: %w", err)
	}
	return n, f.Write(out)
}
