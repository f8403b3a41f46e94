package authn

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/crypto/argon2"
	"golang.org/x/text/unicode/norm"

	"github.com/sanad-id/sanad/storage"
)

// PIN and password rules (eSignet's static-code and password factors).
const (
	PINLength         = 6  // digits
	PasswordMinLength = 8  // characters, after NFC normalisation
	PasswordMaxLength = 30 // characters, after NFC normalisation
)

// storage.Factors kinds.
const (
	kindPIN      = "pin"
	kindPassword = "password"
)

// maxSecretBytes bounds what is hashed of a submitted PIN or password: more
// than a valid one can take (30 characters of 4 bytes), so a longer value
// fails after the same work.
const maxSecretBytes = 4 * PasswordMaxLength

// dummyResidentID is looked up in storage.Factors for people who cannot
// authenticate, so that the query happens either way. Resident ids are
// random and never take this form.
const dummyResidentID = "authn:nobody"

// Bounds on Argon2id parameters, for configuration and for stored verifiers
// (a corrupt or hostile row must not make a sign-in allocate gigabytes).
const (
	maxArgon2Memory  = 1 << 20 // KiB: 1 GiB
	maxArgon2Time    = 32
	minArgon2Salt    = 8
	maxArgon2Salt    = 64
	minArgon2KeySize = 16
	maxArgon2KeySize = 64
)

func (p Argon2Params) validate() error {
	var errs []error
	if p.Threads < 1 {
		errs = append(errs, errors.New("lanes (Threads) must be at least 1"))
	}
	if p.Memory < 8*uint32(p.Threads) || p.Memory > maxArgon2Memory {
		errs = append(errs, fmt.Errorf("memory (Memory) must be 8×Threads to %d KiB, got %d", maxArgon2Memory, p.Memory))
	}
	if p.Time < 1 || p.Time > maxArgon2Time {
		errs = append(errs, fmt.Errorf("passes (Time) must be 1 to %d, got %d", maxArgon2Time, p.Time))
	}
	if p.SaltLength < minArgon2Salt || p.SaltLength > maxArgon2Salt {
		errs = append(errs, fmt.Errorf("salt length (SaltLength) must be %d to %d bytes, got %d", minArgon2Salt, maxArgon2Salt, p.SaltLength))
	}
	if p.KeyLength < minArgon2KeySize || p.KeyLength > maxArgon2KeySize {
		errs = append(errs, fmt.Errorf("key length (KeyLength) must be %d to %d bytes, got %d", minArgon2KeySize, maxArgon2KeySize, p.KeyLength))
	}
	return errors.Join(errs...)
}

// SetPIN stores a new PIN for the person: exactly PINLength ASCII digits,
// kept as an Argon2id verifier with a random salt. ErrInvalidRequest if the
// PIN breaks the rule.
func (a *Authenticator) SetPIN(ctx context.Context, personID, pin string) error {
	if len(pin) != PINLength || !isDigits(pin) {
		return invalidRequest(fmt.Sprintf("PIN must be exactly %d digits", PINLength))
	}
	return a.setSecret(ctx, personID, kindPIN, pin)
}

// SetPassword stores a new password for the person: PasswordMinLength to
// PasswordMaxLength characters without control characters, compared after
// Unicode NFC normalisation, kept as an Argon2id verifier with a random
// salt. ErrInvalidRequest if the password breaks the rules.
func (a *Authenticator) SetPassword(ctx context.Context, personID, password string) error {
	if !utf8.ValidString(password) || strings.ContainsFunc(password, unicode.IsControl) {
		return invalidRequest("password must be valid text without control characters")
	}
	password = norm.NFC.String(password)
	if n := utf8.RuneCountInString(password); n < PasswordMinLength || n > PasswordMaxLength {
		return invalidRequest(fmt.Sprintf("password must be %d to %d characters", PasswordMinLength, PasswordMaxLength))
	}
	return a.setSecret(ctx, personID, kindPassword, password)
}

func (a *Authenticator) setSecret(ctx context.Context, personID, kind, secret string) error {
	if personID == "" || strings.ContainsRune(personID, 0) {
		return invalidRequest("person id must be non-empty and contain no NUL")
	}
	phc, err := a.hashSecret(ctx, secret)
	if err != nil {
		return err
	}
	if err := a.factors.PutFactor(ctx, storage.FactorSecret{
		ResidentID: personID, Kind: kind, Hash: phc, UpdatedAt: a.now(),
	}); err != nil {
		return fmt.Errorf("authn: store %s: %w", kind, err)
	}
	return nil
}

// checkSecret verifies a PIN or password. People who cannot authenticate,
// and people without that factor, are checked against a dummy verifier with
// the same parameters, after the same factor query.
func (a *Authenticator) checkSecret(ctx context.Context, p principal, kind, value string) (bool, error) {
	id := dummyResidentID
	if p.active {
		id = p.person.ID
	}
	f, err := a.factors.GetFactor(ctx, id, kind)
	phc, enrolled := a.dummy.phc, false
	switch {
	case err == nil && p.active:
		phc, enrolled = f.Hash, true
	case err == nil, errors.Is(err, storage.ErrNotFound):
	default:
		return false, fmt.Errorf("authn: read %s: %w", kind, err)
	}
	if kind == kindPassword {
		value = norm.NFC.String(value)
	}
	fits := len(value) <= maxSecretBytes
	if !fits {
		value = value[:maxSecretBytes]
	}
	match, params, err := a.verifyPHC(ctx, phc, value)
	if err != nil {
		if enrolled {
			return false, fmt.Errorf("authn: stored %s verifier of %s: %w", kind, p.person.ID, err)
		}
		return false, err
	}
	ok := enrolled && fits && match
	if ok && params != a.policy.Argon2 {
		// The verifier predates the current costs: upgrade it while the
		// secret is at hand. Failing to is not the resident's problem.
		if err := a.setSecret(ctx, p.person.ID, kind, value); err != nil {
			a.log.LogAttrs(ctx, slog.LevelWarn, "authn: re-hash of verifier failed", p.logAttrs(),
				slog.String("kind", kind), slog.Any("error", err))
		}
	}
	return ok, nil
}

// dummies are what people who cannot authenticate are checked against.
type dummies struct {
	phc      string         // Argon2id verifier of a random secret, current costs
	identity map[string]any // a value for every KBI field
}

func newDummies(p Policy) dummies {
	secret, salt := make([]byte, 16), make([]byte, p.Argon2.SaltLength)
	rand.Read(secret)
	rand.Read(salt)
	d := dummies{identity: make(map[string]any, len(p.KBIFields))}
	d.phc = encodePHC(p.Argon2, salt, argon2.IDKey(secret, salt, p.Argon2.Time, p.Argon2.Memory, p.Argon2.Threads, p.Argon2.KeyLength))
	for _, f := range p.KBIFields {
		d.identity[f] = base64.RawURLEncoding.EncodeToString(secret)
	}
	return d
}

// hashSecret returns an Argon2id verifier of secret, as a PHC string, with
// a fresh random salt and the current costs.
func (a *Authenticator) hashSecret(ctx context.Context, secret string) (string, error) {
	p := a.policy.Argon2
	salt := make([]byte, p.SaltLength)
	rand.Read(salt)
	key, err := a.argon2id(ctx, []byte(secret), salt, p)
	if err != nil {
		return "", err
	}
	return encodePHC(p, salt, key), nil
}

// verifyPHC checks secret against a PHC string and returns the verifier's
// parameters. The comparison is constant-time.
func (a *Authenticator) verifyPHC(ctx context.Context, phc, secret string) (bool, Argon2Params, error) {
	p, salt, key, err := parsePHC(phc)
	if err != nil {
		return false, p, err
	}
	got, err := a.argon2id(ctx, []byte(secret), salt, p)
	if err != nil {
		return false, p, err
	}
	return subtle.ConstantTimeCompare(got, key) == 1, p, nil
}

// argon2id computes an Argon2id key, waiting for one of
// Policy.MaxConcurrentHashes slots so that memory use stays bounded.
func (a *Authenticator) argon2id(ctx context.Context, secret, salt []byte, p Argon2Params) ([]byte, error) {
	select {
	case a.hashSlots <- struct{}{}:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	defer func() { <-a.hashSlots }()
	return argon2.IDKey(secret, salt, p.Time, p.Memory, p.Threads, p.KeyLength), nil
}

// encodePHC writes $argon2id$v=19$m=<KiB>,t=<passes>,p=<lanes>$<salt>$<key>,
// salt and key in unpadded standard base64.
func encodePHC(p Argon2Params, salt, key []byte) string {
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, p.Memory, p.Time, p.Threads,
		base64.RawStdEncoding.EncodeToString(salt), base64.RawStdEncoding.EncodeToString(key))
}

var errBadPHC = errors.New("authn: malformed argon2id verifier")

// decodeB64 decodes unpadded standard base64 in its one canonical form (the
// decoder alone would skip CR and LF).
func decodeB64(s string) ([]byte, bool) {
	b, err := base64.RawStdEncoding.Strict().DecodeString(s)
	return b, err == nil && base64.RawStdEncoding.EncodeToString(b) == s
}

// parsePHC reads a string written by encodePHC, within the bounds of
// Argon2Params.validate.
func parsePHC(s string) (Argon2Params, []byte, []byte, error) {
	var p Argon2Params
	parts := strings.Split(s, "$")
	if len(parts) != 6 || parts[0] != "" || parts[1] != "argon2id" || parts[2] != "v="+strconv.Itoa(argon2.Version) {
		return p, nil, nil, errBadPHC
	}
	costs := strings.Split(parts[3], ",")
	if len(costs) != 3 {
		return p, nil, nil, errBadPHC
	}
	var vals [3]uint64
	for i, name := range []string{"m=", "t=", "p="} {
		v, ok := strings.CutPrefix(costs[i], name)
		if !ok || v == "" || (len(v) > 1 && v[0] == '0') {
			return p, nil, nil, errBadPHC
		}
		n, err := strconv.ParseUint(v, 10, 32)
		if err != nil {
			return p, nil, nil, errBadPHC
		}
		vals[i] = n
	}
	if vals[2] > 255 {
		return p, nil, nil, errBadPHC
	}
	salt, ok := decodeB64(parts[4])
	if !ok {
		return p, nil, nil, errBadPHC
	}
	key, ok := decodeB64(parts[5])
	if !ok {
		return p, nil, nil, errBadPHC
	}
	p = Argon2Params{Memory: uint32(vals[0]), Time: uint32(vals[1]), Threads: uint8(vals[2]),
		SaltLength: uint32(len(salt)), KeyLength: uint32(len(key))}
	if err := p.validate(); err != nil {
		return p, nil, nil, fmt.Errorf("%w: %v", errBadPHC, err)
	}
	return p, salt, key, nil
}
