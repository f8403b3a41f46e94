-- Key sets: signing and encryption keys with their rotation times.
-- Times are unix microseconds, 0 for "not set".
CREATE TABLE keys (
    kid           TEXT PRIMARY KEY NOT NULL,
    purpose       TEXT NOT NULL,
    alg           TEXT NOT NULL,
    key_use       TEXT NOT NULL,
    backend       TEXT NOT NULL,
    public_jwk    BLOB NOT NULL,
    private_key   BLOB NOT NULL,
    created_at    INTEGER NOT NULL,
    not_before    INTEGER NOT NULL,
    retired_at    INTEGER NOT NULL DEFAULT 0,
    publish_until INTEGER NOT NULL DEFAULT 0
) STRICT;

CREATE INDEX keys_purpose_created ON keys (purpose, created_at, kid);
