package main

import (
	"context"
	"flag"
	"fmt"
	"io"

	"github.com/hue-cdt/cdt/internal/app"
)

// configFlags binds one flag per CDT_* variable; flags win over the environment.
func configFlags(fs *flag.FlagSet, getenv func(string) string) func() (app.Config, error) {
	env := map[string]*string{}
	for _, v := range []struct{ flag, env, help string }{
		{"addr", "CDT_ADDR", "listen address (127.0.0.1:0 picks a free port)"},
		{"mongo-uri", "CDT_MONGO_URI", "MongoDB URI; empty starts the embedded database"},
		{"data-dir", "CDT_DATA_DIR", "directory of the embedded database"},
		{"embedded-addr", "CDT_EMBEDDED_ADDR", "listen address of the embedded database"},
		{"db", "CDT_DB", "database name"},
		{"admin-password", "CDT_ADMIN_PASSWORD", "password of the login admin, created at start if missing"},
		{"jwt-secret", "CDT_JWT_SECRET", "HMAC key for tokens (generated and kept in the database if empty)"},
		{"household-key", "CDT_HOUSEHOLD_KEY", "HMAC key for household references (generated and kept if empty)"},
		{"demo", "CDT_DEMO", "load the demo data set on first start (true/false)"},
		{"secure-cookies", "CDT_SECURE_COOKIES", "mark page cookies Secure (true/false)"},
		{"trusted-proxies", "CDT_TRUSTED_PROXIES", "comma-separated proxy addresses/CIDRs whose X-Forwarded-For is believed; empty: none"},
		{"log-format", "CDT_LOG_FORMAT", "json or text"},
		{"log-level", "CDT_LOG_LEVEL", "debug, info, warn or error"},
		{"metrics-token", "CDT_METRICS_TOKEN", "bearer token of GET /metrics (empty: loopback clients only)"},
	} {
		env[v.env] = fs.String(v.flag, "", v.help+" ($"+v.env+")")
	}
	return func() (app.Config, error) {
		return app.FromEnv(func(name string) string {
			if p := env[name]; p != nil && *p != "" {
				return *p
			}
			return getenv(name)
		})
	}
}

func newFlagSet(name string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet("cdt "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	return fs
}

// flagSet reports whether flag name was given on the command line.
func flagSet(fs *flag.FlagSet, name string) bool {
	set := false
	fs.Visit(func(f *flag.Flag) { set = set || f.Name == name })
	return set
}

// openTool opens the configured database for a command other than serve:
// its output on stdout, only warnings and errors logged on stderr. It
// returns the configuration too, for a command that opens it again.
func openTool(ctx context.Context, config func() (app.Config, error), stdout, stderr io.Writer) (*app.App, app.Config, error) {
	return openApp(ctx, config, stdout, stderr, "warn")
}

// openApp opens the configured database for a command, logging on stderr at
// level ("": the configured CDT_LOG_LEVEL, for the job runs whose progress
// an operator follows).
func openApp(ctx context.Context, config func() (app.Config, error), stdout, stderr io.Writer, level string) (*app.App, app.Config, error) {
	cfg, err := config()
	if err != nil {
		return nil, cfg, fmt.Errorf("configuration: %w", err)
	}
	if level == "" {
		level = cfg.LogLevel
	}
	cfg.Stdout = stdout
	cfg.Logger = app.NewLogger(stderr, cfg.LogFormat, level)
	a, err := app.Open(ctx, cfg)
	return a, cfg, err
}
