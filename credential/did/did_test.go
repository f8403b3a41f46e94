package did

import (
	"github.com/sanad-id/sanad/credential/multibase"

	"bytes"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"strings"
	"testing"

	"github.com/lestrrat-go/jwx/v3/jwk"
)

// Test vectors of the did:key specification
// (github.com/w3c-ccg/did-method-key, test-vectors/ed25519-x25519.json):
// the Ed25519 key generated from a 32-byte seed, its did:key and its
// publicKeyBase58.
var ed25519Vectors = []struct {
	seed, did, base58 string
}{
	{"0000000000000000000000000000000000000000000000000000000000000000", "did:key:z6MkiTBz1ymuepAQ4HEHYSF1H8quG5GLVVQR3djdX3mDooWp", "4zvwRjXUKGfvwnParsHAS3HuSVzV5cA4McphgmoCtajS"},
	{"0000000000000000000000000000000000000000000000000000000000000001", "did:key:z6MkjchhfUsD6mmvni8mCdXHw216Xrm9bQe2mBH1P5RDjVJG", "6ASf5EcmmEHTgDJ4X4ZT5vT6iHVJBXPg5AN5YoTCpGWt"},
	{"0000000000000000000000000000000000000000000000000000000000000002", "did:key:z6MknGc3ocHs3zdPiJbnaaqDi58NGb4pk1Sp9WxWufuXSdxf", "8pM1DN3RiT8vbom5u1sNryaNT1nyL8CTTW3b5PwWXRBH"},
	{"0000000000000000000000000000000000000000000000000000000000000003", "did:key:z6MkvqoYXQfDDJRv8L4wKzxYeuKyVZBfi9Qo6Ro8MiLH3kDQ", "HPYVwAQmskwT1qEEeRzhoomyfyupJGASQQtCXSNG8XS2"},
	{"0000000000000000000000000000000000000000000000000000000000000004", "did:key:z6MkwW6aqMnjgrhJXFUko3NnZPGzVpkNzhYK7yEhnsibmLwL", "J3qYF7YJMKCqQke47UQwiHizgFUXapHxRxKmxbkar89x"},
}

// NIST curve vectors of the did:key specification (test-vectors/nist-curves.json).
var nistVectors = []struct {
	did, crv, x, y string
}{
	{"did:key:zDnaerx9CtbPJ1q36T5Ln5wYt3MQYeGRG5ehnPAmxcf5mDZpv", "P-256", "igrFmi0whuihKnj9R3Om1SoMph72wUGeFaBbzG2vzns", "efsX5b10x8yjyrj4ny3pGfLcY7Xby1KzgqOdqnsrJIM"},
	{"did:key:zDnaerDaTF5BXEavCrfRZEk316dpbLsfPDZ3WJ5hRTPFU2169", "P-256", "fyNYMN0976ci7xqiSdag3buk-ZCwgXU4kz9XNkBlNUI", "hW2ojTNfH7Jbi8--CJUo3OCbH3y5n91g-IMA9MLMbTU"},
	{"did:key:z82Lm1MpAkeJcix9K8TMiLd5NMAhnwkjjCBeWHXyu3U4oT2MVJJKXkcVBgjGhnLBn2Kaau9", "P-384", "lInTxl8fjLKp_UCrxI0WDklahi-7-_6JbtiHjiRvMvhedhKVdHBfi2HCY8t_QJyc", "y6N1IC-2mXxHreETBW7K3mBcw0qGr3CWHCs-yl09yCQRLcyfGv7XhqAngHOu51Zv"},
	{"did:key:z82LkvCwHNreneWpsgPEbV3gu1C6NFJEBg4srfJ5gdxEsMGRJUz2sG9FE42shbn2xkZJh54", "P-384", "CA-iNoHDg1lL8pvX3d1uvExzVfCz7Rn6tW781Ub8K5MrDf2IMPyL0RTDiaLHC1JT", "Kpnrn8DkXUD3ge4mFxi-DKr0DYO2KuJdwNBrhzLRtfMa3WFMZBiPKUPfJj8dYNl_"},
	{"did:key:z2J9gaYxrKVpdoG9A4gRnmpnRCcxU6agDtFVVBVdn1JedouoZN7SzcyREXXzWgt3gGiwpoHq7K68X4m32D8HgzG8wv3sY5j7", "P-521", "ASUHPMyichQ0QbHZ9ofNx_l4y7luncn5feKLo3OpJ2nSbZoC7mffolj5uy7s6KSKXFmnNWxGJ42IOrjZ47qqwqyS", "AW9ziIC4ZQQVSNmLlp59yYKrjRY0_VqO-GOIYQ9tYpPraBKUloEId6cI_vynCzlZWZtWpgOM3HPhYEgawQ703RjC"},
}

// did:jwk examples of the did:jwk specification (github.com/quartzjer/did-jwk).
const (
	specJWKP256   = "did:jwk:eyJjcnYiOiJQLTI1NiIsImt0eSI6IkVDIiwieCI6ImFjYklRaXVNczNpOF91c3pFakoydHBUdFJNNEVVM3l6OTFQSDZDZEgyVjAiLCJ5IjoiX0tjeUxqOXZXTXB0bm1LdG00NkdxRHo4d2Y3NEk1TEtncmwyR3pIM25TRSJ9"
	specJWKX25519 = "did:jwk:eyJrdHkiOiJPS1AiLCJjcnYiOiJYMjU1MTkiLCJ1c2UiOiJlbmMiLCJ4IjoiM3A3YmZYdDl3YlRUVzJIQzdPUTFOei1EUThoYmVHZE5yZngtRkctSUswOCJ9"
)

func mustJWKJSON(t *testing.T, k jwk.Key) map[string]any {
	t.Helper()
	m := map[string]any{}
	for _, name := range k.Keys() {
		var v any
		if err := k.Get(name, &v); err != nil {
			t.Fatal(err)
		}
		m[name] = v
	}
	return m
}

func b64(t *testing.T, s string) []byte {
	t.Helper()
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestKeyVectorsEd25519(t *testing.T) {
	r := NewOfflineResolver()
	for _, v := range ed25519Vectors {
		t.Run(v.did, func(t *testing.T) {
			seed, _ := hex.DecodeString(v.seed)
			pub := ed25519.NewKeyFromSeed(seed).Public().(ed25519.PublicKey)
			want, err := multibase.Base58Decode(v.base58)
			if err != nil {
				t.Fatalf("multibase.Base58Decode(%q) = %v", v.base58, err)
			}
			if !pub.Equal(ed25519.PublicKey(want)) {
				t.Fatalf("seed %s gives key %x, want %x", v.seed, pub, want)
			}
			got, err := KeyDID(pub)
			if err != nil || got != v.did {
				t.Errorf("KeyDID(%x) = %q, %v, want %q", []byte(pub), got, err, v.did)
			}
			for _, in := range []string{v.did, v.did + "#" + strings.TrimPrefix(v.did, "did:key:")} {
				k, err := r.Resolve(context.Background(), in)
				if err != nil {
					t.Fatalf("Resolve(%q) = %v", in, err)
				}
				var raw any
				if err := jwk.Export(k, &raw); err != nil {
					t.Fatal(err)
				}
				if !pub.Equal(raw) {
					t.Errorf("Resolve(%q) = %v, want Ed25519 key %x", in, raw, []byte(pub))
				}
			}
		})
	}
}

func TestKeyVectorsNIST(t *testing.T) {
	r := NewOfflineResolver()
	curves := map[string]elliptic.Curve{"P-256": elliptic.P256(), "P-384": elliptic.P384(), "P-521": elliptic.P521()}
	for _, v := range nistVectors {
		t.Run(v.did, func(t *testing.T) {
			k, err := r.Resolve(context.Background(), v.did)
			if err != nil {
				t.Fatalf("Resolve(%q) = %v", v.did, err)
			}
			got := mustJWKJSON(t, k)
			if got["kty"] == nil || got["crv"] == nil {
				t.Fatalf("Resolve(%q) = %v, want an EC key", v.did, got)
			}
			var raw any
			if err := jwk.Export(k, &raw); err != nil {
				t.Fatal(err)
			}
			ec, ok := raw.(*ecdsa.PublicKey)
			if !ok || ec.Curve != curves[v.crv] {
				t.Fatalf("Resolve(%q) = %T, want an ECDSA %s key", v.did, raw, v.crv)
			}
			unc, _ := ec.Bytes()
			size := (len(unc) - 1) / 2
			if x, y := unc[1:1+size], unc[1+size:]; string(x) != string(b64(t, v.x)) || string(y) != string(b64(t, v.y)) {
				t.Errorf("Resolve(%q) = x %x y %x, want the vector's x and y", v.did, x, y)
			}
			did, err := KeyDID(ec)
			if err != nil || did != v.did {
				t.Errorf("KeyDID(%s key) = %q, %v, want %q", v.crv, did, err, v.did)
			}
			// A jwk.Key works as well.
			if did, err := KeyDID(k); err != nil || did != v.did {
				t.Errorf("KeyDID(jwk) = %q, %v, want %q", did, err, v.did)
			}
		})
	}
}

func TestJWKSpecVectors(t *testing.T) {
	r := NewOfflineResolver()
	k, err := r.Resolve(context.Background(), specJWKP256+"#0")
	if err != nil {
		t.Fatalf("Resolve(spec P-256 did:jwk) = %v", err)
	}
	m := mustJWKJSON(t, k)
	if m["crv"] == nil || m["kty"] == nil {
		t.Fatalf("Resolve(spec P-256 did:jwk) = %v, want an EC key", m)
	}
	// The specification's example is already in the form JWKDID writes.
	if got, err := JWKDID(k); err != nil || got != specJWKP256 {
		t.Errorf("JWKDID(spec key) = %q, %v, want %q", got, err, specJWKP256)
	}
	if _, err := r.Resolve(context.Background(), specJWKX25519); !errors.Is(err, ErrUnsupportedKey) {
		t.Errorf("Resolve(spec X25519 did:jwk) = %v, want ErrUnsupportedKey (a key-agreement key)", err)
	}
}

func TestKeyDIDRoundTrip(t *testing.T) {
	r := NewOfflineResolver()
	var keys []crypto.PublicKey
	for _, c := range []elliptic.Curve{elliptic.P256(), elliptic.P384(), elliptic.P521()} {
		for range 8 { // both parities of y, with high probability
			k, err := ecdsa.GenerateKey(c, rand.Reader)
			if err != nil {
				t.Fatal(err)
			}
			keys = append(keys, &k.PublicKey)
		}
	}
	pub, _, _ := ed25519.GenerateKey(rand.Reader)
	keys = append(keys, pub)
	for _, pub := range keys {
		did, err := KeyDID(pub)
		if err != nil {
			t.Fatalf("KeyDID(%T) = %v", pub, err)
		}
		k, err := r.Resolve(context.Background(), did)
		if err != nil {
			t.Fatalf("Resolve(%q) = %v", did, err)
		}
		var raw any
		if err := jwk.Export(k, &raw); err != nil {
			t.Fatal(err)
		}
		if !pub.(interface{ Equal(crypto.PublicKey) bool }).Equal(raw) {
			t.Errorf("Resolve(KeyDID(k)) = %v, want k", raw)
		}
		jk, _ := jwk.Import(pub)
		jdid, err := JWKDID(jk)
		if err != nil {
			t.Fatalf("JWKDID(%T) = %v", pub, err)
		}
		k2, err := r.Resolve(context.Background(), jdid+"#0")
		if err != nil {
			t.Fatalf("Resolve(%q) = %v", jdid, err)
		}
		raw = nil
		if err := jwk.Export(k2, &raw); err != nil {
			t.Fatal(err)
		}
		if !pub.(interface{ Equal(crypto.PublicKey) bool }).Equal(raw) {
			t.Errorf("Resolve(JWKDID(k)) = %v, want k", raw)
		}
	}
}

func TestJWKDIDIgnoresOptionalMembers(t *testing.T) {
	pub, _, _ := ed25519.GenerateKey(rand.Reader)
	plain, _ := jwk.Import(pub)
	decorated, _ := jwk.Import(pub)
	for name, v := range map[string]any{"kid": "k1", "alg": "EdDSA", "use": "sig"} {
		if err := decorated.Set(name, v); err != nil {
			t.Fatal(err)
		}
	}
	a, errA := JWKDID(plain)
	b, errB := JWKDID(decorated)
	if errA != nil || errB != nil || a != b {
		t.Errorf("JWKDID(with kid, alg, use) = %q, %v, want %q (JWKDID without them)", b, errB, a)
	}
	want := `{"crv":"Ed25519","kty":"OKP","x":"` + base64.RawURLEncoding.EncodeToString(pub) + `"}`
	if got := string(b64(t, strings.TrimPrefix(a, "did:jwk:"))); got != want {
		t.Errorf("JWKDID(Ed25519 key) encodes %s, want %s", got, want)
	}
}

func TestRSAJWK(t *testing.T) {
	r := NewOfflineResolver()
	for _, tc := range []struct {
		bits int
		want error
	}{{2048, nil}, {1024, ErrInvalid}} {
		k, err := rsa.GenerateKey(rand.Reader, tc.bits)
		if err != nil {
			t.Fatal(err)
		}
		jk, _ := jwk.Import(&k.PublicKey)
		body := `{"e":"AQAB","kty":"RSA","n":"` + base64.RawURLEncoding.EncodeToString(k.N.Bytes()) + `"}`
		did := "did:jwk:" + base64.RawURLEncoding.EncodeToString([]byte(body))
		_, err = r.Resolve(context.Background(), did)
		if !errors.Is(err, tc.want) {
			t.Errorf("Resolve(did:jwk of RSA-%d) = %v, want %v", tc.bits, err, tc.want)
		}
		if tc.want == nil {
			if got, err := JWKDID(jk); err != nil || got != did {
				t.Errorf("JWKDID(RSA-%d) = %q, %v, want %q", tc.bits, got, err, did)
			}
		}
	}
}

// jwkDID encodes a JSON text as did:jwk, for negative cases.
func jwkDID(json string) string {
	return "did:jwk:" + base64.RawURLEncoding.EncodeToString([]byte(json))
}

// keyDID encodes raw multicodec bytes as did:key, for negative cases.
func keyDID(raw []byte) string { return "did:key:z" + multibase.Base58Encode(raw) }

func TestResolveRefuses(t *testing.T) {
	ed := strings.TrimPrefix(ed25519Vectors[0].did, "did:key:")
	p256 := `"kty":"EC","crv":"P-256","x":"igrFmi0whuihKnj9R3Om1SoMph72wUGeFaBbzG2vzns","y":"efsX5b10x8yjyrj4ny3pGfLcY7Xby1KzgqOdqnsrJIM"`
	ecPoint := append([]byte{0x80, 0x24, 0x02}, bytes.Repeat([]byte{0xff}, 32)...) // x > p
	ed25519Priv := append([]byte{0x80, 0x26}, make([]byte, 32)...)                 // 0x1300 ed25519-priv
	tests := []struct {
		name, in string
		want     error
	}{
		{"empty", "", ErrInvalid},
		{"no prefix", "key:" + ed, ErrInvalid},
		{"upper-case method", "did:KEY:" + ed, ErrInvalid},
		{"no method-specific id", "did:key:", ErrInvalid},
		{"path", "did:key:" + ed + "/path", ErrInvalid},
		{"query", "did:key:" + ed + "?versionId=1", ErrInvalid},
		{"empty fragment", "did:key:" + ed + "#", ErrInvalid},
		{"too long", "did:jwk:" + strings.Repeat("A", MaxLength), ErrInvalid},
		{"unknown method", "did:example:123", ErrUnsupportedMethod},
		{"did:web not configured", "did:web:example.com", ErrUnsupportedMethod},
		{"did:key not base58btc", "did:key:m" + ed[1:], ErrInvalid},
		{"did:key bad base58", "did:key:z0OIl", ErrInvalid},
		{"did:key other fragment", "did:key:" + ed + "#key-1", ErrNotFound},
		{"did:key X25519 fragment", "did:key:" + ed + "#z6LShs9GGnqk85isEBzzshkuVWrVKsRp24GnDuHk8QWkARMW", ErrNotFound},
		{"did:key X25519", "did:key:z6LShs9GGnqk85isEBzzshkuVWrVKsRp24GnDuHk8QWkARMW", ErrUnsupportedKey},
		{"did:key secp256k1", "did:key:zQ3shokFTS3brHcDQrn82RUDfCZESWL1ZdCEJwekUDPQiYBme", ErrUnsupportedKey},
		{"did:key Ed25519 private", keyDID(ed25519Priv), ErrPrivateKey},
		{"did:key Ed25519 short", keyDID([]byte{0xed, 0x01, 1, 2, 3}), ErrInvalid},
		{"did:key P-256 uncompressed", keyDID(append([]byte{0x80, 0x24, 0x04}, make([]byte, 64)...)), ErrInvalid},
		{"did:key P-256 not on curve", keyDID(ecPoint), ErrInvalid},
		{"did:key non-minimal varint", keyDID(append([]byte{0xed, 0x81, 0x00}, make([]byte, 32)...)), ErrInvalid},
		{"did:key truncated varint", keyDID([]byte{0xed}), ErrInvalid},
		{"did:key too long", "did:key:z" + strings.Repeat("2", 200), ErrUnsupportedKey},
		{"did:jwk not base64url", "did:jwk:eyJ+", ErrInvalid},
		{"did:jwk padded", "did:jwk:" + base64.URLEncoding.EncodeToString([]byte(`{"kty":"EC"}`)) + "=", ErrInvalid},
		{"did:jwk not an object", jwkDID(`[1]`), ErrInvalid},
		{"did:jwk other fragment", specJWKP256 + "#1", ErrNotFound},
		{"did:jwk private EC", jwkDID(`{` + p256 + `,"d":"gPh-VvVS8MbvKQ9LSVVmfnxnKjHn4Tqj0bmbpehRlpc"}`), ErrPrivateKey},
		{"did:jwk symmetric", jwkDID(`{"kty":"oct","k":"c2VjcmV0"}`), ErrPrivateKey},
		{"did:jwk use enc", jwkDID(`{` + p256 + `,"use":"enc"}`), ErrUnsupportedKey},
		{"did:jwk point not on curve", jwkDID(`{"kty":"EC","crv":"P-256","x":"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA","y":"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"}`), ErrInvalid},
		{"did:jwk unknown kty", jwkDID(`{"kty":"XYZ"}`), ErrInvalid},
	}
	r := NewOfflineResolver()
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			k, err := r.Resolve(context.Background(), tc.in)
			if !errors.Is(err, tc.want) {
				t.Errorf("Resolve(%.80q) = %v, %v, want %v", tc.in, k, err, tc.want)
			}
		})
	}
}

func TestResolveKeyForIssuer(t *testing.T) {
	r := NewOfflineResolver()
	a, b := ed25519Vectors[0].did, ed25519Vectors[1].did
	frag := "#" + strings.TrimPrefix(a, "did:key:")
	tests := []struct {
		name, issuer, kid string
		want              error
	}{
		{"absolute kid", a, a + frag, nil},
		{"relative kid", a, frag, nil},
		{"no kid", a, "", nil},
		{"kid of another DID", a, b + "#" + strings.TrimPrefix(b, "did:key:"), ErrNotFound},
		{"issuer not a DID", "https://issuer.example", a + frag, ErrInvalid},
		{"issuer with fragment", a + frag, "", ErrInvalid},
		{"kid not a DID URL", a, "key-1", ErrInvalid},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			pub, err := r.ResolveKey(context.Background(), tc.issuer, tc.kid)
			if !errors.Is(err, tc.want) {
				t.Fatalf("ResolveKey(%q, %q) = %v, %v, want %v", tc.issuer, tc.kid, pub, err, tc.want)
			}
			if err == nil {
				if _, ok := pub.(ed25519.PublicKey); !ok {
					t.Errorf("ResolveKey(%q, %q) = %T, want ed25519.PublicKey", tc.issuer, tc.kid, pub)
				}
			}
		})
	}
}

func TestKeyDIDRefuses(t *testing.T) {
	ec, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	_, edPriv, _ := ed25519.GenerateKey(rand.Reader)
	privJWK, _ := jwk.Import(ec)
	rsaKey, _ := rsa.GenerateKey(rand.Reader, 2048)
	tests := []struct {
		name string
		in   crypto.PublicKey
		want error
	}{
		{"ECDSA private", ec, ErrPrivateKey},
		{"Ed25519 private", edPriv, ErrPrivateKey},
		{"private JWK", privJWK, ErrPrivateKey},
		{"short Ed25519", ed25519.PublicKey{1, 2, 3}, ErrInvalid},
		{"RSA", &rsaKey.PublicKey, ErrUnsupportedKey},
		{"P-224", func() crypto.PublicKey { k, _ := ecdsa.GenerateKey(elliptic.P224(), rand.Reader); return &k.PublicKey }(), ErrUnsupportedKey},
		{"nil", nil, ErrUnsupportedKey},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got, err := KeyDID(tc.in); !errors.Is(err, tc.want) {
				t.Errorf("KeyDID(%T) = %q, %v, want %v", tc.in, got, err, tc.want)
			}
		})
	}
	if got, err := JWKDID(privJWK); !errors.Is(err, ErrPrivateKey) {
		t.Errorf("JWKDID(private key) = %q, %v, want ErrPrivateKey", got, err)
	}
	if got, err := JWKDID(nil); !errors.Is(err, ErrInvalid) {
		t.Errorf("JWKDID(nil) = %q, %v, want ErrInvalid", got, err)
	}
}

func TestParse(t *testing.T) {
	tests := []struct {
		in   string
		want URL
	}{
		{"did:key:z6Mk", URL{Method: "key", ID: "z6Mk"}},
		{"did:web:example.com:user:alice#key-1", URL{Method: "web", ID: "example.com:user:alice", Fragment: "key-1"}},
		{"did:web:localhost%3A8443", URL{Method: "web", ID: "localhost%3A8443"}},
	}
	for _, tc := range tests {
		got, err := Parse(tc.in)
		if err != nil || got != tc.want {
			t.Errorf("Parse(%q) = %+v, %v, want %+v", tc.in, got, err, tc.want)
		}
		if s := got.String(); s != tc.in {
			t.Errorf("Parse(%q).String() = %q, want the input", tc.in, s)
		}
	}
	for _, in := range []string{"did:web:a:", "did:web:a%zz", "did:web:a b", "did:key:z#a#b", "did::x"} {
		if got, err := Parse(in); !errors.Is(err, ErrInvalid) {
			t.Errorf("Parse(%q) = %+v, %v, want ErrInvalid", in, got, err)
		}
	}
}

func TestBase58(t *testing.T) {
	tests := []struct {
		hex, b58 string
	}{
		// From the base58 IETF draft (draft-msporny-base58) and Bitcoin.
		{"48656c6c6f20576f726c6421", "2NEpo7TZRRrLZSi2U"},
		{"54686520717569636b2062726f776e20666f78206a756d7073206f76657220746865206c617a7920646f672e", "USm3fpXnKG5EUBx2ndxBDMPVciP5hGey2Jh4NDv6gmeo1LkMeiKrLJUUBk6Z"},
		{"0000287fb4cd", "11233QC4"},
		{"00", "1"},
		{"ff", "5Q"},
	}
	for _, tc := range tests {
		raw, _ := hex.DecodeString(tc.hex)
		if got := multibase.Base58Encode(raw); got != tc.b58 {
			t.Errorf("multibase.Base58Encode(%s) = %q, want %q", tc.hex, got, tc.b58)
		}
		got, err := multibase.Base58Decode(tc.b58)
		if err != nil || hex.EncodeToString(got) != tc.hex {
			t.Errorf("multibase.Base58Decode(%q) = %x, %v, want %s", tc.b58, got, err, tc.hex)
		}
	}
	for _, in := range []string{"", "0", "O", "I", "l", "abc+"} {
		if got, err := multibase.Base58Decode(in); err == nil {
			t.Errorf("multibase.Base58Decode(%q) = %x, want an error", in, got)
		}
	}
}
