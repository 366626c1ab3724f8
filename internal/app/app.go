// Package app wires cdt together: configuration, the database (embedded or
// external), the stores, the HTTP server and the jobs. cmd/cdt and the tests
// that need the whole server use it.
package app

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/hue-cdt/cdt/audit"
	"github.com/hue-cdt/cdt/auth"
	"github.com/hue-cdt/cdt/domain"
	"github.com/hue-cdt/cdt/handlers"
	"github.com/hue-cdt/cdt/handlers/core"
	"github.com/hue-cdt/cdt/ingest"
	"github.com/hue-cdt/cdt/internal/embedded"
	"github.com/hue-cdt/cdt/internal/metrics"
	"github.com/hue-cdt/cdt/jobs"
	"github.com/hue-cdt/cdt/refdata"
	"github.com/hue-cdt/cdt/store"
)

// Config is cdt's configuration (API.md's CDT_* variables).
type Config struct {
	Addr          string // CDT_ADDR
	MongoURI      string // CDT_MONGO_URI
	DataDir       string // CDT_DATA_DIR
	EmbeddedAddr  string // CDT_EMBEDDED_ADDR
	DB            string // CDT_DB
	AdminPassword string // CDT_ADMIN_PASSWORD
	JWTSecret     string // CDT_JWT_SECRET
	HouseholdKey  string // CDT_HOUSEHOLD_KEY
	Demo          bool   // CDT_DEMO
	SecureCookies bool   // CDT_SECURE_COOKIES
	// TrustedProxies are the proxies (addresses or CIDRs) whose
	// X-Forwarded-For names the client (CDT_TRUSTED_PROXIES); none by
	// default: the client is the TCP peer.
	TrustedProxies []string
	LogFormat      string        // CDT_LOG_FORMAT: json or text
	LogLevel       string        // CDT_LOG_LEVEL
	AssistRate     int           // CDT_ASSIST_RATE: assistance requests per second and member
	LoginRate      int           // CDT_LOGIN_RATE: login attempts per minute and username (×3 per client address)
	CoverageAt     string        // CDT_COVERAGE_AT: time of the nightly coverage run, HH:MM in Huế (01:00)
	CoverageCheck  time.Duration // CDT_COVERAGE_CHECK: how often a server checks whether the nightly run is due (1m)
	JobLeaseTTL    time.Duration // CDT_JOB_LEASE_TTL: how long a dead run holder keeps its lease (1m)
	JobDelay       time.Duration // CDT_DEBUG_JOB_DELAY: hold each run this long (tests of the lease only)
	NoAudit        bool          // CDT_DEBUG_NO_AUDIT: record no audit trail (cdt bench ingest --audit=false only)
	MetricsToken   string        // CDT_METRICS_TOKEN: the bearer token of GET /metrics (empty: loopback clients only)
	CleanupEvery   time.Duration // CDT_CLEANUP_EVERY: how often the leader deletes expired sessions, used claims, old runs (1h)
	RunsKept       time.Duration // CDT_RUNS_KEPT: how long finished job runs are kept (90 days)
	RetentionYears int           // CDT_RETENTION_YEARS: how long household hashes are kept (5 years)
	// RequestTimeout bounds every HTTP request and the database operations it
	// makes (CDT_REQUEST_TIMEOUT, 30s): a hung database answers 503.
	RequestTimeout time.Duration
	// ReadyWindow is how long /readyz reports a storage failure (10s; tests).
	ReadyWindow time.Duration
	// Integrity holds the thresholds of the integrity flags (CDT_INTEGRITY_*).
	Integrity domain.IntegrityThresholds

	// For tests and tools.
	Now        func() time.Time
	BcryptCost int
	Stdout     io.Writer
	// Terminal says Stdout is a terminal: a generated admin password is
	// shown there, and otherwise written to AdminPasswordFile.
	Terminal bool
	Logger   *slog.Logger
}

// AdminPasswordFile is the file of the data directory that receives a
// generated admin password when stdout is no terminal (it is then likely
// captured into a log, which must never hold it).
const AdminPasswordFile = "admin-password.txt"

// Defaults are the values of API.md.
func Defaults() Config {
	return Config{Addr: "127.0.0.1:8080", DataDir: "./data", EmbeddedAddr: "127.0.0.1:0", DB: "cdt",
		SecureCookies: true, LogFormat: "json", LogLevel: "info", CoverageAt: "01:00",
		CoverageCheck: time.Minute, JobLeaseTTL: time.Minute, CleanupEvery: time.Hour, RunsKept: 90 * 24 * time.Hour,
		RequestTimeout: 30 * time.Second, RetentionYears: DefaultRetentionYears,
		Integrity: domain.DefaultIntegrityThresholds()}
}

// FromEnv reads the CDT_* variables over the defaults.
func FromEnv(getenv func(string) string) (Config, error) {
	c := Defaults()
	str := func(name string, dst *string) {
		if v := getenv(name); v != "" {
			*dst = v
		}
	}
	str("CDT_ADDR", &c.Addr)
	str("CDT_MONGO_URI", &c.MongoURI)
	str("CDT_DATA_DIR", &c.DataDir)
	str("CDT_EMBEDDED_ADDR", &c.EmbeddedAddr)
	str("CDT_DB", &c.DB)
	str("CDT_ADMIN_PASSWORD", &c.AdminPassword)
	str("CDT_JWT_SECRET", &c.JWTSecret)
	str("CDT_HOUSEHOLD_KEY", &c.HouseholdKey)
	str("CDT_LOG_FORMAT", &c.LogFormat)
	str("CDT_LOG_LEVEL", &c.LogLevel)
	str("CDT_METRICS_TOKEN", &c.MetricsToken)
	if v := getenv("CDT_ASSIST_RATE"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 20 {
			return c, fmt.Errorf("CDT_ASSIST_RATE: want a number of requests per second, at least 20, got %q", v)
		}
		c.AssistRate = n
	}
	str("CDT_COVERAGE_AT", &c.CoverageAt)
	c.TrustedProxies = splitList(getenv("CDT_TRUSTED_PROXIES"))
	for _, d := range []struct {
		name string
		dst  *time.Duration
	}{{"CDT_COVERAGE_CHECK", &c.CoverageCheck}, {"CDT_JOB_LEASE_TTL", &c.JobLeaseTTL}, {"CDT_DEBUG_JOB_DELAY", &c.JobDelay},
		{"CDT_CLEANUP_EVERY", &c.CleanupEvery}, {"CDT_RUNS_KEPT", &c.RunsKept}, {"CDT_REQUEST_TIMEOUT", &c.RequestTimeout}} {
		if v := getenv(d.name); v != "" {
			t, err := time.ParseDuration(v)
			if err != nil || t < 0 {
				return c, fmt.Errorf("%s: want a duration like 30s or 5m, got %q", d.name, v)
			}
			*d.dst = t
		}
	}
	if err := retentionFromEnv(getenv, &c); err != nil {
		return c, err
	}
	if v := getenv("CDT_LOGIN_RATE"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			return c, fmt.Errorf("CDT_LOGIN_RATE: want a number of attempts per minute, got %q", v)
		}
		c.LoginRate = n
	}
	for _, name := range domain.IntegrityThresholdNames {
		if v := getenv("CDT_INTEGRITY_" + name); v != "" {
			if err := c.Integrity.Set(name, v); err != nil {
				return c, err
			}
		}
	}
	var err error
	if c.Demo, err = boolEnv(getenv, "CDT_DEMO", false); err != nil {
		return c, err
	}
	if c.SecureCookies, err = boolEnv(getenv, "CDT_SECURE_COOKIES", true); err != nil {
		return c, err
	}
	if c.NoAudit, err = boolEnv(getenv, "CDT_DEBUG_NO_AUDIT", false); err != nil {
		return c, err
	}
	return c, c.Validate()
}

// splitList splits a comma-separated list, dropping empty items.
func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

func boolEnv(getenv func(string) string, name string, def bool) (bool, error) {
	switch strings.ToLower(getenv(name)) {
	case "":
		return def, nil
	case "1", "true", "yes", "on":
		return true, nil
	case "0", "false", "no", "off":
		return false, nil
	}
	return false, fmt.Errorf("%s: want true or false, got %q", name, getenv(name))
}

// Validate checks the configuration before anything starts.
func (c Config) Validate() error {
	var errs []error
	if c.Addr == "" {
		errs = append(errs, errors.New("CDT_ADDR is empty"))
	}
	if c.MongoURI != "" && !strings.HasPrefix(c.MongoURI, "mongodb://") && !strings.HasPrefix(c.MongoURI, "mongodb+srv://") {
		errs = append(errs, errors.New("CDT_MONGO_URI must start with mongodb:// or mongodb+srv://"))
	}
	if c.MongoURI == "" && !embedded.Available {
		errs = append(errs, errors.New("CDT_MONGO_URI is required: this cdt was built without the embedded database (tag noembedded)"))
	}
	if c.MongoURI == "" && c.DataDir == "" {
		errs = append(errs, errors.New("CDT_DATA_DIR is empty"))
	}
	if c.AdminPassword != "" && len(c.AdminPassword) < domain.MinPasswordLen {
		errs = append(errs, fmt.Errorf("CDT_ADMIN_PASSWORD must have at least %d characters", domain.MinPasswordLen))
	}
	if c.JWTSecret != "" && len(c.JWTSecret) < 32 {
		errs = append(errs, errors.New("CDT_JWT_SECRET must have at least 32 characters"))
	}
	for _, p := range c.TrustedProxies {
		if _, err := netip.ParsePrefix(p); err != nil {
			if _, err := netip.ParseAddr(p); err != nil {
				errs = append(errs, fmt.Errorf("CDT_TRUSTED_PROXIES: %q is neither an address nor a CIDR", p))
			}
		}
	}
	if _, _, err := c.coverageAt(); err != nil {
		errs = append(errs, err)
	}
	if c.CoverageCheck < time.Second || c.JobLeaseTTL < 3*time.Second {
		errs = append(errs, errors.New("CDT_COVERAGE_CHECK must be at least 1s and CDT_JOB_LEASE_TTL at least 3s"))
	}
	if c.RequestTimeout < time.Second {
		errs = append(errs, errors.New("CDT_REQUEST_TIMEOUT must be at least 1s"))
	}
	if c.CleanupEvery < time.Second || c.RunsKept < 40*24*time.Hour {
		// The catch-up of missed nights reads the runs of the last 35 days.
		errs = append(errs, errors.New("CDT_CLEANUP_EVERY must be at least 1s and CDT_RUNS_KEPT at least 960h (40 days)"))
	}
	if c.LogFormat != "json" && c.LogFormat != "text" {
		errs = append(errs, errors.New("CDT_LOG_FORMAT must be json or text"))
	}
	if err := c.Integrity.Validate(); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

func (c Config) coverageAt() (int, int, error) {
	t, err := time.Parse("15:04", c.CoverageAt)
	if err != nil {
		return 0, 0, fmt.Errorf("CDT_COVERAGE_AT must be HH:MM, got %q", c.CoverageAt)
	}
	return t.Hour(), t.Minute(), nil
}

// NewLogger builds the one logger of the process.
func NewLogger(w io.Writer, format, level string) *slog.Logger {
	var lv slog.Level
	_ = lv.UnmarshalText([]byte(level))
	opts := &slog.HandlerOptions{Level: lv}
	if format == "text" {
		return slog.New(slog.NewTextHandler(w, opts))
	}
	return slog.New(slog.NewJSONHandler(w, opts))
}

// App is a running cdt: database, stores and HTTP handler.
type App struct {
	Cfg      Config
	Log      *slog.Logger
	Embedded *embedded.DB
	Store    *store.DB
	Units    *domain.UnitCatalog
	Auth     *auth.Service
	Server   *handlers.Server
	Metrics  *metrics.Metrics

	Process      string // this server's ID among those sharing the database
	Audit        *audit.Writer
	Ingest       *ingest.Service
	Live         *ingest.Live
	Consolidator *jobs.Consolidator
	Coverage     *jobs.Coverage
	Integrity    *jobs.Integrity
	Cleanup      *jobs.Cleanup
	Scheduler    *jobs.Scheduler
	runs         sync.WaitGroup // manual runs in the background
	runsMu       sync.Mutex     // orders a run's start before StopJobs's wait
	runsCtx      context.Context
	stopRuns     context.CancelFunc // stops the manual runs (StopJobs)
	jobsOnce     sync.Once
	jobsStopped  chan struct{} // closed once the scheduler and the manual runs have stopped
	closeOnce    sync.Once

	stopBackground context.CancelFunc
	background     chan struct{}
}

// Open starts the database (the embedded one when no URI is configured),
// prepares it and builds the server. Close undoes it.
func Open(ctx context.Context, cfg Config) (a *App, err error) {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Stdout == nil {
		cfg.Stdout = io.Discard
	}
	a = &App{Cfg: cfg, Log: cfg.Logger, Units: refdata.Catalog()}
	a.Metrics = metrics.New(a.backlog)
	a.runsCtx, a.stopRuns = context.WithCancel(context.Background())
	if a.Log == nil {
		a.Log = slog.New(slog.DiscardHandler)
	}
	defer func() {
		if err != nil {
			a.Close(context.Background())
		}
	}()
	uri := cfg.MongoURI
	if uri == "" {
		a.Embedded, err = embedded.Start(cfg.DataDir, cfg.EmbeddedAddr, a.Log)
		if err != nil {
			return a, err
		}
		uri = a.Embedded.URI()
		a.Log.Info("embedded database uri="+uri, "uri", uri, "data_dir", cfg.DataDir)
	}
	a.Store, err = store.Open(ctx, uri, cfg.DB, store.Options{Now: cfg.Now, CommandFailed: a.Metrics.DBError, FailureWindow: cfg.ReadyWindow})
	if err != nil {
		return a, err
	}
	// Units beyond Huế's (the synthetic communes of a national data set).
	if extra, err := a.Store.Units.ExtraUnits(ctx); err != nil {
		return a, err
	} else if len(extra) > 0 {
		a.Units = domain.NewUnitCatalog(append(a.Units.All(), extra...))
	}
	if err := a.prepare(ctx); err != nil {
		return a, err
	}
	var trail domain.AuditLog = a.Audit
	if cfg.NoAudit {
		trail = domain.NoAudit{}
	}
	a.Server = handlers.New(handlers.Deps{
		Units: a.Units, Registry: a.Store.Registry, Users: a.Store.Users, Throttles: a.Store.Throttles, Auth: a.Auth,
		Ingest: a.Ingest, Live: a.Live, Records: a.Live, Coverage: a.Store.Coverage, Jobs: a,
		Trainings: a.Store.Trainings, Integrity: a.integrityDeps(), TrainingTarget: 0.9, Audit: trail, AuditTrail: a.Store.Audit,
		Privacy: a.Store.Privacy, Care: a.householdCare(), RetentionYears: cfg.RetentionYears,
		Ready: a.Store.Ready, RequestTimeout: cfg.RequestTimeout, Logger: a.Log, Now: cfg.Now, SecureCookies: cfg.SecureCookies, TrustedProxies: cfg.TrustedProxies, AssistRate: cfg.AssistRate, LoginRate: cfg.LoginRate,
		Metrics: a.Metrics.Handler(), MetricsToken: cfg.MetricsToken, Observe: a.Metrics.Request,
	})
	return a, nil
}

// prepare creates indexes, stores the reference units, creates the registries
// of today's communes, the secrets, the first admin and the demo data.
func (a *App) prepare(ctx context.Context) error {
	st := a.Store
	if err := st.EnsureIndexes(ctx); err != nil {
		return err
	}
	if err := st.Units.SaveUnits(ctx, refdata.Catalog().All()); err != nil {
		return err
	}
	if err := st.Registry.EnsureRegistries(ctx, a.communeCodes()); err != nil {
		return err
	}
	secret := a.Cfg.JWTSecret
	if secret == "" {
		var err error
		if secret, err = st.Settings.GetOrCreateSetting(ctx, "jwt_secret", auth.RandomSecret); err != nil {
			return err
		}
	}
	a.Auth = &auth.Service{Users: st.Users, Sessions: st.Sessions, Registry: st.Registry, Secret: []byte(secret),
		Now: a.Cfg.Now, Cost: a.Cfg.BcryptCost}
	key := a.Cfg.HouseholdKey
	if key == "" {
		var err error
		if key, err = st.Settings.GetOrCreateSetting(ctx, "household_key", auth.RandomSecret); err != nil {
			return err
		}
	}
	a.Process = newProcessID()
	a.Audit = &audit.Writer{Store: st.Audit, Process: a.Process, Now: a.Cfg.Now, Log: a.Log}
	a.Ingest = &ingest.Service{Registry: st.Registry, Store: st.Assistance, Deltas: st.Rollups, Processes: st.Processes,
		Key: []byte(key), Now: a.Cfg.Now, Logger: a.Log, Process: a.Process, Observe: a.observeRecords}
	a.Ingest.Objected = &ingest.Objections{Store: st.Privacy}
	a.Live = &ingest.Live{State: st.Rollups, Records: st.Assistance}
	a.Consolidator = &jobs.Consolidator{Store: st.Rollups, Processes: st.Processes, Scanner: st.Assistance,
		Excluded: st.Assistance.Excluded, Now: a.Cfg.Now, Log: a.Log}
	hour, minute, _ := a.Cfg.coverageAt()
	a.Coverage = &jobs.Coverage{Units: a.Units, Registry: st.Registry, Store: st.Coverage, Consolidator: a.Consolidator,
		Leases: st.Leases, Owner: a.Process, Now: a.Cfg.Now, Log: a.Log, AtHour: hour, AtMinute: minute,
		LeaseTTL: a.Cfg.JobLeaseTTL, Delay: a.Cfg.JobDelay, Trained: a.trained}
	a.Integrity = a.newIntegrity()
	a.Cleanup = a.newCleanup()
	if err := a.ensureAdmin(ctx); err != nil {
		return err
	}
	if a.Cfg.Demo {
		return a.loadDemo(ctx)
	}
	return nil
}

// newCleanup lists the housekeeping collections the clean-up job keeps
// bounded. A package that adds such a collection adds its sweep here.
func (a *App) newCleanup() *jobs.Cleanup {
	st := a.Store
	c := &jobs.Cleanup{Now: a.Cfg.Now, Log: a.Log}
	c.Add("sessions", st.Sessions.DeleteExpiredSessions)
	c.Add("session_claims", st.Sessions.DeleteUsedClaims)
	c.Add("registry_claims", st.Registry.PruneClaims)
	c.Add("training_claims", st.Trainings.PruneClaims)
	c.Add("privacy_claims", st.Privacy.PruneClaims)
	c.Add("integrity_claims", st.Integrity.PruneClaims)
	a.addRetention(c)
	c.Add("job_runs", func(ctx context.Context, now time.Time) (int, error) {
		return st.Coverage.DeleteRunsBefore(ctx, now.Add(-a.Cfg.RunsKept))
	})
	c.Add("processes", func(ctx context.Context, now time.Time) (int, error) {
		return st.Processes.DeleteProcesses(ctx, now.Add(-24*time.Hour))
	})
	return c
}

func (a *App) communeCodes() []string {
	var out []string
	for _, u := range a.Units.Find(domain.UnitFilter{Level: domain.LevelCommune, AsOf: domain.DateOf(a.Cfg.Now())}) {
		out = append(out, u.Code)
	}
	return out
}

// ensureAdmin creates the login "admin" from CDT_ADMIN_PASSWORD, or with a
// generated password when the database has no login at all. That password is
// shown once on the terminal; when stdout is no terminal (a service, a
// container, output captured into a log) it goes to AdminPasswordFile in the
// data directory, readable by the server's user only, and the log names the
// file: never the password.
func (a *App) ensureAdmin(ctx context.Context) error {
	_, err := a.Store.Users.FindUser(ctx, "admin")
	if err == nil || !errors.Is(err, domain.ErrNotFound) {
		return err
	}
	pw := a.Cfg.AdminPassword
	if pw == "" {
		n, err := a.Store.Users.CountUsers(ctx)
		if err != nil || n > 0 {
			return err
		}
		secret, _ := auth.RandomSecret()
		pw = secret[:16]
		if err := a.CreateUser(ctx, "admin", pw, domain.RoleProvinceAdmin, refdata.ProvinceCode, "", "system"); err != nil {
			return err
		}
		return a.showAdminPassword(pw)
	}
	return a.CreateUser(ctx, "admin", pw, domain.RoleProvinceAdmin, refdata.ProvinceCode, "", "system")
}

func (a *App) showAdminPassword(pw string) error {
	if a.Cfg.Terminal {
		fmt.Fprintf(a.Cfg.Stdout, "\nFirst start: created the login \"admin\" with the password %s\nIt is shown only this once. Set CDT_ADMIN_PASSWORD to choose it yourself.\n\n", pw)
		return nil
	}
	dir := a.Cfg.DataDir
	if dir == "" {
		dir = "."
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("app: the admin password file: %w", err)
	}
	path, err := filepath.Abs(filepath.Join(dir, AdminPasswordFile))
	if err != nil {
		return fmt.Errorf("app: the admin password file: %w", err)
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err == nil {
		err = f.Chmod(0o600) // an older file may have had other rights
		if _, werr := fmt.Fprintln(f, pw); err == nil {
			err = werr
		}
		if cerr := f.Close(); err == nil {
			err = cerr
		}
	}
	if err != nil {
		return fmt.Errorf("app: the admin password file: %w", err)
	}
	a.Log.Warn("first start: created the login admin; its password is in "+path+" (readable by this user only): sign in, change it, delete the file",
		"file", path)
	return nil
}

// CreateUser creates a login without a caller's scope (CLI, first start, demo).
func (a *App) CreateUser(ctx context.Context, username, password string, role domain.Role, unit, member, by string) error {
	in := domain.NewUser{Username: username, Password: password, Role: string(role), UnitCode: unit, MemberID: member}
	if err := domain.ValidateNewUser(in); err != nil {
		return err
	}
	if _, err := domain.LoginCommune(ctx, a.Units, a.Store.Registry, role, unit, member, domain.DateOf(a.Cfg.Now())); err != nil {
		return err
	}
	hash, err := a.Auth.HashPassword(password)
	if err != nil {
		return err
	}
	now := a.Cfg.Now()
	u := domain.User{Username: domain.NormalizeUsername(username), PasswordHash: hash,
		Role: role, UnitCode: unit, MemberID: member, Active: true, CreatedAt: now, UpdatedAt: now, CreatedBy: by}
	if err := a.Store.Users.CreateUser(ctx, &u); err != nil {
		return err
	}
	e := core.LoginChange(u, "created")
	e.Actor = by
	a.Audit.Record(ctx, e)
	return nil
}

// Consolidate applies pending deltas under the consolidation lease (when
// there are any, or the state must be rebuilt).
func (a *App) Consolidate(ctx context.Context) error {
	if pending, err := a.Store.Rollups.PendingDeltas(ctx, 1); err != nil || len(pending) == 0 {
		if err != nil {
			return err
		}
		st, err := a.Store.Rollups.State(ctx)
		if err != nil || st.Schema == domain.StateSchema {
			return err
		}
	}
	return jobs.WithLease(ctx, a.Store.Leases, jobs.ConsolidateLease, a.Process, a.Cfg.JobLeaseTTL, func(ctx context.Context) error {
		_, err := a.Consolidator.Run(ctx)
		return err
	})
}

// RecordCare changes what is counted of stored records (domain.RecordCare):
// excluding a record, a household's records, forgetting a household,
// dropping old household hashes. Each change waits for the consolidation
// lease: the consolidated state has one writer.
func (a *App) RecordCare() domain.RecordCare {
	return &jobs.Care{Consolidator: a.Consolidator, Records: a.Store.Assistance,
		Lease: func(ctx context.Context, fn func(context.Context) error) error {
			return jobs.UnderLease(ctx, a.Store.Leases, jobs.ConsolidateLease, a.Process+"/care", a.Cfg.JobLeaseTTL, fn)
		}}
}

// Start runs the background work of a server: the flushing of assistance
// deltas and the scheduled jobs. Close stops it.
func (a *App) Start(ctx context.Context) error {
	if err := a.Ingest.Start(ctx); err != nil {
		return err
	}
	// A server consolidates every second: it keeps the head documents it
	// wrote rather than read them again each pass.
	a.Consolidator.CacheHeads = true
	// A dead leader is replaced within a lease: at most 30 s, sooner when the
	// job leases are shorter.
	sched, err := jobs.NewScheduler(a.Store.Leases, a.Process, min(30*time.Second, a.Cfg.JobLeaseTTL), a.Cfg.Now, a.Log)
	if err != nil {
		return err
	}
	sched.Observe = a.Metrics.Job
	// Deltas are consolidated as they come (a pass costs a few reads when
	// there is nothing to do), so that lists and counts lag by about a second.
	if err := sched.Every("consolidate", time.Second, func(ctx context.Context) error {
		err := a.Consolidate(ctx)
		if errors.Is(err, domain.ErrJobRunning) {
			return nil
		}
		return err
	}); err != nil {
		return err
	}
	// Expired sessions, claims and revocations go, keeping the collections
	// every login and every server's session view read small.
	if err := sched.Every("housekeeping", time.Hour, a.housekeeping); err != nil {
		return err
	}
	if err := sched.Daily("coverage-nightly", uint(a.Coverage.AtHour), uint(a.Coverage.AtMinute), a.nightly); err != nil {
		return err
	}
	if err := sched.Every("cleanup", a.Cfg.CleanupEvery, func(ctx context.Context) error {
		_, err := a.Cleanup.Run(ctx)
		return err
	}); err != nil {
		return err
	}
	if err := sched.EveryFromStart("coverage-catch-up", a.Cfg.CoverageCheck, func(ctx context.Context) error {
		_, err := a.Coverage.RunNightly(ctx, jobs.TriggerCatchUp, 1)
		if errors.Is(err, domain.ErrJobRunning) {
			return nil
		}
		return err
	}); err != nil {
		return err
	}
	// Integrity follows coverage: the nightly run calls it when coverage is
	// done; this check catches a day (or a week's sample) still missing.
	if err := sched.EveryFromStart("integrity-catch-up", a.Cfg.CoverageCheck, func(ctx context.Context) error {
		return a.integrityNightly(ctx, jobs.TriggerCatchUp)
	}); err != nil {
		return err
	}
	a.Scheduler = sched
	bctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	a.stopBackground, a.background = cancel, make(chan struct{})
	go func() {
		defer close(a.background)
		var wg sync.WaitGroup
		wg.Add(1)
		go func() { defer wg.Done(); a.Audit.Run(bctx) }() // writes what is buffered when stopped
		a.Ingest.Run(bctx)
		wg.Wait()
	}()
	sched.Start(bctx)
	return nil
}

// StopJobs stops the coverage runs in progress, scheduled or started by
// hand, at once: each records itself as failed and interrupted, and the next
// start redoes its day. It returns at once; Close waits for them. A server
// calls it as soon as it is asked to stop, so that no run outlives the grace
// period given to requests.
func (a *App) StopJobs() {
	a.jobsOnce.Do(func() {
		a.runsMu.Lock()
		a.stopRuns()
		a.runsMu.Unlock()
		done := make(chan struct{})
		a.jobsStopped = done
		go func() {
			defer close(done)
			if a.Scheduler != nil {
				if err := a.Scheduler.Stop(); err != nil {
					a.Log.Warn("stopping the scheduler", "err", err)
				}
			}
			a.runs.Wait()
		}()
	})
}

// Close stops everything Open and Start started; later calls do nothing.
// The jobs get until ctx's deadline to record their end.
func (a *App) Close(ctx context.Context) { a.closeOnce.Do(func() { a.close(ctx) }) }

func (a *App) close(ctx context.Context) {
	a.StopJobs()
	select {
	case <-a.jobsStopped:
	case <-ctx.Done():
		a.Log.Warn("coverage runs still stopping when the database closes")
	}
	if a.stopBackground != nil {
		a.stopBackground() // the ingest loop flushes a last time before it returns
		<-a.background
		a.stopBackground = nil
	}
	if a.Audit != nil { // without Start (tools), what they recorded
		if err := a.Audit.Flush(ctx); err != nil {
			a.Log.Warn("writing the audit trail", "err", err)
		}
	}
	if a.Store != nil {
		if err := a.Store.Close(ctx); err != nil {
			a.Log.Warn("closing the database connection", "err", err)
		}
	}
	if a.Embedded != nil {
		a.Embedded.Stop()
	}
}

func newProcessID() string {
	s, _ := auth.RandomSecret()
	return "p" + strings.NewReplacer("-", "", "_", "").Replace(s)[:10]
}

// housekeeping deletes what has expired: sessions, their claims and
// revocations, and failed sign-ins a week old.
func (a *App) housekeeping(ctx context.Context) error {
	now := a.Cfg.Now()
	if _, err := a.Store.Sessions.DeleteExpiredSessions(ctx, now); err != nil {
		return err
	}
	return a.Store.Throttles.DeleteLoginThrottles(ctx, now.Add(-domain.LoginNoticeKeep), now.Add(-domain.LoginForget))
}

// nightly runs the coverage of the day that ended, retrying a failed run after
// one and then five minutes; the catch-up check covers what is still missing.
func (a *App) nightly(ctx context.Context) error {
	var err error
	for attempt, wait := range []time.Duration{time.Minute, 5 * time.Minute, 0} {
		_, err = a.Coverage.RunNightly(ctx, jobs.TriggerNightly, attempt+1)
		if err == nil {
			return a.integrityNightly(ctx, jobs.TriggerNightly) // right after coverage
		}
		if errors.Is(err, domain.ErrJobRunning) || ctx.Err() != nil {
			return nil // done elsewhere, or stopping (the next start redoes it)
		}
		a.Log.Warn("nightly coverage run failed; retrying", "attempt", attempt+1, "err", err)
		if wait == 0 || domain.Sleep(ctx, wait) != nil {
			break
		}
	}
	return err
}

// StartCoverage begins a coverage run and finishes it in the background
// (POST /jobs/coverage/run): it outlives the request, not the server
// (StopJobs interrupts it; Close waits for it).
func (a *App) StartCoverage(ctx context.Context, o jobs.RunOptions) (string, error) {
	a.runsMu.Lock()
	defer a.runsMu.Unlock()
	if a.runsCtx.Err() != nil {
		return "", fmt.Errorf("app: the server is stopping: %w", domain.ErrUnavailable)
	}
	r, err := a.Coverage.Begin(ctx, o)
	if err != nil {
		return "", err
	}
	a.runs.Add(1)
	go func() {
		defer a.runs.Done()
		start := time.Now()
		_, err := r.Execute(a.runsCtx)
		a.Metrics.Job("coverage-manual", time.Since(start), err)
	}()
	return r.ID(), nil
}

// StartCoverageRun is StartCoverage for the handlers.
func (a *App) StartCoverageRun(ctx context.Context, date domain.Date, full bool) (string, error) {
	return a.StartCoverage(ctx, jobs.RunOptions{Date: date, Full: full, Trigger: jobs.TriggerManual})
}

// trained is the set of members who attended a training (coverage's
// members_trained uses the same definition as the training report).
func (a *App) trained(ctx context.Context) (map[string]bool, error) {
	ts, err := a.Store.Trainings.Trainings(ctx)
	if err != nil {
		return nil, err
	}
	out := map[string]bool{}
	for id := range domain.TrainedMembers(ts) {
		out[id] = true
	}
	return out, nil
}

// observeRecords counts the outcome of one assistance request (metrics).
func (a *App) observeRecords(results []ingest.Result) {
	var created, duplicate, invalid int
	for _, r := range results {
		switch r.Status {
		case ingest.Created:
			created++
		case ingest.Duplicate:
			duplicate++
		default:
			invalid++
		}
	}
	a.Metrics.Records(created, duplicate, invalid)
}

// backlog counts the deltas not yet consolidated, and their records, up to
// 1000 deltas (metrics; asked at each scrape).
func (a *App) backlog(ctx context.Context) (int, int, error) {
	if a.Store == nil {
		return 0, 0, errors.New("app: no database yet")
	}
	deltas, err := a.Store.Rollups.PendingDeltas(ctx, 1000)
	if err != nil {
		return 0, 0, err
	}
	records := 0
	for _, d := range deltas {
		records += len(d.Records)
	}
	return len(deltas), records, nil
}
