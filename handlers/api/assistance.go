package api

import (
	"bytes"
	"encoding/json"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"
	"golang.org/x/time/rate"

	"github.com/hue-cdt/cdt/domain"
	"github.com/hue-cdt/cdt/handlers/httpx"
	"github.com/hue-cdt/cdt/i18n"
	"github.com/hue-cdt/cdt/ingest"
)

func (h *Handlers) allowAssist(c *gin.Context) error {
	if !h.limits.Allow("assist:"+httpx.Caller(c).Username, rate.Limit(h.AssistRate), 2*h.AssistRate) {
		return domain.ErrRateLimited
	}
	return nil
}

type recordView struct {
	ID          string    `json:"id"`
	ClientID    string    `json:"client_id"`
	MemberID    string    `json:"member_id"`
	TeamID      string    `json:"team_id"`
	CommuneCode string    `json:"commune_code"`
	VillageCode string    `json:"village_code"`
	Service     string    `json:"service"`
	OccurredAt  time.Time `json:"occurred_at"`
	RecordedAt  time.Time `json:"recorded_at"`
	Outcome     string    `json:"outcome"`
	Gender      *string   `json:"citizen_gender"`
	AgeGroup    *string   `json:"citizen_age_group"`
	Place       *string   `json:"place"`
	Note        *string   `json:"note"`
}

func viewRecord(r domain.Record) recordView {
	return recordView{ID: r.ID, ClientID: r.ClientID, MemberID: r.MemberID, TeamID: r.TeamID, CommuneCode: r.CommuneCode,
		VillageCode: r.VillageCode, Service: r.Service, OccurredAt: r.OccurredAt, RecordedAt: r.RecordedAt, Outcome: r.Outcome,
		Gender: ptr(r.Gender), AgeGroup: ptr(r.AgeGroup), Place: ptr(r.Place), Note: ptr(r.Note)}
}

type createdView struct {
	recordView
	Created bool `json:"created"`
}

// deviceTime reads the phone's clock from the X-Device-Time header (RFC 3339),
// kept to make late or back-dated records visible.
func deviceTime(c *gin.Context, body string) time.Time {
	v := c.GetHeader("X-Device-Time")
	if v == "" {
		v = body
	}
	t, err := time.Parse(time.RFC3339, v)
	if err != nil {
		return time.Time{}
	}
	return t
}

// CreateAssistance answers POST /assistance: 201 for a new record, 200 with
// created:false and the original id for one sent before.
func (h *Handlers) CreateAssistance(c *gin.Context) error {
	if err := h.allowAssist(c); err != nil {
		return err
	}
	var in domain.NewRecord
	if err := httpx.Decode(c, &in, httpx.MaxBody); err != nil {
		return err
	}
	res, err := h.Ingest.Log(c.Request.Context(), httpx.Caller(c), []domain.NewRecord{in}, deviceTime(c, ""))
	if err != nil {
		return err
	}
	r := res[0]
	switch r.Status {
	case ingest.Invalid:
		return r.Err
	case ingest.Created:
		c.JSON(http.StatusCreated, createdView{viewRecord(r.Record), true})
	default:
		c.JSON(http.StatusOK, createdView{viewRecord(r.Record), false})
	}
	return nil
}

type batchRequest struct {
	Records []json.RawMessage `json:"records"`
	SentAt  string            `json:"sent_at"`
	// MemberID is the member who logged the records, when the client says:
	// a phone shared by several members sends each one's records only under
	// their own session, and the server refuses them under another's.
	MemberID string `json:"member_id"`
}

type batchResult struct {
	ClientID string           `json:"client_id"`
	ID       *string          `json:"id"`
	Status   string           `json:"status"`
	Error    *httpx.ErrorInfo `json:"error"`
	Record   *recordView      `json:"record,omitempty"`
}

// CreateAssistanceBatch answers POST /assistance/batch (and the field app's
// queue, /app/api/assistance/batch): up to 500 records, each judged on its
// own; one invalid record does not reject the others.
func (h *Handlers) CreateAssistanceBatch(c *gin.Context) error {
	if err := h.allowAssist(c); err != nil {
		return err
	}
	var req batchRequest
	if err := httpx.Decode(c, &req, httpx.MaxBatchBody); err != nil {
		return err
	}
	if len(req.Records) > domain.MaxBatch {
		return domain.Invalid("records", "too_many", domain.MaxBatch)
	}
	if req.MemberID != "" && req.MemberID != httpx.Caller(c).MemberID {
		return httpx.ErrMemberMismatch
	}
	results, err := h.logBatch(c, req)
	if err != nil {
		return err
	}
	c.JSON(http.StatusOK, gin.H{"results": results})
	return nil
}

// decodeRecords decodes each record of a batch strictly and on its own: bad[i]
// is why record i could not be decoded (then recs[i] holds its client_id
// only, if it has one), so that one bad record spoils no other.
func decodeRecords(raws []json.RawMessage) (recs []domain.NewRecord, bad []error) {
	recs = make([]domain.NewRecord, len(raws))
	bad = make([]error, len(raws))
	for i, raw := range raws {
		dec := json.NewDecoder(bytes.NewReader(raw))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&recs[i]); err != nil {
			bad[i] = httpx.DecodeError(err)
			var probe struct {
				ClientID string `json:"client_id"`
			}
			_ = json.Unmarshal(raw, &probe)
			recs[i] = domain.NewRecord{ClientID: probe.ClientID}
		}
	}
	return recs, bad
}

// logBatch decodes each record strictly and stores the valid ones.
func (h *Handlers) logBatch(c *gin.Context, req batchRequest) ([]batchResult, error) {
	recs, bad := decodeRecords(req.Records)
	res, err := h.Ingest.Log(c.Request.Context(), httpx.Caller(c), recs, deviceTime(c, req.SentAt))
	if err != nil {
		return nil, err
	}
	loc := i18n.For(httpx.APILang(c))
	out := make([]batchResult, len(res))
	for i, r := range res {
		out[i] = batchResult{ClientID: r.ClientID, Status: r.Status}
		if bad[i] != nil {
			r.Status, r.Err = ingest.Invalid, bad[i]
			out[i].Status = ingest.Invalid
		}
		if r.Status == ingest.Invalid {
			info := httpx.Info(loc, r.Err)
			out[i].Error = &info
			continue
		}
		out[i].ID = &r.ID
		v := viewRecord(r.Record)
		out[i].Record = &v
	}
	return out, nil
}

// ListAssistance answers GET /assistance?commune&team&member&from&to&limit&cursor,
// newest first, limited to the caller's scope (403 for a filter outside it).
func (h *Handlers) ListAssistance(c *gin.Context) error {
	f, err := recordFilter(c)
	if err != nil {
		return err
	}
	if f, err = httpx.Scope(c).Records(f, h.TeamOf(c.Request.Context())); err != nil {
		return err
	}
	recs, next, err := h.FindRecords(c.Request.Context(), f)
	if err != nil {
		return err
	}
	items := make([]recordView, len(recs))
	for i, r := range recs {
		items[i] = viewRecord(r)
	}
	body := gin.H{"items": items, "next_cursor": nil}
	if next != "" {
		body["next_cursor"] = domain.EncodeCursor(next)
	}
	c.JSON(http.StatusOK, body)
	return nil
}

// Default and largest page of records.
const (
	recordsDefault = 20
	recordsMax     = 200
)

// recordFilter reads the query of a list of records.
func recordFilter(c *gin.Context) (domain.RecordFilter, error) {
	f := domain.RecordFilter{CommuneCode: c.Query("commune"), TeamID: c.Query("team"), MemberID: c.Query("member")}
	var p domain.Problems
	var err error
	if f.From, f.To, err = httpx.QueryRange(c); err != nil {
		p.Merge("", err)
	}
	limit, err := httpx.QueryInt(c, "limit")
	if err != nil {
		p.Merge("", err)
	}
	if after, err := domain.DecodeCursor(c.Query("cursor")); err != nil {
		p.Merge("", err)
	} else {
		f.After = after
	}
	f.Limit = min(max(limit, 0), recordsMax)
	if f.Limit == 0 {
		f.Limit = recordsDefault
	}
	return f, p.Err()
}

type serviceView struct {
	Code   string `json:"code"`
	NameVI string `json:"name_vi"`
	NameEN string `json:"name_en"`
}

// ListServices answers GET /services, the catalogue of help a team gives.
func (h *Handlers) ListServices(c *gin.Context) error {
	vi, en := i18n.For(i18n.VI), i18n.For(i18n.EN)
	items := make([]serviceView, len(domain.Services))
	for i, code := range domain.Services {
		items[i] = serviceView{Code: code, NameVI: vi.T("service." + code), NameEN: en.T("service." + code)}
	}
	c.JSON(http.StatusOK, gin.H{"items": items})
	return nil
}
