// Package credtest provides in-memory issuer keys for tests of the format
// code: a credential.Signer over a freshly generated key, and a resolver
// that finds its public key.
package credtest

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"testing"

	"github.com/sanad-id/sanad/credential"
)

// Signer is a credential.Signer over an in-memory ES256 or EdDSA key.
type Signer struct {
	alg  string
	kid  string
	priv crypto.Signer
}

var _ credential.Signer = (*Signer)(nil)

// NewSigner generates a key for alg ("ES256", "ES384" or "EdDSA") with key
// id kid.
func NewSigner(t testing.TB, alg, kid string) *Signer {
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
	default:
		t.Fatalf("credtest.NewSigner: unsupported alg %q", alg)
	}
	if err != nil {
		t.Fatal(err)
	}
	return &Signer{alg: alg, kid: kid, priv: priv}
}

// NewSignerFromKey returns a Signer over a given private key: an
// ed25519.PrivateKey (alg EdDSA) or an *ecdsa.PrivateKey on P-256 (ES256)
// or P-384 (ES384). Tests use it to reproduce published test vectors.
func NewSignerFromKey(t testing.TB, kid string, priv crypto.Signer) *Signer {
	t.Helper()
	var alg string
	switch k := priv.(type) {
	case ed25519.PrivateKey:
		alg = "EdDSA"
	case *ecdsa.PrivateKey:
		switch k.Curve {
		case elliptic.P256():
			alg = "ES256"
		case elliptic.P384():
			alg = "ES384"
		}
	}
	if alg == "" {
		t.Fatalf("credtest.NewSignerFromKey: unsupported key %T", priv)
	}
	return &Signer{alg: alg, kid: kid, priv: priv}
}

// Alg implements credential.Signer.
func (s *Signer) Alg() string { return s.alg }

// KeyID implements credential.Signer.
func (s *Signer) KeyID() string { return s.kid }

// Public is the public key.
func (s *Signer) Public() crypto.PublicKey { return s.priv.Public() }

// Private is the private key, for tests that need to forge or re-sign.
func (s *Signer) Private() crypto.Signer { return s.priv }

// Sign implements credential.Signer: ES256 and ES384 signatures are r||s.
func (s *Signer) Sign(_ context.Context, message []byte) ([]byte, error) {
	switch s.alg {
	case "ES256":
		h := sha256.Sum256(message)
		r, ss, err := ecdsa.Sign(rand.Reader, s.priv.(*ecdsa.PrivateKey), h[:])
		if err != nil {
			return nil, err
		}
		out := make([]byte, 64)
		r.FillBytes(out[:32])
		ss.FillBytes(out[32:])
		return out, nil
	case "ES384":
		h := sha512.Sum384(message)
		r, ss, err := ecdsa.Sign(rand.Reader, s.priv.(*ecdsa.PrivateKey), h[:])
		if err != nil {
			return nil, err
		}
		out := make([]byte, 96)
		r.FillBytes(out[:48])
		ss.FillBytes(out[48:])
		return out, nil
	case "EdDSA":
		return ed25519.Sign(s.priv.(ed25519.PrivateKey), message), nil
	}
	return nil, fmt.Errorf("credtest: unsupported alg %q", s.alg)
}

// SignJWS implements credential.Signer.
func (s *Signer) SignJWS(ctx context.Context, payload []byte, header map[string]any) (string, error) {
	h := map[string]any{}
	for k, v := range header {
		h[k] = v
	}
	h["alg"] = s.alg
	h["kid"] = s.kid
	hj, err := json.Marshal(h)
	if err != nil {
		return "", err
	}
	enc := base64.RawURLEncoding
	input := enc.EncodeToString(hj) + "." + enc.EncodeToString(payload)
	sig, err := s.Sign(ctx, []byte(input))
	if err != nil {
		return "", err
	}
	return input + "." + enc.EncodeToString(sig), nil
}

// Resolver returns a credential.KeyResolver that knows the signers' keys
// by kid, for any issuer.
func Resolver(signers ...*Signer) credential.KeyResolver {
	return credential.KeyResolverFunc(func(_ context.Context, _, kid string) (crypto.PublicKey, error) {
		for _, s := range signers {
			if s.kid == kid {
				return s.Public(), nil
			}
		}
		return nil, fmt.Errorf("credtest: unknown kid %q", kid)
	})
}
