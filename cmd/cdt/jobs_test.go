package main

import (
	"bufio"
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/hue-cdt/cdt/domain"
	"github.com/hue-cdt/cdt/internal/embedded"
)

var (
	binOnce sync.Once
	binPath string
	binErr  error
)

// binary builds cdt once for the tests that need real processes.
func binary(t *testing.T) string {
	t.Helper()
	binOnce.Do(func() {
		dir, err := os.MkdirTemp("", "cdt-bin-")
		if err != nil {
			binErr = err
			return
		}
		binPath = filepath.Join(dir, "cdt")
		out, err := exec.Command("go", "build", "-o", binPath, ".").CombinedOutput()
		if err != nil {
			binErr = fmt.Errorf("build: %v\n%s", err, out)
		}
	})
	if binErr != nil {
		t.Fatal(binErr)
	}
	return binPath
}

// proc is a `cdt serve` child process.
type proc struct {
	cmd   *exec.Cmd
	addr  string
	dbURI string
	log   *syncBuffer
}

func spawn(t *testing.T, env ...string) *proc {
	t.Helper()
	p := &proc{log: &syncBuffer{}}
	p.cmd = exec.Command(binary(t), "serve")
	p.cmd.Env = append(os.Environ(), env...)
	stderr, _ := p.cmd.StderrPipe()
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = p.cmd.Process.Kill(); _ = p.cmd.Wait() })
	ready := make(chan struct{})
	go func() {
		sc := bufio.NewScanner(stderr)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			line := sc.Text()
			p.log.Write([]byte(line + "\n"))
			if m := listenRE.FindStringSubmatch(line); m != nil && p.addr == "" {
				p.addr = m[1]
				close(ready)
			}
			if i := strings.Index(line, "embedded database uri="); i >= 0 && p.dbURI == "" {
				p.dbURI = strings.Fields(strings.Trim(line[i+len("embedded database uri="):], `"`))[0]
				p.dbURI = strings.TrimRight(p.dbURI, `",`)
			}
		}
	}()
	select {
	case <-ready:
	case <-time.After(60 * time.Second):
		t.Fatalf("no listening line:\n%s", p.log.String())
	}
	return p
}

type runRec struct {
	ID       string    `bson:"_id"`
	Status   string    `bson:"status"`
	Date     string    `bson:"date"`
	Trigger  string    `bson:"trigger"`
	Owner    string    `bson:"owner"`
	Started  time.Time `bson:"started_at"`
	Finished time.Time `bson:"finished_at"`
}

func runsOf(t *testing.T, db *mongo.Database) []runRec {
	t.Helper()
	// The coverage runs: the integrity runs that follow them share the collection.
	cur, err := db.Collection("job_runs").Find(context.Background(), bson.D{{Key: "job", Value: "coverage"}})
	if err != nil {
		t.Fatal(err)
	}
	var out []runRec
	if err := cur.All(context.Background(), &out); err != nil {
		t.Fatal(err)
	}
	return out
}

func connect(t *testing.T, uri, name string) *mongo.Database {
	t.Helper()
	c, err := mongo.Connect(options.Client().ApplyURI(uri))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Disconnect(context.Background()) })
	return c.Database(name)
}

func waitFor(t *testing.T, what string, d time.Duration, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

var yesterday = func() string { return string(domain.DateOf(time.Now()).AddDays(-1)) }

// The nightly schedule is set to 00:00, so the night is due at once; both
// servers check every second whether it is.
var nightlyNow = []string{"CDT_COVERAGE_AT=00:00", "CDT_COVERAGE_CHECK=1s", "CDT_ADMIN_PASSWORD=admin-pass-1",
	"CDT_LOG_FORMAT=text", "CDT_ADDR=127.0.0.1:0"}

// TestTwoServersOnOneDatabaseRunTheNightOnce: the second server is pointed at
// the first one's embedded database.
func TestTwoServersOnOneDatabaseRunTheNightOnce(t *testing.T) {
	first := spawn(t, append(nightlyNow, "CDT_DATA_DIR="+t.TempDir())...)
	if first.dbURI == "" {
		t.Fatalf("no embedded database line:\n%s", first.log.String())
	}
	second := spawn(t, append(nightlyNow, "CDT_MONGO_URI="+first.dbURI)...)
	db := connect(t, first.dbURI, "cdt")
	waitFor(t, "a succeeded nightly run", 60*time.Second, func() bool {
		for _, r := range runsOf(t, db) {
			if r.Date == yesterday() && r.Status == "succeeded" {
				return true
			}
		}
		return false
	})
	time.Sleep(4 * time.Second) // several more checks on both servers
	runs := runsOf(t, db)
	if len(runs) != 1 || runs[0].Status != "succeeded" || runs[0].Trigger == "manual" {
		t.Fatalf("runs: %+v\nfirst:\n%s\nsecond:\n%s", runs, first.log.String(), second.log.String())
	}
}

// TestKilledLeaseHolderMidRun: two servers share a database; the one running
// the night is killed (SIGKILL) in the middle of it. The other takes over once
// the lease expires, marks the dead run failed, and computes the night once.
func TestKilledLeaseHolderMidRun(t *testing.T) {
	dbServer, err := embedded.Start(t.TempDir(), "127.0.0.1:0", slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(dbServer.Stop)
	env := append(nightlyNow, "CDT_MONGO_URI="+dbServer.URI(), "CDT_DEBUG_JOB_DELAY=5s", "CDT_JOB_LEASE_TTL=3s")
	a := spawn(t, env...)
	b := spawn(t, env...)
	db := connect(t, dbServer.URI(), "cdt")
	var victim runRec
	waitFor(t, "a running nightly run", 60*time.Second, func() bool {
		for _, r := range runsOf(t, db) {
			if r.Status == "running" {
				victim = r
				return true
			}
		}
		return false
	})
	// Find the holder's PID in the process registry and kill it.
	owner, _, _ := strings.Cut(victim.Owner, "/")
	var p struct {
		PID int `bson:"pid"`
	}
	if err := db.Collection("processes").FindOne(context.Background(), bson.D{{Key: "_id", Value: owner}}).Decode(&p); err != nil {
		t.Fatal(err)
	}
	killed, survivor := a, b
	if b.cmd.Process.Pid == p.PID {
		killed, survivor = b, a
	} else if a.cmd.Process.Pid != p.PID {
		t.Fatalf("holder pid %d is neither server", p.PID)
	}
	if err := killed.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the survivor's succeeded run", 60*time.Second, func() bool {
		for _, r := range runsOf(t, db) {
			if r.Date == yesterday() && r.Status == "succeeded" {
				return true
			}
		}
		return false
	})
	time.Sleep(3 * time.Second)
	var succeeded, failed []runRec
	for _, r := range runsOf(t, db) {
		switch r.Status {
		case "succeeded":
			succeeded = append(succeeded, r)
		case "failed":
			failed = append(failed, r)
		default:
			t.Fatalf("a run still %s: %+v", r.Status, r)
		}
	}
	if len(succeeded) != 1 || len(failed) != 1 || failed[0].ID != victim.ID {
		t.Fatalf("succeeded %+v, failed %+v\nsurvivor:\n%s", succeeded, failed, survivor.log.String())
	}
	// No overlap: the survivor started after the victim's lease ran out.
	if !succeeded[0].Started.After(victim.Started.Add(3 * time.Second)) {
		t.Fatalf("the runs overlap: victim %v, survivor %v", victim.Started, succeeded[0].Started)
	}
	if !strings.Contains(survivor.log.String(), "abandoned") {
		t.Fatalf("the survivor did not report the abandoned run:\n%s", survivor.log.String())
	}
}

func TestJobsRunCoverageFromTheCommandLine(t *testing.T) {
	var out, errb syncBuffer
	getenv := func(k string) string {
		return map[string]string{"CDT_DATA_DIR": t.TempDir(), "CDT_ADMIN_PASSWORD": "admin-pass-1"}[k]
	}
	if err := run(context.Background(), []string{"jobs", "run", "coverage", "--full"}, getenv, strings.NewReader(""), &out, &errb); err != nil {
		t.Fatalf("%v\n%s", err, errb.String())
	}
	if !strings.Contains(out.String(), "succeeded") || !strings.Contains(out.String(), "40 communes") {
		t.Fatalf("stdout: %s", out.String())
	}
	if err := run(context.Background(), []string{"jobs", "run", "nothing"}, getenv, strings.NewReader(""), &out, &errb); err == nil {
		t.Fatal("an unknown job was accepted")
	}
}
