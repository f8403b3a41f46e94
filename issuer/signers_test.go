package issuer

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"math/big"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/lestrrat-go/jwx/v3/jwa"
	"github.com/lestrrat-go/jwx/v3/jwk"
	"github.com/lestrrat-go/jwx/v3/jws"

	"github.com/sanad-id/sanad/credential"
	"github.com/sanad-id/sanad/credential/jwtvc"
	"github.com/sanad-id/sanad/keys"
	"github.com/sanad-id/sanad/storage/storagetest"
)

// ksService starts a key service with the default credential signing set
// (ES256, EdDSA) on SQLite, with a settable clock.
func ksService(t *testing.T) (*keys.Service, *time.Time) {
	t.Helper()
	master, err := keys.GenerateMasterKey()
	if err != nil {
		t.Fatal(err)
	}
	backend, err := keys.NewSoftwareBackend(master)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	s, err := keys.New(context.Background(), keys.Config{
		Store:   storagetest.OpenSQLite(t),
		Backend: backend,
		Sets:    []keys.SetConfig{keys.CredentialSigningSet("")},
		Now:     func() time.Time { return now },
	})
	if err != nil {
		t.Fatalf("keys.New() = %v", err)
	}
	return s, &now
}

// ksPublic returns the published key with kid.
func ksPublic(t *testing.T, ks *KeySigners, kid string) crypto.PublicKey {
	t.Helper()
	set, err := ks.JWKS(context.Background())
	if err != nil {
		t.Fatalf("JWKS() = %v", err)
	}
	k, ok := set.LookupKeyID(kid)
	if !ok {
		t.Fatalf("JWKS() has no key %q", kid)
	}
	var raw any
	if err := jwk.Export(k, &raw); err != nil {
		t.Fatal(err)
	}
	return raw
}

func TestKeySigners(t *testing.T) {
	svc, _ := ksService(t)
	ks := NewKeySigners(svc, "")
	if got, want := ks.Algs(), []string{"ES256", "EdDSA"}; !slices.Equal(got, want) {
		t.Errorf("Algs() = %v, want %v", got, want)
	}
	set, err := ks.JWKS(context.Background())
	if err != nil || set.Len() != 2 {
		t.Fatalf("JWKS() = %v keys, %v, want 2", set.Len(), err)
	}
	ctx := context.Background()
	for _, alg := range []string{"ES256", "EdDSA"} {
		t.Run(alg, func(t *testing.T) {
			s, err := ks.Signer(alg)
			if err != nil {
				t.Fatalf("Signer(%s) = %v", alg, err)
			}
			if s.Alg() != alg {
				t.Errorf("Signer(%s).Alg() = %s", alg, s.Alg())
			}
			pub := ksPublic(t, ks, s.KeyID())

			jwt, err := s.SignJWS(ctx, []byte(`{"a":1}`), map[string]any{"typ": "JWT"})
			if err != nil {
				t.Fatalf("SignJWS() = %v", err)
			}
			a, _ := jwa.LookupSignatureAlgorithm(alg)
			payload, err := jws.VerifyCompactFast(pub, []byte(jwt), a)
			if err != nil || string(payload) != `{"a":1}` {
				t.Errorf("SignJWS() does not verify with the JWKS key %s: %v", s.KeyID(), err)
			}
			raw, _ := base64.RawURLEncoding.DecodeString(strings.Split(jwt, ".")[0])
			var h map[string]any
			_ = json.Unmarshal(raw, &h)
			if h["kid"] != s.KeyID() || h["alg"] != alg || h["typ"] != "JWT" {
				t.Errorf("SignJWS() header = %v, want kid %s, alg %s, typ JWT", h, s.KeyID(), alg)
			}

			msg := []byte("message")
			sig, err := s.Sign(ctx, msg)
			if err != nil {
				t.Fatalf("Sign() = %v", err)
			}
			if !ksVerifyRaw(pub, msg, sig) {
				t.Errorf("Sign() does not verify with the JWKS key %s", s.KeyID())
			}
		})
	}
	if s, err := ks.Signer("RS256"); err == nil {
		t.Errorf("Signer(RS256) = %v, want an error (no RS256 key)", s)
	}
	s, _ := ks.Signer("ES256")
	if _, err := s.SignJWS(ctx, []byte(`{}`), map[string]any{"kid": "forged"}); err == nil {
		t.Error("SignJWS(header with kid) succeeded, want an error: kid belongs to the key")
	}
	if got := NewKeySigners(svc, "no-such-set").Algs(); len(got) != 0 {
		t.Errorf("NewKeySigners(unknown purpose).Algs() = %v, want none", got)
	}
}

// TestKeySignersRotation: a Signer made before a rotation refuses to Sign
// with the new key under the old KeyID; a new Signer names the new key.
func TestKeySignersRotation(t *testing.T) {
	svc, now := ksService(t)
	ks := NewKeySigners(svc, keys.PurposeCredentialSigning)
	ctx := context.Background()
	before, err := ks.Signer("ES256")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Rotate(ctx, keys.PurposeCredentialSigning, 0); err != nil {
		t.Fatal(err)
	}
	*now = now.Add(time.Second)
	if sig, err := before.Sign(ctx, []byte("m")); err == nil {
		t.Errorf("Sign() after a rotation = %x, want an error", sig)
	}
	// SignJWS is consistent on its own: the header names the key that signed.
	jwt, err := before.SignJWS(ctx, []byte(`{}`), nil)
	if err != nil {
		t.Fatalf("SignJWS() after a rotation = %v", err)
	}
	after, err := ks.Signer("ES256")
	if err != nil {
		t.Fatal(err)
	}
	if after.KeyID() == before.KeyID() {
		t.Fatalf("Signer() after a rotation has the old KeyID %s", before.KeyID())
	}
	raw, _ := base64.RawURLEncoding.DecodeString(strings.Split(jwt, ".")[0])
	if !strings.Contains(string(raw), after.KeyID()) {
		t.Errorf("SignJWS() after a rotation header = %s, want kid %s", raw, after.KeyID())
	}
	if _, err := after.Sign(ctx, []byte("m")); err != nil {
		t.Errorf("new Signer().Sign() = %v", err)
	}
}

// TestKeySignersIssueJWTVC issues a jwt_vc_json with the keys package and
// verifies it against the published JWKS.
func TestKeySignersIssueJWTVC(t *testing.T) {
	svc, now := ksService(t)
	ks := NewKeySigners(svc, "")
	s, err := ks.Signer("ES256")
	if err != nil {
		t.Fatal(err)
	}
	in := jvfInput(t, s, &HolderKey{JWK: newPfKey(t, "ES256").pub})
	in.IssuedAt, in.ValidFrom = *now, *now
	out, err := jwtVCFormat{}.Issue(context.Background(), in)
	if err != nil {
		t.Fatalf("Issue() = %v", err)
	}
	resolver := credential.KeyResolverFunc(func(_ context.Context, iss, kid string) (crypto.PublicKey, error) {
		if iss != in.Issuer {
			return nil, errors.New("unknown issuer")
		}
		return ksPublic(t, ks, kid), nil
	})
	if _, err := jwtvc.Verify(context.Background(), out.(string), jwtvc.VerifyOptions{Keys: resolver, Algs: []string{"ES256"}, Now: func() time.Time { return *now }}); err != nil {
		t.Errorf("jwtvc.Verify(Issue() with KeySigners) = %v", err)
	}
}

// ksVerifyRaw checks a JOSE-form signature (ES256 r||s, Ed25519).
func ksVerifyRaw(pub crypto.PublicKey, msg, sig []byte) bool {
	switch k := pub.(type) {
	case *ecdsa.PublicKey:
		if len(sig) != 64 {
			return false
		}
		d := sha256.Sum256(msg)
		return ecdsa.Verify(k, d[:], new(big.Int).SetBytes(sig[:32]), new(big.Int).SetBytes(sig[32:]))
	case ed25519.PublicKey:
		return ed25519.Verify(k, msg, sig)
	}
	return false
}
