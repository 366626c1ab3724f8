package core

import (
	"context"
	"errors"
	"strconv"
	"unicode/utf8"

	"github.com/hue-cdt/cdt/domain"
)

// NewUser validates a login against the registry and sc, and creates it.
func (d *Deps) NewUser(ctx context.Context, sc domain.Scope, in domain.NewUser) (domain.User, error) {
	in.Username = domain.NormalizeUsername(in.Username)
	if err := domain.ValidateNewUser(in); err != nil {
		return domain.User{}, err
	}
	role := domain.Role(in.Role)
	commune, err := domain.LoginCommune(ctx, d.Units, d.Registry, role, in.UnitCode, in.MemberID, d.Today())
	if err != nil {
		return domain.User{}, err
	}
	if err := sc.CreateLogin(role, commune); err != nil {
		return domain.User{}, err
	}
	if in.MemberID != "" {
		existing, err := d.Users.FindUsers(ctx, domain.UserFilter{MemberID: in.MemberID})
		if err != nil {
			return domain.User{}, err
		}
		for _, e := range existing {
			if e.Active {
				return domain.User{}, domain.Invalid("member_id", "duplicate", e.Username)
			}
		}
	}
	hash, err := d.Auth.HashPassword(in.Password)
	if err != nil {
		return domain.User{}, err
	}
	now := d.Now()
	u := domain.User{Username: in.Username, PasswordHash: hash, Role: role, UnitCode: in.UnitCode, MemberID: in.MemberID,
		Active: true, CreatedAt: now, UpdatedAt: now, CreatedBy: sc.Caller.Username}
	if err := d.Users.CreateUser(ctx, &u); err != nil {
		if errors.Is(err, domain.ErrConflict) {
			return domain.User{}, domain.Invalid("username", "duplicate")
		}
		return domain.User{}, err
	}
	d.auditLogin(ctx, u, "created")
	return u, nil
}

// SetPassword validates and stores a new password of username, ending the
// login's sessions; field names the form field in a validation error.
func (d *Deps) SetPassword(ctx context.Context, username, pw, field string) error {
	if n := utf8.RuneCountInString(pw); n < domain.MinPasswordLen {
		return domain.Invalid(field, "too_short", domain.MinPasswordLen)
	}
	if len(pw) > domain.MaxPasswordLen {
		return domain.Invalid(field, "too_long", domain.MaxPasswordLen)
	}
	hash, err := d.Auth.HashPassword(pw)
	if err != nil {
		return err
	}
	if err := d.Users.UpdatePassword(ctx, username, hash, d.Now()); err != nil {
		return err
	}
	if u, err := d.Users.FindUser(ctx, username); err == nil {
		d.auditLogin(ctx, u, "changed", domain.AuditChange{Field: "password", After: "changed"})
	}
	return d.Auth.EndUserSessions(ctx, username, "password")
}

// SetActive enables or disables login u as sc allows (Scope.SetLoginActive);
// disabling it ends its sessions.
func (d *Deps) SetActive(ctx context.Context, sc domain.Scope, u domain.User, active bool) error {
	if err := sc.SetLoginActive(u, active); err != nil {
		return err
	}
	if err := d.Users.SetUserActive(ctx, u.Username, active, d.Now()); err != nil {
		return err
	}
	if active != u.Active {
		d.auditLogin(ctx, u, "changed", domain.AuditChange{Field: "active", Before: strconv.FormatBool(u.Active), After: strconv.FormatBool(active)})
	}
	if active {
		return nil
	}
	return d.Auth.EndUserSessions(ctx, u.Username, "disabled")
}
