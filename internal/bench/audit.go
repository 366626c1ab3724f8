package bench

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"os"
	"time"

	"github.com/hue-cdt/cdt/domain"
	"github.com/hue-cdt/cdt/internal/embedded"
	"github.com/hue-cdt/cdt/refdata"
	"github.com/hue-cdt/cdt/store"
)

// AuditOptions configure the audit trail benchmark.
type AuditOptions struct {
	Sizes    []int // events in the trail at each measurement
	Days     int   // over how many days back they spread
	Requests int   // reads per query
	MongoURI string
	Out      io.Writer
}

// AuditResult is one size's reads.
type AuditResult struct {
	Events  int
	Append  time.Duration // appending one second's worth of events (a flush)
	Queries []AuditQueryResult
}

// AuditQueryResult is one kind of read.
type AuditQueryResult struct {
	Name  string
	Stats Stats
	Items int
}

// Audit fills an audit trail, in the store, with events spread over Days
// days (Huế's 40 communes and the province, the actions in proportions a
// working year might show) and measures its reads at each size: the
// province's and a commune's newest page, a commune's actor filter, a rare
// action over a week, and a page ten deep.
func Audit(ctx context.Context, o AuditOptions) ([]AuditResult, error) {
	uri := o.MongoURI
	if uri == "" {
		dir, err := os.MkdirTemp("", "cdt-bench-audit-")
		if err != nil {
			return nil, err
		}
		defer os.RemoveAll(dir)
		db, err := embedded.Start(dir, "127.0.0.1:0", slog.New(slog.DiscardHandler))
		if err != nil {
			return nil, err
		}
		defer db.Stop()
		uri = db.URI()
	}
	st, err := store.Open(ctx, uri, "bench_audit", store.Options{})
	if err != nil {
		return nil, err
	}
	defer st.Close(context.Background())
	_ = st.Drop(ctx)
	communes := refdata.Catalog().CommuneCodes(domain.DateOf(time.Now()))
	actions := []string{domain.AuditLogin, domain.AuditLogin, domain.AuditLogin, domain.AuditLoginFailed, domain.AuditRecordsViewed,
		domain.AuditRecordsViewed, domain.AuditRegistryChange, domain.AuditExport}
	r := rand.New(rand.NewPCG(1, 2))
	now := time.Now().UTC()
	span := time.Duration(max(o.Days, 1)) * 24 * time.Hour
	seq := 0
	event := func() domain.AuditEvent {
		seq++
		at := now.Add(-time.Duration(r.Int64N(int64(span))))
		commune := communes[r.IntN(len(communes))]
		if r.IntN(10) < 2 {
			commune = ""
		}
		return domain.AuditEvent{ID: fmt.Sprintf("%s-pbench-%012d", store.AuditBound(at), seq), At: at,
			Actor: fmt.Sprintf("user%d", r.IntN(2000)), Role: domain.RoleCommuneLeader, Action: actions[r.IntN(len(actions))],
			Target: fmt.Sprintf("19753-M%04d", r.IntN(5000)), CommuneCode: commune, Details: map[string]string{"client": "10.0.0.1"}}
	}
	var out []AuditResult
	filled := 0
	for _, size := range o.Sizes {
		for filled < size {
			batch := make([]domain.AuditEvent, 0, 5000)
			for len(batch) < cap(batch) && filled < size {
				batch = append(batch, event())
				filled++
			}
			if err := st.Audit.AppendAudit(ctx, batch); err != nil {
				return nil, err
			}
		}
		res := AuditResult{Events: size}
		// A flush: about what a busy second records, events of now.
		flush := make([]domain.AuditEvent, 50)
		for i := range flush {
			flush[i] = event()
			flush[i].At = time.Now().UTC()
			flush[i].ID = fmt.Sprintf("%s-pbench-%012d", store.AuditBound(flush[i].At), seq+i)
		}
		start := time.Now()
		if err := st.Audit.AppendAudit(ctx, flush); err != nil {
			return nil, err
		}
		res.Append = time.Since(start)
		queries := []struct {
			name  string
			f     domain.AuditFilter
			pages int
		}{
			{"province, newest 50", domain.AuditFilter{Limit: 50}, 1},
			{"one commune, newest 50", domain.AuditFilter{CommuneCode: communes[0], Limit: 50}, 1},
			{"one commune, one actor", domain.AuditFilter{CommuneCode: communes[1], Actor: "user7", Limit: 50}, 1},
			{"province, exports of a week", domain.AuditFilter{Action: domain.AuditExport, From: now.AddDate(0, 0, -30),
				To: now.AddDate(0, 0, -23), Limit: 50}, 1},
			{"province, the 10th page of 50", domain.AuditFilter{Limit: 50}, 10},
		}
		for _, q := range queries {
			items := 0
			stats := Load(o.Requests, 1, func(int) error {
				f := q.f
				for range q.pages {
					page, next, err := st.Audit.FindAudit(ctx, f)
					if err != nil {
						return err
					}
					items = len(page)
					f.Before = next
				}
				return nil
			})
			res.Queries = append(res.Queries, AuditQueryResult{Name: q.name, Stats: stats, Items: items})
		}
		out = append(out, res)
	}
	fmt.Fprintf(o.Out, "Audit trail on %s: events over %d days, 40 communes and the province; each read %d times, one client.\n\n",
		backend(o.MongoURI), o.Days, o.Requests)
	var rows [][]string
	for _, res := range out {
		for _, q := range res.Queries {
			rows = append(rows, []string{fmt.Sprint(res.Events), q.Name, fmt.Sprint(q.Items), Ms(q.Stats.P50), Ms(q.Stats.P95), fmt.Sprint(q.Stats.Errors)})
		}
		rows = append(rows, []string{fmt.Sprint(res.Events), "append a flush of 50 events", "", Ms(res.Append), "", ""})
	}
	Table(o.Out, []string{"events", "read", "items", "p50 ms", "p95 ms", "errors"}, rows)
	fmt.Fprintln(o.Out)
	return out, nil
}
