package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// syncBuffer is a bytes.Buffer safe for a writer and a reader in two goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

var listenRE = regexp.MustCompile(`listening addr=([0-9.]+:[0-9]+)`)

// server runs `cdt serve` in this process until the test stops it.
type server struct {
	addr   string
	stdout *syncBuffer
	stderr *syncBuffer
	stop   func() error
}

func startServer(t *testing.T, env map[string]string) *server {
	t.Helper()
	getenv := func(k string) string { return env[k] }
	ctx, cancel := context.WithCancel(context.Background())
	s := &server{stdout: &syncBuffer{}, stderr: &syncBuffer{}}
	done := make(chan error, 1)
	go func() { done <- run(ctx, []string{"serve"}, getenv, strings.NewReader(""), s.stdout, s.stderr) }()
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		if m := listenRE.FindStringSubmatch(s.stderr.String()); m != nil {
			s.addr = m[1]
			break
		}
		select {
		case err := <-done:
			t.Fatalf("serve stopped at start: %v\n%s", err, s.stderr)
		case <-time.After(20 * time.Millisecond):
		}
	}
	if s.addr == "" {
		cancel()
		t.Fatalf("no listening line:\n%s", s.stderr)
	}
	var once sync.Once
	var stopErr error
	s.stop = func() error {
		once.Do(func() {
			cancel()
			select {
			case stopErr = <-done:
			case <-time.After(60 * time.Second):
				stopErr = fmt.Errorf("serve did not stop")
			}
		})
		return stopErr
	}
	t.Cleanup(func() { _ = s.stop() })
	return s
}

func (s *server) call(t *testing.T, method, path, token string, body any) (int, map[string]any) {
	t.Helper()
	var rd io.Reader
	if body != nil {
		j, _ := json.Marshal(body)
		rd = bytes.NewReader(j)
	}
	req, _ := http.NewRequest(method, "http://"+s.addr+path, rd)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var m map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&m)
	return resp.StatusCode, m
}

func (s *server) login(t *testing.T, user, pw string) string {
	t.Helper()
	st, m := s.call(t, "POST", "/api/v1/auth/login", "", map[string]string{"username": user, "password": pw})
	if st != 200 {
		t.Fatalf("login %s: %d %v", user, st, m)
	}
	return m["access_token"].(string)
}

func TestDataSurvivesARestart(t *testing.T) {
	env := map[string]string{"CDT_DATA_DIR": t.TempDir(), "CDT_ADDR": "127.0.0.1:0", "CDT_ADMIN_PASSWORD": "admin-pass-1", "CDT_LOG_FORMAT": "text"}
	s := startServer(t, env)
	if !strings.Contains(s.stderr.String(), "embedded database uri=mongodb://127.0.0.1:") {
		t.Fatalf("no embedded database line:\n%s", s.stderr)
	}
	tok := s.login(t, "admin", "admin-pass-1")
	st, v := s.call(t, "POST", "/api/v1/units", tok, map[string]any{"level": "village", "parent_code": "20179", "name": "Thôn Dỗi", "households": 95})
	if st != 201 {
		t.Fatalf("create village: %d %v", st, v)
	}
	if err := s.stop(); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(s.stderr.String(), "stopped") {
		t.Fatalf("no clean stop:\n%s", s.stderr)
	}

	s2 := startServer(t, env)
	tok = s2.login(t, "admin", "admin-pass-1") // the old token is still valid too: the JWT secret is kept
	st, got := s2.call(t, "GET", "/api/v1/units/"+v["code"].(string), tok, nil)
	if st != 200 || got["name"] != "Thôn Dỗi" || got["households"].(float64) != 95 {
		t.Fatalf("after restart: %d %v", st, got)
	}
}

// TestFirstAdminPasswordReachesTheTerminalOnly is issue 11's "the generated
// admin password stays in the log file": with stdout a terminal it is printed
// there; otherwise (stdout captured into a log) it goes to a file of the data
// directory that only the server's user may read, and the log names the file,
// never the password.
func TestFirstAdminPasswordReachesTheTerminalOnly(t *testing.T) {
	passwordRE := regexp.MustCompile(`"admin" with the password (\S+)`)
	t.Run("NotATerminal", func(t *testing.T) {
		dir := t.TempDir()
		env := map[string]string{"CDT_DATA_DIR": dir, "CDT_ADDR": "127.0.0.1:0"}
		s := startServer(t, env)
		file := filepath.Join(dir, "admin-password.txt")
		b, err := os.ReadFile(file)
		if err != nil {
			t.Fatalf("no password file: %v\nstdout: %s\nstderr: %s", err, s.stdout, s.stderr)
		}
		pw := strings.TrimSpace(string(b))
		if fi, err := os.Stat(file); err != nil || fi.Mode().Perm() != 0o600 || len(pw) < 12 {
			t.Fatalf("password file %v %v, %d characters", fi.Mode(), err, len(pw))
		}
		if strings.Contains(s.stdout.String()+s.stderr.String(), pw) {
			t.Fatalf("the password is in the output:\n%s\n%s", s.stdout, s.stderr)
		}
		if !strings.Contains(s.stderr.String(), file) {
			t.Fatalf("the log does not name the password file:\n%s", s.stderr)
		}
		s.login(t, "admin", pw)
		_ = s.stop()
		s2 := startServer(t, env)
		if strings.Contains(s2.stdout.String()+s2.stderr.String(), "admin-password") {
			t.Fatalf("a second start speaks of the password again:\n%s", s2.stderr)
		}
	})
	t.Run("Terminal", func(t *testing.T) {
		was := isTerminal
		isTerminal = func(io.Writer) bool { return true }
		t.Cleanup(func() { isTerminal = was })
		dir := t.TempDir()
		s := startServer(t, map[string]string{"CDT_DATA_DIR": dir, "CDT_ADDR": "127.0.0.1:0"})
		m := passwordRE.FindStringSubmatch(s.stdout.String())
		if m == nil {
			t.Fatalf("no generated password on the terminal:\n%s", s.stdout)
		}
		if strings.Contains(s.stderr.String(), m[1]) {
			t.Fatalf("the password is in the log:\n%s", s.stderr)
		}
		if _, err := os.Stat(filepath.Join(dir, "admin-password.txt")); !os.IsNotExist(err) {
			t.Fatalf("a password file beside the terminal: %v", err)
		}
		s.login(t, "admin", m[1])
	})
}

func TestUserAddFromTheCommandLine(t *testing.T) {
	dir := t.TempDir()
	var out, errb syncBuffer
	getenv := func(k string) string {
		return map[string]string{"CDT_DATA_DIR": dir, "CDT_ADMIN_PASSWORD": "admin-pass-1"}[k]
	}
	err := run(context.Background(), []string{"user", "add", "--username", "Lanh.Dao", "--role", "commune_leader", "--unit", "20179"},
		getenv, strings.NewReader("secret-pass-9\n"), &out, &errb)
	if err != nil {
		t.Fatalf("%v\n%s", err, errb.String())
	}
	if !strings.Contains(out.String(), "created login lanh.dao") {
		t.Fatalf("stdout: %s", out.String())
	}
	err = run(context.Background(), []string{"user", "add", "--username", "x", "--role", "commune_leader", "--unit", "19750"},
		getenv, strings.NewReader("short\n"), &out, &errb)
	if err == nil || !strings.Contains(err.Error(), "not created") {
		t.Fatalf("invalid login accepted: %v", err)
	}
	s := startServer(t, map[string]string{"CDT_DATA_DIR": dir, "CDT_ADDR": "127.0.0.1:0"})
	tok := s.login(t, "lanh.dao", "secret-pass-9")
	if st, _ := s.call(t, "GET", "/api/v1/teams?commune=20179", tok, nil); st != 200 {
		t.Fatalf("the new commune leader cannot read their commune: %d", st)
	}
	if st, _ := s.call(t, "GET", "/api/v1/teams?commune=19753", tok, nil); st != 403 {
		t.Fatalf("the new commune leader reads another commune: %d", st)
	}
}

func TestBadConfigurationIsRefusedUpFront(t *testing.T) {
	var out, errb syncBuffer
	err := run(context.Background(), []string{"serve"}, func(k string) string {
		return map[string]string{"CDT_MONGO_URI": "http://nope", "CDT_JWT_SECRET": "short"}[k]
	}, strings.NewReader(""), &out, &errb)
	if err == nil || !strings.Contains(err.Error(), "CDT_MONGO_URI") || !strings.Contains(err.Error(), "CDT_JWT_SECRET") {
		t.Fatalf("err = %v", err)
	}
}

// TestSIGTERMStopsTheProcessCleanly builds the real binary and stops it with
// SIGTERM while a request is in flight: the request completes, the exit code is 0.
func TestSIGTERMStopsTheProcessCleanly(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "cdt")
	build := exec.Command("go", "build", "-o", bin, ".")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	cmd := exec.Command(bin, "serve")
	cmd.Env = append(os.Environ(), "CDT_DATA_DIR="+t.TempDir(), "CDT_ADDR=127.0.0.1:0", "CDT_ADMIN_PASSWORD=admin-pass-1")
	stderr, _ := cmd.StderrPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	sc := bufio.NewScanner(stderr)
	addr := ""
	var log strings.Builder
	for sc.Scan() {
		log.WriteString(sc.Text() + "\n")
		if m := listenRE.FindStringSubmatch(sc.Text()); m != nil {
			addr = m[1]
			break
		}
	}
	if addr == "" {
		t.Fatalf("no listening line:\n%s", log.String())
	}
	drained := make(chan struct{})
	go func() {
		defer close(drained)
		for sc.Scan() {
			log.WriteString(sc.Text() + "\n")
		}
	}()
	// A login (bcrypt) is in flight when the signal arrives.
	type result struct {
		status int
		err    error
	}
	res := make(chan result, 1)
	go func() {
		resp, err := http.Post("http://"+addr+"/api/v1/auth/login", "application/json",
			strings.NewReader(`{"username":"admin","password":"admin-pass-1"}`))
		if err != nil {
			res <- result{0, err}
			return
		}
		resp.Body.Close()
		res <- result{resp.StatusCode, nil}
	}()
	time.Sleep(5 * time.Millisecond)
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	r := <-res
	if r.err != nil || r.status != 200 {
		t.Fatalf("in-flight request: %d %v", r.status, r.err)
	}
	<-drained // stderr ends when the process does
	if err := cmd.Wait(); err != nil {
		t.Fatalf("exit: %v\n%s", err, log.String())
	}
	if cmd.ProcessState.ExitCode() != 0 {
		t.Fatalf("exit code %d", cmd.ProcessState.ExitCode())
	}
	// A clean stop says so, and warns of nothing.
	out := log.String()
	if !strings.Contains(out, `"msg":"stopped"`) || strings.Contains(out, `"level":"WARN"`) || strings.Contains(out, `"level":"ERROR"`) {
		t.Fatalf("shutdown log:\n%s", out)
	}
}

// TestRawHouseholdNumberIsNowhereOnDisk logs records through a real server,
// stops it, and searches every file of the data directory (SQLite database,
// WAL) and everything the server printed for the numbers that were typed.
// assertNowhereOnDisk reads every file below dir and fails the test for each
// needle one of them contains, or when a control (text the data does hold)
// is found in none: a walk that finds no control read nothing stored.
func assertNowhereOnDisk(t *testing.T, dir string, needles, controls []string) {
	t.Helper()
	files := 0
	found := map[string]bool{}
	err := filepath.Walk(dir, func(p string, info os.FileInfo, err error) error {
		if err != nil || info.IsDir() {
			return err
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		files++
		for _, c := range controls {
			found[c] = found[c] || bytes.Contains(data, []byte(c))
		}
		for _, n := range needles {
			if bytes.Contains(data, []byte(n)) {
				t.Errorf("%s contains %q", p, n)
			}
		}
		return nil
	})
	missing := false
	for _, c := range controls {
		missing = missing || !found[c]
	}
	if err != nil || files == 0 || missing {
		t.Fatalf("walked %d files (controls found: %v of %v): %v", files, found, controls, err)
	}
}

func TestRawHouseholdNumberIsNowhereOnDisk(t *testing.T) {
	dir := t.TempDir()
	env := map[string]string{"CDT_DATA_DIR": dir, "CDT_ADDR": "127.0.0.1:0", "CDT_ADMIN_PASSWORD": "admin-pass-1",
		"CDT_LOG_LEVEL": "debug"}
	s := startServer(t, env)
	tok := s.login(t, "admin", "admin-pass-1")
	_, v := s.call(t, "POST", "/api/v1/units", tok, map[string]any{"level": "village", "parent_code": "20056", "name": "Thôn A Đớt", "households": 120})
	_, team := s.call(t, "POST", "/api/v1/teams", tok, map[string]any{"name": "Tổ CNSCĐ A Đớt", "commune_code": "20056",
		"village_code": v["code"], "established_on": "2025-08-01", "decision_no": "9/QĐ-UBND"})
	_, m := s.call(t, "POST", "/api/v1/members", tok, map[string]any{"team_id": team["id"], "full_name": "Hồ Thị Hoa",
		"position": "member", "affiliation": "youth_union", "gender": "f", "birth_year": 1999})
	if st, _ := s.call(t, "POST", "/api/v1/users", tok, map[string]any{"username": "hoa.ho", "password": "mat-khau-9",
		"role": "member", "unit_code": "20056", "member_id": m["id"]}); st != 201 {
		t.Fatalf("login: %d", st)
	}
	mt := s.login(t, "hoa.ho", "mat-khau-9")
	at := time.Now().Add(-time.Hour).Format(time.RFC3339)
	for i, ref := range []string{"0912 345 678", "+84 912 345 679", "0912-345-680"} {
		st, body := s.call(t, "POST", "/api/v1/assistance", mt, map[string]any{"client_id": fmt.Sprintf("0000000%d-1111-4111-8111-111111111111", i),
			"service": "vneid_activation", "household_ref": ref, "village_code": v["code"], "occurred_at": at, "outcome": "done"})
		if st != 201 {
			t.Fatalf("record %d: %d %v", i, st, body)
		}
	}
	time.Sleep(1500 * time.Millisecond) // a delta flush
	if err := s.stop(); err != nil {
		t.Fatal(err)
	}
	needles := []string{"912345678", "912345679", "912345680", "912 345 678", "345 679", "345-680"}
	// Stored data is searchable as text: the village's name is found.
	assertNowhereOnDisk(t, dir, needles, []string{"A Đớt"})
	for _, n := range needles {
		if strings.Contains(s.stderr.String(), n) || strings.Contains(s.stdout.String(), n) {
			t.Errorf("the server printed %q", n)
		}
	}
	// The records are there, under their hash.
	s2 := startServer(t, map[string]string{"CDT_DATA_DIR": dir, "CDT_ADDR": "127.0.0.1:0"})
	_, list := s2.call(t, "GET", "/api/v1/assistance?commune=20056", s2.login(t, "admin", "admin-pass-1"), nil)
	if items, _ := list["items"].([]any); len(items) != 3 {
		t.Fatalf("records after restart: %v", list)
	}
}
