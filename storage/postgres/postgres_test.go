package postgres_test

import (
	"strings"
	"testing"

	"github.com/sanad-id/sanad/storage"
	"github.com/sanad-id/sanad/storage/postgres"
	"github.com/sanad-id/sanad/storage/sqldb"
	"github.com/sanad-id/sanad/storage/storagetest"
)

func TestDurable(t *testing.T) {
	storagetest.PostgresURL(t) // skip once rather than in every case
	storagetest.RunDurable(t, func(t *testing.T) storage.Durable { return storagetest.OpenPostgres(t) })
}

func TestMigrations(t *testing.T) {
	storagetest.PostgresURL(t)
	storagetest.RunMigrations(t, func(t *testing.T) func() *sqldb.DB {
		url := storagetest.PostgresSchema(t)
		return func() *sqldb.DB {
			db, err := postgres.OpenNoMigrate(t.Context(), url)
			if err != nil {
				t.Fatalf("OpenNoMigrate = %v", err)
			}
			t.Cleanup(func() { db.Close() })
			return db
		}
	})
}

func TestOpenUsesSchema(t *testing.T) {
	db := storagetest.OpenPostgres(t)
	var schema string
	if err := db.DB().QueryRowContext(t.Context(), "SELECT current_schema()").Scan(&schema); err != nil {
		t.Fatalf("SELECT current_schema() = %v", err)
	}
	if !strings.HasPrefix(schema, "sanad_test_") {
		t.Errorf("current_schema() = %q, want a sanad_test_ schema", schema)
	}
	var n int
	err := db.DB().QueryRowContext(t.Context(),
		"SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = $1 AND table_name = 'keys'", schema).Scan(&n)
	if err != nil || n != 1 {
		t.Errorf("keys tables in schema %s = %d, %v, want 1, nil", schema, n, err)
	}
	if got := db.Dialect().Name(); got != "postgres" {
		t.Errorf("Dialect().Name() = %q, want %q", got, "postgres")
	}
}

func TestOpenHidesPassword(t *testing.T) {
	tests := []struct {
		name, url string
	}{
		{"bad port", "postgres://sanad:s3cret-pw@db:notaport/sanad"},
		{"bad escape", "postgres://sanad:s3cret-pw%zz@db/sanad"},
		{"bad keyword", "host=db password=s3cret-pw port=x"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			db, err := postgres.Open(t.Context(), tt.url)
			if err == nil {
				db.Close()
				t.Fatalf("Open(%q) = nil error, want an error", tt.url)
			}
			if strings.Contains(err.Error(), "s3cret") {
				t.Errorf("Open(%q) = %q, want an error without the password", tt.url, err)
			}
		})
	}
}

func BenchmarkCreateResidents(b *testing.B) {
	storagetest.BenchCreateResidentsSet(b, func(b *testing.B) storage.Durable { return storagetest.OpenPostgres(b) })
}
