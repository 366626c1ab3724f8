// Package embedded runs FerretDB inside the cdt process, over SQLite files in the
// data directory, so that cdt works on a machine with no database installed. It
// is the only package that imports FerretDB.
package embedded

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/FerretDB/FerretDB/ferretdb"
)

// DB is a running embedded database.
type DB struct {
	uri    string
	cancel context.CancelFunc
	done   chan struct{}
}

// Start runs FerretDB with its SQLite files in dir/ferretdb and a MongoDB wire
// listener on addr ("127.0.0.1:0" picks a free port). Only one process may own a
// data directory; others connect to the URI this one listens on.
func Start(dir, addr string, logger *slog.Logger) (*DB, error) {
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
	return run(&ferretdb.Config{Handler: "sqlite", SQLiteURL: "file:" + sqliteDir + "/?_pragma=cache_size(-512)"}, addr, logger)
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
	cfg.Logger = slog.New(levelFilter{Handler: logger.Handler(), min: slog.LevelError})
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

// URI is the MongoDB connection string of the embedded database.
func (d *DB) URI() string { return d.uri }

// Stop closes the listener, the connections and the SQLite files.
func (d *DB) Stop() {
	d.cancel()
	<-d.done
}

// levelFilter passes on records at min and above. FerretDB derives a logger
// with attributes for every connection and command; the handler below
// formats attributes when it gets them, so they are kept here and given to
// it only for a record that is logged.
type levelFilter struct {
	slog.Handler
	min slog.Level
	ops []func(slog.Handler) slog.Handler
}

func (h levelFilter) Enabled(ctx context.Context, l slog.Level) bool {
	return l >= h.min && h.Handler.Enabled(ctx, l)
}

func (h levelFilter) Handle(ctx context.Context, r slog.Record) error {
	inner := h.Handler
	for _, op := range h.ops {
		inner = op(inner)
	}
	return inner.Handle(ctx, r)
}

func (h levelFilter) WithAttrs(a []slog.Attr) slog.Handler {
	return levelFilter{h.Handler, h.min, append(h.ops[:len(h.ops):len(h.ops)], func(in slog.Handler) slog.Handler { return in.WithAttrs(a) })}
}

func (h levelFilter) WithGroup(name string) slog.Handler {
	return levelFilter{h.Handler, h.min, append(h.ops[:len(h.ops):len(h.ops)], func(in slog.Handler) slog.Handler { return in.WithGroup(name) })}
}
