package sqlite_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sanad-id/sanad/storage"
	"github.com/sanad-id/sanad/storage/sqldb"
	"github.com/sanad-id/sanad/storage/sqlite"
	"github.com/sanad-id/sanad/storage/storagetest"
)

func TestDurable(t *testing.T) {
	storagetest.RunDurable(t, func(t *testing.T) storage.Durable { return storagetest.OpenSQLite(t) })
}

func TestMigrations(t *testing.T) {
	storagetest.RunMigrations(t, func(t *testing.T) func() *sqldb.DB {
		path := filepath.Join(t.TempDir(), "sanad.db")
		return func() *sqldb.DB { return openNoMigrate(t, path) }
	})
}

func openNoMigrate(t *testing.T, path string) *sqldb.DB {
	t.Helper()
	db, err := sqlite.OpenNoMigrate(t.Context(), path)
	if err != nil {
		t.Fatalf("OpenNoMigrate(%q) = %v", path, err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func TestOpenCreatesPrivateFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sanad.db")
	db, err := sqlite.Open(t.Context(), path)
	if err != nil {
		t.Fatalf("Open(%q) = %v", path, err)
	}
	defer db.Close()
	// A write makes SQLite create the -wal and -shm files as well.
	if err := db.CreateKey(t.Context(), storage.KeyRecord{KID: "k", CreatedAt: time.Now()}); err != nil {
		t.Fatalf("CreateKey = %v", err)
	}
	for _, name := range []string{path, path + "-wal", path + "-shm"} {
		fi, err := os.Stat(name)
		if err != nil {
			t.Fatalf("Stat(%q) = %v", name, err)
		}
		if got := fi.Mode().Perm(); got != 0o600 {
			t.Errorf("mode of %s = %v, want %v", filepath.Base(name), got, os.FileMode(0o600))
		}
	}
}

func TestOpenSettings(t *testing.T) {
	db := storagetest.OpenSQLite(t)
	tests := []struct {
		pragma string
		want   string
	}{
		{"journal_mode", "wal"},
		{"synchronous", "1"}, // NORMAL
		{"foreign_keys", "1"},
		{"busy_timeout", "10000"},
	}
	// Hold several connections at once so that the settings are seen on
	// more than the first.
	ctx := t.Context()
	for c := range 3 {
		conn, err := db.DB().Conn(ctx)
		if err != nil {
			t.Fatalf("Conn() = %v", err)
		}
		defer conn.Close()
		for _, tt := range tests {
			var got string
			if err := conn.QueryRowContext(ctx, "PRAGMA "+tt.pragma).Scan(&got); err != nil {
				t.Fatalf("PRAGMA %s: %v", tt.pragma, err)
			}
			if got != tt.want {
				t.Errorf("connection %d: PRAGMA %s = %q, want %q", c, tt.pragma, got, tt.want)
			}
		}
	}
	if got := db.Dialect().Name(); got != "sqlite" {
		t.Errorf("Dialect().Name() = %q, want %q", got, "sqlite")
	}
}

func TestOpenRejectsNonFiles(t *testing.T) {
	for _, path := range []string{"", ":memory:", "file:sanad.db?mode=memory"} {
		t.Run(path, func(t *testing.T) {
			db, err := sqlite.Open(t.Context(), path)
			if err == nil {
				db.Close()
				t.Fatalf("Open(%q) = nil error, want an error", path)
			}
		})
	}
}

func TestOpenKeepsData(t *testing.T) {
	path := filepath.Join(t.TempDir(), "dir with space#and?query", "sanad.db")
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		t.Fatal(err)
	}
	db, err := sqlite.Open(t.Context(), path)
	if err != nil {
		t.Fatalf("Open(%q) = %v", path, err)
	}
	k := storage.KeyRecord{KID: "k1", Purpose: "p", CreatedAt: time.Now()}
	if err := db.CreateKey(t.Context(), k); err != nil {
		t.Fatalf("CreateKey = %v", err)
	}
	if err := db.Close(); err != nil {
		t.Fatalf("Close() = %v", err)
	}

	db, err = sqlite.Open(t.Context(), path)
	if err != nil {
		t.Fatalf("Open(%q) again = %v", path, err)
	}
	defer db.Close()
	keys, err := db.ListKeys(t.Context(), "p")
	if err != nil || len(keys) != 1 || keys[0].KID != "k1" {
		t.Errorf("ListKeys after reopening = %+v, %v, want k1", keys, err)
	}
	if _, err := os.Stat(filepath.Join(filepath.Dir(path), "sanad.db")); err != nil {
		t.Errorf("database not at %q: %v", path, err)
	}
	entries, _ := os.ReadDir(filepath.Dir(path))
	for _, e := range entries {
		if !strings.HasPrefix(e.Name(), "sanad.db") {
			t.Errorf("unexpected file %q next to the database", e.Name())
		}
	}
}

func BenchmarkKeys(b *testing.B) {
	storagetest.BenchKeys(b, storagetest.OpenSQLite(b))
}

func BenchmarkCreateResidents(b *testing.B) {
	storagetest.BenchCreateResidentsSet(b, func(b *testing.B) storage.Durable { return storagetest.OpenSQLite(b) })
}
