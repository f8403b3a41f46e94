// Package credential is the credential-format code shared by the issuer, the
// wallet backend and the verifier: one subpackage per format (jwtvc for
// jwt_vc_json, sdjwt for SD-JWT and SD-JWT VC; ldp and status lists next),
// and did for resolving the holder and issuer identifiers those formats
// name. Nothing here knows about HTTP, OAuth or storage: a format package
// turns claims into a signed credential and back, and says precisely why a
// credential does not verify.
//
// Private keys never enter this package: issuing takes a Signer, which the
// keys package provides (keys.Service through an adapter), and verifying
// takes public keys or a KeyResolver.
package credential

import (
	"context"
	"crypto"
	"errors"
)

// Credential format identifiers, as OpenID4VCI names them.
const (
	// FormatJWTVC is a W3C VCDM 1.1 credential secured as a JWT.
	FormatJWTVC = "jwt_vc_json"
	// FormatSDJWTVC is an IETF SD-JWT VC (typ dc+sd-jwt).
	FormatSDJWTVC = "dc+sd-jwt"
	// FormatSDJWTVCLegacy is the pre-final name of SD-JWT VC, still sent by
	// draft-13 wallets; Sanad accepts it in requests and issues dc+sd-jwt
	// unless a configuration asks for the legacy typ.
	FormatSDJWTVCLegacy = "vc+sd-jwt"
	// FormatLDPVC is a W3C credential secured with a Data Integrity proof.
	FormatLDPVC = "ldp_vc"
	// FormatMsoMdoc is an ISO 18013-5 mobile document.
	FormatMsoMdoc = "mso_mdoc"
)

// Signer signs with an issuer key held by the keys package. Format code
// sets every header parameter it needs (typ, x5c, ...) except alg and kid,
// which belong to the Signer's key.
type Signer interface {
	// Alg is the JOSE algorithm of the key (ES256, EdDSA, PS256, RS256).
	Alg() string
	// KeyID is the kid the signatures carry: what a verifier looks the key
	// up by (a JWKS kid, or a DID URL such as did:web:example#key-1).
	KeyID() string
	// SignJWS returns a compact JWS over payload whose protected header is
	// header plus alg and kid.
	SignJWS(ctx context.Context, payload []byte, header map[string]any) (string, error)
	// Sign signs message and returns the raw signature in JOSE form (ES256
	// as r||s), for proofs that are not JWS (Data Integrity, COSE).
	Sign(ctx context.Context, message []byte) ([]byte, error)
}

// KeyResolver finds the public key that verifies an issuer's signature:
// the issuer's identifier (URL or DID) and the kid of the signature (empty
// when the signature has none). Implementations: a JWKS fetched from the
// issuer's /.well-known/jwt-vc-issuer, a DID resolver, a static trust list.
type KeyResolver interface {
	ResolveKey(ctx context.Context, issuer, kid string) (crypto.PublicKey, error)
}

// KeyResolverFunc adapts a function to KeyResolver.
type KeyResolverFunc func(ctx context.Context, issuer, kid string) (crypto.PublicKey, error)

// ResolveKey calls f.
func (f KeyResolverFunc) ResolveKey(ctx context.Context, issuer, kid string) (crypto.PublicKey, error) {
	return f(ctx, issuer, kid)
}

// Verification failures, shared by every format so that callers (the
// verifier's API, the wallet) can tell them apart with errors.Is. Format
// packages wrap them with the detail.
var (
	// ErrMalformed: the credential cannot be parsed.
	ErrMalformed = errors.New("credential: malformed")
	// ErrSignature: the issuer signature does not verify, uses an algorithm
	// not allowed, or its key cannot be found.
	ErrSignature = errors.New("credential: invalid signature")
	// ErrExpired: the credential is past its validity (exp, validUntil).
	ErrExpired = errors.New("credential: expired")
	// ErrNotYetValid: the credential's validity has not started (nbf, validFrom).
	ErrNotYetValid = errors.New("credential: not yet valid")
	// ErrHolderBinding: the presentation is not bound to the credential's
	// holder key (missing or bad key-binding proof, wrong nonce or audience).
	ErrHolderBinding = errors.New("credential: holder binding failed")
	// ErrDisclosure: an SD-JWT disclosure is malformed, duplicated or not
	// referenced by the signed payload.
	ErrDisclosure = errors.New("credential: invalid disclosure")
)
