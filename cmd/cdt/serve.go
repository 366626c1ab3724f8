package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"time"

	"golang.org/x/term"

	"github.com/hue-cdt/cdt/internal/app"
)

// shutdownGrace is how long in-flight requests get to finish after SIGTERM.
const shutdownGrace = 20 * time.Second

func serve(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := newFlagSet("serve", stderr)
	config := configFlags(fs, getenv)
	if err := fs.Parse(args); err != nil {
		return err
	}
	cfg, err := config()
	if err != nil {
		return fmt.Errorf("configuration: %w", err)
	}
	cfg.Stdout, cfg.Terminal = stdout, isTerminal(stdout)
	log := app.NewLogger(stderr, cfg.LogFormat, cfg.LogLevel)
	cfg.Logger = log
	start := time.Now()
	log.Info("starting", "addr", cfg.Addr, "embedded", cfg.MongoURI == "", "data_dir", cfg.DataDir, "db", cfg.DB,
		"demo", cfg.Demo, "secure_cookies", cfg.SecureCookies)

	a, err := app.Open(ctx, cfg)
	if err != nil {
		return err
	}
	defer a.Close(context.Background())
	if err := a.Start(ctx); err != nil {
		return err
	}

	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	srv := &http.Server{
		Handler:           a.Server.Handler(),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       60 * time.Second,
		WriteTimeout:      120 * time.Second,
		IdleTimeout:       120 * time.Second,
		ErrorLog:          nil,
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	log.Info("listening addr="+ln.Addr().String(), "addr", ln.Addr().String(), "startup_ms", time.Since(start).Milliseconds())

	select {
	case err := <-served:
		return fmt.Errorf("http server: %w", err)
	case <-ctx.Done():
	}
	log.Info("shutting down", "grace_s", shutdownGrace.Seconds())
	a.StopJobs() // coverage runs stop now, in parallel with the requests' grace
	sctx, cancel := context.WithTimeout(context.Background(), shutdownGrace)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		log.Warn("requests still running at the deadline were cut", "err", err)
	}
	a.Close(sctx)
	log.Info("stopped")
	return nil
}

// isTerminal reports whether w is a terminal, where a generated admin
// password may be shown (a test replaces it).
var isTerminal = func(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}
