package idrepo

import (
	"bytes"
	"encoding/base64"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func jpegBytes(n int) []byte {
	b := make([]byte, n)
	copy(b, []byte{0xFF, 0xD8, 0xFF, 0xE0})
	return b
}

func webpBytes(n int) []byte {
	b := make([]byte, n)
	copy(b, "RIFF\x00\x00\x00\x00WEBPVP8 ")
	return b
}

func TestSchemaValidate(t *testing.T) {
	s := DefaultSchema()
	with := func(mod func(m map[string]any)) map[string]any {
		m := amina()
		m["phone"] = "+447700900555"
		m["email"] = "amina@example.org"
		mod(m)
		return m
	}
	tests := []struct {
		name     string
		identity map[string]any
		want     []FieldError // Field and Rule; Message only checked for being non-empty
	}{
		{"valid", with(func(map[string]any) {}), nil},
		{"valid with photo", with(func(m map[string]any) {
			m["photo"] = map[string]any{"format": "jpeg", "data": base64.StdEncoding.EncodeToString(jpegBytes(1000))}
		}), nil},
		{"valid webp photo", with(func(m map[string]any) {
			m["photo"] = map[string]any{"format": "webp", "data": base64.StdEncoding.EncodeToString(webpBytes(1000))}
		}), nil},
		{"missing required", with(func(m map[string]any) { delete(m, "fullName"); delete(m, "dateOfBirth") }),
			[]FieldError{{Field: "/dateOfBirth", Rule: "required"}, {Field: "/fullName", Rule: "required"}}},
		{"unknown field", with(func(m map[string]any) { m["favouriteColour"] = "blue" }),
			[]FieldError{{Field: "/favouriteColour", Rule: "additionalProperties"}}},
		{"phone pattern", with(func(m map[string]any) { m["phone"] = "0123" }),
			[]FieldError{{Field: "/phone", Rule: "pattern"}}},
		{"email format", with(func(m map[string]any) { m["email"] = "not-an-address" }),
			[]FieldError{{Field: "/email", Rule: "format"}}},
		{"date format", with(func(m map[string]any) { m["dateOfBirth"] = "1990-05-14" }),
			[]FieldError{{Field: "/dateOfBirth", Rule: "format"}}},
		{"date not in calendar", with(func(m map[string]any) { m["dateOfBirth"] = "1990/02/30" }),
			[]FieldError{{Field: "/dateOfBirth", Rule: "format"}}},
		{"language code", with(func(m map[string]any) {
			m["fullName"] = []any{map[string]any{"language": "english", "value": "A"}}
		}), []FieldError{{Field: "/fullName/0/language", Rule: "pattern"}}},
		{"value too long", with(func(m map[string]any) {
			m["fullName"] = []any{map[string]any{"language": "eng", "value": strings.Repeat("a", 257)}}
		}), []FieldError{{Field: "/fullName/0/value", Rule: "maxLength"}}},
		{"empty multi-language", with(func(m map[string]any) { m["fullName"] = []any{} }),
			[]FieldError{{Field: "/fullName", Rule: "minItems"}}},
		{"language twice", with(func(m map[string]any) {
			m["city"] = []any{
				map[string]any{"language": "eng", "value": "A"},
				map[string]any{"language": "eng", "value": "B"},
			}
		}), []FieldError{{Field: "/city/1/language", Rule: "uniqueLanguage"}}},
		{"wrong type", with(func(m map[string]any) { m["fullName"] = "Amina" }),
			[]FieldError{{Field: "/fullName", Rule: "type"}}},
		{"UIN given", with(func(m map[string]any) { m["UIN"] = "9169748726" }),
			[]FieldError{{Field: "/UIN", Rule: "readOnly"}}},
		{"photo format", with(func(m map[string]any) {
			m["photo"] = map[string]any{"format": "png", "data": base64.StdEncoding.EncodeToString(jpegBytes(10))}
		}), []FieldError{{Field: "/photo/format", Rule: "enum"}}},
		{"photo magic", with(func(m map[string]any) {
			m["photo"] = map[string]any{"format": "jpeg", "data": base64.StdEncoding.EncodeToString(webpBytes(100))}
		}), []FieldError{{Field: "/photo/data", Rule: "magic"}}},
		{"photo webp magic", with(func(m map[string]any) {
			m["photo"] = map[string]any{"format": "webp", "data": base64.StdEncoding.EncodeToString(jpegBytes(100))}
		}), []FieldError{{Field: "/photo/data", Rule: "magic"}}},
		{"photo too large", with(func(m map[string]any) {
			m["photo"] = map[string]any{"format": "jpeg", "data": base64.StdEncoding.EncodeToString(jpegBytes(DefaultPhotoMaxBytes + 1))}
		}), []FieldError{{Field: "/photo/data", Rule: "maxBytes"}}},
		{"photo at the limit", with(func(m map[string]any) {
			m["photo"] = map[string]any{"format": "jpeg", "data": base64.StdEncoding.EncodeToString(jpegBytes(DefaultPhotoMaxBytes))}
		}), nil},
		{"photo not base64", with(func(m map[string]any) {
			m["photo"] = map[string]any{"format": "jpeg", "data": "@@@@not base64"}
		}), []FieldError{{Field: "/photo/data", Rule: "base64"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := s.Validate(tt.identity)
			var gotFR, wantFR []string
			for _, e := range got {
				gotFR = append(gotFR, e.Field+" "+e.Rule)
				if e.Message == "" {
					t.Errorf("Validate: %s %s has no message", e.Field, e.Rule)
				}
			}
			for _, e := range tt.want {
				wantFR = append(wantFR, e.Field+" "+e.Rule)
			}
			if !slices.Equal(gotFR, wantFR) {
				t.Errorf("Validate = %v, want %v", got, wantFR)
			}
		})
	}
}

// TestSchemaMessagesHoldNoValues checks that field errors never repeat the
// rejected values (they may be personal data, and errors are logged).
func TestSchemaMessagesHoldNoValues(t *testing.T) {
	secret := "Zanzibar-Secret-Value"
	m := map[string]any{
		"fullName":    []any{map[string]any{"language": secret, "value": strings.Repeat(secret, 20)}},
		"dateOfBirth": secret,
		"phone":       secret,
		"email":       secret,
		"postalCode":  secret,
		"gender":      secret,
		secret:        secret,
		"photo":       map[string]any{"format": secret, "data": secret},
	}
	errs := DefaultSchema().Validate(m)
	if len(errs) < 8 {
		t.Errorf("Validate found %d problems, want at least 8: %v", len(errs), errs)
	}
	for _, e := range errs {
		if strings.Contains(e.Message, "Zanzibar") {
			t.Errorf("message of %s %s repeats the value: %q", e.Field, e.Rule, e.Message)
		}
	}
}

func TestPhotoLimitOption(t *testing.T) {
	s, err := NewSchema(defaultSchemaJSON, SchemaOptions{PhotoMaxBytes: 500})
	if err != nil {
		t.Fatal(err)
	}
	m := amina()
	m["phone"], m["email"] = "+447700900555", "a@example.org"
	m["photo"] = map[string]any{"format": "jpeg", "data": base64.StdEncoding.EncodeToString(jpegBytes(501))}
	if got := s.Validate(m); len(got) != 1 || got[0].Rule != "maxBytes" {
		t.Errorf("Validate(501-byte photo, limit 500) = %v, want maxBytes", got)
	}
}

func TestLoadSchemaFile(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "good.json")
	os.WriteFile(good, []byte(`{"type":"object","required":["nationalName"],"properties":{"nationalName":{"type":"string","maxLength":5}}}`), 0o600)
	s, err := LoadSchemaFile(good, SchemaOptions{})
	if err != nil {
		t.Fatalf("LoadSchemaFile: %v", err)
	}
	if got := s.Validate(map[string]any{"nationalName": "toolong"}); len(got) != 1 || got[0].Rule != "maxLength" {
		t.Errorf("Validate = %v, want one maxLength", got)
	}
	if got := s.Properties(); !slices.Equal(got, []string{"nationalName"}) {
		t.Errorf("Properties() = %v, want [nationalName]", got)
	}
	for name, doc := range map[string]string{
		"syntax":     `{"type":`,
		"bad schema": `{"type": 12}`,
		"remote ref": `{"$ref": "https://example.org/other.json"}`,
	} {
		p := filepath.Join(dir, strings.ReplaceAll(name, " ", "_")+".json")
		os.WriteFile(p, []byte(doc), 0o600)
		if _, err := LoadSchemaFile(p, SchemaOptions{}); err == nil {
			t.Errorf("LoadSchemaFile(%s) = nil error, want one", name)
		}
	}
	if _, err := LoadSchemaFile(filepath.Join(dir, "missing.json"), SchemaOptions{}); err == nil {
		t.Error("LoadSchemaFile(missing) = nil error, want one")
	}
}

func TestDemoFixtureIsValid(t *testing.T) {
	s := DefaultSchema()
	repo := &Repository{schema: s}
	ds := DemoResidents()
	if len(ds) < 3 {
		t.Fatalf("DemoResidents() has %d residents, want at least 3", len(ds))
	}
	for _, d := range ds {
		if err := testUINRules.Check(d.UIN); err != nil {
			t.Errorf("demo UIN %s: %v", d.UIN, err)
		}
		if d.PIN == "" || d.Password == "" {
			t.Errorf("demo resident %s has no PIN or password", d.UIN)
		}
		if _, errs := repo.check(d.Identity); len(errs) > 0 {
			t.Errorf("demo resident %s: %v", d.UIN, errs)
		}
		names, _ := d.Identity["fullName"].([]any)
		if len(names) < 2 {
			t.Errorf("demo resident %s has names in %d languages, want at least 2", d.UIN, len(names))
		}
		for _, f := range []string{"phone", "email", "dateOfBirth"} {
			if _, ok := d.Identity[f]; !ok {
				t.Errorf("demo resident %s has no %s", d.UIN, f)
			}
		}
		var buf bytes.Buffer
		buf.WriteString(d.String())
		if strings.Contains(buf.String(), d.PIN) || strings.Contains(buf.String(), d.UIN) {
			t.Errorf("DemoResident.String() = %q reveals the PIN or UIN", buf.String())
		}
	}
}
