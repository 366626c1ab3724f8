package pages

import (
	"net/http"
	"sort"

	"github.com/gin-gonic/gin"

	"github.com/hue-cdt/cdt/domain"
	"github.com/hue-cdt/cdt/handlers/render"
)

type communeRow struct {
	domain.Unit
	Villages, Teams, Members int
}

// CommunesPage answers GET /communes: every commune of the city with the size
// of its registry.
func (h *Handlers) CommunesPage(c *gin.Context) error {
	counts, err := h.Registry.RegistryCounts(c.Request.Context())
	if err != nil {
		return err
	}
	var rows []communeRow
	var tot struct{ Communes, Villages, Teams, Members int }
	for _, u := range h.Units.Find(domain.UnitFilter{Level: domain.LevelCommune, AsOf: h.Today()}) {
		n := counts[u.Code]
		rows = append(rows, communeRow{Unit: u, Villages: n.Villages, Teams: n.Teams, Members: n.Members})
		tot.Communes++
		tot.Villages += n.Villages
		tot.Teams += n.Teams
		tot.Members += n.Members
	}
	sort.Slice(rows, func(i, j int) bool { return domain.FoldKey(rows[i].ShortName) < domain.FoldKey(rows[j].ShortName) })
	render.HTML(c, http.StatusOK, tplCommunes, render.Loc(c).T("communes.title"), render.Page{Data: map[string]any{"Rows": rows, "Totals": tot}})
	return nil
}

// communeView is the registry of a commune arranged for its page.
type communeView struct {
	Commune      domain.Unit
	Villages     []domain.Village
	Teams        []domain.TeamView
	VillageNames map[string]string
	VillageTeam  map[string]*domain.TeamView // nil for a village without an active team
	// Stats counts what the tables list: active villages and teams (closed
	// ones are listed too, counted apart).
	Stats struct{ Villages, ClosedVillages, VillagesWithTeam, Teams, DissolvedTeams, Members, Households int }
}

func newCommuneView(u domain.Unit, reg *domain.CommuneRegistry) *communeView {
	v := &communeView{Commune: u, Villages: reg.Villages, VillageNames: map[string]string{}, VillageTeam: map[string]*domain.TeamView{}}
	v.Teams = reg.TeamViews(nil)
	for _, vl := range reg.Villages {
		v.VillageNames[vl.Code] = vl.Name
		if vl.Active {
			v.Stats.Villages++
			v.Stats.Households += vl.Households
		} else {
			v.Stats.ClosedVillages++
		}
	}
	for i, t := range v.Teams {
		if !t.Active {
			v.Stats.DissolvedTeams++
		}
		if t.Active {
			v.Stats.Teams++
			v.Stats.Members += t.MemberCount
			if _, seen := v.VillageTeam[t.VillageCode]; t.VillageCode != "" && !seen {
				v.VillageTeam[t.VillageCode] = &v.Teams[i]
				v.Stats.VillagesWithTeam++
			}
		}
	}
	return v
}

// CommunePage answers GET /communes/{code}: the villages and teams of a
// commune the caller manages (403 for another).
func (h *Handlers) CommunePage(c *gin.Context) error {
	u, reg, err := h.managedCommune(c, c.Param("code"))
	if err != nil {
		return err
	}
	render.HTML(c, http.StatusOK, tplCommune, u.Name, render.Page{Data: newCommuneView(u, reg)})
	return nil
}
