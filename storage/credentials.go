package storage

import (
	"context"
	"time"
)

// Credential statuses in the issuance ledger.
const (
	CredentialValid     = "VALID"
	CredentialRevoked   = "REVOKED"
	CredentialSuspended = "SUSPENDED"
)

// Wallet events a holder reports at the OpenID4VCI notification endpoint.
const (
	WalletAccepted = "credential_accepted"
	WalletFailure  = "credential_failure"
	WalletDeleted  = "credential_deleted"
)

// IssuedCredential is one entry of the issuance ledger: what was issued, to
// which holder key, for how long. It never holds the credential's claims:
// PersonID is the resident's internal id (never the UIN), Subject the
// pairwise subject the wallet knows. Backends keep times to the microsecond
// and return them in UTC.
type IssuedCredential struct {
	ID              string // credential id, unique ("urn:uuid:…")
	ConfigurationID string // credential_configuration_id
	Format          string // jwt_vc_json, dc+sd-jwt, ldp_vc, …
	PersonID        string
	Subject         string
	// HolderKeyThumbprint is the base64url SHA-256 JWK thumbprint (RFC 7638)
	// of the key the credential is bound to; empty for an unbound credential.
	HolderKeyThumbprint string
	// NotificationID groups the credentials of one credential response; the
	// wallet reports on them with it.
	NotificationID string
	IssuedAt       time.Time
	ValidFrom      time.Time
	ValidUntil     time.Time // zero: no expiry
	Status         string    // CredentialValid, CredentialRevoked, CredentialSuspended
	// StatusList and StatusIndex locate the credential's entry in a status
	// list (empty and -1 when it has none).
	StatusList  string
	StatusIndex int64
	// WalletEvent is the last event the wallet reported (WalletAccepted, …),
	// empty if none; WalletEventAt when it was reported.
	WalletEvent   string
	WalletEventAt time.Time
}

// CredentialFilter selects ledger entries; zero fields select everything.
// Results are ordered by IssuedAt then ID (byte by byte); After continues a
// listing after the entry with that ID, which must exist (ErrNotFound if it
// does not).
type CredentialFilter struct {
	ConfigurationID string
	PersonID        string
	Status          string
	IssuedFrom      time.Time // inclusive
	IssuedBefore    time.Time // exclusive
	After           string
	Limit           int // 0 or less means 100; more than 1000 means 1000
}

// Ledger is the credential issuance ledger. Entries are never deleted; only
// their status and wallet event change.
type Ledger interface {
	// RecordCredentials stores cs in one transaction: all or none.
	// ErrAlreadyExists if an ID is taken, or appears twice in cs (and
	// nothing is stored). A Status or WalletEvent that is not one of the
	// constants above is an error. Recording no credentials does nothing.
	RecordCredentials(ctx context.Context, cs []IssuedCredential) error
	// GetCredential returns the entry with id, or ErrNotFound.
	GetCredential(ctx context.Context, id string) (IssuedCredential, error)
	// ListCredentials returns the entries f selects.
	ListCredentials(ctx context.Context, f CredentialFilter) ([]IssuedCredential, error)
	// SetWalletEvent records event (WalletAccepted, WalletFailure or
	// WalletDeleted; anything else is an error) at at for every credential
	// with notificationID and subject, replacing any earlier event, and
	// returns how many it updated (0: unknown notification id, or one
	// issued to another subject; an empty notificationID matches nothing).
	SetWalletEvent(ctx context.Context, notificationID, subject, event string, at time.Time) (int, error)
	// SetCredentialStatus changes the status of the entry with id to
	// status (CredentialValid, CredentialRevoked or CredentialSuspended;
	// anything else is an error); ErrNotFound if there is none.
	SetCredentialStatus(ctx context.Context, id, status string) error
}
