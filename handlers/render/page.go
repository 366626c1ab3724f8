package render

import (
	"bytes"
	"fmt"
	"html/template"
	"net/http"
	"net/url"

	"github.com/gin-gonic/gin"

	"github.com/hue-cdt/cdt/domain"
	"github.com/hue-cdt/cdt/handlers/httpx"
	"github.com/hue-cdt/cdt/i18n"
)

// tplError is the error page.
const tplError = "error.html"

// Page is what every page template receives.
type Page struct {
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

// Loc is the localizer of the page language.
func Loc(c *gin.Context) *i18n.Localizer { return i18n.For(httpx.PageLang(c)) }

// HTML writes page name with status; the page is rendered into a buffer
// first, so a broken template is a clean 500.
func HTML(c *gin.Context, status int, name, title string, p Page) {
	if err := pageViews.load(); err != nil {
		httpx.Log(c).Error("templates", "err", err)
		c.String(http.StatusInternalServerError, "templates: internal error")
		return
	}
	fill(c, &p)
	if p.Title == "" {
		p.Title = title
	}
	set, ok := pageViews.sets[p.L.Lang()][name]
	if !ok {
		httpx.Log(c).Error("render", "template", name, "err", "no such template")
		c.String(http.StatusInternalServerError, "render: internal error")
		return
	}
	var buf bytes.Buffer
	if err := set.ExecuteTemplate(&buf, "base", p); err != nil {
		httpx.Log(c).Error("render", "template", name, "err", err)
		c.String(http.StatusInternalServerError, "render: internal error")
		return
	}
	c.Header("Cache-Control", "no-store")
	c.Data(status, "text/html; charset=utf-8", buf.Bytes())
}

func fill(c *gin.Context, p *Page) {
	p.L = Loc(c)
	p.Caller = httpx.Caller(c)
	p.CSRFToken = httpx.CSRFToken(c)
	p.CSRFField = template.HTML(fmt.Sprintf(`<input type="hidden" name="%s" value="%s">`, httpx.CSRFField, template.HTMLEscapeString(p.CSRFToken)))
	p.Path = url.QueryEscape(c.Request.URL.RequestURI())
	if k := c.Query("done"); k != "" && p.Flash == "" && p.L.Has("flash."+k) {
		p.Flash = p.L.T("flash." + k)
	}
}

// Error is the one error exit of the pages: the error page for err, or the
// login page when the session is missing or over. Only server errors are logged.
func Error(c *gin.Context, err error) {
	status, code := httpx.Classify(err)
	if status >= 500 {
		httpx.Log(c).ErrorContext(c.Request.Context(), "page failed", "path", c.Request.URL.Path, "err", err)
	}
	if status == http.StatusUnauthorized {
		httpx.ToLogin(c)
		return
	}
	l := Loc(c)
	HTML(c, status, tplError, l.T("error.title."+titleKey(status)), Page{Data: map[string]string{"Message": l.T("error." + code)}})
	c.Abort()
}

func titleKey(status int) string {
	switch status {
	case 403, 404, 405, 429:
		return fmt.Sprint(status)
	}
	if status >= 500 {
		return "500"
	}
	return "400"
}

// Handler is a page handler: its failures are answered by Error.
func Handler(h func(*gin.Context) error) httpx.Handler {
	return httpx.Handler{Serve: h, Fail: Error}
}
