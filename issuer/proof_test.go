package issuer

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/hmac"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"errors"
	"math/big"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/lestrrat-go/jwx/v3/jwk"

	"github.com/sanad-id/sanad/credential/did"
)

const (
	pfIssuer = "https://issuer.example/vci"
	pfClient = "wallet-app"
	pfNonce  = "n-0S6_WzA2Mj"
)

var pfNow = time.Date(2030, 5, 6, 7, 8, 9, 0, time.UTC)

// pfKey is a holder key that signs proofs.
type pfKey struct {
	alg  string
	priv crypto.Signer
	pub  jwk.Key
}

func newPfKey(t testing.TB, alg string) *pfKey {
	t.Helper()
	var priv crypto.Signer
	var err error
	switch alg {
	case "ES256":
		priv, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	case "ES384":
		priv, err = ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	case "EdDSA":
		_, priv, err = ed25519.GenerateKey(rand.Reader)
	case "RS256":
		priv, err = rsa.GenerateKey(rand.Reader, 2048)
	default:
		t.Fatalf("newPfKey: alg %s", alg)
	}
	if err != nil {
		t.Fatal(err)
	}
	pub, err := jwk.Import(priv.Public())
	if err != nil {
		t.Fatal(err)
	}
	return &pfKey{alg: alg, priv: priv, pub: pub}
}

func (k *pfKey) thumbprint(t testing.TB) string {
	t.Helper()
	tp, err := k.pub.Thumbprint(crypto.SHA256)
	if err != nil {
		t.Fatal(err)
	}
	return base64.RawURLEncoding.EncodeToString(tp)
}

// sign signs input for alg with k (alg may differ from k.alg, to forge).
func (k *pfKey) sign(t testing.TB, alg string, input []byte) []byte {
	t.Helper()
	switch alg {
	case "ES256", "ES384":
		var digest []byte
		size := 32
		if alg == "ES256" {
			d := sha256.Sum256(input)
			digest = d[:]
		} else {
			d := sha512.Sum384(input)
			digest, size = d[:], 48
		}
		r, s, err := ecdsa.Sign(rand.Reader, k.priv.(*ecdsa.PrivateKey), digest)
		if err != nil {
			t.Fatal(err)
		}
		out := make([]byte, 2*size)
		r.FillBytes(out[:size])
		s.FillBytes(out[size:])
		return out
	case "EdDSA":
		return ed25519.Sign(k.priv.(ed25519.PrivateKey), input)
	case "RS256":
		d := sha256.Sum256(input)
		sig, err := rsa.SignPKCS1v15(rand.Reader, k.priv.(*rsa.PrivateKey), crypto.SHA256, d[:])
		if err != nil {
			t.Fatal(err)
		}
		return sig
	}
	t.Fatalf("sign: alg %s", alg)
	return nil
}

// pfJWS encodes header and claims and signs them with sign (nil: no
// signature).
func pfJWS(t testing.TB, header, claims any, sign func(input []byte) []byte) string {
	t.Helper()
	h, err := json.Marshal(header)
	if err != nil {
		t.Fatal(err)
	}
	c, err := json.Marshal(claims)
	if err != nil {
		t.Fatal(err)
	}
	enc := base64.RawURLEncoding
	input := enc.EncodeToString(h) + "." + enc.EncodeToString(c)
	var sig []byte
	if sign != nil {
		sig = sign([]byte(input))
	}
	return input + "." + enc.EncodeToString(sig)
}

func pfClaims() map[string]any {
	return map[string]any{"iss": pfClient, "aud": pfIssuer, "iat": pfNow.Unix(), "nonce": pfNonce}
}

// pfProof is a proof by k naming its key in the jwk header.
func pfProof(t testing.TB, k *pfKey, change func(h, c map[string]any)) string {
	t.Helper()
	h := map[string]any{"typ": ProofTyp, "alg": k.alg, "jwk": k.pub}
	c := pfClaims()
	if change != nil {
		change(h, c)
	}
	alg, _ := h["alg"].(string)
	return pfJWS(t, h, c, func(in []byte) []byte { return k.sign(t, alg, in) })
}

func pfRules() proofRules {
	return proofRules{
		Audience:  pfIssuer,
		Algs:      []string{"ES256", "EdDSA", "RS256"},
		ClientID:  pfClient,
		Now:       pfNow,
		IATWindow: 5 * time.Minute,
	}
}

// pfCert makes a self-signed certificate for k.
func pfCert(t testing.TB, k *pfKey) []byte {
	t.Helper()
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "wallet key"},
		NotBefore:    pfNow.Add(-time.Hour),
		NotAfter:     pfNow.Add(time.Hour),
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, k.priv.Public(), k.priv)
	if err != nil {
		t.Fatal(err)
	}
	return der
}

func TestCheckProofAccepts(t *testing.T) {
	es := newPfKey(t, "ES256")
	ed := newPfKey(t, "EdDSA")
	rs := newPfKey(t, "RS256")
	edDID, err := did.KeyDID(ed.priv.Public())
	if err != nil {
		t.Fatal(err)
	}
	esDID, err := did.JWKDID(es.pub)
	if err != nil {
		t.Fatal(err)
	}
	cert := base64.StdEncoding.EncodeToString(pfCert(t, es))
	withKID := func(kid string) func(h, c map[string]any) {
		return func(h, c map[string]any) { delete(h, "jwk"); h["kid"] = kid }
	}
	tests := []struct {
		name    string
		key     *pfKey
		change  func(h, c map[string]any)
		rules   func(r *proofRules)
		wantDID string
	}{
		{name: "jwk ES256", key: es},
		{name: "jwk EdDSA", key: ed},
		{name: "jwk RS256", key: rs},
		{name: "jwk ES384", key: newPfKey(t, "ES384"), rules: func(r *proofRules) { r.Algs = append(r.Algs, "ES384") }},
		{name: "did:key with fragment", key: ed, change: withKID(edDID + "#" + strings.TrimPrefix(edDID, "did:key:")), wantDID: edDID},
		{name: "did:key without fragment", key: ed, change: withKID(edDID), wantDID: edDID},
		{name: "did:jwk", key: es, change: withKID(esDID + "#0"), wantDID: esDID},
		{name: "x5c", key: es, change: func(h, c map[string]any) { delete(h, "jwk"); h["x5c"] = []string{cert} }},
		{name: "x5c chain", key: es, change: func(h, c map[string]any) { delete(h, "jwk"); h["x5c"] = []string{cert, cert} }},
		{name: "aud array", key: es, change: func(h, c map[string]any) { c["aud"] = []string{"https://other.example", pfIssuer} }},
		{name: "aud with trailing slash", key: es, change: func(h, c map[string]any) { c["aud"] = pfIssuer + "/" }},
		{name: "no iss", key: es, change: func(h, c map[string]any) { delete(c, "iss") }},
		{name: "iss without client", key: es, change: func(h, c map[string]any) { c["iss"] = "anyone" }, rules: func(r *proofRules) { r.ClientID = "" }},
		{name: "typ with application/", key: es, change: func(h, c map[string]any) { h["typ"] = "application/" + ProofTyp }},
		{name: "iat at the window's edge", key: es, change: func(h, c map[string]any) { c["iat"] = pfNow.Add(-5 * time.Minute).Unix() }},
		{name: "iat slightly ahead", key: es, change: func(h, c map[string]any) { c["iat"] = pfNow.Add(time.Minute).Unix() }},
		{name: "exp in the future", key: es, change: func(h, c map[string]any) { c["exp"] = pfNow.Add(time.Minute).Unix() }},
		{name: "binding method listed", key: ed, change: withKID(edDID), rules: func(r *proofRules) { r.BindingMethods = []string{BindingDIDKey} }, wantDID: edDID},
		{name: "jwk allowed by did:jwk", key: es, rules: func(r *proofRules) { r.BindingMethods = []string{BindingDIDJWK} }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := pfRules()
			if tc.rules != nil {
				tc.rules(&r)
			}
			proof := pfProof(t, tc.key, tc.change)
			hk, nonce, err := checkProof(context.Background(), proof, r)
			if err != nil {
				t.Fatalf("checkProof(%s) = %v, want success", tc.name, err)
			}
			if nonce != pfNonce {
				t.Errorf("checkProof(%s) nonce = %q, want %q", tc.name, nonce, pfNonce)
			}
			if want := tc.key.thumbprint(t); hk.Thumbprint != want {
				t.Errorf("checkProof(%s) thumbprint = %s, want %s", tc.name, hk.Thumbprint, want)
			}
			if hk.DID != tc.wantDID {
				t.Errorf("checkProof(%s) DID = %q, want %q", tc.name, hk.DID, tc.wantDID)
			}
			if got := hk.JWK.Keys(); len(got) > 4 {
				t.Errorf("checkProof(%s) JWK members = %v, want only the key's", tc.name, got)
			}
		})
	}
}

func TestCheckProofRefuses(t *testing.T) {
	es := newPfKey(t, "ES256")
	es384 := newPfKey(t, "ES384")
	ed := newPfKey(t, "EdDSA")
	other := newPfKey(t, "ES256")
	otherEd := newPfKey(t, "EdDSA")
	edDID, _ := did.KeyDID(ed.priv.Public())
	privJWK, _ := jwk.Import(es.priv)
	pubJSON, _ := json.Marshal(es.pub)

	withAlgs := func(algs ...string) func(r *proofRules) { return func(r *proofRules) { r.Algs = algs } }
	tests := []struct {
		name  string
		cause string // in the logged cause: the check that failed
		proof string
		rules func(r *proofRules)
	}{
		{name: "empty", cause: "empty", proof: ""},
		{name: "two parts", cause: "not a signed compact JWS", proof: strings.Join(strings.Split(pfProof(t, es, nil), ".")[:2], ".")},
		{name: "too large", cause: "larger than", proof: pfProof(t, es, func(h, c map[string]any) { c["pad"] = strings.Repeat("a", maxProofSize) })},
		{name: "alg none, unsigned", cause: "not a signed compact JWS", proof: pfJWS(t, map[string]any{"typ": ProofTyp, "alg": "none", "jwk": es.pub}, pfClaims(), nil),
			rules: withAlgs("none", "ES256")},
		{name: "alg none, with a signature", cause: "alg \"none\" not allowed", proof: pfJWS(t, map[string]any{"typ": ProofTyp, "alg": "none", "jwk": es.pub}, pfClaims(), func([]byte) []byte { return []byte("sig") }),
			rules: withAlgs("none", "ES256")},
		{name: "HS256 keyed with the public key", cause: "alg \"HS256\" not allowed", proof: pfJWS(t, map[string]any{"typ": ProofTyp, "alg": "HS256", "jwk": es.pub}, pfClaims(), func(in []byte) []byte {
			m := hmac.New(sha256.New, pubJSON)
			m.Write(in)
			return m.Sum(nil)
		}), rules: withAlgs("HS256", "ES256")},
		{name: "alg not allowed by the configuration", cause: "alg \"ES384\" not allowed", proof: pfProof(t, es384, nil), rules: withAlgs("ES256")},
		{name: "no alg allowed", cause: "not allowed", proof: pfProof(t, es, nil), rules: withAlgs()},
		{name: "alg does not fit the key", cause: "does not fit alg", proof: pfJWS(t, map[string]any{"typ": ProofTyp, "alg": "ES256", "jwk": ed.pub}, pfClaims(), func(in []byte) []byte { return es.sign(t, "ES256", in) })},
		{name: "kid and jwk", cause: "exactly one of", proof: pfProof(t, ed, func(h, c map[string]any) { h["kid"] = edDID })},
		{name: "jwk and x5c", cause: "exactly one of", proof: pfProof(t, es, func(h, c map[string]any) { h["x5c"] = []string{base64.StdEncoding.EncodeToString(pfCert(t, es))} })},
		{name: "no key", cause: "exactly one of", proof: pfProof(t, es, func(h, c map[string]any) { delete(h, "jwk") })},
		{name: "private jwk", cause: "private member \"d\"", proof: pfProof(t, es, func(h, c map[string]any) { h["jwk"] = privJWK })},
		{name: "symmetric jwk", cause: "private member \"k\"", proof: pfProof(t, es, func(h, c map[string]any) { h["jwk"] = map[string]any{"kty": "oct", "k": "c2VjcmV0"} })},
		{name: "jwk not an object", cause: "jwk: not a JSON object", proof: pfProof(t, es, func(h, c map[string]any) { h["jwk"] = "key" })},
		{name: "jwk null", cause: "jwk: not a JSON object", proof: pfProof(t, es, func(h, c map[string]any) { h["jwk"] = nil })},
		{name: "jwk EC point off the curve", cause: "jwk: ", proof: pfProof(t, es, func(h, c map[string]any) {
			one := base64.RawURLEncoding.EncodeToString(append(make([]byte, 31), 1))
			h["jwk"] = map[string]any{"kty": "EC", "crv": "P-256", "x": one, "y": one}
		})},
		{name: "jwk EC x short", cause: "x is not 32 bytes", proof: pfProof(t, es, func(h, c map[string]any) {
			h["jwk"] = map[string]any{"kty": "EC", "crv": "P-256", "x": "AQ", "y": base64.RawURLEncoding.EncodeToString(make([]byte, 32))}
		})},
		{name: "jwk EC without y", cause: "without x or y", proof: pfProof(t, es, func(h, c map[string]any) {
			h["jwk"] = map[string]any{"kty": "EC", "crv": "P-256", "x": base64.RawURLEncoding.EncodeToString(make([]byte, 32))}
		})},
		{name: "jwk Ed25519 x long", cause: "x is not 32 bytes", proof: pfProof(t, ed, func(h, c map[string]any) {
			h["jwk"] = map[string]any{"kty": "OKP", "crv": "Ed25519", "x": base64.RawURLEncoding.EncodeToString(make([]byte, 33))}
		})},
		{name: "signed by another key than the header's", cause: "signature", proof: pfProof(t, other, func(h, c map[string]any) { h["jwk"] = es.pub })},
		{name: "kid not a DID", cause: "kid: did: invalid DID", proof: pfProof(t, ed, func(h, c map[string]any) { delete(h, "jwk"); h["kid"] = "key-1" })},
		{name: "kid did:web", cause: "not resolved offline", proof: pfProof(t, ed, func(h, c map[string]any) { delete(h, "jwk"); h["kid"] = "did:web:wallet.example#key-1" })},
		{name: "kid did:key of another key", cause: "signature", proof: pfProof(t, otherEd, func(h, c map[string]any) { delete(h, "jwk"); h["kid"] = edDID })},
		{name: "kid not a string", cause: "kid header is not a string", proof: pfProof(t, ed, func(h, c map[string]any) { delete(h, "jwk"); h["kid"] = 7 })},
		{name: "x5c not base64", cause: "x5c[0] is not base64", proof: pfProof(t, es, func(h, c map[string]any) { delete(h, "jwk"); h["x5c"] = []string{"!!"} })},
		{name: "x5c not a certificate", cause: "x5c[0]: x509", proof: pfProof(t, es, func(h, c map[string]any) { delete(h, "jwk"); h["x5c"] = []string{"AAAA"} })},
		{name: "x5c chain with a bad certificate", cause: "x5c[1]: x509", proof: pfProof(t, es, func(h, c map[string]any) {
			delete(h, "jwk")
			h["x5c"] = []string{base64.StdEncoding.EncodeToString(pfCert(t, es)), "AAAA"}
		})},
		{name: "x5c empty", cause: "0 certificates", proof: pfProof(t, es, func(h, c map[string]any) { delete(h, "jwk"); h["x5c"] = []string{} })},
		{name: "x5c of another key", cause: "signature", proof: pfProof(t, es, func(h, c map[string]any) {
			delete(h, "jwk")
			h["x5c"] = []string{base64.StdEncoding.EncodeToString(pfCert(t, other))}
		})},
		{name: "typ JWT", cause: "typ", proof: pfProof(t, es, func(h, c map[string]any) { h["typ"] = "JWT" })},
		{name: "typ dpop+jwt", cause: "typ", proof: pfProof(t, es, func(h, c map[string]any) { h["typ"] = "dpop+jwt" })},
		{name: "no typ", cause: "typ", proof: pfProof(t, es, func(h, c map[string]any) { delete(h, "typ") })},
		{name: "crit header", cause: "crit", proof: pfProof(t, es, func(h, c map[string]any) { h["crit"] = []string{"nonce"} })},
		{name: "wrong aud", cause: "not the credential issuer", proof: pfProof(t, es, func(h, c map[string]any) { c["aud"] = "https://other.example" })},
		{name: "aud prefix of the issuer", cause: "not the credential issuer", proof: pfProof(t, es, func(h, c map[string]any) { c["aud"] = "https://issuer.example" })},
		{name: "no aud", cause: "not the credential issuer", proof: pfProof(t, es, func(h, c map[string]any) { delete(c, "aud") })},
		{name: "aud not a string", cause: "aud is neither", proof: pfProof(t, es, func(h, c map[string]any) { c["aud"] = 1 })},
		{name: "no nonce", cause: "no nonce", proof: pfProof(t, es, func(h, c map[string]any) { delete(c, "nonce") })},
		{name: "empty nonce", cause: "no nonce", proof: pfProof(t, es, func(h, c map[string]any) { c["nonce"] = "" })},
		{name: "nonce not a string", cause: "nonce", proof: pfProof(t, es, func(h, c map[string]any) { c["nonce"] = 42 })},
		{name: "nonce too long", cause: "nonce longer", proof: pfProof(t, es, func(h, c map[string]any) { c["nonce"] = strings.Repeat("n", maxProofNonce+1) })},
		{name: "stale iat", cause: "outside", proof: pfProof(t, es, func(h, c map[string]any) { c["iat"] = pfNow.Add(-5*time.Minute - time.Second).Unix() })},
		{name: "future iat", cause: "outside", proof: pfProof(t, es, func(h, c map[string]any) { c["iat"] = pfNow.Add(6 * time.Minute).Unix() })},
		{name: "no iat", cause: "no iat", proof: pfProof(t, es, func(h, c map[string]any) { delete(c, "iat") })},
		{name: "iat not a number", cause: "NumericDate", proof: pfProof(t, es, func(h, c map[string]any) { c["iat"] = "now" })},
		{name: "expired", cause: "expired at", proof: pfProof(t, es, func(h, c map[string]any) { c["exp"] = pfNow.Add(-time.Second).Unix() })},
		{name: "iss not the client", cause: "not the token's client", proof: pfProof(t, es, func(h, c map[string]any) { c["iss"] = "another-client" })},
		{name: "claims not an object", cause: "claims: not a JSON object", proof: pfJWS(t, map[string]any{"typ": ProofTyp, "alg": "ES256", "jwk": es.pub}, []string{"x"}, func(in []byte) []byte { return es.sign(t, "ES256", in) })},
		{name: "binding method not listed", cause: "binding method did:key", proof: pfProof(t, ed, func(h, c map[string]any) { delete(h, "jwk"); h["kid"] = edDID }),
			rules: func(r *proofRules) { r.BindingMethods = []string{BindingJWK} }},
		{name: "jwk binding not listed", cause: "binding method jwk", proof: pfProof(t, es, nil), rules: func(r *proofRules) { r.BindingMethods = []string{BindingDIDKey} }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := pfRules()
			if tc.rules != nil {
				tc.rules(&r)
			}
			hk, nonce, err := checkProof(context.Background(), tc.proof, r)
			var e *Error
			if !errors.As(err, &e) || e.Code != CodeInvalidProof || e.Status != http.StatusBadRequest {
				t.Fatalf("checkProof(%s) = %v, %q, %v, want invalid_proof", tc.name, hk, nonce, err)
			}
			if e.Description != proofDescription {
				t.Errorf("checkProof(%s) description = %q, want %q (the same for every failure)", tc.name, e.Description, proofDescription)
			}
			if e.Cause == nil || !strings.Contains(e.Cause.Error(), tc.cause) {
				t.Errorf("checkProof(%s) cause = %v, want one containing %q", tc.name, e.Cause, tc.cause)
			}
		})
	}
}

// TestVerifyProof checks the Issuer method takes its rules from the
// configuration, the issuer and the token.
func TestVerifyProof(t *testing.T) {
	es := newPfKey(t, "ES256")
	is := &Issuer{cfg: Config{CredentialIssuer: pfIssuer, Now: func() time.Time { return pfNow }}}
	c := &Configuration{ID: "c", ProofAlgs: []string{"ES256"}, BindingMethods: []string{BindingJWK}}
	tok := &AccessToken{ClientID: pfClient}

	hk, nonce, err := is.verifyProof(context.Background(), pfProof(t, es, nil), c, tok)
	if err != nil || nonce != pfNonce || hk.Thumbprint != es.thumbprint(t) {
		t.Fatalf("verifyProof() = %v, %q, %v, want the key and nonce", hk, nonce, err)
	}
	// Zero ProofIATWindow means the default.
	old := pfProof(t, es, func(h, c map[string]any) { c["iat"] = pfNow.Add(-DefaultProofIATWindow - time.Second).Unix() })
	if _, _, err := is.verifyProof(context.Background(), old, c, tok); !errors.Is(err, &Error{Code: CodeInvalidProof}) {
		t.Errorf("verifyProof(iat older than the default window) = %v, want invalid_proof", err)
	}
	is.cfg.ProofIATWindow = time.Hour
	if _, _, err := is.verifyProof(context.Background(), old, c, tok); err != nil {
		t.Errorf("verifyProof(iat within ProofIATWindow) = %v", err)
	}
	// The token's client binds iss; an anonymous token does not.
	other := pfProof(t, es, func(h, c map[string]any) { c["iss"] = "other" })
	if _, _, err := is.verifyProof(context.Background(), other, c, tok); err == nil {
		t.Error("verifyProof(iss of another client) succeeded, want invalid_proof")
	}
	if _, _, err := is.verifyProof(context.Background(), other, c, &AccessToken{}); err != nil {
		t.Errorf("verifyProof(iss, anonymous token) = %v", err)
	}
	// The configuration's algorithms apply.
	c.ProofAlgs = []string{"EdDSA"}
	if _, _, err := is.verifyProof(context.Background(), pfProof(t, es, nil), c, tok); err == nil {
		t.Error("verifyProof(ES256, configuration allows EdDSA) succeeded, want invalid_proof")
	}
}

func TestCheckDistinctProofKeys(t *testing.T) {
	a, b := &HolderKey{Thumbprint: "a"}, &HolderKey{Thumbprint: "b"}
	if err := checkDistinctProofKeys([]*HolderKey{a, b, nil, nil}); err != nil {
		t.Errorf("checkDistinctProofKeys(a, b, nil, nil) = %v, want nil", err)
	}
	err := checkDistinctProofKeys([]*HolderKey{a, b, {Thumbprint: "a"}})
	var e *Error
	if !errors.As(err, &e) || e.Code != CodeInvalidProof {
		t.Errorf("checkDistinctProofKeys(a, b, a) = %v, want invalid_proof", err)
	}
}

// FuzzCheckProof feeds arbitrary proofs to checkProof: no panic, every
// failure an invalid_proof with the one safe description, and a success
// always with a key and a nonce.
func FuzzCheckProof(f *testing.F) {
	es := newPfKey(f, "ES256")
	ed := newPfKey(f, "EdDSA")
	edDID, _ := did.KeyDID(ed.priv.Public())
	esDID, _ := did.JWKDID(es.pub)
	f.Add(pfProof(f, es, nil))
	f.Add(pfProof(f, ed, func(h, c map[string]any) { delete(h, "jwk"); h["kid"] = edDID }))
	f.Add(pfProof(f, es, func(h, c map[string]any) { delete(h, "jwk"); h["kid"] = esDID + "#0" }))
	f.Add(pfProof(f, es, func(h, c map[string]any) {
		delete(h, "jwk")
		h["x5c"] = []string{base64.StdEncoding.EncodeToString(pfCert(f, es))}
	}))
	f.Add(pfJWS(f, map[string]any{"typ": ProofTyp, "alg": "none"}, pfClaims(), nil))
	f.Add("eyJhbGciOiJFUzI1NiJ9.e30.c2ln")
	f.Add("..")
	f.Add("")
	f.Fuzz(func(t *testing.T, proof string) {
		hk, nonce, err := checkProof(context.Background(), proof, pfRules())
		if err != nil {
			var e *Error
			if !errors.As(err, &e) || e.Code != CodeInvalidProof || e.Description != proofDescription {
				t.Fatalf("checkProof(%q) = %v, want invalid_proof with the safe description", proof, err)
			}
			return
		}
		if hk == nil || hk.JWK == nil || hk.Thumbprint == "" || nonce == "" {
			t.Fatalf("checkProof(%q) = %+v, %q, want a key and a nonce", proof, hk, nonce)
		}
	})
}

func BenchmarkCheckProofES256(b *testing.B) {
	es := newPfKey(b, "ES256")
	proof := pfProof(b, es, nil)
	ctx := context.Background()
	r := pfRules()
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := checkProof(ctx, proof, r); err != nil {
			b.Fatal(err)
		}
	}
}
