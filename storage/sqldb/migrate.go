package sqldb

import (
	"cmp"
	"context"
	"database/sql"
	"fmt"
	"io/fs"
	"path"
	"regexp"
	"slices"
	"strconv"
	"time"
)

// migrationsTable records applied migrations; the statement is the same in
// both dialects.
const migrationsTable = `CREATE TABLE IF NOT EXISTS schema_migrations (
	version BIGINT PRIMARY KEY,
	name TEXT NOT NULL,
	applied_at BIGINT NOT NULL
)`

// migrationName is NNNN_name.sql: a positive version, then a lower-case name.
var migrationName = regexp.MustCompile(`^([0-9]+)_([a-z0-9_]+)\.sql$`)

type migration struct {
	version int64
	name    string // file name without .sql, for example "0001_keys"
	sql     string
}

// loadMigrations reads the *.sql files at the root of fsys, ordered by
// version. Files with other extensions are ignored.
func loadMigrations(fsys fs.FS) ([]migration, error) {
	if fsys == nil {
		return nil, nil
	}
	entries, err := fs.ReadDir(fsys, ".")
	if err != nil {
		return nil, fmt.Errorf("sqldb: read migrations: %w", err)
	}
	var ms []migration
	seen := map[int64]string{}
	for _, e := range entries {
		if e.IsDir() || path.Ext(e.Name()) != ".sql" {
			continue
		}
		m := migrationName.FindStringSubmatch(e.Name())
		if m == nil {
			return nil, fmt.Errorf("sqldb: migration %q: name is not NNNN_name.sql", e.Name())
		}
		v, err := strconv.ParseInt(m[1], 10, 64)
		if err != nil || v <= 0 {
			return nil, fmt.Errorf("sqldb: migration %q: version must be a positive integer", e.Name())
		}
		if other, ok := seen[v]; ok {
			return nil, fmt.Errorf("sqldb: migrations %q and %q have the same version %d", other, e.Name(), v)
		}
		seen[v] = e.Name()
		body, err := fs.ReadFile(fsys, e.Name())
		if err != nil {
			return nil, fmt.Errorf("sqldb: read migration: %w", err)
		}
		ms = append(ms, migration{version: v, name: e.Name()[:len(e.Name())-len(".sql")], sql: string(body)})
	}
	slices.SortFunc(ms, func(a, b migration) int { return cmp.Compare(a.version, b.version) })
	return ms, nil
}

// Migrate applies the pending migrations in version order and returns the
// names (file names without .sql, for example "0001_keys") of those it
// applied; none when the schema is up to date.
//
// Migrations are files named NNNN_name.sql at the root of the fs.FS given to
// New; each is applied in its own transaction together with its row in
// schema_migrations, so a failed migration leaves no trace and the ones before
// it stay applied. Several processes may migrate the same database at once:
// each migration runs under a lock (an advisory lock on PostgreSQL, the write
// lock on SQLite) and is skipped by whoever finds it already recorded.
// Versions recorded in the database but unknown to this binary are left
// alone.
func (db *DB) Migrate(ctx context.Context) ([]string, error) {
	ms, err := loadMigrations(db.migrations)
	if err != nil {
		return nil, err
	}
	done, err := db.appliedVersions(ctx)
	if err != nil {
		return nil, err
	}
	var applied []string
	for _, m := range ms {
		if done[m.version] {
			continue
		}
		ok, err := db.apply(ctx, m)
		if err != nil {
			return applied, fmt.Errorf("sqldb: migration %s: %w", m.name, err)
		}
		if ok {
			applied = append(applied, m.name)
		}
	}
	return applied, nil
}

// apply runs m unless it is recorded already, and reports whether it ran.
func (db *DB) apply(ctx context.Context, m migration) (bool, error) {
	ran := false
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		if err := db.dialect.lock(ctx, tx, "schema_migrations"); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, migrationsTable); err != nil {
			return err
		}
		var n int
		err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM schema_migrations WHERE version = $1`, m.version).Scan(&n)
		if err != nil || n > 0 {
			return err
		}
		if _, err := tx.ExecContext(ctx, m.sql); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)`,
			m.version, m.name, micros(time.Now()))
		ran = err == nil
		return err
	})
	if err != nil {
		return false, err
	}
	return ran, nil
}

// appliedVersions returns the versions recorded in schema_migrations.
func (db *DB) appliedVersions(ctx context.Context) (map[int64]bool, error) {
	done := map[int64]bool{}
	ok, err := db.dialect.tableExists(ctx, db.db, "schema_migrations")
	if err != nil || !ok {
		return done, wrapErr("read schema version", err)
	}
	rows, err := db.db.QueryContext(ctx, `SELECT version FROM schema_migrations`)
	if err != nil {
		return nil, wrapErr("read schema version", err)
	}
	defer rows.Close()
	for rows.Next() {
		var v int64
		if err := rows.Scan(&v); err != nil {
			return nil, wrapErr("read schema version", err)
		}
		done[v] = true
	}
	return done, wrapErr("read schema version", rows.Err())
}

// Version returns the newest migration version applied to the database, 0
// for a database never migrated.
func (db *DB) Version(ctx context.Context) (int64, error) {
	ok, err := db.dialect.tableExists(ctx, db.db, "schema_migrations")
	if err != nil || !ok {
		return 0, wrapErr("read schema version", err)
	}
	var v int64
	err = db.db.QueryRowContext(ctx, `SELECT COALESCE(MAX(version), 0) FROM schema_migrations`).Scan(&v)
	return v, wrapErr("read schema version", err)
}

// wrapErr prefixes err with the package and what was being done; nil stays nil.
func wrapErr(doing string, err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("sqldb: %s: %w", doing, err)
}
