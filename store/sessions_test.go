package store_test

import (
	"testing"
	"time"

	"github.com/hue-cdt/cdt/domain"
	"github.com/hue-cdt/cdt/internal/testdb"
)

// Ending a session or a login's sessions leaves a revocation for every server
// to read; the collection keeps only those an access token could still beat.
func TestRevocationsAreRecordedAndForgotten(t *testing.T) {
	ctx := t.Context()
	db := testdb.Open(t)
	for _, id := range []string{"s1", "s2", "s3"} {
		if err := db.Sessions.CreateSession(ctx, &domain.Session{ID: id, Username: map[string]string{"s1": "lan", "s2": "lan", "s3": "binh"}[id],
			Kind: "api", CreatedAt: now, RotatedAt: now, ExpiresAt: now.Add(time.Hour)}); err != nil {
			t.Fatal(err)
		}
	}
	if err := db.Sessions.RevokeSession(ctx, "s3", "logout", now); err != nil {
		t.Fatal(err)
	}
	if err := db.Sessions.RevokeUserSessions(ctx, "lan", "password", now.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	// A second revocation of the login moves its time forward.
	if err := db.Sessions.RevokeUserSessions(ctx, "lan", "disabled", now.Add(2*time.Minute)); err != nil {
		t.Fatal(err)
	}
	revs, err := db.Sessions.Revocations(ctx)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]time.Time{}
	for _, r := range revs {
		got[r.Session+"/"+r.Username] = r.At
	}
	want := map[string]time.Time{"s3/binh": now, "/lan": now.Add(2 * time.Minute)}
	if len(got) != len(want) || !got["s3/binh"].Equal(want["s3/binh"]) || !got["/lan"].Equal(want["/lan"]) {
		t.Fatalf("revocations %v, want %v", got, want)
	}
	for _, id := range []string{"s1", "s2", "s3"} {
		if s, err := db.Sessions.FindSession(ctx, id); err != nil || s.RevokedAt.IsZero() {
			t.Errorf("session %s not ended: %+v %v", id, s, err)
		}
	}
	if _, err := db.Sessions.DeleteExpiredSessions(ctx, now.Add(domain.RevocationKeep+time.Minute)); err != nil {
		t.Fatal(err)
	}
	if revs, _ := db.Sessions.Revocations(ctx); len(revs) != 1 || revs[0].Username != "lan" {
		t.Fatalf("after the keep of the first: %+v", revs)
	}
	if _, err := db.Sessions.DeleteExpiredSessions(ctx, now.Add(domain.RevocationKeep+3*time.Minute)); err != nil {
		t.Fatal(err)
	}
	if revs, _ := db.Sessions.Revocations(ctx); len(revs) != 0 {
		t.Fatalf("after every keep: %+v", revs)
	}
}

func TestLoginThrottlesRoundTripAndAreForgotten(t *testing.T) {
	ctx := t.Context()
	db := testdb.Open(t)
	th, err := db.Throttles.LoginThrottle(ctx, "lan")
	if err != nil || th.Username != "lan" || th.Total != 0 {
		t.Fatalf("none yet: %+v %v", th, err)
	}
	for range 5 {
		th.Failed("203.0.113.9", now)
	}
	th.Failed("198.51.100.7", now.Add(time.Minute))
	if err := db.Throttles.SaveLoginThrottle(ctx, th, now); err != nil {
		t.Fatal(err)
	}
	got, err := db.Throttles.LoginThrottle(ctx, "lan")
	if err != nil || got.Failures != 6 || got.Total != 6 || !got.Last.Equal(now.Add(time.Minute)) || got.Clients["203.0.113.9"].Failures != 5 ||
		got.Wait("203.0.113.9", now) != th.Wait("203.0.113.9", now) {
		t.Fatalf("read back %+v %v, want %+v", got, err, th)
	}
	many, err := db.Throttles.LoginThrottles(ctx, []string{"lan", "binh"})
	if err != nil || len(many) != 1 || many["lan"].Total != 6 {
		t.Fatalf("%+v %v", many, err)
	}
	unowned, _ := db.Throttles.LoginThrottle(ctx, "nobody")
	unowned.Failed("203.0.113.9", now)
	unowned.Total = 0 // no login has the name: no notice
	if err := db.Throttles.SaveLoginThrottle(ctx, unowned, now); err != nil {
		t.Fatal(err)
	}
	if err := db.Throttles.DeleteLoginThrottles(ctx, now.Add(time.Minute), now.Add(time.Second)); err != nil {
		t.Fatal(err)
	}
	if got, _ := db.Throttles.LoginThrottle(ctx, "lan"); got.Total != 6 {
		t.Fatalf("deleted while its last failure is recent: %+v", got)
	}
	if got, _ := db.Throttles.LoginThrottle(ctx, "nobody"); got.Failures != 0 {
		t.Fatalf("a name without a login kept past its day: %+v", got)
	}
	if err := db.Throttles.DeleteLoginThrottles(ctx, now.Add(2*time.Minute), now); err != nil {
		t.Fatal(err)
	}
	if got, _ := db.Throttles.LoginThrottle(ctx, "lan"); got.Total != 0 {
		t.Fatalf("not forgotten: %+v", got)
	}
}
