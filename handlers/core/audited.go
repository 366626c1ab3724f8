package core

import (
	"context"
	"strconv"

	"github.com/hue-cdt/cdt/domain"
)

// auditedRegistry is the registry store the HTTP layer writes through: every
// change of a commune's villages, teams and members goes to the audit trail,
// one registry_change per thing created or changed, with its fields before
// → after (domain.RegistryChanges), and the caller of ctx as the actor.
type auditedRegistry struct {
	domain.RegistryStore
	audit domain.AuditLog
}

// UpdateRegistry applies fn and records what it changed.
func (r auditedRegistry) UpdateRegistry(ctx context.Context, commune string, fn func(*domain.CommuneRegistry) error) (*domain.CommuneRegistry, error) {
	var before *domain.CommuneRegistry
	after, err := r.RegistryStore.UpdateRegistry(ctx, commune, func(x *domain.CommuneRegistry) error {
		before = x.Clone() // the last call is the one saved
		return fn(x)
	})
	if err != nil {
		return after, err
	}
	for _, e := range domain.RegistryChanges(before, after) {
		r.audit.Record(ctx, e)
	}
	return after, nil
}

// auditLogin records a change of login u (kind "login"): op created,
// changed; changes as field, before, after.
func (d *Deps) auditLogin(ctx context.Context, u domain.User, op string, changes ...domain.AuditChange) {
	d.Audit.Record(ctx, LoginChange(u, op, changes...))
}

// LoginChange is the registry_change of login u (created or changed).
func LoginChange(u domain.User, op string, changes ...domain.AuditChange) domain.AuditEvent {
	if op == "created" {
		changes = []domain.AuditChange{{Field: "role", After: string(u.Role)}, {Field: "unit_code", After: u.UnitCode}}
		if u.MemberID != "" {
			changes = append(changes, domain.AuditChange{Field: "member_id", After: u.MemberID})
		}
		changes = append(changes, domain.AuditChange{Field: "active", After: strconv.FormatBool(u.Active)})
	}
	return domain.AuditEvent{Action: domain.AuditRegistryChange, Target: u.Username, CommuneCode: loginCommune(u),
		Details: map[string]string{"kind": "login", "op": op}, Changes: changes}
}
