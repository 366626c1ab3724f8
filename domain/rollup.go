package domain

import (
	"context"
	"sort"
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
	Days map[Date]int
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
func (r *Rollup) Apply(d Delta) bool {
	if r.Applied(d) {
		return false
	}
	for _, rec := range d.Records {
		if rec.CommuneCode == r.Commune {
			r.Count(rec)
		}
	}
	r.Seen[d.Process] = d.Seq
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
		a = &Activity{Days: map[Date]int{}}
		m[id] = a
	}
	a.Days[day]++
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
			for d := range a.Days {
				if d < act {
					delete(a.Days, d)
				}
			}
		}
	}
}

// CountIn returns the records of id (member or team map) on days [from, to].
func (a *Activity) CountIn(from, to Date) int {
	if a == nil {
		return 0
	}
	n := 0
	for d, c := range a.Days {
		if d >= from && d <= to {
			n += c
		}
	}
	return n
}

// HouseholdSet is the set of households a commune has reached, with the first
// day and village each was reached.
type HouseholdSet struct {
	Commune string
	Version int64
	Seen    map[string]int64
	First   map[string]FirstContact // household hash → first contact
}

// FirstContact is when and where a household was first assisted.
type FirstContact struct {
	Day     Date
	Village string
}

// NewHouseholdSet returns an empty set of commune.
func NewHouseholdSet(commune string) *HouseholdSet {
	return &HouseholdSet{Commune: commune, Seen: map[string]int64{}, First: map[string]FirstContact{}}
}

// Apply adds the households of d (false if d was applied before).
func (h *HouseholdSet) Apply(d Delta) bool {
	if d.Seq <= h.Seen[d.Process] {
		return false
	}
	for _, rec := range d.Records {
		if rec.CommuneCode == h.Commune {
			h.Add(rec)
		}
	}
	h.Seen[d.Process] = d.Seq
	return true
}

// IsHouseholdHash reports whether s has the form of a household hash: 128
// bits in base64url, 22 characters. Anything else (a record written around
// the API) is left out of the household counts rather than stop them.
func IsHouseholdHash(s string) bool {
	if len(s) != 22 {
		return false
	}
	for _, c := range s {
		if !(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// Add records a contact; an earlier day replaces a later first contact.
func (h *HouseholdSet) Add(rec Record) {
	if !IsHouseholdHash(rec.Household) {
		return
	}
	if f, ok := h.First[rec.Household]; !ok || rec.Day < f.Day {
		h.First[rec.Household] = FirstContact{Day: rec.Day, Village: rec.VillageCode}
	}
}

// Reached counts households first reached on or before day.
func (h *HouseholdSet) Reached(day Date) int {
	n := 0
	for _, f := range h.First {
		if f.Day <= day {
			n++
		}
	}
	return n
}

// ReachedByVillage counts, per village, households first reached there on or before day.
func (h *HouseholdSet) ReachedByVillage(day Date) map[string]int {
	out := map[string]int{}
	for _, f := range h.First {
		if f.Day <= day {
			out[f.Village]++
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
	// InsertRecents writes many lists that do not exist yet (after ClearState).
	InsertRecents(ctx context.Context, rs []*Recent) error
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
