// Package fieldapp is the members' phone app (/app): home, the log form, my
// records, and what makes it work offline and installable — the service
// worker and the manifest. The app's offline queue syncs through the API's
// batch endpoint, served for it under /app/api with the page session. Its
// routes are listed, with their access rules, in the route table of package
// handlers.
package fieldapp

import (
	"sort"

	"github.com/gin-gonic/gin"

	"github.com/hue-cdt/cdt/domain"
	"github.com/hue-cdt/cdt/handlers/core"
	"github.com/hue-cdt/cdt/handlers/httpx"
	"github.com/hue-cdt/cdt/handlers/render"
)

// Templates of the field app.
const (
	tplAppHome    = "app_home.html"
	tplAppLog     = "app_log.html"
	tplAppRecords = "app_records.html"
)

// Handlers answers the field app's routes.
type Handlers struct{ *core.Deps }

// New returns the field app's handlers.
func New(d *core.Deps) *Handlers { return &Handlers{Deps: d} }

// appContext is what every page of the app shows: the member, their team, the
// villages they work in.
type appContext struct {
	Member   domain.Member
	Team     domain.Team
	Villages []domain.Village
	Commune  domain.Unit
	Messages map[string]string // for app.js, translated
}

// jsMessages are the sentences app.js shows, translated by the server.
var jsMessages = []string{"app.queue_pending", "app.queue_rejected", "app.queue_none", "app.sync_offline",
	"app.sync_login", "app.sync_error", "app.sync_done", "app.saved_offline", "app.saved", "app.fix", "app.discard",
	"app.syncing", "app.need_service", "app.need_household"}

func (h *Handlers) appContext(c *gin.Context) (appContext, error) {
	cl := httpx.Caller(c)
	reg, err := h.Registry.Registry(c.Request.Context(), cl.CommuneCode)
	if err != nil {
		return appContext{}, err
	}
	m, _ := reg.Member(cl.MemberID)
	t, _ := reg.Team(cl.TeamID)
	u, _ := h.Commune(cl.CommuneCode)
	var vs []domain.Village
	for _, v := range reg.Villages {
		if v.Active {
			vs = append(vs, v)
		}
	}
	// The team's own village first: it is preselected.
	sort.SliceStable(vs, func(i, j int) bool { return vs[i].Code == t.VillageCode && vs[j].Code != t.VillageCode })
	l := render.Loc(c)
	msgs := map[string]string{}
	for _, k := range jsMessages {
		msgs[k] = l.T(k)
	}
	return appContext{Member: m, Team: t, Villages: vs, Commune: u, Messages: msgs}, nil
}

// villageNames maps the codes of the app's villages to their names.
func (ac appContext) villageNames() map[string]string {
	out := map[string]string{}
	for _, v := range ac.Villages {
		out[v.Code] = v.Name
	}
	return out
}
