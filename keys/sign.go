package keys

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/asn1"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math/big"
	"slices"
)

// Header holds protected header parameters of a JWS besides alg and kid,
// which the Service sets: typ, cty, x5c and the like.
type Header map[string]any

// reservedHeaders can't be set by callers: alg and kid name the key that
// signs; crit and b64 change how the token must be processed, which Sanad's
// own verifiers don't support.
var reservedHeaders = []string{"alg", "kid", "crit", "b64"}

// Sign signs message with the current key of (purpose, alg) and returns the
// signature and the kid of the key, for formats other than JWS (Data
// Integrity proofs, COSE). Signatures follow the JOSE conventions: ES256 is
// ECDSA P-256 over SHA-256 in raw r||s form (64 bytes); EdDSA is pure
// Ed25519 over the message; RS256 is RSASSA-PKCS1-v1_5 and PS256 RSASSA-PSS
// (salt length 32), both over SHA-256.
func (s *Service) Sign(ctx context.Context, purpose, alg string, message []byte) (sig []byte, kid string, err error) {
	k, err := s.signingKey(purpose, alg)
	if err != nil {
		return nil, "", err
	}
	sig, err = signWith(k.signer, alg, message)
	if err != nil {
		return nil, "", fmt.Errorf("keys: sign with %s: %w", k.rec.KID, err)
	}
	return sig, k.rec.KID, nil
}

// SignJWT signs claims (encoded as a JSON object) as a compact JWS with the
// current key of (purpose, alg). The protected header carries alg, kid and
// header.
func (s *Service) SignJWT(ctx context.Context, purpose, alg string, claims any, header Header) (string, error) {
	payload, err := json.Marshal(claims)
	if err != nil {
		return "", fmt.Errorf("keys: encode claims: %w", err)
	}
	if len(payload) == 0 || payload[0] != '{' {
		return "", fmt.Errorf("keys: JWT claims must be a JSON object, got %T", claims)
	}
	return s.SignJWS(ctx, purpose, alg, payload, header)
}

// SignJWS signs payload as a compact JWS with the current key of
// (purpose, alg). The protected header carries alg, kid and header.
func (s *Service) SignJWS(ctx context.Context, purpose, alg string, payload []byte, header Header) (string, error) {
	for _, name := range reservedHeaders {
		if _, ok := header[name]; ok {
			return "", fmt.Errorf("keys: header %q is set by the key service", name)
		}
	}
	k, err := s.signingKey(purpose, alg)
	if err != nil {
		return "", err
	}
	h := make(map[string]any, len(header)+2)
	for name, v := range header {
		h[name] = v
	}
	h["alg"] = alg
	h["kid"] = k.rec.KID
	hj, err := json.Marshal(h)
	if err != nil {
		return "", fmt.Errorf("keys: encode JWS header: %w", err)
	}
	enc := base64.RawURLEncoding
	hl, pl := enc.EncodedLen(len(hj)), enc.EncodedLen(len(payload))
	buf := make([]byte, hl+1+pl, hl+1+pl+1+enc.EncodedLen(512))
	enc.Encode(buf, hj)
	buf[hl] = '.'
	enc.Encode(buf[hl+1:], payload)
	sig, err := signWith(k.signer, alg, buf)
	if err != nil {
		return "", fmt.Errorf("keys: sign with %s: %w", k.rec.KID, err)
	}
	buf = append(buf, '.')
	buf = enc.AppendEncode(buf, sig)
	return string(buf), nil
}

// signingKey returns the current signing key of (purpose, alg).
func (s *Service) signingKey(purpose, alg string) (*key, error) {
	set, ok := s.sets[purpose]
	if !ok {
		return nil, fmt.Errorf("%w %q", ErrUnknownPurpose, purpose)
	}
	if set.Use != UseSig || !slices.Contains(set.Algs, alg) {
		return nil, fmt.Errorf("%w: %s has no %q signing key", ErrUnsupportedAlg, purpose, alg)
	}
	k := s.snap.Load().current(purpose, alg, s.now())
	if k == nil || k.signer == nil {
		return nil, fmt.Errorf("%w for %s %s", ErrNoActiveKey, purpose, alg)
	}
	return k, nil
}

// signWith signs message for alg with signer, following the JOSE conventions.
func signWith(signer crypto.Signer, alg string, message []byte) ([]byte, error) {
	switch alg {
	case AlgEdDSA:
		return signer.Sign(rand.Reader, message, crypto.Hash(0))
	case AlgES256:
		digest := sha256.Sum256(message)
		der, err := signer.Sign(rand.Reader, digest[:], crypto.SHA256)
		if err != nil {
			return nil, err
		}
		return ecdsaRaw(der, 32)
	case AlgRS256:
		digest := sha256.Sum256(message)
		return signer.Sign(rand.Reader, digest[:], crypto.SHA256)
	case AlgPS256:
		digest := sha256.Sum256(message)
		return signer.Sign(rand.Reader, digest[:], &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthEqualsHash, Hash: crypto.SHA256})
	default:
		return nil, fmt.Errorf("%w: cannot sign with %q", ErrUnsupportedAlg, alg)
	}
}

// ecdsaRaw converts an ASN.1 ECDSA signature, as crypto.Signer returns it,
// to the fixed-size r||s form of JWS (RFC 7518, section 3.4).
func ecdsaRaw(der []byte, size int) ([]byte, error) {
	var sig struct{ R, S *big.Int }
	rest, err := asn1.Unmarshal(der, &sig)
	if err != nil || len(rest) != 0 || sig.R == nil || sig.S == nil ||
		sig.R.Sign() <= 0 || sig.S.Sign() <= 0 || sig.R.BitLen() > 8*size || sig.S.BitLen() > 8*size {
		return nil, fmt.Errorf("signer returned a malformed ECDSA signature")
	}
	out := make([]byte, 2*size)
	sig.R.FillBytes(out[:size])
	sig.S.FillBytes(out[size:])
	return out, nil
}
