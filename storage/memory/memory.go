// Package memory keeps Sanad's transaction state (codes, nonces, replay
// caches, counters) in the process's memory: the default for a single
// process, which needs no Redis. Everything is lost on restart, and processes
// do not share it; deployments with several processes use storage/redis.
package memory

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/sanad-id/sanad/storage"
)

// DefaultSweepInterval is how often expired entries are removed when
// Config.SweepInterval is zero.
const DefaultSweepInterval = time.Minute

// errClosed is returned by every method after Close.
var errClosed = errors.New("memory: state is closed")

// Config configures a State. The zero value is ready to use.
type Config struct {
	// Now returns the current time; time.Now when nil. Tests set it to
	// expire entries without waiting.
	Now func() time.Time
	// SweepInterval is how often a background goroutine removes expired
	// entries; DefaultSweepInterval when zero. Expired entries are invisible
	// whether or not they have been swept: the sweep only frees memory.
	SweepInterval time.Duration
}

// State is a storage.State in a map guarded by a mutex. It is safe for
// concurrent use; Close stops its sweeper.
type State struct {
	now func() time.Time

	mu      sync.Mutex
	entries map[string]entry
	closed  bool

	stop      chan struct{}
	done      chan struct{}
	closeOnce sync.Once
}

type entry struct {
	value   []byte
	expires time.Time
}

var _ storage.State = (*State)(nil)

// New returns an empty State and starts its sweeper.
func New(cfg Config) *State {
	s := &State{
		now:     cfg.Now,
		entries: map[string]entry{},
		stop:    make(chan struct{}),
		done:    make(chan struct{}),
	}
	if s.now == nil {
		s.now = time.Now
	}
	interval := cfg.SweepInterval
	if interval <= 0 {
		interval = DefaultSweepInterval
	}
	go s.sweepEvery(interval)
	return s
}

func (s *State) sweepEvery(interval time.Duration) {
	defer close(s.done)
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-s.stop:
			return
		case <-t.C:
			s.sweep()
		}
	}
}

// sweep removes every expired entry.
func (s *State) sweep() {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	for k, e := range s.entries {
		if !now.Before(e.expires) {
			delete(s.entries, k)
		}
	}
}

// lookup returns the live entry at key, removing it if it has expired.
// s.mu must be held.
func (s *State) lookup(key string, now time.Time) (entry, bool) {
	e, ok := s.entries[key]
	if !ok {
		return entry{}, false
	}
	if !now.Before(e.expires) {
		delete(s.entries, key)
		return entry{}, false
	}
	return e, true
}

// lock takes s.mu and returns the current time, or errClosed.
func (s *State) lock() (time.Time, error) {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return time.Time{}, errClosed
	}
	return s.now(), nil
}

func checkTTL(op string, ttl time.Duration) error {
	if ttl <= 0 {
		return fmt.Errorf("memory: %s: ttl %v is not positive", op, ttl)
	}
	return nil
}

// Put stores value under key, replacing any existing entry.
func (s *State) Put(_ context.Context, key string, value []byte, ttl time.Duration) error {
	if err := checkTTL("put", ttl); err != nil {
		return err
	}
	now, err := s.lock()
	if err != nil {
		return err
	}
	defer s.mu.Unlock()
	s.entries[key] = entry{value: clone(value), expires: now.Add(ttl)}
	return nil
}

// PutNew stores value only if key is absent and reports whether it did.
func (s *State) PutNew(_ context.Context, key string, value []byte, ttl time.Duration) (bool, error) {
	if err := checkTTL("put new", ttl); err != nil {
		return false, err
	}
	now, err := s.lock()
	if err != nil {
		return false, err
	}
	defer s.mu.Unlock()
	if _, ok := s.lookup(key, now); ok {
		return false, nil
	}
	s.entries[key] = entry{value: clone(value), expires: now.Add(ttl)}
	return true, nil
}

// Get returns the value, or storage.ErrNotFound.
func (s *State) Get(_ context.Context, key string) ([]byte, error) {
	now, err := s.lock()
	if err != nil {
		return nil, err
	}
	defer s.mu.Unlock()
	e, ok := s.lookup(key, now)
	if !ok {
		return nil, storage.ErrNotFound
	}
	return clone(e.value), nil
}

// Take returns the value and deletes the entry, or storage.ErrNotFound.
func (s *State) Take(_ context.Context, key string) ([]byte, error) {
	now, err := s.lock()
	if err != nil {
		return nil, err
	}
	defer s.mu.Unlock()
	e, ok := s.lookup(key, now)
	if !ok {
		return nil, storage.ErrNotFound
	}
	delete(s.entries, key)
	// The entry is gone, so nobody else holds e.value.
	return e.value, nil
}

// Swap replaces the value only if it is still old, setting a new TTL.
func (s *State) Swap(_ context.Context, key string, old, value []byte, ttl time.Duration) error {
	if err := checkTTL("swap", ttl); err != nil {
		return err
	}
	now, err := s.lock()
	if err != nil {
		return err
	}
	defer s.mu.Unlock()
	e, ok := s.lookup(key, now)
	if !ok {
		return storage.ErrNotFound
	}
	if !slices.Equal(e.value, old) {
		return storage.ErrConflict
	}
	s.entries[key] = entry{value: clone(value), expires: now.Add(ttl)}
	return nil
}

// Delete removes the entry, if any.
func (s *State) Delete(_ context.Context, key string) error {
	if _, err := s.lock(); err != nil {
		return err
	}
	defer s.mu.Unlock()
	delete(s.entries, key)
	return nil
}

// Incr adds one to the counter at key and returns the new value. A new
// counter expires after ttl; later calls keep that expiry. The counter is
// stored as decimal text, as in Redis, so Get returns for example "3", and
// Incr fails on a value that is not such a number.
func (s *State) Incr(_ context.Context, key string, ttl time.Duration) (int64, error) {
	if err := checkTTL("incr", ttl); err != nil {
		return 0, err
	}
	now, err := s.lock()
	if err != nil {
		return 0, err
	}
	defer s.mu.Unlock()
	e, ok := s.lookup(key, now)
	if !ok {
		s.entries[key] = entry{value: []byte("1"), expires: now.Add(ttl)}
		return 1, nil
	}
	n, err := strconv.ParseInt(string(e.value), 10, 64)
	if err != nil {
		return 0, errors.New("memory: incr: value is not an integer")
	}
	if n == math.MaxInt64 {
		return 0, errors.New("memory: incr: counter would overflow")
	}
	n++
	s.entries[key] = entry{value: strconv.AppendInt(nil, n, 10), expires: e.expires}
	return n, nil
}

// Ping reports whether the State is open.
func (s *State) Ping(context.Context) error {
	if _, err := s.lock(); err != nil {
		return err
	}
	s.mu.Unlock()
	return nil
}

// Close stops the sweeper and drops every entry; later calls fail. Closing
// twice is harmless.
func (s *State) Close() error {
	s.closeOnce.Do(func() {
		close(s.stop)
		<-s.done
		s.mu.Lock()
		s.closed = true
		s.entries = nil
		s.mu.Unlock()
	})
	return nil
}

// clone copies b so that callers cannot change stored values, keeping an
// empty value non-nil.
func clone(b []byte) []byte {
	return append([]byte{}, b...)
}
