package api

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/hue-cdt/cdt/domain"
	"github.com/hue-cdt/cdt/handlers/httpx"
)

// ListMembers answers GET /members?commune&team&status&limit&cursor: the
// members of the caller's scope (a team leader sees their team, a member
// themself).
func (h *Handlers) ListMembers(c *gin.Context) error {
	status, err := httpx.QueryStatus(c)
	if err != nil {
		return err
	}
	limit, cursor, err := httpx.PageParams(c)
	if err != nil {
		return err
	}
	team, commune := c.Query("team"), c.Query("commune")
	if team != "" && commune == "" {
		commune = domain.CommuneOf(team)
	}
	sc := httpx.Scope(c)
	communes, err := h.Communes(sc, commune)
	if err != nil {
		return err
	}
	if team, err = sc.TeamFilter(team); err != nil {
		return err
	}
	var items []domain.Member
	err = h.EachRegistry(c.Request.Context(), communes, func(r *domain.CommuneRegistry) {
		for _, m := range r.Members {
			if status(m.Active) && (team == "" || m.TeamID == team) && sc.ReadMember(m) == nil {
				items = append(items, m)
			}
		}
	})
	if err != nil {
		return err
	}
	page, err := domain.Paginate(items, func(m domain.Member) string { return m.ID }, cursor, limit)
	if err != nil {
		return err
	}
	c.JSON(http.StatusOK, httpx.PageBody(page, viewMember))
	return nil
}

// ShowMember answers GET /members/{id} (404 outside the caller's scope).
func (h *Handlers) ShowMember(c *gin.Context) error {
	m, err := h.Member(c.Request.Context(), httpx.Scope(c), c.Param("id"))
	if err != nil {
		return err
	}
	c.JSON(http.StatusOK, viewMember(m))
	return nil
}

type memberRequest struct {
	TeamID      string `json:"team_id"`
	FullName    string `json:"full_name"`
	Phone       string `json:"phone"`
	Position    string `json:"position"`
	Affiliation string `json:"affiliation"`
	Gender      string `json:"gender"`
	BirthYear   int    `json:"birth_year"`
	JoinedOn    string `json:"joined_on"`
}

// CreateMember answers POST /members in a team of a commune the caller
// manages (403 for another).
func (h *Handlers) CreateMember(c *gin.Context) error {
	var req memberRequest
	if err := httpx.Decode(c, &req, httpx.MaxBody); err != nil {
		return err
	}
	commune := domain.CommuneOf(req.TeamID)
	if _, ok := h.Commune(commune); !ok {
		if req.TeamID == "" {
			return domain.Invalid("team_id", "required")
		}
		return domain.Invalid("team_id", "unknown_team")
	}
	if err := httpx.Scope(c).ManageCommune(commune); err != nil {
		return err
	}
	var created domain.Member
	_, err := h.Registry.UpdateRegistry(c.Request.Context(), commune, func(r *domain.CommuneRegistry) error {
		m, err := r.AddMember(domain.NewMember(req), httpx.Caller(c).Username, h.Today(), h.Now())
		created = m
		return err
	})
	if err != nil {
		return err
	}
	c.JSON(http.StatusCreated, viewMember(created))
	return nil
}

type memberPatchRequest struct {
	TeamID      *string `json:"team_id"`
	FullName    *string `json:"full_name"`
	Phone       *string `json:"phone"`
	Position    *string `json:"position"`
	Affiliation *string `json:"affiliation"`
	Gender      *string `json:"gender"`
	BirthYear   *int    `json:"birth_year"`
	Active      *bool   `json:"active"`
	LeftOn      *string `json:"left_on"`
}

// UpdateMember answers PATCH /members/{id}: 404 for a member the caller may
// not read, 403 for one of a commune they do not manage.
func (h *Handlers) UpdateMember(c *gin.Context) error {
	id, sc := c.Param("id"), httpx.Scope(c)
	if _, err := h.Member(c.Request.Context(), sc, id); err != nil {
		return err
	}
	commune := domain.CommuneOf(id)
	if err := sc.ManageCommune(commune); err != nil {
		return err
	}
	var req memberPatchRequest
	if err := httpx.Decode(c, &req, httpx.MaxBody); err != nil {
		return err
	}
	if req.TeamID != nil && domain.CommuneOf(*req.TeamID) != commune {
		return domain.Invalid("team_id", "unknown_team")
	}
	var updated domain.Member
	_, err := h.Registry.UpdateRegistry(c.Request.Context(), commune, func(r *domain.CommuneRegistry) error {
		m, err := r.UpdateMember(id, domain.MemberPatch(req), httpx.Caller(c).Username, h.Today(), h.Now())
		updated = m
		return err
	})
	if err != nil {
		return err
	}
	c.JSON(http.StatusOK, viewMember(updated))
	return nil
}
