package deploy_test

import (
	"go/build"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// embeddedOnly are the modules only the embedded database needs: FerretDB and
// the database drivers it links (SQLite, PostgreSQL, MySQL).
var embeddedOnly = []string{
	"github.com/FerretDB/FerretDB", "modernc.org/sqlite", "github.com/jackc/pgx/v5", "github.com/go-sql-driver/mysql",
}

func goTool(t *testing.T) string {
	t.Helper()
	if p, err := exec.LookPath("go"); err == nil {
		return p
	}
	return filepath.Join(build.Default.GOROOT, "bin", "go")
}

// buildDeps builds ./cmd/cdt as the Dockerfile does, with tags, and returns
// the modules linked into it (go version -m) and the binary's size.
func buildDeps(t *testing.T, tags string) (map[string]bool, int64) {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "cdt")
	cmd := exec.Command(goTool(t), "build", "-trimpath", "-ldflags=-s -w", "-tags", tags, "-o", bin, "./cmd/cdt")
	cmd.Dir = repoRoot(t)
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build -tags %q: %v\n%s", tags, err, out)
	}
	out, err := exec.Command(goTool(t), "version", "-m", bin).Output()
	if err != nil {
		t.Fatal(err)
	}
	deps := map[string]bool{}
	for _, m := range regexp.MustCompile(`(?m)^\s+dep\s+(\S+)`).FindAllStringSubmatch(string(out), -1) {
		deps[m[1]] = true
	}
	fi, err := os.Stat(bin)
	if err != nil {
		t.Fatal(err)
	}
	return deps, fi.Size()
}

// The production image talks to MongoDB: built with the Dockerfile's default
// tag it must carry neither FerretDB nor its database drivers, and a binary
// built without the tag must still carry them (so the check can fail).
func TestLeanBinaryHasNoEmbeddedDatabase(t *testing.T) {
	lean, leanSize := buildDeps(t, "noembedded")
	full, fullSize := buildDeps(t, "")
	for _, m := range embeddedOnly {
		if lean[m] {
			t.Errorf("binary built with -tags noembedded links %s", m)
		}
		if !full[m] {
			t.Errorf("binary built without tags does not link %s: the list of embedded-only modules is stale", m)
		}
	}
	t.Logf("cdt binary: %.1f MB with the embedded database, %.1f MB without", float64(fullSize)/1e6, float64(leanSize)/1e6)
	if leanSize >= fullSize {
		t.Errorf("lean binary %d B is not smaller than the full one %d B", leanSize, fullSize)
	}
}

// The Dockerfile builds with the noembedded tag by default.
func TestDockerfileBuildsLean(t *testing.T) {
	data, err := os.ReadFile(dockerfile)
	if err != nil {
		t.Fatal(err)
	}
	s := string(data)
	if !regexp.MustCompile(`(?m)^ARG CDT_BUILD_TAGS=noembedded\s*$`).MatchString(s) {
		t.Errorf("Dockerfile: want ARG CDT_BUILD_TAGS=noembedded")
	}
	if !strings.Contains(s, `-tags "$CDT_BUILD_TAGS"`) {
		t.Errorf("Dockerfile: go build does not use -tags \"$CDT_BUILD_TAGS\"")
	}
}
