package deploy_test

import (
	"bufio"
	"encoding/json"
	"io/fs"
	"maps"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/compose-spec/compose-go/v2/cli"
	"github.com/compose-spec/compose-go/v2/types"
)

// The deployment files live at the repository root, one level up.
const (
	composeFile  = "../docker-compose.yml"
	dockerfile   = "../Dockerfile"
	dockerignore = "../.dockerignore"
	goMod        = "../go.mod"
)

// secrets are the variables docker-compose.yml refuses to start without.
var secrets = map[string]string{
	"CDT_ADMIN_PASSWORD": "admin-password-for-test",
	"CDT_JWT_SECRET":     "jwt-secret-for-test",
	"CDT_HOUSEHOLD_KEY":  "household-key-for-test",
}

func repoRoot(t *testing.T) string {
	t.Helper()
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	return root
}

// loadCompose loads docker-compose.yml the way `docker compose` does, with
// only env for interpolation: neither the process environment nor a .env file
// takes part, so the result does not depend on the machine.
func loadCompose(t *testing.T, env map[string]string) (*types.Project, error) {
	t.Helper()
	var kv []string
	for k, v := range env {
		kv = append(kv, k+"="+v)
	}
	opts, err := cli.NewProjectOptions([]string{composeFile},
		cli.WithWorkingDirectory(repoRoot(t)),
		cli.WithEnv(kv),
	)
	if err != nil {
		t.Fatal(err)
	}
	return opts.LoadProject(t.Context())
}

func mustLoadCompose(t *testing.T) *types.Project {
	t.Helper()
	p, err := loadCompose(t, secrets)
	if err != nil {
		t.Fatalf("load %s: %v", composeFile, err)
	}
	return p
}

func service(t *testing.T, p *types.Project, name string) types.ServiceConfig {
	t.Helper()
	s, err := p.GetService(name)
	if err != nil {
		t.Fatalf("service %q: %v", name, err)
	}
	return s
}

func envValue(t *testing.T, s types.ServiceConfig, key string) string {
	t.Helper()
	v, ok := s.Environment[key]
	if !ok || v == nil {
		t.Fatalf("service %s: environment %s is not set", s.Name, key)
	}
	return *v
}

// flagValue returns the argument after flag in args ("--replSet rs0") or the
// part after "=" ("--replSet=rs0").
func flagValue(args []string, flag string) (string, bool) {
	for i, a := range args {
		if a == flag && i+1 < len(args) {
			return args[i+1], true
		}
		if v, ok := strings.CutPrefix(a, flag+"="); ok {
			return v, true
		}
	}
	return "", false
}

func TestComposeMongoReplicaSet(t *testing.T) {
	p := mustLoadCompose(t)
	mongo := service(t, p, "mongo")

	if !strings.HasPrefix(mongo.Image, "mongo:") {
		t.Errorf("mongo image = %q, want the official mongo image", mongo.Image)
	}
	rs, ok := flagValue(mongo.Command, "--replSet")
	if !ok || rs == "" {
		t.Fatalf("mongo command %q has no --replSet NAME", mongo.Command)
	}
	if !slices.Contains(mongo.Command, "--bind_ip_all") {
		t.Errorf("mongo command %q lacks --bind_ip_all: other containers could not connect", mongo.Command)
	}

	// Data in a named volume (not an anonymous one, lost on `docker compose down`).
	var dataVol *types.ServiceVolumeConfig
	for i, v := range mongo.Volumes {
		if v.Target == "/data/db" {
			dataVol = &mongo.Volumes[i]
		}
	}
	switch {
	case dataVol == nil:
		t.Errorf("mongo has no volume at /data/db")
	case dataVol.Type != types.VolumeTypeVolume || dataVol.Source == "":
		t.Errorf("mongo /data/db is %s %q, want a named volume", dataVol.Type, dataVol.Source)
	default:
		if _, ok := p.Volumes[dataVol.Source]; !ok {
			t.Errorf("volume %q of mongo is not declared under top-level volumes", dataVol.Source)
		}
	}

	// The healthcheck initiates the replica set and passes once it has a primary.
	hc := mongo.HealthCheck
	if hc == nil || hc.Disable || len(hc.Test) == 0 {
		t.Fatalf("mongo has no healthcheck")
	}
	test := strings.Join(hc.Test, " ")
	for _, want := range []string{"mongosh", "rs.initiate", "_id:'" + rs + "'", "host:'mongo:27017'"} {
		if !strings.Contains(test, want) {
			t.Errorf("mongo healthcheck %q does not contain %q", test, want)
		}
	}
	if hc.Interval == nil || hc.Timeout == nil || hc.Retries == nil || hc.StartPeriod == nil {
		t.Errorf("mongo healthcheck should set interval, timeout, retries and start_period: %+v", hc)
	}
	if hc.Retries != nil && *hc.Retries == 0 {
		t.Errorf("mongo healthcheck retries = 0")
	}

	// MongoDB runs without authentication here: it must stay off the host.
	for _, port := range mongo.Ports {
		if port.Published != "" {
			t.Errorf("mongo publishes port %d on the host as %s; it has no authentication", port.Target, port.Published)
		}
	}
}

func TestComposeCDT(t *testing.T) {
	p := mustLoadCompose(t)
	cdt := service(t, p, "cdt")
	mongo := service(t, p, "mongo")

	// Built from this repository's Dockerfile.
	if cdt.Build == nil {
		t.Fatalf("cdt has no build section")
	}
	if got, want := filepath.Clean(cdt.Build.Context), repoRoot(t); got != want {
		t.Errorf("cdt build context = %s, want the repository root %s", got, want)
	}
	df := cdt.Build.Dockerfile
	if df == "" {
		df = "Dockerfile"
	}
	if !filepath.IsAbs(df) {
		df = filepath.Join(cdt.Build.Context, df)
	}
	if _, err := os.Stat(df); err != nil {
		t.Errorf("cdt Dockerfile: %v", err)
	}
	if cdt.Image != "cdt:latest" {
		t.Errorf("cdt image = %q, want cdt:latest", cdt.Image)
	}

	// Starts only once the replica set has a primary.
	dep, ok := cdt.DependsOn["mongo"]
	if !ok {
		t.Fatalf("cdt does not depend on mongo")
	}
	if dep.Condition != types.ServiceConditionHealthy {
		t.Errorf("cdt depends on mongo with condition %q, want %q", dep.Condition, types.ServiceConditionHealthy)
	}

	// CDT_MONGO_URI names the mongo service and its replica set.
	raw := envValue(t, cdt, "CDT_MONGO_URI")
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatalf("CDT_MONGO_URI %q: %v", raw, err)
	}
	if u.Scheme != "mongodb" {
		t.Errorf("CDT_MONGO_URI scheme = %q, want mongodb", u.Scheme)
	}
	hosts := strings.Split(u.Host, ",")
	sawMongo := false
	for _, h := range hosts {
		name, _, err := net.SplitHostPort(h)
		if err != nil {
			name = h
		}
		if _, ok := p.Services[name]; !ok {
			t.Errorf("CDT_MONGO_URI host %q is not a service of the compose file", name)
		}
		sawMongo = sawMongo || name == "mongo"
	}
	if !sawMongo {
		t.Errorf("CDT_MONGO_URI %q does not point at host mongo", raw)
	}
	if !strings.Contains(raw, "replicaSet=") {
		t.Errorf("CDT_MONGO_URI %q lacks replicaSet=", raw)
	}
	rs, _ := flagValue(mongo.Command, "--replSet")
	if got := u.Query().Get("replicaSet"); got != rs {
		t.Errorf("CDT_MONGO_URI replicaSet = %q, mongo runs --replSet %q", got, rs)
	}

	// The rest of the configuration, and the secrets passed through unchanged.
	want := map[string]string{
		"CDT_ADDR":           "0.0.0.0:8080",
		"CDT_DB":             "cdt",
		"CDT_SECURE_COOKIES": "true",
		"CDT_LOG_FORMAT":     "json",
	}
	for k, v := range secrets {
		want[k] = v
	}
	for k, v := range want {
		if got := envValue(t, cdt, k); got != v {
			t.Errorf("cdt environment %s = %q, want %q", k, got, v)
		}
	}

	// Publishes the port it listens on.
	_, addrPort, err := net.SplitHostPort(envValue(t, cdt, "CDT_ADDR"))
	if err != nil {
		t.Fatalf("CDT_ADDR: %v", err)
	}
	published := false
	for _, port := range cdt.Ports {
		if strconv.Itoa(int(port.Target)) == addrPort && port.Published == "8080" {
			published = true
		}
	}
	if !published {
		t.Errorf("cdt does not publish 8080 to its listen port %s: %+v", addrPort, cdt.Ports)
	}

	if cdt.Restart != types.RestartPolicyUnlessStopped {
		t.Errorf("cdt restart = %q, want %q", cdt.Restart, types.RestartPolicyUnlessStopped)
	}
	if cdt.StopGracePeriod == nil || time.Duration(*cdt.StopGracePeriod) < 10*time.Second {
		t.Errorf("cdt stop_grace_period = %v, want at least 10s", cdt.StopGracePeriod)
	}
}

func TestComposeSecureCookiesOverride(t *testing.T) {
	env := map[string]string{"CDT_SECURE_COOKIES": "false"}
	for k, v := range secrets {
		env[k] = v
	}
	p, err := loadCompose(t, env)
	if err != nil {
		t.Fatal(err)
	}
	if got := envValue(t, service(t, p, "cdt"), "CDT_SECURE_COOKIES"); got != "false" {
		t.Errorf("CDT_SECURE_COOKIES = %q with CDT_SECURE_COOKIES=false in the environment", got)
	}
}

// Each secret is guarded by ${VAR:?message}: compose refuses to start when it
// is missing or empty.
func TestComposeRequiresSecrets(t *testing.T) {
	for _, name := range slices.Sorted(maps.Keys(secrets)) {
		for _, mode := range []string{"missing", "empty"} {
			t.Run(name+"/"+mode, func(t *testing.T) {
				env := map[string]string{}
				for k, v := range secrets {
					env[k] = v
				}
				if mode == "missing" {
					delete(env, name)
				} else {
					env[name] = ""
				}
				_, err := loadCompose(t, env)
				if err == nil {
					t.Fatalf("compose file loaded with %s %s", name, mode)
				}
				if !strings.Contains(err.Error(), name) {
					t.Errorf("error does not name %s: %v", name, err)
				}
			})
		}
	}
}

// instruction is one Dockerfile instruction, continuation lines joined.
type instruction struct {
	line int
	cmd  string // upper case
	args string
}

type stage struct {
	image, name string
	instrs      []instruction
}

func parseDockerfile(t *testing.T, path string) []stage {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()

	var (
		stages []stage
		buf    strings.Builder
		start  int
	)
	flush := func() {
		text := strings.TrimSpace(buf.String())
		buf.Reset()
		if text == "" {
			return
		}
		cmd, args, _ := strings.Cut(text, " ")
		in := instruction{line: start, cmd: strings.ToUpper(cmd), args: strings.TrimSpace(args)}
		if in.cmd == "FROM" {
			fields := strings.Fields(in.args)
			var image, name string
			for i := 0; i < len(fields); i++ {
				switch {
				case strings.HasPrefix(fields[i], "--"): // --platform=...
				case strings.EqualFold(fields[i], "AS") && i+1 < len(fields):
					name = fields[i+1]
					i++
				case image == "":
					image = fields[i]
				}
			}
			stages = append(stages, stage{image: image, name: name})
			return
		}
		if len(stages) == 0 {
			if in.cmd != "ARG" {
				t.Errorf("%s:%d: %s before the first FROM", path, in.line, in.cmd)
			}
			return
		}
		s := &stages[len(stages)-1]
		s.instrs = append(s.instrs, in)
	}

	sc := bufio.NewScanner(f)
	n := 0
	for sc.Scan() {
		n++
		line := sc.Text()
		trimmed := strings.TrimSpace(line)
		if strings.HasPrefix(trimmed, "#") {
			continue // comments and parser directives; also inside continuations
		}
		if buf.Len() == 0 {
			if trimmed == "" {
				continue
			}
			start = n
		}
		if body, ok := strings.CutSuffix(strings.TrimRight(line, " \t"), "\\"); ok {
			buf.WriteString(body)
			buf.WriteByte(' ')
			continue
		}
		buf.WriteString(line)
		flush()
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	flush()
	if len(stages) == 0 {
		t.Fatalf("%s has no FROM", path)
	}
	return stages
}

// execArgs splits ENTRYPOINT/CMD arguments: the JSON exec form, or the shell form.
func execArgs(args string) []string {
	var v []string
	if err := json.Unmarshal([]byte(args), &v); err == nil {
		return v
	}
	return strings.Fields(args)
}

func isGolang(image string) bool {
	return image == "golang" || strings.HasPrefix(image, "golang:") || strings.HasPrefix(image, "golang@") ||
		strings.HasSuffix(strings.SplitN(image, ":", 2)[0], "/golang")
}

func TestDockerfile(t *testing.T) {
	stages := parseDockerfile(t, dockerfile)

	// A golang build stage whose Go release is the one go.mod asks for.
	goVersion := goDirective(t)
	var build *stage
	for i := range stages {
		if isGolang(stages[i].image) {
			build = &stages[i]
			break
		}
	}
	if build == nil {
		t.Fatalf("no FROM golang build stage in %s", dockerfile)
	}
	if tag, ok := strings.CutPrefix(build.image, "golang:"); !ok || !strings.HasPrefix(tag, goVersion) {
		t.Errorf("build stage FROM %s, want golang:%s (go.mod's go directive)", build.image, goVersion)
	}
	var cgoOff, goBuild bool
	for _, in := range build.instrs {
		if (in.cmd == "ENV" || in.cmd == "RUN" || in.cmd == "ARG") && regexp.MustCompile(`\bCGO_ENABLED[= ]0\b`).MatchString(in.args) {
			cgoOff = true
		}
		if in.cmd == "RUN" && strings.Contains(in.args, "go build") {
			goBuild = true
			if !strings.Contains(in.args, "./cmd/cdt") {
				t.Errorf("%s:%d: go build does not build ./cmd/cdt", dockerfile, in.line)
			}
			if !strings.Contains(in.args, "-trimpath") {
				t.Errorf("%s:%d: go build without -trimpath", dockerfile, in.line)
			}
		}
	}
	if !cgoOff {
		t.Errorf("build stage does not set CGO_ENABLED=0 (the final image has no C library)")
	}
	if !goBuild {
		t.Errorf("build stage has no RUN go build")
	}

	// The final stage is a small runtime image, not the Go toolchain.
	final := stages[len(stages)-1]
	if isGolang(final.image) || (build.name != "" && final.image == build.name) {
		t.Fatalf("final stage FROM %s is the golang build image", final.image)
	}
	if len(stages) < 2 {
		t.Fatalf("single-stage Dockerfile")
	}

	var user string
	var entrypoint, cmd []string
	var exposed, copiesBinary bool
	for _, in := range final.instrs {
		switch in.cmd {
		case "USER":
			user = in.args
		case "ENTRYPOINT":
			entrypoint = execArgs(in.args)
			cmd = nil // ENTRYPOINT resets an inherited CMD
		case "CMD":
			cmd = execArgs(in.args)
		case "EXPOSE":
			for _, p := range strings.Fields(in.args) {
				if p == "8080" || p == "8080/tcp" {
					exposed = true
				}
			}
		case "COPY":
			if strings.Contains(in.args, "--from=") && strings.Contains(in.args, "/cdt") {
				copiesBinary = true
			}
		}
	}

	// Runs as a non-root user: a name other than root, or a non-zero uid.
	name, _, _ := strings.Cut(user, ":")
	switch uid, err := strconv.Atoi(name); {
	case name == "":
		t.Errorf("final stage has no USER: the container would run as root")
	case err == nil && uid == 0, err != nil && name == "root":
		t.Errorf("final stage USER %q is root", user)
	}

	if !slices.Contains(slices.Concat(entrypoint, cmd), "serve") {
		t.Errorf("final stage ENTRYPOINT %q CMD %q does not run serve", entrypoint, cmd)
	}
	if len(entrypoint) > 0 && filepath.Base(entrypoint[0]) != "cdt" {
		t.Errorf("final stage ENTRYPOINT %q does not run cdt", entrypoint)
	}
	if !exposed {
		t.Errorf("final stage does not EXPOSE 8080")
	}
	if !copiesBinary {
		t.Errorf("final stage does not COPY --from the build stage the cdt binary")
	}
}

// goDirective returns the major.minor of go.mod's go directive ("1.26").
func goDirective(t *testing.T) string {
	t.Helper()
	data, err := os.ReadFile(goMod)
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^go\s+(\d+\.\d+)`).FindSubmatch(data)
	if m == nil {
		t.Fatalf("%s has no go directive", goMod)
	}
	return string(m[1])
}

// ignorePattern is one .dockerignore line, compiled like Docker's
// patternmatcher: "**" crosses directories, "*" and "?" do not, a leading "/"
// is the context root, and a pattern that matches a directory excludes all
// below it.
type ignorePattern struct {
	re        *regexp.Regexp
	exclusion bool // "!pattern" re-includes
}

func parseDockerignore(t *testing.T) []ignorePattern {
	t.Helper()
	data, err := os.ReadFile(dockerignore)
	if err != nil {
		t.Fatal(err)
	}
	var pats []ignorePattern
	for line := range strings.Lines(string(data)) {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		var p ignorePattern
		if rest, ok := strings.CutPrefix(line, "!"); ok {
			p.exclusion, line = true, rest
		}
		line = strings.TrimPrefix(filepath.ToSlash(filepath.Clean(line)), "/")
		var re strings.Builder
		re.WriteString("^")
		for i := 0; i < len(line); i++ {
			switch c := line[i]; {
			case strings.HasPrefix(line[i:], "**/"):
				re.WriteString("(.*/)?")
				i += 2
			case strings.HasPrefix(line[i:], "**"):
				re.WriteString(".*")
				i++
			case c == '*':
				re.WriteString("[^/]*")
			case c == '?':
				re.WriteString("[^/]")
			default:
				re.WriteString(regexp.QuoteMeta(string(c)))
			}
		}
		re.WriteString("$")
		p.re = regexp.MustCompile(re.String())
		pats = append(pats, p)
	}
	return pats
}

// ignored reports whether the build context leaves out path (slash-separated,
// relative to the repository root).
func ignored(pats []ignorePattern, path string) bool {
	parts := strings.Split(path, "/")
	out := false
	for _, p := range pats {
		for i := 1; i <= len(parts); i++ {
			if p.re.MatchString(strings.Join(parts[:i], "/")) {
				out = !p.exclusion
				break
			}
		}
	}
	return out
}

// The build context keeps what `go build ./cmd/cdt` needs: go.mod, go.sum,
// every non-test Go file and every //go:embed file; and it leaves out .git.
func TestDockerignore(t *testing.T) {
	pats := parseDockerignore(t)
	root := repoRoot(t)

	if !ignored(pats, ".git") || !ignored(pats, ".git/config") {
		t.Errorf(".dockerignore does not exclude .git")
	}
	for _, p := range []string{"data/cdt.db", "cdt.test", "internal/app/app.test"} {
		if !ignored(pats, p) {
			t.Errorf(".dockerignore does not exclude %s", p)
		}
	}

	needed := []string{"go.mod", "go.sum"}
	embedRe := regexp.MustCompile(`(?m)^//go:embed\s+(.+)$`)
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, path)
		rel = filepath.ToSlash(rel)
		if d.IsDir() {
			// Local state: the embedded database, artefacts, version control.
			if rel == ".git" || rel == "data" || rel == "artifacts" {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(rel, ".go") || strings.HasSuffix(rel, "_test.go") {
			return nil
		}
		needed = append(needed, rel)
		src, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		for _, m := range embedRe.FindAllSubmatch(src, -1) {
			for _, pat := range strings.Fields(string(m[1])) {
				pat = strings.Trim(pat, "\"`")
				pat = strings.TrimPrefix(pat, "all:")
				matches, err := filepath.Glob(filepath.Join(filepath.Dir(path), pat))
				if err != nil {
					return err
				}
				for _, mt := range matches {
					err := filepath.WalkDir(mt, func(p string, d fs.DirEntry, err error) error {
						if err == nil && !d.IsDir() {
							r, _ := filepath.Rel(root, p)
							needed = append(needed, filepath.ToSlash(r))
						}
						return err
					})
					if err != nil {
						return err
					}
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(needed) < 3 {
		t.Fatalf("found no Go files under %s", root)
	}
	for _, p := range needed {
		if ignored(pats, p) {
			t.Errorf(".dockerignore leaves %s out of the build context; the image build needs it", p)
		}
	}
}
