package authn

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"time"

	"github.com/sanad-id/sanad/storage"
)

// Factor types (eSignet's authFactorType).
const (
	FactorOTP      = "OTP"
	FactorPIN      = "PIN"
	FactorPassword = "PWD"
	FactorKBI      = "KBI"
)

// factorSpec is what a factor type accepts and reports.
type factorSpec struct {
	format string // eSignet's challenge format; an empty Format is accepted too
	amr    string // RFC 8176 authentication method reference
}

var factorSpecs = map[string]factorSpec{
	FactorOTP:      {format: "alpha-numeric", amr: "otp"},
	FactorPIN:      {format: "number", amr: "pin"},
	FactorPassword: {format: "alpha-numeric", amr: "pwd"},
	FactorKBI:      {format: "base64url-encoded-json", amr: "kba"},
}

// maxChallengeBytes bounds one challenge's value.
const maxChallengeBytes = maxKBIBytes

// Challenge is one factor of an authentication.
type Challenge struct {
	// Factor is FactorOTP, FactorPIN, FactorPassword or FactorKBI.
	Factor string
	// Value is the OTP, PIN or password, or for KBI base64url of a JSON
	// object of answers keyed by identity field name.
	Value string
	// Format is eSignet's format of the factor ("alpha-numeric" for OTP and
	// PWD, "number" for PIN, "base64url-encoded-json" for KBI), or empty.
	Format string
}

// String describes c without its value.
func (c Challenge) String() string {
	return fmt.Sprintf("authn.Challenge{Factor: %s, Value: [redacted], Format: %s}", c.Factor, c.Format)
}

// GoString redacts c in %#v like String.
func (c Challenge) GoString() string { return c.String() }

// LogValue logs c without its value.
func (c Challenge) LogValue() slog.Value {
	return slog.GroupValue(slog.String("factor", c.Factor), slog.String("format", c.Format))
}

// AuthRequest asks to authenticate a person with a list of factors
// (eSignet's authenticate), all of which must verify.
type AuthRequest struct {
	TransactionID string
	// LoginID is a UIN, a VID or a handle.
	LoginID string
	// ClientID is the relying party, for logs.
	ClientID string
	// Sector identifies the relying party's pairwise subject space (OpenID
	// Connect Core §8.1): its sector identifier host, or its client id.
	Sector     string
	Challenges []Challenge
}

// Validate checks the request's syntax: ErrInvalidTransaction,
// ErrInvalidIdentifier, ErrInvalidRequest (no sector) or
// ErrAuthFactorMismatch (no challenge, an unsupported or repeated factor,
// a wrong format, an oversized value).
func (r AuthRequest) Validate() error {
	if !validTransactionID(r.TransactionID) {
		return newError(ErrInvalidTransaction, nil)
	}
	if !validLoginID(r.LoginID) {
		return newError(ErrInvalidIdentifier, nil)
	}
	if r.Sector == "" {
		return invalidRequest("sector is required")
	}
	if len(r.Challenges) == 0 || len(r.Challenges) > len(factorSpecs) {
		return newError(ErrAuthFactorMismatch, nil)
	}
	for i, c := range r.Challenges {
		spec, ok := factorSpecs[c.Factor]
		if !ok || (c.Format != "" && c.Format != spec.format) || len(c.Value) > maxChallengeBytes {
			return newError(ErrAuthFactorMismatch, nil)
		}
		if slices.IndexFunc(r.Challenges, func(d Challenge) bool { return d.Factor == c.Factor }) != i {
			return newError(ErrAuthFactorMismatch, nil)
		}
	}
	return nil
}

// String describes r without the login ID or the challenge values.
func (r AuthRequest) String() string {
	return fmt.Sprintf("authn.AuthRequest{TransactionID: %s, LoginID: [redacted], ClientID: %s, Sector: %s, Challenges: %v}",
		r.TransactionID, r.ClientID, r.Sector, r.Challenges)
}

// GoString redacts r in %#v like String.
func (r AuthRequest) GoString() string { return r.String() }

// LogValue logs r without the login ID or the challenge values.
func (r AuthRequest) LogValue() slog.Value {
	return slog.GroupValue(slog.String("client_id", r.ClientID), slog.String("sector", r.Sector),
		slog.Any("factors", r.factors()))
}

func (r AuthRequest) factors() []string {
	out := make([]string, len(r.Challenges))
	for i, c := range r.Challenges {
		out[i] = c.Factor
	}
	return out
}

// Result is a successful authentication.
type Result struct {
	// PersonID is the resident's internal id (never the UIN).
	PersonID string
	// Subject is the pairwise subject for the request's Sector.
	Subject string
	// Factors are the RFC 8176 amr values of the verified factors, in
	// challenge order: "otp", "pin", "pwd", "kba".
	Factors []string
	// AuthTime is when the authentication succeeded.
	AuthTime time.Time
	// Identity is the person's identity data as the Directory returned it,
	// for the claims the provider releases with the resident's consent. It
	// is personal data: never log it.
	Identity map[string]any
}

// LogValue logs r without the identity data.
func (r Result) LogValue() slog.Value {
	return slog.GroupValue(slog.String("person", r.PersonID), slog.Any("amr", r.Factors))
}

// Authenticate verifies every challenge against the person the login ID
// names. A verified OTP is consumed: it authenticates once.
//
// Errors: ErrInvalidTransaction, ErrInvalidIdentifier, ErrInvalidRequest,
// ErrAuthFactorMismatch (see AuthRequest.Validate), ErrIndividualBlocked,
// ErrNoAttemptsLeft (the transaction's Policy.MaxAttempts are used up; the
// individual is now blocked), ErrAuthFailed (a factor did not verify, or
// nobody who can authenticate has that login ID: which one is not said);
// anything else is an internal failure.
func (a *Authenticator) Authenticate(ctx context.Context, req AuthRequest) (Result, error) {
	if err := req.Validate(); err != nil {
		return Result{}, err
	}
	pr, err := a.resolve(ctx, req.LoginID)
	if err != nil {
		return Result{}, err
	}
	if err := a.checkBlocked(ctx, pr); err != nil {
		return Result{}, err
	}
	txd := txDigest(req.TransactionID)
	n, err := a.state.Incr(ctx, stateKey(kindAttempts, txd), a.policy.TransactionTTL)
	if err != nil {
		return Result{}, fmt.Errorf("authn: count attempts: %w", err)
	}
	if n > int64(a.policy.MaxAttempts) {
		return Result{}, a.limitExceeded(ctx, pr, txd, "authenticate limit of the transaction")
	}

	ok, failed, seenOTP, err := a.verify(ctx, req, pr, txd)
	if err != nil {
		return Result{}, err
	}
	if ok && seenOTP != nil {
		if ok, err = a.consumeOTP(ctx, txd, seenOTP); err != nil {
			return Result{}, err
		}
		if !ok {
			failed = append(failed, FactorOTP)
		}
	}
	if c, isConsumer := a.dir.(LoginIDConsumer); ok && isConsumer {
		err := c.ConsumeLoginID(ctx, req.LoginID)
		switch {
		case errors.Is(err, storage.ErrNotFound):
			ok, failed = false, append(failed, "login-id")
		case err != nil:
			return Result{}, fmt.Errorf("authn: consume login id: %w", err)
		}
	}
	if !ok {
		blocked, err := a.countFailure(ctx, pr)
		if err != nil {
			return Result{}, err
		}
		a.log.LogAttrs(ctx, slog.LevelInfo, "authn: authentication failed", pr.logAttrs(),
			slog.String("client_id", req.ClientID), slog.Any("factors", req.factors()),
			slog.Any("failed", failed), slog.Bool("blocked", blocked))
		return Result{}, newError(ErrAuthFailed, nil)
	}

	if err := a.state.Delete(ctx, stateKey(kindFailures, pr.who)); err != nil {
		return Result{}, fmt.Errorf("authn: reset failures: %w", err)
	}
	sub, err := a.PairwiseSubject(ctx, req.Sector, pr.person.ID)
	if err != nil {
		return Result{}, err
	}
	res := Result{PersonID: pr.person.ID, Subject: sub, AuthTime: a.now(), Identity: pr.person.Identity}
	for _, c := range req.Challenges {
		res.Factors = append(res.Factors, factorSpecs[c.Factor].amr)
	}
	a.log.LogAttrs(ctx, slog.LevelInfo, "authn: authenticated", pr.logAttrs(),
		slog.String("client_id", req.ClientID), slog.Any("amr", res.Factors))
	return res, nil
}

// verify checks every challenge, failed or not, so that the work does not
// depend on which one fails. It returns whether all verified, the factors
// that did not (for logs), and the OTP record read, if an OTP verified.
func (a *Authenticator) verify(ctx context.Context, req AuthRequest, pr principal, txd string) (bool, []string, []byte, error) {
	all := pr.active
	var failed []string
	var seenOTP []byte
	for _, c := range req.Challenges {
		var ok bool
		var err error
		switch c.Factor {
		case FactorOTP:
			var seen []byte
			ok, seen, err = a.checkOTP(ctx, txd, pr.who, c.Value)
			if ok {
				seenOTP = seen
			}
		case FactorPIN:
			ok, err = a.checkSecret(ctx, pr, kindPIN, c.Value)
		case FactorPassword:
			ok, err = a.checkSecret(ctx, pr, kindPassword, c.Value)
		case FactorKBI:
			ok = a.checkKBI(pr, c.Value)
		}
		if err != nil {
			return false, nil, nil, err
		}
		if !ok {
			failed = append(failed, c.Factor)
		}
		all = all && ok
	}
	if !all {
		seenOTP = nil
	}
	return all, failed, seenOTP, nil
}
