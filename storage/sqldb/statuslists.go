package sqldb

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/sanad-id/sanad/storage"
)

var _ storage.StatusLists = (*DB)(nil)

// statusListColumns are the columns of status_lists in the order in which
// scanStatusList reads them.
const statusListColumns = `id, issuer, kind, size, prp_key, next_counter, version, created_at, updated_at`

func scanStatusList(s scanner) (storage.StatusList, error) {
	var (
		l                storage.StatusList
		created, updated int64
	)
	err := s.Scan(&l.ID, &l.Issuer, &l.Kind, &l.Size, &l.Key, &l.Next, &l.Version, &created, &updated)
	if err != nil {
		return storage.StatusList{}, err
	}
	l.CreatedAt, l.UpdatedAt = fromMicros(created), fromMicros(updated)
	return l, nil
}

func validStatusListKind(k string) bool {
	return k == storage.StatusListW3C || k == storage.StatusListToken
}

// errInvalidReservation is wrapped by ReserveStatusIndices's argument
// errors, so that tests can tell them from database errors.
var errInvalidReservation = errors.New("invalid reservation")

// ReserveStatusIndices reserves up to n consecutive counters of the open
// list of (issuer, kind), creating a new list with size, key and id newID
// when the open one is full or there is none (see storage.StatusLists).
//
// The common case, a list with room for all n, is one UPDATE … RETURNING
// outside any transaction: a row update is atomic in both databases, and
// only the open list can have room, since a list is created only when the
// one before is full and a full list never gets room again. Otherwise
// (room for fewer than n, a full list, no list) a transaction that holds
// the (issuer, kind) lock (see Dialect.lock) takes what is left of the open
// list or creates the next one: creations are serialized, so exactly one
// of many callers finding the list full creates the next. The lock-free
// fast path can still take counters while that transaction runs, so it
// claims them with a compare-and-set on next_counter and reads again when
// the counter moved.
func (db *DB) ReserveStatusIndices(ctx context.Context, issuer, kind string, n int, size int64, newID string, key []byte) (storage.StatusList, int64, int, error) {
	fail := func(err error) (storage.StatusList, int64, int, error) {
		return storage.StatusList{}, 0, 0, fmt.Errorf("sqldb: reserve %d %s status indices of %q: %w", n, kind, issuer, err)
	}
	switch {
	case n < 1:
		return fail(fmt.Errorf("%w: n = %d, want at least 1", errInvalidReservation, n))
	case size < 1:
		return fail(fmt.Errorf("%w: size = %d, want at least 1", errInvalidReservation, size))
	case !validStatusListKind(kind):
		return fail(fmt.Errorf("%w: kind %q is not %q or %q", errInvalidReservation, kind,
			storage.StatusListW3C, storage.StatusListToken))
	case issuer == "":
		return fail(fmt.Errorf("%w: empty issuer", errInvalidReservation))
	case newID == "":
		return fail(fmt.Errorf("%w: empty id for a new list", errInvalidReservation))
	case len(key) == 0:
		return fail(fmt.Errorf("%w: empty permutation key for a new list", errInvalidReservation))
	}
	want := int64(n)

	// Fast path. next_counter <= size - n cannot overflow, as
	// next_counter + n could.
	l, err := scanStatusList(db.db.QueryRowContext(ctx, `UPDATE status_lists SET next_counter = next_counter + $3
		WHERE id = (SELECT id FROM status_lists WHERE issuer = $1 AND kind = $2 ORDER BY seq DESC LIMIT 1)
			AND next_counter <= size - $3
		RETURNING `+statusListColumns, issuer, kind, want))
	switch {
	case err == nil:
		return l, l.Next - want, n, nil
	case !errors.Is(err, sql.ErrNoRows):
		return fail(err)
	}

	var first, got int64
	err = db.inTx(ctx, func(tx *sql.Tx) error {
		if err := db.dialect.lock(ctx, tx, "status_lists:"+issuer+"\x00"+kind); err != nil {
			return err
		}
		for {
			var (
				seq  int64
				open storage.StatusList
			)
			err := tx.QueryRowContext(ctx, `SELECT id, seq, size, next_counter FROM status_lists
				WHERE issuer = $1 AND kind = $2 ORDER BY seq DESC LIMIT 1`, issuer, kind).
				Scan(&open.ID, &seq, &open.Size, &open.Next)
			if err != nil && !errors.Is(err, sql.ErrNoRows) {
				return err
			}
			if err == nil && open.Next < open.Size {
				first, got = open.Next, min(want, open.Size-open.Next)
				l, err = scanStatusList(tx.QueryRowContext(ctx, `UPDATE status_lists SET next_counter = $1
					WHERE id = $2 AND next_counter = $3 RETURNING `+statusListColumns, first+got, open.ID, first))
				if errors.Is(err, sql.ErrNoRows) {
					continue // the fast path took counters meanwhile
				}
				return err
			}
			// No list, or the open one is full: none can be made by
			// anyone else while this transaction holds the lock.
			now := micros(time.Now())
			first, got = 0, min(want, size)
			l, err = scanStatusList(tx.QueryRowContext(ctx, `INSERT INTO status_lists
				(id, issuer, kind, seq, size, prp_key, next_counter, version, created_at, updated_at)
				VALUES ($1, $2, $3, $4, $5, $6, $7, 0, $8, $8)
				RETURNING `+statusListColumns, newID, issuer, kind, seq+1, size, key, got, now))
			// The lock rules out a taken (issuer, kind, seq): a unique
			// violation is a taken id.
			return db.mapErr(err)
		}
	})
	if err != nil {
		return fail(err)
	}
	return l, first, int(got), nil
}

// GetStatusList returns the list with id; storage.ErrNotFound if there is
// none.
func (db *DB) GetStatusList(ctx context.Context, id string) (storage.StatusList, error) {
	l, err := scanStatusList(db.queryRow(ctx, `SELECT `+statusListColumns+` FROM status_lists WHERE id = $1`, id))
	if err != nil {
		return storage.StatusList{}, fmt.Errorf("sqldb: get status list %q: %w", id, notFound(err))
	}
	return l, nil
}

// ListStatusLists returns the lists of issuer, of one kind in the order
// they were made, or of all kinds (kind empty) by creation time, then kind,
// then order made.
func (db *DB) ListStatusLists(ctx context.Context, issuer, kind string) ([]storage.StatusList, error) {
	var (
		rows *sql.Rows
		err  error
	)
	if kind == "" {
		rows, err = db.db.QueryContext(ctx, `SELECT `+statusListColumns+` FROM status_lists
			WHERE issuer = $1 ORDER BY created_at, kind, seq`, issuer)
	} else {
		rows, err = db.db.QueryContext(ctx, `SELECT `+statusListColumns+` FROM status_lists
			WHERE issuer = $1 AND kind = $2 ORDER BY seq`, issuer, kind)
	}
	if err != nil {
		return nil, fmt.Errorf("sqldb: list status lists of %q: %w", issuer, err)
	}
	defer rows.Close()
	var out []storage.StatusList
	for rows.Next() {
		l, err := scanStatusList(rows)
		if err != nil {
			return nil, fmt.Errorf("sqldb: list status lists of %q: %w", issuer, err)
		}
		out = append(out, l)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqldb: list status lists of %q: %w", issuer, err)
	}
	return out, nil
}

// StatusEntries returns the credentials on list id whose status is not
// VALID, by index, and the list's version. It is one statement, so both
// come from one snapshot in either database without holding SQLite's write
// lock, and the credentials come from the partial index
// credentials_status_list. A list with no such credentials yields one row
// with NULLs on the credentials' side; no row at all means no list.
func (db *DB) StatusEntries(ctx context.Context, id string) ([]storage.StatusEntry, int64, error) {
	fail := func(err error) ([]storage.StatusEntry, int64, error) {
		return nil, 0, fmt.Errorf("sqldb: status entries of list %q: %w", id, err)
	}
	rows, err := db.db.QueryContext(ctx, `SELECT l.version, c.status_index, c.status
		FROM status_lists l LEFT JOIN credentials c ON c.status_list = $1 AND c.status <> 'VALID'
		WHERE l.id = $1 ORDER BY c.status_index`, id)
	if err != nil {
		return fail(err)
	}
	defer rows.Close()
	var (
		out     []storage.StatusEntry
		version int64
		found   bool
	)
	for rows.Next() {
		var (
			index  sql.NullInt64
			status sql.NullString
		)
		if err := rows.Scan(&version, &index, &status); err != nil {
			return fail(err)
		}
		found = true
		if index.Valid {
			out = append(out, storage.StatusEntry{Index: index.Int64, Status: status.String})
		}
	}
	if err := rows.Err(); err != nil {
		return fail(err)
	}
	if !found {
		return fail(storage.ErrNotFound)
	}
	return out, version, nil
}

// SetPersonCredentialsStatus sets status on the credentials of personID
// (of configurationID only, unless empty) whose status is from (any, when
// from is empty) and not status already, and bumps the version of each list
// they are on, in one transaction; it returns how many credentials changed.
func (db *DB) SetPersonCredentialsStatus(ctx context.Context, personID, configurationID, from, status string) (int, error) {
	fail := func(err error) (int, error) {
		return 0, fmt.Errorf("sqldb: set status of a person's credentials: %w", err)
	}
	switch {
	case !validCredentialStatus(status):
		return fail(fmt.Errorf("status %q is not one of %s, %s, %s",
			status, storage.CredentialValid, storage.CredentialRevoked, storage.CredentialSuspended))
	case from != "" && !validCredentialStatus(from):
		return fail(fmt.Errorf("from status %q is not one of %s, %s, %s",
			from, storage.CredentialValid, storage.CredentialRevoked, storage.CredentialSuspended))
	}
	// Empty configurationID and from match anything; the database
	// compares with a constant either way.
	var changed int
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, `UPDATE credentials SET status = $1
			WHERE person_id = $2 AND status <> $1 AND status_list <> '' AND ($3 = '' OR configuration_id = $3) AND ($4 = '' OR status = $4)
			RETURNING status_list`, status, personID, configurationID, from)
		if err != nil {
			return err
		}
		var lists []string
		for rows.Next() {
			var l string
			if err := rows.Scan(&l); err != nil {
				rows.Close()
				return err
			}
			changed++
			if l != "" {
				lists = append(lists, l)
			}
		}
		if err := rows.Close(); err != nil {
			return err
		}
		if err := rows.Err(); err != nil {
			return err
		}
		// One bump per list, in id order so that concurrent callers lock
		// the lists in the same order.
		slices.Sort(lists)
		return bumpStatusLists(ctx, tx, slices.Compact(lists))
	})
	if err != nil {
		return fail(err)
	}
	return changed, nil
}

// bumpStatusLists increases the version of the lists with ids by one and
// sets their updated_at to now, unless it is later already (clocks of
// several processes differ). Ids of no list are skipped: a ledger entry
// may name a list this database does not hold.
func bumpStatusLists(ctx context.Context, e execer, ids []string) error {
	now := micros(time.Now())
	for _, id := range ids {
		_, err := e.ExecContext(ctx, `UPDATE status_lists SET version = version + 1,
			updated_at = CASE WHEN updated_at > $1 THEN updated_at ELSE $1 END WHERE id = $2`, now, id)
		if err != nil {
			return err
		}
	}
	return nil
}
