package oidc

import (
	"errors"
	"net/http"
	"slices"
	"strings"
)

// Public clients are wallet apps (RFC 8252 native apps): they hold no
// secret, so they authenticate with nothing but their client_id
// (token_endpoint_auth_method none) and PKCE binds their codes. What such a
// client could obtain, anyone could: so it may have credential scopes alone,
// those it registered (additionalConfig "scope"), never openid or claims.
// A public client is refused under FAPI 2.0, which allows confidential
// clients only.

// errPublicScope is a public client asking for more than its credential
// scopes.
func errPublicScope() *Error {
	return newError(CodeInvalidScope, http.StatusBadRequest,
		"a public client may ask only for the credential scopes it registered", nil)
}

// validatePublicClient checks an authorization request (at /authorize or
// PAR) of a public client: PKCE with S256, only credential scopes the client
// registered (no openid), no claims parameter, and, as for every client,
// authorization_details of type openid_credential only. Confidential
// clients pass.
func (p *Provider) validatePublicClient(cl *client, req AuthorizationRequest) *Error {
	if !cl.public() {
		return nil
	}
	if p.cfg.Profile == ProfileFAPI2 {
		return newError(CodeUnauthorizedClient, http.StatusBadRequest, "public clients are not allowed under FAPI 2.0", nil)
	}
	if err := ValidateChallenge(req.CodeChallenge, req.CodeChallengeMethod); err != nil {
		return asError(err)
	}
	for _, s := range strings.Fields(req.Scope) {
		if !p.publicScope(cl, s) {
			return errPublicScope()
		}
	}
	if req.Claims != "" {
		return ErrInvalidRequest("a public client may not use the claims parameter", nil)
	}
	return nil
}

// publicScope reports whether a public client may be granted scope s.
func (p *Provider) publicScope(cl *client, s string) bool {
	return p.cfg.CredentialIssuer != "" && slices.Contains(p.cfg.CredentialScopes, s) && slices.Contains(cl.Config.scopes(), s)
}

// checkPublicGrant checks, at the token endpoint, that the code of a public
// client carries PKCE and nothing but the credential scopes it may have:
// whatever front end opened its transaction, a public client never gets an
// ID token, claims or a token for userinfo.
func (p *Provider) checkPublicGrant(cl *client, g *codeGrant) error {
	bad := func(why string) error {
		return ErrInvalidGrant("invalid or expired authorization code", errors.New("public client's code "+why))
	}
	if g.CodeChallenge == "" {
		return bad("has no PKCE challenge")
	}
	for _, s := range append(slices.Clone(g.Scopes), g.CredentialScopes...) {
		if !p.publicScope(cl, s) {
			return bad("has scope " + quoteShort(s))
		}
	}
	if len(g.AcceptedClaims) > 0 || len(g.IDTokenClaims) > 0 || g.Claims != nil {
		return bad("releases claims")
	}
	return nil
}
