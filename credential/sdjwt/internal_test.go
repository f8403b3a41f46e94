package sdjwt

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"math"
	"reflect"
	"testing"
	"time"

	"github.com/lestrrat-go/jwx/v3/jwk"
)

func TestSDJWTAppendJSON(t *testing.T) {
	tests := []struct {
		name string
		in   any
	}{
		{"string", "Amina"},
		{"escapes", "a\"b\\c\n\r\t\x00\x1f<>&"},
		{"unicode", "Zoë 😀 \u2028\u2029"},
		{"invalid UTF-8", "a\xffb\xc3"},
		{"nested", map[string]any{"b": []any{1, int64(2), 2.5, true, nil, "x"}, "a": map[string]any{"z": []string{"p", "q"}}}},
		{"fallback types", map[string]any{"t": time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC), "m": map[string]int{"k": 1}, "f": 1e21, "u": uint8(7)}},
		{"empty", map[string]any{"o": map[string]any{}, "a": []any{}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := appendJSON(nil, tt.in)
			if err != nil {
				t.Fatalf("appendJSON(%v) error = %v", tt.in, err)
			}
			want, _ := json.Marshal(tt.in)
			var g, w any
			if err := json.Unmarshal(got, &g); err != nil {
				t.Fatalf("appendJSON(%v) = %s, not JSON: %v", tt.in, got, err)
			}
			json.Unmarshal(want, &w)
			if !reflect.DeepEqual(g, w) {
				t.Errorf("appendJSON(%v) = %s, want the value of %s", tt.in, got, want)
			}
		})
	}
	if _, err := appendJSON(nil, map[string]any{"f": math.Inf(1)}); err == nil {
		t.Errorf("appendJSON(+Inf) error = nil, want an error")
	}
}

func FuzzAppendString(f *testing.F) {
	for _, s := range []string{"", "plain", "\"\\\n\x00", "\xff\xfe", "\u2028", "😀"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got := appendString(nil, s)
		var g, w string
		if err := json.Unmarshal(got, &g); err != nil {
			t.Fatalf("appendString(%q) = %s, not a JSON string: %v", s, got, err)
		}
		want, _ := json.Marshal(s)
		json.Unmarshal(want, &w)
		if g != w {
			t.Fatalf("appendString(%q) decodes to %q, want %q", s, g, w)
		}
	})
}

func TestSDJWTJWKRoundTrip(t *testing.T) {
	var keys []crypto.PublicKey
	for _, c := range []elliptic.Curve{elliptic.P256(), elliptic.P384(), elliptic.P521()} {
		k, err := ecdsa.GenerateKey(c, rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		keys = append(keys, &k.PublicKey)
	}
	ed, _, _ := ed25519.GenerateKey(rand.Reader)
	rk, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	keys = append(keys, ed, &rk.PublicKey)
	for _, k := range keys {
		j, err := publicJWK(k)
		if err != nil {
			t.Fatalf("publicJWK(%T) error = %v", k, err)
		}
		b, _ := json.Marshal(j)
		var m map[string]any
		json.Unmarshal(b, &m)
		got, err := parseJWK(m)
		if err != nil {
			t.Fatalf("parseJWK(%s) error = %v", b, err)
		}
		if !got.(interface{ Equal(crypto.PublicKey) bool }).Equal(k) {
			t.Errorf("parseJWK(publicJWK(%T)) = %v, want the same key", k, got)
		}
	}
	small, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := publicJWK(&small.PublicKey); err == nil {
		t.Errorf("publicJWK(RSA 1024) error = nil, want an error")
	}
}

func TestSDJWTParseJWKRefuses(t *testing.T) {
	x := "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"
	tests := []struct {
		name string
		jwk  map[string]any
	}{
		{"no kty", map[string]any{"crv": "Ed25519", "x": x}},
		{"oct", map[string]any{"kty": "oct", "k": "AAAA"}},
		{"OKP X25519", map[string]any{"kty": "OKP", "crv": "X25519", "x": x}},
		{"OKP short", map[string]any{"kty": "OKP", "crv": "Ed25519", "x": "AAAA"}},
		{"OKP padded", map[string]any{"kty": "OKP", "crv": "Ed25519", "x": x + "="}},
		{"OKP private", map[string]any{"kty": "OKP", "crv": "Ed25519", "x": x, "d": x}},
		{"EC secp256k1", map[string]any{"kty": "EC", "crv": "secp256k1", "x": x, "y": x}},
		{"EC no y", map[string]any{"kty": "EC", "crv": "P-256", "x": x}},
		{"EC x not a string", map[string]any{"kty": "EC", "crv": "P-256", "x": 1.0, "y": x}},
		{"RSA small", map[string]any{"kty": "RSA", "n": x, "e": "AQAB"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if k, err := parseJWK(tt.jwk); err == nil {
				t.Errorf("parseJWK(%v) = %v, want an error", tt.jwk, k)
			}
		})
	}
}

func TestSDJWTDecodeJSON(t *testing.T) {
	tests := []struct {
		in      string
		wantErr bool
	}{
		{`{"a":1,"b":[true,null,"x"]}`, false},
		{` {"a":{}} `, false},
		{`{"a":1,"a":2}`, true},
		{`{"a":{"b":1,"b":1}}`, true},
		{`{"a":1}{"b":2}`, true},
		{`{"a":1`, true},
		{`{"a":1e400}`, true},
		{"{\"a\":\"\xff\"}", true},
		{`[`, true},
		{``, true},
	}
	for _, tt := range tests {
		if _, err := decodeJSON([]byte(tt.in)); (err != nil) != tt.wantErr {
			t.Errorf("decodeJSON(%q) error = %v, want error %v", tt.in, err, tt.wantErr)
		}
	}
}

func TestSDJWTNumericDate(t *testing.T) {
	tests := []struct {
		in     any
		want   time.Time
		wantOK bool
	}{
		{float64(1767225600), time.Unix(1767225600, 0), true},
		{1767225600.5, time.Unix(1767225600, 5e8), true},
		{"1767225600", time.Time{}, false},
		{1e300, time.Time{}, false},
		{nil, time.Time{}, false},
	}
	for _, tt := range tests {
		got, ok := numericDate(tt.in)
		if ok != tt.wantOK || !got.Equal(tt.want) {
			t.Errorf("numericDate(%v) = %v, %v, want %v, %v", tt.in, got, ok, tt.want, tt.wantOK)
		}
	}
}

// TestSDJWTRawKey checks that rawKey reads EC and Ed25519 JWKs itself to
// the same keys jwk.Export gives, and leaves private keys to jwk.Export.
func TestSDJWTRawKey(t *testing.T) {
	gen := func(t *testing.T, c elliptic.Curve) *ecdsa.PrivateKey {
		k, err := ecdsa.GenerateKey(c, rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		return k
	}
	_, edPriv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		key  any
		fast bool
	}{
		{"P-256", gen(t, elliptic.P256()).Public(), true},
		{"P-384", gen(t, elliptic.P384()).Public(), true},
		{"P-521", gen(t, elliptic.P521()).Public(), true},
		{"Ed25519", edPriv.Public(), true},
		{"RSA", rsaKey.Public(), false},
		{"EC private", gen(t, elliptic.P256()), false},
		{"Ed25519 private", edPriv, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			k, err := jwk.Import(tt.key)
			if err != nil {
				t.Fatal(err)
			}
			if got := rawPublicKey(k); (got != nil) != tt.fast {
				t.Fatalf("rawPublicKey(%s) = %T, want a key: %v", tt.name, got, tt.fast)
			}
			var want any
			if err := jwk.Export(k, &want); err != nil {
				t.Fatal(err)
			}
			got, err := rawKey(k)
			if err != nil || !reflect.DeepEqual(got, want) {
				t.Errorf("rawKey(%s) = %v, %v, want %v", tt.name, got, err, want)
			}
		})
	}
}
