package app

import (
	"strings"
	"testing"
	"time"

	"github.com/hue-cdt/cdt/domain"
)

func TestIntegrityThresholdsFromTheEnvironment(t *testing.T) {
	env := map[string]string{"CDT_INTEGRITY_BURST_HOUSEHOLDS": "8", "CDT_INTEGRITY_BURST_WINDOW": "5m",
		"CDT_INTEGRITY_MEDIAN_FACTOR": "4.5", "CDT_INTEGRITY_CLOCK_SKEW": "2h"}
	c, err := FromEnv(func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	want := domain.DefaultIntegrityThresholds()
	want.BurstHouseholds, want.BurstWindow, want.MedianFactor, want.ClockSkew = 8, 5*time.Minute, 4.5, 2*time.Hour
	if c.Integrity != want {
		t.Fatalf("thresholds %+v, want %+v", c.Integrity, want)
	}
	if c, err := FromEnv(func(string) string { return "" }); err != nil || c.Integrity != domain.DefaultIntegrityThresholds() {
		t.Fatalf("defaults: %+v %v", c.Integrity, err)
	}
	for k, v := range map[string]string{"CDT_INTEGRITY_NIGHT_START": "late", "CDT_INTEGRITY_MEDIAN_DAYS": "30",
		"CDT_INTEGRITY_BURST_WINDOW": "-1m"} {
		_, err := FromEnv(func(name string) string { return map[string]string{k: v}[name] })
		if err == nil || !strings.Contains(err.Error(), strings.TrimPrefix(k, "CDT_")) {
			t.Errorf("%s=%s: %v", k, v, err)
		}
	}
}

func TestCleanupSettings(t *testing.T) {
	c, err := FromEnv(func(k string) string {
		return map[string]string{"CDT_CLEANUP_EVERY": "10m", "CDT_RUNS_KEPT": "1200h"}[k]
	})
	if err != nil || c.CleanupEvery != 10*time.Minute || c.RunsKept != 1200*time.Hour {
		t.Fatalf("%v %v %v", c.CleanupEvery, c.RunsKept, err)
	}
	if _, err := FromEnv(func(k string) string { return map[string]string{"CDT_RUNS_KEPT": "240h"}[k] }); err == nil {
		t.Fatal("runs kept 10 days: the catch-up needs 35")
	}
}

func TestTrustedProxiesFromTheEnvironment(t *testing.T) {
	c, err := FromEnv(func(k string) string {
		return map[string]string{"CDT_TRUSTED_PROXIES": " 10.0.0.1, 192.168.0.0/16,,::1 "}[k]
	})
	if err != nil || strings.Join(c.TrustedProxies, "|") != "10.0.0.1|192.168.0.0/16|::1" {
		t.Fatalf("%q %v", c.TrustedProxies, err)
	}
	if c, _ := FromEnv(func(string) string { return "" }); len(c.TrustedProxies) != 0 {
		t.Fatalf("default: %q, want none", c.TrustedProxies)
	}
	for _, bad := range []string{"proxy.example", "10.0.0.0/33", "*"} {
		_, err := FromEnv(func(k string) string { return map[string]string{"CDT_TRUSTED_PROXIES": bad}[k] })
		if err == nil || !strings.Contains(err.Error(), "CDT_TRUSTED_PROXIES") {
			t.Errorf("%q: %v", bad, err)
		}
	}
}
