package oidctest

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/sanad-id/sanad/internal/jsjson"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/lestrrat-go/jwx/v3/jwa"
	"github.com/lestrrat-go/jwx/v3/jwk"
	"github.com/lestrrat-go/jwx/v3/jws"

	"github.com/sanad-id/sanad/oidc"
)

// This file is a client-side driver of the provider: it plays MOSIP's
// oidc-ui in the browser (the eSignet UI API, with its CSRF cookie and
// oauth-details binding headers) and the relying party's back channel
// (PAR, token with private_key_jwt, PKCE and DPoP, userinfo, introspection,
// revocation). RP.Login runs a whole sign-in; the Flow methods run one step
// each, so that a test can stop, or tamper, anywhere.

// RP is a relying party driving the provider at Issuer. It holds no
// per-login state and is safe for concurrent use; copy it to change a
// field (another DPoP key, another client).
type RP struct {
	Issuer string
	// HTTP is the client for every call; nil: each login gets a client with
	// its own cookie jar (one browser each) and timeouts, sharing one
	// transport. The UI API needs the XSRF-TOKEN cookie: without a jar the
	// driver sends it itself.
	HTTP *http.Client
	// Client is the registered client: id, private key (private_key_jwt)
	// and redirect URI.
	Client *Client
	// DPoPKey is the private key of DPoP proofs; nil: bearer tokens.
	DPoPKey jwk.Key
	// Now is the clock of assertions, proofs and UI API request times;
	// nil: time.Now.
	Now func() time.Time
	// UIPrefix is the path of the UI API under the issuer: "" (the root)
	// or eSignet's context path "/v1/esignet", oidc-ui's default.
	UIPrefix string
}

func (rp *RP) now() time.Time {
	if rp.Now != nil {
		return rp.Now()
	}
	return time.Now()
}

// LoginOptions describe one sign-in.
type LoginOptions struct {
	// PAR pushes the request (RFC 9126) and opens the transaction with
	// par-oauth-details; otherwise v3/oauth-details carries it.
	PAR bool
	// Factor is "OTP", "PIN", "PWD" or "KBI".
	Factor string
	// LoginID is a UIN, VID, phone number or e-mail address.
	LoginID string
	// Secret is the PIN or password; for KBI the answers as JSON,
	// {"fullName": ..., "dateOfBirth": ...}.
	Secret string
	// OTP returns the OTP sent for loginID (Inbox.OTP in tests, a webhook
	// in the load tool).
	OTP func(ctx context.Context, loginID string) (string, error)
	// Scope defaults to "openid profile email phone".
	Scope                                               string
	ACRValues, Claims, ClaimsLocales, UILocales, Prompt string
	// AcceptClaims chooses the claims to accept at consent; nil accepts
	// every essential claim and every available one.
	AcceptClaims func(d ClaimDetails) []string
}

// DefaultScope is the scope of a login without LoginOptions.Scope.
const DefaultScope = "openid profile email phone"

// LoginResult is a completed sign-in.
type LoginResult struct {
	Code          string
	Token         TokenResponse
	IDToken       string
	Userinfo      []byte
	UserinfoType  string // Content-Type of the userinfo response
	ConsentAction string
	Steps         []StepTiming
}

// StepTiming is how long one step of a login took.
type StepTiming struct {
	Step     string
	Duration time.Duration
}

// Error is a failed step: the endpoint (path) called, the HTTP status, and
// the protocol error code (OAuth's error, or the UI API's errorCode, which
// comes with HTTP 200). Checks the driver makes itself, as an RP or as
// oidc-ui would, use Endpoint "client" and codes such as state_mismatch.
type Error struct {
	Endpoint    string
	Status      int
	Code        string
	Description string
	// Location is the redirect of a failed authorization, if any.
	Location string
}

func (e *Error) Error() string {
	s := e.Endpoint + ": " + e.Code
	if e.Status != 0 {
		s = fmt.Sprintf("%s: HTTP %d: %s", e.Endpoint, e.Status, e.Code)
	}
	if e.Description != "" {
		s += ": " + e.Description
	}
	return s
}

// ErrorCode returns the protocol error code of err if it is, or wraps, an
// *Error; "" otherwise.
func ErrorCode(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return ""
}

// Driver error codes, for checks the driver makes itself.
const (
	CodeStateMismatch  = "state_mismatch"
	CodeIssuerMismatch = "iss_mismatch"
	CodeBadResponse    = "bad_response"
)

// AuthRequest is the authorization request a flow sends, by PAR or
// oauth-details. Tests may change it between NewFlow and the first step.
type AuthRequest struct {
	ClientID, ResponseType, RedirectURI, Scope, State, Nonce string
	CodeChallenge, CodeChallengeMethod                       string
	ACRValues, Claims, ClaimsLocales, UILocales, Prompt      string
	MaxAge                                                   string
	// DPoPJKT binds the code to a DPoP key (RFC 9449 section 10); NewFlow
	// sets it for an RP with a DPoP key that does not use PAR (with PAR the
	// proof on the push binds it).
	DPoPJKT string
	// AuthorizationDetails is RFC 9396's JSON array (openid_credential
	// details for a wallet). oauth-details does not carry it: send it by
	// PAR or /authorize.
	AuthorizationDetails string
}

func (r AuthRequest) form() url.Values {
	v := url.Values{}
	set := func(k, s string) {
		if s != "" {
			v.Set(k, s)
		}
	}
	set("client_id", r.ClientID)
	set("response_type", r.ResponseType)
	set("redirect_uri", r.RedirectURI)
	set("scope", r.Scope)
	set("state", r.State)
	set("nonce", r.Nonce)
	set("code_challenge", r.CodeChallenge)
	set("code_challenge_method", r.CodeChallengeMethod)
	set("acr_values", r.ACRValues)
	set("claims", r.Claims)
	set("claims_locales", r.ClaimsLocales)
	set("ui_locales", r.UILocales)
	set("prompt", r.Prompt)
	set("max_age", r.MaxAge)
	set("dpop_jkt", r.DPoPJKT)
	set("authorization_details", r.AuthorizationDetails)
	return v
}

// OAuthDetails is the oauth-details response.
type OAuthDetails struct {
	TransactionID    string              `json:"transactionId"`
	LogoURL          *string             `json:"logoUrl"`
	AuthFactors      [][]oidc.AuthFactor `json:"authFactors"`
	AuthorizeScopes  []string            `json:"authorizeScopes"`
	EssentialClaims  []string            `json:"essentialClaims"`
	VoluntaryClaims  []string            `json:"voluntaryClaims"`
	Configs          map[string]any      `json:"configs"`
	RedirectURI      string              `json:"redirectUri"`
	ClientName       map[string]string   `json:"clientName"`
	CredentialScopes []string            `json:"credentialScopes"`
}

// ClaimDetails is the claim-details response, with what oauth-details said
// of the claims (Essential, Voluntary, AuthorizeScopes).
type ClaimDetails struct {
	TransactionID         string        `json:"transactionId"`
	ConsentAction         string        `json:"consentAction"`
	ProfileUpdateRequired bool          `json:"profileUpdateRequired"`
	ClaimStatus           []ClaimStatus `json:"claimStatus"`
	Essential             []string      `json:"-"`
	Voluntary             []string      `json:"-"`
	AuthorizeScopes       []string      `json:"-"`
}

// ClaimStatus is one claim of claim-details; Essential comes from
// oauth-details.
type ClaimStatus struct {
	Claim     string `json:"claim"`
	Verified  bool   `json:"verified"`
	Available bool   `json:"available"`
	Essential bool   `json:"-"`
}

// AuthCodeResponse is the auth-code response.
type AuthCodeResponse struct {
	Nonce       *string `json:"nonce"`
	State       *string `json:"state"`
	Code        string  `json:"code"`
	RedirectURI string  `json:"redirectUri"`
}

// OTPSent is the send-otp response.
type OTPSent struct {
	TransactionID string  `json:"transactionId"`
	MaskedEmail   *string `json:"maskedEmail"`
	MaskedMobile  *string `json:"maskedMobile"`
}

// TokenResponse is a successful token response, with OpenID4VCI's members
// for credential grants.
type TokenResponse struct {
	AccessToken          string          `json:"access_token"`
	TokenType            string          `json:"token_type"`
	ExpiresIn            int64           `json:"expires_in"`
	IDToken              string          `json:"id_token"`
	Scope                string          `json:"scope"`
	AuthorizationDetails json.RawMessage `json:"authorization_details"`
	CNonce               string          `json:"c_nonce"`
	CNonceExpiresIn      int64           `json:"c_nonce_expires_in"`
}

// Challenge is one factor of authenticate.
type Challenge struct {
	Factor string // OTP, PIN, PWD, KBI
	Value  string // for KBI the answers JSON; the driver encodes it
}

// challengeFormats are eSignet's challenge formats.
var challengeFormats = map[string]string{
	"OTP": "alpha-numeric", "PIN": "number", "PWD": "alpha-numeric", "KBI": "base64url-encoded-json",
}

// sharedTransport is the transport of the default clients: connections are
// reused across logins.
var sharedTransport = &http.Transport{
	Proxy:                 nil,
	DialContext:           (&net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
	MaxIdleConns:          1024,
	MaxIdleConnsPerHost:   1024,
	IdleConnTimeout:       90 * time.Second,
	TLSHandshakeTimeout:   10 * time.Second,
	ResponseHeaderTimeout: 30 * time.Second,
}

const clientTimeout = 60 * time.Second

// newBrowser is a client with its own cookie jar.
func newBrowser() *http.Client {
	jar, _ := cookiejar.New(nil) // never fails without options
	return &http.Client{Jar: jar, Timeout: clientTimeout, Transport: sharedTransport}
}

var backChannel = &http.Client{Timeout: clientTimeout, Transport: sharedTransport}

func (rp *RP) backChannel() *http.Client {
	if rp.HTTP != nil {
		return rp.HTTP
	}
	return backChannel
}

func (rp *RP) url(path string) string { return strings.TrimRight(rp.Issuer, "/") + path }

// Flow is one sign-in in progress. Its exported fields are what the steps
// send and what they received; tests may change them between steps.
type Flow struct {
	RP      *RP
	Options LoginOptions
	Request AuthRequest
	// CodeVerifier is the PKCE verifier the token request sends.
	CodeVerifier string
	// RequestURI is set by PAR.
	RequestURI string
	// Details and Hash are set by OAuthDetails: the response and its
	// oauth-details-hash.
	Details *OAuthDetails
	Hash    string
	// ConsentAction is set by Authenticate.
	ConsentAction string
	// Redirect is the authorization response URL (code, state, iss) as
	// oidc-ui builds it, and Code the code the RP took from it.
	Redirect string
	Code     string
	Steps    []StepTiming

	browser   *http.Client
	csrf      string
	dpopNonce string
}

// NewFlow prepares a sign-in: a fresh state, nonce and PKCE verifier and
// the authorization request of o.
func (rp *RP) NewFlow(o LoginOptions) (*Flow, error) {
	if rp.Client == nil {
		return nil, errors.New("oidctest: RP.Client is nil")
	}
	verifier := random(32)
	scope := o.Scope
	if scope == "" {
		scope = DefaultScope
	}
	f := &Flow{RP: rp, Options: o, CodeVerifier: verifier, browser: rp.HTTP}
	if f.browser == nil {
		f.browser = newBrowser()
	}
	f.Request = AuthRequest{
		ClientID: rp.Client.ID, ResponseType: "code", RedirectURI: rp.Client.RedirectURI, Scope: scope,
		State: random(16), Nonce: random(16), CodeChallenge: oidc.S256Challenge(verifier), CodeChallengeMethod: "S256",
		ACRValues: o.ACRValues, Claims: o.Claims, ClaimsLocales: o.ClaimsLocales, UILocales: o.UILocales, Prompt: o.Prompt,
	}
	if rp.DPoPKey != nil && !o.PAR {
		jkt, err := Thumbprint(rp.DPoPKey)
		if err != nil {
			return nil, err
		}
		f.Request.DPoPJKT = jkt
	}
	return f, nil
}

// Login runs a whole sign-in: PAR or not, oauth-details, send-otp (OTP),
// authenticate, claim-details and auth-code (or auth-code alone when a
// stored consent covers the request), the redirect's checks, the token
// request and userinfo.
func (rp *RP) Login(ctx context.Context, o LoginOptions) (*LoginResult, error) {
	f, err := rp.NewFlow(o)
	if err != nil {
		return nil, err
	}
	return f.Run(ctx)
}

// Run runs the flow's remaining steps from the start, as Login does.
func (f *Flow) Run(ctx context.Context) (*LoginResult, error) {
	if f.Options.PAR {
		if err := f.PAR(ctx); err != nil {
			return nil, err
		}
	}
	if _, err := f.OAuthDetails(ctx); err != nil {
		return nil, err
	}
	if f.Options.Factor == "OTP" {
		if _, err := f.SendOTP(ctx); err != nil {
			return nil, err
		}
	}
	action, err := f.Authenticate(ctx)
	if err != nil {
		return nil, err
	}
	var accepted, permitted []string
	if action == oidc.ConsentCapture {
		d, err := f.ClaimDetails(ctx)
		if err != nil {
			return nil, err
		}
		if f.Options.AcceptClaims != nil {
			accepted = f.Options.AcceptClaims(*d)
		} else {
			accepted = AcceptAvailable(*d)
		}
		permitted = f.Details.AuthorizeScopes
	}
	if _, err := f.AuthCode(ctx, accepted, permitted); err != nil {
		return nil, err
	}
	tok, err := f.Token(ctx)
	if err != nil {
		return nil, err
	}
	res := &LoginResult{Code: f.Code, Token: *tok, IDToken: tok.IDToken, ConsentAction: f.ConsentAction}
	if slices.Contains(strings.Fields(tok.Scope), "openid") {
		start := time.Now()
		ui, err := f.RP.Userinfo(ctx, tok.AccessToken, tok.TokenType)
		f.step("userinfo", start)
		if err != nil {
			return nil, err
		}
		res.Userinfo, res.UserinfoType = ui.Body, ui.ContentType
	}
	res.Steps = f.Steps
	return res, nil
}

// AcceptAvailable accepts every essential claim and every available one.
func AcceptAvailable(d ClaimDetails) []string {
	out := []string{}
	for _, c := range d.ClaimStatus {
		if c.Available || c.Essential {
			out = append(out, c.Claim)
		}
	}
	return out
}

func (f *Flow) step(name string, start time.Time) {
	f.Steps = append(f.Steps, StepTiming{Step: name, Duration: time.Since(start)})
}

// ---- Back channel: PAR

// PAR pushes the flow's request (RFC 9126) with a client assertion, and a
// DPoP proof when the RP has a DPoP key, and keeps the request_uri.
func (f *Flow) PAR(ctx context.Context) error {
	start := time.Now()
	defer f.step("par", start)
	rp := f.RP
	form := f.Request.form()
	if err := rp.authenticate(form); err != nil {
		return err
	}
	h := http.Header{}
	if rp.DPoPKey != nil {
		proof, err := dpopProof(rp.DPoPKey, http.MethodPost, rp.url(oidc.PathPAR), "", "", rp.now())
		if err != nil {
			return err
		}
		h.Set("DPoP", proof)
	}
	var out struct {
		RequestURI string `json:"request_uri"`
		ExpiresIn  int    `json:"expires_in"`
	}
	if _, err := rp.postForm(ctx, rp.backChannel(), oidc.PathPAR, form, h, &out, http.StatusCreated); err != nil {
		return err
	}
	if out.RequestURI == "" {
		return &Error{Endpoint: oidc.PathPAR, Status: http.StatusCreated, Code: CodeBadResponse, Description: "no request_uri"}
	}
	f.RequestURI = out.RequestURI
	return nil
}

// authenticate adds client authentication to form: private_key_jwt, or
// the client_id alone for a public client (no Key).
func (rp *RP) authenticate(form url.Values) error {
	if rp.Client.Key == nil {
		form.Set("client_id", rp.Client.ID)
		return nil
	}
	a, err := clientAssertion(rp.Client.Key, rp.Client.ID, strings.TrimRight(rp.Issuer, "/"), rp.now())
	if err != nil {
		return err
	}
	form.Set("client_id", rp.Client.ID)
	form.Set("client_assertion_type", oidc.ClientAssertionType)
	form.Set("client_assertion", a)
	return nil
}

// postForm posts a form to a back-channel endpoint and decodes the JSON
// answer into out when the status is want; any other status is an *Error.
func (rp *RP) postForm(ctx context.Context, c *http.Client, path string, form url.Values, h http.Header, out any, want int) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, rp.url(path), strings.NewReader(form.Encode()))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	for k, vs := range h {
		req.Header[k] = vs
	}
	resp, body, err := do(c, req)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != want {
		return resp, oauthError(path, resp, body)
	}
	if out != nil {
		if err := json.Unmarshal(body, out); err != nil {
			return resp, &Error{Endpoint: path, Status: resp.StatusCode, Code: CodeBadResponse, Description: err.Error()}
		}
	}
	return resp, nil
}

func do(c *http.Client, req *http.Request) (*http.Response, []byte, error) {
	resp, err := c.Do(req)
	if err != nil {
		return nil, nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
	if err != nil {
		return nil, nil, err
	}
	return resp, body, nil
}

// oauthError reads an OAuth error response ({"error", "error_description"}).
func oauthError(path string, resp *http.Response, body []byte) *Error {
	var e struct {
		Error       string `json:"error"`
		Description string `json:"error_description"`
	}
	_ = json.Unmarshal(body, &e)
	if e.Error == "" {
		e.Error = CodeBadResponse
		e.Description = truncate(string(body))
	}
	return &Error{Endpoint: path, Status: resp.StatusCode, Code: e.Error, Description: e.Description,
		Location: resp.Header.Get("Location")}
}

func truncate(s string) string {
	if len(s) > 200 {
		return s[:200] + "…"
	}
	return s
}

// ---- Browser: /authorize

// AuthorizeResult is the provider's answer to the browser at /authorize:
// a redirect (to the login page, or an error back to the client) or a
// page.
type AuthorizeResult struct {
	Status   int
	Location string
	Body     []byte
}

// Authorize sends the browser to /authorize with the flow's request (or
// client_id and request_uri after PAR) and returns the answer without
// following redirects.
func (f *Flow) Authorize(ctx context.Context) (*AuthorizeResult, error) {
	start := time.Now()
	defer f.step("authorize", start)
	q := f.Request.form()
	if f.RequestURI != "" {
		q = url.Values{"client_id": {f.Request.ClientID}, "request_uri": {f.RequestURI}}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, f.RP.url(oidc.PathAuthorize)+"?"+q.Encode(), nil)
	if err != nil {
		return nil, err
	}
	c := *f.browser
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	resp, body, err := do(&c, req)
	if err != nil {
		return nil, err
	}
	return &AuthorizeResult{Status: resp.StatusCode, Location: resp.Header.Get("Location"), Body: body}, nil
}

// ---- Browser: eSignet's UI API

// uiEnvelope is the UI API's answer.
type uiEnvelope struct {
	ResponseTime string          `json:"responseTime"`
	Response     json.RawMessage `json:"response"`
	Errors       []struct {
		ErrorCode    string `json:"errorCode"`
		ErrorMessage string `json:"errorMessage"`
	} `json:"errors"`
}

// CSRF fetches the CSRF token (GET /csrf/token), as oidc-ui does first.
func (f *Flow) CSRF(ctx context.Context) error {
	start := time.Now()
	defer f.step("csrf", start)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, f.RP.url(f.RP.UIPrefix+"/csrf/token"), nil)
	if err != nil {
		return err
	}
	resp, body, err := do(f.browser, req)
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		return &Error{Endpoint: "/csrf/token", Status: resp.StatusCode, Code: CodeBadResponse, Description: truncate(string(body))}
	}
	var tok struct {
		Token string `json:"token"`
	}
	if err := json.Unmarshal(body, &tok); err != nil || tok.Token == "" {
		return &Error{Endpoint: "/csrf/token", Status: resp.StatusCode, Code: CodeBadResponse, Description: "no token"}
	}
	f.csrf = tok.Token
	return nil
}

// ui calls the UI API: the envelope with requestTime, the CSRF header (and
// cookie when the client keeps none), and the binding headers when bound.
// The response member is decoded into out; its raw text is returned.
func (f *Flow) ui(ctx context.Context, method, path string, request any, bound bool, out any) (json.RawMessage, error) {
	if f.csrf == "" {
		if err := f.CSRF(ctx); err != nil {
			return nil, err
		}
	}
	var body io.Reader
	if request != nil {
		b, err := json.Marshal(map[string]any{
			"requestTime": f.RP.now().UTC().Format("2006-01-02T15:04:05.000Z"),
			"request":     request,
		})
		if err != nil {
			return nil, err
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, f.RP.url(f.RP.UIPrefix+path), body)
	if err != nil {
		return nil, err
	}
	if request != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("X-XSRF-TOKEN", f.csrf)
	if f.browser.Jar == nil {
		req.AddCookie(&http.Cookie{Name: "XSRF-TOKEN", Value: f.csrf})
	}
	if bound && f.Details != nil {
		req.Header.Set("oauth-details-key", f.Details.TransactionID)
		req.Header.Set("oauth-details-hash", f.Hash)
	}
	resp, raw, err := do(f.browser, req)
	if err != nil {
		return nil, err
	}
	var env uiEnvelope
	if err := json.Unmarshal(raw, &env); err != nil {
		return nil, &Error{Endpoint: path, Status: resp.StatusCode, Code: CodeBadResponse, Description: truncate(string(raw))}
	}
	if len(env.Errors) > 0 {
		return nil, &Error{Endpoint: path, Status: resp.StatusCode, Code: env.Errors[0].ErrorCode, Description: env.Errors[0].ErrorMessage}
	}
	if resp.StatusCode != http.StatusOK || len(env.Response) == 0 || string(env.Response) == "null" {
		return nil, &Error{Endpoint: path, Status: resp.StatusCode, Code: CodeBadResponse, Description: truncate(string(raw))}
	}
	if out != nil {
		if err := json.Unmarshal(env.Response, out); err != nil {
			return nil, &Error{Endpoint: path, Status: resp.StatusCode, Code: CodeBadResponse, Description: err.Error()}
		}
	}
	return env.Response, nil
}

// OAuthDetails opens the transaction: par-oauth-details after PAR, else
// v3/oauth-details with the request in camelCase. It keeps the response and
// its oauth-details-hash, which oidc-ui computes over
// JSON.stringify(response).
func (f *Flow) OAuthDetails(ctx context.Context) (*OAuthDetails, error) {
	var path string
	var request any
	if f.RequestURI != "" {
		path = "/authorization/par-oauth-details"
		request = map[string]string{"clientId": f.Request.ClientID, "requestUri": f.RequestURI}
	} else {
		r := f.Request
		path = "/authorization/v3/oauth-details"
		m := map[string]any{
			"clientId": r.ClientID, "scope": r.Scope, "responseType": r.ResponseType, "redirectUri": r.RedirectURI,
			"display": "page", "prompt": r.Prompt, "nonce": r.Nonce, "state": r.State, "acrValues": r.ACRValues,
			"claimsLocales": r.ClaimsLocales, "uiLocales": r.UILocales, "codeChallenge": r.CodeChallenge,
			"codeChallengeMethod": r.CodeChallengeMethod, "dpopJkt": r.DPoPJKT,
		}
		if r.MaxAge != "" {
			m["maxAge"] = r.MaxAge
		}
		if r.Claims != "" {
			m["claims"] = json.RawMessage(r.Claims)
		}
		request = m
	}
	if f.csrf == "" {
		if err := f.CSRF(ctx); err != nil {
			return nil, err
		}
	}
	start := time.Now()
	defer f.step("oauth-details", start)
	var d OAuthDetails
	raw, err := f.ui(ctx, http.MethodPost, path, request, false, &d)
	if err != nil {
		return nil, err
	}
	text, err := JSONStringify(raw)
	if err != nil {
		return nil, &Error{Endpoint: path, Status: http.StatusOK, Code: CodeBadResponse, Description: err.Error()}
	}
	sum := sha256.Sum256(text)
	f.Details, f.Hash = &d, base64.RawURLEncoding.EncodeToString(sum[:])
	return &d, nil
}

func (f *Flow) txID() string {
	if f.Details == nil {
		return ""
	}
	return f.Details.TransactionID
}

// SendOTP asks for an OTP on both channels for the options' login ID.
func (f *Flow) SendOTP(ctx context.Context) (*OTPSent, error) {
	start := time.Now()
	defer f.step("send-otp", start)
	var out OTPSent
	_, err := f.ui(ctx, http.MethodPost, "/authorization/send-otp", map[string]any{
		"transactionId": f.txID(), "individualId": f.Options.LoginID, "otpChannels": []string{"email", "phone"},
		"captchaToken": "",
	}, true, &out)
	if err != nil {
		return nil, err
	}
	return &out, nil
}

// Authenticate calls v3/authenticate with challenges, or, with none, the
// options' factor: the OTP from Options.OTP, or Options.Secret. It returns
// and keeps the consent action.
func (f *Flow) Authenticate(ctx context.Context, challenges ...Challenge) (string, error) {
	if len(challenges) == 0 {
		ch := Challenge{Factor: f.Options.Factor, Value: f.Options.Secret}
		if ch.Factor == "OTP" {
			if f.Options.OTP == nil {
				return "", errors.New("oidctest: LoginOptions.OTP is nil")
			}
			start := time.Now()
			otp, err := f.Options.OTP(ctx, f.Options.LoginID)
			f.step("otp", start)
			if err != nil {
				return "", fmt.Errorf("oidctest: OTP: %w", err)
			}
			ch.Value = otp
		}
		challenges = []Challenge{ch}
	}
	list := make([]map[string]string, 0, len(challenges))
	for _, c := range challenges {
		v := c.Value
		if c.Factor == "KBI" {
			v = base64.RawURLEncoding.EncodeToString([]byte(v))
		}
		list = append(list, map[string]string{"authFactorType": c.Factor, "challenge": v, "format": challengeFormats[c.Factor]})
	}
	start := time.Now()
	defer f.step("authenticate", start)
	var out struct {
		ConsentAction string `json:"consentAction"`
	}
	_, err := f.ui(ctx, http.MethodPost, "/authorization/v3/authenticate", map[string]any{
		"transactionId": f.txID(), "individualId": f.Options.LoginID, "challengeList": list,
	}, true, &out)
	if err != nil {
		return "", err
	}
	f.ConsentAction = out.ConsentAction
	return out.ConsentAction, nil
}

// ClaimDetails calls claim-details; Essential, Voluntary and
// AuthorizeScopes come from oauth-details.
func (f *Flow) ClaimDetails(ctx context.Context) (*ClaimDetails, error) {
	start := time.Now()
	defer f.step("claim-details", start)
	var d ClaimDetails
	if _, err := f.ui(ctx, http.MethodGet, "/authorization/claim-details", nil, true, &d); err != nil {
		return nil, err
	}
	if f.Details != nil {
		d.Essential, d.Voluntary, d.AuthorizeScopes = f.Details.EssentialClaims, f.Details.VoluntaryClaims, f.Details.AuthorizeScopes
		for i := range d.ClaimStatus {
			d.ClaimStatus[i].Essential = slices.Contains(d.Essential, d.ClaimStatus[i].Claim)
		}
	}
	return &d, nil
}

// AuthCode calls auth-code, then checks the answer as oidc-ui and the RP
// would: state is the request's; the redirect oidc-ui builds (code, state,
// iss from configs.issuer) goes to the registered redirect URI, and its iss
// is the issuer (RFC 9207). It keeps the redirect and the code.
func (f *Flow) AuthCode(ctx context.Context, accepted, permitted []string) (*AuthCodeResponse, error) {
	start := time.Now()
	defer f.step("auth-code", start)
	var out AuthCodeResponse
	_, err := f.ui(ctx, http.MethodPost, "/authorization/auth-code", map[string]any{
		"transactionId": f.txID(), "acceptedClaims": nonNil(accepted), "permittedAuthorizeScopes": nonNil(permitted),
	}, true, &out)
	if err != nil {
		return nil, err
	}
	const ep = "/authorization/auth-code"
	if out.State == nil && f.Request.State != "" || out.State != nil && *out.State != f.Request.State {
		return nil, &Error{Endpoint: ep, Status: http.StatusOK, Code: CodeStateMismatch, Description: "auth-code returned another state"}
	}
	if out.Code == "" {
		return nil, &Error{Endpoint: ep, Status: http.StatusOK, Code: CodeBadResponse, Description: "no code"}
	}
	// oidc-ui's redirect.
	u, err := url.Parse(out.RedirectURI)
	if err != nil {
		return nil, &Error{Endpoint: ep, Status: http.StatusOK, Code: CodeBadResponse, Description: "redirectUri: " + err.Error()}
	}
	q := u.Query()
	q.Set("code", out.Code)
	if out.State != nil {
		q.Set("state", *out.State)
	}
	if iss, ok := f.Details.Configs["issuer"].(string); ok {
		q.Set("iss", iss)
	}
	u.RawQuery = q.Encode()
	f.Redirect = u.String()
	// The RP's side of it.
	code, err := f.RP.ParseRedirect(f.Redirect, f.Request.State)
	if err != nil {
		return nil, err
	}
	f.Code = code
	return &out, nil
}

// ParseRedirect checks an authorization response as the RP receives it at
// its redirect URI (response_mode=query) and returns the code: the URI is
// the registered one, iss is the issuer (RFC 9207), state is the
// request's; an error response is an *Error with its code.
func (rp *RP) ParseRedirect(redirect, state string) (string, error) {
	const ep = "client"
	u, err := url.Parse(redirect)
	if err != nil {
		return "", &Error{Endpoint: ep, Code: CodeBadResponse, Description: err.Error()}
	}
	q := u.Query()
	base := *u
	base.RawQuery = ""
	if reg, err := url.Parse(rp.Client.RedirectURI); err != nil || base.String() != strings.Split(reg.String(), "?")[0] {
		return "", &Error{Endpoint: ep, Code: CodeBadResponse, Description: "redirected to " + base.String()}
	}
	if q.Get("iss") != strings.TrimRight(rp.Issuer, "/") {
		return "", &Error{Endpoint: ep, Code: CodeIssuerMismatch, Description: "iss " + q.Get("iss")}
	}
	if q.Get("state") != state {
		return "", &Error{Endpoint: ep, Code: CodeStateMismatch}
	}
	if e := q.Get("error"); e != "" {
		return "", &Error{Endpoint: ep, Code: e, Description: q.Get("error_description"), Location: redirect}
	}
	if q.Get("code") == "" {
		return "", &Error{Endpoint: ep, Code: CodeBadResponse, Description: "no code"}
	}
	return q.Get("code"), nil
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// ---- Back channel: token

// TokenRequest is a token request. Empty Assertion: a fresh client
// assertion. Empty DPoPProof: a fresh proof when the RP has a DPoP key,
// retried once with the server's nonce on use_dpop_nonce; a given proof is
// sent as is, once.
type TokenRequest struct {
	Code, RedirectURI, CodeVerifier string
	Assertion                       string
	DPoPProof                       string
}

// Token redeems the flow's code with its redirect URI and PKCE verifier.
func (f *Flow) Token(ctx context.Context) (*TokenResponse, error) {
	start := time.Now()
	defer f.step("token", start)
	tok, nonce, err := f.RP.token(ctx, TokenRequest{Code: f.Code, RedirectURI: f.Request.RedirectURI, CodeVerifier: f.CodeVerifier}, f.dpopNonce)
	if nonce != "" {
		f.dpopNonce = nonce
	}
	return tok, err
}

// Token sends a token request.
func (rp *RP) Token(ctx context.Context, r TokenRequest) (*TokenResponse, error) {
	tok, _, err := rp.token(ctx, r, "")
	return tok, err
}

func (rp *RP) token(ctx context.Context, r TokenRequest, nonce string) (*TokenResponse, string, error) {
	return rp.tokenRequest(ctx, func() (url.Values, error) {
		form := url.Values{"grant_type": {"authorization_code"}, "code": {r.Code}, "redirect_uri": {r.RedirectURI}}
		if r.CodeVerifier != "" {
			form.Set("code_verifier", r.CodeVerifier)
		}
		if r.Assertion != "" {
			form.Set("client_id", rp.Client.ID)
			form.Set("client_assertion_type", oidc.ClientAssertionType)
			form.Set("client_assertion", r.Assertion)
		} else if err := rp.authenticate(form); err != nil {
			return nil, err
		}
		return form, nil
	}, r.DPoPProof, nonce, r.Assertion == "")
}

// PreAuthorizedTokenRequest is a token request of OpenID4VCI's
// pre-authorized code grant. Empty DPoPProof: as in TokenRequest.
type PreAuthorizedTokenRequest struct {
	Code, TxCode string
	DPoPProof    string
}

// PreAuthorizedToken redeems a pre-authorized code as a wallet: as the RP's
// client when it has one (private_key_jwt, or the client_id alone for a
// public client), anonymously otherwise.
func (rp *RP) PreAuthorizedToken(ctx context.Context, r PreAuthorizedTokenRequest) (*TokenResponse, error) {
	tok, _, err := rp.tokenRequest(ctx, func() (url.Values, error) {
		form := url.Values{"grant_type": {oidc.GrantTypePreAuthorizedCode}, "pre-authorized_code": {r.Code}}
		if r.TxCode != "" {
			form.Set("tx_code", r.TxCode)
		}
		if rp.Client != nil {
			if err := rp.authenticate(form); err != nil {
				return nil, err
			}
		}
		return form, nil
	}, r.DPoPProof, "", true)
	return tok, err
}

// tokenRequest posts the form newForm builds (afresh for each attempt: an
// assertion is single use) to the token endpoint with a DPoP proof (proof,
// or a fresh one of the RP's key with nonce), retrying once with the
// server's nonce on use_dpop_nonce when retry is set and no proof was given.
// It returns the response and the last DPoP-Nonce.
func (rp *RP) tokenRequest(ctx context.Context, newForm func() (url.Values, error), proof, nonce string, retry bool) (*TokenResponse, string, error) {
	for attempt := 0; ; attempt++ {
		form, err := newForm()
		if err != nil {
			return nil, "", err
		}
		h := http.Header{}
		switch {
		case proof != "":
			h.Set("DPoP", proof)
		case rp.DPoPKey != nil:
			p, err := dpopProof(rp.DPoPKey, http.MethodPost, rp.url(oidc.PathToken), "", nonce, rp.now())
			if err != nil {
				return nil, "", err
			}
			h.Set("DPoP", p)
		}
		var tok TokenResponse
		resp, err := rp.postForm(ctx, rp.backChannel(), oidc.PathToken, form, h, &tok, http.StatusOK)
		var fresh string
		if resp != nil {
			fresh = resp.Header.Get("DPoP-Nonce")
		}
		if err != nil {
			if ErrorCode(err) == oidc.CodeUseDPoPNonce && fresh != "" && attempt == 0 && proof == "" && retry {
				nonce = fresh
				continue
			}
			return nil, fresh, err
		}
		return &tok, fresh, nil
	}
}

// ---- Back channel: resources

// UserinfoResponse is a userinfo answer.
type UserinfoResponse struct {
	Body        []byte
	ContentType string
}

// Userinfo calls userinfo with an access token of tokenType (Bearer, or
// DPoP with a proof of the RP's key carrying ath), retrying once with the
// server's nonce on use_dpop_nonce.
func (rp *RP) Userinfo(ctx context.Context, accessToken, tokenType string) (*UserinfoResponse, error) {
	status, h, body, err := rp.Resource(ctx, http.MethodGet, oidc.PathUserinfo, accessToken, tokenType, "")
	if err != nil {
		return nil, err
	}
	if status != http.StatusOK {
		return nil, resourceError(oidc.PathUserinfo, status, h, body)
	}
	return &UserinfoResponse{Body: body, ContentType: h.Get("Content-Type")}, nil
}

// UserinfoWithProof calls userinfo with a DPoP-bound token and the given
// proof, once.
func (rp *RP) UserinfoWithProof(ctx context.Context, accessToken, proof string) (*UserinfoResponse, error) {
	status, h, body, err := rp.Resource(ctx, http.MethodGet, oidc.PathUserinfo, accessToken, "DPoP", proof)
	if err != nil {
		return nil, err
	}
	if status != http.StatusOK {
		return nil, resourceError(oidc.PathUserinfo, status, h, body)
	}
	return &UserinfoResponse{Body: body, ContentType: h.Get("Content-Type")}, nil
}

// Resource calls a protected resource of the provider (path relative to
// the issuer) with an access token and returns the answer whatever its
// status. A DPoP token gets a fresh proof of the RP's key (or proof, when
// given), retried once with the server's nonce on use_dpop_nonce.
func (rp *RP) Resource(ctx context.Context, method, path, accessToken, tokenType, proof string) (int, http.Header, []byte, error) {
	nonce := ""
	for attempt := 0; ; attempt++ {
		req, err := http.NewRequestWithContext(ctx, method, rp.url(path), nil)
		if err != nil {
			return 0, nil, nil, err
		}
		dpop := strings.EqualFold(tokenType, "DPoP")
		if dpop {
			req.Header.Set("Authorization", "DPoP "+accessToken)
			p := proof
			if p == "" {
				if rp.DPoPKey == nil {
					return 0, nil, nil, errors.New("oidctest: a DPoP token needs RP.DPoPKey")
				}
				if p, err = dpopProof(rp.DPoPKey, method, rp.url(path), accessToken, nonce, rp.now()); err != nil {
					return 0, nil, nil, err
				}
			}
			req.Header.Set("DPoP", p)
		} else {
			req.Header.Set("Authorization", "Bearer "+accessToken)
		}
		resp, body, err := do(rp.backChannel(), req)
		if err != nil {
			return 0, nil, nil, err
		}
		fresh := resp.Header.Get("DPoP-Nonce")
		if dpop && proof == "" && attempt == 0 && resp.StatusCode == http.StatusUnauthorized && fresh != "" &&
			strings.Contains(resp.Header.Get("WWW-Authenticate"), oidc.CodeUseDPoPNonce) {
			nonce = fresh
			continue
		}
		return resp.StatusCode, resp.Header, body, nil
	}
}

// resourceError reads the error of a protected resource: the JSON body, or
// the WWW-Authenticate challenge's error.
func resourceError(path string, status int, h http.Header, body []byte) *Error {
	e := oauthError(path, &http.Response{StatusCode: status, Header: h}, body)
	if e.Code == CodeBadResponse {
		for _, c := range h.Values("WWW-Authenticate") {
			if _, rest, ok := strings.Cut(c, `error="`); ok {
				e.Code, _, _ = strings.Cut(rest, `"`)
				break
			}
		}
	}
	return e
}

// Introspect introspects a token (RFC 7662) as the RP's client.
func (rp *RP) Introspect(ctx context.Context, token string) (map[string]any, error) {
	form := url.Values{"token": {token}}
	if err := rp.authenticate(form); err != nil {
		return nil, err
	}
	var out map[string]any
	if _, err := rp.postForm(ctx, rp.backChannel(), oidc.PathIntrospect, form, nil, &out, http.StatusOK); err != nil {
		return nil, err
	}
	return out, nil
}

// Revoke revokes a token (RFC 7009) as the RP's client.
func (rp *RP) Revoke(ctx context.Context, token string) error {
	form := url.Values{"token": {token}}
	if err := rp.authenticate(form); err != nil {
		return err
	}
	_, err := rp.postForm(ctx, rp.backChannel(), oidc.PathRevoke, form, nil, nil, http.StatusOK)
	return err
}

// ---- JOSE builders

// ClientAssertion builds a private_key_jwt client assertion (RFC 7523):
// iss and sub clientID, aud, a random jti, iat now and exp a minute later,
// signed with key (alg from the key: ES256, RS256, EdDSA; or the key's
// alg) and its kid.
func ClientAssertion(key jwk.Key, clientID, aud string) (string, error) {
	return clientAssertion(key, clientID, aud, time.Now())
}

func clientAssertion(key jwk.Key, clientID, aud string, now time.Time) (string, error) {
	return SignJWT(key, "", map[string]any{
		"iss": clientID, "sub": clientID, "aud": aud, "jti": random(16),
		"iat": now.Unix(), "exp": now.Add(time.Minute).Unix(),
	})
}

// DPoPProof builds a DPoP proof (RFC 9449): typ dpop+jwt, the public key
// in jwk, htm, htu, a random jti, iat now, ath when accessToken is set and
// nonce when set.
func DPoPProof(key jwk.Key, method, htu, accessToken, nonce string) (string, error) {
	return dpopProof(key, method, htu, accessToken, nonce, time.Now())
}

func dpopProof(key jwk.Key, method, htu, accessToken, nonce string, now time.Time) (string, error) {
	pub, err := key.PublicKey()
	if err != nil {
		return "", fmt.Errorf("oidctest: DPoP public key: %w", err)
	}
	for _, k := range []string{jwk.KeyIDKey, jwk.AlgorithmKey, jwk.KeyUsageKey} {
		_ = pub.Remove(k)
	}
	claims := map[string]any{"jti": random(16), "htm": method, "htu": htu, "iat": now.Unix()}
	if accessToken != "" {
		sum := sha256.Sum256([]byte(accessToken))
		claims["ath"] = base64.RawURLEncoding.EncodeToString(sum[:])
	}
	if nonce != "" {
		claims["nonce"] = nonce
	}
	h := jws.NewHeaders()
	if err := h.Set(jws.TypeKey, "dpop+jwt"); err != nil {
		return "", err
	}
	if err := h.Set(jws.JWKKey, pub); err != nil {
		return "", err
	}
	return sign(key, h, claims, false)
}

// SignJWT signs claims with key: alg from the key (or its alg member), kid
// from the key, and typ when set.
func SignJWT(key jwk.Key, typ string, claims map[string]any) (string, error) {
	h := jws.NewHeaders()
	if typ != "" {
		if err := h.Set(jws.TypeKey, typ); err != nil {
			return "", err
		}
	}
	return sign(key, h, claims, true)
}

func sign(key jwk.Key, h jws.Headers, claims map[string]any, withKID bool) (string, error) {
	alg, err := KeyAlg(key)
	if err != nil {
		return "", err
	}
	if kid, ok := key.KeyID(); ok && withKID {
		if err := h.Set(jws.KeyIDKey, kid); err != nil {
			return "", err
		}
	}
	payload, err := json.Marshal(claims)
	if err != nil {
		return "", err
	}
	var raw any
	if err := jwk.Export(key, &raw); err != nil {
		return "", fmt.Errorf("oidctest: export key: %w", err)
	}
	out, err := jws.Sign(payload, jws.WithKey(alg, raw, jws.WithProtectedHeaders(h)))
	if err != nil {
		return "", fmt.Errorf("oidctest: sign: %w", err)
	}
	return string(out), nil
}

// KeyAlg is the signature algorithm of a private key: its alg member, or
// ES256 for EC P-256, RS256 for RSA, EdDSA for Ed25519.
func KeyAlg(key jwk.Key) (jwa.SignatureAlgorithm, error) {
	if a, ok := key.Algorithm(); ok {
		if sa, ok := jwa.LookupSignatureAlgorithm(a.String()); ok {
			return sa, nil
		}
	}
	var raw any
	if err := jwk.Export(key, &raw); err != nil {
		return jwa.SignatureAlgorithm{}, fmt.Errorf("oidctest: export key: %w", err)
	}
	switch raw.(type) {
	case *ecdsa.PrivateKey:
		return jwa.ES256(), nil
	case *rsa.PrivateKey:
		return jwa.RS256(), nil
	case ed25519.PrivateKey, *ed25519.PrivateKey:
		return jwa.EdDSA(), nil
	}
	return jwa.SignatureAlgorithm{}, fmt.Errorf("oidctest: no signature algorithm for a %T", raw)
}

// Thumbprint is the base64url SHA-256 JWK thumbprint of key's public key
// (RFC 7638), the value of dpop_jkt and cnf.jkt.
func Thumbprint(key jwk.Key) (string, error) {
	pub, err := key.PublicKey()
	if err != nil {
		return "", err
	}
	tp, err := pub.Thumbprint(crypto.SHA256)
	if err != nil {
		return "", err
	}
	return base64.RawURLEncoding.EncodeToString(tp), nil
}

func random(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b) // never fails
	return base64.RawURLEncoding.EncodeToString(b)
}

// ---- JSON.stringify

// JSONStringify returns JSON.stringify(JSON.parse(text)) as JavaScript
// computes it (package jsjson), as eSignet's login UI hashes oauth-details.
func JSONStringify(text []byte) ([]byte, error) { return jsjson.Stringify(text) }
