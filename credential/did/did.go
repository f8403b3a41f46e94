// Package did resolves the decentralized identifiers that name holder and
// issuer keys in proofs and credentials to public keys.
//
// did:key and did:jwk carry the key in the identifier itself, so they are
// resolved offline, without a network call or a cache (KeyMethod,
// JWKMethod). Methods that fetch a document (did:web) plug into a Resolver
// as another Method, with the cache and trust list they need.
//
// Only public verification keys come out of a Resolver: a DID that encodes
// private key material, a symmetric key or a key-agreement key is refused.
package did

import (
	"context"
	"crypto"
	"errors"
	"fmt"
	"strings"

	"github.com/lestrrat-go/jwx/v3/jwk"

	"github.com/sanad-id/sanad/credential"
)

// Errors of parsing and resolution. Match them with errors.Is; the wrapped
// message says why, for logs.
var (
	// ErrInvalid: the string is not a DID or DID URL that Sanad accepts, or
	// the key it encodes is malformed.
	ErrInvalid = errors.New("did: invalid DID")
	// ErrUnsupportedMethod: no Method of the Resolver handles the DID method.
	ErrUnsupportedMethod = errors.New("did: unsupported DID method")
	// ErrUnsupportedKey: the DID encodes a key type Sanad does not verify
	// with (X25519, secp256k1, BLS, ...).
	ErrUnsupportedKey = errors.New("did: unsupported key type")
	// ErrPrivateKey: the DID carries private or symmetric key material.
	ErrPrivateKey = errors.New("did: DID carries private key material")
	// ErrNotFound: the DID URL's fragment names no verification method of
	// the DID, or the verification method does not belong to the issuer.
	ErrNotFound = errors.New("did: verification method not found")
)

// MaxLength is the longest DID URL accepted (a did:jwk of an RSA-4096 key
// is about 1 000 characters).
const MaxLength = 4096

// URL is a parsed DID URL: a DID with an optional fragment naming one of
// its verification methods. DID URLs with a path or a query are refused:
// no method Sanad resolves gives them a meaning for keys.
type URL struct {
	// Method is the DID method name ("key", "jwk", "web").
	Method string
	// ID is the method-specific identifier.
	ID string
	// Fragment is the fragment without "#", empty when there is none.
	Fragment string
}

// DID is the DID without the fragment: "did:<method>:<id>".
func (u URL) DID() string { return "did:" + u.Method + ":" + u.ID }

// String is the DID URL.
func (u URL) String() string {
	if u.Fragment == "" {
		return u.DID()
	}
	return u.DID() + "#" + u.Fragment
}

// Parse parses a DID or a DID URL with a fragment (W3C DID Core 1.0,
// sections 3.1 and 3.2).
func Parse(s string) (URL, error) {
	var u URL
	if len(s) > MaxLength {
		return u, fmt.Errorf("%w: longer than %d bytes", ErrInvalid, MaxLength)
	}
	rest, ok := strings.CutPrefix(s, "did:")
	if !ok {
		return u, fmt.Errorf("%w: no did: prefix", ErrInvalid)
	}
	rest, frag, hasFrag := strings.Cut(rest, "#")
	if hasFrag {
		if frag == "" {
			return u, fmt.Errorf("%w: empty fragment", ErrInvalid)
		}
		if !validFragment(frag) {
			return u, fmt.Errorf("%w: fragment has characters outside RFC 3986", ErrInvalid)
		}
	}
	if strings.ContainsAny(rest, "/?") {
		return u, fmt.Errorf("%w: DID URL paths and queries are not supported", ErrInvalid)
	}
	method, id, ok := strings.Cut(rest, ":")
	if !ok || method == "" {
		return u, fmt.Errorf("%w: no method name", ErrInvalid)
	}
	for i := 0; i < len(method); i++ {
		if c := method[i]; !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9') {
			return u, fmt.Errorf("%w: method name must be lower-case letters and digits", ErrInvalid)
		}
	}
	if !validMethodID(id) {
		return u, fmt.Errorf("%w: malformed method-specific id", ErrInvalid)
	}
	return URL{Method: method, ID: id, Fragment: frag}, nil
}

// validMethodID checks method-specific-id = *( *idchar ":" ) 1*idchar,
// idchar = ALPHA / DIGIT / "." / "-" / "_" / pct-encoded.
func validMethodID(id string) bool {
	if id == "" || id[len(id)-1] == ':' {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		switch {
		case isAlnum(c) || c == '.' || c == '-' || c == '_' || c == ':':
		case c == '%' && i+2 < len(id) && isHex(id[i+1]) && isHex(id[i+2]):
			i += 2
		default:
			return false
		}
	}
	return true
}

// validFragment checks fragment = *( pchar / "/" / "?" ) of RFC 3986.
func validFragment(f string) bool {
	for i := 0; i < len(f); i++ {
		c := f[i]
		switch {
		case isAlnum(c) || strings.IndexByte("-._~!$&'()*+,;=:@/?", c) >= 0:
		case c == '%' && i+2 < len(f) && isHex(f[i+1]) && isHex(f[i+2]):
			i += 2
		default:
			return false
		}
	}
	return true
}

func isAlnum(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

func isHex(c byte) bool { return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F' }

// Method resolves the DIDs of one DID method.
type Method interface {
	// Name is the method name, as in the DID ("key" for did:key).
	Name() string
	// ResolveKey returns the public key of the verification method u names
	// (u.Method is Name()). An empty fragment names the DID's only
	// verification key; a method whose DIDs may have several returns
	// ErrNotFound for it.
	ResolveKey(ctx context.Context, u URL) (jwk.Key, error)
}

// Resolver resolves DID URLs with the Methods it was built with. It is
// safe for concurrent use.
type Resolver struct {
	methods map[string]Method
}

var _ credential.KeyResolver = (*Resolver)(nil)

// NewResolver returns a Resolver for methods; a later Method of the same
// name replaces an earlier one.
func NewResolver(methods ...Method) *Resolver {
	r := &Resolver{methods: make(map[string]Method, len(methods))}
	for _, m := range methods {
		r.methods[m.Name()] = m
	}
	return r
}

// NewOfflineResolver returns a Resolver for the methods that need no
// network: did:key and did:jwk.
func NewOfflineResolver() *Resolver {
	return NewResolver(KeyMethod{}, JWKMethod{})
}

// Resolve returns the public key a DID or DID URL names.
func (r *Resolver) Resolve(ctx context.Context, didURL string) (jwk.Key, error) {
	u, err := Parse(didURL)
	if err != nil {
		return nil, err
	}
	return r.ResolveURL(ctx, u)
}

// ResolveURL is Resolve for a parsed DID URL.
func (r *Resolver) ResolveURL(ctx context.Context, u URL) (jwk.Key, error) {
	m, ok := r.methods[u.Method]
	if !ok {
		return nil, fmt.Errorf("%w: did:%s", ErrUnsupportedMethod, u.Method)
	}
	k, err := m.ResolveKey(ctx, u)
	if err != nil {
		return nil, err
	}
	if private, err := jwk.IsPrivateKey(k); err != nil || private {
		return nil, fmt.Errorf("%w: did:%s resolved to a non-public key", ErrPrivateKey, u.Method)
	}
	return k, nil
}

// ResolveKey implements credential.KeyResolver for issuers identified by a
// DID: kid is a DID URL of the issuer's DID, a fragment ("#key-1") relative
// to it, or empty (the DID's only key). A kid naming another DID than the
// issuer is refused, so one party's key never verifies another's
// credentials. The key signs for the issuer: when the DID's Method is a
// DocumentMethod (did:web), the verification method must be listed under
// assertionMethod (a key for authentication only, say a login key, does
// not issue credentials or status lists); did:key and did:jwk name one key
// that may do everything.
func (r *Resolver) ResolveKey(ctx context.Context, issuer, kid string) (crypto.PublicKey, error) {
	iss, err := Parse(issuer)
	if err != nil {
		return nil, fmt.Errorf("issuer: %w", err)
	}
	if iss.Fragment != "" {
		return nil, fmt.Errorf("%w: issuer DID has a fragment", ErrInvalid)
	}
	u := iss
	switch {
	case kid == "":
	case strings.HasPrefix(kid, "#"):
		if u, err = Parse(issuer + kid); err != nil {
			return nil, fmt.Errorf("kid: %w", err)
		}
	default:
		if u, err = Parse(kid); err != nil {
			return nil, fmt.Errorf("kid: %w", err)
		}
		if u.DID() != iss.DID() {
			return nil, fmt.Errorf("%w: kid is a key of another DID than the issuer", ErrNotFound)
		}
	}
	k, err := r.assertionKey(ctx, u)
	if err != nil {
		return nil, err
	}
	var raw any
	if err := jwk.Export(k, &raw); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	return raw, nil
}

// assertionKey is ResolveURL for a key that signs for its DID: a
// DocumentMethod's verification method must be listed under
// assertionMethod.
func (r *Resolver) assertionKey(ctx context.Context, u URL) (jwk.Key, error) {
	if _, ok := r.methods[u.Method].(DocumentMethod); !ok {
		return r.ResolveURL(ctx, u)
	}
	vm, err := r.VerificationMethod(ctx, u.String())
	if err != nil {
		return nil, err
	}
	if !vm.Has(AssertionMethod) {
		return nil, fmt.Errorf("%w: %s is not listed under %s", ErrNotFound, vm.ID, AssertionMethod)
	}
	return vm.Key, nil
}
