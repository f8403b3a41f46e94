-- Status lists: each issuer's W3C Bitstring Status Lists ('w3c') and IETF
-- Token Status Lists ('token'). A list hands out counters 0 .. size-1 in
-- order; next_counter is the next one not yet reserved (size when the list
-- is full). prp_key is the key of the permutation that maps a counter to
-- the index published in the credential, so that indices are
-- unpredictable; it is secret. seq numbers the lists of one issuer and kind
-- from 1; the open list is the one with the highest seq, and a new one is
-- made only when it is full. version counts the status changes of the
-- credentials on the list, so a publisher can tell whether its signed copy
-- is current. Times are unix microseconds; updated_at is the last status
-- change, or created_at. Ids compare byte by byte (COLLATE "C"), as in
-- SQLite.
CREATE TABLE status_lists (
    id           TEXT COLLATE "C" PRIMARY KEY CHECK (id <> ''),
    issuer       TEXT COLLATE "C" NOT NULL CHECK (issuer <> ''),
    kind         TEXT NOT NULL CHECK (kind IN ('w3c', 'token')),
    seq          BIGINT NOT NULL CHECK (seq >= 1),
    size         BIGINT NOT NULL CHECK (size >= 1),
    prp_key      BYTEA NOT NULL CHECK (length(prp_key) > 0),
    next_counter BIGINT NOT NULL CHECK (next_counter >= 0 AND next_counter <= size),
    version      BIGINT NOT NULL CHECK (version >= 0),
    created_at   BIGINT NOT NULL,
    updated_at   BIGINT NOT NULL,
    UNIQUE (issuer, kind, seq)
);

-- A published list shows the credentials on it whose status is not VALID,
-- by index: few rows of a large ledger. credentials.status_list holds the
-- id of a list above. The index covers the query (status included), so
-- PostgreSQL can answer it with an index-only scan.
CREATE INDEX credentials_status_list ON credentials (status_list, status_index) INCLUDE (status)
    WHERE status <> 'VALID';
