package authn

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"github.com/sanad-id/sanad/idrepo/notify"
	"github.com/sanad-id/sanad/storage"
)

// Directory resolves login IDs to people. The ID repository implements it.
type Directory interface {
	// Lookup returns the person a login ID (a UIN, a VID or a handle such as
	// a phone number or an e-mail address) names. It returns an error
	// matching storage.ErrNotFound when nobody has that login ID, and may
	// return one matching ErrInvalidIdentifier when the login ID is
	// malformed (a UIN with a wrong check digit). It must not consume
	// anything, such as a use of a temporary VID: Lookup runs on every
	// send-otp and authenticate call. See LoginIDConsumer.
	Lookup(ctx context.Context, loginID string) (Person, error)
}

// LoginIDConsumer is an optional capability of a Directory: if it has it,
// ConsumeLoginID is called once after every factor has verified and before
// the authentication succeeds, so that a temporary VID loses one use per
// sign-in. An error matching storage.ErrNotFound (the VID was used up or
// revoked meanwhile) turns the sign-in into ErrAuthFailed.
type LoginIDConsumer interface {
	ConsumeLoginID(ctx context.Context, loginID string) error
}

// MAC computes keyed hashes (HMAC-SHA-256) with the key of a purpose. The keys
// service implements it. This package uses PurposePairwiseSubject and
// PurposeAuthnState.
type MAC interface {
	MAC(ctx context.Context, purpose string, data []byte) ([]byte, error)
}

// MAC purposes used by this package.
const (
	// PurposePairwiseSubject keys pairwise subjects:
	// base64url(HMAC(key, sector || 0x00 || person id)).
	PurposePairwiseSubject = "pairwise-subject"
	// PurposeAuthnState keys what this package writes to storage.State:
	// OTP hashes and the keyed hashes naming a person or login ID in state
	// keys. Inputs are domain-separated by a label.
	PurposeAuthnState = "authn-state"
)

// StatusActive is the only status that can authenticate.
const StatusActive = "ACTIVE"

// Person is a resident as the Directory returns it.
type Person struct {
	// ID is the resident's internal id (never the UIN).
	ID string
	// Status is ACTIVE, DEACTIVATED, BLOCKED, ...; only ACTIVE authenticates.
	Status string
	// Identity is the decrypted identity JSON in MOSIP's shape: multi-language
	// fields as [{"language": "eng", "value": "..."}], scalars (phone,
	// email, dateOfBirth "YYYY/MM/DD") as strings.
	Identity map[string]any
}

// String describes p without its identity data.
func (p Person) String() string {
	return fmt.Sprintf("authn.Person{ID: %s, Status: %s, Identity: [redacted]}", p.ID, p.Status)
}

// GoString redacts p in %#v like String.
func (p Person) GoString() string { return p.String() }

// LogValue logs p without its identity data.
func (p Person) LogValue() slog.Value {
	return slog.GroupValue(slog.String("id", p.ID), slog.String("status", p.Status))
}

// Config configures an Authenticator. Directory, State, Factors, Notifier and
// MAC are required; zero fields of Policy take the values of DefaultPolicy.
type Config struct {
	Directory Directory
	State     storage.State
	Factors   storage.Factors
	Notifier  notify.Notifier
	MAC       MAC
	Policy    Policy
	// Now is the clock; time.Now when nil.
	Now func() time.Time
	// Logger receives one line per OTP sent, failure and block, never with
	// a secret or an identifier other than the internal person id; discarded
	// when nil.
	Logger *slog.Logger
}

// Policy holds the limits. Zero fields take the value of DefaultPolicy.
type Policy struct {
	// OTPLength is the number of digits of an OTP, 4 to 10 (6).
	OTPLength int
	// OTPTTL is how long an OTP is valid (3 minutes).
	OTPTTL time.Duration
	// ResendDelay is the least time between two OTPs of one transaction (30 s).
	ResendDelay time.Duration
	// MaxSends is the number of send-otp calls a transaction allows (3).
	MaxSends int
	// MaxAttempts is the number of authenticate calls a transaction allows (3).
	MaxAttempts int
	// TransactionTTL is how long the per-transaction counters live; at least
	// the OpenID provider's transaction lifetime (30 minutes).
	TransactionTTL time.Duration
	// BlockDuration is how long an individual stays blocked (10 minutes).
	BlockDuration time.Duration
	// MaxFailures is the number of failed authentications, across
	// transactions and within FailureWindow, that blocks the individual (5).
	MaxFailures int
	// FailureWindow is the window MaxFailures counts in (1 hour). The count
	// restarts when the individual is blocked or authenticates.
	FailureWindow time.Duration
	// KBIFields are the identity fields a knowledge-based challenge must
	// answer (fullName, dateOfBirth).
	KBIFields []string
	// Argon2 sets the cost of new PIN and password verifiers. Existing
	// verifiers keep their parameters and are re-hashed with these on the
	// next successful sign-in.
	Argon2 Argon2Params
	// MaxConcurrentHashes bounds concurrent Argon2id computations, each of
	// which holds Argon2.Memory KiB (GOMAXPROCS).
	MaxConcurrentHashes int
	// Decoy shapes the masked destinations send-otp returns for unknown login IDs.
	Decoy Decoy
}

// Decoy shapes masked destinations for unknown login IDs, so that they look
// like a real resident's. Set them to what most residents have.
type Decoy struct {
	// EmailDomains are the domains decoy e-mail addresses use (gmail.com,
	// yahoo.com, outlook.com).
	EmailDomains []string
	// PhonePrefix starts decoy phone numbers: "+" and the country code, for
	// example "+971". Empty means "+" followed by digits derived from the
	// login ID, which looks less real: set it.
	PhonePrefix string
}

// Argon2Params are Argon2id costs (RFC 9106).
type Argon2Params struct {
	Memory     uint32 // KiB (19456 = 19 MiB, OWASP's minimum for t=2)
	Time       uint32 // passes (2)
	Threads    uint8  // lanes (1)
	SaltLength uint32 // bytes (16)
	KeyLength  uint32 // bytes (32)
}

// DefaultPolicy returns eSignet's limits and OWASP's Argon2id minimum.
func DefaultPolicy() Policy {
	return Policy{
		OTPLength:           6,
		OTPTTL:              3 * time.Minute,
		ResendDelay:         30 * time.Second,
		MaxSends:            3,
		MaxAttempts:         3,
		TransactionTTL:      30 * time.Minute,
		BlockDuration:       10 * time.Minute,
		MaxFailures:         5,
		FailureWindow:       time.Hour,
		KBIFields:           []string{"fullName", "dateOfBirth"},
		Argon2:              Argon2Params{Memory: 19 * 1024, Time: 2, Threads: 1, SaltLength: 16, KeyLength: 32},
		MaxConcurrentHashes: runtime.GOMAXPROCS(0),
		Decoy:               Decoy{EmailDomains: []string{"gmail.com", "yahoo.com", "outlook.com"}},
	}
}

// withDefaults returns c with the zero fields filled in.
func (c Config) withDefaults() Config {
	d := DefaultPolicy()
	p := &c.Policy
	setInt := func(v *int, def int) {
		if *v == 0 {
			*v = def
		}
	}
	setDur := func(v *time.Duration, def time.Duration) {
		if *v == 0 {
			*v = def
		}
	}
	setInt(&p.OTPLength, d.OTPLength)
	setDur(&p.OTPTTL, d.OTPTTL)
	setDur(&p.ResendDelay, d.ResendDelay)
	setInt(&p.MaxSends, d.MaxSends)
	setInt(&p.MaxAttempts, d.MaxAttempts)
	setDur(&p.TransactionTTL, d.TransactionTTL)
	setDur(&p.BlockDuration, d.BlockDuration)
	setInt(&p.MaxFailures, d.MaxFailures)
	setDur(&p.FailureWindow, d.FailureWindow)
	setInt(&p.MaxConcurrentHashes, d.MaxConcurrentHashes)
	if p.KBIFields == nil {
		p.KBIFields = d.KBIFields
	}
	if p.Argon2 == (Argon2Params{}) {
		p.Argon2 = d.Argon2
	}
	if p.Decoy.EmailDomains == nil {
		p.Decoy.EmailDomains = d.Decoy.EmailDomains
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	return c
}

var (
	fieldNameRE   = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_]{0,63}$`)
	domainRE      = regexp.MustCompile(`^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)+$`)
	phonePrefixRE = regexp.MustCompile(`^\+[0-9]{0,6}$`)
)

// Validate reports every problem with c at once, after filling in defaults.
func (c Config) Validate() error {
	c = c.withDefaults()
	var errs []error
	bad := func(format string, args ...any) {
		errs = append(errs, fmt.Errorf("authn: config: "+format, args...))
	}
	if c.Directory == nil {
		bad("Directory is required")
	}
	if c.State == nil {
		bad("State is required")
	}
	if c.Factors == nil {
		bad("Factors is required")
	}
	if c.Notifier == nil {
		bad("Notifier is required")
	}
	if c.MAC == nil {
		bad("MAC is required")
	}
	p := c.Policy
	if p.OTPLength < 4 || p.OTPLength > 10 {
		bad("Policy.OTPLength must be 4 to 10, got %d", p.OTPLength)
	}
	for _, d := range []struct {
		name string
		v    time.Duration
	}{
		{"OTPTTL", p.OTPTTL}, {"ResendDelay", p.ResendDelay}, {"TransactionTTL", p.TransactionTTL},
		{"BlockDuration", p.BlockDuration}, {"FailureWindow", p.FailureWindow},
	} {
		if d.v < time.Millisecond {
			bad("Policy.%s must be positive (at least 1ms), got %s", d.name, d.v)
		}
	}
	if p.ResendDelay >= p.OTPTTL {
		bad("Policy.ResendDelay (%s) must be shorter than Policy.OTPTTL (%s)", p.ResendDelay, p.OTPTTL)
	}
	if p.OTPTTL > p.TransactionTTL {
		bad("Policy.OTPTTL (%s) must not exceed Policy.TransactionTTL (%s)", p.OTPTTL, p.TransactionTTL)
	}
	for _, n := range []struct {
		name string
		v    int
	}{
		{"MaxSends", p.MaxSends}, {"MaxAttempts", p.MaxAttempts}, {"MaxFailures", p.MaxFailures},
		{"MaxConcurrentHashes", p.MaxConcurrentHashes},
	} {
		if n.v < 1 {
			bad("Policy.%s must be at least 1, got %d", n.name, n.v)
		}
	}
	if len(p.KBIFields) == 0 {
		bad("Policy.KBIFields must name at least one field")
	}
	for i, f := range p.KBIFields {
		if !fieldNameRE.MatchString(f) {
			bad("Policy.KBIFields[%d]: %q is not an identity field name", i, f)
		}
		if slices.Index(p.KBIFields, f) != i {
			bad("Policy.KBIFields[%d]: %q is listed twice", i, f)
		}
	}
	if err := p.Argon2.validate(); err != nil {
		bad("Policy.Argon2: %v", err)
	}
	if len(p.Decoy.EmailDomains) == 0 {
		bad("Policy.Decoy.EmailDomains must name at least one domain")
	}
	for i, d := range p.Decoy.EmailDomains {
		if !domainRE.MatchString(d) {
			bad("Policy.Decoy.EmailDomains[%d]: %q is not a lower-case domain name", i, d)
		}
	}
	if p.Decoy.PhonePrefix != "" && !phonePrefixRE.MatchString(p.Decoy.PhonePrefix) {
		bad("Policy.Decoy.PhonePrefix must be + and up to 6 digits, got %q", p.Decoy.PhonePrefix)
	}
	return errors.Join(errs...)
}

// Authenticator sends OTPs, verifies factors and derives pairwise subjects.
// It is safe for concurrent use.
type Authenticator struct {
	dir      Directory
	state    storage.State
	factors  storage.Factors
	notifier notify.Notifier
	mac      MAC
	policy   Policy
	now      func() time.Time
	log      *slog.Logger

	// hashSlots bounds concurrent Argon2id computations.
	hashSlots chan struct{}
	// dummy is what people who cannot authenticate are checked against.
	dummy dummies
	// sendLatency is a moving average of OTP delivery time in nanoseconds;
	// send-otp for an unknown login ID waits about as long.
	sendLatency atomic.Int64
}

// New returns an Authenticator, or every configuration problem at once.
func New(cfg Config) (*Authenticator, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	p := cfg.Policy
	p.KBIFields = slices.Clone(p.KBIFields)
	p.Decoy.EmailDomains = slices.Clone(p.Decoy.EmailDomains)
	a := &Authenticator{
		dir:       cfg.Directory,
		state:     cfg.State,
		factors:   cfg.Factors,
		notifier:  cfg.Notifier,
		mac:       cfg.MAC,
		policy:    p,
		now:       cfg.Now,
		log:       cfg.Logger,
		hashSlots: make(chan struct{}, p.MaxConcurrentHashes),
	}
	// Made now, not on first use, so that the first unknown person does not
	// take twice as long as everyone else.
	a.dummy = newDummies(p)
	return a, nil
}

// PairwiseSubject returns the subject identifier of a person for the
// relying parties of one sector (OpenID Connect Core §8.1):
// base64url(HMAC-SHA-256(pairwise key, sector || 0x00 || person id)). It is
// stable for a (sector, person) pair, differs between sectors, and reveals
// neither the person id nor the UIN.
func (a *Authenticator) PairwiseSubject(ctx context.Context, sector, personID string) (string, error) {
	if sector == "" || strings.ContainsRune(sector, 0) {
		return "", invalidRequest("sector must be non-empty and contain no NUL")
	}
	if personID == "" || strings.ContainsRune(personID, 0) {
		return "", invalidRequest("person id must be non-empty and contain no NUL")
	}
	sum, err := a.mac.MAC(ctx, PurposePairwiseSubject, []byte(sector+"\x00"+personID))
	if err != nil {
		return "", fmt.Errorf("authn: pairwise subject: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(sum), nil
}
