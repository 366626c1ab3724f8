package bench

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"runtime"
	"time"
)

// RegistryOptions configure the registry benchmark.
type RegistryOptions struct {
	Bin         string // the cdt binary
	Requests    int
	Concurrency []int
	MongoURI    string // empty: embedded database in a fresh directory
	National    bool   // seed the national registry instead of loading the demo data
	Out         io.Writer
}

// Registry measures the cold start with the demo data (Huế scale: 1,100 teams,
// about 5,580 members), or the seeding of the national registry (3,321
// communes, 74,000 teams, 340,000 members) and a start on it, and then the
// latency of the registry lists of random communes.
func Registry(ctx context.Context, o RegistryOptions) error {
	dir, err := os.MkdirTemp("", "cdt-bench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	env := []string{"CDT_DATA_DIR=" + dir, "CDT_ADDR=127.0.0.1:0", "CDT_ADMIN_PASSWORD=bench-admin-1",
		"CDT_LOG_LEVEL=info", "CDT_DB=bench_registry"}
	if o.MongoURI != "" {
		env = append(env, "CDT_MONGO_URI="+o.MongoURI)
	}
	var starts [][]string
	if o.National {
		env = append(env, "CDT_DB=bench_national")
		t0 := time.Now()
		if _, _, err := child(ctx, o.Bin, env, "seed", "--scale", "national", "--replace", "--quiet"); err != nil {
			return err
		}
		starts = append(starts, []string{"cdt seed --scale national", fmt.Sprintf("%.1f", time.Since(t0).Seconds())})
	} else {
		env = append(env, "CDT_DEMO=true")
		if err := dropDatabase(ctx, o.MongoURI, "bench_registry"); err != nil {
			return err
		}
	}
	cold, err := Start(ctx, o.Bin, env)
	if err != nil {
		return err
	}
	coldTime := cold.StartTime
	if err := cold.Stop(); err != nil {
		return fmt.Errorf("stop: %w", err)
	}
	srv, err := Start(ctx, o.Bin, env)
	if err != nil {
		return err
	}
	defer srv.Stop()
	fmt.Fprintf(o.Out, "Machine: %d CPUs, %s/%s, %s. Database: %s.\n\n", runtime.NumCPU(), runtime.GOOS, runtime.GOARCH,
		runtime.Version(), backend(o.MongoURI))
	first := "cold: empty data dir, demo data loaded"
	if o.National {
		first = "first start on the national data"
	}
	starts = append(starts, []string{first, fmt.Sprintf("%.2f", coldTime.Seconds())},
		[]string{"warm: restart on the same data", fmt.Sprintf("%.2f", srv.StartTime.Seconds())})
	Table(o.Out, []string{"step", "time (s)"}, starts)
	fmt.Fprintln(o.Out)

	c := NewClient(srv.Addr)
	if err := c.Login("admin", "bench-admin-1"); err != nil {
		return err
	}
	// A first start computes the past nights in the background: measure once
	// it is done.
	if err := waitQuiet(ctx, c); err != nil {
		return err
	}
	var units struct {
		Items []struct{ Code string } `json:"items"`
	}
	if _, err := c.Do("GET", "/api/v1/units?level=commune", nil, &units); err != nil {
		return err
	}
	var teams, members struct{ Total int }
	if _, err := c.Do("GET", "/api/v1/teams?limit=1", nil, &teams); err != nil {
		return err
	}
	if _, err := c.Do("GET", "/api/v1/members?limit=1", nil, &members); err != nil {
		return err
	}
	fmt.Fprintf(o.Out, "Data: %d communes, %d teams, %d members.\n\n", len(units.Items), teams.Total, members.Total)
	var rows [][]string
	for _, path := range []string{"/api/v1/teams?commune=%s", "/api/v1/members?commune=%s"} {
		for _, conc := range o.Concurrency {
			call := func(i int) error {
				code := units.Items[rand.New(rand.NewPCG(uint64(i), 2)).IntN(len(units.Items))].Code
				st, err := c.Do("GET", fmt.Sprintf(path, code), nil, nil)
				if err == nil && st != 200 {
					err = fmt.Errorf("status %d", st)
				}
				return err
			}
			Load(50, conc, call) // warm up
			s := Load(o.Requests, conc, call)
			rows = append(rows, []string{"GET " + fmt.Sprintf(path, "…"), fmt.Sprint(conc), fmt.Sprint(s.N), Ms(s.P50), Ms(s.P95),
				Ms(s.P99), fmt.Sprintf("%.0f", s.Throughput()), fmt.Sprint(s.Errors)})
		}
	}
	Table(o.Out, []string{"request", "clients", "n", "p50 ms", "p95 ms", "p99 ms", "req/s", "errors"}, rows)
	return nil
}

func backend(uri string) string {
	if uri == "" {
		return "embedded FerretDB (SQLite)"
	}
	return "external (" + uri + ")"
}
