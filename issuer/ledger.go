package issuer

import (
	"context"
	"errors"
	"sync"

	"github.com/sanad-id/sanad/storage"
)

// ledgerCommitter writes credential responses to the ledger with group
// commit: while one write is in progress, the requests that arrive wait,
// and the next write records all of them in one transaction. Under load an
// SQLite or PostgreSQL commit then serves many responses instead of one
// (commits, not rows, are what the ledger costs); without load a request
// is written alone, as before.
//
// Each request still gets its own result: if a combined write fails, its
// requests are written again one by one, so one bad request (a duplicate
// id) cannot fail the others. A request is written at most once per
// successful write, and its caller learns the result before answering.
type ledgerCommitter struct {
	ledger storage.Ledger

	mu      sync.Mutex
	writing bool
	pending []*ledgerRequest
}

// ledgerRequest is one response's entries and where its result goes.
type ledgerRequest struct {
	entries []storage.IssuedCredential
	done    chan error // buffered (1): the result, or errLead
}

// errLead tells a waiting request that it is now the one that writes.
var errLead = errors.New("issuer: lead the next ledger write")

// maxGroupRows bounds the rows of one combined write.
const maxGroupRows = 2000

// record writes entries to the ledger, possibly together with those of
// concurrent calls, and returns when they are durable (or failed).
func (l *ledgerCommitter) record(ctx context.Context, entries []storage.IssuedCredential) error {
	r := &ledgerRequest{entries: entries, done: make(chan error, 1)}
	l.mu.Lock()
	l.pending = append(l.pending, r)
	lead := !l.writing
	l.writing = true
	l.mu.Unlock()
	if !lead {
		if err := <-r.done; err != errLead {
			return err
		}
	}
	// This call writes: take what is pending (this request included, as
	// it is first in the queue or was when leadership passed to it).
	l.mu.Lock()
	batch, rows := l.pending, 0
	n := 0
	for n < len(batch) && (n == 0 || rows+len(batch[n].entries) <= maxGroupRows) {
		rows += len(batch[n].entries)
		n++
	}
	batch = batch[:n:n]
	l.pending = l.pending[n:]
	l.mu.Unlock()

	// The write serves other callers too: it must not stop because this
	// caller's request was cancelled.
	l.write(context.WithoutCancel(ctx), batch)

	l.mu.Lock()
	if len(l.pending) > 0 {
		next := l.pending[0]
		l.mu.Unlock()
		next.done <- errLead
	} else {
		l.writing = false
		l.mu.Unlock()
	}
	return <-r.done
}

// write records batch in one transaction, or request by request if that
// fails, and delivers each request's result.
func (l *ledgerCommitter) write(ctx context.Context, batch []*ledgerRequest) {
	if len(batch) == 1 {
		batch[0].done <- l.ledger.RecordCredentials(ctx, batch[0].entries)
		return
	}
	var all []storage.IssuedCredential
	for _, r := range batch {
		all = append(all, r.entries...)
	}
	if err := l.ledger.RecordCredentials(ctx, all); err == nil {
		for _, r := range batch {
			r.done <- nil
		}
		return
	}
	for _, r := range batch {
		r.done <- l.ledger.RecordCredentials(ctx, r.entries)
	}
}
