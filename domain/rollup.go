package domain

import (
	"context"
	"encoding/base64"
	"strings"
	"time"
)

// Rollups keep the counts that pages and the coverage job read, so that no read
// scans the (large) assistance collection.
//
// Each server stores records in groups (one insert for every record its
// requests brought meanwhile) and, before it answers any of them, inserts the
// group as one Delta, an insert-only document named "<process>:<seq>": a
// record acknowledged is a record in a delta. A single consolidator (holding a
// lease) applies deltas in order to one Rollup per commune, to the record
// lists (lists.go) and to the households reached, then deletes them. A rollup
// remembers the last delta it applied from each process, so a delta counts
// once even if the consolidator dies half way; lists and household sets are
// sets, so applying a delta again changes nothing there.

// Windows of the rollups.
const (
	RollupDays = 120 // days of per-day counts kept (records may arrive 90 days late)
	// ActivityDays of per-member and per-team counts are kept: enough to
	// recompute the 30-day window of any of the last 90 days.
	ActivityDays  = RollupDays
	RecentMember  = 30  // records kept in a member's recent list
	RecentTeam    = 50  // records kept in a team's recent list
	RecentCommune = 100 // records kept in a commune's recent list
)

// Delta is one group of records a server stored, or (Dup) records it was
// sent again and found stored already: their first delta may never have been
// written (the server that stored them died first), so the consolidator
// counts each of them unless its member's list holds it.
type Delta struct {
	ID      string // "<process>:<seq>"
	Process string
	Seq     int64
	At      time.Time
	Dup     bool
	Records []Record
}

// ParseDeltaID splits a delta ID.
func ParseDeltaID(id string) (process string, seq int64, ok bool) {
	i := strings.LastIndexByte(id, ':')
	if i <= 0 || i == len(id)-1 {
		return "", 0, false
	}
	for _, c := range id[i+1:] {
		if c < '0' || c > '9' {
			return "", 0, false
		}
		seq = seq*10 + int64(c-'0')
	}
	return id[:i], seq, true
}

// DeltaID names delta seq of process; seq is zero-padded so IDs sort in order.
func DeltaID(process string, seq int64) string {
	s := strings.Repeat("0", 12) + itoa64(seq)
	return process + ":" + s[len(s)-12:]
}

func itoa64(n int64) string {
	if n == 0 {
		return "0"
	}
	var b [20]byte
	i := len(b)
	for n > 0 {
		i--
		b[i] = byte('0' + n%10)
		n /= 10
	}
	return string(b[i:])
}

// DayCount is what happened on one day in one commune.
type DayCount struct {
	N         int
	Services  map[string]int
	Outcomes  map[string]int
	Genders   map[string]int
	AgeGroups map[string]int
	Places    map[string]int
}

// Activity is how often a member or team logged, per day.
type Activity struct {
	Last Date
	Days Tally
	N    int // records ever
}

// Rollup holds the counts of one commune.
type Rollup struct {
	Commune  string
	Version  int64
	Seen     map[string]int64 // process → last seq applied
	Total    int              // records ever
	Before   int              // records on days older than the kept days
	Days     map[Date]*DayCount
	Members  map[string]*Activity
	Teams    map[string]*Activity
	Villages map[string]int // records ever, per village
	Late     int            // records that reached the server more than a day after they occurred
	// Corrected counts records whose time was corrected by their device's
	// clock offset (ingest).
	Corrected int
}

// NewRollup returns an empty rollup of commune.
func NewRollup(commune string) *Rollup {
	return &Rollup{Commune: commune, Seen: map[string]int64{}, Days: map[Date]*DayCount{},
		Members: map[string]*Activity{}, Teams: map[string]*Activity{}, Villages: map[string]int{}}
}

// Clone returns a copy of r that shares nothing with it: the consolidator
// changes a copy, so that readers of the published rollups never see one
// change under them.
func (r *Rollup) Clone() *Rollup {
	c := *r
	c.Seen = make(map[string]int64, len(r.Seen))
	for k, v := range r.Seen {
		c.Seen[k] = v
	}
	c.Days = make(map[Date]*DayCount, len(r.Days))
	for d, dc := range r.Days {
		cp := &DayCount{N: dc.N, Services: cloneCounts(dc.Services), Outcomes: cloneCounts(dc.Outcomes),
			Genders: cloneCounts(dc.Genders), AgeGroups: cloneCounts(dc.AgeGroups), Places: cloneCounts(dc.Places)}
		c.Days[d] = cp
	}
	c.Members, c.Teams = cloneActivity(r.Members), cloneActivity(r.Teams)
	c.Villages = cloneCounts(r.Villages)
	return &c
}

func cloneCounts(m map[string]int) map[string]int {
	out := make(map[string]int, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

func cloneActivity(m map[string]*Activity) map[string]*Activity {
	out := make(map[string]*Activity, len(m))
	for k, a := range m {
		out[k] = &Activity{Last: a.Last, Days: append(Tally(nil), a.Days...), N: a.N}
	}
	return out
}

// Applied reports whether delta d was applied already.
func (r *Rollup) Applied(d Delta) bool { return d.Seq <= r.Seen[d.Process] }

// Apply counts the records of d that belong to the commune. It returns false
// when d was applied before.
func (r *Rollup) Apply(d Delta) bool { return applyOnce(r.Seen, r.Commune, d, r.Count) }

// applyOnce is the rule that makes a delta count once in every state it
// feeds: seen holds, per process, the last delta sequence applied; a delta at
// or below it is skipped, otherwise add gets each of its records of commune.
func applyOnce(seen map[string]int64, commune string, d Delta, add func(Record)) bool {
	if d.Seq <= seen[d.Process] {
		return false
	}
	for _, rec := range d.Records {
		if rec.CommuneCode == commune {
			add(rec)
		}
	}
	seen[d.Process] = d.Seq
	return true
}

// Count adds one record.
func (r *Rollup) Count(rec Record) {
	r.Total++
	dc := r.Days[rec.Day]
	if dc == nil {
		dc = &DayCount{Services: map[string]int{}, Outcomes: map[string]int{}, Genders: map[string]int{},
			AgeGroups: map[string]int{}, Places: map[string]int{}}
		r.Days[rec.Day] = dc
	}
	dc.N++
	dc.Services[rec.Service]++
	dc.Outcomes[rec.Outcome]++
	if rec.Gender != "" {
		dc.Genders[rec.Gender]++
	}
	if rec.AgeGroup != "" {
		dc.AgeGroups[rec.AgeGroup]++
	}
	if rec.Place != "" {
		dc.Places[rec.Place]++
	}
	bump(r.Members, rec.MemberID, rec.Day)
	bump(r.Teams, rec.TeamID, rec.Day)
	r.Villages[rec.VillageCode]++
	if rec.RecordedAt.Sub(rec.OccurredAt) > 24*time.Hour {
		r.Late++
	}
	if !rec.SentOccurredAt.IsZero() {
		r.Corrected++
	}
}

// Uncount takes back what Count added for rec (a record excluded from the
// figures); counts of days no longer kept stay.
func (r *Rollup) Uncount(rec Record) {
	r.Total--
	if dc := r.Days[rec.Day]; dc != nil {
		dc.N--
		dec(dc.Services, rec.Service)
		dec(dc.Outcomes, rec.Outcome)
		dec(dc.Genders, rec.Gender)
		dec(dc.AgeGroups, rec.AgeGroup)
		dec(dc.Places, rec.Place)
		if dc.N <= 0 {
			delete(r.Days, rec.Day)
		}
	} else {
		r.Before--
	}
	for _, a := range []*Activity{r.Members[rec.MemberID], r.Teams[rec.TeamID]} {
		if a != nil {
			a.Days.Add(rec.Day, -1)
			a.N--
		}
	}
	if r.Villages[rec.VillageCode]--; r.Villages[rec.VillageCode] <= 0 {
		delete(r.Villages, rec.VillageCode)
	}
	if rec.RecordedAt.Sub(rec.OccurredAt) > 24*time.Hour {
		r.Late--
	}
	if !rec.SentOccurredAt.IsZero() {
		r.Corrected--
	}
}

func dec(m map[string]int, k string) {
	if k == "" {
		return
	}
	if m[k]--; m[k] <= 0 {
		delete(m, k)
	}
}

func bump(m map[string]*Activity, id string, day Date) {
	a := m[id]
	if a == nil {
		a = &Activity{}
		m[id] = a
	}
	a.Days.Add(day, 1)
	a.N++
	if day > a.Last {
		a.Last = day
	}
}

// Trim drops per-day counts older than the kept windows, relative to today.
func (r *Rollup) Trim(today Date) {
	oldest := today.AddDays(-RollupDays + 1)
	for d, dc := range r.Days {
		if d < oldest {
			r.Before += dc.N
			delete(r.Days, d)
		}
	}
	act := today.AddDays(-ActivityDays + 1)
	for _, m := range []map[string]*Activity{r.Members, r.Teams} {
		for _, a := range m {
			a.Days.DropBefore(act)
		}
	}
}

// CountIn returns the records of id (member or team map) on days [from, to].
func (a *Activity) CountIn(from, to Date) int {
	if a == nil {
		return 0
	}
	return a.Days.CountIn(from, to)
}

// HouseholdSet is a set of households reached, with the first day and village
// each was reached. It holds a household in about 30 bytes (a map of hash
// strings took 80).
type HouseholdSet struct {
	first     map[HouseholdKey]firstContact
	villages  []string // village codes, by index
	villageIx map[string]uint16
}

// HouseholdKey is a household hash (IsHouseholdHash) as its 16 raw bytes.
type HouseholdKey [16]byte

type firstContact struct {
	day     int32 // DayNumber
	village uint16
}

// FirstContact is when and where a household was first assisted.
type FirstContact struct {
	Day     Date
	Village string
}

// NewHouseholdSet returns an empty set.
func NewHouseholdSet() *HouseholdSet {
	return &HouseholdSet{first: map[HouseholdKey]firstContact{}, villageIx: map[string]uint16{}}
}

// IsHouseholdHash reports whether s has the form of a household hash: 128
// bits in base64url, 22 characters. Anything else (a record written around
// the API) is left out of the household counts rather than stop them.
func IsHouseholdHash(s string) bool {
	_, ok := ParseHouseholdKey(s)
	return ok
}

// ParseHouseholdKey decodes a household hash.
func ParseHouseholdKey(s string) (HouseholdKey, bool) {
	var k HouseholdKey
	if len(s) != 22 {
		return k, false
	}
	n, err := base64.RawURLEncoding.Strict().Decode(k[:], []byte(s))
	return k, err == nil && n == 16
}

// String is the hash as records carry it.
func (k HouseholdKey) String() string { return base64.RawURLEncoding.EncodeToString(k[:]) }

// Add records a contact; it reports whether the set changed (a new
// household, or an earlier first day).
func (h *HouseholdSet) Add(rec Record) bool {
	if k, ok := ParseHouseholdKey(rec.Household); ok {
		return h.Set(k, DayNumber(rec.Day), rec.VillageCode)
	}
	return false
}

// Set records that household k was first reached on day (a DayNumber) in
// village, unless it was reached earlier; it reports whether the set changed.
func (h *HouseholdSet) Set(k HouseholdKey, day int32, village string) bool {
	if f, ok := h.first[k]; ok && f.day <= day {
		return false
	}
	v, ok := h.villageIx[village]
	if !ok {
		v = uint16(len(h.villages))
		h.villages = append(h.villages, village)
		h.villageIx[village] = v
	}
	h.first[k] = firstContact{day: day, village: v}
	return true
}

// Remove forgets household k; it reports whether the set held it.
func (h *HouseholdSet) Remove(k HouseholdKey) bool {
	_, ok := h.first[k]
	delete(h.first, k)
	return ok
}

// Len is the number of households reached.
func (h *HouseholdSet) Len() int { return len(h.first) }

// First returns the first contact of the household with hash (false if none).
func (h *HouseholdSet) First(hash string) (FirstContact, bool) {
	k, ok := ParseHouseholdKey(hash)
	f, found := h.first[k]
	if !ok || !found {
		return FirstContact{}, false
	}
	return FirstContact{Day: DateOfNumber(f.day), Village: h.villages[f.village]}, true
}

// Each calls fn for every household, in no order, with its first day as a
// DayNumber.
func (h *HouseholdSet) Each(fn func(k HouseholdKey, day int32, village string)) {
	for k, f := range h.first {
		fn(k, f.day, h.villages[f.village])
	}
}

// Merge adds the households of o.
func (h *HouseholdSet) Merge(o *HouseholdSet) {
	o.Each(func(k HouseholdKey, day int32, village string) { h.Set(k, day, village) })
}

// Reached counts households first reached on or before day.
func (h *HouseholdSet) Reached(day Date) int {
	d, n := DayNumber(day), 0
	for _, f := range h.first {
		if f.day <= d {
			n++
		}
	}
	return n
}

// ReachedByVillage adds to by, per village, the households first reached
// there on or before day.
func (h *HouseholdSet) ReachedByVillage(day Date, by map[string]int) {
	d := DayNumber(day)
	counts := make([]int, len(h.villages))
	for _, f := range h.first {
		if f.day <= d {
			counts[f.village]++
		}
	}
	for i, n := range counts {
		if n > 0 {
			by[h.villages[i]] += n
		}
	}
}

// HouseholdShards is how many documents hold a commune's households reached
// (by the first byte of their hash), in a collection of their own. On
// FerretDB every lookup and every replace scans the whole collection, so a
// pass that changes k shards pays k scans of them all: one document per
// commune (20 bytes a household, under 1 MB for the largest ward at a
// million records) costs a pass the least. 64 shards beside the rollup cost a
// pass of 1,000 records at a million records 1.8–2.9 s, 8 in their own
// collection 0.9–1.2 s (BENCHMARKS.md, "Consolidation").
const HouseholdShards = 1

// ShardOf is the shard of household k.
func ShardOf(k HouseholdKey) int { return int(k[0]) % HouseholdShards }

// HouseholdShard is one shard of a commune's households reached. Retired
// counts, per village, households whose hash was dropped (retention): they
// stay reached, and one assisted again is counted again.
type HouseholdShard struct {
	Commune string
	N       int
	Set     *HouseholdSet
	Retired map[string]int
}

// NewHouseholdShard returns an empty shard.
func NewHouseholdShard(commune string, n int) *HouseholdShard {
	return &HouseholdShard{Commune: commune, N: n, Set: NewHouseholdSet(), Retired: map[string]int{}}
}

// HouseholdCount accumulates households reached on or before a day, per
// village, from shards streamed one at a time (the coverage job never holds a
// commune's whole set).
type HouseholdCount struct {
	Day       Date
	Total     int
	ByVillage map[string]int
}

// AddShard counts the households of s.
func (c *HouseholdCount) AddShard(s *HouseholdShard) {
	if c.ByVillage == nil {
		c.ByVillage = map[string]int{}
	}
	before := 0
	for _, n := range c.ByVillage {
		before += n
	}
	s.Set.ReachedByVillage(c.Day, c.ByVillage)
	for v, n := range s.Retired {
		c.ByVillage[v] += n
	}
	after := 0
	for _, n := range c.ByVillage {
		after += n
	}
	c.Total += after - before
}

// ConsolidatedState says where the consolidated state is and how far it
// got: Gen names the generation of its collections (a full rebuild writes
// the next one and then switches), Version counts consolidations and
// Communes holds each commune's version, so that readers caching a rollup
// reload only the ones that changed.
type ConsolidatedState struct {
	Schema   int
	Gen      int64
	Version  int64
	Communes map[string]int64
	// Mark is, per process, the last delta whose records a rebuild counted
	// from the records themselves.
	Mark map[string]int64
}

// StateSchema is the version of the consolidated state's documents; a
// state of another version is rebuilt from the records.
const StateSchema = 4

// HeadBucket is one document of a commune's list heads: "c" holds the
// commune's own list and the bookkeeping of its page collections, "b00"…
// the lists of the members and teams that hash to it.
type HeadBucket struct {
	Commune string
	ID      string
	Heads   map[string]*ListHead
	Pages   *PageBook // in "c" only
}

// PageBook is where a commune's sealed pages go: the collection new pages
// are inserted in (a new one after SegmentPages inserts, so that each stays
// small), how many live pages each holds (an emptied one is dropped), the
// next page number, and pages replaced but not yet deleted.
type PageBook struct {
	Seg      int
	Inserted int
	Live     map[int]int
	Next     int64
	Trash    []PageRef
}

// SegmentPages is how many pages are inserted into one collection.
const SegmentPages = 256

// Head returns the head of key in the bucket, created empty if missing.
func (b *HeadBucket) Head(key string) *ListHead {
	if b.Heads == nil {
		b.Heads = map[string]*ListHead{}
	}
	h := b.Heads[key]
	if h == nil {
		h = &ListHead{Key: key}
		b.Heads[key] = h
	}
	return h
}

// StateStore persists deltas and the consolidated state: rollups, record
// lists and households reached, in the generation gen.
type StateStore interface {
	InsertDelta(ctx context.Context, d Delta) error // ErrConflict if it exists
	// PendingDeltas returns the deltas not yet consolidated, in ID order.
	PendingDeltas(ctx context.Context, limit int) ([]Delta, error)
	DeleteDeltas(ctx context.Context, ids []string) error
	// ResolveDelta replaces a delta of records sent again with d: the same
	// delta, with only the records nothing counted yet, no longer Dup.
	ResolveDelta(ctx context.Context, d Delta) error

	State(ctx context.Context) (ConsolidatedState, error)
	SaveState(ctx context.Context, s ConsolidatedState) error

	Rollups(ctx context.Context, gen int64) (map[string]*Rollup, error)
	// RollupsOf returns the rollups of communes (missing ones are left out).
	RollupsOf(ctx context.Context, gen int64, communes []string) (map[string]*Rollup, error)
	SaveRollups(ctx context.Context, gen int64, rs []*Rollup) error

	// HeadBuckets returns the head documents ids of commune (empty ones for
	// those missing).
	HeadBuckets(ctx context.Context, gen int64, commune string, ids []string) (map[string]*HeadBucket, error)
	SaveHeadBuckets(ctx context.Context, gen int64, bs []*HeadBucket) error
	// InsertHeadBuckets writes head documents that do not exist yet (a rebuild).
	InsertHeadBuckets(ctx context.Context, gen int64, bs []*HeadBucket) error
	// ListHead returns the head of list key (empty if none).
	ListHead(ctx context.Context, gen int64, key string) (*ListHead, error)
	// ListPage reads a sealed page (ErrPageGone if it was replaced).
	ListPage(ctx context.Context, gen int64, commune string, ref PageRef) ([]ListEntry, error)
	// ListDir reads a directory of pages (ErrPageGone if it was replaced).
	ListDir(ctx context.Context, gen int64, commune string, ref DirRef) ([]PageRef, error)
	InsertPages(ctx context.Context, gen int64, commune string, pages []ListPage) error
	DeletePages(ctx context.Context, gen int64, commune string, refs []PageRef) error
	DropSegment(ctx context.Context, gen int64, commune string, seg int) error

	// HouseholdShards returns shards ns of commune (empty ones for those missing).
	HouseholdShards(ctx context.Context, gen int64, commune string, ns []int) (map[int]*HouseholdShard, error)
	SaveHouseholdShards(ctx context.Context, gen int64, shards []*HouseholdShard) error
	// InsertHouseholdShards writes shards that do not exist yet (a rebuild).
	InsertHouseholdShards(ctx context.Context, gen int64, shards []*HouseholdShard) error
	// EachHouseholdShard streams the shards of commune.
	EachHouseholdShard(ctx context.Context, gen int64, commune string, fn func(*HouseholdShard) error) error

	// DropGen removes every collection of generation gen.
	DropGen(ctx context.Context, gen int64) error
}

// ListsOf reads the sealed pages and directories of commune's lists in
// generation gen of st.
func ListsOf(st StateStore, gen int64, commune string) ListReader {
	return listsOf{st, gen, commune}
}

type listsOf struct {
	st      StateStore
	gen     int64
	commune string
}

func (l listsOf) Page(ctx context.Context, ref PageRef) ([]ListEntry, error) {
	return l.st.ListPage(ctx, l.gen, l.commune, ref)
}

func (l listsOf) Dir(ctx context.Context, ref DirRef) ([]PageRef, error) {
	return l.st.ListDir(ctx, l.gen, l.commune, ref)
}

// RecordScanner streams every record (full rebuilds and benchmarks).
type RecordScanner interface {
	ScanRecords(ctx context.Context, fn func(Record) error) error
}
