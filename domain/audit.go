package domain

import (
	"context"
	"fmt"
	"reflect"
	"strings"
	"time"
	"unicode"
)

// Audit actions (API.md v2, GET /audit). The list may grow; a new action is
// a constant here and a label audit.action.<name> in the message catalogue.
const (
	AuditLogin          = "login"           // a sign-in (API or page)
	AuditLoginFailed    = "login_failed"    // a refused sign-in; Target: the username tried
	AuditLoginThrottled = "login_throttled" // sign-ins on a username held back (back-off begins)
	AuditLoginUnlocked  = "login_unlocked"  // a leader lifted the back-off of a login
	AuditRegistryChange = "registry_change" // a village, team, member or login created or changed
	AuditRecordsViewed  = "records_viewed"  // a record-level list read
	AuditExport         = "export"          // a file exported
	AuditPrivacyRequest = "privacy_request" // a citizen's data request received or fulfilled
	AuditFlagReviewed   = "flag_reviewed"   // an integrity flag confirmed or dismissed
)

// AuditActions lists the actions, for the filters of the audit page.
var AuditActions = []string{AuditLogin, AuditLoginFailed, AuditLoginThrottled, AuditLoginUnlocked, AuditRegistryChange,
	AuditRecordsViewed, AuditExport, AuditPrivacyRequest, AuditFlagReviewed}

// AuditEvent is one line of the audit trail: who did what to what, when, in
// which commune. The trail is append-only: nothing changes or deletes an
// event.
//
// To record one, call AuditLog.Record with the request's context and at
// least Action and Target; Record fills in the time and, from the caller in
// the context (domain.CallerFrom), the actor, their role and their commune
// when the event leaves them empty. For example, a review of an integrity
// flag:
//
//	d.Audit.Record(ctx, domain.AuditEvent{Action: domain.AuditFlagReviewed, Target: flag.ID,
//		CommuneCode: flag.CommuneCode, Details: map[string]string{"status": "confirmed", "comment": c}})
//
// and a citizen's data request:
//
//	d.Audit.Record(ctx, domain.AuditEvent{Action: domain.AuditPrivacyRequest, Target: req.ID,
//		CommuneCode: req.CommuneCode, Details: map[string]string{"kind": req.Kind, "status": "fulfilled"}})
//
// CommuneCode decides who sees the event: province admins see every event,
// a commune leader those of their commune. Details never hold a citizen's
// personal data (no household reference, no contact).
type AuditEvent struct {
	ID          string // set by Record: time-ordered, unique across servers
	At          time.Time
	Actor       string // the username; "" for no one signed in (a failed sign-in)
	Role        Role
	Action      string
	Target      string // what was touched: a username, an ID, a route, a file
	CommuneCode string // the commune concerned; "" for the province
	Details     map[string]string
	// Changes are the fields a registry change changed, before → after.
	Changes []AuditChange
}

// AuditChange is one field changed by a registry change; Before is empty for
// something created, After for something removed.
type AuditChange struct {
	Field  string `json:"field"`
	Before string `json:"before"`
	After  string `json:"after"`
}

// AuditLog records audit events. Record never blocks on the database and
// never fails the request: events are buffered and written about every
// second, and on a clean stop (a crash loses at most that second).
type AuditLog interface {
	Record(ctx context.Context, e AuditEvent)
}

// AuditFilter selects audit events, newest first.
type AuditFilter struct {
	CommuneCode string // "" for every commune (province admins)
	Actor       string
	Action      string
	From, To    time.Time // At in [From, To); zero: unbounded
	Limit       int
	// Before is the ID bound the previous page stopped at: events with a
	// smaller ID come next.
	Before string
}

// AuditStore keeps the audit trail.
type AuditStore interface {
	// AppendAudit stores events; storing an event again changes nothing.
	AppendAudit(ctx context.Context, events []AuditEvent) error
	// FindAudit returns the events of f, newest first, and the bound of the
	// next page ("" after the last). A page may hold fewer than f.Limit
	// events, even none, and still have a next: each call reads a bounded
	// part of the trail.
	FindAudit(ctx context.Context, f AuditFilter) ([]AuditEvent, string, error)
}

// NoAudit records nothing (tools and tests that need no trail).
type NoAudit struct{}

// Record does nothing.
func (NoAudit) Record(context.Context, AuditEvent) {}

// RegistryChanges are the audit events of a change of one commune's registry
// from before to after: one registry_change per village, team or member
// created or changed, with the fields changed (their history and
// timestamps aside). Details say what kind of thing and whether it was
// created or changed.
func RegistryChanges(before, after *CommuneRegistry) []AuditEvent {
	if after == nil {
		return nil
	}
	if before == nil {
		before = &CommuneRegistry{Code: after.Code}
	}
	var out []AuditEvent
	add := func(kind, id string, old, cur any, existed bool) {
		ch := fieldChanges(old, cur, existed)
		if len(ch) == 0 {
			return
		}
		op := "changed"
		if !existed {
			op = "created"
		}
		out = append(out, AuditEvent{Action: AuditRegistryChange, Target: id, CommuneCode: after.Code,
			Details: map[string]string{"kind": kind, "op": op}, Changes: ch})
	}
	villages := map[string]Village{}
	for _, v := range before.Villages {
		villages[v.Code] = v
	}
	for _, v := range after.Villages {
		old, ok := villages[v.Code]
		add("village", v.Code, old, v, ok)
	}
	teams := map[string]Team{}
	for _, t := range before.Teams {
		teams[t.ID] = t
	}
	for _, t := range after.Teams {
		old, ok := teams[t.ID]
		add("team", t.ID, old, t, ok)
	}
	members := map[string]Member{}
	for _, m := range before.Members {
		members[m.ID] = m
	}
	for _, m := range after.Members {
		old, ok := members[m.ID]
		add("member", m.ID, old, m, ok)
	}
	return out
}

// auditSkip are the fields a registry change does not list: bookkeeping, or
// said by the target already.
var auditSkip = map[string]bool{"History": true, "CreatedAt": true, "UpdatedAt": true, "CommuneCode": true, "ID": true, "Code": true}

// fieldChanges lists the fields of two values of one struct type that
// differ; every non-empty field when the thing did not exist before.
func fieldChanges(old, cur any, existed bool) []AuditChange {
	ov, cv := reflect.ValueOf(old), reflect.ValueOf(cur)
	var out []AuditChange
	for i := range cv.NumField() {
		name := cv.Type().Field(i).Name
		if auditSkip[name] {
			continue
		}
		b, a := fmt.Sprint(ov.Field(i).Interface()), fmt.Sprint(cv.Field(i).Interface())
		if !existed {
			b = ""
			if cv.Field(i).IsZero() {
				continue
			}
		}
		if a != b {
			out = append(out, AuditChange{Field: snake(name), Before: b, After: a})
		}
	}
	return out
}

// snake turns a Go field name into the API's: BirthYear → birth_year.
func snake(s string) string {
	var b strings.Builder
	prev := rune(0)
	for _, r := range s {
		if unicode.IsUpper(r) {
			if unicode.IsLower(prev) {
				b.WriteByte('_')
			}
			prev, r = r, unicode.ToLower(r)
		} else {
			prev = r
		}
		b.WriteRune(r)
	}
	return b.String()
}
