package handlers

import (
	"errors"
	"net/http"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/hue-cdt/cdt/domain"
	"github.com/hue-cdt/cdt/i18n"
)

// Errors of the HTTP layer itself.
var (
	errMalformed = errors.New("malformed request body")
	errMethod    = errors.New("method not allowed")
	errBadLogin  = errors.New("invalid credentials")
	errCSRF      = errors.New("csrf token missing or wrong")
)

// errStatus maps sentinels to a status and an error code, first match wins.
var errStatus = []struct {
	err    error
	status int
	code   string
}{
	{errMalformed, http.StatusBadRequest, "malformed_json"},
	{errBadLogin, http.StatusUnauthorized, "invalid_credentials"},
	{domain.ErrTokenReused, http.StatusUnauthorized, "token_reused"},
	{domain.ErrUnauthorized, http.StatusUnauthorized, "unauthorized"},
	{errCSRF, http.StatusForbidden, "csrf"},
	{domain.ErrForbidden, http.StatusForbidden, "forbidden"},
	{domain.ErrNotFound, http.StatusNotFound, "not_found"},
	{errMethod, http.StatusMethodNotAllowed, "method_not_allowed"},
	{domain.ErrJobRunning, http.StatusConflict, "job_running"},
	{domain.ErrStale, http.StatusConflict, "stale"},
	{domain.ErrConflict, http.StatusConflict, "conflict"},
	{domain.ErrTooLarge, http.StatusRequestEntityTooLarge, "body_too_large"},
	{domain.ErrInvalid, http.StatusUnprocessableEntity, "validation_failed"},
	{domain.ErrRateLimited, http.StatusTooManyRequests, "rate_limited"},
	{domain.ErrUnavailable, http.StatusServiceUnavailable, "database_unavailable"},
}

// errorBody is the error format of API.md.
type errorBody struct {
	Error errorInfo `json:"error"`
}

type errorInfo struct {
	Code    string        `json:"code"`
	Message string        `json:"message"`
	Details []fieldDetail `json:"details"`
}

type fieldDetail struct {
	Field   string `json:"field"`
	Code    string `json:"code"`
	Message string `json:"message"`
	Param   string `json:"param,omitempty"`
}

// classify returns the status and code of err; unknown errors are 500.
func classify(err error) (int, string) {
	for _, e := range errStatus {
		if errors.Is(err, e.err) {
			return e.status, e.code
		}
	}
	if strings.Contains(err.Error(), "server selection") {
		return http.StatusServiceUnavailable, "database_unavailable"
	}
	return http.StatusInternalServerError, "internal"
}

// fail is the one error exit of the JSON API: it writes the error format in the
// caller's language and logs only server errors.
func (s *Server) fail(c *gin.Context, err error) {
	status, code := classify(err)
	if status >= 500 {
		s.d.Logger.ErrorContext(c.Request.Context(), "request failed", "method", c.Request.Method,
			"path", c.FullPath(), "status", status, "err", err)
	}
	loc := i18n.For(apiLang(c))
	body := errorBody{Error: errorInfo{Code: code, Message: loc.T("error." + code), Details: details(loc, err)}}
	if status == http.StatusTooManyRequests {
		c.Header("Retry-After", "30")
	}
	if status == http.StatusUnauthorized {
		c.Header("WWW-Authenticate", `Bearer realm="cdt"`)
	}
	c.AbortWithStatusJSON(status, body)
}

// details turns a validation error into one translated entry per field.
func details(loc *i18n.Localizer, err error) []fieldDetail {
	out := []fieldDetail{}
	var ve *domain.ValidationError
	if !errors.As(err, &ve) {
		return out
	}
	for _, f := range ve.Fields {
		out = append(out, fieldDetail{Field: f.Field, Code: f.Code, Param: f.Param,
			Message: loc.T("rule."+f.Code, "Field", fieldLabel(loc, f.Field), "Param", f.Param)})
	}
	return out
}

// fieldLabel names a field for people: "records[3].service" → "Bản ghi 4 · Dịch vụ".
func fieldLabel(loc *i18n.Localizer, field string) string {
	parts := strings.Split(field, ".")
	last := parts[len(parts)-1]
	label := last
	if loc.Has("field." + last) {
		label = loc.T("field." + last)
	}
	if i := strings.Index(field, "["); i >= 0 {
		if j := strings.Index(field[i:], "]"); j > 0 {
			if n, err := strconv.Atoi(field[i+1 : i+j]); err == nil {
				label = loc.T("field.record_n", "N", n+1) + " · " + label
			}
		}
	}
	return label
}

// apiLang is the language of an API answer: Vietnamese when Accept-Language
// asks for it, English otherwise. The pages' own JSON calls (/app/api/…)
// answer in the page language.
func apiLang(c *gin.Context) string {
	if strings.HasPrefix(c.Request.URL.Path, "/app/api/") {
		return pageLang(c)
	}
	return i18n.FromAcceptLanguage(c.GetHeader("Accept-Language"))
}

// wrap adapts a handler that returns an error.
func (s *Server) wrap(h func(*gin.Context) error) gin.HandlerFunc {
	return func(c *gin.Context) {
		if err := h(c); err != nil {
			s.fail(c, err)
		}
	}
}
