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
	"sync"
	"time"

	"github.com/sanad-id/sanad/storage"
)

// DB is the durable store on one SQL database. It is safe for concurrent use.
type DB struct {
	db         *sql.DB
	dialect    Dialect
	migrations fs.FS
	// stmts caches the prepared statements of the hot point reads
	// (queryRow), by query text.
	stmts *sync.Map // string -> *sql.Stmt
}

var _ storage.Durable = (*DB)(nil)

// New wraps an open connection pool. migrations holds the backend's versioned
// migration files (see Migrate) at its root. New does not touch the database;
// the DB owns db from now on and closes it in Close.
func New(db *sql.DB, d Dialect, migrations fs.FS) *DB {
	return &DB{db: db, dialect: d, migrations: migrations, stmts: new(sync.Map)}
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

// Close closes the cached statements and the connection pool.
func (db *DB) Close() error {
	db.stmts.Range(func(_, v any) bool {
		_ = v.(*sql.Stmt).Close()
		return true
	})
	return db.db.Close()
}

// queryRow runs a single-row read outside a transaction through a
// statement prepared once and kept (database/sql prepares it again on each
// pool connection as it first runs there). modernc's SQLite driver parses
// every query it is given again, which was 7 % of the server's CPU in a
// login; pgx caches statements itself, so PostgreSQL queries go through
// directly. If preparing fails the query runs directly, and its own error
// is reported.
func (db *DB) queryRow(ctx context.Context, query string, args ...any) *sql.Row {
	if !db.dialect.cacheStatements {
		return db.db.QueryRowContext(ctx, query, args...)
	}
	if v, ok := db.stmts.Load(query); ok {
		return v.(*sql.Stmt).QueryRowContext(ctx, args...)
	}
	st, err := db.db.PrepareContext(ctx, query)
	if err != nil {
		return db.db.QueryRowContext(ctx, query, args...)
	}
	if v, loaded := db.stmts.LoadOrStore(query, st); loaded {
		_ = st.Close()
		st = v.(*sql.Stmt)
	}
	return st.QueryRowContext(ctx, args...)
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
