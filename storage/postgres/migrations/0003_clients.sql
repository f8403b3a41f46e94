-- The relying-party client registry. Lists, maps and JSON documents are
-- JSON text (kept byte for byte, not reformatted as JSONB would); times are
-- unix microseconds, 0 for "not set". Client ids compare byte by byte
-- (COLLATE "C"), so listing by id is ordered the same way in both backends.
CREATE TABLE clients (
    id                TEXT COLLATE "C" PRIMARY KEY,
    name              TEXT NOT NULL,
    name_lang_map     TEXT NOT NULL,
    public_keys       TEXT NOT NULL,
    public_key_hash   BYTEA NOT NULL UNIQUE,
    relying_party_id  TEXT NOT NULL,
    user_claims       TEXT NOT NULL,
    acrs              TEXT NOT NULL,
    logo_uri          TEXT NOT NULL,
    redirect_uris     TEXT NOT NULL,
    grant_types       TEXT NOT NULL,
    auth_methods      TEXT NOT NULL,
    additional_config TEXT NOT NULL,
    status            TEXT NOT NULL,
    version           BIGINT NOT NULL,
    created_at        BIGINT NOT NULL,
    updated_at        BIGINT NOT NULL
);
