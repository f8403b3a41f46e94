package sqldb

import (
	"context"
	"database/sql"
	"errors"
	"hash/fnv"

	"github.com/jackc/pgx/v5/pgconn"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// Dialect is what differs between the SQL databases Sanad runs on. Queries
// themselves do not differ; see the package documentation.
type Dialect struct {
	name                string
	uniqueViolation     func(error) bool
	foreignKeyViolation func(error) bool
	// maxParams is how many parameters one statement may have.
	maxParams int
	// bulkParams is how the parameters of generated multi-row statements
	// are written: "$" for $1, $2, …; "?" for ?, ?, … (see insertSQL).
	bulkParams string
	// copy is whether bulk writes go through COPY FROM STDIN (pgx) rather
	// than multi-row INSERTs.
	copy bool
	// lockSQL takes a lock held until the end of the transaction on the
	// int64 $1; empty when the database serializes write transactions anyway.
	lockSQL string
	// tableExistsSQL reports whether the table named $1 exists.
	tableExistsSQL string
	// cacheStatements is whether the hot point reads keep prepared
	// statements (DB.queryRow): for drivers that do not cache them.
	cacheStatements bool
}

var (
	// SQLite is modernc.org/sqlite (driver name "sqlite"). Its pool must begin
	// transactions with BEGIN IMMEDIATE (DSN parameter _txlock=immediate), as
	// storage/sqlite's does: write transactions then take the database's one
	// write lock up front, waiting for it under busy_timeout, so they are
	// serialized and never fail to upgrade a read lock.
	SQLite = Dialect{
		name:                "sqlite",
		uniqueViolation:     sqliteUniqueViolation,
		foreignKeyViolation: sqliteForeignKeyViolation,
		maxParams:           32766, // SQLITE_MAX_VARIABLE_NUMBER
		// SQLite takes $1 for a named parameter, and ?1 for a numbered
		// one, and keeps a list of those that it searches for every
		// parameter when preparing and again when binding: quadratic in a
		// statement with thousands of them. Plain ? parameters are not
		// listed.
		bulkParams:      "?",
		tableExistsSQL:  `SELECT EXISTS (SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = $1)`,
		cacheStatements: true,
	}
	// Postgres is PostgreSQL through github.com/jackc/pgx/v5/stdlib.
	Postgres = Dialect{
		name:                "postgres",
		uniqueViolation:     postgresUniqueViolation,
		foreignKeyViolation: postgresForeignKeyViolation,
		maxParams:           65535, // the wire protocol counts parameters in 16 bits
		bulkParams:          "$",
		copy:                true,
		lockSQL:             `SELECT pg_advisory_xact_lock($1)`,
		tableExistsSQL: `SELECT EXISTS (SELECT 1 FROM information_schema.tables
			WHERE table_schema = current_schema() AND table_name = $1)`,
	}
)

// Name is "sqlite" or "postgres".
func (d Dialect) Name() string { return d.name }

// String returns the name.
func (d Dialect) String() string { return d.name }

// IsUniqueViolation reports whether err, or an error it wraps, is the
// database refusing a row because a primary key or unique constraint is
// taken.
func (d Dialect) IsUniqueViolation(err error) bool {
	return d.uniqueViolation != nil && d.uniqueViolation(err)
}

// IsForeignKeyViolation reports whether err, or an error it wraps, is the
// database refusing a row because a row it references does not exist.
func (d Dialect) IsForeignKeyViolation(err error) bool {
	return d.foreignKeyViolation != nil && d.foreignKeyViolation(err)
}

// lock makes tx wait until no other transaction holds the lock called name,
// and holds it until tx ends. Transactions that take the same name run one
// after another, so a read followed by a write cannot interleave with another
// such pair. On PostgreSQL the names share one advisory-lock space for the
// whole database (all schemas); on SQLite lock does nothing because write
// transactions are serialized already.
func (d Dialect) lock(ctx context.Context, tx *sql.Tx, name string) error {
	if d.lockSQL == "" {
		return nil
	}
	_, err := tx.ExecContext(ctx, d.lockSQL, lockKey(name))
	return err
}

// lockKey maps a lock name to a PostgreSQL advisory lock key.
func lockKey(name string) int64 {
	h := fnv.New64a()
	h.Write([]byte("sanad:"))
	h.Write([]byte(name))
	return int64(h.Sum64())
}

func (d Dialect) tableExists(ctx context.Context, db *sql.DB, table string) (bool, error) {
	var ok bool
	err := db.QueryRowContext(ctx, d.tableExistsSQL, table).Scan(&ok)
	return ok, err
}

func sqliteUniqueViolation(err error) bool {
	var e *sqlite.Error
	if !errors.As(err, &e) {
		return false
	}
	switch e.Code() {
	case sqlite3.SQLITE_CONSTRAINT_UNIQUE, sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY:
		return true
	}
	return false
}

func sqliteForeignKeyViolation(err error) bool {
	var e *sqlite.Error
	return errors.As(err, &e) && e.Code() == sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY
}

func postgresUniqueViolation(err error) bool {
	var e *pgconn.PgError
	return errors.As(err, &e) && e.Code == "23505"
}

func postgresForeignKeyViolation(err error) bool {
	var e *pgconn.PgError
	return errors.As(err, &e) && e.Code == "23503"
}
