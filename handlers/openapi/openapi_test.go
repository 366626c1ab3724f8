package openapi_test

import (
	"fmt"
	"io/fs"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/hue-cdt/cdt/domain"
	"github.com/hue-cdt/cdt/handlers/openapi"
)

// TestEveryOperationIsComplete: each operation has an id (the page's
// anchor), a summary, its area's tag, a success answer, the error answers
// every route may give, and a description of each parameter's type.
func TestEveryOperationIsComplete(t *testing.T) {
	doc, err := openapi.Document()
	if err != nil {
		t.Fatal(err)
	}
	tags := map[string]bool{}
	for _, tg := range doc.Tags {
		tags[tg.Name] = true
	}
	ids := map[string]string{}
	for p, item := range doc.Paths.Map() {
		for method, op := range item.Operations() {
			key := method + " " + p
			if op.OperationID == "" || op.Summary == "" {
				t.Errorf("%s: no operationId or summary", key)
			}
			if other, dup := ids[op.OperationID]; dup {
				t.Errorf("%s: operationId %q is %s's too", key, op.OperationID, other)
			}
			ids[op.OperationID] = key
			if len(op.Tags) != 1 || !tags[op.Tags[0]] {
				t.Errorf("%s: tags %v, want its area's one", key, op.Tags)
			}
			success := false
			for status := range op.Responses.Map() {
				success = success || strings.HasPrefix(status, "2")
			}
			if !success || op.Responses.Default() == nil {
				t.Errorf("%s: no success answer or no default error answer", key)
			}
			public := op.Security != nil && len(*op.Security) == 0
			if !public && op.Responses.Value("401") == nil {
				t.Errorf("%s: needs a token but lists no 401", key)
			}
			for _, prm := range append(append(openapi3.Parameters{}, item.Parameters...), op.Parameters...) {
				if prm.Value.Schema == nil || prm.Value.Schema.Value == nil {
					t.Errorf("%s: parameter %s has no schema", key, prm.Value.Name)
				}
			}
		}
	}
	if len(ids) < 40 {
		t.Fatalf("only %d operations", len(ids))
	}
}

// TestValueListsComeFromTheDomain: the document's lists of codes are the
// domain's, not copies that drift.
func TestValueListsComeFromTheDomain(t *testing.T) {
	doc, err := openapi.Document()
	if err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string][]string{"ServiceCode": domain.Services, "Affiliation": domain.Affiliations, "TrainingTopic": domain.TrainingTopics,
		"PrivacyKind": domain.PrivacyKinds, "PrivacyStatus": domain.PrivacyStatuses} {
		if got := fmt.Sprint(doc.Components.Schemas[name].Value.Enum); got != fmt.Sprint(want) {
			t.Errorf("%s: %s, want %v", name, got, want)
		}
	}
}

// frame is the least frame Build takes: the error answers and the schemas
// whose values the domain gives.
var frame = `openapi: 3.0.3
info: {title: t, version: "1"}
paths: {}
components:
  schemas:
    Error: {type: object}
` + valueSchemas() + `  responses:
    Error: {description: e, content: {application/json: {schema: {$ref: '#/components/schemas/Error'}}}}
    Unauthorized: {description: u}
`

func valueSchemas() string {
	var b strings.Builder
	for _, name := range []string{"ServiceCode", "TrainingTopic", "Outcome", "AgeGroup", "Place", "Consent", "Gender", "Position",
		"Affiliation", "VillageType", "Role", "Level", "PrivacyKind", "PrivacyStatus"} {
		b.WriteString("    " + name + ": {type: string}\n")
	}
	return b.String()
}

// TestBuildRefusesClashes: two area files defining the same path or schema,
// or an area file with more than tags, paths and components, are refused.
func TestBuildRefusesClashes(t *testing.T) {
	area := func(schema string) string {
		return "paths:\n  /x:\n    get:\n      responses:\n        '200': {description: ok}\ncomponents:\n  schemas:\n    " + schema + ": {type: string}\n"
	}
	for _, c := range []struct {
		name, want string
		files      fstest.MapFS
	}{
		{"same path", "path /x is defined twice", fstest.MapFS{"spec/a.yaml": {Data: []byte(area("A"))}, "spec/b.yaml": {Data: []byte(area("B"))}}},
		{"same schema", "components.schemas.A is defined twice", fstest.MapFS{"spec/a.yaml": {Data: []byte(area("A"))},
			"spec/b.yaml": {Data: []byte("components:\n  schemas:\n    A: {type: integer}\n")}}},
		{"extra key", "not info", fstest.MapFS{"spec/a.yaml": {Data: []byte("info: {title: x}\n")}}},
		{"a typo", "conten", fstest.MapFS{"spec/a.yaml": {Data: []byte("paths:\n  /x:\n    get:\n      responses:\n        '200': {description: ok, conten: {}}\n")}}},
	} {
		c.files["spec/openapi.yaml"] = &fstest.MapFile{Data: []byte(frame)}
		if _, err := openapi.Build(fs.FS(c.files)); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want an error saying %q", c.name, err, c.want)
		}
	}
	ok := fstest.MapFS{"spec/openapi.yaml": {Data: []byte(frame)}, "spec/a.yaml": {Data: []byte("tags: [{name: a}]\n" + area("A"))}}
	doc, err := openapi.Build(ok)
	if err != nil {
		t.Fatalf("a good area: %v", err)
	}
	if op := doc.Paths.Value("/x").Get; len(op.Tags) != 1 || op.Tags[0] != "a" || op.Responses.Default() == nil {
		t.Errorf("the area's tag and the default error answer: %v", op)
	}
}
