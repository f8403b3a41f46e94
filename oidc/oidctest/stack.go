// Package oidctest runs a complete OpenID provider in-process for tests and
// the login load tool: a real ID repository with the demo residents, the
// real authenticator, real keys and real storage (SQLite or PostgreSQL,
// memory or Redis), served by httptest. Only OTP delivery is replaced, by an
// in-memory inbox standing in for the SMS and e-mail gateways.
package oidctest

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/lestrrat-go/jwx/v3/jwk"

	"github.com/sanad-id/sanad/idrepo"
	"github.com/sanad-id/sanad/idrepo/authn"
	"github.com/sanad-id/sanad/idrepo/notify"
	"github.com/sanad-id/sanad/internal/web"
	"github.com/sanad-id/sanad/keys"
	"github.com/sanad-id/sanad/oidc"
	"github.com/sanad-id/sanad/storage"
)

// Options shape a Stack. Zero values give SQLite-like defaults supplied by
// the caller's Durable and State.
type Options struct {
	Durable storage.Durable
	State   storage.State
	// Provider adjusts the provider's configuration before New.
	Provider func(*oidc.Config)
	// Policy adjusts the authenticator's limits.
	Policy func(*authn.Policy)
	// Logger receives the server's logs; discarded when nil.
	Logger *slog.Logger
	// Now is the clock of every component; time.Now when nil.
	Now func() time.Time
	// Extend adds components that share the stack's parts and server, as
	// `sanad serve` runs the credential issuer beside the provider. It is
	// called once the parts exist, before the provider is built: s has
	// everything but Provider (its Server is not started yet, its Issuer
	// is the server's URL) and cfg is the provider's configuration, which
	// Extend may change (CredentialIssuer, CredentialGrants, ...). The
	// function it returns, if not nil, mounts the component's routes once
	// the provider exists. issuer/issuertest uses it.
	Extend func(ctx context.Context, s *Stack, cfg *oidc.Config) (Mount, error)
}

// Mount registers an extension's routes on the stack's router, once the
// provider exists.
type Mount func(eng *web.Engine, p *oidc.Provider) error

// Stack is a running provider.
type Stack struct {
	Server   *httptest.Server
	Provider *oidc.Provider
	Repo     *idrepo.Repository
	Authn    *authn.Authenticator
	Keys     *keys.Service
	Secrets  *keys.Secrets
	Clients  *oidc.ClientRegistry
	Inbox    *Inbox
	// Residents are the demo residents, with their ResidentID.
	Residents []idrepo.DemoResident
	Issuer    string
}

// Start builds and starts a stack; Close stops it. The provider's issuer
// is the httptest server's URL.
func Start(ctx context.Context, o Options) (*Stack, error) {
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	mk, err := keys.GenerateMasterKey()
	if err != nil {
		return nil, err
	}
	backend, err := keys.NewSoftwareBackend(mk)
	if err != nil {
		return nil, err
	}
	ks, err := keys.New(ctx, keys.Config{Store: o.Durable, Backend: backend, Logger: o.Logger, Now: o.Now})
	if err != nil {
		return nil, err
	}
	sec, err := keys.NewSecrets(ctx, keys.SecretsConfig{Store: o.Durable, Backend: backend, Logger: o.Logger, Now: o.Now})
	if err != nil {
		return nil, err
	}
	repo, err := idrepo.New(idrepo.Config{Store: o.Durable, Keys: sec, MAC: sec, Logger: o.Logger, Now: o.Now})
	if err != nil {
		return nil, err
	}
	inbox := &Inbox{}
	pol := authn.DefaultPolicy()
	// Demo PINs and passwords are hashed at start; tests need not pay
	// production Argon2id costs.
	pol.Argon2.Memory, pol.Argon2.Time = 1024, 1
	if o.Policy != nil {
		o.Policy(&pol)
	}
	auth, err := authn.New(authn.Config{Directory: idrepo.Directory{Repo: repo}, State: o.State, Factors: o.Durable,
		Notifier: inbox, MAC: sec, Policy: pol, Logger: o.Logger, Now: o.Now})
	if err != nil {
		repo.Close()
		return nil, err
	}
	residents, err := idrepo.SeedDemo(ctx, repo)
	if err != nil {
		repo.Close()
		return nil, err
	}
	for _, r := range residents {
		if err := auth.SetPIN(ctx, r.ResidentID, r.PIN); err != nil {
			repo.Close()
			return nil, err
		}
		if err := auth.SetPassword(ctx, r.ResidentID, r.Password); err != nil {
			repo.Close()
			return nil, err
		}
	}

	// SeedDemo returns only the residents it created: a database seeded
	// before has the others.
	all := idrepo.DemoResidents()
	for i := range all {
		person, err := repo.Lookup(ctx, all[i].UIN)
		if err != nil {
			repo.Close()
			return nil, fmt.Errorf("oidctest: demo resident: %w", err)
		}
		all[i].ResidentID = person.ID
	}

	srv := httptest.NewUnstartedServer(nil)
	issuer := "http://" + srv.Listener.Addr().String()
	s := &Stack{
		Server: srv, Repo: repo, Authn: auth, Keys: ks, Secrets: sec,
		Clients: oidc.NewClientRegistry(o.Durable, o.Now), Inbox: inbox, Residents: all, Issuer: issuer,
	}
	// fail releases what was built when the stack cannot start.
	fail := func(err error) (*Stack, error) {
		srv.Close()
		repo.Close()
		return nil, err
	}
	cfg := oidc.Config{
		Issuer: issuer, Clients: o.Durable, Consents: o.Durable, State: o.State, Keys: ks, Sealer: sec,
		Authn: auth, Logger: o.Logger, Now: o.Now, OTPLength: pol.OTPLength, OTPResendDelay: pol.ResendDelay,
	}
	if o.Provider != nil {
		o.Provider(&cfg)
	}
	var mount Mount
	if o.Extend != nil {
		if mount, err = o.Extend(ctx, s, &cfg); err != nil {
			return fail(fmt.Errorf("oidctest: extension: %w", err))
		}
	}
	p, err := oidc.New(cfg)
	if err != nil {
		return fail(err)
	}
	eng, err := web.New(web.Options{Logger: o.Logger, MaxBodyBytes: 1 << 20})
	if err != nil {
		return fail(err)
	}
	p.Register(eng)
	if mount != nil {
		if err := mount(eng, p); err != nil {
			return fail(fmt.Errorf("oidctest: extension: %w", err))
		}
	}
	s.Provider = p
	srv.Config.Handler = eng
	srv.Start()
	return s, nil
}

// Close stops the server and flushes the audit log.
func (s *Stack) Close() {
	s.Server.Close()
	s.Repo.Close()
}

// New starts a stack for t on the given stores and stops it when t ends.
func New(t testing.TB, durable storage.Durable, state storage.State, opts ...func(*Options)) *Stack {
	t.Helper()
	o := Options{Durable: durable, State: state}
	for _, f := range opts {
		f(&o)
	}
	s, err := Start(context.Background(), o)
	if err != nil {
		t.Fatalf("oidctest.Start: %v", err)
	}
	t.Cleanup(s.Close)
	return s
}

// Client is a registered relying party with its private key.
type Client struct {
	ID string
	// Key is the private signing key for private_key_jwt; nil for a public
	// client (token_endpoint_auth_method none), which sends its client_id
	// alone.
	Key         jwk.Key
	RedirectURI string
}

// RegisterPublicClient registers a public client (a wallet app:
// clientAuthMethods ["none"], no key, no claims) for the credential scopes
// scope (space-separated), with the authorization code and pre-authorized
// code grants, every ACR, and the given additionalConfig members besides
// scope (a JSON object, or "").
func (s *Stack) RegisterPublicClient(ctx context.Context, id, redirectURI, scope, additionalConfig string) (*Client, error) {
	cfg := map[string]any{}
	if additionalConfig != "" {
		if err := json.Unmarshal([]byte(additionalConfig), &cfg); err != nil {
			return nil, fmt.Errorf("oidctest: additionalConfig: %w", err)
		}
	}
	cfg["scope"] = scope
	cfgJSON, err := json.Marshal(cfg)
	if err != nil {
		return nil, err
	}
	reg := oidc.ClientRegistration{
		ClientID: id, ClientName: "Wallet " + id, RelyingPartyID: "rp-" + id,
		LogoURI:           "https://logo.example/" + id + ".png",
		UserClaims:        []string{},
		AuthContextRefs:   []string{"mosip:idp:acr:generated-code", "mosip:idp:acr:static-code", "mosip:idp:acr:password", "mosip:idp:acr:knowledge"},
		RedirectURIs:      []string{redirectURI},
		GrantTypes:        []string{oidc.GrantTypeAuthorizationCode, oidc.GrantTypePreAuthorizedCode},
		ClientAuthMethods: []string{oidc.AuthMethodNone},
		AdditionalConfig:  cfgJSON,
	}
	if _, err := s.Clients.Create(ctx, reg); err != nil {
		return nil, err
	}
	return &Client{ID: id, RedirectURI: redirectURI}, nil
}

// RegisterClient registers a client with an ES256 key, every supported
// claim and ACR, and the given additionalConfig (JSON object, or "").
func (s *Stack) RegisterClient(ctx context.Context, id, redirectURI, additionalConfig string) (*Client, error) {
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	key, err := jwk.Import(priv)
	if err != nil {
		return nil, err
	}
	return s.RegisterClientKey(ctx, id, redirectURI, additionalConfig, key)
}

// RegisterClientKey is RegisterClient with a given private key (RSA, EC
// P-256 or Ed25519).
func (s *Stack) RegisterClientKey(ctx context.Context, id, redirectURI, additionalConfig string, key jwk.Key) (*Client, error) {
	tp, err := key.Thumbprint(crypto.SHA256)
	if err != nil {
		return nil, err
	}
	_ = key.Set(jwk.KeyIDKey, fmt.Sprintf("%x", tp[:8]))
	pub, err := key.PublicKey()
	if err != nil {
		return nil, err
	}
	pubJSON, err := json.Marshal(pub)
	if err != nil {
		return nil, err
	}
	reg := oidc.ClientRegistration{
		ClientID: id, ClientName: "Client " + id,
		ClientNameLangMap: map[string]string{"eng": "Client " + id, "fra": "Client " + id, "ara": "عميل " + id},
		PublicKey:         pubJSON, RelyingPartyID: "rp-" + id,
		LogoURI:           "https://logo.example/" + id + ".png",
		UserClaims:        oidc.SupportedClientClaims,
		AuthContextRefs:   []string{"mosip:idp:acr:generated-code", "mosip:idp:acr:static-code", "mosip:idp:acr:password", "mosip:idp:acr:knowledge"},
		RedirectURIs:      []string{redirectURI},
		GrantTypes:        []string{"authorization_code"},
		ClientAuthMethods: []string{"private_key_jwt"},
	}
	if additionalConfig != "" {
		reg.AdditionalConfig = json.RawMessage(additionalConfig)
	}
	if _, err := s.Clients.Create(ctx, reg); err != nil {
		return nil, err
	}
	return &Client{ID: id, Key: key, RedirectURI: redirectURI}, nil
}

// Inbox is an in-memory OTP gateway: it keeps the last code sent to each
// destination.
type Inbox struct {
	mu   sync.Mutex
	last map[string]string
	n    int
}

// Notify implements notify.Notifier.
func (i *Inbox) Notify(_ context.Context, m notify.Message) error {
	i.mu.Lock()
	defer i.mu.Unlock()
	if i.last == nil {
		i.last = make(map[string]string)
	}
	i.last[m.To] = m.Data[notify.DataOTP]
	i.n++
	return nil
}

// OTP returns the last code sent to a destination (phone or e-mail).
func (i *Inbox) OTP(to string) string {
	i.mu.Lock()
	defer i.mu.Unlock()
	return i.last[to]
}

// Sent is the number of messages sent.
func (i *Inbox) Sent() int {
	i.mu.Lock()
	defer i.mu.Unlock()
	return i.n
}
