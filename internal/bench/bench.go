// Package bench measures cdt from the outside: it starts the real binary,
// drives it over HTTP and reports latency percentiles and throughput.
package bench

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
	"regexp"
	"sort"
	"strings"
	"sync"
	"syscall"
	"time"

	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// Stats summarises latencies.
type Stats struct {
	N                       int
	P50, P95, P99, Max, Avg time.Duration
	Wall                    time.Duration
	Errors                  int
}

// Throughput is requests per second over the wall time.
func (s Stats) Throughput() float64 {
	if s.Wall <= 0 {
		return 0
	}
	return float64(s.N) / s.Wall.Seconds()
}

// Summarise computes percentiles (nearest rank).
func Summarise(lat []time.Duration, wall time.Duration, errors int) Stats {
	if len(lat) == 0 {
		return Stats{Errors: errors, Wall: wall}
	}
	s := append([]time.Duration(nil), lat...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	var sum time.Duration
	for _, d := range s {
		sum += d
	}
	at := func(p float64) time.Duration {
		i := int(p*float64(len(s))+0.999999) - 1
		return s[min(max(i, 0), len(s)-1)]
	}
	return Stats{N: len(s), P50: at(.50), P95: at(.95), P99: at(.99), Max: s[len(s)-1], Avg: sum / time.Duration(len(s)),
		Wall: wall, Errors: errors}
}

// Ms formats a duration in milliseconds with two decimals.
func Ms(d time.Duration) string { return fmt.Sprintf("%.2f", float64(d.Microseconds())/1000) }

// Server is a cdt serve child process.
type Server struct {
	Addr      string
	DBURI     string
	StartTime time.Duration
	cmd       *exec.Cmd
	log       *bytes.Buffer
	mu        sync.Mutex
}

var (
	listenRE = regexp.MustCompile(`listening addr=([0-9.]+:[0-9]+)`)
	dbRE     = regexp.MustCompile(`embedded database uri=(mongodb://[0-9.:]+/)`)
)

// Start runs `<bin> serve` with env and waits for its listening line.
func Start(ctx context.Context, bin string, env []string) (*Server, error) {
	s := &Server{log: &bytes.Buffer{}}
	s.cmd = exec.CommandContext(ctx, bin, "serve")
	s.cmd.Env = append(os.Environ(), env...)
	s.cmd.Stdout = io.Discard
	stderr, err := s.cmd.StderrPipe()
	if err != nil {
		return nil, err
	}
	start := time.Now()
	if err := s.cmd.Start(); err != nil {
		return nil, err
	}
	found := make(chan struct{})
	exited := make(chan struct{})
	go func() {
		defer close(exited)
		sc := bufio.NewScanner(stderr)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			line := sc.Text()
			s.mu.Lock()
			s.log.WriteString(line + "\n")
			if m := dbRE.FindStringSubmatch(line); m != nil {
				s.DBURI = m[1]
			}
			if m := listenRE.FindStringSubmatch(line); m != nil && s.Addr == "" {
				s.Addr = m[1]
				s.StartTime = time.Since(start)
				close(found)
			}
			s.mu.Unlock()
		}
	}()
	select {
	case <-found:
		return s, nil
	case <-exited:
	case <-time.After(10 * time.Minute):
	case <-ctx.Done():
	}
	_ = s.cmd.Process.Kill()
	return nil, fmt.Errorf("bench: server did not start:\n%s", s.Log())
}

// Log is what the server wrote so far.
func (s *Server) Log() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.log.String()
}

// Stop sends SIGTERM and waits. With CDT_BENCH_SERVER_LOG set, the server's
// log is appended to that file (to read its consolidation passes after a
// benchmark).
func (s *Server) Stop() error {
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	err := s.cmd.Wait()
	if path := os.Getenv("CDT_BENCH_SERVER_LOG"); path != "" {
		if f, ferr := os.OpenFile(path, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600); ferr == nil {
			_, _ = io.WriteString(f, s.Log())
			_ = f.Close()
		}
	}
	return err
}

// PID is the child's process ID.
func (s *Server) PID() int { return s.cmd.Process.Pid }

// Client talks to a server's JSON API.
type Client struct {
	Base  string
	Token string
	HTTP  *http.Client
}

// NewClient returns a client for addr with keep-alive connections.
func NewClient(addr string) *Client {
	tr := &http.Transport{MaxIdleConnsPerHost: 256, MaxConnsPerHost: 256, IdleConnTimeout: time.Minute}
	return &Client{Base: "http://" + addr, HTTP: &http.Client{Transport: tr, Timeout: 60 * time.Second}}
}

// Do sends a request and decodes a JSON answer into out (if not nil).
func (c *Client) Do(method, path string, body any, out any) (int, error) {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return 0, err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, c.Base+path, rd)
	if err != nil {
		return 0, err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if c.Token != "" {
		req.Header.Set("Authorization", "Bearer "+c.Token)
	}
	resp, err := c.HTTP.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	if out != nil && resp.StatusCode < 300 {
		if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
			return resp.StatusCode, err
		}
	} else {
		_, _ = io.Copy(io.Discard, resp.Body)
	}
	return resp.StatusCode, nil
}

// Login signs in and keeps the access token.
func (c *Client) Login(user, pw string) error {
	var out struct {
		AccessToken string `json:"access_token"`
	}
	st, err := c.Do("POST", "/api/v1/auth/login", map[string]string{"username": user, "password": pw}, &out)
	if err != nil || st != 200 {
		return fmt.Errorf("login %s: %d %v", user, st, err)
	}
	c.Token = out.AccessToken
	return nil
}

// Load calls fn n times from workers goroutines (fn gets the call number) and
// summarises the latencies.
func Load(n, workers int, fn func(i int) error) Stats {
	return LoadWorkers(n, workers, func(_, i int) error { return fn(i) })
}

// LoadWorkers is Load where fn also learns which worker calls it, so that
// each worker can act as a distinct client.
func LoadWorkers(n, workers int, fn func(worker, i int) error) Stats {
	var mu sync.Mutex
	lat := make([]time.Duration, 0, n)
	errs := 0
	next := make(chan int)
	var wg sync.WaitGroup
	start := time.Now()
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				t := time.Now()
				err := fn(w, i)
				d := time.Since(t)
				mu.Lock()
				if err != nil {
					errs++
				} else {
					lat = append(lat, d)
				}
				mu.Unlock()
			}
		}()
	}
	for i := range n {
		next <- i
	}
	close(next)
	wg.Wait()
	return Summarise(lat, time.Since(start), errs)
}

// Table writes a Markdown table.
func Table(w io.Writer, header []string, rows [][]string) {
	fmt.Fprintln(w, "| "+strings.Join(header, " | ")+" |")
	sep := make([]string, len(header))
	for i := range sep {
		sep[i] = "---"
	}
	fmt.Fprintln(w, "|"+strings.Join(sep, "|")+"|")
	for _, r := range rows {
		fmt.Fprintln(w, "| "+strings.Join(r, " | ")+" |")
	}
}

// dropDatabase empties database name on an external server, so that a
// benchmark starts from nothing there as it does in a fresh data directory.
func dropDatabase(ctx context.Context, uri, name string) error {
	if uri == "" {
		return nil
	}
	c, err := mongo.Connect(options.Client().ApplyURI(uri))
	if err != nil {
		return err
	}
	defer c.Disconnect(context.WithoutCancel(ctx))
	return c.Database(name).Drop(ctx)
}
