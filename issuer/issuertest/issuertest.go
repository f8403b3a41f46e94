// Package issuertest runs Sanad's credential issuer in-process for
// end-to-end tests, wired as `sanad serve` wires it (cmd/sanad/issuer.go):
// the real issuer with the built-in templates, on an oidctest stack whose
// OpenID provider is its authorization server (it verifies the access
// tokens, redeems the pre-authorized codes and mints the c_nonce of token
// responses), the ID repository with the demo residents, the durable store
// as the ledger and the status lists, the stack's State, and the keys
// service's credential signing keys; tx_codes go to the stack's inbox. It
// also plays the wallet's side: key proofs, credential, nonce and
// notification requests, and the operator's offers API.
package issuertest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"github.com/sanad-id/sanad/internal/vciwiring"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/sanad-id/sanad/internal/web"
	"github.com/sanad-id/sanad/issuer"
	"github.com/sanad-id/sanad/keys"
	"github.com/sanad-id/sanad/oidc"
	"github.com/sanad-id/sanad/oidc/oidctest"
	"github.com/sanad-id/sanad/storage"
	"github.com/sanad-id/sanad/templates"
)

// IssuerPath is the path of the credential issuer identifier under the
// server's URL, as `sanad serve` derives it from public_url.
const IssuerPath = "/issuer"

// DefaultAdminToken guards the operator API of a Stack unless
// Options.AdminToken says otherwise.
const DefaultAdminToken = "issuertest-admin-token"

// Options shape a Stack.
type Options struct {
	// Logger receives the provider's and the issuer's logs; discarded when
	// nil.
	Logger *slog.Logger
	// Now is the clock of the provider, the ID repository and the issuer;
	// time.Now when nil.
	Now func() time.Time
	// Stack adjusts the oidctest options (the provider's configuration, the
	// authenticator's policy) after Logger and Now are set.
	Stack func(*oidctest.Options)
	// Issuer adjusts the issuer's configuration before issuer.New.
	Issuer func(*issuer.Config)
	// AdminToken is the bearer token of the operator API (offers);
	// DefaultAdminToken when empty.
	AdminToken string
}

// Stack is a running provider and credential issuer on one server.
type Stack struct {
	// OIDC is the provider's stack: server, provider, ID repository, keys,
	// client registry, inbox and demo residents.
	OIDC   *oidctest.Stack
	Issuer *issuer.Issuer
	// ID is the credential issuer identifier: OIDC.Issuer + IssuerPath.
	ID         string
	Ledger     storage.Ledger
	State      storage.State
	AdminToken string
}

// Start builds and starts a stack on durable and state; Close stops it.
func Start(ctx context.Context, durable storage.Durable, state storage.State, o Options) (*Stack, error) {
	if o.AdminToken == "" {
		o.AdminToken = DefaultAdminToken
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	out := &Stack{Ledger: durable, State: state, AdminToken: o.AdminToken}
	so := oidctest.Options{Durable: durable, State: state, Logger: o.Logger, Now: o.Now}
	so.Extend = func(ctx context.Context, s *oidctest.Stack, cfg *oidc.Config) (oidctest.Mount, error) {
		is, tokens, err := newIssuer(s, durable, state, o)
		if err != nil {
			return nil, err
		}
		// What cmd/sanad's openProvider tells the provider of the issuer.
		cfg.CredentialIssuer = is.Identifier()
		cfg.CredentialScopes = is.Scopes()
		cfg.CredentialConfigurationIDs = is.ConfigurationIDs()
		cfg.CredentialGrants = vciwiring.CredentialGrants{Issuer: is}
		out.Issuer, out.ID = is, is.Identifier()
		return func(eng *web.Engine, p *oidc.Provider) error {
			tokens.Provider = p
			is.Register(eng, eng.Group("", web.RequireBearer(o.AdminToken)))
			return nil
		}, nil
	}
	if o.Stack != nil {
		o.Stack(&so)
	}
	s, err := oidctest.Start(ctx, so)
	if err != nil {
		return nil, err
	}
	out.OIDC = s
	return out, nil
}

// newIssuer builds the issuer as cmd/sanad's openIssuer does, on the
// stack's parts.
func newIssuer(s *oidctest.Stack, durable storage.Durable, state storage.State, o Options) (*issuer.Issuer, *vciwiring.ProviderTokens, error) {
	id := s.Issuer + IssuerPath
	configs, err := issuer.LoadTemplates(templates.FS(), id)
	if err != nil {
		return nil, nil, fmt.Errorf("issuer templates: %w", err)
	}
	if err := issuer.CheckIdentityFields(configs, s.Repo.Schema().Properties()); err != nil {
		return nil, nil, fmt.Errorf("issuer templates: %w", err)
	}
	tokens := &vciwiring.ProviderTokens{}
	cfg := issuer.Config{
		CredentialIssuer:     id,
		AuthorizationServers: []string{s.Issuer},
		Configurations:       configs,
		Tokens:               tokens,
		DPoP:                 &oidc.DPoPVerifier{State: state},
		Data:                 s.Repo,
		Persons:              vciwiring.Persons{Repo: s.Repo},
		Ledger:               durable,
		StatusLists:          durable,
		State:                state,
		Signers:              issuer.NewKeySigners(s.Keys, keys.PurposeCredentialSigning),
		Notifier:             s.Inbox,
		Now:                  o.Now,
		Logger:               o.Logger,
	}
	if o.Issuer != nil {
		o.Issuer(&cfg)
	}
	is, err := issuer.New(cfg)
	if err != nil {
		return nil, nil, err
	}
	return is, tokens, nil
}

// Close stops the server.
func (s *Stack) Close() { s.OIDC.Close() }

// New starts a stack for t on the given stores and stops it when t ends.
// Logs go to t.Output() from level Warn unless opts set a Logger.
func New(t testing.TB, durable storage.Durable, state storage.State, opts ...func(*Options)) *Stack {
	t.Helper()
	o := Options{Logger: slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelWarn}))}
	for _, f := range opts {
		f(&o)
	}
	s, err := Start(t.Context(), durable, state, o)
	if err != nil {
		t.Fatalf("issuertest.Start: %v", err)
	}
	t.Cleanup(s.Close)
	return s
}

// URL is the absolute URL of an issuer endpoint (issuer.PathCredential,
// ...).
func (s *Stack) URL(path string) string { return s.ID + path }

// ---- The operator's offers API

// OfferRequest is the body of POST issuer.AdminOffers.
type OfferRequest struct {
	IndividualID               string                `json:"individualId"`
	CredentialConfigurationIDs []string              `json:"credential_configuration_ids"`
	TxCode                     *issuer.TxCodeRequest `json:"tx_code,omitempty"`
}

// CreateOffer posts an offer request to the operator API with the admin
// token and returns the offer; an answer other than 201 is an *Error.
func (s *Stack) CreateOffer(ctx context.Context, q OfferRequest) (*issuer.OfferResponse, error) {
	body, err := json.Marshal(q)
	if err != nil {
		return nil, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.OIDC.Issuer+issuer.AdminOffers, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+s.AdminToken)
	resp, err := send(http.DefaultClient, req)
	if err != nil {
		return nil, err
	}
	if resp.Status != http.StatusCreated {
		return nil, resp.Err(issuer.AdminOffers)
	}
	var out issuer.OfferResponse
	if err := json.Unmarshal(resp.Body, &out); err != nil {
		return nil, fmt.Errorf("issuertest: offer response: %w", err)
	}
	return &out, nil
}

// ResolveOffer fetches an offer by reference (its credential_offer_uri),
// as a wallet does after scanning the offer's QR code.
func ResolveOffer(ctx context.Context, credentialOfferURI string) (*issuer.CredentialOffer, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, credentialOfferURI, nil)
	if err != nil {
		return nil, err
	}
	resp, err := send(http.DefaultClient, req)
	if err != nil {
		return nil, err
	}
	if resp.Status != http.StatusOK {
		return nil, resp.Err(credentialOfferURI)
	}
	var out issuer.CredentialOffer
	if err := json.Unmarshal(resp.Body, &out); err != nil {
		return nil, fmt.Errorf("issuertest: credential offer: %w", err)
	}
	return &out, nil
}

// ---- HTTP answers

// Response is an answer of the issuer, whatever its status.
type Response struct {
	Status int
	Header http.Header
	Body   []byte
}

// JSON decodes the body as a JSON object; nil if it is not one.
func (r *Response) JSON() map[string]any {
	var m map[string]any
	if json.Unmarshal(r.Body, &m) != nil {
		return nil
	}
	return m
}

// ErrorCode is the error member of a JSON error body, else the error of
// the WWW-Authenticate challenge, else "".
func (r *Response) ErrorCode() string {
	if code, _ := r.JSON()["error"].(string); code != "" {
		return code
	}
	for _, c := range r.Header.Values("WWW-Authenticate") {
		if _, rest, ok := strings.Cut(c, `error="`); ok {
			code, _, _ := strings.Cut(rest, `"`)
			return code
		}
	}
	return ""
}

// Err is the answer as an *oidctest.Error of endpoint.
func (r *Response) Err(endpoint string) *oidctest.Error {
	m := r.JSON()
	desc, _ := m["error_description"].(string)
	code := r.ErrorCode()
	if code == "" {
		code, desc = oidctest.CodeBadResponse, truncate(string(r.Body))
	}
	return &oidctest.Error{Endpoint: endpoint, Status: r.Status, Code: code, Description: desc}
}

// maxResponseBytes bounds what the test client reads of an answer.
const maxResponseBytes = 4 << 20

func send(c *http.Client, req *http.Request) (*Response, error) {
	resp, err := c.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxResponseBytes))
	if err != nil {
		return nil, err
	}
	return &Response{Status: resp.StatusCode, Header: resp.Header, Body: body}, nil
}

func truncate(s string) string {
	if len(s) > 200 {
		return s[:200] + "…"
	}
	return s
}
