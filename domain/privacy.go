package domain

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"
)

// Data-subject requests (Law 91/2025/QH15, Decree 356/2025/NĐ-CP): a citizen
// asks what cdt holds about their household (access), asks for it to be
// deleted (delete), or objects to its processing (object). A commune leader
// registers the request with the household reference the citizen gives; cdt
// keeps only its keyed hash, made with the same normalisation and key as the
// records' (ingest.Service.Hash), so it finds exactly the records of that
// household and the reference itself is never stored.
//
// Retention: the citizen's contact is needed only to deliver the answer, so
// it is erased when the request is closed. Like every text typed about a
// citizen it is cleaned of phone numbers, ID numbers and e-mail addresses
// (CleanFreeText): the paper request the citizen signed keeps them, at the
// commune office. The household hash is erased too,
// except for an objection that was granted: cdt must keep refusing that
// household's future records, which needs the hash. What stays is what an
// audit needs: kind, commune, dates, status, who registered and who closed
// it, and how many records it touched.

// Request kinds.
const (
	PrivacyAccess = "access"
	PrivacyDelete = "delete"
	PrivacyObject = "object"
)

// Request statuses: open until fulfilled (done) or refused with a reason
// (for instance, no record holds that household, or the reference belongs
// to someone else).
const (
	PrivacyOpen    = "open"
	PrivacyDone    = "done"
	PrivacyRefused = "refused"
)

// PrivacyKinds and PrivacyStatuses list the values, in display order.
var (
	PrivacyKinds    = []string{PrivacyAccess, PrivacyDelete, PrivacyObject}
	PrivacyStatuses = []string{PrivacyOpen, PrivacyDone, PrivacyRefused}
)

// Limits of a request.
const (
	MaxContactLen     = 200 // the citizen's contact: a phone number or an address, not a story
	MaxPrivacyNoteLen = 500
	// PrivacyMaxAge is how far back received_on may be: a paper request
	// registered late is still registered (and shows overdue).
	PrivacyMaxAge = 365
)

// PrivacyRequest is one registered request.
type PrivacyRequest struct {
	ID          string // "<commune>-PR-<8 hex>"
	Kind        string
	CommuneCode string
	Household   string // keyed hash of the normalised reference; "" once closed, unless an objection was granted
	ReceivedOn  Date
	DueOn       Date   // two working days after ReceivedOn (DueOn)
	Contact     string // how to answer the citizen (at the office, by post…), without phone numbers, ID numbers or e-mails (CleanFreeText); "" once closed
	Note        string // the leader's note, without personal data (CleanFreeText)
	Status      string
	Reason      string // why it was refused
	Affected    int    // records listed (access) or changed (delete, object) when fulfilled
	CreatedAt   time.Time
	CreatedBy   string // login that registered it
	ClosedAt    time.Time
	ClosedBy    string // login that fulfilled or refused it
	Version     int64
}

// NewPrivacyRequest is the input that registers a request (API.md v2).
type NewPrivacyRequest struct {
	Kind         string `json:"kind"`
	HouseholdRef string `json:"household_ref"`
	CommuneCode  string `json:"commune_code"`
	ReceivedOn   string `json:"received_on"`
	Contact      string `json:"contact"`
	Note         string `json:"note"`
}

// RegisterPrivacyRequest validates in and returns the request to store,
// open, with its due date. hash is the household hash of the records
// (ingest.Service.Hash); the raw reference goes no further. by is the login
// registering it; the caller checks it may act for in.CommuneCode.
func RegisterPrivacyRequest(in NewPrivacyRequest, hash func(normalized string) string, by string, now time.Time) (PrivacyRequest, error) {
	var p Problems
	if !contains(PrivacyKinds, in.Kind) {
		p.Add("kind", "one_of", strings.Join(PrivacyKinds, ", "))
	}
	ref, ok := NormalizeHouseholdRef(in.HouseholdRef)
	switch {
	case strings.TrimSpace(in.HouseholdRef) == "":
		p.Add("household_ref", "required")
	case !ok:
		p.Add("household_ref", "household_ref")
	}
	commune := strings.TrimSpace(in.CommuneCode)
	if commune == "" {
		p.Add("commune_code", "required")
	}
	today := DateOf(now)
	received, ok := ParseDate(in.ReceivedOn)
	switch {
	case in.ReceivedOn == "":
		p.Add("received_on", "required")
	case !ok:
		p.Add("received_on", "date")
	case received > today:
		p.Add("received_on", "future_date")
	case received < today.AddDays(-PrivacyMaxAge):
		p.Add("received_on", "too_old", PrivacyMaxAge)
	}
	contact, _ := CleanFreeText(in.Contact)
	if utf8.RuneCountInString(contact) > MaxContactLen {
		p.Add("contact", "too_long", MaxContactLen)
	}
	note, _ := CleanFreeText(in.Note)
	if utf8.RuneCountInString(note) > MaxPrivacyNoteLen {
		p.Add("note", "too_long", MaxPrivacyNoteLen)
	}
	if err := p.Err(); err != nil {
		return PrivacyRequest{}, err
	}
	return PrivacyRequest{ID: newPrivacyID(commune), Kind: in.Kind, CommuneCode: commune, Household: hash(ref),
		ReceivedOn: received, DueOn: DueOn(received), Contact: contact, Note: note, Status: PrivacyOpen,
		CreatedAt: now.UTC().Truncate(time.Millisecond), CreatedBy: by}, nil
}

func newPrivacyID(commune string) string {
	var b [4]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails (Go 1.24)
	return commune + "-PR-" + hex.EncodeToString(b[:])
}

// Fulfil closes an open request as done; affected counts the records listed
// or changed. It erases what retention no longer allows (see above).
func (r *PrivacyRequest) Fulfil(affected int, by string, now time.Time) error {
	if err := r.closable(); err != nil {
		return err
	}
	r.Status, r.Affected = PrivacyDone, affected
	r.close(by, now)
	if r.Kind != PrivacyObject {
		r.Household = ""
	}
	return nil
}

// Refuse closes an open request with a reason (required, cleaned of personal
// data).
func (r *PrivacyRequest) Refuse(reason, by string, now time.Time) error {
	if err := r.closable(); err != nil {
		return err
	}
	reason, _ = CleanFreeText(reason)
	switch n := utf8.RuneCountInString(reason); {
	case n == 0:
		return Invalid("reason", "required")
	case n > MaxPrivacyNoteLen:
		return Invalid("reason", "too_long", MaxPrivacyNoteLen)
	}
	r.Status, r.Reason = PrivacyRefused, reason
	r.close(by, now)
	r.Household = ""
	return nil
}

func (r *PrivacyRequest) closable() error {
	if r.Status != PrivacyOpen {
		return fmt.Errorf("privacy request %s is %s: %w", r.ID, r.Status, ErrConflict)
	}
	return nil
}

func (r *PrivacyRequest) close(by string, now time.Time) {
	r.ClosedAt, r.ClosedBy = now.UTC().Truncate(time.Millisecond), by
	r.Contact = ""
}

// Overdue reports whether the request is still open after its due date.
func (r PrivacyRequest) Overdue(now time.Time) bool {
	return r.Status == PrivacyOpen && Overdue(r.DueOn, now)
}

// Objects reports whether the request makes cdt refuse the household's
// future records: an objection, from the moment it is registered until it
// is refused.
func (r PrivacyRequest) Objects() bool {
	return r.Kind == PrivacyObject && r.Status != PrivacyRefused && r.Household != ""
}

// PrivacyFilter selects requests; empty fields match all.
type PrivacyFilter struct {
	Status      string
	CommuneCode string
}

// PrivacyStore persists privacy requests (a small collection: a few per
// commune and year).
type PrivacyStore interface {
	// CreatePrivacyRequest stores a new request. ErrConflict if its ID exists.
	CreatePrivacyRequest(ctx context.Context, r PrivacyRequest) error
	// PrivacyRequest returns request id. ErrNotFound.
	PrivacyRequest(ctx context.Context, id string) (PrivacyRequest, error)
	// UpdatePrivacyRequest applies fn to a copy of request id and saves it,
	// so that two leaders closing it at once cannot both win (the second
	// sees it closed: fn's ErrConflict). ErrNotFound, ErrStale, fn's errors.
	UpdatePrivacyRequest(ctx context.Context, id string, fn func(*PrivacyRequest) error) (PrivacyRequest, error)
	// FindPrivacyRequests lists the requests matching f, most recently
	// received first.
	FindPrivacyRequests(ctx context.Context, f PrivacyFilter) ([]PrivacyRequest, error)
	// ObjectedHouseholds returns the hashes of every household whose
	// objection stands (PrivacyRequest.Objects), across communes.
	ObjectedHouseholds(ctx context.Context) (map[string]bool, error)
	// DeletePrivacyRequest removes request id (retention clean-up only: a
	// request registered by mistake is refused with a reason). ErrNotFound.
	DeletePrivacyRequest(ctx context.Context, id string) error
}
