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
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/hue-cdt/cdt/auth"
	"github.com/hue-cdt/cdt/domain"
	"github.com/hue-cdt/cdt/handlers"
	"github.com/hue-cdt/cdt/ingest"
	"github.com/hue-cdt/cdt/internal/embedded"
	"github.com/hue-cdt/cdt/jobs"
	"github.com/hue-cdt/cdt/refdata"
	"github.com/hue-cdt/cdt/store"
)

// Config is cdt's configuration (API.md's CDT_* variables).
type Config struct {
	Addr          string        // CDT_ADDR
	MongoURI      string        // CDT_MONGO_URI
	DataDir       string        // CDT_DATA_DIR
	EmbeddedAddr  string        // CDT_EMBEDDED_ADDR
	DB            string        // CDT_DB
	AdminPassword string        // CDT_ADMIN_PASSWORD
	JWTSecret     string        // CDT_JWT_SECRET
	HouseholdKey  string        // CDT_HOUSEHOLD_KEY
	Demo          bool          // CDT_DEMO
	SecureCookies bool          // CDT_SECURE_COOKIES
	LogFormat     string        // CDT_LOG_FORMAT: json or text
	LogLevel      string        // CDT_LOG_LEVEL
	AssistRate    int           // CDT_ASSIST_RATE: assistance requests per second and member
	LoginRate     int           // CDT_LOGIN_RATE: login attempts per minute and username (×3 per client address)
	CoverageAt    string        // CDT_COVERAGE_AT: time of the nightly coverage run, HH:MM in Huế (01:00)
	CoverageCheck time.Duration // CDT_COVERAGE_CHECK: how often a server checks whether the nightly run is due (1m)
	JobLeaseTTL   time.Duration // CDT_JOB_LEASE_TTL: how long a dead run holder keeps its lease (1m)
	JobDelay      time.Duration // CDT_DEBUG_JOB_DELAY: hold each run this long (tests of the lease only)

	// For tests and tools.
	Now        func() time.Time
	BcryptCost int
	Stdout     io.Writer
	Logger     *slog.Logger
}

// Defaults are the values of API.md.
func Defaults() Config {
	return Config{Addr: "127.0.0.1:8080", DataDir: "./data", EmbeddedAddr: "127.0.0.1:0", DB: "cdt",
		SecureCookies: true, LogFormat: "json", LogLevel: "info", CoverageAt: "01:00",
		CoverageCheck: time.Minute, JobLeaseTTL: time.Minute}
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
	if v := getenv("CDT_ASSIST_RATE"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 20 {
			return c, fmt.Errorf("CDT_ASSIST_RATE: want a number of requests per second, at least 20, got %q", v)
		}
		c.AssistRate = n
	}
	str("CDT_COVERAGE_AT", &c.CoverageAt)
	for _, d := range []struct {
		name string
		dst  *time.Duration
	}{{"CDT_COVERAGE_CHECK", &c.CoverageCheck}, {"CDT_JOB_LEASE_TTL", &c.JobLeaseTTL}, {"CDT_DEBUG_JOB_DELAY", &c.JobDelay}} {
		if v := getenv(d.name); v != "" {
			t, err := time.ParseDuration(v)
			if err != nil || t < 0 {
				return c, fmt.Errorf("%s: want a duration like 30s or 5m, got %q", d.name, v)
			}
			*d.dst = t
		}
	}
	if v := getenv("CDT_LOGIN_RATE"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			return c, fmt.Errorf("CDT_LOGIN_RATE: want a number of attempts per minute, got %q", v)
		}
		c.LoginRate = n
	}
	var err error
	if c.Demo, err = boolEnv(getenv, "CDT_DEMO", false); err != nil {
		return c, err
	}
	if c.SecureCookies, err = boolEnv(getenv, "CDT_SECURE_COOKIES", true); err != nil {
		return c, err
	}
	return c, c.Validate()
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
	if c.MongoURI == "" && c.DataDir == "" {
		errs = append(errs, errors.New("CDT_DATA_DIR is empty"))
	}
	if c.AdminPassword != "" && len(c.AdminPassword) < domain.MinPasswordLen {
		errs = append(errs, fmt.Errorf("CDT_ADMIN_PASSWORD must have at least %d characters", domain.MinPasswordLen))
	}
	if c.JWTSecret != "" && len(c.JWTSecret) < 32 {
		errs = append(errs, errors.New("CDT_JWT_SECRET must have at least 32 characters"))
	}
	if _, _, err := c.coverageAt(); err != nil {
		errs = append(errs, err)
	}
	if c.CoverageCheck < time.Second || c.JobLeaseTTL < 3*time.Second {
		errs = append(errs, errors.New("CDT_COVERAGE_CHECK must be at least 1s and CDT_JOB_LEASE_TTL at least 3s"))
	}
	if c.LogFormat != "json" && c.LogFormat != "text" {
		errs = append(errs, errors.New("CDT_LOG_FORMAT must be json or text"))
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

	Process      string // this server's ID among those sharing the database
	Ingest       *ingest.Service
	Live         *ingest.Live
	Consolidator *jobs.Consolidator
	Coverage     *jobs.Coverage
	Scheduler    *jobs.Scheduler
	runs         sync.WaitGroup // manual runs in the background
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
	a.Store, err = store.Open(ctx, uri, cfg.DB, store.Options{Now: cfg.Now})
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
	a.Server = handlers.New(handlers.Deps{
		Units: a.Units, Registry: a.Store.Registry, Users: a.Store.Users, Auth: a.Auth,
		Ingest: a.Ingest, Live: a.Live, Records: a.Live, Coverage: a.Store.Coverage, Jobs: a,
		Trainings: a.Store.Trainings, TrainingTarget: 0.9,
		Ping: a.Store.Ping, Logger: a.Log, Now: cfg.Now, SecureCookies: cfg.SecureCookies, AssistRate: cfg.AssistRate, LoginRate: cfg.LoginRate,
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
	a.Ingest = &ingest.Service{Registry: st.Registry, Store: st.Assistance, Deltas: st.Rollups, Processes: st.Processes,
		Key: []byte(key), Now: a.Cfg.Now, Logger: a.Log, Process: a.Process}
	a.Live = &ingest.Live{State: st.Rollups, Records: st.Assistance}
	a.Consolidator = &jobs.Consolidator{Store: st.Rollups, Processes: st.Processes, Scanner: st.Assistance,
		Excluded: st.Assistance.Excluded, Now: a.Cfg.Now, Log: a.Log}
	hour, minute, _ := a.Cfg.coverageAt()
	a.Coverage = &jobs.Coverage{Units: a.Units, Registry: st.Registry, Store: st.Coverage, Consolidator: a.Consolidator,
		Leases: st.Leases, Owner: a.Process, Now: a.Cfg.Now, Log: a.Log, AtHour: hour, AtMinute: minute,
		LeaseTTL: a.Cfg.JobLeaseTTL, Delay: a.Cfg.JobDelay, Trained: a.trained}
	if err := a.ensureAdmin(ctx); err != nil {
		return err
	}
	if a.Cfg.Demo {
		return a.loadDemo(ctx)
	}
	return nil
}

func (a *App) communeCodes() []string {
	var out []string
	for _, u := range a.Units.Find(domain.UnitFilter{Level: domain.LevelCommune, AsOf: domain.DateOf(a.Cfg.Now())}) {
		out = append(out, u.Code)
	}
	return out
}

// ensureAdmin creates the login "admin" from CDT_ADMIN_PASSWORD, or with a
// generated password printed once when the database has no login at all.
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
		fmt.Fprintf(a.Cfg.Stdout, "\nFirst start: created the login \"admin\" with the password %s\nIt is shown only this once. Set CDT_ADMIN_PASSWORD to choose it yourself.\n\n", pw)
	}
	return a.CreateUser(ctx, "admin", pw, domain.RoleProvinceAdmin, refdata.ProvinceCode, "", "system")
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
	return a.Store.Users.CreateUser(ctx, &domain.User{Username: domain.NormalizeUsername(username), PasswordHash: hash,
		Role: role, UnitCode: unit, MemberID: member, Active: true, CreatedAt: now, UpdatedAt: now, CreatedBy: by})
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
	// A dead leader is replaced within a lease: at most 30 s, sooner when the
	// job leases are shorter.
	sched, err := jobs.NewScheduler(a.Store.Leases, a.Process, min(30*time.Second, a.Cfg.JobLeaseTTL), a.Cfg.Now, a.Log)
	if err != nil {
		return err
	}
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
	if err := sched.Daily("coverage-nightly", uint(a.Coverage.AtHour), uint(a.Coverage.AtMinute), a.nightly); err != nil {
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
	a.Scheduler = sched
	bctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	a.stopBackground, a.background = cancel, make(chan struct{})
	go func() {
		defer close(a.background)
		a.Ingest.Run(bctx) // stops the writer, after the requests in flight
	}()
	sched.Start(bctx)
	return nil
}

// Close stops everything Open and Start started; later calls do nothing.
func (a *App) Close(ctx context.Context) { a.closeOnce.Do(func() { a.close(ctx) }) }

func (a *App) close(ctx context.Context) {
	if a.Scheduler != nil {
		if err := a.Scheduler.Stop(); err != nil {
			a.Log.Warn("stopping the scheduler", "err", err)
		}
		a.Scheduler = nil
	}
	a.runs.Wait()
	if a.stopBackground != nil {
		a.stopBackground() // the ingest loop flushes a last time before it returns
		<-a.background
		a.stopBackground = nil
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

// nightly runs the coverage of the day that ended, retrying a failed run after
// one and then five minutes; the catch-up check covers what is still missing.
func (a *App) nightly(ctx context.Context) error {
	var err error
	for attempt, wait := range []time.Duration{time.Minute, 5 * time.Minute, 0} {
		_, err = a.Coverage.RunNightly(ctx, jobs.TriggerNightly, attempt+1)
		if err == nil || errors.Is(err, domain.ErrJobRunning) || ctx.Err() != nil {
			return nil // done, done elsewhere, or stopping (the next start redoes it)
		}
		a.Log.Warn("nightly coverage run failed; retrying", "attempt", attempt+1, "err", err)
		if wait == 0 || domain.Sleep(ctx, wait) != nil {
			break
		}
	}
	return err
}

// StartCoverage begins a coverage run and finishes it in the background
// (POST /jobs/coverage/run); Close waits for it.
func (a *App) StartCoverage(ctx context.Context, o jobs.RunOptions) (string, error) {
	r, err := a.Coverage.Begin(ctx, o)
	if err != nil {
		return "", err
	}
	a.runs.Add(1)
	go func() {
		defer a.runs.Done()
		_, _ = r.Execute(context.WithoutCancel(ctx))
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
