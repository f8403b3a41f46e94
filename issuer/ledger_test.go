package issuer

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/sanad-id/sanad/storage"
)

// groupLedger is a storage.Ledger whose writes are counted, can be held,
// and fail when they contain the id "bad".
type groupLedger struct {
	storage.Ledger // unused methods panic
	mu             sync.Mutex
	calls          [][]string
	hold           chan struct{} // the first write waits for it
	held           bool
}

func (g *groupLedger) RecordCredentials(_ context.Context, cs []storage.IssuedCredential) error {
	g.mu.Lock()
	first := !g.held
	g.held = true
	g.mu.Unlock()
	if first && g.hold != nil {
		<-g.hold
	}
	ids := make([]string, len(cs))
	for i, c := range cs {
		ids[i] = c.ID
		if c.ID == "bad" {
			g.mu.Lock()
			g.calls = append(g.calls, ids)
			g.mu.Unlock()
			return storage.ErrAlreadyExists
		}
	}
	g.mu.Lock()
	g.calls = append(g.calls, ids)
	g.mu.Unlock()
	return nil
}

func TestLedgerCommitterGroupsConcurrentWrites(t *testing.T) {
	const n = 50
	g := &groupLedger{hold: make(chan struct{})}
	l := &ledgerCommitter{ledger: g}
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		id := fmt.Sprintf("c%d", i)
		if i == 7 {
			id = "bad"
		}
		wg.Go(func() {
			errs[i] = l.record(t.Context(), []storage.IssuedCredential{{ID: id}})
		})
	}
	// Let the first write start and every other request queue behind it.
	deadline := time.Now().Add(10 * time.Second)
	for {
		l.mu.Lock()
		queued := len(l.pending)
		l.mu.Unlock()
		if queued == n-1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d requests queued behind the first write, want %d", queued, n-1)
		}
		time.Sleep(time.Millisecond)
	}
	close(g.hold)
	wg.Wait()

	for i, err := range errs {
		if i == 7 {
			if !errors.Is(err, storage.ErrAlreadyExists) {
				t.Errorf("record(bad) = %v, want ErrAlreadyExists", err)
			}
			continue
		}
		if err != nil {
			t.Errorf("record(c%d) = %v, want nil", i, err)
		}
	}
	written := map[string]int{}
	g.mu.Lock()
	defer g.mu.Unlock()
	for _, call := range g.calls {
		for _, id := range call {
			written[id]++
		}
	}
	// The first write holds one request; the 49 queued ones are written
	// together, that write fails because of "bad", and each is written
	// again alone: 1 + 1 + 49 calls, and each good id stored exactly once
	// by a successful call.
	if len(g.calls) != 1+1+49 {
		t.Errorf("ledger writes = %d, want 51 (one alone, one group that fails, 49 retries)", len(g.calls))
	}
	if g.calls[1] == nil || len(g.calls[1]) != 49 {
		t.Errorf("second write had %d rows, want the 49 queued requests together", len(g.calls[1]))
	}
	for i := range n {
		id := fmt.Sprintf("c%d", i)
		if i == 7 {
			continue
		}
		// Written once alone or in the retry, plus once in the failed group
		// (which stored nothing) for the queued ones.
		if written[id] < 1 || written[id] > 2 {
			t.Errorf("%s written %d times, want 1 or 2 (a failed group stores nothing)", id, written[id])
		}
	}
}

func TestLedgerCommitterAlone(t *testing.T) {
	g := &groupLedger{}
	l := &ledgerCommitter{ledger: g}
	for i := range 3 {
		if err := l.record(t.Context(), []storage.IssuedCredential{{ID: fmt.Sprint(i)}}); err != nil {
			t.Fatalf("record(%d) = %v", i, err)
		}
	}
	if len(g.calls) != 3 {
		t.Errorf("sequential records made %d writes, want 3", len(g.calls))
	}
	if err := l.record(t.Context(), []storage.IssuedCredential{{ID: "bad"}}); !errors.Is(err, storage.ErrAlreadyExists) {
		t.Errorf("record(bad) = %v, want ErrAlreadyExists", err)
	}
	if l.writing || len(l.pending) != 0 {
		t.Errorf("after the writes: writing=%v pending=%d, want idle", l.writing, len(l.pending))
	}
}
