package keys

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/lestrrat-go/jwx/v3/jwa"
	"github.com/lestrrat-go/jwx/v3/jwe"
	"github.com/lestrrat-go/jwx/v3/jwk"

	"github.com/sanad-id/sanad/storage/storagetest"
)

// fuzzService starts a Service with ES256, EdDSA and ECDH-ES keys on SQLite.
func fuzzService(f *testing.F) *Service {
	f.Helper()
	ctx := context.Background()
	s, err := New(ctx, Config{Store: storagetest.OpenSQLite(f), Backend: mustBackend(f, mustMasterKey(f)), Sets: fastSets()})
	if err != nil {
		f.Fatal(err)
	}
	return s
}

// checkRejection fails unless err is nil or a rejection.
func checkRejection(t *testing.T, err error) {
	if err != nil && !errors.Is(err, ErrInvalid) {
		t.Errorf("error %v is not ErrInvalid", err)
	}
}

func FuzzVerify(f *testing.F) {
	s := fuzzService(f)
	ctx := context.Background()
	es, err := s.SignJWT(ctx, PurposeOIDCSigning, AlgES256, map[string]any{"sub": "1"}, nil)
	if err != nil {
		f.Fatal(err)
	}
	ed, err := s.SignJWS(ctx, PurposeOIDCSigning, AlgEdDSA, []byte("not json"), Header{"typ": "x"})
	if err != nil {
		f.Fatal(err)
	}
	parts := strings.Split(es, ".")
	for _, seed := range []string{
		es, ed, "", ".", "..", "...", parts[0] + ".." + parts[2], parts[0] + "." + parts[1] + ".",
		"eyJhbGciOiJub25lIn0.e30.", "eyJhbGciOiJIUzI1NiIsImtpZCI6IngifQ.e30.AAAA",
		es[:len(es)-3], es + "A", "e30.e30.e30", "bnVsbA.e30.AAAA", "W10.e30.AAAA",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, token string) {
		payload, err := s.Verify(ctx, PurposeOIDCSigning, token, AlgES256, AlgEdDSA)
		checkRejection(t, err)
		// Only what Sanad signed verifies. (Equivalent encodings of a signed
		// token, such as non-canonical base64, may verify too: they carry
		// the same payload.)
		if err == nil && string(payload) != `{"sub":"1"}` && string(payload) != "not json" {
			t.Errorf("Verify(%q) = %q: accepted a payload Sanad did not sign", token, payload)
		}
	})
}

func FuzzDecrypt(f *testing.F) {
	s := fuzzService(f)
	ctx := context.Background()
	set, err := s.PublicJWKS(ctx, PurposeOIDCEncryption)
	if err != nil {
		f.Fatal(err)
	}
	pub, _ := set.Key(0)
	enc := func(enc jwa.ContentEncryptionAlgorithm, withKID bool) string {
		k, _ := pub.PublicKey()
		if !withKID {
			_ = k.Remove(jwk.KeyIDKey)
		}
		out, err := jwe.Encrypt([]byte("secret"), jwe.WithKey(jwa.ECDH_ES(), k), jwe.WithContentEncryption(enc), jwe.WithCompact())
		if err != nil {
			f.Fatal(err)
		}
		return string(out)
	}
	good := enc(jwa.A256GCM(), true)
	for _, seed := range []string{
		good, enc(jwa.A128CBC_HS256(), false), "", "....", "a.b.c.d.e", good[:len(good)-4],
		"eyJhbGciOiJFQ0RILUVTIiwiZW5jIjoiQTI1NkdDTSJ9....",
		"eyJhbGciOiJFQ0RILUVTIiwiZW5jIjoiQTI1NkdDTSIsImVwayI6e319....",
		"eyJhbGciOiJkaXIiLCJlbmMiOiJBMjU2R0NNIn0....",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, token string) {
		plaintext, err := s.Decrypt(ctx, PurposeOIDCEncryption, token, AlgECDHES)
		checkRejection(t, err)
		if err == nil && string(plaintext) != "secret" {
			t.Errorf("Decrypt(%q) = %q, want a rejection", token, plaintext)
		}
	})
}
