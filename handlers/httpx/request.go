package httpx

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/hue-cdt/cdt/domain"
)

// Body size limits.
const (
	MaxBody      = 64 << 10 // one object
	MaxBatchBody = 4 << 20  // a batch of 500 assistance records
	MaxSheet     = 5 << 20  // an uploaded sheet
)

// Decode reads one JSON value strictly: unknown fields, wrong types and trailing
// data are errors, and the body is limited to limit bytes.
func Decode(c *gin.Context, v any, limit int64) error {
	c.Request.Body = http.MaxBytesReader(c.Writer, c.Request.Body, limit)
	return DecodeJSON(c.Request.Body, v)
}

// DecodeJSON is Decode of a body already limited: one JSON value, strictly.
func DecodeJSON(r io.Reader, v any) error {
	dec := json.NewDecoder(r)
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return DecodeError(err)
	}
	if _, err := dec.Token(); err != io.EOF {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return domain.ErrTooLarge
		}
		return fmt.Errorf("%w: data after the JSON value", ErrMalformed)
	}
	return nil
}

// DecodeError turns an error of encoding/json into the error the client sees:
// a bad type or an unknown field names the field (422), anything else is
// malformed JSON (400).
func DecodeError(err error) error {
	var (
		mbe *http.MaxBytesError
		ute *json.UnmarshalTypeError
		se  *json.SyntaxError
	)
	switch {
	case errors.As(err, &mbe):
		return domain.ErrTooLarge
	case errors.As(err, &ute):
		field := ute.Field
		if field == "" {
			return fmt.Errorf("%w: %v", ErrMalformed, err)
		}
		return domain.Invalid(field, "type", jsonType(ute.Type.Kind().String()))
	case errors.As(err, &se), errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	if name, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
		return domain.Invalid(strings.Trim(name, `"`), "unknown_field")
	}
	return fmt.Errorf("%w: %v", ErrMalformed, err)
}

func jsonType(kind string) string {
	switch kind {
	case "int", "int64", "int32", "float64":
		return "number"
	case "bool":
		return "boolean"
	case "slice":
		return "array"
	case "struct", "map":
		return "object"
	}
	return kind
}

// QueryInt reads an integer query parameter; absent is 0.
func QueryInt(c *gin.Context, name string) (int, error) {
	v := c.Query(name)
	if v == "" {
		return 0, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 {
		return 0, domain.Invalid(name, "integer")
	}
	return n, nil
}

// QueryDate reads a YYYY-MM-DD query parameter; absent is "".
func QueryDate(c *gin.Context, name string) (domain.Date, error) {
	v := c.Query(name)
	if v == "" {
		return "", nil
	}
	d, ok := domain.ParseDate(v)
	if !ok {
		return "", domain.Invalid(name, "date")
	}
	return d, nil
}

// QueryStatus reads ?status=active|inactive|all (default active).
func QueryStatus(c *gin.Context) (func(active bool) bool, error) {
	switch c.DefaultQuery("status", "active") {
	case "active":
		return func(a bool) bool { return a }, nil
	case "inactive":
		return func(a bool) bool { return !a }, nil
	case "all":
		return func(bool) bool { return true }, nil
	}
	return nil, domain.Invalid("status", "one_of", "active, inactive, all")
}

// PageParams reads ?limit and ?cursor.
func PageParams(c *gin.Context) (limit int, cursor string, err error) {
	limit, err = QueryInt(c, "limit")
	return limit, c.Query("cursor"), err
}

// ListBody is the JSON of one page of a list.
type ListBody[T any] struct {
	Items      []T     `json:"items"`
	Total      int     `json:"total"`
	NextCursor *string `json:"next_cursor"`
}

// PageBody presents a page of domain values through view.
func PageBody[T, V any](p domain.Page[T], view func(T) V) ListBody[V] {
	b := ListBody[V]{Items: make([]V, len(p.Items)), Total: p.Total}
	for i, it := range p.Items {
		b.Items[i] = view(it)
	}
	if p.NextCursor != "" {
		b.NextCursor = &p.NextCursor
	}
	return b
}

// PostForm returns the submitted form as a map, values trimmed, without the
// CSRF token.
func PostForm(c *gin.Context) map[string]string {
	_ = c.Request.ParseForm()
	m := map[string]string{}
	for k, v := range c.Request.PostForm {
		if len(v) > 0 && k != CSRFField {
			m[k] = strings.TrimSpace(v[len(v)-1])
		}
	}
	return m
}

// UploadedFile returns the multipart field "file": its name and at most
// MaxSheet bytes (ErrTooLarge beyond).
func UploadedFile(c *gin.Context) (string, []byte, error) {
	c.Request.Body = http.MaxBytesReader(c.Writer, c.Request.Body, MaxSheet+64<<10)
	fh, err := c.FormFile("file")
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return "", nil, domain.ErrTooLarge
		}
		return "", nil, domain.Invalid("file", "required")
	}
	f, err := fh.Open()
	if err != nil {
		return "", nil, domain.Invalid("file", "required")
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, MaxSheet+1))
	if err != nil {
		return "", nil, err
	}
	if len(data) > MaxSheet {
		return "", nil, domain.ErrTooLarge
	}
	return fh.Filename, data, nil
}

// QueryRange reads ?from= and ?to= as RFC 3339 instants or dates of Huế; a
// date "to" includes that day. Zero times for what is absent.
func QueryRange(c *gin.Context) (from, to time.Time, err error) {
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
			from = t
		} else {
			to = t
		}
	}
	return from, to, p.Err()
}

// QueryAudit reads the filters of the audit trail from the query string
// (the API's and the audit page's): commune, actor, action, from, to,
// limit and cursor. The commune is not yet scoped (Scope.Audit).
func QueryAudit(c *gin.Context) (domain.AuditFilter, error) {
	f := domain.AuditFilter{CommuneCode: c.Query("commune"), Actor: domain.NormalizeUsername(c.Query("actor")), Action: c.Query("action")}
	var p domain.Problems
	var err error
	if f.From, f.To, err = QueryRange(c); err != nil {
		p.Merge("", err)
	}
	if f.Limit, err = QueryInt(c, "limit"); err != nil {
		p.Merge("", err)
	}
	if f.Before, err = domain.DecodeCursor(c.Query("cursor")); err != nil {
		p.Merge("", err)
	}
	return f, p.Err()
}
