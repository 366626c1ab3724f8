package core

import (
	"context"

	"github.com/hue-cdt/cdt/domain"
)

// FindRecords answers the first page of a member, team or commune from the
// recent lists (no scan), and everything else from the records themselves.
// f is already narrowed to the caller's scope (Scope.Records).
func (d *Deps) FindRecords(ctx context.Context, f domain.RecordFilter) ([]domain.Record, string, error) {
	key := ""
	switch {
	case f.MemberID != "":
		key = "m:" + f.MemberID
	case f.TeamID != "":
		key = "t:" + f.TeamID
	case f.CommuneCode != "":
		key = "c:" + f.CommuneCode
	}
	if key != "" && f.After == "" && f.From.IsZero() && f.To.IsZero() && d.Live != nil {
		keep := func(r domain.Record) bool {
			return (f.MemberID == "" || r.MemberID == f.MemberID) && (f.TeamID == "" || r.TeamID == f.TeamID) &&
				(f.CommuneCode == "" || r.CommuneCode == f.CommuneCode)
		}
		recs, complete, err := d.Live.Recent(ctx, key, keep, f.Limit)
		if err != nil {
			return nil, "", err
		}
		if complete || len(recs) == f.Limit {
			next := ""
			if !complete {
				next = recs[len(recs)-1].SortKey()
			}
			return recs, next, nil
		}
	}
	return d.Records.FindRecords(ctx, f)
}
