package audit_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/hue-cdt/cdt/audit"
	"github.com/hue-cdt/cdt/domain"
	"github.com/hue-cdt/cdt/internal/testdb"
)

func TestMain(m *testing.M) { testdb.Main(m) }

// failing is a store that refuses every write, as a database away.
type failing struct{ domain.AuditStore }

func (failing) AppendAudit(context.Context, []domain.AuditEvent) error {
	return errors.New("database away")
}

func TestWriterBuffersFillsInAndWritesOnStop(t *testing.T) {
	db := testdb.Open(t)
	now := time.Date(2026, 11, 21, 2, 0, 0, 0, time.UTC)
	w := &audit.Writer{Store: failing{}, Process: "p1", Now: func() time.Time { return now }}
	ctx := domain.WithCaller(context.Background(), domain.Caller{Username: "leader.a", Role: domain.RoleCommuneLeader, CommuneCode: "19753"})
	w.Record(ctx, domain.AuditEvent{Action: domain.AuditExport, Target: "coverage.csv"})
	w.Record(context.Background(), domain.AuditEvent{Action: domain.AuditLoginFailed, Target: "nobody", At: now.Add(-time.Second)})
	// The database is away: the events wait, none is lost.
	if err := w.Flush(ctx); err == nil || w.Pending() != 2 {
		t.Fatalf("flush to a database away: %v, %d pending", err, w.Pending())
	}
	w.Store = db.Audit
	run, stop := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { w.Run(run); close(done) }()
	w.Record(ctx, domain.AuditEvent{Action: domain.AuditRecordsViewed, Target: "/api/v1/assistance", CommuneCode: "20179"})
	stop() // a clean stop writes what is buffered
	<-done
	if w.Pending() != 0 {
		t.Fatalf("%d events left after the stop", w.Pending())
	}
	got, _, err := db.Audit.FindAudit(t.Context(), domain.AuditFilter{})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 3 {
		t.Fatalf("%d events: %+v", len(got), got)
	}
	byAction := map[string]domain.AuditEvent{}
	for _, e := range got {
		byAction[e.Action] = e
	}
	if e := byAction[domain.AuditExport]; e.Actor != "leader.a" || e.Role != domain.RoleCommuneLeader || e.CommuneCode != "19753" || !e.At.Equal(now) {
		t.Errorf("the caller in the context was not filled in: %+v", e)
	}
	if e := byAction[domain.AuditRecordsViewed]; e.CommuneCode != "20179" {
		t.Errorf("the event's own commune was replaced: %+v", e)
	}
	if e := byAction[domain.AuditLoginFailed]; e.Actor != "" || e.Target != "nobody" {
		t.Errorf("an anonymous event: %+v", e)
	}
	if got[0].Action != domain.AuditRecordsViewed || got[2].Action != domain.AuditLoginFailed {
		t.Errorf("not newest first: %s, %s, %s", got[0].Action, got[1].Action, got[2].Action)
	}
}

func TestWriterDropsBeyondItsBufferAndNeverBlocks(t *testing.T) {
	w := &audit.Writer{Store: failing{}, Process: "p1", Max: 10}
	for range 1000 {
		w.Record(context.Background(), domain.AuditEvent{Action: domain.AuditLogin})
	}
	if w.Pending() != 10 {
		t.Fatalf("%d pending, want the 10 it holds", w.Pending())
	}
}
