package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
)

// crashClient talks to whichever server runs now, with short timeouts: the
// server may be killed under it.
type crashClient struct {
	mu   sync.Mutex
	base string
	http *http.Client
}

func (c *crashClient) setAddr(addr string) {
	c.mu.Lock()
	c.base = "http://" + addr
	c.mu.Unlock()
}

func (c *crashClient) do(method, path, token string, body any, out any) (int, error) {
	c.mu.Lock()
	base := c.base
	c.mu.Unlock()
	var rd *bytes.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	} else {
		rd = bytes.NewReader(nil)
	}
	req, err := http.NewRequest(method, base+path, rd)
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	if out != nil {
		_ = json.NewDecoder(resp.Body).Decode(out)
	}
	return resp.StatusCode, nil
}

type crashMember struct {
	id, village, login, token string
}

// signIn logs login in and returns its access token. Tokens live 15
// minutes, and twenty rounds last longer: every round signs in afresh.
func signIn(t *testing.T, c *crashClient, login, password string) string {
	t.Helper()
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	if st, err := c.do("POST", "/api/v1/auth/login", "", map[string]string{"username": login, "password": password}, &tok); st != 200 {
		t.Fatalf("login %s: %d %v", login, st, err)
	}
	return tok.AccessToken
}

// crashRounds is how many times TestCrashUnderLoad kills the server:
// CDT_CRASH_ROUNDS=20 go test ./cmd/cdt -run TestCrashUnderLoad -v
func crashRounds() int {
	if n, err := strconv.Atoi(os.Getenv("CDT_CRASH_ROUNDS")); err == nil && n > 0 {
		return n
	}
	return 2
}

// TestCrashUnderLoad kills `cdt serve` (kill -9) at random moments while
// members log records concurrently, restarts it, and checks that every
// record acknowledged is stored once and listed once, that after the
// restart the member lists and the coverage figures show them all within 30
// seconds, and that no coverage run counts fewer records than were
// acknowledged before it started. Phones send again what got no answer: so
// do the clients here.
func TestCrashUnderLoad(t *testing.T) {
	t.Parallel() // its own server, data dir and port
	dir := t.TempDir()
	env := []string{"CDT_DATA_DIR=" + dir, "CDT_ADDR=127.0.0.1:0", "CDT_DEMO=true", "CDT_ADMIN_PASSWORD=admin-pass-1",
		"CDT_LOG_FORMAT=text", "CDT_COVERAGE_AT=23:59", "CDT_COVERAGE_CHECK=1h", "CDT_ASSIST_RATE=100000", "CDT_LOGIN_RATE=1000"}
	p := spawn(t, env...)
	c := &crashClient{http: &http.Client{Timeout: 10 * time.Second}}
	c.setAddr(p.addr)
	admin := signIn(t, c, "admin", "admin-pass-1")
	const commune = "19753"
	members := crashMembers(t, c, admin, commune, 6)
	total0 := coverageTotal(t, c, admin, commune)
	r := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 3))
	acked := map[string]string{} // record ID → member
	var unacked []crashRecord
	var mu sync.Mutex
	rounds := crashRounds()
	var recoveries []time.Duration
	for round := 1; round <= rounds; round++ {
		admin = signIn(t, c, "admin", "admin-pass-1")
		for i := range members {
			members[i].token = signIn(t, c, members[i].login, "crash-pass-1")
		}
		// Load, a coverage run in the middle of it, and a kill -9.
		stop := make(chan struct{})
		var wg sync.WaitGroup
		for _, m := range members {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for {
					select {
					case <-stop:
						return
					default:
					}
					rec := newCrashRecord(m)
					if crashSend(c, rec) {
						mu.Lock()
						acked[rec.id] = m.id
						mu.Unlock()
					} else {
						mu.Lock()
						unacked = append(unacked, rec)
						mu.Unlock()
						time.Sleep(20 * time.Millisecond)
					}
				}
			}()
		}
		time.Sleep(time.Duration(200+r.IntN(800)) * time.Millisecond)
		mu.Lock()
		before := len(acked)
		mu.Unlock()
		var runID struct {
			RunID string `json:"run_id"`
		}
		if st, _ := c.do("POST", "/api/v1/jobs/coverage/run", admin, nil, &runID); st == 202 {
			if waitRun(c, admin, runID.RunID, 20*time.Second) {
				if got := coverageTotalNow(c, admin, commune); got >= 0 && got < total0+before {
					t.Fatalf("round %d: a run during the load counted %d records, %d were acknowledged before it began",
						round, got-total0, before)
				}
			}
		}
		time.Sleep(time.Duration(r.IntN(1500)) * time.Millisecond)
		_ = p.cmd.Process.Kill() // kill -9
		_ = p.cmd.Wait()
		close(stop)
		wg.Wait()

		p = spawn(t, env...)
		restarted := time.Now()
		c.setAddr(p.addr)
		// What got no answer is sent again until it gets one.
		for len(unacked) > 0 {
			rec := unacked[0]
			for _, m := range members {
				if m.id == rec.member.id {
					rec.member.token = m.token
				}
			}
			if !crashSend(c, rec) {
				time.Sleep(50 * time.Millisecond)
				continue
			}
			acked[rec.id] = rec.member.id
			unacked = unacked[1:]
		}
		// Lists and coverage show every record acknowledged, once.
		want := len(acked)
		var problem string
		deadline := restarted.Add(30 * time.Second)
		for {
			problem = listProblem(c, members, acked)
			if problem == "" {
				problem = "no coverage run succeeded"
				if st, _ := c.do("POST", "/api/v1/jobs/coverage/run", admin, nil, &runID); st == 202 && waitRun(c, admin, runID.RunID, 25*time.Second) {
					got := coverageTotalNow(c, admin, commune)
					if got >= 0 && got < total0+want {
						t.Fatalf("round %d: a run after the restart counted %d records, %d were acknowledged", round, got-total0, want)
					}
					if got == total0+want {
						break
					}
					problem = fmt.Sprintf("coverage counts %d records, want %d", got-total0, want)
				}
			}
			if time.Now().After(deadline) {
				t.Fatalf("round %d: 30 s after the restart: %s\n%s", round, problem, p.log.String())
			}
			time.Sleep(200 * time.Millisecond)
		}
		recoveries = append(recoveries, time.Since(restarted))
		t.Logf("round %d: %d records acknowledged, all listed once and counted; recovered in %v", round, want,
			time.Since(restarted).Round(time.Millisecond))
	}
	stored := storedRecords(t, p, members)
	if stored != len(acked) {
		t.Fatalf("%d records of the test stored, %d acknowledged", stored, len(acked))
	}
	worst := time.Duration(0)
	for _, d := range recoveries {
		worst = max(worst, d)
	}
	t.Logf("%d rounds: %d records acknowledged, %d stored, each listed and counted once; slowest recovery %v",
		rounds, len(acked), stored, worst.Round(time.Millisecond))
}

type crashRecord struct {
	id     string
	member crashMember
	body   map[string]any
}

func newCrashRecord(m crashMember) crashRecord {
	id := uuid.NewString()
	return crashRecord{id: m.id + ":" + id, member: m, body: map[string]any{"client_id": id, "service": "vneid_activation",
		"household_ref": fmt.Sprintf("09%08d", rand.IntN(100_000_000)), "village_code": m.village,
		"occurred_at": time.Now().Add(-time.Minute).Format(time.RFC3339), "outcome": "done"}}
}

// crashSend sends a record; true when the server acknowledged it (created,
// or stored already).
func crashSend(c *crashClient, rec crashRecord) bool {
	st, err := c.do("POST", "/api/v1/assistance", rec.member.token, rec.body, nil)
	return err == nil && (st == 201 || st == 200)
}

func crashMembers(t *testing.T, c *crashClient, admin, commune string, n int) []crashMember {
	t.Helper()
	var teams struct {
		Items []struct {
			ID          string  `json:"id"`
			VillageCode *string `json:"village_code"`
		} `json:"items"`
	}
	if st, err := c.do("GET", "/api/v1/teams?limit=200&commune="+commune, admin, nil, &teams); st != 200 {
		t.Fatalf("teams: %d %v", st, err)
	}
	var out []crashMember
	for _, tm := range teams.Items {
		if len(out) == n {
			break
		}
		if tm.VillageCode == nil {
			continue
		}
		var ms struct {
			Items []struct {
				ID string `json:"id"`
			} `json:"items"`
		}
		c.do("GET", "/api/v1/members?team="+tm.ID, admin, nil, &ms)
		for _, it := range ms.Items {
			login := "crash." + strings.ToLower(strings.ReplaceAll(it.ID, "-", "."))
			st, _ := c.do("POST", "/api/v1/users", admin, map[string]any{"username": login, "password": "crash-pass-1",
				"role": "member", "unit_code": commune, "member_id": it.ID}, nil)
			if st != 201 {
				continue
			}
			out = append(out, crashMember{id: it.ID, village: *tm.VillageCode, login: login, token: signIn(t, c, login, "crash-pass-1")})
			break
		}
	}
	if len(out) < n {
		t.Fatalf("only %d members", len(out))
	}
	return out
}

// listProblem pages through each member's list and says what differs from
// the records acknowledged ("" when nothing).
func listProblem(c *crashClient, members []crashMember, acked map[string]string) string {
	for _, m := range members {
		listed := map[string]int{}
		cursor := ""
		for {
			var page struct {
				Items []struct {
					ID string `json:"id"`
				} `json:"items"`
				Next *string `json:"next_cursor"`
			}
			path := "/api/v1/assistance?limit=200&member=" + m.id
			if cursor != "" {
				path += "&cursor=" + url.QueryEscape(cursor)
			}
			if st, err := c.do("GET", path, m.token, nil, &page); st != 200 {
				return fmt.Sprintf("list of %s: %d %v", m.id, st, err)
			}
			for _, it := range page.Items {
				listed[it.ID]++
			}
			if page.Next == nil {
				break
			}
			cursor = *page.Next
		}
		for id, member := range acked {
			if member == m.id && listed[id] != 1 {
				return fmt.Sprintf("record %s listed %d times", id, listed[id])
			}
		}
	}
	return ""
}

func waitRun(c *crashClient, admin, id string, d time.Duration) bool {
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) {
		var runs struct {
			Items []struct {
				RunID  string `json:"run_id"`
				Status string `json:"status"`
			} `json:"items"`
		}
		if st, _ := c.do("GET", "/api/v1/jobs/runs?job=coverage&limit=20", admin, nil, &runs); st == 200 {
			for _, r := range runs.Items {
				if r.RunID == id && r.Status != "running" {
					return r.Status == "succeeded"
				}
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	return false
}

func coverageTotalNow(c *crashClient, admin, commune string) int {
	var rows struct {
		Items []struct {
			CommuneCode     string `json:"commune_code"`
			AssistanceTotal int    `json:"assistance_total"`
		} `json:"items"`
	}
	today := time.Now().In(hueLoc).Format("2006-01-02")
	if st, _ := c.do("GET", "/api/v1/coverage/communes?date="+today, admin, nil, &rows); st != 200 {
		return -1
	}
	for _, r := range rows.Items {
		if r.CommuneCode == commune {
			return r.AssistanceTotal
		}
	}
	return -1
}

func coverageTotal(t *testing.T, c *crashClient, admin, commune string) int {
	t.Helper()
	var runID struct {
		RunID string `json:"run_id"`
	}
	for start := time.Now(); ; time.Sleep(200 * time.Millisecond) {
		st, err := c.do("POST", "/api/v1/jobs/coverage/run", admin, nil, &runID)
		if st == 202 {
			break
		}
		if st != 409 || time.Since(start) > 3*time.Minute { // 409: the catch-up of the demo's nights runs
			t.Fatalf("coverage run: %d %v", st, err)
		}
	}
	if !waitRun(c, admin, runID.RunID, 60*time.Second) {
		t.Fatal("the first coverage run did not succeed")
	}
	n := coverageTotalNow(c, admin, commune)
	if n < 0 {
		t.Fatal("no coverage figures")
	}
	return n
}

var hueLoc = func() *time.Location {
	l, err := time.LoadLocation("Asia/Ho_Chi_Minh")
	if err != nil {
		return time.FixedZone("ICT", 7*3600)
	}
	return l
}()

// storedRecords counts the test's records in the assistance collection
// (each stored once: the _id is unique).
func storedRecords(t *testing.T, p *proc, members []crashMember) int {
	t.Helper()
	db := connect(t, p.dbURI, "cdt")
	n := 0
	for _, m := range members {
		k, err := db.Collection("assistance").CountDocuments(t.Context(), map[string]any{"member_id": m.id, "by": map[string]any{"$regex": "^crash\\."}})
		if err != nil {
			t.Fatal(err)
		}
		n += int(k)
	}
	return n
}
