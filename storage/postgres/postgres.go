// Package postgres opens Sanad's durable store in PostgreSQL, the production
// database for deployments with more than one process.
//
// The store itself is storage/sqldb, shared with SQLite; this package only
// configures the connection pool (pgx v5 through database/sql) and carries the
// PostgreSQL migrations.
package postgres

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"

	"github.com/sanad-id/sanad/storage/sqldb"
)

//go:embed migrations/*.sql
var migrationFiles embed.FS

// Pool settings; tune further through DB().
const (
	// MaxOpenConns bounds the connections one process holds. PostgreSQL's
	// default max_connections is 100, shared by every process.
	MaxOpenConns = 20
	// MaxIdleConns connections are kept open between bursts: all of them,
	// so a burst never pays for new connections (and their TLS handshakes).
	MaxIdleConns = MaxOpenConns
	// ConnMaxIdleTime closes connections idle for longer.
	ConnMaxIdleTime = 5 * time.Minute
	// ConnMaxLifetime recycles connections, so that a failover or a
	// changed DNS name is picked up.
	ConnMaxLifetime = 30 * time.Minute
)

// Open connects to the database at url and applies pending migrations.
//
// url is a postgres:// URL or a keyword/value string as libpq accepts it.
// Parameters PostgreSQL knows as settings are sent as such, so
// search_path=myschema selects the schema Sanad's tables live in.
func Open(ctx context.Context, url string) (*sqldb.DB, error) {
	db, err := OpenNoMigrate(ctx, url)
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
// applies them itself to report what it applied, and for deployments that
// migrate as a separate step.
func OpenNoMigrate(ctx context.Context, url string) (*sqldb.DB, error) {
	cfg, err := pgx.ParseConfig(url)
	if err != nil {
		// pgx's parse error quotes the connection string with its password
		// redacted on a best-effort basis only.
		return nil, errors.New("postgres: cannot parse the connection string; " +
			"expected postgres://user@host:port/database?param=value or key=value pairs")
	}
	if _, ok := cfg.RuntimeParams["application_name"]; !ok {
		cfg.RuntimeParams["application_name"] = "sanad"
	}
	pool := stdlib.OpenDB(*cfg)
	pool.SetMaxOpenConns(MaxOpenConns)
	pool.SetMaxIdleConns(MaxIdleConns)
	pool.SetConnMaxIdleTime(ConnMaxIdleTime)
	pool.SetConnMaxLifetime(ConnMaxLifetime)
	if err := pool.PingContext(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("postgres: connect to %s:%d: %w", cfg.Host, cfg.Port, err)
	}
	return sqldb.New(pool, sqldb.Postgres, migrations()), nil
}

// migrations returns the embedded migration files at the root of an fs.FS.
func migrations() fs.FS {
	sub, err := fs.Sub(migrationFiles, "migrations")
	if err != nil {
		// fs.Sub fails only for an invalid path, and "migrations" is valid.
		panic("postgres: embedded migrations: " + err.Error())
	}
	return sub
}
