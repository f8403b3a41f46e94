package keys

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/lestrrat-go/jwx/v3/jwk"

	"github.com/sanad-id/sanad/storage"
)

// secretBytes returns byte strings that would reveal the private key if
// found at rest: its PKCS#8 encoding and its raw secret values.
func secretBytes(t *testing.T, priv any) map[string][]byte {
	t.Helper()
	der, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string][]byte{"PKCS#8": der}
	switch k := priv.(type) {
	case *ecdsa.PrivateKey:
		d, err := k.Bytes()
		if err != nil {
			t.Fatal(err)
		}
		out["EC scalar"] = d
	case ed25519.PrivateKey:
		out["Ed25519 seed"] = k.Seed()
	case *rsa.PrivateKey:
		out["RSA d"] = k.D.Bytes()
		out["RSA p"] = k.Primes[0].Bytes()
		out["RSA q"] = k.Primes[1].Bytes()
		out["PKCS#1"] = x509.MarshalPKCS1PrivateKey(k)
	}
	return out
}

func TestPrivateKeysSealedAtRest(t *testing.T) {
	forEachStore(t, func(t *testing.T, open func(t *testing.T) storage.Durable) {
		e := newEnv(t, open, allAlgSets())
		e.service(t)
		recs := records(t, e.store, "")
		if len(recs) != 7 {
			t.Fatalf("%d keys stored, want 7", len(recs))
		}
		for _, rec := range recs {
			t.Run(rec.Alg, func(t *testing.T) {
				priv, err := e.backend.open(rec)
				if err != nil {
					t.Fatalf("open(%s) = %v", rec.KID, err)
				}
				for name, secret := range secretBytes(t, priv) {
					if bytes.Contains(rec.Private, secret) || bytes.Contains(rec.Public, secret) {
						t.Errorf("the stored record of %s key %s contains its %s in clear", rec.Alg, rec.KID, name)
					}
				}
				for _, member := range []string{`"d"`, `"p"`, `"q"`, `"dp"`, `"dq"`, `"qi"`, `"k"`} {
					if strings.Contains(string(rec.Public), member) {
						t.Errorf("stored public JWK %s has private member %s", rec.Public, member)
					}
				}
			})
		}
	})
}

func TestSealedKeyOpens(t *testing.T) {
	forEachStore(t, func(t *testing.T, open func(t *testing.T) storage.Durable) {
		e := newEnv(t, open, fastSets())
		e.service(t)
		recs := records(t, e.store, PurposeOIDCSigning)
		var es, ed storage.KeyRecord
		for _, r := range recs {
			switch r.Alg {
			case AlgES256:
				es = r
			case AlgEdDSA:
				ed = r
			}
		}
		// A second ES256 key, to swap sealed material between like records.
		other := newEnv(t, open, fastSets())
		other.backend = e.backend
		other.service(t)
		var es2 storage.KeyRecord
		for _, r := range records(t, other.store, PurposeOIDCSigning) {
			if r.Alg == AlgES256 {
				es2 = r
			}
		}
		ctx := context.Background()
		wrongMaster := mustBackend(t, mustMasterKey(t))
		flip := func(r storage.KeyRecord, i int) storage.KeyRecord {
			r.Private = bytes.Clone(r.Private)
			r.Private[i] ^= 1
			return r
		}
		for _, tc := range []struct {
			name    string
			backend *SoftwareBackend
			rec     storage.KeyRecord
			wantErr string
		}{
			{"as stored", e.backend, es, ""},
			{"wrong master key", wrongMaster, es, "wrong master key"},
			{"private swapped from another ES256 key", e.backend, func() storage.KeyRecord { r := es; r.Private = es2.Private; return r }(), "wrong master key"},
			{"private swapped from the EdDSA key", e.backend, func() storage.KeyRecord { r := es; r.Private = ed.Private; return r }(), "wrong master key"},
			{"purpose changed", e.backend, func() storage.KeyRecord { r := es; r.Purpose = PurposeStatusList; return r }(), "wrong master key"},
			{"kid changed", e.backend, func() storage.KeyRecord { r := es; r.KID = es2.KID; return r }(), "wrong master key"},
			{"alg changed", e.backend, func() storage.KeyRecord { r := ed; r.Alg = AlgES256; return r }(), "wrong master key"},
			{"ciphertext bit flipped", e.backend, flip(es, len(es.Private)-20), "wrong master key"},
			{"tag bit flipped", e.backend, flip(es, len(es.Private)-1), "wrong master key"},
			{"nonce bit flipped", e.backend, flip(es, 3), "wrong master key"},
			{"unknown version", e.backend, flip(es, 0), "unknown sealed key format"},
			{"truncated", e.backend, func() storage.KeyRecord { r := es; r.Private = r.Private[:20]; return r }(), "unknown sealed key format"},
			{"other backend", e.backend, func() storage.KeyRecord { r := es; r.Backend = "pkcs11"; return r }(), `backend "pkcs11"`},
		} {
			t.Run(tc.name, func(t *testing.T) {
				signer, err := tc.backend.Signer(ctx, tc.rec)
				if tc.wantErr == "" {
					if err != nil {
						t.Fatalf("Signer(%s) = %v", tc.name, err)
					}
					if _, _, err := parsePublic(tc.rec); err != nil {
						t.Fatal(err)
					}
					return
				}
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Errorf("Signer(%s) = %v, %v; want error containing %q", tc.name, signer, err, tc.wantErr)
				}
			})
		}

		// A record whose public JWK was replaced by another key's does not load.
		pub2, err := jwk.ParseKey(es2.Public)
		if err != nil {
			t.Fatal(err)
		}
		if err := pub2.Set(jwk.KeyIDKey, es.KID); err != nil {
			t.Fatal(err)
		}
		swapped := es
		if swapped.Public, err = json.Marshal(pub2); err != nil {
			t.Fatal(err)
		}
		_, err = (&Service{backend: e.backend}).loadKey(ctx, fastSets()[0], swapped, nil, e.clock.Now())
		if err == nil || !strings.Contains(err.Error(), "does not match the published public key") {
			t.Errorf("loadKey(record with another key's public JWK) = %v, want a mismatch error", err)
		}
	})
}

func TestSoftwareBackendRefusesWrongUse(t *testing.T) {
	b := mustBackend(t, mustMasterKey(t))
	ctx := context.Background()
	for _, tc := range []struct {
		alg  string
		open func(rec storage.KeyRecord) error
	}{
		{AlgECDHES, func(rec storage.KeyRecord) error { _, err := b.Signer(ctx, rec); return err }},
		{AlgRSAOAEP256, func(rec storage.KeyRecord) error { _, err := b.Signer(ctx, rec); return err }},
		{AlgES256, func(rec storage.KeyRecord) error { _, err := b.KeyAgreement(ctx, rec); return err }},
		{AlgRS256, func(rec storage.KeyRecord) error { _, err := b.Decrypter(ctx, rec); return err }},
	} {
		t.Run(tc.alg, func(t *testing.T) {
			spec := KeySpec{KID: "k", Purpose: "p", Alg: tc.alg}
			_, private, err := b.Generate(ctx, spec)
			if err != nil {
				t.Fatal(err)
			}
			rec := storage.KeyRecord{KID: "k", Purpose: "p", Alg: tc.alg, Backend: SoftwareBackendName, Private: private}
			if err := tc.open(rec); err == nil {
				t.Errorf("opening a %s key for the wrong use = nil, want an error", tc.alg)
			}
		})
	}
	if _, _, err := b.Generate(ctx, KeySpec{KID: "k", Purpose: "p", Alg: "HS256"}); !errors.Is(err, ErrUnsupportedAlg) {
		t.Errorf("Generate(HS256) = %v, want ErrUnsupportedAlg", err)
	}
	if _, err := NewSoftwareBackend(MasterKey{}); err == nil {
		t.Errorf("NewSoftwareBackend(zero key) = nil, want an error")
	}
}
