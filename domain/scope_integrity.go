package domain

// Verifier allows asking members to verify records: team leaders (their
// team's records), commune leaders and province admins (their scope).
// ErrForbidden for members, whatever the record.
func (s Scope) Verifier() error {
	if s.Admin() || s.communeLeader() || s.Caller.Role == RoleTeamLeader && s.Caller.TeamID != "" {
		return nil
	}
	return ErrForbidden
}

// AskVerification allows asking about record r: a team leader their team's
// records, managers their commune's. ErrNotFound otherwise (a record's
// existence must not leak).
func (s Scope) AskVerification(r Record) error {
	if err := s.Verifier(); err != nil {
		return err
	}
	if s.ReadCommune(r.CommuneCode) == nil || s.Caller.Role == RoleTeamLeader && r.TeamID == s.Caller.TeamID {
		return nil
	}
	return ErrNotFound
}

// AnswerVerification allows reading and answering verification v: the
// member asked, their team leader, the commune's managers. ErrNotFound
// otherwise.
func (s Scope) AnswerVerification(v Verification) error {
	switch {
	case s.ReadCommune(v.CommuneCode) == nil,
		s.Caller.MemberID != "" && v.MemberID == s.Caller.MemberID,
		s.Caller.Role == RoleTeamLeader && s.Caller.TeamID != "" && v.TeamID == s.Caller.TeamID:
		return nil
	}
	return ErrNotFound
}

// ReviewFlag allows reading and reviewing flag f: managers of its commune.
// ErrNotFound otherwise.
func (s Scope) ReviewFlag(f Flag) error {
	if s.ReadCommune(f.CommuneCode) == nil {
		return nil
	}
	return ErrNotFound
}
