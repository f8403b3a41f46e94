package issuer

import (
	"encoding/json"
	"errors"
	"fmt"
	"github.com/sanad-id/sanad/idrepo/identity"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"
)

// This file is the template language of credential configurations (see
// templates/README.md): parsing the {{ expression }} placeholders of a
// subject template and rendering a template with a resident's identity
// data.
//
// Rendering is injection-safe by construction: it walks the template tree
// and puts identity values in it as values, never as text of a JSON or
// YAML document, so no value can add a key, close a string or change the
// shape of the credential. Map keys come from the template only.

// RenderEnv is what a template can use besides identity data.
type RenderEnv struct {
	// Now is the time of issuance (the now expression).
	Now time.Time
}

// ErrMissingMandatoryClaim is returned (wrapped, with the claim paths) by
// Render when a claim the configuration marks mandatory renders missing for
// a resident: the credential would not match its metadata.
var ErrMissingMandatoryClaim = errors.New("issuer: mandatory claim missing")

// Render fills c's template with identity data (as DataProvider returns
// it) and returns the claims: credentialSubject for W3C formats, the
// top-level claims for SD-JWT VC. The result is a fresh tree of JSON
// values that shares nothing with identity or the template.
//
// A placeholder whose value is missing (the field is absent, a filter
// finds nothing, the data has the wrong shape) removes its key, or its
// array element; an object or array the template gave members that all
// went missing is removed in turn. If a claim marked mandatory is then
// missing, Render fails with ErrMissingMandatoryClaim. Other errors are
// template mistakes that LoadTemplates could not see (interpolating a
// list into a string, using now without RenderEnv.Now).
func (c *Configuration) Render(identity map[string]any, env RenderEnv) (map[string]any, error) {
	r := renderer{identity: identity, env: env}
	out := map[string]any{}
	if c.Subject != nil {
		v, ok, err := r.node(c.Subject, "subject")
		if err != nil {
			return nil, fmt.Errorf("issuer: template %q: %w", c.ID, err)
		}
		if ok {
			out = v.(map[string]any)
		}
	}
	var missing []string
	for _, cl := range c.Claims {
		if cl.Mandatory && !renderHasPath(out, cl.Path) {
			missing = append(missing, strings.Join(cl.Path, "."))
		}
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("%w: configuration %q: %s", ErrMissingMandatoryClaim, c.ID, strings.Join(missing, ", "))
	}
	return out, nil
}

// renderHasPath reports whether the object keys of path lead to a value in
// claims.
func renderHasPath(claims map[string]any, path []string) bool {
	var v any = claims
	for _, k := range path {
		m, ok := v.(map[string]any)
		if !ok {
			return false
		}
		if v, ok = m[k]; !ok {
			return false
		}
	}
	return len(path) > 0
}

// renderer renders one template for one resident.
type renderer struct {
	identity map[string]any
	env      RenderEnv
}

// node renders a template node; ok is false when it is missing. where
// names the node for errors ("subject.address.locality").
func (r *renderer) node(v any, where string) (out any, ok bool, err error) {
	switch t := v.(type) {
	case map[string]any:
		m := make(map[string]any, len(t))
		keys := make([]string, 0, len(t))
		for k := range t {
			keys = append(keys, k)
		}
		slices.Sort(keys) // errors in a stable order
		for _, k := range keys {
			child, ok, err := r.node(t[k], where+"."+k)
			if err != nil {
				return nil, false, err
			}
			if ok {
				m[k] = child
			}
		}
		if len(m) == 0 && len(t) > 0 {
			return nil, false, nil
		}
		return m, true, nil
	case []any:
		s := make([]any, 0, len(t))
		for i, e := range t {
			child, ok, err := r.node(e, where+"["+strconv.Itoa(i)+"]")
			if err != nil {
				return nil, false, err
			}
			if ok {
				s = append(s, child)
			}
		}
		if len(s) == 0 && len(t) > 0 {
			return nil, false, nil
		}
		return s, true, nil
	case string:
		l, err := parseTemplateString(t)
		if err != nil {
			return nil, false, fmt.Errorf("%s: %w", where, err)
		}
		return r.leaf(l, where)
	case nil:
		return nil, true, nil // a null the template writes stays
	}
	out, ok = renderJSONValue(v)
	return out, ok, nil
}

// leaf renders a parsed string leaf.
func (r *renderer) leaf(l templateString, where string) (any, bool, error) {
	if l.whole != nil {
		v, ok, err := r.eval(l.whole)
		if err != nil {
			return nil, false, fmt.Errorf("%s: %w", where, err)
		}
		return v, ok, nil
	}
	if l.parts == nil {
		return l.text, true, nil
	}
	var b strings.Builder
	for _, p := range l.parts {
		if p.expr == nil {
			b.WriteString(p.text)
			continue
		}
		v, ok, err := r.eval(p.expr)
		if err != nil {
			return nil, false, fmt.Errorf("%s: %w", where, err)
		}
		if !ok {
			return nil, false, nil
		}
		s, ok := renderText(v)
		if !ok {
			return nil, false, fmt.Errorf("%s: {{ %s }} is a list or an object, which cannot be put into text", where, p.expr)
		}
		b.WriteString(s)
	}
	return b.String(), true, nil
}

// renderText is the text of a scalar value for interpolation; false for a
// list or an object.
func renderText(v any) (string, bool) {
	switch t := v.(type) {
	case string:
		return t, true
	case json.Number:
		return t.String(), true
	case bool:
		return strconv.FormatBool(t), true
	case int64:
		return strconv.FormatInt(t, 10), true
	case float64:
		return strconv.FormatFloat(t, 'f', -1, 64), true
	}
	return "", false
}

// eval evaluates an expression.
func (r *renderer) eval(e *templateExpr) (any, bool, error) {
	var v any
	var ok bool
	switch e.term.kind {
	case termPath:
		v, ok = renderLookup(r.identity, e.term.path)
	case termUIN:
		v, ok = renderLookup(r.identity, []string{renderUINField})
	case termNow:
		if r.env.Now.IsZero() {
			return nil, false, errors.New("now used but RenderEnv.Now is not set")
		}
		v, ok = r.env.Now.UTC().Truncate(time.Second).Format(time.RFC3339), true
	case termLiteral:
		v, ok = e.term.literal, true
	}
	for _, f := range e.filters {
		v, ok = f.apply(v, ok)
	}
	return v, ok, nil
}

// renderUINField is where DataProvider puts the resident's UIN (the ID
// repository's stored record carries it under this name).
const renderUINField = "UIN"

// renderLookup follows path through the objects of identity and returns a
// copy of the value it leads to; false if it leads nowhere, to null or to a
// value that is not JSON.
func renderLookup(identity map[string]any, path []string) (any, bool) {
	var v any = identity
	for _, k := range path {
		m, ok := v.(map[string]any)
		if !ok {
			return nil, false
		}
		if v, ok = m[k]; !ok {
			return nil, false
		}
	}
	return renderJSONValue(v)
}

// renderMaxDepth bounds the nesting of identity values copied into a
// credential.
const renderMaxDepth = 64

// renderJSONValue returns a deep copy of v made of JSON values only
// (map[string]any, []any, string, bool, json.Number, int64, float64);
// false for null, for a value of another type and for what nests deeper
// than renderMaxDepth. Numbers of other Go types are converted.
func renderJSONValue(v any) (any, bool) { return renderCopy(v, 0) }

func renderCopy(v any, depth int) (any, bool) {
	if depth > renderMaxDepth {
		return nil, false
	}
	switch t := v.(type) {
	case string, bool, json.Number, int64:
		return t, true
	case float64:
		if math.IsNaN(t) || math.IsInf(t, 0) {
			return nil, false
		}
		return t, true
	case float32:
		return renderCopy(float64(t), depth)
	case int:
		return int64(t), true
	case int32:
		return int64(t), true
	case uint32:
		return int64(t), true
	case map[string]any:
		m := make(map[string]any, len(t))
		for k, e := range t {
			if c, ok := renderCopy(e, depth+1); ok {
				m[k] = c
			}
		}
		return m, true
	case []any:
		s := make([]any, 0, len(t))
		for _, e := range t {
			if c, ok := renderCopy(e, depth+1); ok {
				s = append(s, c)
			}
		}
		return s, true
	case []string:
		s := make([]any, len(t))
		for i, e := range t {
			s[i] = e
		}
		return s, true
	case map[string]string:
		m := make(map[string]any, len(t))
		for k, e := range t {
			m[k] = e
		}
		return m, true
	}
	return nil, false
}

// The filters.

func (f templateFilter) apply(v any, ok bool) (any, bool) {
	if f.name == "default" {
		if ok {
			return v, true
		}
		return f.args[0], true
	}
	if !ok {
		return nil, false
	}
	switch f.name {
	case "lang":
		if s, isString := v.(string); isString {
			return s, true // a field kept in one language only
		}
		values := renderLanguageValues(v)
		for _, a := range f.args {
			for _, lv := range values {
				if lv.lang == a.(string) {
					return lv.value, true
				}
			}
		}
		return nil, false
	case "langs":
		values := renderLanguageValues(v)
		if len(values) == 0 {
			return nil, false
		}
		out := make([]any, len(values))
		for i, lv := range values {
			out[i] = map[string]any{"language": lv.lang, "value": lv.value}
		}
		return out, true
	case "langmap":
		values := renderLanguageValues(v)
		if len(values) == 0 {
			return nil, false
		}
		out := make(map[string]any, len(values))
		for _, lv := range values {
			out[lv.lang] = lv.value
		}
		return out, true
	case "date":
		s, _ := v.(string)
		d := renderDate(s)
		return d, d != ""
	case "photo":
		d := identity.PhotoDataURI(v)
		return d, d != ""
	}
	return nil, false
}

// renderLanguageValue is one entry of a multi-language field.
type renderLanguageValue struct{ lang, value string }

// renderLanguageValues reads a multi-language field, a list of
// {language, value}. Entries of another shape, with an empty value, a
// language that is not three lower-case letters or a language seen before
// are skipped.
func renderLanguageValues(v any) []renderLanguageValue {
	list, _ := v.([]any)
	var out []renderLanguageValue
	for _, e := range list {
		m, _ := e.(map[string]any)
		lang, _ := m["language"].(string)
		value, _ := m["value"].(string)
		if value == "" || !templateLanguageCode(lang) {
			continue
		}
		if !slices.ContainsFunc(out, func(lv renderLanguageValue) bool { return lv.lang == lang }) {
			out = append(out, renderLanguageValue{lang, value})
		}
	}
	return out
}

// templateLanguageCode reports whether s is an ISO 639-3 code as identity
// data writes them: three lower-case letters.
func templateLanguageCode(s string) bool {
	if len(s) != 3 {
		return false
	}
	for i := 0; i < 3; i++ {
		if s[i] < 'a' || s[i] > 'z' {
			return false
		}
	}
	return true
}

// renderDate converts a date as identity data writes it (YYYY/MM/DD, or
// YYYY-MM-DD) or a timestamp (RFC 3339, such as now) to a full-date
// (YYYY-MM-DD); a year alone (YYYY) stays as it is. "" if s is not a valid
// date.
func renderDate(s string) string {
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t.Format(time.DateOnly)
	}
	return identity.FullDate(s)
}

// The expression language.
//
//	string   = text { "{{" expr "}}" text }
//	expr     = term { "|" filter }
//	term     = path | "now" | "uin" | literal
//	path     = name { "." name }        name = letter { letter | digit | "_" | "-" }
//	filter   = name { literal }
//	literal  = "double-quoted, JSON escapes" | 'single-quoted, no escapes' | number | true | false

// templateString is a parsed string leaf of a template.
type templateString struct {
	// whole is set when the string is exactly one {{ expr }}: the leaf
	// becomes the expression's value, of any JSON type.
	whole *templateExpr
	// parts is the text and the expressions of a string that interpolates
	// (nil for a plain string).
	parts []templatePart
	// text is a plain string.
	text string
}

// templatePart is literal text or an expression.
type templatePart struct {
	text string
	expr *templateExpr
}

// templateExpr is one expression.
type templateExpr struct {
	term    templateTerm
	filters []templateFilter
}

type termKind int

const (
	termPath termKind = iota + 1
	termNow
	termUIN
	termLiteral
)

type templateTerm struct {
	kind    termKind
	path    []string // termPath
	literal any      // termLiteral: string, json.Number or bool
}

type templateFilter struct {
	name string
	args []any // string, json.Number or bool
}

// Limits of the template language.
const (
	templateMaxString  = 64 << 10 // bytes in a string leaf
	templateMaxExprs   = 64       // expressions in a string leaf
	templateMaxFilters = 16       // in an expression
	templateMaxArgs    = 16       // of a filter
	templateMaxPath    = 16       // names in a path
	templateMaxName    = 128      // bytes in a name
)

// templateFilters are the filters and how many arguments each takes (-1:
// one or more).
var templateFilters = map[string]int{
	"lang": -1, "langs": 0, "langmap": 0, "date": 0, "photo": 0, "default": 1,
}

// parseTemplateString parses a string leaf.
func parseTemplateString(s string) (templateString, error) {
	if !strings.Contains(s, "{{") {
		return templateString{text: s}, nil
	}
	if len(s) > templateMaxString {
		return templateString{}, fmt.Errorf("longer than %d bytes", templateMaxString)
	}
	var parts []templatePart
	rest := s
	for {
		i := strings.Index(rest, "{{")
		if i < 0 {
			if rest != "" {
				parts = append(parts, templatePart{text: rest})
			}
			break
		}
		if i > 0 {
			parts = append(parts, templatePart{text: rest[:i]})
		}
		if len(parts) >= 2*templateMaxExprs {
			return templateString{}, fmt.Errorf("more than %d expressions", templateMaxExprs)
		}
		p := exprParser{src: rest[i+2:]}
		e, err := p.expr()
		if err != nil {
			return templateString{}, err
		}
		parts = append(parts, templatePart{expr: e})
		rest = p.src[p.pos:]
	}
	if len(parts) == 1 && parts[0].expr != nil {
		return templateString{whole: parts[0].expr}, nil
	}
	return templateString{parts: parts}, nil
}

// exprParser parses one expression, up to and including its "}}".
type exprParser struct {
	src string
	pos int
}

type tokenKind int

const (
	tokEnd    tokenKind = iota + 1 // }}
	tokPipe                        // |
	tokName                        // a name or a path
	tokString                      // a quoted string
	tokNumber
	tokOther // any other character, for error messages
)

type token struct {
	kind  tokenKind
	text  string // the source text
	value any    // the literal's value (tokString, tokNumber)
}

func (p *exprParser) expr() (*templateExpr, error) {
	e := &templateExpr{}
	tok, err := p.next()
	if err != nil {
		return nil, err
	}
	switch tok.kind {
	case tokName:
		switch tok.text {
		case "now":
			e.term = templateTerm{kind: termNow}
		case "uin":
			e.term = templateTerm{kind: termUIN}
		case "true", "false":
			e.term = templateTerm{kind: termLiteral, literal: tok.text == "true"}
		default:
			path := strings.Split(tok.text, ".")
			if len(path) > templateMaxPath {
				return nil, fmt.Errorf("path %q has more than %d names", tok.text, templateMaxPath)
			}
			for _, n := range path {
				if !templateName(n) {
					return nil, fmt.Errorf("%q is not a field path such as fullName or address.city", tok.text)
				}
			}
			e.term = templateTerm{kind: termPath, path: path}
		}
	case tokString, tokNumber:
		e.term = templateTerm{kind: termLiteral, literal: tok.value}
	case tokEnd:
		return nil, errors.New("empty {{ }}")
	default:
		return nil, fmt.Errorf("unexpected %q at the start of an expression", tok.text)
	}
	tok, err = p.next()
	if err != nil {
		return nil, err
	}
	for tok.kind != tokEnd {
		if tok.kind != tokPipe {
			return nil, fmt.Errorf("unexpected %q: filters follow a |", tok.text)
		}
		if len(e.filters) == templateMaxFilters {
			return nil, fmt.Errorf("more than %d filters", templateMaxFilters)
		}
		name, err := p.next()
		if err != nil {
			return nil, err
		}
		if name.kind != tokName {
			return nil, fmt.Errorf("a filter name must follow |, not %q", name.text)
		}
		arity, known := templateFilters[name.text]
		if !known {
			return nil, fmt.Errorf("unknown filter %q (filters: date, default, lang, langmap, langs, photo)", name.text)
		}
		f := templateFilter{name: name.text}
		for {
			if tok, err = p.next(); err != nil {
				return nil, err
			}
			if tok.kind == tokEnd || tok.kind == tokPipe {
				break
			}
			switch {
			case tok.kind == tokString || tok.kind == tokNumber:
				f.args = append(f.args, tok.value)
			case tok.kind == tokName && (tok.text == "true" || tok.text == "false"):
				f.args = append(f.args, tok.text == "true")
			default:
				return nil, fmt.Errorf("filter %s: argument %q is not a literal (quote strings)", f.name, tok.text)
			}
			if len(f.args) > templateMaxArgs {
				return nil, fmt.Errorf("filter %s: more than %d arguments", f.name, templateMaxArgs)
			}
		}
		switch {
		case arity == -1 && len(f.args) == 0:
			return nil, fmt.Errorf("filter %s needs at least one argument", f.name)
		case arity >= 0 && len(f.args) != arity:
			return nil, fmt.Errorf("filter %s takes %d argument(s), got %d", f.name, arity, len(f.args))
		}
		if f.name == "lang" {
			for _, a := range f.args {
				if s, ok := a.(string); !ok || !templateLanguageCode(s) {
					return nil, fmt.Errorf("filter lang takes ISO 639-3 language codes such as \"eng\", not %s", templateLiteral(a))
				}
			}
		}
		e.filters = append(e.filters, f)
	}
	return e, nil
}

// templateName reports whether s is a name of a path: a letter or _, then
// letters, digits, _ and -.
func templateName(s string) bool {
	if s == "" || len(s) > templateMaxName {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', c == '_':
		case i > 0 && ('0' <= c && c <= '9' || c == '-'):
		default:
			return false
		}
	}
	return true
}

// next returns the next token; "}}" missing is an error.
func (p *exprParser) next() (token, error) {
	for p.pos < len(p.src) && (p.src[p.pos] == ' ' || p.src[p.pos] == '\t' || p.src[p.pos] == '\n' || p.src[p.pos] == '\r') {
		p.pos++
	}
	if p.pos >= len(p.src) {
		return token{}, errors.New(`"{{" without "}}"`)
	}
	start := p.pos
	c := p.src[p.pos]
	switch {
	case strings.HasPrefix(p.src[p.pos:], "}}"):
		p.pos += 2
		return token{kind: tokEnd, text: "}}"}, nil
	case c == '|':
		p.pos++
		return token{kind: tokPipe, text: "|"}, nil
	case c == '"':
		for i := p.pos + 1; i < len(p.src); i++ {
			switch p.src[i] {
			case '\\':
				i++
			case '"':
				var s string
				if err := json.Unmarshal([]byte(p.src[start:i+1]), &s); err != nil {
					return token{}, fmt.Errorf("bad string %s", p.src[start:i+1])
				}
				p.pos = i + 1
				return token{kind: tokString, text: p.src[start:p.pos], value: s}, nil
			}
		}
		return token{}, errors.New("unterminated string")
	case c == '\'':
		i := strings.IndexByte(p.src[p.pos+1:], '\'')
		if i < 0 {
			return token{}, errors.New("unterminated string")
		}
		p.pos += i + 2
		return token{kind: tokString, text: p.src[start:p.pos], value: p.src[start+1 : p.pos-1]}, nil
	case c == '-' || '0' <= c && c <= '9':
		end := p.pos + 1
		for end < len(p.src) && strings.IndexByte("0123456789.eE+-", p.src[end]) >= 0 {
			end++
		}
		text := p.src[p.pos:end]
		p.pos = end
		if !json.Valid([]byte(text)) {
			return token{}, fmt.Errorf("bad number %q", text)
		}
		return token{kind: tokNumber, text: text, value: json.Number(text)}, nil
	case c == '_' || c == '.' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z':
		end := p.pos
		for end < len(p.src) {
			d := p.src[end]
			if d == '_' || d == '.' || d == '-' || 'a' <= d && d <= 'z' || 'A' <= d && d <= 'Z' || '0' <= d && d <= '9' {
				end++
				continue
			}
			break
		}
		p.pos = end
		return token{kind: tokName, text: p.src[start:end]}, nil
	}
	// One character (or one UTF-8 sequence) for the error message.
	end := p.pos + 1
	for end < len(p.src) && p.src[end]&0xC0 == 0x80 {
		end++
	}
	p.pos = end
	return token{kind: tokOther, text: p.src[start:end]}, nil
}

// String writes e back in canonical form (without the braces).
func (e *templateExpr) String() string {
	var b strings.Builder
	switch e.term.kind {
	case termPath:
		b.WriteString(strings.Join(e.term.path, "."))
	case termNow:
		b.WriteString("now")
	case termUIN:
		b.WriteString("uin")
	case termLiteral:
		b.WriteString(templateLiteral(e.term.literal))
	}
	for _, f := range e.filters {
		b.WriteString(" | ")
		b.WriteString(f.name)
		for _, a := range f.args {
			b.WriteByte(' ')
			b.WriteString(templateLiteral(a))
		}
	}
	return b.String()
}

// templateLiteral writes a literal as the expression language reads it.
func templateLiteral(v any) string {
	switch t := v.(type) {
	case string:
		b, _ := json.Marshal(t)
		return string(b)
	case json.Number:
		return t.String()
	case bool:
		return strconv.FormatBool(t)
	}
	return fmt.Sprint(v)
}

// String writes the leaf back in canonical form.
func (l templateString) String() string {
	if l.whole != nil {
		return "{{ " + l.whole.String() + " }}"
	}
	if l.parts == nil {
		return l.text
	}
	var b strings.Builder
	for _, p := range l.parts {
		if p.expr != nil {
			b.WriteString("{{ " + p.expr.String() + " }}")
		} else {
			b.WriteString(p.text)
		}
	}
	return b.String()
}

// expressions returns the expressions of the leaf.
func (l templateString) expressions() []*templateExpr {
	if l.whole != nil {
		return []*templateExpr{l.whole}
	}
	var out []*templateExpr
	for _, p := range l.parts {
		if p.expr != nil {
			out = append(out, p.expr)
		}
	}
	return out
}
