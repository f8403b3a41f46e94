package idrepo

import (
	"bytes"
	_ "embed"
	"encoding/base64"
	"errors"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/santhosh-tekuri/jsonschema/v6/kind"
)

//go:embed schema/identity.schema.json
var defaultSchemaJSON []byte

// DefaultPhotoMaxBytes is the default limit on a photo's decoded size.
const DefaultPhotoMaxBytes = 100 << 10

// uinField is the name under which the stored record carries the UIN. It is
// not part of a submitted identity.
const uinField = "UIN"

// FieldError is one reason an identity is invalid. It never repeats the
// rejected value, so it is safe to log.
type FieldError struct {
	// Field is a JSON pointer into the submitted identity ("/fullName/0/language");
	// "" for the identity as a whole.
	Field string `json:"field"`
	// Rule is the failed JSON Schema keyword ("required", "pattern",
	// "maxLength", ...) or one of Sanad's checks ("maxBytes", "magic",
	// "base64", "uniqueLanguage", "readOnly", "unique", "e164", "json").
	Rule    string `json:"rule"`
	Message string `json:"message"`
}

// SchemaOptions tunes a Schema.
type SchemaOptions struct {
	// PhotoMaxBytes limits the decoded size of "photo"; zero means
	// DefaultPhotoMaxBytes.
	PhotoMaxBytes int
}

// Schema validates identities: a compiled JSON Schema (draft 2020-12) and
// the checks a schema can't express (a photo's decoded size and magic
// bytes, one value per language in multi-language fields). It is safe for
// concurrent use.
type Schema struct {
	sch        *jsonschema.Schema
	doc        any // the schema document, for the descriptions of fields
	photoMax   int
	properties []string // top-level property names, if the schema lists them
}

// DefaultSchema returns the built-in identity schema
// (idrepo/schema/identity.schema.json) with default options.
func DefaultSchema() *Schema {
	s, err := NewSchema(defaultSchemaJSON, SchemaOptions{})
	if err != nil {
		panic("idrepo: built-in identity schema: " + err.Error())
	}
	return s
}

// LoadSchemaFile compiles the JSON Schema in the file at path, an operator's
// replacement for the built-in one. References to other files are not
// followed.
func LoadSchemaFile(path string, opts SchemaOptions) (*Schema, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("idrepo: identity schema: %w", err)
	}
	s, err := NewSchema(b, opts)
	if err != nil {
		return nil, fmt.Errorf("%w (file %s)", err, path)
	}
	return s, nil
}

// NewSchema compiles a JSON Schema document. Documents without "$schema" are
// read as draft 2020-12. Formats are asserted, and the format "sanad-date"
// (a calendar date written YYYY/MM/DD, as MOSIP does) is available.
func NewSchema(doc []byte, opts SchemaOptions) (*Schema, error) {
	if opts.PhotoMaxBytes < 0 {
		return nil, fmt.Errorf("idrepo: identity schema: photo size limit must not be negative, got %d", opts.PhotoMaxBytes)
	}
	if opts.PhotoMaxBytes == 0 {
		opts.PhotoMaxBytes = DefaultPhotoMaxBytes
	}
	v, err := jsonschema.UnmarshalJSON(bytes.NewReader(doc))
	if err != nil {
		return nil, fmt.Errorf("idrepo: identity schema: %w", err)
	}
	const loc = "sanad:identity.schema.json"
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft2020)
	c.AssertFormat()
	c.UseLoader(noLoader{})
	c.RegisterFormat(&jsonschema.Format{Name: "sanad-date", Validate: validateSlashDate})
	if err := c.AddResource(loc, v); err != nil {
		return nil, fmt.Errorf("idrepo: identity schema: %w", err)
	}
	sch, err := c.Compile(loc)
	if err != nil {
		return nil, fmt.Errorf("idrepo: identity schema: %w", err)
	}
	s := &Schema{sch: sch, doc: v, photoMax: opts.PhotoMaxBytes}
	if m, ok := v.(map[string]any); ok {
		if props, ok := m["properties"].(map[string]any); ok {
			for k := range props {
				s.properties = append(s.properties, k)
			}
			slices.Sort(s.properties)
		}
	}
	return s, nil
}

// noLoader refuses to fetch referenced schemas: an identity schema is one
// self-contained document.
type noLoader struct{}

func (noLoader) Load(url string) (any, error) {
	return nil, fmt.Errorf("schema references to other documents are not supported (%s)", url)
}

// validateSlashDate checks the "sanad-date" format: YYYY/MM/DD, a real
// calendar date.
func validateSlashDate(v any) error {
	s, ok := v.(string)
	if !ok {
		return nil // format applies to strings only
	}
	if len(s) != 10 || s[4] != '/' || s[7] != '/' {
		return errors.New("want YYYY/MM/DD")
	}
	if _, err := time.Parse("2006/01/02", s); err != nil {
		return errors.New("not a calendar date")
	}
	return nil
}

// Properties returns the top-level property names the schema declares, in
// order, or nil if it declares none.
func (s *Schema) Properties() []string { return slices.Clone(s.properties) }

// Validate checks an identity (as decoded by encoding/json, numbers as
// float64 or json.Number) and returns every problem found, or nil.
func (s *Schema) Validate(identity map[string]any) []FieldError {
	var errs []FieldError
	if _, ok := identity[uinField]; ok {
		errs = append(errs, FieldError{Field: "/" + uinField, Rule: "readOnly",
			Message: "the UIN is assigned by the repository and can't be set or changed"})
		identity = withoutUIN(identity)
	}
	if err := s.sch.Validate(identity); err != nil {
		var ve *jsonschema.ValidationError
		if !errors.As(err, &ve) {
			return append(errs, FieldError{Rule: "schema", Message: "could not be validated"})
		}
		errs = s.appendSchemaErrors(errs, ve)
	}
	errs = append(errs, s.checkPhoto(identity)...)
	errs = append(errs, checkLanguages(identity)...)
	return dedupeFieldErrors(errs)
}

func withoutUIN(identity map[string]any) map[string]any {
	out := make(map[string]any, len(identity))
	for k, v := range identity {
		if k != uinField {
			out[k] = v
		}
	}
	return out
}

// appendSchemaErrors flattens a validation error tree into its leaves.
func (s *Schema) appendSchemaErrors(errs []FieldError, ve *jsonschema.ValidationError) []FieldError {
	if len(ve.Causes) > 0 {
		for _, c := range ve.Causes {
			errs = s.appendSchemaErrors(errs, c)
		}
		return errs
	}
	ptr := pointer(ve.InstanceLocation)
	switch k := ve.ErrorKind.(type) {
	case *kind.Required:
		for _, p := range k.Missing {
			errs = append(errs, FieldError{Field: ptr + "/" + escapePointer(p), Rule: "required", Message: "is required"})
		}
		return errs
	case *kind.AdditionalProperties:
		for _, p := range k.Properties {
			errs = append(errs, FieldError{Field: ptr + "/" + escapePointer(p), Rule: "additionalProperties",
				Message: "is not a field of the identity schema"})
		}
		return errs
	}
	rule := "schema"
	if kp := ve.ErrorKind.KeywordPath(); len(kp) > 0 {
		rule = kp[0]
	}
	msg := schemaMessage(ve.ErrorKind)
	if _, ok := ve.ErrorKind.(*kind.Pattern); ok {
		// A regular expression alone is a poor explanation.
		if d := s.description(ve.SchemaURL); d != "" {
			msg += ": " + strings.TrimSuffix(d, ".")
		}
	}
	return append(errs, FieldError{Field: ptr, Rule: rule, Message: msg})
}

// description returns the "description" of the schema at schemaURL
// ("...#/properties/phone"), or "".
func (s *Schema) description(schemaURL string) string {
	_, frag, ok := strings.Cut(schemaURL, "#")
	if !ok || frag == "" {
		return ""
	}
	toks := strings.Split(strings.TrimPrefix(frag, "/"), "/")
	cur := s.doc
	for _, tok := range toks {
		tok = strings.NewReplacer("~1", "/", "~0", "~").Replace(tok)
		switch c := cur.(type) {
		case map[string]any:
			cur = c[tok]
		case []any:
			i, err := strconv.Atoi(tok)
			if err != nil || i < 0 || i >= len(c) {
				return ""
			}
			cur = c[i]
		default:
			return ""
		}
	}
	m, _ := cur.(map[string]any)
	d, _ := m["description"].(string)
	return d
}

// schemaMessage says what a value must be, without repeating it (it may be
// personal data).
func schemaMessage(k jsonschema.ErrorKind) string {
	switch k := k.(type) {
	case *kind.Type:
		return fmt.Sprintf("must be of type %s, not %s", strings.Join(k.Want, " or "), k.Got)
	case *kind.Enum:
		var want []string
		for _, w := range k.Want {
			want = append(want, fmt.Sprint(w))
		}
		return "must be one of: " + strings.Join(want, ", ")
	case *kind.Const:
		return fmt.Sprintf("must be %v", k.Want)
	case *kind.Pattern:
		return "must match the pattern " + k.Want
	case *kind.Format:
		if k.Want == "sanad-date" {
			return "must be a calendar date written YYYY/MM/DD"
		}
		if k.Want == "email" {
			return "must be a valid e-mail address"
		}
		return "must be a valid " + k.Want
	case *kind.MinLength:
		if k.Want == 1 {
			return "must not be empty"
		}
		return fmt.Sprintf("must be at least %d characters long", k.Want)
	case *kind.MaxLength:
		return fmt.Sprintf("must be at most %d characters long", k.Want)
	case *kind.MinItems:
		return fmt.Sprintf("must have at least %d items", k.Want)
	case *kind.MaxItems:
		return fmt.Sprintf("must have at most %d items", k.Want)
	case *kind.MinProperties:
		return fmt.Sprintf("must have at least %d fields", k.Want)
	case *kind.MaxProperties:
		return fmt.Sprintf("must have at most %d fields", k.Want)
	case *kind.UniqueItems:
		return "must not repeat an item"
	case *kind.Minimum:
		return fmt.Sprintf("must be at least %v", k.Want)
	case *kind.Maximum:
		return fmt.Sprintf("must be at most %v", k.Want)
	case *kind.ExclusiveMinimum:
		return fmt.Sprintf("must be more than %v", k.Want)
	case *kind.ExclusiveMaximum:
		return fmt.Sprintf("must be less than %v", k.Want)
	case *kind.MultipleOf:
		return fmt.Sprintf("must be a multiple of %v", k.Want)
	case *kind.FalseSchema:
		return "is not allowed"
	case *kind.DependentRequired:
		return fmt.Sprintf("requires %s as well", strings.Join(k.Missing, ", "))
	}
	if kp := k.KeywordPath(); len(kp) > 0 {
		return "does not satisfy " + strings.Join(kp, "/")
	}
	return "is invalid"
}

func pointer(loc []string) string {
	var b strings.Builder
	for _, p := range loc {
		b.WriteByte('/')
		b.WriteString(escapePointer(p))
	}
	return b.String()
}

// escapePointer escapes a JSON pointer reference token (RFC 6901).
func escapePointer(s string) string {
	if !strings.ContainsAny(s, "~/") {
		return s
	}
	return strings.NewReplacer("~", "~0", "/", "~1").Replace(s)
}

func dedupeFieldErrors(errs []FieldError) []FieldError {
	if len(errs) == 0 {
		return nil
	}
	seen := make(map[FieldError]bool, len(errs))
	out := errs[:0]
	for _, e := range errs {
		if !seen[e] {
			seen[e] = true
			out = append(out, e)
		}
	}
	slices.SortStableFunc(out, func(a, b FieldError) int { return strings.Compare(a.Field, b.Field) })
	return out
}

// Photo formats and their magic bytes.
var photoMagic = map[string]func([]byte) bool{
	"jpeg": func(b []byte) bool { return len(b) >= 3 && b[0] == 0xFF && b[1] == 0xD8 && b[2] == 0xFF },
	"webp": func(b []byte) bool {
		return len(b) >= 12 && string(b[0:4]) == "RIFF" && string(b[8:12]) == "WEBP"
	},
}

// checkPhoto decodes "photo" ({"format", "data"}) and checks its size and
// that its first bytes are those of its format. A photo of another shape was
// already reported by the schema.
func (s *Schema) checkPhoto(identity map[string]any) []FieldError {
	photo, ok := identity["photo"].(map[string]any)
	if !ok {
		return nil
	}
	format, _ := photo["format"].(string)
	data, ok := photo["data"].(string)
	if !ok {
		return nil
	}
	// Reject an oversized string before decoding it.
	if base64.StdEncoding.DecodedLen(len(data)) > s.photoMax+2 {
		return []FieldError{{Field: "/photo/data", Rule: "maxBytes",
			Message: fmt.Sprintf("the photo must be at most %d bytes once decoded", s.photoMax)}}
	}
	raw, err := base64.StdEncoding.DecodeString(data)
	if err != nil {
		return []FieldError{{Field: "/photo/data", Rule: "base64", Message: "must be standard base64 (RFC 4648 §4, padded)"}}
	}
	if len(raw) > s.photoMax {
		return []FieldError{{Field: "/photo/data", Rule: "maxBytes",
			Message: fmt.Sprintf("the photo must be at most %d bytes once decoded", s.photoMax)}}
	}
	if magic, ok := photoMagic[format]; ok && !magic(raw) {
		return []FieldError{{Field: "/photo/data", Rule: "magic",
			Message: "the data is not a " + strings.ToUpper(format) + " image (its first bytes don't match)"}}
	}
	return nil
}

// checkLanguages reports a language given twice in a multi-language field
// (an array of {"language", "value"}), which JSON Schema can't express.
func checkLanguages(identity map[string]any) []FieldError {
	var errs []FieldError
	for _, field := range sortedKeys(identity) {
		items, ok := identity[field].([]any)
		if !ok {
			continue
		}
		seen := map[string]bool{}
		for i, it := range items {
			obj, ok := it.(map[string]any)
			if !ok {
				continue
			}
			lang, ok := obj["language"].(string)
			if !ok {
				continue
			}
			if seen[lang] {
				msg := "this language is given more than once"
				if languageCode(lang) {
					msg = "language " + lang + " is given more than once"
				}
				errs = append(errs, FieldError{Field: "/" + escapePointer(field) + "/" + strconv.Itoa(i) + "/language",
					Rule: "uniqueLanguage", Message: msg})
			}
			seen[lang] = true
		}
	}
	return errs
}

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// languageCode reports whether s has the shape of an ISO 639-3 code.
func languageCode(s string) bool {
	if len(s) != 3 {
		return false
	}
	for i := range 3 {
		if s[i] < 'a' || s[i] > 'z' {
			return false
		}
	}
	return true
}
