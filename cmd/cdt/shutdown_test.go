package main

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"strings"
	"syscall"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/hue-cdt/cdt/internal/embedded"
)

// TestSIGTERMStopsALongRunWithinTheGrace: a coverage run started by hand
// (held ten minutes by CDT_DEBUG_JOB_DELAY) is running when `cdt serve`
// gets SIGTERM. The process exits within the 20 s grace period, with code
// 0, and the run is recorded as failed and interrupted, not left running.
func TestSIGTERMStopsALongRunWithinTheGrace(t *testing.T) {
	dbServer, err := embedded.Start(t.TempDir(), "127.0.0.1:0", slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(dbServer.Stop)
	env := []string{"CDT_MONGO_URI=" + dbServer.URI(), "CDT_ADMIN_PASSWORD=admin-pass-1", "CDT_ADDR=127.0.0.1:0",
		"CDT_LOG_FORMAT=text", "CDT_COVERAGE_CHECK=1h"}
	db := connect(t, dbServer.URI(), "cdt")
	// A first start computes the night the new installation missed.
	first := spawn(t, env...)
	waitFor(t, "the catch-up run", 30*time.Second, func() bool {
		runs := runsOf(t, db)
		return len(runs) == 1 && runs[0].Status == "succeeded"
	})
	if err := first.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	_ = first.cmd.Wait()
	done := len(runsOf(t, db))

	p := spawn(t, append(env, "CDT_DEBUG_JOB_DELAY=10m")...)
	s := &server{addr: p.addr}
	tok := s.login(t, "admin", "admin-pass-1")
	status, body := s.call(t, http.MethodPost, "/api/v1/jobs/coverage/run", tok, nil)
	if status != http.StatusAccepted {
		t.Fatalf("start a run: %d %v", status, body)
	}
	waitFor(t, "the run started by hand", 30*time.Second, func() bool {
		for _, r := range runsOf(t, db) {
			if r.Status == "running" && r.Trigger == "manual" {
				return true
			}
		}
		return false
	})
	signalled := time.Now()
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- p.cmd.Wait() }()
	select {
	case err := <-exited:
		if err != nil {
			t.Fatalf("exit: %v\n%s", err, p.log.String())
		}
	case <-time.After(25 * time.Second):
		t.Fatalf("still running 25 s after SIGTERM:\n%s", p.log.String())
	}
	took := time.Since(signalled)
	if took > 20*time.Second {
		t.Fatalf("the process took %s to stop, the grace is 20 s", took)
	}
	cur, err := db.Collection("job_runs").Find(context.Background(), bson.D{{Key: "job", Value: "coverage"}})
	if err != nil {
		t.Fatal(err)
	}
	var runs []bson.M
	if err := cur.All(context.Background(), &runs); err != nil {
		t.Fatal(err)
	}
	if len(runs) != done+1 {
		t.Fatalf("%d runs recorded, want %d", len(runs), done+1)
	}
	for _, r := range runs {
		if r["trigger"] != "manual" {
			continue
		}
		if r["status"] != "failed" || r["interrupted"] != true || !strings.Contains(r["error"].(string), "interrupted") {
			j, _ := json.Marshal(r)
			t.Fatalf("a run after SIGTERM: %s\n%s", j, p.log.String())
		}
	}
	t.Logf("stopped %s after SIGTERM; runs %d", took.Round(time.Millisecond), len(runs))
}
