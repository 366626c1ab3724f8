package api_test

import (
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hue-cdt/cdt/internal/app"
	"github.com/hue-cdt/cdt/internal/apptest"
	"github.com/hue-cdt/cdt/internal/embedded"
	"github.com/hue-cdt/cdt/internal/testdb"
)

// freeAddr is a loopback address no one listens on.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// unavailable checks a 503 database_unavailable answer.
func unavailable(t *testing.T, what string, r apptest.Response) {
	t.Helper()
	if r.Status != http.StatusServiceUnavailable || r.ErrorCode() != "database_unavailable" {
		t.Fatalf("%s: %d %s, want 503 database_unavailable", what, r.Status, r.Body)
	}
}

// untilStatus polls path until it answers status.
func untilStatus(t *testing.T, e *apptest.Env, path string, status int, within time.Duration) {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		r := e.Get(path, "")
		if r.Status == status {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: %d %s, want %d", path, r.Status, r.Body, status)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// TestFullDiskAnswers503: the embedded database runs out of room for real
// (SQLite's max_page_count, set on every connection of FerretDB), then turns
// read-only. Writes, the login and /readyz answer 503 database_unavailable,
// and all is well again once it can write.
func TestFullDiskAnswers503(t *testing.T) {
	dir, addr := t.TempDir(), freeAddr(t)
	quiet := slog.New(slog.DiscardHandler)
	var db *embedded.DB
	start := func(pragmas ...string) {
		t.Helper()
		var err error
		if db, err = embedded.StartPragmas(dir, addr, quiet, pragmas...); err != nil {
			t.Fatal(err)
		}
	}
	start()
	t.Cleanup(func() { db.Stop() })
	e := apptest.New(t, func(c *app.Config) { c.MongoURI = db.URI(); c.DB = "full"; c.ReadyWindow = time.Second })
	f := e.NewFixture()
	e.Must(e.Post("/api/v1/assistance", f.MemberTokA, apptest.Record(f.VillageA, apptest.Start.Add(-time.Hour), "0905000001")), 201)

	// The same files, now with room for a few more pages only.
	db.Stop()
	st, err := os.Stat(filepath.Join(dir, "ferretdb", "full.sqlite"))
	if err != nil {
		t.Fatal(err)
	}
	start(fmt.Sprintf("max_page_count(%d)", st.Size()/4096+6))
	untilStatus(t, e, "/readyz", http.StatusOK, 20*time.Second)

	var r apptest.Response
	for i := 0; ; i++ {
		r = e.Post("/api/v1/assistance", f.MemberTokA, apptest.Record(f.VillageA, apptest.Start.Add(-time.Hour), fmt.Sprintf("09050%05d", i)))
		if r.Status != http.StatusCreated {
			break
		}
		if i > 3000 {
			t.Fatal("3,000 records fit in six pages")
		}
	}
	unavailable(t, "POST /assistance on a full disk", r)
	recs := []any{apptest.Record(f.VillageA, apptest.Start.Add(-time.Hour), "0905111999"), apptest.Record(f.VillageA, apptest.Start.Add(-time.Hour), "0905111998")}
	unavailable(t, "POST /assistance/batch on a full disk", e.Post("/api/v1/assistance/batch", f.MemberTokA, map[string]any{"records": recs}))
	for i := 0; ; i++ { // each login stores a session: they fill what room is left
		r = e.Post("/api/v1/auth/login", "", map[string]string{"username": "member.a", "password": apptest.Password})
		if r.Status != http.StatusOK {
			break
		}
		if i > 500 {
			t.Fatal("500 sessions fit on a full disk")
		}
	}
	unavailable(t, "login on a full disk", r)
	unavailable(t, "/readyz on a full disk", e.Get("/readyz", ""))

	// Room again, but a read-only database (a volume remounted read-only).
	db.Stop()
	start("query_only(1)")
	unavailable(t, "POST /assistance on a read-only database", e.Post("/api/v1/assistance", f.MemberTokA,
		apptest.Record(f.VillageA, apptest.Start.Add(-time.Hour), "0905111997")))
	unavailable(t, "/readyz on a read-only database", e.Get("/readyz", ""))
	// All well again.
	db.Stop()
	start()
	untilStatus(t, e, "/readyz", http.StatusOK, 20*time.Second)
	e.Must(e.Post("/api/v1/assistance/batch", f.MemberTokA, map[string]any{"records": recs}), 200)
}

// hangingProxy forwards TCP to target until Hang, then holds every byte (a
// database that stops answering without closing anything), until Resume.
type hangingProxy struct {
	ln     net.Listener
	target string
	mu     sync.Mutex
	cond   *sync.Cond
	hung   bool
}

func newHangingProxy(t *testing.T, target string) *hangingProxy {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &hangingProxy{ln: ln, target: target}
	p.cond = sync.NewCond(&p.mu)
	t.Cleanup(func() { p.Resume(); ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go p.serve(c)
		}
	}()
	return p
}

func (p *hangingProxy) URI() string { return "mongodb://" + p.ln.Addr().String() + "/" }

func (p *hangingProxy) wait() {
	p.mu.Lock()
	for p.hung {
		p.cond.Wait()
	}
	p.mu.Unlock()
}

func (p *hangingProxy) serve(c net.Conn) {
	defer c.Close()
	p.wait()
	s, err := net.Dial("tcp", p.target)
	if err != nil {
		return
	}
	defer s.Close()
	pipe := func(dst, src net.Conn) {
		buf := make([]byte, 32<<10)
		for {
			n, err := src.Read(buf)
			p.wait()
			if n > 0 {
				if _, werr := dst.Write(buf[:n]); werr != nil {
					return
				}
			}
			if err != nil {
				return
			}
		}
	}
	go pipe(s, c)
	pipe(c, s)
}

func (p *hangingProxy) Hang() { p.mu.Lock(); p.hung = true; p.mu.Unlock() }

func (p *hangingProxy) Resume() {
	p.mu.Lock()
	p.hung = false
	p.mu.Unlock()
	p.cond.Broadcast()
}

// TestHungDatabaseAnswers503: the database stops answering (a proxy holds
// every byte). Reads, writes, the login and /readyz answer 503
// database_unavailable within the request deadline, and recover with it.
func TestHungDatabaseAnswers503(t *testing.T) {
	target := strings.TrimSuffix(strings.TrimPrefix(testdb.URI(), "mongodb://"), "/")
	p := newHangingProxy(t, target)
	e := apptest.New(t, func(c *app.Config) {
		c.MongoURI = p.URI()
		c.RequestTimeout = 2 * time.Second
		c.ReadyWindow = time.Second
	})
	f := e.NewFixture()
	e.Must(e.Get("/api/v1/me", f.MemberTokA), 200)
	p.Hang()
	started := time.Now()
	unavailable(t, "GET /me with a hung database", e.Get("/api/v1/me", f.MemberTokA))
	if took := time.Since(started); took > 10*time.Second {
		t.Fatalf("GET /me took %s with a hung database", took)
	}
	unavailable(t, "POST /assistance with a hung database", e.Post("/api/v1/assistance", f.MemberTokA,
		apptest.Record(f.VillageA, apptest.Start.Add(-time.Hour), "0905000002")))
	unavailable(t, "login with a hung database", e.Post("/api/v1/auth/login", "", map[string]string{"username": "member.a", "password": apptest.Password}))
	unavailable(t, "/readyz with a hung database", e.Get("/readyz", ""))
	p.Resume()
	untilStatus(t, e, "/readyz", http.StatusOK, 30*time.Second)
	e.Must(e.Get("/api/v1/me", f.MemberTokA), 200)
}
