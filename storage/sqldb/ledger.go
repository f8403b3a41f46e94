package sqldb

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/sanad-id/sanad/storage"
)

var _ storage.Ledger = (*DB)(nil)

// credentialsTable lists the columns of credentials in the order in which
// appendCredential produces them and scanCredential reads them.
var credentialsTable = table{name: "credentials", columns: []string{
	"id", "configuration_id", "format", "person_id", "subject", "holder_key_thumbprint", "notification_id",
	"issued_at", "valid_from", "valid_until", "status", "status_list", "status_index", "wallet_event",
	"wallet_event_at",
}}

var credentialColumns = strings.Join(credentialsTable.columns, ", ")

// Listing limits of storage.CredentialFilter.
const (
	defaultCredentialLimit = 100
	maxCredentialLimit     = 1000
)

func appendCredential(args []any, c *storage.IssuedCredential) []any {
	return append(args, c.ID, c.ConfigurationID, c.Format, c.PersonID, c.Subject, c.HolderKeyThumbprint,
		c.NotificationID, micros(c.IssuedAt), micros(c.ValidFrom), micros(c.ValidUntil), c.Status, c.StatusList,
		c.StatusIndex, c.WalletEvent, micros(c.WalletEventAt))
}

func scanCredential(s scanner) (storage.IssuedCredential, error) {
	var (
		c                               storage.IssuedCredential
		issued, from, until, walletTime int64
	)
	err := s.Scan(&c.ID, &c.ConfigurationID, &c.Format, &c.PersonID, &c.Subject, &c.HolderKeyThumbprint,
		&c.NotificationID, &issued, &from, &until, &c.Status, &c.StatusList, &c.StatusIndex, &c.WalletEvent,
		&walletTime)
	if err != nil {
		return storage.IssuedCredential{}, err
	}
	c.IssuedAt, c.ValidFrom, c.ValidUntil = fromMicros(issued), fromMicros(from), fromMicros(until)
	c.WalletEventAt = fromMicros(walletTime)
	return c, nil
}

func validCredentialStatus(s string) bool {
	switch s {
	case storage.CredentialValid, storage.CredentialRevoked, storage.CredentialSuspended:
		return true
	}
	return false
}

func validWalletEvent(e string) bool {
	switch e {
	case storage.WalletAccepted, storage.WalletFailure, storage.WalletDeleted:
		return true
	}
	return false
}

// RecordCredentials stores cs in one transaction, all or none;
// storage.ErrAlreadyExists if an ID is taken or repeated in cs.
//
// The rows go in as multi-row INSERTs of up to maxRowsPerInsert rows. On
// SQLite a batch of several such statements prepares the statement of a
// full chunk once and executes it for every full chunk, since the driver
// would otherwise parse it again each time; a batch of one statement (what
// a credential response records) is executed directly, which prepares it
// as often. pgx caches the statements it has prepared per connection by
// itself.
func (db *DB) RecordCredentials(ctx context.Context, cs []storage.IssuedCredential) error {
	if len(cs) == 0 {
		return nil
	}
	for i := range cs {
		c := &cs[i]
		switch {
		case !validCredentialStatus(c.Status):
			return fmt.Errorf("sqldb: record %d credentials: credential %q: status %q is not one of %s, %s, %s",
				len(cs), c.ID, c.Status, storage.CredentialValid, storage.CredentialRevoked, storage.CredentialSuspended)
		case c.WalletEvent != "" && !validWalletEvent(c.WalletEvent):
			return fmt.Errorf("sqldb: record %d credentials: credential %q: unknown wallet event %q",
				len(cs), c.ID, c.WalletEvent)
		}
	}
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		row := func(i int, args []any) []any { return appendCredential(args, &cs[i]) }
		if db.dialect.bulkParams == "?" && len(cs) > maxRowsPerInsert {
			return insertPrepared(ctx, tx, credentialsTable, db.dialect, len(cs), row)
		}
		return db.insertRows(ctx, tx, credentialsTable, len(cs), row)
	})
	if err != nil {
		return fmt.Errorf("sqldb: record %d credentials: %w", len(cs), db.mapErr(err))
	}
	return nil
}

// insertPrepared is insertRows with each distinct statement prepared once
// in tx: the chunks of maxRowsPerInsert rows share one statement, the last,
// shorter chunk has its own.
func insertPrepared(ctx context.Context, tx *sql.Tx, t table, d Dialect, n int, row func(i int, args []any) []any) error {
	per := min(maxRowsPerInsert, d.maxParams/len(t.columns))
	var (
		args     []any
		stmt     *sql.Stmt
		stmtRows int
	)
	defer func() {
		if stmt != nil {
			stmt.Close()
		}
	}()
	for start := 0; start < n; start += per {
		rows := min(per, n-start)
		args = args[:0]
		for i := start; i < start+rows; i++ {
			args = row(i, args)
		}
		if len(args) != rows*len(t.columns) {
			return fmt.Errorf("insert into %s: %d values for %d rows of %d columns", t.name, len(args), rows, len(t.columns))
		}
		if stmt == nil || rows != stmtRows {
			if stmt != nil {
				stmt.Close()
			}
			var err error
			stmt, err = tx.PrepareContext(ctx, insertSQL(t, rows, d.bulkParams))
			if err != nil {
				stmt = nil
				return err
			}
			stmtRows = rows
		}
		if _, err := stmt.ExecContext(ctx, args...); err != nil {
			return err
		}
	}
	return nil
}

// GetCredential returns the entry with id; storage.ErrNotFound if there is
// none.
func (db *DB) GetCredential(ctx context.Context, id string) (storage.IssuedCredential, error) {
	c, err := scanCredential(db.queryRow(ctx, `SELECT `+credentialColumns+` FROM credentials WHERE id = $1`, id))
	if err != nil {
		return storage.IssuedCredential{}, fmt.Errorf("sqldb: get credential %q: %w", id, notFound(err))
	}
	return c, nil
}

// ceilMicros is the first microsecond at or after t, as stored: an entry
// stored at that microsecond or later is not before t.
func ceilMicros(t time.Time) int64 {
	m := t.Truncate(time.Microsecond)
	if m.Before(t) {
		m = m.Add(time.Microsecond)
	}
	return m.UnixMicro()
}

// ListCredentials returns the entries f selects, ordered by issue time then
// id (byte by byte), at most f.Limit of them (see
// storage.CredentialFilter). Each filter adds a condition to the query, so
// that the database can use the index that starts with the filtered column.
func (db *DB) ListCredentials(ctx context.Context, f storage.CredentialFilter) ([]storage.IssuedCredential, error) {
	var (
		where []string
		args  []any
	)
	// cond adds a condition whose parameters are written ?, in order.
	cond := func(c string, vs ...any) {
		for _, v := range vs {
			args = append(args, v)
			c = strings.Replace(c, "?", "$"+strconv.Itoa(len(args)), 1)
		}
		where = append(where, c)
	}
	if f.ConfigurationID != "" {
		cond("configuration_id = ?", f.ConfigurationID)
	}
	if f.PersonID != "" {
		cond("person_id = ?", f.PersonID)
	}
	if f.Status != "" {
		cond("status = ?", f.Status)
	}
	if !f.IssuedFrom.IsZero() {
		cond("issued_at >= ?", ceilMicros(f.IssuedFrom))
	}
	if !f.IssuedBefore.IsZero() {
		cond("issued_at < ?", ceilMicros(f.IssuedBefore))
	}
	if f.After != "" {
		var after int64
		err := db.db.QueryRowContext(ctx, `SELECT issued_at FROM credentials WHERE id = $1`, f.After).Scan(&after)
		if err != nil {
			return nil, fmt.Errorf("sqldb: list credentials after %q: %w", f.After, notFound(err))
		}
		cond("(issued_at, id) > (?, ?)", after, f.After)
	}
	limit := f.Limit
	switch {
	case limit <= 0:
		limit = defaultCredentialLimit
	case limit > maxCredentialLimit:
		limit = maxCredentialLimit
	}
	q := `SELECT ` + credentialColumns + ` FROM credentials`
	if len(where) > 0 {
		q += ` WHERE ` + strings.Join(where, " AND ")
	}
	args = append(args, limit)
	q += ` ORDER BY issued_at, id LIMIT $` + strconv.Itoa(len(args))

	rows, err := db.db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("sqldb: list credentials: %w", err)
	}
	defer rows.Close()
	var out []storage.IssuedCredential
	for rows.Next() {
		c, err := scanCredential(rows)
		if err != nil {
			return nil, fmt.Errorf("sqldb: list credentials: %w", err)
		}
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqldb: list credentials: %w", err)
	}
	return out, nil
}

// SetWalletEvent records event at at for the credentials of notificationID
// issued to subject and returns how many it updated.
func (db *DB) SetWalletEvent(ctx context.Context, notificationID, subject, event string, at time.Time) (int, error) {
	if !validWalletEvent(event) {
		return 0, fmt.Errorf("sqldb: set wallet event: unknown event %q", event)
	}
	if notificationID == "" {
		return 0, nil
	}
	res, err := db.db.ExecContext(ctx, `UPDATE credentials SET wallet_event = $1, wallet_event_at = $2
		WHERE notification_id = $3 AND subject = $4`, event, micros(at), notificationID, subject)
	if err != nil {
		return 0, fmt.Errorf("sqldb: set wallet event: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, fmt.Errorf("sqldb: set wallet event: %w", err)
	}
	return int(n), nil
}

// SetCredentialStatus changes the status of the entry with id;
// storage.ErrNotFound if there is none. When the status does change and
// the entry is on a status list, the list's version increases in the same
// transaction.
func (db *DB) SetCredentialStatus(ctx context.Context, id, status string) error {
	if !validCredentialStatus(status) {
		return fmt.Errorf("sqldb: set status of credential %q: status %q is not one of %s, %s, %s",
			id, status, storage.CredentialValid, storage.CredentialRevoked, storage.CredentialSuspended)
	}
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		var list string
		err := tx.QueryRowContext(ctx, `UPDATE credentials SET status = $1 WHERE id = $2 AND status <> $1
			RETURNING status_list`, status, id).Scan(&list)
		if errors.Is(err, sql.ErrNoRows) {
			// Unchanged: already status, or no such entry.
			var n int
			if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM credentials WHERE id = $1`, id).Scan(&n); err != nil {
				return err
			}
			if n == 0 {
				return storage.ErrNotFound
			}
			return nil
		}
		if err != nil || list == "" {
			return err
		}
		return bumpStatusLists(ctx, tx, []string{list})
	})
	if err != nil {
		return fmt.Errorf("sqldb: set status of credential %q: %w", id, err)
	}
	return nil
}

// maxTransitionAttempts bounds how often TransitionCredentialStatus reads
// the status again after a concurrent writer changed it between its read
// and its write. Every retry means another writer committed a change, so
// running out takes that many changes of one credential within one call.
const maxTransitionAttempts = 100

// errTransitionContended is returned when TransitionCredentialStatus ran
// out of attempts.
var errTransitionContended = errors.New("the status kept changing under concurrent writers")

// TransitionCredentialStatus sets the status of the entry with id to to if
// it is one of from, and returns the status it had (see storage.Ledger).
//
// In one transaction it reads the status and then writes to with a
// compare-and-set on the status read: UPDATE … WHERE id = … AND status =
// <read>. The write is the check, so nothing can come between them: on
// SQLite the transaction holds the database's write lock from BEGIN
// IMMEDIATE on, so the read is current and the set always applies; on
// PostgreSQL (read committed) an UPDATE that meets a row changed by a
// concurrent transaction waits for it and tests its WHERE again on the
// committed row, so a status changed since the read updates no row, and
// the transaction reads again. The version of the credential's list is
// bumped in the same transaction when the status changes.
func (db *DB) TransitionCredentialStatus(ctx context.Context, id string, from []string, to string) (string, error) {
	fail := func(previous string, err error) (string, error) {
		return previous, fmt.Errorf("sqldb: change status of credential %q from %s to %s: %w",
			id, strings.Join(from, " or "), to, err)
	}
	if !validCredentialStatus(to) {
		return fail("", fmt.Errorf("status %q is not one of %s, %s, %s",
			to, storage.CredentialValid, storage.CredentialRevoked, storage.CredentialSuspended))
	}
	if len(from) == 0 {
		return fail("", errors.New("no status to change from"))
	}
	for _, f := range from {
		if !validCredentialStatus(f) {
			return fail("", fmt.Errorf("from status %q is not one of %s, %s, %s",
				f, storage.CredentialValid, storage.CredentialRevoked, storage.CredentialSuspended))
		}
	}
	var previous string
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		for range maxTransitionAttempts {
			var list string
			err := tx.QueryRowContext(ctx, `SELECT status, status_list FROM credentials WHERE id = $1`, id).
				Scan(&previous, &list)
			if err != nil {
				previous = ""
				return notFound(err)
			}
			if !slices.Contains(from, previous) {
				return storage.ErrConflict
			}
			if previous == to {
				return nil
			}
			res, err := tx.ExecContext(ctx, `UPDATE credentials SET status = $1 WHERE id = $2 AND status = $3`,
				to, id, previous)
			if err != nil {
				return err
			}
			n, err := res.RowsAffected()
			if err != nil {
				return err
			}
			if n == 0 {
				continue // changed by another transaction since the read
			}
			if list == "" {
				return nil
			}
			return bumpStatusLists(ctx, tx, []string{list})
		}
		return fmt.Errorf("%w: %d attempts", errTransitionContended, maxTransitionAttempts)
	})
	if err != nil {
		return fail(previous, err)
	}
	return previous, nil
}
