// Command cdt is the field-management server of Huế's community digital-technology
// teams (Tổ công nghệ số cộng đồng).
//
//	cdt serve                       run the HTTP server and the scheduled jobs
//	cdt user add --username U --role R [--unit CODE] [--member ID]
//	                                create a login (password from stdin)
//	cdt import registry FILE [--commune CODE] [--dry-run]
//	                                import villages, teams and members from a spreadsheet
//
// Configuration comes from the CDT_* environment variables (see README.md);
// each is also a flag of serve.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/pprof"
	"strconv"
	"strings"
	"syscall"

	_ "time/tzdata" // Asia/Ho_Chi_Minh even in a minimal container image
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	if path := os.Getenv("CDT_CPUPROFILE"); path != "" { // for BENCHMARKS.md: go tool pprof cdt FILE
		// {pid} tells apart the processes of one benchmark (it starts servers).
		f, err := os.Create(strings.ReplaceAll(path, "{pid}", strconv.Itoa(os.Getpid())))
		if err == nil {
			err = pprof.StartCPUProfile(f)
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, "cdt: CDT_CPUPROFILE:", err)
			os.Exit(1)
		}
		defer f.Close()
		defer pprof.StopCPUProfile()
	}
	if err := run(ctx, os.Args[1:], os.Getenv, os.Stdin, os.Stdout, os.Stderr); err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(os.Stderr, "cdt:", err)
		}
		stop()
		pprof.StopCPUProfile()
		os.Exit(1)
	}
}

const usage = `usage: cdt <command> [flags]

commands:
  serve                 run the HTTP server and the scheduled jobs
  user add              create a login (password read from stdin)
  jobs run coverage     run the coverage job once, now (--full: rebuild from every record)
  seed                  write a generated data set: --scale hue|national [--records N] [--days D] [--seed N]
  import registry FILE  import villages, teams and members from a spreadsheet (XLSX or CSV) [--commune CODE] [--dry-run]
  export registries|rollups|coverage|records   what the database keeps compactly, as ordinary documents or CSV
  bench registry|ingest|scale|e2e|probe|login|audit   the benchmarks of BENCHMARKS.md

Run "cdt <command> -h" for the flags of a command.
`

// run is the whole program, with its environment passed in so tests can call it.
func run(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return errors.New("no command")
	}
	switch args[0] {
	case "serve":
		return serve(ctx, args[1:], getenv, stdout, stderr)
	case "user":
		if len(args) < 2 || args[1] != "add" {
			return errors.New(`usage: cdt user add --username U --role R [--unit CODE] [--member ID]`)
		}
		return userAdd(ctx, args[2:], getenv, stdin, stdout, stderr)
	case "seed":
		return seedCmd(ctx, args[1:], getenv, stdout, stderr)
	case "jobs":
		return jobsRun(ctx, args[1:], getenv, stdout, stderr)
	case "bench":
		return benchCmd(ctx, args[1:], getenv, stdout, stderr)
	case "export":
		return exportCmd(ctx, args[1:], getenv, stdout, stderr)
	case "import":
		return importCmd(ctx, args[1:], getenv, stdout, stderr)
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return nil
	}
	fmt.Fprint(stderr, usage)
	return fmt.Errorf("unknown command %q", args[0])
}
