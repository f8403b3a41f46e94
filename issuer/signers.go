package issuer

import (
	"context"
	"fmt"

	"github.com/lestrrat-go/jwx/v3/jwk"

	"github.com/sanad-id/sanad/credential"
	"github.com/sanad-id/sanad/keys"
)

// KeySigners is Signers over the keys package: credentials are signed by
// the current key of one key set (keys.PurposeCredentialSigning, or the
// issuer's own set, keys.CredentialSigningPurpose(id)).
type KeySigners struct {
	keys    *keys.Service
	purpose string
}

var _ Signers = (*KeySigners)(nil)

// NewKeySigners returns the Signers of the key set purpose of s; an empty
// purpose means keys.PurposeCredentialSigning. A purpose s has no key set
// for has no algorithms, so New refuses every configuration.
func NewKeySigners(s *keys.Service, purpose string) *KeySigners {
	if purpose == "" {
		purpose = keys.PurposeCredentialSigning
	}
	return &KeySigners{keys: s, purpose: purpose}
}

// Signer returns a credential.Signer over the current key of alg. Its
// KeyID is the kid of the key that is current now; get a new Signer per
// credential so a rotation is picked up.
func (ks *KeySigners) Signer(alg string) (credential.Signer, error) {
	kid, err := ks.keys.CurrentKeyID(ks.purpose, alg)
	if err != nil {
		return nil, err
	}
	return &keySigner{keys: ks.keys, purpose: ks.purpose, alg: alg, kid: kid}, nil
}

// Algs implements Signers: the algorithms of the key set.
func (ks *KeySigners) Algs() []string { return ks.keys.Algorithms(ks.purpose) }

// JWKS implements Signers: the published keys of the key set.
func (ks *KeySigners) JWKS(ctx context.Context) (jwk.Set, error) {
	return ks.keys.PublicJWKS(ctx, ks.purpose)
}

// keySigner signs with the current key of (purpose, alg).
type keySigner struct {
	keys    *keys.Service
	purpose string
	alg     string
	kid     string
}

func (s *keySigner) Alg() string   { return s.alg }
func (s *keySigner) KeyID() string { return s.kid }

// SignJWS implements credential.Signer. The kid in the header is the key
// that signed, which is KeyID unless a rotation took effect in between.
func (s *keySigner) SignJWS(ctx context.Context, payload []byte, header map[string]any) (string, error) {
	return s.keys.SignJWS(ctx, s.purpose, s.alg, payload, keys.Header(header))
}

// Sign implements credential.Signer. It fails, rather than return a
// signature that KeyID does not verify, if the key rotated after the
// Signer was made; the caller gets a new Signer and signs again.
func (s *keySigner) Sign(ctx context.Context, message []byte) ([]byte, error) {
	sig, kid, err := s.keys.Sign(ctx, s.purpose, s.alg, message)
	if err != nil {
		return nil, err
	}
	if kid != s.kid {
		return nil, fmt.Errorf("issuer: signing key of %s %s rotated from %s to %s; sign again", s.purpose, s.alg, s.kid, kid)
	}
	return sig, nil
}
