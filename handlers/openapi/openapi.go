// Package openapi is cdt's OpenAPI 3 document of the /api/v1 routes: built
// once from the YAML files of spec/ (openapi.yaml, the frame every area
// shares, and one file per area: its paths and its schemas), with the value
// lists of the domain (service codes, roles, …) filled in from package
// domain, resolved and validated by kin-openapi. It is served as
// GET /api/openapi.json and shown to people as GET /api/docs.
//
// Adding a route to /api/v1 means adding its path (or method) to the area's
// file: the route test of package handlers fails until the document lists
// every route the router serves, and the test servers of internal/apptest
// check every request and answer of the test suite against it.
package openapi

import (
	"embed"
	"encoding/json"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"sync"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/oasdiff/yaml"

	"github.com/hue-cdt/cdt/domain"
)

//go:embed spec/*.yaml
var specFS embed.FS

// frame is the file the areas are merged into.
const frame = "spec/openapi.yaml"

var built struct {
	once sync.Once
	doc  *openapi3.T
	json []byte
	err  error
}

// Document is the API's document, built and validated once. Callers share
// it and must not change it.
func Document() (*openapi3.T, error) {
	load()
	return built.doc, built.err
}

// JSON is the document as served.
func JSON() ([]byte, error) {
	load()
	return built.json, built.err
}

// Fresh builds a copy of the document of its own, for a caller that changes
// it (the tests' stricter copy).
func Fresh() (*openapi3.T, error) { return Build(specFS) }

func load() {
	built.once.Do(func() {
		built.doc, built.err = Build(specFS)
		if built.err == nil {
			built.json, built.err = json.Marshal(built.doc)
		}
	})
}

// enums are the value lists the document takes from the domain, by schema
// name: the areas name the schema, the code keeps its values.
func enums() map[string][]string {
	roles := make([]string, len(domain.Roles))
	for i, r := range domain.Roles {
		roles[i] = string(r)
	}
	return map[string][]string{
		"ServiceCode":   domain.Services,
		"TrainingTopic": domain.TrainingTopics,
		"Outcome":       domain.Outcomes,
		"AgeGroup":      domain.AgeGroups,
		"Place":         domain.Places,
		"Consent":       domain.Consents,
		"Gender":        domain.Genders,
		"Position":      domain.Positions,
		"Affiliation":   domain.Affiliations,
		"VillageType":   domain.VillageTypes,
		"Role":          roles,
		"PrivacyKind":   domain.PrivacyKinds,
		"PrivacyStatus": domain.PrivacyStatuses,
		"Level": {string(domain.LevelProvince), string(domain.LevelDistrict), string(domain.LevelCommune),
			string(domain.LevelVillage)},
	}
}

// Build reads the frame and the area files of fsys (spec/*.yaml), merges
// them, fills in the domain's value lists and the error answers every
// operation may give, and validates the result.
func Build(fsys fs.FS) (*openapi3.T, error) {
	raw, err := merge(fsys)
	if err != nil {
		return nil, err
	}
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromData(raw)
	if err != nil {
		return nil, fmt.Errorf("openapi: load: %w", err)
	}
	for name, values := range enums() {
		s := doc.Components.Schemas[name]
		if s == nil || s.Value == nil {
			return nil, fmt.Errorf("openapi: schema %s: missing from the frame", name)
		}
		s.Value.Enum = make([]any, len(values))
		for i, v := range values {
			s.Value.Enum[i] = v
		}
	}
	if err := completeResponses(doc); err != nil {
		return nil, err
	}
	if err := doc.Validate(loader.Context); err != nil {
		return nil, fmt.Errorf("openapi: validate: %w", err)
	}
	return doc, nil
}

// completeResponses gives every operation the answers every route may give:
// 401 where a token is needed, and any other error in the error format
// (default), so that the area files list only what is particular.
func completeResponses(doc *openapi3.T) error {
	unauthorized, errorResp := doc.Components.Responses["Unauthorized"], doc.Components.Responses["Error"]
	if unauthorized == nil || errorResp == nil {
		return fmt.Errorf("openapi: the frame lacks the responses Unauthorized and Error")
	}
	for p, item := range doc.Paths.Map() {
		for method, op := range item.Operations() {
			if op.Responses == nil {
				return fmt.Errorf("openapi: %s %s: no responses", method, p)
			}
			secured := op.Security == nil && len(doc.Security) > 0 || op.Security != nil && len(*op.Security) > 0
			if secured && op.Responses.Value("401") == nil {
				op.Responses.Set("401", &openapi3.ResponseRef{Ref: "#/components/responses/Unauthorized", Value: unauthorized.Value})
			}
			if op.Responses.Default() == nil {
				op.Responses.Set("default", &openapi3.ResponseRef{Ref: "#/components/responses/Error", Value: errorResp.Value})
			}
		}
	}
	return nil
}

// merge joins the area files into the frame, as JSON: each path and each
// component may be defined by one file only; an operation without tags gets
// its file's first tag.
func merge(fsys fs.FS) ([]byte, error) {
	doc, err := readYAML(fsys, frame)
	if err != nil {
		return nil, err
	}
	names, err := fs.Glob(fsys, "spec/*.yaml")
	if err != nil {
		return nil, err
	}
	sort.Strings(names)
	paths := object(doc, "paths")
	components := object(doc, "components")
	tags, _ := doc["tags"].([]any)
	for _, name := range names {
		if name == frame {
			continue
		}
		area, err := readYAML(fsys, name)
		if err != nil {
			return nil, err
		}
		tag := ""
		if at, _ := area["tags"].([]any); len(at) > 0 {
			tags = append(tags, at...)
			if t, ok := at[0].(map[string]any); ok {
				tag, _ = t["name"].(string)
			}
		}
		for p, v := range object(area, "paths") {
			if _, dup := paths[p]; dup {
				return nil, fmt.Errorf("openapi: %s: path %s is defined twice", path.Base(name), p)
			}
			tagOperations(v, tag)
			paths[p] = v
		}
		for section, v := range object(area, "components") {
			have := object(components, section)
			items, _ := v.(map[string]any)
			for k, c := range items {
				if _, dup := have[k]; dup {
					return nil, fmt.Errorf("openapi: %s: components.%s.%s is defined twice", path.Base(name), section, k)
				}
				have[k] = c
			}
		}
		for k := range area {
			if k != "tags" && k != "paths" && k != "components" {
				return nil, fmt.Errorf("openapi: %s: an area file has only tags, paths and components, not %s", path.Base(name), k)
			}
		}
	}
	doc["tags"] = ordered(tags, doc["x-areas"])
	return json.Marshal(doc)
}

// ordered sorts the areas' tags in the frame's order (x-areas); the areas
// it does not name come last, by name.
func ordered(tags []any, order any) []any {
	rank := map[string]int{}
	names, _ := order.([]any)
	for i, n := range names {
		if s, ok := n.(string); ok {
			rank[s] = i + 1
		}
	}
	name := func(t any) string {
		m, _ := t.(map[string]any)
		s, _ := m["name"].(string)
		return s
	}
	key := func(t any) int {
		if r := rank[name(t)]; r > 0 {
			return r
		}
		return len(names) + 1
	}
	sort.SliceStable(tags, func(i, j int) bool {
		ki, kj := key(tags[i]), key(tags[j])
		return ki < kj || ki == kj && name(tags[i]) < name(tags[j])
	})
	return tags
}

var methods = []string{"get", "put", "post", "delete", "options", "head", "patch", "trace"}

func tagOperations(item any, tag string) {
	m, _ := item.(map[string]any)
	for _, method := range methods {
		op, ok := m[method].(map[string]any)
		if ok && op["tags"] == nil && tag != "" {
			op["tags"] = []any{tag}
		}
	}
}

// object returns m[key] as an object, creating it when absent.
func object(m map[string]any, key string) map[string]any {
	o, ok := m[key].(map[string]any)
	if !ok {
		o = map[string]any{}
		m[key] = o
	}
	return o
}

func readYAML(fsys fs.FS, name string) (map[string]any, error) {
	data, err := fs.ReadFile(fsys, name)
	if err != nil {
		return nil, fmt.Errorf("openapi: %w", err)
	}
	j, err := yaml.YAMLToJSON(data)
	if err != nil {
		return nil, fmt.Errorf("openapi: %s: %w", path.Base(name), err)
	}
	var m map[string]any
	if err := json.Unmarshal(j, &m); err != nil {
		return nil, fmt.Errorf("openapi: %s: %w", path.Base(name), err)
	}
	return m, nil
}
