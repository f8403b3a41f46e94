package memory

import (
	"sync"
	"testing"
	"time"
)

func TestSweepRemovesExpiredEntries(t *testing.T) {
	var (
		mu  sync.Mutex
		now = time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	)
	s := New(Config{
		Now: func() time.Time {
			mu.Lock()
			defer mu.Unlock()
			return now
		},
		SweepInterval: time.Millisecond,
	})
	defer s.Close()
	ctx := t.Context()
	for _, k := range []string{"a", "b"} {
		if err := s.Put(ctx, k, []byte("v"), time.Minute); err != nil {
			t.Fatalf("Put(%q) = %v", k, err)
		}
	}
	if err := s.Put(ctx, "long", []byte("v"), time.Hour); err != nil {
		t.Fatalf("Put(%q) = %v", "long", err)
	}
	mu.Lock()
	now = now.Add(time.Minute)
	mu.Unlock()

	// Nothing reads the expired entries: only the sweeper can remove them.
	deadline := time.Now().Add(5 * time.Second)
	for {
		s.mu.Lock()
		n := len(s.entries)
		_, long := s.entries["long"]
		s.mu.Unlock()
		if n == 1 && long {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("after sweeps, %d entries left (long present: %v), want only %q", n, long, "long")
		}
		time.Sleep(time.Millisecond)
	}
}
