package idrepo

import (
	"bytes"
	"cmp"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/sanad-id/sanad/internal/web"
	"github.com/sanad-id/sanad/storage"
)

// Audit outcomes.
const (
	OutcomeSuccess = "success"
	OutcomeFailure = "failure"
	OutcomeDenied  = "denied"
)

// AuditHash returns the hash that chains entry e to its predecessor:
// SHA-256(e.PrevHash || AuditCanonicalJSON(e)). Every field but Hash is
// covered, Seq included, so a changed, removed or reordered entry breaks
// the chain.
func AuditHash(e storage.AuditEntry) []byte {
	// Hashed from a buffer on the stack: the hash is the only allocation
	// (a log append seals every entry, VerifyAudit rehashes them all).
	var buf [512]byte
	b := append(buf[:0], e.PrevHash...)
	b = appendAuditCanonicalJSON(b, e)
	sum := sha256.Sum256(b)
	return sum[:]
}

// SealAudit sets e.Hash to AuditHash(*e); it is the seal function given to
// storage.Audit.AppendAudit.
func SealAudit(e *storage.AuditEntry) { e.Hash = AuditHash(*e) }

// AuditCanonicalJSON is the canonical JSON (RFC 8785: members sorted, no
// white space, minimal string escapes) of an entry's fields other than
// PrevHash and Hash:
//
//	{"action":…,"actor":…,"outcome":…,"reason":…,"requestId":…,"seq":N,"subject":…,"time":"2006-01-02T15:04:05.000000Z"}
//
// The time is UTC with exactly six fractional digits, as the stores keep
// it. Strings that are not valid UTF-8 have their invalid bytes replaced by
// U+FFFD (AuditLog stores them so replaced).
func AuditCanonicalJSON(e storage.AuditEntry) []byte {
	return appendAuditCanonicalJSON(make([]byte, 0, 192), e)
}

func appendAuditCanonicalJSON(b []byte, e storage.AuditEntry) []byte {
	b = append(b, `{"action":`...)
	b = appendJSONString(b, e.Action)
	b = append(b, `,"actor":`...)
	b = appendJSONString(b, e.Actor)
	b = append(b, `,"outcome":`...)
	b = appendJSONString(b, e.Outcome)
	b = append(b, `,"reason":`...)
	b = appendJSONString(b, e.Reason)
	b = append(b, `,"requestId":`...)
	b = appendJSONString(b, e.RequestID)
	b = append(b, `,"seq":`...)
	b = strconv.AppendInt(b, e.Seq, 10)
	b = append(b, `,"subject":`...)
	b = appendJSONString(b, e.Subject)
	b = append(b, `,"time":"`...)
	b = e.Time.UTC().Truncate(time.Microsecond).AppendFormat(b, "2006-01-02T15:04:05.000000Z")
	return append(b, `"}`...)
}

// appendJSONString writes s as an RFC 8785 JSON string: only the quote,
// the backslash and control characters are escaped.
func appendJSONString(b []byte, s string) []byte {
	const hexDigits = "0123456789abcdef"
	b = append(b, '"')
	for _, r := range strings.ToValidUTF8(s, "\uFFFD") {
		switch {
		case r == '"':
			b = append(b, '\\', '"')
		case r == '\\':
			b = append(b, '\\', '\\')
		case r == '\b':
			b = append(b, '\\', 'b')
		case r == '\f':
			b = append(b, '\\', 'f')
		case r == '\n':
			b = append(b, '\\', 'n')
		case r == '\r':
			b = append(b, '\\', 'r')
		case r == '\t':
			b = append(b, '\\', 't')
		case r < 0x20:
			b = append(b, '\\', 'u', '0', '0', hexDigits[r>>4], hexDigits[r&0xF])
		default:
			b = utf8.AppendRune(b, r)
		}
	}
	return append(b, '"')
}

// DefaultAuditLinger is the longest an entry waits for others to share its
// write when AuditOptions.MaxDelay is zero (adaptive batching).
const DefaultAuditLinger = 2 * time.Millisecond

// AuditOptions tunes an AuditLog.
type AuditOptions struct {
	// MaxBatch caps the entries written in one transaction; zero means 512.
	MaxBatch int
	// MaxDelay is how long a batch may wait for more entries after its
	// first one was appended. Entries that arrive while a batch is being
	// written share the next one in any case.
	//
	// Zero means adaptive batching: a batch waits, up to
	// DefaultAuditLinger, only until it has as many appends as the
	// previous batch had; if they don't come in time, it expects as many
	// as came. A lone caller appending one entry after another therefore
	// never waits, N callers in step wait for each other (at most the
	// linger), and a server whose requests append concurrently writes
	// several entries per transaction instead of one: each write costs a
	// transaction (on SQLite: begin, read of the last entry, insert,
	// commit), which was most of an entry's cost.
	//
	// A negative MaxDelay never waits.
	MaxDelay time.Duration
	// Timeout bounds one write; zero means 30 seconds.
	Timeout time.Duration
	// Now stamps entries that have no Time; nil means time.Now.
	Now func() time.Time
	// Logger receives write failures; nil discards them.
	Logger *slog.Logger

	// linger replaces DefaultAuditLinger (tests).
	linger time.Duration
}

// ErrAuditClosed is returned by Append after Close.
var ErrAuditClosed = errors.New("idrepo: audit log closed")

// AuditLog appends entries to the hash-chained audit log with group
// commit: concurrent appends are written together, in one AppendAudit
// call, and each caller returns once its entries are stored. It is safe for
// concurrent use.
type AuditLog struct {
	store    storage.Audit
	maxBatch int
	// A batch waits for more entries until linger after its first was
	// appended (0: never); adaptive batches only while they have fewer
	// appends than the previous one.
	linger   time.Duration
	adaptive bool
	timeout  time.Duration
	now      func() time.Time
	log      *slog.Logger

	mu     sync.RWMutex // guards closed against sends on reqs
	closed bool
	reqs   chan *auditReq
	done   chan struct{}
}

type auditReq struct {
	entries []storage.AuditEntry
	stored  []storage.AuditEntry
	err     chan error // buffered, 1
	at      time.Time  // when Append was called (monotonic)
	one     [1]storage.AuditEntry
}

// NewAuditLog starts an AuditLog on store. Close it to stop it.
func NewAuditLog(store storage.Audit, opts AuditOptions) *AuditLog {
	l := &AuditLog{
		store:    store,
		maxBatch: opts.MaxBatch,
		linger:   max(opts.MaxDelay, 0),
		timeout:  opts.Timeout,
		now:      opts.Now,
		log:      opts.Logger,
		reqs:     make(chan *auditReq, 1024),
		done:     make(chan struct{}),
	}
	if l.maxBatch <= 0 {
		l.maxBatch = 512
	}
	if opts.MaxDelay == 0 {
		l.adaptive, l.linger = true, cmp.Or(opts.linger, DefaultAuditLinger)
	}
	if l.timeout <= 0 {
		l.timeout = 30 * time.Second
	}
	if l.now == nil {
		l.now = time.Now
	}
	if l.log == nil {
		l.log = slog.New(slog.DiscardHandler)
	}
	go l.run()
	return l
}

// Append writes entries, in order and next to each other, and returns them
// as stored (with Seq, PrevHash and Hash). Each entry's Time defaults to
// now and its RequestID to the request id carried by ctx. If ctx ends
// first, Append returns its error; the entries may still be written.
func (l *AuditLog) Append(ctx context.Context, entries ...storage.AuditEntry) ([]storage.AuditEntry, error) {
	if len(entries) == 0 {
		return nil, nil
	}
	req := &auditReq{err: make(chan error, 1), at: time.Now()}
	if len(entries) == 1 {
		req.entries = req.one[:] // a resident lookup appends one entry
	} else {
		req.entries = make([]storage.AuditEntry, len(entries))
	}
	now := l.now().UTC().Truncate(time.Microsecond)
	rid := web.RequestID(ctx)
	for i, e := range entries {
		if e.Time.IsZero() {
			e.Time = now
		}
		e.Time = e.Time.UTC().Truncate(time.Microsecond)
		if e.RequestID == "" {
			e.RequestID = rid
		}
		e.Actor = strings.ToValidUTF8(e.Actor, "\uFFFD")
		e.Action = strings.ToValidUTF8(e.Action, "\uFFFD")
		e.Subject = strings.ToValidUTF8(e.Subject, "\uFFFD")
		e.Reason = strings.ToValidUTF8(e.Reason, "\uFFFD")
		e.RequestID = strings.ToValidUTF8(e.RequestID, "\uFFFD")
		e.Outcome = strings.ToValidUTF8(e.Outcome, "\uFFFD")
		e.Seq, e.PrevHash, e.Hash = 0, nil, nil
		req.entries[i] = e
	}
	l.mu.RLock()
	if l.closed {
		l.mu.RUnlock()
		return nil, ErrAuditClosed
	}
	select {
	case l.reqs <- req:
	case <-ctx.Done():
		l.mu.RUnlock()
		return nil, ctx.Err()
	}
	l.mu.RUnlock()
	select {
	case err := <-req.err:
		return req.stored, err
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// Close writes the entries already submitted and stops the log.
func (l *AuditLog) Close() error {
	l.mu.Lock()
	if !l.closed {
		l.closed = true
		close(l.reqs)
	}
	l.mu.Unlock()
	<-l.done
	return nil
}

func (l *AuditLog) run() {
	defer close(l.done)
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	// expect is how many appends an adaptive batch waits for: as many as
	// the last one had.
	expect := 1
	var (
		batch   []*auditReq
		entries []storage.AuditEntry // flush's buffer, reused
	)
	for {
		first, ok := <-l.reqs
		if !ok {
			return
		}
		batch = append(batch[:0], first)
		n := len(first.entries)
		open := true
		// Take what is queued, then wait for more until the deadline, if
		// there is one.
		var deadline time.Time
		if l.linger > 0 {
			deadline = first.at.Add(l.linger)
		}
		timedOut := false
	collect:
		for n < l.maxBatch {
			select {
			case req, ok := <-l.reqs:
				if !ok {
					open = false
					break collect
				}
				batch = append(batch, req)
				n += len(req.entries)
				continue
			default:
			}
			if l.adaptive && len(batch) >= expect {
				break
			}
			wait := time.Until(deadline)
			if deadline.IsZero() || wait <= 0 {
				timedOut = !deadline.IsZero()
				break
			}
			timer.Reset(wait)
			select {
			case req, ok := <-l.reqs:
				timer.Stop() // no stale tick is received after Stop (Go 1.23)
				if !ok {
					open = false
					break collect
				}
				batch = append(batch, req)
				n += len(req.entries)
			case <-timer.C:
				timedOut = true
				break collect
			}
		}
		if timedOut {
			expect = len(batch)
		} else {
			expect = max(expect, len(batch))
		}
		entries = l.flush(batch, entries)
		clear(batch) // let the requests go
		if !open {
			return
		}
	}
}

// flush writes a batch in one AppendAudit call and hands each caller its
// entries as stored. buf is a buffer for the batch's entries, returned
// empty for the next batch: the store keeps none of them.
func (l *AuditLog) flush(batch []*auditReq, buf []storage.AuditEntry) []storage.AuditEntry {
	entries := batch[0].entries
	if len(batch) > 1 {
		for _, req := range batch {
			buf = append(buf, req.entries...)
		}
		entries = buf
	}
	ctx, cancel := context.WithTimeout(context.Background(), l.timeout)
	stored, err := l.store.AppendAudit(ctx, entries, SealAudit)
	cancel()
	if err == nil && len(stored) != len(entries) {
		err = fmt.Errorf("idrepo: audit store returned %d entries for %d", len(stored), len(entries))
	}
	if err != nil {
		l.log.Error("audit append failed", "entries", len(entries), "err", err)
		err = fmt.Errorf("idrepo: audit append: %w", err)
	}
	i := 0
	for _, req := range batch {
		if err == nil {
			req.stored = stored[i : i+len(req.entries) : i+len(req.entries)]
		}
		i += len(req.entries)
		req.err <- err
	}
	clear(buf) // drop the entries' strings
	return buf[:0]
}

// record appends the audit entry of an operation: success, or the failure
// e (whose code becomes the reason, unless reason is set). It returns a
// server error if the entry can't be stored: an access that can't be
// audited does not happen.
func (r *Repository) record(ctx context.Context, actor, action, subject, reason string, e *Error) error {
	outcome := OutcomeSuccess
	if e != nil {
		outcome = OutcomeFailure
		if reason == "" {
			reason = e.Code
		}
	}
	_, err := r.audit.Append(ctx, storage.AuditEntry{
		Actor:   actor,
		Action:  action,
		Subject: subject,
		Reason:  reason,
		Outcome: outcome,
	})
	if err != nil {
		return errServer(err)
	}
	return nil
}

// recordFailure audits a failed operation and returns its error (or the
// audit's, if that fails too).
func (r *Repository) recordFailure(ctx context.Context, actor, action, subject string, e *Error) error {
	if err := r.record(ctx, actor, action, subject, "", e); err != nil {
		return err
	}
	return e
}

// Kinds of audit chain damage found by VerifyAudit.
const (
	AuditChanged   = "changed"   // an entry's fields no longer match its hash, or its hash was recomputed
	AuditDeleted   = "deleted"   // entries are missing (a gap in the sequence)
	AuditReordered = "reordered" // an entry sits at another position than the one it was written at
)

// AuditProblem is the first damage VerifyAudit found.
type AuditProblem struct {
	Seq    int64  // the first entry that is not as written (for "deleted", the first missing one)
	Kind   string // AuditChanged, AuditDeleted or AuditReordered
	Detail string
}

// AuditReport is the result of VerifyAudit.
type AuditReport struct {
	Checked  int64  // entries that verified
	LastSeq  int64  // Seq of the last verified entry
	LastHash []byte // its hash: record it to detect later truncation of the log
	Problem  *AuditProblem
}

// auditPage is how many entries VerifyAudit reads at a time.
const auditPage = 1000

// reorderWindow is how far from its position VerifyAudit looks for the
// position a moved entry was written at.
const reorderWindow = 64

// VerifyAudit walks the audit chain from the first entry and reports the
// first entry that was changed, removed or moved, or none. progress, if not
// nil, is called after every page with the number of entries checked so
// far. The error is only for failures to read the log.
//
// A chain proves the order and integrity of what it holds, not that
// nothing was cut from its end: compare LastSeq and LastHash with values
// recorded earlier to detect truncation.
func VerifyAudit(ctx context.Context, store storage.Audit, progress func(checked int64)) (AuditReport, error) {
	var rep AuditReport
	var prev []byte
	next := int64(1)
	for {
		page, err := store.ListAudit(ctx, next, auditPage)
		if err != nil {
			return rep, fmt.Errorf("idrepo: read audit log: %w", err)
		}
		for _, e := range page {
			if p := checkAuditEntry(e, next, prev); p != nil {
				rep.Problem = p
				return rep, nil
			}
			prev = e.Hash
			rep.Checked++
			rep.LastSeq, rep.LastHash = e.Seq, e.Hash
			next = e.Seq + 1
		}
		if progress != nil {
			progress(rep.Checked)
		}
		if len(page) < auditPage {
			return rep, nil
		}
	}
}

// checkAuditEntry checks entry e, expected at Seq want after an entry
// whose hash is prev.
func checkAuditEntry(e storage.AuditEntry, want int64, prev []byte) *AuditProblem {
	switch {
	case e.Seq > want:
		return &AuditProblem{Seq: want, Kind: AuditDeleted,
			Detail: fmt.Sprintf("entries %d to %d are missing", want, e.Seq-1)}
	case e.Seq < want:
		return &AuditProblem{Seq: e.Seq, Kind: AuditReordered,
			Detail: fmt.Sprintf("entry %d appears again after entry %d", e.Seq, want-1)}
	}
	if !bytes.Equal(AuditHash(e), e.Hash) {
		for d := int64(1); d <= reorderWindow; d++ {
			for _, s := range []int64{e.Seq + d, e.Seq - d} {
				if s < 1 {
					continue
				}
				moved := e
				moved.Seq = s
				if bytes.Equal(AuditHash(moved), e.Hash) {
					return &AuditProblem{Seq: e.Seq, Kind: AuditReordered,
						Detail: fmt.Sprintf("entry %d holds the entry written as %d", e.Seq, s)}
				}
			}
		}
		return &AuditProblem{Seq: e.Seq, Kind: AuditChanged,
			Detail: fmt.Sprintf("entry %d does not match its hash", e.Seq)}
	}
	if !bytes.Equal(e.PrevHash, prev) {
		if e.Seq == 1 {
			return &AuditProblem{Seq: 1, Kind: AuditChanged,
				Detail: "entry 1 links to a predecessor: entries before it were removed and the log renumbered"}
		}
		return &AuditProblem{Seq: e.Seq - 1, Kind: AuditChanged,
			Detail: fmt.Sprintf("entry %d does not link to entry %d: entry %d was rewritten with a new hash", e.Seq, e.Seq-1, e.Seq-1)}
	}
	return nil
}
