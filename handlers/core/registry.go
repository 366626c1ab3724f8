package core

import (
	"context"

	"github.com/hue-cdt/cdt/domain"
)

// Communes resolves the ?commune= filter of a registry list to the communes
// it reads, in code order: every commune for a province admin without a
// filter, else the one commune sc allows (ErrForbidden outside its scope). A
// code that is no commune of today is a validation error.
func (d *Deps) Communes(sc domain.Scope, commune string) ([]string, error) {
	commune, err := sc.FilterCommune(commune)
	if err != nil {
		return nil, err
	}
	if commune == "" {
		return d.CommuneCodes(), nil
	}
	if _, ok := d.Commune(commune); !ok {
		return nil, domain.Invalid("commune", "not_a_commune")
	}
	return []string{commune}, nil
}

// EachRegistry calls fn with the registry of every commune, in order.
func (d *Deps) EachRegistry(ctx context.Context, communes []string, fn func(*domain.CommuneRegistry)) error {
	if len(communes) == 1 {
		reg, err := d.Registry.Registry(ctx, communes[0])
		if err != nil {
			return err
		}
		fn(reg)
		return nil
	}
	regs, err := d.Registry.Registries(ctx, communes)
	if err != nil {
		return err
	}
	for _, code := range communes {
		if reg, ok := regs[code]; ok {
			fn(reg)
		}
	}
	return nil
}

// Team finds team id, with the registry of its commune, if sc may read it
// (ErrNotFound otherwise).
func (d *Deps) Team(ctx context.Context, sc domain.Scope, id string) (*domain.CommuneRegistry, domain.TeamView, error) {
	commune := domain.CommuneOf(id)
	if _, ok := d.Commune(commune); !ok {
		return nil, domain.TeamView{}, domain.ErrNotFound
	}
	reg, err := d.Registry.Registry(ctx, commune)
	if err != nil {
		return nil, domain.TeamView{}, err
	}
	views := reg.TeamViews(func(t domain.Team) bool { return t.ID == id })
	if len(views) == 0 {
		return nil, domain.TeamView{}, domain.ErrNotFound
	}
	if err := sc.ReadTeam(views[0].Team); err != nil {
		return nil, domain.TeamView{}, err
	}
	return reg, views[0], nil
}

// Member finds member id if sc may read it (ErrNotFound otherwise).
func (d *Deps) Member(ctx context.Context, sc domain.Scope, id string) (domain.Member, error) {
	commune := domain.CommuneOf(id)
	if _, ok := d.Commune(commune); !ok {
		return domain.Member{}, domain.ErrNotFound
	}
	reg, err := d.Registry.Registry(ctx, commune)
	if err != nil {
		return domain.Member{}, err
	}
	m, ok := reg.Member(id)
	if !ok {
		return domain.Member{}, domain.ErrNotFound
	}
	if err := sc.ReadMember(m); err != nil {
		return domain.Member{}, err
	}
	return m, nil
}

// TeamOf returns the team of member id, whoever asks (ErrNotFound when there
// is no such member): Scope.Records asks it about a team leader's filter.
func (d *Deps) TeamOf(ctx context.Context) func(id string) (string, error) {
	return func(id string) (string, error) {
		reg, err := d.Registry.Registry(ctx, domain.CommuneOf(id))
		if err != nil {
			return "", err
		}
		m, ok := reg.Member(id)
		if !ok {
			return "", domain.ErrNotFound
		}
		return m.TeamID, nil
	}
}
