// Package storagetest holds the conformance suites that every storage
// backend passes, so that Sanad behaves the same on SQLite and PostgreSQL, in
// memory and in Redis, and helpers that give any package's tests a fresh
// database or Redis namespace.
//
// Tests against PostgreSQL and Redis need a server: they read its URL from
// SANAD_TEST_POSTGRES_URL or SANAD_TEST_REDIS_URL and skip, saying so, when
// the variable is unset, unless SANAD_TEST_REQUIRE_SERVICES=1 (as in CI),
// which turns the skip into a failure. Each test gets its own PostgreSQL
// schema or Redis key prefix, removed when it ends, so test packages can run
// in parallel against one server.
package storagetest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
	goredis "github.com/redis/go-redis/v9"

	"github.com/sanad-id/sanad/storage/memory"
	"github.com/sanad-id/sanad/storage/postgres"
	"github.com/sanad-id/sanad/storage/redis"
	"github.com/sanad-id/sanad/storage/sqldb"
	"github.com/sanad-id/sanad/storage/sqlite"
)

// Environment variables read by the helpers.
const (
	// PostgresURLEnv names a PostgreSQL database tests may create schemas
	// in, for example postgres://postgres@127.0.0.1:5432/test?sslmode=disable.
	PostgresURLEnv = "SANAD_TEST_POSTGRES_URL"
	// RedisURLEnv names a Redis database tests may write keys to, for
	// example redis://127.0.0.1:6379/0.
	RedisURLEnv = "SANAD_TEST_REDIS_URL"
	// RequireServicesEnv, set to 1, makes a missing service URL fail the
	// test instead of skipping it.
	RequireServicesEnv = "SANAD_TEST_REQUIRE_SERVICES"
)

// cleanupTimeout bounds the work done after a test to remove its schema or
// keys; t.Context() is already canceled by then.
const cleanupTimeout = 30 * time.Second

// PostgresURL returns SANAD_TEST_POSTGRES_URL, or skips t when it is unset
// (fails it when SANAD_TEST_REQUIRE_SERVICES=1). Most tests want
// PostgresSchema or OpenPostgres instead, which isolate them.
func PostgresURL(t testing.TB) string {
	t.Helper()
	return serviceURL(t, PostgresURLEnv)
}

// RedisURL returns SANAD_TEST_REDIS_URL, or skips t when it is unset (fails
// it when SANAD_TEST_REQUIRE_SERVICES=1). Most tests want OpenRedis instead,
// which isolates them.
func RedisURL(t testing.TB) string {
	t.Helper()
	return serviceURL(t, RedisURLEnv)
}

func serviceURL(t testing.TB, env string) string {
	t.Helper()
	if u := os.Getenv(env); u != "" {
		return u
	}
	if v := os.Getenv(RequireServicesEnv); v != "" {
		require, err := strconv.ParseBool(v)
		if err != nil {
			t.Fatalf("%s=%q: want 1 or 0", RequireServicesEnv, v)
		}
		if require {
			t.Fatalf("%s is not set, and %s=%s requires the service", env, RequireServicesEnv, v)
		}
	}
	t.Skipf("skipping: set %s to run this test against a real server", env)
	return ""
}

// PostgresSchema creates an empty schema in the database at PostgresURL and
// returns a URL whose search_path selects it. The schema and everything in
// it is dropped when t ends.
func PostgresSchema(t testing.TB) string {
	t.Helper()
	base := PostgresURL(t)
	admin, err := postgresAdmin(base)
	if err != nil {
		t.Fatalf("connect to %s: %v", PostgresURLEnv, err)
	}
	schema := "sanad_test_" + randomHex(8)
	if _, err := admin.ExecContext(t.Context(), "CREATE SCHEMA "+schema); err != nil {
		t.Fatalf("CREATE SCHEMA %s: %v", schema, err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), cleanupTimeout)
		defer cancel()
		if _, err := admin.ExecContext(ctx, "DROP SCHEMA IF EXISTS "+schema+" CASCADE"); err != nil {
			t.Errorf("DROP SCHEMA %s: %v", schema, err)
		}
	})
	return withSearchPath(base, schema)
}

// admins holds one small connection pool per PostgreSQL URL for creating
// and dropping schemas, shared by the tests of a test binary (connecting
// takes tens of milliseconds) and closed when it exits.
var admins struct {
	sync.Mutex
	pools map[string]*sql.DB
}

func postgresAdmin(connString string) (*sql.DB, error) {
	admins.Lock()
	defer admins.Unlock()
	if db, ok := admins.pools[connString]; ok {
		return db, nil
	}
	cfg, err := pgx.ParseConfig(connString)
	if err != nil {
		return nil, err
	}
	db := stdlib.OpenDB(*cfg)
	db.SetMaxOpenConns(4)
	db.SetMaxIdleConns(2)
	if admins.pools == nil {
		admins.pools = map[string]*sql.DB{}
	}
	admins.pools[connString] = db
	return db, nil
}

// withSearchPath adds search_path=schema to a URL or keyword/value
// connection string; pgx sends it to the server as a setting.
func withSearchPath(connString, schema string) string {
	if strings.HasPrefix(connString, "postgres://") || strings.HasPrefix(connString, "postgresql://") {
		if u, err := url.Parse(connString); err == nil {
			q := u.Query()
			q.Set("search_path", schema)
			u.RawQuery = q.Encode()
			return u.String()
		}
	}
	return connString + " search_path=" + schema
}

// OpenPostgres returns a migrated PostgreSQL store in a fresh schema (see
// PostgresSchema), closed when t ends.
func OpenPostgres(t testing.TB) *sqldb.DB {
	t.Helper()
	db, err := postgres.Open(t.Context(), PostgresSchema(t))
	if err != nil {
		t.Fatalf("postgres.Open: %v", err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// OpenSQLite returns a migrated SQLite store in a new file under t.TempDir(),
// closed when t ends.
func OpenSQLite(t testing.TB) *sqldb.DB {
	t.Helper()
	db, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "sanad.db"))
	if err != nil {
		t.Fatalf("sqlite.Open: %v", err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// OpenRedis returns a Redis State on the server at RedisURL with a random
// key prefix. Its keys are deleted and the State closed when t ends.
func OpenRedis(t testing.TB) *redis.State {
	t.Helper()
	u := RedisURL(t)
	prefix := "sanad_test:" + randomHex(8) + ":"
	t.Cleanup(func() { deleteRedisKeys(t, u, prefix) })
	s, err := redis.Open(t.Context(), u, prefix)
	if err != nil {
		t.Fatalf("redis.Open: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// deleteRedisKeys deletes every key that starts with prefix, which must
// hold no glob characters.
func deleteRedisKeys(t testing.TB, redisURL, prefix string) {
	t.Helper()
	opt, err := goredis.ParseURL(redisURL)
	if err != nil {
		t.Errorf("parse %s: %v", RedisURLEnv, err)
		return
	}
	c := goredis.NewClient(opt)
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), cleanupTimeout)
	defer cancel()
	iter := c.Scan(ctx, 0, prefix+"*", 1000).Iterator()
	var keys []string
	for iter.Next(ctx) {
		keys = append(keys, iter.Val())
	}
	if err := iter.Err(); err != nil {
		t.Errorf("scan %s*: %v", prefix, err)
		return
	}
	for len(keys) > 0 {
		n := min(len(keys), 1000)
		if err := c.Del(ctx, keys[:n]...).Err(); err != nil {
			t.Errorf("delete %s*: %v", prefix, err)
			return
		}
		keys = keys[n:]
	}
}

// OpenMemory returns an in-memory State, closed when t ends.
func OpenMemory(t testing.TB) *memory.State {
	t.Helper()
	s := memory.New(memory.Config{})
	t.Cleanup(func() { s.Close() })
	return s
}

// randomHex returns n random bytes in lower-case hex, fit for a PostgreSQL
// identifier (unquoted identifiers are folded to lower case).
func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b) // never fails
	return hex.EncodeToString(b)
}
