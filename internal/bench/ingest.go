package bench

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
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
	Sizes       []int // records stored before (cdt seed); default 0
	MongoURI    string
	Out         io.Writer
	// NoAudit runs the server without its audit trail (CDT_DEBUG_NO_AUDIT),
	// to compare.
	NoAudit bool
}

// IngestResult is one line of the ingest table.
type IngestResult struct {
	Records  int // stored before
	Clients  int
	API, Raw Stats
}

// Ingest measures POST /api/v1/assistance through the real server with 1, 8 and
// 32 concurrent clients (distinct members, valid records), on a database that
// holds each of Sizes records, and beside it the database's own limit: driver
// InsertOne of the same documents with the same concurrency into the same
// assistance collection.
func Ingest(ctx context.Context, o IngestOptions) ([]IngestResult, error) {
	if len(o.Sizes) == 0 {
		o.Sizes = []int{0}
	}
	var results []IngestResult
	for _, size := range o.Sizes {
		rs, err := ingestAt(ctx, o, size)
		if err != nil {
			return nil, err
		}
		results = append(results, rs...)
	}
	label := backend(o.MongoURI) + ", audit trail on"
	if o.NoAudit {
		label = backend(o.MongoURI) + ", audit trail off"
	}
	writeIngest(o.Out, results, label)
	return results, nil
}

func ingestAt(ctx context.Context, o IngestOptions, size int) ([]IngestResult, error) {
	dir, err := os.MkdirTemp("", "cdt-bench-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	dbName := fmt.Sprintf("bench_ingest_%d", size)
	env := []string{"CDT_DATA_DIR=" + dir, "CDT_ADMIN_PASSWORD=bench-admin-1", "CDT_JWT_SECRET=" + benchSecret,
		"CDT_LOG_LEVEL=warn", "CDT_DB=" + dbName, "CDT_ASSIST_RATE=1000000", "CDT_COVERAGE_CHECK=1h", "CDT_COVERAGE_AT=23:59"}
	if o.MongoURI != "" {
		env = append(env, "CDT_MONGO_URI="+o.MongoURI)
	}
	if o.NoAudit {
		env = append(env, "CDT_DEBUG_NO_AUDIT=true")
	}
	if _, _, err := child(ctx, o.Bin, env, "seed", "--scale", "hue", "--records", fmt.Sprint(size), "--replace", "--quiet"); err != nil {
		return nil, err
	}
	srv, err := Start(ctx, o.Bin, append(env, "CDT_ADDR=127.0.0.1:0", "CDT_LOG_LEVEL=info"))
	if err != nil {
		return nil, err
	}
	defer srv.Stop()
	if err := waitCatchUp(ctx, srv); err != nil {
		return nil, err
	}
	uri := o.MongoURI
	if uri == "" {
		uri = srv.DBURI
	}
	db, err := store.Open(ctx, uri, dbName, store.Options{})
	if err != nil {
		return nil, err
	}
	defer db.Close(context.WithoutCancel(ctx))
	all, err := e2eMembers(ctx, db)
	if err != nil {
		return nil, err
	}
	maxC := 0
	for _, c := range o.Concurrency {
		maxC = max(maxC, c)
	}
	if len(all) < maxC {
		return nil, fmt.Errorf("bench: only %d members", len(all))
	}
	members := all[:maxC]
	api := NewClient(srv.Addr)
	mc, err := mongo.Connect(options.Client().ApplyURI(uri).SetMaxPoolSize(uint64(maxC + 8)))
	if err != nil {
		return nil, err
	}
	defer mc.Disconnect(context.Background())
	raw := mc.Database(dbName).Collection("assistance")

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
		post := func(w, _ int) error {
			m := members[w%len(members)]
			st, err := api.postAs(m, "/api/v1/assistance", body(w))
			if err == nil && st != 201 {
				err = fmt.Errorf("status %d", st)
			}
			return err
		}
		LoadWorkers(min(200, o.Requests), conc, post) // warm-up
		apiStats := LoadWorkers(o.Requests, conc, post)
		doc := func(w int) any {
			m := members[w%len(members)]
			b := body(w)
			at, _ := time.Parse(time.RFC3339, b["occurred_at"].(string))
			return store.RecordDocument(domain.Record{ID: m.id + ":" + b["client_id"].(string), ClientID: b["client_id"].(string),
				MemberID: m.id, TeamID: m.team, CommuneCode: m.commune, VillageCode: m.village,
				Service: b["service"].(string), Household: "q5uZ3hlvUqW2dpTdkJz3ZA", OccurredAt: at, Day: domain.DateOf(at),
				RecordedAt: time.Now(), Outcome: "done", Gender: "f", AgeGroup: "36_60", Place: "door", By: "bench",
				Delta: domain.DeltaID("pbench", 1)})
		}
		insert := func(w, _ int) error {
			_, err := raw.InsertOne(ctx, doc(w))
			return err
		}
		LoadWorkers(min(200, o.Requests), conc, insert) // warm-up
		rawStats := LoadWorkers(o.Requests, conc, insert)
		results = append(results, IngestResult{Records: size, Clients: conc, API: apiStats, Raw: rawStats})
	}
	return results, nil
}

func writeIngest(w io.Writer, rs []IngestResult, db string) {
	fmt.Fprintf(w, "Ingest on %s: POST /api/v1/assistance through the server (API) beside driver InsertOne of the same documents "+
		"into the same assistance collection (raw), with as many records stored before.\n\n", db)
	var rows [][]string
	empty := map[int]float64{}
	for _, r := range rs {
		if r.Records == rs[0].Records {
			empty[r.Clients] = r.API.Throughput()
		}
	}
	for _, r := range rs {
		rows = append(rows, []string{fmt.Sprint(r.Records), fmt.Sprint(r.Clients), fmt.Sprint(r.API.N),
			fmt.Sprintf("%.0f", r.API.Throughput()), Ms(r.API.P50), Ms(r.API.P95), Ms(r.API.P99),
			fmt.Sprintf("%.0f", r.Raw.Throughput()), Ms(r.Raw.P50), Ms(r.Raw.P95), Ms(r.Raw.P99),
			fmt.Sprintf("%.2f", r.API.Throughput()/r.Raw.Throughput()), fmt.Sprintf("%.2f", float64(r.API.P99)/float64(r.Raw.P99)),
			fmt.Sprintf("%.2f", r.API.Throughput()/max(empty[r.Clients], 1e-9)), fmt.Sprint(r.API.Errors + r.Raw.Errors)})
	}
	Table(w, []string{"records stored", "clients", "n", "API req/s", "API p50 ms", "API p95 ms", "API p99 ms", "raw ins/s", "raw p50 ms",
		"raw p95 ms", "raw p99 ms", "throughput ratio", "p99 ratio", "API req/s vs the first size", "errors"}, rows)
	fmt.Fprintln(w)
}
