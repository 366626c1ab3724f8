package main

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/hue-cdt/cdt/internal/bench"
)

// TestBenchmarksRunSmall runs every benchmark of BENCHMARKS.md at a tiny size
// against the real binary so that they cannot rot. It checks that each
// measured what it names, never how fast.
func TestBenchmarksRunSmall(t *testing.T) {
	t.Parallel() // its own servers, data dirs and ports: it overlaps the crash test's waits
	bin := binary(t)
	ctx := context.Background()

	t.Run("scale", func(t *testing.T) {
		var out strings.Builder
		rows, err := bench.Scale(ctx, bench.ScaleOptions{Bin: bin, Sizes: []int{800}, ReadSizes: []int{800}, Requests: 10,
			Label: "smoke", Out: &out})
		if err != nil {
			t.Fatal(err)
		}
		r := rows[0]
		if r.Records != 800 || r.Full <= 0 || r.Nightly <= 0 || r.NightlyRecords != 100 || r.FullRSS <= 0 || r.NightlyRSS <= 0 {
			t.Fatalf("row %+v", r)
		}
		for _, name := range append([]string{"GET /api/v1/coverage/communes", "commune dashboard", "province dashboard",
			"GET /api/v1/assistance?member=", "GET /api/v1/teams?commune="}, bench.RecordReadNames...) {
			if s := r.Reads[name]; s.N != 10 || s.Errors != 0 || s.P95 <= 0 {
				t.Errorf("%s: %+v", name, s)
			}
		}
		if len(r.Exports) != 3 || r.Exports[0].Export <= 0 || r.Exports[0].Scan <= 0 || r.Exports[0].ServerRSS <= 0 {
			t.Errorf("exports %+v", r.Exports)
		}
		if !strings.Contains(out.String(), "| 800 |") || !strings.Contains(out.String(), "province dashboard") {
			t.Errorf("report:\n%s", out.String())
		}
	})

	t.Run("ingest", func(t *testing.T) {
		var out strings.Builder
		res, err := bench.Ingest(ctx, bench.IngestOptions{Bin: bin, Requests: 40, Concurrency: []int{1, 4}, Sizes: []int{0, 300}, Out: &out})
		if err != nil {
			t.Fatal(err)
		}
		if len(res) != 4 || res[1].Clients != 4 || res[3].Records != 300 {
			t.Fatalf("results %+v", res)
		}
		for _, r := range res {
			if r.API.N < 40 || r.API.Errors != 0 || r.Raw.N < 40 || r.Raw.Errors != 0 || r.API.P99 <= 0 || r.Raw.P99 <= 0 {
				t.Errorf("%d clients: api %+v raw %+v", r.Clients, r.API, r.Raw)
			}
		}
	})

	t.Run("e2e", func(t *testing.T) {
		var out strings.Builder
		r, err := bench.E2E(ctx, bench.E2EOptions{Bin: bin, Records: 500, Rate: 40, Duration: 2 * time.Second, Burst: 200,
			Clients: 4, Out: &out})
		if err != nil {
			t.Fatal(err)
		}
		if r.Errors != 0 || r.Acked <= 0 || r.Applied < 0 || r.Through <= 0 || r.BurstRecords != 200 || r.BurstIn < r.BurstAcked {
			t.Fatalf("result %+v", r)
		}
		if !strings.Contains(out.String(), "all applied after s") {
			t.Errorf("report:\n%s", out.String())
		}
	})

	t.Run("probe", func(t *testing.T) {
		var out strings.Builder
		if err := bench.Probe(ctx, bench.ProbeOptions{Quick: true, Out: &out}); err != nil {
			t.Fatal(err)
		}
		for _, want := range []string{"FindOne _id ms", "InsertMany of 100 docs/s", "collections", "DeleteOne _id"} {
			if !strings.Contains(out.String(), want) {
				t.Errorf("report lacks %q:\n%s", want, out.String())
			}
		}
	})

	t.Run("login", func(t *testing.T) {
		var out strings.Builder
		r, err := bench.Login(ctx, bench.LoginOptions{Bin: bin, Requests: 10, Out: &out})
		if err != nil {
			t.Fatal(err)
		}
		if r.Known.N != 5 || r.Unknown.N != 5 || r.Known.P50 <= 0 || r.Unknown.P50 <= 0 || !strings.Contains(out.String(), "Median unknown / known") {
			t.Errorf("%+v\n%s", r, out.String())
		}
	})

	t.Run("audit", func(t *testing.T) {
		var out strings.Builder
		res, err := bench.Audit(ctx, bench.AuditOptions{Sizes: []int{300, 600}, Days: 30, Requests: 3, Out: &out})
		if err != nil {
			t.Fatal(err)
		}
		if len(res) != 2 || res[1].Events != 600 || len(res[1].Queries) != 5 {
			t.Fatalf("%+v", res)
		}
		for _, q := range res[1].Queries {
			if q.Stats.N != 3 || q.Stats.Errors != 0 {
				t.Errorf("%s: %+v", q.Name, q.Stats)
			}
		}
		if res[1].Queries[0].Items != 50 {
			t.Errorf("the newest page of 600 events holds %d", res[1].Queries[0].Items)
		}
	})

	t.Run("registry", func(t *testing.T) {
		var out strings.Builder
		if err := bench.Registry(ctx, bench.RegistryOptions{Bin: bin, Requests: 20, Concurrency: []int{2}, Out: &out}); err != nil {
			t.Fatal(err)
		}
		for _, want := range []string{"GET /api/v1/teams?commune=", "GET /api/v1/members?commune=", "cold"} {
			if !strings.Contains(out.String(), want) {
				t.Errorf("report lacks %q:\n%s", want, out.String())
			}
		}
	})
}
