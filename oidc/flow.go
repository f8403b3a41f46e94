package oidc

import (
	"context"
	"log/slog"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/sanad-id/sanad/idrepo/authn"
)

// A login transaction is one authorization request on its way to a code:
//
//	/authorize or PAR ──StartTransaction──▶ NEW ──Authenticate──▶ AUTHENTICATED ──AuthCode──▶ (code issued, transaction gone)
//	                                         │                        │
//	                                         └────────Abort───────────┴──▶ error redirect (access_denied, consent_rejected)
//
// Two front ends drive it: the login pages Sanad serves (pages.go) and
// eSignet's UI API (uiapi.go), which MOSIP's own oidc-ui calls. Both go
// through LoginFlow, so they enforce the same rules; neither reads the
// transaction store directly.

// Consent actions, as eSignet's authenticate response names them.
const (
	ConsentCapture   = "CAPTURE"   // the resident must be asked
	ConsentNoCapture = "NOCAPTURE" // a stored consent covers the request, or nothing needs consent
)

// LoginFlow is what the login pages and eSignet's UI API drive. *Provider
// implements it; tests of the front ends may use a fake.
//
// Every method taking a transaction id fails with invalid_transaction (an
// *UIError) when the transaction is unknown, expired or in the wrong state.
// Resident-side failures are *UIError values with eSignet's error codes;
// authentication errors are authn's (*authn.Error), passed through.
type LoginFlow interface {
	// StartTransaction validates an authorization request and opens a
	// transaction for it. If the request is bad but its client and
	// redirect_uri are trustworthy, the error is an *AuthorizeError whose
	// Redirect is the error response to send the browser to; otherwise
	// (unknown client, unregistered redirect_uri) it is an *AuthorizeError
	// without Redirect, to be shown on a page, never redirected.
	StartTransaction(ctx context.Context, req AuthorizationRequest) (*TxView, error)
	// StartPARTransaction opens a transaction for a pushed request
	// (request_uri, from PAR), consuming the request_uri. Errors as
	// StartTransaction.
	StartPARTransaction(ctx context.Context, clientID, requestURI string) (*TxView, error)
	// Transaction returns the view of an open transaction.
	Transaction(ctx context.Context, txID string) (*TxView, error)
	// SendOTP sends an OTP to the resident the login ID names.
	SendOTP(ctx context.Context, txID, loginID string, channels []string) (authn.SendOTPResult, error)
	// Authenticate verifies the challenges, which must satisfy one whole
	// factor list of TxView.AuthFactors (else auth_factor_mismatch), and
	// moves the transaction to AUTHENTICATED. It returns ConsentCapture or
	// ConsentNoCapture.
	Authenticate(ctx context.Context, txID, loginID string, challenges []authn.Challenge) (consentAction string, err error)
	// ClaimDetails lists the requested claims and whether the authenticated
	// resident has them (eSignet's claim-details).
	ClaimDetails(ctx context.Context, txID string) (*ClaimDetails, error)
	// AuthCode ends an AUTHENTICATED transaction: it records the consent
	// (when one was captured), issues the authorization code and returns the
	// response to redirect the browser to. acceptedClaims must include every
	// essential claim (else invalid_accepted_claim); unknown names are
	// invalid_accepted_claim too. With ConsentNoCapture the stored consent's
	// claims are used and the arguments must be empty or equal to them.
	AuthCode(ctx context.Context, txID string, acceptedClaims, permittedScopes []string) (*AuthResponse, error)
	// Abort ends a transaction at the resident's request: errorCode is
	// access_denied (cancelled) or consent_rejected (declined consent). It
	// returns the error response to redirect to.
	Abort(ctx context.Context, txID, errorCode, description string) (*AuthResponse, error)
}

// Transaction states.
const (
	TxNew           = "NEW"
	TxAuthenticated = "AUTHENTICATED"
)

// TxView is an open transaction as the login front ends see it: eSignet's
// oauth-details response plus what Sanad's pages need. It holds no secret of
// the resident.
type TxView struct {
	TransactionID string
	State         string // TxNew, TxAuthenticated
	ClientID      string
	// ClientName by ISO 639-3 language code, and "@none" for the default name.
	ClientName map[string]string
	LogoURL    string
	// RedirectURI is the client's redirect URI for this request; the login
	// UI shows its host.
	RedirectURI string
	// AuthFactors are the factor lists that may satisfy the request, in the
	// order of preference; signing in takes every factor of one list.
	AuthFactors [][]AuthFactor
	// AuthorizeScopes are the scopes besides openid and the standard claim
	// scopes that the resident must permit (eSignet's authorizeScopes).
	AuthorizeScopes  []string
	CredentialScopes []string
	// EssentialClaims and VoluntaryClaims are the claims requested and
	// registered by the client, sorted.
	EssentialClaims []string
	VoluntaryClaims []string
	// ClaimsPurpose is the claims parameter's purpose texts, if any.
	Purpose *ClientPurpose
	// UILocales and ClaimsLocales are the request's preferences, ISO 639-3
	// where they could be mapped, in order.
	UILocales     []string
	ClaimsLocales []string
	// Prompt is the request's prompt values (login, consent).
	Prompt []string
	// Configs are eSignet's UI configs (OTP length, resend delay, limits).
	Configs map[string]any
	// FormToken is the transaction's anti-CSRF token for the login pages'
	// forms: random, compared in constant time.
	FormToken string
	// ConsentAction is set once authenticated.
	ConsentAction string
	// OAuthDetailsHashes are the oauth-details-hash values that bind
	// eSignet UI API calls to the transaction (uiapi.go): the hash of its
	// oauth-details response in the shape of v2 and v3, and in v1's. The
	// flow makes them when the transaction opens (oauthDetailsBinding) and
	// keeps them with it, so that a bound call compares instead of
	// re-encoding the response, and so that an edit of the client during
	// the sign-in changes neither the response nor its hash. A flow that
	// leaves them empty has them recomputed from the view on every bound
	// call.
	OAuthDetailsHashes []string

	// oauthDetails are the responses the hashes are of, as sent (v2 and
	// v3's, v1's); only StartTransaction and StartPARTransaction set them,
	// so that oauth-details sends what was hashed without encoding it again.
	oauthDetails [2][]byte
}

// AuthFactor is one factor of a factor list (eSignet's authFactors entry).
type AuthFactor struct {
	Type     string   `json:"type"`     // OTP, PIN, PWD, KBI
	Count    int      `json:"count"`    // 0
	SubTypes []string `json:"subTypes"` // null
}

// ClaimDetails is eSignet's claim-details response.
type ClaimDetails struct {
	TransactionID         string
	ConsentAction         string
	ProfileUpdateRequired bool
	ClaimStatus           []ClaimStatus
}

// ClaimStatus says whether the resident has a requested claim.
type ClaimStatus struct {
	Claim     string `json:"claim"`
	Verified  bool   `json:"verified"`
	Available bool   `json:"available"`
	Essential bool   `json:"-"`
}

// AuthResponse is where the browser goes at the end of a transaction: the
// client's redirect URI with either code or error, plus state and iss
// (RFC 9207), in response_mode=query.
type AuthResponse struct {
	RedirectURI      string
	Code             string
	State            string
	Nonce            string
	Error            string
	ErrorDescription string
	Issuer           string
}

// URL is the complete redirect: RedirectURI with the response parameters
// added to its query.
func (r *AuthResponse) URL() string { return r.url() }

// UIError is a resident-side error with an eSignet error code
// (invalid_transaction, invalid_accepted_claim, invalid_permitted_scope,
// unknown_error, ...). Description is safe to show.
type UIError struct {
	Code        string
	Description string
	Cause       error
}

func (e *UIError) Error() string {
	s := e.Code + ": " + e.Description
	if e.Cause != nil {
		s += ": " + e.Cause.Error()
	}
	return s
}

// Unwrap returns the internal cause.
func (e *UIError) Unwrap() error { return e.Cause }

// Is matches by code.
func (e *UIError) Is(target error) bool {
	t, ok := target.(*UIError)
	return ok && t != nil && t.Code == e.Code
}

// eSignet UI error codes used by the flow.
const (
	UIInvalidTransaction   = "invalid_transaction"
	UIInvalidAcceptedClaim = "invalid_accepted_claim"
	UIInvalidPermitted     = "invalid_permitted_scope"
	UIInvalidRequest       = "invalid_request"
	UIUnknownError         = "unknown_error"
)

// AuthorizeError is an authorization request that cannot proceed. With
// Redirect set, the client and redirect URI were verified and the browser
// goes back to the client with the error; without, the error is shown on a
// page (RFC 6749 section 4.1.2.1).
type AuthorizeError struct {
	Err      *Error
	Redirect *AuthResponse
}

func (e *AuthorizeError) Error() string { return e.Err.Error() }

// Unwrap returns the protocol error.
func (e *AuthorizeError) Unwrap() error { return e.Err }

// frontEndOptions configure the login pages (pages.go) and eSignet's UI API
// (uiapi.go).
type frontEndOptions struct {
	// Issuer is the issuer identifier (public base URL).
	Issuer string
	// Languages are the UI languages, ISO 639-3, the default first.
	Languages []string
	// RateLimit is the per-IP rate limit to put on every login endpoint
	// that accepts input (send-otp, authenticate); nil for none.
	RateLimit gin.HandlerFunc
	// SecureCookies sets the Secure attribute (an https issuer).
	SecureCookies bool
	// OTPLength, ResendDelay are shown to the resident.
	OTPLength   int
	ResendDelay time.Duration
	Now         func() time.Time
	Logger      *slog.Logger
}

func (p *Provider) frontEndOptions() frontEndOptions {
	return frontEndOptions{
		Issuer:        p.issuer,
		Languages:     p.cfg.Languages,
		RateLimit:     p.RateLimit(),
		SecureCookies: strings.HasPrefix(p.issuer, "https://"),
		OTPLength:     p.cfg.OTPLength,
		ResendDelay:   p.cfg.OTPResendDelay,
		Now:           p.now,
		Logger:        p.log,
	}
}
