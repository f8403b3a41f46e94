package multibase

import (
	"bytes"
	"errors"
	"strings"
	"testing"
)

func TestDecode(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    []byte
		wantErr bool
	}{
		{"base58btc", "z" + "2NEpo7TZRRrLZSi2U", []byte("Hello World!"), false},
		{"base58btc leading zeros", "z11" + "1", []byte{0, 0, 0}, false},
		{"base64url", "uSGVsbG8gV29ybGQh", []byte("Hello World!"), false},
		{"empty", "", nil, true},
		{"prefix only", "z", nil, true},
		{"base58 bad character", "z0OIl", nil, true},
		{"base64url padding", "uSGVsbG8=", nil, true},
		{"base64 standard alphabet", "u+/+/", nil, true},
		{"unsupported prefix", "fdeadbeef", nil, true},
		{"too long", "z" + strings.Repeat("2", MaxBase58Length+1), nil, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Decode(tc.in)
			if tc.wantErr {
				if !errors.Is(err, ErrInvalid) {
					t.Fatalf("Decode(%q) = %x, %v, want ErrInvalid", tc.in, got, err)
				}
				return
			}
			if err != nil || !bytes.Equal(got, tc.want) {
				t.Fatalf("Decode(%q) = %x, %v, want %x", tc.in, got, err, tc.want)
			}
		})
	}
}

func TestEncodeRoundTrip(t *testing.T) {
	for _, b := range [][]byte{{0}, {0, 0, 1}, []byte("Hello World!"), bytes.Repeat([]byte{0xff}, 64)} {
		for _, enc := range []func([]byte) string{EncodeBase58, EncodeBase64URL} {
			s := enc(b)
			got, err := Decode(s)
			if err != nil || !bytes.Equal(got, b) {
				t.Errorf("Decode(%q) = %x, %v, want %x", s, got, err, b)
			}
		}
	}
}

// FuzzDecode: Decode never panics, and what it decodes re-encodes to the
// same string (base58btc and unpadded base64url are canonical).
func FuzzDecode(f *testing.F) {
	for _, s := range []string{"z2NEpo7TZRRrLZSi2U", "z111", "uSGVsbG8gV29ybGQh", "u", "z", "", "u===", "z0", "fab"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		b, err := Decode(s)
		if err != nil {
			return
		}
		var again string
		if s[0] == 'z' {
			again = EncodeBase58(b)
		} else {
			again = EncodeBase64URL(b)
		}
		if again != s {
			t.Fatalf("encode(Decode(%q)) = %q", s, again)
		}
	})
}
