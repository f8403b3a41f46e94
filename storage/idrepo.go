package storage

import (
	"context"
	"time"
)

// The ID repository's records. Identity data is never stored in clear: a
// resident's record holds the identity sealed under a per-record data key,
// which is itself wrapped by a key of the keys service. Every lookup goes by
// a keyed hash (HMAC) of the identifier, so the database alone reveals
// neither UINs, VIDs, phone numbers nor e-mail addresses.
//
// As with KeyRecord, backends keep times to the microsecond and return them
// in UTC; a zero time stays zero.

// Resident is one person's record.
type Resident struct {
	ID      string // random internal id; never the UIN
	UINHash []byte // keyed hash of the UIN; unique
	Status  string // ACTIVE, DEACTIVATED, BLOCKED
	// Version counts updates, starting at 1; it is the ETag of optimistic
	// concurrency.
	Version    int64
	Sealed     []byte // identity JSON (UIN included), AES-256-GCM under the data key
	KeyID      string // id of the key that wrapped the data key
	WrappedKey []byte // the data key, wrapped
	CreatedAt  time.Time
	UpdatedAt  time.Time
}

// Handle is a unique login identifier other than UIN and VID (a phone number
// or an e-mail address), stored as a keyed hash.
type Handle struct {
	Hash []byte
	Kind string // "phone", "email"
	// ResidentID is the resident the handle belongs to. CreateResidents and
	// UpdateResident store handles as those of the resident they write,
	// whatever ResidentID says.
	ResidentID string
}

// NewResident is a resident with the handles to create with it.
type NewResident struct {
	Resident Resident
	Handles  []Handle
}

// VID is a virtual ID: an alias of the UIN a resident can share and revoke.
type VID struct {
	Hash       []byte // keyed hash of the VID; unique
	ResidentID string
	Type       string // "perpetual", "temporary"
	Status     string // ACTIVE, REVOKED, EXPIRED, USED, DEACTIVATED
	CreatedAt  time.Time
	ExpiresAt  time.Time // zero: never
	UsesLeft   int64     // -1: unlimited
	// Sealed holds the VID itself, sealed with the resident's data key, so
	// that an operator can list a resident's VIDs.
	Sealed []byte
}

// Residents stores residents, their handles and VIDs.
type Residents interface {
	// CreateResidents stores the residents and their handles in one
	// transaction: all or none. ErrAlreadyExists if a UIN hash, id or handle
	// hash is taken (also among the batch).
	CreateResidents(ctx context.Context, rs []NewResident) error
	// GetResident returns the resident by internal id; ErrNotFound.
	GetResident(ctx context.Context, id string) (Resident, error)
	// GetResidentByUIN returns the resident by UIN hash; ErrNotFound.
	GetResidentByUIN(ctx context.Context, uinHash []byte) (Resident, error)
	// ResolveHandle returns the resident id of a handle hash; ErrNotFound.
	ResolveHandle(ctx context.Context, hash []byte) (string, error)
	// UpdateResident replaces the record (Sealed, KeyID, WrappedKey, Status,
	// UpdatedAt; Version becomes r.Version; ID, UINHash and CreatedAt stay)
	// if its stored Version is r.Version-1, and replaces the resident's
	// handles with handles (nil leaves them unchanged, empty removes them),
	// in one transaction. ErrNotFound, ErrConflict (version moved on),
	// ErrAlreadyExists (a handle belongs to someone else, or appears twice);
	// nothing changes then.
	UpdateResident(ctx context.Context, r Resident, handles []Handle) error
	// CreateVID stores a VID; ErrAlreadyExists if the hash is taken,
	// ErrNotFound if there is no resident v.ResidentID.
	CreateVID(ctx context.Context, v VID) error
	// GetVID returns a VID by hash; ErrNotFound.
	GetVID(ctx context.Context, hash []byte) (VID, error)
	// ListVIDs returns a resident's VIDs, oldest first (by CreatedAt, ties by
	// Hash); none for an unknown resident.
	ListVIDs(ctx context.Context, residentID string) ([]VID, error)
	// SetVIDStatus changes a VID's status; ErrNotFound.
	SetVIDStatus(ctx context.Context, hash []byte, status string) error
	// UseVID atomically consumes one use of an ACTIVE, unexpired VID and
	// returns it as updated: UsesLeft decremented unless unlimited, Status
	// USED when it reaches 0. ErrNotFound if the VID is missing or not
	// usable (revoked, expired, used up) at now.
	UseVID(ctx context.Context, hash []byte, now time.Time) (VID, error)
}

// AuditEntry is one entry of the append-only, hash-chained audit log.
type AuditEntry struct {
	Seq       int64 // assigned by the store, from 1, without gaps
	Time      time.Time
	Actor     string // who: "admin", "oidc:<client>", "import", "system"
	Action    string // what: "identity.create", "identity.read", "auth.otp.verify", ...
	Subject   string // about whom: the resident's internal id (never the UIN)
	Reason    string // why: free text from the caller, no personal data
	RequestID string
	Outcome   string // "success", "failure", "denied"
	PrevHash  []byte // Hash of entry Seq-1 (nil for Seq 1)
	Hash      []byte // hash over PrevHash and this entry's fields
}

// Audit stores the audit log.
type Audit interface {
	// AppendAudit appends entries atomically and in order. For each entry,
	// in one transaction, the store sets Seq and PrevHash from the current
	// last entry and calls seal, which must set Hash. It returns the entries
	// as stored. Before seal, the store sets Time to the value it stores
	// (UTC, to the microsecond), so that Hash covers exactly what ListAudit
	// returns; seal must not change Seq or PrevHash. The caller's entries
	// are not modified.
	AppendAudit(ctx context.Context, entries []AuditEntry, seal func(*AuditEntry)) ([]AuditEntry, error)
	// ListAudit returns up to limit entries with Seq >= from, in order; none
	// when limit is not positive.
	ListAudit(ctx context.Context, from int64, limit int) ([]AuditEntry, error)
}

// FactorSecret is an authentication factor's verifier as stored: an Argon2id
// hash of a PIN or password (never the secret itself).
type FactorSecret struct {
	ResidentID string
	Kind       string // "pin", "password"
	Hash       string // PHC string, $argon2id$v=19$m=...,t=...,p=...$salt$hash
	UpdatedAt  time.Time
}

// Factors stores residents' factor verifiers.
type Factors interface {
	// PutFactor creates or replaces the resident's verifier of that kind;
	// ErrNotFound if there is no resident f.ResidentID.
	PutFactor(ctx context.Context, f FactorSecret) error
	// GetFactor returns it; ErrNotFound.
	GetFactor(ctx context.Context, residentID, kind string) (FactorSecret, error)
}
