package main

import (
	"context"
	"strings"
	"testing"
)

func TestJobsRunIntegrityAndSampleFromTheCommandLine(t *testing.T) {
	dir := t.TempDir()
	getenv := func(k string) string {
		return map[string]string{"CDT_DATA_DIR": dir, "CDT_ADMIN_PASSWORD": "admin-pass-1"}[k]
	}
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"jobs", "run", "integrity", "--date", "2026-11-20"}, "integrity run"},
		{[]string{"jobs", "run", "verification-sample", "--week", "2026-11-19"}, "verification-sample run"},
	} {
		var out, errb syncBuffer
		if err := run(context.Background(), c.args, getenv, strings.NewReader(""), &out, &errb); err != nil {
			t.Fatalf("%v: %v\n%s", c.args, err, errb.String())
		}
		if !strings.Contains(out.String(), c.want) || !strings.Contains(out.String(), "succeeded") || !strings.Contains(out.String(), "40 communes") {
			t.Errorf("%v: stdout %s", c.args, out.String())
		}
	}
	var out, errb syncBuffer
	if err := run(context.Background(), []string{"jobs", "run", "integrity", "--date", "yesterday"}, getenv, strings.NewReader(""), &out, &errb); err == nil ||
		!strings.Contains(err.Error(), "--date") {
		t.Errorf("a bad date: %v", err)
	}
}
