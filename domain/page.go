package domain

import (
	"encoding/base64"
	"strconv"
)

// Page is one page of a list answered with a cursor.
type Page[T any] struct {
	Items      []T
	Total      int
	NextCursor string
}

// Paging limits for list endpoints.
const (
	DefaultLimit = 50
	MaxLimit     = 500
)

// ClampLimit turns a requested limit into one in [1, MaxLimit].
func ClampLimit(n int) int {
	switch {
	case n <= 0:
		return DefaultLimit
	case n > MaxLimit:
		return MaxLimit
	}
	return n
}

// EncodeCursor wraps a sort key into an opaque cursor.
func EncodeCursor(key string) string {
	if key == "" {
		return ""
	}
	return base64.RawURLEncoding.EncodeToString([]byte(key))
}

// DecodeCursor unwraps a cursor made by EncodeCursor.
func DecodeCursor(c string) (string, error) {
	if c == "" {
		return "", nil
	}
	b, err := base64.RawURLEncoding.DecodeString(c)
	if err != nil || len(b) == 0 {
		return "", Invalid("cursor", "cursor")
	}
	return string(b), nil
}

// Paginate cuts items (sorted by key) after cursor into a page of limit.
func Paginate[T any](items []T, key func(T) string, cursor string, limit int) (Page[T], error) {
	after, err := DecodeCursor(cursor)
	if err != nil {
		return Page[T]{}, err
	}
	limit = ClampLimit(limit)
	start := 0
	if after != "" {
		for start < len(items) && key(items[start]) <= after {
			start++
		}
	}
	end := min(start+limit, len(items))
	p := Page[T]{Items: items[start:end], Total: len(items)}
	if end < len(items) {
		p.NextCursor = EncodeCursor(key(items[end-1]))
	}
	if p.Items == nil {
		p.Items = []T{}
	}
	return p, nil
}

// Itoa is strconv.Itoa, for templates and keys.
func Itoa(n int) string { return strconv.Itoa(n) }
