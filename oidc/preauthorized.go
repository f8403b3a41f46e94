package oidc

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"

	"github.com/sanad-id/sanad/storage"
)

// The pre-authorized code grant (OpenID4VCI 1.0 section 6.1): a wallet
// redeems the code of a credential offer, with the transaction code when
// the offer has one, for an access token to the credential issuer. The
// issuer (Config.CredentialGrants) owns the codes; the provider issues the
// token.
//
// Client authentication is optional ("pre-authorized_grant_anonymous_
// access_supported"): a wallet may send nothing, its client_id alone, or
// authenticate as a registered client with private_key_jwt.

// anonymousClientID is the client_id of the access tokens of anonymous
// wallets. RFC 9068 requires the claim; the colons keep it apart from every
// registered client id (clientIDPattern) and every id a wallet may assert
// (selfAssertedClientID). VerifyAccessToken reports it as an empty
// ClientID.
const anonymousClientID = "urn:sanad:anonymous"

// maxSelfAssertedClientIDLength bounds the client_id an unregistered
// wallet may assert.
const maxSelfAssertedClientIDLength = 255

// preAuthorizedToken handles a token request of the pre-authorized code
// grant: the client, if any, then DPoP, then the code, consumed only once
// everything the wallet can fix and retry (a DPoP nonce) has passed. The
// access token is for the credential issuer, with the grant's scopes and
// one openid_credential authorization detail per configuration; there is
// no ID token.
func (p *Provider) preAuthorizedToken(ctx context.Context, r *http.Request, form url.Values, q tokenRequest) (*tokenResponse, error) {
	clientID, cl, err := p.preAuthorizedClient(ctx, form)
	if err != nil {
		return nil, err
	}
	if err := q.Validate(); err != nil {
		return nil, err
	}
	if cl != nil && !slices.Contains(cl.GrantTypes, GrantTypePreAuthorizedCode) {
		return nil, ErrUnauthorizedClient("the client may not use the pre-authorized code grant", nil)
	}
	jkt, err := p.tokenDPoP(ctx, r, cl)
	if err != nil {
		return nil, err
	}
	pg, err := p.cfg.CredentialGrants.RedeemPreAuthorizedCode(ctx, q.PreAuthorizedCode, q.TxCode)
	if err != nil {
		return nil, redeemError(err)
	}
	if pg == nil {
		return nil, ErrServerError(errors.New("oidc: RedeemPreAuthorizedCode returned no grant"))
	}
	g, err := p.preAuthorizedCodeGrant(ctx, clientID, pg)
	if err != nil {
		return nil, err
	}
	g.Unregistered = cl == nil
	resp, jti, err := p.issueTokens(ctx, clientID, g, jkt, nil)
	if err != nil {
		return nil, err
	}
	if err := p.addCNonce(ctx, g, resp); err != nil {
		return nil, p.withdrawToken(ctx, jti, err)
	}
	p.log.LogAttrs(ctx, slogInfo, "oidc: pre-authorized code redeemed", attrClient(clientID))
	return resp, nil
}

// preAuthorizedClient finds the client of a pre-authorized request:
//
//   - a client assertion: the client it authenticates (private_key_jwt), as
//     at any back-channel endpoint;
//   - client_id alone: a registered, active public client, or, when no
//     client has that id, a wallet the provider does not know, whose id is
//     recorded as given (cl is nil); a registered confidential client must
//     authenticate (invalid_client);
//   - nothing: an anonymous wallet (anonymousClientID, cl nil).
func (p *Provider) preAuthorizedClient(ctx context.Context, form url.Values) (string, *client, error) {
	if err := checkClientAuthParams(form); err != nil {
		return "", nil, err
	}
	if form.Get("client_assertion") != "" || form.Get("client_assertion_type") != "" {
		cl, err := p.authenticateClient(ctx, form, p.endpoint(PathToken))
		if err != nil {
			return "", nil, err
		}
		return cl.ID, cl, nil
	}
	id := form.Get("client_id")
	if id == "" {
		return anonymousClientID, nil, nil
	}
	if !selfAssertedClientID(id) {
		return "", nil, ErrInvalidRequest("client_id is malformed", nil)
	}
	cl, err := p.clients.get(ctx, id)
	switch {
	case errors.Is(err, storage.ErrNotFound):
		return id, nil, nil
	case err != nil:
		return "", nil, ErrServerError(err)
	case !cl.active():
		return "", nil, ErrInvalidClient(errors.New("client is not active"))
	case !cl.public():
		return "", nil, ErrInvalidClient(errors.New("no client assertion from a confidential client"))
	case p.cfg.Profile == ProfileFAPI2:
		return "", nil, ErrInvalidClient(errors.New("public clients are not allowed under FAPI 2.0"))
	}
	return id, cl, nil
}

// selfAssertedClientID reports whether id may be recorded as the client_id
// of a wallet: 1 to 255 printable ASCII characters without spaces, and not
// anonymousClientID.
func selfAssertedClientID(id string) bool {
	if id == "" || len(id) > maxSelfAssertedClientIDLength || id == anonymousClientID {
		return false
	}
	for i := range len(id) {
		if id[i] <= ' ' || id[i] > '~' {
			return false
		}
	}
	return true
}

// preAuthorizedCodeGrant checks what the issuer granted (a resident, known
// configurations, credential scopes) and turns it into the grant tokens are
// issued for, with the resident's pairwise subject for the credential
// issuer. An answer the provider cannot issue for is the issuer's fault:
// server_error.
func (p *Provider) preAuthorizedCodeGrant(ctx context.Context, clientID string, pg *PreAuthorizedGrant) (*codeGrant, error) {
	if pg.PersonID == "" || len(pg.ConfigurationIDs) == 0 {
		return nil, ErrServerError(errors.New("oidc: pre-authorized grant without a person or configurations"))
	}
	for _, id := range pg.ConfigurationIDs {
		if !slices.Contains(p.cfg.CredentialConfigurationIDs, id) {
			return nil, ErrServerError(fmt.Errorf("oidc: pre-authorized grant names unknown configuration %q", truncate(id)))
		}
	}
	var scopes []string
	for _, s := range pg.Scopes {
		if !slices.Contains(p.cfg.CredentialScopes, s) {
			return nil, ErrServerError(fmt.Errorf("oidc: pre-authorized grant has scope %q, not a credential scope", truncate(s)))
		}
		scopes = appendUnique(scopes, s)
	}
	ps, ok := p.cfg.Authn.(PairwiseSubjects)
	if !ok { // New refuses this configuration
		return nil, ErrServerError(errors.New("oidc: Authn derives no pairwise subjects"))
	}
	sub, err := ps.PairwiseSubject(ctx, p.credentialIssuerSector(), pg.PersonID)
	if err != nil {
		return nil, ErrServerError(fmt.Errorf("oidc: pairwise subject: %w", err))
	}
	details, err := credentialDetails(pg.ConfigurationIDs)
	if err != nil {
		return nil, ErrServerError(err)
	}
	now := p.now()
	return &codeGrant{
		ClientID:             clientID,
		Scopes:               scopes,
		CredentialScopes:     scopes,
		PersonID:             pg.PersonID,
		Subject:              sub,
		AuthorizationDetails: details,
		IssuedAt:             now.Unix(),
		IssuedAtMicro:        now.UnixMicro(),
	}, nil
}
