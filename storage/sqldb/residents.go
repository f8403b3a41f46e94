package sqldb

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/sanad-id/sanad/storage"
)

var _ storage.Residents = (*DB)(nil)

// residentsTable lists the columns of residents in the order in which
// residentValues produces them and scanResident reads them.
var residentsTable = table{name: "residents", columns: []string{
	"id", "uin_hash", "status", "version", "sealed", "key_id", "wrapped_key", "created_at", "updated_at",
}}

// handlesTable lists the columns of handles in the order handleValues
// produces them.
var handlesTable = table{name: "handles", columns: []string{"hash", "kind", "resident_id"}}

const residentColumns = `id, uin_hash, status, version, sealed, key_id, wrapped_key, created_at, updated_at`

// appendResident appends the column values of r to args.
func appendResident(args []any, r storage.Resident) []any {
	return append(args, r.ID, nonNil(r.UINHash), r.Status, r.Version, nonNil(r.Sealed), r.KeyID,
		nonNil(r.WrappedKey), micros(r.CreatedAt), micros(r.UpdatedAt))
}

// appendHandle appends the column values of h, a handle of residentID, to
// args.
func appendHandle(args []any, h storage.Handle, residentID string) []any {
	return append(args, nonNil(h.Hash), h.Kind, residentID)
}

// scanner is what *sql.Row and *sql.Rows have in common for reads.
type scanner interface {
	Scan(dest ...any) error
}

func scanResident(s scanner) (storage.Resident, error) {
	var (
		r                storage.Resident
		created, updated int64
	)
	err := s.Scan(&r.ID, &r.UINHash, &r.Status, &r.Version, &r.Sealed, &r.KeyID, &r.WrappedKey, &created, &updated)
	r.CreatedAt, r.UpdatedAt = fromMicros(created), fromMicros(updated)
	return r, err
}

// ownedHandle is a handle with the resident it is written for.
type ownedHandle struct {
	h        storage.Handle
	resident string
}

// CreateResidents stores the residents and their handles in one
// transaction: all or none. storage.ErrAlreadyExists if an id, UIN hash or
// handle hash is taken, by a stored resident or within rs. A handle is
// stored as the handle of the resident it comes with, whatever its
// ResidentID says.
//
// On PostgreSQL the rows go in with COPY; on SQLite with multi-row INSERTs.
// Either way a batch of a few hundred to a few thousand residents is one
// round of work for the database, which is what makes bulk imports fast.
func (db *DB) CreateResidents(ctx context.Context, rs []storage.NewResident) error {
	if len(rs) == 0 {
		return nil
	}
	var handles []ownedHandle
	for _, r := range rs {
		for _, h := range r.Handles {
			handles = append(handles, ownedHandle{h, r.Resident.ID})
		}
	}
	var err error
	if db.dialect.copy {
		err = db.copyInTx(ctx,
			copyRows{residentsTable, len(rs), func(i int) []any {
				return appendResident(make([]any, 0, len(residentsTable.columns)), rs[i].Resident)
			}},
			copyRows{handlesTable, len(handles), func(i int) []any {
				return appendHandle(make([]any, 0, len(handlesTable.columns)), handles[i].h, handles[i].resident)
			}})
	} else {
		err = db.inTx(ctx, func(tx *sql.Tx) error {
			err := db.insertRows(ctx, tx, residentsTable, len(rs), func(i int, args []any) []any {
				return appendResident(args, rs[i].Resident)
			})
			if err != nil {
				return err
			}
			return db.insertRows(ctx, tx, handlesTable, len(handles), func(i int, args []any) []any {
				return appendHandle(args, handles[i].h, handles[i].resident)
			})
		})
	}
	if err := db.mapErr(err); err != nil {
		return fmt.Errorf("sqldb: create %d residents: %w", len(rs), err)
	}
	return nil
}

// GetResident returns the resident by internal id; storage.ErrNotFound.
func (db *DB) GetResident(ctx context.Context, id string) (storage.Resident, error) {
	r, err := scanResident(db.queryRow(ctx,
		`SELECT `+residentColumns+` FROM residents WHERE id = $1`, id))
	if err != nil {
		return storage.Resident{}, fmt.Errorf("sqldb: get resident %q: %w", id, notFound(err))
	}
	return r, nil
}

// GetResidentByUIN returns the resident by UIN hash; storage.ErrNotFound.
func (db *DB) GetResidentByUIN(ctx context.Context, uinHash []byte) (storage.Resident, error) {
	r, err := scanResident(db.queryRow(ctx,
		`SELECT `+residentColumns+` FROM residents WHERE uin_hash = $1`, nonNil(uinHash)))
	if err != nil {
		return storage.Resident{}, fmt.Errorf("sqldb: get resident by UIN: %w", notFound(err))
	}
	return r, nil
}

// ResolveHandle returns the resident id of a handle hash;
// storage.ErrNotFound.
func (db *DB) ResolveHandle(ctx context.Context, hash []byte) (string, error) {
	var id string
	err := db.queryRow(ctx, `SELECT resident_id FROM handles WHERE hash = $1`, nonNil(hash)).Scan(&id)
	if err != nil {
		return "", fmt.Errorf("sqldb: resolve handle: %w", notFound(err))
	}
	return id, nil
}

// UpdateResident replaces Status, Sealed, KeyID, WrappedKey and UpdatedAt
// and sets Version to r.Version, if the stored Version is r.Version-1; the
// id, UIN hash and CreatedAt stay. Unless handles is nil, the resident's
// handles are replaced by handles (whatever their ResidentID says) in the
// same transaction; an empty, non-nil handles removes them all.
// storage.ErrNotFound if there is no such resident, storage.ErrConflict if
// its version is not r.Version-1, storage.ErrAlreadyExists if a handle
// belongs to another resident or appears twice; nothing changes then.
//
// Concurrent updates of one resident from the same version: one succeeds,
// the others get storage.ErrConflict.
func (db *DB) UpdateResident(ctx context.Context, r storage.Resident, handles []storage.Handle) error {
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE residents
			SET status = $1, version = $2, sealed = $3, key_id = $4, wrapped_key = $5, updated_at = $6
			WHERE id = $7 AND version = $8`,
			r.Status, r.Version, nonNil(r.Sealed), r.KeyID, nonNil(r.WrappedKey), micros(r.UpdatedAt),
			r.ID, r.Version-1)
		if err != nil {
			return err
		}
		n, err := res.RowsAffected()
		if err != nil {
			return err
		}
		if n == 0 {
			var exists bool
			err := tx.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM residents WHERE id = $1)`, r.ID).Scan(&exists)
			switch {
			case err != nil:
				return err
			case exists:
				return storage.ErrConflict
			default:
				return storage.ErrNotFound
			}
		}
		if handles == nil {
			return nil
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM handles WHERE resident_id = $1`, r.ID); err != nil {
			return err
		}
		return db.insertRows(ctx, tx, handlesTable, len(handles), func(i int, args []any) []any {
			return appendHandle(args, handles[i], r.ID)
		})
	})
	if err := db.mapErr(err); err != nil {
		return fmt.Errorf("sqldb: update resident %q: %w", r.ID, err)
	}
	return nil
}

// notFound turns sql.ErrNoRows into storage.ErrNotFound and leaves other
// errors alone.
func notFound(err error) error {
	if errors.Is(err, sql.ErrNoRows) {
		return storage.ErrNotFound
	}
	return err
}
