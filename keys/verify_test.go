package keys

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/hmac"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"math/big"
	"strings"
	"testing"
	"time"

	"github.com/lestrrat-go/jwx/v3/jwa"
	"github.com/lestrrat-go/jwx/v3/jwk"
	"github.com/lestrrat-go/jwx/v3/jws"

	"github.com/sanad-id/sanad/storage"
)

var b64 = base64.RawURLEncoding

// allAlgSets has one signing set with every signature algorithm.
func allAlgSets() []SetConfig {
	return []SetConfig{
		{Purpose: PurposeOIDCSigning, Use: UseSig, Algs: []string{AlgRS256, AlgES256, AlgPS256, AlgEdDSA}, PublishFor: 24 * time.Hour},
		{Purpose: PurposeStatusList, Use: UseSig, Algs: []string{AlgES256}, PublishFor: 24 * time.Hour},
		{Purpose: PurposeOIDCEncryption, Use: UseEnc, Algs: []string{AlgRSAOAEP256, AlgECDHES}, PublishFor: 24 * time.Hour},
	}
}

// TestSignJWTVerifiesIndependently checks SignJWT output with jwx and the
// published JWK only.
func TestSignJWTVerifiesIndependently(t *testing.T) {
	forEachStore(t, func(t *testing.T, open func(t *testing.T) storage.Durable) {
		e := newEnv(t, open, allAlgSets())
		s := e.service(t)
		ctx := context.Background()
		for _, alg := range []string{AlgRS256, AlgES256, AlgPS256, AlgEdDSA} {
			t.Run(alg, func(t *testing.T) {
				claims := map[string]any{"iss": "https://sanad.example", "sub": "resident-1", "n": 7}
				tok, err := s.SignJWT(ctx, PurposeOIDCSigning, alg, claims, Header{"typ": "at+jwt"})
				if err != nil {
					t.Fatalf("SignJWT(%s) = %v", alg, err)
				}
				h := tokenHeader(t, tok)
				if h["alg"] != alg || h["typ"] != "at+jwt" || h["kid"] == "" {
					t.Errorf("SignJWT(%s) header = %v, want alg %s, typ at+jwt and a kid", alg, h, alg)
				}
				pub := publicKey(t, s, PurposeOIDCSigning, tokenKID(t, tok))
				jalg, _ := jwa.LookupSignatureAlgorithm(alg)
				payload, err := jws.Verify([]byte(tok), jws.WithKey(jalg, pub))
				if err != nil {
					t.Fatalf("jws.Verify(SignJWT(%s)) with the published key = %v", alg, err)
				}
				var got map[string]any
				if err := json.Unmarshal(payload, &got); err != nil || got["sub"] != "resident-1" || got["n"] != float64(7) {
					t.Errorf("payload = %s, want the claims", payload)
				}
				if _, err := s.Verify(ctx, PurposeOIDCSigning, tok, alg); err != nil {
					t.Errorf("Verify(SignJWT(%s)) = %v", alg, err)
				}
			})
		}
	})
}

// TestSignVerifiesWithStdlib checks raw Sign output with crypto/* only.
func TestSignVerifiesWithStdlib(t *testing.T) {
	forEachStore(t, func(t *testing.T, open func(t *testing.T) storage.Durable) {
		e := newEnv(t, open, allAlgSets())
		s := e.service(t)
		ctx := context.Background()
		msg := []byte("data integrity proof input")
		digest := sha256.Sum256(msg)
		for _, tc := range []struct {
			alg    string
			verify func(pub any, sig []byte) error
		}{
			{AlgES256, func(pub any, sig []byte) error {
				if len(sig) != 64 {
					return errors.New("ES256 signature is not 64 bytes")
				}
				r, s := new(big.Int).SetBytes(sig[:32]), new(big.Int).SetBytes(sig[32:])
				if !ecdsa.Verify(pub.(*ecdsa.PublicKey), digest[:], r, s) {
					return errors.New("ecdsa.Verify failed")
				}
				return nil
			}},
			{AlgEdDSA, func(pub any, sig []byte) error {
				if !ed25519.Verify(pub.(ed25519.PublicKey), msg, sig) {
					return errors.New("ed25519.Verify failed")
				}
				return nil
			}},
			{AlgRS256, func(pub any, sig []byte) error {
				return rsa.VerifyPKCS1v15(pub.(*rsa.PublicKey), crypto.SHA256, digest[:], sig)
			}},
			{AlgPS256, func(pub any, sig []byte) error {
				return rsa.VerifyPSS(pub.(*rsa.PublicKey), crypto.SHA256, digest[:], sig, &rsa.PSSOptions{SaltLength: 32})
			}},
		} {
			t.Run(tc.alg, func(t *testing.T) {
				sig, kid, err := s.Sign(ctx, PurposeOIDCSigning, tc.alg, msg)
				if err != nil {
					t.Fatalf("Sign(%s) = %v", tc.alg, err)
				}
				var pub any
				if err := jwk.Export(publicKey(t, s, PurposeOIDCSigning, kid), &pub); err != nil {
					t.Fatal(err)
				}
				if err := tc.verify(pub, sig); err != nil {
					t.Errorf("Sign(%s) does not verify with the stdlib: %v", tc.alg, err)
				}
				sig[len(sig)/2] ^= 1
				if err := tc.verify(pub, sig); err == nil {
					t.Errorf("Sign(%s): a flipped signature bit still verifies", tc.alg)
				}
			})
		}
	})
}

func TestSignErrors(t *testing.T) {
	forEachStore(t, func(t *testing.T, open func(t *testing.T) storage.Durable) {
		s := newEnv(t, open, fastSets()).service(t)
		ctx := context.Background()
		for _, tc := range []struct {
			name    string
			purpose string
			alg     string
			claims  any
			header  Header
			want    error
		}{
			{"unknown purpose", "nope", AlgES256, map[string]any{}, nil, ErrUnknownPurpose},
			{"alg not in set", PurposeStatusList, AlgEdDSA, map[string]any{}, nil, ErrUnsupportedAlg},
			{"encryption set", PurposeOIDCEncryption, AlgECDHES, map[string]any{}, nil, ErrUnsupportedAlg},
			{"alg none", PurposeOIDCSigning, "none", map[string]any{}, nil, ErrUnsupportedAlg},
			{"header alg", PurposeOIDCSigning, AlgES256, map[string]any{}, Header{"alg": "none"}, nil},
			{"header kid", PurposeOIDCSigning, AlgES256, map[string]any{}, Header{"kid": "x"}, nil},
			{"header crit", PurposeOIDCSigning, AlgES256, map[string]any{}, Header{"crit": []string{"exp"}}, nil},
			{"claims not an object", PurposeOIDCSigning, AlgES256, []byte(`{"a":1}`), nil, nil},
		} {
			t.Run(tc.name, func(t *testing.T) {
				tok, err := s.SignJWT(ctx, tc.purpose, tc.alg, tc.claims, tc.header)
				if err == nil || (tc.want != nil && !errors.Is(err, tc.want)) {
					t.Errorf("SignJWT(%s) = %q, %v; want error %v", tc.name, tok, err, tc.want)
				}
			})
		}
		if _, _, err := s.Sign(ctx, PurposeOIDCSigning, AlgRS256, []byte("m")); !errors.Is(err, ErrUnsupportedAlg) {
			t.Errorf("Sign(alg not in set) = %v, want ErrUnsupportedAlg", err)
		}
	})
}

// forgeKID replaces the kid of a compact JWS, keeping payload and signature.
func forgeKID(t *testing.T, tok, kid string) string {
	t.Helper()
	h := tokenHeader(t, tok)
	h["kid"] = kid
	return withHeader(t, tok, h)
}

func withHeader(t *testing.T, tok string, h map[string]any) string {
	t.Helper()
	hj, err := json.Marshal(h)
	if err != nil {
		t.Fatal(err)
	}
	parts := strings.Split(tok, ".")
	parts[0] = b64.EncodeToString(hj)
	return strings.Join(parts, ".")
}

// signCompact builds a compact JWS from a header and payload with an
// arbitrary signing function.
func signCompact(t *testing.T, h map[string]any, payload []byte, sign func(input []byte) []byte) string {
	t.Helper()
	hj, _ := json.Marshal(h)
	input := b64.EncodeToString(hj) + "." + b64.EncodeToString(payload)
	return input + "." + b64.EncodeToString(sign([]byte(input)))
}

func TestVerifyRejects(t *testing.T) {
	forEachStore(t, func(t *testing.T, open func(t *testing.T) storage.Durable) {
		s := newEnv(t, open, allAlgSets()).service(t)
		ctx := context.Background()
		payload := []byte(`{"sub":"resident-1"}`)
		esTok, err := s.SignJWS(ctx, PurposeOIDCSigning, AlgES256, payload, nil)
		if err != nil {
			t.Fatal(err)
		}
		esKID := tokenKID(t, esTok)
		edTok, err := s.SignJWS(ctx, PurposeOIDCSigning, AlgEdDSA, payload, nil)
		if err != nil {
			t.Fatal(err)
		}
		rsTok, err := s.SignJWS(ctx, PurposeOIDCSigning, AlgRS256, payload, nil)
		if err != nil {
			t.Fatal(err)
		}
		rsKID := tokenKID(t, rsTok)
		statusTok, err := s.SignJWS(ctx, PurposeStatusList, AlgES256, payload, nil)
		if err != nil {
			t.Fatal(err)
		}

		// HS256 keyed with the public key, in the encodings attackers try.
		rsPub := publicKey(t, s, PurposeOIDCSigning, rsKID)
		var rsRaw rsa.PublicKey
		if err := jwk.Export(rsPub, &rsRaw); err != nil {
			t.Fatal(err)
		}
		der, _ := x509.MarshalPKIXPublicKey(&rsRaw)
		pemKey := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
		jwkJSON, _ := json.Marshal(rsPub)
		hs := func(secret []byte) string {
			return signCompact(t, map[string]any{"alg": "HS256", "kid": rsKID}, payload, func(in []byte) []byte {
				m := hmac.New(sha256.New, secret)
				m.Write(in)
				return m.Sum(nil)
			})
		}
		// A key Sanad does not hold, claiming a kid Sanad published.
		foreign, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		forged := signCompact(t, map[string]any{"alg": "ES256", "kid": esKID}, payload, func(in []byte) []byte {
			sig, _ := signWith(foreign, AlgES256, in)
			return sig
		})
		parts := strings.Split(esTok, ".")
		tamperedPayload := parts[0] + "." + b64.EncodeToString([]byte(`{"sub":"resident-2"}`)) + "." + parts[2]
		sig, _ := b64.DecodeString(parts[2])
		sig[0] ^= 1
		tamperedSig := parts[0] + "." + parts[1] + "." + b64.EncodeToString(sig)
		withCrit := tokenHeader(t, esTok)
		withCrit["crit"] = []string{"exp"}
		withB64 := tokenHeader(t, esTok)
		withB64["b64"] = true

		all := []string{AlgRS256, AlgES256, AlgPS256, AlgEdDSA, "HS256", "none"}
		for _, tc := range []struct {
			name    string
			purpose string
			token   string
			allowed []string
			why     string
		}{
			{"alg none", PurposeOIDCSigning, withHeader(t, esTok, map[string]any{"alg": "none", "kid": esKID}), all, `alg "none" not allowed`},
			{"alg none, empty signature", PurposeOIDCSigning, strings.Join(strings.Split(withHeader(t, esTok, map[string]any{"alg": "none", "kid": esKID}), ".")[:2], ".") + ".", all, `alg "none" not allowed`},
			{"HS256 keyed with public PEM", PurposeOIDCSigning, hs(pemKey), all, `alg "HS256" not allowed`},
			{"HS256 keyed with public DER", PurposeOIDCSigning, hs(der), all, `alg "HS256" not allowed`},
			{"HS256 keyed with public JWK", PurposeOIDCSigning, hs(jwkJSON), all, `alg "HS256" not allowed`},
			{"alg not allowed", PurposeOIDCSigning, esTok, []string{AlgEdDSA, AlgRS256}, `alg "ES256" not allowed`},
			{"alg switched to the kid's wrong alg", PurposeOIDCSigning, forgeKID(t, edTok, esKID), all, `does not match key`},
			{"PS256 header on RS256 key", PurposeOIDCSigning, withHeader(t, rsTok, map[string]any{"alg": "PS256", "kid": rsKID}), all, `does not match key`},
			{"unknown kid", PurposeOIDCSigning, forgeKID(t, esTok, "no-such-kid"), all, `unknown kid`},
			{"no kid", PurposeOIDCSigning, withHeader(t, esTok, map[string]any{"alg": "ES256"}), all, `no kid`},
			{"foreign key with a published kid", PurposeOIDCSigning, forged, all, `verification failed`},
			{"tampered payload", PurposeOIDCSigning, tamperedPayload, all, `verification failed`},
			{"tampered signature", PurposeOIDCSigning, tamperedSig, all, `verification failed`},
			{"crit header", PurposeOIDCSigning, withHeader(t, esTok, withCrit), all, `crit`},
			{"b64 header", PurposeOIDCSigning, withHeader(t, esTok, withB64), all, `b64`},
			{"key of another purpose", PurposeOIDCSigning, statusTok, all, `unknown kid`},
			{"two parts", PurposeOIDCSigning, parts[0] + "." + parts[1], all, `not a compact JWS`},
			{"JSON serialization", PurposeOIDCSigning, `{"payload":"` + parts[1] + `","protected":"` + parts[0] + `","signature":"` + parts[2] + `"}`, all, `not a compact JWS`},
			{"header not base64url", PurposeOIDCSigning, "!!." + parts[1] + "." + parts[2], all, `not base64url`},
			{"header not JSON", PurposeOIDCSigning, b64.EncodeToString([]byte("alg")) + "." + parts[1] + "." + parts[2], all, `not a JSON object`},
			{"empty", PurposeOIDCSigning, "", all, `not a compact JWS`},
		} {
			t.Run(tc.name, func(t *testing.T) {
				got, err := s.Verify(ctx, tc.purpose, tc.token, tc.allowed...)
				if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), tc.why) {
					t.Errorf("Verify(%s) = %q, %v; want ErrInvalid (%s)", tc.name, got, err, tc.why)
				}
			})
		}
		if _, err := s.Verify(ctx, PurposeOIDCSigning, esTok); err == nil || errors.Is(err, ErrInvalid) {
			t.Errorf("Verify(no allowed algs) = %v, want a usage error", err)
		}
		if _, err := s.Verify(ctx, "nope", esTok, AlgES256); !errors.Is(err, ErrUnknownPurpose) {
			t.Errorf("Verify(unknown purpose) = %v, want ErrUnknownPurpose", err)
		}
		if _, err := s.Verify(ctx, PurposeOIDCEncryption, esTok, AlgES256); !errors.Is(err, ErrUnsupportedAlg) {
			t.Errorf("Verify(encryption purpose) = %v, want ErrUnsupportedAlg", err)
		}
		if got, err := s.Verify(ctx, PurposeOIDCSigning, esTok, AlgES256); err != nil || string(got) != string(payload) {
			t.Errorf("Verify(valid) = %q, %v; want the payload", got, err)
		}
	})
}

func TestVerifyTyped(t *testing.T) {
	forEachStore(t, func(t *testing.T, open func(t *testing.T) storage.Durable) {
		s := newEnv(t, open, fastSets()).service(t)
		ctx := context.Background()
		sign := func(h Header) string {
			tok, err := s.SignJWT(ctx, PurposeOIDCSigning, AlgES256, map[string]any{"sub": "1"}, h)
			if err != nil {
				t.Fatal(err)
			}
			return tok
		}
		at, idToken, bare := sign(Header{"typ": "at+jwt"}), sign(Header{"typ": "JWT"}), sign(nil)
		upper := sign(Header{"typ": "application/AT+JWT"})
		for _, tc := range []struct {
			name, token, typ string
			ok               bool
		}{
			{"same typ", at, "at+jwt", true},
			{"want with application/ prefix", at, "application/at+jwt", true},
			{"token with prefix and upper case", upper, "at+jwt", true},
			{"ID token as access token", idToken, "at+jwt", false},
			{"no typ", bare, "at+jwt", false},
			{"access token as ID token", at, "JWT", false},
		} {
			t.Run(tc.name, func(t *testing.T) {
				_, err := s.VerifyTyped(ctx, PurposeOIDCSigning, tc.typ, tc.token, AlgES256)
				if tc.ok && err != nil {
					t.Errorf("VerifyTyped(%s) = %v, want nil", tc.name, err)
				}
				if !tc.ok && !errors.Is(err, ErrInvalid) {
					t.Errorf("VerifyTyped(%s) = %v, want ErrInvalid", tc.name, err)
				}
			})
		}
		if _, err := s.VerifyTyped(ctx, PurposeOIDCSigning, "", at, AlgES256); err == nil || errors.Is(err, ErrInvalid) {
			t.Errorf("VerifyTyped(empty typ) = %v, want a usage error", err)
		}
	})
}
