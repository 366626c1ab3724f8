package domain

import (
	"context"
	"errors"
	"hash/fnv"
	"sort"
	"strconv"
	"strings"
)

// Record lists answer "the records of a member, a team or a commune, newest
// first, in any date range, page after page" without reading the records
// themselves: the assistance collection is the one place each record lives,
// and every read of it would scan it.
//
// A list (key "m:<member>", "t:<team>" or "c:<commune>") is a tail of its
// newest records plus sealed pages of older ones, each page a document of at
// most PageMax records in one contiguous stretch of the list. The tail and the
// directory of the sealed pages (their range and where they are) make up the
// list's head, kept with the heads of the commune's other lists in a few
// documents (ListBucket). A page is never changed in place: a page that a late
// record falls into is written again under a new ID and the old one deleted.
// So a read costs the head and the one or two pages it names, whatever the
// number of records, and the consolidator (the single writer) inserts new
// pages rather than rewrite big documents.

// Sizes of the lists.
//
// A head document is rewritten whenever a record of one of its lists
// arrives, so tails are short: past TailMax a tail seals its oldest records
// into pages of SealSize.
const (
	PageSize    = 64  // records a team's or a commune's list seals into a page
	PageMember  = 32  // … a member's
	PageMax     = 128 // a page that grows past this (late records) is split
	TailMember  = 48  // newest records kept in a member's head, at most
	TailTeam    = 96  // … in a team's
	TailCommune = 192 // … in a commune's
	ListBuckets = 16  // documents that hold a commune's member and team heads
)

// SealSize is how many records list key seals into a page at a time.
func SealSize(key string) int {
	if strings.HasPrefix(key, "m:") {
		return PageMember
	}
	return PageSize
}

// List keys.
func MemberList(id string) string    { return "m:" + id }
func TeamList(id string) string      { return "t:" + id }
func CommuneList(code string) string { return "c:" + code }

// ListKeys are the lists r belongs to: its member's, its team's and its commune's.
func ListKeys(r Record) [3]string {
	return [3]string{MemberList(r.MemberID), TeamList(r.TeamID), CommuneList(r.CommuneCode)}
}

// ListCommune is the commune whose documents hold list key ("" if none).
func ListCommune(key string) string {
	kind, id, ok := strings.Cut(key, ":")
	switch {
	case !ok:
		return ""
	case kind == "c":
		return id
	}
	return CommuneOf(id)
}

// ListBucket names the head document of key in its commune: "c" for the
// commune's own list, "b00"… for its members' and teams'.
func ListBucket(key string) string {
	if strings.HasPrefix(key, "c:") {
		return "c"
	}
	h := fnv.New32a()
	h.Write([]byte(key))
	return "b" + strconv.Itoa(int(h.Sum32()%ListBuckets)/10) + strconv.Itoa(int(h.Sum32()%ListBuckets)%10)
}

// TailMax is how many records the head of key keeps before it seals pages.
func TailMax(key string) int {
	switch {
	case strings.HasPrefix(key, "c:"):
		return TailCommune
	case strings.HasPrefix(key, "t:"):
		return TailTeam
	}
	return TailMember
}

// ListFull says whether list key keeps every stored field of its records
// (commune lists do: the integrity checks read a commune's day).
func ListFull(key string) Full { return Full(strings.HasPrefix(key, "c:")) }

// ListEntry is one record of a list, encoded (EncodeListed).
type ListEntry struct {
	Pos Pos
	Enc string
}

// EntryOf encodes r for list key.
func EntryOf(r Record, key string) ListEntry {
	return ListEntry{Pos: PosOf(r), Enc: EncodeListed(r, ListFull(key))}
}

// PageRef is a sealed page as its list's head (or a directory) knows it.
type PageRef struct {
	ID             string
	Seg            int // the collection that holds it
	N              int
	Newest, Oldest Pos
}

// Contains reports whether p falls in the page's stretch of the list.
func (r PageRef) Contains(p Pos) bool { return !p.Before(r.Oldest) && !r.Newest.Before(p) }

// DirRef is a directory: a document naming DirPages of a list's older pages.
type DirRef struct {
	ID             string
	Seg            int
	Pages, Records int
	Newest, Oldest Pos
}

// Directories: a head names its newest pages itself, at most HeadPages +
// HeadSpill; past that its oldest pages go into a new directory of
// HeadSpill, so that a head stays small however long its list grows, and a
// read deep in the list costs one directory more.
const (
	HeadPages = 64
	HeadSpill = 64
)

// ListHead is a list's tail (newest first), its newest sealed pages (newest
// first, every one older than the tail) and the directories of its older
// pages (newest first, every one older than the pages).
type ListHead struct {
	Key   string
	Tail  []ListEntry
	Pages []PageRef
	Dirs  []DirRef
}

// Len is the number of records in the list.
func (h *ListHead) Len() int {
	n := len(h.Tail)
	for _, p := range h.Pages {
		n += p.N
	}
	for _, d := range h.Dirs {
		n += d.Records
	}
	return n
}

// ListPage is a sealed page with its records, newest first; or, when Dir is
// set, a directory with its pages.
type ListPage struct {
	Ref     PageRef
	Key     string
	Entries []ListEntry
	Dir     []PageRef
}

// ErrPageGone says a page a head named was replaced meanwhile: read the head again.
var ErrPageGone = errors.New("domain: list page replaced")

// ListReader reads a list's sealed pages and directories.
type ListReader interface {
	Page(ctx context.Context, ref PageRef) ([]ListEntry, error)
	Dir(ctx context.Context, ref DirRef) ([]PageRef, error)
}

// ListEdit is what a change of a list made: pages and directories to
// insert, those they replace (to delete once the head naming the new ones is
// saved), and the records that were new to the list.
type ListEdit struct {
	Insert  []ListPage
	Replace []PageRef
	Added   int
}

// NewPageID names a new page of a commune's lists; seq is unique in the
// commune, and nonce tells apart the pages of a consolidation that died half
// way from those of the one that does its work again.
func NewPageID(seq int64, nonce string) string {
	return strconv.FormatInt(seq, 36) + "~" + nonce
}

// PageAlloc names a new page of a list and the collection it goes to.
type PageAlloc func(key string) (id string, seg int)

// reaches reports whether positions older than the head's pages are asked
// for: then the directories must be read.
func (h *ListHead) reaches(ps []Pos) bool {
	if len(h.Dirs) == 0 {
		return false
	}
	for _, p := range ps {
		if len(h.Pages) == 0 || p.Before(h.Pages[len(h.Pages)-1].Oldest) {
			return true
		}
	}
	return false
}

// expansion is a head whose directories were read into its pages, to change
// pages anywhere in the list; collapse writes again the directories whose
// pages changed.
type expansion struct {
	dirs   []DirRef
	refs   [][]PageRef
	origin map[string]int // page ID → directory
}

func (h *ListHead) expand(ctx context.Context, rd ListReader) (*expansion, error) {
	x := &expansion{dirs: h.Dirs, origin: map[string]int{}}
	for i, d := range h.Dirs {
		refs, err := rd.Dir(ctx, d)
		if err != nil {
			return nil, err
		}
		x.refs = append(x.refs, refs)
		for _, r := range refs {
			x.origin[r.ID] = i
		}
		h.Pages = append(h.Pages, refs...)
	}
	h.Dirs = nil
	return x, nil
}

// inherit gives pages that replace page old the directory old was in.
func (x *expansion) inherit(old string, refs []PageRef) {
	if x == nil {
		return
	}
	if i, ok := x.origin[old]; ok {
		for _, r := range refs {
			x.origin[r.ID] = i
		}
	}
}

func (x *expansion) collapse(h *ListHead, alloc PageAlloc, edit *ListEdit) {
	if x == nil {
		return
	}
	var head []PageRef
	byDir := make([][]PageRef, len(x.dirs))
	for _, r := range h.Pages {
		if i, ok := x.origin[r.ID]; ok {
			byDir[i] = append(byDir[i], r)
		} else {
			head = append(head, r)
		}
	}
	h.Pages = head
	for i, d := range x.dirs {
		if sameRefs(byDir[i], x.refs[i]) {
			h.Dirs = append(h.Dirs, d)
			continue
		}
		edit.Replace = append(edit.Replace, PageRef{ID: d.ID, Seg: d.Seg})
		if len(byDir[i]) > 0 {
			h.Dirs = append(h.Dirs, newDir(h.Key, byDir[i], alloc, edit))
		}
	}
}

func sameRefs(a, b []PageRef) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i].ID != b[i].ID {
			return false
		}
	}
	return true
}

// newDir makes a directory of refs (newest first) under a new ID.
func newDir(key string, refs []PageRef, alloc PageAlloc, edit *ListEdit) DirRef {
	id, seg := alloc(key)
	d := DirRef{ID: id, Seg: seg, Pages: len(refs), Newest: refs[0].Newest, Oldest: refs[len(refs)-1].Oldest}
	for _, r := range refs {
		d.Records += r.N
	}
	edit.Insert = append(edit.Insert, ListPage{Key: key, Ref: PageRef{ID: id, Seg: seg, N: d.Records,
		Newest: d.Newest, Oldest: d.Oldest}, Dir: refs})
	return d
}

// spill moves the oldest pages a head names beyond HeadPages into a new
// directory once they are HeadSpill.
func (h *ListHead) spill(alloc PageAlloc, edit *ListEdit) {
	for len(h.Pages) >= HeadPages+HeadSpill {
		old := h.Pages[len(h.Pages)-HeadSpill:]
		h.Pages = h.Pages[: len(h.Pages)-HeadSpill : len(h.Pages)-HeadSpill]
		h.Dirs = append([]DirRef{newDir(h.Key, append([]PageRef(nil), old...), alloc, edit)}, h.Dirs...)
	}
}

// AddToList adds entries to the list: newer ones to the tail (sealing its
// oldest records into new pages past TailMax), older ones into the sealed
// pages they fall in (read with rd, written again under new IDs, with the
// directory naming them). An entry the list holds already (same position)
// is skipped. alloc names new pages and directories.
func AddToList(ctx context.Context, h *ListHead, entries []ListEntry, rd ListReader, alloc PageAlloc) (ListEdit, error) {
	var edit ListEdit
	if len(entries) == 0 {
		return edit, nil
	}
	var x *expansion
	ps := make([]Pos, len(entries))
	for i, e := range entries {
		ps[i] = e.Pos
	}
	if h.reaches(ps) {
		var err error
		if x, err = h.expand(ctx, rd); err != nil {
			return edit, err
		}
	}
	var toTail []ListEntry
	byPage := map[int][]ListEntry{}
	for _, e := range entries {
		if len(h.Pages) == 0 || h.Pages[0].Newest.Before(e.Pos) {
			toTail = append(toTail, e)
			continue
		}
		i := h.pageFor(e.Pos)
		byPage[i] = append(byPage[i], e)
	}
	// Pages, oldest first so that indexes stay valid as pages split.
	idx := make([]int, 0, len(byPage))
	for i := range byPage {
		idx = append(idx, i)
	}
	sort.Sort(sort.Reverse(sort.IntSlice(idx)))
	for _, i := range idx {
		ref := h.Pages[i]
		old, err := rd.Page(ctx, ref)
		if err != nil {
			return edit, err
		}
		merged, added := mergeEntries(old, byPage[i])
		if added == 0 {
			continue
		}
		edit.Added += added
		edit.Replace = append(edit.Replace, ref)
		parts := splitPage(merged)
		refs := make([]PageRef, len(parts))
		for k, part := range parts {
			p := newPage(h.Key, part, alloc)
			edit.Insert = append(edit.Insert, p)
			refs[k] = p.Ref
		}
		x.inherit(ref.ID, refs)
		h.Pages = append(h.Pages[:i], append(refs, h.Pages[i+1:]...)...)
	}
	if len(toTail) > 0 {
		merged, added := mergeEntries(h.Tail, toTail)
		edit.Added += added
		h.Tail = merged
		var sealed []PageRef
		for len(h.Tail) > TailMax(h.Key) {
			n := SealSize(h.Key)
			part := append([]ListEntry(nil), h.Tail[len(h.Tail)-n:]...)
			h.Tail = h.Tail[:len(h.Tail)-n]
			p := newPage(h.Key, part, alloc)
			edit.Insert = append(edit.Insert, p)
			sealed = append([]PageRef{p.Ref}, sealed...)
		}
		h.Pages = append(sealed, h.Pages...)
	}
	x.collapse(h, alloc, &edit)
	h.spill(alloc, &edit)
	return edit, nil
}

// pageFor returns the page an entry not newer than the newest page belongs
// to: the page whose stretch holds it, or, between two pages, the smaller of
// them, or the oldest page.
func (h *ListHead) pageFor(p Pos) int {
	// The first page (newest first) whose oldest record is not newer than p.
	i := sort.Search(len(h.Pages), func(i int) bool { return !p.Before(h.Pages[i].Oldest) })
	switch {
	case i == len(h.Pages):
		return len(h.Pages) - 1
	case i > 0 && !h.Pages[i].Contains(p) && h.Pages[i-1].N < h.Pages[i].N:
		return i - 1
	}
	return i
}

// FindPage returns the sealed page whose stretch holds p, reading a
// directory if p is older than the head's pages (false: p would be in the
// tail, or in no page).
func FindPage(ctx context.Context, h *ListHead, p Pos, rd ListReader) (PageRef, bool, error) {
	if len(h.Pages) > 0 && !p.Before(h.Pages[len(h.Pages)-1].Oldest) {
		if h.Pages[0].Newest.Before(p) {
			return PageRef{}, false, nil
		}
		i := h.pageFor(p)
		return h.Pages[i], h.Pages[i].Contains(p), nil
	}
	for _, d := range h.Dirs {
		if p.Before(d.Oldest) || d.Newest.Before(p) {
			continue
		}
		refs, err := rd.Dir(ctx, d)
		if err != nil {
			return PageRef{}, false, err
		}
		for _, r := range refs {
			if r.Contains(p) {
				return r, true, nil
			}
		}
	}
	return PageRef{}, false, nil
}

// RemoveFromList removes the entries at ps from the list (records excluded
// or edited), writing the pages that held them again.
func RemoveFromList(ctx context.Context, h *ListHead, ps []Pos, rd ListReader, alloc PageAlloc) (ListEdit, error) {
	var edit ListEdit
	var x *expansion
	if h.reaches(ps) {
		var err error
		if x, err = h.expand(ctx, rd); err != nil {
			return edit, err
		}
	}
	drop := map[Pos]bool{}
	for _, p := range ps {
		drop[p] = true
	}
	tail := h.Tail[:0:0]
	for _, e := range h.Tail {
		if !drop[e.Pos] {
			tail = append(tail, e)
		}
	}
	h.Tail = tail
	byPage := map[int]bool{}
	for _, p := range ps {
		if i := h.locate(p); i >= 0 && h.Pages[i].Contains(p) {
			byPage[i] = true
		}
	}
	idx := make([]int, 0, len(byPage))
	for i := range byPage {
		idx = append(idx, i)
	}
	sort.Sort(sort.Reverse(sort.IntSlice(idx)))
	for _, i := range idx {
		ref := h.Pages[i]
		old, err := rd.Page(ctx, ref)
		if err != nil {
			return edit, err
		}
		kept := old[:0:0]
		for _, e := range old {
			if !drop[e.Pos] {
				kept = append(kept, e)
			}
		}
		if len(kept) == len(old) {
			continue
		}
		edit.Replace = append(edit.Replace, ref)
		if len(kept) == 0 {
			h.Pages = append(h.Pages[:i], h.Pages[i+1:]...)
			continue
		}
		p := newPage(h.Key, kept, alloc)
		edit.Insert = append(edit.Insert, p)
		x.inherit(ref.ID, []PageRef{p.Ref})
		h.Pages[i] = p.Ref
	}
	x.collapse(h, alloc, &edit)
	return edit, nil
}

// ReplaceInList rewrites the entries of the list whose positions are in
// repl (an edited record keeps its position), with the pages that hold them.
func ReplaceInList(ctx context.Context, h *ListHead, repl map[Pos]string, rd ListReader, alloc PageAlloc) (ListEdit, error) {
	var edit ListEdit
	ps := make([]Pos, 0, len(repl))
	for p := range repl {
		ps = append(ps, p)
	}
	var x *expansion
	if h.reaches(ps) {
		var err error
		if x, err = h.expand(ctx, rd); err != nil {
			return edit, err
		}
	}
	for i, e := range h.Tail {
		if enc, ok := repl[e.Pos]; ok {
			h.Tail[i].Enc = enc
		}
	}
	pages := map[int]bool{}
	for _, p := range ps {
		if i := h.locate(p); i >= 0 && h.Pages[i].Contains(p) {
			pages[i] = true
		}
	}
	for i := range pages {
		ref := h.Pages[i]
		old, err := rd.Page(ctx, ref)
		if err != nil {
			return edit, err
		}
		changed := false
		out := make([]ListEntry, len(old))
		for k, e := range old {
			out[k] = e
			if enc, ok := repl[e.Pos]; ok && enc != e.Enc {
				out[k].Enc, changed = enc, true
			}
		}
		if !changed {
			continue
		}
		edit.Replace = append(edit.Replace, ref)
		p := newPage(h.Key, out, alloc)
		edit.Insert = append(edit.Insert, p)
		x.inherit(ref.ID, []PageRef{p.Ref})
		h.Pages[i] = p.Ref
	}
	x.collapse(h, alloc, &edit)
	return edit, nil
}

// locate says where the record at p would be among the head's pages (-1:
// in the tail).
func (h *ListHead) locate(p Pos) int {
	if len(h.Pages) == 0 || h.Pages[0].Newest.Before(p) {
		return -1
	}
	return h.pageFor(p)
}

// newPage makes a page of entries (newest first) under a new ID.
func newPage(key string, entries []ListEntry, alloc PageAlloc) ListPage {
	id, seg := alloc(key)
	return ListPage{Key: key, Entries: entries, Ref: PageRef{ID: id, Seg: seg, N: len(entries),
		Newest: entries[0].Pos, Oldest: entries[len(entries)-1].Pos}}
}

// SealList makes the head of a list from all its entries, newest first
// (a rebuild): the whole list in the tail if it fits, otherwise the newest
// TailMax - SealSize records, the rest in sealed pages, the older of them in
// directories.
func SealList(key string, entries []ListEntry, alloc PageAlloc) (*ListHead, []ListPage) {
	h := &ListHead{Key: key}
	n := len(entries)
	if n > TailMax(key) {
		n = TailMax(key) - SealSize(key)
	}
	h.Tail = entries[:n:n]
	var edit ListEdit
	for rest := entries[n:]; len(rest) > 0; {
		k := min(SealSize(key), len(rest))
		p := newPage(key, rest[:k:k], alloc)
		edit.Insert = append(edit.Insert, p)
		h.Pages = append(h.Pages, p.Ref)
		rest = rest[k:]
	}
	// Directories from the oldest pages, HeadSpill each, while more than
	// HeadPages are left.
	var dirs []DirRef
	for len(h.Pages) >= HeadPages+HeadSpill {
		k := len(h.Pages) % HeadSpill
		if k == 0 {
			k = HeadSpill
		}
		old := append([]PageRef(nil), h.Pages[len(h.Pages)-k:]...)
		h.Pages = h.Pages[:len(h.Pages)-k]
		dirs = append(dirs, newDir(key, old, alloc, &edit)) // oldest first
	}
	for i := len(dirs) - 1; i >= 0; i-- {
		h.Dirs = append(h.Dirs, dirs[i])
	}
	return h, edit.Insert
}

// SortEntries sorts entries newest first.
func SortEntries(es []ListEntry) {
	sort.Slice(es, func(i, j int) bool { return es[j].Pos.Before(es[i].Pos) })
}

// mergeEntries merges add into list (both newest first), skipping entries
// the list has; it returns the merged list and how many were added.
func mergeEntries(list, add []ListEntry) ([]ListEntry, int) {
	add = append([]ListEntry(nil), add...)
	sort.Slice(add, func(i, j int) bool { return add[j].Pos.Before(add[i].Pos) })
	out := make([]ListEntry, 0, len(list)+len(add))
	i, j, added := 0, 0, 0
	for i < len(list) || j < len(add) {
		switch {
		case j == len(add):
			out = append(out, list[i])
			i++
		case i == len(list) || list[i].Pos.Before(add[j].Pos):
			if len(out) == 0 || out[len(out)-1].Pos != add[j].Pos {
				out = append(out, add[j])
				added++
			}
			j++
		case list[i].Pos == add[j].Pos:
			j++ // held already
		default:
			out = append(out, list[i])
			i++
		}
	}
	return out, added
}

// splitPage cuts a page that grew past PageMax into pages of about PageSize.
func splitPage(entries []ListEntry) [][]ListEntry {
	if len(entries) <= PageMax {
		return [][]ListEntry{entries}
	}
	n := (len(entries) + PageSize - 1) / PageSize
	size := (len(entries) + n - 1) / n
	var out [][]ListEntry
	for len(entries) > 0 {
		k := min(size, len(entries))
		out = append(out, entries[:k])
		entries = entries[k:]
	}
	return out
}

// ListQuery selects a stretch of a list: records that occurred in [From, To)
// (Unix milliseconds; 0 for no bound), older than After when set.
type ListQuery struct {
	From, To int64
	After    *Pos
}

// Keeps reports whether the query keeps the record at p.
func (q ListQuery) Keeps(p Pos) bool {
	return (q.From == 0 || p.At >= q.From) && (q.To == 0 || p.At < q.To) && (q.After == nil || p.Before(*q.After))
}

// newest is the newest position the query can keep (false: no bound).
func (q ListQuery) newest() (Pos, bool) {
	var b Pos
	set := false
	if q.To != 0 {
		b, set = Pos{At: q.To - 1, ID: "\U0010FFFF"}, true
	}
	if q.After != nil && (!set || q.After.Before(b)) {
		b, set = *q.After, true
	}
	return b, set
}

// WalkList calls fn with the entries of the list that q keeps, newest first,
// reading the sealed pages (and directories) it needs, until fn returns false.
func WalkList(ctx context.Context, h *ListHead, q ListQuery, rd ListReader, fn func(ListEntry) bool) error {
	for _, e := range h.Tail {
		if q.Keeps(e.Pos) && !fn(e) {
			return nil
		}
		if q.From != 0 && e.Pos.At < q.From {
			return nil
		}
	}
	top, bounded := q.newest()
	pages := func(refs []PageRef) (bool, error) {
		for _, ref := range refs {
			if q.From != 0 && ref.Newest.At < q.From {
				return false, nil
			}
			if bounded && top.Before(ref.Oldest) {
				continue // the whole page is newer than the query
			}
			entries, err := rd.Page(ctx, ref)
			if err != nil {
				return false, err
			}
			for _, e := range entries {
				if q.Keeps(e.Pos) && !fn(e) {
					return false, nil
				}
			}
		}
		return true, nil
	}
	if more, err := pages(h.Pages); !more || err != nil {
		return err
	}
	for _, d := range h.Dirs {
		if q.From != 0 && d.Newest.At < q.From {
			return nil
		}
		if bounded && top.Before(d.Oldest) {
			continue
		}
		refs, err := rd.Dir(ctx, d)
		if err != nil {
			return err
		}
		if more, err := pages(refs); !more || err != nil {
			return err
		}
	}
	return nil
}
