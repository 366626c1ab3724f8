// Package pages is the server-rendered site of the province and the commune
// leaders (and the pages every login shares: sign in, account, units): lists,
// dashboards and forms, Vietnamese first. A form POST redirects with 303 on
// success and renders the form again with the input and its messages when
// invalid. Its routes are listed, with their access rules, in the route table
// of package handlers.
package pages

import (
	"errors"
	"net/http"
	"strconv"

	"github.com/gin-gonic/gin"

	"github.com/hue-cdt/cdt/domain"
	"github.com/hue-cdt/cdt/handlers/core"
	"github.com/hue-cdt/cdt/handlers/httpx"
	"github.com/hue-cdt/cdt/handlers/render"
)

// Templates of the pages.
const (
	tplLogin        = "login.html"
	tplError        = "error.html"
	tplCommunes     = "communes.html"
	tplCommune      = "commune.html"
	tplVillageForm  = "village_form.html"
	tplTeamForm     = "team_form.html"
	tplTeam         = "team.html"
	tplMemberForm   = "member_form.html"
	tplMember       = "member.html"
	tplUserForm     = "user_form.html"
	tplUsers        = "users.html"
	tplUnits        = "units.html"
	tplAccount      = "account.html"
	tplDashboard    = "dashboard.html"
	tplProvince     = "province.html"
	tplJobs         = "jobs.html"
	tplTrainings    = "trainings.html"
	tplTraining     = "training.html"
	tplTrainingForm = "training_form.html"
	tplAudit        = "audit.html"
)

// Handlers answers the pages.
type Handlers struct {
	*core.Deps
	limits   *httpx.Limiters
	sessions httpx.Sessions
}

// New returns the pages' handlers; limits are the server's rate limiters,
// sessions its cookie sessions.
func New(d *core.Deps, limits *httpx.Limiters, sessions httpx.Sessions) *Handlers {
	return &Handlers{Deps: d, limits: limits, sessions: sessions}
}

// managedCommune returns commune code and its registry: 404 when it is no
// commune of today, 403 when the caller does not manage it.
func (h *Handlers) managedCommune(c *gin.Context, code string) (domain.Unit, *domain.CommuneRegistry, error) {
	u, ok := h.Commune(code)
	if !ok {
		return domain.Unit{}, nil, domain.ErrNotFound
	}
	if err := httpx.Scope(c).ManageCommune(code); err != nil {
		return domain.Unit{}, nil, err
	}
	reg, err := h.Registry.Registry(c.Request.Context(), code)
	return u, reg, err
}

// formOutcome renders an invalid form again with its messages, or reports the error.
func formOutcome(c *gin.Context, err error, tpl, title string, form map[string]string, data any) error {
	if errors.Is(err, domain.ErrInvalid) || errors.Is(err, domain.ErrConflict) {
		l := render.Loc(c)
		errs := httpx.FieldErrors(l, err)
		alert := ""
		if len(errs) == 0 {
			alert = l.T("error.conflict")
		}
		render.HTML(c, http.StatusUnprocessableEntity, tpl, title, render.Page{Form: form, Errors: errs, Data: data, Alert: alert})
		return nil
	}
	return err
}

// atoiField reads an integer field of a form, 0 when empty.
func atoiField(form map[string]string, field string, p *domain.Problems) int {
	v := form[field]
	if v == "" {
		return 0
	}
	n, err := strconv.Atoi(v)
	if err != nil {
		p.Add(field, "integer")
	}
	return n
}

func ptrOf(s string) *string { return &s }
