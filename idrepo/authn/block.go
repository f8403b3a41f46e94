package authn

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/sanad-id/sanad/storage"
)

// State keys, all under "authn:". Per-transaction entries are named by
// the SHA-256 of the transaction ID; per-individual entries by who, a keyed
// hash of the person (or of the login ID, when it names nobody).
const (
	kindOTP      = "otp"      // authn:otp:<tx>: the transaction's otpRecord
	kindSends    = "sends"    // authn:sends:<tx>: send-otp calls
	kindAttempts = "attempts" // authn:attempts:<tx>: authenticate calls
	kindBlock    = "block"    // authn:block:<who>: blocked until (unix µs)
	kindFailures = "failures" // authn:failures:<who>: failed authentications
)

// principal is whoever a login ID names, as far as this package needs to know.
type principal struct {
	person Person // meaningful when known
	known  bool   // the login ID names someone
	active bool   // known and ACTIVE: the only case that can authenticate
	// who names the individual in state keys and OTP hashes: a keyed hash
	// of the person id, or of the login ID when it names nobody, so that
	// unknown login IDs are counted and blocked like real people.
	who string
}

// logAttrs describes p for logs: the internal person id, never a login ID.
func (p principal) logAttrs() slog.Attr {
	if !p.known {
		return slog.Group("person", slog.Bool("known", false))
	}
	return slog.Group("person", slog.Bool("known", true), slog.String("id", p.person.ID), slog.String("status", p.person.Status))
}

// resolve looks the login ID up and names the individual.
func (a *Authenticator) resolve(ctx context.Context, loginID string) (principal, error) {
	var pr principal
	p, err := a.dir.Lookup(ctx, loginID)
	switch {
	case err == nil:
		if p.ID == "" || strings.ContainsRune(p.ID, 0) {
			return pr, errors.New("authn: directory returned a person without a usable id")
		}
		pr.person, pr.known, pr.active = p, true, p.Status == StatusActive
	case errors.Is(err, ErrInvalidIdentifier):
		return pr, newError(ErrInvalidIdentifier, nil)
	case errors.Is(err, storage.ErrNotFound):
	default:
		return pr, fmt.Errorf("authn: directory lookup: %w", err)
	}
	data := "who\x00login\x00" + canonicalLoginID(loginID)
	if pr.known {
		data = "who\x00person\x00" + p.ID
	}
	sum, err := a.mac.MAC(ctx, PurposeAuthnState, []byte(data))
	if err != nil {
		return pr, fmt.Errorf("authn: keyed hash: %w", err)
	}
	pr.who = base64.RawURLEncoding.EncodeToString(sum)
	return pr, nil
}

// canonicalLoginID folds the spellings of one unknown login ID together, as
// the Directory would for a real one (e-mail addresses are case-insensitive),
// so that a block does not behave differently for unknown login IDs.
func canonicalLoginID(loginID string) string {
	return strings.ToLower(strings.TrimSpace(loginID))
}

// txDigest names a transaction in state keys and OTP hashes.
func txDigest(transactionID string) string {
	sum := sha256.Sum256([]byte(transactionID))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

func stateKey(kind, id string) string { return "authn:" + kind + ":" + id }

// checkBlocked returns ErrIndividualBlocked while p is blocked.
func (a *Authenticator) checkBlocked(ctx context.Context, p principal) error {
	v, err := a.state.Get(ctx, stateKey(kindBlock, p.who))
	if errors.Is(err, storage.ErrNotFound) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("authn: read block: %w", err)
	}
	until, err := strconv.ParseInt(string(v), 10, 64)
	if err != nil {
		return fmt.Errorf("authn: read block: malformed entry: %w", err)
	}
	if a.now().UnixMicro() < until {
		return newError(ErrIndividualBlocked, nil)
	}
	return nil
}

// block blocks p for Policy.BlockDuration and restarts its failure count.
func (a *Authenticator) block(ctx context.Context, p principal, reason string) error {
	until := a.now().Add(a.policy.BlockDuration)
	v := []byte(strconv.FormatInt(until.UnixMicro(), 10))
	if err := a.state.Put(ctx, stateKey(kindBlock, p.who), v, a.policy.BlockDuration); err != nil {
		return fmt.Errorf("authn: block: %w", err)
	}
	if err := a.state.Delete(ctx, stateKey(kindFailures, p.who)); err != nil {
		return fmt.Errorf("authn: block: %w", err)
	}
	a.log.LogAttrs(ctx, slog.LevelWarn, "authn: individual blocked", p.logAttrs(),
		slog.String("reason", reason), slog.Time("until", until.UTC()))
	return nil
}

// countFailure counts a failed authentication of p and blocks p when it
// reaches Policy.MaxFailures. It reports whether p is now blocked.
func (a *Authenticator) countFailure(ctx context.Context, p principal) (bool, error) {
	n, err := a.state.Incr(ctx, stateKey(kindFailures, p.who), a.policy.FailureWindow)
	if err != nil {
		return false, fmt.Errorf("authn: count failure: %w", err)
	}
	if n < int64(a.policy.MaxFailures) {
		return false, nil
	}
	return true, a.block(ctx, p, "too many failed authentications")
}

// limitExceeded blocks p and voids the transaction's OTP after a transaction
// used up its calls, and returns ErrNoAttemptsLeft.
func (a *Authenticator) limitExceeded(ctx context.Context, p principal, txd, reason string) error {
	if err := a.block(ctx, p, reason); err != nil {
		return err
	}
	if err := a.state.Delete(ctx, stateKey(kindOTP, txd)); err != nil {
		return fmt.Errorf("authn: void otp: %w", err)
	}
	return newError(ErrNoAttemptsLeft, nil)
}

// sleep waits d or until ctx is done.
func sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
