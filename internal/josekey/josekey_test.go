package josekey

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/lestrrat-go/jwx/v3/jwk"
)

// testKeys are keys of every type and size ForAlg distinguishes, generated
// per test run.
type testKeys struct {
	p256, p384, p521 *ecdsa.PrivateKey
	ed               ed25519.PrivateKey
	rsa, rsaShort    *rsa.PrivateKey
}

func newTestKeys(t *testing.T) testKeys {
	t.Helper()
	var k testKeys
	var err error
	for _, c := range []struct {
		dst   **ecdsa.PrivateKey
		curve elliptic.Curve
	}{{&k.p256, elliptic.P256()}, {&k.p384, elliptic.P384()}, {&k.p521, elliptic.P521()}} {
		if *c.dst, err = ecdsa.GenerateKey(c.curve, rand.Reader); err != nil {
			t.Fatal(err)
		}
	}
	if _, k.ed, err = ed25519.GenerateKey(rand.Reader); err != nil {
		t.Fatal(err)
	}
	if k.rsa, err = rsa.GenerateKey(rand.Reader, MinRSABits); err != nil {
		t.Fatal(err)
	}
	if k.rsaShort, err = rsa.GenerateKey(rand.Reader, 1024); err != nil {
		t.Fatal(err)
	}
	return k
}

func mustJWK(t *testing.T, key any) jwk.Key {
	t.Helper()
	k, err := jwk.Import(key)
	if err != nil {
		t.Fatalf("jwk.Import(%T): %v", key, err)
	}
	return k
}

func TestForAlg(t *testing.T) {
	k := newTestKeys(t)
	edPub := k.ed.Public().(ed25519.PublicKey)
	for _, tt := range []struct {
		name string
		pub  crypto.PublicKey
		alg  string
		want crypto.PublicKey // nil: an error matching err
		err  error
	}{
		{name: "ES256 P-256", pub: &k.p256.PublicKey, alg: "ES256", want: &k.p256.PublicKey},
		{name: "ES384 P-384", pub: &k.p384.PublicKey, alg: "ES384", want: &k.p384.PublicKey},
		{name: "ES512 P-521", pub: &k.p521.PublicKey, alg: "ES512", want: &k.p521.PublicKey},
		{name: "EdDSA Ed25519", pub: edPub, alg: "EdDSA", want: edPub},
		{name: "Ed25519 alg", pub: edPub, alg: "Ed25519", want: edPub},
		{name: "EdDSA pointer to Ed25519", pub: &edPub, alg: "EdDSA", want: edPub},
		{name: "RS256", pub: &k.rsa.PublicKey, alg: "RS256", want: &k.rsa.PublicKey},
		{name: "RS384", pub: &k.rsa.PublicKey, alg: "RS384", want: &k.rsa.PublicKey},
		{name: "RS512", pub: &k.rsa.PublicKey, alg: "RS512", want: &k.rsa.PublicKey},
		{name: "PS256", pub: &k.rsa.PublicKey, alg: "PS256", want: &k.rsa.PublicKey},
		{name: "PS384", pub: &k.rsa.PublicKey, alg: "PS384", want: &k.rsa.PublicKey},
		{name: "PS512", pub: &k.rsa.PublicKey, alg: "PS512", want: &k.rsa.PublicKey},

		{name: "jwk.Key EC", pub: mustJWK(t, &k.p384.PublicKey), alg: "ES384", want: &k.p384.PublicKey},
		{name: "jwk.Key OKP", pub: mustJWK(t, edPub), alg: "EdDSA", want: edPub},
		{name: "jwk.Key RSA", pub: mustJWK(t, &k.rsa.PublicKey), alg: "PS256", want: &k.rsa.PublicKey},

		{name: "ES256 with P-384", pub: &k.p384.PublicKey, alg: "ES256", err: ErrKeyAlg},
		{name: "ES384 with P-256", pub: &k.p256.PublicKey, alg: "ES384", err: ErrKeyAlg},
		{name: "ES512 with P-384", pub: &k.p384.PublicKey, alg: "ES512", err: ErrKeyAlg},
		{name: "ES256 with RSA", pub: &k.rsa.PublicKey, alg: "ES256", err: ErrKeyAlg},
		{name: "EdDSA with EC", pub: &k.p256.PublicKey, alg: "EdDSA", err: ErrKeyAlg},
		{name: "EdDSA short key", pub: edPub[:16], alg: "EdDSA", err: ErrKeyAlg},
		{name: "RS256 with Ed25519", pub: edPub, alg: "RS256", err: ErrKeyAlg},
		{name: "RS256 short RSA", pub: &k.rsaShort.PublicKey, alg: "RS256", err: ErrKeyAlg},
		{name: "PS512 short RSA", pub: &k.rsaShort.PublicKey, alg: "PS512", err: ErrKeyAlg},
		{name: "jwk.Key wrong curve", pub: mustJWK(t, &k.p521.PublicKey), alg: "ES256", err: ErrKeyAlg},
		{name: "nil key", pub: nil, alg: "ES256", err: ErrKeyAlg},
		{name: "nil EC pointer", pub: (*ecdsa.PublicKey)(nil), alg: "ES256", err: ErrKeyAlg},
		{name: "nil RSA pointer", pub: (*rsa.PublicKey)(nil), alg: "RS256", err: ErrKeyAlg},
		{name: "RSA without modulus", pub: &rsa.PublicKey{E: 65537}, alg: "RS256", err: ErrKeyAlg},

		{name: "raw EC private key", pub: k.p256, alg: "ES256", err: ErrKeyAlg},
		{name: "raw Ed25519 private key", pub: k.ed, alg: "EdDSA", err: ErrKeyAlg},
		{name: "raw RSA private key", pub: k.rsa, alg: "RS256", err: ErrKeyAlg},
		{name: "jwk.Key EC private", pub: mustJWK(t, k.p256), alg: "ES256", err: ErrNotPublic},
		{name: "jwk.Key OKP private", pub: mustJWK(t, k.ed), alg: "EdDSA", err: ErrNotPublic},
		{name: "jwk.Key RSA private", pub: mustJWK(t, k.rsa), alg: "RS256", err: ErrNotPublic},
		{name: "jwk.Key symmetric", pub: mustJWK(t, []byte("0123456789abcdef0123456789abcdef")), alg: "HS256", err: ErrNotPublic},

		{name: "HS256", pub: &k.p256.PublicKey, alg: "HS256", err: ErrUnsupportedAlg},
		{name: "none", pub: &k.p256.PublicKey, alg: "none", err: ErrUnsupportedAlg},
		{name: "ES256K", pub: &k.p256.PublicKey, alg: "ES256K", err: ErrUnsupportedAlg},
		{name: "empty alg", pub: edPub, alg: "", err: ErrUnsupportedAlg},
		{name: "lower-case alg", pub: &k.p256.PublicKey, alg: "es256", err: ErrUnsupportedAlg},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ForAlg(tt.pub, tt.alg)
			if tt.err != nil {
				if got != nil || !errors.Is(err, tt.err) {
					t.Fatalf("ForAlg(%T, %q) = %T, %v, want error %v", tt.pub, tt.alg, got, err, tt.err)
				}
				return
			}
			if err != nil || !equalKey(got, tt.want) {
				t.Fatalf("ForAlg(%T, %q) = %T, %v, want %T", tt.pub, tt.alg, got, err, tt.want)
			}
		})
	}
}

// equalKey compares two public keys with their Equal methods.
func equalKey(a, b crypto.PublicKey) bool {
	e, ok := a.(interface{ Equal(crypto.PublicKey) bool })
	return ok && reflect.TypeOf(a) == reflect.TypeOf(b) && e.Equal(b)
}

// TestForAlgMessage checks the message callers wrap into their own errors.
func TestForAlgMessage(t *testing.T) {
	_, err := ForAlg(ed25519.PublicKey(make([]byte, ed25519.PublicKeySize)), "ES256")
	if want := "key ed25519.PublicKey does not fit alg ES256"; err == nil || err.Error() != want {
		t.Errorf("ForAlg(Ed25519, ES256) = %v, want %q", err, want)
	}
	_, err = ForAlg(nil, strings.Repeat("A", 100))
	if err == nil || len(err.Error()) > 100 {
		t.Errorf("ForAlg(nil, long alg) = %v, want a short error", err)
	}
}

func TestDecodeObject(t *testing.T) {
	type claims struct {
		Iss string `json:"iss"`
	}
	for _, tt := range []struct {
		name    string
		in      string
		want    string
		err     error // nil with wantErr: an encoding/json error
		wantErr bool
	}{
		{name: "object", in: `{"iss":"a"}`, want: "a"},
		{name: "white space around", in: " \n\t{\"iss\":\"a\"}\r\n ", want: "a"},
		{name: "empty object", in: `{}`, want: ""},
		{name: "unknown members", in: `{"iss":"a","x":[1,{}]}`, want: "a"},

		{name: "empty", in: ``, err: ErrNotObject},
		{name: "only space", in: "  \n", err: ErrNotObject},
		{name: "null", in: `null`, err: ErrNotObject},
		{name: "array", in: `[{"iss":"a"}]`, err: ErrNotObject},
		{name: "string", in: `"{}"`, err: ErrNotObject},
		{name: "number", in: `1`, err: ErrNotObject},
		{name: "true", in: `true`, err: ErrNotObject},

		{name: "second object", in: `{"iss":"a"} {}`, err: ErrTrailingData},
		{name: "second object no space", in: `{"iss":"a"}{}`, err: ErrTrailingData},
		{name: "stray brace", in: `{"iss":"a"}}`, err: ErrTrailingData},
		{name: "stray bracket", in: `{"iss":"a"}]`, err: ErrTrailingData},
		{name: "trailing garbage", in: `{"iss":"a"}x`, err: ErrTrailingData},
		{name: "trailing null", in: `{"iss":"a"} null`, err: ErrTrailingData},
		{name: "trailing comma", in: `{"iss":"a"},`, err: ErrTrailingData},

		{name: "unterminated", in: `{"iss":"a"`, wantErr: true},
		{name: "wrong member type", in: `{"iss":1}`, wantErr: true},
		{name: "invalid JSON", in: `{iss:"a"}`, wantErr: true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var got claims
			err := DecodeObject([]byte(tt.in), &got)
			switch {
			case tt.err != nil:
				if !errors.Is(err, tt.err) {
					t.Fatalf("DecodeObject(%q) = %v, want %v", tt.in, err, tt.err)
				}
			case tt.wantErr:
				if err == nil || errors.Is(err, ErrNotObject) || errors.Is(err, ErrTrailingData) {
					t.Fatalf("DecodeObject(%q) = %v, want an encoding/json error", tt.in, err)
				}
			case err != nil || got.Iss != tt.want:
				t.Fatalf("DecodeObject(%q) = %+v, %v, want iss %q", tt.in, got, err, tt.want)
			}
		})
	}
}

func FuzzDecodeObject(f *testing.F) {
	for _, s := range []string{
		`{"iss":"a","aud":["b"],"exp":1}`, ` {} `, `{}{}`, `{}}`, `{}]`, `null`, `[]`, `"x"`, ``,
		`{"a":`, `{"a":1} x`, "{\"a\":\"\xff\"}", `{"a":{"b":[1,2,{"c":null}]}}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var m map[string]any
		if err := DecodeObject(b, &m); err != nil {
			return
		}
		if m == nil {
			t.Fatalf("DecodeObject(%q) = nil map, nil error", b)
		}
		if !json.Valid(b) {
			t.Fatalf("DecodeObject(%q) accepted invalid JSON", b)
		}
		// Valid JSON that is one object re-encodes to an object that
		// decodes again.
		out, err := json.Marshal(m)
		if err != nil {
			t.Fatalf("Marshal(DecodeObject(%q)): %v", b, err)
		}
		var again map[string]any
		if err := DecodeObject(out, &again); err != nil {
			t.Fatalf("DecodeObject(%q) = %v after a round trip of %q", out, err, b)
		}
	})
}
