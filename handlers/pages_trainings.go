package handlers

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
	"github.com/hue-cdt/cdt/handlers/httpx"
	"github.com/hue-cdt/cdt/i18n"
	"github.com/hue-cdt/cdt/refdata"
)

const (
	tplTrainings    = "trainings.html"
	tplTraining     = "training.html"
	tplTrainingForm = "training_form.html"
)

func init() {
	extraPages = append(extraPages, tplTrainings, tplTraining, tplTrainingForm)
	extraPageRoutes = append(extraPageRoutes, func(s *Server, g *gin.RouterGroup) {
		g.GET("/trainings", s.page(s.trainingsPage))
		g.GET("/communes/:code/trainings", s.page(s.trainingsPage))
		g.GET("/trainings/new", s.page(s.trainingForm))
		g.POST("/trainings/new", s.page(s.trainingForm))
		g.GET("/trainings/:id", s.page(s.trainingPage))
		g.POST("/trainings/:id/attend", s.page(s.attendPage))
		g.POST("/trainings/:id/sheet", s.page(s.sheetPage))
		g.GET("/exports/untrained.xlsx", httpx.JSON(s.api.ExportUntrained).Func())
	})
}

type progressPage struct {
	Unit      domain.Unit
	Progress  domain.Progress
	Share     float64
	Target    float64
	Chart     template.HTML
	Communes  map[string]string
	Topics    []hbar
	Trainings []domain.Training
	Untrained []domain.Member
	TeamNames map[string]string
	More      int
	Admin     bool
}

// trainingsPage shows a unit's training progress: the city's for admins
// (/trainings), a commune's for its leader (/communes/:code/trainings).
func (s *Server) trainingsPage(c *gin.Context) error {
	sc := scope(c)
	unit := c.Param("code")
	if unit == "" {
		if !sc.Admin() {
			if sc.Caller.Role == domain.RoleCommuneLeader {
				c.Redirect(http.StatusSeeOther, "/communes/"+sc.Caller.CommuneCode+"/trainings")
				return nil
			}
			return domain.ErrNotFound
		}
		unit = refdata.ProvinceCode
	}
	communes, err := s.progressScope(sc, unit)
	if err != nil {
		return domain.ErrNotFound
	}
	ctx := c.Request.Context()
	p, regs, trained, err := s.progress(ctx, communes)
	if err != nil {
		return err
	}
	l := loc(c)
	u, _ := s.d.Units.Get(unit, s.today())
	d := progressPage{Unit: u, Progress: p, Target: s.d.TrainingTarget, Communes: map[string]string{}, TeamNames: map[string]string{},
		Admin: sc.Admin()}
	if p.TeamsTotal > 0 {
		d.Share = float64(p.TeamsTrained) / float64(p.TeamsTotal)
	}
	for _, reg := range regs {
		cu, _ := s.d.Units.Get(reg.Code, s.today())
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
	d.Topics = hbars(labels, values)
	ts, err := s.d.Trainings.Trainings(ctx)
	if err != nil {
		return err
	}
	for _, t := range ts {
		if trainingVisible(sc, t) && (unit == refdata.ProvinceCode || t.UnitCode == unit || t.Level == domain.LevelProvinceTraining) {
			d.Trainings = append(d.Trainings, t)
		}
	}
	d.Chart = s.trainedOverTime(l, regs, ts, d.Target)
	all := domain.Untrained(regs, trained)
	d.Untrained = all[:min(len(all), 100)]
	d.More = len(all) - len(d.Untrained)
	s.render(c, http.StatusOK, tplTrainings, l.T("training.title")+" · "+u.ShortName, pageData{Data: d})
	return nil
}

// trainedOverTime draws the share of today's active teams trained by the end
// of each of the last 18 months, with the target as a line.
func (s *Server) trainedOverTime(l *i18n.Localizer, regs []*domain.CommuneRegistry, ts []domain.Training, target float64) template.HTML {
	months := domain.TrainedByMonth(regs, ts, s.d.Now(), 18)
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
	return bars(barSeries{Labels: labels, Values: values, Line: line, Title: l.T("training.over_time"), Unit: " %"})
}

type trainingPageData struct {
	Training  domain.Training
	Unit      domain.Unit
	Attendees []attendeeRow
	Others    int // attendees outside the caller's scope
	Query     string
	Found     []attendeeRow
	CanMark   bool
	Sheet     *sheetResult
	SheetErr  string
	Marked    string // how many the last marking recorded
}

type attendeeRow struct {
	Member  domain.Member
	Team    string
	Commune string
	Present bool
}

// trainingPage shows a training, its attendees in the caller's scope, a
// searchable list to mark members present, and the sign-in sheet upload.
func (s *Server) trainingPage(c *gin.Context) error {
	return s.renderTraining(c, nil, "", http.StatusOK)
}

func (s *Server) renderTraining(c *gin.Context, sheet *sheetResult, sheetErr string, status int) error {
	t, err := s.training(c, c.Param("id"))
	if err != nil {
		return err
	}
	sc := scope(c)
	ctx := c.Request.Context()
	u, _ := s.d.Units.Get(t.UnitCode, s.today())
	d := trainingPageData{Training: t, Unit: u, Query: strings.TrimSpace(c.Query("q")), Sheet: sheet, SheetErr: sheetErr,
		CanMark: sc.Admin() || sc.Caller.Role == domain.RoleCommuneLeader, Marked: c.Query("n")}
	communes := []string{sc.Caller.CommuneCode}
	if sc.Admin() {
		communes = s.currentCommuneCodes()
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
		reg, err := s.d.Registry.Registry(ctx, code)
		if err != nil {
			return err
		}
		cu, _ := s.d.Units.Get(code, s.today())
		teams := map[string]string{}
		for _, tm := range reg.Teams {
			teams[tm.ID] = tm.Name
		}
		for _, m := range reg.Members {
			row := attendeeRow{Member: m, Team: teams[m.TeamID], Commune: cu.Name, Present: present[m.ID]}
			if row.Present {
				d.Attendees = append(d.Attendees, row)
			} else if q != "" && m.Active && len(d.Found) < 50 &&
				(strings.Contains(domain.ASCIIFold(m.FullName), q) || strings.Contains(m.Phone, q) || strings.Contains(domain.ASCIIFold(row.Team), q)) {
				d.Found = append(d.Found, row)
			}
		}
	}
	d.Others = len(t.Attendees) - len(d.Attendees)
	s.render(c, status, tplTraining, t.Title, pageData{Data: d})
	return nil
}

// attendPage marks the members ticked in the list (or confirmed from a sheet).
func (s *Server) attendPage(c *gin.Context) error {
	t, err := s.training(c, c.Param("id"))
	if err != nil {
		return err
	}
	_ = c.Request.ParseForm()
	ids := c.Request.PostForm["member_id"]
	source := "list"
	if c.PostForm("source") == "sheet" {
		source = "sheet"
	}
	n, err := s.attend(c.Request.Context(), scope(c), t.ID, ids, source)
	if err != nil {
		if errors.Is(err, domain.ErrInvalid) {
			s.render(c, http.StatusUnprocessableEntity, tplError, loc(c).T("error.title.400"),
				pageData{Data: map[string]string{"Message": loc(c).T("error.validation_failed")}})
			return nil
		}
		return err
	}
	c.Redirect(http.StatusSeeOther, "/trainings/"+t.ID+"?done=attendance&n="+strconv.Itoa(n))
	return nil
}

// sheetPage previews an uploaded sign-in sheet (nothing is written); the page
// then offers to mark the matched members.
func (s *Server) sheetPage(c *gin.Context) error {
	t, err := s.training(c, c.Param("id"))
	if err != nil {
		return err
	}
	name, data, err := uploadedFile(c)
	if err == nil {
		var res sheetResult
		if res, err = s.sheet(c.Request.Context(), scope(c), loc(c), t, name, data, true); err == nil {
			return s.renderTraining(c, &res, "", http.StatusOK)
		}
	}
	if errors.Is(err, domain.ErrInvalid) || errors.Is(err, domain.ErrTooLarge) {
		msg := loc(c).T("error.body_too_large")
		if errors.Is(err, domain.ErrInvalid) {
			msg = fieldErrors(loc(c), err)["file"]
		}
		return s.renderTraining(c, nil, msg, http.StatusUnprocessableEntity)
	}
	return err
}

// trainingForm creates a training: admins for the city or any commune,
// commune leaders for their commune.
func (s *Server) trainingForm(c *gin.Context) error {
	sc := scope(c)
	if !sc.Admin() && sc.Caller.Role != domain.RoleCommuneLeader {
		return domain.ErrNotFound
	}
	l := loc(c)
	var units []domain.Unit
	if sc.Admin() {
		p, _ := s.d.Units.Get(refdata.ProvinceCode, s.today())
		units = append(units, p)
		communes := s.d.Units.Find(domain.UnitFilter{Level: domain.LevelCommune, AsOf: s.today()})
		sort.Slice(communes, func(i, j int) bool {
			return domain.FoldKey(communes[i].ShortName) < domain.FoldKey(communes[j].ShortName)
		})
		units = append(units, communes...)
	} else {
		u, _ := s.currentCommune(sc.Caller.CommuneCode)
		units = append(units, u)
	}
	data := map[string]any{"Units": units, "Topics": domain.TrainingTopics}
	form := map[string]string{"unit_code": units[0].Code}
	if c.Request.Method == http.MethodGet {
		s.render(c, http.StatusOK, tplTrainingForm, l.T("training.new"), pageData{Form: form, Data: data})
		return nil
	}
	_ = c.Request.ParseForm()
	form = postForm(c)
	topics := c.Request.PostForm["topics"]
	data["Checked"] = map[string]bool{}
	for _, tp := range topics {
		data["Checked"].(map[string]bool)[tp] = true
	}
	local := func(v string) string { // <input type="datetime-local"> has no zone: Huế time
		if t, err := time.ParseInLocation("2006-01-02T15:04", v, domain.Location); err == nil {
			return t.Format(time.RFC3339)
		}
		return v
	}
	t, err := s.createTraining(c.Request.Context(), sc, domain.NewTraining{Title: form["title"], Topics: topics,
		UnitCode: form["unit_code"], OrganizingUnit: form["organizing_unit"], StartsAt: local(form["starts_at"]),
		EndsAt: local(form["ends_at"]), Location: form["location"], Trainer: form["trainer"], MaterialsURL: form["materials_url"]})
	if err != nil {
		return s.formOutcome(c, err, tplTrainingForm, l.T("training.new"), form, data)
	}
	c.Redirect(http.StatusSeeOther, "/trainings/"+t.ID+"?done=training_created")
	return nil
}
