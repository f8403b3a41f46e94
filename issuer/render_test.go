package issuer

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"github.com/sanad-id/sanad/idrepo/identity"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/sanad-id/sanad/templates"
)

var renderUpdate = flag.Bool("update-render", false, "rewrite the golden files of render_test.go")

// rnNow is the time of issuance in these tests.
var rnNow = time.Date(2026, 3, 1, 10, 0, 0, 123, time.UTC)

// rnIdentity is identity data as the ID repository returns it (decoded with
// UseNumber).
func rnIdentity(t testing.TB) map[string]any {
	t.Helper()
	return rnDecode(t, `{
		"UIN": "9169748726",
		"fullName": [
			{"language": "eng", "value": "Amina Diallo"},
			{"language": "fra", "value": "Amina Diallo"},
			{"language": "ara", "value": "أمينة ديالو"}
		],
		"gender": [
			{"language": "fra", "value": "Femme"},
			{"language": "eng", "value": "Female"}
		],
		"city": [{"language": "ara", "value": "داكار"}],
		"dateOfBirth": "1990/05/14",
		"postalCode": "10200",
		"height": 172.5,
		"children": 2,
		"verified": true,
		"nothing": null,
		"address": {"city": "Dakar", "lines": ["12 Baobab Street", "Plateau"]},
		"photo": {"format": "jpeg", "data": "/9j/4AAQSkZJRg=="}
	}`)
}

func rnDecode(t testing.TB, s string) map[string]any {
	t.Helper()
	d := json.NewDecoder(strings.NewReader(s))
	d.UseNumber()
	var m map[string]any
	if err := d.Decode(&m); err != nil {
		t.Fatalf("decode %s: %v", s, err)
	}
	return m
}

func rnJSON(t testing.TB, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatalf("marshal %v: %v", v, err)
	}
	return string(b)
}

func TestParseTemplateString(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want string // canonical form
		err  string // substring of the error
	}{
		{name: "plain", in: "National ID", want: "National ID"},
		{name: "braces alone", in: "a } b }} c {", want: "a } b }} c {"},
		{name: "path", in: "{{fullName}}", want: "{{ fullName }}"},
		{name: "nested path", in: "{{ address.city }}", want: "{{ address.city }}"},
		{name: "filters", in: `{{ fullName | lang "eng" 'fra' | default "?" }}`, want: `{{ fullName | lang "eng" "fra" | default "?" }}`},
		{name: "now", in: "{{ now | date }}", want: "{{ now | date }}"},
		{name: "uin", in: "{{ uin }}", want: "{{ uin }}"},
		{name: "literal braces", in: `{{ "{{" }}`, want: `{{ "{{" }}`},
		{name: "string with }}", in: `{{ x | default "}}" }}`, want: `{{ x | default "}}" }}`},
		{name: "number and bool", in: "{{ x | default 1.5e3 }}{{ true }}", want: "{{ x | default 1.5e3 }}{{ true }}"},
		{name: "interpolation", in: "Name: {{ fullName | lang \"eng\" }}, born {{ dateOfBirth | date }}.", want: "Name: {{ fullName | lang \"eng\" }}, born {{ dateOfBirth | date }}."},
		{name: "spaces around make text", in: " {{ x }}", want: " {{ x }}"},
		{name: "newlines inside", in: "{{\n x\n|\ndate\n}}", want: "{{ x | date }}"},
		{name: "json escapes", in: `{{ x | default "a\"\u00e9\n" }}`, want: `{{ x | default "a\"é\n" }}`},

		{name: "unterminated", in: "{{ fullName", err: `"{{" without "}}"`},
		{name: "empty", in: "{{ }}", err: "empty {{ }}"},
		{name: "unknown filter", in: "{{ fullName | lnag \"eng\" }}", err: `unknown filter "lnag"`},
		{name: "missing pipe", in: "{{ fullName lang }}", err: `unexpected "lang"`},
		{name: "lang without code", in: "{{ fullName | lang }}", err: "needs at least one argument"},
		{name: "lang two-letter", in: `{{ fullName | lang "en" }}`, err: "ISO 639-3"},
		{name: "lang number", in: `{{ fullName | lang 3 }}`, err: "ISO 639-3"},
		{name: "date with argument", in: `{{ x | date "iso" }}`, err: "takes 0 argument"},
		{name: "default twice", in: `{{ x | default "a" "b" }}`, err: "takes 1 argument"},
		{name: "unquoted argument", in: `{{ x | default eng }}`, err: "is not a literal"},
		{name: "bad path", in: "{{ address..city }}", err: "is not a field path"},
		{name: "path starting with digit", in: "{{ x.1y }}", err: "is not a field path"},
		{name: "unterminated string", in: `{{ x | default "abc }}`, err: "unterminated string"},
		{name: "bad escape", in: `{{ x | default "\q" }}`, err: "bad string"},
		{name: "bad number", in: "{{ x | default 1.2.3 }}", err: "bad number"},
		{name: "stray character", in: "{{ x | date ; }}", err: `";"`},
		{name: "pipe first", in: "{{ | date }}", err: `unexpected "|"`},
		{name: "filter name missing", in: "{{ x | }}", err: "a filter name must follow |"},
		{name: "second expression unterminated", in: "{{ x }} and {{ y", err: `"{{" without "}}"`},
		{name: "too many filters", in: "{{ x" + strings.Repeat(" | date", templateMaxFilters+1) + " }}", err: "more than 16 filters"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l, err := parseTemplateString(tt.in)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("parseTemplateString(%q) error = %v, want %q", tt.in, err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatalf("parseTemplateString(%q) = %v", tt.in, err)
			}
			if got := l.String(); got != tt.want {
				t.Errorf("parseTemplateString(%q).String() = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestRender(t *testing.T) {
	tests := []struct {
		name     string
		template string // JSON
		want     string // JSON
	}{
		{name: "literals stay", template: `{"type": "national-id", "n": 3, "ok": true, "list": [1, "a"], "none": null}`,
			want: `{"list":[1,"a"],"n":3,"none":null,"ok":true,"type":"national-id"}`},
		{name: "lang", template: `{"name": "{{ fullName | lang \"ara\" }}"}`, want: `{"name":"أمينة ديالو"}`},
		{name: "lang order of preference", template: `{"g": "{{ gender | lang \"deu\" \"eng\" \"fra\" }}"}`, want: `{"g":"Female"}`},
		{name: "lang missing language removes key", template: `{"c": "{{ city | lang \"eng\" }}", "k": "x"}`, want: `{"k":"x"}`},
		{name: "lang on a plain string", template: `{"p": "{{ postalCode | lang \"eng\" }}"}`, want: `{"p":"10200"}`},
		{name: "langs", template: `{"g": "{{ gender | langs }}"}`,
			want: `{"g":[{"language":"fra","value":"Femme"},{"language":"eng","value":"Female"}]}`},
		{name: "langmap", template: `{"g": "{{ gender | langmap }}"}`, want: `{"g":{"eng":"Female","fra":"Femme"}}`},
		{name: "langs of a string is missing", template: `{"p": "{{ postalCode | langs }}"}`, want: `{}`},
		{name: "date", template: `{"b": "{{ dateOfBirth | date }}"}`, want: `{"b":"1990-05-14"}`},
		{name: "date of now", template: `{"d": "{{ now | date }}", "t": "{{ now }}"}`, want: `{"d":"2026-03-01","t":"2026-03-01T10:00:00Z"}`},
		{name: "date of a bad value is missing", template: `{"b": "{{ postalCode | date }}"}`, want: `{}`},
		{name: "photo", template: `{"p": "{{ photo | photo }}"}`, want: `{"p":"data:image/jpeg;base64,/9j/4AAQSkZJRg=="}`},
		{name: "photo of a string is missing", template: `{"p": "{{ postalCode | photo }}"}`, want: `{}`},
		{name: "uin", template: `{"id": "{{ uin }}"}`, want: `{"id":"9169748726"}`},
		{name: "typed values", template: `{"h": "{{ height }}", "c": "{{ children }}", "v": "{{ verified }}"}`,
			want: `{"c":2,"h":172.5,"v":true}`},
		{name: "objects and lists are copied", template: `{"a": "{{ address }}", "l": "{{ address.lines }}"}`,
			want: `{"a":{"city":"Dakar","lines":["12 Baobab Street","Plateau"]},"l":["12 Baobab Street","Plateau"]}`},
		{name: "nested path", template: `{"c": "{{ address.city }}"}`, want: `{"c":"Dakar"}`},
		{name: "path through a non-object", template: `{"c": "{{ postalCode.x }}"}`, want: `{}`},
		{name: "null is missing", template: `{"n": "{{ nothing }}"}`, want: `{}`},
		{name: "absent field", template: `{"n": "{{ nickname }}", "k": 1}`, want: `{"k":1}`},
		{name: "default", template: `{"n": "{{ nickname | default \"none\" }}", "z": "{{ nickname | default 0 }}", "f": "{{ nickname | default false }}"}`,
			want: `{"f":false,"n":"none","z":0}`},
		{name: "default keeps a value", template: `{"p": "{{ postalCode | default \"none\" }}"}`, want: `{"p":"10200"}`},
		{name: "filters after default", template: `{"d": "{{ nickname | default \"2001/02/03\" | date }}"}`, want: `{"d":"2001-02-03"}`},
		{name: "interpolation", template: `{"s": "{{ fullName | lang \"eng\" }} ({{ postalCode }}), {{ children }} children, {{ height }} cm, {{ verified }}"}`,
			want: `{"s":"Amina Diallo (10200), 2 children, 172.5 cm, true"}`},
		{name: "interpolation with a missing part is missing", template: `{"s": "{{ city | lang \"eng\" }}, {{ postalCode }}"}`, want: `{}`},
		{name: "literal braces", template: `{"s": "{{ \"{{\" }} not a placeholder }}"}`, want: `{"s":"{{ not a placeholder }}"}`},
		{name: "emptied object is removed", template: `{"address": {"locality": "{{ city | lang \"eng\" }}", "region": "{{ region | lang \"eng\" }}"}, "k": 1}`,
			want: `{"k":1}`},
		{name: "partly emptied object stays", template: `{"address": {"locality": "{{ city | lang \"ara\" }}", "region": "{{ region | lang \"eng\" }}"}}`,
			want: `{"address":{"locality":"داكار"}}`},
		{name: "empty template object stays", template: `{"e": {}, "l": []}`, want: `{"e":{},"l":[]}`},
		{name: "list elements", template: `{"l": ["{{ nickname }}", "{{ postalCode }}", "x"], "m": ["{{ nickname }}"]}`,
			want: `{"l":["10200","x"]}`},
		{name: "everything missing", template: `{"a": "{{ nickname }}"}`, want: `{}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := &Configuration{ID: "test", Subject: rnDecode(t, tt.template)}
			got, err := c.Render(rnIdentity(t), RenderEnv{Now: rnNow})
			if err != nil {
				t.Fatalf("Render(%s) = %v", tt.template, err)
			}
			if g := rnJSON(t, got); g != tt.want {
				t.Errorf("Render(%s) = %s, want %s", tt.template, g, tt.want)
			}
		})
	}
}

// TestRenderInjection: values go into the credential as values, whatever
// they hold; they never become structure.
func TestRenderInjection(t *testing.T) {
	hostile := []string{
		`"},"admin":true,"x":{"`,
		`{{ uin }}`,
		`\"}, "admin": true`,
		"</script><script>alert(1)</script>",
		"\u2028\u0000\x7f",
		`{"$ne": null}`,
	}
	for _, s := range hostile {
		identity := map[string]any{
			"UIN":        "123",
			"fullName":   []any{map[string]any{"language": "eng", "value": s}},
			"postalCode": s,
		}
		c := &Configuration{ID: "test", Subject: map[string]any{
			"name":  `{{ fullName | lang "eng" }}`,
			"names": "{{ fullName | langmap }}",
			"text":  "Name: {{ fullName | lang \"eng\" }}!",
			"code":  "{{ postalCode }}",
		}}
		got, err := c.Render(identity, RenderEnv{Now: rnNow})
		if err != nil {
			t.Fatalf("Render(%q) = %v", s, err)
		}
		want := map[string]any{
			"name":  s,
			"names": map[string]any{"eng": s},
			"text":  "Name: " + s + "!",
			"code":  s,
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("Render(%q) = %#v, want %#v", s, got, want)
		}
		// And through JSON, as the credential carries it.
		var back map[string]any
		if err := json.Unmarshal([]byte(rnJSON(t, got)), &back); err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(back, want) {
			t.Errorf("Render(%q) through JSON = %#v, want %#v", s, back, want)
		}
	}
}

func TestRenderMandatory(t *testing.T) {
	c := &Configuration{
		ID: "test",
		Subject: map[string]any{
			"name":    `{{ fullName | lang "eng" }}`,
			"address": map[string]any{"locality": `{{ city | lang "eng" }}`},
			"code":    "{{ postalCode }}",
		},
		Claims: []Claim{
			{Path: []string{"name"}, Mandatory: true},
			{Path: []string{"address", "locality"}, Mandatory: true},
			{Path: []string{"code"}, Mandatory: true},
			{Path: []string{"gender"}}, // not mandatory: may be missing
		},
	}
	_, err := c.Render(rnIdentity(t), RenderEnv{Now: rnNow})
	if !errors.Is(err, ErrMissingMandatoryClaim) || !strings.Contains(err.Error(), "address.locality") || strings.Contains(err.Error(), "name,") {
		t.Fatalf("Render = %v, want ErrMissingMandatoryClaim naming address.locality only", err)
	}
	identity := rnIdentity(t)
	identity["city"] = []any{map[string]any{"language": "eng", "value": "Dakar"}}
	if _, err := c.Render(identity, RenderEnv{Now: rnNow}); err != nil {
		t.Fatalf("Render with every mandatory claim = %v, want nil", err)
	}
}

func TestRenderErrors(t *testing.T) {
	tests := []struct {
		name     string
		template map[string]any
		env      RenderEnv
		want     string
	}{
		{name: "list into text", template: map[string]any{"a": map[string]any{"s": "x {{ fullName }}"}}, env: RenderEnv{Now: rnNow},
			want: "subject.a.s: {{ fullName }} is a list or an object"},
		{name: "now without a time", template: map[string]any{"t": "{{ now }}"}, want: "subject.t: now used but RenderEnv.Now is not set"},
		{name: "bad expression", template: map[string]any{"l": []any{"{{ x | nope }}"}}, env: RenderEnv{Now: rnNow},
			want: `subject.l[0]: unknown filter "nope"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := &Configuration{ID: "test", Subject: tt.template}
			_, err := c.Render(rnIdentity(t), tt.env)
			if err == nil || !strings.Contains(err.Error(), tt.want) || errors.Is(err, ErrMissingMandatoryClaim) {
				t.Errorf("Render = %v, want an error with %q", err, tt.want)
			}
		})
	}
}

// TestRenderSharesNothing: the claims are a fresh tree; changing them
// changes neither the identity nor the template.
func TestRenderSharesNothing(t *testing.T) {
	identity := rnIdentity(t)
	before := rnJSON(t, identity)
	subject := map[string]any{"a": "{{ address }}", "g": "{{ gender }}", "lit": map[string]any{"k": []any{"v"}}}
	tmplBefore := rnJSON(t, subject)
	c := &Configuration{ID: "test", Subject: subject}
	got, err := c.Render(identity, RenderEnv{Now: rnNow})
	if err != nil {
		t.Fatal(err)
	}
	got["a"].(map[string]any)["city"] = "changed"
	got["a"].(map[string]any)["lines"].([]any)[0] = "changed"
	got["g"].([]any)[0].(map[string]any)["value"] = "changed"
	got["lit"].(map[string]any)["k"].([]any)[0] = "changed"
	if after := rnJSON(t, identity); after != before {
		t.Errorf("identity after changing the claims = %s, want %s", after, before)
	}
	if after := rnJSON(t, subject); after != tmplBefore {
		t.Errorf("template after changing the claims = %s, want %s", after, tmplBefore)
	}
}

func TestRenderDate(t *testing.T) {
	tests := map[string]string{
		"1990/05/14": "1990-05-14", "1990-05-14": "1990-05-14", "1990": "1990",
		"2026-03-01T10:00:00Z": "2026-03-01", "2026-03-01T23:30:00-05:00": "2026-03-01",
		"1990/02/30": "", "1990/05-14": "", "1990.05.14": "", "90/05/14": "", "199a": "", "": "", "1990/5/14": "",
	}
	for in, want := range tests {
		if got := renderDate(in); got != want {
			t.Errorf("renderDate(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestRenderPhoto(t *testing.T) {
	tests := []struct {
		in   any
		want string
	}{
		{map[string]any{"format": "jpeg", "data": "AAAA"}, "data:image/jpeg;base64,AAAA"},
		{map[string]any{"format": "JPG", "data": "AA=="}, "data:image/jpeg;base64,AA=="},
		{map[string]any{"format": "png", "data": "AAA="}, "data:image/png;base64,AAA="},
		{map[string]any{"format": "webp", "data": "AAAA"}, "data:image/webp;base64,AAAA"},
		{map[string]any{"format": "svg", "data": "AAAA"}, ""},
		{map[string]any{"format": "gif", "data": "AAAA"}, ""},
		{map[string]any{"format": "jpeg", "data": "AA AA"}, ""},
		{map[string]any{"format": "jpeg", "data": "AAA\n"}, ""},
		{map[string]any{"format": "jpeg", "data": "AAAAA"}, ""},
		{map[string]any{"format": "jpeg", "data": "A==="}, ""},
		{map[string]any{"format": "jpeg", "data": "AA-_"}, ""},
		{map[string]any{"format": "jpeg"}, ""},
		{map[string]any{"format": "jpeg", "data": ""}, ""},
		{"data:image/png;base64,AAAA", ""},
		{nil, ""},
	}
	for _, tt := range tests {
		if got := identity.PhotoDataURI(tt.in); got != tt.want {
			t.Errorf("PhotoDataURI(%v) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// TestRenderDemoTemplates renders the built-in templates for the demo
// residents (the first with a photo) and compares with golden files.
func TestRenderDemoTemplates(t *testing.T) {
	configs, err := LoadTemplates(templates.FS(), "https://id.example/issuer")
	if err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(filepath.Join("..", "idrepo", "demo", "residents.json"))
	if err != nil {
		t.Fatal(err)
	}
	var residents []struct {
		UIN      string         `json:"uin"`
		Identity map[string]any `json:"identity"`
	}
	d := json.NewDecoder(bytes.NewReader(raw))
	d.UseNumber()
	if err := d.Decode(&residents); err != nil {
		t.Fatal(err)
	}
	if len(residents) < 2 {
		t.Fatalf("%d demo residents, want at least 2", len(residents))
	}
	residents[0].Identity["photo"] = map[string]any{"format": "jpeg", "data": "/9j/4AAQSkZJRgABAQAAAQABAAD/2wBDAA=="}
	for _, c := range configs {
		t.Run(c.ID, func(t *testing.T) {
			out := map[string]any{}
			for _, r := range residents {
				identity := r.Identity
				identity["UIN"] = r.UIN
				claims, err := c.Render(identity, RenderEnv{Now: rnNow})
				if err != nil {
					t.Fatalf("Render(resident %s) = %v", r.UIN, err)
				}
				out[r.UIN] = claims
			}
			got, err := json.MarshalIndent(out, "", "  ")
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, '\n')
			path := filepath.Join("testdata", "render-"+c.ID+".golden.json")
			if *renderUpdate {
				if err := os.WriteFile(path, got, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run with -update-render to create it)", err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("rendered %s = %s, want %s (run with -update-render to accept)", c.ID, got, want)
			}
		})
	}
}

func BenchmarkRender(b *testing.B) {
	configs, err := LoadTemplates(templates.FS(), "https://id.example/issuer")
	if err != nil {
		b.Fatal(err)
	}
	identity := rnIdentity(b)
	for _, c := range configs {
		b.Run(c.ID, func(b *testing.B) {
			for b.Loop() {
				if _, err := c.Render(identity, RenderEnv{Now: rnNow}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// FuzzParseTemplateString: the parser never panics, and what it accepts
// it writes back in a canonical form that parses to the same thing.
func FuzzParseTemplateString(f *testing.F) {
	for _, s := range []string{
		"plain", "{{ fullName }}", `{{ fullName | lang "eng" 'fra' | default "x" }}`, "a {{ b }} c {{ d | date }}",
		`{{ "{{" }}`, "{{ x | default -1.5e3 }}", "{{ now | date }}", "{{ uin }}", "{{", "}}", "{{ x", `{{ x | default "\u00e9\"" }}`,
		"{{{ x }}}", "{{ x | lang }}", "{{ a.b.c | photo }}", "{{ true }}", "{{ 'it''s' }}", "\xff{{ x }}",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		l, err := parseTemplateString(s)
		if err != nil {
			return
		}
		canon := l.String()
		l2, err := parseTemplateString(canon)
		if err != nil {
			t.Fatalf("parseTemplateString(%q) = %v; it was the canonical form of %q", canon, err, s)
		}
		if !reflect.DeepEqual(l, l2) {
			t.Fatalf("parseTemplateString(%q) = %#v, want %#v (canonical form of %q)", canon, l2, l, s)
		}
	})
}

// FuzzRender: rendering never panics and always yields JSON; whatever a
// field holds comes out as exactly that value.
func FuzzRender(f *testing.F) {
	f.Add(`{{ fullName | lang "eng" }}`, `{"fullName":[{"language":"eng","value":"Amina"}]}`, `"},"admin":true,"x":{"`)
	f.Add("x {{ a.b }} y", `{"a":{"b":[1,2]}}`, "v")
	f.Add("{{ photo | photo }}", `{"photo":{"format":"png","data":"AAAA"}}`, "")
	f.Add("{{ d | date | default 3 }}", `{"d":"1990/02/29"}`, "{{ uin }}")
	f.Add("{{ g | langmap }}", `{"g":[{"language":"eng","value":"x"},{"language":"eng","value":"y"},{"language":"EN","value":"z"}]}`, "\x00")
	f.Add("{{ now }}", `null`, "\xff")
	f.Fuzz(func(t *testing.T, leaf, identityJSON, value string) {
		var identity map[string]any
		d := json.NewDecoder(strings.NewReader(identityJSON))
		d.UseNumber()
		_ = d.Decode(&identity)
		if identity == nil {
			identity = map[string]any{}
		}
		identity["fuzzValue"] = value
		c := &Configuration{ID: "fuzz", Subject: map[string]any{
			"leaf":   leaf,
			"value":  "{{ fuzzValue }}",
			"text":   "<{{ fuzzValue }}>",
			"nested": map[string]any{"v": []any{"{{ fuzzValue }}"}},
		}}
		got, err := c.Render(identity, RenderEnv{Now: rnNow})
		if err != nil {
			return
		}
		b, err := json.Marshal(got)
		if err != nil {
			t.Fatalf("Render result does not marshal: %v", err)
		}
		var back map[string]any
		if err := json.Unmarshal(b, &back); err != nil {
			t.Fatalf("Render result is not JSON: %v", err)
		}
		for k := range back {
			if k != "leaf" && k != "value" && k != "text" && k != "nested" {
				t.Fatalf("Render added key %q", k)
			}
		}
		if got["value"] != value || got["text"] != "<"+value+">" {
			t.Fatalf("Render value = %q, text = %q, want %q and <%q>", got["value"], got["text"], value, value)
		}
		if v := got["nested"].(map[string]any)["v"].([]any); len(v) != 1 || v[0] != value {
			t.Fatalf("Render nested = %v, want [%q]", v, value)
		}
	})
}
