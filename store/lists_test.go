package store_test

import (
	"context"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/hue-cdt/cdt/domain"
	"github.com/hue-cdt/cdt/internal/testdb"
)

// A list's head, pages and directories are stored and read back as they
// were; a replaced page is reported gone.
func TestListDocuments(t *testing.T) {
	ctx := context.Background()
	db := testdb.Open(t)
	at := time.Date(2026, 11, 20, 3, 4, 5, 0, time.UTC)
	key := domain.MemberList("19753-M0001")
	var entries []domain.ListEntry
	for i := range 6000 {
		r := domain.Record{ID: fmt.Sprintf("19753-M0001:%06d", i), CommuneCode: "19753", TeamID: "19753-T001",
			VillageCode: "19753-001", Service: "hue_s", Outcome: "done", OccurredAt: at.Add(-time.Duration(i) * time.Minute),
			RecordedAt: at, Note: "ghi chú | số " + fmt.Sprint(i)}
		entries = append(entries, domain.EntryOf(r, key))
	}
	seq := int64(0)
	alloc := func(string) (string, int) { seq++; return domain.NewPageID(seq, "t"), int(seq / 100) }
	h, pages := domain.SealList(key, entries, alloc)
	if len(h.Dirs) == 0 {
		t.Fatal("no directory")
	}
	if err := db.Rollups.InsertPages(ctx, 1, "19753", pages); err != nil {
		t.Fatal(err)
	}
	b := &domain.HeadBucket{Commune: "19753", ID: domain.ListBucket(key), Heads: map[string]*domain.ListHead{key: h}}
	if err := db.Rollups.InsertHeadBuckets(ctx, 1, []*domain.HeadBucket{b}); err != nil {
		t.Fatal(err)
	}
	back, err := db.Rollups.ListHead(ctx, 1, key)
	if err != nil || !reflect.DeepEqual(back, h) {
		t.Fatalf("head read back: %v\n got  %+v\n want %+v", err, back, h)
	}
	var got []string
	rd := domain.ListsOf(db.Rollups, 1, "19753")
	if err := domain.WalkList(ctx, back, domain.ListQuery{}, rd, func(e domain.ListEntry) bool {
		got = append(got, e.Enc)
		return true
	}); err != nil {
		t.Fatal(err)
	}
	if len(got) != len(entries) || got[5999] != entries[5999].Enc {
		t.Fatalf("%d records walked: %q\n%q", len(got), got[len(got)-1], entries[5999].Enc)
	}
	if err := db.Rollups.DeletePages(ctx, 1, "19753", []domain.PageRef{h.Pages[0]}); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Rollups.ListPage(ctx, 1, "19753", h.Pages[0]); err != domain.ErrPageGone {
		t.Fatalf("a deleted page: %v", err)
	}
}
