// Package domain holds cdt's types, their rules and the contracts of the stores
// that persist them. It imports nothing but the standard library.
package domain

import (
	"errors"
	"fmt"
	"sort"
	"strings"
)

// Sentinel errors. Every store and service error wraps one of these so that the
// HTTP layer can map it to a status code with errors.Is.
var (
	ErrNotFound     = errors.New("not found")              // 404
	ErrInvalid      = errors.New("invalid input")          // 422 with details
	ErrConflict     = errors.New("already exists")         // 409
	ErrForbidden    = errors.New("forbidden")              // 403
	ErrUnauthorized = errors.New("unauthorized")           // 401
	ErrTokenReused  = errors.New("refresh token reused")   // 401 token_reused
	ErrJobRunning   = errors.New("job already running")    // 409 job_running
	ErrUnavailable  = errors.New("database unavailable")   // 503
	ErrStale        = errors.New("concurrent update")      // retried by stores, 409 if it escapes
	ErrRateLimited  = errors.New("too many requests")      // 429
	ErrTooLarge     = errors.New("request body too large") // 413
)

// FieldError is one invalid field. Code is a stable machine-readable rule name
// ("required", "too_long", "unknown_code", ...) that the message catalogue turns
// into a sentence; Param carries the rule's parameter (a limit, a list).
type FieldError struct {
	Field string
	Code  string
	Param string
}

// ValidationError reports every bad field of one input at once.
type ValidationError struct {
	Fields []FieldError
}

func (e *ValidationError) Error() string {
	parts := make([]string, len(e.Fields))
	for i, f := range e.Fields {
		parts[i] = f.Field + ": " + f.Code
		if f.Param != "" {
			parts[i] += "(" + f.Param + ")"
		}
	}
	return "invalid input: " + strings.Join(parts, ", ")
}

// Unwrap lets errors.Is(err, ErrInvalid) hold for every ValidationError.
func (e *ValidationError) Unwrap() error { return ErrInvalid }

// Problems collects field errors while an input is validated.
type Problems struct{ fields []FieldError }

// Add records one problem with field.
func (p *Problems) Add(field, code string, param ...any) {
	fe := FieldError{Field: field, Code: code}
	if len(param) > 0 {
		fe.Param = fmt.Sprint(param...)
	}
	p.fields = append(p.fields, fe)
}

// Has reports whether field already has a problem, so later rules can skip it.
func (p *Problems) Has(field string) bool {
	for _, f := range p.fields {
		if f.Field == field {
			return true
		}
	}
	return false
}

// Merge adds the fields of another set of problems under prefix (for batches).
func (p *Problems) Merge(prefix string, err error) {
	var ve *ValidationError
	if errors.As(err, &ve) {
		for _, f := range ve.Fields {
			f.Field = prefix + f.Field
			p.fields = append(p.fields, f)
		}
	}
}

// Err returns a *ValidationError when there is at least one problem, nil otherwise.
func (p *Problems) Err() error {
	if len(p.fields) == 0 {
		return nil
	}
	fs := append([]FieldError(nil), p.fields...)
	sort.SliceStable(fs, func(i, j int) bool { return fs[i].Field < fs[j].Field })
	return &ValidationError{Fields: fs}
}

// Invalid is a shortcut for a single-field validation error.
func Invalid(field, code string, param ...any) error {
	var p Problems
	p.Add(field, code, param...)
	return p.Err()
}
