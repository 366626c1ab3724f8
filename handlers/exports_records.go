package handlers

import (
	"context"
	"fmt"
	"net/http"
	"strconv"

	"github.com/gin-gonic/gin"

	"github.com/hue-cdt/cdt/domain"
	"github.com/hue-cdt/cdt/i18n"
	"github.com/hue-cdt/cdt/internal/export"
)

// The record exports: GET /exports/assistance.csv|xlsx, under /api/v1 with a
// token (routes in server.go) and for the pages with the session cookie.
func init() {
	extraPageRoutes = append(extraPageRoutes, func(s *Server, g *gin.RouterGroup) {
		g.GET("/exports/assistance.csv", s.wrap(s.exportRecordsCSV))
		g.GET("/exports/assistance.xlsx", s.wrap(s.exportRecordsXLSX))
	})
}

func (s *Server) exportRecordsCSV(c *gin.Context) error  { return s.exportRecords(c, false) }
func (s *Server) exportRecordsXLSX(c *gin.Context) error { return s.exportRecords(c, true) }

// exportRecords streams the records of the caller's scope, filtered like GET
// /assistance (commune, team, member, from, to; days=N for the last N days),
// one row per record, headers in the export language, no household data.
func (s *Server) exportRecords(c *gin.Context, xlsx bool) error {
	f, err := s.recordFilter(c)
	if err != nil {
		return err
	}
	if v := c.Query("days"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 3660 {
			return domain.Invalid("days", "one_of", "1–3660")
		}
		f.From, f.To = s.today().AddDays(-n+1).Time(), s.today().Next().Time()
	}
	l := i18n.For(exportLang(c))
	src := func(ctx context.Context, fn func(domain.Record) (bool, error)) error {
		return s.d.Live.EachRecord(ctx, f, fn)
	}
	regs := func(ctx context.Context, commune string) (*domain.CommuneRegistry, error) {
		return s.d.Registry.Registry(ctx, commune)
	}
	name := "cdt-records"
	for _, part := range []string{f.CommuneCode, f.TeamID, f.MemberID} {
		if part != "" {
			name += "-" + part
		}
	}
	name += "-" + string(s.today())
	c.Header("Cache-Control", "no-store")
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
		s.d.Logger.ErrorContext(c.Request.Context(), "record export cut short", "rows", n, "err", err)
		panic(http.ErrAbortHandler)
	}
	return nil
}
