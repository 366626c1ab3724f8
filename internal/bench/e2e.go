package bench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/google/uuid"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/hue-cdt/cdt/auth"
	"github.com/hue-cdt/cdt/domain"
	"github.com/hue-cdt/cdt/store"
)

// E2EOptions configure the end-to-end benchmark.
type E2EOptions struct {
	Bin      string
	Records  int           // stored before the load (cdt seed)
	Rate     int           // records per second offered in the sustained phase
	Duration time.Duration // of the sustained phase
	Burst    int           // records of the burst: 10 from each of Burst/10 members
	Clients  int           // concurrent clients (default 32)
	MongoURI string
	Label    string
	// Dir is the data directory to use and keep (default: a temporary one);
	// it is seeded only if a marker says it was not seeded with Records yet,
	// so that runs can start from copies of one seeded directory.
	Dir string
	Out io.Writer
	Log io.Writer
}

// E2EResult is what the end-to-end benchmark measured.
type E2EResult struct {
	Records        int
	Offered, Acked float64 // records per second
	// Applied is the records applied in the rollups during the load, per
	// second of it: what the consolidation kept up with.
	Applied float64
	// Through is the records acknowledged per second from the load's start
	// until the last of them was applied (the load and the drain after it).
	Through             float64
	MaxBacklog          int           // records acknowledged, not yet consolidated
	MaxLag              time.Duration // the oldest pending delta's age, at most
	Drain               time.Duration
	BurstRecords        int
	BurstAcked, BurstIn time.Duration // from the burst's start: all acknowledged, all applied
	Errors              int
}

const benchSecret = "bench-jwt-secret-0123456789abcdefghijklmnop"

// E2E stores Records records, starts the server on them, offers Rate
// records a second for Duration through POST /api/v1/assistance (32 clients,
// members of the whole registry), and measures how fast they are applied in
// the rollups; then a burst: 10 records from each of Burst/10 members at
// once through POST /api/v1/assistance/batch, the day's records of a whole
// province syncing at once, and how long until they are all applied.
func E2E(ctx context.Context, o E2EOptions) (E2EResult, error) {
	res := E2EResult{Records: o.Records}
	if o.Clients == 0 {
		o.Clients = 32
	}
	if o.Log == nil {
		o.Log = io.Discard
	}
	dir := o.Dir
	if dir == "" {
		tmp, err := os.MkdirTemp("", "cdt-e2e-")
		if err != nil {
			return res, err
		}
		defer os.RemoveAll(tmp)
		dir = tmp
	}
	marker := filepath.Join(dir, "e2e-seeded")
	env := []string{"CDT_DATA_DIR=" + dir, "CDT_DB=bench_e2e", "CDT_ADMIN_PASSWORD=bench-admin-1", "CDT_JWT_SECRET=" + benchSecret,
		"CDT_LOG_LEVEL=warn", "CDT_ASSIST_RATE=1000000", "CDT_COVERAGE_CHECK=1h", "CDT_COVERAGE_AT=23:59"}
	if o.MongoURI != "" {
		env = append(env, "CDT_MONGO_URI="+o.MongoURI)
	}
	if b, _ := os.ReadFile(marker); string(b) != fmt.Sprint(o.Records) {
		fmt.Fprintf(o.Log, "e2e: seeding %d records\n", o.Records)
		if _, _, err := child(ctx, o.Bin, env, "seed", "--scale", "hue", "--records", fmt.Sprint(o.Records), "--replace", "--quiet"); err != nil {
			return res, err
		}
		if err := os.WriteFile(marker, []byte(fmt.Sprint(o.Records)), 0o600); err != nil {
			return res, err
		}
	}
	srv, err := Start(ctx, o.Bin, append(env, "CDT_ADDR=127.0.0.1:0", "CDT_LOG_LEVEL=info"))
	if err != nil {
		return res, err
	}
	defer srv.Stop()
	if err := waitCatchUp(ctx, srv); err != nil {
		return res, err
	}
	uri := o.MongoURI
	if uri == "" {
		uri = srv.DBURI
	}
	db, err := store.Open(ctx, uri, "bench_e2e", store.Options{})
	if err != nil {
		return res, err
	}
	defer db.Close(context.WithoutCancel(ctx))
	members, err := e2eMembers(ctx, db)
	if err != nil {
		return res, err
	}
	api := NewClient(srv.Addr)
	// backlog counts the records in deltas not consolidated yet, and the
	// time of the oldest of those deltas (the sampling reads the whole delta
	// queue: once a second, not more, for it costs the server too).
	backlog := func() (int, time.Time) {
		cur, err := db.Database.Collection("assistance_deltas").Find(ctx, bson.D{},
			options.Find().SetProjection(bson.D{{Key: "n", Value: 1}, {Key: "at", Value: 1}}))
		if err != nil {
			return -1, time.Time{}
		}
		var docs []struct {
			N  int       `bson:"n"`
			At time.Time `bson:"at"`
		}
		if cur.All(ctx, &docs) != nil {
			return -1, time.Time{}
		}
		n, oldest := 0, time.Time{}
		for _, d := range docs {
			n += d.N
			if oldest.IsZero() || d.At.Before(oldest) {
				oldest = d.At
			}
		}
		return n, oldest
	}
	drain := func(limit time.Duration) (time.Duration, error) {
		start := time.Now()
		for time.Since(start) < limit {
			if n, _ := backlog(); n == 0 {
				return time.Since(start), nil
			}
			time.Sleep(250 * time.Millisecond)
		}
		return 0, fmt.Errorf("e2e: the backlog did not drain in %v", limit)
	}
	if _, err := drain(5 * time.Minute); err != nil {
		return res, err
	}

	// Sustained: Rate records a second, one per request.
	fmt.Fprintf(o.Log, "e2e: %d records/s for %v\n", o.Rate, o.Duration)
	total := int(float64(o.Rate) * o.Duration.Seconds())
	jobs := make(chan int, total)
	var acked, errs atomic.Int64
	var maxBacklog, maxLag atomic.Int64
	stopSampling := make(chan struct{})
	sampled := make(chan struct{})
	go func() {
		defer close(sampled)
		for {
			select {
			case <-stopSampling:
				return
			case <-time.After(time.Second):
				n, oldest := backlog()
				if int64(n) > maxBacklog.Load() {
					maxBacklog.Store(int64(n))
				}
				if lag := int64(time.Since(oldest)); !oldest.IsZero() && lag > maxLag.Load() {
					maxLag.Store(lag)
				}
			}
		}
	}()
	var wg sync.WaitGroup
	start := time.Now()
	for w := range o.Clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := rand.New(rand.NewPCG(uint64(w), 5))
			for range jobs {
				m := members[r.IntN(len(members))]
				st, err := api.postAs(m, "/api/v1/assistance", m.record(r, time.Now()))
				if err != nil || st != 201 {
					errs.Add(1)
					continue
				}
				acked.Add(1)
			}
		}()
	}
	for i := range total {
		if d := time.Until(start.Add(time.Duration(float64(i) / float64(o.Rate) * float64(time.Second)))); d > 0 {
			time.Sleep(d)
		}
		jobs <- i
	}
	close(jobs)
	wg.Wait()
	load := time.Since(start)
	pending, _ := backlog()
	res.Drain, err = drain(10 * time.Minute)
	close(stopSampling)
	<-sampled
	if err != nil {
		return res, err
	}
	res.Offered, res.Acked = float64(total)/o.Duration.Seconds(), float64(acked.Load())/load.Seconds()
	res.Applied = float64(int(acked.Load())-pending) / load.Seconds()
	res.Through = float64(acked.Load()) / (load + res.Drain).Seconds()
	res.MaxBacklog, res.MaxLag, res.Errors = int(maxBacklog.Load()), time.Duration(maxLag.Load()), int(errs.Load())

	// Burst: ten records from each member at once.
	fmt.Fprintf(o.Log, "e2e: a burst of %d records\n", o.Burst)
	n := min(o.Burst/10, len(members))
	order := rand.New(rand.NewPCG(9, 9)).Perm(len(members))[:n]
	batches := make(chan int, n)
	for _, i := range order {
		batches <- i
	}
	close(batches)
	var burstErrs atomic.Int64
	start = time.Now()
	for w := range o.Clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := rand.New(rand.NewPCG(uint64(w), 7))
			for i := range batches {
				m := members[i]
				recs := make([]map[string]any, 10)
				for k := range recs {
					recs[k] = m.record(r, time.Now().Add(-time.Duration(r.IntN(10*3600))*time.Second))
				}
				st, err := api.postAs(m, "/api/v1/assistance/batch", map[string]any{"records": recs})
				if err != nil || st != 200 {
					burstErrs.Add(1)
				}
			}
		}()
	}
	wg.Wait()
	res.BurstAcked = time.Since(start)
	res.BurstRecords = 10 * n
	if _, err := drain(10 * time.Minute); err != nil {
		return res, err
	}
	res.BurstIn = time.Since(start)
	res.Errors += int(burstErrs.Load())
	writeE2E(o.Out, o.Label, res, o)
	return res, nil
}

type e2eMember struct {
	id, team, village, commune, token string
}

func (m e2eMember) record(r *rand.Rand, at time.Time) map[string]any {
	return map[string]any{"client_id": uuid.NewString(), "service": domain.Services[r.IntN(len(domain.Services))],
		"household_ref": fmt.Sprintf("09%08d", r.IntN(100_000_000)), "village_code": m.village,
		"occurred_at": at.Add(-time.Minute).Format(time.RFC3339), "outcome": "done"}
}

// e2eMembers gives every active member of the registry with a team in a
// village an access token, signed with the server's secret (a login per
// member would spend minutes in bcrypt). The tokens belong to one live
// session of one active login, "bench", as the server requires of every
// token; each names its member, as a member's token does.
func e2eMembers(ctx context.Context, db *store.DB) ([]e2eMember, error) {
	counts, err := db.Registry.RegistryCounts(ctx)
	if err != nil {
		return nil, err
	}
	var out []e2eMember
	now := time.Now()
	err = db.Users.CreateUser(ctx, &domain.User{Username: "bench", PasswordHash: []byte("-"), Role: domain.RoleMember,
		Active: true, CreatedAt: now, UpdatedAt: now, CreatedBy: "bench"})
	if err != nil && !errors.Is(err, domain.ErrConflict) {
		return nil, err
	}
	err = db.Sessions.CreateSession(ctx, &domain.Session{ID: "bench", Username: "bench", Kind: "api", CreatedAt: now.Add(-time.Minute),
		RotatedAt: now, ExpiresAt: now.Add(3 * time.Hour)})
	if err != nil && !errors.Is(err, domain.ErrConflict) {
		return nil, err
	}
	for code := range counts {
		reg, err := db.Registry.Registry(ctx, code)
		if err != nil {
			return nil, err
		}
		for _, m := range reg.Members {
			t, ok := reg.Team(m.TeamID)
			if !m.Active || !ok || t.VillageCode == "" {
				continue
			}
			c := auth.Claims{RegisteredClaims: jwt.RegisteredClaims{Issuer: auth.Issuer, Subject: "bench",
				Audience: jwt.ClaimStrings{auth.Audience}, IssuedAt: jwt.NewNumericDate(now), NotBefore: jwt.NewNumericDate(now),
				ExpiresAt: jwt.NewNumericDate(now.Add(3 * time.Hour))}, Role: string(domain.RoleMember), Unit: code, MemberID: m.ID,
				Session: "bench"}
			tok, err := jwt.NewWithClaims(jwt.SigningMethodHS256, c).SignedString([]byte(benchSecret))
			if err != nil {
				return nil, err
			}
			out = append(out, e2eMember{id: m.ID, team: m.TeamID, village: t.VillageCode, commune: code, token: tok})
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("e2e: no member to log records")
	}
	return out, nil
}

// postAs sends body as member m.
func (c *Client) postAs(m e2eMember, path string, body any) (int, error) {
	cc := *c
	cc.Token = m.token
	return cc.Do("POST", path, body, nil)
}

func writeE2E(w io.Writer, label string, r E2EResult, o E2EOptions) {
	if label == "" {
		label = backend(o.MongoURI)
	}
	fmt.Fprintf(w, "End to end on %s with %d records stored: records acknowledged by POST /api/v1/assistance (%d clients, "+
		"members of the whole registry) until applied in the rollups.\n\n", label, r.Records, o.Clients)
	Table(w, []string{"load s", "offered rec/s", "acknowledged rec/s", "applied during the load rec/s",
		"largest backlog (records)", "oldest pending at most s", "drained after the load s", "acknowledged → all applied rec/s", "errors"},
		[][]string{{fmt.Sprintf("%.0f", o.Duration.Seconds()), fmt.Sprintf("%.0f", r.Offered), fmt.Sprintf("%.0f", r.Acked),
			fmt.Sprintf("%.0f", r.Applied), fmt.Sprint(r.MaxBacklog), fmt.Sprintf("%.1f", r.MaxLag.Seconds()),
			fmt.Sprintf("%.1f", r.Drain.Seconds()), fmt.Sprintf("%.0f", r.Through), fmt.Sprint(r.Errors)}})
	fmt.Fprintln(w)
	Table(w, []string{"burst records (10 per member)", "all acknowledged after s", "all applied after s"},
		[][]string{{fmt.Sprint(r.BurstRecords), fmt.Sprintf("%.1f", r.BurstAcked.Seconds()), fmt.Sprintf("%.1f", r.BurstIn.Seconds())}})
	fmt.Fprintln(w)
}
