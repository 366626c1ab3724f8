package pages

import (
	"errors"
	"net/http"
	"net/url"
	"sort"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/hue-cdt/cdt/domain"
	"github.com/hue-cdt/cdt/handlers/core"
	"github.com/hue-cdt/cdt/handlers/httpx"
	"github.com/hue-cdt/cdt/handlers/render"
)

// Templates of the integrity review.
const (
	tplReview    = "review.html"
	tplIntegrity = "integrity.html"
)

// flagCard is a flag as the review queue shows it: the reason in words,
// the members' names, each record with its service, time and village.
type flagCard struct {
	Flag    domain.Flag
	Reason  string
	Members []string
	Records []recordLine
}

type recordLine struct {
	Service, Village, Outcome string
	At                        time.Time
	Member                    string
}

// verifyLine is a verification with the names the page shows.
type verifyLine struct {
	V       domain.Verification
	Member  string
	Phone   string
	Village string
}

type reviewData struct {
	Commune  domain.Unit
	Admin    bool
	Summary  core.IntegritySummary
	Rates    []rateLine
	Flags    []flagCard
	Open     []verifyLine // verifications waiting for an answer
	Answered []verifyLine // the latest answers
	Kinds    []string
	Statuses []string
	Answers  []string
	Services []string
	Next     string
}

type rateLine struct {
	Status string
	N      int
	Rate   float64
}

// ReviewPage answers GET /communes/{code}/integrity: the commune's review
// queue — its flags (open ones by default), newest first, each with why it
// was raised and its records, and one tap to confirm, dismiss (with a
// comment) or ask the member; then the verifications waiting for an answer
// (the weekly sample is checked by phone here) and the latest answers.
func (h *Handlers) ReviewPage(c *gin.Context) error {
	return h.renderReview(c, c.Param("code"), http.StatusOK, nil, nil)
}

func (h *Handlers) renderReview(c *gin.Context, code string, status int, form, errs map[string]string) error {
	u, reg, err := h.managedCommune(c, code)
	if err != nil {
		return err
	}
	ctx, l, sc := c.Request.Context(), render.Loc(c), httpx.Scope(c)
	q := domain.FlagFilter{CommuneCode: u.Code, Kind: c.Query("kind"), Status: c.DefaultQuery("status", domain.FlagOpen),
		Limit: 30, After: c.Query("cursor")}
	if q.Status == "all" {
		q.Status = ""
	}
	flags, next, err := h.FindFlags(ctx, sc, q)
	if errors.Is(err, domain.ErrInvalid) {
		q.Kind, q.Status, q.After = "", domain.FlagOpen, ""
		flags, next, err = h.FindFlags(ctx, sc, q)
	}
	if err != nil {
		return err
	}
	sums, err := h.IntegritySummaries(ctx, []string{u.Code})
	if err != nil {
		return err
	}
	d := reviewData{Commune: u, Admin: sc.Admin(), Kinds: domain.FlagKinds, Statuses: domain.FlagStatuses, Answers: domain.VerifyAnswers,
		Services: domain.Services}
	if s := sums[u.Code]; s != nil {
		d.Summary = *s
	}
	for _, st := range domain.VerifyAnswers {
		d.Rates = append(d.Rates, rateLine{Status: st, N: d.Summary.Verify.ByStatus[st], Rate: d.Summary.Verify.Rate(st)})
	}
	names := newNames(reg)
	for _, f := range flags {
		card := flagCard{Flag: f, Reason: f.Reason(l.T)}
		members := f.Evidence.Members
		if f.MemberID != "" {
			members = []string{f.MemberID}
		}
		for _, m := range members {
			card.Members = append(card.Members, names.member(m))
		}
		for _, r := range f.Records {
			card.Records = append(card.Records, recordLine{Service: l.T("service." + r.Service), Village: names.village(r.VillageCode),
				Outcome: r.Outcome, At: r.OccurredAt, Member: names.member(r.MemberID)})
		}
		sort.Slice(card.Records, func(i, j int) bool { return card.Records[i].At.Before(card.Records[j].At) })
		d.Flags = append(d.Flags, card)
	}
	vs, err := h.FindVerifications(ctx, sc, domain.VerificationFilter{CommuneCode: u.Code})
	if err != nil {
		return err
	}
	for _, v := range vs {
		line := verifyLine{V: v, Member: names.member(v.MemberID), Village: names.village(v.VillageCode)}
		if m, ok := reg.Member(v.MemberID); ok {
			line.Phone = m.Phone
		}
		if v.Open() {
			d.Open = append(d.Open, line)
		} else if len(d.Answered) < 20 {
			d.Answered = append(d.Answered, line)
		}
	}
	if next != "" {
		v := c.Request.URL.Query()
		v.Set("cursor", next)
		d.Next = "/communes/" + u.Code + "/integrity?" + v.Encode()
	}
	if form == nil {
		form = map[string]string{"kind": c.Query("kind"), "status": c.DefaultQuery("status", domain.FlagOpen)}
	}
	render.HTML(c, status, tplReview, l.T("integrity.queue_title", "Commune", u.Name), render.Page{Form: form, Errors: errs, Data: d})
	return nil
}

// names finds the names of a commune's members and villages.
type names struct{ reg *domain.CommuneRegistry }

func newNames(reg *domain.CommuneRegistry) names { return names{reg} }

func (n names) member(id string) string {
	if n.reg != nil {
		if m, ok := n.reg.Member(id); ok {
			return m.FullName
		}
	}
	return id
}

func (n names) village(code string) string {
	if n.reg != nil {
		if v, ok := n.reg.Village(code); ok {
			return v.Name
		}
	}
	return code
}

// ReviewFlagSubmit answers POST /integrity/flags/{id}: action confirm,
// dismiss (with a comment) or verify (ask the member about the flag's
// first record, with a reason). Back to the queue, or the queue again with
// the message when the input is refused.
func (h *Handlers) ReviewFlagSubmit(c *gin.Context) error {
	ctx, sc, l := c.Request.Context(), httpx.Scope(c), render.Loc(c)
	f, err := h.Integrity.Flags.Flag(ctx, c.Param("id"))
	if err == nil {
		err = sc.ReviewFlag(f)
	}
	if err != nil {
		return err
	}
	action, comment := c.PostForm("action"), c.PostForm("comment")
	done := ""
	switch action {
	case "confirm", "dismiss":
		status := map[string]string{"confirm": domain.FlagConfirmed, "dismiss": domain.FlagDismissed}[action]
		_, err = h.ReviewFlag(ctx, sc, f.ID, domain.FlagReview{Status: status, Comment: comment})
		done = "flag_" + status
	case "verify":
		if len(f.RecordIDs) == 0 {
			return domain.ErrNotFound
		}
		reason := comment
		if reason == "" {
			reason = f.Reason(l.T)
		}
		_, err = h.AskVerification(ctx, sc, f.RecordIDs[0], reason, domain.VerifyFromFlag, f.ID)
		done = "verification_asked"
	default:
		err = domain.Invalid("action", "one_of", "confirm, dismiss, verify")
	}
	if errors.Is(err, domain.ErrInvalid) || errors.Is(err, domain.ErrConflict) {
		errs := httpx.FieldErrors(l, err)
		if len(errs) == 0 {
			errs = map[string]string{"flag": httpx.Info(l, err).Message}
		}
		errs["flag_id"] = f.ID
		return h.renderReview(c, f.CommuneCode, http.StatusUnprocessableEntity, map[string]string{"comment": comment, "flag": f.ID,
			"status": domain.FlagOpen}, errs)
	}
	if err != nil {
		return err
	}
	c.Redirect(http.StatusSeeOther, "/communes/"+url.PathEscape(f.CommuneCode)+"/integrity?done="+done)
	return nil
}

// VerificationSubmit answers POST /verifications/{id}: a leader records
// the answer of a check by phone (the weekly sample) or for the member.
func (h *Handlers) VerificationSubmit(c *gin.Context) error {
	ctx, sc, l := c.Request.Context(), httpx.Scope(c), render.Loc(c)
	v, err := h.Integrity.Verifications.Verification(ctx, c.Param("id"))
	if err == nil {
		err = sc.AnswerVerification(v)
	}
	if err != nil {
		return err
	}
	_, err = h.AnswerVerification(ctx, sc, v.ID, answerOf(c))
	if errors.Is(err, domain.ErrInvalid) {
		errs := httpx.FieldErrors(l, err)
		errs["verification_id"] = v.ID
		return h.renderReview(c, v.CommuneCode, http.StatusUnprocessableEntity, nil, errs)
	}
	if err != nil {
		return err
	}
	c.Redirect(http.StatusSeeOther, "/communes/"+url.PathEscape(v.CommuneCode)+"/integrity?done=verification_answered")
	return nil
}

// answerOf reads an answer form: status, answer and, for "corrected", the
// corrected service, village and outcome.
func answerOf(c *gin.Context) domain.VerificationAnswer {
	in := domain.VerificationAnswer{Status: c.PostForm("status"), Answer: c.PostForm("answer")}
	if in.Status == domain.VerifyCorrected {
		in.Corrected = domain.Correction{Service: c.PostForm("corrected_service"), VillageCode: c.PostForm("corrected_village"),
			Outcome: c.PostForm("corrected_outcome")}
	}
	return in
}

// AnswerOf is answerOf for the field app.
func AnswerOf(c *gin.Context) domain.VerificationAnswer { return answerOf(c) }

type integrityRow struct {
	Commune domain.Unit
	S       core.IntegritySummary
}

// IntegrityPage answers GET /integrity: a commune leader goes to their
// commune's review queue; the province sees every commune's flags and
// verifications side by side.
func (h *Handlers) IntegrityPage(c *gin.Context) error {
	sc, l := httpx.Scope(c), render.Loc(c)
	if !sc.Admin() {
		c.Redirect(http.StatusSeeOther, "/communes/"+url.PathEscape(sc.Caller.CommuneCode)+"/integrity")
		return nil
	}
	sums, err := h.IntegritySummaries(c.Request.Context(), nil)
	if err != nil {
		return err
	}
	var rows []integrityRow
	var total core.IntegritySummary
	total.Verify.ByStatus = map[string]int{}
	for _, code := range h.CommuneCodes() {
		u, _ := h.Commune(code)
		row := integrityRow{Commune: u, S: core.IntegritySummary{Verify: domain.VerifyStats{ByStatus: map[string]int{}}}}
		if s := sums[code]; s != nil {
			row.S = *s
		}
		addSummary(&total, row.S)
		rows = append(rows, row)
	}
	sort.SliceStable(rows, func(i, j int) bool {
		a, b := rows[i].S, rows[j].S
		if a.Open != b.Open {
			return a.Open > b.Open
		}
		return a.Flagged > b.Flagged
	})
	render.HTML(c, http.StatusOK, tplIntegrity, l.T("integrity.title"), render.Page{Data: map[string]any{"Rows": rows,
		"Total": total, "Answers": domain.VerifyAnswers}})
	return nil
}

func addSummary(t *core.IntegritySummary, s core.IntegritySummary) {
	t.Open += s.Open
	t.Confirmed += s.Confirmed
	t.Dismissed += s.Dismissed
	t.Flagged += s.Flagged
	t.ConfirmedRecords += s.ConfirmedRecords
	t.Excluded += s.Excluded
	t.Verify.Requested += s.Verify.Requested
	t.Verify.Open += s.Verify.Open
	t.Verify.Answered += s.Verify.Answered
	for k, v := range s.Verify.ByStatus {
		t.Verify.ByStatus[k] += v
	}
}

// integrityOf is a commune's summary for its dashboard (zero when none).
func (h *Handlers) integrityOf(c *gin.Context, code string) (core.IntegritySummary, []rateLine, error) {
	sums, err := h.IntegritySummaries(c.Request.Context(), []string{code})
	if err != nil {
		return core.IntegritySummary{}, nil, err
	}
	s := core.IntegritySummary{Verify: domain.VerifyStats{ByStatus: map[string]int{}}}
	if x := sums[code]; x != nil {
		s = *x
	}
	var rates []rateLine
	for _, st := range domain.VerifyAnswers {
		rates = append(rates, rateLine{Status: st, N: s.Verify.ByStatus[st], Rate: s.Verify.Rate(st)})
	}
	return s, rates, nil
}
