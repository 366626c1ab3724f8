package handlers

import (
	"bytes"
	"encoding/json"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"
	"golang.org/x/time/rate"

	"github.com/hue-cdt/cdt/domain"
	"github.com/hue-cdt/cdt/i18n"
	"github.com/hue-cdt/cdt/ingest"
)

func (s *Server) allowAssist(c *gin.Context) error {
	if !s.limiter.allow("assist:"+caller(c).Username, rate.Limit(s.d.AssistRate), 2*s.d.AssistRate) {
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

// createAssistance answers POST /assistance: 201 for a new record, 200 with
// created:false and the original id for one sent before.
func (s *Server) createAssistance(c *gin.Context) error {
	if err := s.allowAssist(c); err != nil {
		return err
	}
	var in domain.NewRecord
	if err := decode(c, &in, maxBody); err != nil {
		return err
	}
	res, err := s.d.Ingest.Log(c.Request.Context(), caller(c), []domain.NewRecord{in}, deviceTime(c, ""))
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
}

type batchResult struct {
	ClientID string      `json:"client_id"`
	ID       *string     `json:"id"`
	Status   string      `json:"status"`
	Error    *errorInfo  `json:"error"`
	Record   *recordView `json:"record,omitempty"`
}

// createAssistanceBatch answers POST /assistance/batch: up to 500 records, each
// judged on its own; one invalid record does not reject the others.
func (s *Server) createAssistanceBatch(c *gin.Context) error {
	if err := s.allowAssist(c); err != nil {
		return err
	}
	var req batchRequest
	if err := decode(c, &req, maxBatchBody); err != nil {
		return err
	}
	if len(req.Records) > domain.MaxBatch {
		return domain.Invalid("records", "too_many", domain.MaxBatch)
	}
	results, err := s.logBatch(c, req)
	if err != nil {
		return err
	}
	c.JSON(http.StatusOK, gin.H{"results": results})
	return nil
}

// logBatch decodes each record strictly and stores the valid ones.
func (s *Server) logBatch(c *gin.Context, req batchRequest) ([]batchResult, error) {
	loc := i18n.For(apiLang(c))
	recs := make([]domain.NewRecord, len(req.Records))
	bad := make([]error, len(req.Records))
	for i, raw := range req.Records {
		dec := json.NewDecoder(bytes.NewReader(raw))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&recs[i]); err != nil {
			bad[i] = decodeError(err)
			var probe struct {
				ClientID string `json:"client_id"`
			}
			_ = json.Unmarshal(raw, &probe)
			recs[i] = domain.NewRecord{ClientID: probe.ClientID}
		}
	}
	res, err := s.d.Ingest.Log(c.Request.Context(), caller(c), recs, deviceTime(c, req.SentAt))
	if err != nil {
		return nil, err
	}
	out := make([]batchResult, len(res))
	for i, r := range res {
		out[i] = batchResult{ClientID: r.ClientID, Status: r.Status}
		if bad[i] != nil {
			r.Status, r.Err = ingest.Invalid, bad[i]
			out[i].Status = ingest.Invalid
		}
		if r.Status == ingest.Invalid {
			status, code := classify(r.Err)
			_ = status
			out[i].Error = &errorInfo{Code: code, Message: loc.T("error." + code), Details: details(loc, r.Err)}
			continue
		}
		out[i].ID = &r.ID
		v := viewRecord(r.Record)
		out[i].Record = &v
	}
	return out, nil
}

// listAssistance answers GET /assistance?commune&team&member&from&to&limit&cursor,
// newest first, limited to the caller's scope.
func (s *Server) listAssistance(c *gin.Context) error {
	f, err := s.recordFilter(c)
	if err != nil {
		return err
	}
	recs, next, err := s.findRecords(c, f)
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

// recordFilter reads the query and narrows it to the caller's scope.
func (s *Server) recordFilter(c *gin.Context) (domain.RecordFilter, error) {
	f := domain.RecordFilter{CommuneCode: c.Query("commune"), TeamID: c.Query("team"), MemberID: c.Query("member")}
	var p domain.Problems
	for _, k := range []string{"from", "to"} {
		v := c.Query(k)
		if v == "" {
			continue
		}
		t, err := time.Parse(time.RFC3339, v)
		if err != nil {
			d, ok := domain.ParseDate(v)
			if !ok {
				p.Add(k, "datetime")
				continue
			}
			t = d.Time()
			if k == "to" {
				t = d.Next().Time() // a date "to" includes that day
			}
		}
		if k == "from" {
			f.From = t
		} else {
			f.To = t
		}
	}
	limit, err := queryInt(c, "limit")
	if err != nil {
		p.Merge("", err)
	}
	if after, err := domain.DecodeCursor(c.Query("cursor")); err != nil {
		p.Merge("", err)
	} else {
		f.After = after
	}
	if err := p.Err(); err != nil {
		return f, err
	}
	f.Limit = min(max(limit, 0), recordsMax)
	if f.Limit == 0 {
		f.Limit = recordsDefault
	}
	sc := scope(c)
	cl := sc.Caller
	// The member or team named must be in the caller's reach.
	switch cl.Role {
	case domain.RoleMember:
		if f.MemberID != "" && f.MemberID != cl.MemberID || f.TeamID != "" && f.TeamID != cl.TeamID {
			return f, domain.ErrForbidden
		}
		f.MemberID = cl.MemberID
	case domain.RoleTeamLeader:
		if f.TeamID != "" && f.TeamID != cl.TeamID {
			return f, domain.ErrForbidden
		}
		if f.MemberID != "" && f.MemberID != cl.MemberID {
			m, err := s.memberOf(c, f.MemberID)
			if err != nil || m.TeamID != cl.TeamID {
				return f, domain.ErrForbidden
			}
		}
		if f.MemberID == "" {
			f.TeamID = cl.TeamID
		}
	default:
		commune, err := sc.FilterCommune(f.CommuneCode)
		if err != nil {
			return f, err
		}
		f.CommuneCode = commune
		for _, id := range []string{f.MemberID, f.TeamID} {
			if id != "" && !sc.Admin() && domain.CommuneOf(id) != cl.CommuneCode {
				return f, domain.ErrForbidden
			}
		}
	}
	if f.CommuneCode != "" && (f.MemberID != "" || f.TeamID != "") {
		id := f.MemberID + f.TeamID
		if domain.CommuneOf(id) != f.CommuneCode {
			return f, domain.ErrForbidden
		}
	}
	return f, nil
}

func (s *Server) memberOf(c *gin.Context, id string) (domain.Member, error) {
	reg, err := s.d.Registry.Registry(c.Request.Context(), domain.CommuneOf(id))
	if err != nil {
		return domain.Member{}, err
	}
	m, ok := reg.Member(id)
	if !ok {
		return domain.Member{}, domain.ErrNotFound
	}
	return m, nil
}

// findRecords answers the first page of a member, team or commune from the
// recent lists (no scan), and everything else from the records themselves.
func (s *Server) findRecords(c *gin.Context, f domain.RecordFilter) ([]domain.Record, string, error) {
	key := ""
	switch {
	case f.MemberID != "":
		key = "m:" + f.MemberID
	case f.TeamID != "":
		key = "t:" + f.TeamID
	case f.CommuneCode != "":
		key = "c:" + f.CommuneCode
	}
	if key != "" && f.After == "" && f.From.IsZero() && f.To.IsZero() && s.d.Live != nil {
		keep := func(r domain.Record) bool {
			return (f.MemberID == "" || r.MemberID == f.MemberID) && (f.TeamID == "" || r.TeamID == f.TeamID) &&
				(f.CommuneCode == "" || r.CommuneCode == f.CommuneCode)
		}
		recs, complete, err := s.d.Live.Recent(c.Request.Context(), key, keep, f.Limit)
		if err != nil {
			return nil, "", err
		}
		if complete || len(recs) == f.Limit {
			next := ""
			if !complete {
				next = recs[len(recs)-1].SortKey()
			}
			return recs, next, nil
		}
	}
	return s.d.Records.FindRecords(c.Request.Context(), f)
}

type serviceView struct {
	Code   string `json:"code"`
	NameVI string `json:"name_vi"`
	NameEN string `json:"name_en"`
}

// listServices answers GET /services, the catalogue of help a team gives.
func (s *Server) listServices(c *gin.Context) error {
	vi, en := i18n.For(i18n.VI), i18n.For(i18n.EN)
	items := make([]serviceView, len(domain.Services))
	for i, code := range domain.Services {
		items[i] = serviceView{Code: code, NameVI: vi.T("service." + code), NameEN: en.T("service." + code)}
	}
	c.JSON(http.StatusOK, gin.H{"items": items})
	return nil
}
