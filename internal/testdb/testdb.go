// Package testdb gives tests a real database: one embedded FerretDB per test
// package, and a fresh database per test. With CDT_TEST_MONGO_URI set, the same
// tests run against that MongoDB or FerretDB instead.
package testdb

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hue-cdt/cdt/internal/embedded"
	"github.com/hue-cdt/cdt/store"
)

var (
	uri     string
	counter atomic.Int64
)

// Main runs the tests of a package around one database server.
func Main(m *testing.M) {
	code := run(m)
	os.Exit(code)
}

func run(m *testing.M) int {
	uri = os.Getenv("CDT_TEST_MONGO_URI")
	if uri == "" {
		dir, err := os.MkdirTemp("", "cdt-test-")
		if err != nil {
			fmt.Fprintln(os.Stderr, "testdb:", err)
			return 1
		}
		defer os.RemoveAll(dir)
		db, err := embedded.Start(dir, "127.0.0.1:0", slog.New(slog.DiscardHandler))
		if err != nil {
			fmt.Fprintln(os.Stderr, "testdb:", err)
			return 1
		}
		defer db.Stop()
		uri = db.URI()
	}
	return m.Run()
}

// URI is the connection string of the test database server.
func URI() string { return uri }

// Name returns a database name no other test of this run uses.
func Name(t testing.TB) string {
	n := strings.NewReplacer("/", "_", " ", "_", ".", "_").Replace(t.Name())
	if len(n) > 30 {
		n = n[:30]
	}
	return fmt.Sprintf("t%d_%d_%s", os.Getpid()%10000, counter.Add(1), n)
}

// Open returns stores on a fresh database, dropped when the test ends.
func Open(t testing.TB, o ...store.Options) *store.DB {
	t.Helper()
	return OpenNamed(t, Name(t), o...)
}

// OpenNamed opens database name (shared by several handles in one test, like
// several processes), dropping it when the test ends.
func OpenNamed(t testing.TB, name string, o ...store.Options) *store.DB {
	t.Helper()
	if uri == "" {
		t.Fatal("testdb: call testdb.Main from TestMain")
	}
	var opts store.Options
	if len(o) > 0 {
		opts = o[0]
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	db, err := store.Open(ctx, uri, name, opts)
	if err != nil {
		t.Fatal(err)
	}
	if err := db.EnsureIndexes(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		_ = db.Drop(ctx)
		_ = db.Close(ctx)
	})
	return db
}
