// Package core holds what every audience of the HTTP layer shares: the
// server's collaborators (Deps) and the operations the JSON API, the leaders'
// pages and the members' phone app all perform on them — reading the registry
// within the caller's scope, logins and passwords, trainings and attendance,
// records. It knows no HTTP: every operation takes a context and the caller's
// domain.Scope, which makes every access decision.
package core

import (
	"context"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/hue-cdt/cdt/auth"
	"github.com/hue-cdt/cdt/domain"
	"github.com/hue-cdt/cdt/ingest"
)

// Deps are the collaborators of the HTTP layer, and the operations built on
// them that every audience shares.
type Deps struct {
	Units    *domain.UnitCatalog
	Registry domain.RegistryStore
	Users    domain.UserStore
	// Throttles keeps the failed sign-ins (domain.LoginThrottle).
	Throttles domain.LoginThrottleStore
	Auth      *auth.Service
	Ingest    *ingest.Service
	Live      *ingest.Live
	Records   domain.AssistanceStore
	Coverage  domain.CoverageStore
	Jobs      JobStarter
	Trainings domain.TrainingStore
	// Integrity: the flags and verifications (issue 12).
	Integrity Integrity
	// Privacy keeps citizens' data requests; Care forgets households and
	// finds their records (nil: fulfilling a request answers 503).
	Privacy domain.PrivacyStore
	Care    HouseholdCare
	// RetentionYears is how long household hashes are kept
	// (CDT_RETENTION_YEARS), for the privacy page.
	RetentionYears int
	// Audit records the audit trail (never blocking); AuditTrail reads it.
	Audit      domain.AuditLog
	AuditTrail domain.AuditStore
	// TrainingTarget is the share of teams the province wants trained (0–1).
	TrainingTarget float64
	// Ready answers whether the database answers and can write (readiness).
	Ready func(context.Context) error
	// RequestTimeout bounds every request, and so every database operation
	// it makes: a database that stops answering gives 503, not a hang.
	RequestTimeout time.Duration
	Logger         *slog.Logger
	Now            func() time.Time
	// SecureCookies marks page cookies Secure (on by default; browsers accept
	// Secure cookies from http://localhost and 127.0.0.1).
	SecureCookies bool
	// TrustedProxies are the proxies whose X-Forwarded-For names the client
	// (CDT_TRUSTED_PROXIES); none when empty: the client is the TCP peer.
	TrustedProxies []string
	// LoginRate is how many login attempts one username may make per minute
	// (three times that per client address).
	LoginRate int
	logins    *loginLocks // set by WithDefaults
	// AssistRate is how many assistance requests one member may send per
	// second (CDT_ASSIST_RATE, default 50; API.md asks for at least 20).
	AssistRate int
	// Metrics serves GET /metrics (nil: 404); MetricsToken is
	// CDT_METRICS_TOKEN. Observe, when set, is told every answer.
	Metrics      http.Handler
	MetricsToken string
	Observe      func(method, route string, status int, took time.Duration)
}

// JobStarter starts a coverage run in the background and answers its ID;
// domain.ErrJobRunning while a run is in progress anywhere.
type JobStarter interface {
	StartCoverageRun(ctx context.Context, date domain.Date, full bool) (string, error)
}

// WithDefaults fills what d leaves empty: the real clock, slog's logger, 10
// logins a minute, 50 assistance requests a second, 30 s per request.
func (d Deps) WithDefaults() Deps {
	if d.Now == nil {
		d.Now = time.Now
	}
	if d.Logger == nil {
		d.Logger = slog.Default()
	}
	if d.Audit == nil {
		d.Audit = domain.NoAudit{}
	}
	// Every registry write of the HTTP layer goes to the audit trail.
	if d.logins == nil {
		d.logins = &loginLocks{}
	}
	if _, ok := d.Registry.(auditedRegistry); !ok && d.Registry != nil {
		d.Registry = auditedRegistry{RegistryStore: d.Registry, audit: d.Audit}
	}
	if d.LoginRate == 0 {
		d.LoginRate = 10
	}
	if d.AssistRate == 0 {
		d.AssistRate = 50
	}
	if d.RequestTimeout == 0 {
		d.RequestTimeout = 30 * time.Second
	}
	return d
}

func itoa(n int) string { return strconv.Itoa(n) }

// Today is the current calendar day in Asia/Ho_Chi_Minh.
func (d *Deps) Today() domain.Date { return domain.DateOf(d.Now()) }

// Commune returns commune code if it is in force today.
func (d *Deps) Commune(code string) (domain.Unit, bool) { return d.Units.Commune(code, d.Today()) }

// CommuneCodes lists today's communes in code order.
func (d *Deps) CommuneCodes() []string { return d.Units.CommuneCodes(d.Today()) }
