package idrepo

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"errors"
	"fmt"
	"strings"
)

// Key purposes the repository asks the keys service for.
const (
	// PurposeEncryption wraps residents' data keys.
	PurposeEncryption = "pii-encryption"
	// PurposeIndex keys the hashes by which records are found (UIN, VID,
	// phone, e-mail).
	PurposeIndex = "pii-index"
)

// KeyWrapper wraps and unwraps data keys; *keys.Service implements it. A
// wrapped key names the wrapping key (kid), so wrapping keys can rotate
// while old records stay readable.
type KeyWrapper interface {
	// WrapKey wraps dek under the current key of purpose.
	WrapKey(ctx context.Context, purpose string, dek []byte) (kid string, wrapped []byte, err error)
	// UnwrapKey unwraps a data key wrapped by WrapKey under key kid.
	UnwrapKey(ctx context.Context, purpose, kid string, wrapped []byte) ([]byte, error)
}

// MAC computes keyed hashes; *keys.Service implements it. The key of a
// purpose must not change while records indexed under it exist (a new key
// means recomputing every index hash).
type MAC interface {
	MAC(ctx context.Context, purpose string, data []byte) ([]byte, error)
}

// Kinds of identifiers hashed for lookups; the kind is part of the hashed
// data, so a UIN and a VID (or a phone number) with the same digits get
// different hashes.
const (
	KindUIN   = "uin"
	KindVID   = "vid"
	KindPhone = "phone"
	KindEmail = "email"
)

// handleFields maps the identity fields that are login handles to their kind.
var handleFields = []struct{ field, kind string }{
	{"phone", KindPhone},
	{"email", KindEmail},
}

// dataKeySize is the size of a resident's data key (AES-256).
const dataKeySize = 32

// sealVersion is the first byte of a sealed blob: AES-256-GCM, 12-byte
// random nonce, then ciphertext and tag.
const sealVersion = 1

func newDataKey() []byte {
	k := make([]byte, dataKeySize)
	rand.Read(k) // never fails
	return k
}

// seal encrypts plaintext under dek with AES-256-GCM, binding aad.
func seal(dek, plaintext, aad []byte) ([]byte, error) {
	g, err := newGCM(dek)
	if err != nil {
		return nil, err
	}
	out := make([]byte, 1+g.NonceSize(), 1+g.NonceSize()+len(plaintext)+g.Overhead())
	out[0] = sealVersion
	rand.Read(out[1:])
	return g.Seal(out, out[1:], plaintext, aad), nil
}

// open decrypts a blob made by seal.
func open(dek, sealed, aad []byte) ([]byte, error) {
	g, err := newGCM(dek)
	if err != nil {
		return nil, err
	}
	if len(sealed) < 1+g.NonceSize()+g.Overhead() || sealed[0] != sealVersion {
		return nil, errors.New("idrepo: sealed record is malformed")
	}
	n := 1 + g.NonceSize()
	pt, err := g.Open(nil, sealed[1:n], sealed[n:], aad)
	if err != nil {
		return nil, errors.New("idrepo: sealed record does not open (wrong key or tampered)")
	}
	return pt, nil
}

func newGCM(dek []byte) (cipher.AEAD, error) {
	if len(dek) != dataKeySize {
		return nil, fmt.Errorf("idrepo: data key is %d bytes, want %d", len(dek), dataKeySize)
	}
	b, err := aes.NewCipher(dek)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(b)
}

// identityAAD binds a sealed identity to its row.
func identityAAD(residentID string) []byte { return []byte(residentID) }

// vidAAD binds a sealed VID to its resident and its own hash.
func vidAAD(residentID string, vidHash []byte) []byte {
	b := make([]byte, 0, len(residentID)+5+len(vidHash))
	b = append(b, residentID...)
	b = append(b, 0, 'v', 'i', 'd', 0)
	return append(b, vidHash...)
}

// NormalizePhone returns a phone number in E.164 form: spaces, dashes, dots
// and parentheses removed; it must then be + and 8 to 15 digits.
func NormalizePhone(s string) (string, error) {
	var b strings.Builder
	b.Grow(len(s))
	for _, r := range strings.TrimSpace(s) {
		switch r {
		case ' ', '-', '(', ')', '.', '\t':
			continue
		}
		b.WriteRune(r)
	}
	p := b.String()
	if len(p) < 9 || len(p) > 16 || p[0] != '+' {
		return "", errors.New("a phone number must be + and 8 to 15 digits (E.164)")
	}
	for i := 1; i < len(p); i++ {
		if p[i] < '0' || p[i] > '9' {
			return "", errors.New("a phone number must be + and 8 to 15 digits (E.164)")
		}
	}
	return p, nil
}

// NormalizeEmail returns an e-mail address trimmed and in lower case.
func NormalizeEmail(s string) string { return strings.ToLower(strings.TrimSpace(s)) }

// indexInput is what the index hash of an identifier covers:
// kind || 0x00 || normalised value.
func indexInput(kind, value string) []byte {
	b := make([]byte, 0, len(kind)+1+len(value))
	b = append(b, kind...)
	b = append(b, 0)
	return append(b, value...)
}

// indexHash returns the keyed hash by which an identifier is looked up.
// value must already be normalised.
func (r *Repository) indexHash(ctx context.Context, kind, value string) ([]byte, error) {
	h, err := r.mac.MAC(ctx, PurposeIndex, indexInput(kind, value))
	if err != nil {
		return nil, fmt.Errorf("idrepo: index hash: %w", err)
	}
	return h, nil
}
