package pages

import (
	"errors"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/hue-cdt/cdt/auth"
	"github.com/hue-cdt/cdt/domain"
	"github.com/hue-cdt/cdt/handlers/httpx"
	"github.com/hue-cdt/cdt/handlers/render"
)

// LoginPage answers GET /login; a signed-in caller goes on to ?next.
func (h *Handlers) LoginPage(c *gin.Context) error {
	if _, err := h.sessions.Caller(c); err == nil {
		c.Redirect(http.StatusSeeOther, httpx.SafeNext(c.Query("next")))
		return nil
	}
	render.HTML(c, http.StatusOK, tplLogin, render.Loc(c).T("login.title"),
		render.Page{Data: map[string]string{"Next": httpx.SafeNext(c.Query("next"))}})
	return nil
}

// LoginSubmit answers POST /login: a session, and on to next.
func (h *Handlers) LoginSubmit(c *gin.Context) error {
	l := render.Loc(c)
	username, password := c.PostForm("username"), c.PostForm("password")
	next := httpx.SafeNext(c.PostForm("next"))
	again := func(status int, msg string) error {
		render.HTML(c, status, tplLogin, l.T("login.title"), render.Page{Alert: msg,
			Form: map[string]string{"username": username}, Data: map[string]string{"Next": next}})
		return nil
	}
	if err := h.limits.Login(c, h.LoginRate); err != nil {
		return again(http.StatusTooManyRequests, l.T("error.rate_limited"))
	}
	t, _, err := h.Deps.Login(c.Request.Context(), c.ClientIP(), username, password, auth.KindWeb)
	var retry *domain.RetryError
	switch {
	case errors.As(err, &retry):
		return again(http.StatusTooManyRequests, l.T("login.held_back", "N", int(retry.After.Seconds()+0.999)))
	case errors.Is(err, domain.ErrUnauthorized):
		return again(http.StatusUnauthorized, l.T("error.invalid_credentials"))
	}
	if err != nil {
		return err
	}
	h.sessions.Start(c, t)
	c.Redirect(http.StatusSeeOther, next)
	return nil
}

// LogoutSubmit answers POST /logout: the session ends.
func (h *Handlers) LogoutSubmit(c *gin.Context) error {
	if err := h.Auth.Logout(c.Request.Context(), httpx.Caller(c).SessionID); err != nil {
		return err
	}
	h.sessions.Clear(c)
	c.Redirect(http.StatusSeeOther, "/login")
	return nil
}

// Home answers GET /: each login's first page — the province's dashboard,
// the phone app, or the commune's dashboard.
func (h *Handlers) Home(c *gin.Context) error {
	sc := httpx.Scope(c)
	switch {
	case sc.Admin():
		c.Redirect(http.StatusSeeOther, "/province")
	case sc.Field() == nil:
		c.Redirect(http.StatusSeeOther, "/app")
	default:
		c.Redirect(http.StatusSeeOther, "/communes/"+sc.Caller.CommuneCode+"/dashboard")
	}
	return nil
}

// AccountPage answers GET /account: the password form, and a notice of
// the failed sign-ins on the login in the last week.
func (h *Handlers) AccountPage(c *gin.Context) error {
	th, err := h.LoginThrottle(c.Request.Context(), httpx.Caller(c).Username)
	if err != nil {
		return err
	}
	var data any
	if th.Total > 0 {
		data = map[string]any{"Failures": th.Total, "First": th.First, "Last": th.Last, "Held": th.Held(h.Now())}
	}
	render.HTML(c, http.StatusOK, tplAccount, render.Loc(c).T("nav.account"), render.Page{Data: data})
	return nil
}

// AccountSubmit answers POST /account: a new password, which ends every
// session of the login, this one too.
func (h *Handlers) AccountSubmit(c *gin.Context) error {
	l, cl := render.Loc(c), httpx.Caller(c)
	err := h.Auth.CheckPassword(c.Request.Context(), cl.Username, c.PostForm("current_password"))
	if errors.Is(err, domain.ErrUnauthorized) {
		err = domain.Invalid("current_password", "wrong_password")
	}
	if err == nil {
		err = h.SetPassword(c.Request.Context(), cl.Username, c.PostForm("new_password"), "new_password")
	}
	if errors.Is(err, domain.ErrInvalid) {
		render.HTML(c, http.StatusUnprocessableEntity, tplAccount, l.T("nav.account"), render.Page{Errors: httpx.FieldErrors(l, err)})
		return nil
	}
	if err != nil {
		return err
	}
	h.sessions.Clear(c)
	c.Redirect(http.StatusSeeOther, "/login?done=password_changed")
	return nil
}
