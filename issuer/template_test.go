package issuer

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/sanad-id/sanad/templates"
)

const tplIssuer = "https://id.example/issuer"

// tplValid is a valid credential.yaml that tests change one line of.
const tplValid = `format: dc+sd-jwt
scope: test_scope
vct: test-vct
validity: 30d
signing_alg: ES256
proof_algs: [ES256]
binding_methods: [jwk]
display:
  - name: Test
    locale: en
    background_color: "#123456"
    text_color: "#fff"
    logo: {uri: "https://id.example/logo.png", alt_text: logo}
claims:
  - path: [name]
    mandatory: true
    disclosable: true
    display: [{name: Name, locale: en}, {name: Nom, locale: fr}]
  - path: [address, locality]
subject:
  name: '{{ fullName | lang "eng" }}'
  address:
    locality: '{{ city | lang "eng" }}'
`

// tplFS is a templates folder with one configuration per entry.
func tplFS(files map[string]string) fstest.MapFS {
	fsys := fstest.MapFS{}
	for dir, content := range files {
		fsys[dir+"/"+TemplateFile] = &fstest.MapFile{Data: []byte(content)}
	}
	return fsys
}

func TestLoadTemplatesBuiltIn(t *testing.T) {
	configs, err := LoadTemplates(templates.FS(), tplIssuer)
	if err != nil {
		t.Fatalf("LoadTemplates(built-in) = %v", err)
	}
	var ids []string
	for _, c := range configs {
		ids = append(ids, c.ID)
	}
	if want := []string{"national-id-jwt-vc", "national-id-ldp", "national-id-ldp-2020", "national-id-sd-jwt"}; !slices.Equal(ids, want) {
		t.Fatalf("LoadTemplates(built-in) ids = %v, want %v", ids, want)
	}
	jwt, sd := configs[0], configs[3]
	if jwt.Format != "jwt_vc_json" || jwt.Scope != "national_id_jwt_vc" ||
		!slices.Equal(jwt.Types, []string{"VerifiableCredential", "NationalIDCredential"}) ||
		!slices.Equal(jwt.Contexts, []string{"https://www.w3.org/2018/credentials/v1"}) {
		t.Errorf("national-id-jwt-vc = %+v", jwt)
	}
	if sd.Format != "dc+sd-jwt" || sd.VCT != tplIssuer+"/national-id" || sd.Scope != "national_id_sd_jwt" ||
		sd.SigningAlg != "ES256" || !slices.Equal(sd.ProofAlgs, []string{"ES256", "EdDSA"}) ||
		!slices.Equal(sd.BindingMethods, []string{"jwk", "did:key", "did:jwk"}) || sd.Validity != 365*24*time.Hour {
		t.Errorf("national-id-sd-jwt = %+v", sd)
	}
	for _, c := range configs {
		var locales []string
		for _, d := range c.Display {
			locales = append(locales, d.Locale)
		}
		if !slices.Equal(locales, []string{"en", "fr", "ar"}) {
			t.Errorf("%s display locales = %v, want [en fr ar]", c.ID, locales)
		}
		for _, cl := range c.Claims {
			if len(cl.Display) != 3 {
				t.Errorf("%s claim %v has %d display names, want 3", c.ID, cl.Path, len(cl.Display))
			}
			if c.Format == "dc+sd-jwt" && !cl.Disclosable {
				t.Errorf("%s claim %v is not disclosable", c.ID, cl.Path)
			}
		}
		if c.Dir != c.ID {
			t.Errorf("%s Dir = %q, want the folder name", c.ID, c.Dir)
		}
	}

	// The templates read only fields of the identity schema.
	raw, err := os.ReadFile(filepath.Join("..", "idrepo", "schema", "identity.schema.json"))
	if err != nil {
		t.Fatal(err)
	}
	var schema struct {
		Properties map[string]any `json:"properties"`
	}
	if err := json.Unmarshal(raw, &schema); err != nil {
		t.Fatal(err)
	}
	var fields []string
	for f := range schema.Properties {
		fields = append(fields, f)
	}
	if err := CheckIdentityFields(configs, fields); err != nil {
		t.Errorf("CheckIdentityFields(built-in, identity schema) = %v", err)
	}
}

// TestTemplatesEmbedded: every template folder on disk is built in.
func TestTemplatesEmbedded(t *testing.T) {
	entries, err := os.ReadDir(filepath.Join("..", "templates"))
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if !e.IsDir() {
			continue
		}
		if _, err := templates.FS().Open(e.Name() + "/" + TemplateFile); err != nil {
			t.Errorf("templates/%s is not embedded: %v", e.Name(), err)
		}
	}
}

func TestLoadTemplatesValid(t *testing.T) {
	configs, err := LoadTemplates(tplFS(map[string]string{"test": tplValid}), tplIssuer)
	if err != nil {
		t.Fatalf("LoadTemplates = %v", err)
	}
	c := configs[0]
	want := &Configuration{
		ID: "test", Format: "dc+sd-jwt", Scope: "test_scope", VCT: tplIssuer + "/test-vct",
		Validity: 30 * 24 * time.Hour, SigningAlg: "ES256", ProofAlgs: []string{"ES256"}, BindingMethods: []string{"jwk"},
		Display: []Display{{Name: "Test", Locale: "en", BackgroundColor: "#123456", TextColor: "#fff",
			Logo: &Image{URI: "https://id.example/logo.png", AltText: "logo"}}},
		Claims: []Claim{
			{Path: []string{"name"}, Mandatory: true, Disclosable: true,
				Display: []ClaimDisplay{{Name: "Name", Locale: "en"}, {Name: "Nom", Locale: "fr"}}},
			{Path: []string{"address", "locality"}},
		},
		Subject: map[string]any{
			"name":    `{{ fullName | lang "eng" }}`,
			"address": map[string]any{"locality": `{{ city | lang "eng" }}`},
		},
		Dir: "test",
	}
	if !reflect.DeepEqual(c, want) {
		t.Errorf("LoadTemplates = %+v, want %+v", c, want)
	}
	if got := c.IdentityFields(); !slices.Equal(got, []string{"city", "fullName"}) {
		t.Errorf("IdentityFields = %v, want [city fullName]", got)
	}
}

// tplEdit returns tplValid with old replaced by new (which must be there).
func tplEdit(t *testing.T, old, new string) string {
	t.Helper()
	if !strings.Contains(tplValid, old) {
		t.Fatalf("tplValid has no %q", old)
	}
	return strings.Replace(tplValid, old, new, 1)
}

func TestLoadTemplatesErrors(t *testing.T) {
	tests := []struct {
		name  string
		files func(t *testing.T) map[string]string
		want  []string // substrings of the error
	}{
		{name: "unknown field", files: func(t *testing.T) map[string]string {
			return map[string]string{"t": tplEdit(t, "validity: 30d", "validity: 30d\nvalidty: 1d")}
		}, want: []string{"t/credential.yaml:5: validty: unknown field"}},
		{name: "unknown nested field", files: func(t *testing.T) map[string]string {
			return map[string]string{"t": tplEdit(t, "    mandatory: true", "    mandatory: true\n    hidden: true")}
		}, want: []string{"hidden: unknown field"}},
		{name: "wrong type", files: func(t *testing.T) map[string]string {
			return map[string]string{"t": tplValid[:strings.Index(tplValid, "subject:")] + "legacy_typ: maybe\n" + tplValid[strings.Index(tplValid, "subject:"):]}
		}, want: []string{"t/credential.yaml:", "cannot unmarshal"}},
		{name: "missing scope", files: func(t *testing.T) map[string]string {
			return map[string]string{"t": tplEdit(t, "scope: test_scope\n", "")}
		}, want: []string{"t/credential.yaml: scope: is required"}},
		{name: "duplicate scope", files: func(t *testing.T) map[string]string {
			return map[string]string{"a": tplValid, "b": tplValid}
		}, want: []string{`b/credential.yaml: scope: "test_scope" is also the scope of a/credential.yaml`}},
		{name: "duplicate id", files: func(t *testing.T) map[string]string {
			return map[string]string{"a": tplValid, "b": "id: a\n" + tplEdit(t, "test_scope", "other")}
		}, want: []string{`b/credential.yaml: id: "a" is also the id of a/credential.yaml`}},
		{name: "bad id", files: func(t *testing.T) map[string]string {
			return map[string]string{"t": "id: has space\n" + tplValid}
		}, want: []string{`id: "has space" is not a configuration id`}},
		{name: "scope with space", files: func(t *testing.T) map[string]string {
			return map[string]string{"t": tplEdit(t, "test_scope", `"a b"`)}
		}, want: []string{`scope: "a b" is not an OAuth scope`}},
		{name: "openid scope", files: func(t *testing.T) map[string]string {
			return map[string]string{"t": tplEdit(t, "test_scope", "openid")}
		}, want: []string{`scope: "openid" is a scope of the OpenID provider`}},
		{name: "unknown expression", files: func(t *testing.T) map[string]string {
			return map[string]string{"t": tplEdit(t, `lang "eng" }}'`+"\n  address", `lnag "eng" }}'`+"\n  address")}
		}, want: []string{`t/credential.yaml: subject.name: unknown filter "lnag"`}},
		{name: "claim path absent", files: func(t *testing.T) map[string]string {
			return map[string]string{"t": tplEdit(t, "[address, locality]", "[address, city]")}
		}, want: []string{"claims[1].path: [address city] is not in the subject template"}},
		{name: "claim path through text", files: func(t *testing.T) map[string]string {
			return map[string]string{"t": tplEdit(t, "[address, locality]", "[text, x]") + "  text: 'a {{ x }}'\n"}
		}, want: []string{"claims[1].path: [text x] is not in the subject template (text is text)"}},
		{name: "claim path into an expression", files: func(t *testing.T) map[string]string {
			return map[string]string{"t": tplEdit(t, "[address, locality]", "[names, eng]") + "  names: '{{ fullName | langmap }}'\n"}
		}},
		{name: "duplicate claim", files: func(t *testing.T) map[string]string {
			return map[string]string{"t": tplEdit(t, "[address, locality]", "[name]")}
		}, want: []string{"claims[1].path: [name] is also the path of claims[0]"}},
		{name: "empty claim path", files: func(t *testing.T) map[string]string {
			return map[string]string{"t": tplEdit(t, "[address, locality]", "[]")}
		}, want: []string{"claims[1].path: is required"}},
		{name: "bad colour", files: func(t *testing.T) map[string]string {
			return map[string]string{"t": tplEdit(t, `"#123456"`, "blue")}
		}, want: []string{`display[0].background_color: "blue" is not a colour`}},
		{name: "bad text colour", files: func(t *testing.T) map[string]string {
			return map[string]string{"t": tplEdit(t, `"#fff"`, `"#ffff0"`)}
		}, want: []string{`display[0].text_color: "#ffff0" is not a colour`}},
		{name: "logo not a URI", files: func(t *testing.T) map[string]string {
			return map[string]string{"t": tplEdit(t, "https://id.example/logo.png", "logo.png")}
		}, want: []string{`display[0].logo.uri: "logo.png" is not an absolute URI`}},
		{name: "logo javascript", files: func(t *testing.T) map[string]string {
			return map[string]string{"t": tplEdit(t, `"https://id.example/logo.png"`, `"javascript:alert(1)"`)}
		}, want: []string{`display[0].logo.uri: "javascript:alert(1)": use an https or data: URI`}},
		{name: "bad locale", files: func(t *testing.T) map[string]string {
			return map[string]string{"t": tplEdit(t, "locale: en\n", "locale: english language\n")}
		}, want: []string{`display[0].locale: "english language" is not a BCP 47 language tag`}},
		{name: "duplicate claim locale", files: func(t *testing.T) map[string]string {
			return map[string]string{"t": tplEdit(t, "{name: Nom, locale: fr}", "{name: Nom, locale: en}")}
		}, want: []string{`claims[0].display[1].locale: "en" appears twice`}},
		{name: "missing vct", files: func(t *testing.T) map[string]string {
			return map[string]string{"t": tplEdit(t, "vct: test-vct\n", "")}
		}, want: []string{"vct: is required for dc+sd-jwt"}},
		{name: "vct with dot segment", files: func(t *testing.T) map[string]string {
			return map[string]string{"t": tplEdit(t, "test-vct", "../x")}
		}, want: []string{`vct: "../x" is neither an absolute URI nor a relative path`}},
		{name: "legacy format name", files: func(t *testing.T) map[string]string {
			return map[string]string{"t": tplEdit(t, "format: dc+sd-jwt", "format: vc+sd-jwt")}
		}, want: []string{"format: write dc+sd-jwt (and legacy_typ: true"}},
		{name: "unknown format", files: func(t *testing.T) map[string]string {
			return map[string]string{"t": tplEdit(t, "format: dc+sd-jwt", "format: pdf")}
		}, want: []string{`format: "pdf" is not a credential format`}},
		{name: "vct on a W3C format", files: func(t *testing.T) map[string]string {
			return map[string]string{"t": tplEdit(t, "format: dc+sd-jwt", "format: jwt_vc_json\ntypes: [VerifiableCredential, X]")}
		}, want: []string{"vct: applies only to dc+sd-jwt", "claims[0].disclosable: applies only to dc+sd-jwt"}},
		{name: "W3C without types", files: func(t *testing.T) map[string]string {
			return map[string]string{"t": tplEdit(t, "format: dc+sd-jwt\nscope: test_scope\nvct: test-vct", "format: jwt_vc_json\nscope: test_scope\ncontexts: [credentials/v1]")}
		}, want: []string{"types: is required for jwt_vc_json", `contexts[0]: "credentials/v1" is not an absolute URL`}},
		{name: "W3C types without VerifiableCredential", files: func(t *testing.T) map[string]string {
			return map[string]string{"t": tplEdit(t, "format: dc+sd-jwt\nscope: test_scope\nvct: test-vct", "format: ldp_vc\nscope: test_scope\ntypes: [X, X]")}
		}, want: []string{"types: must include VerifiableCredential", `types[1]: "X" is listed twice`}},
		{name: "types on SD-JWT", files: func(t *testing.T) map[string]string {
			return map[string]string{"t": tplValid + "types: [VerifiableCredential]\n"}
		}, want: []string{"types: applies only to"}},
		{name: "reserved SD-JWT claim", files: func(t *testing.T) map[string]string {
			return map[string]string{"t": tplValid + "  iss: https://evil.example\n  cnf: {}\n"}
		}, want: []string{"subject.iss: is set by the dc+sd-jwt format", "subject.cnf: is set by the dc+sd-jwt format"}},
		{name: "bad validity", files: func(t *testing.T) map[string]string {
			return map[string]string{"t": tplEdit(t, "validity: 30d", "validity: 365")}
		}, want: []string{`validity: "365" is not a duration`}},
		{name: "signing alg none", files: func(t *testing.T) map[string]string {
			return map[string]string{"t": tplEdit(t, "signing_alg: ES256", "signing_alg: none")}
		}, want: []string{`signing_alg: "none" is not an asymmetric JOSE algorithm`}},
		{name: "proof alg HS256", files: func(t *testing.T) map[string]string {
			return map[string]string{"t": tplEdit(t, "proof_algs: [ES256]", "proof_algs: [ES256, HS256]")}
		}, want: []string{`proof_algs[1]: "HS256" is not an asymmetric JOSE algorithm`}},
		{name: "binding without proof algs", files: func(t *testing.T) map[string]string {
			return map[string]string{"t": tplEdit(t, "proof_algs: [ES256]\n", "")}
		}, want: []string{"proof_algs: is required with binding_methods"}},
		{name: "unknown binding method", files: func(t *testing.T) map[string]string {
			return map[string]string{"t": tplEdit(t, "[jwk]", "[jwk, did:web]")}
		}, want: []string{`binding_methods[1]: "did:web" is not a binding method`}},
		{name: "no subject", files: func(t *testing.T) map[string]string {
			return map[string]string{"t": tplValid[:strings.Index(tplValid, "subject:")]}
		}, want: []string{"subject: is required"}},
		{name: "subject not a mapping", files: func(t *testing.T) map[string]string {
			return map[string]string{"t": tplValid[:strings.Index(tplValid, "subject:")] + "subject: [a]\n"}
		}, want: []string{"subject: must be a mapping"}},
		{name: "unquoted expression", files: func(t *testing.T) map[string]string {
			return map[string]string{"t": tplValid + "  bad: {{ postalCode }}\n"}
		}, want: []string{"subject.bad: has a key that is not a string (quote expressions"}},
		{name: "alias", files: func(t *testing.T) map[string]string {
			return map[string]string{"t": tplValid + "  a: &x {k: v}\n  b: *x\n"}
		}, want: []string{"subject.a: anchors and aliases are not supported"}},
		{name: "binary", files: func(t *testing.T) map[string]string {
			return map[string]string{"t": tplValid + "  b: !!binary aGk=\n"}
		}, want: []string{"subject.b: tag !!binary is not supported"}},
		{name: "duplicate subject key", files: func(t *testing.T) map[string]string {
			return map[string]string{"t": tplValid + "  name: again\n"}
		}, want: []string{"subject.name: is defined twice"}},
		{name: "two documents", files: func(t *testing.T) map[string]string {
			return map[string]string{"t": tplValid + "---\nscope: x\n"}
		}, want: []string{"t/credential.yaml: holds more than one YAML document"}},
		{name: "empty file", files: func(t *testing.T) map[string]string {
			return map[string]string{"t": ""}
		}, want: []string{"t/credential.yaml: empty file"}},
		{name: "not YAML", files: func(t *testing.T) map[string]string {
			return map[string]string{"t": "format: [\n"}
		}, want: []string{"t/credential.yaml"}},
		{name: "folder without file", files: func(t *testing.T) map[string]string {
			return map[string]string{"a": tplValid}
		}, want: []string{"missing: every folder"}},
		{name: "no configurations", files: func(t *testing.T) map[string]string { return map[string]string{} },
			want: []string{"no folder with a credential.yaml"}},
		{name: "ignored folders", files: func(t *testing.T) map[string]string {
			return map[string]string{"a": tplValid, ".hidden": "junk", "_draft": "junk"}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fsys := tplFS(tt.files(t))
			if tt.name == "folder without file" {
				fsys["b/README.md"] = &fstest.MapFile{Data: []byte("x")}
			}
			configs, err := LoadTemplates(fsys, tplIssuer)
			if len(tt.want) == 0 {
				if err != nil {
					t.Fatalf("LoadTemplates = %v, want nil", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("LoadTemplates = %d configurations, want an error with %q", len(configs), tt.want)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("LoadTemplates error = %v, want it to contain %q", err, w)
				}
			}
		})
	}
}

// TestLoadTemplatesReportsEverything: every problem of every file comes in
// one error.
func TestLoadTemplatesReportsEverything(t *testing.T) {
	fsys := tplFS(map[string]string{
		"a": `format: dc+sd-jwt
scope: openid
extra: 1
signing_alg: HS256
display: [{name: X, text_color: red}]
claims: [{path: [nope]}]
subject:
  name: '{{ x | nope }}'
`,
		"b": `format: jwt_vc_json
scope: s
types: [VerifiableCredential]
signing_alg: ES256
validity: soon
subject: {id: x}
`,
	})
	_, err := LoadTemplates(fsys, tplIssuer)
	if err == nil {
		t.Fatal("LoadTemplates = nil, want errors")
	}
	want := []string{
		"a/credential.yaml:3: extra: unknown field",
		"a/credential.yaml: scope: \"openid\" is a scope of the OpenID provider",
		"a/credential.yaml: vct: is required",
		"a/credential.yaml: signing_alg: \"HS256\"",
		"a/credential.yaml: display[0].text_color",
		"a/credential.yaml: subject.name: unknown filter \"nope\"",
		"a/credential.yaml: claims[0].path: [nope] is not in the subject template",
		"b/credential.yaml: validity: \"soon\"",
		"b/credential.yaml: subject.id: is set by the jwt_vc_json format",
	}
	for _, w := range want {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("LoadTemplates error = %v\nwant it to contain %q", err, w)
		}
	}
	var te *TemplateError
	if !errors.As(err, &te) {
		t.Errorf("LoadTemplates error has no *TemplateError")
	}
	if n := strings.Count(err.Error(), "\n") + 1; n != len(want) {
		t.Errorf("LoadTemplates reported %d problems, want %d:\n%v", n, len(want), err)
	}
}

func TestTemplateValidity(t *testing.T) {
	tests := []struct {
		in   string
		want time.Duration
		err  bool
	}{
		{in: "365d", want: 365 * 24 * time.Hour},
		{in: "8760h", want: 8760 * time.Hour},
		{in: "90m", want: 90 * time.Minute},
		{in: "0", want: 0},
		{in: "0d", want: 0},
		{in: "365", err: true},
		{in: "1y", err: true},
		{in: "-1h", err: true},
		{in: "10s", err: true},
		{in: "d", err: true},
		{in: "999999d", err: true},
	}
	for _, tt := range tests {
		got, err := templateValidity(tt.in)
		if (err != nil) != tt.err || got != tt.want {
			t.Errorf("templateValidity(%q) = %v, %v; want %v, error %v", tt.in, got, err, tt.want, tt.err)
		}
	}
}

func TestTemplateResolveVCT(t *testing.T) {
	tests := []struct {
		vct, issuer, want string
		err               bool
	}{
		{vct: "national-id", issuer: "https://id.example/issuer", want: "https://id.example/issuer/national-id"},
		{vct: "national-id", issuer: "https://id.example/issuer/", want: "https://id.example/issuer/national-id"},
		{vct: "national-id", issuer: "https://id.example", want: "https://id.example/national-id"},
		{vct: "types/national-id/v1", issuer: "https://id.example", want: "https://id.example/types/national-id/v1"},
		{vct: "https://other.example/pid", issuer: "https://id.example", want: "https://other.example/pid"},
		{vct: "urn:eudi:pid:1", issuer: "", want: "urn:eudi:pid:1"},
		{vct: "national-id", issuer: "", err: true},
		{vct: "national-id", issuer: "id.example", err: true},
		{vct: "/national-id", issuer: "https://id.example", err: true},
		{vct: "a/../b", issuer: "https://id.example", err: true},
		{vct: "a b", issuer: "https://id.example", err: true},
		{vct: "a?b", issuer: "https://id.example", err: true},
		{vct: "a%2fb", issuer: "https://id.example", err: true},
		{vct: "https://x.example/a b", issuer: "https://id.example", err: true},
	}
	for _, tt := range tests {
		got, err := templateResolveVCT(tt.vct, tt.issuer)
		if (err != nil) != tt.err || got != tt.want {
			t.Errorf("templateResolveVCT(%q, %q) = %q, %v; want %q, error %v", tt.vct, tt.issuer, got, err, tt.want, tt.err)
		}
	}
}

func TestCheckIdentityFields(t *testing.T) {
	c := &Configuration{ID: "t", Dir: "t", Subject: map[string]any{
		"a": `{{ fullName | lang "eng" }}`,
		"b": map[string]any{"c": []any{"x {{ givenname }} {{ uin }} {{ now }} {{ \"lit\" }}"}},
		"d": "{{ address.city }}",
	}}
	if got := c.IdentityFields(); !slices.Equal(got, []string{"UIN", "address", "fullName", "givenname"}) {
		t.Errorf("IdentityFields = %v", got)
	}
	err := CheckIdentityFields([]*Configuration{c}, []string{"fullName", "givenName", "address"})
	if err == nil || !strings.Contains(err.Error(), `t/credential.yaml: subject.b.c[0]: {{ givenname }} reads "givenname"`) ||
		strings.Count(err.Error(), "\n") != 0 {
		t.Errorf("CheckIdentityFields = %v, want one error about givenname", err)
	}
	if err := CheckIdentityFields([]*Configuration{c}, []string{"fullName", "givenname", "address"}); err != nil {
		t.Errorf("CheckIdentityFields(all known) = %v", err)
	}
}

// FuzzLoadTemplates: any credential.yaml is either a configuration or an
// error; the loader never panics, and what it accepts renders.
func FuzzLoadTemplates(f *testing.F) {
	for _, name := range []string{"national-id-sd-jwt", "national-id-jwt-vc"} {
		b, err := os.ReadFile(filepath.Join("..", "templates", name, TemplateFile))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte(tplValid))
	f.Add([]byte("subject: {a: &x [*x]}\n"))
	f.Add([]byte("subject: {? [a]: b}\n"))
	f.Add([]byte("subject:\n  a: !!timestamp 2001-01-01\n  b: 0x1F\n  c: .inf\n  d: ~\n"))
	f.Add([]byte("format: dc+sd-jwt\n---\n"))
	f.Add([]byte("\xff\xfe"))
	f.Fuzz(func(t *testing.T, data []byte) {
		fsys := fstest.MapFS{"t/" + TemplateFile: &fstest.MapFile{Data: data}}
		configs, err := LoadTemplates(fsys, tplIssuer)
		if err != nil {
			if configs != nil {
				t.Fatalf("LoadTemplates = %v and configurations", err)
			}
			return
		}
		for _, c := range configs {
			if _, err := c.Render(map[string]any{}, RenderEnv{Now: rnNow}); err != nil && !errors.Is(err, ErrMissingMandatoryClaim) {
				// Interpolating an object is a render-time error; anything
				// else means LoadTemplates let a bad template through.
				if !strings.Contains(err.Error(), "cannot be put into text") {
					t.Fatalf("Render of an accepted template = %v", err)
				}
			}
			if _, err := json.Marshal(c.Subject); err != nil {
				t.Fatalf("accepted subject does not marshal: %v", err)
			}
		}
	})
}
