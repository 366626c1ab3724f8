package handlers

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/hue-cdt/cdt/domain"
)

// Body size limits.
const (
	maxBody      = 64 << 10 // one object
	maxBatchBody = 4 << 20  // a batch of 500 assistance records
)

// decode reads one JSON value strictly: unknown fields, wrong types and trailing
// data are errors, and the body is limited to limit bytes.
func decode(c *gin.Context, v any, limit int64) error {
	c.Request.Body = http.MaxBytesReader(c.Writer, c.Request.Body, limit)
	dec := json.NewDecoder(c.Request.Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return decodeError(err)
	}
	if _, err := dec.Token(); err != io.EOF {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return domain.ErrTooLarge
		}
		return fmt.Errorf("%w: data after the JSON value", errMalformed)
	}
	return nil
}

func decodeError(err error) error {
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
			return fmt.Errorf("%w: %v", errMalformed, err)
		}
		return domain.Invalid(field, "type", jsonType(ute.Type.Kind().String()))
	case errors.As(err, &se), errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return fmt.Errorf("%w: %v", errMalformed, err)
	}
	if name, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
		return domain.Invalid(strings.Trim(name, `"`), "unknown_field")
	}
	return fmt.Errorf("%w: %v", errMalformed, err)
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

// queryInt reads an integer query parameter; absent is 0.
func queryInt(c *gin.Context, name string) (int, error) {
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

// queryDate reads a YYYY-MM-DD query parameter; absent is "".
func queryDate(c *gin.Context, name string) (domain.Date, error) {
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

// queryStatus reads ?status=active|inactive|all (default active).
func queryStatus(c *gin.Context) (func(active bool) bool, error) {
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

// pageParams reads ?limit and ?cursor.
func pageParams(c *gin.Context) (limit int, cursor string, err error) {
	limit, err = queryInt(c, "limit")
	return limit, c.Query("cursor"), err
}

// listBody is the JSON of a page.
type listBody[T any] struct {
	Items      []T     `json:"items"`
	Total      int     `json:"total"`
	NextCursor *string `json:"next_cursor"`
}

func pageBody[T, V any](p domain.Page[T], view func(T) V) listBody[V] {
	b := listBody[V]{Items: make([]V, len(p.Items)), Total: p.Total}
	for i, it := range p.Items {
		b.Items[i] = view(it)
	}
	if p.NextCursor != "" {
		b.NextCursor = &p.NextCursor
	}
	return b
}
