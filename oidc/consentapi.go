package oidc

import (
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/sanad-id/sanad/storage"
)

// The consent API lets residents see and withdraw what they agreed to
// share, through a client registered with consent_management (the
// authority's resident portal or wallet) holding an access token with
// ConsentScope:
//
//	GET    /oidc/consents             {"consents": [consentView...]}
//	DELETE /oidc/consents/{clientId}  204; 404 {"error": "not_found"} when there is no consent
//
// Withdrawing a consent also kills every access token issued to that client
// for the resident before the withdrawal (withdrawnKey).

// consentView is a consent as the API shows it.
type consentView struct {
	ClientID        string   `json:"clientId"`
	ClientName      string   `json:"clientName"`
	LogoURI         string   `json:"logoUri,omitempty"`
	AcceptedClaims  []string `json:"acceptedClaims"`
	PermittedScopes []string `json:"permittedScopes"`
	CreatedAt       string   `json:"createdAt"`
	ExpiresAt       string   `json:"expiresAt,omitempty"`
}

// registerConsentAPI mounts the consent API.
func (p *Provider) registerConsentAPI(r gin.IRouter) {
	r.GET(PathConsents, p.handleListConsents)
	r.DELETE(PathConsents+"/:clientId", p.handleWithdrawConsent)
}

// consentToken authenticates a consent API request: an access token for
// the issuer with ConsentScope.
func (p *Provider) consentToken(c *gin.Context) (*tokenRecord, bool) {
	rec, _, err := p.checkAccessToken(c, p.issuer)
	if err != nil {
		p.renderResourceError(c, err, "")
		return nil, false
	}
	if !slices.Contains(rec.Scopes, ConsentScope) {
		p.renderResourceError(c, ErrInsufficientScope("the access token lacks the "+ConsentScope+" scope"), ConsentScope)
		return nil, false
	}
	return rec, true
}

// handleListConsents lists the resident's unexpired consents.
func (p *Provider) handleListConsents(c *gin.Context) {
	ctx := c.Request.Context()
	rec, ok := p.consentToken(c)
	if !ok {
		return
	}
	consents, err := p.cfg.Consents.ListConsents(ctx, rec.PersonID)
	if err != nil {
		p.renderResourceError(c, ErrServerError(fmt.Errorf("oidc: list consents: %w", err)), "")
		return
	}
	now := p.now()
	views := []consentView{}
	for _, cs := range consents {
		if !cs.ExpiresAt.IsZero() && !now.Before(cs.ExpiresAt) {
			continue
		}
		v := consentView{
			ClientID:        cs.ClientID,
			ClientName:      cs.ClientID,
			AcceptedClaims:  nonNil(cs.AcceptedClaims),
			PermittedScopes: nonNil(cs.PermittedScopes),
			CreatedAt:       cs.CreatedAt.UTC().Format(time.RFC3339),
		}
		if !cs.ExpiresAt.IsZero() {
			v.ExpiresAt = cs.ExpiresAt.UTC().Format(time.RFC3339)
		}
		cl, err := p.clients.get(ctx, cs.ClientID)
		switch {
		case err == nil:
			v.ClientName, v.LogoURI = cl.Name, cl.LogoURI
		case !errors.Is(err, storage.ErrNotFound):
			p.renderResourceError(c, ErrServerError(err), "")
			return
		}
		views = append(views, v)
	}
	c.Header("Cache-Control", "no-store")
	c.JSON(http.StatusOK, gin.H{"consents": views})
}

// handleWithdrawConsent withdraws the resident's consent to one client and
// kills the tokens issued to that client for the resident until now.
func (p *Provider) handleWithdrawConsent(c *gin.Context) {
	ctx := c.Request.Context()
	rec, ok := p.consentToken(c)
	if !ok {
		return
	}
	clientID := c.Param("clientId")
	now := p.now()
	_, err := p.cfg.Consents.GetConsent(ctx, clientID, rec.PersonID)
	if errors.Is(err, storage.ErrNotFound) {
		c.Header("Cache-Control", "no-store")
		c.AbortWithStatusJSON(http.StatusNotFound, gin.H{"error": "not_found", "error_description": "no consent to this client"})
		return
	}
	if err != nil {
		p.renderResourceError(c, ErrServerError(fmt.Errorf("oidc: look up consent: %w", err)), "")
		return
	}
	// The withdrawal is recorded before the consent is deleted: if the
	// deletion fails the resident retries, and no token outlives a
	// consent that is gone.
	err = p.cfg.State.Put(ctx, withdrawnKey(clientID, rec.PersonID), []byte(strconv.FormatInt(now.UnixMicro(), 10)), p.cfg.AccessTokenTTL)
	if err != nil {
		p.renderResourceError(c, ErrServerError(fmt.Errorf("oidc: record consent withdrawal: %w", err)), "")
		return
	}
	err = p.cfg.Consents.DeleteConsent(ctx, clientID, rec.PersonID, now)
	if err != nil && !errors.Is(err, storage.ErrNotFound) { // not found: withdrawn concurrently
		p.renderResourceError(c, ErrServerError(fmt.Errorf("oidc: withdraw consent: %w", err)), "")
		return
	}
	c.Header("Cache-Control", "no-store")
	c.Status(http.StatusNoContent)
}
