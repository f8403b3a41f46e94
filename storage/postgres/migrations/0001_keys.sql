-- Key sets: signing and encryption keys with their rotation times.
-- Times are unix microseconds, 0 for "not set".
CREATE TABLE keys (
    kid           TEXT PRIMARY KEY,
    purpose       TEXT NOT NULL,
    alg           TEXT NOT NULL,
    key_use       TEXT NOT NULL,
    backend       TEXT NOT NULL,
    public_jwk    BYTEA NOT NULL,
    private_key   BYTEA NOT NULL,
    created_at    BIGINT NOT NULL,
    not_before    BIGINT NOT NULL,
    retired_at    BIGINT NOT NULL DEFAULT 0,
    publish_until BIGINT NOT NULL DEFAULT 0
);

CREATE INDEX keys_purpose_created ON keys (purpose, created_at, kid);
