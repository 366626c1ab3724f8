package domain

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sort"
	"testing"
	"time"
)

// memPages is an in-memory page store for the list tests.
type memPages struct {
	pages map[string][]ListEntry
	dirs  map[string][]PageRef
	reads int
}

func (m *memPages) Page(_ context.Context, ref PageRef) ([]ListEntry, error) {
	m.reads++
	es, ok := m.pages[ref.ID]
	if !ok {
		return nil, ErrPageGone
	}
	return es, nil
}

func (m *memPages) Dir(_ context.Context, ref DirRef) ([]PageRef, error) {
	m.reads++
	refs, ok := m.dirs[ref.ID]
	if !ok {
		return nil, ErrPageGone
	}
	return refs, nil
}

func (m *memPages) apply(e ListEdit) {
	for _, r := range e.Replace {
		delete(m.pages, r.ID)
		delete(m.dirs, r.ID)
	}
	for _, p := range e.Insert {
		if p.Dir != nil {
			m.dirs[p.Ref.ID] = p.Dir
		} else {
			m.pages[p.Ref.ID] = p.Entries
		}
	}
}

// allRefs is every page the head names, directly or through a directory.
func (m *memPages) allRefs(h *ListHead) []PageRef {
	refs := append([]PageRef(nil), h.Pages...)
	for _, d := range h.Dirs {
		refs = append(refs, m.dirs[d.ID]...)
	}
	return refs
}

func listRecord(r *rand.Rand, i int, base time.Time) Record {
	at := base.Add(time.Duration(r.IntN(90*24*3600)) * time.Second)
	return Record{ID: fmt.Sprintf("19753-M%04d:%08d", r.IntN(3), i), CommuneCode: "19753", TeamID: "19753-T001",
		VillageCode: "19753-001", Service: Services[r.IntN(len(Services))], Outcome: "done", OccurredAt: at,
		RecordedAt: at.Add(time.Minute), Day: DateOf(at), Note: "ghi | chú"}
}

// Records added in batches, in any order and some twice, come back from the
// list newest first, each once, whatever the range and the cursor; no page
// grows past PageMax and the tail never past its bound.
func TestListsHoldEveryRecordOnceInOrder(t *testing.T) {
	ctx := context.Background()
	r := rand.New(rand.NewPCG(4, 4))
	base := time.Date(2026, 8, 1, 0, 0, 0, 0, time.UTC)
	for _, key := range []string{"c:19753", "t:19753-T001", "m:19753-M0001"} {
		m := &memPages{pages: map[string][]ListEntry{}, dirs: map[string][]PageRef{}}
		h := &ListHead{Key: key}
		seq := int64(0)
		alloc := func(k string) (string, int) { seq++; return NewPageID(seq, "x"), int(seq % 3) }
		var all []Record
		for batch := range 90 {
			var es []ListEntry
			for i := range r.IntN(200) + 1 {
				rec := listRecord(r, batch*1000+i, base)
				if batch > 45 && i%3 == 0 { // mostly new records later on
					rec.OccurredAt = base.Add(90*24*time.Hour + time.Duration(batch*1000+i)*time.Second)
					rec.Day = DateOf(rec.OccurredAt)
				}
				all = append(all, rec)
				es = append(es, EntryOf(rec, key))
			}
			if batch%5 == 4 && len(all) > 10 { // a delta presented again
				es = append(es, EntryOf(all[r.IntN(len(all))], key))
			}
			edit, err := AddToList(ctx, h, es, m, alloc)
			if err != nil {
				t.Fatal(err)
			}
			m.apply(edit)
		}
		sort.Slice(all, func(i, j int) bool { return PosOf(all[j]).Before(PosOf(all[i])) })
		// A rebuild of the same list makes the same list.
		var every []ListEntry
		for _, r := range all {
			every = append(every, EntryOf(r, key))
		}
		sealed, pages := SealList(key, every, alloc)
		sm := &memPages{pages: map[string][]ListEntry{}, dirs: map[string][]PageRef{}}
		sm.apply(ListEdit{Insert: pages})
		var walked []ListEntry
		if err := WalkList(ctx, sealed, ListQuery{}, sm, func(e ListEntry) bool { walked = append(walked, e); return true }); err != nil {
			t.Fatal(err)
		}
		for i := range every {
			if i >= len(walked) || walked[i].Pos != every[i].Pos {
				t.Fatalf("%s: the rebuilt list differs at %d (%d records)", key, i, len(walked))
			}
		}
		if h.Len() != len(all) {
			t.Fatalf("%s: %d records listed, want %d", key, h.Len(), len(all))
		}
		if len(h.Tail) > TailMax(key) {
			t.Fatalf("%s: tail of %d", key, len(h.Tail))
		}
		refs := m.allRefs(h)
		for i, p := range refs {
			es := m.pages[p.ID]
			if len(es) != p.N || len(es) > PageMax || es[0].Pos != p.Newest || es[len(es)-1].Pos != p.Oldest {
				t.Fatalf("%s: page %d: %d entries, ref %+v", key, i, len(es), p)
			}
			if i > 0 && !p.Newest.Before(refs[i-1].Oldest) {
				t.Fatalf("%s: pages %d and %d overlap", key, i-1, i)
			}
		}
		if len(m.pages) != len(refs) || len(m.dirs) != len(h.Dirs) {
			t.Fatalf("%s: %d pages and %d directories stored, %d and %d named", key, len(m.pages), len(m.dirs), len(refs), len(h.Dirs))
		}
		if len(refs) >= HeadPages+HeadSpill && len(h.Dirs) == 0 || len(h.Pages) >= HeadPages+HeadSpill || key[0] == 'm' && len(h.Dirs) < 1 {
			t.Fatalf("%s: %d directories, %d pages in the head", key, len(h.Dirs), len(h.Pages))
		}
		// Random ranges, walked in pages of 37 with a cursor.
		for range 30 {
			from := base.Add(time.Duration(r.IntN(100*24)) * time.Hour)
			to := from.Add(time.Duration(r.IntN(20*24)+1) * time.Hour)
			var want []Record
			for _, rec := range all {
				if !rec.OccurredAt.Before(from) && rec.OccurredAt.Before(to) {
					want = append(want, rec)
				}
			}
			q := ListQuery{From: from.UnixMilli(), To: to.UnixMilli()}
			var got []string
			for {
				before := m.reads
				var page []ListEntry
				err := WalkList(ctx, h, q, m, func(e ListEntry) bool {
					page = append(page, e)
					return len(page) < 37
				})
				if err != nil {
					t.Fatal(err)
				}
				if reads := m.reads - before; reads > 3+37/SealSize(key)+1 {
					t.Fatalf("%s: a page of 37 read %d sealed pages", key, reads)
				}
				for _, e := range page {
					rec, ok := DecodeListed(e.Enc)
					if !ok {
						t.Fatalf("undecodable %q", e.Enc)
					}
					got = append(got, rec.ID)
				}
				if len(page) < 37 {
					break
				}
				last := page[len(page)-1].Pos
				q.After = &last
			}
			if len(got) != len(want) {
				t.Fatalf("%s: range %s–%s: %d records, want %d", key, from, to, len(got), len(want))
			}
			for i := range want {
				if got[i] != want[i].ID {
					t.Fatalf("%s: record %d is %s, want %s", key, i, got[i], want[i].ID)
				}
			}
		}
	}
}

// A record removed from a list is gone from its page, and one replaced
// keeps its place.
func TestListRemoveAndReplace(t *testing.T) {
	ctx := context.Background()
	r := rand.New(rand.NewPCG(5, 5))
	base := time.Date(2026, 8, 1, 0, 0, 0, 0, time.UTC)
	m := &memPages{pages: map[string][]ListEntry{}, dirs: map[string][]PageRef{}}
	h := &ListHead{Key: "m:19753-M0001"}
	seq := int64(0)
	alloc := func(k string) (string, int) { seq++; return NewPageID(seq, "y"), 0 }
	var es []ListEntry
	var recs []Record
	for i := range 6000 {
		rec := listRecord(r, i, base)
		recs = append(recs, rec)
		es = append(es, EntryOf(rec, h.Key))
	}
	edit, err := AddToList(ctx, h, es, m, alloc)
	if err != nil {
		t.Fatal(err)
	}
	m.apply(edit)
	sort.Slice(recs, func(i, j int) bool { return PosOf(recs[j]).Before(PosOf(recs[i])) })
	if len(h.Dirs) == 0 {
		t.Fatal("no directory")
	}
	gone := []Pos{PosOf(recs[3]), PosOf(recs[100]), PosOf(recs[5999])} // the tail, a page, a directory's page
	if edit, err = RemoveFromList(ctx, h, gone, m, alloc); err != nil {
		t.Fatal(err)
	}
	m.apply(edit)
	edited := recs[5000]
	edited.Note = "đã sửa"
	if edit, err = ReplaceInList(ctx, h, map[Pos]string{PosOf(edited): EncodeListed(edited, ListedShort)}, m, alloc); err != nil {
		t.Fatal(err)
	}
	m.apply(edit)
	seen := map[string]string{}
	if err := WalkList(ctx, h, ListQuery{}, m, func(e ListEntry) bool {
		rec, _ := DecodeListed(e.Enc)
		seen[rec.ID] = rec.Note
		return true
	}); err != nil {
		t.Fatal(err)
	}
	if len(seen) != 5997 || h.Len() != 5997 {
		t.Fatalf("%d records left (head says %d), want 5997", len(seen), h.Len())
	}
	for _, i := range []int{3, 100, 5999} {
		if _, ok := seen[recs[i].ID]; ok {
			t.Fatalf("record %d still listed", i)
		}
	}
	if seen[edited.ID] != "đã sửa" {
		t.Fatalf("edited note: %q", seen[edited.ID])
	}
	if len(m.pages) != len(m.allRefs(h)) || len(m.dirs) != len(h.Dirs) {
		t.Fatalf("%d pages and %d directories stored, %d and %d named", len(m.pages), len(m.dirs), len(m.allRefs(h)), len(h.Dirs))
	}
	// Found through the head or a directory.
	for _, i := range []int{50, 3000, 5990} {
		ref, ok, err := FindPage(ctx, h, PosOf(recs[i]), m)
		if err != nil || !ok || !ref.Contains(PosOf(recs[i])) {
			t.Fatalf("record %d: page %+v %v %v", i, ref, ok, err)
		}
	}
}
