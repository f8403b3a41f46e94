package memory_test

import (
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/sanad-id/sanad/storage"
	"github.com/sanad-id/sanad/storage/memory"
	"github.com/sanad-id/sanad/storage/storagetest"
)

func TestState(t *testing.T) {
	storagetest.RunState(t, func(t *testing.T) storage.State { return storagetest.OpenMemory(t) })
}

// clock is a settable time source.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

func TestExpiryFollowsNow(t *testing.T) {
	c := &clock{now: time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)}
	s := memory.New(memory.Config{Now: c.Now})
	defer s.Close()
	ctx := t.Context()
	if err := s.Put(ctx, "code", []byte("v"), time.Minute); err != nil {
		t.Fatalf("Put = %v", err)
	}
	if n, err := s.Incr(ctx, "rate", time.Minute); n != 1 || err != nil {
		t.Fatalf("Incr = %d, %v, want 1, nil", n, err)
	}
	tests := []struct {
		advance  time.Duration
		wantCode bool
		wantRate int64 // Incr's result at that time
	}{
		{0, true, 2},
		{59 * time.Second, true, 3},
		{time.Second - time.Nanosecond, true, 4},
		{time.Nanosecond, false, 1}, // both expire exactly at their TTL
		{59 * time.Second, false, 2},
	}
	for _, tt := range tests {
		c.Advance(tt.advance)
		_, err := s.Get(ctx, "code")
		if got := err == nil; got != tt.wantCode || (err != nil && !errors.Is(err, storage.ErrNotFound)) {
			t.Errorf("at %v: Get(%q) = %v, want found %v", c.Now().Format(time.TimeOnly), "code", err, tt.wantCode)
		}
		if n, err := s.Incr(ctx, "rate", time.Minute); n != tt.wantRate || err != nil {
			t.Errorf("at %v: Incr(%q) = %d, %v, want %d, nil", c.Now().Format(time.TimeOnly), "rate", n, err, tt.wantRate)
		}
	}
}

func TestClose(t *testing.T) {
	s := memory.New(memory.Config{})
	ctx := t.Context()
	if err := s.Put(ctx, "k", []byte("v"), time.Minute); err != nil {
		t.Fatalf("Put = %v", err)
	}
	for range 2 {
		if err := s.Close(); err != nil {
			t.Errorf("Close() = %v, want nil", err)
		}
	}
	if err := s.Ping(ctx); err == nil {
		t.Error("Ping() after Close = nil, want an error")
	}
	if _, err := s.Get(ctx, "k"); err == nil || errors.Is(err, storage.ErrNotFound) {
		t.Errorf("Get() after Close = %v, want an error other than %v", err, storage.ErrNotFound)
	}
	if err := s.Put(ctx, "k", []byte("v"), time.Minute); err == nil {
		t.Error("Put() after Close = nil, want an error")
	}
}

func BenchmarkState(b *testing.B) {
	s := memory.New(memory.Config{})
	defer s.Close()
	storagetest.BenchState(b, s)
}
