package api

import (
	"context"
	"net/http"
	"sort"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/hue-cdt/cdt/domain"
	"github.com/hue-cdt/cdt/handlers/httpx"
)

// ListUnits answers GET /units: every matching unit at once (no paging). The
// province, districts and communes come from the reference data shipped in the
// binary and are public; villages come from the commune registries and are
// limited to the caller's scope.
func (h *Handlers) ListUnits(c *gin.Context) error {
	level := domain.Level(c.Query("level"))
	if level != "" && !level.Valid() {
		return domain.Invalid("level", "one_of", "province, district, commune, village")
	}
	asOf, err := h.asOf(c)
	if err != nil {
		return err
	}
	f := domain.UnitFilter{Level: level, Parent: c.Query("parent"), AsOf: asOf}
	units := []domain.Unit{}
	if level != domain.LevelVillage {
		units = append(units, h.Units.Find(f)...)
	}
	if level == "" || level == domain.LevelVillage {
		vs, err := h.villages(c.Request.Context(), httpx.Scope(c), f)
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

// asOf reads ?as_of=, today by default.
func (h *Handlers) asOf(c *gin.Context) (domain.Date, error) {
	asOf, err := httpx.QueryDate(c, "as_of")
	if asOf == "" && err == nil {
		asOf = h.Today()
	}
	return asOf, err
}

// villageCommunes are the communes whose villages a list reads: every
// commune for a province admin without a parent, else the parent as sc allows
// it. A parent outside the scope is ErrForbidden when it is a commune of
// today, and has no villages otherwise.
func (h *Handlers) villageCommunes(sc domain.Scope, parent string) ([]string, error) {
	if parent == "" && sc.Admin() {
		return h.CommuneCodes(), nil
	}
	commune, err := sc.FilterCommune(parent)
	if err != nil {
		if _, current := h.Commune(parent); !current {
			return nil, nil
		}
		return nil, err
	}
	return []string{commune}, nil
}

// villages returns the villages matching f that sc may read.
func (h *Handlers) villages(ctx context.Context, sc domain.Scope, f domain.UnitFilter) ([]domain.Unit, error) {
	communes, err := h.villageCommunes(sc, f.Parent)
	if err != nil {
		return nil, err
	}
	var out []domain.Unit
	for _, code := range communes {
		if _, ok := h.Commune(code); !ok {
			continue
		}
		reg, err := h.Registry.Registry(ctx, code)
		if err != nil {
			return nil, err
		}
		for _, v := range reg.Villages {
			if u := villageUnit(v); f.Match(u) {
				out = append(out, u)
			}
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Code < out[j].Code })
	return out, nil
}

// ShowUnit answers GET /units/{code}: a reference unit, or a village the
// caller may read (404 otherwise).
func (h *Handlers) ShowUnit(c *gin.Context) error {
	code := c.Param("code")
	if strings.Contains(code, "-") { // a village: <commune>-<nnn>
		v, err := h.village(c.Request.Context(), httpx.Scope(c), code)
		if err != nil {
			return err
		}
		c.JSON(http.StatusOK, viewUnit(villageUnit(v)))
		return nil
	}
	asOf, err := h.asOf(c)
	if err != nil {
		return err
	}
	u, ok := h.Units.Get(code, asOf)
	if !ok {
		return domain.ErrNotFound
	}
	c.JSON(http.StatusOK, viewUnit(u))
	return nil
}

// village finds village code if sc may read it (ErrNotFound otherwise).
func (h *Handlers) village(ctx context.Context, sc domain.Scope, code string) (domain.Village, error) {
	if err := sc.ReadVillage(code); err != nil {
		return domain.Village{}, err
	}
	reg, err := h.Registry.Registry(ctx, domain.CommuneOf(code))
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

// CreateUnit answers POST /units: managers create the villages of a commune
// they manage (403 for another).
func (h *Handlers) CreateUnit(c *gin.Context) error {
	var req unitRequest
	if err := httpx.Decode(c, &req, httpx.MaxBody); err != nil {
		return err
	}
	if req.Level != string(domain.LevelVillage) {
		return domain.Invalid("level", "level")
	}
	commune, ok := h.Commune(req.ParentCode)
	if !ok {
		if req.ParentCode == "" {
			return domain.Invalid("parent_code", "required")
		}
		return domain.Invalid("parent_code", "not_a_commune")
	}
	if err := httpx.Scope(c).ManageCommune(commune.Code); err != nil {
		return err
	}
	in := domain.NewVillage{CommuneCode: commune.Code, Name: req.Name, Type: req.Type}
	if in.Type == "" {
		in.Type = domain.TypeThon
		if commune.Type == domain.TypePhuong {
			in.Type = domain.TypeToDanPho
		}
	}
	if req.Households != nil {
		in.Households = *req.Households
	}
	var created domain.Village
	_, err := h.Registry.UpdateRegistry(c.Request.Context(), commune.Code, func(r *domain.CommuneRegistry) error {
		v, err := r.AddVillage(in, h.Now())
		created = v
		return err
	})
	if err != nil {
		return err
	}
	c.JSON(http.StatusCreated, viewUnit(villageUnit(created)))
	return nil
}

type villagePatchRequest struct {
	Name       *string `json:"name"`
	Type       *string `json:"type"`
	Households *int    `json:"households"`
	Active     *bool   `json:"active"`
}

// UpdateUnit answers PATCH /units/{code} for villages: a village the caller
// may not read is 404, one of a commune they do not manage 403.
func (h *Handlers) UpdateUnit(c *gin.Context) error {
	code := c.Param("code")
	commune := domain.CommuneOf(code)
	if commune == "" {
		return domain.ErrForbidden // reference units are not edited
	}
	sc := httpx.Scope(c)
	if err := sc.ReadVillage(code); err != nil {
		return err
	}
	if err := sc.ManageCommune(commune); err != nil {
		return err
	}
	var req villagePatchRequest
	if err := httpx.Decode(c, &req, httpx.MaxBody); err != nil {
		return err
	}
	var updated domain.Village
	_, err := h.Registry.UpdateRegistry(c.Request.Context(), commune, func(r *domain.CommuneRegistry) error {
		v, err := r.UpdateVillage(code, domain.VillagePatch(req), h.Now())
		updated = v
		return err
	})
	if err != nil {
		return err
	}
	c.JSON(http.StatusOK, viewUnit(villageUnit(updated)))
	return nil
}
