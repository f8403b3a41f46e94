-- The ID repository: residents, their handles and VIDs, the audit log and
-- authentication factor verifiers. Identifiers (UIN, VID, phone, e-mail) are
-- stored only as keyed hashes; identity data only sealed.
-- Times are unix microseconds, 0 for "not set". Resident ids are opaque
-- ASCII, compared byte by byte (COLLATE "C") whatever the database's locale:
-- cheaper to index and to check foreign keys against.
CREATE TABLE residents (
    id          TEXT COLLATE "C" PRIMARY KEY,
    uin_hash    BYTEA NOT NULL UNIQUE,
    status      TEXT NOT NULL,
    version     BIGINT NOT NULL,
    sealed      BYTEA NOT NULL,
    key_id      TEXT NOT NULL,
    wrapped_key BYTEA NOT NULL,
    created_at  BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL
);

-- Sealed data is ciphertext, which does not compress: large values go
-- out of line without a compression attempt.
ALTER TABLE residents ALTER COLUMN sealed SET STORAGE EXTERNAL;

-- Login handles other than UIN and VID (phone, e-mail), by keyed hash.
CREATE TABLE handles (
    hash        BYTEA PRIMARY KEY,
    kind        TEXT NOT NULL,
    resident_id TEXT COLLATE "C" NOT NULL REFERENCES residents (id) ON DELETE CASCADE
);

CREATE INDEX handles_resident ON handles (resident_id);

-- uses_left is -1 for unlimited uses; expires_at 0 for never.
CREATE TABLE vids (
    hash        BYTEA PRIMARY KEY,
    resident_id TEXT COLLATE "C" NOT NULL REFERENCES residents (id) ON DELETE CASCADE,
    type        TEXT NOT NULL,
    status      TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    expires_at  BIGINT NOT NULL,
    uses_left   BIGINT NOT NULL,
    sealed      BYTEA NOT NULL
);

ALTER TABLE vids ALTER COLUMN sealed SET STORAGE EXTERNAL;

CREATE INDEX vids_resident_created ON vids (resident_id, created_at);

-- The hash-chained audit log. Appenders are serialized by an advisory lock
-- and number entries from the last one; the primary key refuses a second
-- entry with the same number, so the chain cannot fork even without the
-- lock. Only the first entry has no predecessor.
CREATE TABLE audit (
    seq        BIGINT PRIMARY KEY CHECK (seq > 0),
    time       BIGINT NOT NULL,
    actor      TEXT NOT NULL,
    action     TEXT NOT NULL,
    subject    TEXT NOT NULL,
    reason     TEXT NOT NULL,
    request_id TEXT NOT NULL,
    outcome    TEXT NOT NULL,
    prev_hash  BYTEA CHECK ((seq = 1) = (prev_hash IS NULL)),
    hash       BYTEA NOT NULL
);

-- PIN and password verifiers (Argon2id PHC strings).
CREATE TABLE factors (
    resident_id TEXT COLLATE "C" NOT NULL REFERENCES residents (id) ON DELETE CASCADE,
    kind        TEXT NOT NULL,
    hash        TEXT NOT NULL,
    updated_at  BIGINT NOT NULL,
    PRIMARY KEY (resident_id, kind)
);
