package oidc

import (
	"log/slog"
	"net/http"
)

// Further error codes of the authorization endpoint (RFC 6749 section
// 4.1.2.1, OpenID Connect Core section 3.1.2.6, RFC 9126, RFC 9396) and
// eSignet's.
const (
	CodeInvalidRedirectURI          = "invalid_redirect_uri"
	CodeInvalidScope                = "invalid_scope"
	CodeUnsupportedResponseType     = "unsupported_response_type"
	CodeRequestNotSupported         = "request_not_supported"
	CodeInvalidRequestURI           = "invalid_request_uri"
	CodeLoginRequired               = "login_required"
	CodeAccountSelectionRequired    = "account_selection_required"
	CodeAccessDenied                = "access_denied"
	CodeConsentRejected             = "consent_rejected"
	CodeInvalidAuthorizationDetails = "invalid_authorization_details"
	// CodeUnmetAuthenticationRequirements is an essential acr the provider
	// cannot satisfy (OpenID Connect Core Unmet Authentication
	// Requirements 1.0).
	CodeUnmetAuthenticationRequirements = "unmet_authentication_requirements"
)

// ErrInvalidRequestURI is a request_uri that is unknown, used, expired or
// another client's (400).
func ErrInvalidRequestURI(desc string, cause error) *Error {
	return newError(CodeInvalidRequestURI, http.StatusBadRequest, desc, cause)
}

const slogInfo = slog.LevelInfo

func attrClient(id string) slog.Attr   { return slog.String("client_id", id) }
func attrACRs(acrs []string) slog.Attr { return slog.Any("acr", acrs) }
func attrCode(code string) slog.Attr   { return slog.String("error", code) }
