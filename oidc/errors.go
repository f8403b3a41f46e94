package oidc

import (
	"errors"
	"log/slog"
	"net/http"
)

// OAuth and eSignet error codes used by the provider (RFC 6749 section 5.2,
// RFC 9449, RFC 7636; eSignet's use_pkce and invalid_pkce_challenge).
const (
	CodeInvalidRequest       = "invalid_request"
	CodeInvalidClient        = "invalid_client"
	CodeInvalidGrant         = "invalid_grant"
	CodeUnauthorizedClient   = "unauthorized_client"
	CodeInvalidToken         = "invalid_token"
	CodeInvalidDPoPProof     = "invalid_dpop_proof"
	CodeUseDPoPNonce         = "use_dpop_nonce"
	CodeUsePKCE              = "use_pkce"
	CodeInvalidPKCEChallenge = "invalid_pkce_challenge"
	CodeServerError          = "server_error"
)

// Error is a protocol error. Code and Description are sent to the client
// (Description is written for that: it never echoes input or says which
// check failed where that would help an attacker); Cause is the internal
// reason, logged and never sent. Status is the HTTP status of the error
// response at the endpoint that produced it; a resource server renders
// DPoP errors with 401 and a WWW-Authenticate header instead.
//
// errors.Is matches two *Error values by Code alone, so
// errors.Is(err, &Error{Code: CodeInvalidClient}) tells the kind of error.
type Error struct {
	Code        string
	Description string
	Status      int
	Cause       error
	// DPoPNonce is set on use_dpop_nonce errors: the fresh nonce to send
	// in the DPoP-Nonce response header (RFC 9449, section 8).
	DPoPNonce string
}

// Error is for logs: it includes the cause.
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

// Unwrap returns the internal cause.
func (e *Error) Unwrap() error { return e.Cause }

// Is reports whether target is an *Error with the same code.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t != nil && t.Code == e.Code
}

// LogValue logs the code, description and cause; it holds no secret.
func (e *Error) LogValue() slog.Value {
	attrs := []slog.Attr{slog.String("code", e.Code), slog.String("description", e.Description)}
	if e.Cause != nil {
		attrs = append(attrs, slog.String("cause", e.Cause.Error()))
	}
	return slog.GroupValue(attrs...)
}

// HasCode reports whether err is, or wraps, an *Error with code.
func HasCode(err error, code string) bool {
	var e *Error
	return errors.As(err, &e) && e.Code == code
}

func newError(code string, status int, desc string, cause error) *Error {
	return &Error{Code: code, Description: desc, Status: status, Cause: cause}
}

// ErrInvalidRequest is a malformed or incomplete request (400).
func ErrInvalidRequest(desc string, cause error) *Error {
	return newError(CodeInvalidRequest, http.StatusBadRequest, desc, cause)
}

// ErrInvalidClient is a failed client authentication (401). Every failure
// carries the same description so that the response does not tell which
// check failed.
func ErrInvalidClient(cause error) *Error {
	return newError(CodeInvalidClient, http.StatusUnauthorized, "client authentication failed", cause)
}

// ErrInvalidGrant is an invalid, expired, used or mismatched grant (400).
func ErrInvalidGrant(desc string, cause error) *Error {
	return newError(CodeInvalidGrant, http.StatusBadRequest, desc, cause)
}

// ErrUnauthorizedClient is a client not allowed to use a grant or feature (400).
func ErrUnauthorizedClient(desc string, cause error) *Error {
	return newError(CodeUnauthorizedClient, http.StatusBadRequest, desc, cause)
}

// ErrInvalidToken is an access token that is invalid or not bound to the
// presented proof (401, RFC 6750 section 3.1).
func ErrInvalidToken(desc string, cause error) *Error {
	return newError(CodeInvalidToken, http.StatusUnauthorized, desc, cause)
}

// ErrInvalidDPoPProof is a DPoP proof that fails verification (400, RFC 9449
// section 5).
func ErrInvalidDPoPProof(desc string, cause error) *Error {
	return newError(CodeInvalidDPoPProof, http.StatusBadRequest, desc, cause)
}

// ErrUseDPoPNonce asks the client to retry with the server nonce nonce
// (400 at the token endpoint, RFC 9449 section 8).
func ErrUseDPoPNonce(nonce string, cause error) *Error {
	e := newError(CodeUseDPoPNonce, http.StatusBadRequest, "authorization server requires nonce in DPoP proof", cause)
	e.DPoPNonce = nonce
	return e
}

// ErrUsePKCE is an authorization request without a PKCE challenge from a
// client that must send one (400).
func ErrUsePKCE(desc string, cause error) *Error {
	return newError(CodeUsePKCE, http.StatusBadRequest, desc, cause)
}

// ErrInvalidPKCEChallenge is a code_challenge that is not a valid S256
// challenge (400).
func ErrInvalidPKCEChallenge(desc string, cause error) *Error {
	return newError(CodeInvalidPKCEChallenge, http.StatusBadRequest, desc, cause)
}

// ErrServerError is an internal failure, such as a storage outage (500).
// Its description says nothing about the cause.
func ErrServerError(cause error) *Error {
	return newError(CodeServerError, http.StatusInternalServerError, "internal error", cause)
}
