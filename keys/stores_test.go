package keys

import (
	"testing"

	"github.com/sanad-id/sanad/storage"
	"github.com/sanad-id/sanad/storage/storagetest"
)

// stores are the backends every service test runs on. PostgreSQL skips
// unless SANAD_TEST_POSTGRES_URL is set (and fails instead when
// SANAD_TEST_REQUIRE_SERVICES=1).
func stores() []store {
	return []store{
		{name: "sqlite", open: func(t *testing.T) storage.Durable { return storagetest.OpenSQLite(t) }},
		{name: "postgres", open: func(t *testing.T) storage.Durable { return storagetest.OpenPostgres(t) }},
	}
}
