package bench

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"syscall"
	"time"
)

// ScaleOptions configure the scale benchmark.
type ScaleOptions struct {
	Bin       string
	Sizes     []int // records
	ReadSizes []int // sizes at which reads are measured
	Requests  int   // per read measurement
	MongoURI  string
	Label     string // backend name for the report
	Out       io.Writer
}

// ScaleRow is one size's figures.
type ScaleRow struct {
	Records                      int
	SeedTime                     time.Duration
	Scan, Full, Nightly          time.Duration
	ScanRSS, FullRSS, NightlyRSS int64 // KiB
	NightlyRecords               int
	DayConsolidation             time.Duration // consolidating the new day as it arrived, in 1,000-record deltas
	Reads                        map[string]Stats
	Exports                      []ExportStat
}

// child runs `bin args...` and returns its stdout and peak RSS (KiB).
func child(ctx context.Context, bin string, env []string, args ...string) (string, int64, error) {
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Env = append(os.Environ(), env...)
	var out, errb strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	var rss int64
	if cmd.ProcessState != nil {
		if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
			rss = ru.Maxrss
		}
	}
	if err != nil {
		return out.String(), rss, fmt.Errorf("%s %v: %w\n%s", bin, args, err, errb.String())
	}
	return out.String(), rss, nil
}

var runSecondsRE = regexp.MustCompile(`records consolidated, ([0-9.]+) s`)

// Scale measures, for each size: seeding, one plain scan of the records (the
// limit), a full coverage run (rebuild from every record), one new day of
// records and the nightly (incremental) run after it, each in its own process
// so that its peak RSS is its own; and, at the read sizes, the p95 of the
// reads through a running server.
func Scale(ctx context.Context, o ScaleOptions) ([]ScaleRow, error) {
	var rows []ScaleRow
	for _, n := range o.Sizes {
		dir, err := os.MkdirTemp("", "cdt-scale-")
		if err != nil {
			return nil, err
		}
		env := []string{"CDT_DATA_DIR=" + dir, "CDT_DB=bench_scale_" + fmt.Sprint(n), "CDT_ADMIN_PASSWORD=bench-admin-1",
			"CDT_LOG_LEVEL=warn", "CDT_SECURE_COOKIES=false", "CDT_LOGIN_RATE=1000"}
		if o.MongoURI != "" {
			env = append(env, "CDT_MONGO_URI="+o.MongoURI)
		}
		row := ScaleRow{Records: n, Reads: map[string]Stats{}}
		start := time.Now()
		if _, _, err := child(ctx, o.Bin, env, "seed", "--scale", "hue", "--records", fmt.Sprint(n), "--replace", "--quiet"); err != nil {
			return nil, err
		}
		row.SeedTime = time.Since(start)
		out, rss, err := child(ctx, o.Bin, env, "bench", "scan")
		if err != nil {
			return nil, err
		}
		var scan struct {
			Records int   `json:"records"`
			MS      int64 `json:"ms"`
		}
		if err := json.Unmarshal([]byte(out), &scan); err != nil {
			return nil, fmt.Errorf("bench scan: %q: %w", out, err)
		}
		row.Scan, row.ScanRSS = time.Duration(scan.MS)*time.Millisecond, rss
		if out, row.FullRSS, err = child(ctx, o.Bin, env, "jobs", "run", "coverage", "--full"); err != nil {
			return nil, err
		}
		row.Full = runDuration(out)
		day := max(n/90, 100)
		if out, _, err = child(ctx, o.Bin, env, "bench", "addday", "--records", fmt.Sprint(day)); err != nil {
			return nil, err
		}
		var consolidatedMS int64
		fmt.Sscan(strings.TrimSpace(out), &row.NightlyRecords, &consolidatedMS)
		row.DayConsolidation = time.Duration(consolidatedMS) * time.Millisecond
		if out, row.NightlyRSS, err = child(ctx, o.Bin, env, "jobs", "run", "coverage"); err != nil {
			return nil, err
		}
		row.Nightly = runDuration(out)
		for _, rn := range o.ReadSizes {
			if rn == n {
				if err := reads(ctx, o, env, fmt.Sprintf("bench_scale_%d", n), &row); err != nil {
					return nil, err
				}
			}
		}
		rows = append(rows, row)
		_ = os.RemoveAll(dir)
	}
	writeScale(o.Out, o.Label, rows)
	return rows, nil
}

func runDuration(out string) time.Duration {
	m := runSecondsRE.FindStringSubmatch(out)
	if m == nil {
		return 0
	}
	var s float64
	fmt.Sscan(m[1], &s)
	return time.Duration(s * float64(time.Second))
}

// reads starts a server on the data and measures the p95 of the reads the
// benchmark names, one client, after a warm-up.
func reads(ctx context.Context, o ScaleOptions, env []string, dbName string, row *ScaleRow) error {
	srv, err := Start(ctx, o.Bin, append(env, "CDT_ADDR=127.0.0.1:0", "CDT_LOG_LEVEL=info", "CDT_COVERAGE_CHECK=1h"))
	if err != nil {
		return err
	}
	defer srv.Stop()
	api := NewClient(srv.Addr)
	if err := api.Login("admin", "bench-admin-1"); err != nil {
		return err
	}
	// A server that starts on data computes the missing nights in the
	// background; measure once it is quiet.
	if err := waitQuiet(ctx, api); err != nil {
		return err
	}
	var communes struct {
		Items []struct{ Code string } `json:"items"`
	}
	if _, err := api.Do("GET", "/api/v1/units?level=commune", nil, &communes); err != nil {
		return err
	}
	var members []string
	for _, c := range communes.Items[:min(8, len(communes.Items))] {
		var ms struct {
			Items []struct{ ID string } `json:"items"`
		}
		if _, err := api.Do("GET", "/api/v1/members?limit=50&commune="+c.Code, nil, &ms); err != nil {
			return err
		}
		for _, m := range ms.Items {
			members = append(members, m.ID)
		}
	}
	web, err := webLogin(srv.Addr, "admin", "bench-admin-1")
	if err != nil {
		return err
	}
	r := rand.New(rand.NewPCG(7, 7))
	commune := func() string { return communes.Items[r.IntN(len(communes.Items))].Code }
	get := func(c *http.Client, path string) error {
		resp, err := c.Get("http://" + srv.Addr + path)
		if err != nil {
			return err
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 {
			return fmt.Errorf("%s: status %d", path, resp.StatusCode)
		}
		return nil
	}
	apiGet := func(path string) error {
		st, err := api.Do("GET", path, nil, nil)
		if err == nil && st != 200 {
			err = fmt.Errorf("%s: status %d", path, st)
		}
		return err
	}
	for name, fn := range map[string]func(int) error{
		"GET /api/v1/coverage/communes": func(int) error { return apiGet("/api/v1/coverage/communes") },
		"commune dashboard":             func(int) error { return get(web, "/communes/"+commune()+"/dashboard") },
		"province dashboard":            func(int) error { return get(web, "/province") },
		"GET /api/v1/assistance?member=": func(int) error {
			return apiGet("/api/v1/assistance?member=" + members[r.IntN(len(members))])
		},
		"GET /api/v1/teams?commune=": func(int) error { return apiGet("/api/v1/teams?commune=" + commune()) },
	} {
		Load(min(50, o.Requests), 1, fn)
		s := Load(o.Requests, 1, fn)
		if s.Errors > 0 {
			return fmt.Errorf("%s: %d errors", name, s.Errors)
		}
		row.Reads[name] = s
	}
	var codes, teams []string
	for _, c := range communes.Items {
		codes = append(codes, c.Code)
	}
	for _, c := range codes[:min(8, len(codes))] {
		var ts struct {
			Items []struct{ ID string } `json:"items"`
		}
		if _, err := api.Do("GET", "/api/v1/teams?limit=200&commune="+c, nil, &ts); err != nil {
			return err
		}
		for _, t := range ts.Items {
			teams = append(teams, t.ID)
		}
	}
	if err := recordReads(codes, teams, members, o.Requests, apiGet, row); err != nil {
		return err
	}
	uri := o.MongoURI
	if uri == "" {
		uri = srv.DBURI
	}
	var err2 error
	row.Exports, err2 = exports(ctx, srv, uri, dbName, api, []string{codes[r.IntN(len(codes))], codes[r.IntN(len(codes))], "19753"})
	return err2
}

var csrfRE = regexp.MustCompile(`name="csrf_token" value="([^"]+)"`)

// webLogin signs in through the login form and returns a client with the session.
func webLogin(addr, user, pw string) (*http.Client, error) {
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, Timeout: time.Minute}
	resp, err := c.Get("http://" + addr + "/login")
	if err != nil {
		return nil, err
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	m := csrfRE.FindSubmatch(body)
	if m == nil {
		return nil, fmt.Errorf("no csrf token on the login page")
	}
	form := url.Values{"username": {user}, "password": {pw}, "csrf_token": {string(m[1])}}
	req, _ := http.NewRequest("POST", "http://"+addr+"/login", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", "http://"+addr)
	resp, err = c.Do(req)
	if err != nil {
		return nil, err
	}
	resp.Body.Close()
	if resp.Request.URL.Path == "/login" {
		return nil, fmt.Errorf("web login failed: %d", resp.StatusCode)
	}
	return c, nil
}

func writeScale(w io.Writer, label string, rows []ScaleRow) {
	fmt.Fprintf(w, "Coverage job on %s (Huế registry: 40 communes, 1,100 teams, 5,580 members; records over 90 days).\n\n", label)
	var t [][]string
	for _, r := range rows {
		ratio := 0.0
		if r.Scan > 0 {
			ratio = r.Full.Seconds() / r.Scan.Seconds()
		}
		t = append(t, []string{fmt.Sprint(r.Records), fmt.Sprintf("%.1f", r.SeedTime.Seconds()),
			fmt.Sprintf("%.2f", r.Scan.Seconds()), fmt.Sprint(r.ScanRSS / 1024), fmt.Sprintf("%.2f", r.Full.Seconds()), fmt.Sprintf("%.2f", ratio),
			fmt.Sprint(r.FullRSS / 1024), fmt.Sprint(r.NightlyRecords), fmt.Sprintf("%.2f", r.DayConsolidation.Seconds()),
			fmt.Sprintf("%.2f", r.Nightly.Seconds()), fmt.Sprint(r.NightlyRSS / 1024)})
	}
	Table(w, []string{"records", "seed s", "plain scan s (limit)", "scan peak RSS MiB", "full run s", "full / scan", "full peak RSS MiB",
		"new day records", "its consolidation s", "nightly run s", "nightly peak RSS MiB"}, t)
	fmt.Fprintln(w)
	names := append([]string{"GET /api/v1/coverage/communes", "commune dashboard", "province dashboard", "GET /api/v1/assistance?member=",
		"GET /api/v1/teams?commune="}, RecordReadNames...)
	var withReads []ScaleRow
	for _, r := range rows {
		if len(r.Reads) > 0 {
			withReads = append(withReads, r)
		}
	}
	if len(withReads) == 0 {
		return
	}
	head := []string{"read (p95 ms, 1 client)"}
	for _, r := range withReads {
		head = append(head, fmt.Sprintf("%d records", r.Records))
	}
	if len(withReads) == 2 {
		head = append(head, "ratio")
	}
	var rt [][]string
	for _, n := range names {
		line := []string{n}
		for _, r := range withReads {
			line = append(line, Ms(r.Reads[n].P95))
		}
		if len(withReads) == 2 {
			line = append(line, fmt.Sprintf("%.2f", float64(withReads[1].Reads[n].P95)/float64(max(withReads[0].Reads[n].P95, 1))))
		}
		rt = append(rt, line)
	}
	Table(w, head, rt)
	fmt.Fprintln(w)
	for _, r := range withReads {
		if len(r.Exports) == 0 {
			continue
		}
		fmt.Fprintf(w, "Record exports at %d records: a month (31 days) of a commune, beside one plain cursor scan of as many records.\n\n", r.Records)
		var et [][]string
		for _, e := range r.Exports {
			et = append(et, []string{e.Commune, fmt.Sprint(e.Rows), fmt.Sprintf("%.2f", e.Export.Seconds()),
				fmt.Sprintf("%.2f", e.XLSXExport.Seconds()), fmt.Sprintf("%.2f", e.Scan.Seconds()),
				fmt.Sprintf("%.2f", e.Export.Seconds()/max(e.Scan.Seconds(), 1e-9)),
				fmt.Sprintf("%.2f", e.XLSXExport.Seconds()/max(e.Scan.Seconds(), 1e-9)), fmt.Sprint(e.ServerRSS / 1024)})
		}
		Table(w, []string{"commune", "records", "CSV export s", "XLSX export s", "plain scan s (limit)", "CSV / scan", "XLSX / scan",
			"server peak RSS during the export MiB"}, et)
		fmt.Fprintln(w)
	}
}

// waitQuiet waits until the server has no coverage run in progress and has
// computed yesterday.
// waitCatchUp signs in as the bench's administrator and waits until the
// server's catch-up is over (waitQuiet): a server that starts on stored
// records first computes the nights it missed.
func waitCatchUp(ctx context.Context, srv *Server) error {
	adm := NewClient(srv.Addr)
	if err := adm.Login("admin", "bench-admin-1"); err != nil {
		return err
	}
	return waitQuiet(ctx, adm)
}

func waitQuiet(ctx context.Context, api *Client) error {
	deadline := time.Now().Add(10 * time.Minute)
	yesterday := time.Now().In(hue).AddDate(0, 0, -1).Format("2006-01-02")
	// Quiet: nothing running and no new run for 3 s, once yesterday is
	// computed (the catch-up computes yesterday first, then the older missing
	// nights) or, on a database without records, 20 s after the start.
	last, since, start := "", time.Now(), time.Now()
	for time.Now().Before(deadline) {
		var runs struct {
			Items []struct {
				ID, Status, Date, Trigger string
			} `json:"items"`
		}
		if _, err := api.Do("GET", "/api/v1/jobs/runs?job=coverage&limit=100", nil, &runs); err != nil {
			return err
		}
		busy, done := false, false
		for _, r := range runs.Items {
			busy = busy || r.Status == "running"
			done = done || (r.Date == yesterday && r.Status == "succeeded" && r.Trigger != "manual")
		}
		sig := ""
		for _, r := range runs.Items {
			sig += r.ID + r.Status + ";"
		}
		if sig != last {
			last, since = sig, time.Now()
		}
		if !busy && (done || time.Since(start) >= 20*time.Second) && time.Since(since) >= 3*time.Second {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(500 * time.Millisecond):
		}
	}
	return fmt.Errorf("the server's background runs did not finish")
}

var hue = func() *time.Location {
	l, err := time.LoadLocation("Asia/Ho_Chi_Minh")
	if err != nil {
		return time.FixedZone("ICT", 7*3600)
	}
	return l
}()
