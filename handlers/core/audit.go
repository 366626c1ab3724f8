package core

import (
	"context"
	"slices"
	"strings"

	"github.com/hue-cdt/cdt/domain"
)

// FindAudit reads the audit trail as sc may (Scope.Audit: province admins
// all of it, commune leaders their commune's), newest first, with the
// cursor of the next page ("" after the last). This server's buffered
// events are written first, so a page shows what was just done.
func (d *Deps) FindAudit(ctx context.Context, sc domain.Scope, f domain.AuditFilter) ([]domain.AuditEvent, string, error) {
	commune, err := sc.Audit(f.CommuneCode)
	if err != nil {
		return nil, "", err
	}
	f.CommuneCode = commune
	var p domain.Problems
	if commune != "" {
		if _, ok := d.Commune(commune); !ok {
			p.Add("commune", "not_a_commune")
		}
	}
	if f.Action != "" && !slices.Contains(domain.AuditActions, f.Action) {
		p.Add("action", "one_of", strings.Join(domain.AuditActions, ", "))
	}
	if err := p.Err(); err != nil {
		return nil, "", err
	}
	if w, ok := d.Audit.(interface{ Flush(context.Context) error }); ok {
		if err := w.Flush(ctx); err != nil {
			d.Logger.WarnContext(ctx, "audit: writing the buffer before a read", "err", err)
		}
	}
	events, next, err := d.AuditTrail.FindAudit(ctx, f)
	return events, domain.EncodeCursor(next), err
}
