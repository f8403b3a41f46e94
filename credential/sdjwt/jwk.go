package sdjwt

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"errors"
	"fmt"
	"math/big"

	"github.com/lestrrat-go/jwx/v3/jwa"
	"github.com/lestrrat-go/jwx/v3/jwk"
)

// minRSABits is the smallest RSA modulus accepted, for issuer and holder
// keys alike.
const minRSABits = 2048

// rawKey turns a jwk.Key into the crypto key it holds; other values are
// returned as they are.
func rawKey(key any) (any, error) {
	k, ok := key.(jwk.Key)
	if !ok {
		return key, nil
	}
	if pub := rawPublicKey(k); pub != nil {
		return pub, nil
	}
	var raw any
	if err := jwk.Export(k, &raw); err != nil {
		return nil, err
	}
	return raw, nil
}

// rawPublicKey is the public key of an EC key of a NIST curve or of an
// Ed25519 key, read from its members (the point checked to be on the
// curve), or nil for any other key, which rawKey leaves to jwk.Export:
// exporting took several microseconds per holder key. Private keys, whose
// interfaces include the public ones', are left to jwk.Export too.
func rawPublicKey(k jwk.Key) any {
	switch k.(type) {
	case jwk.ECDSAPrivateKey, jwk.OKPPrivateKey:
		return nil
	}
	switch k := k.(type) {
	case jwk.ECDSAPublicKey:
		crv, _ := k.Crv()
		var c elliptic.Curve
		switch crv {
		case jwa.P256():
			c = elliptic.P256()
		case jwa.P384():
			c = elliptic.P384()
		case jwa.P521():
			c = elliptic.P521()
		default:
			return nil
		}
		_, size, _ := curveName(c)
		x, okX := k.X()
		y, okY := k.Y()
		if !okX || !okY || len(x) > size || len(y) > size {
			return nil
		}
		// Coordinates are stored without leading zeros or padded; pad them.
		pt := make([]byte, 1+2*size)
		pt[0] = 4
		copy(pt[1+size-len(x):], x)
		copy(pt[1+2*size-len(y):], y)
		pub, err := ecdsa.ParseUncompressedPublicKey(c, pt)
		if err != nil {
			return nil
		}
		return pub
	case jwk.OKPPublicKey:
		crv, _ := k.Crv()
		x, ok := k.X()
		if crv != jwa.Ed25519() || !ok || len(x) != ed25519.PublicKeySize {
			return nil
		}
		return ed25519.PublicKey(bytes.Clone(x))
	}
	return nil
}

// publicJWK is the minimal public JWK (RFC 7517) of key, for cnf.jwk: only
// kty, crv and the public parameters, so that nothing else about the
// holder's key leaks into the credential. Private keys are refused.
func publicJWK(key any) (map[string]any, error) {
	key, err := rawKey(key)
	if err != nil {
		return nil, fmt.Errorf("sdjwt: holder key: %w", err)
	}
	switch k := key.(type) {
	case *ecdsa.PublicKey:
		crv, _, err := curveName(k.Curve)
		if err != nil {
			return nil, err
		}
		pt, err := k.Bytes()
		if err != nil {
			return nil, fmt.Errorf("sdjwt: holder key: %w", err)
		}
		n := (len(pt) - 1) / 2
		return map[string]any{"kty": "EC", "crv": crv, "x": b64.EncodeToString(pt[1 : 1+n]), "y": b64.EncodeToString(pt[1+n:])}, nil
	case ed25519.PublicKey:
		if len(k) != ed25519.PublicKeySize {
			return nil, errors.New("sdjwt: holder key: bad Ed25519 key length")
		}
		return map[string]any{"kty": "OKP", "crv": "Ed25519", "x": b64.EncodeToString(k)}, nil
	case *rsa.PublicKey:
		if k.N.BitLen() < minRSABits {
			return nil, fmt.Errorf("sdjwt: holder key: RSA key of %d bits, want at least %d", k.N.BitLen(), minRSABits)
		}
		return map[string]any{"kty": "RSA", "n": b64.EncodeToString(k.N.Bytes()), "e": b64.EncodeToString(big.NewInt(int64(k.E)).Bytes())}, nil
	case *ecdsa.PrivateKey, ed25519.PrivateKey, *rsa.PrivateKey:
		return nil, errors.New("sdjwt: holder key must be a public key")
	case nil:
		return nil, errors.New("sdjwt: no holder key")
	}
	return nil, fmt.Errorf("sdjwt: holder key of unsupported type %T", key)
}

// curveName returns the JWK crv and the coordinate size of an ECDSA curve.
func curveName(c elliptic.Curve) (string, int, error) {
	switch c {
	case elliptic.P256():
		return "P-256", 32, nil
	case elliptic.P384():
		return "P-384", 48, nil
	case elliptic.P521():
		return "P-521", 66, nil
	}
	return "", 0, fmt.Errorf("sdjwt: unsupported curve %v", c.Params().Name)
}

// privateMembers are JWK members that only a private (or symmetric) key
// has; cnf.jwk must have none.
var privateMembers = []string{"d", "p", "q", "dp", "dq", "qi", "oth", "k"}

// parseJWK reads a public JWK (cnf.jwk): EC P-256/P-384/P-521 (the point
// must be on the curve), OKP Ed25519, or RSA of at least 2048 bits.
func parseJWK(m map[string]any) (crypto.PublicKey, error) {
	for _, p := range privateMembers {
		if _, ok := m[p]; ok {
			return nil, fmt.Errorf("JWK has private member %q", p)
		}
	}
	str := func(name string) ([]byte, error) {
		s, ok := m[name].(string)
		if !ok {
			return nil, fmt.Errorf("JWK member %q missing or not a string", name)
		}
		b, err := b64Strict.DecodeString(s)
		if err != nil {
			return nil, fmt.Errorf("JWK member %q: %v", name, err)
		}
		return b, nil
	}
	kty, _ := m["kty"].(string)
	crv, _ := m["crv"].(string)
	switch kty {
	case "EC":
		var c elliptic.Curve
		switch crv {
		case "P-256":
			c = elliptic.P256()
		case "P-384":
			c = elliptic.P384()
		case "P-521":
			c = elliptic.P521()
		default:
			return nil, fmt.Errorf("unsupported EC curve %q", crv)
		}
		_, size, _ := curveName(c)
		x, err := str("x")
		if err != nil {
			return nil, err
		}
		y, err := str("y")
		if err != nil {
			return nil, err
		}
		if len(x) != size || len(y) != size {
			return nil, fmt.Errorf("EC coordinates of %d and %d bytes, want %d", len(x), len(y), size)
		}
		pt := make([]byte, 0, 1+2*size)
		pt = append(append(append(pt, 4), x...), y...)
		return ecdsa.ParseUncompressedPublicKey(c, pt)
	case "OKP":
		if crv != "Ed25519" {
			return nil, fmt.Errorf("unsupported OKP curve %q", crv)
		}
		x, err := str("x")
		if err != nil {
			return nil, err
		}
		if len(x) != ed25519.PublicKeySize {
			return nil, fmt.Errorf("Ed25519 key of %d bytes", len(x))
		}
		return ed25519.PublicKey(x), nil
	case "RSA":
		n, err := str("n")
		if err != nil {
			return nil, err
		}
		e, err := str("e")
		if err != nil {
			return nil, err
		}
		if len(n) == 0 || n[0] == 0 || len(e) == 0 || e[0] == 0 || len(e) > 4 {
			return nil, errors.New("RSA parameters not minimally encoded")
		}
		k := &rsa.PublicKey{N: new(big.Int).SetBytes(n), E: int(new(big.Int).SetBytes(e).Int64())}
		if k.N.BitLen() < minRSABits || k.N.BitLen() > 8192 {
			return nil, fmt.Errorf("RSA key of %d bits", k.N.BitLen())
		}
		if k.E < 3 || k.E%2 == 0 {
			return nil, fmt.Errorf("RSA exponent %d", k.E)
		}
		return k, nil
	}
	return nil, fmt.Errorf("unsupported kty %q", kty)
}
