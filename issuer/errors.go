package issuer

import (
	"errors"
	"log/slog"
	"net/http"

	"github.com/gin-gonic/gin"
)

// Error codes of OpenID4VCI 1.0 (sections 8.3.1.2, 7.3, 11.3), RFC 6750 and
// RFC 9449 that the issuer sends.
const (
	CodeInvalidCredentialRequest       = "invalid_credential_request"
	CodeUnknownCredentialConfiguration = "unknown_credential_configuration"
	CodeUnknownCredentialIdentifier    = "unknown_credential_identifier"
	CodeInvalidProof                   = "invalid_proof"
	CodeInvalidNonce                   = "invalid_nonce"
	CodeInvalidEncryptionParameters    = "invalid_encryption_parameters"
	CodeCredentialRequestDenied        = "credential_request_denied"
	CodeInvalidNotificationID          = "invalid_notification_id"
	CodeInvalidNotificationRequest     = "invalid_notification_request"
	CodeInvalidToken                   = "invalid_token"
	CodeInsufficientScope              = "insufficient_scope"
	CodeInvalidDPoPProof               = "invalid_dpop_proof"
	CodeInvalidRequest                 = "invalid_request"
	CodeInvalidGrant                   = "invalid_grant"
	CodeServerError                    = "server_error"
	CodeUnsupportedCredentialFormat    = "unsupported_credential_format" // draft 13
	CodeUnsupportedCredentialType      = "unsupported_credential_type"   // draft 13
)

// Error is an issuer protocol error. Code and Description go to the client
// (the description never echoes input or tells an attacker which check
// failed); Cause is logged, never sent.
//
// CNonce, when set, is sent as c_nonce / c_nonce_expires_in with the error
// (draft-13 wallets expect a fresh nonce with invalid_proof).
//
// errors.Is matches two *Error values by Code.
type Error struct {
	Code        string
	Description string
	Status      int
	Cause       error
	CNonce      string
	CNonceTTL   int64 // seconds
}

func (e *Error) Error() string {
	s := e.Code
	if e.Description != "" {
		s += ": " + e.Description
	}
	if e.Cause != nil {
		s += ": " + e.Cause.Error()
	}
	return s
}

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Cause }

// Is matches by code.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t != nil && t.Code == e.Code
}

// LogValue logs the code, description and cause.
func (e *Error) LogValue() slog.Value {
	attrs := []slog.Attr{slog.String("code", e.Code), slog.String("description", e.Description)}
	if e.Cause != nil {
		attrs = append(attrs, slog.String("cause", e.Cause.Error()))
	}
	return slog.GroupValue(attrs...)
}

// OAuthError gives the code, HTTP status and description, for a caller
// that renders the error in another package's format (the authorization
// server's token endpoint renders pre-authorized code errors this way).
func (e *Error) OAuthError() (code string, status int, description string) {
	return e.Code, e.Status, e.Description
}

func newError(code string, status int, desc string, cause error) *Error {
	return &Error{Code: code, Description: desc, Status: status, Cause: cause}
}

// errBadRequest is invalid_credential_request.
func errBadRequest(desc string, cause error) *Error {
	return newError(CodeInvalidCredentialRequest, http.StatusBadRequest, desc, cause)
}

// errProof is invalid_proof.
func errProof(desc string, cause error) *Error {
	return newError(CodeInvalidProof, http.StatusBadRequest, desc, cause)
}

// errToken is invalid_token (401).
func errToken(cause error) *Error {
	return newError(CodeInvalidToken, http.StatusUnauthorized, "access token is invalid", cause)
}

// errServer is server_error (500); the cause is only logged.
func errServer(cause error) *Error {
	return newError(CodeServerError, http.StatusInternalServerError, "internal error", cause)
}

// asError returns err as an *Error, wrapping anything else as server_error.
func asError(err error) *Error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	return errServer(err)
}

// writeError renders err as the JSON error response of OpenID4VCI with
// Cache-Control: no-store. Errors of access tokens (invalid_token,
// insufficient_scope, invalid_dpop_proof) also get a WWW-Authenticate
// header (RFC 6750 section 3, RFC 9449 section 7.1), with the scheme the
// token was presented with ("Bearer" or "DPoP").
func (is *Issuer) writeError(c *gin.Context, err error, scheme string) {
	e := asError(err)
	if e.Status >= 500 {
		is.log.ErrorContext(c.Request.Context(), "credential issuer error", "path", c.FullPath(), "error", e)
	} else {
		is.log.InfoContext(c.Request.Context(), "credential issuer request refused", "path", c.FullPath(), "error", e)
	}
	c.Header("Cache-Control", "no-store")
	switch e.Code {
	case CodeInvalidToken, CodeInsufficientScope, CodeInvalidDPoPProof:
		if scheme == "" {
			scheme = "Bearer"
		}
		v := scheme + ` error="` + e.Code + `"`
		if e.Description != "" {
			v += `, error_description="` + e.Description + `"`
		}
		if scheme == "DPoP" {
			v += ` algs="ES256 EdDSA PS256 RS256"`
		}
		c.Header("WWW-Authenticate", v)
	}
	body := gin.H{"error": e.Code}
	if e.Description != "" {
		body["error_description"] = e.Description
	}
	if e.CNonce != "" {
		body["c_nonce"] = e.CNonce
		body["c_nonce_expires_in"] = e.CNonceTTL
	}
	status := e.Status
	if status == 0 {
		status = http.StatusBadRequest
	}
	c.Header("Content-Type", "application/json")
	c.AbortWithStatusJSON(status, body)
}
