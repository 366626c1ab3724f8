package domain

import (
	"context"
	"encoding/base64"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Rollups keep the counts that pages and the coverage job read, so that no read
// scans the (large) assistance collection.
//
// Each server buffers the records it stores and flushes them about once a
// second as one Delta, an insert-only document named "<process>:<seq>". A single
// consolidator (holding a lease) applies deltas in order to one Rollup and one
// HouseholdSet per commune and to the recent lists, then deletes them. A
// rollup remembers the last delta it applied from each process, so a delta is
// applied exactly once even if the consolidator dies half way. Records name
// their delta, so the deltas a crashed server never flushed can be rebuilt from
// the records themselves.

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

// Delta is one flush of one server: the records it stored since the last one.
type Delta struct {
	ID      string // "<process>:<seq>"
	Process string
	Seq     int64
	At      time.Time
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
}

// NewRollup returns an empty rollup of commune.
func NewRollup(commune string) *Rollup {
	return &Rollup{Commune: commune, Seen: map[string]int64{}, Days: map[Date]*DayCount{},
		Members: map[string]*Activity{}, Teams: map[string]*Activity{}, Villages: map[string]int{}}
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

// HouseholdSet is the set of households a commune has reached, with the first
// day and village each was reached. It holds a household in about 30 bytes
// (a map of hash strings took 80), since a rebuild keeps every commune's set.
type HouseholdSet struct {
	Commune string
	Version int64
	Seen    map[string]int64

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

// NewHouseholdSet returns an empty set of commune.
func NewHouseholdSet(commune string) *HouseholdSet {
	return &HouseholdSet{Commune: commune, Seen: map[string]int64{}, first: map[HouseholdKey]firstContact{},
		villageIx: map[string]uint16{}}
}

// Apply adds the households of d (false if d was applied before).
func (h *HouseholdSet) Apply(d Delta) bool { return applyOnce(h.Seen, h.Commune, d, h.Add) }

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

// Add records a contact; an earlier day replaces a later first contact.
func (h *HouseholdSet) Add(rec Record) {
	if k, ok := ParseHouseholdKey(rec.Household); ok {
		h.Set(k, DayNumber(rec.Day), rec.VillageCode)
	}
}

// Set records that household k was first reached on day (a DayNumber) in
// village, unless it was reached earlier.
func (h *HouseholdSet) Set(k HouseholdKey, day int32, village string) {
	if f, ok := h.first[k]; ok && f.day <= day {
		return
	}
	v, ok := h.villageIx[village]
	if !ok {
		v = uint16(len(h.villages))
		h.villages = append(h.villages, village)
		h.villageIx[village] = v
	}
	h.first[k] = firstContact{day: day, village: v}
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

// Merge adds the households of o (a commune merged into this one).
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

// ReachedByVillage counts, per village, households first reached there on or before day.
func (h *HouseholdSet) ReachedByVillage(day Date) map[string]int {
	d := DayNumber(day)
	by := make([]int, len(h.villages))
	for _, f := range h.first {
		if f.day <= d {
			by[f.village]++
		}
	}
	out := map[string]int{}
	for i, n := range by {
		if n > 0 {
			out[h.villages[i]] += n
		}
	}
	return out
}

// Recent is a bounded newest-first list of records of a member, a team or a commune.
type Recent struct {
	Key     string // "m:<member>", "t:<team>" or "c:<commune>"
	Records []Record
}

// RecentKeys are the lists a record belongs to, with their capacity.
func RecentKeys(rec Record) map[string]int {
	return map[string]int{"m:" + rec.MemberID: RecentMember, "t:" + rec.TeamID: RecentTeam, "c:" + rec.CommuneCode: RecentCommune}
}

// StateChange says what one consolidation changed, so that readers caching
// the state drop only that.
type StateChange struct {
	Version  int64
	All      bool     // everything may have changed (a rebuild, or too much to list)
	Communes []string // rollups rewritten
	Recent   []string // recent lists rewritten
}

// Add merges recs into the list, newest first, keeping max records.
func (r *Recent) Add(recs []Record, max int) {
	seen := map[string]bool{}
	all := append(append([]Record(nil), recs...), r.Records...)
	sort.SliceStable(all, func(i, j int) bool { return all[i].SortKey() > all[j].SortKey() })
	out := all[:0]
	for _, rec := range all {
		if !seen[rec.ID] {
			seen[rec.ID] = true
			out = append(out, rec)
		}
		if len(out) == max {
			break
		}
	}
	r.Records = out
}

// RollupStore persists deltas and the consolidated state.
type RollupStore interface {
	InsertDelta(ctx context.Context, d Delta) error // ErrConflict if it exists
	// PendingDeltas returns the deltas not yet consolidated, in (process, seq) order.
	PendingDeltas(ctx context.Context, limit int) ([]Delta, error)
	DeleteDeltas(ctx context.Context, ids []string) error

	Rollups(ctx context.Context) (map[string]*Rollup, error)
	// RollupsOf returns the rollups of communes (missing ones are left out).
	RollupsOf(ctx context.Context, communes []string) (map[string]*Rollup, error)
	SaveRollup(ctx context.Context, r *Rollup) error
	HouseholdSets(ctx context.Context) (map[string]*HouseholdSet, error)
	SaveHouseholdSet(ctx context.Context, h *HouseholdSet) error
	Recent(ctx context.Context, key string) (*Recent, error) // empty list if none
	SaveRecent(ctx context.Context, r *Recent) error
	// InsertRecents writes many lists that do not exist yet (after
	// ClearState), their records in the form of EncodeListed, newest first.
	InsertRecents(ctx context.Context, lists map[string][]string) error
	// RecentMany returns the lists of keys (empty lists for keys with none).
	RecentMany(ctx context.Context, keys []string) (map[string]*Recent, error)
	// SaveRecents writes lists, one round trip per shard.
	SaveRecents(ctx context.Context, rs []*Recent) error
	ClearState(ctx context.Context) error
	// State says what the last consolidation changed; readers cache by it.
	State(ctx context.Context) (StateChange, error)
	// SaveState records a consolidation (its Version is the previous plus one).
	SaveState(ctx context.Context, c StateChange) error
}

// RecordScanner streams every record (full rebuilds and benchmarks).
type RecordScanner interface {
	ScanRecords(ctx context.Context, fn func(Record) error) error
}

// Listed records: fields separated by "|", which no ID, code or time holds;
// the note comes last and may hold anything. (The first form separated whole
// fields by U+001F, which JSON, and so FerretDB, stores as six bytes.)
const (
	listedV2    = "2|"
	listedSep   = "|"
	listedSepV1 = "\x1f"
)

// EncodeListed is the compact form in which recent lists keep a record: one
// string of about 80 bytes, without the household hash. Catalogue codes are
// kept as their index, IDs without the commune they carry. FerretDB writes
// one string far faster than a sub-document, and a rebuild holds a quarter of
// a million of them.
func EncodeListed(r Record) string {
	c := r.CommuneCode
	if c == CommuneOf(r.ID) {
		c = ""
	}
	return listedV2 + strings.Join([]string{r.ID, c, local(r.TeamID, r.CommuneCode), local(r.VillageCode, r.CommuneCode),
		short(Services, r.Service), short(Outcomes, r.Outcome),
		strconv.FormatInt(r.OccurredAt.UnixMilli(), 36), strconv.FormatInt(r.RecordedAt.UnixMilli(), 36),
		r.Gender, short(AgeGroups, r.AgeGroup), short(Places, r.Place), r.Note}, listedSep)
}

// DecodeListed reverses EncodeListed (and reads the first form, which began
// with the record ID and kept every field whole).
func DecodeListed(s string) Record {
	rest, v2 := strings.CutPrefix(s, listedV2)
	var f []string
	if v2 {
		f = strings.SplitN(rest, listedSep, 12)
	} else {
		f = strings.Split(s, listedSepV1)
	}
	if len(f) < 12 {
		return Record{}
	}
	at, _ := strconv.ParseInt(f[6], 36, 64)
	rec, _ := strconv.ParseInt(f[7], 36, 64)
	r := Record{ID: f[0], CommuneCode: f[2], TeamID: f[1], VillageCode: f[3], Service: f[4], Outcome: f[5],
		OccurredAt: time.UnixMilli(at).UTC(), RecordedAt: time.UnixMilli(rec).UTC(), Gender: f[8], AgeGroup: f[9],
		Place: f[10], Note: strings.Join(f[11:], " ")}
	r.MemberID, r.ClientID, _ = strings.Cut(r.ID, ":")
	r.Day = DateOf(r.OccurredAt)
	if v2 {
		r.CommuneCode, r.TeamID = f[1], f[2]
		if r.CommuneCode == "" {
			r.CommuneCode = CommuneOf(r.MemberID)
		}
		r.TeamID, r.VillageCode = global(r.TeamID, r.CommuneCode), global(r.VillageCode, r.CommuneCode)
		r.Service, r.Outcome = long(Services, r.Service), long(Outcomes, r.Outcome)
		r.AgeGroup, r.Place = long(AgeGroups, r.AgeGroup), long(Places, r.Place)
	}
	return r
}

// local drops the commune prefix of an ID ("19753-T012" → "T012").
func local(id, commune string) string {
	if rest, ok := strings.CutPrefix(id, commune+"-"); ok && commune != "" {
		return rest
	}
	return "=" + id
}

func global(id, commune string) string {
	if rest, ok := strings.CutPrefix(id, "="); ok {
		return rest
	}
	return commune + "-" + id
}

// short writes a catalogue code as its index (one letter), anything else as
// "=" and itself.
func short(codes []string, v string) string {
	for i, c := range codes {
		if c == v && i < 26 {
			return string(rune('a' + i))
		}
	}
	return "=" + v
}

func long(codes []string, v string) string {
	if rest, ok := strings.CutPrefix(v, "="); ok {
		return rest
	}
	if len(v) == 1 && v[0] >= 'a' && int(v[0]-'a') < len(codes) {
		return codes[v[0]-'a']
	}
	return v
}
