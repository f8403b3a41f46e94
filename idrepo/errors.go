package idrepo

import (
	"net/http"
)

// Error codes, as sent in the "error" member of an admin API error.
const (
	CodeInvalidIdentity      = "invalid_identity"      // the identity fails the schema; Fields says where
	CodeInvalidUIN           = "invalid_uin"           // not a well-formed UIN (length, digits, check digit)
	CodeInvalidVID           = "invalid_vid"           // not a well-formed VID
	CodeInvalidLoginID       = "invalid_login_id"      // neither a UIN, a VID, a phone number nor an e-mail address
	CodeNotFound             = "not_found"             // no such resident or VID (or the VID can't be used)
	CodeDuplicateHandle      = "duplicate_handle"      // a phone number or e-mail address belongs to another resident
	CodeDuplicateUIN         = "duplicate_uin"         // an imported UIN exists already
	CodeVersionMismatch      = "version_mismatch"      // the record changed since the version the caller names
	CodePreconditionRequired = "precondition_required" // an update without If-Match
	CodeVIDLimitReached      = "vid_limit_reached"     // the resident has as many active VIDs of the type as allowed
	CodeIdentityInactive     = "identity_inactive"     // a VID was asked for a resident who is not ACTIVE
	CodeInvalidRequest       = "invalid_request"       // malformed request
	CodeServerError          = "server_error"          // anything else; the cause is logged, not sent
)

// Error is the ID repository's error: a code from the list above, a
// description safe to show to the caller, the fields at fault for
// invalid_identity and duplicate_handle, and an internal cause that is logged,
// never sent. Neither the description, the fields nor the cause ever hold
// personal data (UINs, VIDs, names, phone numbers, e-mail addresses), so an
// Error may be logged.
//
// Match codes with errors.Is against an Error naming the same code:
//
//	errors.Is(err, &idrepo.Error{Code: idrepo.CodeNotFound})
type Error struct {
	Code        string
	Description string
	Fields      []FieldError
	cause       error
}

func newError(code, description string) *Error {
	return &Error{Code: code, Description: description}
}

func (e *Error) withCause(err error) *Error {
	e.cause = err
	return e
}

func (e *Error) Error() string {
	s := "idrepo: " + e.Code
	if e.Description != "" {
		s += ": " + e.Description
	}
	if e.cause != nil {
		s += ": " + e.cause.Error()
	}
	return s
}

// Unwrap returns the internal cause.
func (e *Error) Unwrap() error { return e.cause }

// Is reports whether target is an *Error with the same code.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t.Code == e.Code
}

// HTTPStatus is the status the admin API answers with.
func (e *Error) HTTPStatus() int {
	switch e.Code {
	case CodeInvalidIdentity, CodeInvalidUIN, CodeInvalidVID, CodeInvalidLoginID, CodeInvalidRequest:
		return http.StatusBadRequest
	case CodeNotFound:
		return http.StatusNotFound
	case CodeDuplicateHandle, CodeDuplicateUIN, CodeVIDLimitReached, CodeIdentityInactive:
		return http.StatusConflict
	case CodeVersionMismatch:
		return http.StatusPreconditionFailed
	case CodePreconditionRequired:
		return http.StatusPreconditionRequired
	}
	return http.StatusInternalServerError
}

func errNotFound(what string) *Error { return newError(CodeNotFound, "no such "+what) }

func errServer(cause error) *Error {
	return newError(CodeServerError, "internal error").withCause(cause)
}
