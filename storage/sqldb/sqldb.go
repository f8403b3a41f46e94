// Package sqldb implements storage.Durable on database/sql, once for both SQL
// backends.
//
// SQLite (storage/sqlite) and PostgreSQL (storage/postgres) run the same
// queries: both accept $1 placeholders, RETURNING and ON CONFLICT, and every
// time is stored as BIGINT unix microseconds (the zero time as 0), so no query
// depends on either database's date types. What does differ lives in a
// Dialect: how a constraint violation is reported, how a transaction takes a
// named lock, how many parameters a statement may have, and whether bulk
// writes go through COPY (PostgreSQL, see copyInTx) or multi-row INSERTs
// (insertRows). The backends only open the connection pool, tune it and
// embed their migrations.
//
// # Adding a table
//
// A new record type (residents, clients, audit, ...) takes four steps:
//
//  1. Add the next migration, NNNN_name.sql, to both storage/sqlite/migrations
//     and storage/postgres/migrations. Columns holding times are unix
//     microseconds, 0 for the zero time: BIGINT in PostgreSQL, INTEGER (64
//     bits) in SQLite, whose tables are STRICT. Binary data is BYTEA or BLOB.
//  2. Add the interface to package storage, next to Keys, and embed it in
//     storage.Durable.
//  3. Implement it here in a file named after the record (keys.go is the
//     model): methods on *DB, times converted with micros and fromMicros,
//     multi-statement writes in db.inTx, errors passed through db.mapErr so a
//     unique violation becomes storage.ErrAlreadyExists (and a foreign key
//     violation storage.ErrNotFound), and Dialect.lock where concurrent
//     transactions must not interleave. Batches of rows go through
//     insertRows, or copyInTx where the dialect has COPY.
//  4. Add the cases to storage/storagetest.RunDurable; both SQL backends run
//     them.
package sqldb

import (
	"context"
	"database/sql"
	"fmt"
	"io/fs"
	"time"

	"github.com/sanad-id/sanad/storage"
)

// DB is the durable store on one SQL database. It is safe for concurrent use.
type DB struct {
	db         *sql.DB
	dialect    Dialect
	migrations fs.FS
}

var _ storage.Durable = (*DB)(nil)

// New wraps an open connection pool. migrations holds the backend's versioned
// migration files (see Migrate) at its root. New does not touch the database;
// the DB owns db from now on and closes it in Close.
func New(db *sql.DB, d Dialect, migrations fs.FS) *DB {
	return &DB{db: db, dialect: d, migrations: migrations}
}

// DB returns the connection pool, for tuning and for queries outside this
// package. Closing it closes the DB.
func (db *DB) DB() *sql.DB { return db.db }

// Dialect returns the SQL dialect of the database.
func (db *DB) Dialect() Dialect { return db.dialect }

// Ping reports whether the database answers.
func (db *DB) Ping(ctx context.Context) error {
	if err := db.db.PingContext(ctx); err != nil {
		return fmt.Errorf("sqldb: ping %s: %w", db.dialect.name, err)
	}
	return nil
}

// Close closes the connection pool.
func (db *DB) Close() error {
	return db.db.Close()
}

// inTx runs fn in a transaction and commits it if fn returns nil. It rolls
// back on error and on panic.
func (db *DB) inTx(ctx context.Context, fn func(tx *sql.Tx) error) error {
	tx, err := db.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	// After a successful Commit, Rollback returns sql.ErrTxDone and does nothing.
	defer func() { _ = tx.Rollback() }()
	if err := fn(tx); err != nil {
		return err
	}
	return tx.Commit()
}

// mapErr turns a unique violation into storage.ErrAlreadyExists and a
// foreign key violation (a row refers to one that does not exist) into
// storage.ErrNotFound, keeping the driver's error in the chain, and leaves
// other errors alone.
func (db *DB) mapErr(err error) error {
	switch {
	case err == nil:
		return nil
	case db.dialect.IsUniqueViolation(err):
		return fmt.Errorf("%w: %w", storage.ErrAlreadyExists, err)
	case db.dialect.IsForeignKeyViolation(err):
		return fmt.Errorf("%w: %w", storage.ErrNotFound, err)
	}
	return err
}

// micros is the stored form of t: unix microseconds, 0 for the zero time.
// The instant of the Unix epoch itself is therefore read back as the zero
// time.
func micros(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMicro()
}

// fromMicros is the inverse of micros; it returns times in UTC.
func fromMicros(v int64) time.Time {
	if v == 0 {
		return time.Time{}
	}
	return time.UnixMicro(v).UTC()
}

// nonNil returns b, or an empty slice when b is nil, because database/sql
// drivers store a nil []byte as NULL.
func nonNil(b []byte) []byte {
	if b == nil {
		return []byte{}
	}
	return b
}
