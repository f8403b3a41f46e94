package sqldb_test

import (
	"testing"

	"github.com/sanad-id/sanad/storage/storagetest"
)

// BenchmarkLedgerSQLite measures issuance bookkeeping on SQLite; the
// target is 3000 credentials/s.
func BenchmarkLedgerSQLite(b *testing.B) {
	storagetest.BenchLedger(b, storagetest.OpenSQLite(b))
}

// BenchmarkLedgerPostgres is BenchmarkLedgerSQLite on PostgreSQL.
func BenchmarkLedgerPostgres(b *testing.B) {
	storagetest.BenchLedger(b, storagetest.OpenPostgres(b))
}
