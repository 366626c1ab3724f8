package pages

import (
	"context"
	"errors"
	"net/http"
	"sort"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/hue-cdt/cdt/domain"
	"github.com/hue-cdt/cdt/handlers/core"
	"github.com/hue-cdt/cdt/handlers/httpx"
	"github.com/hue-cdt/cdt/handlers/render"
	"github.com/hue-cdt/cdt/i18n"
)

const (
	tplPrivacy         = "privacy.html"
	tplPrivacyRequests = "privacy_requests.html"
	tplPrivacyRequest  = "privacy_request.html"
)

// privacyRow is a request as the pages list it, with the time left.
type privacyRow struct {
	R           domain.PrivacyRequest
	CommuneName string
	Overdue     bool
	DaysLeft    int    // working days after today up to the due day
	HoursLeft   int    // on the due day: hours until its end
	Left        string // the time left, in words ("" once closed)
	LeftClass   string // its tag's class: bad overdue, warn due today
}

func (h *Handlers) privacyRow(l *i18n.Localizer, r domain.PrivacyRequest, now time.Time) privacyRow {
	u, _ := h.Units.Get(r.CommuneCode, h.Today())
	row := privacyRow{R: r, CommuneName: u.Name, Overdue: r.Overdue(now)}
	switch {
	case r.Status != domain.PrivacyOpen:
	case row.Overdue:
		row.Left, row.LeftClass = l.T("privacy.overdue"), "bad"
	default:
		row.DaysLeft = domain.WorkingDaysLeft(r.DueOn, now)
		row.HoursLeft = int(domain.TimeLeft(r.DueOn, now) / time.Hour)
		row.Left = l.T("privacy.left", "N", row.DaysLeft)
		if row.DaysLeft == 0 {
			row.Left, row.LeftClass = l.T("privacy.due_today")+" · "+l.T("privacy.hours_left", "N", row.HoursLeft), "warn"
		}
	}
	return row
}

// openPrivacy lists the open requests of commune ("" = every commune sc
// reads), overdue first then soonest due: the box on the commune's dashboard
// and the province's page.
func (h *Handlers) openPrivacy(ctx context.Context, l *i18n.Localizer, sc domain.Scope, commune string) ([]privacyRow, error) {
	rs, err := h.FindPrivacy(ctx, sc, domain.PrivacyOpen, commune)
	if err != nil {
		return nil, err
	}
	now := h.Now()
	out := make([]privacyRow, len(rs))
	for i, r := range rs {
		out[i] = h.privacyRow(l, r, now)
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].R.DueOn < out[j].R.DueOn })
	return out, nil
}

// PrivacyPolicy answers GET /privacy, for anyone: what cdt keeps about
// citizens and members, why, for how long, and who can see it.
func (h *Handlers) PrivacyPolicy(c *gin.Context) error {
	render.HTML(c, http.StatusOK, tplPrivacy, render.Loc(c).T("policy.title"),
		render.Page{Data: map[string]any{"RetentionYears": h.RetentionYears}})
	return nil
}

type privacyRequestsData struct {
	Admin    bool
	Communes []domain.Unit
	Commune  domain.Unit // the leader's commune, or the admin's filter
	Status   string
	Rows     []privacyRow
	Kinds    []string
	Statuses []string
}

// PrivacyRequestsPage answers GET /privacy/requests?commune&status: the
// citizens' data requests of the caller's communes with the time left, and
// the form that registers one.
func (h *Handlers) PrivacyRequestsPage(c *gin.Context) error {
	form := map[string]string{"received_on": string(h.Today()), "commune_code": c.Query("commune")}
	return h.privacyRequests(c, http.StatusOK, form, nil)
}

func (h *Handlers) privacyRequests(c *gin.Context, status int, form, errs map[string]string) error {
	sc, l := httpx.Scope(c), render.Loc(c)
	d := privacyRequestsData{Admin: sc.Admin(), Status: c.Query("status"), Kinds: domain.PrivacyKinds, Statuses: domain.PrivacyStatuses}
	rs, err := h.FindPrivacy(c.Request.Context(), sc, d.Status, c.Query("commune"))
	if err != nil {
		return err
	}
	now := h.Now()
	for _, r := range rs {
		d.Rows = append(d.Rows, h.privacyRow(l, r, now))
	}
	if d.Admin {
		for _, code := range h.CommuneCodes() {
			u, _ := h.Commune(code)
			d.Communes = append(d.Communes, u)
		}
		d.Commune, _ = h.Commune(c.Query("commune"))
	} else {
		d.Commune, _ = h.Commune(sc.Caller.CommuneCode)
		form["commune_code"] = sc.Caller.CommuneCode
	}
	render.HTML(c, status, tplPrivacyRequests, l.T("privacy.title"), render.Page{Data: d, Form: form, Errors: errs})
	return nil
}

// PrivacyRequestSubmit answers POST /privacy/requests: registers a request
// and shows it; the form again with its messages when invalid.
func (h *Handlers) PrivacyRequestSubmit(c *gin.Context) error {
	f := httpx.PostForm(c)
	r, err := h.RegisterPrivacy(c.Request.Context(), httpx.Scope(c), domain.NewPrivacyRequest{Kind: f["kind"],
		HouseholdRef: f["household_ref"], CommuneCode: f["commune_code"], ReceivedOn: f["received_on"], Contact: f["contact"],
		Note: f["note"]})
	if errors.Is(err, domain.ErrInvalid) {
		f["household_ref"] = "" // never sent back
		return h.privacyRequests(c, http.StatusUnprocessableEntity, f, httpx.FieldErrors(render.Loc(c), err))
	}
	if err != nil {
		return err
	}
	c.Redirect(http.StatusSeeOther, "/privacy/requests/"+r.ID)
	return nil
}

type privacyRequestData struct {
	Row     privacyRow
	Records []core.AccessRow
	// Listed: Records is the answer to an access request (listed while it
	// is open, or just handed over).
	Listed bool
	Done   bool // just fulfilled
}

// PrivacyRequestPage answers GET /privacy/requests/{id}: the request, its
// time left and, for an open access request, the records held about the
// household, with the XLSX to hand over and the button that fulfils it.
func (h *Handlers) PrivacyRequestPage(c *gin.Context) error {
	ctx, sc := c.Request.Context(), httpx.Scope(c)
	r, err := h.PrivacyRequest(ctx, sc, c.Param("id"))
	if err != nil {
		return err
	}
	d := privacyRequestData{}
	if r.Kind == domain.PrivacyAccess && r.Status == domain.PrivacyOpen {
		if r, d.Records, err = h.PrivacyAccess(ctx, sc, r.ID); err != nil {
			return err
		}
		d.Listed = true
	}
	l := render.Loc(c)
	d.Row = h.privacyRow(l, r, h.Now())
	render.HTML(c, http.StatusOK, tplPrivacyRequest, l.T("privacy.request", "ID", r.ID), render.Page{Data: d})
	return nil
}

// PrivacyFulfilSubmit answers POST /privacy/requests/{id}/fulfil: fulfils
// the request and shows it done (an access request with the records handed
// over: the household hash is erased once it is done).
func (h *Handlers) PrivacyFulfilSubmit(c *gin.Context) error {
	r, rows, err := h.FulfilPrivacy(c.Request.Context(), httpx.Scope(c), c.Param("id"))
	l := render.Loc(c)
	if errors.Is(err, domain.ErrConflict) {
		if r.ID == "" {
			return err
		}
		render.HTML(c, http.StatusConflict, tplPrivacyRequest, l.T("privacy.request", "ID", r.ID),
			render.Page{Alert: l.T("privacy.closed_already"), Data: privacyRequestData{Row: h.privacyRow(l, r, h.Now())}})
		return nil
	}
	if err != nil {
		return err
	}
	d := privacyRequestData{Row: h.privacyRow(l, r, h.Now()), Records: rows, Listed: r.Kind == domain.PrivacyAccess, Done: true}
	render.HTML(c, http.StatusOK, tplPrivacyRequest, l.T("privacy.request", "ID", r.ID),
		render.Page{Flash: l.T("privacy.fulfilled."+r.Kind, "N", r.Affected), Data: d})
	return nil
}
