package demobank

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"testing"
	"time"

	"github.com/lestrrat-go/jwx/v3/jwa"
	"github.com/lestrrat-go/jwx/v3/jwk"
	"github.com/lestrrat-go/jwx/v3/jws"
	"github.com/lestrrat-go/jwx/v3/jwt"
)

func testKey(t *testing.T) jwk.Key {
	t.Helper()
	key, err := newES256Key()
	if err != nil {
		t.Fatal(err)
	}
	if err := setKeyMeta(key); err != nil {
		t.Fatal(err)
	}
	return key
}

// parseHeaders returns the protected headers of a compact JWS.
func parseHeaders(t *testing.T, compact string) jws.Headers {
	t.Helper()
	msg, err := jws.Parse([]byte(compact))
	if err != nil {
		t.Fatalf("jws.Parse: %v", err)
	}
	if n := len(msg.Signatures()); n != 1 {
		t.Fatalf("%d signatures, want 1", n)
	}
	return msg.Signatures()[0].ProtectedHeaders()
}

func TestClientAssertion(t *testing.T) {
	key := testKey(t)
	pub, err := key.PublicKey()
	if err != nil {
		t.Fatal(err)
	}
	now := time.Unix(1_750_000_000, 0)
	const issuer = "https://id.example.gov"
	a, err := clientAssertion(key, "demo-bank", issuer, now)
	if err != nil {
		t.Fatal(err)
	}

	h := parseHeaders(t, a)
	if alg, _ := h.Algorithm(); alg != jwa.ES256() {
		t.Errorf("alg = %v, want ES256", alg)
	}
	if typ, _ := h.Type(); typ != "JWT" {
		t.Errorf("typ = %q, want JWT", typ)
	}
	wantKID, _ := key.KeyID()
	if kid, _ := h.KeyID(); kid != wantKID || kid == "" {
		t.Errorf("kid = %q, want the key's thumbprint %q", kid, wantKID)
	}
	if _, ok := h.JWK(); ok {
		t.Error("assertion carries a jwk header; the key is registered")
	}

	// Verified and validated by jwx, as a provider would.
	tok, err := jwt.ParseString(a, jwt.WithKey(jwa.ES256(), pub), jwt.WithValidate(true),
		jwt.WithClock(jwt.ClockFunc(func() time.Time { return now.Add(10 * time.Second) })),
		jwt.WithIssuer("demo-bank"), jwt.WithSubject("demo-bank"), jwt.WithAudience(issuer))
	if err != nil {
		t.Fatalf("jwt.ParseString: %v", err)
	}
	iat, _ := tok.IssuedAt()
	exp, _ := tok.Expiration()
	if !iat.Equal(now) || exp.Sub(iat) != 60*time.Second {
		t.Errorf("iat, exp = %v, %v; want now and 60 s later", iat, exp)
	}
	jti, _ := tok.JwtID()
	if len(jti) < 32 {
		t.Errorf("jti = %q, want 256 random bits", jti)
	}
	if _, err := jwt.ParseString(a, jwt.WithKey(jwa.ES256(), pub), jwt.WithValidate(true),
		jwt.WithClock(jwt.ClockFunc(func() time.Time { return now.Add(2 * time.Minute) }))); err == nil {
		t.Error("assertion still valid 2 minutes later")
	}

	b, err := clientAssertion(key, "demo-bank", issuer, now)
	if err != nil {
		t.Fatal(err)
	}
	tok2, err := jwt.ParseString(b, jwt.WithKey(jwa.ES256(), pub), jwt.WithValidate(false))
	if err != nil {
		t.Fatal(err)
	}
	if jti2, _ := tok2.JwtID(); jti2 == jti {
		t.Error("two assertions share a jti")
	}
}

func TestDPoPProof(t *testing.T) {
	key := testKey(t)
	now := time.Unix(1_750_000_000, 0)
	const token = "an-access-token"
	sum := sha256.Sum256([]byte(token))
	wantATH := base64.RawURLEncoding.EncodeToString(sum[:])

	tests := []struct {
		name                   string
		method, url, at, nonce string
		wantHTU                string
	}{
		{name: "token endpoint", method: "POST", url: "https://id.example.gov/oauth/v2/token", wantHTU: "https://id.example.gov/oauth/v2/token"},
		{name: "with nonce", method: "POST", url: "https://id.example.gov/oauth/v2/token", nonce: "n-1", wantHTU: "https://id.example.gov/oauth/v2/token"},
		{name: "userinfo", method: "GET", url: "https://id.example.gov/oidc/userinfo?x=1#f", at: token, nonce: "n-2", wantHTU: "https://id.example.gov/oidc/userinfo"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			proof, err := dpopProof(key, tt.method, tt.url, tt.at, tt.nonce, now)
			if err != nil {
				t.Fatal(err)
			}
			h := parseHeaders(t, proof)
			if typ, _ := h.Type(); typ != "dpop+jwt" {
				t.Errorf("typ = %q, want dpop+jwt", typ)
			}
			if alg, _ := h.Algorithm(); alg != jwa.ES256() {
				t.Errorf("alg = %v, want ES256", alg)
			}
			hk, ok := h.JWK()
			if !ok {
				t.Fatal("no jwk header")
			}
			if private, err := jwk.IsPrivateKey(hk); err != nil || private {
				t.Fatalf("jwk header is private (%v, %v)", private, err)
			}
			raw, _ := json.Marshal(hk)
			var members map[string]any
			_ = json.Unmarshal(raw, &members)
			if _, ok := members["d"]; ok {
				t.Fatal("jwk header has the private member d")
			}
			gotTP, _ := thumbprint(hk)
			wantTP, _ := thumbprint(key)
			if gotTP != wantTP {
				t.Errorf("jwk header thumbprint %s, want the key's %s", gotTP, wantTP)
			}

			// The proof verifies with the key it carries.
			payload, err := jws.Verify([]byte(proof), jws.WithKey(jwa.ES256(), hk))
			if err != nil {
				t.Fatalf("jws.Verify with the jwk header: %v", err)
			}
			var c map[string]any
			if err := json.Unmarshal(payload, &c); err != nil {
				t.Fatal(err)
			}
			if c["htm"] != tt.method || c["htu"] != tt.wantHTU {
				t.Errorf("htm, htu = %v, %v; want %s, %s", c["htm"], c["htu"], tt.method, tt.wantHTU)
			}
			if c["iat"] != float64(now.Unix()) {
				t.Errorf("iat = %v, want %d", c["iat"], now.Unix())
			}
			if jti, _ := c["jti"].(string); len(jti) < 16 {
				t.Errorf("jti = %v, want a random value", c["jti"])
			}
			ath, hasATH := c["ath"]
			switch {
			case tt.at != "" && ath != wantATH:
				t.Errorf("ath = %v, want base64url(SHA-256(token)) = %s", ath, wantATH)
			case tt.at == "" && hasATH:
				t.Errorf("ath = %v without an access token", ath)
			}
			nonce, hasNonce := c["nonce"]
			if tt.nonce != "" && nonce != tt.nonce || tt.nonce == "" && hasNonce {
				t.Errorf("nonce = %v, want %q", nonce, tt.nonce)
			}
		})
	}
}

func TestAccessTokenHash(t *testing.T) {
	// RFC 9449 section 7.1's example.
	const token = "Kz~8mXK1EalYznwH-LC-1fBAo.4Ljp~zsPE_NeO.gxU"
	if got, want := accessTokenHash(token), "fUHyO2r2Z3DZ53EsNrWBb0xWXoaNy59IiKCAqksmQEo"; got != want {
		t.Errorf("accessTokenHash(%q) = %s, want %s", token, got, want)
	}
}

func TestPKCEChallenge(t *testing.T) {
	// RFC 7636 appendix B.
	if got, want := pkceChallenge("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"), "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"; got != want {
		t.Errorf("pkceChallenge = %s, want %s", got, want)
	}
}

func TestTruncate(t *testing.T) {
	tests := []struct {
		in   string
		n    int
		want string
	}{
		{"short", 10, "short"},
		{"abcdef", 3, "abc…"},
		{"أمينة", 3, "أ…"}, // 2-byte runes: never cut in the middle of one
	}
	for _, tt := range tests {
		if got := truncate(tt.in, tt.n); got != tt.want {
			t.Errorf("truncate(%q, %d) = %q, want %q", tt.in, tt.n, got, tt.want)
		}
	}
}
