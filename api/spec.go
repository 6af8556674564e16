package api

import (
	"bytes"
	_ "embed"
	"fmt"
	"html"
	"html/template"
	"net/http"
	"regexp"
	"slices"
	"strings"

	"github.com/labstack/echo/v4"
	"gopkg.in/yaml.v3"

	"github.com/vigilsec/vigil/auth"
)

// openAPIYAML is the API contract. spec_test.go keeps it and the router in step, and
// contract_test.go validates real requests and responses against it.
//
//go:embed openapi.yaml
var openAPIYAML []byte

// OpenAPIDocument returns the embedded OpenAPI 3.1 document (YAML). The slice is a copy.
func OpenAPIDocument() []byte { return bytes.Clone(openAPIYAML) }

// SpecHandlers returns the handlers of GET /api/openapi.yaml (the document) and GET
// /api/docs (an HTML reference rendered from it once, here). Both are public: the
// contract is no secret, and tools fetch it without credentials.
func SpecHandlers() (document, reference echo.HandlerFunc, err error) {
	page, err := RenderAPIReference(openAPIYAML)
	if err != nil {
		return nil, nil, err
	}
	document = func(c echo.Context) error {
		return c.Blob(http.StatusOK, "application/yaml", openAPIYAML)
	}
	reference = func(c echo.Context) error {
		// The page is self-contained: no scripts, no external resources, inline styles only.
		c.Response().Header().Set("Content-Security-Policy",
			"default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'")
		return c.HTMLBlob(http.StatusOK, page)
	}
	return document, reference, nil
}

// specRoutes registers the two public contract routes. routes.go calls it. The embedded
// document is part of the binary, so a document that cannot be rendered is a
// programmer error found at startup.
func (s *Server) specRoutes() {
	document, reference, err := SpecHandlers()
	if err != nil {
		panic("api: render the embedded OpenAPI document: " + err.Error())
	}
	s.echo.GET("/api/openapi.yaml", document).Name = "public"
	s.echo.GET("/api/docs", reference).Name = "public"
}

// RenderAPIReference renders an OpenAPI document as one HTML page: its tags with their
// operations (parameters, request body, responses, permission) and its schemas.
func RenderAPIReference(doc []byte) ([]byte, error) {
	var root yaml.Node
	if err := yaml.Unmarshal(doc, &root); err != nil {
		return nil, fmt.Errorf("parse openapi document: %w", err)
	}
	m, ok := fromNode(&root).(*omap)
	if !ok {
		return nil, fmt.Errorf("parse openapi document: not a mapping")
	}
	r := &refResolver{root: m}
	page, err := r.page()
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	if err := referenceTemplate.Execute(&buf, page); err != nil {
		return nil, fmt.Errorf("render api reference: %w", err)
	}
	return buf.Bytes(), nil
}

// omap is a YAML mapping that keeps its keys' order, so the page follows the document.
type omap struct {
	keys []string
	vals map[string]any
}

func (m *omap) get(k string) any {
	if m == nil {
		return nil
	}
	return m.vals[k]
}

func (m *omap) str(k string) string {
	s, _ := m.get(k).(string)
	return s
}

func (m *omap) sub(k string) *omap {
	s, _ := m.get(k).(*omap)
	return s
}

func fromNode(n *yaml.Node) any {
	switch n.Kind {
	case yaml.DocumentNode:
		if len(n.Content) == 0 {
			return nil
		}
		return fromNode(n.Content[0])
	case yaml.AliasNode:
		return fromNode(n.Alias)
	case yaml.MappingNode:
		m := &omap{vals: map[string]any{}}
		for i := 0; i+1 < len(n.Content); i += 2 {
			k := n.Content[i].Value
			if _, dup := m.vals[k]; !dup {
				m.keys = append(m.keys, k)
			}
			m.vals[k] = fromNode(n.Content[i+1])
		}
		return m
	case yaml.SequenceNode:
		out := make([]any, 0, len(n.Content))
		for _, c := range n.Content {
			out = append(out, fromNode(c))
		}
		return out
	default:
		if n.Tag == "!!null" {
			return nil
		}
		return n.Value
	}
}

type refPage struct {
	Title, Version  string
	Description     template.HTML
	Security        []refSecurity
	Tags            []*refTag
	Schemas         []refSchema
	OperationsCount int
}

type refSecurity struct {
	Name, Kind  string
	Description template.HTML
}

type refTag struct {
	Name        string
	Description template.HTML
	Ops         []refOp
}

type refOp struct {
	ID, Method, Path, Summary string
	Description               template.HTML
	Access                    string
	Params                    []refField
	Body                      *refBody
	Responses                 []refResponse
}

type refBody struct {
	ContentType string
	Type        refType
}

type refResponse struct {
	Status      string
	Description template.HTML
	ContentType string
	Type        refType
	Headers     []string
}

// refType is a schema's type as shown, with a link to the schema it names, if any.
type refType struct {
	Text, Link string
}

type refField struct {
	Name, In    string
	Type        refType
	Required    bool
	Constraints string
	Description template.HTML
}

type refSchema struct {
	Name        string
	Description template.HTML
	Type        refType
	Extends     []refType
	Fields      []refField
}

type refResolver struct{ root *omap }

// resolve follows a local $ref (a JSON pointer into the document).
func (r *refResolver) resolve(ref string) *omap {
	if !strings.HasPrefix(ref, "#/") {
		return nil
	}
	var cur any = r.root
	for _, part := range strings.Split(ref[2:], "/") {
		part = strings.ReplaceAll(strings.ReplaceAll(part, "~1", "/"), "~0", "~")
		m, ok := cur.(*omap)
		if !ok {
			return nil
		}
		cur = m.get(part)
	}
	m, _ := cur.(*omap)
	return m
}

// deref returns the object behind a $ref (or the object itself).
func (r *refResolver) deref(m *omap) *omap {
	for i := 0; m != nil && i < 10; i++ {
		ref := m.str("$ref")
		if ref == "" {
			return m
		}
		m = r.resolve(ref)
	}
	return m
}

func schemaName(ref string) string {
	if rest, ok := strings.CutPrefix(ref, "#/components/schemas/"); ok && !strings.Contains(rest, "/") {
		return rest
	}
	return ""
}

// typeOf describes a schema in a few words: "string (uuid) or null", "array of Scan".
func (r *refResolver) typeOf(s *omap) refType {
	if s == nil {
		return refType{Text: "any"}
	}
	if ref := s.str("$ref"); ref != "" {
		if name := schemaName(ref); name != "" {
			return refType{Text: name, Link: "#schema-" + name}
		}
		return r.typeOf(r.resolve(ref))
	}
	if all, ok := s.get("allOf").([]any); ok {
		var parts []string
		var link string
		for _, a := range all {
			t := r.typeOf(asMap(a))
			parts = append(parts, t.Text)
			if link == "" {
				link = t.Link
			}
		}
		return refType{Text: strings.Join(parts, " + "), Link: link}
	}
	var types []string
	nullable := false
	switch t := s.get("type").(type) {
	case string:
		types = []string{t}
	case []any:
		for _, x := range t {
			if x == "null" {
				nullable = true
			} else if xs, ok := x.(string); ok {
				types = append(types, xs)
			}
		}
	}
	text := strings.Join(types, " or ")
	var link string
	switch {
	case slices.Contains(types, "array"):
		it := r.typeOf(s.sub("items"))
		text, link = "array of "+it.Text, it.Link
	case slices.Contains(types, "object"):
		if ap := s.sub("additionalProperties"); ap != nil {
			it := r.typeOf(ap)
			text, link = "map of "+it.Text, it.Link
		}
	}
	if text == "" {
		text = "any"
	}
	if f := s.str("format"); f != "" {
		text += " (" + f + ")"
	}
	if nullable {
		text += " or null"
	}
	return refType{Text: text, Link: link}
}

func asMap(v any) *omap {
	m, _ := v.(*omap)
	return m
}

// constraints lists a schema's validation keywords in a short readable form.
func (r *refResolver) constraints(s *omap) string {
	s = r.deref(s)
	if s == nil {
		return ""
	}
	var out []string
	if enum, ok := s.get("enum").([]any); ok {
		var vals []string
		for _, e := range enum {
			if e == nil {
				vals = append(vals, "null")
			} else {
				vals = append(vals, fmt.Sprint(e))
			}
		}
		out = append(out, "one of: "+strings.Join(vals, ", "))
	}
	if c, ok := s.get("const").(string); ok {
		out = append(out, "always "+c)
	}
	for _, kw := range []struct{ key, label string }{
		{"minimum", "min"}, {"maximum", "max"}, {"minLength", "min length"}, {"maxLength", "max length"},
		{"minItems", "min items"}, {"maxItems", "max items"}, {"maxProperties", "max entries"},
		{"pattern", "pattern"}, {"default", "default"},
	} {
		if v, ok := s.get(kw.key).(string); ok {
			out = append(out, kw.label+" "+v)
		}
	}
	if items := s.sub("items"); items != nil {
		if c := r.constraints(items); c != "" && items.str("$ref") == "" {
			out = append(out, "each: "+c)
		}
	}
	return strings.Join(out, "; ")
}

var codeSpan = regexp.MustCompile("`([^`]+)`")

// prose renders a description: escaped text, paragraphs kept, `code` spans marked up.
func prose(s string) template.HTML {
	s = strings.TrimSpace(s)
	if s == "" {
		return ""
	}
	esc := html.EscapeString(s)
	esc = codeSpan.ReplaceAllString(esc, "<code>$1</code>")
	var b strings.Builder
	for _, para := range strings.Split(esc, "\n\n") {
		b.WriteString("<p>" + strings.ReplaceAll(para, "\n", " ") + "</p>")
	}
	return template.HTML(b.String()) //nolint:gosec // every piece of text was escaped above
}

var methodOrder = []string{"get", "post", "put", "patch", "delete"}

func (r *refResolver) page() (*refPage, error) {
	info := r.root.sub("info")
	p := &refPage{Title: info.str("title"), Version: info.str("version"), Description: prose(info.str("description"))}
	schemes := r.root.sub("components").sub("securitySchemes")
	for _, name := range schemes.keysOrNil() {
		s := schemes.sub(name)
		kind := s.str("type")
		if kind == "http" {
			kind = "HTTP " + s.str("scheme")
		} else if kind == "apiKey" {
			kind = s.str("in") + " " + s.str("name")
		}
		p.Security = append(p.Security, refSecurity{Name: name, Kind: kind, Description: prose(s.str("description"))})
	}
	byTag := map[string]*refTag{}
	for _, t := range asList(r.root.get("tags")) {
		tm := asMap(t)
		tag := &refTag{Name: tm.str("name"), Description: prose(tm.str("description"))}
		byTag[tag.Name] = tag
		p.Tags = append(p.Tags, tag)
	}
	paths := r.root.sub("paths")
	if paths == nil {
		return nil, fmt.Errorf("openapi document has no paths")
	}
	for _, path := range paths.keys {
		item := paths.sub(path)
		shared := asList(item.get("parameters"))
		for _, method := range methodOrder {
			op := item.sub(method)
			if op == nil {
				continue
			}
			o, err := r.operation(method, path, op, shared)
			if err != nil {
				return nil, err
			}
			tags := asList(op.get("tags"))
			if len(tags) == 0 {
				return nil, fmt.Errorf("%s %s has no tag", method, path)
			}
			name, _ := tags[0].(string)
			tag := byTag[name]
			if tag == nil {
				return nil, fmt.Errorf("%s %s: tag %q is not declared", method, path, name)
			}
			tag.Ops = append(tag.Ops, o)
			p.OperationsCount++
		}
	}
	schemas := r.root.sub("components").sub("schemas")
	for _, name := range schemas.keysOrNil() {
		p.Schemas = append(p.Schemas, r.schema(name, schemas.sub(name)))
	}
	return p, nil
}

func asList(v any) []any {
	l, _ := v.([]any)
	return l
}

func (r *refResolver) operation(method, path string, op *omap, shared []any) (refOp, error) {
	o := refOp{ID: op.str("operationId"), Method: strings.ToUpper(method), Path: path, Summary: op.str("summary"),
		Description: prose(op.str("description"))}
	if o.ID == "" {
		return o, fmt.Errorf("%s %s has no operationId", o.Method, path)
	}
	o.Access = accessOf(op, r.root)
	for _, prm := range append(slices.Clone(shared), asList(op.get("parameters"))...) {
		pm := r.deref(asMap(prm))
		if pm == nil {
			return o, fmt.Errorf("%s: unresolvable parameter", o.ID)
		}
		req, _ := pm.get("required").(string)
		o.Params = append(o.Params, refField{Name: pm.str("name"), In: pm.str("in"), Type: r.typeOf(pm.sub("schema")),
			Required: req == "true", Constraints: r.constraints(pm.sub("schema")), Description: prose(pm.str("description"))})
	}
	if body := r.deref(op.sub("requestBody")); body != nil {
		content := body.sub("content")
		for _, ct := range content.keysOrNil() {
			o.Body = &refBody{ContentType: ct, Type: r.typeOf(content.sub(ct).sub("schema"))}
			break
		}
	}
	responses := op.sub("responses")
	for _, status := range responses.keysOrNil() {
		resp := r.deref(responses.sub(status))
		rr := refResponse{Status: status, Description: prose(resp.str("description"))}
		content := resp.sub("content")
		for _, ct := range content.keysOrNil() {
			rr.ContentType = ct
			rr.Type = r.typeOf(content.sub(ct).sub("schema"))
			break
		}
		rr.Headers = slices.Clone(resp.sub("headers").keysOrNil())
		o.Responses = append(o.Responses, rr)
	}
	return o, nil
}

func (m *omap) keysOrNil() []string {
	if m == nil {
		return nil
	}
	return m.keys
}

// accessOf says who may call an operation: public, or the permission and the least
// role that holds it.
func accessOf(op *omap, root *omap) string {
	if sec, ok := op.get("security").([]any); ok && len(sec) == 0 {
		return "public"
	}
	perm := op.str("x-vigil-permission")
	if perm == "" || perm == "public" {
		if root.get("security") == nil {
			return "public"
		}
		return "authenticated"
	}
	return "permission " + perm + " (" + string(auth.MinRole(auth.Permission(perm))) + " or above)"
}

func (r *refResolver) schema(name string, s *omap) refSchema {
	out := refSchema{Name: name, Description: prose(s.str("description"))}
	var required []string
	collect := func(obj *omap) {
		for _, q := range asList(obj.get("required")) {
			if qs, ok := q.(string); ok {
				required = append(required, qs)
			}
		}
		props := obj.sub("properties")
		for _, pn := range props.keysOrNil() {
			ps := props.sub(pn)
			desc := ps.str("description")
			if desc == "" {
				desc = r.deref(ps).str("description")
			}
			out.Fields = append(out.Fields, refField{Name: pn, Type: r.typeOf(ps), Constraints: r.constraints(ps),
				Description: prose(desc)})
		}
	}
	if all := asList(s.get("allOf")); len(all) > 0 {
		for _, a := range all {
			am := asMap(a)
			if am.str("$ref") != "" {
				out.Extends = append(out.Extends, r.typeOf(am))
				continue
			}
			collect(am)
		}
	} else {
		out.Type = r.typeOf(s)
		collect(s)
		if len(out.Fields) == 0 {
			out.Fields = nil
			if c := r.constraints(s); c != "" {
				out.Type.Text += "; " + c
			}
		}
	}
	for i := range out.Fields {
		out.Fields[i].Required = slices.Contains(required, out.Fields[i].Name)
	}
	return out
}

var referenceTemplate = template.Must(template.New("reference").Funcs(template.FuncMap{
	"lower": strings.ToLower,
}).Parse(`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.Title}} {{.Version}} reference</title>
<style>
body{font:15px/1.5 system-ui,-apple-system,"Segoe UI",sans-serif;margin:0;color:#1c2430;display:flex}
nav{width:17rem;flex:none;height:100vh;overflow:auto;position:sticky;top:0;background:#f4f6f9;padding:1rem;box-sizing:border-box;font-size:13px}
nav a{color:#1c2430;text-decoration:none;display:block;padding:1px 0}
nav h3{margin:1rem 0 .2rem;font-size:12px;text-transform:uppercase;color:#5a6675}
main{padding:1rem 2rem 4rem;max-width:64rem;min-width:0}
h1{margin-top:0}h2{border-bottom:2px solid #dfe4ea;padding-bottom:.2rem;margin-top:2.5rem}
.op{border:1px solid #dfe4ea;border-radius:6px;margin:1rem 0;padding:.6rem 1rem}
.op h4{margin:.2rem 0;font-size:15px}
.m{display:inline-block;min-width:4.2rem;font:600 12px ui-monospace,monospace;padding:2px 6px;border-radius:4px;color:#fff;text-align:center}
.get{background:#2f7d4f}.post{background:#2b5db3}.patch{background:#9a6a00}.put{background:#8a4fb3}.delete{background:#b33a2b}
.path{font-family:ui-monospace,monospace}
.access{font-size:12px;color:#5a6675}
table{border-collapse:collapse;width:100%;margin:.4rem 0;font-size:13px}
th,td{border-bottom:1px solid #e8ecf0;text-align:left;padding:3px 6px;vertical-align:top}
th{color:#5a6675;font-weight:600}
code{font:12.5px ui-monospace,monospace;background:#eef1f5;padding:0 3px;border-radius:3px}
td p,.op p{margin:.2rem 0}
.req{color:#b33a2b;font-size:11px}
.id{color:#5a6675;font:12px ui-monospace,monospace}
</style>
</head>
<body>
<nav>
<strong>{{.Title}} {{.Version}}</strong>
<h3>Operations</h3>
{{range .Tags}}{{if .Ops}}<a href="#tag-{{.Name}}">{{.Name}}</a>{{end}}{{end}}
<h3>Schemas</h3>
{{range .Schemas}}<a href="#schema-{{.Name}}">{{.Name}}</a>{{end}}
</nav>
<main>
<h1>{{.Title}} <small>{{.Version}}</small></h1>
{{.Description}}
<p>{{.OperationsCount}} operations. The machine-readable document is at <a href="/api/openapi.yaml"><code>/api/openapi.yaml</code></a>.</p>
<h2 id="security">Authentication</h2>
<table><tr><th>scheme</th><th>sent as</th><th></th></tr>
{{range .Security}}<tr><td><code>{{.Name}}</code></td><td>{{.Kind}}</td><td>{{.Description}}</td></tr>{{end}}
</table>
{{range .Tags}}{{if .Ops}}
<h2 id="tag-{{.Name}}">{{.Name}}</h2>
{{.Description}}
{{range .Ops}}
<section class="op" id="op-{{.ID}}">
<h4><span class="m {{lower .Method}}">{{.Method}}</span> <span class="path">{{.Path}}</span> — {{.Summary}}</h4>
<div class="access">{{.Access}} · <span class="id">{{.ID}}</span></div>
{{.Description}}
{{if .Params}}<table><tr><th>parameter</th><th>in</th><th>type</th><th>constraints</th><th></th></tr>
{{range .Params}}<tr><td><code>{{.Name}}</code>{{if .Required}} <span class="req">required</span>{{end}}</td><td>{{.In}}</td><td>{{template "type" .Type}}</td><td>{{.Constraints}}</td><td>{{.Description}}</td></tr>{{end}}
</table>{{end}}
{{with .Body}}<p>Request body (<code>{{.ContentType}}</code>): {{template "type" .Type}}</p>{{end}}
<table><tr><th>status</th><th>body</th><th></th></tr>
{{range .Responses}}<tr><td><strong>{{.Status}}</strong></td><td>{{if .ContentType}}<code>{{.ContentType}}</code> {{template "type" .Type}}{{end}}{{range .Headers}}<br>header <code>{{.}}</code>{{end}}</td><td>{{.Description}}</td></tr>{{end}}
</table>
</section>
{{end}}{{end}}{{end}}
<h2 id="schemas">Schemas</h2>
{{range .Schemas}}
<section class="op" id="schema-{{.Name}}">
<h4>{{.Name}}{{if .Extends}} <small>= {{range $i, $e := .Extends}}{{if $i}} + {{end}}{{template "type" $e}}{{end}} + fields below</small>{{else if not .Fields}} <small>{{template "type" .Type}}</small>{{end}}</h4>
{{.Description}}
{{if .Fields}}<table><tr><th>field</th><th>type</th><th>constraints</th><th></th></tr>
{{range .Fields}}<tr><td><code>{{.Name}}</code>{{if .Required}} <span class="req">required</span>{{end}}</td><td>{{template "type" .Type}}</td><td>{{.Constraints}}</td><td>{{.Description}}</td></tr>{{end}}
</table>{{end}}
</section>
{{end}}
</main>
</body>
</html>
{{define "type"}}{{if .Link}}<a href="{{.Link}}">{{.Text}}</a>{{else}}{{.Text}}{{end}}{{end}}`))
