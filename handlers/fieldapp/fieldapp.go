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
	"github.com/hue-cdt/cdt/i18n"
)

// Templates of the field app.
const (
	tplAppHome    = "app_home.html"
	tplAppLog     = "app_log.html"
	tplAppRecords = "app_records.html"
	tplAppOffline = "app_offline.html"
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
	Asked    asked             // questions about the member's records (home and log pages)
	reg      *domain.CommuneRegistry
}

// jsMessages are the sentences app.js shows, translated by the server; their
// placeholders ({{.N}}, {{.Service}}, …) are left for app.js to fill.
var jsMessages = []string{"app.queue_pending", "app.queue_none", "app.queue_others", "app.sync_offline",
	"app.sync_login", "app.sync_error", "app.sync_done", "app.sync_rejected", "app.sync_other_member", "app.saved_what",
	"app.sent_what", "app.record_what", "app.saved_offline", "app.saved", "app.rejected_title", "app.fix", "app.discard",
	"app.syncing", "app.need_household", "app.offline_note", "app.needs_network", "app.need_consent", "app.no_household",
	"app.note_scrubbed"}

// placeholders are the names app.js fills in the sentences.
var placeholders = []any{"N", "{{.N}}", "Service", "{{.Service}}", "Ref", "{{.Ref}}", "Time", "{{.Time}}"}

// messages are the sentences of app.js in l's language, with the services'
// names and the server's own words for a household number it refuses.
func messages(l *i18n.Localizer) map[string]string {
	msgs := map[string]string{"rule.household_ref": l.T("rule.household_ref", "Field", l.T("field.household_ref"))}
	for _, k := range jsMessages {
		msgs[k] = l.T(k, placeholders...)
	}
	for _, s := range domain.Services {
		msgs["service."+s] = l.T("service." + s)
	}
	return msgs
}

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
	// The service worker keeps the app's pages for one member: it drops them
	// when a page of another member arrives.
	c.Header("X-CDT-Member", m.ID)
	return appContext{Member: m, Team: t, Villages: vs, Commune: u, Messages: messages(render.Loc(c)), reg: reg}, nil
}

// villageNames maps the codes of the app's villages to their names.
func (ac appContext) villageNames() map[string]string {
	out := map[string]string{}
	for _, v := range ac.Villages {
		out[v.Code] = v.Name
	}
	return out
}

// VillageNames is villageNames for the templates.
func (ac appContext) VillageNames() map[string]string { return ac.villageNames() }

// memberNames maps the IDs of the commune's members to their names.
func (ac appContext) memberNames() map[string]string {
	out := map[string]string{}
	if ac.reg != nil {
		for _, m := range ac.reg.Members {
			out[m.ID] = m.FullName
		}
	}
	return out
}

// Offline answers GET /app/offline: what the service worker shows for a page
// of the app it does not keep, when there is no network. It names nobody, so
// it is kept for every member.
func Offline(c *gin.Context) error {
	l := render.Loc(c)
	render.HTML(c, 200, tplAppOffline, l.T("app.offline_title"), render.Page{Data: map[string]any{"Messages": messages(l)}})
	return nil
}
