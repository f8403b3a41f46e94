package issuer

import (
	"bytes"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sanad-id/sanad/credential"
	"github.com/sanad-id/sanad/credential/jsonld"
	"github.com/sanad-id/sanad/credential/ldp"
)

func TestContextsServed(t *testing.T) {
	e := newLDEnv(t)
	for _, id := range []string{ldConfig2022, ldConfig2020} {
		t.Run(id, func(t *testing.T) {
			want, err := os.ReadFile(filepath.Join("..", "templates", id, "context.jsonld"))
			if err != nil {
				t.Fatal(err)
			}
			u := ContextURL(e.is.Identifier(), id, "context.jsonld")
			if !strings.HasPrefix(u, e.srv.URL+"/issuer/contexts/"+id+"/") {
				t.Fatalf("ContextURL = %s", u)
			}
			if got, ok := e.is.Contexts().Context(u); !ok || !bytes.Equal(got, want) {
				t.Errorf("Contexts().Context(%s) = %v, want the template's file", u, ok)
			}
			target := strings.TrimPrefix(u, e.srv.URL)
			w := e.get(target)
			h := w.Result().Header
			if w.Code != http.StatusOK || !bytes.Equal(w.Body.Bytes(), want) || h.Get("Content-Type") != "application/ld+json" ||
				h.Get("Cache-Control") != "public, max-age=86400" || h.Get("ETag") == "" || h.Get("Access-Control-Allow-Origin") != "*" {
				t.Fatalf("GET %s = %d, Content-Type %q, Cache-Control %q, ETag %q, CORS %q; want 200, the file, application/ld+json, public, max-age=86400, an ETag, *",
					target, w.Code, h.Get("Content-Type"), h.Get("Cache-Control"), h.Get("ETag"), h.Get("Access-Control-Allow-Origin"))
			}
			etag := h.Get("ETag")
			for _, inm := range []string{etag, "W/" + etag, `"other", ` + etag, "*"} {
				if w := e.get(target, "If-None-Match", inm); w.Code != http.StatusNotModified || w.Body.Len() != 0 || w.Result().Header.Get("ETag") != etag {
					t.Errorf("GET %s If-None-Match %s = %d (%d bytes), want 304 without body", target, inm, w.Code, w.Body.Len())
				}
			}
			if w := e.get(target, "If-None-Match", `"other"`); w.Code != http.StatusOK {
				t.Errorf("GET %s If-None-Match another tag = %d, want 200", target, w.Code)
			}
		})
	}
	for _, target := range []string{
		"/issuer/contexts/" + ldConfig2022 + "/other.jsonld",
		"/issuer/contexts/national-id-jwt-vc/context.jsonld",
		"/issuer/contexts/" + ldConfig2022,
		"/contexts/" + ldConfig2022 + "/context.jsonld",
	} {
		if w := e.get(target); w.Code != http.StatusNotFound {
			t.Errorf("GET %s = %d, want 404", target, w.Code)
		}
	}
}

func TestEtagMatches(t *testing.T) {
	tests := []struct {
		header, etag string
		want         bool
	}{
		{"", `"a"`, false}, {`"a"`, `"a"`, true}, {`W/"a"`, `"a"`, true}, {` "b" , "a" `, `"a"`, true}, {"*", `"a"`, true}, {`"b"`, `"a"`, false}, {`a`, `"a"`, false},
		// A weak tag of the server's matches either form.
		{`W/"a"`, `W/"a"`, true}, {`"a"`, `W/"a"`, true}, {`"b", W/"a"`, `W/"a"`, true}, {"*", `W/"a"`, true}, {`W/"b"`, `W/"a"`, false}, {"", `W/"a"`, false},
	}
	for _, tt := range tests {
		if got := etagMatches(tt.header, tt.etag); got != tt.want {
			t.Errorf("etagMatches(%q, %q) = %v, want %v", tt.header, tt.etag, got, tt.want)
		}
	}
}

// ctxConfig is an ldp_vc configuration of the given contexts and files.
func ctxConfig(id string, contexts []string, files map[string][]byte) *Configuration {
	return &Configuration{
		ID: id, Format: credential.FormatLDPVC, Scope: id, Types: []string{"VerifiableCredential", "X"},
		Contexts: contexts, ContextFiles: files, DataModel: DataModel20, Cryptosuite: ldp.SuiteEdDSARDFC2022, SigningAlg: "EdDSA",
		Subject: map[string]any{"name": "x"},
	}
}

// TestNewContexts: every context an ldp_vc configuration names must be
// bundled or a template file; a context is never fetched, so New refuses
// the configuration rather than fail every credential request.
func TestNewContexts(t *testing.T) {
	const id = "https://id.example/issuer"
	own := ContextURL(id, "a", "context.jsonld")
	body := []byte(`{"@context": {"name": "https://id.example/ns#name"}}`)
	tests := []struct {
		name    string
		configs []*Configuration
		loader  func(t *testing.T) *jsonld.Loader
		want    string // "" for success
		is      error
	}{
		{name: "bundled and own", configs: []*Configuration{ctxConfig("a", []string{own}, map[string][]byte{own: body})}},
		{name: "remote context refused", configs: []*Configuration{ctxConfig("a", []string{"https://schema.example/ctx.jsonld"}, nil)},
			want: `configuration "a": context https://schema.example/ctx.jsonld`, is: jsonld.ErrUnknownContext},
		{name: "remote context registered", configs: []*Configuration{ctxConfig("a", []string{"https://schema.example/ctx.jsonld"}, nil)},
			loader: func(t *testing.T) *jsonld.Loader {
				l, err := jsonld.NewLoader(map[string][]byte{"https://schema.example/ctx.jsonld": body})
				if err != nil {
					t.Fatal(err)
				}
				return l
			}},
		{name: "loader without the template file", configs: []*Configuration{ctxConfig("a", []string{own}, map[string][]byte{own: body})},
			loader: func(*testing.T) *jsonld.Loader { return jsonld.Bundled() },
			want:   "Config.Contexts does not load the context file " + own},
		{name: "file not under the issuer", configs: []*Configuration{ctxConfig("a", []string{"https://other.example/c.jsonld"}, map[string][]byte{"https://other.example/c.jsonld": body})},
			want: "is not served by this issuer"},
		{name: "file under another configuration's path", configs: []*Configuration{ctxConfig("a", []string{id + "/contexts/a"}, map[string][]byte{id + "/contexts/a": body})},
			want: "is not served by this issuer"},
		{name: "same URL, other content", configs: []*Configuration{
			ctxConfig("a", []string{own}, map[string][]byte{own: body}),
			ctxConfig("b", []string{own}, map[string][]byte{own: []byte(`{"@context": {}}`)}),
		}, want: "has another content in another configuration"},
		{name: "not a context", configs: []*Configuration{ctxConfig("a", []string{own}, map[string][]byte{own: []byte(`{"x": 1}`)})},
			want: "has no @context", is: jsonld.ErrInvalid},
		{name: "1.1 with status lists needs nothing more", configs: func() []*Configuration {
			c := ctxConfig("a", []string{own}, map[string][]byte{own: body})
			c.DataModel = DataModel11
			return []*Configuration{c}
		}()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := Config{
				CredentialIssuer: id, Configurations: tt.configs,
				Tokens: mdTokens{}, Data: mdData{}, Ledger: mdLedger{}, State: mdState{}, Signers: newLDSigners(t),
			}
			if tt.loader != nil {
				cfg.Contexts = tt.loader(t)
			}
			is, err := New(cfg)
			switch {
			case tt.want == "" && err != nil:
				t.Fatalf("New = %v", err)
			case tt.want == "":
				for _, c := range tt.configs {
					for _, u := range ldpContexts(c, false) {
						if _, ok := is.Contexts().Context(u); !ok {
							t.Errorf("Contexts() does not load %s", u)
						}
					}
				}
			case err == nil || !strings.Contains(err.Error(), tt.want):
				t.Fatalf("New = %v, want an error with %q", err, tt.want)
			case tt.is != nil && !errors.Is(err, tt.is):
				t.Errorf("New = %v, want errors.Is %v", err, tt.is)
			}
		})
	}
}

func TestContextKeyOf(t *testing.T) {
	const prefix = "https://id.example/issuer/contexts/"
	tests := []struct {
		u            string
		ok           bool
		config, file string
	}{
		{prefix + "a/context.jsonld", true, "a", "context.jsonld"},
		{prefix + "a%3Ab/c.json", true, "a:b", "c.json"},
		{prefix + "a/b/c.jsonld", false, "", ""},
		{prefix + "a", false, "", ""},
		{prefix + "/c.jsonld", false, "", ""},
		{prefix + "a/", false, "", ""},
		{prefix + "a/%zz", false, "", ""},
		{"https://other.example/contexts/a/c.jsonld", false, "", ""},
	}
	for _, tt := range tests {
		k, ok := contextKeyOf(prefix, tt.u)
		if ok != tt.ok || k.config != tt.config || k.file != tt.file {
			t.Errorf("contextKeyOf(%s) = %+v, %v; want {%s %s}, %v", tt.u, k, ok, tt.config, tt.file, tt.ok)
		}
	}
}
