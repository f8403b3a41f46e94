package idrepo

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sanad-id/sanad/storage"
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
