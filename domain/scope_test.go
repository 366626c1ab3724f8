package domain

import (
	"errors"
	"reflect"
	"testing"
)

// The callers of every scope test: one of each role in commune 19753, team
// T001 (tl leads it, member belongs to it).
var (
	admin  = ScopeOf(Caller{Username: "admin", Role: RoleProvinceAdmin, UnitCode: "46"})
	leader = ScopeOf(Caller{Username: "leader", Role: RoleCommuneLeader, UnitCode: "19753", CommuneCode: "19753"})
	tl     = ScopeOf(Caller{Username: "tl", Role: RoleTeamLeader, CommuneCode: "19753", TeamID: "19753-T001", MemberID: "19753-M0001"})
	member = ScopeOf(Caller{Username: "member", Role: RoleMember, CommuneCode: "19753", TeamID: "19753-T001", MemberID: "19753-M0002"})
	nobody = ScopeOf(Caller{})
)

// same reports whether got is want: nil for nil, errors.Is otherwise.
func same(got, want error) bool {
	if want == nil {
		return got == nil
	}
	return errors.Is(got, want)
}

func TestScopeDecisions(t *testing.T) {
	ownTeam := Team{ID: "19753-T001", CommuneCode: "19753"}
	otherTeam := Team{ID: "19753-T002", CommuneCode: "19753"}
	elsewhere := Team{ID: "20179-T001", CommuneCode: "20179"}
	self := Member{ID: "19753-M0002", CommuneCode: "19753", TeamID: "19753-T001"}
	mate := Member{ID: "19753-M0003", CommuneCode: "19753", TeamID: "19753-T001"}
	stranger := Member{ID: "19753-M0009", CommuneCode: "19753", TeamID: "19753-T002"}
	far := Member{ID: "20179-M0001", CommuneCode: "20179", TeamID: "20179-T001"}
	fieldLogin := User{Username: "member", Role: RoleMember, UnitCode: "19753"}
	farLogin := User{Username: "far", Role: RoleMember, UnitCode: "20179"}
	adminLogin := User{Username: "root", Role: RoleProvinceAdmin, UnitCode: "19753"}
	province := Unit{Code: "46", Level: LevelProvince}
	communeA := Unit{Code: "19753", Level: LevelCommune}
	communeB := Unit{Code: "20179", Level: LevelCommune}
	provinceTraining := Training{Level: LevelProvinceTraining, UnitCode: "46"}
	trainingA := Training{Level: LevelCommuneTraining, UnitCode: "19753"}
	trainingB := Training{Level: LevelCommuneTraining, UnitCode: "20179"}
	tests := []struct {
		name string
		got  error
		want error
	}{
		// feature gates: 403 whatever the resource
		{"admin is the province", admin.Province(), nil},
		{"leader is not the province", leader.Province(), ErrForbidden},
		{"member is not the province", member.Province(), ErrForbidden},
		{"admin manages", admin.Manage(), nil},
		{"leader manages", leader.Manage(), nil},
		{"team leader manages nothing", tl.Manage(), ErrForbidden},
		{"member manages nothing", member.Manage(), ErrForbidden},
		{"no role manages nothing", nobody.Manage(), ErrForbidden},
		{"member works in the field", member.Field(), nil},
		{"team leader works in the field", tl.Field(), nil},
		{"leader does not", leader.Field(), ErrForbidden},
		{"admin does not", admin.Field(), ErrForbidden},
		{"a field role without a member does not", ScopeOf(Caller{Role: RoleMember}).Field(), ErrForbidden},
		// communes: 403 outside (their codes are public)
		{"admin manages any commune", admin.ManageCommune("20179"), nil},
		{"leader manages own", leader.ManageCommune("19753"), nil},
		{"leader not another", leader.ManageCommune("20179"), ErrForbidden},
		{"leader not the empty commune", leader.ManageCommune(""), ErrForbidden},
		{"team leader manages nothing", tl.ManageCommune("19753"), ErrForbidden},
		{"member reads no commune", member.ReadCommune("19753"), ErrForbidden},
		{"admin: the province's reports", admin.ManageUnit(province), nil},
		{"leader: not the province's", leader.ManageUnit(province), ErrForbidden},
		{"leader: own commune's", leader.ManageUnit(communeA), nil},
		{"leader: not another's", leader.ManageUnit(communeB), ErrForbidden},
		{"member: not own commune's", member.ManageUnit(communeA), ErrForbidden},
		// single resources: 404 outside
		{"member reads own village", member.ReadVillage("19753-001"), nil},
		{"leader reads village elsewhere", leader.ReadVillage("20179-001"), ErrNotFound},
		{"admin reads any village", admin.ReadVillage("20179-001"), nil},
		{"leader reads own team", leader.ReadTeam(otherTeam), nil},
		{"leader reads team elsewhere", leader.ReadTeam(elsewhere), ErrNotFound},
		{"member reads own team", member.ReadTeam(ownTeam), nil},
		{"member reads other team", member.ReadTeam(otherTeam), ErrNotFound},
		{"member reads self", member.ReadMember(self), nil},
		{"member reads mate", member.ReadMember(mate), ErrNotFound},
		{"team leader reads mate", tl.ReadMember(mate), nil},
		{"team leader reads stranger", tl.ReadMember(stranger), ErrNotFound},
		{"leader reads far member", leader.ReadMember(far), ErrNotFound},
		{"admin reads far member", admin.ReadMember(far), nil},
		{"everyone reads province trainings", member.ReadTraining(provinceTraining), nil},
		{"member reads own commune's training", member.ReadTraining(trainingA), nil},
		{"leader reads no other commune's training", leader.ReadTraining(trainingB), ErrNotFound},
		{"admin reads every training", admin.ReadTraining(trainingB), nil},
		// logins
		{"leader creates field login", leader.CreateLogin(RoleMember, "19753"), nil},
		{"leader creates leader login", leader.CreateLogin(RoleCommuneLeader, "19753"), nil},
		{"leader creates admin", leader.CreateLogin(RoleProvinceAdmin, "19753"), ErrForbidden},
		{"leader creates login elsewhere", leader.CreateLogin(RoleMember, "20179"), ErrForbidden},
		{"member creates login", member.CreateLogin(RoleMember, "19753"), ErrForbidden},
		{"admin creates admin", admin.CreateLogin(RoleProvinceAdmin, ""), nil},
		{"leader manages own commune's login", leader.ManageLogin(fieldLogin), nil},
		{"leader does not see another commune's login", leader.ManageLogin(farLogin), ErrNotFound},
		{"leader does not see an admin's login", leader.ManageLogin(adminLogin), ErrNotFound},
		{"team leader sees no login", tl.ManageLogin(fieldLogin), ErrNotFound},
		{"admin manages every login", admin.ManageLogin(adminLogin), nil},
		{"leader disables a login", leader.SetLoginActive(fieldLogin, false), nil},
		{"leader disables self", leader.SetLoginActive(User{Username: "leader", Role: RoleCommuneLeader, UnitCode: "19753"}, false), ErrInvalid},
		{"leader enables self", leader.SetLoginActive(User{Username: "leader", Role: RoleCommuneLeader, UnitCode: "19753"}, true), nil},
		{"leader disables far login", leader.SetLoginActive(farLogin, false), ErrNotFound},
	}
	for _, tc := range tests {
		if !same(tc.got, tc.want) {
			t.Errorf("%s: %v, want %v", tc.name, tc.got, tc.want)
		}
	}
}

func TestScopeFilters(t *testing.T) {
	for _, tc := range []struct {
		name     string
		sc       Scope
		in, want string
		err      error
	}{
		{"admin, every commune", admin, "", "", nil},
		{"admin, one commune", admin, "20179", "20179", nil},
		{"leader, empty is own", leader, "", "19753", nil},
		{"leader, own", leader, "19753", "19753", nil},
		{"leader, another", leader, "20179", "", ErrForbidden},
		{"member, empty is own", member, "", "19753", nil},
		{"member, another", member, "20179", "", ErrForbidden},
	} {
		got, err := tc.sc.FilterCommune(tc.in)
		if got != tc.want || !same(err, tc.err) {
			t.Errorf("FilterCommune %s: %q %v, want %q %v", tc.name, got, err, tc.want, tc.err)
		}
	}
	for _, tc := range []struct {
		name     string
		sc       Scope
		in, want string
		err      error
	}{
		{"leader, every team", leader, "", "", nil},
		{"leader, one team", leader, "19753-T002", "19753-T002", nil},
		{"member, empty is own", member, "", "19753-T001", nil},
		{"team leader, own", tl, "19753-T001", "19753-T001", nil},
		{"team leader, another", tl, "19753-T002", "", ErrForbidden},
	} {
		got, err := tc.sc.TeamFilter(tc.in)
		if got != tc.want || !same(err, tc.err) {
			t.Errorf("TeamFilter %s: %q %v, want %q %v", tc.name, got, err, tc.want, tc.err)
		}
	}
	for _, tc := range []struct {
		name string
		sc   Scope
		want []string
		err  error
	}{
		{"admin", admin, nil, nil},
		{"leader", leader, []string{"19753"}, nil},
		{"team leader", tl, nil, ErrForbidden},
		{"member", member, nil, ErrForbidden},
	} {
		got, err := tc.sc.Coverage()
		if !reflect.DeepEqual(got, tc.want) || !same(err, tc.err) {
			t.Errorf("Coverage %s: %v %v, want %v %v", tc.name, got, err, tc.want, tc.err)
		}
	}
	for _, tc := range []struct {
		name     string
		sc       Scope
		in, want UserFilter
		err      error
	}{
		{"admin, every login", admin, UserFilter{}, UserFilter{}, nil},
		{"admin, one commune", admin, UserFilter{UnitCode: "20179"}, UserFilter{UnitCode: "20179"}, nil},
		{"leader, empty is own", leader, UserFilter{Role: RoleMember}, UserFilter{UnitCode: "19753", Role: RoleMember}, nil},
		{"leader, another", leader, UserFilter{UnitCode: "20179"}, UserFilter{}, ErrForbidden},
		{"team leader", tl, UserFilter{}, UserFilter{}, ErrForbidden},
	} {
		got, err := tc.sc.Users(tc.in)
		if err == nil && got != tc.want || !same(err, tc.err) {
			t.Errorf("Users %s: %+v %v, want %+v %v", tc.name, got, err, tc.want, tc.err)
		}
	}
}

func TestScopeRecords(t *testing.T) {
	teams := map[string]string{"19753-M0001": "19753-T001", "19753-M0003": "19753-T001", "19753-M0009": "19753-T002"}
	teamOf := func(id string) (string, error) {
		if team, ok := teams[id]; ok {
			return team, nil
		}
		return "", ErrNotFound
	}
	broken := errors.New("database down")
	for _, tc := range []struct {
		name string
		sc   Scope
		in   RecordFilter
		want RecordFilter
		err  error
	}{
		{"member, nothing named: own records", member, RecordFilter{}, RecordFilter{MemberID: "19753-M0002"}, nil},
		{"member, own commune", member, RecordFilter{CommuneCode: "19753"}, RecordFilter{CommuneCode: "19753", MemberID: "19753-M0002"}, nil},
		{"member, another commune", member, RecordFilter{CommuneCode: "20179"}, RecordFilter{}, ErrForbidden},
		{"member, a mate", member, RecordFilter{MemberID: "19753-M0003"}, RecordFilter{}, ErrForbidden},
		{"member, another team", member, RecordFilter{TeamID: "19753-T002"}, RecordFilter{}, ErrForbidden},
		{"team leader, nothing named: the team", tl, RecordFilter{}, RecordFilter{TeamID: "19753-T001"}, nil},
		{"team leader, a team member", tl, RecordFilter{MemberID: "19753-M0003"}, RecordFilter{MemberID: "19753-M0003"}, nil},
		{"team leader, a stranger", tl, RecordFilter{MemberID: "19753-M0009"}, RecordFilter{}, ErrForbidden},
		{"team leader, nobody", tl, RecordFilter{MemberID: "19753-M0404"}, RecordFilter{}, ErrForbidden},
		{"team leader, another team", tl, RecordFilter{TeamID: "19753-T002"}, RecordFilter{}, ErrForbidden},
		{"team leader, another commune", tl, RecordFilter{CommuneCode: "20179"}, RecordFilter{}, ErrForbidden},
		{"leader, nothing named: the commune", leader, RecordFilter{}, RecordFilter{CommuneCode: "19753"}, nil},
		{"leader, a team", leader, RecordFilter{TeamID: "19753-T002"}, RecordFilter{CommuneCode: "19753", TeamID: "19753-T002"}, nil},
		{"leader, another commune", leader, RecordFilter{CommuneCode: "20179"}, RecordFilter{}, ErrForbidden},
		{"leader, a team elsewhere", leader, RecordFilter{TeamID: "20179-T001"}, RecordFilter{}, ErrForbidden},
		{"admin, everything", admin, RecordFilter{}, RecordFilter{}, nil},
		{"admin, a commune and a member of another", admin, RecordFilter{CommuneCode: "19753", MemberID: "20179-M0001"}, RecordFilter{}, ErrForbidden},
	} {
		got, err := tc.sc.Records(tc.in, teamOf)
		if err == nil && got != tc.want || !same(err, tc.err) {
			t.Errorf("Records %s: %+v %v, want %+v %v", tc.name, got, err, tc.want, tc.err)
		}
	}
	if _, err := tl.Records(RecordFilter{MemberID: "19753-M0003"}, func(string) (string, error) { return "", broken }); !errors.Is(err, broken) {
		t.Errorf("a failed lookup is not an access decision: %v", err)
	}
}

func TestScopeAudit(t *testing.T) {
	for _, tc := range []struct {
		name     string
		sc       Scope
		in, want string
		err      error
	}{
		{"admin, the whole trail", admin, "", "", nil},
		{"admin, one commune", admin, "20179", "20179", nil},
		{"leader, empty is own", leader, "", "19753", nil},
		{"leader, own", leader, "19753", "19753", nil},
		{"leader, another", leader, "20179", "", ErrForbidden},
		{"team leader", tl, "", "", ErrForbidden},
		{"member, own commune", member, "19753", "", ErrForbidden},
		{"nobody", nobody, "", "", ErrForbidden},
	} {
		got, err := tc.sc.Audit(tc.in)
		if got != tc.want || !same(err, tc.err) {
			t.Errorf("Audit %s: %q %v, want %q %v", tc.name, got, err, tc.want, tc.err)
		}
	}
}
