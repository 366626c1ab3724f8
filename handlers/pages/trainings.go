package pages

import (
	"errors"
	"html/template"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/hue-cdt/cdt/domain"
	"github.com/hue-cdt/cdt/handlers/core"
	"github.com/hue-cdt/cdt/handlers/httpx"
	"github.com/hue-cdt/cdt/handlers/render"
	"github.com/hue-cdt/cdt/i18n"
	"github.com/hue-cdt/cdt/refdata"
)

type progressPage struct {
	Unit      domain.Unit
	Progress  domain.Progress
	Share     float64
	Target    float64
	Chart     template.HTML
	Communes  map[string]string
	Topics    []render.HBar
	Trainings []domain.Training
	Untrained []domain.Member
	TeamNames map[string]string
	More      int
	Admin     bool
}

// TrainingsPage shows a unit's training progress: the city's for admins
// (/trainings; a commune leader goes on to their commune's), a commune's for
// its leader (/communes/{code}/trainings: 403 for another commune).
func (h *Handlers) TrainingsPage(c *gin.Context) error {
	sc := httpx.Scope(c)
	unit := c.Param("code")
	if unit == "" {
		if !sc.Admin() {
			c.Redirect(http.StatusSeeOther, "/communes/"+sc.Caller.CommuneCode+"/trainings")
			return nil
		}
		unit = refdata.ProvinceCode
	}
	communes, err := h.ReportCommunes(sc, unit)
	if errors.Is(err, domain.ErrInvalid) {
		return domain.ErrNotFound
	}
	if err != nil {
		return err
	}
	ctx := c.Request.Context()
	p, regs, trained, err := h.Progress(ctx, communes)
	if err != nil {
		return err
	}
	ts, err := h.Trainings.Trainings(ctx)
	if err != nil {
		return err
	}
	l := render.Loc(c)
	u, _ := h.Units.Get(unit, h.Today())
	d := h.progressPage(l, sc, u, p, regs, ts)
	all := domain.Untrained(regs, trained)
	d.Untrained = all[:min(len(all), 100)]
	d.More = len(all) - len(d.Untrained)
	render.HTML(c, http.StatusOK, tplTrainings, l.T("training.title")+" · "+u.ShortName, render.Page{Data: d})
	return nil
}

// progressPage arranges the progress of unit u for its page.
func (h *Handlers) progressPage(l *i18n.Localizer, sc domain.Scope, u domain.Unit, p domain.Progress, regs []*domain.CommuneRegistry, ts []domain.Training) progressPage {
	d := progressPage{Unit: u, Progress: p, Target: h.TrainingTarget, Communes: map[string]string{}, TeamNames: map[string]string{},
		Admin: sc.Admin()}
	if p.TeamsTotal > 0 {
		d.Share = float64(p.TeamsTrained) / float64(p.TeamsTotal)
	}
	for _, reg := range regs {
		cu, _ := h.Units.Get(reg.Code, h.Today())
		d.Communes[reg.Code] = cu.Name
		for _, t := range reg.Teams {
			d.TeamNames[t.ID] = t.Name
		}
	}
	labels := make([]string, len(domain.TrainingTopics))
	values := make([]int, len(domain.TrainingTopics))
	for i, tp := range domain.TrainingTopics {
		labels[i], values[i] = l.T("topic."+tp), p.ByTopic[tp]
	}
	d.Topics = render.HBars(labels, values)
	for _, t := range ts {
		if sc.ReadTraining(t) == nil && (u.Level == domain.LevelProvince || t.UnitCode == u.Code || t.Level == domain.LevelProvinceTraining) {
			d.Trainings = append(d.Trainings, t)
		}
	}
	d.Chart = trainedOverTime(l, domain.TrainedByMonth(regs, ts, h.Now(), 18), d.Target)
	return d
}

// trainedOverTime draws the share of today's active teams trained by the end
// of each month, with the target as a line.
func trainedOverTime(l *i18n.Localizer, months []domain.MonthShare, target float64) template.HTML {
	if len(months) == 0 {
		return ""
	}
	var labels []string
	var values, line []float64
	for _, m := range months {
		labels = append(labels, m.Month.Format("01/2006"))
		values = append(values, m.Share*100)
		line = append(line, target*100)
	}
	return render.Bars(render.BarSeries{Labels: labels, Values: values, Line: line, Title: l.T("training.over_time"), Percent: true, Lang: l.Lang()})
}

type trainingPageData struct {
	Training  domain.Training
	Unit      domain.Unit
	Attendees []attendeeRow
	Others    int // attendees outside the caller's scope
	Query     string
	Found     []attendeeRow
	CanMark   bool
	Sheet     *core.SheetResult
	SheetErr  string
	Marked    string // how many the last marking recorded
}

type attendeeRow struct {
	Member  domain.Member
	Team    string
	Commune string
	Present bool
}

// TrainingPage answers GET /trainings/{id}?q=: a training (404 for one the
// caller may not read), its attendees in the caller's scope, a searchable
// list to mark members present, and the sign-in sheet upload.
func (h *Handlers) TrainingPage(c *gin.Context) error {
	return h.renderTraining(c, nil, "", http.StatusOK)
}

func (h *Handlers) renderTraining(c *gin.Context, sheet *core.SheetResult, sheetErr string, status int) error {
	ctx, sc := c.Request.Context(), httpx.Scope(c)
	t, err := h.Training(ctx, sc, c.Param("id"))
	if err != nil {
		return err
	}
	u, _ := h.Units.Get(t.UnitCode, h.Today())
	d := trainingPageData{Training: t, Unit: u, Query: strings.TrimSpace(c.Query("q")), Sheet: sheet, SheetErr: sheetErr,
		CanMark: sc.Manage() == nil, Marked: c.Query("n")}
	communes := []string{sc.Caller.CommuneCode}
	if sc.Admin() {
		communes = h.CommuneCodes()
		if t.Level == domain.LevelCommuneTraining {
			communes = []string{t.UnitCode}
		}
	}
	present := map[string]bool{}
	for _, a := range t.Attendees {
		present[a.MemberID] = true
	}
	q := domain.ASCIIFold(d.Query)
	for _, code := range communes {
		if code == "" {
			continue
		}
		reg, err := h.Registry.Registry(ctx, code)
		if err != nil {
			return err
		}
		d.add(reg, h.communeName(code), present, q)
	}
	d.Others = len(t.Attendees) - len(d.Attendees)
	render.HTML(c, status, tplTraining, t.Title, render.Page{Data: d})
	return nil
}

func (h *Handlers) communeName(code string) string {
	u, _ := h.Units.Get(code, h.Today())
	return u.Name
}

// add lists the members of reg present, and those the query q finds.
func (d *trainingPageData) add(reg *domain.CommuneRegistry, commune string, present map[string]bool, q string) {
	teams := map[string]string{}
	for _, tm := range reg.Teams {
		teams[tm.ID] = tm.Name
	}
	for _, m := range reg.Members {
		row := attendeeRow{Member: m, Team: teams[m.TeamID], Commune: commune, Present: present[m.ID]}
		if row.Present {
			d.Attendees = append(d.Attendees, row)
		} else if q != "" && m.Active && len(d.Found) < 50 &&
			(strings.Contains(domain.ASCIIFold(m.FullName), q) || strings.Contains(m.Phone, q) || strings.Contains(domain.ASCIIFold(row.Team), q)) {
			d.Found = append(d.Found, row)
		}
	}
}

// AttendPage answers POST /trainings/{id}/attend: the members ticked in the
// list (or confirmed from a sheet) are marked present.
func (h *Handlers) AttendPage(c *gin.Context) error {
	ctx, sc := c.Request.Context(), httpx.Scope(c)
	t, err := h.Training(ctx, sc, c.Param("id"))
	if err != nil {
		return err
	}
	_ = c.Request.ParseForm()
	source := "list"
	if c.PostForm("source") == "sheet" {
		source = "sheet"
	}
	n, err := h.Attend(ctx, sc, t.ID, c.Request.PostForm["member_id"], source)
	if errors.Is(err, domain.ErrInvalid) {
		l := render.Loc(c)
		render.HTML(c, http.StatusUnprocessableEntity, tplError, l.T("error.title.400"),
			render.Page{Data: map[string]string{"Message": l.T("error.validation_failed")}})
		return nil
	}
	if err != nil {
		return err
	}
	c.Redirect(http.StatusSeeOther, "/trainings/"+t.ID+"?done=attendance&n="+strconv.Itoa(n))
	return nil
}

// SheetPage answers POST /trainings/{id}/sheet: a preview of an uploaded
// sign-in sheet (nothing is written); the page then offers to mark the
// matched members.
func (h *Handlers) SheetPage(c *gin.Context) error {
	ctx, sc := c.Request.Context(), httpx.Scope(c)
	t, err := h.Training(ctx, sc, c.Param("id"))
	if err != nil {
		return err
	}
	name, data, err := httpx.UploadedFile(c)
	if err == nil {
		var res core.SheetResult
		if res, err = h.Sheet(ctx, sc, render.Loc(c), t, name, data, true); err == nil {
			return h.renderTraining(c, &res, "", http.StatusOK)
		}
	}
	if errors.Is(err, domain.ErrInvalid) || errors.Is(err, domain.ErrTooLarge) {
		msg := render.Loc(c).T("error.body_too_large")
		if errors.Is(err, domain.ErrInvalid) {
			msg = httpx.FieldErrors(render.Loc(c), err)["file"]
		}
		return h.renderTraining(c, nil, msg, http.StatusUnprocessableEntity)
	}
	return err
}

// TrainingForm creates a training: admins for the city or any commune,
// commune leaders for their commune.
func (h *Handlers) TrainingForm(c *gin.Context) error {
	sc := httpx.Scope(c)
	l := render.Loc(c)
	units := h.trainingUnits(sc)
	data := map[string]any{"Units": units, "Topics": domain.TrainingTopics}
	form := map[string]string{"unit_code": units[0].Code}
	if c.Request.Method == http.MethodGet {
		render.HTML(c, http.StatusOK, tplTrainingForm, l.T("training.new"), render.Page{Form: form, Data: data})
		return nil
	}
	_ = c.Request.ParseForm()
	form = httpx.PostForm(c)
	topics := c.Request.PostForm["topics"]
	checked := map[string]bool{}
	for _, tp := range topics {
		checked[tp] = true
	}
	data["Checked"] = checked
	local := func(v string) string { // <input type="datetime-local"> has no zone: Huế time
		if t, err := time.ParseInLocation("2006-01-02T15:04", v, domain.Location); err == nil {
			return t.Format(time.RFC3339)
		}
		return v
	}
	t, err := h.CreateTraining(c.Request.Context(), sc, domain.NewTraining{Title: form["title"], Topics: topics,
		UnitCode: form["unit_code"], OrganizingUnit: form["organizing_unit"], StartsAt: local(form["starts_at"]),
		EndsAt: local(form["ends_at"]), Location: form["location"], Trainer: form["trainer"], MaterialsURL: form["materials_url"]})
	if err != nil {
		return formOutcome(c, err, tplTrainingForm, l.T("training.new"), form, data)
	}
	c.Redirect(http.StatusSeeOther, "/trainings/"+t.ID+"?done=training_created")
	return nil
}

// trainingUnits are the units sc may organise a training for: the province
// and every commune (by name) for admins, their commune for a leader.
func (h *Handlers) trainingUnits(sc domain.Scope) []domain.Unit {
	if !sc.Admin() {
		u, _ := h.Commune(sc.Caller.CommuneCode)
		return []domain.Unit{u}
	}
	p, _ := h.Units.Get(refdata.ProvinceCode, h.Today())
	communes := h.Units.Find(domain.UnitFilter{Level: domain.LevelCommune, AsOf: h.Today()})
	sort.Slice(communes, func(i, j int) bool {
		return domain.FoldKey(communes[i].ShortName) < domain.FoldKey(communes[j].ShortName)
	})
	return append([]domain.Unit{p}, communes...)
}
