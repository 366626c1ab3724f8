package api

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/hue-cdt/cdt/domain"
	"github.com/hue-cdt/cdt/handlers/httpx"
)

// ListTeams answers GET /teams?commune&village&status&limit&cursor: the
// teams of the caller's scope (a field role sees their own team).
func (h *Handlers) ListTeams(c *gin.Context) error {
	status, err := httpx.QueryStatus(c)
	if err != nil {
		return err
	}
	limit, cursor, err := httpx.PageParams(c)
	if err != nil {
		return err
	}
	village, commune := c.Query("village"), c.Query("commune")
	if village != "" && commune == "" {
		commune = domain.CommuneOf(village)
	}
	sc := httpx.Scope(c)
	communes, err := h.Communes(sc, commune)
	if err != nil {
		return err
	}
	team, err := sc.TeamFilter("")
	if err != nil {
		return err
	}
	var items []domain.TeamView
	err = h.EachRegistry(c.Request.Context(), communes, func(r *domain.CommuneRegistry) {
		items = append(items, r.TeamViews(func(t domain.Team) bool {
			return status(t.Active) && (village == "" || t.VillageCode == village) && (team == "" || t.ID == team)
		})...)
	})
	if err != nil {
		return err
	}
	page, err := domain.Paginate(items, func(t domain.TeamView) string { return t.ID }, cursor, limit)
	if err != nil {
		return err
	}
	c.JSON(http.StatusOK, httpx.PageBody(page, viewTeam))
	return nil
}

// ShowTeam answers GET /teams/{id} (404 outside the caller's scope).
func (h *Handlers) ShowTeam(c *gin.Context) error {
	_, t, err := h.Team(c.Request.Context(), httpx.Scope(c), c.Param("id"))
	if err != nil {
		return err
	}
	c.JSON(http.StatusOK, viewTeam(t))
	return nil
}

type teamRequest struct {
	Name          string `json:"name"`
	CommuneCode   string `json:"commune_code"`
	VillageCode   string `json:"village_code"`
	EstablishedOn string `json:"established_on"`
	DecisionNo    string `json:"decision_no"`
}

// CreateTeam answers POST /teams in a commune the caller manages (403 for another).
func (h *Handlers) CreateTeam(c *gin.Context) error {
	var req teamRequest
	if err := httpx.Decode(c, &req, httpx.MaxBody); err != nil {
		return err
	}
	if req.CommuneCode == "" && req.VillageCode != "" {
		req.CommuneCode = domain.CommuneOf(req.VillageCode)
	}
	if _, ok := h.Commune(req.CommuneCode); !ok {
		if req.CommuneCode == "" {
			return domain.Invalid("commune_code", "required")
		}
		return domain.Invalid("commune_code", "not_a_commune")
	}
	if err := httpx.Scope(c).ManageCommune(req.CommuneCode); err != nil {
		return err
	}
	in := domain.NewTeam(req)
	var created domain.Team
	reg, err := h.Registry.UpdateRegistry(c.Request.Context(), req.CommuneCode, func(r *domain.CommuneRegistry) error {
		t, err := r.AddTeam(in, h.Today(), h.Now())
		created = t
		return err
	})
	if err != nil {
		return err
	}
	c.JSON(http.StatusCreated, viewTeam(reg.TeamViews(func(t domain.Team) bool { return t.ID == created.ID })[0]))
	return nil
}

type teamPatchRequest struct {
	Name          *string `json:"name"`
	VillageCode   *string `json:"village_code"`
	EstablishedOn *string `json:"established_on"`
	DecisionNo    *string `json:"decision_no"`
	Active        *bool   `json:"active"`
}

// UpdateTeam answers PATCH /teams/{id}: 404 for a team the caller may not
// read, 403 for one of a commune they do not manage.
func (h *Handlers) UpdateTeam(c *gin.Context) error {
	id, sc := c.Param("id"), httpx.Scope(c)
	if _, _, err := h.Team(c.Request.Context(), sc, id); err != nil {
		return err
	}
	commune := domain.CommuneOf(id)
	if err := sc.ManageCommune(commune); err != nil {
		return err
	}
	var req teamPatchRequest
	if err := httpx.Decode(c, &req, httpx.MaxBody); err != nil {
		return err
	}
	reg, err := h.Registry.UpdateRegistry(c.Request.Context(), commune, func(r *domain.CommuneRegistry) error {
		_, err := r.UpdateTeam(id, domain.TeamPatch(req), h.Today(), h.Now())
		return err
	})
	if err != nil {
		return err
	}
	c.JSON(http.StatusOK, viewTeam(reg.TeamViews(func(t domain.Team) bool { return t.ID == id })[0]))
	return nil
}
