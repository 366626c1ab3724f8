package handlers

import (
	"context"
	"net/http"
	"sort"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/hue-cdt/cdt/domain"
)

// listUnits answers GET /units: every matching unit at once (no paging). The
// province, districts and communes come from the reference data shipped in the
// binary and are public; villages come from the commune registries and are
// limited to the caller's scope.
func (s *Server) listUnits(c *gin.Context) error {
	level := domain.Level(c.Query("level"))
	if level != "" && !level.Valid() {
		return domain.Invalid("level", "one_of", "province, district, commune, village")
	}
	asOf, err := queryDate(c, "as_of")
	if err != nil {
		return err
	}
	if asOf == "" {
		asOf = s.today()
	}
	f := domain.UnitFilter{Level: level, Parent: c.Query("parent"), AsOf: asOf}
	units := []domain.Unit{}
	if level != domain.LevelVillage {
		units = append(units, s.d.Units.Find(f)...)
	}
	if level == "" || level == domain.LevelVillage {
		vs, err := s.villages(c.Request.Context(), scope(c), f)
		if err != nil {
			return err
		}
		units = append(units, vs...)
	}
	items := make([]unitView, len(units))
	for i, u := range units {
		items[i] = viewUnit(u)
	}
	c.JSON(http.StatusOK, gin.H{"items": items, "total": len(items)})
	return nil
}

// villages returns the villages matching f that sc may read.
func (s *Server) villages(ctx context.Context, sc domain.Scope, f domain.UnitFilter) ([]domain.Unit, error) {
	var communes []string
	switch {
	case f.Parent != "":
		if sc.ReadCommune(f.Parent) != nil && f.Parent != sc.Caller.CommuneCode {
			if _, ok := s.currentCommune(f.Parent); ok {
				return nil, domain.ErrForbidden
			}
			return nil, nil
		}
		communes = []string{f.Parent}
	case sc.Admin():
		communes = s.currentCommuneCodes()
	default:
		communes = []string{sc.Caller.CommuneCode}
	}
	var out []domain.Unit
	for _, code := range communes {
		if _, ok := s.currentCommune(code); !ok {
			continue
		}
		reg, err := s.d.Registry.Registry(ctx, code)
		if err != nil {
			return nil, err
		}
		for _, v := range reg.Villages {
			if u := villageUnit(v, ""); f.Match(u) {
				out = append(out, u)
			}
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Code < out[j].Code })
	return out, nil
}

func (s *Server) showUnit(c *gin.Context) error {
	code := c.Param("code")
	if strings.Contains(code, "-") { // a village: <commune>-<nnn>
		v, err := s.village(c.Request.Context(), scope(c), code)
		if err != nil {
			return err
		}
		c.JSON(http.StatusOK, viewUnit(villageUnit(v, "")))
		return nil
	}
	asOf, err := queryDate(c, "as_of")
	if err != nil {
		return err
	}
	if asOf == "" {
		asOf = s.today()
	}
	u, ok := s.d.Units.Get(code, asOf)
	if !ok {
		return domain.ErrNotFound
	}
	c.JSON(http.StatusOK, viewUnit(u))
	return nil
}

func (s *Server) village(ctx context.Context, sc domain.Scope, code string) (domain.Village, error) {
	commune := domain.CommuneOf(code)
	if sc.ReadCommune(commune) != nil && sc.Caller.CommuneCode != commune {
		return domain.Village{}, domain.ErrNotFound
	}
	reg, err := s.d.Registry.Registry(ctx, commune)
	if err != nil {
		return domain.Village{}, err
	}
	v, ok := reg.Village(code)
	if !ok {
		return domain.Village{}, domain.ErrNotFound
	}
	return v, nil
}

type unitRequest struct {
	Level      string `json:"level"`
	ParentCode string `json:"parent_code"`
	Name       string `json:"name"`
	Type       string `json:"type"`
	Households *int   `json:"households"`
}

// createUnit answers POST /units: commune leaders create their villages.
func (s *Server) createUnit(c *gin.Context) error {
	var req unitRequest
	if err := decode(c, &req, maxBody); err != nil {
		return err
	}
	if req.Level != string(domain.LevelVillage) {
		return domain.Invalid("level", "level")
	}
	commune, ok := s.currentCommune(req.ParentCode)
	if !ok {
		if req.ParentCode == "" {
			return domain.Invalid("parent_code", "required")
		}
		return domain.Invalid("parent_code", "not_a_commune")
	}
	if err := scope(c).ManageCommune(commune.Code); err != nil {
		return err
	}
	if req.Type == "" {
		req.Type = domain.TypeThon
		if commune.Type == domain.TypePhuong {
			req.Type = domain.TypeToDanPho
		}
	}
	in := domain.NewVillage{CommuneCode: commune.Code, Name: req.Name, Type: req.Type}
	if req.Households != nil {
		in.Households = *req.Households
	}
	var created domain.Village
	_, err := s.d.Registry.UpdateRegistry(c.Request.Context(), commune.Code, func(r *domain.CommuneRegistry) error {
		v, err := r.AddVillage(in, s.d.Now())
		created = v
		return err
	})
	if err != nil {
		return err
	}
	c.JSON(http.StatusCreated, viewUnit(villageUnit(created, commune.Name)))
	return nil
}

type villagePatchRequest struct {
	Name       *string `json:"name"`
	Type       *string `json:"type"`
	Households *int    `json:"households"`
	Active     *bool   `json:"active"`
}

// updateUnit answers PATCH /units/{code} for villages.
func (s *Server) updateUnit(c *gin.Context) error {
	code := c.Param("code")
	commune := domain.CommuneOf(code)
	if commune == "" {
		return domain.ErrForbidden // reference units are not edited
	}
	if err := scope(c).ManageCommune(commune); err != nil {
		return domain.ErrNotFound
	}
	var req villagePatchRequest
	if err := decode(c, &req, maxBody); err != nil {
		return err
	}
	var updated domain.Village
	_, err := s.d.Registry.UpdateRegistry(c.Request.Context(), commune, func(r *domain.CommuneRegistry) error {
		v, err := r.UpdateVillage(code, domain.VillagePatch(req), s.d.Now())
		updated = v
		return err
	})
	if err != nil {
		return err
	}
	c.JSON(http.StatusOK, viewUnit(villageUnit(updated, "")))
	return nil
}

// currentCommune returns commune code if it is in force today.
func (s *Server) currentCommune(code string) (domain.Unit, bool) {
	u, ok := s.d.Units.Get(code, s.today())
	if !ok || u.Level != domain.LevelCommune {
		return domain.Unit{}, false
	}
	return u, true
}

// currentCommuneCodes lists today's communes in code order.
func (s *Server) currentCommuneCodes() []string {
	us := s.d.Units.Find(domain.UnitFilter{Level: domain.LevelCommune, AsOf: s.today()})
	out := make([]string, len(us))
	for i, u := range us {
		out[i] = u.Code
	}
	return out
}
