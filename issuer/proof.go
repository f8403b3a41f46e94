package issuer

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/sanad-id/sanad/internal/josekey"
	"github.com/sanad-id/sanad/internal/jwtclaims"
	"slices"
	"strings"
	"time"

	"github.com/lestrrat-go/jwx/v3/jwa"
	"github.com/lestrrat-go/jwx/v3/jwk"
	"github.com/lestrrat-go/jwx/v3/jws"

	"github.com/sanad-id/sanad/credential/did"
)

// ProofTyp is the typ header of an OpenID4VCI proof JWT (Appendix F.1).
const ProofTyp = "openid4vci-proof+jwt"

// maxProofSize bounds a proof JWT; an x5c chain of a few certificates fits
// well within it.
const maxProofSize = 32 << 10

// maxProofX5C is the longest x5c chain accepted in a proof.
const maxProofX5C = 10

// maxProofNonce bounds the nonce claim (Sanad's nonces are 43 characters).
const maxProofNonce = 512

// proofSafeAlgs are the only algorithms a proof may use, whatever a
// configuration lists: asymmetric signatures. "none" and MAC algorithms
// (HS256, ...) would let anyone, or anyone knowing the public key, make a
// proof.
var proofSafeAlgs = []string{"ES256", "ES384", "ES512", "EdDSA", "Ed25519", "PS256", "PS384", "PS512", "RS256", "RS384", "RS512"}

// Binding methods of cryptographic_binding_methods_supported.
const (
	BindingJWK    = "jwk"
	BindingDIDKey = "did:key"
	BindingDIDJWK = "did:jwk"
)

// proofDescription is the description of every invalid_proof error of a
// proof JWT: the client is not told which check failed (the cause, which
// is logged, says).
const proofDescription = "proof is invalid"

// proofRules are what a proof JWT must satisfy.
type proofRules struct {
	// Audience is the credential issuer identifier.
	Audience string
	// Algs are the configuration's proof_signing_alg_values_supported.
	Algs []string
	// BindingMethods are the configuration's
	// cryptographic_binding_methods_supported; empty allows all.
	BindingMethods []string
	// ClientID is the access token's client, empty for anonymous
	// pre-authorized access.
	ClientID string
	Now      time.Time
	// IATWindow is how far iat may be from Now, either way.
	IATWindow time.Duration
}

// verifyProof checks a proof JWT (OpenID4VCI 1.0 Appendix F.1) for
// configuration c presented with token tok and returns the holder key and
// the proof's nonce, which the caller consumes. Every failure is
// invalid_proof.
func (is *Issuer) verifyProof(ctx context.Context, jwt string, c *Configuration, tok *AccessToken) (*HolderKey, string, error) {
	r := proofRules{
		Audience:       is.cfg.CredentialIssuer,
		Algs:           c.ProofAlgs,
		BindingMethods: c.BindingMethods,
		Now:            is.now(),
		IATWindow:      is.cfg.ProofIATWindow,
	}
	if r.IATWindow <= 0 {
		r.IATWindow = DefaultProofIATWindow
	}
	if tok != nil {
		r.ClientID = tok.ClientID
	}
	return checkProof(ctx, jwt, r)
}

// proofClaims are the claims of a proof JWT.
type proofClaims struct {
	Iss   *string       `json:"iss"`
	Aud   proofAudience `json:"aud"`
	Iat   *proofDate    `json:"iat"`
	Exp   *proofDate    `json:"exp"`
	Nonce *string       `json:"nonce"`
}

// checkProof is verifyProof with its rules spelled out.
func checkProof(ctx context.Context, jwt string, r proofRules) (*HolderKey, string, error) {
	fail := func(format string, args ...any) error {
		return errProof(proofDescription, fmt.Errorf("proof JWT: "+format, args...))
	}
	if jwt == "" {
		return nil, "", fail("empty")
	}
	if len(jwt) > maxProofSize {
		return nil, "", fail("larger than %d bytes", maxProofSize)
	}
	h64, rest, ok1 := strings.Cut(jwt, ".")
	p64, s64, ok2 := strings.Cut(rest, ".")
	if !ok1 || !ok2 || strings.Contains(s64, ".") || s64 == "" {
		return nil, "", fail("not a signed compact JWS")
	}
	enc := base64.RawURLEncoding.Strict()
	rawHeader, err := enc.DecodeString(h64)
	if err != nil {
		return nil, "", fail("header is not base64url")
	}
	var h map[string]json.RawMessage
	if err := josekey.DecodeObject(rawHeader, &h); err != nil {
		return nil, "", fail("header: %v", err)
	}
	for _, name := range []string{"crit", "b64", "zip"} {
		if _, ok := h[name]; ok {
			return nil, "", fail("%s header not supported", name)
		}
	}
	var typ, alg string
	if err := proofHeaderString(h, "typ", &typ); err != nil || !strings.EqualFold(strings.TrimPrefix(strings.ToLower(typ), "application/"), ProofTyp) {
		return nil, "", fail("typ %q, want %s", proofTruncate(typ), ProofTyp)
	}
	if err := proofHeaderString(h, "alg", &alg); err != nil || !slices.Contains(proofSafeAlgs, alg) || !slices.Contains(r.Algs, alg) {
		return nil, "", fail("alg %q not allowed (configuration allows %v)", proofTruncate(alg), r.Algs)
	}

	hk, raw, method, err := proofKey(ctx, h)
	if err != nil {
		return nil, "", fail("%v", err)
	}
	if !bindingAllowed(r.BindingMethods, method) {
		return nil, "", fail("binding method %s not supported by the configuration (%v)", method, r.BindingMethods)
	}
	pub, err := josekey.ForAlg(raw, alg)
	if err != nil {
		return nil, "", fail("%v", err)
	}
	a, ok := jwa.LookupSignatureAlgorithm(alg)
	if !ok {
		return nil, "", fail("alg %s not supported", alg)
	}
	payload, err := jws.VerifyCompactFast(pub, []byte(jwt), a)
	if err != nil {
		return nil, "", fail("signature: %v", err)
	}
	if _, err := enc.DecodeString(p64); err != nil {
		return nil, "", fail("payload is not base64url")
	}

	var c proofClaims
	if err := josekey.DecodeObject(payload, &c); err != nil {
		return nil, "", fail("claims: %v", err)
	}
	if !c.Aud.contains(r.Audience) {
		return nil, "", fail("aud %q is not the credential issuer %s", proofTruncateList(c.Aud), r.Audience)
	}
	if c.Iat == nil {
		return nil, "", fail("no iat")
	}
	iat := c.Iat.Time()
	if iat.Before(r.Now.Add(-r.IATWindow)) || iat.After(r.Now.Add(r.IATWindow)) {
		return nil, "", fail("iat %s outside %s of now (%s)", iat.UTC().Format(time.RFC3339), r.IATWindow, r.Now.UTC().Format(time.RFC3339))
	}
	if c.Exp != nil && !r.Now.Before(c.Exp.Time()) {
		return nil, "", fail("expired at %s", c.Exp.Time().UTC().Format(time.RFC3339))
	}
	if c.Nonce == nil || *c.Nonce == "" {
		return nil, "", fail("no nonce")
	}
	if len(*c.Nonce) > maxProofNonce {
		return nil, "", fail("nonce longer than %d bytes", maxProofNonce)
	}
	if c.Iss != nil && r.ClientID != "" && *c.Iss != r.ClientID {
		return nil, "", fail("iss %q is not the token's client %q", proofTruncate(*c.Iss), r.ClientID)
	}
	return hk, *c.Nonce, nil
}

// proofKey finds the key a proof names by exactly one of kid (a did:key or
// did:jwk DID URL), jwk (a public key) or x5c (a certificate chain whose
// leaf holds the key), and returns it, as a HolderKey and as the bare public
// key, with the binding method it used.
func proofKey(ctx context.Context, h map[string]json.RawMessage) (*HolderKey, any, string, error) {
	_, hasKID := h["kid"]
	_, hasJWK := h["jwk"]
	_, hasX5C := h["x5c"]
	n := 0
	for _, has := range []bool{hasKID, hasJWK, hasX5C} {
		if has {
			n++
		}
	}
	if n != 1 {
		return nil, nil, "", errors.New("the header must have exactly one of kid, jwk and x5c")
	}
	var (
		pub    any
		holder = &HolderKey{}
		method string
	)
	switch {
	case hasKID:
		var kid string
		if err := proofHeaderString(h, "kid", &kid); err != nil {
			return nil, nil, "", err
		}
		u, err := did.Parse(kid)
		if err != nil {
			return nil, nil, "", fmt.Errorf("kid: %w", err)
		}
		switch u.Method {
		case "key":
			method = BindingDIDKey
		case "jwk":
			method = BindingDIDJWK
		default:
			return nil, nil, "", fmt.Errorf("kid: did:%s is not resolved offline (did:key and did:jwk are)", proofTruncate(u.Method))
		}
		k, err := did.NewOfflineResolver().ResolveURL(ctx, u)
		if err != nil {
			return nil, nil, "", fmt.Errorf("kid: %w", err)
		}
		if err := jwk.Export(k, &pub); err != nil {
			return nil, nil, "", fmt.Errorf("kid: %w", err)
		}
		holder.DID = u.DID()
	case hasJWK:
		method = BindingJWK
		var err error
		if pub, err = parseProofJWK(h["jwk"]); err != nil {
			return nil, nil, "", err
		}
	case hasX5C:
		// The certificate's key is bound as a key, like a jwk: trust in
		// the chain is a matter of wallet attestation, not of the proof.
		method = BindingJWK
		leaf, err := parseX5C(h["x5c"])
		if err != nil {
			return nil, nil, "", err
		}
		pub = leaf.PublicKey
	}
	// A fresh JWK of the bare public key: no kid, alg or x5c from the
	// wallet travels into cnf.jwk.
	k, err := jwk.Import(pub)
	if err != nil {
		return nil, nil, "", fmt.Errorf("key: %w", err)
	}
	if private, err := jwk.IsPrivateKey(k); err != nil || private {
		return nil, nil, "", errors.New("key is not a public key")
	}
	tp, err := publicKeyThumbprint(pub, k)
	if err != nil {
		return nil, nil, "", fmt.Errorf("key thumbprint: %w", err)
	}
	holder.JWK = k
	holder.Thumbprint = tp
	return holder, pub, method, nil
}

// bindingAllowed reports whether a proof's binding method is one the
// configuration lists. A jwk and a did:jwk are the same key written two
// ways, so either entry allows both.
func bindingAllowed(allowed []string, method string) bool {
	if len(allowed) == 0 {
		return true
	}
	switch method {
	case BindingJWK, BindingDIDJWK:
		return slices.Contains(allowed, BindingJWK) || slices.Contains(allowed, BindingDIDJWK)
	}
	return slices.Contains(allowed, method)
}

// proofPrivateMembers are the members of private or symmetric JWKs (RFC 7518
// section 6).
var proofPrivateMembers = []string{"d", "p", "q", "dp", "dq", "qi", "oth", "k"}

// parseProofJWK parses the jwk header, a public EC, OKP or RSA key, and
// returns the key (*ecdsa.PublicKey, ed25519.PublicKey or *rsa.PublicKey).
// EC keys of the NIST curves and Ed25519 keys, what wallets send, are
// decoded here; parsing them through jwx took a fifth of the time of a
// proof check. Other keys go through jwx.
func parseProofJWK(raw json.RawMessage) (any, error) {
	var members map[string]json.RawMessage
	if err := josekey.DecodeObject(raw, &members); err != nil {
		return nil, fmt.Errorf("jwk: %v", err)
	}
	for _, m := range proofPrivateMembers {
		if _, ok := members[m]; ok {
			return nil, fmt.Errorf("jwk has the private member %q", m)
		}
	}
	if pub, ok, err := parseProofJWKFast(members); ok || err != nil {
		return pub, err
	}
	k, err := jwk.ParseKey(raw)
	if err != nil {
		return nil, fmt.Errorf("jwk: %w", err)
	}
	switch k.KeyType() {
	case jwa.EC(), jwa.OKP(), jwa.RSA():
	default:
		return nil, fmt.Errorf("jwk kty %s not allowed", k.KeyType())
	}
	if private, err := jwk.IsPrivateKey(k); err != nil || private {
		return nil, errors.New("jwk is not a public key")
	}
	var pub any
	if err := jwk.Export(k, &pub); err != nil {
		return nil, fmt.Errorf("jwk: %w", err)
	}
	return pub, nil
}

// proofCurves are the curves of the EC keys parseProofJWKFast decodes.
var proofCurves = map[string]elliptic.Curve{"P-256": elliptic.P256(), "P-384": elliptic.P384(), "P-521": elliptic.P521()}

// parseProofJWKFast decodes the members of an EC key of a NIST curve or of
// an Ed25519 key. ok is false, with no error, for any other key, which
// parseProofJWK leaves to jwx.
func parseProofJWKFast(members map[string]json.RawMessage) (pub any, ok bool, err error) {
	str := func(name string) (string, bool) {
		raw, present := members[name]
		if !present {
			return "", false
		}
		var v string
		if json.Unmarshal(raw, &v) != nil {
			return "", false
		}
		return v, true
	}
	kty, _ := str("kty")
	crv, _ := str("crv")
	enc := base64.RawURLEncoding.Strict()
	switch {
	case kty == "EC" && proofCurves[crv] != nil:
		curve := proofCurves[crv]
		size := (curve.Params().BitSize + 7) / 8
		x64, okX := str("x")
		y64, okY := str("y")
		if !okX || !okY {
			return nil, true, errors.New("jwk: EC key without x or y")
		}
		point := make([]byte, 1, 1+2*size)
		point[0] = 4
		if point, err = enc.AppendDecode(point, []byte(x64)); err != nil || len(point) != 1+size {
			return nil, true, fmt.Errorf("jwk: x is not %d bytes of base64url", size)
		}
		if point, err = enc.AppendDecode(point, []byte(y64)); err != nil || len(point) != 1+2*size {
			return nil, true, fmt.Errorf("jwk: y is not %d bytes of base64url", size)
		}
		k, err := ecdsa.ParseUncompressedPublicKey(curve, point)
		if err != nil {
			return nil, true, fmt.Errorf("jwk: %w", err)
		}
		return k, true, nil
	case kty == "OKP" && crv == "Ed25519":
		x64, okX := str("x")
		if !okX {
			return nil, true, errors.New("jwk: OKP key without x")
		}
		x, err := enc.DecodeString(x64)
		if err != nil || len(x) != ed25519.PublicKeySize {
			return nil, true, fmt.Errorf("jwk: x is not %d bytes of base64url", ed25519.PublicKeySize)
		}
		return ed25519.PublicKey(x), true, nil
	}
	return nil, false, nil
}

// publicKeyThumbprint is the base64url SHA-256 RFC 7638 thumbprint of pub,
// whose JWK is k. The thumbprints of EC and Ed25519 keys are computed here,
// others by jwx.
func publicKeyThumbprint(pub any, k jwk.Key) (string, error) {
	enc := base64.RawURLEncoding
	var b []byte
	switch pub := pub.(type) {
	case *ecdsa.PublicKey:
		var crv string
		switch pub.Curve {
		case elliptic.P256():
			crv = "P-256"
		case elliptic.P384():
			crv = "P-384"
		case elliptic.P521():
			crv = "P-521"
		}
		point, err := pub.Bytes()
		if crv == "" || err != nil {
			break
		}
		size := (len(point) - 1) / 2
		b = append(b, `{"crv":"`+crv+`","kty":"EC","x":"`...)
		b = enc.AppendEncode(b, point[1:1+size])
		b = append(b, `","y":"`...)
		b = enc.AppendEncode(b, point[1+size:])
		b = append(b, `"}`...)
	case ed25519.PublicKey:
		b = append(b, `{"crv":"Ed25519","kty":"OKP","x":"`...)
		b = enc.AppendEncode(b, pub)
		b = append(b, `"}`...)
	}
	if b == nil {
		tp, err := k.Thumbprint(crypto.SHA256)
		if err != nil {
			return "", err
		}
		return enc.EncodeToString(tp), nil
	}
	sum := sha256.Sum256(b)
	return enc.EncodeToString(sum[:]), nil
}

// parseX5C parses an x5c header (RFC 7515 section 4.1.6: standard base64
// DER certificates, leaf first) and returns the leaf. Every certificate
// must parse; whether the chain is trusted is not evaluated here (a proof
// proves possession of the key, not who holds it).
func parseX5C(raw json.RawMessage) (*x509.Certificate, error) {
	var chain []string
	if err := json.Unmarshal(raw, &chain); err != nil {
		return nil, errors.New("x5c is not an array of strings")
	}
	if len(chain) == 0 || len(chain) > maxProofX5C {
		return nil, fmt.Errorf("x5c has %d certificates, want 1 to %d", len(chain), maxProofX5C)
	}
	var leaf *x509.Certificate
	for i, c := range chain {
		der, err := base64.StdEncoding.Strict().DecodeString(c)
		if err != nil {
			return nil, fmt.Errorf("x5c[%d] is not base64", i)
		}
		cert, err := x509.ParseCertificate(der)
		if err != nil {
			return nil, fmt.Errorf("x5c[%d]: %w", i, err)
		}
		if i == 0 {
			leaf = cert
		}
	}
	return leaf, nil
}

// checkDistinctProofKeys refuses a batch whose proofs share a key. HAIP
// requires every credential of a batch to be bound to its own key, so that
// verifiers can't link the credentials by their key.
func checkDistinctProofKeys(holders []*HolderKey) error {
	seen := make(map[string]int, len(holders))
	for i, h := range holders {
		if h == nil {
			continue
		}
		if j, dup := seen[h.Thumbprint]; dup {
			return errProof("proofs of a batch must use distinct keys", fmt.Errorf("proofs %d and %d use the key %s", j, i, h.Thumbprint))
		}
		seen[h.Thumbprint] = i
	}
	return nil
}

// proofHeaderString reads a string header parameter.
func proofHeaderString(h map[string]json.RawMessage, name string, dst *string) error {
	raw, ok := h[name]
	if !ok {
		return fmt.Errorf("no %s header", name)
	}
	if err := json.Unmarshal(raw, dst); err != nil {
		return fmt.Errorf("%s header is not a string", name)
	}
	return nil
}

// proofAudience is an aud claim: one string or an array of strings.
type proofAudience []string

func (a *proofAudience) UnmarshalJSON(b []byte) error {
	var s jwtclaims.Strings
	if err := s.UnmarshalJSON(b); err != nil {
		return errors.New("aud is neither a string nor an array of strings")
	}
	*a = proofAudience(s)
	return nil
}

// contains reports whether the audience names id, ignoring one trailing
// slash on either side.
func (a proofAudience) contains(id string) bool {
	want := strings.TrimSuffix(id, "/")
	for _, v := range a {
		if v != "" && strings.TrimSuffix(v, "/") == want {
			return true
		}
	}
	return false
}

// proofTruncate shortens client-supplied text before it goes into a
// logged cause.
func proofTruncate(s string) string {
	if len(s) > 64 {
		return s[:64] + "…"
	}
	return s
}

func proofTruncateList(l []string) string { return proofTruncate(strings.Join(l, " ")) }

// proofDate is a JWT NumericDate (package jwtclaims).
type proofDate = jwtclaims.NumericDate
