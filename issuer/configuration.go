package issuer

import "time"

// W3C data models of ldp_vc credentials (Configuration.DataModel).
const (
	// DataModel20 is VCDM 2.0 (https://www.w3.org/ns/credentials/v2).
	DataModel20 = "2.0"
	// DataModel11 is VCDM 1.1 (https://www.w3.org/2018/credentials/v1),
	// what Inji Verify reads.
	DataModel11 = "1.1"
)

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
	// ldp_vc); Types includes "VerifiableCredential". For ldp_vc, Contexts
	// are the template's own contexts, which follow the data model's and
	// the suite's in the credential (see LDPContexts); a context the
	// template folder bundles is named by its URL (see ContextFiles).
	Types    []string
	Contexts []string
	// ContextFiles are the JSON-LD contexts bundled in the template folder
	// (a contexts entry naming a file such as "context.jsonld"), by the URL
	// the issuer serves them at: "<issuer id>/contexts/<id>/<file>". The
	// issuer loads them offline and serves them (PathContexts).
	ContextFiles map[string][]byte
	// DataModel is the W3C data model of ldp_vc credentials: DataModel20
	// (validFrom, validUntil) or DataModel11 (issuanceDate,
	// expirationDate). Empty for other formats.
	DataModel string
	// Cryptosuite is how ldp_vc credentials are signed: a Data Integrity
	// cryptosuite (ldp.SuiteEdDSARDFC2022, ldp.SuiteECDSARDFC2019) or the
	// legacy proof type ldp.SuiteEd25519Signature2020 (VCDM 1.1 only).
	// Empty for other formats.
	Cryptosuite string
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
