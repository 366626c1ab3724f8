package core

import (
	"context"
	"io"

	"github.com/hue-cdt/cdt/domain"
	"github.com/hue-cdt/cdt/i18n"
	"github.com/hue-cdt/cdt/sheets"
)

// ImportRegistry imports an uploaded registry spreadsheet (CSV or XLSX) as
// sc may: a province admin into any commune, a commune leader into theirs
// (rows of another commune are invalid). Rows that name no commune go to
// commune, or to a leader's own. A dry run writes nothing. The writes are
// the registry's own (domain.ApplyImport under Registry.UpdateRegistry), so
// every rule of the registry pages and API holds.
func (d *Deps) ImportRegistry(ctx context.Context, sc domain.Scope, name string, data []byte, commune string, dryRun bool) (domain.ImportReport, error) {
	if err := sc.Manage(); err != nil {
		return domain.ImportReport{}, err
	}
	records, err := sheets.Read(name, data)
	if err != nil {
		return domain.ImportReport{}, err
	}
	rows, err := domain.ImportRows(records)
	if err != nil {
		return domain.ImportReport{}, err
	}
	if commune == "" && !sc.Admin() {
		commune = sc.Caller.CommuneCode
	}
	im := domain.RegistryImport{Rows: rows, Communes: d.Units.Find(domain.UnitFilter{Level: domain.LevelCommune, AsOf: d.Today()}),
		Default: commune, Allow: sc.ManageCommune, By: sc.Caller.Username, Today: d.Today(), Now: d.Now()}
	return im.Run(ctx, d.Registry, dryRun, nil)
}

// ImportTemplate writes the template of a registry spreadsheet: the headers
// of API.md (and the optional ones), an example row, and a sheet that says
// what each column takes, in l's language.
func ImportTemplate(w io.Writer, l *i18n.Localizer) error {
	head := make([]any, len(domain.ImportColumns))
	guide := make([][]any, len(domain.ImportColumns))
	for i, col := range domain.ImportColumns {
		head[i] = domain.ImportHeaders[col]
		guide[i] = []any{domain.ImportHeaders[col], l.T("import.col." + col)}
	}
	example := []any{"Phường Phú Xuân", "Tổ dân phố 1", "Tổ CNSCĐ TDP 1", "Nguyễn Thị Lan", "0905 123 456", "Tổ phó",
		"Trưởng thôn", "Nữ", 1982, 250, "15/QĐ-UBND", "01/08/2025"}
	return sheets.WriteXLSX(w,
		sheets.Sheet{Name: "Danh sách", Head: head, Rows: [][]any{example}, Header: true,
			Widths: []sheets.Width{{From: "A", To: "C", Chars: 22}, {From: "D", To: "D", Chars: 24}, {From: "E", To: "L", Chars: 15}}},
		sheets.Sheet{Name: l.T("import.guide_sheet"), Head: []any{l.T("import.column"), l.T("import.takes")}, Rows: guide, Header: true,
			Widths: []sheets.Width{{From: "A", To: "A", Chars: 20}, {From: "B", To: "B", Chars: 90}}})
}
