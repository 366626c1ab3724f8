package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hue-cdt/cdt/domain"
)

func TestSeedPlantsIntegrityPatternsWithTheirGroundTruth(t *testing.T) {
	dir := t.TempDir()
	truthPath := filepath.Join(dir, "truth.json")
	var out, errb syncBuffer
	getenv := func(k string) string { return map[string]string{"CDT_DATA_DIR": filepath.Join(dir, "data")}[k] }
	err := run(context.Background(), []string{"seed", "--records", "20000", "--days", "14", "--quiet", "--plant-integrity",
		"--truth", truthPath}, getenv, strings.NewReader(""), &out, &errb)
	if err != nil {
		t.Fatalf("%v\n%s", err, errb.String())
	}
	raw, err := os.ReadFile(truthPath)
	if err != nil {
		t.Fatal(err)
	}
	var truth plantedTruth
	if err := json.Unmarshal(raw, &truth); err != nil {
		t.Fatal(err)
	}
	planted := truth.count()
	if truth.Records != 20000+planted || planted < 500 || !strings.Contains(out.String(), "planted ") {
		t.Fatalf("%d records stored, %d planted; stdout %s", truth.Records, planted, out.String())
	}
	for _, k := range domain.FlagKinds {
		if len(truth.Planted[k]) == 0 {
			t.Errorf("no %s planted", k)
		}
		for _, id := range truth.Planted[k] {
			if !strings.Contains(id, "-M") || !strings.Contains(id, ":") {
				t.Fatalf("%s: %q is not a record ID", k, id)
			}
		}
	}
}
