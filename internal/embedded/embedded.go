// Package embedded runs FerretDB inside the cdt process, over SQLite files in the
// data directory, so that cdt works on a machine with no database installed. It
// is the only package that imports FerretDB.
//
// Built with the tag noembedded (the production container image, which talks
// to MongoDB), the package keeps its API but starts nothing: the binary then
// carries neither FerretDB nor its SQLite, PostgreSQL and MySQL drivers.
package embedded

import (
	"context"
	"log/slog"
)

// Available reports whether this binary carries the embedded database.
const Available = available

// DB is a running embedded database.
type DB struct {
	uri    string
	cancel context.CancelFunc
	done   chan struct{}
}

// URI is the MongoDB connection string of the embedded database.
func (d *DB) URI() string { return d.uri }

// Stop closes the listener, the connections and the SQLite files.
func (d *DB) Stop() {
	d.cancel()
	<-d.done
}

type levelFilter struct {
	slog.Handler
	min slog.Level
}

func (h levelFilter) Enabled(ctx context.Context, l slog.Level) bool {
	return l >= h.min && h.Handler.Enabled(ctx, l)
}

func (h levelFilter) WithAttrs(a []slog.Attr) slog.Handler {
	return levelFilter{h.Handler.WithAttrs(a), h.min}
}

func (h levelFilter) WithGroup(name string) slog.Handler {
	return levelFilter{h.Handler.WithGroup(name), h.min}
}
