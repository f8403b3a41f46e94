package issuer

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/lestrrat-go/jwx/v3/jwk"

	"github.com/sanad-id/sanad/credential/did"
	"github.com/sanad-id/sanad/credential/ldp"
)

// ldpMinimal is a configuration set without ldp_vc: an SD-JWT VC only.
func ldpMinimal(t *testing.T, issuerID string) []*Configuration {
	t.Helper()
	configs, err := LoadTemplates(tplFS(map[string]string{"t": tplValid}), issuerID)
	if err != nil {
		t.Fatal(err)
	}
	return configs
}

// didNew builds an issuer for DID tests: signers with an ES256 and an
// EdDSA key, the given configurations.
func didNew(t *testing.T, issuerID, didID string, configs []*Configuration) (*Issuer, error) {
	t.Helper()
	return New(Config{
		CredentialIssuer: issuerID, DID: didID, Configurations: configs,
		Tokens: mdTokens{}, Data: mdData{}, Ledger: mdLedger{}, State: mdState{}, Signers: newLDSigners(t),
	})
}

func TestIssuerDID(t *testing.T) {
	tests := []struct {
		name, issuer, did string
		want, path        string
	}{
		{name: "host with port", issuer: "http://127.0.0.1:8080/issuer", want: "did:web:127.0.0.1%3A8080", path: "/.well-known/did.json"},
		{name: "host", issuer: "https://id.example/issuer", want: "did:web:id.example", path: "/.well-known/did.json"},
		{name: "default port dropped, host lower-cased", issuer: "https://ID.example:443/a/b/", want: "did:web:id.example", path: "/.well-known/did.json"},
		{name: "root issuer", issuer: "https://id.example", want: "did:web:id.example", path: "/.well-known/did.json"},
		{name: "ephemeral port left out", issuer: "http://127.0.0.1:0/issuer", want: "did:web:127.0.0.1", path: "/.well-known/did.json"},
		{name: "configured with a path", issuer: "https://id.example/issuer", did: "did:web:id.example:issuer:keys", want: "did:web:id.example:issuer:keys", path: "/issuer/keys/did.json"},
		{name: "configured with the port", issuer: "http://127.0.0.1:8080/issuer", did: "did:web:127.0.0.1%3A8080:issuer", want: "did:web:127.0.0.1%3A8080:issuer", path: "/issuer/did.json"},
		{name: "configured, default port", issuer: "https://id.example:443/issuer", did: "did:web:id.example", want: "did:web:id.example", path: "/.well-known/did.json"},
		{name: "configured, host case aside", issuer: "https://ID.Example/issuer", did: "did:web:id.example", want: "did:web:id.example", path: "/.well-known/did.json"},
		{name: "configured, ephemeral port", issuer: "http://127.0.0.1:0/issuer", did: "did:web:127.0.0.1%3A8080", want: "did:web:127.0.0.1%3A8080", path: "/.well-known/did.json"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			is, err := didNew(t, tt.issuer, tt.did, ldpMinimal(t, tt.issuer))
			if err != nil {
				t.Fatalf("New = %v", err)
			}
			if is.DID() != tt.want || is.didPath != tt.path {
				t.Errorf("New(%s, DID %q): DID %s at %s, want %s at %s", tt.issuer, tt.did, is.DID(), is.didPath, tt.want, tt.path)
			}
		})
	}

	// The issuer serves the DID document on its own host: a DID of
	// another host (or port) would name a document resolvers look for
	// elsewhere.
	const otherHost = "must be served on the DID's host"
	for _, tt := range []struct{ name, issuer, did, msg string }{
		{"not did:web", "https://id.example/issuer", "did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK", "DID"},
		{"a DID URL", "https://id.example/issuer", "did:web:id.example#key-1", "DID"},
		{"not a DID", "https://id.example/issuer", "https://id.example", "DID"},
		{"bad did:web host", "https://id.example/issuer", "did:web:id_example", "DID"},
		{"IPv6 issuer without DID", "http://[::1]:8080/issuer", "", "DID"},
		{"another host", "https://id.example/issuer", "did:web:keys.example", otherHost},
		{"a subdomain", "https://id.example/issuer", "did:web:keys.id.example", otherHost},
		{"another port", "https://id.example/issuer", "did:web:id.example%3A8443", otherHost},
		{"no port for an issuer on one", "http://127.0.0.1:8080/issuer", "did:web:127.0.0.1", otherHost},
	} {
		t.Run("refused/"+tt.name, func(t *testing.T) {
			if _, err := didNew(t, tt.issuer, tt.did, ldpMinimal(t, tt.issuer)); err == nil || !strings.Contains(err.Error(), tt.msg) {
				t.Errorf("New(%s, DID %q) = %v, want an error saying %q", tt.issuer, tt.did, err, tt.msg)
			}
		})
	}
}

// didMethods decodes a served DID document and checks its members.
func didMethods(t *testing.T, body []byte, wantDID string) map[string]string {
	t.Helper()
	doc, err := did.ParseDocument(body)
	if err != nil {
		t.Fatalf("did.ParseDocument(served) = %v", err)
	}
	if doc.ID != wantDID {
		t.Errorf("DID document id = %s, want %s", doc.ID, wantDID)
	}
	types := map[string]string{}
	for _, m := range doc.Methods {
		types[m.ID] = m.Type
		if m.Controller != wantDID {
			t.Errorf("method %s controller = %s, want %s", m.ID, m.Controller, wantDID)
		}
		if !slices.ContainsFunc(doc.AssertionMethod, func(r did.Reference) bool { return r.ID == m.ID }) {
			t.Errorf("method %s is not an assertionMethod", m.ID)
		}
		vm, err := doc.VerificationMethod(m.ID)
		if err != nil || !vm.Has(did.AssertionMethod) {
			t.Errorf("VerificationMethod(%s) = %+v, %v", m.ID, vm, err)
		}
	}
	var raw map[string]any
	if err := json.Unmarshal(body, &raw); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"authentication", "capabilityInvocation", "capabilityDelegation", "keyAgreement"} {
		if _, ok := raw[k]; ok {
			t.Errorf("DID document has %s: the credential keys only assert", k)
		}
	}
	if strings.Contains(string(body), `"d"`) || strings.Contains(string(body), "secretKey") || strings.Contains(string(body), "privateKey") {
		t.Errorf("DID document %s carries private key material", body)
	}
	return types
}

func TestDIDDocumentServed(t *testing.T) {
	e := newLDEnv(t)
	w := e.get(WellKnownDID)
	h := w.Result().Header
	if w.Code != http.StatusOK || h.Get("Content-Type") != "application/did+ld+json" || h.Get("Cache-Control") != "public, max-age=300" ||
		h.Get("Access-Control-Allow-Origin") != "*" {
		t.Fatalf("GET %s = %d, Content-Type %q, Cache-Control %q, CORS %q; want 200, application/did+ld+json, public, max-age=300, *",
			WellKnownDID, w.Code, h.Get("Content-Type"), h.Get("Cache-Control"), h.Get("Access-Control-Allow-Origin"))
	}
	d := e.is.DID()
	want := map[string]string{
		d + "#es-current":                      did.TypeMultikey,
		d + "#ed-current":                      did.TypeMultikey,
		d + "#ed-current" + ed2020MethodSuffix: did.TypeEd25519VerificationKey2020,
	}
	got := didMethods(t, w.Body.Bytes(), d)
	if len(got) != len(want) {
		t.Errorf("methods = %v, want %v", got, want)
	}
	for id, typ := range want {
		if got[id] != typ {
			t.Errorf("method %s type = %q, want %q", id, got[id], typ)
		}
	}

	// A rotation shows once the cache (metadataJWKSTTL) has passed; the
	// retired key stays.
	e.signers.rotate(t, "ES256", "es-next")
	if got := didMethods(t, e.get(WellKnownDID).Body.Bytes(), d); got[d+"#es-next"] != "" {
		t.Errorf("rotated key listed before the cache expired: %v", got)
	}
	calls := e.signers.calls
	e.now = e.now.Add(metadataJWKSTTL)
	got = didMethods(t, e.get(WellKnownDID).Body.Bytes(), d)
	if got[d+"#es-next"] != did.TypeMultikey || got[d+"#es-current"] != did.TypeMultikey || e.signers.calls != calls+1 {
		t.Errorf("after rotation methods = %v (JWKS read %d times more), want es-next and the retired es-current, one read", got, e.signers.calls-calls)
	}

	// The document resolves through did:web as a verifier resolves it.
	vm, err := e.methods.VerificationMethod(t.Context(), d+"#ed-current"+ed2020MethodSuffix)
	if err != nil || vm.Type != did.TypeEd25519VerificationKey2020 || !vm.Has(did.AssertionMethod) {
		t.Errorf("did:web resolution of the Ed25519VerificationKey2020 = %+v, %v", vm, err)
	}
	if _, err := e.methods.VerificationMethod(t.Context(), d+"#no-such-key"); err == nil {
		t.Error("did:web resolution of an unknown key succeeded")
	}
}

// didRSASigners adds an RSA key and a key without kid to ldSigners' JWKS.
type didRSASigners struct{ *ldSigners }

func (s didRSASigners) JWKS(ctx context.Context) (jwk.Set, error) {
	set, err := s.ldSigners.JWKS(ctx)
	if err != nil {
		return nil, err
	}
	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, err
	}
	k, err := jwk.Import(rsaKey.Public())
	if err != nil {
		return nil, err
	}
	_ = k.Set(jwk.KeyIDKey, "rsa-1")
	_ = set.AddKey(k)
	enc, err := jwk.Import(s.current["ES256"].Public())
	if err != nil {
		return nil, err
	}
	_ = enc.Set(jwk.KeyIDKey, "enc-1")
	_ = enc.Set(jwk.KeyUsageKey, "enc")
	_ = set.AddKey(enc)
	return set, nil
}

// TestDIDDocumentKeys: keys an ldp_vc cannot be signed with are left out;
// without an Ed25519Signature2020 configuration there is no
// Ed25519VerificationKey2020; a DID with a path is served at its path.
func TestDIDDocumentKeys(t *testing.T) {
	id := "https://id.example/issuer"
	s := didRSASigners{newLDSigners(t)}
	is, err := New(Config{
		CredentialIssuer: id, DID: "did:web:id.example:issuer", Configurations: ldpMinimal(t, id),
		Tokens: mdTokens{}, Data: mdData{}, Ledger: mdLedger{}, State: mdState{}, Signers: s,
	})
	if err != nil {
		t.Fatal(err)
	}
	gin.SetMode(gin.TestMode)
	r := gin.New()
	is.Register(r, nil)
	e := &ldEnv{is: is, router: r}
	if w := e.get(WellKnownDID); w.Code != http.StatusNotFound {
		t.Errorf("GET %s = %d, want 404 for did:web:id.example:issuer", WellKnownDID, w.Code)
	}
	w := e.get("/issuer/did.json")
	if w.Code != http.StatusOK {
		t.Fatalf("GET /issuer/did.json = %d %s", w.Code, w.Body)
	}
	got := didMethods(t, w.Body.Bytes(), "did:web:id.example:issuer")
	want := map[string]string{"did:web:id.example:issuer#es-current": did.TypeMultikey, "did:web:id.example:issuer#ed-current": did.TypeMultikey}
	if len(got) != len(want) || got["did:web:id.example:issuer#es-current"] == "" || got["did:web:id.example:issuer#ed-current"] != did.TypeMultikey {
		t.Errorf("methods = %v, want %v (no RSA, no encryption key, no Ed25519VerificationKey2020)", got, want)
	}
	if _, err := is.signLDP(t.Context(), map[string]any{}, ldp.SuiteEd25519Signature2020); err == nil {
		t.Error("signLDP(Ed25519Signature2020) without such a configuration succeeded")
	}
}

func TestDIDDocumentJWKSError(t *testing.T) {
	id := "https://id.example/issuer"
	signers := &mdSigners{err: context.DeadlineExceeded}
	is, err := New(Config{
		CredentialIssuer: id, Configurations: ldpMinimal(t, id),
		Tokens: mdTokens{}, Data: mdData{}, Ledger: mdLedger{}, State: mdState{}, Signers: signers, Now: func() time.Time { return time.Unix(0, 0) },
	})
	if err != nil {
		t.Fatal(err)
	}
	gin.SetMode(gin.TestMode)
	r := gin.New()
	is.Register(r, nil)
	w := (&ldEnv{router: r}).get(WellKnownDID)
	if w.Code != http.StatusInternalServerError || strings.Contains(w.Body.String(), "deadline") {
		t.Errorf("GET %s with a failing key store = %d %s, want 500 without the cause", WellKnownDID, w.Code, w.Body)
	}
}
