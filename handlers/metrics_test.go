package handlers_test

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/hue-cdt/cdt/internal/app"
	"github.com/hue-cdt/cdt/internal/apptest"
)

func scrape(t *testing.T, e *apptest.Env, header map[string]string) apptest.Response {
	t.Helper()
	return e.Do(apptest.Request{Method: "GET", Path: "/metrics", Header: header})
}

// TestMetricsScrapeWithTheToken: with CDT_METRICS_TOKEN set, /metrics needs
// it (a login's token is no key), and the scrape carries the requests by
// route pattern, the records by outcome, the batch sizes, a manual coverage
// run, the backlog and a failed database command.
func TestMetricsScrapeWithTheToken(t *testing.T) {
	e := apptest.New(t, func(c *app.Config) { c.MetricsToken = "scrape-token-1234" })
	f := e.NewFixture()
	for name, h := range map[string]map[string]string{
		"no token":        nil,
		"a wrong token":   {"Authorization": "Bearer nope"},
		"a login's token": {"Authorization": "Bearer " + f.Admin},
	} {
		if r := scrape(t, e, h); r.Status != http.StatusUnauthorized || r.ErrorCode() != "unauthorized" {
			t.Errorf("%s: %d %s", name, r.Status, r.Body)
		}
	}
	e.Must(e.Get("/api/v1/teams/"+f.TeamA1, f.Admin), 200)
	e.Must(e.Get("/api/v1/teams/"+f.TeamB1, f.Admin), 200)
	e.Must(e.Get("/api/v1/teams/19753-T999", f.Admin), 404)
	e.Must(e.Get("/no/such/page", ""), 404)
	rec := apptest.Record(f.VillageA, apptest.Start.Add(-time.Hour), "0905000111")
	e.Must(e.Post("/api/v1/assistance", f.MemberTokA, rec), 201)
	e.Must(e.Post("/api/v1/assistance/batch", f.MemberTokA, map[string]any{"records": []any{rec,
		apptest.Record(f.VillageA, apptest.Start.Add(-2*time.Hour), "0905000222"), map[string]any{"client_id": "x"}}}), 200)
	e.RunCoverage(f.Admin)
	var failed bson.M
	if err := e.App.Store.Database.RunCommand(context.Background(), bson.D{{Key: "noSuchCommand", Value: 1}}).Decode(&failed); err == nil {
		t.Fatal("an unknown command succeeded")
	}
	auth := map[string]string{"Authorization": "Bearer scrape-token-1234"}
	var body string
	deadline := time.Now().Add(10 * time.Second)
	for { // the manual run is counted once it has finished in the background
		r := scrape(t, e, auth)
		if r.Status != 200 || !strings.HasPrefix(r.Header.Get("Content-Type"), "text/plain") {
			t.Fatalf("scrape: %d %s", r.Status, r.Header.Get("Content-Type"))
		}
		body = string(r.Body)
		if strings.Contains(body, `cdt_job_runs_total{job="coverage-manual",outcome="succeeded"} 1`) || time.Now().After(deadline) {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	for _, want := range []string{
		`cdt_http_requests_total{method="GET",route="/api/v1/teams/:id",status="200"} 2`,
		`cdt_http_requests_total{method="GET",route="/api/v1/teams/:id",status="404"} 1`,
		`cdt_http_requests_total{method="GET",route="unmatched",status="404"} 1`,
		`cdt_http_requests_total{method="GET",route="/metrics",status="401"} 3`,
		`cdt_http_request_duration_seconds_count{method="POST",route="/api/v1/assistance"} 1`,
		`cdt_assistance_records_total{outcome="created"} 2`,
		`cdt_assistance_records_total{outcome="duplicate"} 1`,
		`cdt_assistance_records_total{outcome="invalid"} 1`,
		`cdt_sync_batch_size_bucket{le="1"} 1`,
		`cdt_sync_batch_size_count 2`,
		`cdt_job_runs_total{job="coverage-manual",outcome="succeeded"} 1`,
		`cdt_job_duration_seconds_count{job="coverage-manual"} 1`,
		`cdt_db_errors_total{command="noSuchCommand"} 1`,
		`cdt_consolidation_backlog_up 1`,
		`cdt_consolidation_backlog_deltas `,
		`go_goroutines `,
		`process_resident_memory_bytes `,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("the scrape lacks %s", want)
		}
	}
	if strings.Contains(body, f.TeamA1) {
		t.Error("a raw path is a label: series would grow with every team")
	}
}

// TestMetricsWithoutATokenAnswerLoopbackOnly: with no token, a client on the
// loopback interface scrapes, one elsewhere or through a proxy does not.
func TestMetricsWithoutATokenAnswerLoopbackOnly(t *testing.T) {
	e := apptest.New(t)
	if r := scrape(t, e, nil); r.Status != http.StatusForbidden { // httptest's client is 192.0.2.1
		t.Fatalf("a remote client: %d", r.Status)
	}
	b := e.Browser() // a real listener on 127.0.0.1
	get := func(header map[string]string) (int, string) {
		req, _ := http.NewRequest("GET", b.Base+"/metrics", nil)
		for k, v := range header {
			req.Header.Set(k, v)
		}
		resp, err := b.Client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		raw, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(raw)
	}
	if status, body := get(nil); status != 200 || !strings.Contains(body, "# TYPE cdt_http_requests_total counter") {
		t.Fatalf("loopback: %d %.200s", status, body)
	}
	if status, _ := get(map[string]string{"X-Forwarded-For": "203.0.113.9"}); status != http.StatusForbidden {
		t.Fatalf("through a proxy on this machine: %d", status)
	}
}
