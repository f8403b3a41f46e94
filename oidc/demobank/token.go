package demobank

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"mime"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
)

// tokenResponse is the token endpoint's answer (RFC 6749 section 5.1).
type tokenResponse struct {
	AccessToken string `json:"access_token"`
	TokenType   string `json:"token_type"`
	IDToken     string `json:"id_token"`
	ExpiresIn   int64  `json:"expires_in"`
	Scope       string `json:"scope"`
}

// exchangeCode redeems the authorization code at the token endpoint, by
// hand: golang.org/x/oauth2's Exchange cannot add a fresh client assertion
// and DPoP proof to each attempt. The form carries the PKCE verifier and
// a private_key_jwt assertion; the DPoP proof is signed with the login's
// key, whose thumbprint the code is bound to (dpop_jkt). On use_dpop_nonce
// doDPoP retries once, with a new assertion (its jti is single use).
func (b *Bank) exchangeCode(ctx context.Context, d *discovered, l *pendingLogin, code string) (*tokenResponse, error) {
	tokenURL := d.meta.TokenEndpoint
	resp, err := b.doDPoP(ctx, l.DPoPKey, dpopRequest{
		Method: http.MethodPost,
		URL:    tokenURL,
		Build: func(ctx context.Context) (*http.Request, error) {
			assertion, err := clientAssertion(b.key, b.clientID, b.issuer, b.now())
			if err != nil {
				return nil, err
			}
			form := url.Values{
				"grant_type":            {"authorization_code"},
				"code":                  {code},
				"redirect_uri":          {b.redirectURI},
				"code_verifier":         {l.Verifier},
				"client_id":             {b.clientID},
				"client_assertion_type": {clientAssertionType},
				"client_assertion":      {assertion},
			}
			req, err := http.NewRequestWithContext(ctx, http.MethodPost, tokenURL, strings.NewReader(form.Encode()))
			if err != nil {
				return nil, fmt.Errorf("demobank: token request: %w", err)
			}
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			req.Header.Set("Accept", "application/json")
			return req, nil
		},
	})
	if err != nil {
		return nil, &flowError{Stage: "token", Cause: err}
	}
	if resp.Status != http.StatusOK {
		return nil, &flowError{Stage: "token", Status: resp.Status, OAuth: oauthErrorOf(resp)}
	}
	if mt, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type")); mt != "application/json" {
		return nil, &flowError{Stage: "token", Cause: fmt.Errorf("token response is %q, not JSON", mt)}
	}
	var tr tokenResponse
	if err := json.Unmarshal(resp.Body, &tr); err != nil {
		return nil, &flowError{Stage: "token", Cause: fmt.Errorf("token response: %w", err)}
	}
	switch {
	case tr.AccessToken == "":
		return nil, &flowError{Stage: "token", Cause: errors.New("no access_token")}
	case tr.IDToken == "":
		return nil, &flowError{Stage: "token", Cause: errors.New("no id_token")}
	case !strings.EqualFold(tr.TokenType, "DPoP"):
		// The client registered dpop_bound_access_tokens: a bearer token
		// would mean the binding was lost somewhere.
		return nil, &flowError{Stage: "token", Cause: fmt.Errorf("token_type %q, want DPoP", truncate(tr.TokenType, 16))}
	}
	return &tr, nil
}

// idTokenClaims are the ID token claims the bank reads besides those
// go-oidc checks.
type idTokenClaims struct {
	ACR      string   `json:"acr"`
	AMR      []string `json:"amr"`
	AuthTime *int64   `json:"auth_time"`
	AZP      string   `json:"azp"`
}

// clockSkew is the leeway for comparing the provider's times with ours.
const clockSkew = time.Minute

// verifyIDToken verifies the ID token with go-oidc (signature with the
// provider's JWKS under the algorithms discovery lists, iss = the issuer,
// aud contains the client id, exp), then what go-oidc leaves to the
// client: the nonce of this login, azp when there are several audiences,
// at_hash against the access token, the ACR asked for as essential, and an
// auth_time no older than this login (prompt=login asked for a fresh
// authentication).
func (b *Bank) verifyIDToken(ctx context.Context, d *discovered, l *pendingLogin, tr *tokenResponse) (*oidc.IDToken, idTokenClaims, error) {
	var c idTokenClaims
	fail := func(err error) (*oidc.IDToken, idTokenClaims, error) {
		return nil, c, &flowError{Stage: "id_token", Cause: err}
	}
	tok, err := d.idTokens.Verify(ctx, tr.IDToken)
	if err != nil {
		return fail(err)
	}
	if subtle.ConstantTimeCompare([]byte(tok.Nonce), []byte(l.Nonce)) != 1 {
		return fail(errors.New("nonce does not match this login"))
	}
	if tok.AccessTokenHash != "" {
		if err := tok.VerifyAccessToken(tr.AccessToken); err != nil {
			return fail(err)
		}
	}
	if tok.Subject == "" {
		return fail(errors.New("no sub"))
	}
	if err := tok.Claims(&c); err != nil {
		return fail(fmt.Errorf("claims: %w", err))
	}
	if len(tok.Audience) > 1 && c.AZP != b.clientID {
		return fail(errors.New("several audiences and azp is not this client"))
	}
	if len(l.ACRs) > 0 && !slices.Contains(l.ACRs, c.ACR) {
		return fail(fmt.Errorf("acr %q is not one asked for", truncate(c.ACR, 64)))
	}
	if c.AuthTime == nil {
		return fail(errors.New("no auth_time"))
	}
	at := time.Unix(*c.AuthTime, 0)
	if at.Before(l.Started.Add(-clockSkew)) || at.After(b.now().Add(clockSkew)) {
		return fail(fmt.Errorf("auth_time %s is not within this login", at.UTC().Format(time.RFC3339)))
	}
	return tok, c, nil
}
