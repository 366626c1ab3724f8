package pages

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/hue-cdt/cdt/domain"
	"github.com/hue-cdt/cdt/handlers/httpx"
	"github.com/hue-cdt/cdt/handlers/render"
	"github.com/hue-cdt/cdt/refdata"
)

// loginForm is what a form creating a login offers and where it goes back to.
type loginForm struct {
	in             domain.NewUser
	roles          []domain.Role
	back, backName string
}

// newLoginForm reads which login the route creates: for a member
// (/members/{id}/login: 404 for a member the caller may not read), a commune
// leader (/communes/{code}/users/new) or a province admin (/users/new).
func (h *Handlers) newLoginForm(c *gin.Context) (loginForm, error) {
	sc := httpx.Scope(c)
	switch c.FullPath() {
	case "/members/:id/login":
		m, err := h.Member(c.Request.Context(), sc, c.Param("id"))
		if err != nil {
			return loginForm{}, err
		}
		if err := sc.ManageCommune(m.CommuneCode); err != nil {
			return loginForm{}, err
		}
		roles := m.LoginRoles()
		return loginForm{in: domain.NewUser{UnitCode: m.CommuneCode, MemberID: m.ID, Role: string(roles[len(roles)-1])},
			roles: roles, back: "/members/" + m.ID, backName: m.FullName}, nil
	case "/communes/:code/users/new":
		u, _, err := h.managedCommune(c, c.Param("code"))
		if err != nil {
			return loginForm{}, err
		}
		return loginForm{in: domain.NewUser{UnitCode: u.Code, Role: string(domain.RoleCommuneLeader)},
			roles: []domain.Role{domain.RoleCommuneLeader}, back: "/communes/" + u.Code + "/users", backName: u.Name}, nil
	}
	return loginForm{in: domain.NewUser{UnitCode: refdata.ProvinceCode, Role: string(domain.RoleProvinceAdmin)},
		roles: []domain.Role{domain.RoleProvinceAdmin}, back: "/users", backName: render.Loc(c).T("users.title")}, nil
}

// UserForm creates a login (see newLoginForm for the three kinds).
func (h *Handlers) UserForm(c *gin.Context) error {
	lf, err := h.newLoginForm(c)
	if err != nil {
		return err
	}
	roles := make([]string, len(lf.roles))
	for i, r := range lf.roles {
		roles[i] = string(r)
	}
	title := render.Loc(c).T("user.new")
	data := map[string]any{"Roles": roles, "Back": lf.back, "BackName": lf.backName}
	form := map[string]string{"role": lf.in.Role}
	if c.Request.Method == http.MethodGet {
		render.HTML(c, http.StatusOK, tplUserForm, title, render.Page{Form: form, Data: data})
		return nil
	}
	form = httpx.PostForm(c)
	in := lf.in
	in.Username, in.Password = form["username"], form["password"]
	for _, r := range roles {
		if form["role"] == r {
			in.Role = r
		}
	}
	if _, err := h.NewUser(c.Request.Context(), httpx.Scope(c), in); err != nil {
		form["role"] = in.Role
		return formOutcome(c, err, tplUserForm, title, form, data)
	}
	c.Redirect(http.StatusSeeOther, lf.back+"?done=login_created")
	return nil
}

// UsersPage lists the logins of a commune (/communes/{code}/users: 403 for a
// commune the caller does not manage) or the province admins (/users).
func (h *Handlers) UsersPage(c *gin.Context) error {
	l := render.Loc(c)
	f := domain.UserFilter{Role: domain.RoleProvinceAdmin}
	data := map[string]any{"NewURL": "/users/new", "NewLabel": l.T("user.new_admin"), "Commune": domain.Unit{}}
	if code := c.Param("code"); code != "" {
		u, _, err := h.managedCommune(c, code)
		if err != nil {
			return err
		}
		f = domain.UserFilter{UnitCode: code}
		data["Commune"], data["NewURL"], data["NewLabel"] = u, "/communes/"+code+"/users/new", l.T("user.new_leader")
	}
	users, err := h.Users.FindUsers(c.Request.Context(), f)
	if err != nil {
		return err
	}
	data["Users"] = users
	names := make([]string, len(users))
	for i, u := range users {
		names[i] = u.Username
	}
	throttles, err := h.Throttles.LoginThrottles(c.Request.Context(), names)
	if err != nil {
		return err
	}
	held := map[string]bool{}
	for name, th := range throttles {
		held[name] = th.Held(h.Now())
	}
	data["Held"] = held
	render.HTML(c, http.StatusOK, tplUsers, l.T("users.title"), render.Page{Data: data})
	return nil
}

// UserUnlock answers POST /users/{username}/unlock: the sign-ins held back
// on a login the caller manages are released (404 for another).
func (h *Handlers) UserUnlock(c *gin.Context) error {
	u, err := h.Unlock(c.Request.Context(), httpx.Scope(c), c.Param("username"))
	if err != nil {
		return err
	}
	c.Redirect(http.StatusSeeOther, usersPageOf(u)+"?done=login_unlocked")
	return nil
}

// usersPageOf is the page that lists login u.
func usersPageOf(u domain.User) string {
	if u.UnitCode == refdata.ProvinceCode {
		return "/users"
	}
	return "/communes/" + u.UnitCode + "/users"
}

// UserActive answers POST /users/{username}/active: enable or disable a login
// the caller manages (404 for another; nobody disables their own, 422).
func (h *Handlers) UserActive(c *gin.Context) error {
	ctx := c.Request.Context()
	u, err := h.Users.FindUser(ctx, c.Param("username"))
	if err != nil {
		return err
	}
	if err := h.SetActive(ctx, httpx.Scope(c), u, c.PostForm("active") == "true"); err != nil {
		return err
	}
	c.Redirect(http.StatusSeeOther, usersPageOf(u)+"?done=login_saved")
	return nil
}
