package storage

import (
	"context"
	"time"
)

// Client is a relying party registered with the OpenID provider, as stored.
// The fields mirror eSignet's client details. Lists, maps and JSON documents
// are kept as the caller gives them: a nil list is read back nil, an empty
// one empty. As with KeyRecord, backends keep times to the microsecond and
// return them in UTC; a zero time stays zero.
type Client struct {
	ID          string            // client_id; unique
	Name        string            // display name
	NameLangMap map[string]string // display name by ISO 639-3 language code
	// PublicKeys is the client's public JWK set, JSON ({"keys": [...]}),
	// used to verify its private_key_jwt assertions.
	PublicKeys []byte
	// PublicKeyHash identifies the key set (SHA-256 over its keys' RFC 7638
	// thumbprints); unique: two clients never share a key.
	PublicKeyHash  []byte
	RelyingPartyID string
	UserClaims     []string // claims the client may receive
	ACRs           []string // authentication context classes it may ask for
	LogoURI        string
	RedirectURIs   []string
	GrantTypes     []string // "authorization_code"
	AuthMethods    []string // token endpoint auth methods: "private_key_jwt"
	// AdditionalConfig is eSignet's additionalConfig, a JSON object
	// (userinfo_response_type, require_pkce, dpop_bound_access_tokens, ...).
	AdditionalConfig []byte
	Status           string // ACTIVE, INACTIVE
	// Version counts updates, starting at 1; it is the ETag of optimistic
	// concurrency.
	Version   int64
	CreatedAt time.Time
	UpdatedAt time.Time
}

// Clients stores the relying-party client registry.
type Clients interface {
	// CreateClient stores a new client; ErrAlreadyExists if its ID or its
	// PublicKeyHash is taken.
	CreateClient(ctx context.Context, c Client) error
	// GetClient returns the client by id; ErrNotFound.
	GetClient(ctx context.Context, id string) (Client, error)
	// UpdateClient replaces the record (every field but ID and CreatedAt;
	// Version becomes c.Version) if its stored Version is c.Version-1.
	// ErrNotFound, ErrConflict (the version moved on: concurrent updates
	// from one version see one success), ErrAlreadyExists (the new
	// PublicKeyHash belongs to another client); nothing changes then.
	UpdateClient(ctx context.Context, c Client) error
	// ListClients returns up to limit clients whose id sorts after after
	// ("" for the first page), ordered by id (byte-wise); none when limit is
	// not positive.
	ListClients(ctx context.Context, after string, limit int) ([]Client, error)
	// DeleteClient removes the client; ErrNotFound if there is none.
	DeleteClient(ctx context.Context, id string) error
}
