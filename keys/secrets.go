package keys

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/sanad-id/sanad/storage"
)

// Symmetric key purposes. Personal data is sealed under per-record data keys
// that are wrapped by a "pii-encryption" key; lookups go by keyed hashes
// under "pii-index"; pairwise subjects and authentication state (OTP hashes, block keys) have their own keys.
const (
	PurposePIIEncryption   = "pii-encryption"
	PurposePIIIndex        = "pii-index"
	PurposePairwiseSubject = "pairwise-subject"
	PurposeAuthnState      = "authn-state"
)

// Symmetric algorithms (JOSE names).
const (
	// AlgA256GCMKW wraps data keys with AES-256-GCM.
	AlgA256GCMKW = "A256GCMKW"
	// AlgHS256 computes HMAC-SHA-256.
	AlgHS256 = "HS256"
)

// Symmetric key uses (storage.KeyRecord.Use).
const (
	UseWrap = "wrap"
	UseMAC  = "mac"
)

// ErrNotRotatable: the key set cannot be rotated (keyed-hash keys).
var ErrNotRotatable = errors.New("keys: not rotatable")

// secretSize is the length of every symmetric key: 256 bits.
const secretSize = 32

// forever is the PublishUntil of retired wrapping keys: data they wrapped
// stays in the database, so they must never be pruned.
var forever = time.Date(9999, 12, 31, 0, 0, 0, 0, time.UTC)

// SecretBackend is the optional capability of a Backend that holds
// symmetric keys. Found by type assertion. An HSM implements it with
// non-extractable AES and HMAC keys.
type SecretBackend interface {
	// GenerateSecret makes a new 256-bit key and returns what the store
	// keeps (sealed key material or a reference).
	GenerateSecret(ctx context.Context, spec KeySpec) (private []byte, err error)
	// OpenSecret opens a symmetric key.
	OpenSecret(ctx context.Context, rec storage.KeyRecord) (SecretKey, error)
}

// SecretKey is an opened symmetric key.
type SecretKey interface {
	// Seal encrypts and authenticates plaintext, binding aad.
	Seal(plaintext, aad []byte) ([]byte, error)
	// Open reverses Seal.
	Open(ciphertext, aad []byte) ([]byte, error)
	// MAC returns HMAC-SHA-256 of data.
	MAC(data []byte) []byte
}

// SecretPurpose describes one symmetric key set.
type SecretPurpose struct {
	Purpose string
	// Use is UseWrap (rotatable: new wraps use the newest key, old keys
	// stay for unwrapping forever) or UseMAC (never rotated: a keyed hash
	// must stay the same for lookups to find what it indexed).
	Use string
}

// DefaultSecretPurposes are the symmetric key sets Sanad uses.
func DefaultSecretPurposes() []SecretPurpose {
	return []SecretPurpose{
		{PurposePIIEncryption, UseWrap},
		{PurposePIIIndex, UseMAC},
		{PurposePairwiseSubject, UseMAC},
		{PurposeAuthnState, UseMAC},
	}
}

// SecretsConfig configures NewSecrets.
type SecretsConfig struct {
	Store    storage.Keys
	Backend  Backend // must implement SecretBackend
	Purposes []SecretPurpose
	Now      func() time.Time
	Logger   *slog.Logger
}

// Secrets holds symmetric keys: it wraps and unwraps data keys and computes
// keyed hashes, so no other package ever holds the key material. Safe for
// concurrent use.
type Secrets struct {
	store    storage.Keys
	backend  SecretBackend
	backName string
	purposes map[string]string // purpose → use
	now      func() time.Time
	log      *slog.Logger

	mu   sync.RWMutex
	byID map[string]*secret
	cur  map[string]*secret // purpose → key that wraps or MACs now
}

type secret struct {
	rec storage.KeyRecord
	key SecretKey
}

// NewSecrets loads the symmetric keys and generates the missing ones.
func NewSecrets(ctx context.Context, cfg SecretsConfig) (*Secrets, error) {
	sb, ok := cfg.Backend.(SecretBackend)
	if !ok || cfg.Store == nil {
		return nil, errors.New("keys: NewSecrets needs a Store and a Backend that holds symmetric keys")
	}
	s := &Secrets{store: cfg.Store, backend: sb, backName: cfg.Backend.Name(), now: cfg.Now, log: cfg.Logger,
		purposes: map[string]string{}}
	if s.now == nil {
		s.now = time.Now
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	ps := cfg.Purposes
	if ps == nil {
		ps = DefaultSecretPurposes()
	}
	for _, p := range ps {
		if p.Use != UseWrap && p.Use != UseMAC {
			return nil, fmt.Errorf("keys: secret purpose %q: use must be %q or %q", p.Purpose, UseWrap, UseMAC)
		}
		s.purposes[p.Purpose] = p.Use
	}
	if err := s.load(ctx); err != nil {
		return nil, err
	}
	for p := range s.purposes {
		if s.current(p) != nil {
			continue
		}
		if _, err := s.create(ctx, p, false); err != nil {
			return nil, err
		}
	}
	return s, s.load(ctx)
}

func secretAlg(use string) string {
	if use == UseWrap {
		return AlgA256GCMKW
	}
	return AlgHS256
}

// load reads every key of the configured purposes.
func (s *Secrets) load(ctx context.Context) error {
	recs, err := s.store.ListKeys(ctx, "")
	if err != nil {
		return fmt.Errorf("keys: load secrets: %w", err)
	}
	s.mu.RLock()
	old := s.byID
	s.mu.RUnlock()
	byID := map[string]*secret{}
	cur := map[string]*secret{}
	for _, rec := range recs {
		use, ok := s.purposes[rec.Purpose]
		if !ok {
			continue
		}
		if rec.Use != use || rec.Alg != secretAlg(use) {
			return fmt.Errorf("keys: secret %s: %s/%s is not a %s key", rec.KID, rec.Use, rec.Alg, use)
		}
		sec := old[rec.KID]
		if sec == nil {
			if rec.Backend != s.backName {
				return fmt.Errorf("keys: secret %s is held by backend %q, this process uses %q", rec.KID, rec.Backend, s.backName)
			}
			k, err := s.backend.OpenSecret(ctx, rec)
			if err != nil {
				return err
			}
			sec = &secret{rec: rec, key: k}
		}
		byID[rec.KID] = sec
		c := cur[rec.Purpose]
		// Wrapping uses the newest key; a MAC purpose has one key only.
		switch {
		case c == nil:
			cur[rec.Purpose] = sec
		case use == UseWrap && rec.RetiredAt.IsZero() && compareAge(c.rec, rec) < 0:
			cur[rec.Purpose] = sec
		}
	}
	s.mu.Lock()
	s.byID, s.cur = byID, cur
	s.mu.Unlock()
	return nil
}

func (s *Secrets) current(purpose string) *secret {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.cur[purpose]
}

func (s *Secrets) create(ctx context.Context, purpose string, rotate bool) (storage.KeyRecord, error) {
	use := s.purposes[purpose]
	// A MAC key has a fixed id: if two processes start on an empty store at
	// once, the unique key id lets only one create it, so every process
	// computes the same keyed hashes.
	kid := purpose + ".v1"
	if use == UseWrap {
		var err error
		if kid, err = newKID(); err != nil {
			return storage.KeyRecord{}, err
		}
	}
	spec := KeySpec{KID: kid, Purpose: purpose, Alg: secretAlg(use)}
	priv, err := s.backend.GenerateSecret(ctx, spec)
	if err != nil {
		return storage.KeyRecord{}, err
	}
	now := keyTime(s.now())
	rec := storage.KeyRecord{KID: kid, Purpose: purpose, Alg: spec.Alg, Use: use, Backend: s.backName,
		Public: []byte(`{}`), Private: priv, CreatedAt: now, NotBefore: now}
	if rotate {
		err = s.store.RotateKey(ctx, rec, now, forever)
	} else {
		err = s.store.CreateKey(ctx, rec)
	}
	if errors.Is(err, storage.ErrAlreadyExists) && use == UseMAC {
		return rec, nil // another process created it first
	}
	if err != nil {
		return storage.KeyRecord{}, fmt.Errorf("keys: store secret: %w", err)
	}
	s.log.Info("generated secret key", "purpose", purpose, "kid", kid)
	return rec, nil
}

// Rotate adds a new wrapping key for purpose; data keys wrapped before stay
// unwrappable. MAC keys cannot be rotated (lookups would stop finding what
// they indexed).
func (s *Secrets) Rotate(ctx context.Context, purpose string) (KeyInfo, error) {
	use, ok := s.purposes[purpose]
	if !ok {
		return KeyInfo{}, fmt.Errorf("%w: %q", ErrUnknownPurpose, purpose)
	}
	if use != UseWrap {
		return KeyInfo{}, fmt.Errorf("%w: %s keys are never rotated, the keyed hashes computed with them would change", ErrNotRotatable, purpose)
	}
	rec, err := s.create(ctx, purpose, true)
	if err != nil {
		return KeyInfo{}, err
	}
	if err := s.load(ctx); err != nil {
		return KeyInfo{}, err
	}
	return keyInfo(rec, s.now()), nil
}

// IsSecretPurpose reports whether purpose names a symmetric key set.
func (s *Secrets) IsSecretPurpose(purpose string) bool {
	_, ok := s.purposes[purpose]
	return ok
}

func wrapAAD(purpose, kid string) []byte { return []byte("sanad-wrap-v1\x00" + purpose + "\x00" + kid) }

// WrapKey wraps a data key with the purpose's current wrapping key and
// returns that key's id with the wrapped data key.
func (s *Secrets) WrapKey(ctx context.Context, purpose string, dek []byte) (string, []byte, error) {
	if s.purposes[purpose] != UseWrap {
		return "", nil, fmt.Errorf("%w: %q is not a wrapping purpose", ErrUnknownPurpose, purpose)
	}
	c := s.current(purpose)
	if c == nil {
		return "", nil, fmt.Errorf("%w for %s", ErrNoActiveKey, purpose)
	}
	w, err := c.key.Seal(dek, wrapAAD(purpose, c.rec.KID))
	if err != nil {
		return "", nil, err
	}
	return c.rec.KID, w, nil
}

// UnwrapKey unwraps a data key wrapped by key kid of purpose. An unknown kid
// (wrapped by another process after a rotation) triggers one reload.
func (s *Secrets) UnwrapKey(ctx context.Context, purpose, kid string, wrapped []byte) ([]byte, error) {
	s.mu.RLock()
	sec := s.byID[kid]
	s.mu.RUnlock()
	if sec == nil {
		if err := s.load(ctx); err != nil {
			return nil, err
		}
		s.mu.RLock()
		sec = s.byID[kid]
		s.mu.RUnlock()
	}
	if sec == nil || sec.rec.Purpose != purpose {
		return nil, fmt.Errorf("%w: no %s key %q", ErrInvalid, purpose, kid)
	}
	dek, err := sec.key.Open(wrapped, wrapAAD(purpose, kid))
	if err != nil {
		return nil, fmt.Errorf("%w: wrapped key does not open", ErrInvalid)
	}
	return dek, nil
}

// MAC returns HMAC-SHA-256 of data under the purpose's key.
func (s *Secrets) MAC(_ context.Context, purpose string, data []byte) ([]byte, error) {
	if s.purposes[purpose] != UseMAC {
		return nil, fmt.Errorf("%w: %q is not a MAC purpose", ErrUnknownPurpose, purpose)
	}
	c := s.current(purpose)
	if c == nil {
		return nil, fmt.Errorf("%w for %s", ErrNoActiveKey, purpose)
	}
	return c.key.MAC(data), nil
}

// List describes the symmetric keys (no key material).
func (s *Secrets) List() []KeyInfo {
	s.mu.RLock()
	defer s.mu.RUnlock()
	now := s.now()
	var out []KeyInfo
	for _, sec := range s.byID {
		out = append(out, keyInfo(sec.rec, now))
	}
	slices.SortFunc(out, func(a, b KeyInfo) int { return a.CreatedAt.Compare(b.CreatedAt) })
	return out
}

// GenerateSecret makes a random 256-bit key, sealed under the master key.
func (b *SoftwareBackend) GenerateSecret(_ context.Context, spec KeySpec) ([]byte, error) {
	raw := make([]byte, secretSize)
	defer clear(raw)
	if _, err := rand.Read(raw); err != nil {
		return nil, fmt.Errorf("keys: generate secret: %w", err)
	}
	return b.seal(spec, raw)
}

// OpenSecret opens a sealed symmetric key.
func (b *SoftwareBackend) OpenSecret(_ context.Context, rec storage.KeyRecord) (SecretKey, error) {
	raw, err := b.unseal(rec)
	if err != nil {
		return nil, err
	}
	defer clear(raw)
	if len(raw) != secretSize {
		return nil, fmt.Errorf("keys: secret %s has %d bytes, want %d", rec.KID, len(raw), secretSize)
	}
	block, err := aes.NewCipher(raw)
	if err != nil {
		return nil, err
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	return &softwareSecret{aead: aead, macKey: slices.Clone(raw)}, nil
}

type softwareSecret struct {
	aead   cipher.AEAD
	macKey []byte
}

func (k *softwareSecret) Seal(plaintext, aad []byte) ([]byte, error) {
	ns := k.aead.NonceSize()
	out := make([]byte, ns, ns+len(plaintext)+k.aead.Overhead())
	if _, err := rand.Read(out); err != nil {
		return nil, err
	}
	return k.aead.Seal(out, out, plaintext, aad), nil
}

func (k *softwareSecret) Open(ciphertext, aad []byte) ([]byte, error) {
	ns := k.aead.NonceSize()
	if len(ciphertext) < ns+k.aead.Overhead() {
		return nil, errors.New("keys: sealed value too short")
	}
	return k.aead.Open(nil, ciphertext[:ns], ciphertext[ns:], aad)
}

func (k *softwareSecret) MAC(data []byte) []byte {
	m := hmac.New(sha256.New, k.macKey)
	m.Write(data)
	return m.Sum(nil)
}
