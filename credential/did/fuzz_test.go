package did

import (
	"github.com/sanad-id/sanad/credential/multibase"

	"context"
	"crypto"
	"errors"
	"strings"
	"testing"

	"github.com/lestrrat-go/jwx/v3/jwk"
)

// FuzzResolve feeds arbitrary DID URLs to the offline resolver: it must
// never panic, every error must be one of the package's, and a key that
// comes out must be public and give back a DID that resolves to it.
func FuzzResolve(f *testing.F) {
	for _, v := range ed25519Vectors {
		f.Add(v.did)
		f.Add(v.did + "#" + strings.TrimPrefix(v.did, "did:key:"))
	}
	for _, v := range nistVectors {
		f.Add(v.did)
	}
	f.Add(specJWKP256)
	f.Add(specJWKP256 + "#0")
	f.Add(specJWKX25519)
	f.Add(jwkDID(`{"kty":"EC","crv":"P-256","x":"AA","y":"AA","d":"AA"}`))
	f.Add(jwkDID(`{"kty":"oct","k":"AA"}`))
	f.Add("did:key:z")
	f.Add("did:key:z1111")
	f.Add("did:web:example.com#key-1")
	f.Add("did:jwk:e30")
	f.Add("did:key:zQ3shokFTS3brHcDQrn82RUDfCZESWL1ZdCEJwekUDPQiYBme")
	r := NewOfflineResolver()
	f.Fuzz(func(t *testing.T, in string) {
		k, err := r.Resolve(context.Background(), in)
		if err != nil {
			if !errors.Is(err, ErrInvalid) && !errors.Is(err, ErrUnsupportedMethod) && !errors.Is(err, ErrUnsupportedKey) &&
				!errors.Is(err, ErrPrivateKey) && !errors.Is(err, ErrNotFound) {
				t.Fatalf("Resolve(%q) = %v, not one of the package's errors", in, err)
			}
			return
		}
		if private, err := jwk.IsPrivateKey(k); err != nil || private {
			t.Fatalf("Resolve(%q) returned a private key", in)
		}
		var did string
		if strings.HasPrefix(in, "did:key:") {
			did, err = KeyDID(k)
		} else {
			did, err = JWKDID(k)
		}
		if err != nil {
			t.Fatalf("DID of Resolve(%q) = %v", in, err)
		}
		k2, err := r.Resolve(context.Background(), did)
		if err != nil {
			t.Fatalf("Resolve(%q) (DID of Resolve(%q)) = %v", did, in, err)
		}
		t1, _ := k.Thumbprint(crypto.SHA256)
		t2, _ := k2.Thumbprint(crypto.SHA256)
		if string(t1) != string(t2) {
			t.Fatalf("Resolve(%q) and Resolve(%q) give different keys", in, did)
		}
	})
}

// FuzzBase58 checks that decoding never panics and that encode(decode(s))
// gives s back.
func FuzzBase58(f *testing.F) {
	for _, s := range []string{"1", "2NEpo7TZRRrLZSi2U", "11233QC4", "z", "0", strings.Repeat("z", 100)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if len(s) > 256 {
			return
		}
		b, err := multibase.Base58Decode(s)
		if err != nil {
			return
		}
		if got := multibase.Base58Encode(b); got != s {
			t.Fatalf("multibase.Base58Encode(multibase.Base58Decode(%q)) = %q", s, got)
		}
	})
}
