package core

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/hue-cdt/cdt/domain"
)

// HouseholdCare is what citizens' data requests need of the record care
// (domain.RecordCare, jobs.Care): a household's records, and forgetting it.
type HouseholdCare interface {
	HouseholdRecords(ctx context.Context, hash string) ([]domain.Record, error)
	ForgetHousehold(ctx context.Context, hash string) (int, error)
}

// Steps of a request, in the audit trail (details "step").
const (
	privacyRegistered = "registered"
	privacyAccessRead = "access_read"
	privacyFulfilled  = "fulfilled"
)

// RegisterPrivacy registers a citizen's data request for a commune sc
// manages. An objection takes effect on the records that follow at once.
func (d *Deps) RegisterPrivacy(ctx context.Context, sc domain.Scope, in domain.NewPrivacyRequest) (domain.PrivacyRequest, error) {
	in.CommuneCode = strings.TrimSpace(in.CommuneCode)
	if in.CommuneCode != "" {
		if err := sc.ManageCommune(in.CommuneCode); err != nil {
			return domain.PrivacyRequest{}, err
		}
		if _, ok := d.Commune(in.CommuneCode); !ok {
			return domain.PrivacyRequest{}, domain.Invalid("commune_code", "not_a_commune")
		}
	}
	r, err := domain.RegisterPrivacyRequest(in, d.Ingest.Hash, sc.Caller.Username, d.Now())
	if err != nil {
		return domain.PrivacyRequest{}, err
	}
	if err := d.Privacy.CreatePrivacyRequest(ctx, r); err != nil {
		return domain.PrivacyRequest{}, err
	}
	if r.Objects() {
		d.Ingest.Objected.Object(r.Household)
	}
	d.auditPrivacy(ctx, r, privacyRegistered)
	return r, nil
}

// FindPrivacy lists the requests sc may read (province admins: every
// commune, or the one named; commune leaders: theirs), most recently received
// first.
func (d *Deps) FindPrivacy(ctx context.Context, sc domain.Scope, status, commune string) ([]domain.PrivacyRequest, error) {
	if err := sc.Manage(); err != nil {
		return nil, err
	}
	commune, err := sc.FilterCommune(commune)
	if err != nil {
		return nil, err
	}
	if status != "" && !slices.Contains(domain.PrivacyStatuses, status) {
		return nil, domain.Invalid("status", "one_of", strings.Join(domain.PrivacyStatuses, ", "))
	}
	return d.Privacy.FindPrivacyRequests(ctx, domain.PrivacyFilter{Status: status, CommuneCode: commune})
}

// PrivacyRequest returns request id if sc manages its commune (ErrNotFound
// otherwise).
func (d *Deps) PrivacyRequest(ctx context.Context, sc domain.Scope, id string) (domain.PrivacyRequest, error) {
	if err := sc.Manage(); err != nil {
		return domain.PrivacyRequest{}, err
	}
	r, err := d.Privacy.PrivacyRequest(ctx, id)
	if err != nil {
		return domain.PrivacyRequest{}, err
	}
	if sc.ManageCommune(r.CommuneCode) != nil {
		return domain.PrivacyRequest{}, fmt.Errorf("core: privacy request %s: %w", id, domain.ErrNotFound)
	}
	return r, nil
}

// AccessRow is one record held about a household, as handed to the citizen:
// what help, when, by which team; nothing about anyone else (no member, no
// note, no other household).
type AccessRow struct {
	Day         domain.Date `json:"day"`
	Service     string      `json:"service"`
	Outcome     string      `json:"outcome"`
	TeamID      string      `json:"team_id"`
	TeamName    string      `json:"team_name"`
	CommuneCode string      `json:"commune_code"`
	CommuneName string      `json:"commune_name"`
}

// PrivacyAccess lists the records held about the household of access
// request id, while it is open (fulfilling it erases the household hash).
func (d *Deps) PrivacyAccess(ctx context.Context, sc domain.Scope, id string) (domain.PrivacyRequest, []AccessRow, error) {
	r, err := d.PrivacyRequest(ctx, sc, id)
	if err != nil {
		return r, nil, err
	}
	if r.Kind != domain.PrivacyAccess || r.Status != domain.PrivacyOpen {
		return r, nil, fmt.Errorf("core: privacy request %s is %s %s: %w", id, r.Status, r.Kind, domain.ErrConflict)
	}
	rows, err := d.accessRows(ctx, r.Household)
	if err != nil {
		return r, nil, err
	}
	d.auditPrivacy(ctx, r, privacyAccessRead, "records", itoa(len(rows)))
	return r, rows, nil
}

func (d *Deps) accessRows(ctx context.Context, hash string) ([]AccessRow, error) {
	if d.Care == nil {
		return nil, fmt.Errorf("core: access request: %w", domain.ErrUnavailable)
	}
	recs, err := d.Care.HouseholdRecords(ctx, hash)
	if err != nil {
		return nil, err
	}
	regs := map[string]*domain.CommuneRegistry{}
	rows := make([]AccessRow, 0, len(recs))
	for _, rec := range recs {
		if rec.Household != hash { // never another household's
			continue
		}
		reg, ok := regs[rec.CommuneCode]
		if !ok {
			if reg, err = d.Registry.Registry(ctx, rec.CommuneCode); err != nil {
				return nil, err
			}
			regs[rec.CommuneCode] = reg
		}
		row := AccessRow{Day: rec.Day, Service: rec.Service, Outcome: rec.Outcome, TeamID: rec.TeamID, CommuneCode: rec.CommuneCode}
		if t, ok := reg.Team(rec.TeamID); ok {
			row.TeamName = t.Name
		}
		if u, ok := d.Units.Get(rec.CommuneCode, rec.Day); ok {
			row.CommuneName = u.Name
		}
		rows = append(rows, row)
	}
	slices.SortStableFunc(rows, func(a, b AccessRow) int { return strings.Compare(string(b.Day), string(a.Day)) })
	return rows, nil
}

// FulfilPrivacy fulfils open request id: an access request answers the
// records held (AccessRow); a deletion or an objection removes the household
// hash from every record, list and set of households reached (the coverage
// figures drop at the next run), and an objection keeps refusing the
// household's future records.
func (d *Deps) FulfilPrivacy(ctx context.Context, sc domain.Scope, id string) (domain.PrivacyRequest, []AccessRow, error) {
	r, err := d.PrivacyRequest(ctx, sc, id)
	if err != nil {
		return r, nil, err
	}
	if r.Status != domain.PrivacyOpen {
		return r, nil, fmt.Errorf("core: privacy request %s is %s: %w", id, r.Status, domain.ErrConflict)
	}
	var rows []AccessRow
	affected := 0
	switch r.Kind {
	case domain.PrivacyAccess:
		if rows, err = d.accessRows(ctx, r.Household); err != nil {
			return r, nil, err
		}
		affected = len(rows)
	default:
		if d.Care == nil {
			return r, nil, fmt.Errorf("core: privacy request: %w", domain.ErrUnavailable)
		}
		if affected, err = d.Care.ForgetHousehold(ctx, r.Household); err != nil {
			return r, nil, err
		}
	}
	done, err := d.Privacy.UpdatePrivacyRequest(ctx, id, func(p *domain.PrivacyRequest) error {
		return p.Fulfil(affected, sc.Caller.Username, d.Now())
	})
	if err != nil {
		return r, nil, err
	}
	d.auditPrivacy(ctx, done, privacyFulfilled, "affected", itoa(affected))
	return done, rows, nil
}

// auditPrivacy records a step of request r: never the household hash nor
// the contact.
func (d *Deps) auditPrivacy(ctx context.Context, r domain.PrivacyRequest, step string, more ...string) {
	details := map[string]string{"step": step, "kind": r.Kind, "status": r.Status, "due_on": string(r.DueOn)}
	for i := 0; i+1 < len(more); i += 2 {
		details[more[i]] = more[i+1]
	}
	d.Audit.Record(ctx, domain.AuditEvent{Action: domain.AuditPrivacyRequest, Target: r.ID, CommuneCode: r.CommuneCode,
		Details: details})
}
