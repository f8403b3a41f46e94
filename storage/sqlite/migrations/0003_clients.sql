-- The relying-party client registry. Lists, maps and JSON documents are
-- JSON text; times are unix microseconds, 0 for "not set". Ids compare
-- byte by byte (SQLite's default BINARY collation), so listing by id is
-- ordered the same way in both backends.
CREATE TABLE clients (
    id                TEXT PRIMARY KEY NOT NULL,
    name              TEXT NOT NULL,
    name_lang_map     TEXT NOT NULL,
    public_keys       TEXT NOT NULL,
    public_key_hash   BLOB NOT NULL UNIQUE,
    relying_party_id  TEXT NOT NULL,
    user_claims       TEXT NOT NULL,
    acrs              TEXT NOT NULL,
    logo_uri          TEXT NOT NULL,
    redirect_uris     TEXT NOT NULL,
    grant_types       TEXT NOT NULL,
    auth_methods      TEXT NOT NULL,
    additional_config TEXT NOT NULL,
    status            TEXT NOT NULL,
    version           INTEGER NOT NULL,
    created_at        INTEGER NOT NULL,
    updated_at        INTEGER NOT NULL
) STRICT;
