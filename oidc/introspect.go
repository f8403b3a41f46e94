package oidc

import (
	"net/http"

	"github.com/gin-gonic/gin"
)

// introspectionResponse is an introspection response (RFC 7662 section
// 2.2); an inactive token is {"active": false} and nothing else.
type introspectionResponse struct {
	Active    bool          `json:"active"`
	Scope     string        `json:"scope,omitempty"`
	ClientID  string        `json:"client_id,omitempty"`
	Sub       string        `json:"sub,omitempty"`
	Exp       int64         `json:"exp,omitempty"`
	Iat       int64         `json:"iat,omitempty"`
	Iss       string        `json:"iss,omitempty"`
	Aud       audience      `json:"aud,omitempty"`
	TokenType string        `json:"token_type,omitempty"`
	Cnf       *confirmation `json:"cnf,omitempty"`
	AuthTime  int64         `json:"auth_time,omitempty"`
	ACR       string        `json:"acr,omitempty"`
}

// introspectParams are the parameters of an introspection or revocation
// request besides client authentication's.
var introspectParams = []string{"token", "token_type_hint"}

// handleIntrospect serves token introspection (RFC 7662) to clients
// authenticated with private_key_jwt. A client may introspect the tokens
// issued to it; one registered with "introspection": true (a resource
// server) may introspect any. Every other token, and any token that is
// invalid, expired, revoked or whose consent was withdrawn, is
// {"active": false}. Only access tokens exist, so token_type_hint is
// ignored.
func (p *Provider) handleIntrospect(c *gin.Context) {
	ctx := c.Request.Context()
	cl, token, ok := p.tokenManagementRequest(c, PathIntrospect)
	if !ok {
		return
	}
	rec, claims, err := p.verifyAccessJWT(ctx, token, "")
	if err != nil {
		if HasCode(err, CodeServerError) {
			p.tokenError(c, err)
			return
		}
		_ = c.Error(err)
		c.JSON(http.StatusOK, introspectionResponse{Active: false})
		return
	}
	if rec.ClientID != cl.ID && !cl.Config.Introspection {
		c.JSON(http.StatusOK, introspectionResponse{Active: false})
		return
	}
	resp := introspectionResponse{
		Active:    true,
		Scope:     claims.Scope,
		ClientID:  claims.ClientID,
		Sub:       claims.Sub,
		Exp:       claims.Exp,
		Iat:       claims.Iat,
		Iss:       claims.Iss,
		Aud:       claims.Aud,
		TokenType: tokenTypeBearer,
		AuthTime:  claims.AuthTime,
		ACR:       claims.ACR,
	}
	if rec.JKT != "" {
		resp.TokenType = tokenTypeDPoP
		resp.Cnf = &confirmation{JKT: rec.JKT}
	}
	c.JSON(http.StatusOK, resp)
}

// tokenManagementRequest reads an introspection or revocation request
// (RFC 7662, RFC 7009): no-store headers, the form, client authentication
// with path as the endpoint, and the token. On failure it has answered and
// ok is false.
func (p *Provider) tokenManagementRequest(c *gin.Context, path string) (cl *client, token string, ok bool) {
	c.Header("Cache-Control", "no-store")
	c.Header("Pragma", "no-cache")
	form, err := readForm(c.Writer, c.Request)
	if err == nil {
		err = checkFormParams(form, introspectParams)
	}
	if err != nil {
		p.tokenError(c, err)
		return nil, "", false
	}
	if cl, err = p.authenticateClient(c.Request.Context(), form, p.endpoint(path)); err != nil {
		p.tokenError(c, err)
		return nil, "", false
	}
	if token = form.Get("token"); token == "" {
		p.tokenError(c, ErrInvalidRequest("token required", nil))
		return nil, "", false
	}
	return cl, token, true
}
