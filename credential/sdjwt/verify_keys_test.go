package sdjwt

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"testing"

	"github.com/lestrrat-go/jwx/v3/jwk"
)

// TestVerifySignatureKeys: the issuer or holder key must fit the alg
// (josekey.ForAlg): the curve of an ECDSA alg, Ed25519 for EdDSA, RSA of
// 2048 bits or more; keys a KeyResolver could return half-built (nil, no
// curve, no modulus) are refused, not a panic.
func TestVerifySignatureKeys(t *testing.T) {
	const signed = "header.payload"
	digest := sha256.Sum256([]byte(signed))

	p256, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	p384, err := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	edPub, edPriv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	rsaShort, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		t.Fatal(err)
	}

	r, s, err := ecdsa.Sign(rand.Reader, p256, digest[:])
	if err != nil {
		t.Fatal(err)
	}
	es256 := make([]byte, 64)
	r.FillBytes(es256[:32])
	s.FillBytes(es256[32:])
	eddsa := ed25519.Sign(edPriv, []byte(signed))
	rs256, err := rsa.SignPKCS1v15(rand.Reader, rsaKey, crypto.SHA256, digest[:])
	if err != nil {
		t.Fatal(err)
	}
	ps256, err := rsa.SignPSS(rand.Reader, rsaKey, crypto.SHA256, digest[:], &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthEqualsHash})
	if err != nil {
		t.Fatal(err)
	}
	rs256Short, err := rsa.SignPKCS1v15(rand.Reader, rsaShort, crypto.SHA256, digest[:])
	if err != nil {
		t.Fatal(err)
	}
	p256JWK, err := jwk.Import(&p256.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	p256PrivJWK, err := jwk.Import(p256)
	if err != nil {
		t.Fatal(err)
	}

	for _, tt := range []struct {
		name string
		alg  string
		key  any
		sig  []byte
		ok   bool
	}{
		{name: "ES256, P-256", alg: "ES256", key: &p256.PublicKey, sig: es256, ok: true},
		{name: "ES256, P-256 JWK", alg: "ES256", key: p256JWK, sig: es256, ok: true},
		{name: "EdDSA", alg: "EdDSA", key: edPub, sig: eddsa, ok: true},
		{name: "Ed25519", alg: "Ed25519", key: edPub, sig: eddsa, ok: true},
		{name: "RS256", alg: "RS256", key: &rsaKey.PublicKey, sig: rs256, ok: true},
		{name: "PS256", alg: "PS256", key: &rsaKey.PublicKey, sig: ps256, ok: true},

		{name: "ES256, P-384 key", alg: "ES256", key: &p384.PublicKey, sig: es256},
		{name: "ES384, P-256 key", alg: "ES384", key: &p256.PublicKey, sig: es256},
		{name: "ES256, Ed25519 key", alg: "ES256", key: edPub, sig: es256},
		{name: "ES256, private JWK", alg: "ES256", key: p256PrivJWK, sig: es256},
		{name: "ES256, private key", alg: "ES256", key: p256, sig: es256},
		{name: "ES256, short signature", alg: "ES256", key: &p256.PublicKey, sig: es256[:63]},
		{name: "EdDSA, P-256 key", alg: "EdDSA", key: &p256.PublicKey, sig: eddsa},
		{name: "EdDSA, short key", alg: "EdDSA", key: edPub[:31], sig: eddsa},
		{name: "EdDSA, private key", alg: "EdDSA", key: edPriv, sig: eddsa},
		{name: "RS256, Ed25519 key", alg: "RS256", key: edPub, sig: rs256},
		{name: "RS256, 1024-bit key", alg: "RS256", key: &rsaShort.PublicKey, sig: rs256Short},
		{name: "RS256, PSS signature", alg: "RS256", key: &rsaKey.PublicKey, sig: ps256},
		{name: "no key", alg: "ES256", key: nil, sig: es256},
		{name: "nil ECDSA key", alg: "ES256", key: (*ecdsa.PublicKey)(nil), sig: es256},
		{name: "ECDSA key without a curve", alg: "ES256", key: &ecdsa.PublicKey{}, sig: es256},
		{name: "nil RSA key", alg: "RS256", key: (*rsa.PublicKey)(nil), sig: rs256},
		{name: "RSA key without a modulus", alg: "RS256", key: &rsa.PublicKey{E: 65537}, sig: rs256},
		{name: "unknown alg", alg: "ES256K", key: &p256.PublicKey, sig: es256},
	} {
		t.Run(tt.name, func(t *testing.T) {
			err := verifySignature(tt.alg, tt.key, signed, tt.sig)
			if (err == nil) != tt.ok {
				t.Errorf("verifySignature(%s, %T) = %v, want ok %v", tt.alg, tt.key, err, tt.ok)
			}
		})
	}
}
