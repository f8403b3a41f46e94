package statuslist

import (
	"encoding/base64"
	"fmt"
	"math"
)

// TokenList is an IETF Token Status List with Bits bits per entry (1, 2, 4, 8).
// Entry i occupies bits i*Bits .. i*Bits+Bits-1 of the byte array, counted
// from the least significant bit of byte 0. Its methods are not safe for
// concurrent use.
type TokenList struct {
	bits int
	n    int
	b    []byte
}

// validBits says whether bits is 1, 2, 4 or 8.
func validBits(bits int) bool { return bits == 1 || bits == 2 || bits == 4 || bits == 8 }

// NewTokenList returns a list of size entries of bits bits each, all
// TokenValid. The byte array may be at most MaxListBytes.
func NewTokenList(bits, size int) (*TokenList, error) {
	if !validBits(bits) {
		return nil, fmt.Errorf("%w: bits %d is not 1, 2, 4 or 8", ErrMalformed, bits)
	}
	if size < 1 || size > MaxListBytes*8/bits {
		return nil, fmt.Errorf("%w: size %d is not from 1 to %d", ErrMalformed, size, MaxListBytes*8/bits)
	}
	return &TokenList{bits: bits, n: size, b: make([]byte, (size*bits+7)/8)}, nil
}

// Bits is the number of bits per entry.
func (t *TokenList) Bits() int { return t.bits }

// Len is the number of entries. A parsed list has every entry its bytes
// hold: len(lst)*8/Bits.
func (t *TokenList) Len() int { return t.n }

// position returns the byte and shift of entry i.
func (t *TokenList) position(i int) (int, uint, error) {
	if i < 0 || i >= t.n {
		return 0, 0, fmt.Errorf("%w: entry %d of %d", ErrRange, i, t.n)
	}
	bit := i * t.bits
	return bit / 8, uint(bit % 8), nil
}

// Set sets entry i to v, which must fit in Bits bits.
func (t *TokenList) Set(i int, v uint8) error {
	j, shift, err := t.position(i)
	if err != nil {
		return err
	}
	mask := byte(0xff >> (8 - t.bits))
	if v > mask {
		return fmt.Errorf("%w: status %#x does not fit in %d bits", ErrRange, v, t.bits)
	}
	t.b[j] = t.b[j]&^(mask<<shift) | v<<shift
	return nil
}

// Get returns entry i.
func (t *TokenList) Get(i int) (uint8, error) {
	j, shift, err := t.position(i)
	if err != nil {
		return 0, err
	}
	return t.b[j] >> shift & byte(0xff>>(8-t.bits)), nil
}

// Map is the list as a status_list claim: {"bits": n, "lst":
// base64url(ZLIB(bytes))}, compressed at the highest level.
func (t *TokenList) Map() (map[string]any, error) {
	z, err := compressZlib(t.b)
	if err != nil {
		return nil, fmt.Errorf("statuslist: compress: %w", err)
	}
	return map[string]any{"bits": t.bits, "lst": base64.RawURLEncoding.EncodeToString(z)}, nil
}

// ParseTokenList reads a status_list claim: bits is a JSON integer of 1,
// 2, 4 or 8, lst unpadded base64url of a ZLIB stream (checksum included,
// nothing after it) that expands to 1 to MaxListBytes bytes. Other members
// (aggregation_uri) are ignored. Errors wrap ErrMalformed.
func ParseTokenList(m map[string]any) (*TokenList, error) {
	if m == nil {
		return nil, malformed("no status_list")
	}
	bits, ok := integer(m["bits"])
	if !ok || bits > math.MaxInt32 || !validBits(int(bits)) {
		return nil, malformed("status_list bits is not 1, 2, 4 or 8")
	}
	lst, ok := m["lst"].(string)
	if !ok {
		return nil, malformed("status_list lst is not a string")
	}
	if len(lst) > maxEncoded {
		return nil, malformed("status_list lst longer than %d characters", maxEncoded)
	}
	z, err := base64.RawURLEncoding.Strict().DecodeString(lst)
	if err != nil {
		return nil, malformed("status_list lst is not base64url: %v", err)
	}
	b, err := decompressZlib(z)
	if err != nil {
		return nil, malformed("status_list lst: %v", err)
	}
	if len(b) == 0 {
		return nil, malformed("status_list lst is empty")
	}
	return &TokenList{bits: int(bits), n: len(b) * 8 / int(bits), b: b}, nil
}
