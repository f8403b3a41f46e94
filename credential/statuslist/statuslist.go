// Package statuslist reads and writes credential status lists: W3C
// Bitstring Status List 1.0 (for ldp_vc and jwt_vc_json) and the IETF
// Token Status List (application/statuslist+jwt, for SD-JWT VC), and
// allocates list indices unpredictably.
//
// CONTRACT STUB: the signatures below are fixed; bodies are being written.
package statuslist

import (
	"context"
	"crypto"
	"errors"
	"time"

	"github.com/sanad-id/sanad/credential"
)

// DefaultSize is the number of entries of a list (16 KiB of bits).
const DefaultSize = 131072

// Status purposes of W3C lists.
const (
	PurposeRevocation = "revocation"
	PurposeSuspension = "suspension"
)

// Token status values (IETF Token Status List).
const (
	TokenValid     = 0x00
	TokenInvalid   = 0x01
	TokenSuspended = 0x02
)

// ErrMalformed: a list, entry or token does not parse or is out of range.
var ErrMalformed = errors.New("statuslist: malformed")

// Bitstring is a W3C bitstring (bit 0 is the most significant bit of byte 0).
type Bitstring struct{}

func NewBitstring(size int) *Bitstring                   { panic("unimplemented") }
func (b *Bitstring) Len() int                            { panic("unimplemented") }
func (b *Bitstring) Set(i int, v bool) error             { panic("unimplemented") }
func (b *Bitstring) Get(i int) (bool, error)             { panic("unimplemented") }
func (b *Bitstring) Encode() (string, error)             { panic("unimplemented") }
func DecodeBitstring(encoded string) (*Bitstring, error) { panic("unimplemented") }

// Entry is a W3C BitstringStatusListEntry.
type Entry struct {
	ID                   string
	StatusPurpose        string
	StatusListIndex      int
	StatusListCredential string
}

// Map is the entry as a credentialStatus member.
func (e Entry) Map() map[string]any { panic("unimplemented") }

// ParseEntries reads a credential's credentialStatus (an object or an
// array); entries of other types are skipped.
func ParseEntries(credentialStatus any) ([]Entry, error) { panic("unimplemented") }

// ListCredential returns the unsigned status list credential for VCDM 2.0
// (v2) or 1.1 with the bitstring status list context.
func ListCredential(id, issuer, purpose string, list *Bitstring, validFrom, validUntil time.Time, v2 bool) (map[string]any, error) {
	panic("unimplemented")
}

// ReadListCredential returns the purpose and bitstring of a status list
// credential (its proof is checked by the caller), and its validity.
func ReadListCredential(c map[string]any) (purpose string, list *Bitstring, err error) {
	panic("unimplemented")
}

// TokenList is an IETF Token Status List with Bits bits per entry (1, 2, 4, 8).
type TokenList struct{}

func NewTokenList(bits, size int) (*TokenList, error)     { panic("unimplemented") }
func (t *TokenList) Bits() int                            { panic("unimplemented") }
func (t *TokenList) Len() int                             { panic("unimplemented") }
func (t *TokenList) Set(i int, v uint8) error             { panic("unimplemented") }
func (t *TokenList) Get(i int) (uint8, error)             { panic("unimplemented") }
func (t *TokenList) Map() (map[string]any, error)         { panic("unimplemented") }
func ParseTokenList(m map[string]any) (*TokenList, error) { panic("unimplemented") }

// TokenReference is an SD-JWT VC's status.status_list member.
type TokenReference struct {
	Index int
	URI   string
}

func (r TokenReference) Map() map[string]any                 { panic("unimplemented") }
func ParseTokenReference(status any) (TokenReference, error) { panic("unimplemented") }

// TokenOptions are the claims of a status list token.
type TokenOptions struct {
	URI       string // sub
	Issuer    string // iss, optional
	IssuedAt  time.Time
	ExpiresAt time.Time     // zero: no exp
	TTL       time.Duration // zero: no ttl
	X5C       [][]byte
}

func IssueToken(ctx context.Context, s credential.Signer, list *TokenList, o TokenOptions) (string, error) {
	panic("unimplemented")
}

// ParseToken verifies a status list token (typ statuslist+jwt) with
// resolver keys for issuer, its sub = uri, its exp and returns the list.
func ParseToken(ctx context.Context, token, uri string, keys func(kid string) (crypto.PublicKey, error), now time.Time) (*TokenList, error) {
	panic("unimplemented")
}

// Permutation maps allocation counters 0..Size-1 to list indices,
// bijectively and unpredictably without Key.
type Permutation struct{}

func NewPermutation(key []byte, size int) (*Permutation, error) { panic("unimplemented") }
func (p *Permutation) Index(counter int64) (int, error)         { panic("unimplemented") }
