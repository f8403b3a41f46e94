package oidc

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/sanad-id/sanad/keys"
	"github.com/sanad-id/sanad/storage"
)

// State keys. Secrets (codes, request URIs, transaction ids) never appear in
// a key in clear: keys carry their SHA-256.
//
//	oidc:tx:<sha256(tx id)>          txRecord        TransactionTTL, then AuthenticatedTTL
//	oidc:par:<sha256(request_uri)>   parRecord       PARTTL, taken by /authorize
//	oidc:nonce:<client>:<sha256>     1               NonceWindow (replay of nonce)
//	oidc:code:<sha256(code)>         codeGrant       CodeTTL, taken by the token endpoint
//	oidc:code-used:<sha256(code)>    access token id AccessTokenTTL (a reused code revokes it)
//	oidc:at:<jti>                    tokenRecord     AccessTokenTTL; deleted on revocation
//	oidc:withdrawn:<client>:<person> unix µs         AccessTokenTTL: tokens issued before are dead
func stateKey(kind, secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return "oidc:" + kind + ":" + hex.EncodeToString(sum[:])
}

func withdrawnKey(clientID, personID string) string {
	return "oidc:withdrawn:" + hex.EncodeToString([]byte(clientID)) + ":" + personID
}

func tokenKey(jti string) string { return "oidc:at:" + jti }

// codeGrant is what an authorization code stands for, from the transaction
// that issued it to the token endpoint.
type codeGrant struct {
	ClientID string `json:"cid"`
	// Unregistered marks a pre-authorized grant to a wallet that is not a
	// registered client (anonymous or self-asserted client_id): its tokens
	// have no client whose status could end them.
	Unregistered        bool     `json:"unreg,omitempty"`
	RedirectURI         string   `json:"ru"`
	CodeChallenge       string   `json:"cc,omitempty"`
	CodeChallengeMethod string   `json:"ccm,omitempty"`
	DPoPJKT             string   `json:"jkt,omitempty"`
	Nonce               string   `json:"n,omitempty"`
	Scopes              []string `json:"sc"`
	// AcceptedClaims are the claims the resident released (userinfo);
	// IDTokenClaims those of them the claims parameter asked in the ID
	// token.
	AcceptedClaims  []string `json:"ac,omitempty"`
	IDTokenClaims   []string `json:"ic,omitempty"`
	PermittedScopes []string `json:"ps,omitempty"`
	ClaimsLocales   []string `json:"cl,omitempty"`
	PersonID        string   `json:"p"`
	Subject         string   `json:"sub"`
	AuthTime        int64    `json:"at"`
	ACR             string   `json:"acr"`
	AMR             []string `json:"amr"`
	SID             string   `json:"sid"`
	// Claims are the released claims' values, sealed.
	Claims               *sealed         `json:"c,omitempty"`
	CredentialScopes     []string        `json:"crs,omitempty"`
	AuthorizationDetails json.RawMessage `json:"ad,omitempty"`
	IssuedAt             int64           `json:"iat"`
	// IssuedAtMicro is IssuedAt in microseconds, for consent withdrawal.
	IssuedAtMicro int64 `json:"iatus,omitempty"`
}

// tokenRecord is the server side of an access token: the token is a JWT
// any resource server can verify with the JWKS, and this record, kept for
// the token's lifetime, lets the provider answer userinfo, introspection and
// revocation. A token whose record is gone is revoked.
type tokenRecord struct {
	ClientID string `json:"cid"`
	// Unregistered: see codeGrant.Unregistered. Tokens of registered
	// clients die with their client (disabled or deleted).
	Unregistered         bool            `json:"unreg,omitempty"`
	PersonID             string          `json:"p"`
	Subject              string          `json:"sub"`
	Scopes               []string        `json:"sc"`
	AcceptedClaims       []string        `json:"ac,omitempty"`
	ClaimsLocales        []string        `json:"cl,omitempty"`
	Claims               *sealed         `json:"c,omitempty"`
	JKT                  string          `json:"jkt,omitempty"`
	Audience             string          `json:"aud"`
	CredentialScopes     []string        `json:"crs,omitempty"`
	AuthorizationDetails json.RawMessage `json:"ad,omitempty"`
	AuthTime             int64           `json:"at"`
	ACR                  string          `json:"acr"`
	IssuedAt             int64           `json:"iat"`
	// GrantedAtMicro is when the token's authorization code was issued, in
	// unix microseconds: consent withdrawal is compared with it.
	GrantedAtMicro int64 `json:"gtus,omitempty"`
	Expires        int64 `json:"exp"`
}

// sealed is personal data sealed for a short stay in State: AES-256-GCM
// under a fresh data key, wrapped with the pii-encryption key.
type sealed struct {
	KID     string `json:"k"`
	Wrapped []byte `json:"w"`
	Box     []byte `json:"b"` // nonce || ciphertext
}

// seal encrypts v's JSON; aad binds it to its use (e.g. the client id).
func seal(ctx context.Context, s Sealer, v any, aad string) (*sealed, error) {
	plain, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	dek := make([]byte, 32)
	if _, err := rand.Read(dek); err != nil {
		return nil, err
	}
	kid, wrapped, err := s.WrapKey(ctx, keys.PurposePIIEncryption, dek)
	if err != nil {
		return nil, fmt.Errorf("oidc: wrap claims key: %w", err)
	}
	gcm, err := newGCM(dek)
	if err != nil {
		return nil, err
	}
	nonce := make([]byte, gcm.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return nil, err
	}
	return &sealed{KID: kid, Wrapped: wrapped, Box: gcm.Seal(nonce, nonce, plain, []byte(aad))}, nil
}

// open decrypts a sealed value into v.
func (b *sealed) open(ctx context.Context, s Sealer, v any, aad string) error {
	if b == nil {
		return errors.New("oidc: nothing sealed")
	}
	dek, err := s.UnwrapKey(ctx, keys.PurposePIIEncryption, b.KID, b.Wrapped)
	if err != nil {
		return fmt.Errorf("oidc: unwrap claims key: %w", err)
	}
	gcm, err := newGCM(dek)
	if err != nil {
		return err
	}
	if len(b.Box) < gcm.NonceSize() {
		return errors.New("oidc: sealed claims are truncated")
	}
	plain, err := gcm.Open(nil, b.Box[:gcm.NonceSize()], b.Box[gcm.NonceSize():], []byte(aad))
	if err != nil {
		return fmt.Errorf("oidc: open sealed claims: %w", err)
	}
	return json.Unmarshal(plain, v)
}

func newGCM(key []byte) (cipher.AEAD, error) {
	blk, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(blk)
}

// randomToken returns n random bytes, base64url.
func randomToken(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(err) // crypto/rand does not fail on supported platforms
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

// putJSON stores v under key.
func putJSON(ctx context.Context, st storage.State, key string, v any, ttl time.Duration) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return st.Put(ctx, key, b, ttl)
}
