package store_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/hue-cdt/cdt/domain"
	"github.com/hue-cdt/cdt/internal/testdb"
)

func flagOf(kind, commune string, day domain.Date, subject string, ids ...string) domain.Flag {
	at := time.Date(2026, 11, 26, 18, 0, 0, 0, time.UTC)
	f := domain.Flag{ID: domain.FlagID(kind, commune, day, subject), Kind: kind, CommuneCode: commune, MemberID: subject, Day: day,
		RecordIDs: ids, Status: domain.FlagOpen, CreatedAt: at, Evidence: domain.Evidence{Records: len(ids), Threshold: 6, Peak: 7,
			WindowSeconds: 600, From: at.Add(-time.Hour), To: at}}
	for _, id := range ids {
		f.Records = append(f.Records, domain.FlaggedRecord{ID: id, MemberID: subject, Service: "hue_s", VillageCode: "19753-001",
			OccurredAt: at.Add(-time.Hour), Outcome: "done"})
	}
	return f
}

// A re-run of a day replaces what it found: no duplicate, a reviewed flag
// keeps its review and its records, an open flag no longer found goes.
func TestFlagsSaveRerunReviewFind(t *testing.T) {
	ctx := context.Background()
	db := testdb.Open(t)
	d1, d2 := domain.Date("2026-11-25"), domain.Date("2026-11-26")
	a := flagOf(domain.FlagBurst, "19753", d1, "19753-M001", "r1", "r2")
	b := flagOf(domain.FlagNightBulk, "19753", d1, "19753-M002", "r3")
	c := flagOf(domain.FlagBurst, "20179", d2, "20179-M001", "r4")
	if err := db.Integrity.SaveFlags(ctx, d1, []domain.Flag{a, b}); err != nil {
		t.Fatal(err)
	}
	if err := db.Integrity.SaveFlags(ctx, d2, []domain.Flag{c}); err != nil {
		t.Fatal(err)
	}
	got, err := db.Integrity.Flag(ctx, a.ID)
	if err != nil || len(got.Records) != 2 || got.Evidence.Peak != 7 || !got.Evidence.From.Equal(a.Evidence.From) || got.Status != domain.FlagOpen {
		t.Fatalf("stored flag = %+v, %v", got, err)
	}
	// b is confirmed; the re-run finds a again with one more record and b
	// with another record set, and no longer finds a third open one.
	if _, err := db.Integrity.UpdateFlag(ctx, b.ID, func(f *domain.Flag) error {
		return f.Review(domain.FlagReview{Status: domain.FlagConfirmed}, "leader.a", time.Now())
	}); err != nil {
		t.Fatal(err)
	}
	stale := flagOf(domain.FlagRepeatedNote, "19753", d1, "19753-M003", "r9")
	if err := db.Integrity.SaveFlags(ctx, d1, []domain.Flag{a, b, stale}); err != nil {
		t.Fatal(err)
	}
	a2 := flagOf(domain.FlagBurst, "19753", d1, "19753-M001", "r1", "r2", "r5")
	a2.CreatedAt = a.CreatedAt.Add(24 * time.Hour)
	b2 := flagOf(domain.FlagNightBulk, "19753", d1, "19753-M002", "r3", "r6")
	if err := db.Integrity.SaveFlags(ctx, d1, []domain.Flag{a2, b2}); err != nil {
		t.Fatal(err)
	}
	all, next, err := db.Integrity.FindFlags(ctx, domain.FlagFilter{})
	if err != nil || next != "" {
		t.Fatal(err, next)
	}
	if len(all) != 3 {
		t.Fatalf("%d flags after re-runs, want 3 (a, b, c): %v", len(all), all)
	}
	if all[0].ID != c.ID {
		t.Errorf("first flag %s, want the newest day's %s", all[0].ID, c.ID)
	}
	if _, err := db.Integrity.Flag(ctx, stale.ID); !errors.Is(err, domain.ErrNotFound) {
		t.Errorf("open flag not found again: %v, want removed", err)
	}
	ga, _ := db.Integrity.Flag(ctx, a.ID)
	if len(ga.RecordIDs) != 3 || !ga.CreatedAt.Equal(a.CreatedAt) {
		t.Errorf("open flag found again: %v created %v, want 3 records, first creation time", ga.RecordIDs, ga.CreatedAt)
	}
	gb, _ := db.Integrity.Flag(ctx, b.ID)
	if gb.Status != domain.FlagConfirmed || gb.ReviewedBy != "leader.a" || len(gb.RecordIDs) != 1 {
		t.Errorf("reviewed flag after a re-run: %+v, want its review and records kept", gb)
	}

	t.Run("Filters", func(t *testing.T) {
		for _, tc := range []struct {
			f    domain.FlagFilter
			want int
		}{
			{domain.FlagFilter{CommuneCode: "19753"}, 2}, {domain.FlagFilter{Kind: domain.FlagBurst}, 2},
			{domain.FlagFilter{Status: domain.FlagConfirmed}, 1}, {domain.FlagFilter{From: d2}, 1}, {domain.FlagFilter{To: d1}, 2},
			{domain.FlagFilter{CommuneCode: "19753", Status: domain.FlagOpen}, 1},
		} {
			got, _, err := db.Integrity.FindFlags(ctx, tc.f)
			if err != nil || len(got) != tc.want {
				t.Errorf("%+v: %d flags (%v), want %d", tc.f, len(got), err, tc.want)
			}
		}
	})
	t.Run("Pages", func(t *testing.T) {
		var ids []string
		after := ""
		for range 5 {
			page, next, err := db.Integrity.FindFlags(ctx, domain.FlagFilter{Limit: 2, After: after})
			if err != nil {
				t.Fatal(err)
			}
			for _, f := range page {
				ids = append(ids, f.ID)
			}
			if after = next; after == "" {
				break
			}
		}
		if len(ids) != 3 || ids[0] != all[0].ID || ids[2] != all[2].ID {
			t.Errorf("paged %v, want %v", ids, all)
		}
		if _, _, err := db.Integrity.FindFlags(ctx, domain.FlagFilter{After: "nonsense"}); !errors.Is(err, domain.ErrInvalid) {
			t.Errorf("bad cursor: %v", err)
		}
	})
}

func TestVerificationsCreateFindSettle(t *testing.T) {
	ctx := context.Background()
	db := testdb.Open(t)
	now := time.Date(2026, 11, 26, 3, 0, 0, 0, time.UTC)
	rec := domain.Record{ID: "19753-M002:c1", MemberID: "19753-M002", TeamID: "19753-T01", CommuneCode: "19753", Service: "hue_s",
		VillageCode: "19753-001", OccurredAt: now.Add(-5 * time.Hour)}
	v, err := domain.NewVerification(rec, domain.VerifyFromRequest, "Anh/chị xác nhận giúp", "leader.a", now)
	if err != nil {
		t.Fatal(err)
	}
	v.ID = domain.VerificationID(rec.ID, 1)
	if err := db.Integrity.CreateVerification(ctx, v); err != nil {
		t.Fatal(err)
	}
	if err := db.Integrity.CreateVerification(ctx, v); !errors.Is(err, domain.ErrConflict) {
		t.Fatalf("same ID twice: %v, want ErrConflict", err)
	}
	other := v
	other.ID, other.CommuneCode, other.MemberID, other.CreatedAt = "v-other", "20179", "20179-M001", now.Add(time.Minute)
	if err := db.Integrity.CreateVerification(ctx, other); err != nil {
		t.Fatal(err)
	}
	mine, err := db.Integrity.FindVerifications(ctx, domain.VerificationFilter{MemberID: rec.MemberID, Status: domain.VerifyRequested})
	if err != nil || len(mine) != 1 || mine[0].RecordID != rec.ID || mine[0].Reason != v.Reason || !mine[0].OccurredAt.Equal(rec.OccurredAt) {
		t.Fatalf("member's open verifications = %+v, %v", mine, err)
	}
	corrected := now.Add(-6 * time.Hour)
	got, err := db.Integrity.UpdateVerification(ctx, v.ID, func(x *domain.Verification) error {
		return x.Settle(domain.VerificationAnswer{Status: domain.VerifyCorrected, Answer: "giờ sai",
			Corrected: domain.Correction{OccurredAt: corrected}}, "member.a", now, nil)
	})
	if err != nil || got.Status != domain.VerifyCorrected {
		t.Fatal(got, err)
	}
	back, _ := db.Integrity.Verification(ctx, v.ID)
	if back.Status != domain.VerifyCorrected || !back.Corrected.OccurredAt.Equal(corrected) || back.Corrected.Service != "" ||
		back.AnsweredBy != "member.a" || back.Version != 1 {
		t.Errorf("settled = %+v", back)
	}
	all, _ := db.Integrity.FindVerifications(ctx, domain.VerificationFilter{})
	if len(all) != 2 || all[0].ID != "v-other" {
		t.Errorf("all = %v, want newest first", all)
	}
	if _, err := db.Integrity.Verification(ctx, "nope"); !errors.Is(err, domain.ErrNotFound) {
		t.Errorf("missing: %v", err)
	}
}

func TestTrainingsBetweenGivesADaysTrainings(t *testing.T) {
	ctx := context.Background()
	db := testdb.Open(t)
	at := func(day, hour int) time.Time { return time.Date(2026, 11, day, hour, 0, 0, 0, domain.Location) }
	ts := []domain.Training{
		{ID: "t-morning", Title: "Sáng 20", StartsAt: at(20, 8), EndsAt: at(20, 11)},
		{ID: "t-two-days", Title: "19 đến 21", StartsAt: at(19, 8), EndsAt: at(21, 17)},
		{ID: "t-before", Title: "Ngày 19", StartsAt: at(19, 8), EndsAt: at(19, 17)},
		{ID: "t-after", Title: "Ngày 21", StartsAt: at(21, 8), EndsAt: at(21, 17)},
	}
	for i := range ts {
		ts[i].Level, ts[i].UnitCode, ts[i].CreatedAt = "province", "46", at(1, 8)
	}
	if err := db.Trainings.InsertTrainings(ctx, ts); err != nil {
		t.Fatal(err)
	}
	got, err := db.Trainings.TrainingsBetween(ctx, at(20, 0), at(21, 0))
	if err != nil {
		t.Fatal(err)
	}
	ids := map[string]bool{}
	for _, tr := range got {
		ids[tr.ID] = true
	}
	if len(got) != 2 || !ids["t-morning"] || !ids["t-two-days"] {
		t.Errorf("trainings of the 20th: %v", ids)
	}
}

// Each process keeps the flags and verifications in memory: a change made
// by another process is seen at its next read, as is its own.
func TestFlagsAndVerificationsReadAnotherProcesssChanges(t *testing.T) {
	ctx := context.Background()
	name := testdb.Name(t)
	a, b := testdb.OpenNamed(t, name), testdb.OpenNamed(t, name)
	day := domain.Date("2026-11-25")
	count := func(db interface {
		FindFlags(context.Context, domain.FlagFilter) ([]domain.Flag, string, error)
		FindVerifications(context.Context, domain.VerificationFilter) ([]domain.Verification, error)
	}, status string) (int, int) {
		t.Helper()
		fs, _, err := db.FindFlags(ctx, domain.FlagFilter{CommuneCode: "19753", Status: status})
		if err != nil {
			t.Fatal(err)
		}
		vs, err := db.FindVerifications(ctx, domain.VerificationFilter{CommuneCode: "19753"})
		if err != nil {
			t.Fatal(err)
		}
		return len(fs), len(vs)
	}
	if f, v := count(a.Integrity, ""); f != 0 || v != 0 {
		t.Fatalf("a fresh database: %d flags, %d verifications", f, v)
	}
	f1 := flagOf(domain.FlagBurst, "19753", day, "19753-M001", "r1", "r2")
	if err := b.Integrity.SaveFlags(ctx, day, []domain.Flag{f1, flagOf(domain.FlagBurst, "20179", day, "20179-M001", "r3")}); err != nil {
		t.Fatal(err)
	}
	if f, _ := count(a.Integrity, ""); f != 1 {
		t.Fatalf("after another process saved a flag of the commune: %d", f)
	}
	if _, err := b.Integrity.UpdateFlag(ctx, f1.ID, func(f *domain.Flag) error {
		return f.Review(domain.FlagReview{Status: domain.FlagConfirmed}, "leader.a", time.Now())
	}); err != nil {
		t.Fatal(err)
	}
	if f, _ := count(a.Integrity, domain.FlagConfirmed); f != 1 {
		t.Fatalf("after another process confirmed it: %d confirmed", f)
	}
	v := domain.Verification{ID: "v1", RecordID: "r1", MemberID: "19753-M001", TeamID: "19753-T01", CommuneCode: "19753",
		Service: "hue_s", Source: domain.VerifyFromSample, Status: domain.VerifyRequested, RequestedBy: "leader.a", CreatedAt: time.Now()}
	if err := a.Integrity.CreateVerification(ctx, v); err != nil {
		t.Fatal(err)
	}
	if _, n := count(b.Integrity, ""); n != 1 {
		t.Fatalf("after another process asked for a verification: %d", n)
	}
	if _, n := count(a.Integrity, ""); n != 1 {
		t.Fatalf("after its own verification: %d", n)
	}
}
