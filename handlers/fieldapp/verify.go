package fieldapp

import (
	"errors"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/hue-cdt/cdt/domain"
	"github.com/hue-cdt/cdt/handlers/httpx"
	"github.com/hue-cdt/cdt/handlers/pages"
	"github.com/hue-cdt/cdt/handlers/render"
)

// asked are the questions about the member's records that wait for their
// answer (issue 12), shown at the top of the app's home and log pages.
type asked struct {
	Items    []domain.Verification
	Answers  []string
	Services []string
	Outcomes []string
	Back     string // the page the answer returns to
}

// withAsked loads the member's open verifications into ac: the member's
// own, never their team's (a team leader asks, a member answers).
func (h *Handlers) withAsked(c *gin.Context, ac *appContext) error {
	if h.Integrity.Verifications == nil {
		return nil
	}
	cl := httpx.Caller(c)
	vs, err := h.FindVerifications(c.Request.Context(), httpx.Scope(c), domain.VerificationFilter{MemberID: cl.MemberID,
		Status: domain.VerifyRequested})
	if err != nil {
		return err
	}
	ac.Asked = asked{Items: vs, Answers: domain.VerifyAnswers, Services: domain.Services, Outcomes: domain.Outcomes,
		Back: c.Request.URL.Path}
	return nil
}

// AnswerSubmit answers POST /app/verifications/{id}: the member's answer to
// a question about one of their records; back to where they were.
func (h *Handlers) AnswerSubmit(c *gin.Context) error {
	ctx, sc := c.Request.Context(), httpx.Scope(c)
	v, err := h.Integrity.Verifications.Verification(ctx, c.Param("id"))
	if err == nil {
		err = sc.AnswerVerification(v)
	}
	if err != nil {
		return err
	}
	_, err = h.AnswerVerification(ctx, sc, v.ID, pages.AnswerOf(c))
	if errors.Is(err, domain.ErrInvalid) {
		ac, aerr := h.appContext(c)
		if aerr != nil {
			return aerr
		}
		if aerr := h.withAsked(c, &ac); aerr != nil {
			return aerr
		}
		errs := httpx.FieldErrors(render.Loc(c), err)
		errs["verification_id"] = v.ID
		render.HTML(c, http.StatusUnprocessableEntity, tplAppHome, render.Loc(c).T("app.home"),
			render.Page{Data: appHomeData{appContext: ac, VillageName: ac.villageNames()}, Errors: errs})
		return nil
	}
	if err != nil {
		return err
	}
	back := "/app"
	if c.PostForm("back") == "/app/log" {
		back = "/app/log"
	}
	c.Redirect(http.StatusSeeOther, back+"?done=verification_answered")
	return nil
}
