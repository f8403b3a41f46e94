package issuer

import (
	"context"
	"time"

	"github.com/lestrrat-go/jwx/v3/jwk"

	"github.com/sanad-id/sanad/credential"
	"github.com/sanad-id/sanad/credential/jsonld"
)

// Format produces credentials of one format. The issuer does everything
// format-independent (tokens, proofs, nonces, rendering the template,
// the ledger); a Format turns the rendered claims into a signed credential.
// ldp_vc (Data Integrity) and mso_mdoc slot in as further Formats.
type Format interface {
	// Name is the format identifier (credential.FormatJWTVC, ...).
	Name() string
	// Validate checks, at start-up, what a configuration of this format
	// must have (types and contexts, a vct, ...).
	Validate(c *Configuration) error
	// Metadata returns the format-specific members of the configuration's
	// entry in credential_configurations_supported: credential_definition
	// for W3C formats, vct for SD-JWT VC. draft13 selects the draft-13 shape
	// (where credential_definition.credentialSubject and claims carry the
	// claim display).
	Metadata(c *Configuration, draft13 bool) map[string]any
	// MatchesDraft13 reports whether a draft-13 credential request (its
	// format, credential_definition and vct members, raw) asks for c.
	MatchesDraft13(c *Configuration, req Draft13Selector) bool
	// Issue signs one credential. The result is a string (JWT, SD-JWT) or
	// a JSON object (ldp_vc), put as is in the credential response.
	Issue(ctx context.Context, in IssueInput) (any, error)
}

// Draft13Selector is what a draft-13 credential request says about the
// credential it wants.
type Draft13Selector struct {
	Format string
	// Types is credential_definition.type (W3C formats).
	Types []string
	// Contexts is credential_definition.@context (ldp_vc), if given.
	Contexts []string
	// VCT is vct (SD-JWT VC).
	VCT string
}

// HolderKey is the key a credential is bound to: the key of a verified
// proof JWT.
type HolderKey struct {
	// JWK is the public key.
	JWK jwk.Key
	// DID is the holder's DID when the proof named its key by a did:key or
	// did:jwk kid (the DID without fragment), else empty. W3C formats use it
	// as credentialSubject.id; otherwise they use did:jwk of JWK.
	DID string
	// Thumbprint is the base64url SHA-256 JWK thumbprint (RFC 7638).
	Thumbprint string
}

// IssueInput is everything a Format needs to sign one credential.
type IssueInput struct {
	Config *Configuration
	// ID is the credential's unique id ("urn:uuid:…"), recorded in the
	// ledger; W3C formats put it in id / jti.
	ID string
	// Issuer is the credential issuer identifier (iss / issuer).
	Issuer string
	// IssuerDID is the issuer's DID (Config.DID): the issuer of ldp_vc
	// credentials, whose verification methods are "<IssuerDID>#<kid>".
	IssuerDID string
	// Contexts loads the JSON-LD contexts of ldp_vc credentials, offline.
	Contexts *jsonld.Loader
	// Claims are the rendered claims: credentialSubject for W3C formats,
	// the top-level claims for SD-JWT VC.
	Claims map[string]any
	// Holder is nil for an unbound credential.
	Holder *HolderKey
	// IssuedAt, ValidFrom and ValidUntil (zero: no expiry).
	IssuedAt, ValidFrom, ValidUntil time.Time
	// Status is the credential's status: credentialStatus for W3C formats
	// (an object or an array of entries), the status claim object for
	// SD-JWT VC; nil when it has none.
	Status any
	// Signer signs with the issuer key of Config.SigningAlg.
	Signer credential.Signer
	// X5C is the issuer's certificate chain (DER, leaf first), if any.
	X5C [][]byte
}
