package api

import (
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/hue-cdt/cdt/domain"
	"github.com/hue-cdt/cdt/handlers/httpx"
	"github.com/hue-cdt/cdt/i18n"
)

type flagView struct {
	ID          string                 `json:"id"`
	Kind        string                 `json:"kind"`
	CommuneCode string                 `json:"commune_code"`
	MemberID    *string                `json:"member_id"`
	Day         domain.Date            `json:"day"`
	RecordIDs   []string               `json:"record_ids"`
	Records     []domain.FlaggedRecord `json:"records"`
	Evidence    domain.Evidence        `json:"evidence"`
	Reason      string                 `json:"reason"`
	Status      string                 `json:"status"`
	CreatedAt   time.Time              `json:"created_at"`
	Comment     *string                `json:"comment"`
	ReviewedBy  *string                `json:"reviewed_by"`
	ReviewedAt  *time.Time             `json:"reviewed_at"`
	Excluded    []string               `json:"excluded_record_ids"`
}

// viewFlag presents f, its reason in lang.
func viewFlag(f domain.Flag, lang string) flagView {
	v := flagView{ID: f.ID, Kind: f.Kind, CommuneCode: f.CommuneCode, MemberID: orNull(f.MemberID), Day: f.Day,
		RecordIDs: f.RecordIDs, Records: f.Records, Evidence: f.Evidence, Reason: f.Reason(i18n.For(lang).T), Status: f.Status,
		CreatedAt: f.CreatedAt.UTC(), Comment: orNull(f.Comment), ReviewedBy: orNull(f.ReviewedBy), Excluded: f.Excluded}
	if !f.ReviewedAt.IsZero() {
		at := f.ReviewedAt.UTC()
		v.ReviewedAt = &at
	}
	if v.RecordIDs == nil {
		v.RecordIDs = []string{}
	}
	if v.Records == nil {
		v.Records = []domain.FlaggedRecord{}
	}
	if v.Excluded == nil {
		v.Excluded = []string{}
	}
	return v
}

// ListFlags answers GET /integrity/flags?commune&kind&status&from&to&limit&cursor:
// the flags in the caller's scope, newest day first.
func (h *Handlers) ListFlags(c *gin.Context) error {
	limit, cursor, err := httpx.PageParams(c)
	if err != nil {
		return err
	}
	from, err := httpx.QueryDate(c, "from")
	if err != nil {
		return err
	}
	to, err := httpx.QueryDate(c, "to")
	if err != nil {
		return err
	}
	flags, next, err := h.FindFlags(c.Request.Context(), httpx.Scope(c), domain.FlagFilter{CommuneCode: c.Query("commune"),
		Kind: c.Query("kind"), Status: c.Query("status"), From: from, To: to, Limit: limit, After: cursor})
	if err != nil {
		return err
	}
	lang := httpx.APILang(c)
	items := make([]flagView, len(flags))
	for i, f := range flags {
		items[i] = viewFlag(f, lang)
	}
	c.JSON(http.StatusOK, gin.H{"items": items, "next_cursor": orNull(next)})
	return nil
}

// PatchFlag answers PATCH /integrity/flags/{id} {"status","comment"}.
func (h *Handlers) PatchFlag(c *gin.Context) error {
	var req domain.FlagReview
	if err := httpx.Decode(c, &req, httpx.MaxBody); err != nil {
		return err
	}
	f, err := h.ReviewFlag(c.Request.Context(), httpx.Scope(c), c.Param("id"), req)
	if err != nil {
		return err
	}
	c.JSON(http.StatusOK, viewFlag(f, httpx.APILang(c)))
	return nil
}

type verificationView struct {
	ID          string             `json:"id"`
	RecordID    string             `json:"record_id"`
	MemberID    string             `json:"member_id"`
	TeamID      string             `json:"team_id"`
	CommuneCode string             `json:"commune_code"`
	Service     string             `json:"service"`
	VillageCode string             `json:"village_code"`
	OccurredAt  time.Time          `json:"occurred_at"`
	Source      string             `json:"source"`
	FlagID      *string            `json:"flag_id"`
	Status      string             `json:"status"`
	Reason      string             `json:"reason"`
	Answer      *string            `json:"answer"`
	Corrected   *domain.Correction `json:"corrected"`
	RequestedBy *string            `json:"requested_by"`
	CreatedAt   time.Time          `json:"created_at"`
	AnsweredBy  *string            `json:"answered_by"`
	AnsweredAt  *time.Time         `json:"answered_at"`
}

func viewVerification(v domain.Verification) verificationView {
	out := verificationView{ID: v.ID, RecordID: v.RecordID, MemberID: v.MemberID, TeamID: v.TeamID, CommuneCode: v.CommuneCode,
		Service: v.Service, VillageCode: v.VillageCode, OccurredAt: v.OccurredAt.UTC(), Source: v.Source, FlagID: orNull(v.FlagID),
		Status: v.Status, Reason: v.Reason, Answer: orNull(v.Answer), RequestedBy: orNull(v.RequestedBy), CreatedAt: v.CreatedAt.UTC(),
		AnsweredBy: orNull(v.AnsweredBy)}
	if !v.Corrected.Empty() {
		c := v.Corrected
		out.Corrected = &c
	}
	if !v.AnsweredAt.IsZero() {
		at := v.AnsweredAt.UTC()
		out.AnsweredAt = &at
	}
	return out
}

// RequestVerification answers POST /assistance/{id}/verification {"reason"}.
func (h *Handlers) RequestVerification(c *gin.Context) error {
	var req struct {
		Reason string `json:"reason"`
	}
	if err := httpx.Decode(c, &req, httpx.MaxBody); err != nil {
		return err
	}
	v, err := h.AskVerification(c.Request.Context(), httpx.Scope(c), c.Param("id"), req.Reason, domain.VerifyFromRequest, "")
	if err != nil {
		return err
	}
	c.JSON(http.StatusCreated, viewVerification(v))
	return nil
}

// ListVerifications answers GET /verifications?commune&member&team&status:
// a member their own, a team leader their team's, managers their commune's.
func (h *Handlers) ListVerifications(c *gin.Context) error {
	vs, err := h.FindVerifications(c.Request.Context(), httpx.Scope(c), domain.VerificationFilter{CommuneCode: c.Query("commune"),
		MemberID: c.Query("member"), TeamID: c.Query("team"), Status: c.Query("status"), Source: c.Query("source")})
	if err != nil {
		return err
	}
	items := make([]verificationView, len(vs))
	for i, v := range vs {
		items[i] = viewVerification(v)
	}
	c.JSON(http.StatusOK, gin.H{"items": items})
	return nil
}

// PatchVerification answers PATCH /verifications/{id}
// {"status","answer","corrected"}.
func (h *Handlers) PatchVerification(c *gin.Context) error {
	var req domain.VerificationAnswer
	if err := httpx.Decode(c, &req, httpx.MaxBody); err != nil {
		return err
	}
	v, err := h.AnswerVerification(c.Request.Context(), httpx.Scope(c), c.Param("id"), req)
	if err != nil {
		return err
	}
	c.JSON(http.StatusOK, viewVerification(v))
	return nil
}
