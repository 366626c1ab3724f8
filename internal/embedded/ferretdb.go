//go:build !noembedded

package embedded

import (
	"context"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"time"

	"github.com/FerretDB/FerretDB/ferretdb"
)

// Start runs FerretDB with its SQLite files in dir/ferretdb and a MongoDB wire
// listener on addr ("127.0.0.1:0" picks a free port). Only one process may own a
// data directory; others connect to the URI this one listens on.
func Start(dir, addr string, logger *slog.Logger) (*DB, error) {
	return StartPragmas(dir, addr, logger)
}

// StartPragmas is Start with SQLite pragmas set on every connection, e.g.
// "max_page_count(2000)": a disk that fills up, for the tests of storage
// failures.
func StartPragmas(dir, addr string, logger *slog.Logger, pragmas ...string) (*DB, error) {
	sqliteDir, err := filepath.Abs(filepath.Join(dir, "ferretdb"))
	if err != nil {
		return nil, fmt.Errorf("embedded: %w", err)
	}
	if err := os.MkdirAll(sqliteDir, 0o700); err != nil {
		return nil, fmt.Errorf("embedded: data dir: %w", err)
	}
	if logger == nil {
		logger = slog.Default()
	}
	// FerretDB keeps up to 100 SQLite connections, each with its own page
	// cache (2 MB by default) and its own copy of the schema (cdt's state is
	// in hundreds of small collections): half a megabyte of cache each keeps
	// the embedded database's memory down; the operating system caches the
	// file anyway.
	q := url.Values{"_pragma": {"cache_size(-512)"}}
	for _, p := range pragmas {
		q.Add("_pragma", p)
	}
	u := "file:" + sqliteDir + "/?" + q.Encode()
	return run(&ferretdb.Config{Handler: "sqlite", SQLiteURL: u}, addr, logger)
}

// StartPostgreSQL runs the same FerretDB over a PostgreSQL database instead
// (pgURL "postgres://user:pass@host:5432/db"): the production-like backend of
// the benchmarks, built from the very module version cdt embeds.
func StartPostgreSQL(pgURL, addr string, logger *slog.Logger) (*DB, error) {
	if logger == nil {
		logger = slog.Default()
	}
	return run(&ferretdb.Config{Handler: "postgresql", PostgreSQLURL: pgURL}, addr, logger)
}

func run(cfg *ferretdb.Config, addr string, logger *slog.Logger) (*DB, error) {
	// FerretDB logs every non-ok reply (a duplicate key, which cdt uses on
	// purpose) at WARN; errors and panics still show.
	cfg.Logger = slog.New(levelFilter{logger.Handler(), slog.LevelError})
	cfg.Listener = ferretdb.ListenerConfig{TCP: addr}
	f, err := ferretdb.New(cfg)
	if err != nil {
		return nil, fmt.Errorf("embedded: %w", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	db := &DB{cancel: cancel, done: make(chan struct{})}
	go func() {
		defer close(db.done)
		_ = f.Run(ctx)
	}()
	uriCh := make(chan string, 1)
	go func() { uriCh <- f.MongoDBURI() }() // blocks until the listener is up
	select {
	case db.uri = <-uriCh:
	case <-db.done:
		return nil, fmt.Errorf("embedded: FerretDB (%s) stopped at start (is %s in use, or its data owned by another process?)", cfg.Handler, addr)
	case <-time.After(30 * time.Second):
		cancel()
		return nil, fmt.Errorf("embedded: FerretDB did not listen on %s within 30s", addr)
	}
	return db, nil
}

const available = true
