package domain

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Integrity flags (issue 12): records that suggest padding ("làm thay, làm
// hộ": logging help that never happened, or doing the citizen's task for
// them) or errors. The detectors (integrity_detect.go) are pure functions of
// one day's records and the context each needs; the integrity job feeds them
// commune by commune, plus one cross-commune pass, and stores the flags.
// A flag is a question for the commune leader, never a verdict: it says
// which records and why, and the leader confirms or dismisses it.

// Flag kinds; each has a name (integrity.kind.<kind>) and a reason
// (integrity.reason.<kind>) in the message catalogue.
const (
	FlagBurst                 = "burst"                   // one member, many records within minutes
	FlagHouseholdManyMembers  = "household_many_members"  // one household, one service, several members of a commune, one day
	FlagHouseholdManyCommunes = "household_many_communes" // one household, one service, several communes, one day
	FlagClockSkew             = "clock_skew"              // device clock far from the server's when sending
	FlagNightBulk             = "night_bulk"              // many records at night
	FlagRepeatedNote          = "repeated_note"           // one member, the same note on many records
	FlagAboveMedian           = "member_above_median"     // a member far above their team's median, day after day
	FlagTrainingDay           = "training_day"            // records during a training the member attended
)

// FlagKinds lists the kinds in display order.
var FlagKinds = []string{FlagBurst, FlagHouseholdManyMembers, FlagHouseholdManyCommunes, FlagClockSkew, FlagNightBulk,
	FlagRepeatedNote, FlagAboveMedian, FlagTrainingDay}

// Flag statuses (API.md v2).
const (
	FlagOpen      = "open"
	FlagConfirmed = "confirmed"
	FlagDismissed = "dismissed"
)

// FlagStatuses lists the statuses.
var FlagStatuses = []string{FlagOpen, FlagConfirmed, FlagDismissed}

// Flag is one suspicious pattern with the records behind it (the shape of
// API.md v2 GET /integrity/flags).
type Flag struct {
	ID          string // see FlagID: the same pattern found again has the same ID
	Kind        string
	CommuneCode string
	MemberID    string // "" when several members are involved (Evidence.Members)
	Day         Date   // the day of the records
	RecordIDs   []string
	Evidence    Evidence
	Status      string
	CreatedAt   time.Time
	Comment     string // the reviewer's comment, without personal data
	ReviewedBy  string
	ReviewedAt  time.Time
}

// Evidence holds the numbers that justify a flag; each kind fills its own.
type Evidence struct {
	Records       int       `json:"records"`                  // records behind the flag
	Threshold     float64   `json:"threshold"`                // the threshold they crossed (records, members, communes, seconds)
	Peak          int       `json:"peak,omitempty"`           // burst: most households helped within one window
	WindowSeconds int64     `json:"window_seconds,omitempty"` // burst: the window
	From          time.Time `json:"from,omitzero"`            // first record (training_day: start of the training hours)
	To            time.Time `json:"to,omitzero"`              // last record (training_day: end of the training hours)
	Service       string    `json:"service,omitempty"`        // household_*: the service
	Members       []string  `json:"members,omitempty"`        // household_*: the members who logged it
	Communes      []string  `json:"communes,omitempty"`       // household_many_communes: the communes
	SkewSeconds   int64     `json:"skew_seconds,omitempty"`   // clock_skew: largest offset, + device behind, - ahead
	Note          string    `json:"note,omitempty"`           // repeated_note: the note
	TeamMedian    float64   `json:"team_median,omitempty"`    // member_above_median: records per active day of the team's other members
	DaysAbove     int       `json:"days_above,omitempty"`     // member_above_median: days above the threshold ...
	Days          int       `json:"days,omitempty"`           // ... among the last Days days
	TrainingID    string    `json:"training_id,omitempty"`    // training_day
	TrainingTitle string    `json:"training_title,omitempty"` // training_day
}

// FlagID is the ID of the flag of kind about subject (a member, a household
// and service, a member and note …) in commune on day: a function of what
// is flagged, never of the records found, so a re-run that finds one more
// record updates the flag instead of adding one. The subject is hashed:
// IDs never show a household hash or a note.
func FlagID(kind, commune string, day Date, subject string) string {
	h := sha256.Sum256([]byte(kind + "|" + commune + "|" + string(day) + "|" + subject))
	return commune + ":" + strings.ReplaceAll(string(day), "-", "") + ":" + kind + ":" + hex.EncodeToString(h[:6])
}

// MergeFlag is what a re-run stores when it finds again a flag that is
// stored: a reviewed flag keeps its review and its records (what the
// leader judged); an open one takes the records and evidence found now.
// The creation time stays.
func MergeFlag(stored, found Flag) Flag {
	if stored.Status != FlagOpen {
		return stored
	}
	found.Status, found.CreatedAt = FlagOpen, stored.CreatedAt
	return found
}

// FlagReview is a leader's decision on a flag (PATCH /integrity/flags/{id}).
type FlagReview struct {
	Status  string `json:"status"`
	Comment string `json:"comment"`
}

// MaxFlagComment is the longest review comment.
const MaxFlagComment = 500

// Review records a leader's decision: confirmed (the records are excluded
// from coverage from the next run) or dismissed, which needs a comment
// saying why. The comment is cleaned of personal data. A flag may be
// reviewed again (the last decision counts).
func (f *Flag) Review(in FlagReview, by string, now time.Time) error {
	var p Problems
	if in.Status != FlagConfirmed && in.Status != FlagDismissed {
		p.Add("status", "one_of", FlagConfirmed+", "+FlagDismissed)
	}
	comment, _ := CleanFreeText(in.Comment)
	switch n := utf8.RuneCountInString(comment); {
	case n > MaxFlagComment:
		p.Add("comment", "too_long", MaxFlagComment)
	case n == 0 && in.Status == FlagDismissed:
		p.Add("comment", "required")
	}
	if err := p.Err(); err != nil {
		return err
	}
	f.Status, f.Comment, f.ReviewedBy, f.ReviewedAt = in.Status, comment, by, now.UTC().Truncate(time.Millisecond)
	return nil
}

// FlagFilter selects flags (GET /integrity/flags); empty fields match all.
type FlagFilter struct {
	CommuneCode string
	Kind        string
	Status      string
	From, To    Date // days, inclusive
	Limit       int
	After       string // the ID of the last flag of the previous page
}

// FlagStore persists flags. SaveFlags applies MergeFlag to flags found
// again, so re-running a day never duplicates or reopens a flag.
type FlagStore interface {
	SaveFlags(ctx context.Context, flags []Flag) error
	Flag(ctx context.Context, id string) (Flag, error) // ErrNotFound
	FindFlags(ctx context.Context, f FlagFilter) ([]Flag, string, error)
	UpdateFlag(ctx context.Context, id string, fn func(*Flag) error) (Flag, error) // ErrNotFound, fn's errors
}

// Translate renders a catalogue message (i18n.Localizer.T has this shape).
type Translate func(id string, args ...any) string

// Reason renders why the flag was raised, in the language of t: one
// sentence with the flag's numbers (integrity.reason.<kind>).
func (f Flag) Reason(t Translate) string {
	e := f.Evidence
	clock := func(x time.Time) string { return x.In(Location).Format("15:04") }
	n := func(x float64) string {
		s := strconv.FormatFloat(x, 'f', 1, 64)
		s = strings.TrimSuffix(s, ".0")
		return strings.Replace(s, ".", t("format.decimal_point"), 1)
	}
	id := "integrity.reason." + f.Kind
	switch f.Kind {
	case FlagBurst:
		return t(id, "Peak", e.Peak, "Minutes", e.WindowSeconds/60, "Records", e.Records, "From", clock(e.From),
			"To", clock(e.To), "Threshold", n(e.Threshold))
	case FlagHouseholdManyMembers:
		return t(id, "Service", t("service."+e.Service), "Members", len(e.Members), "Records", e.Records, "Threshold", n(e.Threshold))
	case FlagHouseholdManyCommunes:
		return t(id, "Service", t("service."+e.Service), "Communes", len(e.Communes), "List", strings.Join(e.Communes, ", "),
			"Records", e.Records, "Threshold", n(e.Threshold))
	case FlagClockSkew:
		skew := time.Duration(e.SkewSeconds) * time.Second
		dir := "integrity.skew.behind"
		if skew < 0 {
			dir, skew = "integrity.skew.ahead", -skew
		}
		return t(id, "Skew", t(dir, "H", int(skew.Hours()), "M", int(skew.Minutes())%60), "Records", e.Records,
			"Threshold", n(e.Threshold/60))
	case FlagNightBulk:
		return t(id, "Records", e.Records, "From", clock(e.From), "To", clock(e.To), "Threshold", n(e.Threshold))
	case FlagRepeatedNote:
		return t(id, "Note", e.Note, "Records", e.Records, "Threshold", n(e.Threshold))
	case FlagAboveMedian:
		return t(id, "Records", e.Records, "Median", n(e.TeamMedian), "Threshold", n(e.Threshold), "DaysAbove", e.DaysAbove,
			"Days", e.Days)
	case FlagTrainingDay:
		return t(id, "Records", e.Records, "Training", e.TrainingTitle, "From", clock(e.From), "To", clock(e.To))
	}
	return t(id)
}

// String is a short description for logs.
func (f Flag) String() string {
	return fmt.Sprintf("%s %s %s %d records", f.Kind, f.CommuneCode, f.Day, len(f.RecordIDs))
}
