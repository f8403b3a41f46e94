package sdjwt

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/subtle"
	"errors"
	"fmt"
	"math/big"
	"slices"
	"strings"
	"time"

	"github.com/sanad-id/sanad/credential"
	"github.com/sanad-id/sanad/internal/josekey"
)

// VerifyOptions say what Verify and VerifyVC accept. Keys and Algs are
// required: every verification names its trusted keys and algorithms.
type VerifyOptions struct {
	// Keys finds the issuer's public key by iss and the header kid.
	Keys credential.KeyResolver
	// Algs are the accepted issuer signature algorithms (ES256, EdDSA,
	// ...). "none" and HMAC algorithms are refused whatever the list says.
	Algs []string
	// Issuer, when set, is the only accepted iss.
	Issuer string
	// Typs are the accepted header typ values. Empty accepts any typ in
	// Verify, and dc+sd-jwt or vc+sd-jwt in VerifyVC.
	Typs []string
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Leeway is the clock skew tolerated on exp, nbf and iat (of both
	// JWTs); zero means DefaultLeeway, negative means none.
	Leeway time.Duration

	// RequireKeyBinding refuses a presentation without a KB-JWT; Nonce and
	// Audience must then be set. A KB-JWT, when present, is always checked
	// (signature by cnf.jwk, typ, sd_hash, iat window), and its nonce and
	// aud are compared to Nonce and Audience when those are set.
	RequireKeyBinding bool
	// Nonce and Audience are what the KB-JWT's nonce and aud must be: the
	// verifier's request nonce and its client_id.
	Nonce    string
	Audience string
	// HolderAlgs are the accepted KB-JWT algorithms; empty means
	// DefaultHolderAlgs.
	HolderAlgs []string
	// KeyBindingMaxAge is how old the KB-JWT's iat may be; zero means
	// DefaultKeyBindingMaxAge.
	KeyBindingMaxAge time.Duration
}

func (o *VerifyOptions) now() time.Time {
	if o.Now == nil {
		return time.Now()
	}
	return o.Now()
}

func (o *VerifyOptions) leeway() time.Duration {
	switch {
	case o.Leeway == 0:
		return DefaultLeeway
	case o.Leeway < 0:
		return 0
	}
	return o.Leeway
}

// VerifyVC verifies an SD-JWT VC (with or without KB-JWT): everything
// Verify does, plus a vct, typ dc+sd-jwt or vc+sd-jwt unless opts.Typs
// says otherwise, and iss, vct, vct#integrity, nbf, exp, cnf and status
// signed in the clear.
func VerifyVC(ctx context.Context, s string, opts VerifyOptions) (*Token, error) {
	if len(opts.Typs) == 0 {
		opts.Typs = []string{TypVC, TypVCLegacy}
	}
	t, err := Verify(ctx, s, opts)
	if err != nil {
		return nil, err
	}
	if err := t.checkSigned(alwaysSignedVC); err != nil {
		return nil, err
	}
	if _, ok := t.Payload["vct"].(string); !ok || t.VCT == "" {
		return nil, fail(credential.ErrMalformed, "SD-JWT VC has no vct")
	}
	return t, nil
}

// Verify verifies an SD-JWT or SD-JWT+KB and returns it with its
// disclosed claims. In order: structure and sizes (ErrMalformed), typ
// (ErrMalformed), algorithm, issuer and signature (ErrSignature), the
// disclosures (ErrDisclosure), exp (ErrExpired), nbf and iat
// (ErrNotYetValid), then the KB-JWT (ErrHolderBinding).
func Verify(ctx context.Context, s string, opts VerifyOptions) (*Token, error) {
	if opts.Keys == nil || len(opts.Algs) == 0 {
		return nil, errors.New("sdjwt: VerifyOptions need Keys and Algs")
	}
	if opts.RequireKeyBinding && (opts.Nonce == "" || opts.Audience == "") {
		return nil, errors.New("sdjwt: RequireKeyBinding needs Nonce and Audience")
	}
	t, err := split(s)
	if err != nil {
		return nil, err
	}
	typ, _ := t.Header["typ"].(string)
	if len(opts.Typs) > 0 && !slices.ContainsFunc(opts.Typs, func(want string) bool { return typIs(typ, want) }) {
		return nil, fail(credential.ErrMalformed, "typ %q, want one of %s", typ, quoteList(opts.Typs))
	}
	alg := t.Header["alg"].(string) // parseJWS checked it
	if !allowed(alg, opts.Algs) {
		return nil, fail(credential.ErrSignature, "algorithm %q not allowed", alg)
	}
	var iss string
	if v, ok := t.Payload["iss"]; ok {
		if iss, ok = v.(string); !ok {
			return nil, fail(credential.ErrMalformed, "iss is not a string")
		}
	}
	if opts.Issuer != "" && iss != opts.Issuer {
		return nil, fail(credential.ErrSignature, "issuer %q, want %q", iss, opts.Issuer)
	}
	kid, _ := t.Header["kid"].(string)
	key, err := opts.Keys.ResolveKey(ctx, iss, kid)
	if err != nil {
		return nil, fmt.Errorf("sdjwt: no key for issuer %q kid %q: %w: %w", iss, kid, credential.ErrSignature, err)
	}
	if err := verifySignature(alg, key, t.signed, t.signature); err != nil {
		return nil, fail(credential.ErrSignature, "issuer JWT: %v", err)
	}
	if err := t.process(); err != nil {
		return nil, err
	}
	now, leeway := opts.now(), opts.leeway()
	if !t.Expires.IsZero() && now.After(t.Expires.Add(leeway)) {
		return nil, fail(credential.ErrExpired, "expired at %s", t.Expires.UTC().Format(time.RFC3339))
	}
	if !t.NotBefore.IsZero() && now.Add(leeway).Before(t.NotBefore) {
		return nil, fail(credential.ErrNotYetValid, "not valid before %s", t.NotBefore.UTC().Format(time.RFC3339))
	}
	if !t.IssuedAt.IsZero() && now.Add(leeway).Before(t.IssuedAt) {
		return nil, fail(credential.ErrNotYetValid, "issued in the future (%s)", t.IssuedAt.UTC().Format(time.RFC3339))
	}
	if t.KBJWT == "" {
		if opts.RequireKeyBinding {
			return nil, fail(credential.ErrHolderBinding, "no key binding JWT")
		}
		return t, nil
	}
	if err := t.verifyKeyBinding(&opts, now, leeway); err != nil {
		return nil, err
	}
	return t, nil
}

// verifyKeyBinding checks the KB-JWT (RFC 9901 section 7.3).
func (t *Token) verifyKeyBinding(opts *VerifyOptions, now time.Time, leeway time.Duration) error {
	j, err := parseJWS(t.KBJWT)
	if err != nil {
		return fail(credential.ErrHolderBinding, "key binding JWT: %v", err)
	}
	if typ, _ := j.header["typ"].(string); !typIs(typ, TypKB) {
		return fail(credential.ErrHolderBinding, "key binding JWT typ %q, want %q", typ, TypKB)
	}
	algs := opts.HolderAlgs
	if len(algs) == 0 {
		algs = DefaultHolderAlgs
	}
	alg := j.header["alg"].(string)
	if !allowed(alg, algs) {
		return fail(credential.ErrHolderBinding, "key binding JWT algorithm %q not allowed", alg)
	}
	if t.HolderKey == nil {
		return fail(credential.ErrHolderBinding, "credential has no cnf.jwk to check the key binding JWT with")
	}
	if err := verifySignature(alg, t.HolderKey, j.signed, j.signature); err != nil {
		return fail(credential.ErrHolderBinding, "key binding JWT: %v", err)
	}
	h, _ := hashFor(t.HashAlg)
	sdHash, _ := j.payload["sd_hash"].(string)
	if want := digest(h, t.presented); subtle.ConstantTimeCompare([]byte(sdHash), []byte(want)) != 1 {
		return fail(credential.ErrHolderBinding, "key binding JWT sd_hash does not match the presentation")
	}
	iat, ok := numericDate(j.payload["iat"])
	if !ok {
		return fail(credential.ErrHolderBinding, "key binding JWT has no iat")
	}
	maxAge := opts.KeyBindingMaxAge
	if maxAge == 0 {
		maxAge = DefaultKeyBindingMaxAge
	}
	if now.Add(leeway).Before(iat) {
		return fail(credential.ErrHolderBinding, "key binding JWT issued in the future")
	}
	if now.Sub(iat) > maxAge+leeway {
		return fail(credential.ErrHolderBinding, "key binding JWT is older than %s", maxAge)
	}
	nonce, ok := j.payload["nonce"].(string)
	if !ok || nonce == "" {
		return fail(credential.ErrHolderBinding, "key binding JWT has no nonce")
	}
	if opts.Nonce != "" && subtle.ConstantTimeCompare([]byte(nonce), []byte(opts.Nonce)) != 1 {
		return fail(credential.ErrHolderBinding, "key binding JWT nonce does not match")
	}
	aud, ok := j.payload["aud"].(string)
	if !ok || aud == "" {
		return fail(credential.ErrHolderBinding, "key binding JWT has no aud")
	}
	if opts.Audience != "" && aud != opts.Audience {
		return fail(credential.ErrHolderBinding, "key binding JWT aud %q, want %q", aud, opts.Audience)
	}
	return nil
}

// typIs compares a typ header with a media type as RFC 7515 section
// 4.1.9 says: case-insensitively, with "application/" optional.
func typIs(typ, want string) bool {
	if len(typ) > len("application/") && strings.EqualFold(typ[:len("application/")], "application/") {
		typ = typ[len("application/"):]
	}
	return strings.EqualFold(typ, want)
}

// allowed reports whether alg is in list and is an asymmetric signature
// algorithm this package implements.
func allowed(alg string, list []string) bool {
	if _, ok := sigAlgs[alg]; !ok {
		return false
	}
	return contains(list, alg)
}

// sigAlg describes a JWS algorithm.
type sigAlg struct {
	hash crypto.Hash
	kind byte // 'E' ECDSA, 'O' Ed25519, 'R' RSA PKCS#1 v1.5, 'P' RSA-PSS
	size int  // ECDSA coordinate size
}

// sigAlgs are the JWS algorithms verified here. There is no "none" and no
// HMAC: a verifier holding a public key must never accept either.
var sigAlgs = map[string]sigAlg{
	"ES256":   {crypto.SHA256, 'E', 32},
	"ES384":   {crypto.SHA384, 'E', 48},
	"ES512":   {crypto.SHA512, 'E', 66},
	"EdDSA":   {0, 'O', 0},
	"Ed25519": {0, 'O', 0},
	"RS256":   {crypto.SHA256, 'R', 0},
	"RS384":   {crypto.SHA384, 'R', 0},
	"RS512":   {crypto.SHA512, 'R', 0},
	"PS256":   {crypto.SHA256, 'P', 0},
	"PS384":   {crypto.SHA384, 'P', 0},
	"PS512":   {crypto.SHA512, 'P', 0},
}

// verifySignature checks a JWS signature over signed with key, which
// must fit alg as josekey.ForAlg says (the curve of an ECDSA alg, Ed25519,
// RSA of at least 2048 bits).
func verifySignature(alg string, key any, signed string, sig []byte) error {
	a, ok := sigAlgs[alg]
	if !ok {
		return fmt.Errorf("unsupported algorithm %q", alg)
	}
	key, err := rawKey(key)
	if err != nil {
		return err
	}
	pub, err := josekey.ForAlg(key, alg)
	if err != nil {
		return err
	}
	var digest []byte
	if a.hash != 0 {
		h := a.hash.New()
		h.Write([]byte(signed))
		digest = h.Sum(nil)
	}
	switch k := pub.(type) {
	case *ecdsa.PublicKey:
		if len(sig) != 2*a.size {
			return fmt.Errorf("%s signature of %d bytes", alg, len(sig))
		}
		r := new(big.Int).SetBytes(sig[:a.size])
		s := new(big.Int).SetBytes(sig[a.size:])
		if !ecdsa.Verify(k, digest, r, s) {
			return errors.New("signature does not verify")
		}
	case ed25519.PublicKey:
		if !ed25519.Verify(k, []byte(signed), sig) {
			return errors.New("signature does not verify")
		}
	case *rsa.PublicKey:
		var err error
		if a.kind == 'R' {
			err = rsa.VerifyPKCS1v15(k, a.hash, digest, sig)
		} else {
			err = rsa.VerifyPSS(k, a.hash, digest, sig, &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthEqualsHash})
		}
		if err != nil {
			return errors.New("signature does not verify")
		}
	default:
		return fmt.Errorf("%s: key %T", alg, pub)
	}
	return nil
}
