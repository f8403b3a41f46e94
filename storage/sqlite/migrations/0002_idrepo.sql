-- The ID repository: residents, their handles and VIDs, the audit log and
-- authentication factor verifiers. Identifiers (UIN, VID, phone, e-mail) are
-- stored only as keyed hashes; identity data only sealed.
-- Times are unix microseconds, 0 for "not set".
CREATE TABLE residents (
    id          TEXT PRIMARY KEY NOT NULL,
    uin_hash    BLOB NOT NULL UNIQUE,
    status      TEXT NOT NULL,
    version     INTEGER NOT NULL,
    sealed      BLOB NOT NULL,
    key_id      TEXT NOT NULL,
    wrapped_key BLOB NOT NULL,
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL
) STRICT;

-- Login handles other than UIN and VID (phone, e-mail), by keyed hash.
CREATE TABLE handles (
    hash        BLOB PRIMARY KEY NOT NULL,
    kind        TEXT NOT NULL,
    resident_id TEXT NOT NULL REFERENCES residents (id) ON DELETE CASCADE
) STRICT;

CREATE INDEX handles_resident ON handles (resident_id);

-- uses_left is -1 for unlimited uses; expires_at 0 for never.
CREATE TABLE vids (
    hash        BLOB PRIMARY KEY NOT NULL,
    resident_id TEXT NOT NULL REFERENCES residents (id) ON DELETE CASCADE,
    type        TEXT NOT NULL,
    status      TEXT NOT NULL,
    created_at  INTEGER NOT NULL,
    expires_at  INTEGER NOT NULL,
    uses_left   INTEGER NOT NULL,
    sealed      BLOB NOT NULL
) STRICT;

CREATE INDEX vids_resident_created ON vids (resident_id, created_at);

-- The hash-chained audit log. Appenders are serialized (write transactions
-- are, in SQLite) and number entries from the last one; the primary key
-- refuses a second entry with the same number, so the chain cannot fork.
-- Only the first entry has no predecessor.
CREATE TABLE audit (
    seq        INTEGER PRIMARY KEY NOT NULL CHECK (seq > 0),
    time       INTEGER NOT NULL,
    actor      TEXT NOT NULL,
    action     TEXT NOT NULL,
    subject    TEXT NOT NULL,
    reason     TEXT NOT NULL,
    request_id TEXT NOT NULL,
    outcome    TEXT NOT NULL,
    prev_hash  BLOB CHECK ((seq = 1) = (prev_hash IS NULL)),
    hash       BLOB NOT NULL
) STRICT;

-- PIN and password verifiers (Argon2id PHC strings).
CREATE TABLE factors (
    resident_id TEXT NOT NULL REFERENCES residents (id) ON DELETE CASCADE,
    kind        TEXT NOT NULL,
    hash        TEXT NOT NULL,
    updated_at  INTEGER NOT NULL,
    PRIMARY KEY (resident_id, kind)
) STRICT;
