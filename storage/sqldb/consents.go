package sqldb

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"time"

	"github.com/sanad-id/sanad/storage"
)

var _ storage.Consents = (*DB)(nil)

const consentColumns = `client_id, person_id, hash, accepted_claims, permitted_scopes, created_at, expires_at`

const consentEventColumns = `seq, client_id, person_id, action, accepted_claims, permitted_scopes, at`

// consentLock names the lock that writers of one person's consents take, so
// that the history numbers of one person are committed in increasing order
// and ConsentHistory, paging by number, never skips an event that commits
// late. It does nothing on SQLite, whose writers are serialized anyway.
func consentLock(personID string) string { return "consents:" + personID }

// encodeLists returns the stored form of a consent's lists: JSON text, a
// nil list as "null" so that it reads back nil.
func encodeLists(claims, scopes []string) (string, string, error) {
	c, err := json.Marshal(claims)
	if err != nil {
		return "", "", err
	}
	s, err := json.Marshal(scopes)
	return string(c), string(s), err
}

// decodeLists is the inverse of encodeLists.
func decodeLists(claimsText, scopesText string, claims, scopes *[]string) error {
	if err := json.Unmarshal([]byte(claimsText), claims); err != nil {
		return err
	}
	return json.Unmarshal([]byte(scopesText), scopes)
}

func scanConsent(s scanner) (storage.Consent, error) {
	var (
		c                storage.Consent
		claims, scopes   string
		created, expires int64
	)
	if err := s.Scan(&c.ClientID, &c.PersonID, &c.Hash, &claims, &scopes, &created, &expires); err != nil {
		return storage.Consent{}, err
	}
	if err := decodeLists(claims, scopes, &c.AcceptedClaims, &c.PermittedScopes); err != nil {
		return storage.Consent{}, fmt.Errorf("stored consent of client %q is malformed: %w", c.ClientID, err)
	}
	c.CreatedAt, c.ExpiresAt = fromMicros(created), fromMicros(expires)
	return c, nil
}

func scanConsentEvent(s scanner) (storage.ConsentEvent, error) {
	var (
		e              storage.ConsentEvent
		claims, scopes string
		at             int64
	)
	if err := s.Scan(&e.Seq, &e.ClientID, &e.PersonID, &e.Action, &claims, &scopes, &at); err != nil {
		return storage.ConsentEvent{}, err
	}
	if err := decodeLists(claims, scopes, &e.AcceptedClaims, &e.PermittedScopes); err != nil {
		return storage.ConsentEvent{}, fmt.Errorf("stored consent event %d is malformed: %w", e.Seq, err)
	}
	e.At = fromMicros(at)
	return e, nil
}

// appendConsentEvent records an event in tx; the lists are in their stored
// form.
func appendConsentEvent(ctx context.Context, tx *sql.Tx, clientID, personID, action, claims, scopes string, at int64) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO consent_history
		(client_id, person_id, action, accepted_claims, permitted_scopes, at)
		VALUES ($1, $2, $3, $4, $5, $6)`,
		clientID, personID, action, claims, scopes, at)
	return err
}

// PutConsent stores c, replacing the consent of (c.ClientID, c.PersonID) if
// there is one, and appends a GRANTED event at c.CreatedAt to the history in
// the same transaction.
func (db *DB) PutConsent(ctx context.Context, c storage.Consent) error {
	claims, scopes, err := encodeLists(c.AcceptedClaims, c.PermittedScopes)
	if err != nil {
		return fmt.Errorf("sqldb: put consent of resident %q for client %q: %w", c.PersonID, c.ClientID, err)
	}
	created := micros(c.CreatedAt)
	err = db.inTx(ctx, func(tx *sql.Tx) error {
		if err := db.dialect.lock(ctx, tx, consentLock(c.PersonID)); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO consents (`+consentColumns+`)
			VALUES ($1, $2, $3, $4, $5, $6, $7)
			ON CONFLICT (client_id, person_id) DO UPDATE
			SET hash = excluded.hash, accepted_claims = excluded.accepted_claims,
				permitted_scopes = excluded.permitted_scopes, created_at = excluded.created_at,
				expires_at = excluded.expires_at`,
			c.ClientID, c.PersonID, nonNil(c.Hash), claims, scopes, created, micros(c.ExpiresAt))
		if err != nil {
			return err
		}
		return appendConsentEvent(ctx, tx, c.ClientID, c.PersonID, storage.ConsentGranted, claims, scopes, created)
	})
	if err != nil {
		return fmt.Errorf("sqldb: put consent of resident %q for client %q: %w", c.PersonID, c.ClientID, err)
	}
	return nil
}

// GetConsent returns the consent of (clientID, personID), expired or not;
// storage.ErrNotFound if there is none.
func (db *DB) GetConsent(ctx context.Context, clientID, personID string) (storage.Consent, error) {
	c, err := scanConsent(db.queryRow(ctx, `SELECT `+consentColumns+` FROM consents
		WHERE client_id = $1 AND person_id = $2`, clientID, personID))
	if err != nil {
		return storage.Consent{}, fmt.Errorf("sqldb: get consent of resident %q for client %q: %w",
			personID, clientID, notFound(err))
	}
	return c, nil
}

// ListConsents returns the person's consents ordered by client id, byte by
// byte (the column's collation: BINARY in SQLite, "C" in PostgreSQL).
func (db *DB) ListConsents(ctx context.Context, personID string) ([]storage.Consent, error) {
	rows, err := db.db.QueryContext(ctx, `SELECT `+consentColumns+` FROM consents
		WHERE person_id = $1 ORDER BY client_id`, personID)
	if err != nil {
		return nil, fmt.Errorf("sqldb: list consents of resident %q: %w", personID, err)
	}
	defer rows.Close()
	var out []storage.Consent
	for rows.Next() {
		c, err := scanConsent(rows)
		if err != nil {
			return nil, fmt.Errorf("sqldb: list consents of resident %q: %w", personID, err)
		}
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqldb: list consents of resident %q: %w", personID, err)
	}
	return out, nil
}

// DeleteConsent removes the consent of (clientID, personID) and appends a
// WITHDRAWN event at at, with the removed consent's claims and scopes, in
// the same transaction; storage.ErrNotFound if there is none, and then
// nothing is appended.
func (db *DB) DeleteConsent(ctx context.Context, clientID, personID string, at time.Time) error {
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		if err := db.dialect.lock(ctx, tx, consentLock(personID)); err != nil {
			return err
		}
		var claims, scopes string
		err := tx.QueryRowContext(ctx, `DELETE FROM consents WHERE client_id = $1 AND person_id = $2
			RETURNING accepted_claims, permitted_scopes`, clientID, personID).Scan(&claims, &scopes)
		if err != nil {
			return notFound(err)
		}
		return appendConsentEvent(ctx, tx, clientID, personID, storage.ConsentWithdrawn, claims, scopes, micros(at))
	})
	if err != nil {
		return fmt.Errorf("sqldb: delete consent of resident %q for client %q: %w", personID, clientID, err)
	}
	return nil
}

// ConsentHistory returns up to limit of the person's events with Seq greater
// than after, ordered by Seq; none when limit is not positive.
func (db *DB) ConsentHistory(ctx context.Context, personID string, after int64, limit int) ([]storage.ConsentEvent, error) {
	if limit <= 0 {
		return nil, nil
	}
	rows, err := db.db.QueryContext(ctx, `SELECT `+consentEventColumns+` FROM consent_history
		WHERE person_id = $1 AND seq > $2 ORDER BY seq LIMIT $3`, personID, after, limit)
	if err != nil {
		return nil, fmt.Errorf("sqldb: consent history of resident %q: %w", personID, err)
	}
	defer rows.Close()
	var out []storage.ConsentEvent
	for rows.Next() {
		e, err := scanConsentEvent(rows)
		if err != nil {
			return nil, fmt.Errorf("sqldb: consent history of resident %q: %w", personID, err)
		}
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqldb: consent history of resident %q: %w", personID, err)
	}
	return out, nil
}
