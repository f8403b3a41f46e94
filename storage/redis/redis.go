// Package redis keeps Sanad's transaction state (codes, nonces, replay
// caches, counters) in Redis, so that every process of a deployment sees the
// same state and a code issued by one is redeemed by another.
//
// Each operation is one atomic Redis command or Lua script: Take is GETDEL,
// PutNew is SET NX PX, Swap and Incr are scripts. Redis 6.2 or later is
// required (GETDEL). TTLs are rounded up to whole milliseconds.
package redis

import (
	"context"
	"errors"
	"fmt"
	neturl "net/url"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/sanad-id/sanad/storage"
)

// State is a storage.State in Redis. Every key is stored under a prefix, so
// several deployments (or tests) can share one Redis database.
type State struct {
	client goredis.UniversalClient
	prefix string
}

var _ storage.State = (*State)(nil)

// Open connects to the Redis server at url (redis://[user:password@]host:port/db,
// or rediss:// for TLS) and checks that it answers. prefix is put in front of
// every key, for example "sanad:".
func Open(ctx context.Context, url, prefix string) (*State, error) {
	opt, err := goredis.ParseURL(url)
	if err != nil {
		// A *url.Error quotes the URL, which may hold a password.
		var ue *neturl.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return nil, fmt.Errorf("redis: parse url: %w", err)
	}
	s := New(goredis.NewClient(opt), prefix)
	if err := s.Ping(ctx); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

// New returns a State on an existing client (a cluster or sentinel client,
// for example). The State owns the client: Close closes it.
func New(client goredis.UniversalClient, prefix string) *State {
	return &State{client: client, prefix: prefix}
}

func (s *State) key(k string) string { return s.prefix + k }

// px converts a TTL to a whole number of milliseconds, rounding up so that a
// short TTL never becomes zero (no expiry) or is shortened.
func px(op string, ttl time.Duration) (time.Duration, error) {
	if ttl <= 0 {
		return 0, fmt.Errorf("redis: %s: ttl %v is not positive", op, ttl)
	}
	d := ttl.Truncate(time.Millisecond)
	if d < ttl {
		d += time.Millisecond
	}
	return d, nil
}

// Put stores value under key, replacing any existing entry.
func (s *State) Put(ctx context.Context, key string, value []byte, ttl time.Duration) error {
	d, err := px("put", ttl)
	if err != nil {
		return err
	}
	if err := s.client.Set(ctx, s.key(key), value, d).Err(); err != nil {
		return fmt.Errorf("redis: put: %w", err)
	}
	return nil
}

// PutNew stores value only if key is absent and reports whether it did.
func (s *State) PutNew(ctx context.Context, key string, value []byte, ttl time.Duration) (bool, error) {
	d, err := px("put new", ttl)
	if err != nil {
		return false, err
	}
	ok, err := s.client.SetNX(ctx, s.key(key), value, d).Result()
	if err != nil {
		return false, fmt.Errorf("redis: put new: %w", err)
	}
	return ok, nil
}

// Get returns the value, or storage.ErrNotFound.
func (s *State) Get(ctx context.Context, key string) ([]byte, error) {
	v, err := s.client.Get(ctx, s.key(key)).Bytes()
	if errors.Is(err, goredis.Nil) {
		return nil, storage.ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("redis: get: %w", err)
	}
	return v, nil
}

// Take returns the value and deletes the entry in one GETDEL, or
// storage.ErrNotFound.
func (s *State) Take(ctx context.Context, key string) ([]byte, error) {
	v, err := s.client.GetDel(ctx, s.key(key)).Bytes()
	if errors.Is(err, goredis.Nil) {
		return nil, storage.ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("redis: take: %w", err)
	}
	return v, nil
}

// swapScript sets KEYS[1] to ARGV[2] with a TTL of ARGV[3] ms if its value is
// ARGV[1]. It returns 0 if the key is missing, 1 if the value differs, 2 once
// swapped.
var swapScript = goredis.NewScript(`
local v = redis.call('GET', KEYS[1])
if v == false then return 0 end
if v ~= ARGV[1] then return 1 end
redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
return 2
`)

// Swap replaces the value only if it is still old, setting a new TTL.
func (s *State) Swap(ctx context.Context, key string, old, value []byte, ttl time.Duration) error {
	d, err := px("swap", ttl)
	if err != nil {
		return err
	}
	r, err := swapScript.Run(ctx, s.client, []string{s.key(key)}, old, value, d.Milliseconds()).Int()
	if err != nil {
		return fmt.Errorf("redis: swap: %w", err)
	}
	switch r {
	case 0:
		return storage.ErrNotFound
	case 1:
		return storage.ErrConflict
	}
	return nil
}

// Delete removes the entry, if any.
func (s *State) Delete(ctx context.Context, key string) error {
	if err := s.client.Del(ctx, s.key(key)).Err(); err != nil {
		return fmt.Errorf("redis: delete: %w", err)
	}
	return nil
}

// incrScript increments KEYS[1] and, if the key has no TTL (INCR just
// created it), sets one of ARGV[1] ms. It returns the new value.
var incrScript = goredis.NewScript(`
local n = redis.call('INCR', KEYS[1])
if redis.call('PTTL', KEYS[1]) == -1 then
	redis.call('PEXPIRE', KEYS[1], ARGV[1])
end
return n
`)

// Incr adds one to the counter at key and returns the new value. A new
// counter expires after ttl; later calls keep that expiry. The counter is a
// Redis integer string, so Get returns for example "3", and Incr fails on a
// value that is not such a number.
func (s *State) Incr(ctx context.Context, key string, ttl time.Duration) (int64, error) {
	d, err := px("incr", ttl)
	if err != nil {
		return 0, err
	}
	n, err := incrScript.Run(ctx, s.client, []string{s.key(key)}, d.Milliseconds()).Int64()
	if err != nil {
		return 0, fmt.Errorf("redis: incr: %w", err)
	}
	return n, nil
}

// Ping reports whether Redis answers.
func (s *State) Ping(ctx context.Context) error {
	if err := s.client.Ping(ctx).Err(); err != nil {
		return fmt.Errorf("redis: ping: %w", err)
	}
	return nil
}

// Close closes the client.
func (s *State) Close() error { return s.client.Close() }
