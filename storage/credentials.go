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
	// anything else is an error); ErrNotFound if there is none. When the
	// entry is on a status list and its status changes, the list's Version
	// increases in the same transaction.
	SetCredentialStatus(ctx context.Context, id, status string) error
	// TransitionCredentialStatus sets the status of the entry with id to
	// to only if its current status is one of from, as one atomic step:
	// no concurrent change can come between the check and the write, in
	// this process or another. It returns the status the entry had
	// before. ErrNotFound if there is no such entry; ErrConflict, with
	// previous still set, if previous is not in from (nothing changes).
	// When previous is in from and equals to, nothing changes and the
	// result is nil. to and every status of from must be one of the
	// constants above, and from must not be empty (else an error). As
	// with SetCredentialStatus, the list's Version increases, in the same
	// transaction, only when the status really changes.
	TransitionCredentialStatus(ctx context.Context, id string, from []string, to string) (previous string, err error)
}

// Kinds of status list.
const (
	// StatusListW3C is a W3C Bitstring Status List pair (a revocation list
	// and a suspension list sharing one index space), for ldp_vc and
	// jwt_vc_json.
	StatusListW3C = "w3c"
	// StatusListToken is an IETF Token Status List with 2 bits per entry
	// (valid, invalid, suspended), for SD-JWT VC.
	StatusListToken = "token"
)

// StatusList is one status list of an issuer. Indices are handed out by
// counter: Next is the next counter not yet reserved; the issuer maps a
// counter to an index with a keyed permutation (credential/statuslist), so
// indices are unpredictable and never collide. A list is full when Next =
// Size.
type StatusList struct {
	ID     string // unique, URL-safe ("<kind>-<number>" per issuer is fine)
	Issuer string // credential issuer identifier
	Kind   string // StatusListW3C or StatusListToken
	Size   int64
	// Key is the permutation key (32 random bytes), made when the list is.
	Key []byte
	// Next is the next unreserved counter, 0..Size.
	Next int64
	// Version increases with every status change of a credential on the
	// list (SetCredentialStatus, TransitionCredentialStatus,
	// SetPersonCredentialsStatus), so a publisher can tell whether its
	// signed copy is current.
	Version   int64
	CreatedAt time.Time
	UpdatedAt time.Time // last status change, or CreatedAt
}

// StatusEntry is a credential on a list whose status is not
// CredentialValid.
type StatusEntry struct {
	Index  int64
	Status string // CredentialRevoked or CredentialSuspended
}

// StatusLists allocates status list entries and reads what a published
// list must show. Part of Durable.
type StatusLists interface {
	// ReserveStatusIndices reserves up to n consecutive counters of the
	// open list of (issuer, kind): the one created last. When that list is
	// full, or there is none, a new list is created in the same
	// transaction with size and key (and id newID). It returns the list
	// (as it is after the reservation), the first reserved counter and
	// how many were reserved (at least 1, at most n, fewer when the list
	// fills up). Concurrent callers never get the same counter.
	ReserveStatusIndices(ctx context.Context, issuer, kind string, n int, size int64, newID string, key []byte) (StatusList, int64, int, error)
	// GetStatusList returns the list with id, or ErrNotFound.
	GetStatusList(ctx context.Context, id string) (StatusList, error)
	// ListStatusLists returns the lists of issuer (all kinds when kind is
	// empty), oldest first.
	ListStatusLists(ctx context.Context, issuer, kind string) ([]StatusList, error)
	// StatusEntries returns the credentials on list id whose status is not
	// CredentialValid, by index, and the list's Version read in the same
	// snapshot.
	StatusEntries(ctx context.Context, id string) ([]StatusEntry, int64, error)
	// SetPersonCredentialsStatus sets status on every credential issued to
	// personID that is on a status list (a credential on none cannot be
	// revoked and is left as it is), of configurationID only when it is
	// not empty, whose
	// status is from (any status when from is empty), bumping the Version
	// of every list concerned, in one transaction; it returns how many
	// credentials changed.
	SetPersonCredentialsStatus(ctx context.Context, personID, configurationID, from, status string) (int, error)
}
