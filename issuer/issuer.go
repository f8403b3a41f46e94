package issuer

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/lestrrat-go/jwx/v3/jwk"

	"github.com/sanad-id/sanad/credential"
	"github.com/sanad-id/sanad/credential/jsonld"
	"github.com/sanad-id/sanad/credential/statuslist"
	"github.com/sanad-id/sanad/idrepo/notify"
	"github.com/sanad-id/sanad/internal/web"
	"github.com/sanad-id/sanad/storage"
)

// Paths, relative to the credential issuer identifier's path (an issuer
// "https://id.example/issuer" serves its credential endpoint at
// "https://id.example/issuer/credential").
const (
	PathCredential   = "/credential"
	PathNonce        = "/nonce"
	PathNotification = "/notification"
	// PathOffer + "/{id}" serves an offer by reference (credential_offer_uri).
	PathOffer = "/credential-offer"
	// PathJWKS is the issuer's JWKS (jwks_uri of /.well-known/jwt-vc-issuer).
	PathJWKS = "/jwks.json"
)

// Well-known metadata documents (OpenID4VCI section 12.2, SD-JWT VC
// section 5). For an identifier with a path they are served both with the
// well-known segment inserted before the path (RFC 8414 style, what the
// specs say) and appended after it (what several wallets request).
const (
	WellKnownIssuer    = "/.well-known/openid-credential-issuer"
	WellKnownJWTIssuer = "/.well-known/jwt-vc-issuer"
)

// Draft13Query selects the draft-13 metadata shape (for Inji wallets and
// Mimoto): GET /.well-known/openid-credential-issuer?version=draft13.
const Draft13Query = "draft13"

// Admin API paths, under the admin router (admin bearer token).
const (
	// AdminOffers creates pre-authorized offers (POST).
	AdminOffers = "/v1/credential-offers"
)

// AccessToken is a verified access token presented at the credential or
// notification endpoint.
type AccessToken struct {
	// ID is the token's jti.
	ID string
	// Subject is the pairwise subject of the resident for the client; it is
	// what the ledger records and what the wallet knows.
	Subject  string
	ClientID string
	// Scopes are the token's scopes.
	Scopes []string
	// AuthorizationDetails is the token's authorization_details (RFC 9396),
	// if any; entries of type openid_credential name configurations.
	AuthorizationDetails json.RawMessage
	// JKT is the thumbprint of the DPoP key the token is bound to; empty
	// for a bearer token.
	JKT string
	// PersonID is the resident's internal id in the ID repository. It never
	// leaves the server (not in responses, logs or credentials).
	PersonID string
	Expires  time.Time
}

// TokenVerifier verifies access tokens. Sanad's own OpenID provider is one
// (cmd/sanad adapts oidc.Provider.VerifyAccessToken); JWKSVerifier verifies
// tokens of an external authorization server by its JWKS. Errors mean
// invalid_token; the issuer does not tell the client why.
type TokenVerifier interface {
	VerifyAccessToken(ctx context.Context, token string) (*AccessToken, error)
}

// DPoPVerifier checks a DPoP proof (RFC 9449) sent with an access token to
// a resource endpoint and returns the thumbprint of its key.
// *oidc.DPoPVerifier satisfies it through VerifyProof.
type DPoPVerifier interface {
	VerifyProof(ctx context.Context, proof, method, url, accessToken string) (jkt string, err error)
}

// DataProvider gives the identity data a credential is rendered from, as
// the ID repository holds it (schema field names; multi-language fields as
// [{language, value}] lists; the photo as {format, data}). The default is
// the ID repository itself (idrepo.Repository.IdentityData).
type DataProvider interface {
	IdentityData(ctx context.Context, personID string) (map[string]any, error)
}

// PersonFinder resolves the individual id an operator names in an offer
// (UIN, VID, phone or e-mail) to the resident's internal id and identity
// data (for the contact the tx_code is sent to). ErrUnknownPerson if there
// is no such active resident.
type PersonFinder interface {
	FindPerson(ctx context.Context, individualID string) (personID string, identity map[string]any, err error)
}

// ErrUnknownPerson is returned by a PersonFinder for an individual id that
// names no active resident.
var ErrUnknownPerson = errors.New("issuer: unknown individual")

// Signers gives the credential.Signer of the issuer's current key for an
// algorithm. KeySigners adapts the keys package.
type Signers interface {
	Signer(alg string) (credential.Signer, error)
	// Algs are the algorithms the issuer has keys for.
	Algs() []string
	// JWKS is the issuer's public keys, current and retired, for
	// /.well-known/jwt-vc-issuer and PathJWKS.
	JWKS(ctx context.Context) (jwk.Set, error)
}

// Config configures an Issuer.
type Config struct {
	// CredentialIssuer is the issuer identifier: an https URL (http for
	// localhost) without query or fragment. Proof JWTs must name it in aud.
	CredentialIssuer string
	// AuthorizationServers are the identifiers of the authorization servers
	// whose tokens the issuer accepts, listed in the metadata.
	AuthorizationServers []string
	// Display is the issuer's name (and logo) per locale in the metadata;
	// empty means DefaultIssuerDisplay.
	Display []Display
	// Configurations are the credential configurations (LoadTemplates).
	Configurations []*Configuration
	// Formats are the credential formats the issuer can produce, by name;
	// nil means DefaultFormats().
	Formats map[string]Format

	Tokens  TokenVerifier
	DPoP    DPoPVerifier // nil: DPoP-bound tokens are refused
	Data    DataProvider
	Persons PersonFinder // nil: no pre-authorized offers
	Ledger  storage.Ledger
	State   storage.State
	Signers Signers
	// Notifier sends tx_codes to residents; nil: offers with a tx_code are
	// refused.
	Notifier notify.Notifier

	// BatchSize is the largest number of proofs (so credentials) in one
	// request; 0 means DefaultBatchSize. 1 disables batch issuance.
	BatchSize int
	// NonceTTL is how long a c_nonce is valid; 0 means DefaultNonceTTL.
	NonceTTL time.Duration
	// ProofIATWindow is how far a proof's iat may be from now; 0 means
	// DefaultProofIATWindow.
	ProofIATWindow time.Duration
	// PreAuthorizedCodeTTL is the lifetime of an offer's pre-authorized
	// code; 0 means DefaultPreAuthorizedCodeTTL.
	PreAuthorizedCodeTTL time.Duration
	// TxCodeAttempts is how many wrong tx_code values invalidate a
	// pre-authorized code; 0 means DefaultTxCodeAttempts.
	TxCodeAttempts int
	// RateLimit is how many nonce requests one client IP may make per
	// minute (the nonce endpoint is unauthenticated and each nonce is kept
	// until it expires); 0 means DefaultRateLimit, -1 turns the limit off
	// (load tests only).
	RateLimit int
	// X5C is an optional certificate chain (DER, leaf first) for the
	// issuer's key, sent in the x5c header of SD-JWT VCs.
	X5C [][]byte

	// DID is the issuer's DID: the issuer of its ldp_vc credentials and
	// W3C status list credentials, whose verification methods are the
	// credential signing keys (current and retired). Empty means the
	// did:web of the issuer identifier's host ("did:web:id.example",
	// port percent-encoded), whose document the issuer serves at
	// /.well-known/did.json (see DIDDocument).
	DID string
	// Contexts loads the JSON-LD contexts of ldp_vc credentials, offline;
	// nil means the bundled contexts plus the configurations' own
	// (Configuration.ContextFiles), which the issuer also serves.
	Contexts *jsonld.Loader

	// StatusLists allocates status list entries; nil means credentials
	// carry no status and cannot be revoked (tests only: cmd/sanad always
	// passes the durable store).
	StatusLists storage.StatusLists
	// StatusListSize is the number of entries of a new status list; 0
	// means statuslist.DefaultSize.
	StatusListSize int64
	// StatusListTTL is how long a published status list may be cached
	// (Cache-Control max-age, and the longest a status change takes to
	// show); 0 means DefaultStatusListTTL.
	StatusListTTL time.Duration

	Now    func() time.Time
	Logger *slog.Logger
}

// Defaults.
const (
	DefaultBatchSize            = 10
	DefaultNonceTTL             = 5 * time.Minute
	DefaultProofIATWindow       = 5 * time.Minute
	DefaultPreAuthorizedCodeTTL = 10 * time.Minute
	DefaultTxCodeAttempts       = 3
	DefaultRateLimit            = 1200
	DefaultStatusListTTL        = 5 * time.Second
)

// Issuer is the credential issuer.
type Issuer struct {
	cfg     Config
	id      *url.URL
	base    string // cfg.CredentialIssuer without a trailing slash
	configs map[string]*Configuration
	byScope map[string]*Configuration
	formats map[string]Format
	ledger  *ledgerCommitter
	status  *issuerStatus // nil without Config.StatusLists
	log     *slog.Logger

	// did is the issuer's DID (Config.DID or its default), whose document
	// is served at didPath and built by didDoc.
	did     string
	didPath string
	didDoc  *didDocCache
	ed2020  bool // a configuration signs with Ed25519Signature2020
	// loader loads the JSON-LD contexts of ldp_vc credentials; contexts
	// are the template context files served under PathContexts.
	loader   *jsonld.Loader
	contexts map[contextKey]servedContext
}

// New checks cfg and returns an Issuer.
func New(cfg Config) (*Issuer, error) {
	u, err := url.Parse(cfg.CredentialIssuer)
	if err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") || u.RawQuery != "" || u.Fragment != "" {
		return nil, fmt.Errorf("issuer: credential issuer %q must be an http(s) URL without query or fragment", cfg.CredentialIssuer)
	}
	var errs []error
	need := func(ok bool, what string) {
		if !ok {
			errs = append(errs, fmt.Errorf("issuer: %s is required", what))
		}
	}
	need(cfg.Tokens != nil, "Tokens")
	need(cfg.Data != nil, "Data")
	need(cfg.Ledger != nil, "Ledger")
	need(cfg.State != nil, "State")
	need(cfg.Signers != nil, "Signers")
	if cfg.Formats == nil {
		cfg.Formats = DefaultFormats()
	}
	if cfg.BatchSize == 0 {
		cfg.BatchSize = DefaultBatchSize
	}
	if cfg.NonceTTL == 0 {
		cfg.NonceTTL = DefaultNonceTTL
	}
	if cfg.ProofIATWindow == 0 {
		cfg.ProofIATWindow = DefaultProofIATWindow
	}
	if cfg.PreAuthorizedCodeTTL == 0 {
		cfg.PreAuthorizedCodeTTL = DefaultPreAuthorizedCodeTTL
	}
	if cfg.TxCodeAttempts == 0 {
		cfg.TxCodeAttempts = DefaultTxCodeAttempts
	}
	if cfg.RateLimit == 0 {
		cfg.RateLimit = DefaultRateLimit
	}
	if cfg.RateLimit < -1 {
		errs = append(errs, errors.New("issuer: RateLimit must be -1 (off), 0 (default) or positive"))
	}
	if cfg.StatusListSize == 0 {
		cfg.StatusListSize = statuslist.DefaultSize
	}
	if cfg.StatusListSize < 1 || cfg.StatusListSize > maxStatusListSize {
		errs = append(errs, fmt.Errorf("issuer: StatusListSize must be 1 to %d (0 for the default)", maxStatusListSize))
	}
	if cfg.StatusListTTL == 0 {
		cfg.StatusListTTL = DefaultStatusListTTL
	}
	if cfg.StatusListTTL < 0 {
		errs = append(errs, errors.New("issuer: StatusListTTL must not be negative"))
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	is := &Issuer{
		cfg:     cfg,
		id:      u,
		base:    strings.TrimRight(cfg.CredentialIssuer, "/"),
		configs: map[string]*Configuration{},
		byScope: map[string]*Configuration{},
		formats: cfg.Formats,
		ledger:  &ledgerCommitter{ledger: cfg.Ledger},
		log:     cfg.Logger,
	}
	for _, c := range cfg.Configurations {
		f, ok := cfg.Formats[c.Format]
		if !ok {
			errs = append(errs, fmt.Errorf("issuer: configuration %q: format %q is not supported", c.ID, c.Format))
			continue
		}
		if err := f.Validate(c); err != nil {
			errs = append(errs, fmt.Errorf("issuer: configuration %q: %w", c.ID, err))
		}
		if _, dup := is.configs[c.ID]; dup {
			errs = append(errs, fmt.Errorf("issuer: configuration %q defined twice", c.ID))
		}
		is.configs[c.ID] = c
		if other, dup := is.byScope[c.Scope]; dup {
			errs = append(errs, fmt.Errorf("issuer: configurations %q and %q share the scope %q", other.ID, c.ID, c.Scope))
		}
		is.byScope[c.Scope] = c
		if !containsString(cfg.Signers.Algs(), c.SigningAlg) {
			errs = append(errs, fmt.Errorf("issuer: configuration %q: no issuer key for signing_alg %q (have %v)", c.ID, c.SigningAlg, cfg.Signers.Algs()))
		}
	}
	if err := is.initDID(); err != nil {
		errs = append(errs, err)
	}
	errs = append(errs, is.initContexts()...)
	if cfg.StatusLists != nil && cfg.Signers != nil {
		var err error
		if is.status, err = newIssuerStatus(&cfg); err != nil {
			errs = append(errs, err)
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return is, nil
}

// maxStatusListSize is the most entries a status list may have: a token
// list of that many 2-bit entries is as large as a list may be.
const maxStatusListSize = statuslist.MaxListBytes * 4

// Identifier is the credential issuer identifier.
func (is *Issuer) Identifier() string { return is.cfg.CredentialIssuer }

// Scopes are the scopes of the credential configurations, for the
// authorization server (oidc.Config.CredentialScopes).
func (is *Issuer) Scopes() []string {
	out := make([]string, 0, len(is.cfg.Configurations))
	for _, c := range is.cfg.Configurations {
		out = append(out, c.Scope)
	}
	return out
}

// ConfigurationIDs are the credential_configuration_ids the issuer offers.
func (is *Issuer) ConfigurationIDs() []string {
	out := make([]string, 0, len(is.cfg.Configurations))
	for _, c := range is.cfg.Configurations {
		out = append(out, c.ID)
	}
	return out
}

// Register mounts the issuer's public endpoints on r (at the path of the
// issuer identifier, plus the well-known documents at the root) and the
// operator API on admin (which must already require the admin token).
func (is *Issuer) Register(r gin.IRouter, admin gin.IRouter) {
	is.registerMetadata(r)
	p := is.id.EscapedPath()
	p = strings.TrimRight(p, "/")
	nonce := []gin.HandlerFunc{is.handleNonce}
	if is.cfg.RateLimit > 0 {
		nonce = append([]gin.HandlerFunc{web.RateLimit(is.cfg.State, "issuer:rate", is.cfg.RateLimit, time.Minute)}, nonce...)
	}
	r.POST(p+PathNonce, nonce...)
	r.POST(p+PathCredential, is.handleCredential)
	r.POST(p+PathNotification, is.handleNotification)
	r.GET(p+PathOffer+"/:id", is.handleOfferByReference)
	is.registerDID(r)
	is.registerContexts(r)
	is.registerStatusLists(r, p)
	if admin != nil {
		is.registerOfferAdmin(admin)
		is.registerCredentialAdmin(admin)
	}
}

// now is the issuer's clock.
func (is *Issuer) now() time.Time { return is.cfg.Now() }

// url returns the absolute URL of an issuer endpoint path.
func (is *Issuer) url(path string) string { return is.base + path }

func containsString(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}
