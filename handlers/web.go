package handlers

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/gorilla/csrf"

	"github.com/hue-cdt/cdt/auth"
	"github.com/hue-cdt/cdt/domain"
	"github.com/hue-cdt/cdt/i18n"
	"github.com/hue-cdt/cdt/templates"
)

// Cookie names of the pages.
const (
	cookieAccess  = "cdt_access"
	cookieRefresh = "cdt_refresh"
	cookieLang    = "cdt_lang"
	cookieCSRF    = "cdt_csrf"
	csrfField     = "csrf_token"
	csrfHeader    = "X-CSRF-Token"
)

// Template names.
const (
	tplLogin       = "login.html"
	tplError       = "error.html"
	tplCommunes    = "communes.html"
	tplCommune     = "commune.html"
	tplVillageForm = "village_form.html"
	tplTeamForm    = "team_form.html"
	tplTeam        = "team.html"
	tplMemberForm  = "member_form.html"
	tplMember      = "member.html"
	tplUserForm    = "user_form.html"
	tplUsers       = "users.html"
	tplUnits       = "units.html"
	tplAccount     = "account.html"
)

// pageData is what every page template receives.
type pageData struct {
	L         *i18n.Localizer
	Title     string
	Caller    domain.Caller
	CSRFField template.HTML
	CSRFToken string
	Path      string
	Flash     string
	Alert     string
	Form      map[string]string
	Errors    map[string]string
	Data      any
}

// views holds the parsed templates, one set per page (base layout + page).
type views struct {
	once   sync.Once
	err    error
	sets   map[string]*template.Template
	static map[string]string // file → URL with a content hash, for caching
}

var pageFiles = []string{tplLogin, tplError, tplCommunes, tplCommune, tplVillageForm, tplTeamForm, tplTeam,
	tplMemberForm, tplMember, tplUserForm, tplUsers, tplUnits, tplAccount}

// extraPages lets other files register their templates.
var extraPages []string

func (v *views) load() error {
	v.once.Do(func() {
		v.static = map[string]string{}
		err := fs.WalkDir(templates.FS, "static", func(p string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			b, err := fs.ReadFile(templates.FS, p)
			if err != nil {
				return err
			}
			sum := sha256.Sum256(b)
			name := strings.TrimPrefix(p, "static/")
			v.static[name] = "/static/" + name + "?v=" + hex.EncodeToString(sum[:4])
			return nil
		})
		if err != nil {
			v.err = err
			return
		}
		funcs := template.FuncMap{
			"static": func(name string) string {
				if u, ok := v.static[name]; ok {
					return u
				}
				return "/static/" + name
			},
			"num":     formatInt,
			"pct":     formatPct,
			"date":    func(t time.Time) string { return t.In(domain.Location).Format("2006-01-02 15:04") },
			"isAdmin": func(c domain.Caller) bool { return c.Role == domain.RoleProvinceAdmin },
			"json":    jsonAttr,
			"day":     formatDay,
			"add":     func(a, b int) int { return a + b },
			"meter":   meter,
			"bar":     barWidth,
		}
		v.sets = map[string]*template.Template{}
		for _, name := range append(append([]string(nil), pageFiles...), extraPages...) {
			t, err := template.New(name).Funcs(funcs).ParseFS(templates.FS, "base.html", "partials.html", name)
			if err != nil {
				v.err = fmt.Errorf("template %s: %w", name, err)
				return
			}
			v.sets[name] = t
		}
	})
	return v.err
}

var pageViews views

// render writes page name with status; the page is rendered into a buffer
// first, so a broken template is a clean 500.
func (s *Server) render(c *gin.Context, status int, name, title string, p pageData) {
	if err := pageViews.load(); err != nil {
		s.d.Logger.Error("templates", "err", err)
		c.String(http.StatusInternalServerError, "templates: internal error")
		return
	}
	s.fillPage(c, &p)
	if p.Title == "" {
		p.Title = title
	}
	var buf bytes.Buffer
	if err := pageViews.sets[name].ExecuteTemplate(&buf, "base", p); err != nil {
		s.d.Logger.Error("render", "template", name, "err", err)
		c.String(http.StatusInternalServerError, "render: internal error")
		return
	}
	c.Header("Cache-Control", "no-store")
	c.Data(status, "text/html; charset=utf-8", buf.Bytes())
}

func (s *Server) fillPage(c *gin.Context, p *pageData) {
	p.L = i18n.For(pageLang(c))
	p.Caller = caller(c)
	p.CSRFToken = csrf.Token(c.Request)
	p.CSRFField = template.HTML(fmt.Sprintf(`<input type="hidden" name="%s" value="%s">`, csrfField, template.HTMLEscapeString(p.CSRFToken)))
	p.Path = url.QueryEscape(c.Request.URL.RequestURI())
	if k := c.Query("done"); k != "" && p.Flash == "" && p.L.Has("flash."+k) {
		p.Flash = p.L.T("flash." + k)
	}
}

// pageLang is the language of the pages: the cdt_lang cookie, Vietnamese by default.
func pageLang(c *gin.Context) string {
	if v, err := c.Cookie(cookieLang); err == nil {
		return i18n.Normalize(v)
	}
	return i18n.VI
}

// pageError renders the error page for err.
func (s *Server) pageError(c *gin.Context, err error) {
	status, code := classify(err)
	if status >= 500 {
		s.d.Logger.ErrorContext(c.Request.Context(), "page failed", "path", c.Request.URL.Path, "err", err)
	}
	if status == http.StatusUnauthorized {
		s.toLogin(c)
		return
	}
	l := i18n.For(pageLang(c))
	s.render(c, status, tplError, l.T("error.title."+titleKey(status)), pageData{Data: map[string]string{"Message": l.T("error." + code)}})
	c.Abort()
}

func titleKey(status int) string {
	switch status {
	case 403, 404, 429:
		return fmt.Sprint(status)
	}
	if status >= 500 {
		return "500"
	}
	return "400"
}

// page adapts a page handler that returns an error.
func (s *Server) page(h func(*gin.Context) error) gin.HandlerFunc {
	return func(c *gin.Context) {
		if err := h(c); err != nil {
			s.pageError(c, err)
		}
	}
}

// ---- sessions ----

func (s *Server) setCookie(c *gin.Context, name, value string, maxAge time.Duration) {
	http.SetCookie(c.Writer, &http.Cookie{Name: name, Value: value, Path: "/", MaxAge: int(maxAge / time.Second),
		HttpOnly: true, Secure: s.d.SecureCookies, SameSite: http.SameSiteLaxMode})
}

func (s *Server) setSession(c *gin.Context, t auth.Tokens) {
	s.setCookie(c, cookieAccess, t.Access, auth.AccessTTL)
	s.setCookie(c, cookieRefresh, t.Refresh, auth.RefreshTTL)
}

func (s *Server) clearSession(c *gin.Context) {
	s.setCookie(c, cookieAccess, "", -time.Second)
	s.setCookie(c, cookieRefresh, "", -time.Second)
}

// webCaller authenticates a page request from its cookies, rotating the refresh
// token when the access token has expired.
func (s *Server) webCaller(c *gin.Context) (domain.Caller, error) {
	ctx := c.Request.Context()
	if tok, err := c.Cookie(cookieAccess); err == nil && tok != "" {
		if claims, err := s.d.Auth.Verify(tok); err == nil {
			return s.d.Auth.Caller(ctx, claims)
		}
	}
	ref, err := c.Cookie(cookieRefresh)
	if err != nil || ref == "" {
		return domain.Caller{}, domain.ErrUnauthorized
	}
	t, u, err := s.d.Auth.Refresh(ctx, ref)
	switch {
	case errors.Is(err, auth.ErrGrace):
		return s.d.Auth.CallerOfUser(ctx, u, t.SessionID)
	case err != nil:
		if errors.Is(err, domain.ErrUnauthorized) || errors.Is(err, domain.ErrTokenReused) {
			s.clearSession(c)
		}
		return domain.Caller{}, err
	}
	s.setSession(c, t)
	return s.d.Auth.CallerOfUser(ctx, u, t.SessionID)
}

// web requires a signed-in page session.
func (s *Server) web(c *gin.Context) {
	cl, err := s.webCaller(c)
	if err != nil {
		if errors.Is(err, domain.ErrUnauthorized) || errors.Is(err, domain.ErrTokenReused) {
			s.toLogin(c)
			return
		}
		s.pageError(c, err)
		return
	}
	c.Request = c.Request.WithContext(domain.WithCaller(c.Request.Context(), cl))
	c.Next()
}

func (s *Server) toLogin(c *gin.Context) {
	next := ""
	if c.Request.Method == http.MethodGet {
		next = "?next=" + url.QueryEscape(c.Request.URL.RequestURI())
	}
	c.Redirect(http.StatusSeeOther, "/login"+next)
	c.Abort()
}

// ---- CSRF ----

// csrfProtect wraps gorilla/csrf around the page routes. Plain-HTTP requests
// (local use, tests) are marked so that its Referer check, meant for HTTPS,
// does not reject them; the Origin check still applies.
func (s *Server) csrfProtect() gin.HandlerFunc {
	key := hmac.New(sha256.New, s.d.Auth.Secret)
	key.Write([]byte("cdt csrf key"))
	protect := csrf.Protect(key.Sum(nil),
		csrf.CookieName(cookieCSRF), csrf.FieldName(csrfField), csrf.RequestHeader(csrfHeader),
		csrf.Path("/"), csrf.Secure(s.d.SecureCookies), csrf.HttpOnly(true), csrf.SameSite(csrf.SameSiteLaxMode),
		csrf.MaxAge(int(auth.RefreshTTL/time.Second)),
		csrf.ErrorHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if c, ok := r.Context().Value(ginKey{}).(*gin.Context); ok {
				if strings.HasPrefix(r.URL.Path, "/app/api/") {
					s.fail(c, errCSRF)
				} else {
					s.pageError(c, errCSRF)
				}
			}
		})))
	return func(c *gin.Context) {
		r := c.Request.WithContext(contextWithGin(c.Request.Context(), c))
		if r.TLS == nil && r.Header.Get("X-Forwarded-Proto") != "https" {
			r = csrf.PlaintextHTTPRequest(r)
		}
		passed := false
		protect(http.HandlerFunc(func(_ http.ResponseWriter, r2 *http.Request) {
			passed = true
			c.Request = r2
		})).ServeHTTP(c.Writer, r)
		if !passed {
			c.Abort()
			return
		}
		c.Next()
	}
}

// ---- formatting ----

// formatInt writes n with dots between thousands, as Vietnamese does (1.100).
func formatInt(n int) string {
	s := fmt.Sprint(n)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, r := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte('.')
		}
		b.WriteRune(r)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}

// formatPct writes a ratio as a percentage with one decimal and a comma (12,5 %).
func formatPct(f float64) string {
	return strings.Replace(fmt.Sprintf("%.1f %%", f*100), ".", ",", 1)
}

// formatDay writes a calendar day as its readers expect: 21/11/2026 in
// Vietnamese, 21 Nov 2026 in English.
func formatDay(lang string, d any) string {
	s := fmt.Sprint(d)
	t, err := time.Parse(domain.DateLayout, s)
	if err != nil {
		return s
	}
	if lang == i18n.EN {
		return t.Format("2 Jan 2006")
	}
	return t.Format("02/01/2006")
}
