package api

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"sort"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/hue-cdt/cdt/domain"
	"github.com/hue-cdt/cdt/sheets"
)

// openCoverageView is one commune of the open-data feed (README, "Open data").
type openCoverageView struct {
	CommuneCode       string          `json:"commune_code"`
	CommuneName       string          `json:"commune_name"`
	Date              domain.Date     `json:"date"`
	VillagesTotal     *int            `json:"villages_total"`
	VillagesWithTeam  *int            `json:"villages_with_team"`
	TeamsTotal        *int            `json:"teams_total"`
	TeamsActive30d    *int            `json:"teams_active_30d"`
	HouseholdsTotal   *int            `json:"households_total"`
	HouseholdsReached *int            `json:"households_reached"`
	HouseholdCoverage *float64        `json:"household_coverage"`
	Assistance30d     *int            `json:"assistance_30d"`
	ByService         map[string]*int `json:"by_service"`
}

// openCoverage is the feed: today's communes with computed figures, in code
// order, and when they were last computed.
func (h *Handlers) openCoverage(c *gin.Context) ([]openCoverageView, time.Time, error) {
	latest, err := h.Coverage.Latest(c.Request.Context(), nil)
	if err != nil {
		return nil, time.Time{}, err
	}
	var out []openCoverageView
	var modified time.Time
	for _, u := range h.Units.Find(domain.UnitFilter{Level: domain.LevelCommune, AsOf: h.Today()}) {
		cl, ok := latest[u.Code]
		if !ok {
			continue
		}
		if cl.Updated.After(modified) {
			modified = cl.Updated
		}
		o := domain.OpenCoverageOf(cl.Row, u.Name)
		o.CommuneCode = u.Code
		out = append(out, openCoverageView(o))
	}
	sort.Slice(out, func(i, j int) bool { return out[i].CommuneCode < out[j].CommuneCode })
	return out, modified, nil
}

// serveOpen answers an open-data document: anyone may read it, from any
// site, and caches may keep it an hour; its ETag and Last-Modified let
// clients ask again for nothing (304).
func serveOpen(c *gin.Context, name, contentType string, modified time.Time, body []byte) {
	sum := sha256.Sum256(body)
	h := c.Writer.Header()
	h.Set("Content-Type", contentType)
	h.Set("ETag", `"`+hex.EncodeToString(sum[:12])+`"`)
	h.Set("Cache-Control", "public, max-age=3600")
	h.Set("Access-Control-Allow-Origin", "*")
	http.ServeContent(c.Writer, c.Request, name, modified, bytes.NewReader(body))
}

// OpenCoverageJSON answers GET /open/coverage.json, no login: the latest
// computed day of each commune, counts from 1 to 4 withheld (null).
func (h *Handlers) OpenCoverageJSON(c *gin.Context) error {
	items, modified, err := h.openCoverage(c)
	if err != nil {
		return err
	}
	if items == nil {
		items = []openCoverageView{}
	}
	body, err := json.Marshal(gin.H{"items": items, "total": len(items), "min_published_count": domain.OpenMinCount})
	if err != nil {
		return err
	}
	serveOpen(c, "coverage.json", "application/json; charset=utf-8", modified, body)
	return nil
}

// OpenCoverageCSV answers GET /open/coverage.csv: the same lines as the
// JSON, by_service as one column per service (by_service.<code>), a withheld
// figure as an empty cell; UTF-8 with a byte order mark, as cdt's exports.
func (h *Handlers) OpenCoverageCSV(c *gin.Context) error {
	items, modified, err := h.openCoverage(c)
	if err != nil {
		return err
	}
	head := []string{"commune_code", "commune_name", "date", "villages_total", "villages_with_team", "teams_total", "teams_active_30d",
		"households_total", "households_reached", "household_coverage", "assistance_30d"}
	for _, s := range domain.Services {
		head = append(head, "by_service."+s)
	}
	rows := make([][]any, len(items))
	for i, it := range items {
		r := []any{it.CommuneCode, it.CommuneName, string(it.Date), cell(it.VillagesTotal), cell(it.VillagesWithTeam), cell(it.TeamsTotal),
			cell(it.TeamsActive30d), cell(it.HouseholdsTotal), cell(it.HouseholdsReached), "", cell(it.Assistance30d)}
		if it.HouseholdCoverage != nil {
			r[9] = strconv.FormatFloat(*it.HouseholdCoverage, 'f', -1, 64)
		}
		for _, s := range domain.Services {
			r = append(r, cell(it.ByService[s]))
		}
		rows[i] = r
	}
	var buf bytes.Buffer
	if err := sheets.WriteCSV(&buf, head, rows); err != nil {
		return err
	}
	serveOpen(c, "coverage.csv", "text/csv; charset=utf-8", modified, buf.Bytes())
	return nil
}

func cell(p *int) string {
	if p == nil {
		return ""
	}
	return strconv.Itoa(*p)
}
