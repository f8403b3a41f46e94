package oidc

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/sanad-id/sanad/storage"
)

// handleRevoke serves token revocation (RFC 7009) to clients authenticated
// with private_key_jwt. An access token issued to the calling client is
// revoked (its record deleted: userinfo, introspection and the credential
// issuer refuse it at once). The answer is 200 whatever the token was:
// invalid, expired, unknown or another client's (whose token is left
// alone), as section 2.2 asks. token_type_hint is only a hint and there
// are no refresh tokens, so it is ignored.
func (p *Provider) handleRevoke(c *gin.Context) {
	ctx := c.Request.Context()
	cl, token, ok := p.tokenManagementRequest(c, PathRevoke)
	if !ok {
		return
	}
	// Expired tokens need no revocation (their records are gone), so only
	// the signature, typ and issuer matter here.
	claims, err := p.parseAccessJWT(ctx, token)
	if err != nil {
		if HasCode(err, CodeServerError) {
			p.tokenError(c, err)
			return
		}
		_ = c.Error(err)
		c.Status(http.StatusOK)
		return
	}
	key := tokenKey(claims.Jti)
	raw, err := p.cfg.State.Get(ctx, key)
	if errors.Is(err, storage.ErrNotFound) {
		c.Status(http.StatusOK)
		return
	}
	if err != nil {
		p.tokenError(c, ErrServerError(fmt.Errorf("oidc: load access token record: %w", err)))
		return
	}
	var rec tokenRecord
	if err := json.Unmarshal(raw, &rec); err != nil {
		p.tokenError(c, ErrServerError(fmt.Errorf("oidc: decode access token record: %w", err)))
		return
	}
	if rec.ClientID != cl.ID {
		_ = c.Error(fmt.Errorf("oidc: client %q asked to revoke a token of client %q", cl.ID, rec.ClientID))
		c.Status(http.StatusOK)
		return
	}
	if err := p.cfg.State.Delete(ctx, key); err != nil {
		// RFC 7009 section 2.2.1: the client may retry later.
		p.tokenError(c, newError("temporarily_unavailable", http.StatusServiceUnavailable, "try again later", err))
		return
	}
	c.Status(http.StatusOK)
}
