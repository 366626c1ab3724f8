package fieldapp

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"sort"
	"strings"
	"text/template"

	"github.com/gin-gonic/gin"

	"github.com/hue-cdt/cdt/handlers/render"
	"github.com/hue-cdt/cdt/templates"
)

// ServiceWorker answers GET /app/sw.js with the versioned URLs of the app
// shell, so that a new release replaces the phones' cache.
func ServiceWorker(c *gin.Context) error {
	static, err := render.StaticURLs()
	if err != nil {
		return err
	}
	src, err := templates.FS.ReadFile("sw.js.tmpl")
	if err != nil {
		return err
	}
	var assets []string
	for _, u := range static {
		assets = append(assets, u)
	}
	sort.Strings(assets)
	h := sha256.Sum256([]byte(strings.Join(assets, ",") + string(src)))
	t, err := template.New("sw").Parse(string(src))
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	if err := t.Execute(&buf, map[string]any{"Version": hex.EncodeToString(h[:6]), "Assets": assets}); err != nil {
		return err
	}
	c.Header("Cache-Control", "no-cache")
	c.Header("Service-Worker-Allowed", "/app") // the scope covers /app itself, not only /app/…
	c.Data(http.StatusOK, "text/javascript; charset=utf-8", buf.Bytes())
	return nil
}

// Manifest answers GET /app/manifest.webmanifest, in the page language.
func Manifest(c *gin.Context) error {
	static, err := render.StaticURLs()
	if err != nil {
		return err
	}
	l := render.Loc(c)
	icon := func(name, size string) gin.H {
		return gin.H{"src": static[name], "sizes": size, "type": "image/png", "purpose": "any maskable"}
	}
	c.Header("Cache-Control", "no-cache")
	c.Header("Content-Type", "application/manifest+json")
	c.JSON(http.StatusOK, gin.H{
		"name": l.T("app.name"), "short_name": l.T("app.short_name"), "lang": l.Lang(),
		"start_url": "/app", "scope": "/app", "display": "standalone", "orientation": "portrait",
		"background_color": "#f4f6f9", "theme_color": "#0b5cab",
		"icons": []gin.H{icon("icon-192.png", "192x192"), icon("icon-512.png", "512x512")},
	})
	return nil
}
