-- Residents' consents to share claims with relying parties, one per
-- (client, person), and their append-only history. person_id is the
-- resident's internal id, never the UIN. Lists are JSON text ("null" for a
-- nil list, so it reads back nil); times are unix microseconds, 0 for "not
-- set" (an expires_at of 0 never expires). Ids compare byte by byte
-- (SQLite's default BINARY collation), so listing by client id is ordered
-- the same way in both backends. Neither table references clients or
-- residents: history outlives both.
CREATE TABLE consents (
    client_id        TEXT NOT NULL,
    person_id        TEXT NOT NULL,
    hash             BLOB NOT NULL,
    accepted_claims  TEXT NOT NULL,
    permitted_scopes TEXT NOT NULL,
    created_at       INTEGER NOT NULL,
    expires_at       INTEGER NOT NULL,
    PRIMARY KEY (client_id, person_id)
) STRICT;

CREATE INDEX consents_person ON consents (person_id, client_id);

-- Every grant (or replacement) and withdrawal, numbered in the order it was
-- recorded: write transactions are serialized in SQLite, and AUTOINCREMENT
-- never reuses a number. Rows are only ever inserted.
CREATE TABLE consent_history (
    seq              INTEGER PRIMARY KEY AUTOINCREMENT,
    client_id        TEXT NOT NULL,
    person_id        TEXT NOT NULL,
    action           TEXT NOT NULL CHECK (action IN ('GRANTED', 'WITHDRAWN')),
    accepted_claims  TEXT NOT NULL,
    permitted_scopes TEXT NOT NULL,
    at               INTEGER NOT NULL
) STRICT;

CREATE INDEX consent_history_person ON consent_history (person_id, seq);
