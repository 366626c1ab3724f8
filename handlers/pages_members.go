package handlers

import (
	"net/http"
	"strconv"

	"github.com/gin-gonic/gin"

	"github.com/hue-cdt/cdt/domain"
	"github.com/hue-cdt/cdt/refdata"
)

// memberForm adds a member to a team (/teams/:id/members/new) or edits one
// (/members/:id/edit): moving within the commune, leaving, rejoining.
func (s *Server) memberForm(c *gin.Context) error {
	edit := c.FullPath() == "/members/:id/edit"
	id := c.Param("id")
	commune := domain.CommuneOf(id)
	u, reg, err := s.managedCommune(c, commune)
	if err != nil {
		return err
	}
	l := loc(c)
	teamID, title := id, l.T("member.new")
	form := map[string]string{"position": string(domain.PositionMember), "affiliation": "resident", "gender": "f"}
	var member domain.Member
	if edit {
		var ok bool
		if member, ok = reg.Member(id); !ok {
			return domain.ErrNotFound
		}
		teamID, title = member.TeamID, member.FullName
		form = map[string]string{"team_id": member.TeamID, "full_name": member.FullName, "phone": member.Phone,
			"position": string(member.Position), "affiliation": member.Affiliation, "gender": member.Gender,
			"birth_year": strconv.Itoa(member.BirthYear), "active": strconv.FormatBool(member.Active), "left_on": string(member.LeftOn)}
	}
	team, ok := reg.Team(teamID)
	if !ok {
		return domain.ErrNotFound
	}
	back := "/teams/" + teamID
	if edit {
		back = "/members/" + id
	}
	data := map[string]any{"CommuneCode": commune, "CommuneName": u.Name, "TeamID": team.ID, "TeamName": team.Name,
		"Teams": reg.Teams, "Edit": edit, "Back": back, "Positions": domain.Positions,
		"Affiliations": domain.Affiliations, "Genders": domain.Genders}
	if c.Request.Method == http.MethodGet {
		s.render(c, http.StatusOK, tplMemberForm, title, pageData{Form: form, Data: data})
		return nil
	}
	form = postForm(c)
	var p domain.Problems
	birth := atoiField(form, "birth_year", &p)
	if err := p.Err(); err != nil {
		return s.formOutcome(c, err, tplMemberForm, title, form, data)
	}
	by := caller(c).Username
	var saved domain.Member
	_, err = s.d.Registry.UpdateRegistry(c.Request.Context(), commune, func(r *domain.CommuneRegistry) error {
		var err error
		if !edit {
			saved, err = r.AddMember(domain.NewMember{TeamID: team.ID, FullName: form["full_name"], Phone: form["phone"],
				Position: form["position"], Affiliation: form["affiliation"], Gender: form["gender"], BirthYear: birth}, by, s.today(), s.d.Now())
			return err
		}
		f := form
		active := f["active"] == "true"
		patch := domain.MemberPatch{TeamID: ptrOf(f["team_id"]), FullName: ptrOf(f["full_name"]), Phone: ptrOf(f["phone"]),
			Position: ptrOf(f["position"]), Affiliation: ptrOf(f["affiliation"]), Gender: ptrOf(f["gender"]), BirthYear: &birth, Active: &active}
		if !active && member.Active {
			patch.LeftOn = ptrOf(f["left_on"])
		}
		saved, err = r.UpdateMember(id, patch, by, s.today(), s.d.Now())
		return err
	})
	if err != nil {
		return s.formOutcome(c, err, tplMemberForm, title, form, data)
	}
	c.Redirect(http.StatusSeeOther, "/members/"+saved.ID+"?done=member_saved")
	return nil
}

func ptrOf(s string) *string { return &s }

type memberPageData struct {
	Member                domain.Member
	CommuneName, TeamName string
	TeamNames             map[string]string
	CanManage             bool
	Logins                []domain.User
	Extra                 any
}

// memberPageExtra lets later capabilities add to the member page's data.
var memberPageExtra func(s *Server, c *gin.Context, d *memberPageData) error

func (s *Server) memberPage(c *gin.Context) error {
	m, err := s.member(c, c.Param("id"))
	if err != nil {
		return err
	}
	reg, err := s.d.Registry.Registry(c.Request.Context(), m.CommuneCode)
	if err != nil {
		return err
	}
	u, _ := s.currentCommune(m.CommuneCode)
	t, _ := reg.Team(m.TeamID)
	d := &memberPageData{Member: m, CommuneName: u.Name, TeamName: t.Name, TeamNames: map[string]string{},
		CanManage: scope(c).ManageCommune(m.CommuneCode) == nil}
	for _, t := range reg.Teams {
		d.TeamNames[t.ID] = t.Name
	}
	if d.CanManage {
		if d.Logins, err = s.d.Users.FindUsers(c.Request.Context(), domain.UserFilter{MemberID: m.ID}); err != nil {
			return err
		}
	}
	if memberPageExtra != nil {
		if err := memberPageExtra(s, c, d); err != nil {
			return err
		}
	}
	s.render(c, http.StatusOK, tplMember, m.FullName, pageData{Data: d})
	return nil
}

// userForm creates a login: for a member (/members/:id/login), a commune leader
// (/communes/:code/users/new) or, for admins, a province admin (/users/new).
func (s *Server) userForm(c *gin.Context) error {
	l := loc(c)
	sc := scope(c)
	var in domain.NewUser
	var roles []string
	var back, backName string
	switch c.FullPath() {
	case "/members/:id/login":
		m, err := s.member(c, c.Param("id"))
		if err != nil || sc.ManageCommune(m.CommuneCode) != nil {
			return domain.ErrNotFound
		}
		in = domain.NewUser{UnitCode: m.CommuneCode, MemberID: m.ID, Role: string(domain.RoleMember)}
		roles = []string{string(domain.RoleMember)}
		if m.Position != domain.PositionMember {
			in.Role = string(domain.RoleTeamLeader)
			roles = append(roles, string(domain.RoleTeamLeader))
		}
		back, backName = "/members/"+m.ID, m.FullName
	case "/communes/:code/users/new":
		u, _, err := s.managedCommune(c, c.Param("code"))
		if err != nil {
			return err
		}
		in = domain.NewUser{UnitCode: u.Code, Role: string(domain.RoleCommuneLeader)}
		roles = []string{string(domain.RoleCommuneLeader)}
		back, backName = "/communes/"+u.Code+"/users", u.Name
	default:
		if !sc.Admin() {
			return domain.ErrNotFound
		}
		in = domain.NewUser{UnitCode: refdata.ProvinceCode, Role: string(domain.RoleProvinceAdmin)}
		roles = []string{string(domain.RoleProvinceAdmin)}
		back, backName = "/users", l.T("users.title")
	}
	title := l.T("user.new")
	data := map[string]any{"Roles": roles, "Back": back, "BackName": backName}
	form := map[string]string{"role": in.Role}
	if c.Request.Method == http.MethodGet {
		s.render(c, http.StatusOK, tplUserForm, title, pageData{Form: form, Data: data})
		return nil
	}
	form = postForm(c)
	in.Username, in.Password = form["username"], form["password"]
	for _, r := range roles {
		if form["role"] == r {
			in.Role = r
		}
	}
	if _, err := s.newUser(c.Request.Context(), sc, in); err != nil {
		form["role"] = in.Role
		return s.formOutcome(c, err, tplUserForm, title, form, data)
	}
	c.Redirect(http.StatusSeeOther, back+"?done=login_created")
	return nil
}

// usersPage lists the logins of a commune (/communes/:code/users) or, for
// admins, the province admins (/users).
func (s *Server) usersPage(c *gin.Context) error {
	l := loc(c)
	f := domain.UserFilter{Role: domain.RoleProvinceAdmin}
	data := map[string]any{"NewURL": "/users/new", "NewLabel": l.T("user.new_admin"), "Commune": domain.Unit{}}
	if code := c.Param("code"); code != "" {
		u, _, err := s.managedCommune(c, code)
		if err != nil {
			return err
		}
		f = domain.UserFilter{UnitCode: code}
		data["Commune"], data["NewURL"], data["NewLabel"] = u, "/communes/"+code+"/users/new", l.T("user.new_leader")
	} else if !scope(c).Admin() {
		return domain.ErrNotFound
	}
	users, err := s.d.Users.FindUsers(c.Request.Context(), f)
	if err != nil {
		return err
	}
	data["Users"] = users
	s.render(c, http.StatusOK, tplUsers, l.T("users.title"), pageData{Data: data})
	return nil
}

// userActive enables or disables a login from the logins page.
func (s *Server) userActive(c *gin.Context) error {
	ctx := c.Request.Context()
	u, err := s.d.Users.FindUser(ctx, c.Param("username"))
	if err != nil {
		return err
	}
	sc := scope(c)
	if !sc.Admin() && !(sc.Caller.Role == domain.RoleCommuneLeader && u.UnitCode == sc.Caller.CommuneCode && u.Role != domain.RoleProvinceAdmin) {
		return domain.ErrNotFound
	}
	if u.Username == sc.Caller.Username {
		return domain.ErrForbidden
	}
	active := c.PostForm("active") == "true"
	if err := s.d.Users.SetUserActive(ctx, u.Username, active, s.d.Now()); err != nil {
		return err
	}
	if !active {
		if err := s.d.Auth.Sessions.RevokeUserSessions(ctx, u.Username, "disabled", s.d.Now()); err != nil {
			return err
		}
	}
	back := "/users"
	if u.UnitCode != refdata.ProvinceCode {
		back = "/communes/" + u.UnitCode + "/users"
	}
	c.Redirect(http.StatusSeeOther, back+"?done=login_saved")
	return nil
}

type unitGroup struct {
	District domain.Unit
	Communes []domain.Unit
}

// unitsPage shows the administrative units in force on any day since 2021.
func (s *Server) unitsPage(c *gin.Context) error {
	asOf, err := queryDate(c, "as_of")
	if err != nil {
		return err
	}
	if asOf == "" {
		asOf = s.today()
	}
	prov, _ := s.d.Units.Get(refdata.ProvinceCode, asOf)
	communes := s.d.Units.Find(domain.UnitFilter{Level: domain.LevelCommune, AsOf: asOf})
	districts := s.d.Units.Find(domain.UnitFilter{Level: domain.LevelDistrict, AsOf: asOf})
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
			if now, ok := s.d.Units.Current(cm.Code, asOf, s.today()); ok {
				u, _ := s.d.Units.Get(now, s.today())
				succ[cm.Code] = u.Name
			}
		}
	}
	var p *domain.Unit
	if prov.Code != "" {
		p = &prov
	}
	s.render(c, http.StatusOK, tplUnits, loc(c).T("units.title"), pageData{Data: map[string]any{
		"AsOf": asOf, "Province": p, "Groups": groups, "Successors": succ}})
	return nil
}
