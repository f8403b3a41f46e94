package oidc

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/sanad-id/sanad/storage"
)

// authenticateClient authenticates a client at a back-channel endpoint
// (PAR, token, introspection, revocation) with private_key_jwt. The client
// is named by client_id or, if absent, by the assertion's unverified iss.
// endpointURL is the endpoint's URL, an accepted audience besides the issuer
// outside the FAPI 2.0 profile. Every failure is invalid_client.
func (p *Provider) authenticateClient(ctx context.Context, form url.Values, endpointURL string) (*client, error) {
	if err := checkClientAuthParams(form); err != nil {
		return nil, err
	}
	in := ClientAssertion{Type: form.Get("client_assertion_type"), JWT: form.Get("client_assertion"), ClientID: form.Get("client_id")}
	if in.JWT == "" {
		return nil, ErrInvalidClient(errors.New("no client assertion (only private_key_jwt is supported)"))
	}
	id := in.ClientID
	if id == "" {
		id = unverifiedIssuer(in.JWT)
	}
	if id == "" {
		return nil, ErrInvalidClient(errors.New("no client_id and no iss in the assertion"))
	}
	cl, err := p.clients.get(ctx, id)
	if errors.Is(err, storage.ErrNotFound) {
		return nil, ErrInvalidClient(errors.New("unknown client"))
	}
	if err != nil {
		return nil, ErrServerError(err)
	}
	if !cl.active() {
		return nil, ErrInvalidClient(errors.New("client is not active"))
	}
	aud := []string{p.issuer}
	if p.cfg.Profile != ProfileFAPI2 {
		aud = append(aud, endpointURL)
	}
	if err := p.assert.Verify(ctx, in, ClientKeys{ID: cl.ID, Keys: cl.Keys}, aud); err != nil {
		return nil, err
	}
	return cl, nil
}

// checkClientAuthParams refuses repeated client authentication parameters.
func checkClientAuthParams(form url.Values) error {
	for _, k := range []string{"client_id", "client_assertion", "client_assertion_type"} {
		if len(form[k]) > 1 {
			return ErrInvalidRequest("parameter "+k+" is repeated", nil)
		}
	}
	return nil
}

// authenticateClientOrNone authenticates the client of a PAR or
// authorization code token request: with private_key_jwt, or, for a public
// client (token_endpoint_auth_method none), by its client_id alone. A
// request without an assertion from any other client, or from a public
// client under FAPI 2.0 (which allows confidential clients only), is
// invalid_client.
func (p *Provider) authenticateClientOrNone(ctx context.Context, form url.Values, endpointURL string) (*client, error) {
	if err := checkClientAuthParams(form); err != nil {
		return nil, err
	}
	id := form.Get("client_id")
	if form.Get("client_assertion") != "" || form.Get("client_assertion_type") != "" || id == "" {
		return p.authenticateClient(ctx, form, endpointURL)
	}
	cl, err := p.clients.get(ctx, id)
	switch {
	case errors.Is(err, storage.ErrNotFound):
		return nil, ErrInvalidClient(errors.New("unknown client"))
	case err != nil:
		return nil, ErrServerError(err)
	case !cl.active():
		return nil, ErrInvalidClient(errors.New("client is not active"))
	case !cl.public():
		return nil, ErrInvalidClient(errors.New("no client assertion (the client uses private_key_jwt)"))
	case p.cfg.Profile == ProfileFAPI2:
		return nil, ErrInvalidClient(errors.New("public clients are not allowed under FAPI 2.0"))
	}
	return cl, nil
}

// unverifiedIssuer reads iss from a JWT without verifying it, only to know
// which client's keys to verify it with.
func unverifiedIssuer(compact string) string {
	if _, err := parseCompact(compact); err != nil {
		return ""
	}
	parts := strings.Split(compact, ".")
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return ""
	}
	var c struct {
		Iss string `json:"iss"`
	}
	if json.Unmarshal(payload, &c) != nil {
		return ""
	}
	return c.Iss
}

// tokenError writes an OAuth error response (RFC 6749 section 5.2) for a
// back-channel endpoint and records the cause for the access log.
func (p *Provider) tokenError(c *gin.Context, err error) {
	e := asError(err)
	_ = c.Error(e)
	status := e.Status
	if status == 0 {
		status = http.StatusBadRequest
	}
	if e.Code == CodeInvalidClient {
		c.Header("WWW-Authenticate", `Bearer error="invalid_client"`)
	}
	if e.DPoPNonce != "" {
		c.Header("DPoP-Nonce", e.DPoPNonce)
	}
	c.Header("Cache-Control", "no-store")
	c.Header("Pragma", "no-cache")
	body := gin.H{"error": e.Code}
	if e.Description != "" {
		body["error_description"] = strings.ToValidUTF8(e.Description, "")
	}
	c.AbortWithStatusJSON(status, body)
}
