// Package keys is the only place in Sanad that holds private keys.
//
// Keys are grouped in sets, one per purpose (OIDC token signing, request
// object decryption, credential signing per issuer, status lists, verifier
// requests). Each set has one current key per algorithm. A Service generates
// missing keys on first start, seals their private parts at rest through a
// Backend (AES-256-GCM under a master key for the software backend; an HSM
// later), signs and decrypts with them, and publishes their public parts as
// JWK sets.
//
// Rotation never breaks a token in flight: a new key can be published before
// it signs (prepublish), and the key it replaces stays published until every
// token or credential it signed has expired (SetConfig.PublishFor). Several
// processes can share one database: each reloads the keys periodically (Run),
// so `sanad keys rotate`, run as a separate process, takes effect on running
// servers without a restart.
package keys

import (
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"
)

// Purposes of the key sets Sanad uses. Credential signing keys can also be
// kept per issuer, see CredentialSigningPurpose.
const (
	// PurposeOIDCSigning signs ID tokens, JWT access tokens, userinfo
	// responses and introspection responses; published at /.well-known/jwks.json.
	PurposeOIDCSigning = "oidc-signing"
	// PurposeOIDCEncryption decrypts what relying parties encrypt to the
	// provider (request objects); published next to the signing keys.
	PurposeOIDCEncryption = "oidc-encryption"
	// PurposeCredentialSigning signs verifiable credentials.
	PurposeCredentialSigning = "credential-signing"
	// PurposeStatusList signs status list tokens.
	PurposeStatusList = "status-list"
	// PurposeVerifierRequest signs OpenID4VP request objects.
	PurposeVerifierRequest = "verifier-request"
)

// CredentialSigningPurpose is the purpose of the credential signing keys of
// one issuer: "credential-signing:<issuerID>".
func CredentialSigningPurpose(issuerID string) string {
	return PurposeCredentialSigning + ":" + issuerID
}

// Algorithms a key set can hold (JOSE names).
const (
	// AlgES256 is ECDSA on P-256 with SHA-256.
	AlgES256 = "ES256"
	// AlgEdDSA is Ed25519 (pure, no pre-hash).
	AlgEdDSA = "EdDSA"
	// AlgRS256 is RSASSA-PKCS1-v1_5 with SHA-256 (2048-bit keys).
	AlgRS256 = "RS256"
	// AlgPS256 is RSASSA-PSS with SHA-256, salt length 32 (2048-bit keys).
	AlgPS256 = "PS256"
	// AlgRSAOAEP256 is RSAES-OAEP with SHA-256 key encryption (2048-bit keys).
	AlgRSAOAEP256 = "RSA-OAEP-256"
	// AlgECDHES is ECDH-ES direct key agreement on P-256.
	AlgECDHES = "ECDH-ES"
)

// Key uses, as in the JWK "use" member.
const (
	UseSig = "sig"
	UseEnc = "enc"
)

// algUse maps every supported algorithm to the use of its keys.
var algUse = map[string]string{
	AlgES256:      UseSig,
	AlgEdDSA:      UseSig,
	AlgRS256:      UseSig,
	AlgPS256:      UseSig,
	AlgRSAOAEP256: UseEnc,
	AlgECDHES:     UseEnc,
}

// Errors returned by the Service. Match them with errors.Is.
var (
	// ErrUnknownPurpose: no key set is configured for the purpose.
	ErrUnknownPurpose = errors.New("keys: unknown purpose")
	// ErrUnsupportedAlg: the key set of the purpose has no key for the algorithm.
	ErrUnsupportedAlg = errors.New("keys: algorithm not in key set")
	// ErrNoActiveKey: the key set has no key that may sign now (the store was
	// changed behind the service's back; a restart generates one).
	ErrNoActiveKey = errors.New("keys: no active key")
	// ErrInvalid: a token or message was rejected (malformed, algorithm not
	// allowed, unknown key, bad signature, undecryptable). The wrapped
	// message says why, for logs; callers must not show it to clients.
	ErrInvalid = errors.New("keys: invalid token")
)

// SetConfig describes one key set.
type SetConfig struct {
	// Purpose names the set, for example PurposeOIDCSigning.
	Purpose string
	// Use is UseSig or UseEnc; every algorithm must have that use.
	Use string
	// Algs lists the algorithms of the set; the set holds one current key per
	// algorithm.
	Algs []string
	// PublishFor is how long a retired key stays published after it stops
	// signing: the longest lifetime of anything it signed (or, for encryption
	// keys, how long senders may still encrypt to it from a cached JWKS).
	PublishFor time.Duration
	// RotateEvery rotates the set automatically when its current key is that
	// old; zero rotates only on demand (Service.Rotate, `sanad keys rotate`).
	RotateEvery time.Duration
	// Prepublish is how long an automatically rotated key is published
	// before it starts signing, so relying parties that cache the JWKS see it
	// first. It should exceed the JWKS cache lifetime.
	Prepublish time.Duration
}

// Default lifetimes of DefaultSets.
const (
	// OIDC tokens (ID tokens, JWT access tokens) live at most a day.
	defaultOIDCPublishFor = 24 * time.Hour
	// Credentials live for years; their issuer key must stay verifiable.
	defaultCredentialPublishFor = 10 * 365 * 24 * time.Hour
	// Status list tokens are reissued well within a month.
	defaultStatusListPublishFor = 30 * 24 * time.Hour
	// Request objects are used within minutes.
	defaultVerifierRequestPublishFor = time.Hour
	// OIDC signing keys rotate quarterly, published a day ahead.
	defaultOIDCRotateEvery = 90 * 24 * time.Hour
	defaultOIDCPrepublish  = 24 * time.Hour
)

// DefaultSets returns the key sets Sanad uses when nothing else is
// configured. Only the OIDC signing keys rotate automatically; credential,
// status list and verifier keys are referenced from issuer metadata and
// trust lists, so they rotate when an operator decides.
func DefaultSets() []SetConfig {
	return []SetConfig{
		{
			Purpose:     PurposeOIDCSigning,
			Use:         UseSig,
			Algs:        []string{AlgRS256, AlgES256, AlgPS256, AlgEdDSA},
			PublishFor:  defaultOIDCPublishFor,
			RotateEvery: defaultOIDCRotateEvery,
			Prepublish:  defaultOIDCPrepublish,
		},
		{
			Purpose:    PurposeOIDCEncryption,
			Use:        UseEnc,
			Algs:       []string{AlgRSAOAEP256, AlgECDHES},
			PublishFor: defaultOIDCPublishFor,
		},
		CredentialSigningSet(""),
		{
			Purpose:    PurposeStatusList,
			Use:        UseSig,
			Algs:       []string{AlgES256, AlgEdDSA},
			PublishFor: defaultStatusListPublishFor,
		},
		{
			Purpose:    PurposeVerifierRequest,
			Use:        UseSig,
			Algs:       []string{AlgES256, AlgEdDSA},
			PublishFor: defaultVerifierRequestPublishFor,
		},
	}
}

// CredentialSigningSet returns the default credential signing set of one
// issuer; an empty issuerID gives the shared set PurposeCredentialSigning.
func CredentialSigningSet(issuerID string) SetConfig {
	purpose := PurposeCredentialSigning
	if issuerID != "" {
		purpose = CredentialSigningPurpose(issuerID)
	}
	return SetConfig{
		Purpose:    purpose,
		Use:        UseSig,
		Algs:       []string{AlgES256, AlgEdDSA},
		PublishFor: defaultCredentialPublishFor,
	}
}

// purposeRE is the shape of a purpose: a lowercase name, optionally
// qualified by an identifier (the issuer of a credential signing set).
var purposeRE = regexp.MustCompile(`^[a-z][a-z0-9-]{0,62}(:[A-Za-z0-9._~-]{1,128})?$`)

// validate reports every problem of the set at once.
func (c SetConfig) validate() error {
	var errs []error
	bad := func(format string, args ...any) {
		errs = append(errs, fmt.Errorf("key set %q: %s", c.Purpose, fmt.Sprintf(format, args...)))
	}
	if !purposeRE.MatchString(c.Purpose) {
		bad("purpose must match %s", purposeRE)
	}
	if c.Use != UseSig && c.Use != UseEnc {
		bad("use must be %q or %q, got %q", UseSig, UseEnc, c.Use)
	}
	if len(c.Algs) == 0 {
		bad("no algorithms")
	}
	for i, alg := range c.Algs {
		use, ok := algUse[alg]
		switch {
		case !ok:
			bad("unsupported algorithm %q (supported: %s)", alg, strings.Join(supportedAlgs(), ", "))
		case use != c.Use:
			bad("algorithm %s is for use %q, the set is %q", alg, use, c.Use)
		case slices.Contains(c.Algs[:i], alg):
			bad("algorithm %s listed twice", alg)
		}
	}
	if c.PublishFor <= 0 {
		bad("publish_for must be positive, got %s", c.PublishFor)
	}
	if c.RotateEvery < 0 {
		bad("rotate_every must not be negative, got %s", c.RotateEvery)
	}
	if c.Prepublish < 0 {
		bad("prepublish must not be negative, got %s", c.Prepublish)
	}
	if c.RotateEvery > 0 && c.Prepublish >= c.RotateEvery {
		bad("prepublish (%s) must be shorter than rotate_every (%s)", c.Prepublish, c.RotateEvery)
	}
	return errors.Join(errs...)
}

func supportedAlgs() []string {
	algs := make([]string, 0, len(algUse))
	for alg := range algUse {
		algs = append(algs, alg)
	}
	slices.Sort(algs)
	return algs
}
