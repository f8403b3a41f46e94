-- The credential issuance ledger: one row per credential issued, never its
-- claims. person_id is the resident's internal id, never the UIN; subject
-- is the pairwise subject the wallet knows. Times are unix microseconds, 0
-- for "not set" (a valid_until of 0 never expires; a wallet_event_at of 0:
-- no event yet). status_index is -1 when the credential has no status list
-- entry. Ids compare byte by byte (SQLite's default BINARY collation), so
-- listings are ordered the same way in both backends. Rows are inserted
-- once and then only their status and wallet event change.
CREATE TABLE credentials (
    id                    TEXT PRIMARY KEY NOT NULL,
    configuration_id      TEXT NOT NULL,
    format                TEXT NOT NULL,
    person_id             TEXT NOT NULL,
    subject               TEXT NOT NULL,
    holder_key_thumbprint TEXT NOT NULL,
    notification_id       TEXT NOT NULL,
    issued_at             INTEGER NOT NULL,
    valid_from            INTEGER NOT NULL,
    valid_until           INTEGER NOT NULL,
    status                TEXT NOT NULL CHECK (status IN ('VALID', 'REVOKED', 'SUSPENDED')),
    status_list           TEXT NOT NULL,
    status_index          INTEGER NOT NULL,
    wallet_event          TEXT NOT NULL
        CHECK (wallet_event IN ('', 'credential_accepted', 'credential_failure', 'credential_deleted')),
    wallet_event_at       INTEGER NOT NULL
) STRICT;

-- Listings are ordered by (issued_at, id) and filtered by at most one of
-- configuration, person and status in the common case.
CREATE INDEX credentials_issued ON credentials (issued_at, id);
CREATE INDEX credentials_configuration ON credentials (configuration_id, issued_at, id);
CREATE INDEX credentials_person ON credentials (person_id, issued_at, id);
CREATE INDEX credentials_status ON credentials (status, issued_at, id);
-- The notification endpoint updates the credentials of one response.
CREATE INDEX credentials_notification ON credentials (notification_id, subject);
