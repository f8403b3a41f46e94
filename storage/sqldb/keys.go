package sqldb

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/sanad-id/sanad/storage"
)

// keyColumns are the columns of the keys table in the order scanKey reads
// them and insertKey writes them.
const keyColumns = `kid, purpose, alg, key_use, backend, public_jwk, private_key,
	created_at, not_before, retired_at, publish_until`

const insertKeySQL = `INSERT INTO keys (` + keyColumns + `)
	VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`

// execer is what *sql.DB and *sql.Tx have in common for writes.
type execer interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
}

func insertKey(ctx context.Context, e execer, k storage.KeyRecord) error {
	_, err := e.ExecContext(ctx, insertKeySQL,
		k.KID, k.Purpose, k.Alg, k.Use, k.Backend, nonNil(k.Public), nonNil(k.Private),
		micros(k.CreatedAt), micros(k.NotBefore), micros(k.RetiredAt), micros(k.PublishUntil))
	return err
}

// CreateKey stores a new key; storage.ErrAlreadyExists if the KID is taken.
func (db *DB) CreateKey(ctx context.Context, k storage.KeyRecord) error {
	if err := db.mapErr(insertKey(ctx, db.db, k)); err != nil {
		return fmt.Errorf("sqldb: create key %q: %w", k.KID, err)
	}
	return nil
}

// RotateKey stores k and retires every other unretired key with the same
// Purpose and Alg, in one transaction. Concurrent rotations of the same
// Purpose and Alg run one after another, so after any number of them exactly
// one of the new keys is unretired. retiredAt must not be the zero time, which
// is how an active key is stored.
func (db *DB) RotateKey(ctx context.Context, k storage.KeyRecord, retiredAt, publishUntil time.Time) error {
	if retiredAt.IsZero() {
		return fmt.Errorf("sqldb: rotate key %q: retiredAt is the zero time", k.KID)
	}
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		if err := db.dialect.lock(ctx, tx, "keys:"+k.Purpose+"\x00"+k.Alg); err != nil {
			return err
		}
		if err := db.mapErr(insertKey(ctx, tx, k)); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `UPDATE keys SET retired_at = $1, publish_until = $2
			WHERE purpose = $3 AND alg = $4 AND retired_at = 0 AND kid <> $5`,
			micros(retiredAt), micros(publishUntil), k.Purpose, k.Alg, k.KID)
		return err
	})
	if err != nil {
		return fmt.Errorf("sqldb: rotate key %q: %w", k.KID, err)
	}
	return nil
}

// ListKeys returns the keys of one purpose ("" for all), oldest CreatedAt
// first, ties in KID order.
func (db *DB) ListKeys(ctx context.Context, purpose string) ([]storage.KeyRecord, error) {
	var (
		rows *sql.Rows
		err  error
	)
	if purpose == "" {
		rows, err = db.db.QueryContext(ctx, `SELECT `+keyColumns+` FROM keys ORDER BY created_at, kid`)
	} else {
		rows, err = db.db.QueryContext(ctx, `SELECT `+keyColumns+` FROM keys
			WHERE purpose = $1 ORDER BY created_at, kid`, purpose)
	}
	if err != nil {
		return nil, fmt.Errorf("sqldb: list keys: %w", err)
	}
	defer rows.Close()
	var keys []storage.KeyRecord
	for rows.Next() {
		k, err := scanKey(rows)
		if err != nil {
			return nil, fmt.Errorf("sqldb: list keys: %w", err)
		}
		keys = append(keys, k)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqldb: list keys: %w", err)
	}
	return keys, nil
}

func scanKey(rows *sql.Rows) (storage.KeyRecord, error) {
	var (
		k                                     storage.KeyRecord
		created, notBefore, retired, pubUntil int64
	)
	err := rows.Scan(&k.KID, &k.Purpose, &k.Alg, &k.Use, &k.Backend, &k.Public, &k.Private,
		&created, &notBefore, &retired, &pubUntil)
	if err != nil {
		return k, err
	}
	k.CreatedAt, k.NotBefore = fromMicros(created), fromMicros(notBefore)
	k.RetiredAt, k.PublishUntil = fromMicros(retired), fromMicros(pubUntil)
	return k, nil
}

// DeleteKeysPublishedBefore removes retired keys whose PublishUntil is before
// t and returns how many it removed. A retired key with a zero PublishUntil
// is removed by any t after 1970.
func (db *DB) DeleteKeysPublishedBefore(ctx context.Context, t time.Time) (int, error) {
	res, err := db.db.ExecContext(ctx, `DELETE FROM keys WHERE retired_at <> 0 AND publish_until < $1`, micros(t))
	if err != nil {
		return 0, fmt.Errorf("sqldb: delete keys: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, fmt.Errorf("sqldb: delete keys: %w", err)
	}
	return int(n), nil
}
