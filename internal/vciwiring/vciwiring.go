// Package vciwiring joins the credential issuer to the OpenID provider and
// the ID repository, which it must not import: the adapters `sanad serve`
// (cmd/sanad) and the issuer's test stack (issuer/issuertest) both use.
// The issuer verifies access tokens with the provider (ProviderTokens),
// the provider redeems the issuer's pre-authorized codes and mints
// c_nonces (CredentialGrants), and offers find residents in the ID
// repository (Persons).
package vciwiring

import (
	"context"
	"errors"
	"time"

	"github.com/sanad-id/sanad/idrepo"
	"github.com/sanad-id/sanad/idrepo/authn"
	"github.com/sanad-id/sanad/issuer"
	"github.com/sanad-id/sanad/oidc"
	"github.com/sanad-id/sanad/storage"
)

// ProviderTokens verifies the issuer's access tokens with Sanad's own
// OpenID provider. Provider is set once the provider exists (the issuer
// and the provider need each other); until then tokens are refused.
type ProviderTokens struct{ Provider *oidc.Provider }

var _ issuer.TokenVerifier = (*ProviderTokens)(nil)

// VerifyAccessToken implements issuer.TokenVerifier.
func (t *ProviderTokens) VerifyAccessToken(ctx context.Context, token string) (*issuer.AccessToken, error) {
	if t.Provider == nil {
		return nil, errors.New("vciwiring: the OpenID provider is not running in this process")
	}
	at, err := t.Provider.VerifyAccessToken(ctx, token)
	if err != nil {
		return nil, err
	}
	return &issuer.AccessToken{
		Subject:              at.Subject,
		ClientID:             at.ClientID,
		Scopes:               at.Scopes,
		AuthorizationDetails: at.AuthorizationDetails,
		JKT:                  at.JKT,
		PersonID:             at.PersonID,
		Expires:              at.Expires,
	}, nil
}

// CredentialGrants lets the provider redeem the issuer's pre-authorized
// codes and mint c_nonces.
type CredentialGrants struct{ Issuer *issuer.Issuer }

var _ oidc.CredentialGrants = CredentialGrants{}

// RedeemPreAuthorizedCode implements oidc.CredentialGrants.
func (g CredentialGrants) RedeemPreAuthorizedCode(ctx context.Context, code, txCode string) (*oidc.PreAuthorizedGrant, error) {
	gr, err := g.Issuer.RedeemPreAuthorizedCode(ctx, code, txCode)
	if err != nil {
		return nil, err
	}
	return &oidc.PreAuthorizedGrant{PersonID: gr.PersonID, ConfigurationIDs: gr.ConfigurationIDs, Scopes: gr.Scopes}, nil
}

// NewCNonce implements oidc.CredentialGrants.
func (g CredentialGrants) NewCNonce(ctx context.Context) (string, time.Duration, error) {
	return g.Issuer.NewCNonce(ctx)
}

// Persons resolves the individual id of an offer with the ID repository:
// an active resident, or issuer.ErrUnknownPerson.
type Persons struct{ Repo *idrepo.Repository }

var _ issuer.PersonFinder = Persons{}

// FindPerson implements issuer.PersonFinder.
func (f Persons) FindPerson(ctx context.Context, individualID string) (string, map[string]any, error) {
	p, err := idrepo.Directory{Repo: f.Repo}.Lookup(ctx, individualID)
	if errors.Is(err, storage.ErrNotFound) || errors.Is(err, authn.ErrInvalidIdentifier) {
		return "", nil, issuer.ErrUnknownPerson
	}
	if err != nil {
		return "", nil, err
	}
	if p.Status != idrepo.StatusActive {
		return "", nil, issuer.ErrUnknownPerson
	}
	return p.ID, p.Identity, nil
}

var _ issuer.ResidentFinder = Persons{}

// FindResident implements issuer.ResidentFinder: the resident individualID
// names whatever its status, so that the credentials of a deactivated or
// blocked resident can be revoked.
func (f Persons) FindResident(ctx context.Context, individualID string) (string, error) {
	p, err := idrepo.Directory{Repo: f.Repo}.Lookup(ctx, individualID)
	if errors.Is(err, storage.ErrNotFound) || errors.Is(err, authn.ErrInvalidIdentifier) {
		return "", issuer.ErrUnknownPerson
	}
	if err != nil {
		return "", err
	}
	return p.ID, nil
}
