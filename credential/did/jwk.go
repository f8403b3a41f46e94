package did

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math/big"

	"github.com/lestrrat-go/jwx/v3/jwk"
)

// privateJWKMembers are the JWK members of private or symmetric keys (RFC
// 7518 section 6).
var privateJWKMembers = []string{"d", "p", "q", "dp", "dq", "qi", "oth", "k"}

// minRSABits is the smallest RSA modulus accepted in a did:jwk.
const minRSABits = 2048

// JWKMethod resolves did:jwk DIDs (https://github.com/quartzjer/did-jwk),
// offline. The only verification method of a did:jwk DID is "#0". Keys
// marked "use":"enc" (key agreement only), symmetric keys and keys with
// private members are refused; accepted keys are EC P-256, P-384, P-521,
// OKP Ed25519 and RSA of at least 2048 bits.
type JWKMethod struct{}

// Name implements Method.
func (JWKMethod) Name() string { return "jwk" }

// ResolveKey implements Method.
func (JWKMethod) ResolveKey(_ context.Context, u URL) (jwk.Key, error) {
	if u.Method != "jwk" {
		return nil, fmt.Errorf("%w: did:%s is not did:jwk", ErrUnsupportedMethod, u.Method)
	}
	if u.Fragment != "" && u.Fragment != "0" {
		return nil, fmt.Errorf("%w: the only did:jwk verification method is #0", ErrNotFound)
	}
	raw, err := base64.RawURLEncoding.Strict().DecodeString(u.ID)
	if err != nil {
		return nil, fmt.Errorf("%w: did:jwk is not base64url", ErrInvalid)
	}
	return parsePublicJWK(raw)
}

// parsePublicJWK parses a JWK that must be a public verification key.
func parsePublicJWK(raw []byte) (jwk.Key, error) {
	if t := bytes.TrimSpace(raw); len(t) == 0 || t[0] != '{' {
		return nil, fmt.Errorf("%w: did:jwk is not a JSON object", ErrInvalid)
	}
	var members map[string]json.RawMessage
	if err := json.Unmarshal(raw, &members); err != nil {
		return nil, fmt.Errorf("%w: did:jwk is not a JSON object", ErrInvalid)
	}
	for _, m := range privateJWKMembers {
		if _, ok := members[m]; ok {
			return nil, fmt.Errorf("%w: did:jwk has the private member %q", ErrPrivateKey, m)
		}
	}
	if use, ok := members["use"]; ok && string(use) != `"sig"` {
		return nil, fmt.Errorf("%w: did:jwk key is not for signatures", ErrUnsupportedKey)
	}
	k, err := jwk.ParseKey(raw)
	if err != nil {
		return nil, fmt.Errorf("%w: did:jwk: %v", ErrInvalid, err)
	}
	if private, err := jwk.IsPrivateKey(k); err != nil || private {
		return nil, fmt.Errorf("%w: did:jwk is not a public key", ErrPrivateKey)
	}
	if _, err := verificationKey(k); err != nil {
		return nil, err
	}
	return k, nil
}

// verificationKey exports k and accepts the key types Sanad verifies
// signatures with.
func verificationKey(k jwk.Key) (any, error) {
	var raw any
	if err := jwk.Export(k, &raw); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	switch p := raw.(type) {
	case *ecdsa.PublicKey:
		switch p.Curve {
		case elliptic.P256(), elliptic.P384(), elliptic.P521():
			return p, nil
		}
	case ed25519.PublicKey:
		if len(p) == ed25519.PublicKeySize {
			return p, nil
		}
	case *rsa.PublicKey:
		if p.N.BitLen() >= minRSABits {
			return p, nil
		}
		return nil, fmt.Errorf("%w: RSA key shorter than %d bits", ErrUnsupportedKey, minRSABits)
	}
	return nil, fmt.Errorf("%w: %s key", ErrUnsupportedKey, k.KeyType())
}

// JWKDID returns the did:jwk DID of a public key. The JWK is encoded with
// only the members RFC 7638 uses for a thumbprint, in lexicographic order
// ({"crv","kty","x","y"} for EC), so a key always gives the same DID
// whatever kid, alg or use it carries. Its only verification method is
// JWKDID(k) + "#0".
func JWKDID(k jwk.Key) (string, error) {
	if k == nil {
		return "", fmt.Errorf("%w: nil key", ErrInvalid)
	}
	if private, err := jwk.IsPrivateKey(k); err != nil || private {
		return "", fmt.Errorf("%w: JWKDID needs a public key", ErrPrivateKey)
	}
	raw, err := verificationKey(k)
	if err != nil {
		return "", err
	}
	b64 := base64.RawURLEncoding.EncodeToString
	var m map[string]string
	switch p := raw.(type) {
	case *ecdsa.PublicKey:
		unc, err := p.Bytes()
		if err != nil {
			return "", fmt.Errorf("%w: %v", ErrInvalid, err)
		}
		size := (len(unc) - 1) / 2
		m = map[string]string{"crv": p.Curve.Params().Name, "kty": "EC", "x": b64(unc[1 : 1+size]), "y": b64(unc[1+size:])}
	case ed25519.PublicKey:
		m = map[string]string{"crv": "Ed25519", "kty": "OKP", "x": b64(p)}
	case *rsa.PublicKey:
		m = map[string]string{"e": b64(big.NewInt(int64(p.E)).Bytes()), "kty": "RSA", "n": b64(p.N.Bytes())}
	}
	// encoding/json writes map keys sorted, as RFC 7638 orders them.
	b, err := json.Marshal(m)
	if err != nil {
		return "", fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	return "did:jwk:" + base64.RawURLEncoding.EncodeToString(b), nil
}
