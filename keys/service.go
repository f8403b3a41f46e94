package keys

import (
	"bytes"
	"cmp"
	"context"
	"crypto"
	"crypto/ecdh"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/lestrrat-go/jwx/v3/jwk"

	"github.com/sanad-id/sanad/storage"
)

// DefaultRefreshInterval is how often a Service reloads keys from the store
// when Config.RefreshInterval is zero.
const DefaultRefreshInterval = 30 * time.Second

// unknownKIDRefreshGap is the least time between two reloads triggered by a
// token whose kid is unknown, so forged kids can't hammer the database.
const unknownKIDRefreshGap = 10 * time.Second

// Config configures a Service.
type Config struct {
	// Store keeps the key records.
	Store storage.Keys
	// Backend generates and opens private keys.
	Backend Backend
	// Sets are the key sets; nil means DefaultSets().
	Sets []SetConfig
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Logger receives key life-cycle events; nil discards them.
	Logger *slog.Logger
	// RefreshInterval is how often Run reloads keys, rotates due sets and
	// prunes expired keys; zero means DefaultRefreshInterval. It is also
	// added to how long a retired key stays published, because a process
	// may sign with it until its next reload.
	RefreshInterval time.Duration
}

// Service signs, verifies, decrypts and publishes keys. It is safe for
// concurrent use. Signing works on an in-memory snapshot of the keys with
// their private parts already opened; Refresh (called by Run) replaces the
// snapshot.
type Service struct {
	store        storage.Keys
	backend      Backend
	sets         map[string]SetConfig
	order        []string // purposes, in configuration order
	now          func() time.Time
	log          *slog.Logger
	refreshEvery time.Duration

	snap      atomic.Pointer[snapshot]
	refreshMu sync.Mutex // serializes reloads so an older one can't overwrite a newer one

	missMu   sync.Mutex
	lastMiss time.Time
}

// snapshot is an immutable view of the keys of the configured sets.
type snapshot struct {
	byKID     map[string]*key
	byPurpose map[string][]*key // by alg (set order), then NotBefore, CreatedAt, KID
}

// key is one loaded key. Private operations are set only where the key can
// still be used: signers until the key retires, decryption while published.
type key struct {
	rec       storage.KeyRecord
	jwk       jwk.Key          // public JWK with kid, alg, use
	pub       crypto.PublicKey // *ecdsa.PublicKey, ed25519.PublicKey or *rsa.PublicKey
	signer    crypto.Signer
	decrypter crypto.Decrypter
	agreement KeyAgreement
}

// New loads the key sets from cfg.Store, generates the current key of every
// (purpose, algorithm) that has none, and opens the private parts it needs.
// It fails if a key can't be opened (for example, with the wrong master key).
func New(ctx context.Context, cfg Config) (*Service, error) {
	var errs []error
	if cfg.Store == nil {
		errs = append(errs, errors.New("keys: Config.Store is required"))
	}
	if cfg.Backend == nil {
		errs = append(errs, errors.New("keys: Config.Backend is required"))
	}
	if cfg.RefreshInterval < 0 {
		errs = append(errs, fmt.Errorf("keys: refresh interval must not be negative, got %s", cfg.RefreshInterval))
	}
	sets := cfg.Sets
	if sets == nil {
		sets = DefaultSets()
	}
	if len(sets) == 0 {
		errs = append(errs, errors.New("keys: no key sets"))
	}
	s := &Service{
		store:        cfg.Store,
		backend:      cfg.Backend,
		sets:         make(map[string]SetConfig, len(sets)),
		now:          cfg.Now,
		log:          cfg.Logger,
		refreshEvery: cfg.RefreshInterval,
	}
	for _, set := range sets {
		if err := set.validate(); err != nil {
			errs = append(errs, err)
			continue
		}
		if _, dup := s.sets[set.Purpose]; dup {
			errs = append(errs, fmt.Errorf("keys: key set %q configured twice", set.Purpose))
			continue
		}
		set.Algs = slices.Clone(set.Algs)
		s.sets[set.Purpose] = set
		s.order = append(s.order, set.Purpose)
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.refreshEvery == 0 {
		s.refreshEvery = DefaultRefreshInterval
	}
	if err := s.Refresh(ctx); err != nil {
		return nil, err
	}
	if err := s.ensure(ctx); err != nil {
		return nil, err
	}
	return s, nil
}

// Purposes returns the purposes of the configured key sets.
func (s *Service) Purposes() []string { return slices.Clone(s.order) }

// Algorithms returns the algorithms of a key set, for discovery documents
// (id_token_signing_alg_values_supported and the like); nil if the purpose
// is unknown.
func (s *Service) Algorithms(purpose string) []string {
	return slices.Clone(s.sets[purpose].Algs)
}

// Refresh reloads the keys from the store. Keys it already holds are not
// reopened. On error the previous keys stay in use.
func (s *Service) Refresh(ctx context.Context) error {
	s.refreshMu.Lock()
	defer s.refreshMu.Unlock()
	recs, err := s.store.ListKeys(ctx, "")
	if err != nil {
		return fmt.Errorf("keys: load: %w", err)
	}
	prev := s.snap.Load()
	now := s.now()
	next := &snapshot{byKID: make(map[string]*key), byPurpose: make(map[string][]*key)}
	for _, rec := range recs {
		set, ok := s.sets[rec.Purpose]
		if !ok {
			continue // another deployment's or component's set
		}
		var old *key
		if prev != nil {
			old = prev.byKID[rec.KID]
		}
		k, err := s.loadKey(ctx, set, rec, old, now)
		if err != nil {
			return err
		}
		next.byKID[rec.KID] = k
		next.byPurpose[rec.Purpose] = append(next.byPurpose[rec.Purpose], k)
	}
	for purpose, ks := range next.byPurpose {
		algs := s.sets[purpose].Algs
		slices.SortFunc(ks, func(a, b *key) int {
			ai, bi := algIndex(algs, a.rec.Alg), algIndex(algs, b.rec.Alg)
			return cmp.Or(cmp.Compare(ai, bi), compareAge(a.rec, b.rec))
		})
	}
	s.snap.Store(next)
	return nil
}

// algIndex orders algorithms as configured, unconfigured ones last.
func algIndex(algs []string, alg string) int {
	if i := slices.Index(algs, alg); i >= 0 {
		return i
	}
	return len(algs)
}

// compareAge orders keys by NotBefore, then CreatedAt, then KID: the order
// every process agrees on when picking the current key.
func compareAge(a, b storage.KeyRecord) int {
	return cmp.Or(a.NotBefore.Compare(b.NotBefore), a.CreatedAt.Compare(b.CreatedAt), cmp.Compare(a.KID, b.KID))
}

// loadKey parses a record and opens the private operations it still needs,
// reusing those of old when the record did not change.
func (s *Service) loadKey(ctx context.Context, set SetConfig, rec storage.KeyRecord, old *key, now time.Time) (*key, error) {
	use, ok := algUse[rec.Alg]
	if !ok || use != rec.Use {
		return nil, fmt.Errorf("keys: key %s: unsupported algorithm %q for use %q", rec.KID, rec.Alg, rec.Use)
	}
	pubJWK, pub, err := parsePublic(rec)
	if err != nil {
		return nil, err
	}
	k := &key{rec: rec, jwk: pubJWK, pub: pub}
	needPrivate := slices.Contains(set.Algs, rec.Alg) &&
		((use == UseSig && signsOrWill(rec, now)) || (use == UseEnc && published(rec, now)))
	if !needPrivate {
		return k, nil
	}
	if old != nil && old.rec.Backend == rec.Backend && bytes.Equal(old.rec.Private, rec.Private) &&
		(old.signer != nil || old.decrypter != nil || old.agreement != nil) {
		k.signer, k.decrypter, k.agreement = old.signer, old.decrypter, old.agreement
		return k, nil
	}
	if rec.Backend != s.backend.Name() {
		return nil, fmt.Errorf("keys: key %s is held by backend %q, this process uses %q", rec.KID, rec.Backend, s.backend.Name())
	}
	var opened crypto.PublicKey
	switch rec.Alg {
	case AlgRSAOAEP256, AlgECDHES:
		db, ok := s.backend.(DecryptionBackend)
		if !ok {
			return nil, fmt.Errorf("keys: backend %q cannot hold encryption keys", s.backend.Name())
		}
		if rec.Alg == AlgRSAOAEP256 {
			if k.decrypter, err = db.Decrypter(ctx, rec); err != nil {
				return nil, err
			}
			opened = k.decrypter.Public()
		} else {
			if k.agreement, err = db.KeyAgreement(ctx, rec); err != nil {
				return nil, err
			}
			opened = k.agreement.PublicKey()
		}
	default:
		if k.signer, err = s.backend.Signer(ctx, rec); err != nil {
			return nil, err
		}
		opened = k.signer.Public()
	}
	if !samePublic(pub, opened) {
		return nil, fmt.Errorf("keys: key %s: private key does not match the published public key", rec.KID)
	}
	return k, nil
}

// parsePublic parses the public JWK of a record and checks it against the
// record: same kid, alg and use, no private members, right key type.
func parsePublic(rec storage.KeyRecord) (jwk.Key, crypto.PublicKey, error) {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("keys: key %s: public JWK: %s", rec.KID, fmt.Sprintf(format, args...))
	}
	k, err := jwk.ParseKey(rec.Public)
	if err != nil {
		return nil, nil, bad("%v", err)
	}
	if private, err := jwk.IsPrivateKey(k); err != nil || private {
		return nil, nil, bad("not a public key")
	}
	if kid, _ := k.KeyID(); kid != rec.KID {
		return nil, nil, bad("kid %q does not match the record", kid)
	}
	if alg, _ := k.Algorithm(); alg == nil || alg.String() != rec.Alg {
		return nil, nil, bad("alg does not match the record")
	}
	if use, _ := k.KeyUsage(); use != rec.Use {
		return nil, nil, bad("use %q does not match the record", use)
	}
	var raw any
	if err := jwk.Export(k, &raw); err != nil {
		return nil, nil, bad("%v", err)
	}
	if err := checkKeyType(rec.Alg, raw); err != nil {
		return nil, nil, bad("%v", err)
	}
	return k, raw, nil
}

// samePublic reports whether opened (from the backend) is the public key pub
// (from the record).
func samePublic(pub, opened crypto.PublicKey) bool {
	if e, ok := opened.(*ecdh.PublicKey); ok {
		ec, ok := pub.(*ecdsa.PublicKey)
		if !ok {
			return false
		}
		want, err := ec.ECDH()
		return err == nil && want.Equal(e)
	}
	p, ok := pub.(interface{ Equal(crypto.PublicKey) bool })
	return ok && p.Equal(opened)
}

// ensure generates a current key for every (purpose, alg) that has no key
// able to sign now, then reloads. Two processes starting at once on an empty
// store each create one; both keys are published and every process picks
// the same one to sign with (compareAge), and the next rotation retires both.
func (s *Service) ensure(ctx context.Context) error {
	now := s.now()
	snap := s.snap.Load()
	created := false
	for _, purpose := range s.order {
		set := s.sets[purpose]
		for _, alg := range set.Algs {
			if snap.current(purpose, alg, now) != nil {
				continue
			}
			rec, err := s.newRecord(ctx, set, alg, now, 0)
			if err != nil {
				return err
			}
			if err := s.store.CreateKey(ctx, rec); err != nil {
				return fmt.Errorf("keys: store new %s key for %s: %w", alg, purpose, err)
			}
			s.log.InfoContext(ctx, "generated key", "purpose", purpose, "alg", alg, "kid", rec.KID)
			created = true
		}
	}
	if !created {
		return nil
	}
	return s.Refresh(ctx)
}

// newRecord generates a key that starts signing prepublish after now.
func (s *Service) newRecord(ctx context.Context, set SetConfig, alg string, now time.Time, prepublish time.Duration) (storage.KeyRecord, error) {
	kid, err := newKID()
	if err != nil {
		return storage.KeyRecord{}, err
	}
	pub, private, err := s.backend.Generate(ctx, KeySpec{KID: kid, Purpose: set.Purpose, Alg: alg})
	if err != nil {
		return storage.KeyRecord{}, fmt.Errorf("keys: generate %s key for %s: %w", alg, set.Purpose, err)
	}
	public, err := publicJWK(pub, kid, alg)
	if err != nil {
		return storage.KeyRecord{}, err
	}
	created := keyTime(now)
	return storage.KeyRecord{
		KID:       kid,
		Purpose:   set.Purpose,
		Alg:       alg,
		Use:       algUse[alg],
		Backend:   s.backend.Name(),
		Public:    public,
		Private:   private,
		CreatedAt: created,
		NotBefore: keyTime(now.Add(prepublish)),
	}, nil
}

// keyTime rounds key life-cycle times down to the second, a precision every
// store keeps.
func keyTime(t time.Time) time.Time { return t.UTC().Truncate(time.Second) }

// newKID returns a random key id.
func newKID() (string, error) {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("keys: key id: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b[:]), nil
}

// publicJWK encodes pub as a JWK with kid, alg and use.
func publicJWK(pub crypto.PublicKey, kid, alg string) ([]byte, error) {
	if e, ok := pub.(*ecdh.PublicKey); ok && e.Curve() == ecdh.P256() {
		ec, err := ecdsa.ParseUncompressedPublicKey(elliptic.P256(), e.Bytes())
		if err != nil {
			return nil, fmt.Errorf("keys: %s public key: %w", alg, err)
		}
		pub = ec
	}
	if err := checkKeyType(alg, pub); err != nil {
		return nil, fmt.Errorf("keys: backend returned %w", err)
	}
	k, err := jwk.Import(pub)
	if err != nil {
		return nil, fmt.Errorf("keys: %s public key: %w", alg, err)
	}
	for name, v := range map[string]any{jwk.KeyIDKey: kid, jwk.AlgorithmKey: alg, jwk.KeyUsageKey: algUse[alg]} {
		if err := k.Set(name, v); err != nil {
			return nil, fmt.Errorf("keys: %s public key: set %s: %w", alg, name, err)
		}
	}
	if private, err := jwk.IsPrivateKey(k); err != nil || private {
		return nil, fmt.Errorf("keys: backend returned a private key as the %s public key", alg)
	}
	return json.Marshal(k)
}

// signsOrWill reports whether a key is active or pending at now.
func signsOrWill(rec storage.KeyRecord, now time.Time) bool {
	return rec.RetiredAt.IsZero() || now.Before(rec.RetiredAt)
}

// signs reports whether a key may sign at now.
func signs(rec storage.KeyRecord, now time.Time) bool {
	return !now.Before(rec.NotBefore) && signsOrWill(rec, now)
}

// published reports whether a key's public part is published at now.
func published(rec storage.KeyRecord, now time.Time) bool {
	return rec.RetiredAt.IsZero() || now.Before(rec.PublishUntil)
}

// current returns the key that signs for (purpose, alg) at now: of those
// that may sign, the one with the latest NotBefore (ties broken by
// compareAge, so every process agrees).
func (sn *snapshot) current(purpose, alg string, now time.Time) *key {
	var best *key
	for _, k := range sn.byPurpose[purpose] {
		if k.rec.Alg != alg || !signs(k.rec, now) || (k.signer == nil && k.decrypter == nil && k.agreement == nil) {
			continue
		}
		if best == nil || compareAge(k.rec, best.rec) > 0 {
			best = k
		}
	}
	return best
}
