package idrepo

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sanad-id/sanad/storage"
	"github.com/sanad-id/sanad/storage/sqldb"
)

func TestAuditCanonicalJSON(t *testing.T) {
	e := storage.AuditEntry{
		Seq:       42,
		Time:      time.Date(2025, 3, 4, 5, 6, 7, 123456789, time.FixedZone("x", 3600)),
		Actor:     "admin",
		Action:    "identity.read",
		Subject:   "0123abcd",
		Reason:    "quote \" backslash \\ tab \t nl \n ctl \x01 é \u2028 <&>",
		RequestID: "req-1",
		Outcome:   "success",
		PrevHash:  []byte{1, 2, 3},
		Hash:      []byte{9, 9, 9},
	}
	want := `{"action":"identity.read","actor":"admin","outcome":"success",` +
		`"reason":"quote \" backslash \\ tab \t nl \n ctl \u0001 é ` + "\u2028" + ` <&>",` +
		`"requestId":"req-1","seq":42,"subject":"0123abcd","time":"2025-03-04T04:06:07.123456Z"}`
	if got := string(AuditCanonicalJSON(e)); got != want {
		t.Errorf("AuditCanonicalJSON =\n%s\nwant\n%s", got, want)
	}
	h := sha256.Sum256(append([]byte{1, 2, 3}, want...))
	if got := hex.EncodeToString(AuditHash(e)); got != hex.EncodeToString(h[:]) {
		t.Errorf("AuditHash = %s, want SHA-256(PrevHash || canonical JSON) = %x", got, h)
	}
	e2 := e
	e2.Hash = nil
	if string(AuditHash(e2)) != string(AuditHash(e)) {
		t.Error("AuditHash depends on Hash")
	}
	e2.Reason = "\xff"
	if got := string(AuditCanonicalJSON(e2)); got == string(AuditCanonicalJSON(e)) || !strings.Contains(got, `"reason":"`+"\uFFFD"+`"`) {
		t.Errorf("invalid UTF-8 not replaced: %s", got)
	}
}

// memAudit is a minimal storage.Audit over a slice, for testing the chain
// logic without a database; the database tests tamper with real tables.
type memAudit struct {
	mu      sync.Mutex
	entries []storage.AuditEntry
	calls   int
}

func (m *memAudit) AppendAudit(_ context.Context, es []storage.AuditEntry, seal func(*storage.AuditEntry)) ([]storage.AuditEntry, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.calls++
	out := make([]storage.AuditEntry, len(es))
	for i, e := range es {
		e.Seq = int64(len(m.entries)) + 1
		if len(m.entries) > 0 {
			e.PrevHash = m.entries[len(m.entries)-1].Hash
		}
		seal(&e)
		m.entries = append(m.entries, e)
		out[i] = e
	}
	return out, nil
}

func (m *memAudit) ListAudit(_ context.Context, from int64, limit int) ([]storage.AuditEntry, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []storage.AuditEntry
	for _, e := range m.entries {
		if e.Seq >= from && len(out) < limit {
			out = append(out, e)
		}
	}
	return out, nil
}

func fillAudit(t *testing.T, m *memAudit, n int) {
	t.Helper()
	l := NewAuditLog(m, AuditOptions{})
	defer l.Close()
	for i := range n {
		if _, err := l.Append(t.Context(), storage.AuditEntry{Actor: "admin", Action: "identity.read",
			Subject: fmt.Sprintf("r%d", i), Outcome: OutcomeSuccess}); err != nil {
			t.Fatal(err)
		}
	}
}

func TestVerifyAuditChain(t *testing.T) {
	tests := []struct {
		name     string
		tamper   func(es []storage.AuditEntry) []storage.AuditEntry
		wantSeq  int64
		wantKind string
	}{
		{"intact", func(es []storage.AuditEntry) []storage.AuditEntry { return es }, 0, ""},
		{"changed", func(es []storage.AuditEntry) []storage.AuditEntry { es[4].Actor = "mallory"; return es }, 5, AuditChanged},
		{"deleted", func(es []storage.AuditEntry) []storage.AuditEntry { return append(es[:4], es[5:]...) }, 5, AuditDeleted},
		{"reordered", func(es []storage.AuditEntry) []storage.AuditEntry {
			es[4], es[5] = es[5], es[4]
			es[4].Seq, es[5].Seq = 5, 6
			return es
		}, 5, AuditReordered},
		{"rehashed", func(es []storage.AuditEntry) []storage.AuditEntry {
			es[4].Reason = "rewritten"
			SealAudit(&es[4])
			return es
		}, 5, AuditChanged},
		{"head removed and renumbered", func(es []storage.AuditEntry) []storage.AuditEntry {
			es = es[1:]
			for i := range es {
				es[i].Seq--
			}
			return es
		}, 1, AuditReordered},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := &memAudit{}
			fillAudit(t, m, 2500) // more than two pages
			m.entries = tt.tamper(m.entries)
			var pages int
			rep, err := VerifyAudit(t.Context(), m, func(int64) { pages++ })
			if err != nil {
				t.Fatal(err)
			}
			if tt.wantKind == "" {
				if rep.Problem != nil || rep.Checked != 2500 || rep.LastSeq != 2500 || pages != 3 {
					t.Errorf("VerifyAudit = %+v (problem %+v) after %d pages, want 2500 entries intact after 3", rep, rep.Problem, pages)
				}
				return
			}
			if rep.Problem == nil || rep.Problem.Seq != tt.wantSeq || rep.Problem.Kind != tt.wantKind {
				t.Errorf("VerifyAudit problem = %+v, want seq %d %s", rep.Problem, tt.wantSeq, tt.wantKind)
			}
		})
	}
}

// TestAuditLogGroupCommit checks that concurrent appends share writes and
// that each caller gets back its own entries.
func TestAuditLogGroupCommit(t *testing.T) {
	m := &slowAudit{memAudit: memAudit{}, delay: 2 * time.Millisecond}
	l := NewAuditLog(m, AuditOptions{})
	const n = 200
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		wg.Go(func() {
			subject := fmt.Sprintf("r%d", i)
			got, err := l.Append(t.Context(), storage.AuditEntry{Actor: "a", Action: "x", Subject: subject, Outcome: OutcomeSuccess})
			if err == nil && (len(got) != 1 || got[0].Subject != subject || got[0].Seq == 0) {
				err = fmt.Errorf("Append(%s) returned %+v", subject, got)
			}
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
	l.Close()
	if len(m.entries) != n {
		t.Fatalf("stored %d entries, want %d", len(m.entries), n)
	}
	if m.calls >= n/2 {
		t.Errorf("%d appends took %d writes; want them grouped", n, m.calls)
	}
	if rep, _ := VerifyAudit(t.Context(), m, nil); rep.Problem != nil {
		t.Errorf("VerifyAudit: %+v", rep.Problem)
	}
	if _, err := l.Append(t.Context(), storage.AuditEntry{Action: "late"}); err != ErrAuditClosed {
		t.Errorf("Append after Close = %v, want ErrAuditClosed", err)
	}
}

func TestAuditLogMaxDelay(t *testing.T) {
	m := &memAudit{}
	l := NewAuditLog(m, AuditOptions{MaxDelay: 20 * time.Millisecond, MaxBatch: 10})
	defer l.Close()
	var wg sync.WaitGroup
	for range 10 {
		wg.Go(func() { l.Append(t.Context(), storage.AuditEntry{Action: "x"}) })
	}
	wg.Wait()
	if m.calls > 2 {
		t.Errorf("10 appends within the delay took %d writes, want 1 or 2", m.calls)
	}
}

type slowAudit struct {
	memAudit
	delay time.Duration
}

func (s *slowAudit) AppendAudit(ctx context.Context, es []storage.AuditEntry, seal func(*storage.AuditEntry)) ([]storage.AuditEntry, error) {
	time.Sleep(s.delay)
	return s.memAudit.AppendAudit(ctx, es, seal)
}

// gatedAudit is a memAudit that records the size of every write and holds
// the writes back while hold is set, until released.
type gatedAudit struct {
	memAudit
	hold    chan struct{} // nil: write at once
	writing chan struct{} // receives when a held write starts
	sizes   []int
}

func (g *gatedAudit) AppendAudit(ctx context.Context, es []storage.AuditEntry, seal func(*storage.AuditEntry)) ([]storage.AuditEntry, error) {
	g.mu.Lock()
	hold := g.hold
	g.sizes = append(g.sizes, len(es))
	g.mu.Unlock()
	if hold != nil {
		g.writing <- struct{}{}
		<-hold
	}
	return g.memAudit.AppendAudit(ctx, es, seal)
}

func (g *gatedAudit) writes() []int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return slices.Clone(g.sizes)
}

// appendAsync appends one entry in a goroutine; the channel receives its
// error.
func appendAsync(t *testing.T, l *AuditLog, subject string) <-chan error {
	done := make(chan error, 1)
	go func() {
		_, err := l.Append(t.Context(), storage.AuditEntry{Action: "x", Subject: subject})
		done <- err
	}()
	return done
}

// waitDone fails t if an append does not end; the limit only catches a
// hang, it measures nothing.
func waitDone(t *testing.T, what string, done <-chan error) {
	t.Helper()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	case <-time.After(time.Minute):
		t.Fatalf("%s did not end", what)
	}
}

// TestAuditLogAdaptiveBatching checks the default (MaxDelay zero) batching
// with a linger too long to ever end: a lone caller appending one entry
// after another never waits for company; once appends have come
// concurrently, a batch waits for as many as the last one had.
func TestAuditLogAdaptiveBatching(t *testing.T) {
	g := &gatedAudit{}
	l := NewAuditLog(g, AuditOptions{linger: time.Hour})
	defer l.Close()

	// One caller, one entry after another: one write each, at once.
	for i := range 20 {
		waitDone(t, fmt.Sprintf("lone append %d", i), appendAsync(t, l, "lone"))
	}
	if w := g.writes(); len(w) != 20 {
		t.Fatalf("20 lone appends took writes %v, want 20 of 1", w)
	}

	// Four appends queue while a write is held: they are written together,
	// and the log now expects four.
	g.mu.Lock()
	g.hold, g.writing = make(chan struct{}), make(chan struct{})
	g.mu.Unlock()
	held := appendAsync(t, l, "held")
	<-g.writing
	var queued []<-chan error
	for i := range 4 {
		queued = append(queued, appendAsync(t, l, fmt.Sprintf("q%d", i)))
	}
	for len(l.reqs) < 4 {
		runtime.Gosched()
	}
	g.mu.Lock()
	close(g.hold)
	g.hold = nil
	g.mu.Unlock()
	waitDone(t, "held append", held)
	for i, d := range queued {
		waitDone(t, fmt.Sprintf("queued append %d", i), d)
	}
	before := len(g.writes())
	if w := g.writes()[before-1]; w != 4 {
		t.Fatalf("the queued appends were written as %v, want one write of 4", g.writes()[21:])
	}

	// Three concurrent appends wait for a fourth.
	var three []<-chan error
	for i := range 3 {
		three = append(three, appendAsync(t, l, fmt.Sprintf("c%d", i)))
	}
	for len(l.reqs) > 0 {
		runtime.Gosched()
	}
	time.Sleep(20 * time.Millisecond) // a chance for a wrong log to write them
	for i, d := range three {
		select {
		case <-d:
			t.Fatalf("append c%d ended before a fourth came; writes %v", i, g.writes()[before:])
		default:
		}
	}
	fourth := appendAsync(t, l, "c3")
	for i, d := range append(three, fourth) {
		waitDone(t, fmt.Sprintf("append c%d", i), d)
	}
	if w := g.writes()[before:]; !slices.Equal(w, []int{4}) {
		t.Errorf("four concurrent appends took writes %v, want one of 4", w)
	}
	if rep, _ := VerifyAudit(t.Context(), &g.memAudit, nil); rep.Problem != nil || rep.Checked != 29 {
		t.Errorf("VerifyAudit = %+v, want 29 entries and no problem", rep)
	}
}

// TestAuditLogAdaptiveLingerEnds checks that a batch expecting more appends
// than come is written when the linger ends, and that the log then stops
// expecting them.
func TestAuditLogAdaptiveLingerEnds(t *testing.T) {
	g := &gatedAudit{}
	l := NewAuditLog(g, AuditOptions{linger: time.Millisecond})
	defer l.Close()
	g.mu.Lock()
	g.hold, g.writing = make(chan struct{}), make(chan struct{})
	g.mu.Unlock()
	held := appendAsync(t, l, "held")
	<-g.writing
	var queued []<-chan error
	for i := range 8 {
		queued = append(queued, appendAsync(t, l, fmt.Sprintf("q%d", i)))
	}
	for len(l.reqs) < 8 {
		runtime.Gosched()
	}
	g.mu.Lock()
	close(g.hold)
	g.hold = nil
	g.mu.Unlock()
	waitDone(t, "held append", held)
	for i, d := range queued {
		waitDone(t, fmt.Sprintf("queued append %d", i), d)
	}
	// Expecting 8, a lone append still ends, after the linger.
	waitDone(t, "lone append after a batch of 8", appendAsync(t, l, "lone"))
	if w := g.writes(); !slices.Equal(w, []int{1, 8, 1}) {
		t.Errorf("writes %v, want [1 8 1]", w)
	}
}

// countingAudit counts the writes to an audit store.
type countingAudit struct {
	storage.Audit
	writes atomic.Int64
}

func (c *countingAudit) AppendAudit(ctx context.Context, es []storage.AuditEntry, seal func(*storage.AuditEntry)) ([]storage.AuditEntry, error) {
	c.writes.Add(1)
	return c.Audit.AppendAudit(ctx, es, seal)
}

// BenchmarkAuditLogAppend appends one entry per operation from
// benchParallelism goroutines per CPU, as resident lookups do, and reports
// how many entries each write carried.
func BenchmarkAuditLogAppend(b *testing.B) {
	benchStores(b, func(b *testing.B, db *sqldb.DB) {
		for _, bc := range []struct {
			name  string
			delay time.Duration
		}{{"adaptive", 0}, {"no-wait", -1}} {
			b.Run(bc.name, func(b *testing.B) {
				store := &countingAudit{Audit: db}
				l := NewAuditLog(store, AuditOptions{MaxDelay: bc.delay})
				defer l.Close()
				b.SetParallelism(benchParallelism)
				b.ReportAllocs()
				b.RunParallel(func(pb *testing.PB) {
					for pb.Next() {
						if _, err := l.Append(b.Context(), storage.AuditEntry{Actor: "authn", Action: "resolve",
							Subject: "0123456789abcdef", Outcome: OutcomeSuccess}); err != nil {
							b.Fatal(err)
						}
					}
				})
				b.ReportMetric(float64(b.N)/float64(max(store.writes.Load(), 1)), "entries/write")
			})
		}
	})
}
