package did

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/lestrrat-go/jwx/v3/jwk"

	"github.com/sanad-id/sanad/credential/jsonld"
)

var documentUpdate = flag.Bool("update-document", false, "rewrite the golden files of document_test.go")

const testWebDID = "did:web:issuer.example"

// fixedKeys are public keys of the did:key test vectors, so that a
// document built from them is the same in every run.
func fixedKeys(t *testing.T) (ed, p256, p384 jwk.Key) {
	t.Helper()
	seed, _ := hex.DecodeString(ed25519Vectors[0].seed)
	ed = mustImport(t, ed25519.NewKeyFromSeed(seed).Public())
	r := NewOfflineResolver()
	var err error
	if p256, err = r.Resolve(t.Context(), nistVectors[0].did); err != nil {
		t.Fatal(err)
	}
	if p384, err = r.Resolve(t.Context(), nistVectors[2].did); err != nil {
		t.Fatal(err)
	}
	return ed, p256, p384
}

func mustImport(t testing.TB, raw any) jwk.Key {
	t.Helper()
	k, err := jwk.Import(raw)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func newEd25519(t testing.TB) jwk.Key {
	t.Helper()
	pub, _, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return mustImport(t, pub)
}

func newP256(t testing.TB) (jwk.Key, *ecdsa.PrivateKey) {
	t.Helper()
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return mustImport(t, &priv.PublicKey), priv
}

func thumbprint(t testing.TB, k jwk.Key) string {
	t.Helper()
	tp, err := k.Thumbprint(crypto.SHA256)
	if err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(tp)
}

// issuerMethods are the methods of an issuer with a current and a retired
// key per algorithm, as the issuer serves them.
func issuerMethods(t *testing.T) []VerificationMethod {
	ed, p256, p384 := fixedKeys(t)
	return []VerificationMethod{
		{ID: testWebDID + "#ed-2025", Key: ed, Relationships: []string{AssertionMethod}},
		{ID: "#es-2025", Type: TypeMultikey, Key: p256, Relationships: []string{AssertionMethod, Authentication}},
		{ID: testWebDID + "#es384-old", Key: p384, Relationships: []string{CapabilityInvocation, AssertionMethod}},
		{ID: testWebDID + "#ed2020", Type: TypeEd25519VerificationKey2020, Key: ed, Relationships: []string{AssertionMethod}},
		{ID: testWebDID + "#listed-only", Key: p256},
	}
}

func TestNewDocumentGolden(t *testing.T) {
	d, err := NewDocument(testWebDID, issuerMethods(t))
	if err != nil {
		t.Fatalf("NewDocument = %v", err)
	}
	got, err := json.MarshalIndent(d, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	got = append(got, '\n')
	golden := filepath.Join("testdata", "document.golden.json")
	if *documentUpdate {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(golden, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run with -update-document)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("NewDocument JSON =\n%s\nwant (%s)\n%s", got, golden, want)
	}
}

// TestNewDocumentCanonicalizes checks that what the issuer serves is valid
// JSON-LD under the bundled contexts, in safe mode: no term is undefined.
func TestNewDocumentCanonicalizes(t *testing.T) {
	for _, tc := range []struct {
		name        string
		methods     []VerificationMethod
		wantContext []any
	}{
		{name: "multikey only", methods: issuerMethods(t)[:3], wantContext: []any{ContextDIDV1, ContextMultikeyV1}},
		{name: "with Ed25519VerificationKey2020", methods: issuerMethods(t), wantContext: []any{ContextDIDV1, ContextMultikeyV1, ContextEd25519Suite2020V1}},
		{name: "no methods", wantContext: []any{ContextDIDV1, ContextMultikeyV1}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d, err := NewDocument(testWebDID, tc.methods)
			if err != nil {
				t.Fatalf("NewDocument = %v", err)
			}
			if !slices.Equal(d.Context, tc.wantContext) {
				t.Errorf("NewDocument @context = %v, want %v", d.Context, tc.wantContext)
			}
			b, err := json.Marshal(d)
			if err != nil {
				t.Fatal(err)
			}
			var m map[string]any
			if err := json.Unmarshal(b, &m); err != nil {
				t.Fatal(err)
			}
			nq, err := jsonld.Bundled().Canonicalize(m)
			if err != nil {
				t.Fatalf("Canonicalize(NewDocument) = %v\n%s", err, b)
			}
			for _, m := range tc.methods {
				id := m.ID
				if strings.HasPrefix(id, "#") {
					id = testWebDID + id
				}
				if !strings.Contains(nq, "<"+id+">") {
					t.Errorf("Canonicalize(NewDocument) has no node %s:\n%s", id, nq)
				}
			}
			if len(tc.methods) > 0 && !strings.Contains(nq, "<https://w3id.org/security#assertionMethod>") {
				t.Errorf("Canonicalize(NewDocument) has no assertionMethod:\n%s", nq)
			}
		})
	}
	if ContextDIDV1 != jsonld.DIDV1 || ContextMultikeyV1 != jsonld.MultikeyV1 || ContextEd25519Suite2020V1 != jsonld.Ed25519Suite2020V1 {
		t.Errorf("did contexts %q %q %q differ from the bundled ones", ContextDIDV1, ContextMultikeyV1, ContextEd25519Suite2020V1)
	}
}

func TestNewDocumentRoundTrip(t *testing.T) {
	methods := issuerMethods(t)
	d, err := NewDocument(testWebDID, methods)
	if err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(d)
	if err != nil {
		t.Fatal(err)
	}
	parsed, err := ParseDocument(b)
	if err != nil {
		t.Fatalf("ParseDocument(NewDocument) = %v", err)
	}
	for _, m := range methods {
		t.Run(m.ID, func(t *testing.T) {
			got, err := parsed.VerificationMethod(m.ID)
			if err != nil {
				t.Fatalf("VerificationMethod(%q) = %v", m.ID, err)
			}
			wantID := m.ID
			if strings.HasPrefix(wantID, "#") {
				wantID = testWebDID + wantID
			}
			wantType := m.Type
			if wantType == "" {
				wantType = TypeMultikey
			}
			wantRels := slices.Clone(m.Relationships)
			slices.SortFunc(wantRels, func(a, b string) int { return slices.Index(relationships, a) - slices.Index(relationships, b) })
			if got.ID != wantID || got.Type != wantType || got.Controller != testWebDID || !slices.Equal(got.Relationships, wantRels) {
				t.Errorf("VerificationMethod(%q) = {%s %s %s %v}, want {%s %s %s %v}", m.ID,
					got.ID, got.Type, got.Controller, got.Relationships, wantID, wantType, testWebDID, wantRels)
			}
			if thumbprint(t, got.Key) != thumbprint(t, m.Key) {
				t.Errorf("VerificationMethod(%q) key differs from the one written", m.ID)
			}
		})
	}
}

func TestNewDocumentRefuses(t *testing.T) {
	ed := newEd25519(t)
	p256, priv := newP256(t)
	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name    string
		did     string
		methods []VerificationMethod
		want    error
	}{
		{name: "RSA key", methods: []VerificationMethod{{ID: "#rsa", Key: mustImport(t, &rsaKey.PublicKey)}}, want: ErrUnsupportedKey},
		{name: "JsonWebKey type", methods: []VerificationMethod{{ID: "#k", Type: TypeJsonWebKey, Key: p256}}, want: ErrUnsupportedKey},
		{name: "unknown type", methods: []VerificationMethod{{ID: "#k", Type: "EcdsaSecp256k1VerificationKey2019", Key: p256}}, want: ErrUnsupportedKey},
		{name: "Ed25519VerificationKey2020 of a P-256 key", methods: []VerificationMethod{{ID: "#k", Type: TypeEd25519VerificationKey2020, Key: p256}}, want: ErrUnsupportedKey},
		{name: "private key", methods: []VerificationMethod{{ID: "#k", Key: mustImport(t, priv)}}, want: ErrPrivateKey},
		{name: "no key", methods: []VerificationMethod{{ID: "#k"}}, want: ErrInvalid},
		{name: "id of another DID", methods: []VerificationMethod{{ID: "did:web:other.example#k", Key: ed}}, want: ErrInvalidDocument},
		{name: "id without fragment", methods: []VerificationMethod{{ID: testWebDID, Key: ed}}, want: ErrInvalidDocument},
		{name: "duplicate id", methods: []VerificationMethod{{ID: "#k", Key: ed}, {ID: testWebDID + "#k", Key: p256}}, want: ErrInvalidDocument},
		{name: "unknown relationship", methods: []VerificationMethod{{ID: "#k", Key: ed, Relationships: []string{"assertion"}}}, want: ErrInvalidDocument},
		{name: "controller not a DID", methods: []VerificationMethod{{ID: "#k", Key: ed, Controller: "https://issuer.example"}}, want: ErrInvalidDocument},
		{name: "DID URL as document id", did: testWebDID + "#k", want: ErrInvalid},
		{name: "not a DID", did: "https://issuer.example", want: ErrInvalid},
	} {
		t.Run(tc.name, func(t *testing.T) {
			did := tc.did
			if did == "" {
				did = testWebDID
			}
			d, err := NewDocument(did, tc.methods)
			if !errors.Is(err, tc.want) {
				t.Fatalf("NewDocument(%q) = %v, %v, want %v", did, d, err, tc.want)
			}
		})
	}
}

// thirdPartyDocument is a document Sanad did not write: relative ids,
// string @context and controller, an embedded method, JWK methods and a
// method type Sanad does not read.
const thirdPartyDocument = `{
  "@context": "https://www.w3.org/ns/did/v1",
  "id": "did:web:wallet.example:user:alice",
  "controller": "did:web:wallet.example",
  "alsoKnownAs": ["https://wallet.example/alice"],
  "service": [{"id": "#svc", "type": "LinkedDomains", "serviceEndpoint": "https://wallet.example"}],
  "verificationMethod": [
    {"id": "#jwk-1", "type": "JsonWebKey2020", "controller": "did:web:wallet.example:user:alice",
     "publicKeyJwk": {"kty": "EC", "crv": "P-256", "x": "igrFmi0whuihKnj9R3Om1SoMph72wUGeFaBbzG2vzns", "y": "efsX5b10x8yjyrj4ny3pGfLcY7Xby1KzgqOdqnsrJIM"}},
    {"id": "did:web:wallet.example:user:alice#ed", "type": "Ed25519VerificationKey2020", "controller": "did:web:wallet.example",
     "publicKeyMultibase": "z6MkiTBz1ymuepAQ4HEHYSF1H8quG5GLVVQR3djdX3mDooWp"},
    {"id": "#k1", "type": "EcdsaSecp256k1VerificationKey2019", "controller": "did:web:wallet.example:user:alice",
     "publicKeyJwk": {"kty": "EC", "crv": "secp256k1", "x": "AA", "y": "AA"}},
    {"id": "#enc", "type": "JsonWebKey", "controller": "did:web:wallet.example:user:alice",
     "publicKeyJwk": {"kty": "EC", "crv": "P-256", "use": "enc", "x": "igrFmi0whuihKnj9R3Om1SoMph72wUGeFaBbzG2vzns", "y": "efsX5b10x8yjyrj4ny3pGfLcY7Xby1KzgqOdqnsrJIM"}},
    {"id": "#both", "type": "Multikey", "controller": "did:web:wallet.example:user:alice",
     "publicKeyMultibase": "z6MkiTBz1ymuepAQ4HEHYSF1H8quG5GLVVQR3djdX3mDooWp", "publicKeyJwk": {"kty": "OKP", "crv": "Ed25519", "x": "AA"}}
  ],
  "assertionMethod": ["#jwk-1", "did:web:wallet.example:user:alice#ed", "did:web:other.example#key-1", "#missing"],
  "authentication": [
    "did:web:wallet.example:user:alice#jwk-1",
    {"id": "#embedded", "type": "Multikey", "controller": "did:web:wallet.example:user:alice",
     "publicKeyMultibase": "zDnaerx9CtbPJ1q36T5Ln5wYt3MQYeGRG5ehnPAmxcf5mDZpv"}
  ],
  "capabilityInvocation": ["#ed"],
  "keyAgreement": ["#enc"]
}`

func TestParseDocument(t *testing.T) {
	d, err := ParseDocument([]byte(thirdPartyDocument))
	if err != nil {
		t.Fatalf("ParseDocument = %v", err)
	}
	const alice = "did:web:wallet.example:user:alice"
	if d.ID != alice || !slices.Equal(d.Controller, []string{"did:web:wallet.example"}) || !slices.Equal(d.Context, []any{ContextDIDV1}) {
		t.Errorf("ParseDocument = id %q controller %v @context %v", d.ID, d.Controller, d.Context)
	}
	ed, p256, _ := fixedKeys(t)
	for _, tc := range []struct {
		name, id   string
		wantType   string
		controller string
		rels       []string
		key        jwk.Key
		wantErr    error
	}{
		{name: "relative JsonWebKey2020", id: "#jwk-1", wantType: TypeJsonWebKey2020, controller: alice, rels: []string{AssertionMethod, Authentication}, key: p256},
		{name: "absolute lookup of a relative id", id: alice + "#jwk-1", wantType: TypeJsonWebKey2020, controller: alice, rels: []string{AssertionMethod, Authentication}, key: p256},
		{name: "Ed25519VerificationKey2020 of another controller", id: alice + "#ed", wantType: TypeEd25519VerificationKey2020, controller: "did:web:wallet.example", rels: []string{AssertionMethod, CapabilityInvocation}, key: ed},
		{name: "embedded in authentication", id: "#embedded", wantType: TypeMultikey, controller: alice, rels: []string{Authentication}, key: p256},
		{name: "unsupported type", id: "#k1", wantErr: ErrUnsupportedKey},
		{name: "key agreement JWK", id: "#enc", wantErr: ErrUnsupportedKey},
		{name: "two key members", id: "#both", wantErr: ErrInvalidDocument},
		{name: "dangling reference", id: "#missing", wantErr: ErrNotFound},
		{name: "other DID", id: "did:web:other.example#key-1", wantErr: ErrNotFound},
		{name: "not a DID URL", id: "key-1", wantErr: ErrNotFound},
		{name: "no fragment", id: alice, wantErr: ErrNotFound},
	} {
		t.Run(tc.name, func(t *testing.T) {
			vm, err := d.VerificationMethod(tc.id)
			if tc.wantErr != nil {
				if !errors.Is(err, tc.wantErr) {
					t.Fatalf("VerificationMethod(%q) = %+v, %v, want %v", tc.id, vm, err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("VerificationMethod(%q) = %v", tc.id, err)
			}
			if vm.Type != tc.wantType || vm.Controller != tc.controller || !slices.Equal(vm.Relationships, tc.rels) || !strings.HasPrefix(vm.ID, alice+"#") {
				t.Errorf("VerificationMethod(%q) = {%s %s %s %v}, want {%s %s %v}", tc.id, vm.ID, vm.Type, vm.Controller, vm.Relationships, tc.wantType, tc.controller, tc.rels)
			}
			if thumbprint(t, vm.Key) != thumbprint(t, tc.key) {
				t.Errorf("VerificationMethod(%q) has another key", tc.id)
			}
		})
	}
	// A returned method is a copy: changing it changes nothing cached.
	vm, _ := d.VerificationMethod("#jwk-1")
	vm.Relationships[0] = KeyAgreement
	if err := vm.Key.Set(jwk.KeyIDKey, "changed"); err != nil {
		t.Fatal(err)
	}
	again, _ := d.VerificationMethod("#jwk-1")
	if again.Relationships[0] != AssertionMethod || again.Key.Has(jwk.KeyIDKey) {
		t.Errorf("VerificationMethod shares state between calls")
	}
}

func TestDocumentJSONUnmarshal(t *testing.T) {
	var d Document
	if err := json.Unmarshal([]byte(thirdPartyDocument), &d); err != nil {
		t.Fatalf("json.Unmarshal(document) = %v", err)
	}
	if len(d.Methods) != 5 || len(d.Authentication) != 2 || d.Authentication[1].Method == nil || d.Authentication[0].ID == "" {
		t.Errorf("json.Unmarshal(document) = %+v", d)
	}
	bad := strings.Replace(thirdPartyDocument, `"id": "#k1"`, `"id": "#jwk-1"`, 1)
	if err := json.Unmarshal([]byte(bad), &d); !errors.Is(err, ErrInvalidDocument) {
		t.Errorf("json.Unmarshal(duplicate method ids) = %v, want %v", err, ErrInvalidDocument)
	}
	// What a parsed document writes reads back the same.
	d = Document{}
	if err := json.Unmarshal([]byte(thirdPartyDocument), &d); err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(&d)
	if err != nil {
		t.Fatal(err)
	}
	again, err := ParseDocument(b)
	if err != nil {
		t.Fatalf("ParseDocument(json.Marshal(ParseDocument(doc))) = %v\n%s", err, b)
	}
	for _, id := range []string{"#jwk-1", "#ed", "#embedded"} {
		v1, _ := d.VerificationMethod(id)
		v2, err := again.VerificationMethod(id)
		if err != nil || !slices.Equal(v1.Relationships, v2.Relationships) || thumbprint(t, v1.Key) != thumbprint(t, v2.Key) {
			t.Errorf("re-parsed VerificationMethod(%q) = %+v, %v, want %+v", id, v2, err, v1)
		}
	}
}

// minimalDocument returns a valid one-method document with the changes
// of edit applied to its decoded form.
func minimalDocument(t testing.TB, edit func(m map[string]any)) []byte {
	t.Helper()
	m := map[string]any{
		"id": testWebDID,
		"verificationMethod": []any{map[string]any{
			"id": "#k", "type": "Multikey", "controller": testWebDID,
			"publicKeyMultibase": "z6MkiTBz1ymuepAQ4HEHYSF1H8quG5GLVVQR3djdX3mDooWp",
		}},
		"assertionMethod": []any{"#k"},
	}
	if edit != nil {
		edit(m)
	}
	b, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func method0(m map[string]any) map[string]any {
	return m["verificationMethod"].([]any)[0].(map[string]any)
}

func TestParseDocumentRefuses(t *testing.T) {
	privEd := keyDID(append([]byte{0x80, 0x26}, make([]byte, 32)...)) // ed25519-priv multicodec
	many := make([]any, MaxDocumentMethods+1)
	for i := range many {
		many[i] = map[string]any{"id": fmt.Sprintf("#k%d", i), "type": "Multikey", "controller": testWebDID, "publicKeyMultibase": "z6MkiTBz1ymuepAQ4HEHYSF1H8quG5GLVVQR3djdX3mDooWp"}
	}
	for _, tc := range []struct {
		name string
		doc  []byte
		want error
	}{
		{name: "not JSON", doc: []byte(`{"id":`), want: ErrInvalidDocument},
		{name: "array", doc: []byte(`[]`), want: ErrInvalidDocument},
		{name: "null", doc: []byte(`null`), want: ErrInvalidDocument},
		{name: "duplicate id member", doc: []byte(`{"id":"did:web:a.example","id":"did:web:b.example"}`), want: ErrInvalidDocument},
		{name: "duplicate nested member", doc: []byte(`{"id":"did:web:a.example","verificationMethod":[{"id":"#k","id":"#j","type":"Multikey","controller":"did:web:a.example","publicKeyMultibase":"z6MkiTBz1ymuepAQ4HEHYSF1H8quG5GLVVQR3djdX3mDooWp"}]}`), want: ErrInvalidDocument},
		{name: "ID in upper case", doc: []byte(`{"ID":"did:web:a.example"}`), want: ErrInvalidDocument},
		{name: "id null", doc: minimalDocument(t, func(m map[string]any) { m["id"] = nil }), want: ErrInvalidDocument},
		{name: "id not a DID", doc: minimalDocument(t, func(m map[string]any) { m["id"] = "https://issuer.example" }), want: ErrInvalidDocument},
		{name: "id with fragment", doc: minimalDocument(t, func(m map[string]any) { m["id"] = testWebDID + "#x" }), want: ErrInvalidDocument},
		{name: "controller not a DID", doc: minimalDocument(t, func(m map[string]any) { m["controller"] = []any{"x"} }), want: ErrInvalidDocument},
		{name: "controller a number", doc: minimalDocument(t, func(m map[string]any) { m["controller"] = 1 }), want: ErrInvalidDocument},
		{name: "@context a number", doc: minimalDocument(t, func(m map[string]any) { m["@context"] = []any{1} }), want: ErrInvalidDocument},
		{name: "verificationMethod an object", doc: minimalDocument(t, func(m map[string]any) { m["verificationMethod"] = method0(m) }), want: ErrInvalidDocument},
		{name: "method a string", doc: minimalDocument(t, func(m map[string]any) { m["verificationMethod"] = []any{"#k"} }), want: ErrInvalidDocument},
		{name: "method of another DID", doc: minimalDocument(t, func(m map[string]any) { method0(m)["id"] = "did:web:other.example#k" }), want: ErrInvalidDocument},
		{name: "method without id", doc: minimalDocument(t, func(m map[string]any) { delete(method0(m), "id") }), want: ErrInvalidDocument},
		{name: "method id without fragment", doc: minimalDocument(t, func(m map[string]any) { method0(m)["id"] = testWebDID }), want: ErrInvalidDocument},
		{name: "method without type", doc: minimalDocument(t, func(m map[string]any) { delete(method0(m), "type") }), want: ErrInvalidDocument},
		{name: "method without controller", doc: minimalDocument(t, func(m map[string]any) { delete(method0(m), "controller") }), want: ErrInvalidDocument},
		{name: "method controller a DID URL", doc: minimalDocument(t, func(m map[string]any) { method0(m)["controller"] = testWebDID + "#k" }), want: ErrInvalidDocument},
		{name: "type a number", doc: minimalDocument(t, func(m map[string]any) { method0(m)["type"] = 1 }), want: ErrInvalidDocument},
		{name: "duplicate method ids", doc: minimalDocument(t, func(m map[string]any) {
			dup := map[string]any{}
			for k, v := range method0(m) {
				dup[k] = v
			}
			dup["id"] = testWebDID + "#k"
			m["verificationMethod"] = append(m["verificationMethod"].([]any), dup)
		}), want: ErrInvalidDocument},
		{name: "embedded method repeats an id", doc: minimalDocument(t, func(m map[string]any) { m["authentication"] = []any{method0(m)} }), want: ErrInvalidDocument},
		{name: "reference not a DID URL", doc: minimalDocument(t, func(m map[string]any) { m["assertionMethod"] = []any{"key-1"} }), want: ErrInvalidDocument},
		{name: "reference without fragment", doc: minimalDocument(t, func(m map[string]any) { m["assertionMethod"] = []any{testWebDID} }), want: ErrInvalidDocument},
		{name: "empty reference", doc: minimalDocument(t, func(m map[string]any) { m["assertionMethod"] = []any{""} }), want: ErrInvalidDocument},
		{name: "reference a number", doc: minimalDocument(t, func(m map[string]any) { m["assertionMethod"] = []any{1} }), want: ErrInvalidDocument},
		{name: "relationship a string", doc: minimalDocument(t, func(m map[string]any) { m["assertionMethod"] = "#k" }), want: ErrInvalidDocument},
		{name: "publicKeyJwk a string", doc: minimalDocument(t, func(m map[string]any) { method0(m)["publicKeyJwk"] = "x" }), want: ErrInvalidDocument},
		{name: "too many methods", doc: minimalDocument(t, func(m map[string]any) { m["verificationMethod"] = many }), want: ErrInvalidDocument},
		{name: "too many with embedded", doc: minimalDocument(t, func(m map[string]any) {
			m["verificationMethod"] = many[:MaxDocumentMethods/2+1]
			m["authentication"] = many[MaxDocumentMethods/2+1:]
		}), want: ErrInvalidDocument},
		{name: "larger than 1 MiB", doc: minimalDocument(t, func(m map[string]any) { m["padding"] = strings.Repeat("a", MaxDocumentSize) }), want: ErrInvalidDocument},
		{name: "private JWK member", doc: minimalDocument(t, func(m map[string]any) {
			method0(m)["type"] = TypeJsonWebKey
			delete(method0(m), "publicKeyMultibase")
			method0(m)["publicKeyJwk"] = map[string]any{"kty": "OKP", "crv": "Ed25519", "x": "AA", "d": "AA"}
		}), want: ErrPrivateKey},
		{name: "private JWK member of an unknown type", doc: minimalDocument(t, func(m map[string]any) {
			method0(m)["type"] = "Whatever2030"
			method0(m)["publicKeyJwk"] = map[string]any{"kty": "oct", "k": "AA"}
		}), want: ErrPrivateKey},
		{name: "secretKeyMultibase", doc: minimalDocument(t, func(m map[string]any) { method0(m)["secretKeyMultibase"] = "z1" }), want: ErrPrivateKey},
		{name: "privateKeyJwk", doc: minimalDocument(t, func(m map[string]any) { method0(m)["privateKeyJwk"] = map[string]any{} }), want: ErrPrivateKey},
		{name: "private multicodec", doc: minimalDocument(t, func(m map[string]any) {
			method0(m)["publicKeyMultibase"] = strings.TrimPrefix(privEd, "did:key:")
		}), want: ErrPrivateKey},
		{name: "private key embedded", doc: minimalDocument(t, func(m map[string]any) {
			m["authentication"] = []any{map[string]any{"id": "#e", "type": "JsonWebKey", "controller": testWebDID,
				"publicKeyJwk": map[string]any{"kty": "EC", "crv": "P-256", "x": "AA", "y": "AA", "d": "AA"}}}
		}), want: ErrPrivateKey},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d, err := ParseDocument(tc.doc)
			if !errors.Is(err, tc.want) {
				t.Fatalf("ParseDocument(%.200s) = %+v, %v, want %v", tc.doc, d, err, tc.want)
			}
		})
	}
	// The minimal document itself is accepted: the rows above fail for
	// their change only.
	if _, err := ParseDocument(minimalDocument(t, nil)); err != nil {
		t.Fatalf("ParseDocument(minimal) = %v", err)
	}
	if _, err := ParseDocument(minimalDocument(t, func(m map[string]any) { m["verificationMethod"] = many[:MaxDocumentMethods] })); err != nil {
		t.Fatalf("ParseDocument(%d methods) = %v", MaxDocumentMethods, err)
	}
}

func TestParseDocumentUnusableKeys(t *testing.T) {
	for _, tc := range []struct {
		name   string
		method map[string]any
		want   error
	}{
		{name: "Multikey without key", method: map[string]any{"type": "Multikey"}, want: ErrInvalidDocument},
		{name: "Multikey not base58btc", method: map[string]any{"type": "Multikey", "publicKeyMultibase": "uAAAA"}, want: ErrInvalid},
		{name: "Multikey X25519", method: map[string]any{"type": "Multikey", "publicKeyMultibase": "z6LSbysY2xFMRpGMhb7tFTLMpeuPRaqaWM1yECx2AtzE3KCc"}, want: ErrUnsupportedKey},
		{name: "Ed25519VerificationKey2020 of P-256", method: map[string]any{"type": TypeEd25519VerificationKey2020, "publicKeyMultibase": strings.TrimPrefix(nistVectors[0].did, "did:key:")}, want: ErrInvalidDocument},
		{name: "JsonWebKey without key", method: map[string]any{"type": "JsonWebKey", "publicKeyMultibase": "z6MkiTBz1ymuepAQ4HEHYSF1H8quG5GLVVQR3djdX3mDooWp"}, want: ErrInvalidDocument},
		{name: "JsonWebKey malformed", method: map[string]any{"type": "JsonWebKey", "publicKeyJwk": map[string]any{"kty": "EC", "crv": "P-256", "x": "AA", "y": "AA"}}, want: ErrInvalid},
		// jwx refuses RSA moduli under 2048 bits while parsing.
		{name: "JsonWebKey short RSA", method: map[string]any{"type": "JsonWebKey", "publicKeyJwk": map[string]any{"kty": "RSA", "n": "sXch", "e": "AQAB"}}, want: ErrInvalid},
		{name: "unknown type", method: map[string]any{"type": "RsaVerificationKey2018", "publicKeyPem": "-----BEGIN PUBLIC KEY-----"}, want: ErrUnsupportedKey},
	} {
		t.Run(tc.name, func(t *testing.T) {
			doc := minimalDocument(t, func(m map[string]any) {
				vm := method0(m)
				delete(vm, "publicKeyMultibase")
				for k, v := range tc.method {
					vm[k] = v
				}
			})
			d, err := ParseDocument(doc)
			if err != nil {
				t.Fatalf("ParseDocument = %v; a method with an unusable key is kept", err)
			}
			if vm, err := d.VerificationMethod("#k"); !errors.Is(err, tc.want) {
				t.Fatalf("VerificationMethod(#k) = %+v, %v, want %v", vm, err, tc.want)
			}
		})
	}
}
