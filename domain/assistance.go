package domain

import (
	"context"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"
)

// Services are the catalogue codes of the help a team gives (API.md, DOMAIN.md);
// their names live in the message catalogue (service.<code>).
var Services = []string{"vneid_install", "vneid_activation", "public_service_online", "cashless_payment", "hue_s",
	"digital_signature", "digital_address", "ecommerce", "digital_skills", "health_insurance_app", "other"}

// Outcomes, citizens' age groups and places of an assistance.
var (
	Outcomes  = []string{"done", "partial", "referred"}
	AgeGroups = []string{"under_18", "18_35", "36_60", "over_60"}
	Places    = []string{"door", "desk"}
)

// Limits of the assistance API.
const (
	MaxFuture   = 10 * time.Minute
	MaxPast     = 90 * 24 * time.Hour
	MaxBatch    = 500
	MinRefLen   = 6
	MaxRefLen   = 20
	MaxClientID = 64
)

// Record is one assistance given by a member to a household. The household is
// kept only as a keyed hash of its phone or household-book number.
type Record struct {
	ID          string // "<member>:<client_id>"
	ClientID    string
	MemberID    string
	TeamID      string
	CommuneCode string
	VillageCode string
	Service     string
	Household   string // HMAC of the normalised reference, never the reference
	OccurredAt  time.Time
	Day         Date // OccurredAt's day in Huế
	RecordedAt  time.Time
	Outcome     string
	Gender      string
	AgeGroup    string
	Place       string
	Note        string
	By          string // the login that sent it
	Delta       string // the rollup delta that carries it (see Delta)
	DeviceSkew  int64  // seconds the device clock was behind (+) or ahead (-) of the server, if sent
	Consent     string // ConsentGiven, ConsentRefused or ConsentUnrecorded (the citizen's choice on the household reference)
	// NoteRedaction is what was removed from the note before storage (not
	// stored: the answer to the phone shows it to the member).
	NoteRedaction Redaction
	// SentOccurredAt is occurred_at as the device sent it, when its clock was
	// off by more than SkewTolerance and OccurredAt is the corrected time
	// (zero otherwise).
	SentOccurredAt time.Time
}

// SkewTolerance is the device clock offset below which a record's time is
// kept as sent. The offset is measured when a phone sends (server time minus
// the device time it sends along), so it includes the time the request took
// on a weak network, tens of seconds at worst; below two minutes a
// correction would move times by noise, never by a day.
const SkewTolerance = 2 * time.Minute

// DeviceSkew is the offset of a device's clock, server time minus device
// time at sending (zero when the device did not say).
func DeviceSkew(now, deviceNow time.Time) time.Duration {
	if deviceNow.IsZero() {
		return 0
	}
	return now.Sub(deviceNow).Round(time.Second)
}

// The citizen's choice on keeping the household reference (API.md v2).
//
// With "refused" the reference is discarded before hashing: the record counts
// as assistance, not as a household reached. A record sent without the field
// (v1 clients, which exist and keep working) is stored as "unrecorded" and
// treated as v1 did: its reference is required and hashed. The phone app
// always sends an explicit choice, with nothing preselected, so "unrecorded"
// marks the records of other clients and of the time before consent was
// asked.
const (
	ConsentGiven      = "given"
	ConsentRefused    = "refused"
	ConsentUnrecorded = "unrecorded"
)

// Consents are the values a client may send.
var Consents = []string{ConsentGiven, ConsentRefused}

// NewRecord is a record as sent by a phone.
type NewRecord struct {
	ClientID     string `json:"client_id"`
	Service      string `json:"service"`
	HouseholdRef string `json:"household_ref"`
	VillageCode  string `json:"village_code"`
	OccurredAt   string `json:"occurred_at"`
	Outcome      string `json:"outcome"`
	Gender       string `json:"citizen_gender"`
	AgeGroup     string `json:"citizen_age_group"`
	Place        string `json:"place"`
	Note         string `json:"note"`
	Consent      string `json:"consent"` // given, refused; absent: unrecorded (v1)
}

var uuidRE = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)

// RecordFor validates in for member m (whose commune registry is reg) and
// returns the record to store, without its household hash, and the
// normalised household reference to hash: "" when the citizen refused
// consent (then nothing is hashed). The note is cleaned of personal data
// (CleanFreeText) and the record says what was removed. now is the server
// time; skew the device's clock offset (DeviceSkew): beyond SkewTolerance,
// occurred_at is corrected by it before it is checked, and the time as sent
// is kept beside it.
func RecordFor(in NewRecord, m Member, reg *CommuneRegistry, by string, now time.Time, skew time.Duration) (Record, string, error) {
	var p Problems
	if !uuidRE.MatchString(in.ClientID) {
		p.Add("client_id", "uuid")
	}
	if !contains(Services, in.Service) {
		p.Add("service", "one_of", strings.Join(Services, ", "))
	}
	consent := in.Consent
	if consent == "" {
		consent = ConsentUnrecorded
	} else if !contains(Consents, consent) {
		p.Add("consent", "one_of", strings.Join(Consents, ", "))
	}
	ref, ok := NormalizeHouseholdRef(in.HouseholdRef)
	switch {
	case consent == ConsentRefused:
		ref = "" // discarded before hashing, whatever was typed
	case strings.TrimSpace(in.HouseholdRef) == "":
		p.Add("household_ref", "required")
	case !ok:
		p.Add("household_ref", "household_ref")
	}
	if v, ok := reg.Village(in.VillageCode); !ok || !v.Active {
		if in.VillageCode == "" {
			p.Add("village_code", "required")
		} else {
			p.Add("village_code", "unknown_village")
		}
	}
	at, err := time.Parse(time.RFC3339, in.OccurredAt)
	var sent time.Time
	if err == nil && (skew > SkewTolerance || skew < -SkewTolerance) {
		sent, at = at.UTC().Truncate(time.Millisecond), at.Add(skew)
	}
	switch {
	case in.OccurredAt == "":
		p.Add("occurred_at", "required")
	case err != nil:
		p.Add("occurred_at", "datetime")
	case at.After(now.Add(MaxFuture)):
		p.Add("occurred_at", "future")
	case at.Before(now.Add(-MaxPast)):
		p.Add("occurred_at", "too_old", 90)
	}
	if !contains(Outcomes, in.Outcome) {
		p.Add("outcome", "one_of", strings.Join(Outcomes, ", "))
	}
	if in.Gender != "" && !contains(Genders, in.Gender) {
		p.Add("citizen_gender", "one_of", strings.Join(Genders, ", "))
	}
	if in.AgeGroup != "" && !contains(AgeGroups, in.AgeGroup) {
		p.Add("citizen_age_group", "one_of", strings.Join(AgeGroups, ", "))
	}
	if in.Place != "" && !contains(Places, in.Place) {
		p.Add("place", "one_of", strings.Join(Places, ", "))
	}
	// The record separator of the lists (ListSep) is no note's business.
	note, redacted := CleanFreeText(strings.ReplaceAll(in.Note, ListSep, " "))
	if utf8.RuneCountInString(note) > MaxNoteLen {
		p.Add("note", "too_long", MaxNoteLen)
	}
	if err := p.Err(); err != nil {
		return Record{}, "", err
	}
	at = at.UTC().Truncate(time.Millisecond)
	return Record{
		ID: m.ID + ":" + strings.ToLower(in.ClientID), ClientID: strings.ToLower(in.ClientID), MemberID: m.ID,
		TeamID: m.TeamID, CommuneCode: m.CommuneCode, VillageCode: in.VillageCode, Service: in.Service,
		OccurredAt: at, Day: DateOf(at), RecordedAt: now.UTC().Truncate(time.Millisecond), Outcome: in.Outcome,
		Gender: in.Gender, AgeGroup: in.AgeGroup, Place: in.Place, Note: note, By: by, Consent: consent,
		NoteRedaction: redacted, DeviceSkew: int64(skew / time.Second), SentOccurredAt: sent,
	}, ref, nil
}

// NormalizeHouseholdRef turns a phone number or household-book number into one
// canonical form before it is hashed, so that "+84 905 123 456" and
// "0905123456" count as one household. Phone numbers become 0XXXXXXXXX; other
// references keep their letters (upper case) and digits only.
func NormalizeHouseholdRef(s string) (string, bool) {
	if p, ok := NormalizePhone(s); ok {
		return p, true
	}
	var b strings.Builder
	for _, r := range strings.ToUpper(strings.TrimSpace(s)) {
		switch {
		case r >= '0' && r <= '9', r >= 'A' && r <= 'Z':
			b.WriteRune(r)
		case r == ' ' || r == '.' || r == '-' || r == '/' || r == '+':
		default:
			return "", false
		}
	}
	out := b.String()
	if len(out) < MinRefLen || len(out) > MaxRefLen {
		return "", false
	}
	// What the separators hid may be a phone number ("\v84…", "84/…"): it
	// counts as that number, so that normalising twice changes nothing.
	if p, ok := NormalizePhone(out); ok {
		return p, true
	}
	return out, true
}

// RecordFilter selects records.
type RecordFilter struct {
	CommuneCode string
	TeamID      string
	MemberID    string
	From, To    time.Time // occurred_at in [From, To)
	Limit       int
	// After is the sort key of the last record of the previous page.
	After string
}

// SortKey orders records newest first: occurred_at, then ID.
func (r Record) SortKey() string {
	return r.OccurredAt.UTC().Format("20060102T150405.000") + "|" + r.ID
}

// InsertResult is the outcome of storing one record of a batch.
type InsertResult struct {
	Created bool
	Err     error
}

// AssistanceStore persists records. The unique _id (member:client_id) makes a
// record idempotent in the database itself.
type AssistanceStore interface {
	// InsertRecords stores records, each judged on its own: Created false and no
	// error means it was there already.
	InsertRecords(ctx context.Context, recs []Record) ([]InsertResult, error)
	// FindRecords returns records matching f, newest first, with the key of the
	// next page ("" on the last page).
	FindRecords(ctx context.Context, f RecordFilter) ([]Record, string, error)
}

// RecordStream reads records without the limit of a page: exports and the
// integrity checks.
type RecordStream interface {
	// EachRecord calls fn with the records matching f (its Limit and After
	// ignored), newest first, until fn returns false or an error.
	EachRecord(ctx context.Context, f RecordFilter, fn func(Record) (bool, error)) error
	// DayRecords calls fn with every record of commune that occurred on day,
	// with every stored field (household hash, device clock, note, recorded
	// time, sender), newest first.
	DayRecords(ctx context.Context, commune string, day Date, fn func(Record) error) error
}

// RecordCare changes what is counted of records that are stored: a record
// excluded from the figures (an integrity flag confirmed), a household
// forgotten (a citizen's deletion or objection request), household hashes
// past their retention. Each takes effect in the rollups, lists and
// households reached at once; the coverage figures change at the next run.
type RecordCare interface {
	// ExcludeRecord takes the record out of every figure and list (ErrNotFound
	// if no such record is counted). Excluded records stay excluded in a
	// full rebuild.
	ExcludeRecord(ctx context.Context, id, reason string) error
	// HouseholdRecords returns the records that carry the household hash (an
	// access request).
	HouseholdRecords(ctx context.Context, hash string) ([]Record, error)
	// ForgetHousehold removes the hash from every record, list and set of
	// households reached: the household is no longer counted. It returns how
	// many records carried it.
	ForgetHousehold(ctx context.Context, hash string) (int, error)
	// DropHouseholdsBefore removes the household hash of every record that
	// occurred before cutoff, and the households first reached before it from
	// the sets (they stay counted as reached, anonymously). It returns how
	// many records it changed.
	DropHouseholdsBefore(ctx context.Context, cutoff time.Time) (int, error)
}
