package pages

import (
	"net/http"
	"sort"
	"strconv"

	"github.com/gin-gonic/gin"

	"github.com/hue-cdt/cdt/domain"
	"github.com/hue-cdt/cdt/handlers/httpx"
	"github.com/hue-cdt/cdt/handlers/render"
)

// TeamForm creates (/communes/{code}/teams/new) or edits (/teams/{id}/edit) a
// team: 404 for a team the caller may not read, 403 for a commune they do not
// manage.
func (h *Handlers) TeamForm(c *gin.Context) error {
	edit := c.FullPath() == "/teams/:id/edit"
	commune, id := c.Param("code"), c.Param("id")
	if edit {
		if _, _, err := h.Team(c.Request.Context(), httpx.Scope(c), id); err != nil {
			return err
		}
		commune = domain.CommuneOf(id)
	}
	u, reg, err := h.managedCommune(c, commune)
	if err != nil {
		return err
	}
	title, back := render.Loc(c).T("team.new"), "/communes/"+commune
	form := map[string]string{"established_on": string(h.Today())}
	if edit {
		t, _ := reg.Team(id)
		title, back = t.Name, "/teams/"+id
		form = map[string]string{"name": t.Name, "village_code": t.VillageCode, "established_on": string(t.EstablishedOn),
			"decision_no": t.DecisionNo, "active": strconv.FormatBool(t.Active)}
	}
	data := map[string]any{"Commune": u, "Villages": reg.Villages, "Edit": edit, "Back": back}
	if c.Request.Method == http.MethodGet {
		render.HTML(c, http.StatusOK, tplTeamForm, title, render.Page{Form: form, Data: data})
		return nil
	}
	form = httpx.PostForm(c)
	saved, err := h.saveTeam(c, commune, id, edit, form)
	if err != nil {
		return formOutcome(c, err, tplTeamForm, title, form, data)
	}
	c.Redirect(http.StatusSeeOther, "/teams/"+saved.ID+"?done=team_saved")
	return nil
}

// saveTeam adds a team to commune, or changes team id.
func (h *Handlers) saveTeam(c *gin.Context, commune, id string, edit bool, form map[string]string) (domain.Team, error) {
	var saved domain.Team
	_, err := h.Registry.UpdateRegistry(c.Request.Context(), commune, func(r *domain.CommuneRegistry) error {
		var err error
		if !edit {
			saved, err = r.AddTeam(domain.NewTeam{Name: form["name"], CommuneCode: commune, VillageCode: form["village_code"],
				EstablishedOn: form["established_on"], DecisionNo: form["decision_no"]}, h.Today(), h.Now())
			return err
		}
		name, village, est, dec, active := form["name"], form["village_code"], form["established_on"], form["decision_no"], form["active"] == "true"
		saved, err = r.UpdateTeam(id, domain.TeamPatch{Name: &name, VillageCode: &village, EstablishedOn: &est, DecisionNo: &dec, Active: &active}, h.Today(), h.Now())
		return err
	})
	return saved, err
}

type teamPageData struct {
	Team                     domain.TeamView
	Members, Left            []domain.Member // the active members and those who left, as far as the caller may read them
	Hidden                   int             // active members the caller may not read
	CommuneName, VillageName string
	CanManage                bool
}

// TeamPage answers GET /teams/{id}: a team and the members the caller may
// read (404 for a team they may not). Each count on the page is the length
// of the list beside it; members hidden from the caller are counted apart.
func (h *Handlers) TeamPage(c *gin.Context) error {
	sc := httpx.Scope(c)
	reg, t, err := h.Team(c.Request.Context(), sc, c.Param("id"))
	if err != nil {
		return err
	}
	data := &teamPageData{Team: t, CanManage: sc.ManageCommune(t.CommuneCode) == nil}
	for _, m := range reg.Members {
		switch {
		case m.TeamID != t.ID:
		case sc.ReadMember(m) != nil:
			if m.Active {
				data.Hidden++
			}
		case m.Active:
			data.Members = append(data.Members, m)
		default:
			data.Left = append(data.Left, m)
		}
	}
	sort.SliceStable(data.Members, func(i, j int) bool {
		return positionRank(data.Members[i].Position) < positionRank(data.Members[j].Position)
	})
	commune, _ := h.Commune(t.CommuneCode)
	village, _ := reg.Village(t.VillageCode)
	data.CommuneName, data.VillageName = commune.Name, village.Name
	render.HTML(c, http.StatusOK, tplTeam, t.Name, render.Page{Data: data})
	return nil
}

func positionRank(p domain.Position) int {
	switch p {
	case domain.PositionLeader:
		return 0
	case domain.PositionDeputy:
		return 1
	}
	return 2
}
