package keys

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lestrrat-go/jwx/v3/jwk"

	"github.com/sanad-id/sanad/storage"
)

// store is a real storage backend a test runs on.
type store struct {
	name string
	open func(t *testing.T) storage.Durable
}

// forEachStore runs fn once per storage backend.
func forEachStore(t *testing.T, fn func(t *testing.T, open func(t *testing.T) storage.Durable)) {
	t.Helper()
	for _, st := range stores() {
		t.Run(st.name, func(t *testing.T) { fn(t, st.open) })
	}
}

// clock is a settable test clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func testLogger(t *testing.T) *slog.Logger {
	return slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelDebug}))
}

func mustMasterKey(t testing.TB) MasterKey {
	t.Helper()
	k, err := GenerateMasterKey()
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func mustBackend(t testing.TB, k MasterKey) *SoftwareBackend {
	t.Helper()
	b, err := NewSoftwareBackend(k)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// fastSets are small key sets without RSA, so tests that generate many
// keys stay quick; tests of RSA use rsaSets or DefaultSets.
func fastSets() []SetConfig {
	return []SetConfig{
		{Purpose: PurposeOIDCSigning, Use: UseSig, Algs: []string{AlgES256, AlgEdDSA}, PublishFor: 24 * time.Hour},
		{Purpose: PurposeStatusList, Use: UseSig, Algs: []string{AlgES256}, PublishFor: 30 * 24 * time.Hour},
		{Purpose: PurposeOIDCEncryption, Use: UseEnc, Algs: []string{AlgECDHES}, PublishFor: 24 * time.Hour},
	}
}

type env struct {
	store   storage.Durable
	master  MasterKey
	backend *SoftwareBackend
	clock   *clock
	sets    []SetConfig
}

func newEnv(t *testing.T, open func(t *testing.T) storage.Durable, sets []SetConfig) *env {
	t.Helper()
	master := mustMasterKey(t)
	return &env{store: open(t), master: master, backend: mustBackend(t, master), clock: newClock(), sets: sets}
}

// service starts a Service on the environment, as a process would.
func (e *env) service(t *testing.T) *Service {
	t.Helper()
	s, err := New(context.Background(), e.config(t))
	if err != nil {
		t.Fatalf("New() = %v", err)
	}
	return s
}

func (e *env) config(t *testing.T) Config {
	return Config{Store: e.store, Backend: e.backend, Sets: e.sets, Now: e.clock.Now, Logger: testLogger(t)}
}

// jwksKIDs returns the kids published for purposes.
func jwksKIDs(t *testing.T, s *Service, purposes ...string) []string {
	t.Helper()
	set, err := s.PublicJWKS(context.Background(), purposes...)
	if err != nil {
		t.Fatalf("PublicJWKS(%v) = %v", purposes, err)
	}
	var kids []string
	for i := range set.Len() {
		k, _ := set.Key(i)
		kid, _ := k.KeyID()
		kids = append(kids, kid)
	}
	return kids
}

// publicKey returns the published JWK with the kid.
func publicKey(t *testing.T, s *Service, purpose, kid string) jwk.Key {
	t.Helper()
	set, err := s.PublicJWKS(context.Background(), purpose)
	if err != nil {
		t.Fatal(err)
	}
	k, ok := set.LookupKeyID(kid)
	if !ok {
		t.Fatalf("kid %s not published for %s", kid, purpose)
	}
	return k
}

// tokenHeader decodes the protected header of a compact JWS or JWE.
func tokenHeader(t *testing.T, token string) map[string]any {
	t.Helper()
	raw, err := base64.RawURLEncoding.DecodeString(strings.Split(token, ".")[0])
	if err != nil {
		t.Fatal(err)
	}
	var h map[string]any
	if err := json.Unmarshal(raw, &h); err != nil {
		t.Fatal(err)
	}
	return h
}

func tokenKID(t *testing.T, token string) string {
	t.Helper()
	kid, _ := tokenHeader(t, token)["kid"].(string)
	return kid
}

// records lists the stored keys of purpose ("" for all).
func records(t *testing.T, st storage.Keys, purpose string) []storage.KeyRecord {
	t.Helper()
	recs, err := st.ListKeys(context.Background(), purpose)
	if err != nil {
		t.Fatal(err)
	}
	return recs
}

// infos indexes key infos by kid.
func infos(t *testing.T, s *Service, purpose string) map[string]KeyInfo {
	t.Helper()
	list, err := s.List(context.Background(), purpose)
	if err != nil {
		t.Fatal(err)
	}
	m := make(map[string]KeyInfo, len(list))
	for _, ki := range list {
		m[ki.KID] = ki
	}
	return m
}
