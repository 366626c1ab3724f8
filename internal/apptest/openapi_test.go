package apptest

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// exchange is a request and the server's answer, as the OpenAPI check sees them.
func exchange(method, path, token, body string, status int, answer string) (*http.Request, []byte, *httptest.ResponseRecorder) {
	req := httptest.NewRequest(method, path, strings.NewReader(body))
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	rec := httptest.NewRecorder()
	rec.Header().Set("Content-Type", "application/json; charset=utf-8")
	rec.WriteHeader(status)
	rec.WriteString(answer)
	return req, []byte(body), rec
}

const okTeam = `{"id":"19753-T001","name":"Tổ 1","commune_code":"19753","village_code":null,"established_on":"2025-09-01",
"decision_no":"1/QĐ","active":true,"leader_member_id":null,"leader_name":null,"member_count":0,
"created_at":"2026-11-21T02:00:00Z","updated_at":"2026-11-21T02:00:00Z"}`

const anError = `{"error":{"code":"validation_failed","message":"x","details":[{"field":"x","code":"unknown_field","message":"x"}]}}`

// TestOpenAPICheckJudges: the check every Env runs passes exchanges the
// document describes and refuses each kind of disagreement.
func TestOpenAPICheckJudges(t *testing.T) {
	newTeam := `{"name":"Tổ 1","commune_code":"19753","established_on":"2025-09-01","decision_no":"1/QĐ"}`
	cases := []struct {
		name                string
		method, path, token string
		body                string
		status              int
		answer              string
		refused             string // what the check says; "" = passes
	}{
		{"a documented exchange", "POST", "/api/v1/teams", "t", newTeam, 201, okTeam, ""},
		{"an error answer", "GET", "/api/v1/teams/x", "t", "", 404, anError, ""},
		{"a request the server refuses as the document does", "POST", "/api/v1/teams", "t", `{"colour":"red"}`, 422, anError, ""},
		{"no token, refused", "GET", "/api/v1/teams", "", "", 401, anError, ""},
		{"an unknown path answered 404", "GET", "/api/v1/nowhere", "t", "", 404, anError, ""},
		{"a field the schema does not name", "GET", "/api/v1/teams/x", "t", "", 200, strings.Replace(okTeam, `"id"`, `"colour":"red","id"`, 1), `"colour" is unsupported`},
		{"a required field missing", "GET", "/api/v1/teams/x", "t", "", 200, strings.Replace(okTeam, `"member_count":0,`, "", 1), "member_count"},
		{"a wrong type", "GET", "/api/v1/teams/x", "t", "", 200, strings.Replace(okTeam, `"member_count":0`, `"member_count":"0"`, 1), "member_count"},
		{"an error answer not in the error format", "GET", "/api/v1/teams/x", "t", "", 404, `{"message":"no"}`, "error"},
		{"a success status the document does not list", "POST", "/api/v1/teams", "t", newTeam, 200, okTeam, "the answer"},
		{"a request the document refuses, accepted", "POST", "/api/v1/teams", "t", `{"colour":"red"}`, 201, okTeam, "accepted a request the document refuses"},
		{"no token, accepted", "GET", "/api/v1/teams/x", "", "", 200, okTeam, "accepted a request the document refuses"},
		{"an undocumented query parameter", "GET", "/api/v1/teams/x?colour=red", "t", "", 200, okTeam, `"colour" is not in the document`},
		{"a route the document lacks", "GET", "/api/v1/colours", "t", "", 200, `{}`, "no operation of the document"},
	}
	for _, c := range cases {
		err := check(exchange(c.method, c.path, c.token, c.body, c.status, c.answer))
		switch {
		case c.refused == "" && err != nil:
			t.Errorf("%s: refused: %v", c.name, err)
		case c.refused != "" && err == nil:
			t.Errorf("%s: passed", c.name)
		case c.refused != "" && !strings.Contains(err.Error(), c.refused):
			t.Errorf("%s: %v, want it to say %q", c.name, err, c.refused)
		}
	}
}
