package domain

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"math/rand/v2"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Verification (issue 12): a leader asks a member about one record — did it
// happen as logged? — and the member answers from their phone; or the
// commune calls the citizen about a record drawn in the weekly sample and
// records what they heard. The answers give each commune a verified share
// and outcome rates, a check on figures that the integrity flags cannot give.

// Verification statuses: requested until answered, then the answer.
const (
	VerifyRequested    = "requested"
	VerifyConfirmed    = "confirmed"     // it happened as logged
	VerifyCorrected    = "corrected"     // it happened, with other details (Corrected)
	VerifyNotConfirmed = "not_confirmed" // it did not happen as logged
	VerifyUnreachable  = "unreachable"   // nobody could be reached to say
)

// VerifyAnswers are the statuses an answer may give, in display order.
var VerifyAnswers = []string{VerifyConfirmed, VerifyCorrected, VerifyNotConfirmed, VerifyUnreachable}

// Where a verification comes from.
const (
	VerifyFromRequest = "request" // a leader asked (POST /assistance/{id}/verification)
	VerifyFromFlag    = "flag"    // a leader asked from the review queue of an integrity flag
	VerifyFromSample  = "sample"  // the weekly random sample, checked by the commune by phone
)

// Limits of the free texts.
const (
	MaxVerifyReason = 300
	MaxVerifyAnswer = 500
)

// Verification is one question about one record (API.md v2). It copies
// what the member needs to recognise the record (service, time, village),
// so that the question can be shown without reading the record again.
type Verification struct {
	ID          string
	RecordID    string
	MemberID    string
	TeamID      string
	CommuneCode string
	Service     string
	VillageCode string
	OccurredAt  time.Time
	Source      string
	FlagID      string // VerifyFromFlag: the flag it was asked from
	Status      string
	Reason      string
	Answer      string
	Corrected   Correction // VerifyCorrected: the record as it should be
	RequestedBy string
	CreatedAt   time.Time
	AnsweredBy  string
	AnsweredAt  time.Time
	Version     int64
}

// Correction is what a "corrected" answer says the record should have been;
// empty fields were right.
type Correction struct {
	Service     string    `json:"service,omitempty"`
	VillageCode string    `json:"village_code,omitempty"`
	Outcome     string    `json:"outcome,omitempty"`
	OccurredAt  time.Time `json:"occurred_at,omitzero"`
}

// Empty reports whether c corrects nothing.
func (c Correction) Empty() bool { return c == Correction{} }

// VerificationAnswer is an answer (PATCH /verifications/{id}).
type VerificationAnswer struct {
	Status    string     `json:"status"`
	Answer    string     `json:"answer"`
	Corrected Correction `json:"corrected"`
}

// Open reports whether v still waits for its answer.
func (v Verification) Open() bool { return v.Status == VerifyRequested }

// NewVerification asks about record r. A request needs a reason (cleaned of
// personal data); a sample's reason may be empty (the page says why).
func NewVerification(r Record, source, reason, by string, now time.Time) (Verification, error) {
	reason, _ = CleanFreeText(reason)
	var p Problems
	switch n := utf8.RuneCountInString(reason); {
	case n == 0 && source != VerifyFromSample:
		p.Add("reason", "required")
	case n > MaxVerifyReason:
		p.Add("reason", "too_long", MaxVerifyReason)
	}
	if err := p.Err(); err != nil {
		return Verification{}, err
	}
	return Verification{RecordID: r.ID, MemberID: r.MemberID, TeamID: r.TeamID, CommuneCode: r.CommuneCode,
		Service: r.Service, VillageCode: r.VillageCode, OccurredAt: r.OccurredAt.UTC(), Source: source, Status: VerifyRequested,
		Reason: reason, RequestedBy: by, CreatedAt: now.UTC().Truncate(time.Millisecond)}, nil
}

// VerificationID is the ID of the n-th verification (from 1) of record id:
// two leaders asking at once compute the same ID, and the store lets one
// of them in.
func VerificationID(recordID string, n int) string {
	h := sha256.Sum256([]byte(recordID))
	return "v" + hex.EncodeToString(h[:8]) + "-" + strconv.Itoa(n)
}

// SampleID is the ID of the sample verification of record id in week (the
// Monday starting it): drawing a week's sample again adds nothing.
func SampleID(week Date, recordID string) string {
	h := sha256.Sum256([]byte(string(week) + "|" + recordID))
	return "s" + strings.ReplaceAll(string(week), "-", "") + "-" + hex.EncodeToString(h[:8])
}

// Settle records an answer. A verification may be answered again (a
// leader's call after the member's answer): the last answer counts.
// villages tells whether a village code belongs to the commune.
func (v *Verification) Settle(in VerificationAnswer, by string, now time.Time, village func(string) bool) error {
	var p Problems
	if !slices.Contains(VerifyAnswers, in.Status) {
		p.Add("status", "one_of", strings.Join(VerifyAnswers, ", "))
	}
	answer, _ := CleanFreeText(in.Answer)
	if utf8.RuneCountInString(answer) > MaxVerifyAnswer {
		p.Add("answer", "too_long", MaxVerifyAnswer)
	}
	c := in.Corrected
	switch {
	case in.Status == VerifyCorrected && c.Empty():
		p.Add("corrected", "required")
	case in.Status != VerifyCorrected && !c.Empty():
		p.Add("corrected", "only_when_corrected")
	}
	if c.Service != "" && !slices.Contains(Services, c.Service) {
		p.Add("corrected.service", "one_of", strings.Join(Services, ", "))
	}
	if c.Outcome != "" && !slices.Contains(Outcomes, c.Outcome) {
		p.Add("corrected.outcome", "one_of", strings.Join(Outcomes, ", "))
	}
	if c.VillageCode != "" && (village == nil || !village(c.VillageCode)) {
		p.Add("corrected.village_code", "unknown_village")
	}
	switch {
	case c.OccurredAt.IsZero():
	case c.OccurredAt.After(now.Add(MaxFuture)):
		p.Add("corrected.occurred_at", "future")
	case c.OccurredAt.Before(now.Add(-MaxPast)):
		p.Add("corrected.occurred_at", "too_old", 90)
	}
	if err := p.Err(); err != nil {
		return err
	}
	if !c.OccurredAt.IsZero() {
		c.OccurredAt = c.OccurredAt.UTC().Truncate(time.Millisecond)
	}
	v.Status, v.Answer, v.Corrected = in.Status, answer, c
	v.AnsweredBy, v.AnsweredAt = by, now.UTC().Truncate(time.Millisecond)
	return nil
}

// VerificationFilter selects verifications; empty fields match all.
type VerificationFilter struct {
	CommuneCode string
	TeamID      string
	MemberID    string
	Status      string
	Source      string
	Limit       int // 0: all
}

// Match reports whether v passes f.
func (f VerificationFilter) Match(v Verification) bool {
	return (f.CommuneCode == "" || v.CommuneCode == f.CommuneCode) && (f.TeamID == "" || v.TeamID == f.TeamID) &&
		(f.MemberID == "" || v.MemberID == f.MemberID) && (f.Status == "" || v.Status == f.Status) &&
		(f.Source == "" || v.Source == f.Source)
}

// VerificationStore persists verifications.
type VerificationStore interface {
	// CreateVerification stores v (ErrConflict if its ID is taken).
	CreateVerification(ctx context.Context, v Verification) error
	Verification(ctx context.Context, id string) (Verification, error) // ErrNotFound
	// FindVerifications lists the matches, newest first.
	FindVerifications(ctx context.Context, f VerificationFilter) ([]Verification, error)
	// UpdateVerification applies fn to a copy and saves it atomically.
	UpdateVerification(ctx context.Context, id string, fn func(*Verification) error) (Verification, error)
}

// VerifyStats are a commune's verification figures for the dashboards.
type VerifyStats struct {
	Requested int            // every verification asked
	Open      int            // still waiting
	Answered  int            // answered (any answer)
	ByStatus  map[string]int // answered, per answer
}

// Rate is the share of answered verifications with answer status (0 when
// none was answered).
func (s VerifyStats) Rate(status string) float64 {
	if s.Answered == 0 {
		return 0
	}
	return float64(s.ByStatus[status]) / float64(s.Answered)
}

// AnsweredShare is the share of verifications asked that were answered.
func (s VerifyStats) AnsweredShare() float64 {
	if s.Requested == 0 {
		return 0
	}
	return float64(s.Answered) / float64(s.Requested)
}

// CountVerifications sums vs per commune.
func CountVerifications(vs []Verification) map[string]*VerifyStats {
	out := map[string]*VerifyStats{}
	for _, v := range vs {
		s := out[v.CommuneCode]
		if s == nil {
			s = &VerifyStats{ByStatus: map[string]int{}}
			out[v.CommuneCode] = s
		}
		s.Requested++
		if v.Open() {
			s.Open++
			continue
		}
		s.Answered++
		s.ByStatus[v.Status]++
	}
	return out
}

// SampleWeek is the Monday of d's week (weeks start on Monday in Vietnam).
func SampleWeek(d Date) Date {
	wd := int(d.Time().Weekday()+6) % 7 // Monday 0 … Sunday 6
	return d.AddDays(-wd)
}

// DrawSample picks up to n records of recs at random, reproducibly for one
// commune and week (seeded by them), preferring one record per member so
// that the sample covers the team rather than its busiest member.
func DrawSample(recs []Record, n int, commune string, week Date) []Record {
	if n <= 0 || len(recs) == 0 {
		return nil
	}
	sorted := slices.Clone(recs)
	sort.Slice(sorted, func(i, j int) bool { return sorted[i].ID < sorted[j].ID })
	h := sha256.Sum256([]byte(commune + "|" + string(week)))
	var seed [32]byte
	copy(seed[:], h[:])
	rng := rand.New(rand.NewChaCha8(seed))
	rng.Shuffle(len(sorted), func(i, j int) { sorted[i], sorted[j] = sorted[j], sorted[i] })
	var out, rest []Record
	seen := map[string]bool{}
	for _, r := range sorted {
		if !seen[r.MemberID] && len(out) < n {
			seen[r.MemberID] = true
			out = append(out, r)
		} else {
			rest = append(rest, r)
		}
	}
	for _, r := range rest {
		if len(out) >= n {
			break
		}
		out = append(out, r)
	}
	return out
}
