package authn

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"math/big"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/sanad-id/sanad/idrepo/notify"
	"github.com/sanad-id/sanad/storage"
)

// Limits on identifiers from outside.
const (
	maxTransactionIDBytes = 256
	maxLoginIDBytes       = 256
)

// maxDecoyDelay caps how long send-otp for an unknown login ID waits to look
// like a delivery.
const maxDecoyDelay = 5 * time.Second

// SendOTPRequest asks for an OTP (eSignet's send-otp).
type SendOTPRequest struct {
	// TransactionID is the OpenID provider's transaction; the OTP is bound to it.
	TransactionID string
	// LoginID is a UIN, a VID or a handle.
	LoginID string
	// Channels are "email" and/or "phone".
	Channels []string
	// Language is the ISO 639-3 code of the message (eng, fra, ara); the
	// notifier's default when empty or not such a code.
	Language string
	// ClientID is the relying party, for logs.
	ClientID string
}

// Validate checks the request's syntax: ErrInvalidTransaction,
// ErrInvalidIdentifier or ErrInvalidOTPChannel.
func (r SendOTPRequest) Validate() error {
	if !validTransactionID(r.TransactionID) {
		return newError(ErrInvalidTransaction, nil)
	}
	if !validLoginID(r.LoginID) {
		return newError(ErrInvalidIdentifier, nil)
	}
	if len(r.Channels) == 0 {
		return newError(ErrInvalidOTPChannel, nil)
	}
	for i, c := range r.Channels {
		if (c != string(notify.Email) && c != string(notify.Phone)) || slices.Index(r.Channels, c) != i {
			return newError(ErrInvalidOTPChannel, nil)
		}
	}
	return nil
}

// String describes r without the login ID.
func (r SendOTPRequest) String() string {
	return fmt.Sprintf("authn.SendOTPRequest{TransactionID: %s, LoginID: [redacted], Channels: %v, Language: %s, ClientID: %s}",
		r.TransactionID, r.Channels, r.Language, r.ClientID)
}

// GoString redacts r in %#v like String.
func (r SendOTPRequest) GoString() string { return r.String() }

// LogValue logs r without the login ID.
func (r SendOTPRequest) LogValue() slog.Value {
	return slog.GroupValue(slog.Any("channels", r.Channels), slog.String("language", r.Language),
		slog.String("client_id", r.ClientID))
}

// SendOTPResult says where the OTP went, masked (notify.MaskEmail,
// notify.MaskPhone); a field is empty when its channel was not requested.
type SendOTPResult struct {
	MaskedEmail string
	MaskedPhone string // eSignet's maskedMobile
}

// otpRecord is a transaction's OTP as stored in State.
type otpRecord struct {
	Hash    []byte `json:"h"` // keyed hash of transaction, individual and code
	Sent    int64  `json:"s"` // unix µs
	Expires int64  `json:"e"` // unix µs
}

// SendOTP sends a fresh OTP to the person the login ID names, on the
// requested channels, and binds it to the transaction. A new OTP replaces
// the previous one; ErrOTPResendTooSoon within Policy.ResendDelay of it.
//
// Errors: ErrInvalidTransaction, ErrInvalidIdentifier, ErrInvalidOTPChannel,
// ErrIndividualBlocked, ErrOTPResendTooSoon, ErrNoAttemptsLeft (the
// transaction's Policy.MaxSends are used up; the individual is now
// blocked), ErrSendOTPFailed; anything else is an internal failure.
//
// For a login ID that names nobody, or a person who is not ACTIVE, SendOTP
// sends nothing but otherwise behaves as for a real person and returns
// plausible masked destinations (see the package documentation).
func (a *Authenticator) SendOTP(ctx context.Context, req SendOTPRequest) (SendOTPResult, error) {
	if err := req.Validate(); err != nil {
		return SendOTPResult{}, err
	}
	pr, err := a.resolve(ctx, req.LoginID)
	if err != nil {
		return SendOTPResult{}, err
	}
	if err := a.checkBlocked(ctx, pr); err != nil {
		return SendOTPResult{}, err
	}
	var dests []destination
	if pr.active {
		if dests, err = destinations(pr.person, req.Channels); err != nil {
			return SendOTPResult{}, err
		}
	}

	txd := txDigest(req.TransactionID)
	key := stateKey(kindOTP, txd)
	old, err := a.state.Get(ctx, key)
	if errors.Is(err, storage.ErrNotFound) {
		old = nil
	} else if err != nil {
		return SendOTPResult{}, fmt.Errorf("authn: read otp: %w", err)
	}
	now := a.now()
	var prev otpRecord
	if old != nil && json.Unmarshal(old, &prev) == nil && now.UnixMicro() < prev.Sent+a.policy.ResendDelay.Microseconds() {
		return SendOTPResult{}, newError(ErrOTPResendTooSoon, nil)
	}
	n, err := a.state.Incr(ctx, stateKey(kindSends, txd), a.policy.TransactionTTL)
	if err != nil {
		return SendOTPResult{}, fmt.Errorf("authn: count sends: %w", err)
	}
	if n > int64(a.policy.MaxSends) {
		return SendOTPResult{}, a.limitExceeded(ctx, pr, txd, "send-otp limit of the transaction")
	}

	code, err := newOTP(a.policy.OTPLength)
	if err != nil {
		return SendOTPResult{}, err
	}
	sum, err := a.otpHash(ctx, txd, pr.who, code)
	if err != nil {
		return SendOTPResult{}, err
	}
	raw, err := json.Marshal(otpRecord{Hash: sum, Sent: now.UnixMicro(), Expires: now.Add(a.policy.OTPTTL).UnixMicro()})
	if err != nil {
		return SendOTPResult{}, fmt.Errorf("authn: encode otp: %w", err)
	}
	if err := a.storeOTP(ctx, key, old, raw); err != nil {
		return SendOTPResult{}, err
	}

	if !pr.active {
		// Nothing to send; take about as long as a delivery would.
		if err := sleep(ctx, min(time.Duration(a.sendLatency.Load()), maxDecoyDelay)); err != nil {
			return SendOTPResult{}, err
		}
		a.log.LogAttrs(ctx, slog.LevelInfo, "authn: otp not sent: nobody to authenticate", pr.logAttrs(),
			slog.String("client_id", req.ClientID))
		return a.decoy(pr.who, req.Channels), nil
	}
	start := time.Now()
	res, err := a.deliver(ctx, req, dests, code)
	a.recordLatency(time.Since(start))
	if err != nil {
		// Nobody got this code: let the resident ask again at once.
		if derr := a.state.Delete(ctx, key); derr != nil {
			return SendOTPResult{}, errors.Join(err, fmt.Errorf("authn: void undelivered otp: %w", derr))
		}
		return SendOTPResult{}, err
	}
	a.log.LogAttrs(ctx, slog.LevelInfo, "authn: otp sent", pr.logAttrs(), slog.String("client_id", req.ClientID),
		slog.String("masked_email", res.MaskedEmail), slog.String("masked_phone", res.MaskedPhone))
	return res, nil
}

// storeOTP replaces old (nil: nothing) with raw, atomically: a concurrent
// send in the same transaction makes this one too soon.
func (a *Authenticator) storeOTP(ctx context.Context, key string, old, raw []byte) error {
	if old != nil {
		err := a.state.Swap(ctx, key, old, raw, a.policy.OTPTTL)
		switch {
		case err == nil:
			return nil
		case errors.Is(err, storage.ErrConflict):
			return newError(ErrOTPResendTooSoon, nil)
		case !errors.Is(err, storage.ErrNotFound):
			return fmt.Errorf("authn: store otp: %w", err)
		}
	}
	ok, err := a.state.PutNew(ctx, key, raw, a.policy.OTPTTL)
	if err != nil {
		return fmt.Errorf("authn: store otp: %w", err)
	}
	if !ok {
		return newError(ErrOTPResendTooSoon, nil)
	}
	return nil
}

// destination is where one message goes.
type destination struct {
	channel notify.Channel
	to      string
}

// destinations returns p's destination on each channel, or
// ErrInvalidOTPChannel if p has none on one of them.
func destinations(p Person, channels []string) ([]destination, error) {
	var out []destination
	for _, c := range channels {
		to, _ := p.Identity[c].(string)
		to = strings.TrimSpace(to)
		if to == "" {
			return nil, newError(ErrInvalidOTPChannel, nil)
		}
		out = append(out, destination{channel: notify.Channel(c), to: to})
	}
	return out, nil
}

var languageRE = regexp.MustCompile(`^[a-z]{3}$`)

// deliver sends the code to every destination. It fails with
// ErrSendOTPFailed only if no destination got it.
func (a *Authenticator) deliver(ctx context.Context, req SendOTPRequest, dests []destination, code string) (SendOTPResult, error) {
	lang := strings.ToLower(req.Language)
	if !languageRE.MatchString(lang) {
		lang = ""
	}
	minutes := strconv.Itoa(int(math.Ceil(a.policy.OTPTTL.Minutes())))
	var res SendOTPResult
	var errs []error
	for _, d := range dests {
		err := a.notifier.Notify(ctx, notify.Message{
			Channel:  d.channel,
			To:       d.to,
			Purpose:  notify.PurposeLoginOTP,
			Language: lang,
			Data:     map[string]string{notify.DataOTP: code, notify.DataExpiresInMinutes: minutes},
		})
		if err != nil {
			// Notifiers keep destinations and codes out of their errors.
			errs = append(errs, fmt.Errorf("%s: %w", d.channel, err))
			continue
		}
		switch d.channel {
		case notify.Email:
			res.MaskedEmail = notify.MaskEmail(d.to)
		case notify.Phone:
			res.MaskedPhone = notify.MaskPhone(d.to)
		}
	}
	if len(errs) == len(dests) {
		return SendOTPResult{}, newError(ErrSendOTPFailed, errors.Join(errs...))
	}
	if len(errs) > 0 {
		a.log.LogAttrs(ctx, slog.LevelWarn, "authn: otp delivered on some channels only",
			slog.Any("error", errors.Join(errs...)))
	}
	return res, nil
}

// recordLatency folds one delivery time into the moving average.
func (a *Authenticator) recordLatency(d time.Duration) {
	for {
		old := a.sendLatency.Load()
		next := int64(d)
		if old != 0 {
			next = old + (int64(d)-old)/8
		}
		if a.sendLatency.CompareAndSwap(old, next) {
			return
		}
	}
}

// decoy returns masked destinations for a login ID that names nobody:
// derived from who, so the same login ID always shows the same ones.
func (a *Authenticator) decoy(who string, channels []string) SendOTPResult {
	seed := sha256.Sum256([]byte("decoy\x00" + who))
	var res SendOTPResult
	for _, c := range channels {
		switch notify.Channel(c) {
		case notify.Email:
			domains := a.policy.Decoy.EmailDomains
			local := string(rune('a'+seed[0]%26)) + "x"
			res.MaskedEmail = notify.MaskEmail(local + "@" + domains[int(seed[1])%len(domains)])
		case notify.Phone:
			phone := a.policy.Decoy.PhonePrefix
			if phone == "" {
				phone = "+"
			}
			for _, b := range seed[2:12] {
				phone += strconv.Itoa(int(b) % 10)
			}
			res.MaskedPhone = notify.MaskPhone(phone)
		}
	}
	return res
}

// newOTP returns n decimal digits from the CSPRNG, uniformly distributed
// (rand.Int draws by rejection, without modulo bias).
func newOTP(n int) (string, error) {
	v, err := rand.Int(rand.Reader, new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(n)), nil))
	if err != nil {
		return "", fmt.Errorf("authn: generate otp: %w", err)
	}
	return fmt.Sprintf("%0*d", n, v), nil
}

// otpHash binds a code to its transaction and individual.
func (a *Authenticator) otpHash(ctx context.Context, txd, who, code string) ([]byte, error) {
	sum, err := a.mac.MAC(ctx, PurposeAuthnState, []byte("otp\x00"+txd+"\x00"+who+"\x00"+code))
	if err != nil {
		return nil, fmt.Errorf("authn: keyed hash: %w", err)
	}
	return sum, nil
}

// maxOTPBytes bounds what is hashed of a submitted OTP.
const maxOTPBytes = 64

// checkOTP verifies code against the transaction's OTP. It returns the
// record as read, for consumeOTP. The hash is computed whether or not there
// is a record, and compared in constant time.
func (a *Authenticator) checkOTP(ctx context.Context, txd, who, code string) (bool, []byte, error) {
	raw, err := a.state.Get(ctx, stateKey(kindOTP, txd))
	if errors.Is(err, storage.ErrNotFound) {
		raw = nil
	} else if err != nil {
		return false, nil, fmt.Errorf("authn: read otp: %w", err)
	}
	wellFormed := len(code) == a.policy.OTPLength && isDigits(code)
	if len(code) > maxOTPBytes {
		code = code[:maxOTPBytes]
	}
	sum, err := a.otpHash(ctx, txd, who, code)
	if err != nil {
		return false, nil, err
	}
	var rec otpRecord
	parsed := raw != nil && json.Unmarshal(raw, &rec) == nil
	match := subtle.ConstantTimeCompare(sum, rec.Hash) == 1
	fresh := a.now().UnixMicro() < rec.Expires
	return wellFormed && parsed && match && fresh, raw, nil
}

// consumeOTP takes the OTP read as seen, so that it verifies once: among
// concurrent callers exactly one gets it. If a resend replaced it meanwhile,
// the new OTP is put back and the caller fails.
func (a *Authenticator) consumeOTP(ctx context.Context, txd string, seen []byte) (bool, error) {
	key := stateKey(kindOTP, txd)
	got, err := a.state.Take(ctx, key)
	if errors.Is(err, storage.ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("authn: consume otp: %w", err)
	}
	if bytes.Equal(got, seen) {
		return true, nil
	}
	var rec otpRecord
	if json.Unmarshal(got, &rec) == nil {
		if ttl := time.Duration(rec.Expires-a.now().UnixMicro()) * time.Microsecond; ttl > 0 {
			if _, err := a.state.PutNew(ctx, key, got, ttl); err != nil {
				return false, fmt.Errorf("authn: restore otp: %w", err)
			}
		}
	}
	return false, nil
}

func isDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

func validTransactionID(s string) bool {
	return s != "" && len(s) <= maxTransactionIDBytes && utf8.ValidString(s) && !strings.ContainsFunc(s, unicode.IsControl)
}

func validLoginID(s string) bool {
	return strings.TrimSpace(s) != "" && len(s) <= maxLoginIDBytes && utf8.ValidString(s) &&
		!strings.ContainsFunc(s, unicode.IsControl)
}
