package storagetest

import (
	"bytes"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/sanad-id/sanad/storage"
)

// Times for the expiry cases: entries live for shortTTL, and waitGone polls
// every pollInterval for up to expiryDeadline (generous, for loaded CI
// machines) until one is gone.
const (
	shortTTL       = 100 * time.Millisecond
	longTTL        = time.Hour
	pollInterval   = 5 * time.Millisecond
	expiryDeadline = 5 * time.Second
)

// RunState checks that a storage.State backend keeps the contract of
// package storage. open must return a new, empty State on each call and close
// it when t ends; each case opens its own. Expiry cases use real time (short
// TTLs, polled) and run in parallel.
func RunState(t *testing.T, open func(t *testing.T) storage.State) {
	t.Run("Ping", func(t *testing.T) {
		if err := open(t).Ping(t.Context()); err != nil {
			t.Errorf("Ping() = %v, want nil", err)
		}
	})
	t.Run("Put then Get", func(t *testing.T) { testPutGet(t, open(t)) })
	t.Run("Get of a missing key", func(t *testing.T) { testGetMissing(t, open(t)) })
	t.Run("Put overwrites", func(t *testing.T) { testPutOverwrites(t, open(t)) })
	t.Run("values are copied", func(t *testing.T) { testValuesCopied(t, open(t)) })
	t.Run("PutNew first wins", func(t *testing.T) { testPutNew(t, open(t)) })
	t.Run("Take is single use", func(t *testing.T) { testTake(t, open(t)) })
	t.Run("Swap", func(t *testing.T) { testSwap(t, open(t)) })
	t.Run("Delete", func(t *testing.T) { testDelete(t, open(t)) })
	t.Run("Incr counts", func(t *testing.T) { testIncr(t, open(t)) })
	t.Run("Incr of a value that is not a counter", func(t *testing.T) { testIncrNotCounter(t, open(t)) })
	t.Run("TTL must be positive", func(t *testing.T) { testBadTTL(t, open(t)) })
	t.Run("expiry", func(t *testing.T) { testExpiry(t, open) })
	t.Run("concurrent", func(t *testing.T) { testStateConcurrency(t, open) })
}

func mustPut(t *testing.T, s storage.State, key, value string, ttl time.Duration) {
	t.Helper()
	if err := s.Put(t.Context(), key, []byte(value), ttl); err != nil {
		t.Fatalf("Put(%q, %q, %v) = %v, want nil", key, value, ttl, err)
	}
}

// checkGet checks that Get(key) returns want.
func checkGet(t *testing.T, s storage.State, key, want string) {
	t.Helper()
	got, err := s.Get(t.Context(), key)
	if err != nil || string(got) != want {
		t.Errorf("Get(%q) = %q, %v, want %q, nil", key, got, err, want)
	}
}

// checkGone checks that Get(key) returns storage.ErrNotFound.
func checkGone(t *testing.T, s storage.State, key string) {
	t.Helper()
	got, err := s.Get(t.Context(), key)
	if !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("Get(%q) = %q, %v, want %v", key, got, err, storage.ErrNotFound)
	}
}

func testPutGet(t *testing.T, s storage.State) {
	tests := []struct {
		name, key string
		value     []byte
	}{
		{"text", "oidc:code:abc", []byte("v1")},
		{"empty value", "oidc:code:empty", []byte{}},
		{"binary value", "oidc:code:bin", []byte{0, 1, 2, 0xff, '\n', 0}},
		{"key with spaces and glob characters", "a b*?[c]\\", []byte("v")},
		{"unicode key", "سند:رمز", []byte("v")},
		{"large value", "large", bytes.Repeat([]byte("x"), 1<<20)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := s.Put(t.Context(), tt.key, tt.value, longTTL); err != nil {
				t.Fatalf("Put(%q) = %v, want nil", tt.key, err)
			}
			got, err := s.Get(t.Context(), tt.key)
			if err != nil || !bytes.Equal(got, tt.value) {
				t.Errorf("Get(%q) = %.40q, %v, want %.40q, nil", tt.key, got, err, tt.value)
			}
		})
	}
}

func testGetMissing(t *testing.T, s storage.State) {
	mustPut(t, s, "present", "v", longTTL)
	checkGone(t, s, "missing")
	checkGone(t, s, "presen")
	checkGone(t, s, "present2")
}

func testPutOverwrites(t *testing.T, s storage.State) {
	mustPut(t, s, "k", "v1", longTTL)
	mustPut(t, s, "k", "v2", longTTL)
	checkGet(t, s, "k", "v2")
}

func testValuesCopied(t *testing.T, s storage.State) {
	v := []byte("value")
	if err := s.Put(t.Context(), "k", v, longTTL); err != nil {
		t.Fatalf("Put = %v", err)
	}
	v[0] = 'X'
	got, err := s.Get(t.Context(), "k")
	if err != nil {
		t.Fatalf("Get = %v", err)
	}
	if len(got) > 0 {
		got[0] = 'Y'
	}
	checkGet(t, s, "k", "value")
}

func testPutNew(t *testing.T, s storage.State) {
	tests := []struct {
		value string
		want  bool
	}{
		{"first", true},
		{"second", false},
		{"third", false},
	}
	for _, tt := range tests {
		got, err := s.PutNew(t.Context(), "jti:1", []byte(tt.value), longTTL)
		if got != tt.want || err != nil {
			t.Errorf("PutNew(%q, %q) = %v, %v, want %v, nil", "jti:1", tt.value, got, err, tt.want)
		}
	}
	checkGet(t, s, "jti:1", "first")
	mustPut(t, s, "existing", "put", longTTL)
	if got, err := s.PutNew(t.Context(), "existing", []byte("new"), longTTL); got || err != nil {
		t.Errorf("PutNew(%q) over Put = %v, %v, want false, nil", "existing", got, err)
	}
	checkGet(t, s, "existing", "put")
}

func testTake(t *testing.T, s storage.State) {
	mustPut(t, s, "code", "v", longTTL)
	got, err := s.Take(t.Context(), "code")
	if err != nil || string(got) != "v" {
		t.Errorf("Take(%q) = %q, %v, want %q, nil", "code", got, err, "v")
	}
	got, err = s.Take(t.Context(), "code")
	if !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("second Take(%q) = %q, %v, want %v", "code", got, err, storage.ErrNotFound)
	}
	checkGone(t, s, "code")
	if got, err := s.Take(t.Context(), "never"); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("Take(%q) = %q, %v, want %v", "never", got, err, storage.ErrNotFound)
	}
}

func testSwap(t *testing.T, s storage.State) {
	tests := []struct {
		name      string
		put       string // "" for no entry
		old, new  string
		wantErr   error
		wantAfter string // "" for no entry
	}{
		{"matching old value", "pre-auth", "pre-auth", "authenticated", nil, "authenticated"},
		{"same value", "pre-auth", "pre-auth", "pre-auth", nil, "pre-auth"},
		{"changed value", "authenticated", "pre-auth", "consented", storage.ErrConflict, "authenticated"},
		{"prefix of the value", "pre-auth", "pre", "x", storage.ErrConflict, "pre-auth"},
		{"missing entry", "", "pre-auth", "authenticated", storage.ErrNotFound, ""},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			key := fmt.Sprintf("tx:%d", i)
			if tt.put != "" {
				mustPut(t, s, key, tt.put, longTTL)
			}
			err := s.Swap(t.Context(), key, []byte(tt.old), []byte(tt.new), longTTL)
			if !errors.Is(err, tt.wantErr) || (tt.wantErr == nil && err != nil) {
				t.Errorf("Swap(%q, %q, %q) = %v, want %v", key, tt.old, tt.new, err, tt.wantErr)
			}
			if tt.wantAfter == "" {
				checkGone(t, s, key)
			} else {
				checkGet(t, s, key, tt.wantAfter)
			}
		})
	}
}

func testDelete(t *testing.T, s storage.State) {
	mustPut(t, s, "k", "v", longTTL)
	mustPut(t, s, "other", "v", longTTL)
	for _, key := range []string{"k", "k", "never"} {
		if err := s.Delete(t.Context(), key); err != nil {
			t.Errorf("Delete(%q) = %v, want nil", key, err)
		}
	}
	checkGone(t, s, "k")
	checkGet(t, s, "other", "v")
	if ok, err := s.PutNew(t.Context(), "k", []byte("again"), longTTL); !ok || err != nil {
		t.Errorf("PutNew(%q) after Delete = %v, %v, want true, nil", "k", ok, err)
	}
}

func testIncr(t *testing.T, s storage.State) {
	for want := int64(1); want <= 3; want++ {
		got, err := s.Incr(t.Context(), "attempts:u1", longTTL)
		if got != want || err != nil {
			t.Errorf("Incr(%q) = %d, %v, want %d, nil", "attempts:u1", got, err, want)
		}
	}
	checkGet(t, s, "attempts:u1", "3")
	if got, err := s.Incr(t.Context(), "attempts:u2", longTTL); got != 1 || err != nil {
		t.Errorf("Incr(%q) = %d, %v, want 1, nil", "attempts:u2", got, err)
	}
	mustPut(t, s, "counter", "41", longTTL)
	if got, err := s.Incr(t.Context(), "counter", longTTL); got != 42 || err != nil {
		t.Errorf("Incr(%q) over Put 41 = %d, %v, want 42, nil", "counter", got, err)
	}
}

func testIncrNotCounter(t *testing.T, s storage.State) {
	mustPut(t, s, "k", "not a number", longTTL)
	if got, err := s.Incr(t.Context(), "k", longTTL); err == nil {
		t.Errorf("Incr(%q) = %d, nil, want an error", "k", got)
	}
	checkGet(t, s, "k", "not a number")
}

func testBadTTL(t *testing.T, s storage.State) {
	mustPut(t, s, "k", "v", longTTL)
	for _, ttl := range []time.Duration{0, -time.Second} {
		t.Run(ttl.String(), func(t *testing.T) {
			ctx := t.Context()
			if err := s.Put(ctx, "new", []byte("v"), ttl); err == nil {
				t.Errorf("Put(ttl %v) = nil, want an error", ttl)
			}
			if ok, err := s.PutNew(ctx, "new", []byte("v"), ttl); err == nil {
				t.Errorf("PutNew(ttl %v) = %v, nil, want an error", ttl, ok)
			}
			if err := s.Swap(ctx, "k", []byte("v"), []byte("w"), ttl); err == nil {
				t.Errorf("Swap(ttl %v) = nil, want an error", ttl)
			}
			if n, err := s.Incr(ctx, "n", ttl); err == nil {
				t.Errorf("Incr(ttl %v) = %d, nil, want an error", ttl, n)
			}
			checkGone(t, s, "new")
			checkGone(t, s, "n")
			checkGet(t, s, "k", "v")
		})
	}
}

// waitGone polls Get(key) until it returns storage.ErrNotFound and fails t
// if that takes longer than expiryDeadline.
func waitGone(t *testing.T, s storage.State, key string) {
	t.Helper()
	deadline := time.Now().Add(expiryDeadline)
	for {
		_, err := s.Get(t.Context(), key)
		if errors.Is(err, storage.ErrNotFound) {
			return
		}
		if err != nil {
			t.Fatalf("Get(%q) = %v, want nil or %v", key, err, storage.ErrNotFound)
		}
		if time.Now().After(deadline) {
			t.Fatalf("Get(%q) still finds the entry %v after it was set to expire", key, expiryDeadline)
		}
		time.Sleep(pollInterval)
	}
}

// expireMarker puts a marker entry with shortTTL and waits until it has
// expired: every entry set to expire within shortTTL before the call has
// then expired too, in the backend's own clock.
func expireMarker(t *testing.T, s storage.State) {
	t.Helper()
	mustPut(t, s, "marker", "m", shortTTL)
	waitGone(t, s, "marker")
}

func testExpiry(t *testing.T, open func(t *testing.T) storage.State) {
	t.Run("Put expires", func(t *testing.T) {
		t.Parallel()
		s := open(t)
		start := time.Now()
		mustPut(t, s, "k", "v", shortTTL)
		got, err := s.Get(t.Context(), "k")
		if (err != nil || string(got) != "v") && time.Since(start) < shortTTL {
			t.Errorf("Get(%q) right after Put = %q, %v, want %q, nil", "k", got, err, "v")
		}
		waitGone(t, s, "k")
	})
	t.Run("Put replaces the TTL", func(t *testing.T) {
		t.Parallel()
		s := open(t)
		mustPut(t, s, "k", "v1", shortTTL)
		mustPut(t, s, "k", "v2", longTTL)
		expireMarker(t, s)
		checkGet(t, s, "k", "v2")
	})
	t.Run("expired entries are gone for every operation", func(t *testing.T) {
		t.Parallel()
		s := open(t)
		for _, k := range []string{"take", "swap", "putnew", "incr"} {
			mustPut(t, s, k, "1", shortTTL)
		}
		expireMarker(t, s)
		ctx := t.Context()
		if got, err := s.Take(ctx, "take"); !errors.Is(err, storage.ErrNotFound) {
			t.Errorf("Take(expired) = %q, %v, want %v", got, err, storage.ErrNotFound)
		}
		if err := s.Swap(ctx, "swap", []byte("1"), []byte("2"), longTTL); !errors.Is(err, storage.ErrNotFound) {
			t.Errorf("Swap(expired) = %v, want %v", err, storage.ErrNotFound)
		}
		if ok, err := s.PutNew(ctx, "putnew", []byte("2"), longTTL); !ok || err != nil {
			t.Errorf("PutNew(expired) = %v, %v, want true, nil", ok, err)
		}
		if n, err := s.Incr(ctx, "incr", longTTL); n != 1 || err != nil {
			t.Errorf("Incr(expired) = %d, %v, want 1, nil", n, err)
		}
		checkGone(t, s, "swap")
		checkGet(t, s, "putnew", "2")
	})
	t.Run("PutNew, Swap and Incr set the TTL", func(t *testing.T) {
		t.Parallel()
		s := open(t)
		ctx := t.Context()
		if ok, err := s.PutNew(ctx, "putnew", []byte("v"), shortTTL); !ok || err != nil {
			t.Fatalf("PutNew = %v, %v, want true, nil", ok, err)
		}
		mustPut(t, s, "swap", "v1", longTTL)
		if err := s.Swap(ctx, "swap", []byte("v1"), []byte("v2"), shortTTL); err != nil {
			t.Fatalf("Swap = %v, want nil", err)
		}
		if n, err := s.Incr(ctx, "incr", shortTTL); n != 1 || err != nil {
			t.Fatalf("Incr = %d, %v, want 1, nil", n, err)
		}
		for _, k := range []string{"putnew", "swap", "incr"} {
			waitGone(t, s, k)
		}
	})
	t.Run("Swap extends the TTL", func(t *testing.T) {
		t.Parallel()
		s := open(t)
		ttl := 3 * shortTTL
		start := time.Now()
		mustPut(t, s, "k", "v1", ttl)
		err := s.Swap(t.Context(), "k", []byte("v1"), []byte("v2"), longTTL)
		if err != nil {
			if time.Since(start) >= ttl {
				t.Skipf("Swap came %v after Put, later than the TTL %v", time.Since(start), ttl)
			}
			t.Fatalf("Swap = %v, want nil", err)
		}
		// The marker outlives the original TTL of k.
		mustPut(t, s, "marker", "m", ttl)
		waitGone(t, s, "marker")
		checkGet(t, s, "k", "v2")
	})
	t.Run("Incr keeps the window of the first call", func(t *testing.T) {
		t.Parallel()
		s := open(t)
		ttl := 2 * shortTTL
		start := time.Now()
		if n, err := s.Incr(t.Context(), "rate", ttl); n != 1 || err != nil {
			t.Fatalf("Incr = %d, %v, want 1, nil", n, err)
		}
		// Were later calls to extend the TTL, the counter would never
		// restart while they keep coming.
		var last int64 = 1
		for deadline := start.Add(ttl + expiryDeadline); ; {
			n, err := s.Incr(t.Context(), "rate", ttl)
			if err != nil {
				t.Fatalf("Incr = %v, want nil", err)
			}
			if n == 1 {
				// A few milliseconds early for the backend's millisecond clock.
				if elapsed := time.Since(start); elapsed < ttl-5*time.Millisecond {
					t.Errorf("Incr restarted at 1 after %v, before the window of %v ended (previous value %d)", elapsed, ttl, last)
				}
				return
			}
			if n != last+1 {
				t.Fatalf("Incr = %d after %d, want %d", n, last, last+1)
			}
			last = n
			if time.Now().After(deadline) {
				t.Fatalf("Incr still counting (%d) %v after the window of %v started: later calls extend the TTL", n, time.Since(start), ttl)
			}
			time.Sleep(pollInterval)
		}
	})
}

func testStateConcurrency(t *testing.T, open func(t *testing.T) storage.State) {
	t.Run("Take", func(t *testing.T) {
		s := open(t)
		mustPut(t, s, "code", "v", longTTL)
		got := make([][]byte, goroutines)
		errs := concurrently(goroutines, func(i int) error {
			var err error
			got[i], err = s.Take(t.Context(), "code")
			return err
		})
		winners := 0
		for i, err := range errs {
			switch {
			case err == nil:
				winners++
				if string(got[i]) != "v" {
					t.Errorf("Take(%q) = %q, want %q", "code", got[i], "v")
				}
			case !errors.Is(err, storage.ErrNotFound):
				t.Errorf("Take(%q) = %v, want nil or %v", "code", err, storage.ErrNotFound)
			}
		}
		if winners != 1 {
			t.Errorf("Take(%q) in %d goroutines returned the value %d times, want once", "code", goroutines, winners)
		}
	})
	t.Run("PutNew", func(t *testing.T) {
		s := open(t)
		won := make([]bool, goroutines)
		errs := concurrently(goroutines, func(i int) error {
			var err error
			won[i], err = s.PutNew(t.Context(), "nonce", []byte(strconv.Itoa(i)), longTTL)
			return err
		})
		winner := -1
		for i, err := range errs {
			if err != nil {
				t.Errorf("PutNew(%q) = %v, want nil", "nonce", err)
			}
			if won[i] {
				if winner >= 0 {
					t.Errorf("PutNew(%q) = true in goroutines %d and %d, want in one", "nonce", winner, i)
				}
				winner = i
			}
		}
		if winner < 0 {
			t.Fatalf("PutNew(%q) = false in all %d goroutines, want true in one", "nonce", goroutines)
		}
		checkGet(t, s, "nonce", strconv.Itoa(winner))
	})
	t.Run("Incr", func(t *testing.T) {
		s := open(t)
		got := make([]int64, goroutines)
		errs := concurrently(goroutines, func(i int) error {
			var err error
			got[i], err = s.Incr(t.Context(), "count", longTTL)
			return err
		})
		for _, err := range errs {
			if err != nil {
				t.Errorf("Incr(%q) = %v, want nil", "count", err)
			}
		}
		slices.Sort(got)
		for i, n := range got {
			if n != int64(i+1) {
				t.Errorf("Incr(%q) in %d goroutines returned %v, want 1 to %d once each", "count", goroutines, got, goroutines)
				break
			}
		}
		checkGet(t, s, "count", strconv.Itoa(goroutines))
	})
	t.Run("Swap", func(t *testing.T) {
		s := open(t)
		mustPut(t, s, "tx", "pre-auth", longTTL)
		errs := concurrently(goroutines, func(i int) error {
			return s.Swap(t.Context(), "tx", []byte("pre-auth"), []byte(strconv.Itoa(i)), longTTL)
		})
		winner := -1
		for i, err := range errs {
			switch {
			case err == nil:
				if winner >= 0 {
					t.Errorf("Swap(%q) = nil in goroutines %d and %d, want in one", "tx", winner, i)
				}
				winner = i
			case !errors.Is(err, storage.ErrConflict):
				t.Errorf("Swap(%q) = %v, want nil or %v", "tx", err, storage.ErrConflict)
			}
		}
		if winner < 0 {
			t.Fatalf("Swap(%q) failed in all %d goroutines, want to succeed in one", "tx", goroutines)
		}
		checkGet(t, s, "tx", strconv.Itoa(winner))
	})
}
