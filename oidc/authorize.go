package oidc

import (
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"
)

// AuthorizationRequest is an authorization request's parameters as sent
// (OpenID Connect Core section 3.1.2.1, RFC 7636, RFC 9449 dpop_jkt,
// RFC 9396 authorization_details), from the query or form of /authorize,
// a PAR body, or eSignet's oauth-details (camelCase). Values are raw; the
// provider validates them when it opens a transaction.
type AuthorizationRequest struct {
	ClientID             string
	ResponseType         string
	ResponseMode         string
	RedirectURI          string
	Scope                string
	State                string
	Nonce                string
	Display              string
	Prompt               string
	MaxAge               string // decimal seconds; "" when absent
	UILocales            string
	ClaimsLocales        string
	ACRValues            string
	Claims               string // JSON
	IDTokenHint          string
	CodeChallenge        string
	CodeChallengeMethod  string
	DPoPJKT              string
	AuthorizationDetails string // JSON array (RFC 9396)
	// RequestURI is set when the request refers to a pushed request.
	RequestURI string
	// Request is a request object (JWT); Sanad does not accept them
	// (request_not_supported) but PAR is available.
	Request string
}

// authorizationParams are the parameter names of AuthorizationRequest.
var authorizationParams = []string{
	"client_id", "response_type", "response_mode", "redirect_uri", "scope", "state", "nonce", "display",
	"prompt", "max_age", "ui_locales", "claims_locales", "acr_values", "claims", "id_token_hint",
	"code_challenge", "code_challenge_method", "dpop_jkt", "authorization_details", "request_uri", "request",
}

// maxParamLength bounds any single authorization parameter.
const maxParamLength = 8 << 10

// ParseAuthorizationRequest reads an authorization request from form
// values (a query string or a form body). A parameter given twice is
// invalid_request (RFC 6749 section 3.1).
func ParseAuthorizationRequest(v url.Values) (AuthorizationRequest, error) {
	get := func(name string) string {
		return v.Get(name)
	}
	for _, name := range authorizationParams {
		if vs := v[name]; len(vs) > 1 {
			return AuthorizationRequest{}, ErrInvalidRequest("parameter "+name+" is repeated", nil)
		} else if len(vs) == 1 && len(vs[0]) > maxParamLength {
			return AuthorizationRequest{}, ErrInvalidRequest("parameter "+name+" is too long", nil)
		}
	}
	return AuthorizationRequest{
		ClientID:             get("client_id"),
		ResponseType:         get("response_type"),
		ResponseMode:         get("response_mode"),
		RedirectURI:          get("redirect_uri"),
		Scope:                get("scope"),
		State:                get("state"),
		Nonce:                get("nonce"),
		Display:              get("display"),
		Prompt:               get("prompt"),
		MaxAge:               get("max_age"),
		UILocales:            get("ui_locales"),
		ClaimsLocales:        get("claims_locales"),
		ACRValues:            get("acr_values"),
		Claims:               get("claims"),
		IDTokenHint:          get("id_token_hint"),
		CodeChallenge:        get("code_challenge"),
		CodeChallengeMethod:  get("code_challenge_method"),
		DPoPJKT:              get("dpop_jkt"),
		AuthorizationDetails: get("authorization_details"),
		RequestURI:           get("request_uri"),
		Request:              get("request"),
	}, nil
}

// handleAuthorize serves /authorize (GET, or POST with a form): it opens a
// transaction and sends the browser to the login pages, or answers with an
// error, redirected to the client only once the client and redirect URI
// are known to be right.
func (p *Provider) handleAuthorize(c *gin.Context) {
	ctx := c.Request.Context()
	var form url.Values
	if c.Request.Method == http.MethodPost {
		if err := c.Request.ParseForm(); err != nil {
			renderAuthorizeError(c, p.frontEndOptions(), ErrInvalidRequest("the request body is not a form", err), "")
			return
		}
		form = c.Request.PostForm
	} else {
		form = c.Request.URL.Query()
	}
	req, err := ParseAuthorizationRequest(form)
	if err != nil {
		renderAuthorizeError(c, p.frontEndOptions(), asError(err), form.Get("ui_locales"))
		return
	}
	var tx *TxView
	if req.RequestURI != "" {
		tx, err = p.StartPARTransaction(ctx, req.ClientID, req.RequestURI)
	} else {
		tx, err = p.StartTransaction(ctx, req)
	}
	if err != nil {
		var ae *AuthorizeError
		if errors.As(err, &ae) && ae.Redirect != nil {
			_ = c.Error(ae)
			c.Redirect(http.StatusSeeOther, ae.Redirect.URL())
			return
		}
		_ = c.Error(err)
		renderAuthorizeError(c, p.frontEndOptions(), asError(err), req.UILocales)
		return
	}
	c.Header("Cache-Control", "no-store")
	c.Redirect(http.StatusSeeOther, issuerPath(p.issuer)+LoginPagePath(tx.TransactionID, tx.UILocales))
}

// issuerPath is the path of the issuer URL ("" at the root), which the
// provider's own links start with.
func issuerPath(issuer string) string {
	u, err := url.Parse(issuer)
	if err != nil {
		return ""
	}
	return strings.TrimRight(u.Path, "/")
}

// LoginPagePath is the path of the login page of a transaction.
func LoginPagePath(txID string, uiLocales []string) string {
	s := PathLogin + "/" + url.PathEscape(txID)
	if len(uiLocales) > 0 {
		s += "?lang=" + url.QueryEscape(uiLocales[0])
	}
	return s
}

// asError returns err as an *Error: itself, the *Error it wraps, or a
// server_error.
func asError(err error) *Error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	return ErrServerError(err)
}

// url builds the redirect of an authorization response (response_mode=query,
// RFC 9207 iss).
func (r *AuthResponse) url() string {
	u, err := url.Parse(r.RedirectURI)
	if err != nil {
		return r.RedirectURI
	}
	q := u.Query()
	if r.Code != "" {
		q.Set("code", r.Code)
	}
	if r.Error != "" {
		q.Set("error", r.Error)
		if r.ErrorDescription != "" {
			q.Set("error_description", r.ErrorDescription)
		}
	}
	if r.State != "" {
		q.Set("state", r.State)
	}
	if r.Issuer != "" {
		q.Set("iss", r.Issuer)
	}
	u.RawQuery = q.Encode()
	return u.String()
}

// parseMaxAge reads max_age: a non-negative decimal number of seconds.
func parseMaxAge(s string) (int64, bool, error) {
	if s == "" {
		return 0, false, nil
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < 0 || strings.HasPrefix(s, "+") {
		return 0, false, ErrInvalidRequest("max_age must be a non-negative integer", err)
	}
	return n, true, nil
}
