package api

import (
	"context"
	"fmt"
	"net/http"
	"strconv"

	"github.com/gin-gonic/gin"

	"github.com/hue-cdt/cdt/domain"
	"github.com/hue-cdt/cdt/handlers/httpx"
	"github.com/hue-cdt/cdt/i18n"
	"github.com/hue-cdt/cdt/internal/export"
)

// ExportRecordsCSV answers GET /exports/assistance.csv.
func (h *Handlers) ExportRecordsCSV(c *gin.Context) error { return h.exportRecords(c, false) }

// ExportRecordsXLSX answers GET /exports/assistance.xlsx.
func (h *Handlers) ExportRecordsXLSX(c *gin.Context) error { return h.exportRecords(c, true) }

// exportRecords streams the records of the caller's scope, filtered like GET
// /assistance (commune, team, member, from, to; days=N for the last N days),
// one row per record, newest first, headers in the export language, no
// household data.
func (h *Handlers) exportRecords(c *gin.Context, xlsx bool) error {
	f, err := recordFilter(c)
	if err != nil {
		return err
	}
	if v := c.Query("days"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 3660 {
			return domain.Invalid("days", "one_of", "1–3660")
		}
		f.From, f.To = h.Today().AddDays(-n+1).Time(), h.Today().Next().Time()
	}
	if f, err = httpx.Scope(c).Records(f, h.TeamOf(c.Request.Context())); err != nil {
		return err
	}
	l := i18n.For(exportLang(c))
	src := func(ctx context.Context, fn func(domain.Record) (bool, error)) error {
		return h.Live.EachRecord(ctx, f, fn)
	}
	regs := func(ctx context.Context, commune string) (*domain.CommuneRegistry, error) {
		return h.Registry.Registry(ctx, commune)
	}
	name := "cdt-records"
	for _, part := range []string{f.CommuneCode, f.TeamID, f.MemberID} {
		if part != "" {
			name += "-" + part
		}
	}
	name += "-" + string(h.Today())
	if xlsx {
		c.Header("Content-Type", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
		c.Header("Content-Disposition", fmt.Sprintf(`attachment; filename="%s.xlsx"`, name))
	} else {
		c.Header("Content-Type", "text/csv; charset=utf-8")
		c.Header("Content-Disposition", fmt.Sprintf(`attachment; filename="%s.csv"`, name))
	}
	c.Status(http.StatusOK)
	write := export.CSV
	if xlsx {
		write = export.XLSX
	}
	n, err := write(c.Request.Context(), c.Writer, l, regs, src)
	if err != nil {
		// The answer has begun: all that is left is to cut it short, so that
		// the download fails rather than look complete.
		h.Logger.ErrorContext(c.Request.Context(), "record export cut short", "rows", n, "err", err)
		panic(http.ErrAbortHandler)
	}
	return nil
}
