package apptest

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/legacy"

	"github.com/hue-cdt/cdt/handlers/openapi"
	"github.com/hue-cdt/cdt/sheets"
)

// The OpenAPI check: every /api/v1 request a test sends through an Env, and
// the server's answer, are checked against the OpenAPI document
// (handlers/openapi), and a mismatch fails the test:
//
//   - the answer must be one the document lists for its operation and
//     status, its body valid against the schema, with no field the schema
//     does not name (the tests' copy of the document forbids unnamed fields
//     wherever the document lists an object's fields);
//   - a request the document refuses (a missing or wrong field, a value
//     outside its list, no token) must be refused by the server too (4xx);
//   - every query parameter sent must be one the document lists, and every
//     request must match an operation of the document unless the server
//     answered 404 or 405.
type specCheck struct {
	t    testing.TB
	next http.Handler
}

var spec struct {
	once   sync.Once
	router routers.Router
	err    error
}

// specRouter builds the tests' stricter copy of the document once.
func specRouter() (routers.Router, error) {
	spec.once.Do(func() {
		doc, err := openapi.Fresh()
		if err != nil {
			spec.err = err
			return
		}
		strict(doc)
		openapi3filter.RegisterBodyDecoder(sheets.ContentTypeXLSX, openapi3filter.FileBodyDecoder)
		spec.router, spec.err = legacy.NewRouter(doc)
	})
	return spec.router, spec.err
}

// strict forbids, in every schema that names an object's fields and says
// nothing about others, any field it does not name: the published document
// lets objects grow, the tests insist that it describes every field.
func strict(doc *openapi3.T) {
	seen := map[*openapi3.Schema]bool{}
	var walk func(*openapi3.SchemaRef)
	walk = func(r *openapi3.SchemaRef) {
		if r == nil || r.Value == nil || seen[r.Value] {
			return
		}
		s := r.Value
		seen[s] = true
		if len(s.Properties) > 0 && s.AdditionalProperties.Has == nil && s.AdditionalProperties.Schema == nil {
			no := false
			s.AdditionalProperties.Has = &no
		}
		for _, p := range s.Properties {
			walk(p)
		}
		for _, group := range []openapi3.SchemaRefs{s.AllOf, s.AnyOf, s.OneOf} {
			for _, x := range group {
				walk(x)
			}
		}
		walk(s.Items)
		walk(s.AdditionalProperties.Schema)
	}
	for _, s := range doc.Components.Schemas {
		walk(s)
	}
	content := func(c openapi3.Content) {
		for _, mt := range c {
			walk(mt.Schema)
		}
	}
	for _, item := range doc.Paths.Map() {
		for _, op := range item.Operations() {
			if op.RequestBody != nil && op.RequestBody.Value != nil {
				content(op.RequestBody.Value.Content)
			}
			for _, r := range op.Responses.Map() {
				if r.Value != nil {
					content(r.Value.Content)
				}
			}
		}
	}
}

// bearerPresent stands for the server's token check: the document can only
// say that a token must be there.
func bearerPresent(_ context.Context, in *openapi3filter.AuthenticationInput) error {
	if strings.HasPrefix(in.RequestValidationInput.Request.Header.Get("Authorization"), "Bearer ") {
		return nil
	}
	return errors.New("no bearer token")
}

func (s specCheck) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if !strings.HasPrefix(r.URL.Path, "/api/v1/") {
		s.next.ServeHTTP(w, r)
		return
	}
	body, err := io.ReadAll(r.Body)
	if err != nil {
		s.t.Errorf("openapi check: read the request: %v", err)
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	rec := httptest.NewRecorder()
	s.next.ServeHTTP(rec, r)
	for k, v := range rec.Header() {
		w.Header()[k] = v
	}
	w.WriteHeader(rec.Code)
	_, _ = w.Write(rec.Body.Bytes())

	if err := check(r, body, rec); err != nil {
		s.t.Errorf("OpenAPI document (handlers/openapi/spec) and server disagree on %s %s → %d: %v", r.Method, r.URL.RequestURI(), rec.Code, err)
	}
}

// check judges one exchange against the document.
func check(r *http.Request, body []byte, rec *httptest.ResponseRecorder) error {
	router, err := specRouter()
	if err != nil {
		return err
	}
	ctx := context.Background()
	req := r.Clone(ctx)
	req.Body = io.NopCloser(bytes.NewReader(body))
	route, params, err := router.FindRoute(req)
	if err != nil {
		if rec.Code == http.StatusNotFound || rec.Code == http.StatusMethodNotAllowed {
			return nil
		}
		return fmt.Errorf("no operation of the document: %w", err)
	}
	if err := undocumentedQuery(req, route); err != nil {
		return err
	}
	opts := &openapi3filter.Options{IncludeResponseStatus: true, AuthenticationFunc: bearerPresent}
	in := &openapi3filter.RequestValidationInput{Request: req, PathParams: params, Route: route, Options: opts}
	if err := openapi3filter.ValidateRequest(ctx, in); err != nil && rec.Code < 400 {
		return fmt.Errorf("the server accepted a request the document refuses: %w", err)
	}
	answer := rec.Body.Bytes()
	if rec.Header().Get("Content-Encoding") == "gzip" {
		zr, err := gzip.NewReader(bytes.NewReader(answer))
		if err != nil {
			return err
		}
		if answer, err = io.ReadAll(zr); err != nil {
			return err
		}
	}
	out := &openapi3filter.ResponseValidationInput{RequestValidationInput: in, Status: rec.Code, Header: rec.Header(),
		Body: io.NopCloser(bytes.NewReader(answer)), Options: opts}
	if err := openapi3filter.ValidateResponse(ctx, out); err != nil {
		return fmt.Errorf("the answer: %w (%.300s)", err, answer)
	}
	return nil
}

// undocumentedQuery refuses a query parameter the operation does not list.
func undocumentedQuery(r *http.Request, route *routers.Route) error {
	known := map[string]bool{}
	for _, ps := range []openapi3.Parameters{route.PathItem.Parameters, route.Operation.Parameters} {
		for _, p := range ps {
			if p.Value != nil && p.Value.In == openapi3.ParameterInQuery {
				known[p.Value.Name] = true
			}
		}
	}
	for k := range r.URL.Query() {
		if !known[k] {
			return fmt.Errorf("query parameter %q is not in the document", k)
		}
	}
	return nil
}
