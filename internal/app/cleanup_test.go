package app_test

import (
	"context"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/hue-cdt/cdt/domain"
	"github.com/hue-cdt/cdt/internal/apptest"
	"github.com/hue-cdt/cdt/internal/testdb"
)

func TestMain(m *testing.M) { testdb.Main(m) }

// TestCleanupKeepsHousekeepingBounded fills every housekeeping collection
// with what its live data no longer needs, beside what it does, and checks
// that one clean-up leaves exactly what is needed; a second deletes nothing,
// and logins, refreshes and registry writes still behave.
func TestCleanupKeepsHousekeepingBounded(t *testing.T) {
	e := apptest.New(t)
	f := e.NewFixture()
	ctx := context.Background()
	st := e.App.Store
	now := e.Clock.Now()
	before, err := st.Counts(ctx, "sessions", "session_claims", "registry_claims", "training_claims", "privacy_claims", "job_runs", "processes")
	if err != nil {
		t.Fatal(err)
	}

	// A login that refreshed: its first refresh token must still be refused
	// as reused once the clean-up has gone.
	first := e.Must(e.Post("/api/v1/auth/login", "", map[string]string{"username": "member.a", "password": apptest.Password}), 200)["refresh_token"].(string)
	second := e.Must(e.Post("/api/v1/auth/refresh", "", map[string]string{"refresh_token": first}), 200)["refresh_token"].(string)
	e.Must(e.Post("/api/v1/auth/refresh", "", map[string]string{"refresh_token": second}), 200)

	// Sessions: 200 expired, each with claims; claims of sessions long gone.
	for i := range 200 {
		id := fmt.Sprintf("expired-%03d", i)
		if err := st.Sessions.CreateSession(ctx, &domain.Session{ID: id, Username: "member.a", Kind: "api", Counter: 3,
			CreatedAt: now.Add(-60 * 24 * time.Hour), RotatedAt: now.Add(-40 * 24 * time.Hour), ExpiresAt: now.Add(-10 * 24 * time.Hour)}); err != nil {
			t.Fatal(err)
		}
		for n := range 3 {
			if err := st.Sessions.ClaimCounter(ctx, id, n, now.Add(-40*24*time.Hour)); err != nil {
				t.Fatal(err)
			}
		}
	}
	for i := range 500 {
		if err := st.Sessions.ClaimCounter(ctx, fmt.Sprintf("gone-%03d", i), 0, now.Add(-time.Hour)); err != nil {
			t.Fatal(err)
		}
	}
	// A live session far along: its used counters go, its current one stays.
	if err := st.Sessions.CreateSession(ctx, &domain.Session{ID: "live", Username: "member.a", Kind: "api", Counter: 40,
		CreatedAt: now, RotatedAt: now, ExpiresAt: now.Add(30 * 24 * time.Hour)}); err != nil {
		t.Fatal(err)
	}
	for n := range 42 {
		if err := st.Sessions.ClaimCounter(ctx, "live", n, now); err != nil {
			t.Fatal(err)
		}
	}
	// Registry: 30 more versions of Phú Xuân; a training marked 10 times; a
	// privacy request changed 5 times, another deleted.
	for range 30 {
		if _, err := st.Registry.UpdateRegistry(ctx, f.CommuneA, func(*domain.CommuneRegistry) error { return nil }); err != nil {
			t.Fatal(err)
		}
	}
	tr := e.NewTraining(f.CommuneLeaderA, f.CommuneA)
	for range 10 {
		if _, err := st.Trainings.UpdateTraining(ctx, tr, func(*domain.Training) error { return nil }); err != nil {
			t.Fatal(err)
		}
	}
	for _, id := range []string{f.CommuneA + "-PR-00000001", f.CommuneA + "-PR-00000002"} {
		if err := st.Privacy.CreatePrivacyRequest(ctx, domain.PrivacyRequest{ID: id, Kind: "access", CommuneCode: f.CommuneA,
			ReceivedOn: domain.DateOf(now), DueOn: domain.DateOf(now).AddDays(2), Status: "open", CreatedAt: now, CreatedBy: "leader.a"}); err != nil {
			t.Fatal(err)
		}
		for range 5 {
			if _, err := st.Privacy.UpdatePrivacyRequest(ctx, id, func(*domain.PrivacyRequest) error { return nil }); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := st.Privacy.DeletePrivacyRequest(ctx, f.CommuneA+"-PR-00000002"); err != nil {
		t.Fatal(err)
	}
	// Runs: 300 finished long ago, one left running long ago, 5 recent.
	for i := range 306 {
		r := domain.JobRun{ID: fmt.Sprintf("run-%03d", i), Job: "coverage", Status: domain.RunSucceeded, Trigger: "nightly",
			StartedAt: now.Add(-time.Duration(100+i) * 24 * time.Hour), FinishedAt: now.Add(-time.Duration(100+i) * 24 * time.Hour)}
		switch {
		case i == 300:
			r.Status = domain.RunRunning
		case i > 300:
			r.StartedAt = now.Add(-time.Duration(i-300) * 24 * time.Hour)
		}
		if err := st.Coverage.StartRun(ctx, r); err != nil {
			t.Fatal(err)
		}
	}
	// Processes: 100 that stopped two days ago, one killed two days ago (its
	// records were acknowledged only once in a delta: nothing to recover),
	// one alive.
	for i := range 102 {
		p := domain.Process{ID: fmt.Sprintf("p%03d", i), Host: "h", PID: i, Started: now.Add(-72 * time.Hour),
			Heartbeat: now.Add(-48 * time.Hour), Stopped: i < 100}
		if err := st.Processes.SaveProcess(ctx, p); err != nil {
			t.Fatal(err)
		}
	}

	// A day and a half later, the clean-up; the live process has just said
	// it is alive.
	e.Clock.Add(36 * time.Hour)
	if err := st.Processes.SaveProcess(ctx, domain.Process{ID: "p101", Host: "h", PID: 101, Started: now.Add(-72 * time.Hour),
		Heartbeat: e.Clock.Now()}); err != nil {
		t.Fatal(err)
	}
	deleted, err := e.App.Cleanup.Run(ctx)
	if err != nil {
		t.Fatal(err)
	}
	after, err := st.Counts(ctx, "sessions", "session_claims", "registry_claims", "training_claims", "privacy_claims", "job_runs", "processes")
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("before %v\ndeleted %v\nafter %v", before, deleted, after)
	want := map[string]int64{
		// the fixture's seven logins, member.a's login above, the live one
		"sessions": before["sessions"] + 2,
		// the live session's current counter and the one above; member.a's
		// used counters go
		"session_claims": 2,
		// one current version per registry written: Phú Xuân and Nam Đông
		"registry_claims": 2,
		"training_claims": 1,
		"privacy_claims":  1,
		"job_runs":        before["job_runs"] + 6,
		"processes":       before["processes"] + 1,
	}
	for k, w := range want {
		if after[k] != w {
			t.Errorf("%s: %d left, want %d", k, after[k], w)
		}
	}
	if again, err := e.App.Cleanup.Run(ctx); err != nil || sum(again) != 0 {
		t.Fatalf("a second clean-up: %v %v", again, err)
	}
	if len(e.App.Cleanup.Names()) < 7 {
		t.Fatalf("sweeps: %v", e.App.Cleanup.Names())
	}

	// What is left still works: the newest token refreshes, an old one is
	// refused as reused, the registry and the training take writes.
	if r := e.Post("/api/v1/auth/refresh", "", map[string]string{"refresh_token": first}); r.Status != http.StatusUnauthorized || r.ErrorCode() != "token_reused" {
		t.Fatalf("a used refresh token after the clean-up: %d %s", r.Status, r.Body)
	}
	e.Login("member.a", apptest.Password)
	if _, err := st.Registry.UpdateRegistry(ctx, f.CommuneA, func(*domain.CommuneRegistry) error { return nil }); err != nil {
		t.Fatal(err)
	}
	if _, err := st.Trainings.UpdateTraining(ctx, tr, func(*domain.Training) error { return nil }); err != nil {
		t.Fatal(err)
	}
}

func sum(m map[string]int) int {
	n := 0
	for _, v := range m {
		n += v
	}
	return n
}
