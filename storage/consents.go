package storage

import (
	"context"
	"time"
)

// Consent is what a resident agreed to share with one relying party: the
// claims they accepted and the scopes they permitted. The OpenID provider
// reuses a consent while it is unexpired and the request is the same (Hash),
// and asks again otherwise. PersonID is the resident's internal id, never the
// UIN. Backends keep times to the microsecond and return them in UTC; a zero
// ExpiresAt means the consent does not expire.
type Consent struct {
	ClientID string
	PersonID string
	// Hash identifies the request consented to: SHA-256 over the canonical
	// form of the requested essential and voluntary claims and the requested
	// scopes. A request with another hash needs a new consent.
	Hash            []byte
	AcceptedClaims  []string
	PermittedScopes []string
	CreatedAt       time.Time
	ExpiresAt       time.Time
}

// Consent history actions.
const (
	ConsentGranted   = "GRANTED"
	ConsentWithdrawn = "WITHDRAWN"
)

// ConsentEvent is one entry of a resident's consent history: a consent
// granted (or replaced) or withdrawn. History is append-only; it outlives the
// consents it records.
type ConsentEvent struct {
	Seq             int64 // increasing in the order events were recorded
	ClientID        string
	PersonID        string
	Action          string // ConsentGranted, ConsentWithdrawn
	AcceptedClaims  []string
	PermittedScopes []string
	At              time.Time
}

// Consents stores residents' consents, one per (client, person), and their
// history.
type Consents interface {
	// PutConsent stores c, replacing the consent of (c.ClientID, c.PersonID)
	// if there is one, and appends a GRANTED event (At = c.CreatedAt) to the
	// history in the same transaction.
	PutConsent(ctx context.Context, c Consent) error
	// GetConsent returns the consent of (clientID, personID), expired or
	// not (the caller compares ExpiresAt); ErrNotFound if there is none.
	GetConsent(ctx context.Context, clientID, personID string) (Consent, error)
	// ListConsents returns the person's consents ordered by client id.
	ListConsents(ctx context.Context, personID string) ([]Consent, error)
	// DeleteConsent withdraws the consent of (clientID, personID) and appends
	// a WITHDRAWN event (At = at, the withdrawn consent's claims and scopes)
	// in the same transaction; ErrNotFound if there is none (and nothing is
	// appended).
	DeleteConsent(ctx context.Context, clientID, personID string, at time.Time) error
	// ConsentHistory returns up to limit of the person's events with Seq
	// greater than after, ordered by Seq.
	ConsentHistory(ctx context.Context, personID string, after int64, limit int) ([]ConsentEvent, error)
}
