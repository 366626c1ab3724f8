package api_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/hue-cdt/cdt/internal/apptest"
)

// TestRoleScopeMatrix checks every role against reads and writes inside and
// outside its scope: a commune leader never sees or changes another commune,
// whatever the URL or filter.
func TestRoleScopeMatrix(t *testing.T) {
	e := apptest.New(t)
	f := e.NewFixture()
	type call struct {
		method, path string
		body         any
	}
	get := func(p string, a ...any) call { return call{http.MethodGet, fmt.Sprintf(p, a...), nil} }
	newTeam := func(commune string) call {
		return call{http.MethodPost, "/api/v1/teams", map[string]any{"name": "Tổ mới " + commune, "commune_code": commune,
			"established_on": "2025-09-01", "decision_no": "1/QĐ"}}
	}
	patchMember := func(id string) call {
		return call{http.MethodPatch, "/api/v1/members/" + id, map[string]any{"birth_year": 1990}}
	}
	cases := []struct {
		name  string
		token string
		call  call
		want  int
	}{
		// commune leader A: everything in A, nothing in B
		{"leaderA lists A teams", f.CommuneLeaderA, get("/api/v1/teams?commune=%s", f.CommuneA), 200},
		{"leaderA lists B teams", f.CommuneLeaderA, get("/api/v1/teams?commune=%s", f.CommuneB), 403},
		{"leaderA lists B members via team filter", f.CommuneLeaderA, get("/api/v1/members?team=%s", f.TeamB1), 403},
		{"leaderA reads B team", f.CommuneLeaderA, get("/api/v1/teams/%s", f.TeamB1), 404},
		{"leaderA reads B member", f.CommuneLeaderA, get("/api/v1/members/%s", f.MemberB), 404},
		{"leaderA reads B village", f.CommuneLeaderA, get("/api/v1/units/%s", f.VillageB), 404},
		{"leaderA lists B villages", f.CommuneLeaderA, get("/api/v1/units?level=village&parent=%s", f.CommuneB), 403},
		{"leaderA creates team in A", f.CommuneLeaderA, newTeam(f.CommuneA), 201},
		{"leaderA creates team in B", f.CommuneLeaderA, newTeam(f.CommuneB), 403},
		{"leaderA edits B member", f.CommuneLeaderA, patchMember(f.MemberB), 404},
		{"leaderA edits A member", f.CommuneLeaderA, patchMember(f.MemberA), 200},
		{"leaderA creates login in B", f.CommuneLeaderA, call{http.MethodPost, "/api/v1/users", map[string]any{
			"username": "x.b", "password": "long-enough-1", "role": "member", "unit_code": f.CommuneB, "member_id": f.MemberB}}, 403},
		{"leaderA creates admin", f.CommuneLeaderA, call{http.MethodPost, "/api/v1/users", map[string]any{
			"username": "x.admin", "password": "long-enough-1", "role": "province_admin", "unit_code": "46"}}, 403},
		{"leaderA lists B logins", f.CommuneLeaderA, get("/api/v1/users?unit=%s", f.CommuneB), 403},
		{"leaderA disables B login", f.CommuneLeaderA, call{http.MethodPatch, "/api/v1/users/member.b", map[string]any{"active": false}}, 404},
		// team leader A: own team's members, not the other team of the commune
		{"teamleader lists own team", f.TeamLeaderA, get("/api/v1/members?team=%s", f.TeamA1), 200},
		{"teamleader lists other team", f.TeamLeaderA, get("/api/v1/members?team=%s", f.TeamA2), 403},
		{"teamleader reads other team member", f.TeamLeaderA, get("/api/v1/members/%s", f.MemberA2), 404},
		{"teamleader reads own member", f.TeamLeaderA, get("/api/v1/members/%s", f.MemberA), 200},
		{"teamleader edits member", f.TeamLeaderA, patchMember(f.MemberA), 403},
		{"teamleader creates team", f.TeamLeaderA, newTeam(f.CommuneA), 403},
		{"teamleader lists logins", f.TeamLeaderA, get("/api/v1/users"), 403},
		// member: only self
		{"member reads self", f.MemberTokA, get("/api/v1/members/%s", f.MemberA), 200},
		{"member reads teammate", f.MemberTokA, get("/api/v1/members/%s", f.LeaderA), 404},
		{"member reads own team", f.MemberTokA, get("/api/v1/teams/%s", f.TeamA1), 200},
		{"member reads other team", f.MemberTokA, get("/api/v1/teams/%s", f.TeamA2), 404},
		{"member lists B", f.MemberTokA, get("/api/v1/teams?commune=%s", f.CommuneB), 403},
		{"member creates village", f.MemberTokA, call{http.MethodPost, "/api/v1/units", map[string]any{"level": "village", "parent_code": f.CommuneA, "name": "Thôn X"}}, 403},
		// admin: everything
		{"admin reads B member", f.Admin, get("/api/v1/members/%s", f.MemberB), 200},
		{"admin creates team in B", f.Admin, newTeam(f.CommuneB), 201},
		// no token
		{"anonymous", "", get("/api/v1/teams"), 401},
	}
	for _, tc := range cases {
		t.Run(strings.ReplaceAll(tc.name, " ", "_"), func(t *testing.T) {
			r := e.Do(apptest.Request{Method: tc.call.method, Path: tc.call.path, Token: tc.token, Body: tc.call.body})
			if r.Status != tc.want {
				t.Fatalf("status %d, want %d: %s", r.Status, tc.want, r.Body)
			}
			if r.Status >= 400 && r.ErrorCode() == "" {
				t.Fatalf("error without the error format: %s", r.Body)
			}
		})
	}
}

// TestListsNeverLeakOtherCommunes reads every list as each role and checks that
// no item belongs to a commune or team outside the caller's scope.
func TestListsNeverLeakOtherCommunes(t *testing.T) {
	e := apptest.New(t)
	f := e.NewFixture()
	for _, tc := range []struct {
		name, token, allowedPrefix string
	}{
		{"leaderA", f.CommuneLeaderA, f.CommuneA + "-"},
		{"leaderB", f.CommuneLeaderB, f.CommuneB + "-"},
		{"memberB", f.MemberTokB, f.CommuneB + "-"},
	} {
		for _, path := range []string{"/api/v1/teams?status=all", "/api/v1/members?status=all", "/api/v1/units?level=village"} {
			var body struct {
				Items []struct{ ID, Code string } `json:"items"`
			}
			r := e.Get(path, tc.token)
			e.Must(r, 200)
			r.Decode(t, &body)
			if len(body.Items) == 0 {
				t.Fatalf("%s %s: empty list", tc.name, path)
			}
			for _, it := range body.Items {
				if id := it.ID + it.Code; !strings.HasPrefix(id, tc.allowedPrefix) {
					t.Fatalf("%s %s: leaked %s", tc.name, path, id)
				}
			}
		}
	}
	// A member sees exactly themself; a team leader their team.
	var members struct {
		Items []struct{ ID string } `json:"items"`
		Total int                   `json:"total"`
	}
	e.Get("/api/v1/members", f.MemberTokA).Decode(t, &members)
	if members.Total != 1 || members.Items[0].ID != f.MemberA {
		t.Fatalf("member list of a member: %+v", members)
	}
	e.Get("/api/v1/members", f.TeamLeaderA).Decode(t, &members)
	if members.Total != 2 {
		t.Fatalf("member list of a team leader: %+v", members)
	}
}
