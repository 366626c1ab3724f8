package handlers

import (
	"context"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/hue-cdt/cdt/domain"
)

// registryScope works out which communes a list may read, and narrows field
// roles to their own team. It is the list-side twin of domain.Scope.
func (s *Server) registryScope(c *gin.Context, commune string) (communes []string, ownTeam string, err error) {
	sc := scope(c)
	if sc.Caller.Role.Field() {
		if commune != "" && commune != sc.Caller.CommuneCode {
			return nil, "", domain.ErrForbidden
		}
		return []string{sc.Caller.CommuneCode}, sc.Caller.TeamID, nil
	}
	commune, err = sc.FilterCommune(commune)
	if err != nil {
		return nil, "", err
	}
	if commune == "" {
		return s.currentCommuneCodes(), "", nil
	}
	if _, ok := s.currentCommune(commune); !ok {
		return nil, "", domain.Invalid("commune", "not_a_commune")
	}
	return []string{commune}, "", nil
}

// eachRegistry calls fn with the registry of every commune, in code order.
func (s *Server) eachRegistry(ctx context.Context, communes []string, fn func(*domain.CommuneRegistry)) error {
	if len(communes) == 1 {
		reg, err := s.d.Registry.Registry(ctx, communes[0])
		if err != nil {
			return err
		}
		fn(reg)
		return nil
	}
	regs, err := s.d.Registry.Registries(ctx, communes)
	if err != nil {
		return err
	}
	for _, code := range communes {
		if reg, ok := regs[code]; ok {
			fn(reg)
		}
	}
	return nil
}

func (s *Server) listTeams(c *gin.Context) error {
	status, err := queryStatus(c)
	if err != nil {
		return err
	}
	limit, cursor, err := pageParams(c)
	if err != nil {
		return err
	}
	village, commune := c.Query("village"), c.Query("commune")
	if village != "" && commune == "" {
		commune = domain.CommuneOf(village)
	}
	communes, ownTeam, err := s.registryScope(c, commune)
	if err != nil {
		return err
	}
	var items []domain.TeamView
	err = s.eachRegistry(c.Request.Context(), communes, func(r *domain.CommuneRegistry) {
		items = append(items, r.TeamViews(func(t domain.Team) bool {
			return status(t.Active) && (village == "" || t.VillageCode == village) && (ownTeam == "" || t.ID == ownTeam)
		})...)
	})
	if err != nil {
		return err
	}
	page, err := domain.Paginate(items, func(t domain.TeamView) string { return t.ID }, cursor, limit)
	if err != nil {
		return err
	}
	c.JSON(http.StatusOK, pageBody(page, viewTeam))
	return nil
}

// team finds team id and checks the caller may read it.
func (s *Server) team(c *gin.Context, id string) (*domain.CommuneRegistry, domain.TeamView, error) {
	commune := domain.CommuneOf(id)
	if _, ok := s.currentCommune(commune); !ok {
		return nil, domain.TeamView{}, domain.ErrNotFound
	}
	reg, err := s.d.Registry.Registry(c.Request.Context(), commune)
	if err != nil {
		return nil, domain.TeamView{}, err
	}
	views := reg.TeamViews(func(t domain.Team) bool { return t.ID == id })
	if len(views) == 0 {
		return nil, domain.TeamView{}, domain.ErrNotFound
	}
	if err := scope(c).ReadTeam(views[0].Team); err != nil {
		return nil, domain.TeamView{}, err
	}
	return reg, views[0], nil
}

func (s *Server) showTeam(c *gin.Context) error {
	_, t, err := s.team(c, c.Param("id"))
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

func (s *Server) createTeam(c *gin.Context) error {
	var req teamRequest
	if err := decode(c, &req, maxBody); err != nil {
		return err
	}
	if req.CommuneCode == "" && req.VillageCode != "" {
		req.CommuneCode = domain.CommuneOf(req.VillageCode)
	}
	if _, ok := s.currentCommune(req.CommuneCode); !ok {
		if req.CommuneCode == "" {
			return domain.Invalid("commune_code", "required")
		}
		return domain.Invalid("commune_code", "not_a_commune")
	}
	if err := scope(c).ManageCommune(req.CommuneCode); err != nil {
		return err
	}
	in := domain.NewTeam(req)
	var created domain.Team
	reg, err := s.d.Registry.UpdateRegistry(c.Request.Context(), req.CommuneCode, func(r *domain.CommuneRegistry) error {
		t, err := r.AddTeam(in, s.today(), s.d.Now())
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

func (s *Server) updateTeam(c *gin.Context) error {
	id := c.Param("id")
	if _, _, err := s.team(c, id); err != nil {
		return err
	}
	commune := domain.CommuneOf(id)
	if err := scope(c).ManageCommune(commune); err != nil {
		return err
	}
	var req teamPatchRequest
	if err := decode(c, &req, maxBody); err != nil {
		return err
	}
	reg, err := s.d.Registry.UpdateRegistry(c.Request.Context(), commune, func(r *domain.CommuneRegistry) error {
		_, err := r.UpdateTeam(id, domain.TeamPatch(req), s.today(), s.d.Now())
		return err
	})
	if err != nil {
		return err
	}
	c.JSON(http.StatusOK, viewTeam(reg.TeamViews(func(t domain.Team) bool { return t.ID == id })[0]))
	return nil
}
