package store_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/hue-cdt/cdt/domain"
	"github.com/hue-cdt/cdt/internal/testdb"
	"github.com/hue-cdt/cdt/store"
)

// auditEvents are n events, one every hour back from the newest, in
// communes A and B by turns and every fifth one without a commune.
func auditEvents(n int, newest time.Time) []domain.AuditEvent {
	var out []domain.AuditEvent
	for i := range n {
		at := newest.Add(-time.Duration(i) * time.Hour)
		e := domain.AuditEvent{ID: fmt.Sprintf("%s-p1-%d", store.AuditBound(at), i), At: at, Actor: fmt.Sprintf("user%d", i%3),
			Role: domain.RoleCommuneLeader, Action: []string{domain.AuditLogin, domain.AuditRegistryChange}[i%2], Target: fmt.Sprint("t", i),
			CommuneCode: []string{"19753", "20179"}[i%2], Details: map[string]string{"i": fmt.Sprint(i)}}
		if i%5 == 4 {
			e.CommuneCode = ""
		}
		if i == 0 {
			e.Changes = []domain.AuditChange{{Field: "households", Before: "200", After: "250"}}
		}
		out = append(out, e)
	}
	return out
}

// pages reads every page of f and the number of calls it took.
func pages(t *testing.T, db *store.DB, f domain.AuditFilter) ([]domain.AuditEvent, int) {
	t.Helper()
	var all []domain.AuditEvent
	for calls := 1; ; calls++ {
		page, next, err := db.Audit.FindAudit(t.Context(), f)
		if err != nil {
			t.Fatal(err)
		}
		if len(page) > domain.ClampLimit(f.Limit) {
			t.Fatalf("a page of %d, limit %d", len(page), f.Limit)
		}
		all = append(all, page...)
		if next == "" {
			return all, calls
		}
		if next >= f.Before && f.Before != "" {
			t.Fatalf("the bound does not move: %s after %s", next, f.Before)
		}
		f.Before = next
	}
}

func TestAuditTrailPartitionsAndPages(t *testing.T) {
	ctx := t.Context()
	db := testdb.Open(t)
	newest := time.Now().UTC().Truncate(time.Millisecond)
	events := auditEvents(24*40, newest) // 40 days, both communes, some province-wide
	if err := db.Audit.AppendAudit(ctx, events); err != nil {
		t.Fatal(err)
	}
	// Appending again (a retried flush) stores nothing twice.
	if err := db.Audit.AppendAudit(ctx, events[:50]); err != nil {
		t.Fatal(err)
	}
	want := func(keep func(domain.AuditEvent) bool) []string {
		var ids []string
		for _, e := range events { // newest first already
			if keep(e) {
				ids = append(ids, e.ID)
			}
		}
		return ids
	}
	check := func(name string, f domain.AuditFilter, keep func(domain.AuditEvent) bool) int {
		got, calls := pages(t, db, f)
		w := want(keep)
		if len(got) != len(w) {
			t.Fatalf("%s: %d events, want %d", name, len(got), len(w))
		}
		for i := range w {
			if got[i].ID != w[i] {
				t.Fatalf("%s: event %d is %s, want %s", name, i, got[i].ID, w[i])
			}
		}
		return calls
	}
	calls := check("every event", domain.AuditFilter{Limit: 100}, func(domain.AuditEvent) bool { return true })
	if calls < 10 {
		t.Errorf("every event of 40 days in %d calls: a call reads more than a few partitions", calls)
	}
	check("commune A", domain.AuditFilter{CommuneCode: "19753", Limit: 37}, func(e domain.AuditEvent) bool { return e.CommuneCode == "19753" })
	check("an actor's registry changes in B", domain.AuditFilter{CommuneCode: "20179", Actor: "user1", Action: domain.AuditRegistryChange},
		func(e domain.AuditEvent) bool {
			return e.CommuneCode == "20179" && e.Actor == "user1" && e.Action == domain.AuditRegistryChange
		})
	from, to := newest.Add(-50*time.Hour), newest.Add(-10*time.Hour)
	check("two days", domain.AuditFilter{From: from, To: to, Limit: 500},
		func(e domain.AuditEvent) bool { return !e.At.Before(from) && e.At.Before(to) })

	first, _, err := db.Audit.FindAudit(ctx, domain.AuditFilter{Limit: 1})
	if err != nil || len(first) != 1 {
		t.Fatal(first, err)
	}
	if e := first[0]; e.ID != events[0].ID || !e.At.Equal(events[0].At) || e.Actor != "user0" || e.Details["i"] != "0" ||
		len(e.Changes) != 1 || e.Changes[0] != (domain.AuditChange{Field: "households", Before: "200", After: "250"}) {
		t.Fatalf("read back: %+v, want %+v", e, events[0])
	}
}
