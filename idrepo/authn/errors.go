package authn

// Error is an authentication error with an eSignet error code. Code and
// Description are safe to show to the resident; Err, the internal cause, is
// for logs only. Match with errors.Is against the sentinel values below: two
// Errors match when their codes are equal.
//
// Authentication failures ([ErrAuthFailed]) never carry a cause, so that a
// wrong factor and an unknown person are the same value.
type Error struct {
	Code        string
	Description string
	Err         error
}

// Sentinel errors, one per code. Returned errors are fresh values; match them
// with errors.Is.
var (
	// ErrAuthFailed: a factor did not verify, or the login ID names nobody who
	// can authenticate. Which one is deliberately not said.
	ErrAuthFailed = &Error{Code: "auth_failed", Description: "authentication failed"}
	// ErrNoAttemptsLeft: the transaction used up its send-otp or authenticate
	// calls; the individual is now blocked.
	ErrNoAttemptsLeft = &Error{Code: "no_attempts_left", Description: "no attempts left"}
	// ErrIndividualBlocked: too many failures; the individual is blocked for a while.
	ErrIndividualBlocked = &Error{Code: "individual_id_blocked", Description: "individual is blocked, try again later"}
	// ErrInvalidIdentifier: the login ID is empty or malformed.
	ErrInvalidIdentifier = &Error{Code: "invalid_identifier", Description: "invalid individual id"}
	// ErrInvalidOTPChannel: an unknown channel was requested, or the person
	// has no destination on a requested channel.
	ErrInvalidOTPChannel = &Error{Code: "invalid_otp_channel", Description: "invalid otp channel"}
	// ErrAuthFactorMismatch: the challenge list is empty, repeats a factor,
	// names an unsupported factor or uses a wrong format.
	ErrAuthFactorMismatch = &Error{Code: "auth_factor_mismatch", Description: "auth factor mismatch"}
	// ErrSendOTPFailed: the OTP could not be delivered on any channel.
	ErrSendOTPFailed = &Error{Code: "send_otp_failed", Description: "failed to send otp"}
	// ErrOTPResendTooSoon: an OTP was sent in this transaction less than
	// Policy.ResendDelay ago.
	ErrOTPResendTooSoon = &Error{Code: "otp_resend_too_soon", Description: "otp resend requested too soon"}
	// ErrInvalidTransaction: the transaction ID is empty or too long.
	ErrInvalidTransaction = &Error{Code: "invalid_transaction", Description: "invalid transaction"}
	// ErrInvalidRequest: another argument is malformed (a new PIN or password
	// breaking the format rules, an empty sector or person id).
	ErrInvalidRequest = &Error{Code: "invalid_request", Description: "invalid request"}
)

// newError returns a fresh Error with the sentinel's code and description.
func newError(sentinel *Error, cause error) *Error {
	return &Error{Code: sentinel.Code, Description: sentinel.Description, Err: cause}
}

// invalidRequest returns a fresh ErrInvalidRequest with a safe description.
func invalidRequest(description string) *Error {
	return &Error{Code: ErrInvalidRequest.Code, Description: description}
}

func (e *Error) Error() string {
	s := "authn: " + e.Code + ": " + e.Description
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

// Unwrap returns the internal cause.
func (e *Error) Unwrap() error { return e.Err }

// Is reports whether target is an *Error with the same code.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t != nil && t.Code == e.Code
}
