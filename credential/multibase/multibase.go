// Package multibase encodes and decodes the multibase strings that Data
// Integrity proofs, Multikey verification methods, did:key identifiers and
// status lists use: base58btc (prefix "z") and base64url without padding
// (prefix "u"). Other bases are refused.
package multibase

import (
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
)

// ErrInvalid: the string is not multibase base58btc or base64url, or its
// payload does not decode.
var ErrInvalid = errors.New("multibase: invalid value")

// MaxBase58Length bounds a base58btc value Decode accepts: base58 decoding
// is quadratic. 4 096 characters hold about 3 000 bytes, far more than any
// key or signature.
const MaxBase58Length = 4096

// EncodeBase58 returns "z" + base58btc(b).
func EncodeBase58(b []byte) string { return "z" + Base58Encode(b) }

// EncodeBase64URL returns "u" + base64url(b), without padding.
func EncodeBase64URL(b []byte) string { return "u" + base64.RawURLEncoding.EncodeToString(b) }

// Decode decodes a base58btc ("z") or base64url ("u") multibase value.
func Decode(s string) ([]byte, error) {
	if len(s) < 2 {
		return nil, fmt.Errorf("%w: empty value", ErrInvalid)
	}
	switch s[0] {
	case 'z':
		if len(s)-1 > MaxBase58Length {
			return nil, fmt.Errorf("%w: base58btc value longer than %d characters", ErrInvalid, MaxBase58Length)
		}
		b, err := Base58Decode(s[1:])
		if err != nil {
			return nil, fmt.Errorf("%w: %v", ErrInvalid, err)
		}
		return b, nil
	case 'u':
		// Strict: non-zero padding bits would let several strings decode
		// to the same bytes; encoding/base64 skips CR and LF, refuse them.
		if strings.ContainsAny(s, "\r\n") {
			return nil, fmt.Errorf("%w: base64url value with a line break", ErrInvalid)
		}
		b, err := base64.RawURLEncoding.Strict().DecodeString(s[1:])
		if err != nil {
			return nil, fmt.Errorf("%w: base64url: %v", ErrInvalid, err)
		}
		return b, nil
	}
	return nil, fmt.Errorf("%w: unsupported multibase prefix %q", ErrInvalid, s[0])
}

// base58btc is the Bitcoin base58 alphabet, multibase prefix "z".
const base58btc = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"

// base58Index maps an ASCII byte to its base58btc digit, or 0xff.
var base58Index = func() [256]byte {
	var t [256]byte
	for i := range t {
		t[i] = 0xff
	}
	for i := 0; i < len(base58btc); i++ {
		t[base58btc[i]] = byte(i)
	}
	return t
}()

// Base58Decode decodes base58btc. It is quadratic in the input length, so
// callers bound the length first (did:key values are under 128 bytes).
func Base58Decode(s string) ([]byte, error) {
	if s == "" {
		return nil, fmt.Errorf("empty base58 value")
	}
	zeros := 0
	for zeros < len(s) && s[zeros] == '1' {
		zeros++
	}
	// log(58)/log(256) < 0.733: the decoded value needs at most this many bytes.
	size := (len(s)-zeros)*733/1000 + 1
	buf := make([]byte, size)
	for i := zeros; i < len(s); i++ {
		carry := uint32(base58Index[s[i]])
		if carry == 0xff {
			return nil, fmt.Errorf("invalid base58 character at offset %d", i)
		}
		for j := size - 1; j >= 0; j-- {
			carry += 58 * uint32(buf[j])
			buf[j] = byte(carry)
			carry >>= 8
		}
		if carry != 0 {
			return nil, fmt.Errorf("base58 value overflows") // unreachable with the size above
		}
	}
	start := 0
	for start < len(buf) && buf[start] == 0 {
		start++
	}
	out := make([]byte, zeros+len(buf)-start)
	copy(out[zeros:], buf[start:])
	return out, nil
}

// Base58Encode encodes b in base58btc.
func Base58Encode(b []byte) string {
	zeros := 0
	for zeros < len(b) && b[zeros] == 0 {
		zeros++
	}
	// log(256)/log(58) < 1.366.
	size := (len(b)-zeros)*1366/1000 + 1
	digits := make([]byte, size)
	for _, c := range b[zeros:] {
		carry := uint32(c)
		for j := size - 1; j >= 0; j-- {
			carry += 256 * uint32(digits[j])
			digits[j] = byte(carry % 58)
			carry /= 58
		}
	}
	start := 0
	for start < len(digits) && digits[start] == 0 {
		start++
	}
	out := make([]byte, zeros+len(digits)-start)
	for i := 0; i < zeros; i++ {
		out[i] = '1'
	}
	for i, d := range digits[start:] {
		out[zeros+i] = base58btc[d]
	}
	return string(out)
}
