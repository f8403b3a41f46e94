package oidc

import (
	"bytes"
	"cmp"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"math"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/gin-gonic/gin"

	"github.com/sanad-id/sanad/idrepo/authn"
)

// eSignet's UI API: the JSON API MOSIP's React login UI (oidc-ui) calls, so
// that an unmodified oidc-ui build runs against Sanad. Every route is served
// at the root and under uiAPIPrefix, eSignet's context path in deployments,
// which is oidc-ui's default base URL:
//
//	GET  /csrf/token                          the CSRF token (cookie XSRF-TOKEN and JSON)
//	POST /authorization/v3/oauth-details      open a transaction; rate limited (also v2 and the unversioned v1)
//	POST /authorization/par-oauth-details     open a transaction for a pushed request; rate limited
//	POST /authorization/send-otp              bound; rate limited
//	POST /authorization/v3/authenticate       bound; rate limited (also v2 and the unversioned v1)
//	GET  /authorization/claim-details         bound
//	POST /authorization/auth-code             bound
//
// Requests are eSignet's envelope {"requestTime", "request"}; requestTime
// must be within uiRequestTimeLeeway of the clock. Answers are the envelope
// {"responseTime", "response", "errors"}: errors come with HTTP 200,
// response null and errors[0].errorCode, as oidc-ui expects. Only a failed
// CSRF check (403) and the rate limit (429) answer otherwise.
//
// Every POST needs the header X-XSRF-TOKEN equal to the XSRF-TOKEN cookie
// (double submit; eSignet's Spring Security CSRF filter). "Bound" calls
// carry oauth-details-key (the transaction id) and oauth-details-hash, the
// base64url SHA-256 of the oauth-details response as oidc-ui computes it:
// over JSON.stringify of the parsed response object. The flow makes the
// response and its hashes once, when the transaction opens
// (oauthDetailsBinding), and keeps the hashes with the transaction
// (TxView.OAuthDetailsHashes); a bound call compares with them, in the
// flow's own read of the transaction where the flow can (boundFlow).
//
// eSignet has no endpoint for cancelling: oidc-ui itself sends the browser
// to the client with error=access_denied or consent_rejected, and the
// transaction expires. So does Sanad's UI API; LoginFlow.Abort serves the
// login pages.

// uiAPIPrefix is eSignet's context path.
const uiAPIPrefix = "/v1/esignet"

// CSRF token names, as Spring Security's CookieCsrfTokenRepository has them.
const (
	csrfCookieName    = "XSRF-TOKEN"
	csrfHeaderName    = "X-XSRF-TOKEN"
	csrfParameterName = "_csrf"
	// csrfTokenBytes of randomness make a token: 43 base64url characters.
	csrfTokenBytes = 32
)

// Transaction binding headers.
const (
	headerOAuthDetailsKey  = "oauth-details-key"
	headerOAuthDetailsHash = "oauth-details-hash"
)

// uiRequestTimeLeeway is eSignet's mosip.esignet.reqtime.leeway-minutes.
const uiRequestTimeLeeway = 2 * time.Minute

// uiRequestTimeLayout is eSignet's request time format
// (yyyy-MM-dd'T'HH:mm:ss.SSS'Z', exactly three fractional digits), which is
// what JavaScript's Date.toISOString produces.
const uiRequestTimeLayout = clientMgmtTimeLayout

// uiMaxChallenges is the most challenges one authenticate may carry
// (eSignet's AuthRequest: 1 to 5).
const uiMaxChallenges = 5

// eSignet error codes the UI API produces itself (eSignet's ErrorConstants);
// the flow's own come from its errors.
const (
	uiCodeInvalidRequest         = "invalid_request"
	uiCodeInvalidClientID        = "invalid_client_id"
	uiCodeInvalidTransactionID   = "invalid_transaction_id"
	uiCodeInvalidIdentifier      = "invalid_identifier"
	uiCodeInvalidOTPChannel      = "invalid_otp_channel"
	uiCodeInvalidNoOfChallenges  = "invalid_no_of_challenges"
	uiCodeInvalidAuthFactorType  = "invalid_auth_factor_type"
	uiCodeInvalidChallengeFormat = "invalid_challenge_format"
	uiCodeInvalidChallenge       = "invalid_challenge"
	uiCodeInvalidClaim           = "invalid_claim"
	// uiCodeInvalidCSRFToken is Sanad's: eSignet answers a failed CSRF
	// check with Spring's bare 403 page, which has no code.
	uiCodeInvalidCSRFToken = "invalid_csrf_token"
	// uiCodeBindingMismatch is what eSignet's HeaderValidationFilter answers
	// when oauth-details-hash does not match the transaction.
	uiCodeBindingMismatch = uiCodeInvalidRequest
)

// uiChallengeFormats is the format eSignet requires of each factor type
// Sanad authenticates (mosip.esignet.auth-challenge.<type>.format); authn
// accepts the same formats (a test keeps the two in step).
var uiChallengeFormats = map[string]string{
	authn.FactorOTP:      "alpha-numeric",
	authn.FactorPIN:      "number",
	authn.FactorPassword: "alpha-numeric",
	authn.FactorKBI:      "base64url-encoded-json",
}

// oauth-details versions: v1 is eSignet's deprecated unversioned endpoint
// (clientName a string, no PKCE), v2 adds PKCE, clientName by language and
// credentialScopes, v3 adds idTokenHint.
const (
	oauthDetailsV1 = 1
	oauthDetailsV2 = 2
	oauthDetailsV3 = 3
)

// uiAPI serves eSignet's UI API over a LoginFlow.
type uiAPI struct {
	flow LoginFlow
	opts frontEndOptions
}

// registerUIAPI mounts eSignet's UI API on r, at the root and under
// uiAPIPrefix.
func registerUIAPI(r gin.IRouter, flow LoginFlow, opts frontEndOptions) {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	a := &uiAPI{flow: flow, opts: opts}
	a.routes(r)
	a.routes(r.Group(uiAPIPrefix))
}

func (a *uiAPI) routes(r gin.IRouter) {
	post := func(path string, limited bool, h gin.HandlerFunc) {
		hs := []gin.HandlerFunc{noStore, a.requireCSRF}
		if limited && a.opts.RateLimit != nil {
			hs = append(hs, a.opts.RateLimit)
		}
		r.POST(path, append(hs, h)...)
	}
	r.GET("/csrf/token", noStore, a.csrfToken)
	// oauth-details opens transactions as /authorize does, and carries the
	// same rate limit.
	post("/authorization/oauth-details", true, a.oauthDetails(oauthDetailsV1))
	post("/authorization/v2/oauth-details", true, a.oauthDetails(oauthDetailsV2))
	post("/authorization/v3/oauth-details", true, a.oauthDetails(oauthDetailsV3))
	post("/authorization/par-oauth-details", true, a.parOAuthDetails)
	post("/authorization/send-otp", true, a.sendOTP)
	post("/authorization/authenticate", true, a.authenticate(1))
	post("/authorization/v2/authenticate", true, a.authenticate(2))
	post("/authorization/v3/authenticate", true, a.authenticate(3))
	post("/authorization/auth-code", false, a.authCode)
	r.GET("/authorization/claim-details", noStore, a.claimDetails)
}

func noStore(c *gin.Context) { c.Header("Cache-Control", "no-store") }

// ---- CSRF

// csrfTokenResponse is Spring Security's CsrfToken as JSON.
type csrfTokenResponse struct {
	HeaderName    string `json:"headerName"`
	ParameterName string `json:"parameterName"`
	Token         string `json:"token"`
}

// csrfToken answers GET /csrf/token. As Spring's cookie repository does, it
// keeps the browser's token if it has a well-formed one, so that tabs and
// the token oidc-ui keeps in sessionStorage stay in step. The cookie is not
// HttpOnly: oidc-ui up to 1.6 reads it (later versions read this answer);
// HttpOnly would protect nothing, since this answer carries the token too.
func (a *uiAPI) csrfToken(c *gin.Context) {
	tok, err := c.Cookie(csrfCookieName)
	if err != nil || !wellFormedCSRFToken(tok) {
		b := make([]byte, csrfTokenBytes)
		_, _ = rand.Read(b) // never fails (crypto/rand)
		tok = base64.RawURLEncoding.EncodeToString(b)
	}
	http.SetCookie(c.Writer, &http.Cookie{
		Name: csrfCookieName, Value: tok, Path: "/",
		Secure: a.opts.SecureCookies, HttpOnly: false, SameSite: http.SameSiteStrictMode,
	})
	c.JSON(http.StatusOK, csrfTokenResponse{HeaderName: csrfHeaderName, ParameterName: csrfParameterName, Token: tok})
}

// requireCSRF passes a request whose X-XSRF-TOKEN header equals its
// XSRF-TOKEN cookie (compared in constant time); others get 403.
func (a *uiAPI) requireCSRF(c *gin.Context) {
	cookie, err := c.Cookie(csrfCookieName)
	header := c.GetHeader(csrfHeaderName)
	if err == nil && wellFormedCSRFToken(cookie) &&
		subtle.ConstantTimeCompare([]byte(cookie), []byte(header)) == 1 {
		return
	}
	e := &UIError{Code: uiCodeInvalidCSRFToken, Description: "the CSRF token is missing or does not match"}
	_ = c.Error(e)
	c.AbortWithStatusJSON(http.StatusForbidden, a.envelope(nil, e.Code, e.Description))
}

func wellFormedCSRFToken(s string) bool {
	if len(s) != base64.RawURLEncoding.EncodedLen(csrfTokenBytes) {
		return false
	}
	for i := range len(s) {
		ch := s[i]
		if !(ch >= 'A' && ch <= 'Z' || ch >= 'a' && ch <= 'z' || ch >= '0' && ch <= '9' || ch == '-' || ch == '_') {
			return false
		}
	}
	return true
}

// ---- Envelope

func (a *uiAPI) envelope(response any, code, message string) clientMgmtResponse {
	env := clientMgmtResponse{ResponseTime: a.opts.Now().UTC().Format(clientMgmtTimeLayout), Response: response,
		Errors: []clientMgmtErrorItem{}}
	if code != "" {
		env.Errors = append(env.Errors, clientMgmtErrorItem{ErrorCode: code, ErrorMessage: message})
	}
	return env
}

func (a *uiAPI) ok(c *gin.Context, response any) {
	c.JSON(http.StatusOK, a.envelope(response, "", ""))
}

// fail answers err in the envelope with HTTP 200, as eSignet does. The code
// is the flow's (uiErrorCode); the internal cause goes to the access log
// through c.Error, never to the caller.
func (a *uiAPI) fail(c *gin.Context, err error) {
	code, msg := uiErrorCode(err)
	_ = c.Error(err)
	c.AbortWithStatusJSON(http.StatusOK, a.envelope(nil, code, msg))
}

// uiErrorCode maps an error to eSignet's errorCode and a safe message:
// *UIError and *authn.Error by their code, *AuthorizeError and *Error by
// their protocol code; anything else, and server errors, is unknown_error.
func uiErrorCode(err error) (code, message string) {
	var ue *UIError
	var ae *authn.Error
	var aze *AuthorizeError
	var pe *Error
	switch {
	case errors.As(err, &ue) && ue.Code != "":
		return ue.Code, ue.Description
	case errors.As(err, &ae) && ae.Code != "":
		return ae.Code, ae.Description
	case errors.As(err, &aze) && aze.Err != nil && aze.Err.Code != "" && aze.Err.Code != CodeServerError:
		return aze.Err.Code, aze.Err.Description
	case errors.As(err, &pe) && pe.Code != "" && pe.Code != CodeServerError:
		return pe.Code, pe.Description
	}
	return UIUnknownError, "an unknown error has occurred"
}

func uiInvalid(code, desc string) *UIError { return &UIError{Code: code, Description: desc} }

// parseUIBody decodes eSignet's request envelope into *T, checks its
// requestTime against the clock and validates the request. Unknown members
// are ignored, as eSignet (Jackson) ignores them. On failure it has answered.
func parseUIBody[T any, PT interface {
	*T
	Validate() error
}](a *uiAPI, c *gin.Context) (*T, bool) {
	q, err := decodeUIBody[T, PT](c.Request.Body, a.opts.Now())
	if err != nil {
		a.fail(c, err)
		return nil, false
	}
	return q, true
}

// decodeUIBody is parseUIBody without gin: it returns the request or a
// *UIError.
func decodeUIBody[T any, PT interface {
	*T
	Validate() error
}](body io.Reader, now time.Time) (*T, error) {
	var q clientMgmtRequest[T] // eSignet's envelope, as client management has it
	d := json.NewDecoder(body)
	err := d.Decode(&q)
	if err == nil {
		if _, terr := d.Token(); terr != io.EOF {
			err = errors.New("data after the JSON object")
		}
	}
	if err != nil {
		var mbe *http.MaxBytesError
		desc := "the body is not the expected JSON object"
		if errors.As(err, &mbe) {
			desc = "the request body is too large"
		}
		return nil, &UIError{Code: uiCodeInvalidRequest, Description: desc, Cause: err}
	}
	t, err := time.Parse(uiRequestTimeLayout, q.RequestTime)
	if err != nil {
		return nil, uiInvalid(uiCodeInvalidRequest, "requestTime must be a UTC time like 2025-01-02T15:04:05.000Z")
	}
	if d := t.Sub(now); d <= -uiRequestTimeLeeway || d >= uiRequestTimeLeeway {
		return nil, uiInvalid(uiCodeInvalidRequest, "requestTime is too far from the server's time")
	}
	if q.Request == nil {
		return nil, uiInvalid(uiCodeInvalidRequest, "request is required")
	}
	if err := PT(q.Request).Validate(); err != nil {
		return nil, err
	}
	return q.Request, nil
}

// ---- Transaction binding

// binding is what a bound call's headers name: the transaction, and the
// oauth-details-hash it must have.
type binding struct {
	txID, hash string
	// check is set for UI API calls; a flow's exported methods pass none.
	check bool
}

// boundFlow is a LoginFlow that checks a UI API call's binding in its own
// read of the transaction (*Provider does), so that a bound call reads the
// transaction once, not once here and again in the flow. Its methods fail
// as bind would when the hash does not match (uiCodeBindingMismatch), and
// check it before anything else but the existence of the transaction and
// of its client.
type boundFlow interface {
	sendOTPBound(ctx context.Context, b binding, loginID string, channels []string) (authn.SendOTPResult, error)
	authenticateBound(ctx context.Context, b binding, loginID string, challenges []authn.Challenge) (string, error)
	claimDetailsBound(ctx context.Context, b binding) (*ClaimDetails, error)
	authCodeBound(ctx context.Context, b binding, acceptedClaims, permittedScopes []string) (*AuthResponse, error)
}

// errBindingMismatch is the answer to a bound call whose hash is not the
// transaction's.
func errBindingMismatch() *UIError {
	return uiInvalid(uiCodeBindingMismatch, "the request does not match the sign-in")
}

// bind reads a bound call's headers: oauth-details-key must name a
// transaction and oauth-details-hash be the hash of its oauth-details
// response. A boundFlow checks that in the call itself; with another flow
// the transaction is read and the hash checked here. On failure it has
// answered.
func (a *uiAPI) bind(c *gin.Context) (binding, bool) {
	b := binding{txID: c.GetHeader(headerOAuthDetailsKey), hash: c.GetHeader(headerOAuthDetailsHash), check: true}
	if b.txID == "" {
		a.fail(c, uiInvalid(UIInvalidTransaction, "the sign-in is unknown or has expired"))
		return b, false
	}
	if _, ok := a.flow.(boundFlow); ok {
		return b, true
	}
	return b, a.checkBinding(c, b)
}

// checkBinding reads the transaction and compares the hash. On failure it
// has answered.
func (a *uiAPI) checkBinding(c *gin.Context, b binding) bool {
	tx, err := a.flow.Transaction(c.Request.Context(), b.txID)
	if err != nil {
		a.fail(c, err)
		return false
	}
	if tx.TransactionID != b.txID {
		a.fail(c, &UIError{Code: UIInvalidTransaction, Description: "the sign-in is unknown or has expired",
			Cause: errors.New("flow returned another transaction")})
		return false
	}
	if ok, err := a.hashMatches(tx, b.hash); err != nil {
		a.fail(c, err)
		return false
	} else if !ok {
		a.fail(c, errBindingMismatch())
		return false
	}
	return true
}

// reject answers err, a problem with a bound call's request, unless the
// binding fails: eSignet checks the binding first (its
// HeaderValidationFilter), and a boundFlow has not checked it yet.
func (a *uiAPI) reject(c *gin.Context, b binding, err error) {
	if _, ok := a.flow.(boundFlow); ok && !a.checkBinding(c, b) {
		return
	}
	a.fail(c, err)
}

// parseBoundBody is parseUIBody for a bound call: the body must also name
// the bound transaction. eSignet does not compare them; Sanad does, so that
// a call bound to one transaction cannot act on another. On failure it has
// answered.
func parseBoundBody[T any, PT interface {
	*T
	Validate() error
	transactionID() string
}](a *uiAPI, c *gin.Context, b binding) (*T, bool) {
	q, err := decodeUIBody[T, PT](c.Request.Body, a.opts.Now())
	if err == nil && PT(q).transactionID() != b.txID {
		err = uiInvalid(UIInvalidTransaction, "oauth-details-key does not name the request's transaction")
	}
	if err != nil {
		a.reject(c, b, err)
		return nil, false
	}
	return q, true
}

// hashMatches compares got with the hashes of the transaction's
// oauth-details response, in the current shape and in v1's (a UI on the
// deprecated endpoint hashes that). They are the ones the flow made when
// the transaction opened; only for a flow that does not keep them are they
// recomputed from the view.
func (a *uiAPI) hashMatches(tx *TxView, got string) (bool, error) {
	hashes := tx.OAuthDetailsHashes
	if len(hashes) == 0 {
		_, computed, err := oauthDetailsBinding(a.opts, tx)
		if err != nil {
			return false, err
		}
		hashes = computed
	}
	return anyHashMatches(hashes, got), nil
}

// anyHashMatches reports whether got is one of hashes, comparing with each
// in constant time.
func anyHashMatches(hashes []string, got string) bool {
	match := false
	for _, want := range hashes {
		if subtle.ConstantTimeCompare([]byte(want), []byte(got)) == 1 {
			match = true
		}
	}
	return match
}

// oauthDetailsHash is oidc-ui's oauth-details-hash of a transaction:
// base64url(SHA-256(JSON.stringify(response))).
func (a *uiAPI) oauthDetailsHash(tx *TxView, version int) (string, error) {
	b, err := a.oauthDetailsJSON(tx, version)
	if err != nil {
		return "", err
	}
	return oauthDetailsHashOf(b), nil
}

func oauthDetailsHashOf(response []byte) string {
	sum := sha256.Sum256(response)
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// oauthDetailsBinding makes a transaction's oauth-details responses, in the
// shape of v2 and v3 and in v1's (indexed by oauthDetailsShape), and their
// hashes, in the same order: what TxView.OAuthDetailsHashes holds.
func oauthDetailsBinding(opts frontEndOptions, tx *TxView) (bodies [2][]byte, hashes []string, err error) {
	hashes = make([]string, len(bodies))
	for shape, version := range []int{oauthDetailsV3, oauthDetailsV1} {
		if bodies[shape], err = oauthDetailsJSON(opts, tx, version); err != nil {
			return bodies, nil, err
		}
		hashes[shape] = oauthDetailsHashOf(bodies[shape])
	}
	return bodies, hashes, nil
}

// oauthDetailsShape is the index of a version's response shape in
// oauthDetailsBinding's results: 0 for v2 and v3, 1 for v1.
func oauthDetailsShape(version int) int {
	if version == oauthDetailsV1 {
		return 1
	}
	return 0
}

// ---- oauth-details

// uiOAuthDetailsRequest is eSignet's OAuthDetailRequestV3 (v2 lacks
// idTokenHint, v1 the PKCE members too; what a version lacks is ignored).
type uiOAuthDetailsRequest struct {
	ClientID            string `json:"clientId"`
	Scope               string `json:"scope"`
	ResponseType        string `json:"responseType"`
	RedirectURI         string `json:"redirectUri"`
	Display             string `json:"display"`
	Prompt              string `json:"prompt"`
	Nonce               string `json:"nonce"`
	State               string `json:"state"`
	ACRValues           string `json:"acrValues"`
	ClaimsLocales       string `json:"claimsLocales"`
	UILocales           string `json:"uiLocales"`
	CodeChallenge       string `json:"codeChallenge"`
	CodeChallengeMethod string `json:"codeChallengeMethod"`
	IDTokenHint         string `json:"idTokenHint"`
	DPoPJKT             string `json:"dpopJkt"`
	// MaxAge is a number in eSignet; oidc-ui sends the query parameter's
	// string, which Jackson converts. Both are accepted.
	MaxAge json.RawMessage `json:"maxAge"`
	// Claims is the claims request as a JSON object (eSignet's ClaimsV2).
	Claims json.RawMessage `json:"claims"`
}

// Validate checks what eSignet's DTO checks and the UI API must: a client
// id, parameter sizes, maxAge an integer, claims an object. The rest is the
// flow's to check, as for /authorize.
func (r *uiOAuthDetailsRequest) Validate() error {
	if strings.TrimSpace(r.ClientID) == "" {
		return uiInvalid(uiCodeInvalidClientID, "clientId is required")
	}
	for _, s := range []string{r.ClientID, r.Scope, r.ResponseType, r.RedirectURI, r.Display, r.Prompt, r.Nonce,
		r.State, r.ACRValues, r.ClaimsLocales, r.UILocales, r.CodeChallenge, r.CodeChallengeMethod, r.IDTokenHint,
		r.DPoPJKT} {
		if len(s) > maxParamLength {
			return uiInvalid(uiCodeInvalidRequest, "a parameter is too long")
		}
	}
	if _, err := r.maxAge(); err != nil {
		return err
	}
	if _, err := r.claims(); err != nil {
		return err
	}
	return nil
}

// maxAge returns maxAge as AuthorizationRequest has it: decimal digits, or
// "" when absent.
func (r *uiOAuthDetailsRequest) maxAge() (string, error) {
	if isJSONNull(r.MaxAge) {
		return "", nil
	}
	bad := uiInvalid(uiCodeInvalidRequest, "maxAge must be an integer")
	var s string
	if err := json.Unmarshal(r.MaxAge, &s); err == nil {
		// The string form is checked by the flow, as /authorize's max_age.
		if len(s) > maxParamLength {
			return "", bad
		}
		return s, nil
	}
	var n json.Number
	if err := json.Unmarshal(r.MaxAge, &n); err != nil {
		return "", bad
	}
	if _, err := strconv.ParseInt(n.String(), 10, 64); err != nil {
		return "", bad
	}
	return n.String(), nil
}

// claims returns the claims object as the JSON text AuthorizationRequest
// expects ("" when absent).
func (r *uiOAuthDetailsRequest) claims() (string, error) {
	if isJSONNull(r.Claims) {
		return "", nil
	}
	var b bytes.Buffer
	if err := json.Compact(&b, r.Claims); err != nil || b.Len() == 0 || b.Bytes()[0] != '{' {
		return "", uiInvalid(uiCodeInvalidClaim, "claims must be a JSON object")
	}
	if b.Len() > maxParamLength {
		return "", uiInvalid(uiCodeInvalidRequest, "claims is too long")
	}
	return b.String(), nil
}

// authorizationRequest converts a validated request of an oauth-details
// version; members the version does not have are dropped, as eSignet
// ignores them.
func (r *uiOAuthDetailsRequest) authorizationRequest(version int) AuthorizationRequest {
	maxAge, _ := r.maxAge()
	claims, _ := r.claims()
	req := AuthorizationRequest{
		ClientID: r.ClientID, ResponseType: r.ResponseType, RedirectURI: r.RedirectURI, Scope: r.Scope,
		State: r.State, Nonce: r.Nonce, Display: r.Display, Prompt: r.Prompt, MaxAge: maxAge,
		UILocales: r.UILocales, ClaimsLocales: r.ClaimsLocales, ACRValues: r.ACRValues, Claims: claims,
		IDTokenHint: r.IDTokenHint, CodeChallenge: r.CodeChallenge, CodeChallengeMethod: r.CodeChallengeMethod,
		DPoPJKT: r.DPoPJKT,
	}
	if version < oauthDetailsV3 {
		req.IDTokenHint = ""
	}
	if version < oauthDetailsV2 {
		req.CodeChallenge, req.CodeChallengeMethod = "", ""
	}
	return req
}

// uiPAROAuthDetailsRequest is eSignet's PushedOAuthDetailRequest.
type uiPAROAuthDetailsRequest struct {
	ClientID   string `json:"clientId"`
	RequestURI string `json:"requestUri"`
}

// Validate checks for a client id and a request_uri from PAR.
func (r *uiPAROAuthDetailsRequest) Validate() error {
	if strings.TrimSpace(r.ClientID) == "" {
		return uiInvalid(uiCodeInvalidClientID, "clientId is required")
	}
	if len(r.ClientID) > maxParamLength || len(r.RequestURI) > maxParamLength ||
		!strings.HasPrefix(r.RequestURI, requestURIPrefix) {
		return uiInvalid(uiCodeInvalidRequest, "requestUri must be a request_uri from the PAR endpoint")
	}
	return nil
}

// oauthDetailsBase is eSignet's OAuthDetailResponse, the members every
// version has, in eSignet's order.
type oauthDetailsBase struct {
	TransactionID   string         `json:"transactionId"`
	LogoURL         *string        `json:"logoUrl"`
	AuthFactors     [][]AuthFactor `json:"authFactors"`
	AuthorizeScopes []string       `json:"authorizeScopes"`
	EssentialClaims []string       `json:"essentialClaims"`
	VoluntaryClaims []string       `json:"voluntaryClaims"`
	Configs         map[string]any `json:"configs"`
	RedirectURI     string         `json:"redirectUri"`
}

// oauthDetailsResponseV1 is eSignet's OAuthDetailResponseV1.
type oauthDetailsResponseV1 struct {
	oauthDetailsBase
	ClientName *string `json:"clientName"`
}

// oauthDetailsResponse is eSignet's OAuthDetailResponseV2 (v2, v3 and PAR).
type oauthDetailsResponse struct {
	oauthDetailsBase
	ClientName       map[string]string `json:"clientName"`
	CredentialScopes []string          `json:"credentialScopes"`
}

// oauthDetailsJSON is oauthDetailsJSON with the API's options.
func (a *uiAPI) oauthDetailsJSON(tx *TxView, version int) ([]byte, error) {
	return oauthDetailsJSON(a.opts, tx, version)
}

// oauthDetailsJSON is the oauth-details response of a transaction, encoded
// as JSON.stringify would re-encode it after parsing (jsJSON), so that the
// bytes sent are the bytes oidc-ui hashes. It depends only on the
// transaction's view and the options.
func oauthDetailsJSON(opts frontEndOptions, tx *TxView, version int) ([]byte, error) {
	b, err := jsJSON(oauthDetailsValue(opts, tx, version))
	if err != nil {
		return nil, &UIError{Code: UIUnknownError, Description: "internal error", Cause: err}
	}
	return b, nil
}

// oauthDetailsValue is the oauth-details response of a version.
func oauthDetailsValue(opts frontEndOptions, tx *TxView, version int) any {
	base := oauthDetailsBase{
		TransactionID:   tx.TransactionID,
		LogoURL:         nullable(tx.LogoURL),
		AuthFactors:     orEmpty(tx.AuthFactors),
		AuthorizeScopes: orEmpty(tx.AuthorizeScopes),
		EssentialClaims: orEmpty(tx.EssentialClaims),
		VoluntaryClaims: orEmpty(tx.VoluntaryClaims),
		Configs:         uiConfigs(opts, tx),
		RedirectURI:     tx.RedirectURI,
	}
	if version == oauthDetailsV1 {
		return oauthDetailsResponseV1{oauthDetailsBase: base, ClientName: nullable(tx.ClientName["@none"])}
	}
	names := tx.ClientName
	if names == nil {
		names = map[string]string{}
	}
	return oauthDetailsResponse{oauthDetailsBase: base, ClientName: names, CredentialScopes: orEmpty(tx.CredentialScopes)}
}

// configs are eSignet's UI configs: the flow's, with the issuer (oidc-ui
// adds it to the redirect as iss, RFC 9207), the OTP settings when the flow
// has not set them, and the client's purpose where oidc-ui looks for it
// (clientAdditionalConfig.purpose).
func uiConfigs(opts frontEndOptions, tx *TxView) map[string]any {
	m := make(map[string]any, len(tx.Configs)+4)
	if opts.Issuer != "" {
		m["issuer"] = opts.Issuer
	}
	if opts.OTPLength > 0 {
		m["otp.length"] = opts.OTPLength
	}
	if opts.ResendDelay > 0 {
		m["resend.otp.delay.secs"] = int(opts.ResendDelay / time.Second)
	}
	maps.Copy(m, tx.Configs)
	if _, ok := m["clientAdditionalConfig"]; !ok && tx.Purpose != nil {
		m["clientAdditionalConfig"] = map[string]any{"purpose": tx.Purpose}
	}
	return m
}

func (a *uiAPI) oauthDetails(version int) gin.HandlerFunc {
	return func(c *gin.Context) {
		req, ok := parseUIBody[uiOAuthDetailsRequest](a, c)
		if !ok {
			return
		}
		tx, err := a.flow.StartTransaction(c.Request.Context(), req.authorizationRequest(version))
		if err != nil {
			a.fail(c, err)
			return
		}
		a.answerOAuthDetails(c, tx, version)
	}
}

func (a *uiAPI) parOAuthDetails(c *gin.Context) {
	req, ok := parseUIBody[uiPAROAuthDetailsRequest](a, c)
	if !ok {
		return
	}
	tx, err := a.flow.StartPARTransaction(c.Request.Context(), req.ClientID, req.RequestURI)
	if err != nil {
		a.fail(c, err)
		return
	}
	a.answerOAuthDetails(c, tx, oauthDetailsV3)
}

// answerOAuthDetails sends the response the flow made and hashed when it
// opened the transaction, or makes it from the view if the flow did not.
func (a *uiAPI) answerOAuthDetails(c *gin.Context, tx *TxView, version int) {
	b := tx.oauthDetails[oauthDetailsShape(version)]
	if b == nil {
		var err error
		if b, err = a.oauthDetailsJSON(tx, version); err != nil {
			a.fail(c, err)
			return
		}
	}
	a.ok(c, json.RawMessage(b))
}

// ---- send-otp

// uiSendOTPRequest is eSignet's OtpRequest. captchaToken is accepted and
// ignored: Sanad has no captcha; send-otp is rate limited and authn limits
// sends per transaction and per resident.
type uiSendOTPRequest struct {
	TransactionID string   `json:"transactionId"`
	IndividualID  string   `json:"individualId"`
	OTPChannels   []string `json:"otpChannels"`
	CaptchaToken  string   `json:"captchaToken"`
}

// Validate checks what eSignet's OtpRequest checks: a transaction, an
// individual and at least one channel; authn checks the channels' names.
func (r *uiSendOTPRequest) Validate() error {
	if strings.TrimSpace(r.TransactionID) == "" {
		return uiInvalid(uiCodeInvalidTransactionID, "transactionId is required")
	}
	if strings.TrimSpace(r.IndividualID) == "" {
		return uiInvalid(uiCodeInvalidIdentifier, "individualId is required")
	}
	if len(r.OTPChannels) == 0 || slices.Contains(r.OTPChannels, "") {
		return uiInvalid(uiCodeInvalidOTPChannel, "otpChannels is required")
	}
	return nil
}

func (r *uiSendOTPRequest) transactionID() string { return r.TransactionID }

// String describes r without the individual's id.
func (r *uiSendOTPRequest) String() string {
	return fmt.Sprintf("uiSendOTPRequest{TransactionID: %s, IndividualID: [redacted], OTPChannels: %v}", r.TransactionID, r.OTPChannels)
}

// GoString redacts r in %#v like String.
func (r *uiSendOTPRequest) GoString() string { return r.String() }

// LogValue logs r without the individual's id.
func (r *uiSendOTPRequest) LogValue() slog.Value {
	return slog.GroupValue(slog.Any("channels", r.OTPChannels))
}

// uiSendOTPResponse is eSignet's OtpResponse.
type uiSendOTPResponse struct {
	TransactionID string  `json:"transactionId"`
	MaskedEmail   *string `json:"maskedEmail"`
	MaskedMobile  *string `json:"maskedMobile"`
}

func (a *uiAPI) sendOTP(c *gin.Context) {
	b, ok := a.bind(c)
	if !ok {
		return
	}
	req, ok := parseBoundBody[uiSendOTPRequest](a, c, b)
	if !ok {
		return
	}
	var res authn.SendOTPResult
	var err error
	if bf, ok := a.flow.(boundFlow); ok {
		res, err = bf.sendOTPBound(c.Request.Context(), b, req.IndividualID, req.OTPChannels)
	} else {
		res, err = a.flow.SendOTP(c.Request.Context(), b.txID, req.IndividualID, req.OTPChannels)
	}
	if err != nil {
		a.fail(c, err)
		return
	}
	a.ok(c, uiSendOTPResponse{TransactionID: b.txID, MaskedEmail: nullable(res.MaskedEmail),
		MaskedMobile: nullable(res.MaskedPhone)})
}

// ---- authenticate

// uiAuthenticateRequest is eSignet's AuthRequestV2 (v3) and AuthRequest (v1,
// v2). captchaToken is accepted and ignored, as in send-otp.
type uiAuthenticateRequest struct {
	TransactionID string            `json:"transactionId"`
	IndividualID  string            `json:"individualId"`
	ChallengeList []uiAuthChallenge `json:"challengeList"`
	CaptchaToken  string            `json:"captchaToken"`
}

// uiAuthChallenge is eSignet's AuthChallenge.
type uiAuthChallenge struct {
	AuthFactorType string `json:"authFactorType"`
	Challenge      string `json:"challenge"`
	Format         string `json:"format"`
}

// Validate checks what eSignet's AuthRequest and AuthChallengeFactorFormat
// check: a transaction, an individual, 1 to 5 challenges, each of a factor
// type Sanad supports (upper case), in that type's format, not empty. authn
// checks the rest (a whole factor list, lengths, content).
func (r *uiAuthenticateRequest) Validate() error {
	if strings.TrimSpace(r.TransactionID) == "" {
		return uiInvalid(uiCodeInvalidTransactionID, "transactionId is required")
	}
	if strings.TrimSpace(r.IndividualID) == "" {
		return uiInvalid(uiCodeInvalidIdentifier, "individualId is required")
	}
	if len(r.ChallengeList) < 1 || len(r.ChallengeList) > uiMaxChallenges {
		return uiInvalid(uiCodeInvalidNoOfChallenges, "challengeList must have 1 to 5 challenges")
	}
	for _, ch := range r.ChallengeList {
		format, ok := uiChallengeFormats[ch.AuthFactorType]
		if !ok {
			return uiInvalid(uiCodeInvalidAuthFactorType, "unsupported authFactorType")
		}
		if ch.Format != format {
			return uiInvalid(uiCodeInvalidChallengeFormat, "the challenge's format does not match its authFactorType")
		}
		if strings.TrimSpace(ch.Challenge) == "" || len(ch.Challenge) > maxParamLength {
			return uiInvalid(uiCodeInvalidChallenge, "invalid challenge")
		}
	}
	return nil
}

func (r *uiAuthenticateRequest) transactionID() string { return r.TransactionID }

// String describes r without the individual's id or the challenges' values.
func (r *uiAuthenticateRequest) String() string {
	return fmt.Sprintf("uiAuthenticateRequest{TransactionID: %s, IndividualID: [redacted], Factors: %v}", r.TransactionID, r.factors())
}

// GoString redacts r in %#v like String.
func (r *uiAuthenticateRequest) GoString() string { return r.String() }

// LogValue logs r without the individual's id or the challenges' values.
func (r *uiAuthenticateRequest) LogValue() slog.Value {
	return slog.GroupValue(slog.Any("factors", r.factors()))
}

func (r *uiAuthenticateRequest) factors() []string {
	out := make([]string, len(r.ChallengeList))
	for i, ch := range r.ChallengeList {
		out[i] = ch.AuthFactorType
	}
	return out
}

// String describes ch without its value.
func (ch uiAuthChallenge) String() string {
	return fmt.Sprintf("uiAuthChallenge{AuthFactorType: %s, Challenge: [redacted], Format: %s}", ch.AuthFactorType, ch.Format)
}

// GoString redacts ch in %#v like String.
func (ch uiAuthChallenge) GoString() string { return ch.String() }

func (r *uiAuthenticateRequest) challenges() []authn.Challenge {
	out := make([]authn.Challenge, len(r.ChallengeList))
	for i, ch := range r.ChallengeList {
		out[i] = authn.Challenge{Factor: ch.AuthFactorType, Value: ch.Challenge, Format: ch.Format}
	}
	return out
}

// uiAuthResponse is eSignet's AuthResponseV2 (v2, v3); v1's AuthResponse
// has no consentAction.
type uiAuthResponse struct {
	TransactionID string `json:"transactionId"`
	ConsentAction string `json:"consentAction,omitempty"`
}

func (a *uiAPI) authenticate(version int) gin.HandlerFunc {
	return func(c *gin.Context) {
		b, ok := a.bind(c)
		if !ok {
			return
		}
		req, ok := parseBoundBody[uiAuthenticateRequest](a, c, b)
		if !ok {
			return
		}
		var action string
		var err error
		if bf, ok := a.flow.(boundFlow); ok {
			action, err = bf.authenticateBound(c.Request.Context(), b, req.IndividualID, req.challenges())
		} else {
			action, err = a.flow.Authenticate(c.Request.Context(), b.txID, req.IndividualID, req.challenges())
		}
		if err != nil {
			a.fail(c, err)
			return
		}
		res := uiAuthResponse{TransactionID: b.txID, ConsentAction: action}
		if version == 1 {
			res.ConsentAction = ""
		}
		a.ok(c, res)
	}
}

// ---- claim-details

// uiClaimDetailsResponse is eSignet's ClaimDetailResponse.
type uiClaimDetailsResponse struct {
	TransactionID         string        `json:"transactionId"`
	ConsentAction         string        `json:"consentAction"`
	ProfileUpdateRequired bool          `json:"profileUpdateRequired"`
	ClaimStatus           []ClaimStatus `json:"claimStatus"`
}

func (a *uiAPI) claimDetails(c *gin.Context) {
	b, ok := a.bind(c)
	if !ok {
		return
	}
	var d *ClaimDetails
	var err error
	if bf, ok := a.flow.(boundFlow); ok {
		d, err = bf.claimDetailsBound(c.Request.Context(), b)
	} else {
		d, err = a.flow.ClaimDetails(c.Request.Context(), b.txID)
	}
	if err != nil {
		a.fail(c, err)
		return
	}
	a.ok(c, uiClaimDetailsResponse{TransactionID: b.txID, ConsentAction: d.ConsentAction,
		ProfileUpdateRequired: d.ProfileUpdateRequired, ClaimStatus: orEmpty(d.ClaimStatus)})
}

// ---- auth-code

// uiAuthCodeRequest is eSignet's AuthCodeRequest.
type uiAuthCodeRequest struct {
	TransactionID            string   `json:"transactionId"`
	AcceptedClaims           []string `json:"acceptedClaims"`
	PermittedAuthorizeScopes []string `json:"permittedAuthorizeScopes"`
}

// Validate checks what eSignet's AuthCodeRequest checks: a transaction and
// no blank claim or scope; the flow checks them against the request.
func (r *uiAuthCodeRequest) Validate() error {
	if strings.TrimSpace(r.TransactionID) == "" {
		return uiInvalid(uiCodeInvalidTransactionID, "transactionId is required")
	}
	if slices.ContainsFunc(r.AcceptedClaims, isBlank) {
		return uiInvalid(UIInvalidAcceptedClaim, "a claim is blank")
	}
	if slices.ContainsFunc(r.PermittedAuthorizeScopes, isBlank) {
		return uiInvalid(UIInvalidPermitted, "a scope is blank")
	}
	return nil
}

func (r *uiAuthCodeRequest) transactionID() string { return r.TransactionID }

func isBlank(s string) bool { return strings.TrimSpace(s) == "" }

// uiAuthCodeResponse is eSignet's AuthCodeResponse. oidc-ui redirects to
// redirectUri with code, state and iss (configs.issuer).
type uiAuthCodeResponse struct {
	Nonce       *string `json:"nonce"`
	State       *string `json:"state"`
	Code        string  `json:"code"`
	RedirectURI string  `json:"redirectUri"`
}

func (a *uiAPI) authCode(c *gin.Context) {
	b, ok := a.bind(c)
	if !ok {
		return
	}
	req, ok := parseBoundBody[uiAuthCodeRequest](a, c, b)
	if !ok {
		return
	}
	var res *AuthResponse
	var err error
	if bf, ok := a.flow.(boundFlow); ok {
		res, err = bf.authCodeBound(c.Request.Context(), b, req.AcceptedClaims, req.PermittedAuthorizeScopes)
	} else {
		res, err = a.flow.AuthCode(c.Request.Context(), b.txID, req.AcceptedClaims, req.PermittedAuthorizeScopes)
	}
	if err != nil {
		a.fail(c, err)
		return
	}
	a.ok(c, uiAuthCodeResponse{Nonce: nullable(res.Nonce), State: nullable(res.State), Code: res.Code,
		RedirectURI: res.RedirectURI})
}

// ---- helpers

// nullable is s, or nil (JSON null, as Jackson writes an unset member) when
// s is empty.
func nullable(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// orEmpty is s, or an empty slice (JSON []) when s is nil.
func orEmpty[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

// jsJSON encodes v as JSON, then re-encodes it as JavaScript's
// JSON.stringify(JSON.parse(text)) would: no spaces; in each object the
// array-index keys ("0", "1", ...) first in numeric order, then the others
// in order; numbers as JavaScript prints doubles; strings escaping only '"',
// '\' and control characters (lower-case \u00xx), everything else raw
// UTF-8. oidc-ui hashes exactly that text.
func jsJSON(v any) ([]byte, error) {
	raw, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	return jsJSONText(raw)
}

// jsJSONText re-encodes the JSON text raw as jsJSON does. It works on the
// text itself, without a decoder: most of it (encoding/json's output) is
// copied as it is.
func jsJSONText(raw []byte) ([]byte, error) {
	out, rest, err := appendJSValue(make([]byte, 0, len(raw)), raw)
	if err != nil {
		return nil, err
	}
	if len(skipJSONSpace(rest)) != 0 {
		return nil, errors.New("oidc: data after the JSON value")
	}
	return out, nil
}

var errJSONSyntax = errors.New("oidc: malformed JSON")

func skipJSONSpace(in []byte) []byte {
	for len(in) > 0 && (in[0] == ' ' || in[0] == '\t' || in[0] == '\n' || in[0] == '\r') {
		in = in[1:]
	}
	return in
}

// appendJSValue appends the JavaScript form of the JSON value at the start
// of in and returns what follows it.
func appendJSValue(out, in []byte) ([]byte, []byte, error) {
	in = skipJSONSpace(in)
	if len(in) == 0 {
		return nil, nil, errJSONSyntax
	}
	switch c := in[0]; {
	case c == '{':
		return appendJSObject(out, in[1:])
	case c == '[':
		return appendJSArray(out, in[1:])
	case c == '"':
		return appendJSStringToken(out, in)
	case c == 't' || c == 'f' || c == 'n':
		for _, lit := range []string{"true", "false", "null"} {
			if len(in) >= len(lit) && string(in[:len(lit)]) == lit {
				return append(out, lit...), in[len(lit):], nil
			}
		}
		return nil, nil, errJSONSyntax
	case c == '-' || c >= '0' && c <= '9':
		n := 0
		for n < len(in) && strings.IndexByte("+-.0123456789eE", in[n]) >= 0 {
			n++
		}
		out, err := appendJSNumberToken(out, in[:n])
		return out, in[n:], err
	}
	return nil, nil, errJSONSyntax
}

func appendJSArray(out, in []byte) ([]byte, []byte, error) {
	out = append(out, '[')
	in = skipJSONSpace(in)
	if len(in) > 0 && in[0] == ']' {
		return append(out, ']'), in[1:], nil
	}
	for {
		var err error
		if out, in, err = appendJSValue(out, in); err != nil {
			return nil, nil, err
		}
		in = skipJSONSpace(in)
		switch {
		case len(in) > 0 && in[0] == ',':
			out, in = append(out, ','), in[1:]
		case len(in) > 0 && in[0] == ']':
			return append(out, ']'), in[1:], nil
		default:
			return nil, nil, errJSONSyntax
		}
	}
}

// jsMember is an object member as appended: out[start:end] is
// "key":value, out[start:colon] the key.
type jsMember struct {
	start, colon, end int
	index             int64 // the key as an array index, or -1
}

// appendJSObject appends an object's members in order, then, if a key is
// an array index or repeats (rare), rewrites them in JavaScript's order.
func appendJSObject(out, in []byte) ([]byte, []byte, error) {
	out = append(out, '{')
	open := len(out)
	var buf [16]jsMember
	members := buf[:0]
	reorder := false
	in = skipJSONSpace(in)
	if len(in) > 0 && in[0] == '}' {
		return append(out, '}'), in[1:], nil
	}
	for {
		in = skipJSONSpace(in)
		if len(in) == 0 || in[0] != '"' {
			return nil, nil, errJSONSyntax
		}
		if len(members) > 0 {
			out = append(out, ',')
		}
		m := jsMember{start: len(out), index: -1}
		var err error
		if out, in, err = appendJSStringToken(out, in); err != nil {
			return nil, nil, err
		}
		m.colon = len(out)
		if key := out[m.start+1 : m.colon-1]; len(key) > 0 && key[0] >= '0' && key[0] <= '9' {
			if i, ok := jsArrayIndex(string(key)); ok {
				m.index, reorder = i, true
			}
		}
		for _, o := range members {
			if bytes.Equal(out[o.start:o.colon], out[m.start:m.colon]) {
				reorder = true
			}
		}
		in = skipJSONSpace(in)
		if len(in) == 0 || in[0] != ':' {
			return nil, nil, errJSONSyntax
		}
		out = append(out, ':')
		if out, in, err = appendJSValue(out, in[1:]); err != nil {
			return nil, nil, err
		}
		m.end = len(out)
		members = append(members, m)
		in = skipJSONSpace(in)
		switch {
		case len(in) > 0 && in[0] == ',':
			in = in[1:]
			continue
		case len(in) > 0 && in[0] == '}':
			in = in[1:]
		default:
			return nil, nil, errJSONSyntax
		}
		break
	}
	if reorder {
		out = reorderJSMembers(out, open, members)
	}
	return append(out, '}'), in, nil
}

// reorderJSMembers rewrites the members appended from out[open:] as
// JSON.parse then JSON.stringify order them: a repeated key keeps the place
// of its first occurrence and the value of its last; array-index keys come
// first, in numeric order.
func reorderJSMembers(out []byte, open int, members []jsMember) []byte {
	var kept []jsMember
	for _, m := range members {
		key := out[m.start:m.colon]
		if i := slices.IndexFunc(kept, func(k jsMember) bool { return bytes.Equal(out[k.start:k.colon], key) }); i >= 0 {
			kept[i].colon, kept[i].start, kept[i].end = m.colon, m.start, m.end
		} else {
			kept = append(kept, m)
		}
	}
	slices.SortStableFunc(kept, func(x, y jsMember) int {
		switch {
		case x.index >= 0 && y.index >= 0:
			return cmp.Compare(x.index, y.index)
		case x.index >= 0:
			return -1
		case y.index >= 0:
			return 1
		}
		return 0
	})
	text := make([]byte, 0, len(out)-open)
	for i, m := range kept {
		if i > 0 {
			text = append(text, ',')
		}
		text = append(text, out[m.start:m.end]...)
	}
	return append(out[:open], text...)
}

// appendJSStringToken appends the string token at the start of in (which
// starts with '"') as JSON.stringify writes it. A string with no escape and
// valid UTF-8 (encoding/json's output, but for < > & and U+2028/9) is
// copied as it is.
func appendJSStringToken(out, in []byte) ([]byte, []byte, error) {
	i := 1
	for i < len(in) && in[i] != '"' && in[i] != '\\' && in[i] >= 0x20 {
		i++
	}
	if i < len(in) && in[i] == '"' && utf8.Valid(in[1:i]) {
		return append(out, in[:i+1]...), in[i+1:], nil
	}
	var s []byte
	for i = 1; ; {
		if i >= len(in) {
			return nil, nil, errJSONSyntax
		}
		c := in[i]
		switch {
		case c == '"':
			return appendJSString(out, string(s)), in[i+1:], nil
		case c < 0x20:
			return nil, nil, errJSONSyntax
		case c != '\\':
			s = append(s, c)
			i++
			continue
		}
		if i+1 >= len(in) {
			return nil, nil, errJSONSyntax
		}
		switch e := in[i+1]; e {
		case '"', '\\', '/':
			s, i = append(s, e), i+2
		case 'b':
			s, i = append(s, '\b'), i+2
		case 'f':
			s, i = append(s, '\f'), i+2
		case 'n':
			s, i = append(s, '\n'), i+2
		case 'r':
			s, i = append(s, '\r'), i+2
		case 't':
			s, i = append(s, '\t'), i+2
		case 'u':
			r, ok := jsonHex4(in[i+2:])
			if !ok {
				return nil, nil, errJSONSyntax
			}
			i += 6
			if utf16.IsSurrogate(r) {
				// A pair makes one rune; a lone surrogate is U+FFFD, as
				// encoding/json decodes it.
				r2, ok := rune(-1), false
				if len(in) > i+1 && in[i] == '\\' && in[i+1] == 'u' {
					r2, ok = jsonHex4(in[i+2:])
				}
				if dec := utf16.DecodeRune(r, r2); ok && dec != utf8.RuneError {
					r, i = dec, i+6
				} else {
					r = utf8.RuneError
				}
			}
			s = utf8.AppendRune(s, r)
		default:
			return nil, nil, errJSONSyntax
		}
	}
}

// jsonHex4 reads the four hex digits of a \u escape.
func jsonHex4(b []byte) (rune, bool) {
	if len(b) < 4 {
		return 0, false
	}
	n, err := strconv.ParseUint(string(b[:4]), 16, 16)
	return rune(n), err == nil
}

// appendJSNumberToken writes a number token as JavaScript prints it: a
// small integer (15 digits or fewer: an exact double) as it is, others
// through appendJSNumber.
func appendJSNumberToken(out, tok []byte) ([]byte, error) {
	digits := tok
	if len(digits) > 0 && digits[0] == '-' {
		digits = digits[1:]
	}
	simple := len(digits) > 0 && len(digits) <= 15 && (digits[0] != '0' || len(digits) == 1) &&
		string(tok) != "-0"
	for _, c := range digits {
		simple = simple && c >= '0' && c <= '9'
	}
	if simple {
		return append(out, tok...), nil
	}
	if !json.Valid(tok) {
		return nil, errJSONSyntax
	}
	return appendJSNumber(out, json.Number(tok))
}

// jsArrayIndex reports whether JavaScript treats k as an array index: the
// canonical decimal form of an integer from 0 to 2^32-2.
func jsArrayIndex(k string) (int64, bool) {
	if k == "" || len(k) > 10 || (len(k) > 1 && k[0] == '0') {
		return 0, false
	}
	n, err := strconv.ParseUint(k, 10, 32)
	if err != nil || n == math.MaxUint32 || strconv.FormatUint(n, 10) != k {
		return 0, false
	}
	return int64(n), true
}

// appendJSString quotes s as JSON.stringify does (QuoteJSONString).
func appendJSString(out []byte, s string) []byte {
	const hex = "0123456789abcdef"
	out = append(out, '"')
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == '"':
			out = append(out, '\\', '"')
		case r == '\\':
			out = append(out, '\\', '\\')
		case r == '\b':
			out = append(out, '\\', 'b')
		case r == '\f':
			out = append(out, '\\', 'f')
		case r == '\n':
			out = append(out, '\\', 'n')
		case r == '\r':
			out = append(out, '\\', 'r')
		case r == '\t':
			out = append(out, '\\', 't')
		case r < 0x20:
			out = append(out, '\\', 'u', '0', '0', hex[r>>4], hex[r&0xf])
		case r == utf8.RuneError && size == 1:
			// Not produced by encoding/json, which replaces invalid UTF-8.
			out = append(out, "\uFFFD"...)
		default:
			out = append(out, s[i:i+size]...)
		}
		i += size
	}
	return append(out, '"')
}

// appendJSNumber writes n as JavaScript's Number::toString writes the
// double JSON.parse makes of it.
func appendJSNumber(out []byte, n json.Number) ([]byte, error) {
	f, err := strconv.ParseFloat(string(n), 64)
	if err != nil && !errors.Is(err, strconv.ErrRange) {
		return nil, err
	}
	switch {
	case math.IsInf(f, 0) || math.IsNaN(f):
		return append(out, "null"...), nil
	case f == 0:
		return append(out, '0'), nil
	}
	abs := math.Abs(f)
	if abs < 1e-6 || abs >= 1e21 {
		out = strconv.AppendFloat(out, f, 'e', -1, 64)
		// Go writes e-07 and e+07; JavaScript e-7 and e+7.
		if n := len(out); n >= 4 && out[n-4] == 'e' && (out[n-3] == '-' || out[n-3] == '+') && out[n-2] == '0' {
			out[n-2] = out[n-1]
			out = out[:n-1]
		}
		return out, nil
	}
	return strconv.AppendFloat(out, f, 'f', -1, 64), nil
}
