package apptest

import "net/http"

// Fixture is a small registry in two communes with a login of every role.
//
//	Phú Xuân (19753): village V1, team A1 (leader LA, member MA), team A2 (member MA2)
//	Nam Đông (20179): village V2, team B1 (member MB)
type Fixture struct {
	CommuneA, CommuneB     string
	VillageA, VillageB     string
	TeamA1, TeamA2, TeamB1 string
	LeaderA, MemberA       string // member IDs in team A1
	MemberA2, MemberB      string
	// Tokens by role.
	Admin, CommuneLeaderA, CommuneLeaderB, TeamLeaderA, MemberTokA, MemberTokA2, MemberTokB string
}

// Password of every fixture login.
const Password = "fixture-pass-1"

// NewFixture creates the fixture through the API as admin.
func (e *Env) NewFixture() Fixture {
	e.T.Helper()
	f := Fixture{CommuneA: "19753", CommuneB: "20179"}
	f.Admin, _ = e.Login("admin", AdminPassword)
	id := func(r Response) string {
		m := e.Must(r, http.StatusCreated)
		if s, ok := m["id"].(string); ok {
			return s
		}
		return m["code"].(string)
	}
	f.VillageA = id(e.Post("/api/v1/units", f.Admin, map[string]any{"level": "village", "parent_code": f.CommuneA, "name": "Tổ dân phố 1", "households": 250}))
	f.VillageB = id(e.Post("/api/v1/units", f.Admin, map[string]any{"level": "village", "parent_code": f.CommuneB, "name": "Thôn Phú Hòa", "households": 180}))
	team := func(commune, village, name string) string {
		return id(e.Post("/api/v1/teams", f.Admin, map[string]any{"name": name, "commune_code": commune, "village_code": village,
			"established_on": "2025-08-01", "decision_no": "15/QĐ-UBND"}))
	}
	f.TeamA1 = team(f.CommuneA, f.VillageA, "Tổ CNSCĐ TDP 1")
	f.TeamA2 = team(f.CommuneA, "", "Tổ CNSCĐ phường")
	f.TeamB1 = team(f.CommuneB, f.VillageB, "Tổ CNSCĐ Phú Hòa")
	member := func(team, name, phone, pos string) string {
		return id(e.Post("/api/v1/members", f.Admin, map[string]any{"team_id": team, "full_name": name, "phone": phone,
			"position": pos, "affiliation": "youth_union", "gender": "f", "birth_year": 1995}))
	}
	f.LeaderA = member(f.TeamA1, "Nguyễn Văn An", "0905111222", "leader")
	f.MemberA = member(f.TeamA1, "Trần Thị Bình", "0905111333", "member")
	f.MemberA2 = member(f.TeamA2, "Lê Thị Cúc", "0905111444", "member")
	f.MemberB = member(f.TeamB1, "Hồ Văn Dũng", "0905111555", "member")
	login := func(username, role, unit, memberID string) string {
		e.Must(e.Post("/api/v1/users", f.Admin, map[string]any{"username": username, "password": Password, "role": role,
			"unit_code": unit, "member_id": memberID}), http.StatusCreated)
		tok, _ := e.Login(username, Password)
		return tok
	}
	f.CommuneLeaderA = login("leader.a", "commune_leader", f.CommuneA, "")
	f.CommuneLeaderB = login("leader.b", "commune_leader", f.CommuneB, "")
	f.TeamLeaderA = login("tl.a", "team_leader", f.CommuneA, f.LeaderA)
	f.MemberTokA = login("member.a", "member", f.CommuneA, f.MemberA)
	f.MemberTokA2 = login("member.a2", "member", f.CommuneA, f.MemberA2)
	f.MemberTokB = login("member.b", "member", f.CommuneB, f.MemberB)
	return f
}
