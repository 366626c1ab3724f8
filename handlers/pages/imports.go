package pages

import (
	"bytes"
	"encoding/base64"
	"errors"
	"net/http"
	"sort"
	"strconv"

	"github.com/gin-gonic/gin"

	"github.com/hue-cdt/cdt/domain"
	"github.com/hue-cdt/cdt/handlers/core"
	"github.com/hue-cdt/cdt/handlers/httpx"
	"github.com/hue-cdt/cdt/handlers/render"
	"github.com/hue-cdt/cdt/sheets"
)

const tplImport = "import.html"

// importRow is one row of an import as the page shows it.
type importRow struct {
	domain.ImportResult
	In       domain.ImportRow
	Messages []string
}

type importData struct {
	Communes []domain.Unit // an admin's choice of default commune
	Commune  string
	Report   *domain.ImportReport
	Rows     []importRow // invalid first, then created and updated; unchanged rows are only counted
	More     int         // rows to show beyond importRowsShown
	Writable int         // rows to create or update
	// The uploaded file, carried by the confirmation form so that it needs
	// no second upload; the server checks it again as a new upload.
	FileName, FileData string
	FileErr            string
}

// ImportPage answers GET /imports/registry: the upload form, its template,
// and the outcome of the last import (?done=imported&n=N).
func (h *Handlers) ImportPage(c *gin.Context) error {
	p := render.Page{Data: h.importData(c)}
	if c.Query("done") == "imported" {
		n, _ := strconv.Atoi(c.Query("n"))
		p.Flash = render.Loc(c).T("import.done", "N", render.Num(render.Loc(c).Lang(), n))
	}
	render.HTML(c, http.StatusOK, tplImport, render.Loc(c).T("import.title"), p)
	return nil
}

func (h *Handlers) importData(c *gin.Context) *importData {
	d := &importData{Commune: c.PostForm("commune")}
	if httpx.Scope(c).Admin() {
		d.Communes = h.Units.Find(domain.UnitFilter{Level: domain.LevelCommune, AsOf: h.Today()})
		sort.Slice(d.Communes, func(i, j int) bool {
			return domain.FoldKey(d.Communes[i].ShortName) < domain.FoldKey(d.Communes[j].ShortName)
		})
	}
	return d
}

// ImportSubmit answers POST /imports/registry. An upload (file) is checked
// in a dry run and shown row by row, with a button that imports it; that
// button posts the same file back (data) with confirm, which writes and
// redirects to the page with the count.
func (h *Handlers) ImportSubmit(c *gin.Context) error {
	c.Request.Body = http.MaxBytesReader(c.Writer, c.Request.Body, httpx.MaxSheet*4/3+128<<10)
	d := h.importData(c)
	var name string
	var data []byte
	var err error
	confirm := c.PostForm("confirm") == "1"
	if confirm {
		name = c.PostForm("name")
		if data, err = base64.StdEncoding.DecodeString(c.PostForm("data")); err != nil || len(data) > httpx.MaxSheet {
			err = domain.Invalid("file", "required")
		}
	} else {
		name, data, err = httpx.UploadedFile(c)
	}
	var rep domain.ImportReport
	if err == nil {
		rep, err = h.ImportRegistry(c.Request.Context(), httpx.Scope(c), name, data, d.Commune, !confirm)
	}
	switch {
	case errors.Is(err, domain.ErrInvalid) || errors.Is(err, domain.ErrTooLarge):
		d.FileErr = render.Loc(c).T("error.body_too_large")
		if errors.Is(err, domain.ErrInvalid) {
			d.FileErr = httpx.FieldErrors(render.Loc(c), err)["file"]
		}
		render.HTML(c, http.StatusUnprocessableEntity, tplImport, render.Loc(c).T("import.title"), render.Page{Data: d})
		return nil
	case err != nil:
		return err
	case confirm:
		c.Redirect(http.StatusSeeOther, "/imports/registry?done=imported&n="+strconv.Itoa(rep.Summary.Create+rep.Summary.Update))
		return nil
	}
	d.Report, d.FileName, d.FileData = &rep, name, base64.StdEncoding.EncodeToString(data)
	d.Rows, d.Writable = importRows(c, rep)
	if len(d.Rows) > importRowsShown { // a province's first import: the counts say the rest
		d.Rows, d.More = d.Rows[:importRowsShown], len(d.Rows)-importRowsShown
	}
	render.HTML(c, http.StatusOK, tplImport, render.Loc(c).T("import.title"), render.Page{Data: d})
	return nil
}

// importRowsShown is how many rows the page lists at most, invalid ones first.
const importRowsShown = 500

// importRows are the rows worth reading: invalid ones first, then those that
// create or update something, in file order within each.
func importRows(c *gin.Context, rep domain.ImportReport) ([]importRow, int) {
	l := render.Loc(c)
	rank := map[string]int{domain.ImportInvalid: 0, domain.ImportCreate: 1, domain.ImportUpdate: 1}
	var out []importRow
	writable := 0
	for i, r := range rep.Rows {
		if r.Status == domain.ImportCreate || r.Status == domain.ImportUpdate {
			writable++
		}
		if r.Status == domain.ImportUnchanged {
			continue
		}
		row := importRow{ImportResult: r, In: rep.Input[i]}
		for _, d := range httpx.Details(l, &domain.ValidationError{Fields: r.Errors}) {
			row.Messages = append(row.Messages, d.Message)
		}
		out = append(out, row)
	}
	sort.SliceStable(out, func(i, j int) bool { return rank[out[i].Status] < rank[out[j].Status] })
	return out, writable
}

// ImportTemplate answers GET /imports/registry/template.xlsx: the columns of
// a registry spreadsheet with an example row, and what each column takes.
func (h *Handlers) ImportTemplate(c *gin.Context) error {
	var buf bytes.Buffer
	if err := core.ImportTemplate(&buf, render.Loc(c)); err != nil {
		return err
	}
	c.Header("Content-Disposition", `attachment; filename="mau-danh-sach-to-cnscd.xlsx"`)
	c.Data(http.StatusOK, sheets.ContentTypeXLSX, buf.Bytes())
	return nil
}
