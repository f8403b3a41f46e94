package oidc

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"mime"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/sanad-id/sanad/keys"
	"github.com/sanad-id/sanad/storage"
)

// The token endpoint (RFC 6749 section 3.2, OpenID Connect Core section
// 3.1.3): private_key_jwt client authentication (or none, for public
// wallet clients), the authorization_code grant with PKCE and DPoP, the
// pre-authorized code grant of OpenID4VCI (preauthorized.go), and JWT
// access tokens (RFC 9068). There are no refresh tokens, as in eSignet.

// Grant types.
const (
	GrantTypeAuthorizationCode = "authorization_code"
	// GrantTypePreAuthorizedCode is OpenID4VCI's pre-authorized code grant
	// (OpenID4VCI 1.0 section 6.1), served when Config.CredentialGrants is
	// set.
	GrantTypePreAuthorizedCode = "urn:ietf:params:oauth:grant-type:pre-authorized_code"
)

// Client authentication methods at the token endpoint.
const (
	AuthMethodPrivateKeyJWT = "private_key_jwt"
	// AuthMethodNone is a public client (RFC 7591 section 2): a wallet app
	// that holds no secret, sends its client_id alone and must use PKCE.
	// Only clients registered for credential scopes alone may use it.
	AuthMethodNone = "none"
)

// CodeUnsupportedGrantType is a grant type the server does not support
// (RFC 6749 section 5.2).
const CodeUnsupportedGrantType = "unsupported_grant_type"

// ErrUnsupportedGrantType is a token request for a grant type the provider
// does not serve (400).
func ErrUnsupportedGrantType(cause error) *Error {
	return newError(CodeUnsupportedGrantType, http.StatusBadRequest, "grant_type is not supported", cause)
}

// Token types of the token response and introspection.
const (
	tokenTypeBearer = "Bearer"
	tokenTypeDPoP   = "DPoP"
)

// maxFormBytes bounds the form body of the token, introspection and
// revocation endpoints.
const maxFormBytes = 64 << 10

// maxTokenParamLength bounds any single parameter of those forms; client
// assertions are the longest.
const maxTokenParamLength = maxJWTSize

// tokenRequest is a token request (RFC 6749 section 4.1.3, RFC 7636
// section 4.5, OpenID4VCI 1.0 section 6.1).
type tokenRequest struct {
	GrantType    string
	Code         string
	RedirectURI  string
	CodeVerifier string
	// PreAuthorizedCode and TxCode are the pre-authorized code grant's.
	PreAuthorizedCode string
	TxCode            string
}

// tokenParams are the parameters of a token request besides client
// authentication's.
var tokenParams = []string{"grant_type", "code", "redirect_uri", "code_verifier", "pre-authorized_code", "tx_code"}

// checkFormParams refuses a form in which one of names is repeated (RFC
// 6749 section 3.2) or too long.
func checkFormParams(form url.Values, names []string) error {
	for _, name := range names {
		vs := form[name]
		if len(vs) > 1 {
			return ErrInvalidRequest("parameter "+name+" is repeated", nil)
		}
		if len(vs) == 1 && len(vs[0]) > maxTokenParamLength {
			return ErrInvalidRequest("parameter "+name+" is too long", nil)
		}
	}
	return nil
}

// parseTokenRequest reads a token request from its form body. Repeated or
// overlong parameters are invalid_request; everything else is checked by
// Validate, once the client is authenticated.
func parseTokenRequest(form url.Values) (tokenRequest, error) {
	if err := checkFormParams(form, tokenParams); err != nil {
		return tokenRequest{}, err
	}
	return tokenRequest{
		GrantType:         form.Get("grant_type"),
		Code:              form.Get("code"),
		RedirectURI:       form.Get("redirect_uri"),
		CodeVerifier:      form.Get("code_verifier"),
		PreAuthorizedCode: form.Get("pre-authorized_code"),
		TxCode:            form.Get("tx_code"),
	}, nil
}

// maxPreAuthorizedParamLength bounds pre-authorized_code and tx_code.
const maxPreAuthorizedParamLength = 512

// Validate checks the grant parameters: grant_type authorization_code
// with code and redirect_uri, or the pre-authorized code grant with
// pre-authorized_code (unsupported_grant_type for any other grant type).
// Whether the provider serves the pre-authorized grant is the endpoint's
// to check.
func (q *tokenRequest) Validate() error {
	switch q.GrantType {
	case GrantTypeAuthorizationCode:
		if q.Code == "" {
			return ErrInvalidRequest("code required", nil)
		}
		if q.RedirectURI == "" {
			return ErrInvalidRequest("redirect_uri required", nil)
		}
		return nil
	case GrantTypePreAuthorizedCode:
		if q.PreAuthorizedCode == "" {
			return ErrInvalidRequest("pre-authorized_code required", nil)
		}
		if len(q.PreAuthorizedCode) > maxPreAuthorizedParamLength || len(q.TxCode) > maxPreAuthorizedParamLength {
			return ErrInvalidRequest("pre-authorized_code or tx_code is too long", nil)
		}
		return nil
	case "":
		return ErrInvalidRequest("grant_type required", nil)
	default:
		return ErrUnsupportedGrantType(fmt.Errorf("grant_type %q", truncate(q.GrantType)))
	}
}

// readForm returns the URL-encoded form body of r (never the query
// string), limited to maxFormBytes.
func readForm(w http.ResponseWriter, r *http.Request) (url.Values, error) {
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != "application/x-www-form-urlencoded" {
		return nil, ErrInvalidRequest("the request body must be application/x-www-form-urlencoded", err)
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
	if err := r.ParseForm(); err != nil {
		return nil, ErrInvalidRequest("the request body is not a valid form", err)
	}
	return r.PostForm, nil
}

// tokenResponse is a successful token response (RFC 6749 section 5.1,
// OpenID Connect Core section 3.1.3.3, RFC 9396 section 7).
type tokenResponse struct {
	AccessToken          string          `json:"access_token"`
	TokenType            string          `json:"token_type"`
	ExpiresIn            int64           `json:"expires_in"`
	IDToken              string          `json:"id_token,omitempty"`
	Scope                string          `json:"scope,omitempty"`
	AuthorizationDetails json.RawMessage `json:"authorization_details,omitempty"`
	// CNonce and CNonceExpiresIn are OpenID4VCI draft 13's, for credential
	// grants (addCNonce).
	CNonce          string `json:"c_nonce,omitempty"`
	CNonceExpiresIn int64  `json:"c_nonce_expires_in,omitempty"`
}

// handleToken serves the token endpoint.
func (p *Provider) handleToken(c *gin.Context) {
	c.Header("Cache-Control", "no-store")
	c.Header("Pragma", "no-cache")
	resp, err := p.token(c)
	if err != nil {
		p.tokenError(c, err)
		return
	}
	c.JSON(http.StatusOK, resp)
}

// token handles a token request: client authentication, the grant, DPoP,
// then the code, which is consumed only once everything the client can fix
// and retry (a DPoP nonce) has passed.
func (p *Provider) token(c *gin.Context) (*tokenResponse, error) {
	ctx := c.Request.Context()
	form, err := readForm(c.Writer, c.Request)
	if err != nil {
		return nil, err
	}
	q, err := parseTokenRequest(form)
	if err != nil {
		return nil, err
	}
	if q.GrantType == GrantTypePreAuthorizedCode && p.cfg.CredentialGrants != nil {
		return p.preAuthorizedToken(ctx, c.Request, form, q)
	}
	cl, err := p.authenticateClientOrNone(ctx, form, p.endpoint(PathToken))
	if err != nil {
		return nil, err
	}
	if err := q.Validate(); err != nil {
		return nil, err
	}
	if q.GrantType != GrantTypeAuthorizationCode {
		return nil, ErrUnsupportedGrantType(fmt.Errorf("grant_type %q", truncate(q.GrantType)))
	}
	if !slices.Contains(cl.GrantTypes, GrantTypeAuthorizationCode) {
		return nil, ErrUnauthorizedClient("the client may not use the authorization_code grant", nil)
	}

	jkt, err := p.tokenDPoP(ctx, c.Request, cl)
	if err != nil {
		return nil, err
	}

	grant, err := p.takeCode(ctx, q.Code)
	if err != nil {
		return nil, err
	}
	if grant.ClientID != cl.ID {
		return nil, ErrInvalidGrant("invalid or expired authorization code", fmt.Errorf("code issued to client %q, redeemed by %q", grant.ClientID, cl.ID))
	}
	if q.RedirectURI != grant.RedirectURI {
		return nil, ErrInvalidGrant("redirect_uri does not match the authorization request", nil)
	}
	if grant.CodeChallenge != "" {
		if err := VerifyPKCE(grant.CodeChallenge, grant.CodeChallengeMethod, q.CodeVerifier); err != nil {
			return nil, err
		}
	} else if q.CodeVerifier != "" {
		// RFC 9700 section 4.8.2: a verifier for a code issued without a
		// challenge is a PKCE downgrade attempt.
		return nil, ErrInvalidGrant("code_verifier sent but the authorization request had no code_challenge", nil)
	}
	if err := CheckAuthorizeJKT(grant.DPoPJKT, jkt); err != nil {
		return nil, err
	}
	if cl.public() {
		if err := p.checkPublicGrant(cl, grant); err != nil {
			return nil, err
		}
	}
	// The resident may have withdrawn the consent since the code was
	// issued.
	if err := p.withdrawnSince(ctx, cl.ID, grant.PersonID, grant.grantedMicro()); err != nil {
		if HasCode(err, CodeInvalidToken) {
			return nil, ErrInvalidGrant("the resident withdrew the consent", nil)
		}
		return nil, err
	}

	resp, jti, err := p.issueTokens(ctx, cl.ID, grant, jkt, func(at string) (string, error) {
		return p.idToken(ctx, cl, grant, at)
	})
	if err != nil {
		return nil, err
	}
	if err := p.addCNonce(ctx, grant, resp); err != nil {
		return nil, p.withdrawToken(ctx, jti, err)
	}
	if err := p.cfg.State.Put(ctx, stateKey("code-used", q.Code), []byte(jti), p.cfg.AccessTokenTTL); err != nil {
		// Without the marker a replayed code could not revoke the token:
		// fail closed and withdraw it.
		if derr := p.cfg.State.Delete(ctx, tokenKey(jti)); derr != nil {
			err = errors.Join(err, derr)
		}
		return nil, ErrServerError(fmt.Errorf("oidc: record used code: %w", err))
	}
	return resp, nil
}

// grantedMicro is when the code was issued, in unix microseconds.
func (g *codeGrant) grantedMicro() int64 {
	if g.IssuedAtMicro != 0 {
		return g.IssuedAtMicro
	}
	return g.IssuedAt * 1e6
}

// withdrawToken deletes the record of a token that is not going to be
// returned, and returns err.
func (p *Provider) withdrawToken(ctx context.Context, jti string, err error) error {
	if derr := p.cfg.State.Delete(ctx, tokenKey(jti)); derr != nil {
		return ErrServerError(errors.Join(err, derr))
	}
	return err
}

// tokenDPoP verifies the DPoP proof of a token request, if any, and
// returns its key thumbprint. A client registered for DPoP-bound tokens,
// and every client under FAPI 2.0, must send one, with a server nonce. cl
// is nil for an anonymous request (pre-authorized grant).
func (p *Provider) tokenDPoP(ctx context.Context, r *http.Request, cl *client) (string, error) {
	required := cl != nil && cl.Config.DPoPBoundTokens || p.cfg.Profile == ProfileFAPI2
	proofs := r.Header.Values("DPoP")
	switch {
	case len(proofs) > 1:
		return "", ErrInvalidDPoPProof("more than one DPoP proof", nil)
	case len(proofs) == 0 && required:
		return "", ErrInvalidDPoPProof("DPoP proof required", nil)
	case len(proofs) == 0:
		return "", nil
	}
	v := p.dpop
	if required {
		v = p.dpopNonce
	}
	return v.Verify(ctx, DPoPRequest{Proof: proofs[0], Method: http.MethodPost, URL: p.endpoint(PathToken)})
}

// takeCode consumes an authorization code. A code that was already
// redeemed revokes the access token it was redeemed for (RFC 6749 section
// 4.1.2).
func (p *Provider) takeCode(ctx context.Context, code string) (*codeGrant, error) {
	raw, err := p.cfg.State.Take(ctx, stateKey("code", code))
	if err == nil {
		var g codeGrant
		if err := json.Unmarshal(raw, &g); err != nil {
			return nil, ErrServerError(fmt.Errorf("oidc: decode code grant: %w", err))
		}
		return &g, nil
	}
	if !errors.Is(err, storage.ErrNotFound) {
		return nil, ErrServerError(fmt.Errorf("oidc: take code: %w", err))
	}
	jti, err := p.cfg.State.Get(ctx, stateKey("code-used", code))
	if errors.Is(err, storage.ErrNotFound) {
		return nil, ErrInvalidGrant("invalid or expired authorization code", nil)
	}
	if err != nil {
		return nil, ErrServerError(fmt.Errorf("oidc: look up used code: %w", err))
	}
	if err := p.cfg.State.Delete(ctx, tokenKey(string(jti))); err != nil {
		return nil, ErrServerError(fmt.Errorf("oidc: revoke the token of a replayed code: %w", err))
	}
	p.log.WarnContext(ctx, "authorization code replayed; the access token it issued is revoked", "jti", string(jti))
	return nil, ErrInvalidGrant("authorization code already used", nil)
}

// issueTokens signs the access token for clientID (and, when openid was
// granted and idToken is set, the ID token idToken signs for the access
// token) for a grant, stores the token record and returns the response and
// the access token's jti.
func (p *Provider) issueTokens(ctx context.Context, clientID string, g *codeGrant, jkt string, idToken func(accessToken string) (string, error)) (*tokenResponse, string, error) {
	alg, err := p.accessTokenAlg()
	if err != nil {
		return nil, "", ErrServerError(err)
	}
	aud := p.issuer
	if g.forCredentials() {
		if p.cfg.CredentialIssuer == "" {
			return nil, "", ErrServerError(errors.New("oidc: a grant is for credentials but no credential issuer is configured"))
		}
		// A credential token is for the credential issuer alone: it is
		// refused at userinfo.
		aud = p.cfg.CredentialIssuer
	}
	scopes := slices.Clone(g.Scopes)
	for _, s := range g.CredentialScopes {
		if !slices.Contains(scopes, s) {
			scopes = append(scopes, s)
		}
	}
	now := p.now()
	iat := now.Unix()
	exp := now.Add(p.cfg.AccessTokenTTL).Unix()
	jti := randomToken(16)
	claims := accessClaims{
		Iss:                  p.issuer,
		Sub:                  g.Subject,
		Aud:                  audience{aud},
		ClientID:             clientID,
		Scope:                strings.Join(scopes, " "),
		Iat:                  iat,
		Exp:                  exp,
		Jti:                  jti,
		AuthTime:             g.AuthTime,
		ACR:                  g.ACR,
		AuthorizationDetails: g.AuthorizationDetails,
	}
	if jkt != "" {
		claims.Cnf = &confirmation{JKT: jkt}
	}
	at, err := p.cfg.Keys.SignJWT(ctx, keys.PurposeOIDCSigning, alg, claims, keys.Header{"typ": accessTokenTyp})
	if err != nil {
		return nil, "", ErrServerError(fmt.Errorf("oidc: sign access token: %w", err))
	}
	resp := &tokenResponse{
		AccessToken:          at,
		TokenType:            tokenTypeBearer,
		ExpiresIn:            exp - iat,
		Scope:                claims.Scope,
		AuthorizationDetails: g.AuthorizationDetails,
	}
	if jkt != "" {
		resp.TokenType = tokenTypeDPoP
	}
	if idToken != nil && slices.Contains(g.Scopes, "openid") {
		resp.IDToken, err = idToken(at)
		if err != nil {
			return nil, "", err
		}
	}
	rec := tokenRecord{
		ClientID:             clientID,
		Unregistered:         g.Unregistered,
		PersonID:             g.PersonID,
		Subject:              g.Subject,
		Scopes:               scopes,
		AcceptedClaims:       g.AcceptedClaims,
		ClaimsLocales:        g.ClaimsLocales,
		Claims:               g.Claims, // sealed for the client id, moved as is
		JKT:                  jkt,
		Audience:             aud,
		CredentialScopes:     g.CredentialScopes,
		AuthorizationDetails: g.AuthorizationDetails,
		AuthTime:             g.AuthTime,
		ACR:                  g.ACR,
		IssuedAt:             iat,
		GrantedAtMicro:       g.grantedMicro(),
		Expires:              exp,
	}
	if err := putJSON(ctx, p.cfg.State, tokenKey(jti), rec, p.cfg.AccessTokenTTL); err != nil {
		return nil, "", ErrServerError(fmt.Errorf("oidc: store access token record: %w", err))
	}
	return resp, jti, nil
}
