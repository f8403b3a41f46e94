// Package storage defines where Sanad keeps its state, independent of any backend.
//
// Sanad has two kinds of state. Durable records (keys, residents, clients,
// consents, the credential ledger, status lists, audit) live in a SQL
// database: SQLite as the embedded default (storage/sqlite) and PostgreSQL in
// production (storage/postgres). Transaction state with a time to live
// (authorization transactions, codes, nonces, replay caches, rate-limit
// counters) lives in a State: in memory by default (storage/memory) and in
// Redis in production (storage/redis).
//
// Every backend passes the conformance suites in storage/storagetest.
package storage

import (
	"context"
	"errors"
	"time"
)

// Errors returned by every backend. Match them with errors.Is.
var (
	// ErrNotFound: the record or state entry does not exist (or has expired).
	ErrNotFound = errors.New("storage: not found")
	// ErrAlreadyExists: a record with the same unique key exists.
	ErrAlreadyExists = errors.New("storage: already exists")
	// ErrConflict: a compare-and-swap or optimistic update lost against a concurrent writer.
	ErrConflict = errors.New("storage: conflict")
)

// Durable is the system of record. Backends: storage/sqlite, storage/postgres.
type Durable interface {
	Keys
	Residents
	Audit
	Factors
	Clients
	Consents
	Ledger
	StatusLists
	// Ping reports whether the database answers.
	Ping(ctx context.Context) error
	Close() error
}

// KeyRecord is one key of a key set, as stored. The private part is opaque to
// storage: the keys package seals it (or, for an HSM, stores a reference).
// Backends keep times to the microsecond and return them in UTC; a zero time
// stays zero.
type KeyRecord struct {
	KID     string // unique key id
	Purpose string // key set, for example "oidc-signing"
	Alg     string // JOSE algorithm: ES256, EdDSA, RS256, PS256, RSA-OAEP-256, ECDH-ES
	Use     string // "sig" or "enc"
	Backend string // which keys backend holds the private part ("software", later "pkcs11")
	Public  []byte // public JWK, JSON
	Private []byte // sealed private key or backend reference; never logged
	// CreatedAt is when the key was made; NotBefore when it may start signing
	// (a key can be published before it is used).
	CreatedAt time.Time
	NotBefore time.Time
	// RetiredAt is when the key stopped signing (zero while active);
	// PublishUntil is how long its public part stays published for
	// verification after that (zero while active).
	RetiredAt    time.Time
	PublishUntil time.Time
}

// Keys stores key sets.
type Keys interface {
	// CreateKey stores a new key; ErrAlreadyExists if the KID is taken.
	CreateKey(ctx context.Context, k KeyRecord) error
	// RotateKey stores k and, in the same transaction, retires every other
	// unretired key with the same Purpose and Alg: RetiredAt = retiredAt,
	// PublishUntil = publishUntil. retiredAt must not be the zero time.
	// Concurrent rotations of one Purpose and Alg leave exactly one of the
	// new keys unretired.
	RotateKey(ctx context.Context, k KeyRecord, retiredAt, publishUntil time.Time) error
	// ListKeys returns the keys of one purpose ("" for all), oldest first
	// (by CreatedAt, ties by KID).
	ListKeys(ctx context.Context, purpose string) ([]KeyRecord, error)
	// DeleteKeysPublishedBefore removes retired keys whose PublishUntil is
	// before t and returns how many it removed.
	DeleteKeysPublishedBefore(ctx context.Context, t time.Time) (int, error)
}

// State holds short-lived transaction state. Keys are opaque strings chosen by
// callers, conventionally "<area>:<kind>:<id>" (for example "oidc:code:…").
// Every entry has a TTL; an expired entry behaves as if it did not exist.
// A ttl argument must be positive: zero or negative is an error.
// Backends: storage/memory, storage/redis.
type State interface {
	// Put stores value under key, replacing any existing entry.
	Put(ctx context.Context, key string, value []byte, ttl time.Duration) error
	// PutNew stores value only if key is absent and reports whether it did.
	// Replay caches (nonces, jti) use it: the first caller wins.
	PutNew(ctx context.Context, key string, value []byte, ttl time.Duration) (bool, error)
	// Get returns the value, or ErrNotFound.
	Get(ctx context.Context, key string) ([]byte, error)
	// Take returns the value and deletes the entry atomically: among any
	// number of concurrent callers exactly one gets the value, the others
	// ErrNotFound. Single-use items (codes, request_uri, pre-authorized
	// codes) are consumed with Take.
	Take(ctx context.Context, key string) ([]byte, error)
	// Swap replaces the value only if it is still old (byte-equal), setting a
	// new TTL. ErrNotFound if the entry is gone, ErrConflict if it changed.
	// State machines (pre-auth → authenticated) advance with Swap.
	Swap(ctx context.Context, key string, old, value []byte, ttl time.Duration) error
	// Delete removes the entry; deleting a missing entry is not an error.
	Delete(ctx context.Context, key string) error
	// Incr adds one to the counter at key and returns the new value. The TTL
	// is set when the counter is created and not extended by later calls, so
	// a counter counts within a fixed window (rate limits, attempt limits).
	// The counter is stored as decimal text (Get returns "3"); Incr on a
	// value that is not such a number is an error.
	Incr(ctx context.Context, key string, ttl time.Duration) (int64, error)
	// Ping reports whether the backend answers.
	Ping(ctx context.Context) error
	Close() error
}
