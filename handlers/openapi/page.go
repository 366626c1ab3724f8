package openapi

import (
	"fmt"
	"html/template"
	"sort"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"
)

// The docs page's view of the document: areas of operations, then the
// shared schemas. Types name a shared schema by Ref, which the page links.

type docView struct {
	Title, Base string
	Description template.HTML
	Areas       []areaView
	Schemas     []schemaView
}

type areaView struct {
	Name        string
	Description template.HTML
	Ops         []opView
}

type opView struct {
	Anchor, Method, Path, Summary string
	Description                   template.HTML
	Public                        bool
	Params                        []paramView
	Body                          *contentView
	Responses                     []responseView
}

type paramView struct {
	Name, In    string
	Description template.HTML
	Type        typeView
	Required    bool
}

type contentView struct {
	Type   string // the media type
	Schema typeView
	Fields []fieldView // an inline object's fields
}

type responseView struct {
	Status      string
	Description template.HTML
	Content     *contentView
}

type fieldView struct {
	Name        string
	Description template.HTML
	Type        typeView
	Required    bool
	Values      string // the allowed values, when listed
}

type typeView struct {
	Text, Ref string // Ref: a shared schema's name
	Array     bool
	Nullable  bool
}

type schemaView struct {
	Name        string
	Description template.HTML
	Type        typeView
	Values      string
	Fields      []fieldView
}

func viewDocument(doc *openapi3.T) docView {
	v := docView{Title: doc.Info.Title, Description: rich(doc.Info.Description)}
	if len(doc.Servers) > 0 {
		v.Base = doc.Servers[0].URL
	}
	refs := schemaNames(doc)
	areas := map[string]*areaView{}
	for _, t := range doc.Tags {
		v.Areas = append(v.Areas, areaView{Name: t.Name, Description: rich(t.Description)})
	}
	for i := range v.Areas {
		areas[v.Areas[i].Name] = &v.Areas[i]
	}
	paths := doc.Paths.InMatchingOrder()
	sort.Strings(paths)
	for _, p := range paths {
		item := doc.Paths.Value(p)
		for _, method := range methods {
			op := item.GetOperation(strings.ToUpper(method))
			if op == nil {
				continue
			}
			a := areas[first(op.Tags)]
			if a == nil {
				continue // every operation has its file's tag (merge)
			}
			a.Ops = append(a.Ops, viewOperation(doc, refs, method, p, item, op))
		}
	}
	names := make([]string, 0, len(doc.Components.Schemas))
	for name := range doc.Components.Schemas {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		s := doc.Components.Schemas[name].Value
		sv := schemaView{Name: name, Description: rich(s.Description), Type: typeView{Text: baseType(s), Nullable: s.Nullable}, Values: values(s)}
		sv.Fields = fields(refs, s, "")
		v.Schemas = append(v.Schemas, sv)
	}
	return v
}

func first(ss []string) string {
	if len(ss) == 0 {
		return ""
	}
	return ss[0]
}

func viewOperation(doc *openapi3.T, refs map[*openapi3.Schema]string, method, p string, item *openapi3.PathItem, op *openapi3.Operation) opView {
	o := opView{Anchor: op.OperationID, Method: strings.ToUpper(method), Path: p, Summary: op.Summary, Description: rich(op.Description),
		Public: op.Security != nil && len(*op.Security) == 0 || op.Security == nil && len(doc.Security) == 0}
	for _, params := range []openapi3.Parameters{item.Parameters, op.Parameters} {
		for _, pr := range params {
			if pr.Value == nil {
				continue
			}
			pv := paramView{Name: pr.Value.Name, In: pr.Value.In, Description: rich(pr.Value.Description), Required: pr.Value.Required}
			if pr.Value.Schema != nil {
				pv.Type = viewType(refs, pr.Value.Schema)
				if pv.Description == "" {
					pv.Description = rich(pr.Value.Schema.Value.Description)
				}
				if vs := values(pr.Value.Schema.Value); vs != "" {
					pv.Type.Text += " (" + vs + ")"
				}
			}
			o.Params = append(o.Params, pv)
		}
	}
	if op.RequestBody != nil && op.RequestBody.Value != nil {
		o.Body = viewContent(refs, op.RequestBody.Value.Content)
	}
	for _, status := range sortedStatuses(op.Responses) {
		r := op.Responses.Value(status)
		if r == nil || r.Value == nil {
			continue
		}
		rv := responseView{Status: status}
		if r.Value.Description != nil {
			rv.Description = rich(*r.Value.Description)
		}
		rv.Content = viewContent(refs, r.Value.Content)
		o.Responses = append(o.Responses, rv)
	}
	return o
}

// sortedStatuses puts the statuses in order, default last.
func sortedStatuses(rs *openapi3.Responses) []string {
	var out []string
	for s := range rs.Map() {
		out = append(out, s)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i] == "default" || out[j] == "default" {
			return out[j] == "default" && out[i] != "default"
		}
		return out[i] < out[j]
	})
	return out
}

func viewContent(refs map[*openapi3.Schema]string, content openapi3.Content) *contentView {
	types := make([]string, 0, len(content))
	for t := range content {
		types = append(types, t)
	}
	if len(types) == 0 {
		return nil
	}
	sort.Strings(types)
	mt := content[types[0]]
	cv := &contentView{Type: strings.Join(types, ", ")}
	if mt.Schema != nil {
		cv.Schema = viewType(refs, mt.Schema)
		if cv.Schema.Ref == "" {
			cv.Fields = fields(refs, mt.Schema.Value, "")
		}
	}
	return cv
}

// fields lists the properties of s, those of inline objects inside it
// (arrays of them too) under a dotted name: summary.rows, rows[].status.
func fields(refs map[*openapi3.Schema]string, s *openapi3.Schema, prefix string) []fieldView {
	if s == nil {
		return nil
	}
	names := make([]string, 0, len(s.Properties))
	for n := range s.Properties {
		names = append(names, n)
	}
	sort.Strings(names)
	var out []fieldView
	for _, n := range names {
		p := s.Properties[n]
		f := fieldView{Name: prefix + n, Description: rich(p.Value.Description), Type: viewType(refs, p)}
		if f.Type.Ref == "" {
			f.Values = values(p.Value)
		}
		for _, r := range s.Required {
			f.Required = f.Required || r == n
		}
		if f.Description == "" && len(p.Value.AllOf) == 1 {
			f.Description = rich(p.Value.AllOf[0].Value.Description)
		}
		out = append(out, f)
		if f.Type.Ref != "" {
			continue
		}
		switch {
		case p.Value.Type.Is("object"):
			out = append(out, fields(refs, p.Value, prefix+n+".")...)
		case p.Value.Type.Is("array") && p.Value.Items != nil && refs[p.Value.Items.Value] == "":
			out = append(out, fields(refs, p.Value.Items.Value, prefix+n+"[].")...)
		}
	}
	return out
}

// viewType names the type of s: a shared schema by name, an array of one,
// a map, or the JSON type with its format.
func viewType(refs map[*openapi3.Schema]string, s *openapi3.SchemaRef) typeView {
	v := s.Value
	if v == nil {
		return typeView{}
	}
	if name := refs[v]; name != "" {
		return typeView{Ref: name, Nullable: v.Nullable}
	}
	if len(v.AllOf) == 1 { // a shared schema made nullable
		t := viewType(refs, v.AllOf[0])
		t.Nullable = t.Nullable || v.Nullable
		return t
	}
	t := typeView{Nullable: v.Nullable}
	switch {
	case v.Type.Is("array") && v.Items != nil:
		t = viewType(refs, v.Items)
		t.Array = true
	case v.Type.Is("object") && v.AdditionalProperties.Schema != nil:
		t.Text = "object → " + viewType(refs, v.AdditionalProperties.Schema).String()
	default:
		t.Text = baseType(v)
	}
	return t
}

// baseType is the JSON type of s with its format: "string (date)".
func baseType(s *openapi3.Schema) string {
	if s.Type == nil {
		return ""
	}
	t := strings.Join(s.Type.Slice(), "|")
	if s.Format != "" {
		t += " (" + s.Format + ")"
	}
	return t
}

func (t typeView) String() string {
	s := t.Text
	if t.Ref != "" {
		s = t.Ref
	}
	if t.Array {
		s = "[" + s + "]"
	}
	return s
}

// values lists the allowed values of s, if it lists them.
func values(s *openapi3.Schema) string {
	if s == nil || len(s.Enum) == 0 {
		return ""
	}
	vs := make([]string, len(s.Enum))
	for i, e := range s.Enum {
		vs[i] = fmt.Sprint(e)
	}
	return strings.Join(vs, ", ")
}

// schemaNames maps each shared schema to its name (the loader resolves a
// $ref to the very schema of components).
func schemaNames(doc *openapi3.T) map[*openapi3.Schema]string {
	out := map[*openapi3.Schema]string{}
	for name, s := range doc.Components.Schemas {
		if s.Value != nil {
			out[s.Value] = name
		}
	}
	return out
}

// rich is the document's text for the page: escaped, its `code` spans as
// <code> (the only markup the document's text uses).
func rich(s string) template.HTML {
	parts := strings.Split(template.HTMLEscapeString(s), "`")
	var b strings.Builder
	for i, p := range parts {
		switch {
		case i%2 == 1 && i < len(parts)-1:
			b.WriteString("<code>" + p + "</code>")
		case i%2 == 1:
			b.WriteString("`" + p) // an unmatched backtick stays as it is
		default:
			b.WriteString(p)
		}
	}
	return template.HTML(b.String()) // escaped above
}
