package handlers

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"sort"
	"strings"
	"text/template"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/google/uuid"

	"github.com/hue-cdt/cdt/domain"
	"github.com/hue-cdt/cdt/handlers/httpx"
	"github.com/hue-cdt/cdt/i18n"
	"github.com/hue-cdt/cdt/ingest"
	"github.com/hue-cdt/cdt/templates"
)

// Templates of the field app.
const (
	tplAppHome    = "app_home.html"
	tplAppLog     = "app_log.html"
	tplAppRecords = "app_records.html"
)

func init() {
	extraPages = append(extraPages, tplAppHome, tplAppLog, tplAppRecords)
	extraPageRoutes = append(extraPageRoutes, func(s *Server, g *gin.RouterGroup) {
		g.GET("/app", s.page(s.appHome))
		g.GET("/app/log", s.page(s.appLog))
		g.POST("/app/log", s.page(s.appLogSubmit))
		g.GET("/app/records", s.page(s.appRecords))
	})
	homeField = func(domain.Caller) string { return "/app" }
}

// appRoutes are the field app's routes that are not pages: the service worker,
// the manifest, and the JSON endpoint the page's offline queue syncs through.
func (s *Server) appRoutes() {
	e := s.engine
	e.GET("/app/sw.js", s.serviceWorker)
	e.GET("/app/manifest.webmanifest", s.manifest)
	api := e.Group("/app/api", s.csrfProtect(), s.webJSON)
	api.POST("/assistance/batch", httpx.JSON(s.api.CreateAssistanceBatch).Func())
}

// webJSON authenticates the page's JSON calls by their cookies and answers
// failures in the error format (a page would redirect to the login instead).
func (s *Server) webJSON(c *gin.Context) {
	cl, err := s.webCaller(c)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.Request = c.Request.WithContext(domain.WithCaller(c.Request.Context(), cl))
	c.Next()
}

// fieldOnly keeps the field app to members and team leaders.
func fieldOnly(c *gin.Context) error {
	if !caller(c).Role.Field() {
		return domain.ErrNotFound
	}
	return nil
}

type appContext struct {
	Member   domain.Member
	Team     domain.Team
	Villages []domain.Village
	Commune  domain.Unit
	Messages map[string]string // for app.js, translated
}

func (s *Server) appContext(c *gin.Context) (appContext, error) {
	if err := fieldOnly(c); err != nil {
		return appContext{}, err
	}
	cl := caller(c)
	reg, err := s.d.Registry.Registry(c.Request.Context(), cl.CommuneCode)
	if err != nil {
		return appContext{}, err
	}
	m, _ := reg.Member(cl.MemberID)
	t, _ := reg.Team(cl.TeamID)
	u, _ := s.currentCommune(cl.CommuneCode)
	var vs []domain.Village
	for _, v := range reg.Villages {
		if v.Active {
			vs = append(vs, v)
		}
	}
	// The team's own village first: it is preselected.
	sort.SliceStable(vs, func(i, j int) bool { return vs[i].Code == t.VillageCode && vs[j].Code != t.VillageCode })
	l := loc(c)
	msgs := map[string]string{}
	for _, k := range jsMessages {
		msgs[k] = l.T(k)
	}
	return appContext{Member: m, Team: t, Villages: vs, Commune: u, Messages: msgs}, nil
}

type appHomeData struct {
	appContext
	Today, Week int
	Recent      []domain.Record
	VillageName map[string]string
}

// weekStart is the Monday of d's week.
func weekStart(d domain.Date) domain.Date {
	wd := int(d.Time().Weekday()+6) % 7 // Monday = 0
	return d.AddDays(-wd)
}

func (s *Server) appHome(c *gin.Context) error {
	ac, err := s.appContext(c)
	if err != nil {
		return err
	}
	ctx, today := c.Request.Context(), s.today()
	d := appHomeData{appContext: ac, VillageName: map[string]string{}}
	if d.Today, err = s.d.Live.MemberCount(ctx, ac.Member.CommuneCode, ac.Member.ID, today, today); err != nil {
		return err
	}
	if d.Week, err = s.d.Live.MemberCount(ctx, ac.Member.CommuneCode, ac.Member.ID, weekStart(today), today); err != nil {
		return err
	}
	mine := func(r domain.Record) bool { return r.MemberID == ac.Member.ID }
	if d.Recent, _, err = s.d.Live.Recent(ctx, "m:"+ac.Member.ID, mine, 10); err != nil {
		return err
	}
	for _, v := range ac.Villages {
		d.VillageName[v.Code] = v.Name
	}
	s.render(c, http.StatusOK, tplAppHome, loc(c).T("app.home"), pageData{Data: d})
	return nil
}

type appLogData struct {
	appContext
	Services, Outcomes, AgeGroups, Genders, Places []string
	ClientID                                       string
}

// serviceOrder puts the services members give most often first on the form.
var serviceOrder = []string{"vneid_activation", "vneid_install", "public_service_online", "cashless_payment", "hue_s",
	"digital_skills", "health_insurance_app", "digital_signature", "digital_address", "ecommerce", "other"}

// jsMessages are the sentences app.js shows, translated by the server.
var jsMessages = []string{"app.queue_pending", "app.queue_rejected", "app.queue_none", "app.sync_offline",
	"app.sync_login", "app.sync_error", "app.sync_done", "app.saved_offline", "app.saved", "app.fix", "app.discard",
	"app.syncing", "app.need_service", "app.need_household"}

func (s *Server) logForm(c *gin.Context, status int, form, errs map[string]string) error {
	ac, err := s.appContext(c)
	if err != nil {
		return err
	}
	l := loc(c)
	d := appLogData{appContext: ac, Services: serviceOrder, Outcomes: domain.Outcomes, AgeGroups: domain.AgeGroups,
		Genders: domain.Genders, Places: domain.Places, ClientID: uuid.NewString()}
	if form == nil {
		form = map[string]string{"outcome": "done", "village_code": ac.Team.VillageCode, "place": "door"}
	}
	s.render(c, status, tplAppLog, l.T("app.log"), pageData{Data: d, Form: form, Errors: errs})
	return nil
}

func (s *Server) appLog(c *gin.Context) error { return s.logForm(c, http.StatusOK, nil, nil) }

// appLogSubmit stores a record sent by the form without JavaScript; the
// client_id generated with the form makes a double submit harmless.
func (s *Server) appLogSubmit(c *gin.Context) error {
	if err := fieldOnly(c); err != nil {
		return err
	}
	f := postForm(c)
	in := domain.NewRecord{ClientID: f["client_id"], Service: f["service"], HouseholdRef: f["household_ref"],
		VillageCode: f["village_code"], OccurredAt: s.d.Now().Format(time.RFC3339), Outcome: f["outcome"],
		Gender: f["citizen_gender"], AgeGroup: f["citizen_age_group"], Place: f["place"], Note: f["note"]}
	res, err := s.d.Ingest.Log(c.Request.Context(), caller(c), []domain.NewRecord{in}, time.Time{})
	if err != nil {
		return err
	}
	if res[0].Status == ingest.Invalid {
		f["household_ref"] = ""
		return s.logForm(c, http.StatusUnprocessableEntity, f, fieldErrors(loc(c), res[0].Err))
	}
	c.Redirect(http.StatusSeeOther, "/app?done=logged")
	return nil
}

type appRecordsData struct {
	Records     []domain.Record
	VillageName map[string]string
	Next        string
	Team        bool
}

// appRecords lists the member's records (a team leader may ask for the team's).
func (s *Server) appRecords(c *gin.Context) error {
	ac, err := s.appContext(c)
	if err != nil {
		return err
	}
	f := domain.RecordFilter{MemberID: ac.Member.ID, Limit: 30}
	team := c.Query("team") == "1" && caller(c).Role == domain.RoleTeamLeader
	if team {
		f = domain.RecordFilter{TeamID: ac.Team.ID, Limit: 30}
	}
	if cur := c.Query("cursor"); cur != "" {
		if f.After, err = domain.DecodeCursor(cur); err != nil {
			return err
		}
	}
	recs, next, err := s.findRecords(c, f)
	if err != nil {
		return err
	}
	d := appRecordsData{Records: recs, VillageName: map[string]string{}, Team: team}
	if next != "" {
		d.Next = domain.EncodeCursor(next)
	}
	for _, v := range ac.Villages {
		d.VillageName[v.Code] = v.Name
	}
	s.render(c, http.StatusOK, tplAppRecords, loc(c).T("app.records"), pageData{Data: d})
	return nil
}

// serviceWorker serves /app/sw.js with the versioned URLs of the app shell, so
// that a new release replaces the cache.
func (s *Server) serviceWorker(c *gin.Context) {
	if err := pageViews.load(); err != nil {
		s.fail(c, err)
		return
	}
	src, err := templates.FS.ReadFile("sw.js.tmpl")
	if err != nil {
		s.fail(c, err)
		return
	}
	var assets []string
	for _, u := range pageViews.static {
		assets = append(assets, u)
	}
	sort.Strings(assets)
	h := sha256.Sum256([]byte(strings.Join(assets, ",") + string(src)))
	t, err := template.New("sw").Parse(string(src))
	if err != nil {
		s.fail(c, err)
		return
	}
	var buf bytes.Buffer
	if err := t.Execute(&buf, map[string]any{"Version": hex.EncodeToString(h[:6]), "Assets": assets}); err != nil {
		s.fail(c, err)
		return
	}
	c.Header("Cache-Control", "no-cache")
	c.Header("Service-Worker-Allowed", "/app") // the scope covers /app itself, not only /app/…
	c.Data(http.StatusOK, "text/javascript; charset=utf-8", buf.Bytes())
}

// manifest serves the web app manifest in the page language.
func (s *Server) manifest(c *gin.Context) {
	if err := pageViews.load(); err != nil {
		s.fail(c, err)
		return
	}
	l := i18n.For(pageLang(c))
	icon := func(name, size string) gin.H {
		return gin.H{"src": pageViews.static[name], "sizes": size, "type": "image/png", "purpose": "any maskable"}
	}
	c.Header("Cache-Control", "no-cache")
	c.Header("Content-Type", "application/manifest+json")
	c.JSON(http.StatusOK, gin.H{
		"name": l.T("app.name"), "short_name": l.T("app.short_name"), "lang": l.Lang(),
		"start_url": "/app", "scope": "/app", "display": "standalone", "orientation": "portrait",
		"background_color": "#f4f6f9", "theme_color": "#0b5cab",
		"icons": []gin.H{icon("icon-192.png", "192x192"), icon("icon-512.png", "512x512")},
	})
}

func init() {
	if len(serviceOrder) != len(domain.Services) {
		panic("handlers: serviceOrder must list every service")
	}
}
