package sqldb

import (
	"context"
	"fmt"
	"time"

	"github.com/sanad-id/sanad/storage"
)

const vidColumns = `hash, resident_id, type, status, created_at, expires_at, uses_left, sealed`

func scanVID(s scanner) (storage.VID, error) {
	var (
		v                storage.VID
		created, expires int64
	)
	err := s.Scan(&v.Hash, &v.ResidentID, &v.Type, &v.Status, &created, &expires, &v.UsesLeft, &v.Sealed)
	v.CreatedAt, v.ExpiresAt = fromMicros(created), fromMicros(expires)
	return v, err
}

// CreateVID stores a VID; storage.ErrAlreadyExists if the hash is taken,
// storage.ErrNotFound if there is no resident v.ResidentID.
func (db *DB) CreateVID(ctx context.Context, v storage.VID) error {
	_, err := db.db.ExecContext(ctx, `INSERT INTO vids (`+vidColumns+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
		nonNil(v.Hash), v.ResidentID, v.Type, v.Status, micros(v.CreatedAt), micros(v.ExpiresAt), v.UsesLeft,
		nonNil(v.Sealed))
	if err := db.mapErr(err); err != nil {
		return fmt.Errorf("sqldb: create VID of resident %q: %w", v.ResidentID, err)
	}
	return nil
}

// GetVID returns a VID by hash; storage.ErrNotFound.
func (db *DB) GetVID(ctx context.Context, hash []byte) (storage.VID, error) {
	v, err := scanVID(db.queryRow(ctx, `SELECT `+vidColumns+` FROM vids WHERE hash = $1`, nonNil(hash)))
	if err != nil {
		return storage.VID{}, fmt.Errorf("sqldb: get VID: %w", notFound(err))
	}
	return v, nil
}

// ListVIDs returns a resident's VIDs, whatever their status, oldest
// CreatedAt first, ties in hash order; none for an unknown resident.
func (db *DB) ListVIDs(ctx context.Context, residentID string) ([]storage.VID, error) {
	rows, err := db.db.QueryContext(ctx, `SELECT `+vidColumns+` FROM vids
		WHERE resident_id = $1 ORDER BY created_at, hash`, residentID)
	if err != nil {
		return nil, fmt.Errorf("sqldb: list VIDs of resident %q: %w", residentID, err)
	}
	defer rows.Close()
	var vids []storage.VID
	for rows.Next() {
		v, err := scanVID(rows)
		if err != nil {
			return nil, fmt.Errorf("sqldb: list VIDs of resident %q: %w", residentID, err)
		}
		vids = append(vids, v)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqldb: list VIDs of resident %q: %w", residentID, err)
	}
	return vids, nil
}

// SetVIDStatus changes a VID's status; storage.ErrNotFound.
func (db *DB) SetVIDStatus(ctx context.Context, hash []byte, status string) error {
	res, err := db.db.ExecContext(ctx, `UPDATE vids SET status = $1 WHERE hash = $2`, status, nonNil(hash))
	if err != nil {
		return fmt.Errorf("sqldb: set VID status: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("sqldb: set VID status: %w", err)
	}
	if n == 0 {
		return fmt.Errorf("sqldb: set VID status: %w", storage.ErrNotFound)
	}
	return nil
}

// UseVID consumes one use of an ACTIVE VID that has not expired at now
// (ExpiresAt zero or after now) and has uses left, and returns it as
// updated: UsesLeft decremented unless negative (unlimited), Status USED
// when UsesLeft reaches 0. storage.ErrNotFound if the VID is missing or not
// usable.
//
// It is one UPDATE whose conditions are checked against the row as it is
// when the update locks it (PostgreSQL re-checks them after waiting for a
// concurrent writer; SQLite runs writers one at a time), so concurrent uses
// of a VID with n uses left succeed exactly n times.
func (db *DB) UseVID(ctx context.Context, hash []byte, now time.Time) (storage.VID, error) {
	v, err := scanVID(db.db.QueryRowContext(ctx, `UPDATE vids SET
			uses_left = CASE WHEN uses_left > 0 THEN uses_left - 1 ELSE uses_left END,
			status = CASE WHEN uses_left = 1 THEN 'USED' ELSE status END
		WHERE hash = $1 AND status = 'ACTIVE' AND (expires_at = 0 OR expires_at > $2) AND uses_left <> 0
		RETURNING `+vidColumns, nonNil(hash), micros(now)))
	if err != nil {
		return storage.VID{}, fmt.Errorf("sqldb: use VID: %w", notFound(err))
	}
	return v, nil
}
