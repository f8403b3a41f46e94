package statuslist

import (
	"bytes"
	"compress/gzip"
	"compress/zlib"
	"encoding/base64"
	"errors"
	"fmt"
	"io"

	"github.com/sanad-id/sanad/credential/multibase"
)

// maxCompressed bounds a compressed list before it is decoded: DEFLATE
// never grows data by more than 5 bytes per 16 KiB block (stored blocks),
// plus the GZIP or ZLIB framing.
const maxCompressed = MaxListBytes + MaxListBytes/1024 + 1024

// maxEncoded bounds a base64url (optionally multibase) encoded list.
var maxEncoded = base64.RawURLEncoding.EncodedLen(maxCompressed) + 1

// Bitstring is a W3C bitstring (bit 0 is the most significant bit of byte 0).
// Its methods are not safe for concurrent use.
type Bitstring struct {
	bits []byte
	n    int
}

// NewBitstring returns a bitstring of size bits, all 0; size <= 0 means
// DefaultSize. It panics if size exceeds MaxListBytes*8. ListCredential
// refuses lists shorter than MinEntries.
func NewBitstring(size int) *Bitstring {
	if size <= 0 {
		size = DefaultSize
	}
	if size > MaxListBytes*8 {
		panic(fmt.Sprintf("statuslist.NewBitstring: size %d exceeds %d", size, MaxListBytes*8))
	}
	return &Bitstring{bits: make([]byte, (size+7)/8), n: size}
}

// Len is the number of bits. A decoded bitstring has a multiple of 8.
func (b *Bitstring) Len() int { return b.n }

// position returns the byte and mask of bit i.
func (b *Bitstring) position(i int) (int, byte, error) {
	if i < 0 || i >= b.n {
		return 0, 0, fmt.Errorf("%w: bit %d of %d", ErrRange, i, b.n)
	}
	return i / 8, 0x80 >> (i % 8), nil
}

// Set sets bit i to v.
func (b *Bitstring) Set(i int, v bool) error {
	j, mask, err := b.position(i)
	if err != nil {
		return err
	}
	if v {
		b.bits[j] |= mask
	} else {
		b.bits[j] &^= mask
	}
	return nil
}

// Get returns bit i.
func (b *Bitstring) Get(i int) (bool, error) {
	j, mask, err := b.position(i)
	if err != nil {
		return false, err
	}
	return b.bits[j]&mask != 0, nil
}

// Bytes returns a copy of the uncompressed bitstring.
func (b *Bitstring) Bytes() []byte { return bytes.Clone(b.bits) }

// Encode returns the encodedList value: "u" + base64url, without padding,
// of the GZIP-compressed bits (multibase base64url).
func (b *Bitstring) Encode() (string, error) {
	var buf bytes.Buffer
	w, err := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	if err != nil {
		return "", err
	}
	if _, err := w.Write(b.bits); err != nil {
		return "", fmt.Errorf("statuslist: compress: %w", err)
	}
	if err := w.Close(); err != nil {
		return "", fmt.Errorf("statuslist: compress: %w", err)
	}
	return multibase.EncodeBase64URL(buf.Bytes()), nil
}

// DecodeBitstring decodes an encodedList: multibase base64url ("u"
// prefix) of GZIP. The decompressed list may be at most MaxListBytes long
// and at least MinEntries bits (else ErrListLength), as verifiers must
// require. Errors wrap ErrMalformed.
func DecodeBitstring(encoded string) (*Bitstring, error) {
	return DecodeBitstringMin(encoded, MinEntries)
}

// DecodeBitstringMin is DecodeBitstring with another lower bound on the
// number of entries, for an ecosystem that sets one (the specification
// allows it); minEntries <= 0 accepts any non-empty list.
func DecodeBitstringMin(encoded string, minEntries int) (*Bitstring, error) {
	if len(encoded) == 0 || encoded[0] != 'u' {
		return nil, malformed("encodedList is not multibase base64url (no \"u\" prefix)")
	}
	return decodeGzip(encoded, minEntries)
}

// decodeGzip decodes a multibase base64url ("u...") or, for StatusList2021
// lists, plain base64url GZIP value.
func decodeGzip(encoded string, minEntries int) (*Bitstring, error) {
	if len(encoded) > maxEncoded {
		return nil, malformed("encodedList longer than %d characters", maxEncoded)
	}
	var raw []byte
	var err error
	if len(encoded) > 0 && encoded[0] == 'u' {
		raw, err = multibase.Decode(encoded)
	} else {
		raw, err = base64.RawURLEncoding.DecodeString(encoded)
	}
	if err != nil {
		return nil, malformed("encodedList: %v", err)
	}
	r := bytes.NewReader(raw)
	zr, err := gzip.NewReader(r)
	if err != nil {
		return nil, malformed("encodedList is not GZIP: %v", err)
	}
	bits, err := inflate(zr)
	if err != nil {
		return nil, malformed("encodedList: %v", err)
	}
	if len(bits) == 0 {
		return nil, malformed("encodedList is empty")
	}
	if len(bits)*8 < minEntries {
		return nil, fmt.Errorf("%w: %d", ErrListLength, len(bits)*8)
	}
	return &Bitstring{bits: bits, n: len(bits) * 8}, nil
}

// errTooLarge: a list expands beyond MaxListBytes.
var errTooLarge = fmt.Errorf("decompresses to more than %d bytes", MaxListBytes)

// inflate reads a decompressor to its end, which makes GZIP and ZLIB check
// their checksums, reading at most MaxListBytes.
func inflate(r io.Reader) ([]byte, error) {
	out, err := io.ReadAll(io.LimitReader(r, MaxListBytes+1))
	if err != nil {
		return nil, err
	}
	if len(out) > MaxListBytes {
		return nil, errTooLarge
	}
	return out, nil
}

// compressZlib compresses b with ZLIB (RFC 1950) at the highest level, as
// the Token Status List draft recommends.
func compressZlib(b []byte) ([]byte, error) {
	var buf bytes.Buffer
	w, err := zlib.NewWriterLevel(&buf, zlib.BestCompression)
	if err != nil {
		return nil, err
	}
	if _, err := w.Write(b); err != nil {
		return nil, err
	}
	if err := w.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// decompressZlib inflates a ZLIB stream with nothing after it.
func decompressZlib(b []byte) ([]byte, error) {
	r := bytes.NewReader(b)
	zr, err := zlib.NewReader(r)
	if err != nil {
		return nil, err
	}
	out, err := inflate(zr)
	if err != nil {
		return nil, err
	}
	if r.Len() != 0 {
		return nil, errors.New("data after the ZLIB stream")
	}
	return out, nil
}
