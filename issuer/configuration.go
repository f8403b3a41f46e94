package issuer

import "time"

// Configuration is one credential configuration: what OpenID4VCI calls a
// credential_configuration_id and its metadata, and the template that maps
// identity data to the credential. It is loaded from one folder under
// templates/ (see LoadTemplates and templates/README.md).
type Configuration struct {
	// ID is the credential_configuration_id (the folder name).
	ID string
	// Format is the credential format (credential.FormatJWTVC, ...).
	Format string
	// Scope is the OAuth scope that authorizes this configuration.
	Scope string
	// Types and Contexts are the W3C type and @context arrays (jwt_vc_json,
	// ldp_vc); Types includes "VerifiableCredential".
	Types    []string
	Contexts []string
	// VCT is the SD-JWT VC type. A relative value is resolved against the
	// issuer identifier when the configuration is loaded.
	VCT string
	// LegacyTyp issues SD-JWT VCs with typ vc+sd-jwt instead of dc+sd-jwt.
	LegacyTyp bool
	// Validity is how long a credential is valid from issuance; zero means
	// it does not expire.
	Validity time.Duration
	// SigningAlg is the algorithm (so the issuer key) that signs.
	SigningAlg string
	// ProofAlgs are the algorithms accepted in proof JWTs
	// (proof_signing_alg_values_supported).
	ProofAlgs []string
	// BindingMethods are cryptographic_binding_methods_supported: jwk,
	// did:key, did:jwk.
	BindingMethods []string
	// Display is the credential's display metadata, one entry per locale.
	Display []Display
	// Claims are the claims the credential carries, for display metadata
	// and, for SD-JWT VC, which are selectively disclosable.
	Claims []Claim
	// Subject is the template: a JSON tree whose string leaves may hold
	// {{ expression }} placeholders (see Render).
	Subject map[string]any
	// Dir is the folder the configuration was loaded from.
	Dir string
}

// Display is one locale's display metadata of a credential.
type Display struct {
	Name            string `json:"name" yaml:"name"`
	Locale          string `json:"locale,omitempty" yaml:"locale"`
	Description     string `json:"description,omitempty" yaml:"description"`
	BackgroundColor string `json:"background_color,omitempty" yaml:"background_color"`
	TextColor       string `json:"text_color,omitempty" yaml:"text_color"`
	Logo            *Image `json:"logo,omitempty" yaml:"logo"`
	BackgroundImage *Image `json:"background_image,omitempty" yaml:"background_image"`
}

// Image is a logo or background image.
type Image struct {
	URI     string `json:"uri" yaml:"uri"`
	AltText string `json:"alt_text,omitempty" yaml:"alt_text"`
}

// Claim describes one claim of a credential.
type Claim struct {
	// Path is the claim's path in the claims (OpenID4VCI 1.0 claims path
	// pointer, object keys only), for example ["fullName"] or
	// ["address", "locality"].
	Path []string
	// Mandatory claims are always present.
	Mandatory bool
	// Disclosable claims are selectively disclosable in SD-JWT VC.
	Disclosable bool
	// Display names the claim per locale.
	Display []ClaimDisplay
}

// ClaimDisplay is a claim's name in one locale.
type ClaimDisplay struct {
	Name   string `json:"name" yaml:"name"`
	Locale string `json:"locale,omitempty" yaml:"locale"`
}
