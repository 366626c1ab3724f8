package bench

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/hue-cdt/cdt/domain"
	"github.com/hue-cdt/cdt/store"
)

// IngestOptions configure the ingest benchmark.
type IngestOptions struct {
	Bin         string
	Requests    int   // per concurrency level
	Concurrency []int // clients; each is a distinct member
	MongoURI    string
	Out         io.Writer
	// NoAudit runs the server without its audit trail (CDT_DEBUG_NO_AUDIT),
	// to compare.
	NoAudit bool
}

// IngestResult is one line of the ingest table.
type IngestResult struct {
	Clients  int
	API, Raw Stats
}

// Ingest measures POST /api/v1/assistance through the real server with 1, 8 and
// 32 concurrent clients (distinct members, valid records), and beside it the
// database's own limit: driver InsertOne of the same documents with the same
// concurrency, into a collection of the same shape in the same database.
func Ingest(ctx context.Context, o IngestOptions) ([]IngestResult, error) {
	dir, err := os.MkdirTemp("", "cdt-bench-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	env := []string{"CDT_DATA_DIR=" + dir, "CDT_ADDR=127.0.0.1:0", "CDT_DEMO=true", "CDT_ADMIN_PASSWORD=bench-admin-1",
		"CDT_LOG_LEVEL=info", "CDT_DB=bench_ingest", "CDT_ASSIST_RATE=1000000", "CDT_LOGIN_RATE=1000"}
	if o.MongoURI != "" {
		env = append(env, "CDT_MONGO_URI="+o.MongoURI)
	}
	if o.NoAudit {
		env = append(env, "CDT_DEBUG_NO_AUDIT=true")
	}
	if err := dropDatabase(ctx, o.MongoURI, "bench_ingest"); err != nil {
		return nil, err
	}
	srv, err := Start(ctx, o.Bin, env)
	if err != nil {
		return nil, err
	}
	defer srv.Stop()
	uri := o.MongoURI
	if uri == "" {
		uri = srv.DBURI
	}
	admin := NewClient(srv.Addr)
	if err := admin.Login("demo.tinh", "demo12345"); err != nil {
		return nil, err
	}
	// The first start computes the demo's past nights in the background:
	// measure once the server is quiet.
	if err := waitQuiet(ctx, admin); err != nil {
		return nil, err
	}
	maxC := 0
	for _, c := range o.Concurrency {
		maxC = max(maxC, c)
	}
	members, err := benchMembers(admin, maxC)
	if err != nil {
		return nil, err
	}
	clients := make([]*Client, len(members))
	for i, m := range members {
		clients[i] = NewClient(srv.Addr)
		clients[i].HTTP = admin.HTTP
		if err := clients[i].Login(m.login, "bench-pass-1"); err != nil {
			return nil, err
		}
	}
	mc, err := mongo.Connect(options.Client().ApplyURI(uri).SetMaxPoolSize(uint64(maxC + 8)))
	if err != nil {
		return nil, err
	}
	defer mc.Disconnect(context.Background())
	raw := mc.Database("bench_ingest").Collection("bench_raw")
	_ = raw.Drop(ctx)

	var results []IngestResult
	for _, conc := range o.Concurrency {
		r := rand.New(rand.NewPCG(uint64(conc), 9))
		var mu sync.Mutex
		body := func(w int) map[string]any {
			mu.Lock()
			defer mu.Unlock()
			m := members[w%len(members)]
			return map[string]any{"client_id": uuid.NewString(), "service": domain.Services[r.IntN(len(domain.Services))],
				"household_ref": fmt.Sprintf("09%08d", r.IntN(100_000_000)), "village_code": m.village,
				"occurred_at": time.Now().Add(-time.Duration(r.IntN(3600)) * time.Second).Format(time.RFC3339),
				"outcome":     "done", "citizen_gender": "f", "citizen_age_group": "36_60", "place": "door"}
		}
		// Warm up, then measure. Worker w always uses member w.
		LoadWorkers(min(200, o.Requests), conc, func(w, _ int) error {
			return postRecord(clients[w%len(clients)], body(w))
		})
		api := LoadWorkers(o.Requests, conc, func(w, _ int) error {
			return postRecord(clients[w%len(clients)], body(w))
		})
		doc := func(w int) any {
			m := members[w%len(members)]
			b := body(w)
			at, _ := time.Parse(time.RFC3339, b["occurred_at"].(string))
			return store.RecordDocument(domain.Record{ID: m.id + ":" + b["client_id"].(string), ClientID: b["client_id"].(string),
				MemberID: m.id, TeamID: m.team, CommuneCode: domain.CommuneOf(m.id), VillageCode: m.village,
				Service: b["service"].(string), Household: "q5uZ3hlvUqW2dpTdkJz3ZA", OccurredAt: at, Day: domain.DateOf(at),
				RecordedAt: time.Now(), Outcome: "done", Gender: "f", AgeGroup: "36_60", Place: "door", By: m.login,
				Delta: domain.DeltaID("pbench", 1)})
		}
		LoadWorkers(min(200, o.Requests), conc, func(w, _ int) error {
			_, err := raw.InsertOne(ctx, doc(w))
			return err
		})
		rawStats := LoadWorkers(o.Requests, conc, func(w, _ int) error {
			_, err := raw.InsertOne(ctx, doc(w))
			return err
		})
		results = append(results, IngestResult{Clients: conc, API: api, Raw: rawStats})
	}
	label := backend(o.MongoURI) + ", audit trail on"
	if o.NoAudit {
		label = backend(o.MongoURI) + ", audit trail off"
	}
	writeIngest(o.Out, results, label)
	return results, nil
}

func postRecord(c *Client, body map[string]any) error {
	st, err := c.Do("POST", "/api/v1/assistance", body, nil)
	if err == nil && st != 201 {
		err = fmt.Errorf("status %d", st)
	}
	return err
}

type benchMember struct{ id, team, village, login string }

// benchMembers gives n members of the demo data a login each.
func benchMembers(admin *Client, n int) ([]benchMember, error) {
	var teams struct {
		Items []struct {
			ID          string  `json:"id"`
			VillageCode *string `json:"village_code"`
		} `json:"items"`
	}
	if _, err := admin.Do("GET", "/api/v1/teams?limit=500", nil, &teams); err != nil {
		return nil, err
	}
	var out []benchMember
	for _, t := range teams.Items {
		if len(out) == n {
			break
		}
		if t.VillageCode == nil {
			continue
		}
		var ms struct {
			Items []struct {
				ID string `json:"id"`
			} `json:"items"`
		}
		if _, err := admin.Do("GET", "/api/v1/members?team="+t.ID+"&limit=10", nil, &ms); err != nil {
			continue
		}
		for _, it := range ms.Items { // the first member without a login
			m := benchMember{id: it.ID, team: t.ID, village: *t.VillageCode,
				login: "bench." + strings.ToLower(strings.ReplaceAll(it.ID, "-", "."))}
			st, err := admin.Do("POST", "/api/v1/users", map[string]any{"username": m.login, "password": "bench-pass-1",
				"role": "member", "unit_code": domain.CommuneOf(m.id), "member_id": m.id}, nil)
			if err != nil {
				return nil, err
			}
			if st == 201 {
				out = append(out, m)
				break
			}
		}
	}
	if len(out) < n {
		return nil, fmt.Errorf("bench: only %d members found", len(out))
	}
	return out, nil
}

func writeIngest(w io.Writer, rs []IngestResult, db string) {
	fmt.Fprintf(w, "Ingest on %s: POST /api/v1/assistance through the server (API) beside driver InsertOne of the same documents (raw).\n\n", db)
	var rows [][]string
	for _, r := range rs {
		rows = append(rows, []string{fmt.Sprint(r.Clients), fmt.Sprint(r.API.N),
			fmt.Sprintf("%.0f", r.API.Throughput()), Ms(r.API.P50), Ms(r.API.P95), Ms(r.API.P99),
			fmt.Sprintf("%.0f", r.Raw.Throughput()), Ms(r.Raw.P50), Ms(r.Raw.P95), Ms(r.Raw.P99),
			fmt.Sprintf("%.2f", r.API.Throughput()/r.Raw.Throughput()), fmt.Sprintf("%.2f", float64(r.API.P99)/float64(r.Raw.P99)),
			fmt.Sprint(r.API.Errors + r.Raw.Errors)})
	}
	Table(w, []string{"clients", "n", "API req/s", "API p50 ms", "API p95 ms", "API p99 ms", "raw ins/s", "raw p50 ms",
		"raw p95 ms", "raw p99 ms", "throughput ratio", "p99 ratio", "errors"}, rows)
	fmt.Fprintln(w)
}
