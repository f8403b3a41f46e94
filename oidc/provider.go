package oidc

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/lestrrat-go/jwx/v3/jwk"

	"github.com/sanad-id/sanad/idrepo/authn"
	"github.com/sanad-id/sanad/keys"
	"github.com/sanad-id/sanad/storage"
)

// Profiles.
const (
	// ProfileDefault is eSignet's behaviour with Sanad's additions: PKCE
	// required unless a client is registered otherwise, PAR and DPoP per
	// client.
	ProfileDefault = ""
	// ProfileFAPI2 is the FAPI 2.0 Security Profile: PAR, PKCE and DPoP
	// for every client, private_key_jwt with aud = the issuer identifier.
	ProfileFAPI2 = "fapi2"
)

// Signer is what the provider needs of the key service: it signs tokens,
// verifies its own, and publishes the keys.
type Signer interface {
	SignJWT(ctx context.Context, purpose, alg string, claims any, header keys.Header) (string, error)
	Verify(ctx context.Context, purpose, compact string, allowedAlgs ...string) ([]byte, error)
	Algorithms(purpose string) []string
	JWKSHandler(purposes ...string) http.Handler
}

// Sealer wraps data keys, so that the claims a transaction carries between
// authentication and userinfo are sealed wherever the state is kept
// (keys.Secrets implements it with the pii-encryption purpose).
type Sealer interface {
	WrapKey(ctx context.Context, purpose string, dek []byte) (kid string, wrapped []byte, err error)
	UnwrapKey(ctx context.Context, purpose, kid string, wrapped []byte) ([]byte, error)
}

// Authenticator authenticates residents (idrepo/authn implements it).
type Authenticator interface {
	SendOTP(ctx context.Context, req authn.SendOTPRequest) (authn.SendOTPResult, error)
	Authenticate(ctx context.Context, req authn.AuthRequest) (authn.Result, error)
}

// Config configures a Provider. Issuer, Clients, Consents, State, Keys,
// Sealer and Authn are required; zero durations take the defaults below.
type Config struct {
	// Issuer is the issuer identifier: the public https URL of the provider
	// (http only for loopback hosts). Endpoint URLs are built from it.
	Issuer   string
	Clients  storage.Clients
	Consents storage.Consents
	State    storage.State
	Keys     Signer
	Sealer   Sealer
	Authn    Authenticator

	// Profile is ProfileDefault or ProfileFAPI2.
	Profile string
	// RequirePAR makes every client use PAR (implied by ProfileFAPI2).
	RequirePAR bool
	// PKCEOptional lets clients registered without require_pkce skip PKCE
	// (eSignet's default). By default every client must use PKCE.
	PKCEOptional bool
	// CredentialIssuer is the credential issuer's identifier; access tokens
	// for credential scopes carry it as their audience. Empty: credential
	// scopes are refused.
	CredentialIssuer string
	// CredentialScopes are the scopes of the issuer's credential
	// configurations.
	CredentialScopes []string
	// CredentialConfigurationIDs are the ids of the issuer's credential
	// configurations: openid_credential authorization details must name
	// one of them.
	CredentialConfigurationIDs []string
	// CredentialGrants is the credential issuer's side of the
	// pre-authorized code grant and of c_nonce. Nil: no pre-authorized
	// grant, no c_nonce in token responses. Setting it needs
	// CredentialIssuer, CredentialConfigurationIDs and an Authn that
	// implements PairwiseSubjects.
	CredentialGrants CredentialGrants
	// Languages are the login UI's languages, ISO 639-3, the default first
	// (eng, fra, ara).
	Languages []string

	// TransactionTTL is how long a transaction may wait to be authenticated
	// (eSignet's pre-auth, 5 minutes); AuthenticatedTTL how long an
	// authenticated one may wait for consent (2 minutes).
	TransactionTTL   time.Duration
	AuthenticatedTTL time.Duration
	// CodeTTL is the authorization code's lifetime (60 s, FAPI 2.0's limit).
	CodeTTL time.Duration
	// PARTTL is a request_uri's lifetime (60 s).
	PARTTL time.Duration
	// AccessTokenTTL and IDTokenTTL are token lifetimes (1 hour each).
	AccessTokenTTL time.Duration
	IDTokenTTL     time.Duration
	// NonceWindow is how long a nonce may not be reused (24 hours).
	NonceWindow time.Duration
	// LoginRateLimit is how many login-endpoint requests one client IP may
	// make per minute (600); 0 for the default, negative to disable.
	LoginRateLimit int
	// OTPLength and OTPResendDelay are the authenticator's, shown to the
	// resident (6 digits, 30 s).
	OTPLength      int
	OTPResendDelay time.Duration

	Now    func() time.Time
	Logger *slog.Logger
}

// Defaults.
const (
	DefaultTransactionTTL   = 5 * time.Minute
	DefaultAuthenticatedTTL = 2 * time.Minute
	DefaultCodeTTL          = 60 * time.Second
	DefaultPARTTL           = 60 * time.Second
	DefaultAccessTokenTTL   = time.Hour
	DefaultIDTokenTTL       = time.Hour
	DefaultNonceWindow      = 24 * time.Hour
	DefaultLoginRateLimit   = 600
)

// Endpoint paths, relative to the issuer URL.
const (
	PathAuthorize     = "/authorize"
	PathPAR           = "/oauth/par"
	PathToken         = "/oauth/v2/token"
	PathUserinfo      = "/oidc/userinfo"
	PathIntrospect    = "/oauth/introspect"
	PathRevoke        = "/oauth/revoke"
	PathJWKS          = "/.well-known/jwks.json"
	PathConsents      = "/oidc/consents"
	PathLogin         = "/login"
	PathDiscoveryOIDC = "/.well-known/openid-configuration"
	PathDiscoveryAS   = "/.well-known/oauth-authorization-server"
)

// ConsentScope grants an access token to the resident's consent API
// (PathConsents); only clients registered with consent_management may ask
// for it.
const ConsentScope = "sanad:consents"

// Provider is the OpenID provider. It is safe for concurrent use.
type Provider struct {
	cfg     Config
	issuer  string
	log     *slog.Logger
	now     func() time.Time
	clients *clientCache
	assert  *ClientAssertionVerifier
	dpop    *DPoPVerifier
	// dpopNonce is the verifier used where the profile requires nonces.
	dpopNonce *DPoPVerifier
	limiter   *ipLimiter
}

var _ LoginFlow = (*Provider)(nil)

// New returns a Provider, or every configuration problem at once.
func New(cfg Config) (*Provider, error) {
	var errs []error
	need := func(ok bool, what string) {
		if !ok {
			errs = append(errs, fmt.Errorf("oidc: %s is required", what))
		}
	}
	need(cfg.Clients != nil, "Clients")
	need(cfg.Consents != nil, "Consents")
	need(cfg.State != nil, "State")
	need(cfg.Keys != nil, "Keys")
	need(cfg.Sealer != nil, "Sealer")
	need(cfg.Authn != nil, "Authn")
	issuer := strings.TrimRight(cfg.Issuer, "/")
	if u, err := url.Parse(issuer); err != nil || u.Host == "" || u.RawQuery != "" || u.Fragment != "" ||
		!(u.Scheme == "https" || u.Scheme == "http" && isLoopbackHost(u.Hostname())) {
		errs = append(errs, fmt.Errorf("oidc: Issuer %q must be an https URL (http only on loopback) without query or fragment", cfg.Issuer))
	}
	switch cfg.Profile {
	case ProfileDefault, ProfileFAPI2:
	default:
		errs = append(errs, fmt.Errorf("oidc: Profile %q is not %q or %q", cfg.Profile, ProfileDefault, ProfileFAPI2))
	}
	errs = append(errs, checkCredentialConfig(&cfg)...)
	if cfg.Keys != nil && len(cfg.Keys.Algorithms(keys.PurposeOIDCSigning)) == 0 {
		errs = append(errs, errors.New("oidc: the key service has no oidc-signing key set"))
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	def(&cfg.TransactionTTL, DefaultTransactionTTL)
	def(&cfg.AuthenticatedTTL, DefaultAuthenticatedTTL)
	def(&cfg.CodeTTL, DefaultCodeTTL)
	def(&cfg.PARTTL, DefaultPARTTL)
	def(&cfg.AccessTokenTTL, DefaultAccessTokenTTL)
	def(&cfg.IDTokenTTL, DefaultIDTokenTTL)
	def(&cfg.NonceWindow, DefaultNonceWindow)
	if cfg.LoginRateLimit == 0 {
		cfg.LoginRateLimit = DefaultLoginRateLimit
	}
	if cfg.OTPLength == 0 {
		cfg.OTPLength = 6
	}
	def(&cfg.OTPResendDelay, 30*time.Second)
	if len(cfg.Languages) == 0 {
		cfg.Languages = []string{"eng", "fra", "ara"}
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Profile == ProfileFAPI2 {
		cfg.RequirePAR = true
	}
	p := &Provider{
		cfg:     cfg,
		issuer:  issuer,
		log:     cfg.Logger,
		now:     cfg.Now,
		clients: newClientCache(cfg.Clients, cfg.Now),
		assert:  &ClientAssertionVerifier{State: cfg.State, Now: cfg.Now},
		dpop:    &DPoPVerifier{State: cfg.State, Now: cfg.Now},
		dpopNonce: &DPoPVerifier{State: cfg.State, Now: cfg.Now,
			RequireNonce: true},
	}
	if cfg.LoginRateLimit > 0 {
		p.limiter = newIPLimiter(cfg.State, cfg.LoginRateLimit, time.Minute)
	}
	return p, nil
}

// Issuer returns the issuer identifier.
func (p *Provider) Issuer() string { return p.issuer }

// endpoint returns the absolute URL of a path.
func (p *Provider) endpoint(path string) string { return p.issuer + path }

// Register mounts the provider's public endpoints on r: discovery, JWKS,
// authorize, PAR, token, userinfo, introspection, revocation, the consent
// API, the login pages and eSignet's UI API.
func (p *Provider) Register(r gin.IRouter) {
	p.registerDiscovery(r)
	r.GET(PathJWKS, gin.WrapH(p.cfg.Keys.JWKSHandler(keys.PurposeOIDCSigning, keys.PurposeOIDCEncryption)))
	r.GET(PathAuthorize, p.limit, p.handleAuthorize)
	r.POST(PathAuthorize, p.limit, p.handleAuthorize)
	r.POST(PathPAR, p.handlePAR)
	r.POST(PathToken, p.handleToken)
	r.GET(PathUserinfo, p.handleUserinfo)
	r.POST(PathUserinfo, p.handleUserinfo)
	r.POST(PathIntrospect, p.handleIntrospect)
	r.POST(PathRevoke, p.handleRevoke)
	p.registerConsentAPI(r)
	registerPages(r, p, p.frontEndOptions())
	registerUIAPI(r, p, p.frontEndOptions())
}

// limit applies the per-IP rate limit of login endpoints.
func (p *Provider) limit(c *gin.Context) {
	if p.limiter == nil {
		return
	}
	ok, err := p.limiter.allow(c.Request.Context(), c.ClientIP())
	if err != nil {
		_ = c.Error(err)
	}
	if !ok {
		c.Header("Retry-After", "60")
		c.AbortWithStatusJSON(http.StatusTooManyRequests, gin.H{"error": "slow_down", "error_description": "too many requests, try again in a minute"})
	}
}

// RateLimit is the per-IP login rate limit as gin middleware, for front ends
// mounted elsewhere.
func (p *Provider) RateLimit() gin.HandlerFunc { return p.limit }

// client is a registered client, parsed for use.
type client struct {
	storage.Client
	Config ClientAdditionalConfig
	Keys   jwk.Set
}

func (c *client) active() bool { return c.Status == ClientStatusActive }

// public reports whether the client is a public client (a wallet app):
// token_endpoint_auth_method none, credential scopes only.
func (c *client) public() bool { return slices.Contains(c.AuthMethods, AuthMethodNone) }

// sector is the client's pairwise subject sector: its sector identifier,
// the host of its redirect URIs if they share one, else its id. The "host"
// of an app's private-use redirect URI (io.mosip.residentapp://oauth) is
// its scheme, the reverse domain name that names the app (RFC 8252 section
// 7.1): what follows "://" is any word, and two apps redirecting to
// ...://callback must not share subjects.
func (c *client) sector() string {
	if c.Config.SectorIdentifier != "" {
		return c.Config.SectorIdentifier
	}
	host := ""
	for _, r := range c.RedirectURIs {
		u, err := url.Parse(r)
		if err != nil {
			return "client:" + c.ID
		}
		h := strings.ToLower(u.Hostname())
		if scheme := strings.ToLower(u.Scheme); scheme != "https" && scheme != "http" {
			h = "app:" + scheme
		}
		if host != "" && h != host {
			return "client:" + c.ID
		}
		host = h
	}
	if host == "" {
		return "client:" + c.ID
	}
	return host
}

// clientCache keeps parsed clients for a few seconds: a disabled client is
// refused within clientCacheTTL everywhere.
type clientCache struct {
	store storage.Clients
	now   func() time.Time
	mu    sync.Mutex
	m     map[string]cachedClient
}

type cachedClient struct {
	c       *client
	expires time.Time
}

const clientCacheTTL = 5 * time.Second

func newClientCache(store storage.Clients, now func() time.Time) *clientCache {
	return &clientCache{store: store, now: now, m: make(map[string]cachedClient)}
}

// get returns the client; storage.ErrNotFound if there is none. Inactive
// clients are returned: callers check.
func (cc *clientCache) get(ctx context.Context, id string) (*client, error) {
	now := cc.now()
	cc.mu.Lock()
	e, ok := cc.m[id]
	cc.mu.Unlock()
	if ok && now.Before(e.expires) {
		return e.c, nil
	}
	sc, err := cc.store.GetClient(ctx, id)
	if err != nil {
		return nil, err
	}
	cfg, err := ParseClientAdditionalConfig(sc.AdditionalConfig)
	if err != nil {
		return nil, fmt.Errorf("oidc: stored client %q: %w", id, err)
	}
	set, err := jwk.Parse(sc.PublicKeys)
	if err != nil {
		return nil, fmt.Errorf("oidc: stored client %q keys: %w", id, err)
	}
	c := &client{Client: sc, Config: cfg, Keys: set}
	if c.public() {
		// A public client proves nothing at the token endpoint: PKCE is
		// what binds its code to it (RFC 9700 section 2.1.1).
		c.Config.RequirePKCE = true
	}
	cc.mu.Lock()
	if len(cc.m) > 10000 {
		clear(cc.m)
	}
	cc.m[id] = cachedClient{c: c, expires: now.Add(clientCacheTTL)}
	cc.mu.Unlock()
	return c, nil
}

// ipLimiter counts requests per client IP in fixed one-minute windows in
// State, so every process sharing the State shares the limit.
type ipLimiter struct {
	state  storage.State
	limit  int64
	window time.Duration
}

func newIPLimiter(state storage.State, limit int, window time.Duration) *ipLimiter {
	return &ipLimiter{state: state, limit: int64(limit), window: window}
}

func (l *ipLimiter) allow(ctx context.Context, ip string) (bool, error) {
	n, err := l.state.Incr(ctx, "oidc:rate:"+ip, l.window)
	if err != nil {
		// Fail open on a state outage would remove brute-force protection
		// from nothing guessable here (the factors have their own limits);
		// refuse instead, as security checks fail closed.
		return false, fmt.Errorf("oidc: rate limit: %w", err)
	}
	return n <= l.limit, nil
}
