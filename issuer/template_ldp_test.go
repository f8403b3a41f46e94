package issuer

import (
	"bytes"
	"errors"
	"slices"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/sanad-id/sanad/credential/jsonld"
	"github.com/sanad-id/sanad/credential/ldp"
)

// tplLDP is a valid ldp_vc credential.yaml with a context file, that tests
// change one line of.
const tplLDP = `format: ldp_vc
scope: ldp_scope
types: [VerifiableCredential, TestCredential]
contexts: [context.jsonld]
proof_algs: [ES256]
binding_methods: [did:jwk]
subject:
  name: '{{ fullName | lang "eng" }}'
`

// tplLDPContext is the context file of tplLDP.
const tplLDPContext = `{"@context": {"@version": 1.1, "@protected": true, "TestCredential": "https://id.example/ns#TestCredential", "name": "https://id.example/ns#name"}}`

// tplLDPFS is a templates folder "t" with credential.yaml and files.
func tplLDPFS(yaml string, files map[string]string) fstest.MapFS {
	fsys := fstest.MapFS{"t/" + TemplateFile: &fstest.MapFile{Data: []byte(yaml)}}
	for name, content := range files {
		fsys["t/"+name] = &fstest.MapFile{Data: []byte(content)}
	}
	return fsys
}

// tplLDPEdit returns tplLDP with old replaced by new.
func tplLDPEdit(t *testing.T, old, new string) string {
	t.Helper()
	if !strings.Contains(tplLDP, old) {
		t.Fatalf("tplLDP has no %q", old)
	}
	return strings.Replace(tplLDP, old, new, 1)
}

func TestLoadTemplatesLDP(t *testing.T) {
	ctxURL := tplIssuer + "/contexts/t/context.jsonld"
	ctxFile := map[string]string{"context.jsonld": tplLDPContext}
	tests := []struct {
		name  string
		yaml  func(t *testing.T) string
		files map[string]string
		// want
		model, suite, alg string
		contexts          []string
		contextFiles      []string
	}{
		{name: "defaults: VCDM 2.0, eddsa-rdfc-2022, EdDSA", yaml: func(*testing.T) string { return tplLDP }, files: ctxFile,
			model: DataModel20, suite: ldp.SuiteEdDSARDFC2022, alg: "EdDSA", contexts: []string{ctxURL}, contextFiles: []string{ctxURL}},
		{name: "VCDM 1.1 Ed25519Signature2020", files: ctxFile, yaml: func(t *testing.T) string {
			return tplLDPEdit(t, "scope:", "data_model: \"1.1\"\ncryptosuite: Ed25519Signature2020\nscope:")
		}, model: DataModel11, suite: ldp.SuiteEd25519Signature2020, alg: "EdDSA", contexts: []string{ctxURL}, contextFiles: []string{ctxURL}},
		{name: "ecdsa-rdfc-2019 derives ES256", files: ctxFile, yaml: func(t *testing.T) string {
			return tplLDPEdit(t, "scope:", "cryptosuite: ecdsa-rdfc-2019\nscope:")
		}, model: DataModel20, suite: ldp.SuiteECDSARDFC2019, alg: "ES256", contexts: []string{ctxURL}, contextFiles: []string{ctxURL}},
		{name: "signing_alg that agrees", files: ctxFile, yaml: func(t *testing.T) string {
			return tplLDPEdit(t, "scope:", "cryptosuite: ecdsa-rdfc-2019\nsigning_alg: ES256\nscope:")
		}, model: DataModel20, suite: ldp.SuiteECDSARDFC2019, alg: "ES256", contexts: []string{ctxURL}, contextFiles: []string{ctxURL}},
		{name: "unquoted data_model", files: ctxFile, yaml: func(t *testing.T) string {
			return tplLDPEdit(t, "scope:", "data_model: 1.1\nscope:")
		}, model: DataModel11, suite: ldp.SuiteEdDSARDFC2022, alg: "EdDSA", contexts: []string{ctxURL}, contextFiles: []string{ctxURL}},
		{name: "absolute contexts and a .json file", files: map[string]string{"claims.json": tplLDPContext}, yaml: func(t *testing.T) string {
			return tplLDPEdit(t, "contexts: [context.jsonld]", "contexts: [https://schema.example/a.jsonld, claims.json]")
		}, model: DataModel20, suite: ldp.SuiteEdDSARDFC2022, alg: "EdDSA",
			contexts: []string{"https://schema.example/a.jsonld", tplIssuer + "/contexts/t/claims.json"}, contextFiles: []string{tplIssuer + "/contexts/t/claims.json"}},
		{name: "a context file of jwt_vc_json", files: ctxFile, yaml: func(t *testing.T) string {
			return "format: jwt_vc_json\nsigning_alg: ES256\n" + strings.TrimPrefix(tplLDPEdit(t, "contexts: [context.jsonld]", "contexts: [https://www.w3.org/2018/credentials/v1, context.jsonld]"), "format: ldp_vc\n")
		}, alg: "ES256", contexts: []string{jsonld.CredentialsV1, ctxURL}, contextFiles: []string{ctxURL}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			configs, err := LoadTemplates(tplLDPFS(tt.yaml(t), tt.files), tplIssuer)
			if err != nil {
				t.Fatalf("LoadTemplates = %v", err)
			}
			c := configs[0]
			var files []string
			for u, b := range c.ContextFiles {
				files = append(files, u)
				if !bytes.Equal(b, []byte(tplLDPContext)) {
					t.Errorf("ContextFiles[%s] = %s, want the file", u, b)
				}
			}
			if c.DataModel != tt.model || c.Cryptosuite != tt.suite || c.SigningAlg != tt.alg ||
				!slices.Equal(c.Contexts, tt.contexts) || !slices.Equal(files, tt.contextFiles) {
				t.Errorf("LoadTemplates = data model %q, suite %q, alg %q, contexts %v, files %v; want %q, %q, %q, %v, %v",
					c.DataModel, c.Cryptosuite, c.SigningAlg, c.Contexts, files, tt.model, tt.suite, tt.alg, tt.contexts, tt.contextFiles)
			}
		})
	}
}

func TestLoadTemplatesLDPErrors(t *testing.T) {
	ctxFile := map[string]string{"context.jsonld": tplLDPContext}
	tests := []struct {
		name   string
		yaml   func(t *testing.T) string
		files  map[string]string
		issuer string // tplIssuer when empty
		want   []string
	}{
		{name: "data_model of SD-JWT VC", yaml: func(t *testing.T) string { return tplEdit(t, "scope:", "data_model: \"2.0\"\nscope:") },
			want: []string{"t/credential.yaml: data_model: applies only to ldp_vc"}},
		{name: "cryptosuite of SD-JWT VC", yaml: func(t *testing.T) string { return tplEdit(t, "scope:", "cryptosuite: eddsa-rdfc-2022\nscope:") },
			want: []string{"t/credential.yaml: cryptosuite: applies only to ldp_vc"}},
		{name: "unknown data model", files: ctxFile, yaml: func(t *testing.T) string { return tplLDPEdit(t, "scope:", "data_model: \"2\"\nscope:") },
			want: []string{`data_model: "2" is not a W3C data model Sanad issues`}},
		{name: "unknown cryptosuite", files: ctxFile, yaml: func(t *testing.T) string { return tplLDPEdit(t, "scope:", "cryptosuite: bbs-2023\nscope:") },
			want: []string{`cryptosuite: "bbs-2023" is not a cryptosuite Sanad signs with`}},
		{name: "unknown cryptosuite, no signing_alg asked", files: ctxFile, yaml: func(t *testing.T) string { return tplLDPEdit(t, "scope:", "cryptosuite: RsaSignature2018\nscope:") },
			want: []string{`cryptosuite: "RsaSignature2018"`}},
		{name: "Ed25519Signature2020 with VCDM 2.0", files: ctxFile, yaml: func(t *testing.T) string { return tplLDPEdit(t, "scope:", "cryptosuite: Ed25519Signature2020\nscope:") },
			want: []string{`cryptosuite: Ed25519Signature2020 secures VCDM 1.1 credentials only: add data_model: "1.1"`}},
		{name: "signing_alg of another suite", files: ctxFile, yaml: func(t *testing.T) string { return tplLDPEdit(t, "scope:", "signing_alg: ES256\nscope:") },
			want: []string{`signing_alg: "ES256" does not sign eddsa-rdfc-2022, which needs a EdDSA key`}},
		{name: "context file missing", yaml: func(*testing.T) string { return tplLDP },
			want: []string{"contexts[0]: context.jsonld: no such file in the template folder"}},
		{name: "context file not JSON", files: map[string]string{"context.jsonld": "{"}, yaml: func(*testing.T) string { return tplLDP },
			want: []string{"contexts[0]: context.jsonld is not a JSON object"}},
		{name: "context file not an object", files: map[string]string{"context.jsonld": "[1]"}, yaml: func(*testing.T) string { return tplLDP },
			want: []string{"contexts[0]: context.jsonld is not a JSON object"}},
		{name: "context file without @context", files: map[string]string{"context.jsonld": `{"name": "x"}`}, yaml: func(*testing.T) string { return tplLDP },
			want: []string{"contexts[0]: context.jsonld is not a JSON-LD context"}},
		{name: "context file too large", files: map[string]string{"context.jsonld": `{"@context": {}, "x": "` + strings.Repeat("a", jsonld.MaxContextSize) + `"}`},
			yaml: func(*testing.T) string { return tplLDP }, want: []string{"contexts[0]: context.jsonld: larger than"}},
		{name: "context file in another folder", files: ctxFile, yaml: func(t *testing.T) string {
			return tplLDPEdit(t, "contexts: [context.jsonld]", "contexts: [../t/context.jsonld]")
		}, want: []string{`contexts[0]: "../t/context.jsonld" is not an absolute URL`}},
		{name: "context file in a subfolder", files: map[string]string{"sub/context.jsonld": tplLDPContext}, yaml: func(t *testing.T) string {
			return tplLDPEdit(t, "contexts: [context.jsonld]", "contexts: [sub/context.jsonld]")
		}, want: []string{`contexts[0]: "sub/context.jsonld" is not an absolute URL`}},
		{name: "context file of another extension", files: map[string]string{"context.txt": tplLDPContext}, yaml: func(t *testing.T) string {
			return tplLDPEdit(t, "contexts: [context.jsonld]", "contexts: [context.txt]")
		}, want: []string{`contexts[0]: "context.txt" is not an absolute URL`}},
		{name: "context file listed twice", files: ctxFile, yaml: func(t *testing.T) string {
			return tplLDPEdit(t, "contexts: [context.jsonld]", "contexts: [context.jsonld, context.jsonld]")
		}, want: []string{`contexts[1]: "context.jsonld" is listed twice`}},
		{name: "context file with no issuer URL to serve it", files: ctxFile, issuer: "urn:example:issuer", yaml: func(*testing.T) string { return tplLDP },
			want: []string{`contexts[0]: context.jsonld is a file, and the issuer identifier "urn:example:issuer" is not an http(s) URL`}},
		{name: "every problem at once", yaml: func(t *testing.T) string {
			return tplLDPEdit(t, "scope:", "data_model: \"3.0\"\ncryptosuite: x\nscope:")
		}, want: []string{`data_model: "3.0"`, `cryptosuite: "x"`, "contexts[0]: context.jsonld: no such file"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			issuer := tt.issuer
			if issuer == "" {
				issuer = tplIssuer
			}
			configs, err := LoadTemplates(tplLDPFS(tt.yaml(t), tt.files), issuer)
			if err == nil {
				t.Fatalf("LoadTemplates = %+v, want an error", configs[0])
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("LoadTemplates error = %v, want it to contain %q", err, w)
				}
			}
			var te *TemplateError
			if !errors.As(err, &te) {
				t.Errorf("LoadTemplates error = %T, want *TemplateError", err)
			}
		})
	}
}

// FuzzLoadTemplatesLDP: any ldp_vc template and context file is either a
// configuration whose context files New accepts or an error; the loader
// never panics.
func FuzzLoadTemplatesLDP(f *testing.F) {
	f.Add([]byte(tplLDP), []byte(tplLDPContext))
	f.Add([]byte(strings.Replace(tplLDP, "scope:", "data_model: \"1.1\"\ncryptosuite: Ed25519Signature2020\nscope:", 1)), []byte(tplLDPContext))
	f.Add([]byte(strings.Replace(tplLDP, "scope:", "cryptosuite: x\nsigning_alg: ES256\nscope:", 1)), []byte(`{"@context": 1}`))
	f.Add([]byte(tplLDP), []byte(`{"@context": {"name": {"@id": "x", "@context": {"@version": 1.1}}}}`))
	f.Add([]byte(tplLDP), []byte(`[]`))
	f.Add([]byte(tplLDP), []byte("\xff"))
	f.Fuzz(func(t *testing.T, yaml, context []byte) {
		fsys := tplLDPFS(string(yaml), map[string]string{"context.jsonld": string(context)})
		configs, err := LoadTemplates(fsys, tplIssuer)
		if err != nil {
			if configs != nil {
				t.Fatalf("LoadTemplates = %v and configurations", err)
			}
			return
		}
		for _, c := range configs {
			for u, b := range c.ContextFiles {
				if !slices.Contains(c.Contexts, u) || len(b) > jsonld.MaxContextSize {
					t.Fatalf("ContextFiles[%s] (%d bytes) is not one of the contexts %v", u, len(b), c.Contexts)
				}
			}
			if _, err := jsonld.NewLoader(c.ContextFiles); err != nil && !errors.Is(err, jsonld.ErrInvalid) {
				t.Fatalf("jsonld.NewLoader(ContextFiles) = %v", err)
			}
		}
	})
}
