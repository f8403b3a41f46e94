-- Residents' consents to share claims with relying parties, one per
-- (client, person), and their append-only history. person_id is the
-- resident's internal id, never the UIN. Lists are JSON text ("null" for a
-- nil list, so it reads back nil); times are unix microseconds, 0 for "not
-- set" (an expires_at of 0 never expires). Ids compare byte by byte
-- (COLLATE "C"), so listing by client id is ordered the same way in both
-- backends. Neither table references clients or residents: history
-- outlives both.
CREATE TABLE consents (
    client_id        TEXT COLLATE "C" NOT NULL,
    person_id        TEXT COLLATE "C" NOT NULL,
    hash             BYTEA NOT NULL,
    accepted_claims  TEXT NOT NULL,
    permitted_scopes TEXT NOT NULL,
    created_at       BIGINT NOT NULL,
    expires_at       BIGINT NOT NULL,
    PRIMARY KEY (client_id, person_id)
);

CREATE INDEX consents_person ON consents (person_id, client_id);

-- Every grant (or replacement) and withdrawal, numbered in the order it was
-- recorded. Writers of one person's consents hold an advisory lock from
-- before they take a number until they commit, so that person's numbers
-- become visible in increasing order and paging by seq skips none. Rows are
-- only ever inserted.
CREATE TABLE consent_history (
    seq              BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    client_id        TEXT COLLATE "C" NOT NULL,
    person_id        TEXT COLLATE "C" NOT NULL,
    action           TEXT NOT NULL CHECK (action IN ('GRANTED', 'WITHDRAWN')),
    accepted_claims  TEXT NOT NULL,
    permitted_scopes TEXT NOT NULL,
    at               BIGINT NOT NULL
);

CREATE INDEX consent_history_person ON consent_history (person_id, seq);
