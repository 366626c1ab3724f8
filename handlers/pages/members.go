package pages

import (
	"net/http"
	"strconv"

	"github.com/gin-gonic/gin"

	"github.com/hue-cdt/cdt/domain"
	"github.com/hue-cdt/cdt/handlers/httpx"
	"github.com/hue-cdt/cdt/handlers/render"
)

// MemberForm adds a member to a team (/teams/{id}/members/new) or edits one
// (/members/{id}/edit): moving within the commune, leaving, rejoining. 404 for
// a team or member the caller may not read, 403 for a commune they do not
// manage.
func (h *Handlers) MemberForm(c *gin.Context) error {
	edit := c.FullPath() == "/members/:id/edit"
	id, sc, ctx := c.Param("id"), httpx.Scope(c), c.Request.Context()
	var member domain.Member
	teamID, title := id, render.Loc(c).T("member.new")
	form := map[string]string{"position": string(domain.PositionMember), "affiliation": "resident"} // no gender guessed
	if edit {
		var err error
		if member, err = h.Member(ctx, sc, id); err != nil {
			return err
		}
		teamID, title = member.TeamID, member.FullName
		form = map[string]string{"team_id": member.TeamID, "full_name": member.FullName, "phone": member.Phone,
			"position": string(member.Position), "affiliation": member.Affiliation, "gender": member.Gender,
			"birth_year": strconv.Itoa(member.BirthYear), "active": strconv.FormatBool(member.Active), "left_on": string(member.LeftOn)}
	} else if _, _, err := h.Team(ctx, sc, id); err != nil {
		return err
	}
	commune := domain.CommuneOf(id)
	u, reg, err := h.managedCommune(c, commune)
	if err != nil {
		return err
	}
	team, _ := reg.Team(teamID)
	back := "/teams/" + teamID
	if edit {
		back = "/members/" + id
	}
	data := map[string]any{"CommuneCode": commune, "CommuneName": u.Name, "TeamID": team.ID, "TeamName": team.Name,
		"Teams": reg.Teams, "Edit": edit, "Back": back, "Positions": domain.Positions,
		"Affiliations": domain.Affiliations, "Genders": domain.Genders}
	if c.Request.Method == http.MethodGet {
		render.HTML(c, http.StatusOK, tplMemberForm, title, render.Page{Form: form, Data: data})
		return nil
	}
	form = httpx.PostForm(c)
	saved, err := h.saveMember(c, commune, team.ID, member, edit, form)
	if err != nil {
		return formOutcome(c, err, tplMemberForm, title, form, data)
	}
	c.Redirect(http.StatusSeeOther, "/members/"+saved.ID+"?done=member_saved")
	return nil
}

// saveMember adds a member to team, or changes member.
func (h *Handlers) saveMember(c *gin.Context, commune, team string, member domain.Member, edit bool, f map[string]string) (domain.Member, error) {
	var p domain.Problems
	birth := atoiField(f, "birth_year", &p)
	if err := p.Err(); err != nil {
		return domain.Member{}, err
	}
	by := httpx.Caller(c).Username
	var saved domain.Member
	_, err := h.Registry.UpdateRegistry(c.Request.Context(), commune, func(r *domain.CommuneRegistry) error {
		var err error
		if !edit {
			saved, err = r.AddMember(domain.NewMember{TeamID: team, FullName: f["full_name"], Phone: f["phone"],
				Position: f["position"], Affiliation: f["affiliation"], Gender: f["gender"], BirthYear: birth}, by, h.Today(), h.Now())
			return err
		}
		active := f["active"] == "true"
		patch := domain.MemberPatch{TeamID: ptrOf(f["team_id"]), FullName: ptrOf(f["full_name"]), Phone: ptrOf(f["phone"]),
			Position: ptrOf(f["position"]), Affiliation: ptrOf(f["affiliation"]), Gender: ptrOf(f["gender"]), BirthYear: &birth, Active: &active}
		if !active && member.Active {
			patch.LeftOn = ptrOf(f["left_on"])
		}
		saved, err = r.UpdateMember(member.ID, patch, by, h.Today(), h.Now())
		return err
	})
	return saved, err
}

type memberPageData struct {
	Member                domain.Member
	CommuneName, TeamName string
	TeamNames             map[string]string
	CanManage             bool
	Logins                []domain.User
}

// MemberPage answers GET /members/{id}: a member and their history (404 for
// one the caller may not read); managers see the member's logins.
func (h *Handlers) MemberPage(c *gin.Context) error {
	ctx, sc := c.Request.Context(), httpx.Scope(c)
	m, err := h.Member(ctx, sc, c.Param("id"))
	if err != nil {
		return err
	}
	reg, err := h.Registry.Registry(ctx, m.CommuneCode)
	if err != nil {
		return err
	}
	u, _ := h.Commune(m.CommuneCode)
	t, _ := reg.Team(m.TeamID)
	d := &memberPageData{Member: m, CommuneName: u.Name, TeamName: t.Name, TeamNames: map[string]string{},
		CanManage: sc.ManageCommune(m.CommuneCode) == nil}
	for _, t := range reg.Teams {
		d.TeamNames[t.ID] = t.Name
	}
	if d.CanManage {
		if d.Logins, err = h.Users.FindUsers(ctx, domain.UserFilter{MemberID: m.ID}); err != nil {
			return err
		}
	}
	render.HTML(c, http.StatusOK, tplMember, m.FullName, render.Page{Data: d})
	return nil
}
