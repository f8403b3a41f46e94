package ldp_test

import (
	"context"
	"crypto"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/lestrrat-go/jwx/v3/jwk"

	"github.com/sanad-id/sanad/credential"
	"github.com/sanad-id/sanad/credential/credtest"
	"github.com/sanad-id/sanad/credential/did"
	"github.com/sanad-id/sanad/credential/jsonld"
	"github.com/sanad-id/sanad/credential/ldp"
	"github.com/sanad-id/sanad/credential/multibase"
)

// Contexts the tests register besides the bundled ones.
const (
	nationalIDContext = "https://sanad.id/ns/national-id/v1"
	altAContext       = "https://contexts.test/alt-a/v1"
	altBContext       = "https://contexts.test/alt-b/v1"
	vocabContext      = "https://contexts.test/vocab/v1"
	redefineContext   = "https://contexts.test/redefine/v1"
)

const issuerDID = "did:web:id.sanad.example"

var created = time.Date(2025, 1, 15, 9, 30, 0, 0, time.UTC)

func testLoader(t testing.TB) *jsonld.Loader {
	t.Helper()
	l, err := jsonld.NewLoader(map[string][]byte{
		nationalIDContext: readFile(t, "testdata/national-id-context.jsonld"),
		// Two unprotected contexts giving "nickname" different meanings,
		// so that their order matters.
		altAContext: []byte(`{"@context":{"nickname":"https://a.contexts.test#nickname"}}`),
		altBContext: []byte(`{"@context":{"nickname":"https://b.contexts.test#nickname"}}`),
		// A context an attacker would inject to define any term.
		vocabContext: []byte(`{"@context":{"@vocab":"https://evil.contexts.test#"}}`),
		// A context redefining a protected term of the template's.
		redefineContext: []byte(`{"@context":{"gender":"https://evil.contexts.test#gender"}}`),
	})
	if err != nil {
		t.Fatal(err)
	}
	return l
}

func readFile(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// credentialV2 and credentialV1 return fresh copies of the benchmark
// credential (VCDM 2.0 and 1.1).
func credentialV2(t testing.TB) map[string]any {
	return readDoc(t, filepath.Join("testdata", "bench-credential-v2.json"))
}

func credentialV1(t testing.TB) map[string]any {
	return readDoc(t, filepath.Join("testdata", "bench-credential-v1.json"))
}

func readDoc(t testing.TB, name string) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(readFile(t, name), &m); err != nil {
		t.Fatal(err)
	}
	return m
}

// clone deep-copies a JSON document.
func clone(t testing.TB, doc map[string]any) map[string]any {
	t.Helper()
	b, err := json.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

// methods is a MethodResolver over fixed verification methods, standing
// in for a did:web document.
type methods map[string]did.VerificationMethod

func (m methods) VerificationMethod(_ context.Context, u string) (did.VerificationMethod, error) {
	vm, ok := m[u]
	if !ok {
		return did.VerificationMethod{}, fmt.Errorf("%w: %s", did.ErrNotFound, u)
	}
	return vm, nil
}

// webMethod is a did:web verification method of the issuer for pub.
func webMethod(t testing.TB, fragment, typ string, pub crypto.PublicKey, relationships ...string) did.VerificationMethod {
	t.Helper()
	k, err := jwk.Import(pub)
	if err != nil {
		t.Fatal(err)
	}
	if len(relationships) == 0 {
		relationships = []string{did.AssertionMethod}
	}
	return did.VerificationMethod{ID: issuerDID + "#" + fragment, Type: typ, Controller: issuerDID, Key: k, Relationships: relationships}
}

// keyMethod is the did:key verification method URL of a signer.
func keyMethod(t testing.TB, s *credtest.Signer) string {
	t.Helper()
	d, err := did.KeyDID(s.Public())
	if err != nil {
		t.Fatal(err)
	}
	return d + "#" + strings.TrimPrefix(d, "did:key:")
}

// TestRoundTrip signs the benchmark credential with each suite and
// verifies it, with did:key and did:web verification methods.
func TestRoundTrip(t *testing.T) {
	l := testLoader(t)
	ctx := context.Background()
	ed := credtest.NewSigner(t, "EdDSA", "ed")
	p256 := credtest.NewSigner(t, "ES256", "p256")
	p384 := credtest.NewSigner(t, "ES384", "p384")
	web := methods{}
	for _, vm := range []did.VerificationMethod{
		webMethod(t, "ed-multikey", did.TypeMultikey, ed.Public()),
		webMethod(t, "ed-2020", did.TypeEd25519VerificationKey2020, ed.Public()),
		webMethod(t, "p256", did.TypeMultikey, p256.Public()),
		webMethod(t, "p256-jwk", did.TypeJsonWebKey, p256.Public()),
		webMethod(t, "p384", did.TypeMultikey, p384.Public()),
	} {
		web[vm.ID] = vm
	}
	offline := did.NewOfflineResolver()
	tests := []struct {
		name       string
		suite      string
		doc        func(testing.TB) map[string]any
		signer     *credtest.Signer
		method     string
		resolver   did.MethodResolver
		controller string
	}{
		{"eddsa-rdfc-2022 did:key", ldp.SuiteEdDSARDFC2022, credentialV2, ed, keyMethod(t, ed), offline, ""},
		{"eddsa-rdfc-2022 did:web", ldp.SuiteEdDSARDFC2022, credentialV2, ed, issuerDID + "#ed-multikey", web, issuerDID},
		{"ecdsa-rdfc-2019 P-256 did:key", ldp.SuiteECDSARDFC2019, credentialV2, p256, keyMethod(t, p256), offline, ""},
		{"ecdsa-rdfc-2019 P-256 did:web", ldp.SuiteECDSARDFC2019, credentialV2, p256, issuerDID + "#p256", web, issuerDID},
		{"ecdsa-rdfc-2019 P-256 JsonWebKey", ldp.SuiteECDSARDFC2019, credentialV2, p256, issuerDID + "#p256-jwk", web, issuerDID},
		{"ecdsa-rdfc-2019 P-384 did:web", ldp.SuiteECDSARDFC2019, credentialV2, p384, issuerDID + "#p384", web, issuerDID},
		{"ecdsa-rdfc-2019 P-384 did:key", ldp.SuiteECDSARDFC2019, credentialV2, p384, keyMethod(t, p384), offline, ""},
		{"Ed25519Signature2020 did:key", ldp.SuiteEd25519Signature2020, credentialV1, ed, keyMethod(t, ed), offline, ""},
		{"Ed25519Signature2020 Ed25519VerificationKey2020", ldp.SuiteEd25519Signature2020, credentialV1, ed, issuerDID + "#ed-2020", web, issuerDID},
		{"Ed25519Signature2020 Multikey", ldp.SuiteEd25519Signature2020, credentialV1, ed, issuerDID + "#ed-multikey", web, issuerDID},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			doc := tt.doc(t)
			before := clone(t, doc)
			signed, err := ldp.Sign(ctx, l, doc, tt.signer, ldp.SignOptions{Suite: tt.suite, VerificationMethod: tt.method, Created: created.Add(999 * time.Millisecond)})
			if err != nil {
				t.Fatalf("Sign error: %v", err)
			}
			if !jsonEqual(t, doc, before) {
				t.Errorf("Sign modified its input")
			}
			proof := signed["proof"].(map[string]any)
			if proof["created"] != "2025-01-15T09:30:00Z" {
				t.Errorf("proof created = %v, want 2025-01-15T09:30:00Z", proof["created"])
			}
			// What goes over the wire is JSON: verify a decoded copy.
			res, err := ldp.Verify(ctx, clone(t, signed), ldp.VerifyOptions{Loader: l, Methods: tt.resolver, Suites: []string{tt.suite}, Controller: tt.controller})
			if err != nil {
				t.Fatalf("Verify error: %v", err)
			}
			if res.Suite != tt.suite || res.VerificationMethod.ID != tt.method || !res.Created.Equal(created) {
				t.Errorf("Verify = {%s %s %v}, want {%s %s %v}", res.Suite, res.VerificationMethod.ID, res.Created, tt.suite, tt.method, created)
			}
		})
	}
}

func jsonEqual(t testing.TB, a, b any) bool {
	t.Helper()
	ja, err := json.Marshal(a)
	if err != nil {
		t.Fatal(err)
	}
	jb, err := json.Marshal(b)
	if err != nil {
		t.Fatal(err)
	}
	return string(ja) == string(jb)
}

// TestVerifyTampered: every change to a signed credential, its contexts
// or its proof, and every mismatch with the verifier's expectations,
// fails verification with the right error.
func TestVerifyTampered(t *testing.T) {
	l := testLoader(t)
	ctx := context.Background()
	ed := credtest.NewSigner(t, "EdDSA", "ed")
	other := credtest.NewSigner(t, "EdDSA", "other")
	p256 := credtest.NewSigner(t, "ES256", "p256")
	web := methods{}
	for _, vm := range []did.VerificationMethod{
		webMethod(t, "ed", did.TypeMultikey, ed.Public()),
		webMethod(t, "ed-2020", did.TypeEd25519VerificationKey2020, ed.Public()),
		webMethod(t, "other", did.TypeMultikey, other.Public()),
		webMethod(t, "auth-only", did.TypeMultikey, ed.Public(), did.Authentication),
		webMethod(t, "ed-jwk", did.TypeJsonWebKey, ed.Public()),
		webMethod(t, "p256", did.TypeMultikey, p256.Public()),
	} {
		web[vm.ID] = vm
	}
	// A resolver that answers with another method than asked for.
	liar := methods{issuerDID + "#ed": web[issuerDID+"#other"]}
	// A method controlled by someone else.
	foreign := webMethod(t, "ed", did.TypeMultikey, ed.Public())
	foreign.Controller = "did:web:other.example"
	// A method in another DID's document that names the issuer as its
	// controller: that document cannot speak for the issuer.
	impostor := foreign
	impostor.ID, impostor.Controller = "did:web:other.example#ed", issuerDID

	sign := func(t testing.TB, doc map[string]any, suite string, s *credtest.Signer, vm string, o ldp.SignOptions) map[string]any {
		t.Helper()
		o.Suite, o.VerificationMethod = suite, vm
		if o.Created.IsZero() {
			o.Created = created
		}
		signed, err := ldp.Sign(ctx, l, doc, s, o)
		if err != nil {
			t.Fatalf("Sign error: %v", err)
		}
		return clone(t, signed)
	}
	withContext := func(doc map[string]any, urls ...any) map[string]any {
		doc["@context"] = append(doc["@context"].([]any), urls...)
		return doc
	}
	signedV2 := sign(t, credentialV2(t), ldp.SuiteEdDSARDFC2022, ed, issuerDID+"#ed", ldp.SignOptions{})
	signedV1 := sign(t, credentialV1(t), ldp.SuiteEd25519Signature2020, ed, issuerDID+"#ed", ldp.SignOptions{})
	signedP256 := sign(t, credentialV2(t), ldp.SuiteECDSARDFC2019, p256, issuerDID+"#p256", ldp.SignOptions{})
	signedAB := sign(t, withContext(credentialV2(t), altAContext, altBContext), ldp.SuiteEdDSARDFC2022, ed, issuerDID+"#ed", ldp.SignOptions{})
	signedAB["credentialSubject"].(map[string]any)["nickname"] = "Mina"
	signedAB = sign(t, without(signedAB, "proof"), ldp.SuiteEdDSARDFC2022, ed, issuerDID+"#ed", ldp.SignOptions{})
	signedBound := sign(t, credentialV2(t), ldp.SuiteEdDSARDFC2022, ed, issuerDID+"#ed", ldp.SignOptions{Challenge: "n-0S6_WzA2Mj", Domain: "https://verifier.example"})
	otherCredential := credentialV2(t)
	otherCredential["id"] = "urn:uuid:0c7b8bd5-0d64-4f1c-8d63-3b1a4f1c8d63"
	otherCredential["credentialSubject"].(map[string]any)["gender"] = "male"
	signedOther := sign(t, otherCredential, ldp.SuiteEdDSARDFC2022, ed, issuerDID+"#ed", ldp.SignOptions{})
	signedByOther := sign(t, credentialV2(t), ldp.SuiteEdDSARDFC2022, other, issuerDID+"#other", ldp.SignOptions{})
	signedAuth := sign(t, credentialV2(t), ldp.SuiteEdDSARDFC2022, ed, issuerDID+"#auth-only", ldp.SignOptions{})
	signedEdJWK := sign(t, credentialV1(t), ldp.SuiteEd25519Signature2020, ed, issuerDID+"#ed-jwk", ldp.SignOptions{})
	signedWrongKey := sign(t, credentialV2(t), ldp.SuiteEdDSARDFC2022, ed, issuerDID+"#p256", ldp.SignOptions{})
	signedImpostor := sign(t, credentialV2(t), ldp.SuiteEdDSARDFC2022, ed, impostor.ID, ldp.SignOptions{})

	opts := ldp.VerifyOptions{Loader: l, Methods: web, Controller: issuerDID}
	subject := func(doc map[string]any) map[string]any { return doc["credentialSubject"].(map[string]any) }
	proof := func(doc map[string]any) map[string]any { return doc["proof"].(map[string]any) }

	tests := []struct {
		name   string
		signed map[string]any
		tamper func(doc map[string]any)
		opts   func(o *ldp.VerifyOptions)
		want   []error
	}{
		{name: "untouched", signed: signedV2},
		{name: "untouched v1", signed: signedV1},
		{name: "untouched P-256", signed: signedP256},
		{name: "untouched reordered contexts", signed: signedAB},
		{name: "untouched challenge and domain", signed: signedBound, opts: func(o *ldp.VerifyOptions) { o.Challenge, o.Domain = "n-0S6_WzA2Mj", "https://verifier.example" }},

		{name: "changed claim", signed: signedV2, tamper: func(d map[string]any) { subject(d)["gender"] = "male" }, want: []error{credential.ErrSignature}},
		{name: "changed claim v1", signed: signedV1, tamper: func(d map[string]any) { subject(d)["gender"] = "male" }, want: []error{credential.ErrSignature}},
		{name: "changed claim P-256", signed: signedP256, tamper: func(d map[string]any) { subject(d)["gender"] = "male" }, want: []error{credential.ErrSignature}},
		{name: "changed language map value", signed: signedV2, tamper: func(d map[string]any) { subject(d)["fullName"].(map[string]any)["ar"] = "x" }, want: []error{credential.ErrSignature}},
		{name: "changed nested claim", signed: signedV2, tamper: func(d map[string]any) { subject(d)["address"].(map[string]any)["locality"] = "Kassala" }, want: []error{credential.ErrSignature}},
		{name: "changed validUntil", signed: signedV2, tamper: func(d map[string]any) { d["validUntil"] = "2045-01-15T09:30:00Z" }, want: []error{credential.ErrSignature}},
		{name: "changed status index", signed: signedV2, tamper: func(d map[string]any) { d["credentialStatus"].([]any)[0].(map[string]any)["statusListIndex"] = "1" }, want: []error{credential.ErrSignature}},
		{name: "removed claim", signed: signedV2, tamper: func(d map[string]any) { delete(subject(d), "photo") }, want: []error{credential.ErrSignature}},
		{name: "added defined claim", signed: signedV2, tamper: func(d map[string]any) { d["name"] = "National ID" }, want: []error{credential.ErrSignature}},
		{name: "added defined subject claim", signed: signedV1, tamper: func(d map[string]any) { delete(subject(d), "email"); subject(d)["phoneNumber"] = "+249900000000" }, want: []error{credential.ErrSignature}},
		{name: "injected undefined term", signed: signedV2, tamper: func(d map[string]any) { subject(d)["isAdmin"] = true }, want: []error{credential.ErrMalformed, jsonld.ErrUndefinedTerm}},
		{name: "injected undefined term v1", signed: signedV1, tamper: func(d map[string]any) { subject(d)["isAdmin"] = true }, want: []error{credential.ErrMalformed, jsonld.ErrUndefinedTerm}},
		{name: "injected undefined type", signed: signedV2, tamper: func(d map[string]any) { d["type"] = []any{"VerifiableCredential", "NationalIDCredential", "Admin"} }, want: []error{credential.ErrMalformed, jsonld.ErrUndefinedTerm}},
		{name: "injected relative id", signed: signedV2, tamper: func(d map[string]any) { subject(d)["id"] = "someone-else" }, want: []error{credential.ErrMalformed, jsonld.ErrInvalid}},
		{name: "reordered contexts", signed: signedAB, tamper: func(d map[string]any) {
			c := d["@context"].([]any)
			c[2], c[3] = c[3], c[2]
		}, want: []error{credential.ErrSignature}},
		{name: "injected @vocab context", signed: signedV2, tamper: func(d map[string]any) {
			withContext(d, vocabContext)
			subject(d)["isAdmin"] = true
		}, want: []error{credential.ErrSignature}},
		{name: "injected context redefining a protected term", signed: signedV2, tamper: func(d map[string]any) { withContext(d, redefineContext) }, want: []error{credential.ErrMalformed, jsonld.ErrInvalid}},
		{name: "injected inline context", signed: signedV2, tamper: func(d map[string]any) {
			withContext(d, map[string]any{"isAdmin": "https://evil.contexts.test#isAdmin"})
			subject(d)["isAdmin"] = true
		}, want: []error{credential.ErrSignature}},
		{name: "injected unknown context", signed: signedV2, tamper: func(d map[string]any) { withContext(d, "https://unknown.contexts.test/v1") }, want: []error{credential.ErrMalformed, jsonld.ErrUnknownContext}},
		{name: "removed template context", signed: signedV2, tamper: func(d map[string]any) { d["@context"] = d["@context"].([]any)[:1] }, want: []error{credential.ErrMalformed, jsonld.ErrUndefinedTerm}},
		{name: "swapped proof", signed: signedV2, tamper: func(d map[string]any) { d["proof"] = signedOther["proof"] }, want: []error{credential.ErrSignature}},
		{name: "proof by another assertion key of the issuer", signed: signedV2, tamper: func(d map[string]any) { d["proof"] = signedByOther["proof"] }},
		{name: "changed created", signed: signedV2, tamper: func(d map[string]any) { proof(d)["created"] = "2025-01-15T09:30:01Z" }, want: []error{credential.ErrSignature}},
		{name: "changed verificationMethod", signed: signedV2, tamper: func(d map[string]any) { proof(d)["verificationMethod"] = issuerDID + "#other" }, want: []error{credential.ErrSignature}},
		{name: "changed verificationMethod to the same key", signed: signedV1, tamper: func(d map[string]any) { proof(d)["verificationMethod"] = issuerDID + "#ed-2020" }, want: []error{credential.ErrSignature}},
		{name: "changed purpose", signed: signedV2, tamper: func(d map[string]any) { proof(d)["proofPurpose"] = "authentication" }, want: []error{credential.ErrSignature}},
		{name: "changed purpose, expected", signed: signedV2, tamper: func(d map[string]any) {
			proof(d)["proofPurpose"] = "authentication"
			proof(d)["verificationMethod"] = issuerDID + "#auth-only"
		}, opts: func(o *ldp.VerifyOptions) { o.ProofPurpose = did.Authentication }, want: []error{credential.ErrSignature}},
		{name: "added proof member", signed: signedV2, tamper: func(d map[string]any) { proof(d)["domain"] = "https://verifier.example" }, want: []error{credential.ErrSignature}},
		{name: "removed created", signed: signedV2, tamper: func(d map[string]any) { delete(proof(d), "created") }, want: []error{credential.ErrSignature}},
		{name: "changed cryptosuite", signed: signedV2, tamper: func(d map[string]any) { proof(d)["cryptosuite"] = ldp.SuiteECDSARDFC2019 }, want: []error{credential.ErrSignature}},
		{name: "key not under assertionMethod", signed: signedAuth, want: []error{credential.ErrSignature}},
		{name: "controller mismatch", signed: signedV2, opts: func(o *ldp.VerifyOptions) { o.Controller = "did:web:other.example" }, want: []error{credential.ErrSignature}},
		{name: "method of another controller", signed: signedV2, opts: func(o *ldp.VerifyOptions) { o.Methods = methods{issuerDID + "#ed": foreign} }, want: []error{credential.ErrSignature}},
		{name: "resolver answers another method", signed: signedV2, opts: func(o *ldp.VerifyOptions) { o.Methods = liar }, want: []error{credential.ErrSignature}},
		{name: "method of another DID claiming the issuer as controller", signed: signedImpostor, opts: func(o *ldp.VerifyOptions) { o.Methods = methods{impostor.ID: impostor} }, want: []error{credential.ErrSignature}},
		{name: "method of another DID claiming its controller, no controller expected", signed: signedImpostor, opts: func(o *ldp.VerifyOptions) { o.Methods, o.Controller = methods{impostor.ID: impostor}, "" }, want: []error{credential.ErrSignature}},
		{name: "unknown verification method", signed: signedV2, tamper: func(d map[string]any) { proof(d)["verificationMethod"] = issuerDID + "#nope" }, want: []error{credential.ErrSignature, did.ErrNotFound}},
		{name: "method type unfit for suite", signed: signedEdJWK, want: []error{credential.ErrSignature}},
		{name: "key type unfit for suite", signed: signedWrongKey, want: []error{credential.ErrSignature}},
		{name: "suite not allowed", signed: signedV2, opts: func(o *ldp.VerifyOptions) { o.Suites = []string{ldp.SuiteECDSARDFC2019} }, want: []error{ldp.ErrUnsupportedSuite}},
		{name: "legacy suite not allowed", signed: signedV1, opts: func(o *ldp.VerifyOptions) { o.Suites = []string{ldp.SuiteEdDSARDFC2022, ldp.SuiteECDSARDFC2019} }, want: []error{ldp.ErrUnsupportedSuite}},
		{name: "truncated proofValue", signed: signedV2, tamper: func(d map[string]any) { pv := proof(d)["proofValue"].(string); proof(d)["proofValue"] = pv[:len(pv)-4] }, want: []error{credential.ErrSignature}},
		{name: "truncated P-256 proofValue", signed: signedP256, tamper: func(d map[string]any) { pv := proof(d)["proofValue"].(string); proof(d)["proofValue"] = pv[:len(pv)-1] }, want: []error{credential.ErrSignature}},
		{name: "flipped signature bit", signed: signedV2, tamper: func(d map[string]any) { proof(d)["proofValue"] = flip(t, proof(d)["proofValue"].(string)) }, want: []error{credential.ErrSignature}},
		{name: "flipped P-256 signature bit", signed: signedP256, tamper: func(d map[string]any) { proof(d)["proofValue"] = flip(t, proof(d)["proofValue"].(string)) }, want: []error{credential.ErrSignature}},
		{name: "base64url proofValue", signed: signedV2, tamper: func(d map[string]any) {
			sig, err := multibase.Decode(proof(d)["proofValue"].(string))
			if err != nil {
				t.Fatal(err)
			}
			proof(d)["proofValue"] = multibase.EncodeBase64URL(sig)
		}, want: []error{credential.ErrMalformed}},
		{name: "proofValue not base58", signed: signedV2, tamper: func(d map[string]any) { proof(d)["proofValue"] = "z0OIl" }, want: []error{credential.ErrMalformed}},
		{name: "missing challenge", signed: signedV2, opts: func(o *ldp.VerifyOptions) { o.Challenge = "n-0S6_WzA2Mj" }, want: []error{credential.ErrSignature}},
		{name: "wrong challenge", signed: signedBound, opts: func(o *ldp.VerifyOptions) { o.Challenge = "other" }, want: []error{credential.ErrSignature}},
		{name: "wrong domain", signed: signedBound, opts: func(o *ldp.VerifyOptions) { o.Domain = "https://other.example" }, want: []error{credential.ErrSignature}},
		{name: "expired proof", signed: signedV2, tamper: func(d map[string]any) { proof(d)["expires"] = "2025-02-01T00:00:00Z" }, want: []error{credential.ErrSignature}},
		{name: "malformed created", signed: signedV2, tamper: func(d map[string]any) { proof(d)["created"] = "2025-01-15 09:30:00" }, want: []error{credential.ErrMalformed}},
		{name: "created without time zone", signed: signedV2, tamper: func(d map[string]any) { proof(d)["created"] = "2025-01-15T09:30:00" }, want: []error{credential.ErrMalformed}},
		{name: "impossible created", signed: signedV2, tamper: func(d map[string]any) { proof(d)["created"] = "2025-02-30T09:30:00Z" }, want: []error{credential.ErrMalformed}},
		{name: "no proof", signed: signedV2, tamper: func(d map[string]any) { delete(d, "proof") }, want: []error{credential.ErrMalformed}},
		{name: "proof set", signed: signedV2, tamper: func(d map[string]any) { d["proof"] = []any{d["proof"], signedByOther["proof"]} }, want: []error{credential.ErrMalformed}},
		{name: "proof array of one", signed: signedV2, tamper: func(d map[string]any) { d["proof"] = []any{d["proof"]} }},
		{name: "proof chain", signed: signedV2, tamper: func(d map[string]any) { proof(d)["previousProof"] = "urn:uuid:1" }, want: []error{credential.ErrMalformed}},
		{name: "proof not an object", signed: signedV2, tamper: func(d map[string]any) { d["proof"] = "z123" }, want: []error{credential.ErrMalformed}},
		{name: "unknown proof type", signed: signedV2, tamper: func(d map[string]any) { proof(d)["type"] = "Ed25519Signature2018" }, want: []error{ldp.ErrUnsupportedSuite}},
		{name: "unknown cryptosuite", signed: signedV2, tamper: func(d map[string]any) { proof(d)["cryptosuite"] = "eddsa-jcs-2022" }, want: []error{ldp.ErrUnsupportedSuite}},
		{name: "DataIntegrityProof without cryptosuite", signed: signedV2, tamper: func(d map[string]any) { delete(proof(d), "cryptosuite") }, want: []error{credential.ErrMalformed}},
		{name: "Ed25519Signature2020 with cryptosuite", signed: signedV1, tamper: func(d map[string]any) { proof(d)["cryptosuite"] = ldp.SuiteEdDSARDFC2022 }, want: []error{credential.ErrMalformed}},
		{name: "DataIntegrityProof on a VCDM 1.1 document", signed: signedV2, tamper: func(d map[string]any) { d["@context"] = signedV1["@context"] }, want: []error{credential.ErrMalformed}},
		{name: "Ed25519Signature2020 without its context", signed: signedV1, tamper: func(d map[string]any) {
			c := d["@context"].([]any)
			d["@context"] = []any{c[0], c[2], c[3]}
		}, want: []error{credential.ErrMalformed}},
		{name: "proof context not a prefix", signed: signedV2, tamper: func(d map[string]any) { proof(d)["@context"] = []any{nationalIDContext} }, want: []error{credential.ErrMalformed}},
		{name: "proof context a prefix", signed: signedV2, tamper: func(d map[string]any) { proof(d)["@context"] = []any{jsonld.CredentialsV2} }},
		{name: "verificationMethod not a URL", signed: signedV2, tamper: func(d map[string]any) { proof(d)["verificationMethod"] = "key-1" }, want: []error{credential.ErrMalformed}},
		{name: "verificationMethod an object", signed: signedV2, tamper: func(d map[string]any) { proof(d)["verificationMethod"] = map[string]any{"id": issuerDID + "#ed"} }, want: []error{credential.ErrMalformed}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			doc := clone(t, tt.signed)
			if tt.tamper != nil {
				tt.tamper(doc)
			}
			o := opts
			if tt.opts != nil {
				tt.opts(&o)
			}
			o.Now = func() time.Time { return created.AddDate(0, 1, 0) }
			_, err := ldp.Verify(ctx, doc, o)
			if len(tt.want) == 0 {
				if err != nil {
					t.Errorf("Verify error: %v", err)
				}
				return
			}
			for _, want := range tt.want {
				if !errors.Is(err, want) {
					t.Errorf("Verify = %v, want %v", err, want)
				}
			}
		})
	}
}

func without(doc map[string]any, key string) map[string]any {
	out := map[string]any{}
	for k, v := range doc {
		if k != key {
			out[k] = v
		}
	}
	return out
}

// flip flips the last bit of a base58btc proofValue's signature.
func flip(t testing.TB, pv string) string {
	t.Helper()
	sig, err := multibase.Decode(pv)
	if err != nil {
		t.Fatal(err)
	}
	sig[len(sig)-1] ^= 1
	return multibase.EncodeBase58(sig)
}

// TestSignErrors: Sign refuses what would give a proof nobody can verify.
func TestSignErrors(t *testing.T) {
	l := testLoader(t)
	ed := credtest.NewSigner(t, "EdDSA", issuerDID+"#ed")
	p256 := credtest.NewSigner(t, "ES256", issuerDID+"#p256")
	tests := []struct {
		name   string
		doc    map[string]any
		signer credential.Signer
		opts   ldp.SignOptions
		want   error
	}{
		{"unknown suite", credentialV2(t), ed, ldp.SignOptions{Suite: "eddsa-jcs-2022", Created: created}, ldp.ErrUnsupportedSuite},
		{"Ed25519 key for ECDSA", credentialV2(t), ed, ldp.SignOptions{Suite: ldp.SuiteECDSARDFC2019, Created: created}, ldp.ErrUnsupportedSuite},
		{"P-256 key for EdDSA", credentialV2(t), p256, ldp.SignOptions{Suite: ldp.SuiteEdDSARDFC2022, Created: created}, ldp.ErrUnsupportedSuite},
		{"P-256 key for Ed25519Signature2020", credentialV1(t), p256, ldp.SignOptions{Suite: ldp.SuiteEd25519Signature2020, Created: created}, ldp.ErrUnsupportedSuite},
		{"already signed", func() map[string]any { d := credentialV2(t); d["proof"] = map[string]any{}; return d }(), ed, ldp.SignOptions{Suite: ldp.SuiteEdDSARDFC2022, Created: created}, credential.ErrMalformed},
		{"no context", without(credentialV2(t), "@context"), ed, ldp.SignOptions{Suite: ldp.SuiteEdDSARDFC2022, Created: created}, credential.ErrMalformed},
		{"DataIntegrityProof on VCDM 1.1 without data integrity context", credentialV1(t), ed, ldp.SignOptions{Suite: ldp.SuiteEdDSARDFC2022, Created: created}, credential.ErrMalformed},
		{"Ed25519Signature2020 without its context", credentialV2(t), ed, ldp.SignOptions{Suite: ldp.SuiteEd25519Signature2020, Created: created}, credential.ErrMalformed},
		{"undefined term", func() map[string]any { d := credentialV2(t); d["isAdmin"] = true; return d }(), ed, ldp.SignOptions{Suite: ldp.SuiteEdDSARDFC2022, Created: created}, jsonld.ErrUndefinedTerm},
		{"unknown context", func() map[string]any {
			d := credentialV2(t)
			d["@context"] = append(d["@context"].([]any), "https://unknown.contexts.test/v1")
			return d
		}(), ed, ldp.SignOptions{Suite: ldp.SuiteEdDSARDFC2022, Created: created}, jsonld.ErrUnknownContext},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ldp.Sign(context.Background(), l, tt.doc, tt.signer, tt.opts)
			if !errors.Is(err, tt.want) {
				t.Errorf("Sign = %v, want %v", err, tt.want)
			}
		})
	}
	for name, o := range map[string]ldp.SignOptions{
		"no created":             {Suite: ldp.SuiteEdDSARDFC2022},
		"relative method":        {Suite: ldp.SuiteEdDSARDFC2022, Created: created, VerificationMethod: "#key-1"},
		"method with whitespace": {Suite: ldp.SuiteEdDSARDFC2022, Created: created, VerificationMethod: "did:web:a b#k"},
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := ldp.Sign(context.Background(), l, credentialV2(t), ed, o); err == nil {
				t.Errorf("Sign(%+v) succeeded, want an error", o)
			}
		})
	}
}

// TestSuiteAlg: the algorithm of each suite's key.
func TestSuiteAlg(t *testing.T) {
	for suite, want := range map[string]string{
		ldp.SuiteEdDSARDFC2022:        "EdDSA",
		ldp.SuiteECDSARDFC2019:        "ES256",
		ldp.SuiteEd25519Signature2020: "EdDSA",
	} {
		if got, err := ldp.SuiteAlg(suite); got != want || err != nil {
			t.Errorf("SuiteAlg(%s) = %q, %v, want %q", suite, got, err, want)
		}
	}
	if _, err := ldp.SuiteAlg("bbs-2023"); !errors.Is(err, ldp.ErrUnsupportedSuite) {
		t.Errorf("SuiteAlg(bbs-2023) = %v, want %v", err, ldp.ErrUnsupportedSuite)
	}
}

// TestParseProof reads a proof without verifying it.
func TestParseProof(t *testing.T) {
	l := testLoader(t)
	ed := credtest.NewSigner(t, "EdDSA", issuerDID+"#ed")
	signed, err := ldp.Sign(context.Background(), l, credentialV2(t), ed, ldp.SignOptions{Suite: ldp.SuiteEdDSARDFC2022, Created: created, Domain: "https://verifier.example"})
	if err != nil {
		t.Fatal(err)
	}
	p, err := ldp.ParseProof(signed)
	if err != nil {
		t.Fatalf("ParseProof error: %v", err)
	}
	if p.Type != ldp.TypeDataIntegrityProof || p.Suite != ldp.SuiteEdDSARDFC2022 || p.VerificationMethod != issuerDID+"#ed" ||
		p.ProofPurpose != ldp.ProofPurposeAssertion || !p.Created.Equal(created) || len(p.Signature) != 64 ||
		len(p.Domain) != 1 || p.Domain[0] != "https://verifier.example" {
		t.Errorf("ParseProof = %+v", p)
	}
}

// TestVerifyOptionsRequired: a verifier without a loader or resolver is
// a programming error, reported, never a pass.
func TestVerifyOptionsRequired(t *testing.T) {
	doc := credentialV2(t)
	if _, err := ldp.Verify(context.Background(), doc, ldp.VerifyOptions{Methods: methods{}}); err == nil {
		t.Errorf("Verify without Loader succeeded")
	}
	if _, err := ldp.Verify(context.Background(), doc, ldp.VerifyOptions{Loader: testLoader(t)}); err == nil {
		t.Errorf("Verify without Methods succeeded")
	}
}

// TestBenchCredentialsMatchJSONLDJS: the benchmark credentials
// canonicalize to the bytes jsonld.js computes (testdata/README.md), so
// that a proof Sanad makes is one digitalbazaar checks, and back.
func TestBenchCredentialsMatchJSONLDJS(t *testing.T) {
	l := testLoader(t)
	for _, name := range []string{"bench-credential-v2", "bench-credential-v1"} {
		t.Run(name, func(t *testing.T) {
			got, err := l.Canonicalize(readDoc(t, filepath.Join("testdata", name+".json")))
			if err != nil {
				t.Fatalf("Canonicalize error: %v", err)
			}
			if want := string(readFile(t, filepath.Join("testdata", name+".nq"))); got != want {
				t.Errorf("Canonicalize(%s) =\n%s\nwant (jsonld.js)\n%s", name, got, want)
			}
		})
	}
}
