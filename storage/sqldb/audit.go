package sqldb

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"

	"github.com/sanad-id/sanad/storage"
)

var _ storage.Audit = (*DB)(nil)

// auditTable lists the columns of audit in the order in which appendAudit
// produces them and scanAudit reads them.
var auditTable = table{name: "audit", columns: []string{
	"seq", "time", "actor", "action", "subject", "reason", "request_id", "outcome", "prev_hash", "hash",
}}

const auditColumns = `seq, time, actor, action, subject, reason, request_id, outcome, prev_hash, hash`

// auditLock is the name of the lock appenders take.
const auditLock = "audit"

func appendAudit(args []any, e storage.AuditEntry) []any {
	// The first entry's PrevHash is nil and stored as NULL.
	return append(args, e.Seq, micros(e.Time), e.Actor, e.Action, e.Subject, e.Reason, e.RequestID, e.Outcome,
		e.PrevHash, e.Hash)
}

func scanAudit(s scanner) (storage.AuditEntry, error) {
	var (
		e storage.AuditEntry
		t int64
	)
	err := s.Scan(&e.Seq, &t, &e.Actor, &e.Action, &e.Subject, &e.Reason, &e.RequestID, &e.Outcome, &e.PrevHash, &e.Hash)
	e.Time = fromMicros(t)
	return e, err
}

// AppendAudit appends entries atomically and in order, and returns them as
// stored. In one transaction it reads the last entry, then for each entry
// sets Seq to the next number, PrevHash to the Hash before it (nil for the
// first entry of the log), Time to the stored value (UTC, truncated to the
// microsecond) and calls seal, which must set Hash and leave Seq and
// PrevHash alone. entries itself is not modified. Appending no entries does
// nothing.
//
// Appenders are serialized: on PostgreSQL by a lock held until the
// transaction ends, on SQLite by its single writer. Concurrent appends
// therefore form one chain without gaps; the primary key on Seq would
// refuse a second entry with the same number anyway.
func (db *DB) AppendAudit(ctx context.Context, entries []storage.AuditEntry, seal func(*storage.AuditEntry)) ([]storage.AuditEntry, error) {
	if len(entries) == 0 {
		return nil, nil
	}
	out := slices.Clone(entries)
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		if err := db.dialect.lock(ctx, tx, auditLock); err != nil {
			return err
		}
		var (
			seq  int64
			prev []byte
		)
		err := tx.QueryRowContext(ctx, `SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1`).Scan(&seq, &prev)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		for i := range out {
			e := &out[i]
			seq++
			e.Seq, e.PrevHash, e.Hash = seq, prev, nil
			e.Time = fromMicros(micros(e.Time))
			seal(e)
			switch {
			case len(e.Hash) == 0:
				return errors.New("seal did not set Hash")
			case e.Seq != seq || !bytes.Equal(e.PrevHash, prev):
				return errors.New("seal changed Seq or PrevHash")
			}
			e.Hash = bytes.Clone(e.Hash)
			prev = e.Hash
		}
		return db.insertRows(ctx, tx, auditTable, len(out), func(i int, args []any) []any {
			return appendAudit(args, out[i])
		})
	})
	if err != nil {
		return nil, fmt.Errorf("sqldb: append %d audit entries: %w", len(entries), err)
	}
	return out, nil
}

// ListAudit returns up to limit entries with Seq >= from, in order; none
// when limit is not positive.
func (db *DB) ListAudit(ctx context.Context, from int64, limit int) ([]storage.AuditEntry, error) {
	if limit <= 0 {
		return nil, nil
	}
	rows, err := db.db.QueryContext(ctx, `SELECT `+auditColumns+` FROM audit
		WHERE seq >= $1 ORDER BY seq LIMIT $2`, from, limit)
	if err != nil {
		return nil, fmt.Errorf("sqldb: list audit: %w", err)
	}
	defer rows.Close()
	var entries []storage.AuditEntry
	for rows.Next() {
		e, err := scanAudit(rows)
		if err != nil {
			return nil, fmt.Errorf("sqldb: list audit: %w", err)
		}
		entries = append(entries, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqldb: list audit: %w", err)
	}
	return entries, nil
}
