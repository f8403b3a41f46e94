package sqldb

import (
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/sanad-id/sanad/storage"
)

// openSQLite opens an empty SQLite database configured as storage/sqlite
// configures it, with migrations from fsys.
func openSQLite(t *testing.T, path string, fsys fstest.MapFS) *DB {
	t.Helper()
	q := url.Values{"_txlock": {"immediate"}, "_pragma": {"busy_timeout(10000)", "journal_mode(WAL)"}}
	pool, err := sql.Open("sqlite", (&url.URL{Scheme: "file", Path: path, RawQuery: q.Encode()}).String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pool.Close() })
	return New(pool, SQLite, fsys)
}

func file(sql string) *fstest.MapFile { return &fstest.MapFile{Data: []byte(sql)} }

func TestLoadMigrations(t *testing.T) {
	tests := []struct {
		name    string
		fsys    fstest.MapFS
		want    []string
		wantErr string
	}{
		{
			name: "ordered by number, not text",
			fsys: fstest.MapFS{"0010_ten.sql": file("x"), "0002_two.sql": file("x"), "0001_one.sql": file("x")},
			want: []string{"0001_one", "0002_two", "0010_ten"},
		},
		{
			name: "other files ignored",
			fsys: fstest.MapFS{"0001_one.sql": file("x"), "README.md": file("x"), "sub/0002_two.sql": file("x")},
			want: []string{"0001_one"},
		},
		{name: "empty", fsys: fstest.MapFS{}, want: nil},
		{name: "no number", fsys: fstest.MapFS{"keys.sql": file("x")}, wantErr: "NNNN_name.sql"},
		{name: "dash", fsys: fstest.MapFS{"0001-keys.sql": file("x")}, wantErr: "NNNN_name.sql"},
		{name: "upper case", fsys: fstest.MapFS{"0001_Keys.sql": file("x")}, wantErr: "NNNN_name.sql"},
		{name: "version zero", fsys: fstest.MapFS{"0000_init.sql": file("x")}, wantErr: "positive"},
		{
			name:    "same version twice",
			fsys:    fstest.MapFS{"0001_a.sql": file("x"), "1_b.sql": file("x")},
			wantErr: "same version",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ms, err := loadMigrations(tt.fsys)
			var got []string
			for _, m := range ms {
				got = append(got, m.name)
			}
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Errorf("loadMigrations() = %q, %v, want an error containing %q", got, err, tt.wantErr)
				}
				return
			}
			if err != nil || !slices.Equal(got, tt.want) {
				t.Errorf("loadMigrations() = %q, %v, want %q, nil", got, err, tt.want)
			}
		})
	}
}

func TestMigrateStopsAtFailure(t *testing.T) {
	path := filepath.Join(t.TempDir(), "test.db")
	broken := fstest.MapFS{
		"0001_one.sql":   file("CREATE TABLE one (id INTEGER PRIMARY KEY);"),
		"0002_two.sql":   file("CREATE TABLE two (id INTEGER PRIMARY KEY); INSERT INTO missing VALUES (1);"),
		"0003_three.sql": file("CREATE TABLE three (id INTEGER PRIMARY KEY);"),
	}
	db := openSQLite(t, path, broken)
	ctx := t.Context()
	applied, err := db.Migrate(ctx)
	if err == nil || !strings.Contains(err.Error(), "0002_two") || !slices.Equal(applied, []string{"0001_one"}) {
		t.Fatalf("Migrate() = %q, %v, want [0001_one] and an error naming 0002_two", applied, err)
	}
	if v, err := db.Version(ctx); v != 1 || err != nil {
		t.Errorf("Version() = %d, %v, want 1, nil", v, err)
	}
	for table, want := range map[string]bool{"one": true, "two": false, "three": false} {
		if got, err := SQLite.tableExists(ctx, db.db, table); got != want || err != nil {
			t.Errorf("table %s exists = %v, %v, want %v, nil", table, got, err, want)
		}
	}

	fixed := fstest.MapFS{
		"0001_one.sql":   broken["0001_one.sql"],
		"0002_two.sql":   file("CREATE TABLE two (id INTEGER PRIMARY KEY);"),
		"0003_three.sql": broken["0003_three.sql"],
	}
	db = openSQLite(t, path, fixed)
	applied, err = db.Migrate(ctx)
	if err != nil || !slices.Equal(applied, []string{"0002_two", "0003_three"}) {
		t.Errorf("Migrate() after the fix = %q, %v, want [0002_two 0003_three], nil", applied, err)
	}
	if v, err := db.Version(ctx); v != 3 || err != nil {
		t.Errorf("Version() = %d, %v, want 3, nil", v, err)
	}
}

func TestIsUniqueViolation(t *testing.T) {
	db := openSQLite(t, filepath.Join(t.TempDir(), "test.db"), nil)
	ctx := t.Context()
	_, err := db.db.ExecContext(ctx, `CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT UNIQUE, parent INTEGER
		REFERENCES t (id), CHECK (name <> ''))`)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.db.ExecContext(ctx, `INSERT INTO t VALUES (1, 'a', NULL)`); err != nil {
		t.Fatal(err)
	}
	sqliteErr := func(stmt string) error {
		_, err := db.db.ExecContext(ctx, stmt)
		if err == nil {
			t.Fatalf("%s succeeded, want an error", stmt)
		}
		return err
	}
	tests := []struct {
		name    string
		dialect Dialect
		err     error
		want    bool
	}{
		{"sqlite primary key", SQLite, sqliteErr(`INSERT INTO t VALUES (1, 'b', NULL)`), true},
		{"sqlite unique", SQLite, sqliteErr(`INSERT INTO t VALUES (2, 'a', NULL)`), true},
		{"sqlite wrapped", SQLite, fmt.Errorf("insert: %w", sqliteErr(`INSERT INTO t VALUES (2, 'a', NULL)`)), true},
		{"sqlite check", SQLite, sqliteErr(`INSERT INTO t VALUES (3, '', NULL)`), false},
		{"sqlite syntax", SQLite, sqliteErr(`INSERT INTO`), false},
		{"postgres unique", Postgres, &pgconn.PgError{Code: "23505"}, true},
		{"postgres wrapped", Postgres, fmt.Errorf("insert: %w", &pgconn.PgError{Code: "23505"}), true},
		{"postgres foreign key", Postgres, &pgconn.PgError{Code: "23503"}, false},
		{"postgres error to sqlite", SQLite, &pgconn.PgError{Code: "23505"}, false},
		{"other error", Postgres, errors.New("23505"), false},
		{"nil", SQLite, nil, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.dialect.IsUniqueViolation(tt.err); got != tt.want {
				t.Errorf("%s.IsUniqueViolation(%v) = %v, want %v", tt.dialect, tt.err, got, tt.want)
			}
		})
	}
	if err := db.mapErr(tests[0].err); !errors.Is(err, storage.ErrAlreadyExists) {
		t.Errorf("mapErr(%v) = %v, want %v", tests[0].err, err, storage.ErrAlreadyExists)
	}
}

func TestMicros(t *testing.T) {
	tests := []struct {
		name string
		in   time.Time
		want int64
	}{
		{"zero", time.Time{}, 0},
		{"one microsecond", time.UnixMicro(1), 1},
		{"truncated", time.Unix(1, 999), 1_000_000},
		{"negative", time.UnixMicro(-5), -5},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := micros(tt.in); got != tt.want {
				t.Errorf("micros(%v) = %d, want %d", tt.in, got, tt.want)
			}
			back := fromMicros(tt.want)
			if !back.Equal(tt.in.Truncate(time.Microsecond)) || (!back.IsZero() && back.Location() != time.UTC) {
				t.Errorf("fromMicros(%d) = %v, want %v in UTC", tt.want, back, tt.in.Truncate(time.Microsecond))
			}
		})
	}
}

func TestLockKey(t *testing.T) {
	names := []string{"schema_migrations", "keys:oidc-signing\x00ES256", "keys:oidc-signing\x00RS256"}
	seen := map[int64]string{}
	for _, n := range names {
		k := lockKey(n)
		if other, ok := seen[k]; ok {
			t.Errorf("lockKey(%q) = lockKey(%q) = %d, want distinct", n, other, k)
		}
		seen[k] = n
		if again := lockKey(n); again != k {
			t.Errorf("lockKey(%q) = %d then %d, want stable", n, k, again)
		}
	}
}
