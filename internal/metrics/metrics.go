// Package metrics keeps cdt's operational figures in Prometheus form (the
// official client library) and serves them as GET /metrics: HTTP requests
// and latency by route pattern and status, assistance records ingested and
// rejected, sync batch sizes, job runs by outcome and duration, the
// consolidation backlog and database errors. Each App has its own registry;
// the packages that produce the figures know nothing of Prometheus: they
// call the small hooks internal/app wires to the methods here.
package metrics

import (
	"context"
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Backlog counts what the consolidator has not applied yet: pending deltas
// and the records they hold.
type Backlog func(ctx context.Context) (deltas, records int, err error)

// Metrics are the collectors of one server.
type Metrics struct {
	reg      *prometheus.Registry
	requests *prometheus.CounterVec
	latency  *prometheus.HistogramVec
	records  *prometheus.CounterVec
	batch    prometheus.Histogram
	jobRuns  *prometheus.CounterVec
	jobTime  *prometheus.HistogramVec
	dbErrors *prometheus.CounterVec
}

// New registers cdt's metrics, the Go runtime's and the process's; backlog
// is asked at every scrape (nil: no backlog metrics).
func New(backlog Backlog) *Metrics {
	m := &Metrics{reg: prometheus.NewRegistry()}
	m.requests = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "cdt_http_requests_total",
		Help: "HTTP requests answered, by method, route pattern and status."}, []string{"method", "route", "status"})
	m.latency = prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "cdt_http_request_duration_seconds",
		Help: "Time to answer an HTTP request, by method and route pattern.", Buckets: prometheus.DefBuckets}, []string{"method", "route"})
	m.records = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "cdt_assistance_records_total",
		Help: "Assistance records received, by outcome: created, duplicate (already stored) or invalid (rejected)."}, []string{"outcome"})
	m.batch = prometheus.NewHistogram(prometheus.HistogramOpts{Name: "cdt_sync_batch_size",
		Help:    "Records per assistance request (1 for a single record, up to 500 for a phone's batch).",
		Buckets: []float64{1, 2, 5, 10, 20, 50, 100, 200, 500}})
	m.jobRuns = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "cdt_job_runs_total",
		Help: "Runs of the scheduled and manual jobs, by job and outcome (succeeded or failed)."}, []string{"job", "outcome"})
	m.jobTime = prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "cdt_job_duration_seconds",
		Help: "Duration of job runs, by job.", Buckets: []float64{0.01, 0.05, 0.1, 0.5, 1, 5, 15, 60, 300, 900}}, []string{"job"})
	m.dbErrors = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "cdt_db_errors_total",
		Help: "Database commands that failed, by command."}, []string{"command"})
	m.reg.MustRegister(m.requests, m.latency, m.records, m.batch, m.jobRuns, m.jobTime, m.dbErrors,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	if backlog != nil {
		m.reg.MustRegister(backlogCollector{backlog})
	}
	return m
}

// Handler serves the metrics in the Prometheus text format (or OpenMetrics
// when asked); the server compresses the answer.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{DisableCompression: true, Timeout: 10 * time.Second})
}

// Gatherer is the registry, for tests.
func (m *Metrics) Gatherer() prometheus.Gatherer { return m.reg }

// Request records one HTTP answer. route is the route's pattern
// (/teams/:id), never the raw path, so that the series stay few.
func (m *Metrics) Request(method, route string, status int, took time.Duration) {
	if route == "" {
		route = "unmatched"
	}
	m.requests.WithLabelValues(method, route, strconv.Itoa(status)).Inc()
	m.latency.WithLabelValues(method, route).Observe(took.Seconds())
}

// Records records one assistance request: how many of its records were
// created, duplicates or invalid.
func (m *Metrics) Records(created, duplicate, invalid int) {
	m.records.WithLabelValues("created").Add(float64(created))
	m.records.WithLabelValues("duplicate").Add(float64(duplicate))
	m.records.WithLabelValues("invalid").Add(float64(invalid))
	m.batch.Observe(float64(created + duplicate + invalid))
}

// Job records one run of job.
func (m *Metrics) Job(job string, took time.Duration, err error) {
	outcome := "succeeded"
	if err != nil {
		outcome = "failed"
	}
	m.jobRuns.WithLabelValues(job, outcome).Inc()
	m.jobTime.WithLabelValues(job).Observe(took.Seconds())
}

// DBError records a failed database command.
func (m *Metrics) DBError(command string) { m.dbErrors.WithLabelValues(command).Inc() }

// backlogCollector asks the database at each scrape.
type backlogCollector struct{ count Backlog }

var (
	backlogDeltas = prometheus.NewDesc("cdt_consolidation_backlog_deltas",
		"Deltas of assistance records stored and not yet consolidated into the rollups (at most 1000 are counted).", nil, nil)
	backlogRecords = prometheus.NewDesc("cdt_consolidation_backlog_records",
		"Records in the deltas not yet consolidated.", nil, nil)
	backlogErrors = prometheus.NewDesc("cdt_consolidation_backlog_up",
		"1 when the backlog could be read at this scrape, 0 otherwise.", nil, nil)
)

func (b backlogCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- backlogDeltas
	ch <- backlogRecords
	ch <- backlogErrors
}

func (b backlogCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	deltas, records, err := b.count(ctx)
	up := 1.0
	if err != nil {
		up = 0
	} else {
		ch <- prometheus.MustNewConstMetric(backlogDeltas, prometheus.GaugeValue, float64(deltas))
		ch <- prometheus.MustNewConstMetric(backlogRecords, prometheus.GaugeValue, float64(records))
	}
	ch <- prometheus.MustNewConstMetric(backlogErrors, prometheus.GaugeValue, up)
}
