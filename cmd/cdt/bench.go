package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/hue-cdt/cdt/internal/app"
	"github.com/hue-cdt/cdt/internal/bench"
	"github.com/hue-cdt/cdt/internal/embedded"
)

// benchCmd runs the benchmarks against the real binary (this executable).
func benchCmd(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return errors.New("usage: cdt bench registry|ingest|scale|e2e|probe|login|audit|integrity|ferretdb [--requests N] [--concurrency 1,8,32] [--sizes …] [--mongo-uri URI]")
	}
	fs := newFlagSet("bench "+args[0], stderr)
	requests := fs.Int("requests", 500, "requests per measurement")
	conc := fs.String("concurrency", "1,8", "client counts, comma separated")
	uri := fs.String("mongo-uri", getenv("CDT_MONGO_URI"), "measure against this database instead of the embedded one")
	sizesF := fs.String("sizes", "10000,100000,1000000", "scale: record counts; audit: event counts")
	readsF := fs.String("read-sizes", "10000,1000000", "scale: the sizes at which reads are measured")
	labelF := fs.String("label", "", "scale: the backend's name in the report")
	records := fs.Int("records", 1000, "addday: records of the new day; e2e: records stored before")
	rate := fs.Int("rate", 525, "e2e: records per second offered")
	duration := fs.Duration("duration", time.Minute, "e2e: how long the sustained load lasts")
	burst := fs.Int("burst", 55_000, "e2e: records of the burst (10 per member)")
	pgURL := fs.String("postgresql-url", "postgres://ferretdb:ferretdb@127.0.0.1:5432/ferretdb", "ferretdb: the PostgreSQL database")
	addr := fs.String("addr", "127.0.0.1:27018", "ferretdb: where to listen")
	national := fs.Bool("national", false, "registry: seed the national registry instead of the demo data")
	quick := fs.Bool("quick", false, "probe: small sizes only")
	dateF := fs.String("date", "", "integrity: the day to flag (default: yesterday)")
	rounds := fs.Int("rounds", 3, "integrity: rounds of each measurement (the best counts)")
	audit := fs.Bool("audit", true, "ingest: with the audit trail (false: without, to compare)")
	dataDir := fs.String("data-dir", "", "e2e: use and keep this data directory; seed it only if it was not seeded with --records before")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	bin, err := os.Executable()
	if err != nil {
		return err
	}
	var cs []int
	for _, s := range strings.Split(*conc, ",") {
		var n int
		if _, err := fmt.Sscan(s, &n); err != nil || n < 1 {
			return fmt.Errorf("--concurrency: bad value %q", s)
		}
		cs = append(cs, n)
	}
	switch args[0] {
	case "registry":
		return bench.Registry(ctx, bench.RegistryOptions{Bin: bin, Requests: *requests, Concurrency: cs, MongoURI: *uri,
			National: *national, Out: stdout})
	case "scale":
		sizes, err := ints(*sizesF)
		if err != nil {
			return err
		}
		readSizes, err := ints(*readsF)
		if err != nil {
			return err
		}
		label := *labelF
		if label == "" {
			label = "the embedded database (FerretDB over SQLite)"
			if *uri != "" {
				label = *uri
			}
		}
		_, err = bench.Scale(ctx, bench.ScaleOptions{Bin: bin, Sizes: sizes, ReadSizes: readSizes, Requests: *requests,
			MongoURI: *uri, Label: label, Out: stdout})
		return err
	case "scan", "addday":
		return benchInternal(ctx, args[0], *records, getenv, stdout, stderr)
	case "integrity":
		return benchIntegrity(ctx, *dateF, *rounds, getenv, stdout, stderr)
	case "ferretdb":
		// FerretDB over PostgreSQL, from the module version cdt embeds, until
		// SIGTERM: the production-like backend of scripts/bench.
		db, err := embedded.StartPostgreSQL(*pgURL, *addr, app.NewLogger(stderr, "text", "error"))
		if err != nil {
			return err
		}
		fmt.Fprintln(stdout, db.URI())
		<-ctx.Done()
		db.Stop()
		return nil
	case "probe":
		return bench.Probe(ctx, bench.ProbeOptions{MongoURI: *uri, Quick: *quick, Out: stdout, Log: stderr})
	case "ingest":
		var sizes []int
		if flagSet(fs, "sizes") {
			if sizes, err = ints(*sizesF); err != nil {
				return err
			}
		}
		_, err := bench.Ingest(ctx, bench.IngestOptions{Bin: bin, Requests: *requests, Concurrency: cs, Sizes: sizes, MongoURI: *uri, Out: stdout,
			NoAudit: !*audit})
		return err
	case "e2e":
		_, err := bench.E2E(ctx, bench.E2EOptions{Bin: bin, Records: *records, Rate: *rate, Duration: *duration, Burst: *burst,
			MongoURI: *uri, Label: *labelF, Dir: *dataDir, Out: stdout, Log: stderr})
		return err
	case "audit":
		sizes, err := ints(*sizesF)
		if err != nil {
			return err
		}
		_, err = bench.Audit(ctx, bench.AuditOptions{Sizes: sizes, Days: 365, Requests: *requests, MongoURI: *uri, Out: stdout})
		return err
	case "login":
		_, err := bench.Login(ctx, bench.LoginOptions{Bin: bin, Requests: *requests, MongoURI: *uri, Out: stdout})
		return err
	}
	return fmt.Errorf("unknown benchmark %q", args[0])
}

func ints(s string) ([]int, error) {
	var out []int
	for _, f := range strings.Split(s, ",") {
		var n int
		if _, err := fmt.Sscan(strings.TrimSpace(f), &n); err != nil || n < 0 {
			return nil, fmt.Errorf("bad number %q", f)
		}
		out = append(out, n)
	}
	return out, nil
}

// benchInternal runs the steps of cdt bench scale that need the app in this
// process: "scan" (one plain scan of the records, JSON on stdout) and
// "addday" (one more day of records, flushed as deltas).
func benchInternal(ctx context.Context, step string, records int, getenv func(string) string, stdout, stderr io.Writer) error {
	cfg, err := app.FromEnv(getenv)
	if err != nil {
		return err
	}
	level := "warn"
	if cfg.LogLevel == "debug" { // CDT_LOG_LEVEL=debug: the consolidation passes of addday
		level = "debug"
	}
	cfg.Logger = app.NewLogger(stderr, cfg.LogFormat, level)
	a, err := app.Open(ctx, cfg)
	if err != nil {
		return err
	}
	defer a.Close(context.Background())
	if step == "scan" {
		n, d, err := a.ScanRecords(ctx)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, `{"records":%d,"ms":%d}`+"\n", n, d.Milliseconds())
		return nil
	}
	n, d, err := a.AddDay(ctx, records, uint64(time.Now().UnixNano()))
	if err != nil {
		return err
	}
	fmt.Fprintln(stdout, n, d.Milliseconds())
	return nil
}
