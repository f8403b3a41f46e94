// Package josekey holds the JOSE helpers that every JWS verifier in Sanad
// shares (status list tokens, JWT VCs, proof JWTs, client assertions, DPoP
// proofs, external issuers' tokens): one definition of which public key an
// alg may verify with, and one of a JOSE header or claims set as exactly
// one JSON object. Each verifier used to carry its own copy, and the copies
// had drifted apart (curves, key sizes, trailing data).
package josekey

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"github.com/lestrrat-go/jwx/v3/jwk"
)

// MinRSABits is the shortest RSA modulus ForAlg accepts.
const MinRSABits = 2048

var (
	// ErrNotPublic is returned for a jwk.Key that is private or symmetric.
	ErrNotPublic = errors.New("key is not a public key")
	// ErrKeyAlg is matched by the error for a key that alg does not verify
	// with: another key type, another curve, an RSA key that is too short.
	ErrKeyAlg = errors.New("key does not fit alg")
	// ErrUnsupportedAlg is returned for an alg that is not an asymmetric
	// JWS algorithm ForAlg knows.
	ErrUnsupportedAlg = errors.New("alg is not a supported asymmetric JWS algorithm")

	// ErrNotObject is returned by DecodeObject for input that is not a
	// JSON object.
	ErrNotObject = errors.New("not a JSON object")
	// ErrTrailingData is returned by DecodeObject for anything but white
	// space after the object.
	ErrTrailingData = errors.New("trailing data after the JSON object")
)

// curves are the curves of the ECDSA algorithms (RFC 7518 section 3.4).
var curves = map[string]elliptic.Curve{"ES256": elliptic.P256(), "ES384": elliptic.P384(), "ES512": elliptic.P521()}

// ForAlg checks that pub is a public key that alg verifies with and returns
// it in the form jws expects: *ecdsa.PublicKey on the curve of ES256
// (P-256), ES384 (P-384) or ES512 (P-521); ed25519.PublicKey for EdDSA and
// Ed25519 (RFC 9864); *rsa.PublicKey of at least MinRSABits for RS256,
// RS384, RS512, PS256, PS384 and PS512. pub may be a raw key or a public
// jwk.Key; private and symmetric JWKs are refused with ErrNotPublic, raw
// private keys with an error matching ErrKeyAlg. Any other alg is refused
// with ErrUnsupportedAlg. The caller still checks alg against its own
// allow-list.
func ForAlg(pub crypto.PublicKey, alg string) (crypto.PublicKey, error) {
	if k, ok := pub.(jwk.Key); ok {
		if private, err := jwk.IsPrivateKey(k); err != nil || private {
			return nil, ErrNotPublic
		}
		var raw any
		if err := jwk.Export(k, &raw); err != nil {
			return nil, fmt.Errorf("key: %w", err)
		}
		pub = raw
	}
	switch alg {
	case "ES256", "ES384", "ES512":
		if k, ok := pub.(*ecdsa.PublicKey); ok && k != nil && k.Curve == curves[alg] {
			return k, nil
		}
	case "EdDSA", "Ed25519":
		switch k := pub.(type) {
		case ed25519.PublicKey:
			if len(k) == ed25519.PublicKeySize {
				return k, nil
			}
		case *ed25519.PublicKey:
			if k != nil && len(*k) == ed25519.PublicKeySize {
				return *k, nil
			}
		}
	case "RS256", "RS384", "RS512", "PS256", "PS384", "PS512":
		if k, ok := pub.(*rsa.PublicKey); ok && k != nil && k.N != nil && k.N.BitLen() >= MinRSABits {
			return k, nil
		}
	default:
		return nil, fmt.Errorf("%w: %.32q", ErrUnsupportedAlg, alg)
	}
	return nil, &keyAlgError{key: pub, alg: alg}
}

// keyAlgError is a key that does not fit an alg; it matches ErrKeyAlg.
type keyAlgError struct {
	key any
	alg string
}

func (e *keyAlgError) Error() string {
	return fmt.Sprintf("key %T does not fit alg %s", e.key, e.alg)
}

func (e *keyAlgError) Is(target error) bool { return target == ErrKeyAlg }

// DecodeObject decodes b, which must be exactly one JSON object (white
// space around it aside), into dst: anything else is ErrNotObject, anything
// after the object ErrTrailingData; errors from encoding/json are returned
// as they are.
func DecodeObject(b []byte, dst any) error {
	if t := bytes.TrimSpace(b); len(t) == 0 || t[0] != '{' {
		return ErrNotObject
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	if err := dec.Decode(dst); err != nil {
		return err
	}
	// Token, not More: More reports false for a stray '}' or ']'.
	if _, err := dec.Token(); err != io.EOF {
		return ErrTrailingData
	}
	return nil
}
