package jwtvc

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/lestrrat-go/jwx/v3/jwk"

	"github.com/sanad-id/sanad/credential"
	"github.com/sanad-id/sanad/credential/credtest"
	"github.com/sanad-id/sanad/credential/did"
)

const (
	testIssuer = "https://issuer.example/sanad"
	holderDID  = "did:key:z6MkiTBz1ymuepAQ4HEHYSF1H8quG5GLVVQR3djdX3mDooWp"
)

var (
	t0     = time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	t0Plus = t0.Add(365 * 24 * time.Hour)
)

func fixedNow(t time.Time) func() time.Time { return func() time.Time { return t } }

func holderKey(t testing.TB) jwk.Key {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	pub, err := jwk.Import(&k.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	return pub
}

// sample is a complete credential.
func sample(t testing.TB) Credential {
	return Credential{
		ID:         "urn:uuid:3978344f-8596-4c3a-a978-8fcaba3903c5",
		Issuer:     testIssuer,
		Types:      []string{"VerifiableCredential", "NationalIDCredential"},
		Contexts:   []string{ContextV1, "https://issuer.example/contexts/national-id.jsonld"},
		Subject:    map[string]any{"fullName": "Amina K.", "address": map[string]any{"locality": "Rabat"}},
		SubjectID:  holderDID,
		IssuedAt:   t0,
		ValidFrom:  t0,
		ValidUntil: t0Plus,
		Status: map[string]any{
			"id": "https://issuer.example/status/1#42", "type": "BitstringStatusListEntry", "statusPurpose": "revocation",
			"statusListIndex": "42", "statusListCredential": "https://issuer.example/status/1",
		},
		HolderJWK: holderKey(t),
	}
}

func opts(signers ...*credtest.Signer) VerifyOptions {
	return VerifyOptions{Keys: credtest.Resolver(signers...), Algs: []string{"ES256", "EdDSA"}, Now: fixedNow(t0.Add(time.Hour))}
}

func decodePart(t *testing.T, jwt string, i int) map[string]any {
	t.Helper()
	raw, err := base64.RawURLEncoding.DecodeString(strings.Split(jwt, ".")[i])
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func thumb(t *testing.T, k jwk.Key) string {
	t.Helper()
	if k == nil {
		return ""
	}
	tp, err := k.Thumbprint(crypto.SHA256)
	if err != nil {
		t.Fatal(err)
	}
	return base64.RawURLEncoding.EncodeToString(tp)
}

func TestIssueVerify(t *testing.T) {
	for _, alg := range []string{"ES256", "EdDSA"} {
		t.Run(alg, func(t *testing.T) {
			s := credtest.NewSigner(t, alg, "issuer-key-1")
			in := sample(t)
			jwt, err := Issue(context.Background(), s, in)
			if err != nil {
				t.Fatalf("Issue() = %v", err)
			}
			v, err := Verify(context.Background(), jwt, opts(s))
			if err != nil {
				t.Fatalf("Verify(Issue()) = %v", err)
			}
			got := v.Credential
			if thumb(t, got.HolderJWK) != thumb(t, in.HolderJWK) {
				t.Errorf("Verify(Issue()).HolderJWK thumbprint = %s, want %s", thumb(t, got.HolderJWK), thumb(t, in.HolderJWK))
			}
			got.HolderJWK, in.HolderJWK = nil, nil
			// JSON numbers and nested objects come back as JSON decodes them.
			if !reflect.DeepEqual(got, in) {
				t.Errorf("Verify(Issue(c)).Credential = %+v, want %+v", got, in)
			}
			if v.Header["typ"] != "JWT" || v.Header["alg"] != alg || v.Header["kid"] != "issuer-key-1" {
				t.Errorf("Verify().Header = %v, want typ JWT, alg %s, kid issuer-key-1", v.Header, alg)
			}
		})
	}
}

// TestIssueClaims pins the claims set Issue writes (VC-JWT 1.1 encoding).
func TestIssueClaims(t *testing.T) {
	s := credtest.NewSigner(t, "ES256", "k1")
	in := sample(t)
	in.IssuedAt = t0.Add(-time.Minute)
	jwt, err := Issue(context.Background(), s, in)
	if err != nil {
		t.Fatalf("Issue() = %v", err)
	}
	got := decodePart(t, jwt, 1)
	cnf, _ := got["cnf"].(map[string]any)
	if cnf == nil || cnf["jwk"] == nil {
		t.Fatalf("Issue() claims cnf = %v, want cnf.jwk", got["cnf"])
	}
	delete(got, "cnf")
	want := map[string]any{
		"iss": testIssuer,
		"sub": holderDID,
		"jti": in.ID,
		"nbf": float64(t0.Unix()),
		"iat": float64(t0.Add(-time.Minute).Unix()),
		"exp": float64(t0Plus.Unix()),
		"vc": map[string]any{
			"@context":       []any{ContextV1, "https://issuer.example/contexts/national-id.jsonld"},
			"id":             in.ID,
			"type":           []any{"VerifiableCredential", "NationalIDCredential"},
			"issuer":         testIssuer,
			"issuanceDate":   "2030-01-02T03:04:05Z",
			"expirationDate": "2031-01-02T03:04:05Z",
			"credentialSubject": map[string]any{
				"id": holderDID, "fullName": "Amina K.", "address": map[string]any{"locality": "Rabat"},
			},
			"credentialStatus": in.Status,
		},
	}
	if !reflect.DeepEqual(got, want) {
		gj, _ := json.MarshalIndent(got, "", "  ")
		wj, _ := json.MarshalIndent(want, "", "  ")
		t.Errorf("Issue() claims = %s, want %s", gj, wj)
	}
	if h := decodePart(t, jwt, 0); h["typ"] != "JWT" {
		t.Errorf("Issue() header typ = %v, want JWT", h["typ"])
	}

	// A minimal credential: no id, subject id, expiry, status or holder key.
	min := Credential{Issuer: testIssuer, Types: []string{"VerifiableCredential"}, ValidFrom: t0, Subject: map[string]any{"a": "b"}}
	jwt, err = Issue(context.Background(), s, min)
	if err != nil {
		t.Fatalf("Issue(minimal) = %v", err)
	}
	got = decodePart(t, jwt, 1)
	for _, absent := range []string{"sub", "jti", "exp", "cnf"} {
		if _, ok := got[absent]; ok {
			t.Errorf("Issue(minimal) claims have %s = %v, want none", absent, got[absent])
		}
	}
	vc := got["vc"].(map[string]any)
	if ctx := vc["@context"].([]any); len(ctx) != 1 || ctx[0] != ContextV1 {
		t.Errorf("Issue(minimal) vc.@context = %v, want [%s]", ctx, ContextV1)
	}
	for _, absent := range []string{"id", "expirationDate", "credentialStatus"} {
		if _, ok := vc[absent]; ok {
			t.Errorf("Issue(minimal) vc has %s, want none", absent)
		}
	}
	if got["iat"] != float64(t0.Unix()) {
		t.Errorf("Issue(minimal) iat = %v, want ValidFrom %d", got["iat"], t0.Unix())
	}
}

func TestIssueRefuses(t *testing.T) {
	s := credtest.NewSigner(t, "ES256", "k1")
	priv, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	privJWK, _ := jwk.Import(priv)
	tests := []struct {
		name   string
		change func(c *Credential)
	}{
		{"no issuer", func(c *Credential) { c.Issuer = "" }},
		{"no VerifiableCredential type", func(c *Credential) { c.Types = []string{"NationalIDCredential"} }},
		{"wrong first context", func(c *Credential) { c.Contexts = []string{"https://www.w3.org/ns/credentials/v2"} }},
		{"no valid from", func(c *Credential) { c.ValidFrom = time.Time{} }},
		{"valid until before valid from", func(c *Credential) { c.ValidUntil = c.ValidFrom.Add(-time.Second) }},
		{"subject id in subject", func(c *Credential) { c.Subject = map[string]any{"id": "did:example:1"} }},
		{"private holder key", func(c *Credential) { c.HolderJWK = privJWK }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := sample(t)
			tc.change(&c)
			if jwt, err := Issue(context.Background(), s, c); err == nil {
				t.Errorf("Issue(%s) = %.40q, want an error", tc.name, jwt)
			}
		})
	}
	if _, err := Issue(context.Background(), nil, sample(t)); err == nil {
		t.Error("Issue(nil signer) succeeded, want an error")
	}
}

// signClaims signs arbitrary claims with s, to forge credentials that are
// well signed but wrong.
func signClaims(t *testing.T, s credential.Signer, header map[string]any, claims any) string {
	t.Helper()
	payload, err := json.Marshal(claims)
	if err != nil {
		t.Fatal(err)
	}
	jwt, err := s.SignJWS(context.Background(), payload, header)
	if err != nil {
		t.Fatal(err)
	}
	return jwt
}

// sampleClaims returns the claims Issue writes for sample, as a map to
// change.
func sampleClaims(t *testing.T, s credential.Signer) map[string]any {
	t.Helper()
	jwt, err := Issue(context.Background(), s, sample(t))
	if err != nil {
		t.Fatal(err)
	}
	return decodePart(t, jwt, 1)
}

func encodeJWS(header, payload map[string]any, sig []byte) string {
	h, _ := json.Marshal(header)
	p, _ := json.Marshal(payload)
	enc := base64.RawURLEncoding
	return enc.EncodeToString(h) + "." + enc.EncodeToString(p) + "." + enc.EncodeToString(sig)
}

func TestVerifyRefuses(t *testing.T) {
	s := credtest.NewSigner(t, "ES256", "k1")
	other := credtest.NewSigner(t, "ES256", "k1") // same kid, another key
	ed := credtest.NewSigner(t, "EdDSA", "k2")
	good, err := Issue(context.Background(), s, sample(t))
	if err != nil {
		t.Fatal(err)
	}
	parts := strings.Split(good, ".")
	claims := func(change func(m map[string]any)) map[string]any {
		m := sampleClaims(t, s)
		change(m)
		return m
	}
	vc := func(m map[string]any) map[string]any { return m["vc"].(map[string]any) }
	typJWT := map[string]any{"typ": "JWT"}

	// HS256 "signed" with the issuer's public key: the classic algorithm
	// confusion attack.
	pubJSON, _ := json.Marshal(mustJWK(t, s.Public()))
	hsHeader := map[string]any{"alg": "HS256", "kid": "k1", "typ": "JWT"}
	hsUnsigned := strings.Join(strings.Split(encodeJWS(hsHeader, sampleClaims(t, s), nil), ".")[:2], ".")
	mac := hmac.New(sha256.New, pubJSON)
	mac.Write([]byte(hsUnsigned))
	hs256 := hsUnsigned + "." + base64.RawURLEncoding.EncodeToString(mac.Sum(nil))

	edToken, err := Issue(context.Background(), ed, sample(t))
	if err != nil {
		t.Fatal(err)
	}
	es384Header := strings.Split(encodeJWS(map[string]any{"alg": "ES384", "kid": "k1", "typ": "JWT"}, nil, nil), ".")[0]

	tests := []struct {
		name  string
		token string
		opts  VerifyOptions
		want  error
	}{
		{"empty", "", opts(s), credential.ErrMalformed},
		{"two parts", parts[0] + "." + parts[1], opts(s), credential.ErrMalformed},
		{"four parts", good + ".x", opts(s), credential.ErrMalformed},
		{"too large", parts[0] + "." + strings.Repeat("A", MaxSize) + "." + parts[2], opts(s), credential.ErrMalformed},
		{"padded base64", parts[0] + "=." + parts[1] + "." + parts[2], opts(s), credential.ErrMalformed},
		{"payload changed", parts[0] + "." + base64.RawURLEncoding.EncodeToString([]byte(`{"iss":"`+testIssuer+`","vc":{}}`)) + "." + parts[2], opts(s), credential.ErrSignature},
		{"signature changed", parts[0] + "." + parts[1] + "." + flip(parts[2]), opts(s), credential.ErrSignature},
		{"alg none without signature", encodeJWS(map[string]any{"alg": "none"}, sampleClaims(t, s), nil), withAlgs(opts(s), "none", "ES256"), credential.ErrMalformed},
		{"alg none with signature", encodeJWS(map[string]any{"alg": "none"}, sampleClaims(t, s), []byte("x")), withAlgs(opts(s), "none", "ES256"), credential.ErrSignature},
		{"HS256 with the public key", hs256, withAlgs(opts(s), "HS256", "ES256"), credential.ErrSignature},
		{"alg not in options", edToken, withAlgs(opts(ed), "ES256"), credential.ErrSignature},
		{"alg does not fit key", es384Header + "." + parts[1] + "." + parts[2], withAlgs(opts(s), "ES256", "ES384"), credential.ErrSignature},
		{"signed by another key", good, opts(other), credential.ErrSignature},
		{"unknown kid", good, opts(ed), credential.ErrSignature},
		{"no algs", good, withAlgs(opts(s)), credential.ErrSignature},
		{"no resolver", good, VerifyOptions{Algs: []string{"ES256"}}, credential.ErrSignature},
		{"expired", good, withNow(opts(s), t0Plus.Add(time.Second)), credential.ErrExpired},
		{"not yet valid", good, withNow(opts(s), t0.Add(-time.Second)), credential.ErrNotYetValid},
		{"typ dpop+jwt", signClaims(t, s, map[string]any{"typ": "dpop+jwt"}, sampleClaims(t, s)), opts(s), credential.ErrMalformed},
		{"crit header", signClaims(t, s, map[string]any{"typ": "JWT", "crit": []string{"exp"}}, sampleClaims(t, s)), opts(s), credential.ErrMalformed},
		{"claims not an object", signClaims(t, s, typJWT, []string{"a"}), opts(s), credential.ErrMalformed},
		{"no iss", signClaims(t, s, typJWT, claims(func(m map[string]any) { delete(m, "iss") })), opts(s), credential.ErrMalformed},
		{"no vc", signClaims(t, s, typJWT, claims(func(m map[string]any) { delete(m, "vc") })), opts(s), credential.ErrMalformed},
		{"iss and vc.issuer differ", signClaims(t, s, typJWT, claims(func(m map[string]any) { vc(m)["issuer"] = "https://evil.example" })), opts(s), credential.ErrMalformed},
		{"iss and vc.issuer.id differ", signClaims(t, s, typJWT, claims(func(m map[string]any) { vc(m)["issuer"] = map[string]any{"id": "https://evil.example"} })), opts(s), credential.ErrMalformed},
		{"jti and vc.id differ", signClaims(t, s, typJWT, claims(func(m map[string]any) { vc(m)["id"] = "urn:uuid:other" })), opts(s), credential.ErrMalformed},
		{"sub and credentialSubject.id differ", signClaims(t, s, typJWT, claims(func(m map[string]any) { m["sub"] = "did:example:other" })), opts(s), credential.ErrMalformed},
		{"credentialSubject.id not a string", signClaims(t, s, typJWT, claims(func(m map[string]any) { vc(m)["credentialSubject"].(map[string]any)["id"] = 7 })), opts(s), credential.ErrMalformed},
		{"nbf and issuanceDate differ", signClaims(t, s, typJWT, claims(func(m map[string]any) { m["nbf"] = float64(t0.Unix() - 60) })), opts(s), credential.ErrMalformed},
		{"exp and expirationDate differ", signClaims(t, s, typJWT, claims(func(m map[string]any) { vc(m)["expirationDate"] = "2040-01-01T00:00:00Z" })), opts(s), credential.ErrMalformed},
		{"issuanceDate not a date", signClaims(t, s, typJWT, claims(func(m map[string]any) { vc(m)["issuanceDate"] = "yesterday" })), opts(s), credential.ErrMalformed},
		{"no validity start", signClaims(t, s, typJWT, claims(func(m map[string]any) { delete(m, "nbf"); delete(vc(m), "issuanceDate") })), opts(s), credential.ErrMalformed},
		{"nbf not a number", signClaims(t, s, typJWT, claims(func(m map[string]any) { m["nbf"] = "soon" })), opts(s), credential.ErrMalformed},
		{"wrong context", signClaims(t, s, typJWT, claims(func(m map[string]any) { vc(m)["@context"] = []string{"https://www.w3.org/ns/credentials/v2"} })), opts(s), credential.ErrMalformed},
		{"no VerifiableCredential type", signClaims(t, s, typJWT, claims(func(m map[string]any) { vc(m)["type"] = []string{"Other"} })), opts(s), credential.ErrMalformed},
		{"credentialSubject not an object", signClaims(t, s, typJWT, claims(func(m map[string]any) { vc(m)["credentialSubject"] = "x" })), opts(s), credential.ErrMalformed},
		{"private cnf.jwk", signClaims(t, s, typJWT, claims(func(m map[string]any) { m["cnf"] = map[string]any{"jwk": mustJWK(t, s.Private())} })), opts(s), credential.ErrMalformed},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			v, err := Verify(context.Background(), tc.token, tc.opts)
			if !errors.Is(err, tc.want) {
				t.Errorf("Verify(%s) = %v, %v, want %v", tc.name, v, err, tc.want)
			}
		})
	}
}

func TestVerifyLeeway(t *testing.T) {
	s := credtest.NewSigner(t, "ES256", "k1")
	jwt, err := Issue(context.Background(), s, sample(t))
	if err != nil {
		t.Fatal(err)
	}
	for _, now := range []time.Time{t0.Add(-30 * time.Second), t0Plus.Add(30 * time.Second)} {
		o := withNow(opts(s), now)
		o.Leeway = time.Minute
		if _, err := Verify(context.Background(), jwt, o); err != nil {
			t.Errorf("Verify(at %s, leeway 1m) = %v, want success", now, err)
		}
	}
}

// didSigner signs with a credtest key under a DID URL kid.
type didSigner struct {
	*credtest.Signer
	kid string
}

func (d didSigner) KeyID() string { return d.kid }

func (d didSigner) SignJWS(ctx context.Context, payload []byte, header map[string]any) (string, error) {
	h := map[string]any{"alg": d.Alg(), "kid": d.kid}
	for k, v := range header {
		h[k] = v
	}
	hj, _ := json.Marshal(h)
	enc := base64.RawURLEncoding
	input := enc.EncodeToString(hj) + "." + enc.EncodeToString(payload)
	sig, err := d.Sign(ctx, []byte(input))
	if err != nil {
		return "", err
	}
	return input + "." + enc.EncodeToString(sig), nil
}

// TestVerifyDIDIssuer verifies a credential whose issuer is a did:key with
// the offline DID resolver.
func TestVerifyDIDIssuer(t *testing.T) {
	for _, alg := range []string{"EdDSA", "ES256"} {
		t.Run(alg, func(t *testing.T) {
			base := credtest.NewSigner(t, alg, "")
			issuer, err := did.KeyDID(base.Public())
			if err != nil {
				t.Fatal(err)
			}
			s := didSigner{base, issuer + "#" + strings.TrimPrefix(issuer, "did:key:")}
			c := sample(t)
			c.Issuer = issuer
			jwt, err := Issue(context.Background(), s, c)
			if err != nil {
				t.Fatalf("Issue() = %v", err)
			}
			o := VerifyOptions{Keys: did.NewOfflineResolver(), Algs: []string{alg}, Now: fixedNow(t0)}
			if _, err := Verify(context.Background(), jwt, o); err != nil {
				t.Errorf("Verify(did:key issuer) = %v", err)
			}
			// Another did:key claiming to be the issuer is refused.
			impostor := credtest.NewSigner(t, alg, "")
			c.Issuer, _ = did.KeyDID(impostor.Public())
			jwt, err = Issue(context.Background(), s, c)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := Verify(context.Background(), jwt, o); !errors.Is(err, credential.ErrSignature) {
				t.Errorf("Verify(kid of another DID than iss) = %v, want ErrSignature", err)
			}
		})
	}
}

func mustJWK(t *testing.T, key any) jwk.Key {
	t.Helper()
	k, err := jwk.Import(key)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func withAlgs(o VerifyOptions, algs ...string) VerifyOptions { o.Algs = algs; return o }

func withNow(o VerifyOptions, now time.Time) VerifyOptions { o.Now = fixedNow(now); return o }

// flip changes the first character of a base64url string.
func flip(s string) string {
	if s[0] == 'A' {
		return "B" + s[1:]
	}
	return "A" + s[1:]
}

func BenchmarkIssueES256(b *testing.B) {
	s := credtest.NewSigner(b, "ES256", "k1")
	c := sample(b)
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Issue(ctx, s, c); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkVerifyES256(b *testing.B) {
	s := credtest.NewSigner(b, "ES256", "k1")
	jwt, err := Issue(context.Background(), s, sample(b))
	if err != nil {
		b.Fatal(err)
	}
	o := opts(s)
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Verify(ctx, jwt, o); err != nil {
			b.Fatal(err)
		}
	}
}
