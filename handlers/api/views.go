package api

import (
	"time"

	"github.com/hue-cdt/cdt/domain"
)

// JSON views of the domain types: the API's field names, nulls for "none".

type unitView struct {
	Code           string  `json:"code"`
	Name           string  `json:"name"`
	ShortName      string  `json:"short_name"`
	Level          string  `json:"level"`
	Type           string  `json:"type"`
	ParentCode     *string `json:"parent_code"`
	ValidFrom      string  `json:"valid_from"`
	ValidTo        *string `json:"valid_to"`
	SuccessorCode  *string `json:"successor_code"`
	Households     *int    `json:"households,omitempty"`
	Households2019 *int    `json:"households_2019,omitempty"`
	Population2019 *int    `json:"population_2019,omitempty"`
}

func viewUnit(u domain.Unit) unitView {
	v := unitView{Code: u.Code, Name: u.Name, ShortName: u.ShortName, Level: string(u.Level), Type: u.Type,
		ParentCode: ptr(u.ParentCode), ValidFrom: string(u.ValidFrom), ValidTo: ptr(string(u.ValidTo)),
		SuccessorCode: ptr(u.SuccessorCode)}
	if u.Level == domain.LevelVillage {
		v.Households = &u.Households
	}
	if u.Households2019 > 0 {
		v.Households2019, v.Population2019 = &u.Households2019, &u.Population2019
	}
	return v
}

// villageUnit presents a village as a unit.
func villageUnit(v domain.Village) domain.Unit {
	u := domain.Unit{Code: v.Code, Name: v.Name, ShortName: v.Name, Level: domain.LevelVillage, Type: v.Type,
		ParentCode: v.CommuneCode, ValidFrom: domain.DateOf(v.CreatedAt), Households: v.Households}
	if !v.Active {
		u.ValidTo = domain.DateOf(v.UpdatedAt)
	}
	return u
}

type teamView struct {
	ID             string    `json:"id"`
	Name           string    `json:"name"`
	CommuneCode    string    `json:"commune_code"`
	VillageCode    *string   `json:"village_code"`
	EstablishedOn  string    `json:"established_on"`
	DecisionNo     string    `json:"decision_no"`
	Active         bool      `json:"active"`
	LeaderMemberID *string   `json:"leader_member_id"`
	LeaderName     *string   `json:"leader_name"`
	MemberCount    int       `json:"member_count"`
	CreatedAt      time.Time `json:"created_at"`
	UpdatedAt      time.Time `json:"updated_at"`
}

func viewTeam(t domain.TeamView) teamView {
	return teamView{ID: t.ID, Name: t.Name, CommuneCode: t.CommuneCode, VillageCode: ptr(t.VillageCode),
		EstablishedOn: string(t.EstablishedOn), DecisionNo: t.DecisionNo, Active: t.Active,
		LeaderMemberID: ptr(t.LeaderID), LeaderName: ptr(t.LeaderName), MemberCount: t.MemberCount,
		CreatedAt: t.CreatedAt, UpdatedAt: t.UpdatedAt}
}

type memberView struct {
	ID          string      `json:"id"`
	TeamID      string      `json:"team_id"`
	CommuneCode string      `json:"commune_code"`
	FullName    string      `json:"full_name"`
	Phone       *string     `json:"phone"`
	Position    string      `json:"position"`
	Affiliation string      `json:"affiliation"`
	Gender      string      `json:"gender"`
	BirthYear   int         `json:"birth_year"`
	Active      bool        `json:"active"`
	JoinedOn    *string     `json:"joined_on"`
	LeftOn      *string     `json:"left_on"`
	History     []eventView `json:"history"`
	CreatedAt   time.Time   `json:"created_at"`
	UpdatedAt   time.Time   `json:"updated_at"`
}

type eventView struct {
	At       time.Time `json:"at"`
	Kind     string    `json:"kind"`
	TeamID   string    `json:"team_id"`
	Position string    `json:"position"`
	By       string    `json:"by,omitempty"`
}

func viewMember(m domain.Member) memberView {
	v := memberView{ID: m.ID, TeamID: m.TeamID, CommuneCode: m.CommuneCode, FullName: m.FullName, Phone: ptr(m.Phone),
		Position: string(m.Position), Affiliation: m.Affiliation, Gender: m.Gender, BirthYear: m.BirthYear,
		Active: m.Active, JoinedOn: ptr(string(m.JoinedOn)), LeftOn: ptr(string(m.LeftOn)),
		History: make([]eventView, len(m.History)), CreatedAt: m.CreatedAt, UpdatedAt: m.UpdatedAt}
	for i, e := range m.History {
		v.History[i] = eventView{At: e.At, Kind: e.Kind, TeamID: e.TeamID, Position: string(e.Position), By: e.By}
	}
	return v
}

type userView struct {
	ID        string    `json:"id"`
	Username  string    `json:"username"`
	Role      string    `json:"role"`
	UnitCode  string    `json:"unit_code"`
	MemberID  *string   `json:"member_id"`
	Active    bool      `json:"active"`
	CreatedAt time.Time `json:"created_at"`
}

func viewUser(u domain.User) userView {
	return userView{ID: u.Username, Username: u.Username, Role: string(u.Role), UnitCode: u.UnitCode,
		MemberID: ptr(u.MemberID), Active: u.Active, CreatedAt: u.CreatedAt}
}

func ptr(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}
