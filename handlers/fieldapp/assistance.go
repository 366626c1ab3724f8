package fieldapp

import (
	"net/http"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/google/uuid"

	"github.com/hue-cdt/cdt/domain"
	"github.com/hue-cdt/cdt/handlers/httpx"
	"github.com/hue-cdt/cdt/handlers/render"
	"github.com/hue-cdt/cdt/ingest"
)

type appLogData struct {
	appContext
	Services, Outcomes, AgeGroups, Genders, Places []string
	Consents                                       []string // nothing preselected: the citizen answers
	ClientID                                       string
}

// serviceOrder puts the services members give most often first on the form;
// it lists every service (a test holds it to domain.Services).
var serviceOrder = []string{"vneid_activation", "vneid_install", "public_service_online", "cashless_payment", "hue_s",
	"digital_skills", "health_insurance_app", "digital_signature", "digital_address", "ecommerce", "other"}

func (h *Handlers) logForm(c *gin.Context, status int, form, errs map[string]string) error {
	ac, err := h.appContext(c)
	if err != nil {
		return err
	}
	if err := h.withAsked(c, &ac); err != nil {
		return err
	}
	d := appLogData{appContext: ac, Services: serviceOrder, Outcomes: domain.Outcomes, AgeGroups: domain.AgeGroups,
		Genders: domain.Genders, Places: domain.Places, Consents: domain.Consents, ClientID: uuid.NewString()}
	if form == nil {
		// Only what the member sees is preselected: the outcome and the village
		// on the form, never the optional details kept folded away.
		form = map[string]string{"outcome": "done", "village_code": ac.Team.VillageCode}
	}
	render.HTML(c, status, tplAppLog, render.Loc(c).T("app.log"), render.Page{Data: d, Form: form, Errors: errs})
	return nil
}

// LogForm answers GET /app/log: the log form, the team's village preselected.
func (h *Handlers) LogForm(c *gin.Context) error { return h.logForm(c, http.StatusOK, nil, nil) }

// LogSubmit answers POST /app/log: a record sent by the form without
// JavaScript; the client_id generated with the form makes a double submit
// harmless.
func (h *Handlers) LogSubmit(c *gin.Context) error {
	f := httpx.PostForm(c)
	in := domain.NewRecord{ClientID: f["client_id"], Service: f["service"], HouseholdRef: f["household_ref"],
		VillageCode: f["village_code"], OccurredAt: h.Now().Format(time.RFC3339), Outcome: f["outcome"],
		Gender: f["citizen_gender"], AgeGroup: f["citizen_age_group"], Place: f["place"], Note: f["note"],
		Consent: f["consent"]}
	if in.Consent == "" {
		// The form always asks; a form sent without an answer is not a v1
		// client's record (domain.ConsentUnrecorded) but a missing answer.
		return h.logForm(c, http.StatusUnprocessableEntity, f, httpx.FieldErrors(render.Loc(c), domain.Invalid("consent", "required")))
	}
	res, err := h.Ingest.Log(c.Request.Context(), httpx.Caller(c), []domain.NewRecord{in}, time.Time{})
	if err != nil {
		return err
	}
	if res[0].Status == ingest.Invalid {
		f["household_ref"] = ""
		return h.logForm(c, http.StatusUnprocessableEntity, f, httpx.FieldErrors(render.Loc(c), res[0].Err))
	}
	if res[0].Record.NoteRedaction.Any() {
		c.Redirect(http.StatusSeeOther, "/app?done=logged_scrubbed")
		return nil
	}
	c.Redirect(http.StatusSeeOther, "/app?done=logged")
	return nil
}

type appRecordsData struct {
	appContext
	Records     []domain.Record
	VillageName map[string]string
	MemberName  map[string]string
	Next        string
	Team        bool // the team's records are listed
	CanTeam     bool // the caller may list the team's records
}

// Records answers GET /app/records?team=1&cursor=: the member's records, or a
// team leader's team's.
func (h *Handlers) Records(c *gin.Context) error {
	sc := httpx.Scope(c)
	ac, err := h.appContext(c)
	if err != nil {
		return err
	}
	ctx := c.Request.Context()
	mine, team := domain.RecordFilter{MemberID: ac.Member.ID, Limit: 30}, domain.RecordFilter{TeamID: ac.Team.ID, Limit: 30}
	// A team leader reads the team's records: the scope lets that filter through as it is.
	narrowed, err := sc.Records(team, h.TeamOf(ctx))
	d := appRecordsData{appContext: ac, VillageName: ac.villageNames(), MemberName: ac.memberNames(), CanTeam: err == nil && narrowed == team}
	f := mine
	if d.Team = c.Query("team") == "1" && d.CanTeam; d.Team {
		f = team
	}
	if cur := c.Query("cursor"); cur != "" {
		if f.After, err = domain.DecodeCursor(cur); err != nil {
			return err
		}
	}
	recs, next, err := h.FindRecords(ctx, f)
	if err != nil {
		return err
	}
	d.Records = recs
	if next != "" {
		d.Next = domain.EncodeCursor(next)
	}
	render.HTML(c, http.StatusOK, tplAppRecords, render.Loc(c).T("app.records"), render.Page{Data: d})
	return nil
}
