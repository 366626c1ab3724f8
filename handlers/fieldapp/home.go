package fieldapp

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/hue-cdt/cdt/domain"
	"github.com/hue-cdt/cdt/handlers/render"
)

type appHomeData struct {
	appContext
	Today, Week int
	Recent      []domain.Record
	VillageName map[string]string
}

// weekStart is the Monday of d's week.
func weekStart(d domain.Date) domain.Date {
	wd := int(d.Time().Weekday()+6) % 7 // Monday = 0
	return d.AddDays(-wd)
}

// Home answers GET /app: today's and this week's count, the member's recent records.
func (h *Handlers) Home(c *gin.Context) error {
	ac, err := h.appContext(c)
	if err != nil {
		return err
	}
	ctx, today := c.Request.Context(), h.Today()
	if err := h.withAsked(c, &ac); err != nil {
		return err
	}
	d := appHomeData{appContext: ac, VillageName: ac.villageNames()}
	if d.Today, err = h.Live.MemberCount(ctx, ac.Member.CommuneCode, ac.Member.ID, today, today); err != nil {
		return err
	}
	if d.Week, err = h.Live.MemberCount(ctx, ac.Member.CommuneCode, ac.Member.ID, weekStart(today), today); err != nil {
		return err
	}
	mine := func(r domain.Record) bool { return r.MemberID == ac.Member.ID }
	if d.Recent, _, err = h.Live.Recent(ctx, "m:"+ac.Member.ID, mine, 10); err != nil {
		return err
	}
	page := render.Page{Data: d}
	if c.Query("done") == "logged_scrubbed" { // the form without JavaScript: what was removed from the note
		page.Flash = render.Loc(c).T("app.note_scrubbed")
	}
	render.HTML(c, http.StatusOK, tplAppHome, render.Loc(c).T("app.home"), page)
	return nil
}
