package main

import (
	"bufio"
	"context"
	"encoding/csv"
	"encoding/json"
	"strings"
	"testing"
)

// cdt export gives what the database keeps compactly as ordinary documents
// (one JSON object a line) or CSV.
func TestExportCommand(t *testing.T) {
	ctx := context.Background()
	env := map[string]string{"CDT_DATA_DIR": t.TempDir(), "CDT_ADMIN_PASSWORD": "admin-pass-1", "CDT_LOG_LEVEL": "warn"}
	getenv := func(k string) string { return env[k] }
	runOK := func(args ...string) string {
		t.Helper()
		var out, errb strings.Builder
		if err := run(ctx, args, getenv, strings.NewReader(""), &out, &errb); err != nil {
			t.Fatalf("cdt %v: %v\n%s", args, err, errb.String())
		}
		return out.String()
	}
	runOK("seed", "--scale", "hue", "--records", "600", "--quiet")
	runOK("jobs", "run", "coverage")

	total := 0
	sc := bufio.NewScanner(strings.NewReader(runOK("export", "rollups")))
	sc.Buffer(make([]byte, 1<<20), 8<<20)
	for sc.Scan() {
		var d struct {
			Commune string                    `json:"commune_code"`
			Total   int                       `json:"total"`
			Days    map[string]map[string]any `json:"days"`
		}
		if err := json.Unmarshal(sc.Bytes(), &d); err != nil || d.Commune == "" || len(d.Days) == 0 {
			t.Fatalf("rollup document %.200s: %v", sc.Text(), err)
		}
		total += d.Total
	}
	if total != 600 {
		t.Fatalf("rollups count %d records, want 600", total)
	}
	rows, err := csv.NewReader(strings.NewReader(runOK("export", "records", "--format", "csv"))).ReadAll()
	if err != nil || len(rows) != 601 || rows[0][0] != "\ufeffRecord ID" {
		t.Fatalf("records: %d rows, %v", len(rows), err)
	}
	regs := runOK("export", "registries", "--commune", "19753")
	if strings.Count(regs, "\n") != 1 || !strings.Contains(regs, `"commune_code":"19753"`) || !strings.Contains(regs, "FullName") {
		t.Fatalf("registries: %.300s", regs)
	}
	cov, err := csv.NewReader(strings.NewReader(runOK("export", "coverage", "--format", "csv"))).ReadAll()
	if err != nil || len(cov) != 41 || cov[0][0] != "commune_code" {
		t.Fatalf("coverage: %d rows, %v", len(cov), err)
	}
}
