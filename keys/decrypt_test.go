package keys

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/lestrrat-go/jwx/v3/jwa"
	"github.com/lestrrat-go/jwx/v3/jwe"
	"github.com/lestrrat-go/jwx/v3/jwk"

	"github.com/sanad-id/sanad/storage"
)

// encryptTo encrypts plaintext to a published key with jwx, as a relying
// party would.
func encryptTo(t *testing.T, pub jwk.Key, alg jwa.KeyEncryptionAlgorithm, enc jwa.ContentEncryptionAlgorithm, withKID bool, extra map[string]any) string {
	t.Helper()
	pub, err := pub.PublicKey()
	if err != nil {
		t.Fatal(err)
	}
	if !withKID {
		_ = pub.Remove(jwk.KeyIDKey)
	}
	// jwx derives ECDH-ES keys from apu and apv only when they are
	// per-recipient headers; in compact form those end up protected too.
	h, rh := jwe.NewHeaders(), jwe.NewHeaders()
	for name, v := range extra {
		dst := h
		if name == jwe.AgreementPartyUInfoKey || name == jwe.AgreementPartyVInfoKey {
			dst = rh
		}
		if err := dst.Set(name, v); err != nil {
			t.Fatal(err)
		}
	}
	opts := []jwe.EncryptOption{jwe.WithKey(alg, pub, jwe.WithPerRecipientHeaders(rh)), jwe.WithContentEncryption(enc), jwe.WithCompact()}
	if len(h.Keys()) > 0 {
		opts = append(opts, jwe.WithProtectedHeaders(h))
	}
	out, err := jwe.Encrypt([]byte("request object"), opts...)
	if err != nil {
		t.Fatalf("jwe.Encrypt(%s, %s) = %v", alg, enc, err)
	}
	return string(out)
}

func encKey(t *testing.T, s *Service, alg string) jwk.Key {
	t.Helper()
	set, err := s.PublicJWKS(context.Background(), PurposeOIDCEncryption)
	if err != nil {
		t.Fatal(err)
	}
	var found jwk.Key
	for i := range set.Len() {
		k, _ := set.Key(i)
		if a, ok := k.Algorithm(); ok && a.String() == alg {
			found = k // the newest published one: keys are oldest first
		}
	}
	if found == nil {
		t.Fatalf("no published %s key", alg)
	}
	return found
}

func TestDecrypt(t *testing.T) {
	forEachStore(t, func(t *testing.T, open func(t *testing.T) storage.Durable) {
		e := newEnv(t, open, allAlgSets())
		s := e.service(t)
		ctx := context.Background()
		allowed := []string{AlgRSAOAEP256, AlgECDHES}
		type row struct {
			name    string
			alg     jwa.KeyEncryptionAlgorithm
			enc     jwa.ContentEncryptionAlgorithm
			withKID bool
			extra   map[string]any
		}
		rows := []row{
			{"RSA-OAEP-256 A256GCM", jwa.RSA_OAEP_256(), jwa.A256GCM(), true, nil},
			{"RSA-OAEP-256 A128CBC-HS256 no kid", jwa.RSA_OAEP_256(), jwa.A128CBC_HS256(), false, nil},
			{"ECDH-ES A256GCM", jwa.ECDH_ES(), jwa.A256GCM(), true, nil},
			{"ECDH-ES A128GCM no kid", jwa.ECDH_ES(), jwa.A128GCM(), false, nil},
			{"ECDH-ES A256CBC-HS512 (two KDF rounds)", jwa.ECDH_ES(), jwa.A256CBC_HS512(), true, nil},
			{"ECDH-ES with apu and apv", jwa.ECDH_ES(), jwa.A256GCM(), true, map[string]any{"apu": []byte("sender"), "apv": []byte("sanad")}},
		}
		check := func(t *testing.T, r row) {
			t.Helper()
			tok := encryptTo(t, encKey(t, s, r.alg.String()), r.alg, r.enc, r.withKID, r.extra)
			h := tokenHeader(t, tok)
			if _, hasKID := h["kid"]; hasKID != r.withKID {
				t.Fatalf("test token header %v: kid present = %v, want %v", h, hasKID, r.withKID)
			}
			for name := range r.extra {
				if _, ok := h[name]; !ok {
					t.Fatalf("test token header %v lacks %s", h, name)
				}
			}
			got, err := s.Decrypt(ctx, PurposeOIDCEncryption, tok, allowed...)
			if err != nil {
				t.Fatalf("Decrypt(%s) = %v", r.name, err)
			}
			if string(got) != "request object" {
				t.Errorf("Decrypt(%s) = %q, want %q", r.name, got, "request object")
			}
		}
		for _, r := range rows {
			t.Run(r.name, func(t *testing.T) { check(t, r) })
		}

		// After a rotation, senders with a cached JWKS still reach us.
		old := map[string]string{}
		for _, r := range rows[:3] {
			old[r.name] = encryptTo(t, encKey(t, s, r.alg.String()), r.alg, r.enc, r.withKID, nil)
		}
		if _, err := s.Rotate(ctx, PurposeOIDCEncryption, 0); err != nil {
			t.Fatal(err)
		}
		for name, tok := range old {
			if _, err := s.Decrypt(ctx, PurposeOIDCEncryption, tok, allowed...); err != nil {
				t.Errorf("Decrypt(%s to the retired key) = %v", name, err)
			}
		}
		for _, r := range rows {
			t.Run("rotated "+r.name, func(t *testing.T) { check(t, r) })
		}
	})
}

func TestDecryptRejects(t *testing.T) {
	forEachStore(t, func(t *testing.T, open func(t *testing.T) storage.Durable) {
		s := newEnv(t, open, allAlgSets()).service(t)
		ctx := context.Background()
		rsaKey := encKey(t, s, AlgRSAOAEP256)
		ecKey := encKey(t, s, AlgECDHES)
		good := encryptTo(t, ecKey, jwa.ECDH_ES(), jwa.A256GCM(), true, nil)
		parts := strings.Split(good, ".")
		flipped := func(i int) string {
			p := bytes.Clone([]byte(parts[i]))
			if p[2] == 'A' {
				p[2] = 'B'
			} else {
				p[2] = 'A'
			}
			q := append([]string(nil), parts...)
			q[i] = string(p)
			return strings.Join(q, ".")
		}
		// A key with the same kid that Sanad does not hold.
		foreign := newEnv(t, open, allAlgSets()).service(t)
		foreignKey := encKey(t, foreign, AlgECDHES)
		kid, _ := ecKey.KeyID()
		_ = foreignKey.Set(jwk.KeyIDKey, kid)

		all := []string{AlgRSAOAEP256, AlgECDHES, "RSA-OAEP", "RSA1_5", "dir", "ECDH-ES+A128KW"}
		for _, tc := range []struct {
			name    string
			token   string
			allowed []string
			why     string
		}{
			{"alg not allowed", good, []string{AlgRSAOAEP256}, "not allowed"},
			{"RSA-OAEP (SHA-1) to the RSA key", encryptTo(t, rsaKey, jwa.RSA_OAEP(), jwa.A256GCM(), true, nil), all, "not allowed"},
			{"RSA1_5 to the RSA key", encryptTo(t, rsaKey, jwa.RSA1_5(), jwa.A256GCM(), true, nil), all, "not allowed"},
			{"ECDH-ES+A128KW to the EC key", encryptTo(t, ecKey, jwa.ECDH_ES_A128KW(), jwa.A256GCM(), true, nil), all, "not allowed"},
			{"RSA alg with the EC key's kid", encryptTo(t, rsaKey, jwa.RSA_OAEP_256(), jwa.A256GCM(), false, map[string]any{"kid": kid}), all, "does not match key"},
			{"encrypted to another key with our kid", encryptTo(t, foreignKey, jwa.ECDH_ES(), jwa.A256GCM(), true, nil), all, "cannot decrypt"},
			{"unknown kid", encryptTo(t, ecKey, jwa.ECDH_ES(), jwa.A256GCM(), false, map[string]any{"kid": "nope"}), all, "no key for kid"},
			{"compressed", encryptTo(t, ecKey, jwa.ECDH_ES(), jwa.A256GCM(), true, map[string]any{"zip": jwa.Deflate()}), all, "compressed"},
			{"crit", encryptTo(t, ecKey, jwa.ECDH_ES(), jwa.A256GCM(), true, map[string]any{"crit": []string{"x"}, "x": 1}), all, "crit"},
			{"tampered ciphertext", flipped(3), all, "cannot decrypt"},
			{"tampered tag", flipped(4), all, "cannot decrypt"},
			{"tampered iv", flipped(2), all, "cannot decrypt"},
			{"tampered header", flipped(0), all, ""},
			{"four parts", strings.Join(parts[:4], "."), all, "not a compact JWE"},
			{"JWS", "a.b.c", all, "not a compact JWE"},
			{"empty", "", all, "not a compact JWE"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				got, err := s.Decrypt(ctx, PurposeOIDCEncryption, tc.token, tc.allowed...)
				if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), tc.why) {
					t.Errorf("Decrypt(%s) = %q, %v; want ErrInvalid (%s)", tc.name, got, err, tc.why)
				}
			})
		}
		if _, err := s.Decrypt(ctx, PurposeOIDCSigning, good, AlgECDHES); !errors.Is(err, ErrUnsupportedAlg) {
			t.Errorf("Decrypt(signing purpose) = %v, want ErrUnsupportedAlg", err)
		}
		if _, err := s.Decrypt(ctx, PurposeOIDCEncryption, good); err == nil || errors.Is(err, ErrInvalid) {
			t.Errorf("Decrypt(no allowed algs) = %v, want a usage error", err)
		}
		if _, err := s.Decrypt(ctx, PurposeOIDCEncryption, good, AlgECDHES); err != nil {
			t.Errorf("Decrypt(valid) = %v", err)
		}
	})
}

// TestConcatKDF checks the key derivation against RFC 7518, appendix C.
func TestConcatKDF(t *testing.T) {
	z := []byte{158, 86, 217, 29, 129, 113, 53, 211, 114, 131, 66, 131, 191, 132, 38, 156, 251, 49, 110, 163, 218, 128, 106, 72, 246, 218, 167, 121, 140, 254, 144, 196}
	want := []byte{86, 170, 141, 234, 248, 35, 109, 32, 92, 34, 40, 205, 113, 167, 16, 26}
	got := concatKDF(z, "A128GCM", []byte("Alice"), []byte("Bob"), 16)
	if !bytes.Equal(got, want) {
		t.Errorf("concatKDF(RFC 7518 C) = %v, want %v", got, want)
	}
}
