package jsonld

import (
	"cmp"
	"crypto"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/piprate/json-gold/ld"
)

// maxCachedContexts bounds the active contexts a Loader keeps. When it is
// full the cache starts over, so documents naming many different
// combinations of contexts cost parsing time, never memory.
const maxCachedContexts = 64

// Canonicalize returns the RDFC-1.0 canonical N-Quads of doc, a JSON-LD
// document decoded by encoding/json (map[string]any, []any, string,
// float64, bool, nil). Contexts come from l only.
//
// The document is expanded in safe mode and every member of it must end
// up in the canonical form, so that a proof over the canonical form
// covers the whole JSON document: a property or type that no context
// defines is refused with ErrUndefinedTerm; an @id, type or datatype that
// RDF conversion would drop (a relative IRI), a malformed language tag,
// an @index or a @json literal is refused with ErrInvalid. The conversion
// to RDF follows jsonld.js (with rdfDirection i18n-datatype), which
// digitalbazaar's Data Integrity suites use, so both canonicalize a
// document alike.
func (l *Loader) Canonicalize(doc map[string]any) (string, error) {
	return l.CanonicalizeHash(doc, crypto.SHA256)
}

// CanonicalizeHash is Canonicalize with h as RDFC-1.0's hash algorithm:
// crypto.SHA256 (the default) or crypto.SHA384, which ecdsa-rdfc-2019
// uses with P-384 keys. The hash decides the blank node labels.
//
// Documents whose blank nodes only the expensive part of RDFC-1.0 can
// tell apart beyond a small bound (a "poison graph") are refused with
// ErrInvalid.
func (l *Loader) CanonicalizeHash(doc map[string]any, h crypto.Hash) (string, error) {
	if h != crypto.SHA256 && h != crypto.SHA384 {
		return "", fmt.Errorf("%w: RDFC-1.0 with %v is not supported", ErrInvalid, h)
	}
	quads, err := l.toRDF(doc)
	if err != nil {
		return "", err
	}
	return canonicalize(quads, h)
}

// toRDF expands doc in safe mode, checks that nothing would be dropped,
// and converts it to RDF quads.
func (l *Loader) toRDF(doc map[string]any) (quads []rdfQuad, err error) {
	if doc == nil {
		return nil, fmt.Errorf("%w: no document", ErrInvalid)
	}
	if v, changed, err := plainJSON(doc, 0); err != nil {
		return nil, err
	} else if changed {
		doc = v.(map[string]any)
	}
	// json-gold assumes well-formed input in places and panics on some
	// malformed documents (found by FuzzCanonicalize); the document comes
	// from outside, so a panic is a refusal, not a crash.
	defer func() {
		if r := recover(); r != nil {
			quads, err = nil, fmt.Errorf("%w: JSON-LD processing failed: %v", ErrInvalid, r)
		}
	}()
	opts := l.cache.options(l)
	active := ld.NewContext(nil, opts)
	input := doc
	if c, ok := doc["@context"]; ok {
		var err error
		if active, err = l.cache.context(opts, c); err != nil {
			return nil, classify(err)
		}
		// The context is already processed: expand the document's
		// members with it, as the expansion algorithm would after
		// processing @context itself.
		input = make(map[string]any, len(doc)-1)
		for k, v := range doc {
			if k != "@context" {
				input[k] = v
			}
		}
	}
	api := ld.NewJsonLdApi()
	out, err := api.Expand(active, "", input, opts, false, nil)
	if err != nil {
		return nil, classify(err)
	}
	expanded := expandedList(out)
	if err := checkExpanded(expanded); err != nil {
		return nil, err
	}
	issuer := ld.NewIdentifierIssuer("_:b")
	nodeMap := map[string]any{"@default": map[string]any{}}
	if _, err := api.GenerateNodeMap(expanded, nodeMap, "@default", issuer, "", "", nil); err != nil {
		return nil, classify(err)
	}
	return nodeMapQuads(nodeMap, issuer)
}

// expandedList is the last step of the JSON-LD expansion algorithm: a
// top-level @graph is unwrapped and the result is always an array.
func expandedList(out any) []any {
	if m, ok := out.(map[string]any); ok {
		if len(m) == 0 {
			return []any{}
		}
		if g, ok := m["@graph"]; ok && len(m) == 1 {
			out = g
		}
	}
	switch v := out.(type) {
	case nil:
		return []any{}
	case []any:
		return v
	}
	return []any{out}
}

// contextCache keeps active contexts processed from @context values that
// are registered context URLs, so that the bundled contexts (tens of
// kilobytes of term definitions) are processed once per Loader, not for
// every document and proof. Processed contexts are only read by
// expansion, so they are shared between goroutines.
type contextCache struct {
	once sync.Once
	opts *ld.JsonLdOptions

	mu sync.RWMutex
	m  map[string]*ld.Context
}

// options are the JSON-LD options of every operation of the Loader:
// offline, JSON-LD 1.1, safe mode.
func (c *contextCache) options(l *Loader) *ld.JsonLdOptions {
	c.once.Do(func() {
		o := ld.NewJsonLdOptions("")
		o.DocumentLoader = l
		o.ProcessingMode = ld.JsonLd_1_1
		o.SafeMode = true
		o.Algorithm = ld.AlgorithmURDNA2015
		c.opts = o
		c.m = map[string]*ld.Context{}
	})
	return c.opts
}

// context returns the active context that processing v (a document's
// @context) yields from an empty one.
func (c *contextCache) context(opts *ld.JsonLdOptions, v any) (*ld.Context, error) {
	key, ok := contextKey(v)
	if ok {
		c.mu.RLock()
		ctx, hit := c.m[key]
		c.mu.RUnlock()
		if hit {
			return ctx, nil
		}
	}
	ctx, err := ld.NewContext(nil, opts).Parse(v)
	if err != nil {
		return nil, err
	}
	if ok {
		c.mu.Lock()
		if len(c.m) >= maxCachedContexts {
			c.m = map[string]*ld.Context{}
		}
		c.m[key] = ctx
		c.mu.Unlock()
	}
	return ctx, nil
}

// contextKey identifies a @context value made of context URLs only (the
// only kind cached: inline contexts are the document's own).
func contextKey(v any) (string, bool) {
	switch t := v.(type) {
	case string:
		return strconv.Itoa(len(t)) + ":" + t, true
	case []any:
		var b strings.Builder
		for _, e := range t {
			s, ok := e.(string)
			if !ok {
				return "", false
			}
			b.WriteString(strconv.Itoa(len(s)))
			b.WriteByte(':')
			b.WriteString(s)
		}
		return b.String(), true
	}
	return "", false
}

// checkExpanded walks an expanded document and refuses what RDF
// conversion would drop without a word: the JSON member would then not be
// covered by a proof over the canonical form. json-gold's safe mode
// catches undefined properties only; this catches relative IRIs in @id,
// @type, properties and datatypes (undefined types among them),
// blank-node properties, malformed language tags, @index (not part of
// RDF) and @json literals (whose canonical JSON form Sanad does not
// implement).
func checkExpanded(v any) error {
	switch t := v.(type) {
	case []any:
		for _, e := range t {
			if err := checkExpanded(e); err != nil {
				return err
			}
		}
	case map[string]any:
		if _, ok := t["@value"]; ok {
			if typ, ok := t["@type"].(string); ok {
				if typ == "@json" {
					return fmt.Errorf("%w: @json literals are not supported", ErrInvalid)
				}
				if err := checkIRI(typ, "datatype"); err != nil {
					return err
				}
			}
			if lang, ok := t["@language"].(string); ok && !bcp47.MatchString(lang) {
				return fmt.Errorf("%w: language tag %q is not well-formed", ErrInvalid, lang)
			}
			if _, ok := t["@index"]; ok {
				return fmt.Errorf("%w: @index values are not part of the canonical form", ErrInvalid)
			}
			return nil // the @value itself is a literal
		}
		for k, e := range t {
			switch k {
			case "@id":
				if s, ok := e.(string); ok {
					if err := checkIRI(s, "@id"); err != nil {
						return err
					}
				}
			case "@type":
				types, ok := e.([]any)
				if !ok {
					types = []any{e}
				}
				for _, ty := range types {
					if s, ok := ty.(string); ok {
						if err := checkIRI(s, "type"); err != nil {
							return err
						}
					}
				}
			case "@index":
				return fmt.Errorf("%w: @index values are not part of the canonical form", ErrInvalid)
			case "@reverse":
				rev, ok := e.(map[string]any)
				if !ok {
					return fmt.Errorf("%w: malformed @reverse", ErrInvalid)
				}
				for p, rv := range rev {
					if err := checkProperty(p); err != nil {
						return err
					}
					if err := checkExpanded(rv); err != nil {
						return err
					}
				}
			default:
				if !ld.IsKeyword(k) {
					if err := checkProperty(k); err != nil {
						return err
					}
				}
				if err := checkExpanded(e); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// absoluteIRI is jsonld.js's test of an absolute IRI or blank node
// identifier, /^([A-Za-z][A-Za-z0-9+-.]*|_):[^\s]*$/: what it converts
// to RDF rather than drop. (A hand-written scan: it runs on every IRI.)
func absoluteIRI(s string) bool {
	colon := strings.IndexByte(s, ':')
	if colon < 1 {
		return false
	}
	if s[:colon] != "_" {
		if c := s[0]; !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z') {
			return false
		}
		for i := 1; i < colon; i++ {
			c := s[i]
			if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '+' || c == '-' || c == '.') {
				return false
			}
		}
	}
	for i := colon + 1; i < len(s); i++ {
		c := s[i]
		if c < utf8.RuneSelf {
			if c == ' ' || '\t' <= c && c <= '\r' {
				return false
			}
			continue
		}
		r, n := utf8.DecodeRuneInString(s[i:])
		if jsSpace(r) {
			return false
		}
		i += n - 1
	}
	return true
}

// jsSpace reports whether JavaScript's \s matches the non-ASCII rune r.
func jsSpace(r rune) bool {
	switch r {
	case 0xa0, 0x1680, 0x2028, 0x2029, 0x202f, 0x205f, 0x3000, 0xfeff:
		return true
	}
	return 0x2000 <= r && r <= 0x200a
}

// bcp47 is jsonld.js's test of a language tag.
var bcp47 = regexp.MustCompile(`^[a-zA-Z]{1,8}(-[a-zA-Z0-9]{1,8})*$`)

func checkIRI(s, what string) error {
	if absoluteIRI(s) {
		return nil
	}
	if what == "type" {
		return fmt.Errorf("%w: type %q is not defined by the document's contexts", ErrUndefinedTerm, s)
	}
	return fmt.Errorf("%w: %s %q is not an absolute IRI, which the canonical form drops", ErrInvalid, what, s)
}

func checkProperty(p string) error {
	if strings.HasPrefix(p, "_:") {
		return fmt.Errorf("%w: property %q expands to a blank node, which the canonical form drops", ErrUndefinedTerm, p)
	}
	if !absoluteIRI(p) {
		return fmt.Errorf("%w: property %q is not defined by the document's contexts", ErrUndefinedTerm, p)
	}
	return nil
}

// RDF and XSD IRIs of the conversion to RDF.
const (
	rdfType    = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
	rdfFirst   = "http://www.w3.org/1999/02/22-rdf-syntax-ns#first"
	rdfRest    = "http://www.w3.org/1999/02/22-rdf-syntax-ns#rest"
	rdfNil     = "http://www.w3.org/1999/02/22-rdf-syntax-ns#nil"
	xsdBoolean = "http://www.w3.org/2001/XMLSchema#boolean"
	xsdDouble  = "http://www.w3.org/2001/XMLSchema#double"
	xsdInteger = "http://www.w3.org/2001/XMLSchema#integer"
	xsdString  = "http://www.w3.org/2001/XMLSchema#string"
	langString = "http://www.w3.org/1999/02/22-rdf-syntax-ns#langString"
	i18nPrefix = "https://www.w3.org/ns/i18n#"
)

// nodeMapQuads is the JSON-LD 1.1 "Deserialize JSON-LD to RDF"
// algorithm over a node map, as jsonld.js runs it (rdfDirection
// i18n-datatype, no generalized RDF). issuer labels list nodes.
func nodeMapQuads(nodeMap map[string]any, issuer *ld.IdentifierIssuer) ([]rdfQuad, error) {
	var quads []rdfQuad
	for name, g := range nodeMap {
		var graph rdfTerm
		if name != "@default" {
			if !absoluteIRI(name) {
				continue
			}
			graph = nodeTerm(name)
		}
		nodes, _ := g.(map[string]any)
		for id, n := range nodes {
			if !absoluteIRI(id) {
				continue
			}
			subject := nodeTerm(id)
			node, _ := n.(map[string]any)
			for property, vs := range node {
				values, _ := vs.([]any)
				switch {
				case property == "@type":
					for _, v := range values {
						if t, ok := v.(string); ok && absoluteIRI(t) {
							quads = append(quads, rdfQuad{s: subject, p: rdfTerm{kind: termIRI, value: rdfType}, o: nodeTerm(t), g: graph})
						}
					}
				case ld.IsKeyword(property), strings.HasPrefix(property, "_:"), !absoluteIRI(property):
					continue
				default:
					predicate := rdfTerm{kind: termIRI, value: property}
					for _, v := range values {
						var o rdfTerm
						var err error
						o, quads, err = objectTerm(v, issuer, graph, quads)
						if err != nil {
							return nil, err
						}
						if o.kind != termNone {
							quads = append(quads, rdfQuad{s: subject, p: predicate, o: o, g: graph})
						}
					}
				}
			}
		}
	}
	return quads, nil
}

// objectTerm converts a value object, list object or node reference to
// an RDF term (termNone for a relative IRI, which is dropped), appending
// the quads of a list to quads.
func objectTerm(v any, issuer *ld.IdentifierIssuer, graph rdfTerm, quads []rdfQuad) (rdfTerm, []rdfQuad, error) {
	m, ok := v.(map[string]any)
	if !ok {
		return rdfTerm{}, quads, fmt.Errorf("%w: unexpected %T in the node map", ErrInvalid, v)
	}
	if value, ok := m["@value"]; ok {
		t, err := literalTerm(m, value)
		return t, quads, err
	}
	if list, ok := m["@list"]; ok {
		items, _ := list.([]any)
		if len(items) == 0 {
			return rdfTerm{kind: termIRI, value: rdfNil}, quads, nil
		}
		head := rdfTerm{kind: termBlank, value: issuer.GetId("")}
		subject := head
		for i, item := range items {
			o, q, err := objectTerm(item, issuer, graph, quads)
			if err != nil {
				return rdfTerm{}, nil, err
			}
			quads = q
			if o.kind != termNone {
				quads = append(quads, rdfQuad{s: subject, p: rdfTerm{kind: termIRI, value: rdfFirst}, o: o, g: graph})
			}
			next := rdfTerm{kind: termIRI, value: rdfNil}
			if i < len(items)-1 {
				next = rdfTerm{kind: termBlank, value: issuer.GetId("")}
			}
			quads = append(quads, rdfQuad{s: subject, p: rdfTerm{kind: termIRI, value: rdfRest}, o: next, g: graph})
			subject = next
		}
		return head, quads, nil
	}
	id, _ := m["@id"].(string)
	if !absoluteIRI(id) {
		return rdfTerm{}, quads, nil
	}
	return nodeTerm(id), quads, nil
}

// literalTerm converts a value object as jsonld.js does.
func literalTerm(m map[string]any, value any) (rdfTerm, error) {
	datatype, _ := m["@type"].(string)
	t := rdfTerm{kind: termLiteral}
	switch v := value.(type) {
	case bool:
		t.value = strconv.FormatBool(v)
		t.datatype = cmp.Or(datatype, xsdBoolean)
	case float64:
		if isDouble(v) || datatype == xsdDouble {
			t.value = ld.GetCanonicalDouble(v)
			t.datatype = cmp.Or(datatype, xsdDouble)
		} else {
			// Number.prototype.toFixed(0): -0 is "0", -1e-7 is "-0".
			t.value = strconv.FormatFloat(v, 'f', 0, 64)
			if v == 0 {
				t.value = "0"
			}
			t.datatype = cmp.Or(datatype, xsdInteger)
		}
	case string:
		t.value = v
		switch {
		case datatype == xsdDouble:
			f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
			if err != nil {
				return rdfTerm{}, fmt.Errorf("%w: %q is not an xsd:double", ErrInvalid, v)
			}
			t.value = ld.GetCanonicalDouble(f)
			t.datatype = datatype
		case m["@direction"] != nil:
			lang, _ := m["@language"].(string)
			dir, _ := m["@direction"].(string)
			t.datatype = i18nPrefix + strings.ToLower(lang) + "_" + dir
		case m["@language"] != nil:
			lang, _ := m["@language"].(string)
			t.language = strings.ToLower(lang)
			t.datatype = langString
		default:
			t.datatype = cmp.Or(datatype, xsdString)
		}
	default:
		return rdfTerm{}, fmt.Errorf("%w: unsupported @value %T", ErrInvalid, value)
	}
	return t, nil
}

// isDouble is jsonld.js's test: a JavaScript number whose string form has
// a decimal point, or too large for an integer literal.
func isDouble(v float64) bool {
	if math.IsInf(v, 0) || math.IsNaN(v) || math.Abs(v) >= 1e21 {
		return true
	}
	if v == math.Trunc(v) {
		return false
	}
	if a := math.Abs(v); a >= 1e-6 {
		return true
	}
	// JavaScript writes these in exponent form: "1e-7" has no point.
	return strings.Contains(strconv.FormatFloat(v, 'e', -1, 64), ".")
}

// classify maps a json-gold error to this package's errors.
func classify(err error) error {
	if errors.Is(err, ErrUnknownContext) || errors.Is(err, ErrInvalid) || errors.Is(err, ErrUndefinedTerm) {
		return err
	}
	var je *ld.JsonLdError
	if errors.As(err, &je) {
		if inner, ok := je.Details.(error); ok && errors.Is(inner, ErrUnknownContext) {
			return inner
		}
		msg := string(je.Code)
		if je.Details != nil {
			msg += ": " + fmt.Sprint(je.Details)
		}
		if je.Code == ld.InvalidProperty || strings.Contains(msg, "dropping") || strings.Contains(msg, "undefined") {
			return fmt.Errorf("%w: %s", ErrUndefinedTerm, msg)
		}
		return fmt.Errorf("%w: %s", ErrInvalid, msg)
	}
	return fmt.Errorf("%w: %v", ErrInvalid, err)
}

// maxDepth bounds the nesting of a document.
const maxDepth = 64

// plainJSON returns v as encoding/json decodes JSON (map[string]any,
// []any, string, float64, bool, nil), converting the Go integer and
// json.Number values that callers building documents in code use; it
// copies only the containers it changes. Other types, integers that a
// float64 cannot hold exactly and non-finite numbers are refused.
func plainJSON(v any, depth int) (any, bool, error) {
	if depth > maxDepth {
		return nil, false, fmt.Errorf("%w: nested deeper than %d levels", ErrInvalid, maxDepth)
	}
	exact := func(f float64, ok bool) (any, bool, error) {
		if !ok || math.IsInf(f, 0) || math.IsNaN(f) {
			return nil, false, fmt.Errorf("%w: number %v cannot be represented in JSON-LD exactly", ErrInvalid, v)
		}
		return f, true, nil
	}
	switch x := v.(type) {
	case nil, string, bool:
		return v, false, nil
	case float64:
		if math.IsInf(x, 0) || math.IsNaN(x) {
			return nil, false, fmt.Errorf("%w: non-finite number", ErrInvalid)
		}
		return v, false, nil
	case int:
		return exact(float64(x), int(float64(x)) == x && x > -1<<53 && x < 1<<53)
	case int64:
		return exact(float64(x), x > -1<<53 && x < 1<<53)
	case int32:
		return float64(x), true, nil
	case uint32:
		return float64(x), true, nil
	case uint64:
		return exact(float64(x), x < 1<<53)
	case float32:
		return exact(float64(x), true)
	case json.Number:
		f, err := x.Float64()
		return exact(f, err == nil)
	case map[string]any:
		var out map[string]any
		for k, e := range x {
			ne, changed, err := plainJSON(e, depth+1)
			if err != nil {
				return nil, false, err
			}
			if changed {
				if out == nil {
					out = make(map[string]any, len(x))
					for k2, e2 := range x {
						out[k2] = e2
					}
				}
				out[k] = ne
			}
		}
		if out == nil {
			return v, false, nil
		}
		return out, true, nil
	case []any:
		var out []any
		for i, e := range x {
			ne, changed, err := plainJSON(e, depth+1)
			if err != nil {
				return nil, false, err
			}
			if changed {
				if out == nil {
					out = append([]any(nil), x...)
				}
				out[i] = ne
			}
		}
		if out == nil {
			return v, false, nil
		}
		return out, true, nil
	case []string:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = e
		}
		return out, true, nil
	case []map[string]any:
		out := make([]any, len(x))
		for i, e := range x {
			ne, _, err := plainJSON(e, depth+1)
			if err != nil {
				return nil, false, err
			}
			out[i] = ne
		}
		return out, true, nil
	}
	return nil, false, fmt.Errorf("%w: value of Go type %T is not JSON", ErrInvalid, v)
}
