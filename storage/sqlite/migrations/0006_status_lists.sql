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
-- change, or created_at. Ids compare byte by byte (SQLite's default BINARY
-- collation), as in PostgreSQL.
CREATE TABLE status_lists (
    id           TEXT PRIMARY KEY NOT NULL CHECK (id <> ''),
    issuer       TEXT NOT NULL CHECK (issuer <> ''),
    kind         TEXT NOT NULL CHECK (kind IN ('w3c', 'token')),
    seq          INTEGER NOT NULL CHECK (seq >= 1),
    size         INTEGER NOT NULL CHECK (size >= 1),
    prp_key      BLOB NOT NULL CHECK (length(prp_key) > 0),
    next_counter INTEGER NOT NULL CHECK (next_counter >= 0 AND next_counter <= size),
    version      INTEGER NOT NULL CHECK (version >= 0),
    created_at   INTEGER NOT NULL,
    updated_at   INTEGER NOT NULL,
    UNIQUE (issuer, kind, seq)
) STRICT;

-- A published list shows the credentials on it whose status is not VALID,
-- by index: few rows of a large ledger. credentials.status_list holds the
-- id of a list above. The index covers the query (status included).
CREATE INDEX credentials_status_list ON credentials (status_list, status_index, status)
    WHERE status <> 'VALID';
