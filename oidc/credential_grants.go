package oidc

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"
)

// The provider is the authorization server of Sanad's OpenID4VCI credential
// issuer. This file holds what it asks of the issuer (CredentialGrants),
// c_nonce in token responses (draft 13, which Inji wallets still use) and
// the openid_credential authorization details it grants; the
// pre-authorized code grant itself is in preauthorized.go.

// CredentialGrants is what the provider needs from the credential issuer;
// cmd/sanad adapts issuer.Issuer to it.
type CredentialGrants interface {
	// RedeemPreAuthorizedCode consumes a pre-authorized code (single use)
	// after checking txCode.
	RedeemPreAuthorizedCode(ctx context.Context, code, txCode string) (*PreAuthorizedGrant, error)
	// NewCNonce issues a c_nonce for the token response (OpenID4VCI draft
	// 13, which Inji wallets still use).
	NewCNonce(ctx context.Context) (nonce string, expiresIn time.Duration, err error)
}

// PreAuthorizedGrant is what a redeemed pre-authorized code stands for.
type PreAuthorizedGrant struct {
	PersonID         string   // internal id of the resident
	ConfigurationIDs []string // credential_configuration_ids granted
	Scopes           []string // their scopes
}

// PairwiseSubjects derives pairwise subjects. The pre-authorized grant
// needs it of Config.Authn (idrepo/authn's Authenticator implements it):
// there is no login, so the provider derives the subject itself.
type PairwiseSubjects interface {
	PairwiseSubject(ctx context.Context, sector, personID string) (string, error)
}

// oauthErrorer is an error of CredentialGrants that names the OAuth error
// the token endpoint answers with (e.g. invalid_grant, 400).
type oauthErrorer interface {
	OAuthError() (code string, status int, description string)
}

// redeemError renders an error of RedeemPreAuthorizedCode: an *Error as
// is; one with an OAuthError method with its code, status and description;
// anything else, or a malformed code, as server_error. The error itself is
// kept as the cause, logged and never sent.
func redeemError(err error) *Error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	var oe oauthErrorer
	if errors.As(err, &oe) {
		code, status, desc := oe.OAuthError()
		if validErrorCode(code) {
			if status < 400 || status > 599 {
				status = http.StatusBadRequest
			}
			return newError(code, status, desc, err)
		}
	}
	return ErrServerError(fmt.Errorf("oidc: redeem pre-authorized code: %w", err))
}

// validErrorCode reports whether code can be an OAuth error code: 1 to 64
// lower-case letters, digits and underscores (a subset of RFC 6749 section
// 5.2's characters).
func validErrorCode(code string) bool {
	if code == "" || len(code) > 64 {
		return false
	}
	for i := range len(code) {
		c := code[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_') {
			return false
		}
	}
	return true
}

// credentialDetailType is the authorization_details type of OpenID4VCI
// (section 5.1.1).
const credentialDetailType = "openid_credential"

// credentialDetail is an openid_credential authorization detail as the
// provider grants it (OpenID4VCI section 6.2): the configuration, and the
// one credential identifier standing for it, its id.
type credentialDetail struct {
	Type                      string   `json:"type"`
	CredentialConfigurationID string   `json:"credential_configuration_id"`
	CredentialIdentifiers     []string `json:"credential_identifiers"`
}

// credentialDetails is the authorization_details granting ids.
func credentialDetails(ids []string) (json.RawMessage, error) {
	ds := make([]credentialDetail, len(ids))
	for i, id := range ids {
		ds[i] = credentialDetail{Type: credentialDetailType, CredentialConfigurationID: id, CredentialIdentifiers: []string{id}}
	}
	return json.Marshal(ds)
}

// forCredentials reports whether a grant is for the credential issuer:
// credential scopes or openid_credential authorization details.
func (g *codeGrant) forCredentials() bool {
	return len(g.CredentialScopes) > 0 || len(g.AuthorizationDetails) > 0
}

// addCNonce puts a fresh c_nonce from the credential issuer in the token
// response of a credential grant (OpenID4VCI draft 13 section 6.2), when
// the provider serves an issuer. Wallets on OpenID4VCI 1.0 use the issuer's
// nonce endpoint and ignore it.
func (p *Provider) addCNonce(ctx context.Context, g *codeGrant, resp *tokenResponse) error {
	if p.cfg.CredentialGrants == nil || !g.forCredentials() {
		return nil
	}
	nonce, ttl, err := p.cfg.CredentialGrants.NewCNonce(ctx)
	if err == nil && (nonce == "" || ttl < time.Second) {
		err = errors.New("empty nonce or lifetime under a second")
	}
	if err != nil {
		return ErrServerError(fmt.Errorf("oidc: c_nonce: %w", err))
	}
	resp.CNonce, resp.CNonceExpiresIn = nonce, int64(ttl/time.Second)
	return nil
}

// credentialIssuerSector is the pairwise subject sector of tokens granted
// without a client's login (the pre-authorized grant): the credential
// issuer, so that a wallet gets the same sub for a resident every time. Its
// prefix keeps it apart from every client sector (a host name or
// "client:<id>").
func (p *Provider) credentialIssuerSector() string {
	return "credential-issuer:" + strings.TrimRight(p.cfg.CredentialIssuer, "/")
}

// checkCredentialConfig is New's check of the issuance settings.
func checkCredentialConfig(cfg *Config) []error {
	var errs []error
	if cfg.CredentialGrants != nil {
		if cfg.CredentialIssuer == "" {
			errs = append(errs, errors.New("oidc: CredentialGrants needs CredentialIssuer"))
		}
		if len(cfg.CredentialConfigurationIDs) == 0 {
			errs = append(errs, errors.New("oidc: CredentialGrants needs CredentialConfigurationIDs"))
		}
		if _, ok := cfg.Authn.(PairwiseSubjects); cfg.Authn != nil && !ok {
			errs = append(errs, errors.New("oidc: CredentialGrants needs an Authn that derives pairwise subjects (PairwiseSubjects)"))
		}
	}
	for i, id := range cfg.CredentialConfigurationIDs {
		if id == "" || slices.Contains(cfg.CredentialConfigurationIDs[:i], id) {
			errs = append(errs, fmt.Errorf("oidc: CredentialConfigurationIDs[%d] is empty or repeated", i))
		}
	}
	return errs
}
