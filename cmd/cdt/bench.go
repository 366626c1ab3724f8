package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/hue-cdt/cdt/internal/bench"
)

// benchCmd runs the benchmarks against the real binary (this executable).
func benchCmd(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return errors.New("usage: cdt bench registry|ingest [--requests N] [--concurrency 1,8,32] [--mongo-uri URI]")
	}
	fs := newFlagSet("bench "+args[0], stderr)
	requests := fs.Int("requests", 500, "requests per measurement")
	conc := fs.String("concurrency", "1,8", "client counts, comma separated")
	uri := fs.String("mongo-uri", getenv("CDT_MONGO_URI"), "measure against this database instead of the embedded one")
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
		return bench.Registry(ctx, bench.RegistryOptions{Bin: bin, Requests: *requests, Concurrency: cs, MongoURI: *uri, Out: stdout})
	case "ingest":
		_, err := bench.Ingest(ctx, bench.IngestOptions{Bin: bin, Requests: *requests, Concurrency: cs, MongoURI: *uri, Out: stdout})
		return err
	}
	return fmt.Errorf("unknown benchmark %q", args[0])
}
