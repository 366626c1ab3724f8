package handlers

import (
	"errors"
	"io/fs"
	"net/http"
	"net/url"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/hue-cdt/cdt/auth"
	"github.com/hue-cdt/cdt/domain"
	"github.com/hue-cdt/cdt/i18n"
	"github.com/hue-cdt/cdt/templates"
)

// pageRoutes registers the server-rendered pages.
func (s *Server) pageRoutes() {
	e := s.engine
	static, _ := fs.Sub(templates.FS, "static")
	e.GET("/static/*file", s.static(static))
	e.GET("/lang/:lang", s.setLang)

	pub := e.Group("", s.csrfProtect())
	pub.GET("/login", s.page(s.loginPage))
	pub.POST("/login", s.page(s.loginSubmit))

	in := e.Group("", s.csrfProtect(), s.web)
	in.POST("/logout", s.page(s.logoutSubmit))
	in.GET("/", s.page(s.home))
	in.GET("/account", s.page(s.accountPage))
	in.POST("/account", s.page(s.accountSubmit))
	s.registryPages(in)
	for _, f := range extraPageRoutes {
		f(s, in)
	}
}

// extraPageRoutes lets other files add signed-in pages.
var extraPageRoutes []func(*Server, *gin.RouterGroup)

// static serves the embedded static files; URLs carry a content hash, so they
// may be cached for a year.
func (s *Server) static(files fs.FS) gin.HandlerFunc {
	fileServer := http.StripPrefix("/static/", http.FileServer(http.FS(files)))
	return func(c *gin.Context) {
		if c.Query("v") != "" {
			c.Header("Cache-Control", "public, max-age=31536000, immutable")
		} else {
			c.Header("Cache-Control", "public, max-age=300")
		}
		fileServer.ServeHTTP(c.Writer, c.Request)
	}
}

func (s *Server) setLang(c *gin.Context) {
	lang := i18n.Normalize(c.Param("lang"))
	http.SetCookie(c.Writer, &http.Cookie{Name: cookieLang, Value: lang, Path: "/", MaxAge: 365 * 24 * 3600,
		SameSite: http.SameSiteLaxMode, Secure: s.d.SecureCookies})
	c.Redirect(http.StatusSeeOther, safeNext(c.Query("next")))
}

// safeNext keeps a redirect target on this site.
func safeNext(next string) string {
	u, err := url.Parse(next)
	if next == "" || err != nil || u.IsAbs() || u.Host != "" || !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") {
		return "/"
	}
	return next
}

func (s *Server) loginPage(c *gin.Context) error {
	if _, err := s.webCaller(c); err == nil {
		c.Redirect(http.StatusSeeOther, safeNext(c.Query("next")))
		return nil
	}
	s.render(c, http.StatusOK, tplLogin, i18n.For(pageLang(c)).T("login.title"),
		pageData{Data: map[string]string{"Next": safeNext(c.Query("next"))}})
	return nil
}

func (s *Server) loginSubmit(c *gin.Context) error {
	l := i18n.For(pageLang(c))
	username, password := c.PostForm("username"), c.PostForm("password")
	next := safeNext(c.PostForm("next"))
	again := func(status int, msg string) error {
		s.render(c, status, tplLogin, l.T("login.title"), pageData{Alert: msg,
			Form: map[string]string{"username": username}, Data: map[string]string{"Next": next}})
		return nil
	}
	if err := s.allowLogin(c, username); err != nil {
		return again(http.StatusTooManyRequests, l.T("error.rate_limited"))
	}
	t, _, err := s.d.Auth.Login(c.Request.Context(), username, password, auth.KindWeb)
	if errors.Is(err, domain.ErrUnauthorized) {
		return again(http.StatusUnauthorized, l.T("error.invalid_credentials"))
	}
	if err != nil {
		return err
	}
	s.setSession(c, t)
	c.Redirect(http.StatusSeeOther, next)
	return nil
}

func (s *Server) logoutSubmit(c *gin.Context) error {
	if err := s.d.Auth.Logout(c.Request.Context(), caller(c).SessionID); err != nil {
		return err
	}
	s.clearSession(c)
	c.Redirect(http.StatusSeeOther, "/login")
	return nil
}

// home sends each role to its first page.
func (s *Server) home(c *gin.Context) error {
	cl := caller(c)
	switch cl.Role {
	case domain.RoleProvinceAdmin:
		c.Redirect(http.StatusSeeOther, homeProvince)
	case domain.RoleCommuneLeader:
		c.Redirect(http.StatusSeeOther, homeCommune(cl.CommuneCode))
	default:
		c.Redirect(http.StatusSeeOther, homeField(cl))
	}
	return nil
}

// Home pages; later capabilities point them at their dashboards.
var (
	homeProvince = "/communes"
	homeField    = func(cl domain.Caller) string { return "/teams/" + cl.TeamID }
	homeCommune  = func(code string) string { return "/communes/" + code }
)

func (s *Server) accountPage(c *gin.Context) error {
	s.render(c, http.StatusOK, tplAccount, i18n.For(pageLang(c)).T("nav.account"), pageData{})
	return nil
}

func (s *Server) accountSubmit(c *gin.Context) error {
	l := i18n.For(pageLang(c))
	cl := caller(c)
	err := s.d.Auth.CheckPassword(c.Request.Context(), cl.Username, c.PostForm("current_password"))
	if errors.Is(err, domain.ErrUnauthorized) {
		err = domain.Invalid("current_password", "wrong_password")
	}
	if err == nil {
		err = s.setPassword(c, cl.Username, c.PostForm("new_password"), "new_password")
	}
	if errors.Is(err, domain.ErrInvalid) {
		s.render(c, http.StatusUnprocessableEntity, tplAccount, l.T("nav.account"), pageData{Errors: fieldErrors(l, err)})
		return nil
	}
	if err != nil {
		return err
	}
	// Changing the password ended every session, this one too: sign in again.
	s.clearSession(c)
	c.Redirect(http.StatusSeeOther, "/login?done=password_changed")
	return nil
}

// fieldErrors turns a validation error into field → message for a form.
func fieldErrors(l *i18n.Localizer, err error) map[string]string {
	out := map[string]string{}
	for _, d := range details(l, err) {
		if _, ok := out[d.Field]; !ok {
			out[d.Field] = d.Message
		}
	}
	return out
}

// postForm returns the submitted form as a map.
func postForm(c *gin.Context) map[string]string {
	_ = c.Request.ParseForm()
	m := map[string]string{}
	for k, v := range c.Request.PostForm {
		if len(v) > 0 && k != csrfField {
			m[k] = strings.TrimSpace(v[len(v)-1])
		}
	}
	return m
}
