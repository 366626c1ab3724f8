package api

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"sort"

	"github.com/gin-gonic/gin"

	"github.com/hue-cdt/cdt/domain"
	"github.com/hue-cdt/cdt/handlers/httpx"
	"github.com/hue-cdt/cdt/i18n"
	"github.com/hue-cdt/cdt/sheets"
)

// exportTable is the latest coverage in the caller's scope as two tables:
// communes and villages, with headers in the export language.
type exportTable struct {
	date                     domain.Date
	communeHead, villageHead []string
	communeRows, villageRows [][]any
}

func (h *Handlers) exportTable(ctx context.Context, sc domain.Scope, l *i18n.Localizer) (exportTable, error) {
	communes, err := sc.Coverage()
	if err != nil {
		return exportTable{}, err
	}
	latest, err := h.Coverage.Latest(ctx, communes)
	if err != nil {
		return exportTable{}, err
	}
	t := exportHeads(l)
	codes := make([]string, 0, len(latest))
	for c := range latest {
		codes = append(codes, c)
	}
	sort.Strings(codes)
	for _, code := range codes {
		r := latest[code].Row
		u, _ := h.Units.Get(code, h.Today())
		if r.Date > t.date {
			t.date = r.Date
		}
		row := []any{code, u.Name, string(r.Date), r.VillagesTotal, r.VillagesWithTeam, r.TeamsTotal, r.TeamsActive30d,
			r.MembersTotal, r.MembersActive30d, r.MembersTrained, r.HouseholdsTotal, r.HouseholdsReached,
			pct(r.HouseholdCoverage), r.AssistanceTotal, r.Assistance30d}
		for _, sv := range domain.Services {
			row = append(row, r.ByService[sv])
		}
		t.communeRows = append(t.communeRows, row)
		for _, v := range r.Villages {
			yes := l.T("export.no")
			if v.HasTeam {
				yes = l.T("export.yes")
			}
			t.villageRows = append(t.villageRows, []any{code, u.Name, v.Code, v.Name, yes, v.Households, v.Reached,
				pct(v.Coverage), v.Assistance})
		}
	}
	return t, nil
}

// exportHeads are the tables' headers in l's language.
func exportHeads(l *i18n.Localizer) exportTable {
	var t exportTable
	for _, k := range []string{"export.commune_code", "export.commune", "export.date", "stat.villages", "stat.villages_with_team",
		"stat.teams", "cov.teams_active", "stat.members", "cov.members_active", "cov.members_trained", "cov.households_total",
		"cov.households_reached", "export.coverage_pct", "cov.assistance_total", "cov.assistance_30d"} {
		t.communeHead = append(t.communeHead, l.T(k))
	}
	for _, code := range domain.Services {
		t.communeHead = append(t.communeHead, l.T("service."+code)+" ("+l.T("cov.days30")+")")
	}
	for _, k := range []string{"export.commune_code", "export.commune", "export.village_code", "export.village",
		"export.has_team", "field.households", "cov.households_reached", "export.coverage_pct", "cov.assistance_total"} {
		t.villageHead = append(t.villageHead, l.T(k))
	}
	return t
}

func pct(f float64) float64 { return float64(int(f*1000+0.5)) / 10 }

func exportLang(c *gin.Context) string {
	if l := c.Query("lang"); l != "" {
		return i18n.Normalize(l)
	}
	return i18n.VI // the headers are Vietnamese unless asked otherwise
}

// ExportCSV answers GET /exports/coverage.csv: UTF-8 with a BOM, so that Excel
// shows Vietnamese correctly; the communes of the caller's scope.
func (h *Handlers) ExportCSV(c *gin.Context) error {
	t, err := h.exportTable(c.Request.Context(), httpx.Scope(c), i18n.For(exportLang(c)))
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	if err := sheets.WriteCSV(&buf, t.communeHead, t.communeRows); err != nil {
		return err
	}
	c.Header("Content-Disposition", fmt.Sprintf(`attachment; filename="cdt-coverage-%s.csv"`, t.date))
	c.Data(http.StatusOK, "text/csv; charset=utf-8", buf.Bytes())
	return nil
}

// ExportXLSX answers GET /exports/coverage.xlsx: a sheet of communes and one
// of villages.
func (h *Handlers) ExportXLSX(c *gin.Context) error {
	l := i18n.For(exportLang(c))
	t, err := h.exportTable(c.Request.Context(), httpx.Scope(c), l)
	if err != nil {
		return err
	}
	widths := []sheets.Width{{From: "A", To: "A", Chars: 10}, {From: "B", To: "B", Chars: 26}}
	var buf bytes.Buffer
	err = sheets.WriteXLSX(&buf,
		sheets.Sheet{Name: l.T("export.sheet_communes"), Head: anys(t.communeHead), Rows: t.communeRows, Header: true, Widths: widths},
		sheets.Sheet{Name: l.T("export.sheet_villages"), Head: anys(t.villageHead), Rows: t.villageRows, Header: true, Widths: widths})
	if err != nil {
		return err
	}
	c.Header("Content-Disposition", fmt.Sprintf(`attachment; filename="cdt-coverage-%s.xlsx"`, t.date))
	c.Data(http.StatusOK, sheets.ContentTypeXLSX, buf.Bytes())
	return nil
}

func anys(ss []string) []any {
	out := make([]any, len(ss))
	for i, s := range ss {
		out[i] = s
	}
	return out
}
