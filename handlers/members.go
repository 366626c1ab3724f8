package handlers

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/hue-cdt/cdt/domain"
)

func (s *Server) listMembers(c *gin.Context) error {
	status, err := queryStatus(c)
	if err != nil {
		return err
	}
	limit, cursor, err := pageParams(c)
	if err != nil {
		return err
	}
	team, commune := c.Query("team"), c.Query("commune")
	if team != "" && commune == "" {
		commune = domain.CommuneOf(team)
	}
	communes, ownTeam, err := s.registryScope(c, commune)
	if err != nil {
		return err
	}
	sc := scope(c)
	if ownTeam != "" && team != "" && team != ownTeam {
		return domain.ErrForbidden
	}
	var items []domain.Member
	err = s.eachRegistry(c.Request.Context(), communes, func(r *domain.CommuneRegistry) {
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
	c.JSON(http.StatusOK, pageBody(page, viewMember))
	return nil
}

// member finds member id and checks the caller may read it.
func (s *Server) member(c *gin.Context, id string) (domain.Member, error) {
	commune := domain.CommuneOf(id)
	if _, ok := s.currentCommune(commune); !ok {
		return domain.Member{}, domain.ErrNotFound
	}
	reg, err := s.d.Registry.Registry(c.Request.Context(), commune)
	if err != nil {
		return domain.Member{}, err
	}
	m, ok := reg.Member(id)
	if !ok {
		return domain.Member{}, domain.ErrNotFound
	}
	if err := scope(c).ReadMember(m); err != nil {
		return domain.Member{}, err
	}
	return m, nil
}

func (s *Server) showMember(c *gin.Context) error {
	m, err := s.member(c, c.Param("id"))
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

func (s *Server) createMember(c *gin.Context) error {
	var req memberRequest
	if err := decode(c, &req, maxBody); err != nil {
		return err
	}
	commune := domain.CommuneOf(req.TeamID)
	if _, ok := s.currentCommune(commune); !ok {
		if req.TeamID == "" {
			return domain.Invalid("team_id", "required")
		}
		return domain.Invalid("team_id", "unknown_team")
	}
	if err := scope(c).ManageCommune(commune); err != nil {
		return err
	}
	var created domain.Member
	_, err := s.d.Registry.UpdateRegistry(c.Request.Context(), commune, func(r *domain.CommuneRegistry) error {
		m, err := r.AddMember(domain.NewMember(req), caller(c).Username, s.today(), s.d.Now())
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

func (s *Server) updateMember(c *gin.Context) error {
	id := c.Param("id")
	if _, err := s.member(c, id); err != nil {
		return err
	}
	commune := domain.CommuneOf(id)
	if err := scope(c).ManageCommune(commune); err != nil {
		return err
	}
	var req memberPatchRequest
	if err := decode(c, &req, maxBody); err != nil {
		return err
	}
	if req.TeamID != nil && domain.CommuneOf(*req.TeamID) != commune {
		return domain.Invalid("team_id", "unknown_team")
	}
	var updated domain.Member
	_, err := s.d.Registry.UpdateRegistry(c.Request.Context(), commune, func(r *domain.CommuneRegistry) error {
		m, err := r.UpdateMember(id, domain.MemberPatch(req), caller(c).Username, s.today(), s.d.Now())
		updated = m
		return err
	})
	if err != nil {
		return err
	}
	c.JSON(http.StatusOK, viewMember(updated))
	return nil
}
