package core

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/hue-cdt/cdt/domain"
)

// Integrity are the collaborators of the integrity review and the
// verification loop (issue 12).
type Integrity struct {
	Flags         domain.FlagStore
	Verifications domain.VerificationStore
	// Exclude takes a record out of the figures (domain.RecordCare's
	// ExcludeRecord); nil leaves a confirmed flag's records pending until
	// the integrity job can exclude them.
	Exclude func(ctx context.Context, id, reason string) error
	// ExcludeFlagged excludes a confirmed flag's records (jobs.ExcludeFlagged).
	ExcludeFlagged func(ctx context.Context, flags domain.FlagStore, exclude func(ctx context.Context, id, reason string) error, id string) (domain.Flag, error)
}

// FindFlags lists the flags sc may review (their commune's for a leader,
// a named commune's or all for the province), newest day first.
func (d *Deps) FindFlags(ctx context.Context, sc domain.Scope, f domain.FlagFilter) ([]domain.Flag, string, error) {
	commune, err := sc.FilterCommune(f.CommuneCode)
	if err != nil {
		return nil, "", err
	}
	if err := sc.Manage(); err != nil {
		return nil, "", err
	}
	f.CommuneCode = commune
	var p domain.Problems
	if f.Kind != "" && !slices.Contains(domain.FlagKinds, f.Kind) {
		p.Add("kind", "one_of", strings.Join(domain.FlagKinds, ", "))
	}
	if f.Status != "" && !slices.Contains(domain.FlagStatuses, f.Status) {
		p.Add("status", "one_of", strings.Join(domain.FlagStatuses, ", "))
	}
	if f.Limit < 0 || f.Limit > 500 {
		p.Add("limit", "range", "1–500")
	}
	if err := p.Err(); err != nil {
		return nil, "", err
	}
	if f.Limit == 0 {
		f.Limit = 50
	}
	return d.Integrity.Flags.FindFlags(ctx, f)
}

// ReviewFlag records a leader's decision on flag id (404 outside their
// scope), writes it to the audit trail, and, when it is confirmed, takes
// its records out of the figures from the next coverage run.
func (d *Deps) ReviewFlag(ctx context.Context, sc domain.Scope, id string, in domain.FlagReview) (domain.Flag, error) {
	f, err := d.Integrity.Flags.Flag(ctx, id)
	if err == nil {
		err = sc.ReviewFlag(f)
	}
	if err != nil {
		return f, err
	}
	f, err = d.Integrity.Flags.UpdateFlag(ctx, id, func(cur *domain.Flag) error {
		return cur.Review(in, sc.Caller.Username, d.Now())
	})
	if err != nil {
		return f, err
	}
	d.Audit.Record(ctx, domain.AuditEvent{Action: domain.AuditFlagReviewed, Target: f.ID, CommuneCode: f.CommuneCode,
		Details: map[string]string{"status": f.Status, "kind": f.Kind, "comment": f.Comment, "records": itoa(len(f.RecordIDs))}})
	if f.Status == domain.FlagConfirmed && d.Integrity.Exclude != nil && d.Integrity.ExcludeFlagged != nil {
		if f, err = d.Integrity.ExcludeFlagged(ctx, d.Integrity.Flags, d.Integrity.Exclude, id); err != nil {
			// Confirmed and recorded: the next integrity run finishes it.
			d.Logger.WarnContext(ctx, "excluding a confirmed flag's records", "flag", id, "err", err)
			return d.Integrity.Flags.Flag(ctx, id)
		}
	}
	return f, nil
}

// Record finds record id (member:client_id) through its member's records.
func (d *Deps) Record(ctx context.Context, id string) (domain.Record, error) {
	member, _, ok := strings.Cut(id, ":")
	if !ok || member == "" {
		return domain.Record{}, fmt.Errorf("core: record %s: %w", id, domain.ErrNotFound)
	}
	f := domain.RecordFilter{MemberID: member, Limit: 500}
	for {
		recs, next, err := d.Records.FindRecords(ctx, f)
		if err != nil {
			return domain.Record{}, err
		}
		for _, r := range recs {
			if r.ID == id {
				return r, nil
			}
		}
		if next == "" {
			return domain.Record{}, fmt.Errorf("core: record %s: %w", id, domain.ErrNotFound)
		}
		f.After = next
	}
}

// AskVerification asks the member who logged record recordID about it: a
// team leader their team's records, managers their commune's (404
// otherwise). ErrConflict while a question about it is open.
func (d *Deps) AskVerification(ctx context.Context, sc domain.Scope, recordID, reason, source, flagID string) (domain.Verification, error) {
	if err := sc.Verifier(); err != nil {
		return domain.Verification{}, err
	}
	rec, err := d.Record(ctx, recordID)
	if err == nil {
		err = sc.AskVerification(rec)
	}
	if err != nil {
		return domain.Verification{}, err
	}
	v, err := domain.NewVerification(rec, source, reason, sc.Caller.Username, d.Now())
	if err != nil {
		return v, err
	}
	v.FlagID = flagID
	asked, err := d.Integrity.Verifications.FindVerifications(ctx, domain.VerificationFilter{MemberID: rec.MemberID})
	if err != nil {
		return v, err
	}
	n := 1
	for _, x := range asked {
		if x.RecordID == rec.ID {
			if x.Open() {
				return x, fmt.Errorf("core: record %s: a verification is open: %w", rec.ID, domain.ErrConflict)
			}
			n++
		}
	}
	v.ID = domain.VerificationID(rec.ID, n)
	return v, d.Integrity.Verifications.CreateVerification(ctx, v)
}

// FindVerifications lists the verifications sc may read: a member their
// own, a team leader their team's, managers their commune's (a filter
// outside that scope is 403).
func (d *Deps) FindVerifications(ctx context.Context, sc domain.Scope, f domain.VerificationFilter) ([]domain.Verification, error) {
	rf, err := sc.Records(domain.RecordFilter{CommuneCode: f.CommuneCode, MemberID: f.MemberID, TeamID: f.TeamID}, d.teamOf(ctx))
	if err != nil {
		return nil, err
	}
	f.CommuneCode, f.MemberID, f.TeamID = rf.CommuneCode, rf.MemberID, rf.TeamID
	if f.Status != "" && f.Status != domain.VerifyRequested && !slices.Contains(domain.VerifyAnswers, f.Status) {
		return nil, domain.Invalid("status", "one_of", domain.VerifyRequested+", "+strings.Join(domain.VerifyAnswers, ", "))
	}
	return d.Integrity.Verifications.FindVerifications(ctx, f)
}

// teamOf tells a member's team from their commune's registry.
func (d *Deps) teamOf(ctx context.Context) func(string) (string, error) {
	return func(member string) (string, error) {
		reg, err := d.Registry.Registry(ctx, domain.CommuneOf(member))
		if errors.Is(err, domain.ErrNotFound) {
			return "", domain.ErrNotFound
		}
		if err != nil {
			return "", err
		}
		for _, m := range reg.Members {
			if m.ID == member {
				return m.TeamID, nil
			}
		}
		return "", domain.ErrNotFound
	}
}

// AnswerVerification records the answer to verification id: the member
// asked, their team leader or the commune's managers (404 otherwise).
func (d *Deps) AnswerVerification(ctx context.Context, sc domain.Scope, id string, in domain.VerificationAnswer) (domain.Verification, error) {
	v, err := d.Integrity.Verifications.Verification(ctx, id)
	if err == nil {
		err = sc.AnswerVerification(v)
	}
	if err != nil {
		return v, err
	}
	reg, err := d.Registry.Registry(ctx, v.CommuneCode)
	if err != nil && !errors.Is(err, domain.ErrNotFound) {
		return v, err
	}
	village := func(code string) bool {
		if reg == nil {
			return false
		}
		_, ok := reg.Village(code)
		return ok
	}
	return d.Integrity.Verifications.UpdateVerification(ctx, id, func(cur *domain.Verification) error {
		return cur.Settle(in, sc.Caller.Username, d.Now(), village)
	})
}

// IntegritySummary is a commune's integrity figures for the dashboards.
type IntegritySummary struct {
	Open, Confirmed, Dismissed int // flags
	Flagged                    int // distinct records in any flag
	ConfirmedRecords           int // distinct records in confirmed flags
	Excluded                   int // records taken out of the figures
	Verify                     domain.VerifyStats
}

// IntegritySummaries sums the flags and verifications of communes (nil: every
// commune) per commune.
func (d *Deps) IntegritySummaries(ctx context.Context, communes []string) (map[string]*IntegritySummary, error) {
	want := func(c string) bool { return communes == nil || slices.Contains(communes, c) }
	f := domain.FlagFilter{}
	if len(communes) == 1 {
		f.CommuneCode = communes[0]
	}
	flags, _, err := d.Integrity.Flags.FindFlags(ctx, f)
	if err != nil {
		return nil, err
	}
	out := map[string]*IntegritySummary{}
	get := func(c string) *IntegritySummary {
		if out[c] == nil {
			out[c] = &IntegritySummary{Verify: domain.VerifyStats{ByStatus: map[string]int{}}}
		}
		return out[c]
	}
	flagged, confirmed, excluded := map[string]map[string]bool{}, map[string]map[string]bool{}, map[string]map[string]bool{}
	add := func(m map[string]map[string]bool, c string, ids []string) {
		if m[c] == nil {
			m[c] = map[string]bool{}
		}
		for _, id := range ids {
			m[c][id] = true
		}
	}
	for _, fl := range flags {
		if !want(fl.CommuneCode) {
			continue
		}
		s := get(fl.CommuneCode)
		switch fl.Status {
		case domain.FlagOpen:
			s.Open++
		case domain.FlagConfirmed:
			s.Confirmed++
			add(confirmed, fl.CommuneCode, fl.RecordIDs)
		case domain.FlagDismissed:
			s.Dismissed++
		}
		add(flagged, fl.CommuneCode, fl.RecordIDs)
		add(excluded, fl.CommuneCode, fl.Excluded)
	}
	for c, ids := range flagged {
		get(c).Flagged = len(ids)
		get(c).ConfirmedRecords = len(confirmed[c])
		get(c).Excluded = len(excluded[c])
	}
	vf := domain.VerificationFilter{}
	if len(communes) == 1 {
		vf.CommuneCode = communes[0]
	}
	vs, err := d.Integrity.Verifications.FindVerifications(ctx, vf)
	if err != nil {
		return nil, err
	}
	for c, st := range domain.CountVerifications(vs) {
		if want(c) {
			get(c).Verify = *st
		}
	}
	return out, nil
}
