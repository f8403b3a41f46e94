package idrepo

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
	"testing"

	"github.com/sanad-id/sanad/idrepo/idgen"
	"github.com/sanad-id/sanad/storage/sqldb"
	"github.com/sanad-id/sanad/storage/storagetest"
)

// This file is the one place the tests get their keys and stores from. The
// keys are a stand-in for the keys service: when *keys.Service implements
// KeyWrapper and MAC, newTestKeys is the only function to change.

// testKeys wraps data keys with AES-256-GCM under a random key-wrapping key
// and computes HMAC-SHA-256 under a random index key.
type testKeys struct {
	kid      string
	wrapKey  []byte
	indexKey []byte
}

var (
	_ KeyWrapper = (*testKeys)(nil)
	_ MAC        = (*testKeys)(nil)
)

func newTestKeys(t testing.TB) *testKeys {
	t.Helper()
	k := &testKeys{kid: "test-kek-1", wrapKey: make([]byte, 32), indexKey: make([]byte, 32)}
	rand.Read(k.wrapKey)
	rand.Read(k.indexKey)
	return k
}

func (k *testKeys) aead() cipher.AEAD {
	b, err := aes.NewCipher(k.wrapKey)
	if err != nil {
		panic(err)
	}
	g, err := cipher.NewGCM(b)
	if err != nil {
		panic(err)
	}
	return g
}

func (k *testKeys) WrapKey(_ context.Context, purpose string, dek []byte) (string, []byte, error) {
	if purpose != PurposeEncryption {
		return "", nil, fmt.Errorf("testKeys: unknown purpose %q", purpose)
	}
	g := k.aead()
	nonce := make([]byte, g.NonceSize())
	rand.Read(nonce)
	return k.kid, g.Seal(nonce, nonce, dek, []byte(purpose)), nil
}

func (k *testKeys) UnwrapKey(_ context.Context, purpose, kid string, wrapped []byte) ([]byte, error) {
	if purpose != PurposeEncryption || kid != k.kid {
		return nil, fmt.Errorf("testKeys: unknown key %q/%q", purpose, kid)
	}
	g := k.aead()
	if len(wrapped) < g.NonceSize() {
		return nil, errors.New("testKeys: wrapped key too short")
	}
	return g.Open(nil, wrapped[:g.NonceSize()], wrapped[g.NonceSize():], []byte(purpose))
}

func (k *testKeys) MAC(_ context.Context, purpose string, data []byte) ([]byte, error) {
	if purpose != PurposeIndex {
		return nil, fmt.Errorf("testKeys: unknown purpose %q", purpose)
	}
	m := hmac.New(sha256.New, k.indexKey)
	m.Write(data)
	return m.Sum(nil), nil
}

// newTestRepo returns a repository on store with test keys, closed when t
// ends. cfg may set anything but Store, Keys and MAC.
func newTestRepo(t testing.TB, store Store, cfg ...Config) *Repository {
	t.Helper()
	var c Config
	if len(cfg) > 0 {
		c = cfg[0]
	}
	k := newTestKeys(t)
	c.Store, c.Keys, c.MAC = store, k, k
	if c.Logger == nil {
		c.Logger = slog.New(slog.NewTextHandler(t.Output(), nil))
	}
	r, err := New(c)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(func() { r.Close() })
	return r
}

// forEachStore runs f against a fresh SQLite and a fresh PostgreSQL store.
func forEachStore(t *testing.T, f func(t *testing.T, db *sqldb.DB)) {
	t.Helper()
	t.Run("sqlite", func(t *testing.T) { f(t, storagetest.OpenSQLite(t)) })
	t.Run("postgres", func(t *testing.T) { f(t, storagetest.OpenPostgres(t)) })
}

// amina returns a valid identity; each call returns a fresh map.
func amina() map[string]any {
	return map[string]any{
		"fullName": []any{
			map[string]any{"language": "eng", "value": "Amina Testwoman"},
			map[string]any{"language": "ara", "value": "أمينة"},
		},
		"dateOfBirth": "1990/05/14",
		"phone":       "+44 7700 900555",
		"email":       "Amina.Testwoman@Example.ORG",
	}
}

// identityWith returns a valid identity with the given phone and e-mail
// address (omitted when empty).
func identityWith(name, phone, email string) map[string]any {
	m := map[string]any{
		"fullName":    []any{map[string]any{"language": "eng", "value": name}},
		"dateOfBirth": "2000/01/31",
	}
	if phone != "" {
		m["phone"] = phone
	}
	if email != "" {
		m["email"] = email
	}
	return m
}

// codeOf returns the code of an *Error, or "" for nil, or the error text.
func codeOf(err error) string {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return "not an *Error: " + err.Error()
}

var testUINRules = idgen.DefaultUINRules()
