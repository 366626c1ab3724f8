// Package httpx is the plumbing of cdt's HTTP layer, shared by every audience:
// the error format of API.md and the one function that writes it, strict JSON
// decoding and query parameters, the caller and their scope from the request,
// rate limiters, middleware, the pages' cookie sessions and CSRF protection.
// It knows gin and the domain's errors; it renders no page.
package httpx

import (
	"errors"
	"math"
	"net/http"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/hue-cdt/cdt/domain"
	"github.com/hue-cdt/cdt/i18n"
)

// Errors of the HTTP layer itself.
var (
	ErrMalformed = errors.New("malformed request body")
	ErrMethod    = errors.New("method not allowed")
	ErrBadLogin  = errors.New("invalid credentials")
	ErrCSRF      = errors.New("csrf token missing or wrong")
	// ErrMemberMismatch refuses records a phone logged for another member
	// than the one signed in (a shared phone).
	ErrMemberMismatch = errors.New("records of another member")
)

// errStatus maps sentinels to a status and an error code, first match wins.
var errStatus = []struct {
	err    error
	status int
	code   string
}{
	{ErrMalformed, http.StatusBadRequest, "malformed_json"},
	{ErrBadLogin, http.StatusUnauthorized, "invalid_credentials"},
	{domain.ErrTokenReused, http.StatusUnauthorized, "token_reused"},
	{domain.ErrUnauthorized, http.StatusUnauthorized, "unauthorized"},
	{ErrCSRF, http.StatusForbidden, "csrf"},
	{domain.ErrForbidden, http.StatusForbidden, "forbidden"},
	{domain.ErrNotFound, http.StatusNotFound, "not_found"},
	{ErrMethod, http.StatusMethodNotAllowed, "method_not_allowed"},
	{domain.ErrJobRunning, http.StatusConflict, "job_running"},
	{domain.ErrStale, http.StatusConflict, "stale"},
	{ErrMemberMismatch, http.StatusConflict, "member_mismatch"},
	{domain.ErrConflict, http.StatusConflict, "conflict"},
	{domain.ErrTooLarge, http.StatusRequestEntityTooLarge, "body_too_large"},
	{domain.ErrInvalid, http.StatusUnprocessableEntity, "validation_failed"},
	{domain.ErrRateLimited, http.StatusTooManyRequests, "rate_limited"},
	{domain.ErrUnavailable, http.StatusServiceUnavailable, "database_unavailable"},
}

// ErrorBody is the error format of API.md.
type ErrorBody struct {
	Error ErrorInfo `json:"error"`
}

// ErrorInfo is the inside of an error answer (also one record's error in a batch).
type ErrorInfo struct {
	Code    string        `json:"code"`
	Message string        `json:"message"`
	Details []FieldDetail `json:"details"`
}

// FieldDetail is one bad field of a validation error.
type FieldDetail struct {
	Field   string `json:"field"`
	Code    string `json:"code"`
	Message string `json:"message"`
	Param   string `json:"param,omitempty"`
}

// Classify returns the status and code of err; unknown errors are 500.
func Classify(err error) (int, string) {
	for _, e := range errStatus {
		if errors.Is(err, e.err) {
			return e.status, e.code
		}
	}
	return http.StatusInternalServerError, "internal"
}

// Info is err in the error format, in loc's language.
func Info(loc *i18n.Localizer, err error) ErrorInfo {
	_, code := Classify(err)
	return ErrorInfo{Code: code, Message: loc.T("error." + code), Details: Details(loc, err)}
}

// Fail is the one error exit of the JSON answers: it writes the error format in
// the caller's language and logs only server errors.
func Fail(c *gin.Context, err error) {
	status, _ := Classify(err)
	if status >= 500 {
		Log(c).ErrorContext(c.Request.Context(), "request failed", "method", c.Request.Method,
			"path", c.FullPath(), "status", status, "err", err)
	}
	if status == http.StatusTooManyRequests {
		after := "30"
		var retry *domain.RetryError
		if errors.As(err, &retry) {
			after = strconv.Itoa(int(math.Ceil(retry.After.Seconds())))
		}
		c.Header("Retry-After", after)
	}
	if status == http.StatusUnauthorized {
		c.Header("WWW-Authenticate", `Bearer realm="cdt"`)
	}
	c.AbortWithStatusJSON(status, ErrorBody{Error: Info(i18n.For(APILang(c)), err)})
}

// Details turns a validation error into one translated entry per field.
func Details(loc *i18n.Localizer, err error) []FieldDetail {
	out := []FieldDetail{}
	var ve *domain.ValidationError
	if !errors.As(err, &ve) {
		return out
	}
	for _, f := range ve.Fields {
		out = append(out, FieldDetail{Field: f.Field, Code: f.Code, Param: f.Param,
			Message: loc.T("rule."+f.Code, "Field", fieldLabel(loc, f.Field), "Param", f.Param)})
	}
	return out
}

// FieldErrors turns a validation error into field → message for a form.
func FieldErrors(loc *i18n.Localizer, err error) map[string]string {
	out := map[string]string{}
	for _, d := range Details(loc, err) {
		if _, ok := out[d.Field]; !ok {
			out[d.Field] = d.Message
		}
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
