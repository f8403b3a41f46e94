package oidc

import (
	"encoding/json"
	"errors"
	"net/http"
	"slices"

	"github.com/gin-gonic/gin"
)

// requestURIPrefix starts every request_uri PAR issues (RFC 9126 section 2.2).
const requestURIPrefix = "urn:ietf:params:oauth:request_uri:"

// handlePAR serves the pushed authorization request endpoint (RFC 9126):
// the client authenticates (private_key_jwt, or its client_id alone for a
// public client), the request is validated as
// /authorize would, and is kept under a single-use request_uri for PARTTL.
// A DPoP proof sent with the push binds the code to its key, as dpop_jkt
// would (RFC 9449 section 10.1).
func (p *Provider) handlePAR(c *gin.Context) {
	ctx := c.Request.Context()
	if err := c.Request.ParseForm(); err != nil {
		p.tokenError(c, ErrInvalidRequest("the request body must be a form", err))
		return
	}
	form := c.Request.PostForm
	if len(c.Request.URL.RawQuery) > 0 {
		p.tokenError(c, ErrInvalidRequest("parameters must be in the body", nil))
		return
	}
	cl, err := p.authenticateClientOrNone(ctx, form, p.endpoint(PathPAR))
	if err != nil {
		p.tokenError(c, err)
		return
	}
	req, err := ParseAuthorizationRequest(form)
	if err != nil {
		p.tokenError(c, err)
		return
	}
	if req.RequestURI != "" {
		p.tokenError(c, ErrInvalidRequest("request_uri is not allowed in a pushed request", nil))
		return
	}
	if req.ClientID != "" && req.ClientID != cl.ID {
		p.tokenError(c, ErrInvalidRequest("client_id does not match the authenticated client", nil))
		return
	}
	req.ClientID = cl.ID
	if _, err := p.authorizeClient(ctx, cl.ID, req.RedirectURI); err != nil {
		var ae *AuthorizeError
		if errors.As(err, &ae) {
			p.tokenError(c, ae.Err)
			return
		}
		p.tokenError(c, err)
		return
	}
	if proof := c.GetHeader("DPoP"); proof != "" {
		jkt, err := p.dpop.Verify(ctx, DPoPRequest{Proof: proof, Method: http.MethodPost, URL: p.endpoint(PathPAR)})
		if err != nil {
			p.tokenError(c, err)
			return
		}
		if req.DPoPJKT != "" && req.DPoPJKT != jkt {
			p.tokenError(c, ErrInvalidRequest("dpop_jkt does not match the DPoP proof's key", nil))
			return
		}
		req.DPoPJKT = jkt
	}
	if _, perr := p.validate(cl, req); perr != nil {
		p.tokenError(c, perr)
		return
	}
	uri := requestURIPrefix + randomToken(32)
	if err := putJSON(ctx, p.cfg.State, stateKey("par", uri), parRecord{ClientID: cl.ID, Request: req}, p.cfg.PARTTL); err != nil {
		p.tokenError(c, ErrServerError(err))
		return
	}
	c.Header("Cache-Control", "no-store")
	c.JSON(http.StatusCreated, gin.H{"request_uri": uri, "expires_in": int(p.cfg.PARTTL.Seconds())})
}

// validateAuthorizationDetails checks authorization_details (RFC 9396):
// a JSON array of objects with a type; the only type is openid_credential
// (OpenID4VCI section 5.1.1), only when a credential issuer is set, and
// its credential_configuration_id must be one of the issuer's. The details
// are returned as granted: each with credential_identifiers holding its
// configuration id (OpenID4VCI section 6.2), which the token response
// echoes.
func (p *Provider) validateAuthorizationDetails(raw string) (json.RawMessage, *Error) {
	invalid := func(desc string, cause error) *Error {
		return newError(CodeInvalidAuthorizationDetails, http.StatusBadRequest, desc, cause)
	}
	var details []map[string]any
	if err := json.Unmarshal([]byte(raw), &details); err != nil || len(details) == 0 {
		return nil, invalid("authorization_details must be a non-empty JSON array of objects", err)
	}
	for _, d := range details {
		if d == nil {
			return nil, invalid("authorization_details must be a non-empty JSON array of objects", nil)
		}
		typ, _ := d["type"].(string)
		if typ != credentialDetailType || p.cfg.CredentialIssuer == "" {
			return nil, invalid("unsupported authorization_details type", nil)
		}
		id, ok := d["credential_configuration_id"].(string)
		if !ok || id == "" {
			return nil, invalid("openid_credential needs a credential_configuration_id", nil)
		}
		if !slices.Contains(p.cfg.CredentialConfigurationIDs, id) {
			return nil, invalid("unknown credential_configuration_id", errors.New("credential_configuration_id "+quoteShort(id)))
		}
		if locs, ok := d["locations"]; ok {
			l, isList := locs.([]any)
			if !isList || len(l) != 1 || l[0] != p.cfg.CredentialIssuer {
				return nil, invalid("locations must name this provider's credential issuer", nil)
			}
		}
		d["credential_identifiers"] = []string{id}
	}
	out, _ := json.Marshal(details)
	return out, nil
}
