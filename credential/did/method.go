package did

import (
	"context"
	"crypto"
	"fmt"
	"strings"

	"github.com/lestrrat-go/jwx/v3/jwk"
)

// Verification method types Sanad reads and writes.
const (
	// TypeMultikey is a Multikey (Controlled Identifiers 1.0) with
	// publicKeyMultibase: what Data Integrity suites use.
	TypeMultikey = "Multikey"
	// TypeEd25519VerificationKey2020 is the Ed25519 key type of the
	// Ed25519Signature2020 suite (publicKeyMultibase).
	TypeEd25519VerificationKey2020 = "Ed25519VerificationKey2020"
	// TypeJsonWebKey and TypeJsonWebKey2020 carry publicKeyJwk.
	TypeJsonWebKey     = "JsonWebKey"
	TypeJsonWebKey2020 = "JsonWebKey2020"
)

// Verification relationships of a DID document.
const (
	AssertionMethod      = "assertionMethod"
	Authentication       = "authentication"
	CapabilityInvocation = "capabilityInvocation"
	CapabilityDelegation = "capabilityDelegation"
)

// VerificationMethod is one resolved verification method of a DID.
type VerificationMethod struct {
	// ID is the absolute DID URL of the method ("did:web:example.org#key-1").
	ID string
	// Type is the method's type (TypeMultikey, ...).
	Type string
	// Controller is the DID that controls the key.
	Controller string
	// Key is the public key.
	Key jwk.Key
	// Relationships lists the verification relationships the DID document
	// lists the method under (AssertionMethod, ...).
	Relationships []string
}

// Has reports whether the method is listed under relationship.
func (m VerificationMethod) Has(relationship string) bool {
	for _, r := range m.Relationships {
		if r == relationship {
			return true
		}
	}
	return false
}

// PublicKey returns the method's key as a crypto.PublicKey
// (ed25519.PublicKey, *ecdsa.PublicKey, *rsa.PublicKey).
func (m VerificationMethod) PublicKey() (crypto.PublicKey, error) {
	if m.Key == nil {
		return nil, fmt.Errorf("%w: verification method %s has no key", ErrInvalid, m.ID)
	}
	return verificationKey(m.Key)
}

// MethodResolver is what Data Integrity verification needs from DID
// resolution: the verification method a proof names, with the
// relationships its controller gave it.
type MethodResolver interface {
	VerificationMethod(ctx context.Context, didURL string) (VerificationMethod, error)
}

// DocumentMethod is a Method that resolves whole verification methods
// (types and relationships), not only keys. Found by type assertion; a
// Method without it gets methods synthesized from ResolveKey with every
// relationship (right for did:key and did:jwk, whose only key may do
// everything).
type DocumentMethod interface {
	Method
	VerificationMethod(ctx context.Context, u URL) (VerificationMethod, error)
}

var _ MethodResolver = (*Resolver)(nil)

// VerificationMethod resolves a DID URL with a fragment to its
// verification method. For did:key the type is Multikey, for did:jwk
// JsonWebKey.
func (r *Resolver) VerificationMethod(ctx context.Context, didURL string) (VerificationMethod, error) {
	u, err := Parse(didURL)
	if err != nil {
		return VerificationMethod{}, err
	}
	m, ok := r.methods[u.Method]
	if !ok {
		return VerificationMethod{}, fmt.Errorf("%w: did:%s", ErrUnsupportedMethod, u.Method)
	}
	if dm, ok := m.(DocumentMethod); ok {
		vm, err := dm.VerificationMethod(ctx, u)
		if err != nil {
			return VerificationMethod{}, err
		}
		if private, err := jwk.IsPrivateKey(vm.Key); err != nil || private {
			return VerificationMethod{}, fmt.Errorf("%w: did:%s resolved to a non-public key", ErrPrivateKey, u.Method)
		}
		return vm, nil
	}
	if u.Fragment == "" {
		return VerificationMethod{}, fmt.Errorf("%w: a verification method is a DID URL with a fragment", ErrNotFound)
	}
	k, err := r.ResolveURL(ctx, u)
	if err != nil {
		return VerificationMethod{}, err
	}
	typ := TypeMultikey
	if u.Method == "jwk" {
		typ = TypeJsonWebKey
	}
	return VerificationMethod{
		ID: u.String(), Type: typ, Controller: u.DID(), Key: k,
		Relationships: []string{AssertionMethod, Authentication, CapabilityInvocation, CapabilityDelegation},
	}, nil
}

// EncodeMultikey returns the publicKeyMultibase of an Ed25519 or NIST
// curve public key: base58btc of the multicodec-prefixed key (compressed
// point for ECDSA), as did:key and Multikey encode it.
func EncodeMultikey(pub crypto.PublicKey) (string, error) {
	d, err := KeyDID(pub)
	if err != nil {
		return "", err
	}
	return strings.TrimPrefix(d, "did:key:"), nil
}

// DecodeMultikey parses a publicKeyMultibase value (Multikey,
// Ed25519VerificationKey2020): an Ed25519, P-256, P-384 or P-521 public
// key. Private key codecs are refused with ErrPrivateKey.
func DecodeMultikey(mb string) (crypto.PublicKey, error) {
	return decodeKeyID(mb)
}
