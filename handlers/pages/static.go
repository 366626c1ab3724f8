package pages

import (
	"io/fs"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/hue-cdt/cdt/handlers/httpx"
	"github.com/hue-cdt/cdt/i18n"
)

// Static serves the embedded static files; URLs carry a content hash, so they
// may be cached for a year. Directories are not listed (404).
func Static(files fs.FS) gin.HandlerFunc {
	fileServer := http.StripPrefix("/static/", http.FileServer(http.FS(filesOnly{files})))
	return func(c *gin.Context) {
		if c.Query("v") != "" {
			c.Header("Cache-Control", "public, max-age=31536000, immutable")
		} else {
			c.Header("Cache-Control", "public, max-age=300")
		}
		fileServer.ServeHTTP(c.Writer, c.Request)
	}
}

// SetLang answers GET /lang/{lang}: the pages' language for a year, then back.
func (h *Handlers) SetLang(c *gin.Context) {
	lang := i18n.Normalize(c.Param("lang"))
	http.SetCookie(c.Writer, &http.Cookie{Name: httpx.CookieLang, Value: lang, Path: "/", MaxAge: 365 * 24 * 3600,
		SameSite: http.SameSiteLaxMode, Secure: h.SecureCookies})
	c.Redirect(http.StatusSeeOther, httpx.SafeNext(c.Query("next")))
}

// filesOnly is a file system whose directories do not exist: http.FileServer
// answers 404 instead of listing them.
type filesOnly struct{ fs.FS }

func (f filesOnly) Open(name string) (fs.File, error) {
	file, err := f.FS.Open(name)
	if err != nil {
		return nil, err
	}
	if st, err := file.Stat(); err != nil || st.IsDir() {
		file.Close()
		return nil, fs.ErrNotExist
	}
	return file, nil
}

// Favicon answers GET /favicon.ico, which browsers ask for by themselves:
// the 32-pixel icon (a PNG, which every browser takes at this address).
func Favicon(files fs.FS) gin.HandlerFunc {
	icon, err := fs.ReadFile(files, "icon-32.png")
	return func(c *gin.Context) {
		if err != nil {
			httpx.Fail(c, err)
			return
		}
		c.Header("Cache-Control", "public, max-age=86400")
		c.Data(http.StatusOK, "image/png", icon)
	}
}
