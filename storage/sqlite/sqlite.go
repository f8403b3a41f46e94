// Package sqlite opens Sanad's durable store in an SQLite file, the embedded
// default that needs no database server.
//
// The store itself is storage/sqldb, shared with PostgreSQL; this package
// only configures the database file and the connection pool and carries the
// SQLite migrations. The driver is modernc.org/sqlite, pure Go, so Sanad
// builds without cgo.
//
// Every transaction begins IMMEDIATE, taking the database's single write
// lock: read-only work through DB() belongs outside transactions, where it
// does not hold up writers.
package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/sanad-id/sanad/storage/sqldb"
	_ "modernc.org/sqlite" // registers the "sqlite" driver
)

//go:embed migrations/*.sql
var migrationFiles embed.FS

// Pool settings. SQLite has one writer at a time: write transactions begin
// IMMEDIATE and wait for the write lock up to BusyTimeout, so concurrent
// writers queue instead of failing with SQLITE_BUSY. In WAL mode readers do
// not wait for the writer, hence a few connections rather than one.
const (
	// BusyTimeout is how long a statement waits for a lock held by another
	// connection or process before failing with SQLITE_BUSY.
	BusyTimeout = 10 * time.Second
	// MaxOpenConns bounds the pool.
	MaxOpenConns = 8
)

// Open opens the database file at path, creating it with mode 0600 if it does
// not exist, and applies pending migrations.
func Open(ctx context.Context, path string) (*sqldb.DB, error) {
	db, err := OpenNoMigrate(ctx, path)
	if err != nil {
		return nil, err
	}
	if _, err := db.Migrate(ctx); err != nil {
		db.Close()
		return nil, err
	}
	return db, nil
}

// OpenNoMigrate is Open without the migrations, for `sanad migrate`, which
// applies them itself to report what it applied.
//
// Every connection runs in WAL mode with synchronous=NORMAL (durable across
// process crashes; a power loss may lose the last transactions, never
// corrupt the file), foreign keys enforced and busy_timeout set to
// BusyTimeout.
func OpenNoMigrate(ctx context.Context, path string) (*sqldb.DB, error) {
	if path == "" || path == ":memory:" || strings.HasPrefix(path, "file:") {
		return nil, fmt.Errorf("sqlite: %q is not a file path", path)
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("sqlite: %w", err)
	}
	// Create the file ourselves so that it is private from the start; the
	// -wal and -shm files SQLite adds take the same mode.
	f, err := os.OpenFile(abs, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("sqlite: %w", err)
	}
	if err := f.Close(); err != nil {
		return nil, fmt.Errorf("sqlite: %w", err)
	}

	q := url.Values{}
	q.Add("_pragma", fmt.Sprintf("busy_timeout(%d)", BusyTimeout.Milliseconds()))
	q.Add("_pragma", "journal_mode(WAL)")
	q.Add("_pragma", "synchronous(NORMAL)")
	q.Add("_pragma", "foreign_keys(ON)")
	q.Set("_txlock", "immediate")
	dsn := (&url.URL{Scheme: "file", Path: abs, RawQuery: q.Encode()}).String()

	pool, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, fmt.Errorf("sqlite: open %s: %w", abs, err)
	}
	pool.SetMaxOpenConns(MaxOpenConns)
	pool.SetMaxIdleConns(MaxOpenConns)
	pool.SetConnMaxIdleTime(0)
	pool.SetConnMaxLifetime(0)
	if err := pool.PingContext(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("sqlite: open %s: %w", abs, err)
	}
	return sqldb.New(pool, sqldb.SQLite, migrations()), nil
}

// migrations returns the embedded migration files at the root of an fs.FS.
func migrations() fs.FS {
	sub, err := fs.Sub(migrationFiles, "migrations")
	if err != nil {
		// fs.Sub fails only for an invalid path, and "migrations" is valid.
		panic("sqlite: embedded migrations: " + err.Error())
	}
	return sub
}
