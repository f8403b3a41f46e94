package issuer

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"errors"
	"flag"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/lestrrat-go/jwx/v3/jwk"

	"github.com/sanad-id/sanad/credential"
	"github.com/sanad-id/sanad/storage"
	"github.com/sanad-id/sanad/templates"
)

var metadataUpdate = flag.Bool("update-metadata", false, "rewrite the golden files of metadata_test.go")

// mdSigners is a Signers with generated keys; it counts JWKS calls.
type mdSigners struct {
	mu    sync.Mutex
	set   jwk.Set
	calls int
	err   error
}

func (s *mdSigners) Signer(alg string) (credential.Signer, error) {
	return nil, errors.New("mdSigners: no signing in metadata tests")
}

func (s *mdSigners) Algs() []string { return []string{"ES256", "EdDSA"} }

func (s *mdSigners) JWKS(context.Context) (jwk.Set, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls++
	return s.set, s.err
}

func (s *mdSigners) jwksCalls() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.calls
}

// mdKeySet returns a set with a private ES256 and a private Ed25519 key,
// as a careless Signers could return.
func mdKeySet(t *testing.T) jwk.Set {
	t.Helper()
	ec, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	_, ed, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	set := jwk.NewSet()
	for kid, raw := range map[string]any{"es-1": ec, "ed-1": ed} {
		k, err := jwk.Import(raw)
		if err != nil {
			t.Fatal(err)
		}
		if err := k.Set(jwk.KeyIDKey, kid); err != nil {
			t.Fatal(err)
		}
		if err := set.AddKey(k); err != nil {
			t.Fatal(err)
		}
	}
	return set
}

// mdFormat stands in for a format whose real implementation is not there:
// its metadata has the members OpenID4VCI appendix A gives the format.
type mdFormat struct{ name string }

func (f mdFormat) Name() string                  { return f.name }
func (f mdFormat) Validate(*Configuration) error { return nil }
func (f mdFormat) MatchesDraft13(*Configuration, Draft13Selector) bool {
	return false
}

func (f mdFormat) Issue(context.Context, IssueInput) (any, error) {
	return nil, errors.New("mdFormat: no issuance in metadata tests")
}

func (f mdFormat) Metadata(c *Configuration, draft13 bool) map[string]any {
	switch f.name {
	case credential.FormatSDJWTVC:
		m := map[string]any{"vct": c.VCT}
		if draft13 {
			m["claims"] = draft13ClaimDescriptions(c.Claims)
		}
		return m
	default:
		def := map[string]any{"type": c.Types}
		if draft13 {
			def["@context"] = c.Contexts
			def["credentialSubject"] = draft13ClaimDescriptions(c.Claims)
		}
		return map[string]any{"credential_definition": def}
	}
}

// mdFormats are DefaultFormats, with stand-ins for the formats it lacks.
func mdFormats() map[string]Format {
	formats := DefaultFormats()
	for _, name := range []string{credential.FormatJWTVC, credential.FormatSDJWTVC} {
		if _, ok := formats[name]; !ok {
			formats[name] = mdFormat{name: name}
		}
	}
	return formats
}

// Dependencies the metadata never uses: calling them panics.
type (
	mdTokens struct{ TokenVerifier }
	mdData   struct{ DataProvider }
	mdLedger struct{ storage.Ledger }
	mdState  struct{ storage.State }
)

type mdEnv struct {
	is      *Issuer
	router  *gin.Engine
	signers *mdSigners
	now     time.Time
	mu      sync.Mutex
}

func (e *mdEnv) clock() time.Time {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.now
}

func (e *mdEnv) advance(d time.Duration) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.now = e.now.Add(d)
}

// mdNewEnv serves an issuer with the built-in templates.
func mdNewEnv(t *testing.T, issuerID string, opts ...func(*Config)) *mdEnv {
	t.Helper()
	configs, err := LoadTemplates(templates.FS(), issuerID)
	if err != nil {
		t.Fatal(err)
	}
	e := &mdEnv{signers: &mdSigners{set: mdKeySet(t)}, now: time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)}
	cfg := Config{
		CredentialIssuer:     issuerID,
		AuthorizationServers: []string{"https://id.example"},
		Configurations:       configs,
		Formats:              mdFormats(),
		Tokens:               mdTokens{},
		Data:                 mdData{},
		Ledger:               mdLedger{},
		State:                mdState{},
		Signers:              e.signers,
		Now:                  e.clock,
	}
	for _, o := range opts {
		o(&cfg)
	}
	is, err := New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	e.is = is
	gin.SetMode(gin.TestMode)
	e.router = gin.New()
	is.Register(e.router, nil)
	return e
}

func (e *mdEnv) get(target string) *httptest.ResponseRecorder {
	w := httptest.NewRecorder()
	e.router.ServeHTTP(w, httptest.NewRequest(http.MethodGet, target, nil))
	return w
}

// mdDecode decodes a JSON response.
func mdDecode(t *testing.T, w *httptest.ResponseRecorder) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(w.Body.Bytes(), &m); err != nil {
		t.Fatalf("response %d %q is not a JSON object: %v", w.Code, w.Body.String(), err)
	}
	return m
}

// mdWantDocument checks the status and headers of a well-known document.
func mdWantDocument(t *testing.T, target string, w *httptest.ResponseRecorder) {
	t.Helper()
	h := w.Result().Header
	if w.Code != http.StatusOK || h.Get("Cache-Control") != "public, max-age=300" ||
		h.Get("Content-Type") != "application/json" || h.Get("Access-Control-Allow-Origin") != "*" {
		t.Errorf("GET %s = %d, Cache-Control %q, Content-Type %q, CORS %q; want 200, public, max-age=300, application/json, *",
			target, w.Code, h.Get("Cache-Control"), h.Get("Content-Type"), h.Get("Access-Control-Allow-Origin"))
	}
}

func TestMetadataGolden(t *testing.T) {
	e := mdNewEnv(t, "https://id.example/issuer")
	tests := []struct {
		name, query, golden string
	}{
		{name: "final", golden: "metadata.golden.json"},
		{name: "draft13", query: "?version=draft13", golden: "metadata-draft13.golden.json"},
		{name: "unknown version is final", query: "?version=draft99", golden: "metadata.golden.json"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			target := WellKnownIssuer + "/issuer" + tt.query
			w := e.get(target)
			mdWantDocument(t, target, w)
			var pretty bytes.Buffer
			if err := json.Indent(&pretty, w.Body.Bytes(), "", "  "); err != nil {
				t.Fatal(err)
			}
			pretty.WriteByte('\n')
			path := filepath.Join("testdata", tt.golden)
			if *metadataUpdate && tt.query != "?version=draft99" {
				if err := os.WriteFile(path, pretty.Bytes(), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run with -update-metadata to create it)", err)
			}
			if !bytes.Equal(pretty.Bytes(), want) {
				t.Errorf("GET %s = %s, want %s (run with -update-metadata to accept)", target, pretty.Bytes(), want)
			}
		})
	}
}

// TestMetadataShape checks, independently of the golden files, what
// OpenID4VCI 1.0 section 12.2.4 and draft 13 require of each shape.
func TestMetadataShape(t *testing.T) {
	e := mdNewEnv(t, "https://id.example/issuer")
	final := mdDecode(t, e.get(WellKnownIssuer+"/issuer"))
	for k, want := range map[string]string{
		"credential_issuer":     "https://id.example/issuer",
		"credential_endpoint":   "https://id.example/issuer/credential",
		"nonce_endpoint":        "https://id.example/issuer/nonce",
		"notification_endpoint": "https://id.example/issuer/notification",
	} {
		if final[k] != want {
			t.Errorf("final %s = %v, want %s", k, final[k], want)
		}
	}
	if b, _ := final["batch_credential_issuance"].(map[string]any); b["batch_size"] != float64(DefaultBatchSize) {
		t.Errorf("final batch_credential_issuance = %v, want batch_size %d", final["batch_credential_issuance"], DefaultBatchSize)
	}
	configs := final["credential_configurations_supported"].(map[string]any)
	sd := configs["national-id-sd-jwt"].(map[string]any)
	jwt := configs["national-id-jwt-vc"].(map[string]any)
	if sd["format"] != "dc+sd-jwt" || sd["scope"] != "national_id_sd_jwt" || sd["vct"] != "https://id.example/issuer/national-id" {
		t.Errorf("final national-id-sd-jwt = %v", sd)
	}
	for _, c := range []map[string]any{sd, jwt} {
		for _, k := range []string{"display", "claims", "order"} {
			if _, ok := c[k]; ok {
				t.Errorf("final configuration has %s at the top level: %v", k, c)
			}
		}
		cm := c["credential_metadata"].(map[string]any)
		if len(cm["display"].([]any)) != 3 || len(cm["claims"].([]any)) == 0 {
			t.Errorf("final credential_metadata = %v, want 3 displays and claims", cm)
		}
		pt := c["proof_types_supported"].(map[string]any)["jwt"].(map[string]any)["proof_signing_alg_values_supported"]
		if got, _ := json.Marshal(pt); string(got) != `["ES256","EdDSA"]` {
			t.Errorf("final proof_signing_alg_values_supported = %s", got)
		}
	}
	firstPath := func(c map[string]any) string {
		claims := c["credential_metadata"].(map[string]any)["claims"].([]any)
		b, _ := json.Marshal(claims[0].(map[string]any)["path"])
		return string(b)
	}
	if got := firstPath(jwt); got != `["credentialSubject","fullName"]` {
		t.Errorf("final jwt_vc_json first claim path = %s, want [credentialSubject fullName]", got)
	}
	if got := firstPath(sd); got != `["name"]` {
		t.Errorf("final dc+sd-jwt first claim path = %s, want [name]", got)
	}

	d13 := mdDecode(t, e.get(WellKnownIssuer+"/issuer?version=draft13"))
	for _, k := range []string{"nonce_endpoint", "batch_credential_issuance"} {
		if _, ok := d13[k]; ok {
			t.Errorf("draft13 has %s", k)
		}
	}
	configs = d13["credential_configurations_supported"].(map[string]any)
	sd = configs["national-id-sd-jwt"].(map[string]any)
	if sd["format"] != "vc+sd-jwt" || len(sd["display"].([]any)) != 3 || sd["credential_metadata"] != nil {
		t.Errorf("draft13 national-id-sd-jwt = %v, want format vc+sd-jwt, display at the top", sd)
	}
	if got, _ := json.Marshal(sd["order"]); string(got) != `["name","given_name","family_name","birthdate","gender","address","picture"]` {
		t.Errorf("draft13 order = %s", got)
	}
}

func TestMetadataPaths(t *testing.T) {
	tests := []struct {
		issuer   string
		ok       []string
		notFound []string
	}{
		{
			issuer: "https://id.example/issuer",
			ok: []string{
				"/.well-known/openid-credential-issuer/issuer", "/issuer/.well-known/openid-credential-issuer",
				"/.well-known/jwt-vc-issuer/issuer", "/issuer/.well-known/jwt-vc-issuer", "/issuer/jwks.json",
			},
			notFound: []string{"/.well-known/openid-credential-issuer", "/.well-known/jwt-vc-issuer", "/jwks.json"},
		},
		{
			issuer:   "https://id.example/a/b/",
			ok:       []string{"/.well-known/openid-credential-issuer/a/b", "/a/b/.well-known/openid-credential-issuer", "/.well-known/jwt-vc-issuer/a/b", "/a/b/jwks.json"},
			notFound: []string{"/.well-known/openid-credential-issuer/a", "/.well-known/openid-credential-issuer"},
		},
		{
			issuer:   "https://issuer.example",
			ok:       []string{"/.well-known/openid-credential-issuer", "/.well-known/jwt-vc-issuer", "/jwks.json"},
			notFound: []string{"/.well-known/openid-credential-issuer/issuer"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.issuer, func(t *testing.T) {
			e := mdNewEnv(t, tt.issuer)
			for _, p := range tt.ok {
				w := e.get(p)
				mdWantDocument(t, p, w)
				doc := mdDecode(t, w)
				switch {
				case strings.Contains(p, "openid-credential-issuer"):
					if doc["credential_issuer"] != tt.issuer {
						t.Errorf("GET %s credential_issuer = %v, want %s", p, doc["credential_issuer"], tt.issuer)
					}
				case strings.Contains(p, "jwt-vc-issuer"):
					if doc["issuer"] != tt.issuer {
						t.Errorf("GET %s issuer = %v, want %s", p, doc["issuer"], tt.issuer)
					}
				}
			}
			for _, p := range tt.notFound {
				if w := e.get(p); w.Code != http.StatusNotFound {
					t.Errorf("GET %s = %d, want 404", p, w.Code)
				}
			}
		})
	}
}

func TestMetadataBatch(t *testing.T) {
	tests := []struct {
		size int
		want string // batch_credential_issuance, or "" for none
	}{
		{size: 0, want: `{"batch_size":10}`},
		{size: 1, want: ""},
		{size: 5, want: `{"batch_size":5}`},
	}
	for _, tt := range tests {
		e := mdNewEnv(t, "https://id.example", func(c *Config) { c.BatchSize = tt.size })
		for _, q := range []string{"", "?version=draft13"} {
			doc := mdDecode(t, e.get(WellKnownIssuer+q))
			got := ""
			if v, ok := doc["batch_credential_issuance"]; ok {
				b, _ := json.Marshal(v)
				got = string(b)
			}
			want := tt.want
			if q != "" {
				want = "" // not in draft 13
			}
			if got != want {
				t.Errorf("BatchSize %d: metadata%s batch_credential_issuance = %q, want %q", tt.size, q, got, want)
			}
		}
	}
}

func TestMetadataUnboundConfiguration(t *testing.T) {
	c := &Configuration{
		ID: "unbound", Format: credential.FormatSDJWTVC, Scope: "unbound", VCT: "https://id.example/unbound", SigningAlg: "ES256",
		Subject: map[string]any{"a": "b"},
	}
	e := mdNewEnv(t, "https://id.example", func(cfg *Config) { cfg.Configurations = []*Configuration{c} })
	for _, q := range []string{"", "?version=draft13"} {
		doc := mdDecode(t, e.get(WellKnownIssuer+q))
		entry := doc["credential_configurations_supported"].(map[string]any)["unbound"].(map[string]any)
		for _, k := range []string{"cryptographic_binding_methods_supported", "proof_types_supported", "credential_metadata", "display", "order"} {
			if _, ok := entry[k]; ok {
				t.Errorf("metadata%s of an unbound configuration without display has %s: %v", q, k, entry)
			}
		}
	}
}

func TestMetadataLogos(t *testing.T) {
	c := &Configuration{
		ID: "logo", Format: credential.FormatSDJWTVC, Scope: "logo", VCT: "https://id.example/logo", SigningAlg: "ES256",
		Display: []Display{{Name: "L", Logo: &Image{URI: "https://id.example/l.png", AltText: "alt"},
			BackgroundImage: &Image{URI: "https://id.example/bg.png", AltText: "not in the metadata"}}},
		Subject: map[string]any{"a": "b"},
	}
	e := mdNewEnv(t, "https://id.example", func(cfg *Config) { cfg.Configurations = []*Configuration{c} })
	final := mdDecode(t, e.get(WellKnownIssuer))
	d := final["credential_configurations_supported"].(map[string]any)["logo"].(map[string]any)["credential_metadata"].(map[string]any)["display"]
	mdWantJSON(t, "final display", d, `[{"name":"L","logo":{"uri":"https://id.example/l.png","alt_text":"alt"},"background_image":{"uri":"https://id.example/bg.png"}}]`)
	d13 := mdDecode(t, e.get(WellKnownIssuer+"?version=draft13"))
	d = d13["credential_configurations_supported"].(map[string]any)["logo"].(map[string]any)["display"]
	mdWantJSON(t, "draft13 display", d, `[{"name":"L","logo":{"uri":"https://id.example/l.png","url":"https://id.example/l.png","alt_text":"alt"},"background_image":{"uri":"https://id.example/bg.png"}}]`)
}

// mdWantJSON compares a decoded value with JSON text, whatever the order of
// members.
func mdWantJSON(t *testing.T, what string, got any, want string) {
	t.Helper()
	var w any
	if err := json.Unmarshal([]byte(want), &w); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, w) {
		b, _ := json.Marshal(got)
		t.Errorf("%s = %s, want %s", what, b, want)
	}
}

func TestJWTIssuerMetadata(t *testing.T) {
	e := mdNewEnv(t, "https://id.example/issuer")
	w := e.get(WellKnownJWTIssuer + "/issuer")
	mdWantDocument(t, WellKnownJWTIssuer+"/issuer", w)
	var doc struct {
		Issuer string `json:"issuer"`
		JWKS   struct {
			Keys []map[string]any `json:"keys"`
		} `json:"jwks"`
	}
	if err := json.Unmarshal(w.Body.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	if doc.Issuer != "https://id.example/issuer" || len(doc.JWKS.Keys) != 2 {
		t.Fatalf("jwt-vc-issuer = %s, want the issuer and 2 keys", w.Body.String())
	}
	for _, k := range doc.JWKS.Keys {
		if _, ok := k["d"]; ok {
			t.Errorf("jwt-vc-issuer key %v has a private member", k["kid"])
		}
	}
	jw := e.get("/issuer/jwks.json")
	mdWantDocument(t, "/issuer/jwks.json", jw)
	if got, want := mdDecode(t, jw), mdDecode(t, w)["jwks"]; !reflect.DeepEqual(got, want) {
		t.Errorf("jwks.json = %v, want the jwks of jwt-vc-issuer %v", got, want)
	}

	// Cached: keys are read again only after metadataJWKSTTL.
	calls := e.signers.jwksCalls()
	e.get(WellKnownJWTIssuer + "/issuer")
	e.get("/issuer/jwks.json")
	if got := e.signers.jwksCalls(); got != calls {
		t.Errorf("JWKS calls within the cache time = %d, want %d", got, calls)
	}
	// A rotation shows once the cache time has passed.
	e.signers.mu.Lock()
	e.signers.set = jwk.NewSet()
	e.signers.mu.Unlock()
	e.advance(metadataJWKSTTL)
	if got := mdDecode(t, e.get("/issuer/jwks.json")); len(got["keys"].([]any)) != 0 {
		t.Errorf("jwks.json after rotation = %v, want no keys", got)
	}
	if got := e.signers.jwksCalls(); got != calls+1 {
		t.Errorf("JWKS calls after the cache time = %d, want %d", got, calls+1)
	}
}

func TestJWTIssuerMetadataError(t *testing.T) {
	e := mdNewEnv(t, "https://id.example")
	e.signers.err = errors.New("key store down")
	for _, p := range []string{WellKnownJWTIssuer, PathJWKS} {
		w := e.get(p)
		if w.Code != http.StatusInternalServerError || w.Header().Get("Cache-Control") != "no-store" ||
			mdDecode(t, w)["error"] != CodeServerError || strings.Contains(w.Body.String(), "key store") {
			t.Errorf("GET %s with failing keys = %d %s, Cache-Control %q; want 500 server_error, no-store, no cause",
				p, w.Code, w.Body.String(), w.Header().Get("Cache-Control"))
		}
	}
	// The metadata does not depend on the keys.
	if w := e.get(WellKnownIssuer); w.Code != http.StatusOK {
		t.Errorf("GET %s with failing keys = %d, want 200", WellKnownIssuer, w.Code)
	}
}

func TestDraft13ClaimDescriptions(t *testing.T) {
	en := []ClaimDisplay{{Name: "N", Locale: "en"}}
	got := draft13ClaimDescriptions([]Claim{
		{Path: []string{"name"}, Mandatory: true, Display: en},
		{Path: []string{"address"}, Display: en},
		{Path: []string{"address", "locality"}, Display: en},
		{Path: []string{"address", "postal_code"}},
		{Path: []string{"x", "y", "z"}, Mandatory: true},
		{},
	})
	b, _ := json.Marshal(got)
	want := `{"address":{"display":[{"name":"N","locale":"en"}],"locality":{"display":[{"name":"N","locale":"en"}]},"postal_code":{}},` +
		`"name":{"display":[{"name":"N","locale":"en"}],"mandatory":true},"x":{"y":{"z":{"mandatory":true}}}}`
	if string(b) != want {
		t.Errorf("draft13ClaimDescriptions = %s, want %s", b, want)
	}
}

// TestMetadataMembers: the final document has only the members
// OpenID4VCI 1.0 section 12.2.4 and appendix A define for it (the
// conformance suite flags any other), whatever the formats add.
func TestMetadataMembers(t *testing.T) {
	e := mdNewEnv(t, "https://id.example/issuer")
	doc := mdDecode(t, e.get(WellKnownIssuer+"/issuer"))
	only := func(where string, m any, allowed ...string) {
		t.Helper()
		obj, ok := m.(map[string]any)
		if !ok {
			t.Errorf("%s = %v, want an object", where, m)
			return
		}
		for k := range obj {
			if !slices.Contains(allowed, k) {
				t.Errorf("%s has member %q, not in %v", where, k, allowed)
			}
		}
	}
	only("metadata", doc, "credential_issuer", "authorization_servers", "credential_endpoint", "nonce_endpoint",
		"deferred_credential_endpoint", "notification_endpoint", "credential_request_encryption",
		"credential_response_encryption", "batch_credential_issuance", "signed_metadata", "display",
		"credential_configurations_supported")
	for i, d := range doc["display"].([]any) {
		only("display["+strconv.Itoa(i)+"]", d, "name", "locale", "logo")
	}
	for id, c := range doc["credential_configurations_supported"].(map[string]any) {
		where := "credential_configurations_supported." + id
		common := []string{"format", "scope", "cryptographic_binding_methods_supported", "credential_signing_alg_values_supported",
			"proof_types_supported", "credential_metadata"}
		entry := c.(map[string]any)
		switch entry["format"] {
		case credential.FormatJWTVC:
			only(where, c, append(common, "credential_definition")...)
			only(where+".credential_definition", entry["credential_definition"], "type")
		case credential.FormatSDJWTVC:
			only(where, c, append(common, "vct")...)
		case credential.FormatLDPVC:
			only(where, c, append(common, "credential_definition")...)
			only(where+".credential_definition", entry["credential_definition"], "@context", "type")
		default:
			t.Errorf("%s format = %v", where, entry["format"])
		}
		for pt, v := range entry["proof_types_supported"].(map[string]any) {
			only(where+".proof_types_supported."+pt, v, "proof_signing_alg_values_supported", "key_attestations_required")
		}
		cm := entry["credential_metadata"]
		only(where+".credential_metadata", cm, "display", "claims")
		for i, d := range cm.(map[string]any)["display"].([]any) {
			only(where+".credential_metadata.display["+strconv.Itoa(i)+"]", d,
				"name", "locale", "logo", "description", "background_color", "background_image", "text_color")
		}
		for i, cl := range cm.(map[string]any)["claims"].([]any) {
			w := where + ".credential_metadata.claims[" + strconv.Itoa(i) + "]"
			only(w, cl, "path", "mandatory", "display")
			for j, d := range cl.(map[string]any)["display"].([]any) {
				only(w+".display["+strconv.Itoa(j)+"]", d, "name", "locale")
			}
		}
	}
}
