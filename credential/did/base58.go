package did

import "fmt"

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

// base58Decode decodes base58btc. It is quadratic in the input length, so
// callers bound the length first (did:key values are under 128 bytes).
func base58Decode(s string) ([]byte, error) {
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

// base58Encode encodes b in base58btc.
func base58Encode(b []byte) string {
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
