package demobank

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
)

// discovered is what the bank uses of the provider's metadata.
type discovered struct {
	provider *oidc.Provider
	meta     providerMetadata
	// keys verifies ID tokens and signed userinfo with the provider's
	// JWKS; it caches the keys and refetches on an unknown kid (rotation).
	keys *oidc.RemoteKeySet
	// idTokens verifies ID tokens: signature, iss, aud, exp.
	idTokens *oidc.IDTokenVerifier
}

// providerMetadata are the discovery members go-oidc does not expose
// (OpenID Connect Discovery 1.0, RFC 8414, RFC 9126, RFC 9207, RFC 9449).
type providerMetadata struct {
	Issuer                  string   `json:"issuer"`
	AuthorizationEndpoint   string   `json:"authorization_endpoint"`
	TokenEndpoint           string   `json:"token_endpoint"`
	UserinfoEndpoint        string   `json:"userinfo_endpoint"`
	JWKSURI                 string   `json:"jwks_uri"`
	PAREndpoint             string   `json:"pushed_authorization_request_endpoint"`
	IDTokenSigningAlgs      []string `json:"id_token_signing_alg_values_supported"`
	UserinfoSigningAlgs     []string `json:"userinfo_signing_alg_values_supported"`
	TokenEndpointAuthMethod []string `json:"token_endpoint_auth_methods_supported"`
	CodeChallengeMethods    []string `json:"code_challenge_methods_supported"`
	DPoPSigningAlgs         []string `json:"dpop_signing_alg_values_supported"`
	// IssParameter: the authorization response carries iss (RFC 9207);
	// then the bank requires it.
	IssParameter bool `json:"authorization_response_iss_parameter_supported"`
}

// signingAlgs are the JWS algorithms the bank accepts from the provider:
// asymmetric only, never "none" or HMAC.
var signingAlgs = []string{"ES256", "EdDSA", "PS256", "RS256"}

// Discovery retries within one call: the provider may still be starting.
var discoveryBackoff = []time.Duration{0, 250 * time.Millisecond, time.Second}

// discover returns the provider's metadata, fetching it on first use. A
// failure is not remembered: the next call tries again.
func (b *Bank) discover(ctx context.Context) (*discovered, error) {
	if d := b.disc.Load(); d != nil {
		return d, nil
	}
	b.discMu.Lock()
	defer b.discMu.Unlock()
	if d := b.disc.Load(); d != nil {
		return d, nil
	}
	var err error
	for _, wait := range discoveryBackoff {
		if wait > 0 {
			select {
			case <-ctx.Done():
				return nil, fmt.Errorf("demobank: discovery: %w (last error: %w)", ctx.Err(), err)
			case <-time.After(wait):
			}
		}
		var d *discovered
		if d, err = b.fetchDiscovery(ctx); err == nil {
			b.disc.Store(d)
			b.log.Info("demobank: provider discovered", "issuer", b.issuer)
			return d, nil
		}
		var bad *badMetadataError
		if errors.As(err, &bad) {
			break // the provider answered; asking again will not help
		}
	}
	return nil, err
}

// badMetadataError is a discovery document the bank cannot work with.
type badMetadataError struct{ reason string }

func (e *badMetadataError) Error() string { return "demobank: provider metadata: " + e.reason }

func (b *Bank) fetchDiscovery(ctx context.Context) (*discovered, error) {
	ctx = oidc.ClientContext(ctx, b.client)
	// go-oidc checks that the document's issuer is exactly b.issuer.
	p, err := oidc.NewProvider(ctx, b.issuer)
	if err != nil {
		var mismatch *oidc.IssuerMismatchError
		if errors.As(err, &mismatch) {
			return nil, &badMetadataError{reason: err.Error()}
		}
		return nil, fmt.Errorf("demobank: discovery: %w", err)
	}
	var m providerMetadata
	if err := p.Claims(&m); err != nil {
		return nil, &badMetadataError{reason: err.Error()}
	}
	if err := m.check(); err != nil {
		return nil, err
	}
	algs := intersect(m.IDTokenSigningAlgs, signingAlgs)
	if len(algs) == 0 {
		return nil, &badMetadataError{reason: "id_token_signing_alg_values_supported names no asymmetric algorithm"}
	}
	// The key set is long-lived: its context only carries the HTTP client.
	keys := oidc.NewRemoteKeySet(oidc.ClientContext(context.Background(), b.client), m.JWKSURI)
	return &discovered{
		provider: p,
		meta:     m,
		keys:     keys,
		idTokens: oidc.NewVerifier(b.issuer, keys, &oidc.Config{
			ClientID:             b.clientID,
			SupportedSigningAlgs: algs,
			Now:                  b.now,
		}),
	}, nil
}

// check refuses metadata the bank cannot log in with: it needs PAR, PKCE
// S256, private_key_jwt and ES256 DPoP proofs, and every endpoint on https
// (http only on the loopback interface).
func (m *providerMetadata) check() error {
	bad := func(format string, args ...any) error {
		return &badMetadataError{reason: fmt.Sprintf(format, args...)}
	}
	for name, u := range map[string]string{
		"authorization_endpoint":                m.AuthorizationEndpoint,
		"token_endpoint":                        m.TokenEndpoint,
		"userinfo_endpoint":                     m.UserinfoEndpoint,
		"jwks_uri":                              m.JWKSURI,
		"pushed_authorization_request_endpoint": m.PAREndpoint,
	} {
		if u == "" {
			return bad("%s is missing", name)
		}
		if err := checkEndpointURL(u); err != nil {
			return bad("%s: %v", name, err)
		}
	}
	// Absent lists are not refusals (RFC 8414 defaults); present ones must
	// name what the bank uses.
	if m.CodeChallengeMethods != nil && !slices.Contains(m.CodeChallengeMethods, "S256") {
		return bad("code_challenge_methods_supported lacks S256")
	}
	if m.TokenEndpointAuthMethod != nil && !slices.Contains(m.TokenEndpointAuthMethod, "private_key_jwt") {
		return bad("token_endpoint_auth_methods_supported lacks private_key_jwt")
	}
	if m.DPoPSigningAlgs != nil && !slices.Contains(m.DPoPSigningAlgs, "ES256") {
		return bad("dpop_signing_alg_values_supported lacks ES256")
	}
	return nil
}

// checkEndpointURL accepts https URLs, and http on the loopback interface;
// unlike checkHTTPURL it allows a query (RFC 8414 allows one on endpoints).
func checkEndpointURL(s string) error {
	u := stripQuery(s)
	return checkHTTPURL(u)
}

// intersect returns the members of a that are in b, in a's order.
func intersect(a, b []string) []string {
	var out []string
	for _, s := range a {
		if slices.Contains(b, s) && !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	return out
}
