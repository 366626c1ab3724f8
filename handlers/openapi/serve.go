package openapi

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/hue-cdt/cdt/handlers/render"
)

// started is when the program started: the document is built into the
// binary, so it is no newer than that.
var started = time.Now()

// ServeJSON answers GET /api/openapi.json, no login: the document carries
// nothing personal, so caches may keep it an hour; its ETag lets clients ask
// again for nothing (304).
func ServeJSON(c *gin.Context) error {
	body, err := JSON()
	if err != nil {
		return err
	}
	sum := sha256.Sum256(body)
	h := c.Writer.Header()
	h.Set("Content-Type", "application/json; charset=utf-8")
	h.Set("ETag", `"`+hex.EncodeToString(sum[:12])+`"`)
	h.Set("Cache-Control", "public, max-age=3600")
	h.Set("Access-Control-Allow-Origin", "*")
	http.ServeContent(c.Writer, c.Request, "openapi.json", started, bytes.NewReader(body))
	return nil
}

// docsPolicy is the content security policy of the docs page, which lives
// under /api/ where the API's answers carry none: no script at all.
const docsPolicy = "default-src 'none'; img-src 'self'; style-src 'self'; form-action 'none'; frame-ancestors 'none'; base-uri 'none'"

// Page answers GET /api/docs, no login: the document for people, in the
// caller's language (its labels; the document's own text is English).
func Page(c *gin.Context) error {
	doc, err := Document()
	if err != nil {
		return err
	}
	l := render.Loc(c)
	c.Header("Content-Security-Policy", docsPolicy)
	render.HTML(c, http.StatusOK, "api_docs.html", l.T("apidoc.title"), render.Page{Data: viewDocument(doc)})
	return nil
}
