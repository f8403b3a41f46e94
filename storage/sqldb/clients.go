package sqldb

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"

	"github.com/sanad-id/sanad/storage"
)

var _ storage.Clients = (*DB)(nil)

const clientColumns = `id, name, name_lang_map, public_keys, public_key_hash, relying_party_id, user_claims,
	acrs, logo_uri, redirect_uris, grant_types, auth_methods, additional_config, status, version,
	created_at, updated_at`

// clientRow is a client in its stored form: lists and maps as JSON text
// (a nil list as "null", so it reads back nil), times as microseconds.
type clientRow struct {
	nameLangMap, userClaims, acrs, redirectURIs, grantTypes, authMethods string
	created, updated                                                     int64
}

func encodeClient(c storage.Client) (clientRow, error) {
	var r clientRow
	var err error
	enc := func(dst *string, v any) {
		if err != nil {
			return
		}
		var b []byte
		b, err = json.Marshal(v)
		*dst = string(b)
	}
	enc(&r.nameLangMap, c.NameLangMap)
	enc(&r.userClaims, c.UserClaims)
	enc(&r.acrs, c.ACRs)
	enc(&r.redirectURIs, c.RedirectURIs)
	enc(&r.grantTypes, c.GrantTypes)
	enc(&r.authMethods, c.AuthMethods)
	r.created, r.updated = micros(c.CreatedAt), micros(c.UpdatedAt)
	return r, err
}

func scanClient(s scanner) (storage.Client, error) {
	var (
		c                        storage.Client
		r                        clientRow
		publicKeys, additionalCf string
	)
	err := s.Scan(&c.ID, &c.Name, &r.nameLangMap, &publicKeys, &c.PublicKeyHash, &c.RelyingPartyID,
		&r.userClaims, &r.acrs, &c.LogoURI, &r.redirectURIs, &r.grantTypes, &r.authMethods, &additionalCf,
		&c.Status, &c.Version, &r.created, &r.updated)
	if err != nil {
		return storage.Client{}, err
	}
	c.PublicKeys, c.AdditionalConfig = []byte(publicKeys), []byte(additionalCf)
	c.CreatedAt, c.UpdatedAt = fromMicros(r.created), fromMicros(r.updated)
	for _, f := range []struct {
		text string
		dst  any
	}{
		{r.nameLangMap, &c.NameLangMap},
		{r.userClaims, &c.UserClaims},
		{r.acrs, &c.ACRs},
		{r.redirectURIs, &c.RedirectURIs},
		{r.grantTypes, &c.GrantTypes},
		{r.authMethods, &c.AuthMethods},
	} {
		if err := json.Unmarshal([]byte(f.text), f.dst); err != nil {
			return storage.Client{}, fmt.Errorf("stored client %q is malformed: %w", c.ID, err)
		}
	}
	return c, nil
}

// CreateClient stores a new client; storage.ErrAlreadyExists if its id or
// public key hash is taken.
func (db *DB) CreateClient(ctx context.Context, c storage.Client) error {
	r, err := encodeClient(c)
	if err != nil {
		return fmt.Errorf("sqldb: create client %q: %w", c.ID, err)
	}
	_, err = db.db.ExecContext(ctx, `INSERT INTO clients (`+clientColumns+`)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17)`,
		c.ID, c.Name, r.nameLangMap, string(c.PublicKeys), nonNil(c.PublicKeyHash), c.RelyingPartyID,
		r.userClaims, r.acrs, c.LogoURI, r.redirectURIs, r.grantTypes, r.authMethods,
		string(c.AdditionalConfig), c.Status, c.Version, r.created, r.updated)
	if err := db.mapErr(err); err != nil {
		return fmt.Errorf("sqldb: create client %q: %w", c.ID, err)
	}
	return nil
}

// GetClient returns the client by id; storage.ErrNotFound.
func (db *DB) GetClient(ctx context.Context, id string) (storage.Client, error) {
	c, err := scanClient(db.queryRow(ctx, `SELECT `+clientColumns+` FROM clients WHERE id = $1`, id))
	if err != nil {
		return storage.Client{}, fmt.Errorf("sqldb: get client %q: %w", id, notFound(err))
	}
	return c, nil
}

// UpdateClient replaces every field but the id and CreatedAt and sets
// Version to c.Version, if the stored Version is c.Version-1.
// storage.ErrNotFound if there is no such client, storage.ErrConflict if
// its version is not c.Version-1, storage.ErrAlreadyExists if the public key
// hash belongs to another client.
func (db *DB) UpdateClient(ctx context.Context, c storage.Client) error {
	r, err := encodeClient(c)
	if err != nil {
		return fmt.Errorf("sqldb: update client %q: %w", c.ID, err)
	}
	err = db.inTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE clients
			SET name = $1, name_lang_map = $2, public_keys = $3, public_key_hash = $4, relying_party_id = $5,
				user_claims = $6, acrs = $7, logo_uri = $8, redirect_uris = $9, grant_types = $10,
				auth_methods = $11, additional_config = $12, status = $13, version = $14, updated_at = $15
			WHERE id = $16 AND version = $17`,
			c.Name, r.nameLangMap, string(c.PublicKeys), nonNil(c.PublicKeyHash), c.RelyingPartyID,
			r.userClaims, r.acrs, c.LogoURI, r.redirectURIs, r.grantTypes, r.authMethods,
			string(c.AdditionalConfig), c.Status, c.Version, r.updated, c.ID, c.Version-1)
		if err != nil {
			return err
		}
		n, err := res.RowsAffected()
		if err != nil || n > 0 {
			return err
		}
		var exists bool
		if err := tx.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM clients WHERE id = $1)`, c.ID).Scan(&exists); err != nil {
			return err
		}
		if exists {
			return storage.ErrConflict
		}
		return storage.ErrNotFound
	})
	if err := db.mapErr(err); err != nil {
		return fmt.Errorf("sqldb: update client %q: %w", c.ID, err)
	}
	return nil
}

// ListClients returns up to limit clients whose id sorts after after,
// ordered by id; none when limit is not positive.
func (db *DB) ListClients(ctx context.Context, after string, limit int) ([]storage.Client, error) {
	if limit <= 0 {
		return nil, nil
	}
	rows, err := db.db.QueryContext(ctx,
		`SELECT `+clientColumns+` FROM clients WHERE id > $1 ORDER BY id LIMIT $2`, after, limit)
	if err != nil {
		return nil, fmt.Errorf("sqldb: list clients: %w", err)
	}
	defer rows.Close()
	var out []storage.Client
	for rows.Next() {
		c, err := scanClient(rows)
		if err != nil {
			return nil, fmt.Errorf("sqldb: list clients: %w", err)
		}
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqldb: list clients: %w", err)
	}
	return out, nil
}

// DeleteClient removes the client; storage.ErrNotFound if there is none.
func (db *DB) DeleteClient(ctx context.Context, id string) error {
	res, err := db.db.ExecContext(ctx, `DELETE FROM clients WHERE id = $1`, id)
	if err == nil {
		var n int64
		if n, err = res.RowsAffected(); err == nil && n == 0 {
			err = storage.ErrNotFound
		}
	}
	if err != nil {
		return fmt.Errorf("sqldb: delete client %q: %w", id, err)
	}
	return nil
}
