package handlers

import (
	"errors"
	"net/http"
	"sort"
	"strconv"

	"github.com/gin-gonic/gin"

	"github.com/hue-cdt/cdt/domain"
	"github.com/hue-cdt/cdt/i18n"
)

func (s *Server) registryPages(g *gin.RouterGroup) {
	g.GET("/communes", s.page(s.communesPage))
	g.GET("/communes/:code", s.page(s.communePage))
	g.GET("/communes/:code/villages/new", s.page(s.villageForm))
	g.POST("/communes/:code/villages/new", s.page(s.villageForm))
	g.GET("/villages/:code/edit", s.page(s.villageForm))
	g.POST("/villages/:code/edit", s.page(s.villageForm))
	g.GET("/communes/:code/teams/new", s.page(s.teamForm))
	g.POST("/communes/:code/teams/new", s.page(s.teamForm))
	g.GET("/teams/:id", s.page(s.teamPage))
	g.GET("/teams/:id/edit", s.page(s.teamForm))
	g.POST("/teams/:id/edit", s.page(s.teamForm))
	g.GET("/teams/:id/members/new", s.page(s.memberForm))
	g.POST("/teams/:id/members/new", s.page(s.memberForm))
	g.GET("/members/:id", s.page(s.memberPage))
	g.GET("/members/:id/edit", s.page(s.memberForm))
	g.POST("/members/:id/edit", s.page(s.memberForm))
	g.GET("/members/:id/login", s.page(s.userForm))
	g.POST("/members/:id/login", s.page(s.userForm))
	g.GET("/communes/:code/users", s.page(s.usersPage))
	g.GET("/communes/:code/users/new", s.page(s.userForm))
	g.POST("/communes/:code/users/new", s.page(s.userForm))
	g.GET("/users", s.page(s.usersPage))
	g.GET("/users/new", s.page(s.userForm))
	g.POST("/users/new", s.page(s.userForm))
	g.POST("/users/:username/active", s.page(s.userActive))
	g.GET("/units", s.page(s.unitsPage))
}

func loc(c *gin.Context) *i18n.Localizer { return i18n.For(pageLang(c)) }

// managedCommune returns a commune the caller manages (404 otherwise).
func (s *Server) managedCommune(c *gin.Context, code string) (domain.Unit, *domain.CommuneRegistry, error) {
	u, ok := s.currentCommune(code)
	if !ok || scope(c).ManageCommune(code) != nil {
		return domain.Unit{}, nil, domain.ErrNotFound
	}
	reg, err := s.d.Registry.Registry(c.Request.Context(), code)
	return u, reg, err
}

type communeRow struct {
	domain.Unit
	Villages, Teams, Members int
}

func (s *Server) communesPage(c *gin.Context) error {
	if !scope(c).Admin() {
		return domain.ErrNotFound
	}
	counts, err := s.d.Registry.RegistryCounts(c.Request.Context())
	if err != nil {
		return err
	}
	var rows []communeRow
	var tot struct{ Communes, Villages, Teams, Members int }
	for _, u := range s.d.Units.Find(domain.UnitFilter{Level: domain.LevelCommune, AsOf: s.today()}) {
		n := counts[u.Code]
		rows = append(rows, communeRow{Unit: u, Villages: n.Villages, Teams: n.Teams, Members: n.Members})
		tot.Communes++
		tot.Villages += n.Villages
		tot.Teams += n.Teams
		tot.Members += n.Members
	}
	sort.Slice(rows, func(i, j int) bool { return domain.FoldKey(rows[i].ShortName) < domain.FoldKey(rows[j].ShortName) })
	s.render(c, http.StatusOK, tplCommunes, loc(c).T("communes.title"), pageData{Data: map[string]any{"Rows": rows, "Totals": tot}})
	return nil
}

// communeView is the registry of a commune arranged for its page.
type communeView struct {
	Commune      domain.Unit
	Villages     []domain.Village
	Teams        []domain.TeamView
	VillageNames map[string]string
	VillageTeam  map[string]domain.TeamView
	Stats        struct{ Villages, VillagesWithTeam, Teams, Members, Households int }
	Extra        any
}

func newCommuneView(u domain.Unit, reg *domain.CommuneRegistry) *communeView {
	v := &communeView{Commune: u, Villages: reg.Villages, VillageNames: map[string]string{}, VillageTeam: map[string]domain.TeamView{}}
	v.Teams = reg.TeamViews(nil)
	for _, vl := range reg.Villages {
		v.VillageNames[vl.Code] = vl.Name
		if vl.Active {
			v.Stats.Villages++
			v.Stats.Households += vl.Households
		}
	}
	for _, t := range v.Teams {
		if t.Active {
			v.Stats.Teams++
			v.Stats.Members += t.MemberCount
			if _, seen := v.VillageTeam[t.VillageCode]; t.VillageCode != "" && !seen {
				v.VillageTeam[t.VillageCode] = t
				v.Stats.VillagesWithTeam++
			}
		}
	}
	return v
}

// communePageExtra lets later capabilities add to the commune page's data.
var communePageExtra func(s *Server, c *gin.Context, v *communeView) error

func (s *Server) communePage(c *gin.Context) error {
	u, reg, err := s.managedCommune(c, c.Param("code"))
	if err != nil {
		return err
	}
	v := newCommuneView(u, reg)
	if communePageExtra != nil {
		if err := communePageExtra(s, c, v); err != nil {
			return err
		}
	}
	s.render(c, http.StatusOK, tplCommune, u.Name, pageData{Data: v})
	return nil
}

// formOutcome re-renders an invalid form with its messages, or reports the error.
func (s *Server) formOutcome(c *gin.Context, err error, tpl, title string, form map[string]string, data any) error {
	if errors.Is(err, domain.ErrInvalid) || errors.Is(err, domain.ErrConflict) {
		errs := fieldErrors(loc(c), err)
		alert := ""
		if len(errs) == 0 {
			alert = loc(c).T("error.conflict")
		}
		s.render(c, http.StatusUnprocessableEntity, tpl, title, pageData{Form: form, Errors: errs, Data: data, Alert: alert})
		return nil
	}
	return err
}

func atoiField(form map[string]string, field string, p *domain.Problems) int {
	v := form[field]
	if v == "" {
		return 0
	}
	n, err := strconv.Atoi(v)
	if err != nil {
		p.Add(field, "integer")
	}
	return n
}

// villageForm creates (/communes/:code/villages/new) or edits (/villages/:code/edit) a village.
func (s *Server) villageForm(c *gin.Context) error {
	code, edit := c.Param("code"), c.FullPath() == "/villages/:code/edit"
	commune := code
	if edit {
		commune = domain.CommuneOf(code)
	}
	u, reg, err := s.managedCommune(c, commune)
	if err != nil {
		return err
	}
	l := loc(c)
	data := map[string]any{"Commune": u, "Types": domain.VillageTypes, "Edit": edit}
	title := l.T("village.new")
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
		s.render(c, http.StatusOK, tplVillageForm, title, pageData{Form: form, Data: data})
		return nil
	}
	form = postForm(c)
	var p domain.Problems
	hh := atoiField(form, "households", &p)
	if err := p.Err(); err != nil {
		return s.formOutcome(c, err, tplVillageForm, title, form, data)
	}
	_, err = s.d.Registry.UpdateRegistry(c.Request.Context(), commune, func(r *domain.CommuneRegistry) error {
		if !edit {
			_, err := r.AddVillage(domain.NewVillage{CommuneCode: commune, Name: form["name"], Type: form["type"], Households: hh}, s.d.Now())
			return err
		}
		name, typ, active := form["name"], form["type"], form["active"] == "true"
		_, err := r.UpdateVillage(code, domain.VillagePatch{Name: &name, Type: &typ, Households: &hh, Active: &active}, s.d.Now())
		return err
	})
	if err != nil {
		return s.formOutcome(c, err, tplVillageForm, title, form, data)
	}
	c.Redirect(http.StatusSeeOther, "/communes/"+commune+"?done=village_saved")
	return nil
}

// teamForm creates (/communes/:code/teams/new) or edits (/teams/:id/edit) a team.
func (s *Server) teamForm(c *gin.Context) error {
	edit := c.FullPath() == "/teams/:id/edit"
	commune, id := c.Param("code"), c.Param("id")
	if edit {
		commune = domain.CommuneOf(id)
	}
	u, reg, err := s.managedCommune(c, commune)
	if err != nil {
		return err
	}
	l := loc(c)
	title, back := l.T("team.new"), "/communes/"+commune
	form := map[string]string{"established_on": string(s.today())}
	if edit {
		t, ok := reg.Team(id)
		if !ok {
			return domain.ErrNotFound
		}
		title, back = t.Name, "/teams/"+id
		form = map[string]string{"name": t.Name, "village_code": t.VillageCode, "established_on": string(t.EstablishedOn),
			"decision_no": t.DecisionNo, "active": strconv.FormatBool(t.Active)}
	}
	data := map[string]any{"Commune": u, "Villages": reg.Villages, "Edit": edit, "Back": back}
	if c.Request.Method == http.MethodGet {
		s.render(c, http.StatusOK, tplTeamForm, title, pageData{Form: form, Data: data})
		return nil
	}
	form = postForm(c)
	var saved domain.Team
	_, err = s.d.Registry.UpdateRegistry(c.Request.Context(), commune, func(r *domain.CommuneRegistry) error {
		var err error
		if !edit {
			saved, err = r.AddTeam(domain.NewTeam{Name: form["name"], CommuneCode: commune, VillageCode: form["village_code"],
				EstablishedOn: form["established_on"], DecisionNo: form["decision_no"]}, s.today(), s.d.Now())
			return err
		}
		name, village, est, dec, active := form["name"], form["village_code"], form["established_on"], form["decision_no"], form["active"] == "true"
		saved, err = r.UpdateTeam(id, domain.TeamPatch{Name: &name, VillageCode: &village, EstablishedOn: &est, DecisionNo: &dec, Active: &active}, s.today(), s.d.Now())
		return err
	})
	if err != nil {
		return s.formOutcome(c, err, tplTeamForm, title, form, data)
	}
	c.Redirect(http.StatusSeeOther, "/teams/"+saved.ID+"?done=team_saved")
	return nil
}

// teamPage shows a team and its members to whoever may read it.
func (s *Server) teamPage(c *gin.Context) error {
	reg, t, err := s.team(c, c.Param("id"))
	if err != nil {
		return err
	}
	sc := scope(c)
	var members []domain.Member
	for _, m := range reg.Members {
		if m.TeamID == t.ID && sc.ReadMember(m) == nil {
			members = append(members, m)
		}
	}
	sort.SliceStable(members, func(i, j int) bool {
		if members[i].Active != members[j].Active {
			return members[i].Active
		}
		return positionRank(members[i].Position) < positionRank(members[j].Position)
	})
	commune, _ := s.currentCommune(t.CommuneCode)
	village, _ := reg.Village(t.VillageCode)
	data := &teamPageData{Team: t, Members: members, CommuneName: commune.Name, VillageName: village.Name,
		CanManage: sc.ManageCommune(t.CommuneCode) == nil}
	if teamPageExtra != nil {
		if err := teamPageExtra(s, c, data); err != nil {
			return err
		}
	}
	s.render(c, http.StatusOK, tplTeam, t.Name, pageData{Data: data})
	return nil
}

type teamPageData struct {
	Team                     domain.TeamView
	Members                  []domain.Member
	CommuneName, VillageName string
	CanManage                bool
	Extra                    any
}

// teamPageExtra lets later capabilities add to the team page's data.
var teamPageExtra func(s *Server, c *gin.Context, d *teamPageData) error

func positionRank(p domain.Position) int {
	switch p {
	case domain.PositionLeader:
		return 0
	case domain.PositionDeputy:
		return 1
	}
	return 2
}
