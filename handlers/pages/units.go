package pages

import (
	"net/http"
	"strconv"

	"github.com/gin-gonic/gin"

	"github.com/hue-cdt/cdt/domain"
	"github.com/hue-cdt/cdt/handlers/httpx"
	"github.com/hue-cdt/cdt/handlers/render"
	"github.com/hue-cdt/cdt/refdata"
)

// VillageForm creates (/communes/{code}/villages/new) or edits
// (/villages/{code}/edit) a village: 404 for a village the caller may not
// read, 403 for a commune they do not manage.
func (h *Handlers) VillageForm(c *gin.Context) error {
	code, edit := c.Param("code"), c.FullPath() == "/villages/:code/edit"
	commune := code
	if edit {
		if err := httpx.Scope(c).ReadVillage(code); err != nil {
			return err
		}
		commune = domain.CommuneOf(code)
	}
	u, reg, err := h.managedCommune(c, commune)
	if err != nil {
		return err
	}
	data := map[string]any{"Commune": u, "Types": domain.VillageTypes, "Edit": edit}
	title := render.Loc(c).T("village.new")
	form := map[string]string{"type": domain.TypeThon}
	if u.Type == domain.TypePhuong {
		form["type"] = domain.TypeToDanPho
	}
	if edit {
		v, ok := reg.Village(code)
		if !ok {
			return domain.ErrNotFound
		}
		title = v.Name
		form = map[string]string{"name": v.Name, "type": v.Type, "households": strconv.Itoa(v.Households), "active": strconv.FormatBool(v.Active)}
	}
	if c.Request.Method == http.MethodGet {
		render.HTML(c, http.StatusOK, tplVillageForm, title, render.Page{Form: form, Data: data})
		return nil
	}
	form = httpx.PostForm(c)
	if err := h.saveVillage(c, commune, code, edit, form); err != nil {
		return formOutcome(c, err, tplVillageForm, title, form, data)
	}
	c.Redirect(http.StatusSeeOther, "/communes/"+commune+"?done=village_saved")
	return nil
}

// saveVillage adds a village to commune, or changes village code.
func (h *Handlers) saveVillage(c *gin.Context, commune, code string, edit bool, form map[string]string) error {
	var p domain.Problems
	hh := atoiField(form, "households", &p)
	if err := p.Err(); err != nil {
		return err
	}
	_, err := h.Registry.UpdateRegistry(c.Request.Context(), commune, func(r *domain.CommuneRegistry) error {
		if !edit {
			_, err := r.AddVillage(domain.NewVillage{CommuneCode: commune, Name: form["name"], Type: form["type"], Households: hh}, h.Now())
			return err
		}
		name, typ, active := form["name"], form["type"], form["active"] == "true"
		_, err := r.UpdateVillage(code, domain.VillagePatch{Name: &name, Type: &typ, Households: &hh, Active: &active}, h.Now())
		return err
	})
	return err
}

type unitGroup struct {
	District domain.Unit
	Communes []domain.Unit
}

// UnitsPage answers GET /units?as_of=: the administrative units in force on
// any day since 2021.
func (h *Handlers) UnitsPage(c *gin.Context) error {
	asOf, err := httpx.QueryDate(c, "as_of")
	if err != nil {
		return err
	}
	if asOf == "" {
		asOf = h.Today()
	}
	prov, _ := h.Units.Get(refdata.ProvinceCode, asOf)
	communes := h.Units.Find(domain.UnitFilter{Level: domain.LevelCommune, AsOf: asOf})
	districts := h.Units.Find(domain.UnitFilter{Level: domain.LevelDistrict, AsOf: asOf})
	var groups []unitGroup
	if len(districts) == 0 && len(communes) > 0 {
		groups = append(groups, unitGroup{Communes: communes})
	}
	for _, d := range districts {
		g := unitGroup{District: d}
		for _, cm := range communes {
			if cm.ParentCode == d.Code {
				g.Communes = append(g.Communes, cm)
			}
		}
		groups = append(groups, g)
	}
	succ := map[string]string{}
	for _, cm := range communes {
		if cm.SuccessorCode != "" {
			if now, ok := h.Units.Current(cm.Code, asOf, h.Today()); ok {
				u, _ := h.Units.Get(now, h.Today())
				succ[cm.Code] = u.Name
			}
		}
	}
	var p *domain.Unit
	if prov.Code != "" {
		p = &prov
	}
	render.HTML(c, http.StatusOK, tplUnits, render.Loc(c).T("units.title"), render.Page{Data: map[string]any{
		"AsOf": asOf, "Province": p, "Groups": groups, "Successors": succ}})
	return nil
}
