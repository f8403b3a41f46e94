package sqldb

import (
	"context"
	"fmt"

	"github.com/sanad-id/sanad/storage"
)

var _ storage.Factors = (*DB)(nil)

// PutFactor creates or replaces the resident's verifier of kind f.Kind;
// storage.ErrNotFound if there is no resident f.ResidentID.
func (db *DB) PutFactor(ctx context.Context, f storage.FactorSecret) error {
	_, err := db.db.ExecContext(ctx, `INSERT INTO factors (resident_id, kind, hash, updated_at)
		VALUES ($1, $2, $3, $4)
		ON CONFLICT (resident_id, kind) DO UPDATE SET hash = excluded.hash, updated_at = excluded.updated_at`,
		f.ResidentID, f.Kind, f.Hash, micros(f.UpdatedAt))
	if err := db.mapErr(err); err != nil {
		return fmt.Errorf("sqldb: put %s of resident %q: %w", f.Kind, f.ResidentID, err)
	}
	return nil
}

// GetFactor returns the resident's verifier of that kind;
// storage.ErrNotFound.
func (db *DB) GetFactor(ctx context.Context, residentID, kind string) (storage.FactorSecret, error) {
	f := storage.FactorSecret{ResidentID: residentID, Kind: kind}
	var updated int64
	err := db.queryRow(ctx, `SELECT hash, updated_at FROM factors WHERE resident_id = $1 AND kind = $2`,
		residentID, kind).Scan(&f.Hash, &updated)
	if err != nil {
		return storage.FactorSecret{}, fmt.Errorf("sqldb: get %s of resident %q: %w", kind, residentID, notFound(err))
	}
	f.UpdatedAt = fromMicros(updated)
	return f, nil
}
