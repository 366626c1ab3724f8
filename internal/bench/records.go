package bench

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/hue-cdt/cdt/domain"
	"github.com/hue-cdt/cdt/store"
)

// Names of the record reads of the scale benchmark.
const (
	readCommuneWeek = "GET /api/v1/assistance?commune=&from&to (a week)"
	readTeamMonth   = "GET /api/v1/assistance?team=&from&to (a month)"
	readMemberAll   = "GET /api/v1/assistance?member=&from&to (90 days)"
	readCommuneDeep = "GET /api/v1/assistance?commune=&cursor (a deep page)"
	readTeamDeep    = "GET /api/v1/assistance?team=&cursor (a deep page)"
)

// RecordReadNames are the record reads the scale benchmark reports.
var RecordReadNames = []string{readCommuneWeek, readTeamMonth, readMemberAll, readCommuneDeep, readTeamDeep}

// recordReads measures the record lists: a commune's week, a team's month, a
// member's 90 days, and pages that start deep in a commune's or a team's
// list (a cursor at a random moment of the 90 days), 50 records a page.
func recordReads(communes, teams, members []string, req int, apiGet func(string) error, row *ScaleRow) error {
	r := rand.New(rand.NewPCG(11, 11))
	end := time.Now().In(hue)
	day := func(back int) string { return end.AddDate(0, 0, -back).Format("2006-01-02") }
	pick := func(xs []string) string { return url.QueryEscape(xs[r.IntN(len(xs))]) }
	cursor := func() string {
		at := end.Add(-time.Duration(r.Int64N(int64(88 * 24 * time.Hour))))
		return url.QueryEscape(domain.EncodeCursor(domain.Pos{At: at.UnixMilli(), ID: "~"}.SortKey()))
	}
	for name, fn := range map[string]func(int) error{
		readCommuneWeek: func(int) error {
			b := r.IntN(83)
			return apiGet("/api/v1/assistance?limit=50&commune=" + pick(communes) + "&from=" + day(b+6) + "&to=" + day(b))
		},
		readTeamMonth: func(int) error {
			b := r.IntN(60)
			return apiGet("/api/v1/assistance?limit=50&team=" + pick(teams) + "&from=" + day(b+29) + "&to=" + day(b))
		},
		readMemberAll: func(int) error {
			return apiGet("/api/v1/assistance?limit=50&member=" + pick(members) + "&from=" + day(89) + "&to=" + day(0))
		},
		readCommuneDeep: func(int) error {
			return apiGet("/api/v1/assistance?limit=50&commune=" + pick(communes) + "&cursor=" + cursor())
		},
		readTeamDeep: func(int) error {
			return apiGet("/api/v1/assistance?limit=50&team=" + pick(teams) + "&cursor=" + cursor())
		},
	} {
		Load(min(50, req), 1, fn)
		s := Load(req, 1, fn)
		if s.Errors > 0 {
			return fmt.Errorf("%s: %d errors", name, s.Errors)
		}
		row.Reads[name] = s
	}
	return nil
}

// ExportStat is one record export beside its limit.
type ExportStat struct {
	Commune    string
	Rows       int
	Export     time.Duration // GET /exports/assistance.csv?commune=&days=31, the whole download
	Scan       time.Duration // one plain cursor scan of as many records (the limit)
	ServerRSS  int64         // the server's peak RSS during the exports (the read benchmarks before excluded), KiB
	XLSXExport time.Duration
}

// exports downloads a month of records of a few communes as CSV and XLSX
// and, beside each, reads as many records with one plain cursor scan of the
// assistance collection (the cheapest read of n records the database has).
func exports(ctx context.Context, srv *Server, uri, dbName string, api *Client, communes []string) ([]ExportStat, error) {
	db, err := store.Open(ctx, uri, dbName, store.Options{})
	if err != nil {
		return nil, err
	}
	defer db.Close(context.WithoutCancel(ctx))
	var out []ExportStat
	for _, c := range communes {
		st := ExportStat{Commune: c}
		for _, format := range []string{"csv", "xlsx"} {
			req, _ := http.NewRequest("GET", api.Base+"/api/v1/exports/assistance."+format+"?days=31&commune="+c, nil)
			req.Header.Set("Authorization", "Bearer "+api.Token)
			resetPeakRSS(srv.PID())
			start := time.Now()
			resp, err := api.HTTP.Do(req)
			if err != nil {
				return nil, err
			}
			lines := 0
			if format == "csv" {
				sc := bufio.NewScanner(resp.Body)
				sc.Buffer(make([]byte, 64<<10), 1<<20)
				for sc.Scan() {
					lines++
				}
			} else {
				_, _ = io.Copy(io.Discard, resp.Body)
			}
			resp.Body.Close()
			if resp.StatusCode != 200 {
				return nil, fmt.Errorf("export %s: status %d", c, resp.StatusCode)
			}
			if format == "csv" {
				st.Export, st.Rows = time.Since(start), lines-1
			} else {
				st.XLSXExport = time.Since(start)
			}
			st.ServerRSS = max(st.ServerRSS, peakRSS(srv.PID()))
		}
		start := time.Now()
		n := 0
		if err := db.Assistance.ScanFirst(ctx, st.Rows, func(domain.Record) error { n++; return nil }); err != nil {
			return nil, err
		}
		st.Scan = time.Since(start)
		out = append(out, st)
	}
	return out, nil
}

// resetPeakRSS starts a process's peak resident set (VmHWM) again from its
// resident set now (Linux: "5" to clear_refs), so that the peak read after an
// export is the export's, not that of the benchmarks before it.
func resetPeakRSS(pid int) {
	_ = os.WriteFile("/proc/"+strconv.Itoa(pid)+"/clear_refs", []byte("5"), 0)
}

// peakRSS is a process's peak resident set (VmHWM, KiB; 0 if unknown).
func peakRSS(pid int) int64 {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			n, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
			return n
		}
	}
	return 0
}
