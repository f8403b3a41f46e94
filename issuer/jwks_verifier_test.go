package issuer

import (
	"context"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"maps"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/lestrrat-go/jwx/v3/jwa"
	"github.com/lestrrat-go/jwx/v3/jwk"
	"github.com/lestrrat-go/jwx/v3/jws"
)

const (
	jwksTestIssuer   = "https://esignet.example.org/v1/esignet"
	jwksTestAudience = crIssuer
)

// jwksTestKey is a signing key of the fake authorization server.
type jwksTestKey struct {
	kid  string
	alg  jwa.SignatureAlgorithm
	priv any
	pub  jwk.Key
}

func newJWKSTestKey(t testing.TB, kid string, alg jwa.SignatureAlgorithm) *jwksTestKey {
	t.Helper()
	var priv, pubRaw any
	switch alg {
	case jwa.ES256():
		k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		priv, pubRaw = k, k.Public()
	case jwa.ES384():
		k, err := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		priv, pubRaw = k, k.Public()
	case jwa.EdDSA():
		pub, k, err := ed25519.GenerateKey(rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		priv, pubRaw = k, pub
	default:
		t.Fatalf("newJWKSTestKey: alg %s", alg)
	}
	pub, err := jwk.Import(pubRaw)
	if err != nil {
		t.Fatal(err)
	}
	if err := pub.Set(jwk.KeyIDKey, kid); err != nil {
		t.Fatal(err)
	}
	return &jwksTestKey{kid: kid, alg: alg, priv: priv, pub: pub}
}

// sign signs claims with header members hdr (typ at+jwt and the key's
// kid unless hdr says otherwise; a nil value removes a member).
func (k *jwksTestKey) sign(t testing.TB, claims map[string]any, hdr map[string]any) string {
	t.Helper()
	payload, err := json.Marshal(claims)
	if err != nil {
		t.Fatal(err)
	}
	members := map[string]any{jws.TypeKey: "at+jwt", jws.KeyIDKey: k.kid}
	maps.Copy(members, hdr)
	h := jws.NewHeaders()
	for name, v := range members {
		if v == nil {
			continue
		}
		if err := h.Set(name, v); err != nil {
			t.Fatal(err)
		}
	}
	out, err := jws.Sign(payload, jws.WithKey(k.alg, k.priv, jws.WithProtectedHeaders(h)))
	if err != nil {
		t.Fatal(err)
	}
	return string(out)
}

// jwksServer is a fake authorization server's JWKS endpoint.
type jwksServer struct {
	*httptest.Server
	mu      sync.Mutex
	keys    []jwk.Key
	down    bool
	fetches atomic.Int32
}

func newJWKSServer(t testing.TB, keys ...*jwksTestKey) *jwksServer {
	t.Helper()
	s := &jwksServer{}
	for _, k := range keys {
		s.keys = append(s.keys, k.pub)
	}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.fetches.Add(1)
		s.mu.Lock()
		defer s.mu.Unlock()
		if s.down {
			http.Error(w, "unavailable", http.StatusServiceUnavailable)
			return
		}
		set := jwk.NewSet()
		for _, k := range s.keys {
			if err := set.AddKey(k); err != nil {
				t.Error(err)
			}
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(set)
	}))
	t.Cleanup(s.Close)
	return s
}

func (s *jwksServer) setKeys(keys ...jwk.Key) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.keys = keys
}

func (s *jwksServer) setDown(down bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.down = down
}

func (s *jwksServer) url() string { return s.URL + "/.well-known/jwks.json" }

// newTestJWKSVerifier starts a verifier on srv with the fixture's issuer
// and audience; waitReady waits for the first background fetch.
func newTestJWKSVerifier(t *testing.T, srv *jwksServer, clock *crClock, waitReady bool, opts ...func(*JWKSVerifierConfig)) *JWKSVerifier {
	t.Helper()
	cfg := JWKSVerifierConfig{
		Issuer:   jwksTestIssuer,
		JWKSURL:  srv.url(),
		Audience: jwksTestAudience,
		Now:      clock.Now,
	}
	for _, o := range opts {
		o(&cfg)
	}
	v, err := NewJWKSVerifier(cfg)
	if err != nil {
		t.Fatalf("NewJWKSVerifier: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := v.Close(ctx); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	if waitReady {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if !v.cache.Ready(ctx, srv.url()) {
			t.Fatal("the JWKS was not fetched")
		}
	}
	return v
}

func jwksTestClock() *crClock {
	return &crClock{now: time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)}
}

// jwksClaims are valid claims at clock's time.
func jwksClaims(clock *crClock) map[string]any {
	now := clock.Now().Unix()
	return map[string]any{
		"iss":       jwksTestIssuer,
		"aud":       jwksTestAudience,
		"sub":       "psut-4711",
		"client_id": "wallet-app",
		"scope":     "openid national_id_vc",
		"iat":       now,
		"nbf":       now,
		"exp":       now + 600,
		"jti":       "at-1",
		"cnf":       map[string]any{"jkt": "thumbprint-of-the-dpop-key"},
		"authorization_details": []any{map[string]any{
			"type": "openid_credential", "credential_configuration_id": crNID, "credential_identifiers": []string{"nid-1"},
		}},
		"individual_id": "person-42",
	}
}

// wantTokenError checks err is the issuer error code with status.
func wantTokenError(t *testing.T, err error, status int, code string) {
	t.Helper()
	var e *Error
	if !errors.As(err, &e) || e.Code != code || e.Status != status {
		t.Fatalf("VerifyAccessToken error = %v, want %d %s", err, status, code)
	}
}

func TestJWKSVerifierAccepts(t *testing.T) {
	clock := jwksTestClock()
	k := newJWKSTestKey(t, "k1", jwa.ES256())
	srv := newJWKSServer(t, k)
	v := newTestJWKSVerifier(t, srv, clock, true)

	claims := jwksClaims(clock)
	at, err := v.VerifyAccessToken(context.Background(), k.sign(t, claims, nil))
	if err != nil {
		t.Fatalf("VerifyAccessToken(valid) = %v", err)
	}
	wantAD := `[{"credential_configuration_id":"` + crNID + `","credential_identifiers":["nid-1"],"type":"openid_credential"}]`
	switch {
	case at.ID != "at-1" || at.Subject != "psut-4711" || at.ClientID != "wallet-app":
		t.Errorf("ID, Subject, ClientID = %q, %q, %q", at.ID, at.Subject, at.ClientID)
	case !slices.Equal(at.Scopes, []string{"openid", "national_id_vc"}):
		t.Errorf("Scopes = %q", at.Scopes)
	case at.JKT != "thumbprint-of-the-dpop-key":
		t.Errorf("JKT = %q", at.JKT)
	case string(at.AuthorizationDetails) != wantAD:
		t.Errorf("AuthorizationDetails = %s, want %s", at.AuthorizationDetails, wantAD)
	case at.PersonID != "psut-4711":
		t.Errorf("PersonID = %q, want sub by default", at.PersonID)
	case !at.Expires.Equal(clock.Now().Add(600 * time.Second)):
		t.Errorf("Expires = %v", at.Expires)
	}

	// Variants that are still valid.
	valid := []struct {
		name   string
		claims func(map[string]any)
		hdr    map[string]any
		check  func(*AccessToken) bool
	}{
		{"typ JWT", nil, map[string]any{jws.TypeKey: "JWT"}, nil},
		{"typ application/at+jwt", nil, map[string]any{jws.TypeKey: "application/at+jwt"}, nil},
		{"aud array", func(c map[string]any) { c["aud"] = []string{"https://other.example.org", jwksTestAudience} }, nil, nil},
		{"expired within the leeway", func(c map[string]any) { c["exp"] = clock.Now().Add(-10 * time.Second).Unix() }, nil, nil},
		{"iat slightly ahead", func(c map[string]any) { c["iat"] = clock.Now().Add(20 * time.Second).Unix() }, nil, nil},
		{"no nbf, no iat", func(c map[string]any) { delete(c, "nbf"); delete(c, "iat") }, nil, nil},
		{"scope as array", func(c map[string]any) { c["scope"] = []string{"a", "b"} },
			nil, func(at *AccessToken) bool { return slices.Equal(at.Scopes, []string{"a", "b"}) }},
		{"azp instead of client_id", func(c map[string]any) { delete(c, "client_id"); c["azp"] = "wallet-2" },
			nil, func(at *AccessToken) bool { return at.ClientID == "wallet-2" }},
		{"bearer token", func(c map[string]any) { delete(c, "cnf"); delete(c, "authorization_details") },
			nil, func(at *AccessToken) bool { return at.JKT == "" && at.AuthorizationDetails == nil }},
		{"no kid", nil, map[string]any{jws.KeyIDKey: nil}, nil},
	}
	for _, tt := range valid {
		t.Run(tt.name, func(t *testing.T) {
			c := jwksClaims(clock)
			if tt.claims != nil {
				tt.claims(c)
			}
			at, err := v.VerifyAccessToken(context.Background(), k.sign(t, c, tt.hdr))
			if err != nil {
				t.Fatalf("VerifyAccessToken = %v, want it accepted", err)
			}
			if tt.check != nil && !tt.check(at) {
				t.Errorf("VerifyAccessToken = %+v, not what the claims say", at)
			}
		})
	}
}

func TestJWKSVerifierRefuses(t *testing.T) {
	clock := jwksTestClock()
	k := newJWKSTestKey(t, "k1", jwa.ES256())
	k384 := newJWKSTestKey(t, "k384", jwa.ES384())
	encKey := newJWKSTestKey(t, "enc", jwa.ES256())
	if err := encKey.pub.Set(jwk.KeyUsageKey, "enc"); err != nil {
		t.Fatal(err)
	}
	stranger := newJWKSTestKey(t, "k1", jwa.ES256()) // same kid, other key
	srv := newJWKSServer(t, k, k384, encKey)
	v := newTestJWKSVerifier(t, srv, clock, true)
	now := clock.Now()

	with := func(f func(c map[string]any)) string {
		c := jwksClaims(clock)
		f(c)
		return k.sign(t, c, nil)
	}
	b64 := base64.RawURLEncoding.EncodeToString
	payload, _ := json.Marshal(jwksClaims(clock))
	valid := k.sign(t, jwksClaims(clock), nil)
	parts := strings.Split(valid, ".")
	hs256, err := jws.Sign(payload, jws.WithKey(jwa.HS256(), []byte("0123456789abcdef0123456789abcdef"),
		jws.WithProtectedHeaders(func() jws.Headers {
			h := jws.NewHeaders()
			_ = h.Set(jws.TypeKey, "at+jwt")
			_ = h.Set(jws.KeyIDKey, "k1")
			return h
		}())))
	if err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name  string
		token string
	}{
		{"wrong iss", with(func(c map[string]any) { c["iss"] = "https://evil.example.org" })},
		{"no iss", with(func(c map[string]any) { delete(c, "iss") })},
		{"wrong aud", with(func(c map[string]any) { c["aud"] = "https://other-issuer.example.org" })},
		{"aud array without us", with(func(c map[string]any) { c["aud"] = []string{"https://a.example.org"} })},
		{"no aud", with(func(c map[string]any) { delete(c, "aud") })},
		{"expired", with(func(c map[string]any) { c["exp"] = now.Add(-31 * time.Second).Unix() })},
		{"no exp", with(func(c map[string]any) { delete(c, "exp") })},
		{"exp not a number", with(func(c map[string]any) { c["exp"] = "tomorrow" })},
		{"not yet valid", with(func(c map[string]any) { c["nbf"] = now.Add(time.Minute).Unix() })},
		{"issued in the future", with(func(c map[string]any) { c["iat"] = now.Add(time.Minute).Unix() })},
		{"no sub", with(func(c map[string]any) { delete(c, "sub") })},
		{"malformed scope", with(func(c map[string]any) { c["scope"] = 42 })},
		{"authorization_details not an array", with(func(c map[string]any) { c["authorization_details"] = map[string]any{"type": "openid_credential"} })},
		{"no typ", k.sign(t, jwksClaims(clock), map[string]any{jws.TypeKey: nil})},
		{"typ of another token", k.sign(t, jwksClaims(clock), map[string]any{jws.TypeKey: "dpop+jwt"})},
		{"typ of an ID token", k.sign(t, jwksClaims(clock), map[string]any{jws.TypeKey: "id_token+jwt"})},
		{"alg outside the allow-list", k384.sign(t, jwksClaims(clock), nil)},
		{"HS256 with a kid of the set", string(hs256)},
		{"alg none", b64([]byte(`{"alg":"none","typ":"at+jwt","kid":"k1"}`)) + "." + b64(payload) + "."},
		{"key of another server with our kid", stranger.sign(t, jwksClaims(clock), nil)},
		{"encryption key", encKey.sign(t, jwksClaims(clock), nil)},
		{"tampered payload", parts[0] + "." + b64([]byte(strings.Replace(string(payload), "psut-4711", "psut-4712", 1))) + "." + parts[2]},
		{"not a JWS", "abc.def"},
		{"garbage header", "!!!." + parts[1] + "." + parts[2]},
		{"too large", k.sign(t, func() map[string]any {
			c := jwksClaims(clock)
			c["padding"] = strings.Repeat("x", maxExternalTokenSize)
			return c
		}(), nil)},
		{"empty", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			at, err := v.VerifyAccessToken(context.Background(), tt.token)
			if at != nil {
				t.Errorf("VerifyAccessToken returned a token: %+v", at)
			}
			wantTokenError(t, err, http.StatusUnauthorized, CodeInvalidToken)
		})
	}
}

func TestJWKSVerifierPersonID(t *testing.T) {
	clock := jwksTestClock()
	k := newJWKSTestKey(t, "k1", jwa.EdDSA())
	srv := newJWKSServer(t, k)
	errLookup := errors.New("directory unavailable")
	resolve := func(_ context.Context, claims map[string]any) (string, error) {
		switch claims["individual_id"] {
		case "person-42":
			return "internal-42", nil
		case "gone":
			return "", ErrUnknownPerson
		case "broken":
			return "", errLookup
		}
		return "", nil
	}
	tests := []struct {
		name   string
		opt    func(*JWKSVerifierConfig)
		claims func(map[string]any)
		want   string
		status int
		code   string
	}{
		{"sub by default", nil, nil, "psut-4711", 0, ""},
		{"configured claim", func(c *JWKSVerifierConfig) { c.PersonIDClaim = "individual_id" }, nil, "person-42", 0, ""},
		{"configured claim missing", func(c *JWKSVerifierConfig) { c.PersonIDClaim = "individual_id" },
			func(c map[string]any) { delete(c, "individual_id") }, "", http.StatusUnauthorized, CodeInvalidToken},
		{"configured claim not a string", func(c *JWKSVerifierConfig) { c.PersonIDClaim = "individual_id" },
			func(c map[string]any) { c["individual_id"] = 42 }, "", http.StatusUnauthorized, CodeInvalidToken},
		{"resolved", func(c *JWKSVerifierConfig) { c.Resolve = resolve }, nil, "internal-42", 0, ""},
		{"resolved to nobody", func(c *JWKSVerifierConfig) { c.Resolve = resolve },
			func(c map[string]any) { c["individual_id"] = "somebody" }, "", http.StatusUnauthorized, CodeInvalidToken},
		{"unknown person", func(c *JWKSVerifierConfig) { c.Resolve = resolve },
			func(c map[string]any) { c["individual_id"] = "gone" }, "", http.StatusUnauthorized, CodeInvalidToken},
		{"resolver failure", func(c *JWKSVerifierConfig) { c.Resolve = resolve },
			func(c map[string]any) { c["individual_id"] = "broken" }, "", http.StatusInternalServerError, CodeServerError},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var opts []func(*JWKSVerifierConfig)
			if tt.opt != nil {
				opts = append(opts, tt.opt)
			}
			opts = append(opts, func(c *JWKSVerifierConfig) { c.Algs = []string{"EdDSA"} })
			v := newTestJWKSVerifier(t, srv, clock, true, opts...)
			c := jwksClaims(clock)
			if tt.claims != nil {
				tt.claims(c)
			}
			at, err := v.VerifyAccessToken(context.Background(), k.sign(t, c, nil))
			if tt.code != "" {
				wantTokenError(t, err, tt.status, tt.code)
				return
			}
			if err != nil || at.PersonID != tt.want {
				t.Fatalf("VerifyAccessToken = %+v, %v; want PersonID %q", at, err, tt.want)
			}
		})
	}
}

func TestJWKSVerifierKeyRotation(t *testing.T) {
	clock := jwksTestClock()
	k1 := newJWKSTestKey(t, "k1", jwa.ES256())
	k2 := newJWKSTestKey(t, "k2", jwa.ES256())
	k3 := newJWKSTestKey(t, "k3", jwa.ES256())
	srv := newJWKSServer(t, k1)
	v := newTestJWKSVerifier(t, srv, clock, true, func(c *JWKSVerifierConfig) { c.MinRefreshInterval = time.Minute })
	ctx := context.Background()
	if _, err := v.VerifyAccessToken(ctx, k1.sign(t, jwksClaims(clock), nil)); err != nil {
		t.Fatalf("token of k1 = %v", err)
	}

	// The server rotates to k2: a token naming k2 makes the verifier fetch
	// the JWKS again.
	srv.setKeys(k1.pub, k2.pub)
	before := srv.fetches.Load()
	if _, err := v.VerifyAccessToken(ctx, k2.sign(t, jwksClaims(clock), nil)); err != nil {
		t.Fatalf("token of the new key k2 = %v, want it accepted after a refresh", err)
	}
	if got := srv.fetches.Load() - before; got != 1 {
		t.Errorf("JWKS fetched %d times for an unknown kid, want 1", got)
	}

	// Within MinRefreshInterval an unknown kid does not fetch again.
	srv.setKeys(k1.pub, k2.pub, k3.pub)
	before = srv.fetches.Load()
	for range 5 {
		_, err := v.VerifyAccessToken(ctx, k3.sign(t, jwksClaims(clock), nil))
		wantTokenError(t, err, http.StatusUnauthorized, CodeInvalidToken)
	}
	if got := srv.fetches.Load() - before; got != 0 {
		t.Errorf("JWKS fetched %d times within the refresh interval, want 0", got)
	}
	// A token naming no known kid, signed by nobody we know, gets the same.
	_, err := v.VerifyAccessToken(ctx, newJWKSTestKey(t, "k9", jwa.ES256()).sign(t, jwksClaims(clock), nil))
	wantTokenError(t, err, http.StatusUnauthorized, CodeInvalidToken)

	// After the interval it may.
	clock.Advance(time.Minute)
	if _, err := v.VerifyAccessToken(ctx, k3.sign(t, jwksClaims(clock), nil)); err != nil {
		t.Fatalf("token of k3 after the refresh interval = %v", err)
	}
}

func TestJWKSVerifierUnavailable(t *testing.T) {
	clock := jwksTestClock()
	k := newJWKSTestKey(t, "k1", jwa.ES256())
	srv := newJWKSServer(t, k)
	srv.setDown(true)
	v := newTestJWKSVerifier(t, srv, clock, false, func(c *JWKSVerifierConfig) { c.MinRefreshInterval = time.Minute })
	ctx := context.Background()
	tok := k.sign(t, jwksClaims(clock), nil)
	_, err := v.VerifyAccessToken(ctx, tok)
	wantTokenError(t, err, http.StatusInternalServerError, CodeServerError)

	// The server recovers; after the refresh interval tokens verify.
	srv.setDown(false)
	clock.Advance(time.Minute)
	tok = k.sign(t, jwksClaims(clock), nil)
	if _, err := v.VerifyAccessToken(ctx, tok); err != nil {
		t.Fatalf("VerifyAccessToken after the JWKS recovered = %v", err)
	}

	// It goes down again: the keys already fetched keep working.
	srv.setDown(true)
	clock.Advance(time.Minute)
	if _, err := v.VerifyAccessToken(ctx, k.sign(t, jwksClaims(clock), nil)); err != nil {
		t.Fatalf("VerifyAccessToken with a cached JWKS while the server is down = %v", err)
	}
}

func TestNewJWKSVerifierConfig(t *testing.T) {
	good := JWKSVerifierConfig{Issuer: jwksTestIssuer, JWKSURL: "https://esignet.example.org/.well-known/jwks.json", Audience: jwksTestAudience}
	tests := []struct {
		name string
		mod  func(*JWKSVerifierConfig)
		ok   bool
	}{
		{"good", func(*JWKSVerifierConfig) {}, true},
		{"http on localhost", func(c *JWKSVerifierConfig) { c.JWKSURL = "http://localhost:8088/jwks" }, true},
		{"http on 127.0.0.1", func(c *JWKSVerifierConfig) { c.JWKSURL = "http://127.0.0.1:8088/jwks" }, true},
		{"http elsewhere", func(c *JWKSVerifierConfig) { c.JWKSURL = "http://esignet.example.org/jwks" }, false},
		{"relative JWKS URL", func(c *JWKSVerifierConfig) { c.JWKSURL = "/jwks" }, false},
		{"no issuer", func(c *JWKSVerifierConfig) { c.Issuer = "" }, false},
		{"no audience", func(c *JWKSVerifierConfig) { c.Audience = "" }, false},
		{"HS256", func(c *JWKSVerifierConfig) { c.Algs = []string{"ES256", "HS256"} }, false},
		{"none", func(c *JWKSVerifierConfig) { c.Algs = []string{"none"} }, false},
		{"empty allow-list", func(c *JWKSVerifierConfig) { c.Algs = []string{} }, false},
		{"negative leeway", func(c *JWKSVerifierConfig) { c.Leeway = -time.Second }, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := good
			tt.mod(&cfg)
			v, err := NewJWKSVerifier(cfg)
			if v != nil {
				ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
				defer cancel()
				_ = v.Close(ctx)
			}
			if (err == nil) != tt.ok {
				t.Fatalf("NewJWKSVerifier(%s) error = %v, want ok %v", tt.name, err, tt.ok)
			}
		})
	}
}

// TestJWKSVerifierWithCredentialEndpoint runs a credential request whose
// token an external authorization server signed.
func TestJWKSVerifierWithCredentialEndpoint(t *testing.T) {
	clock := jwksTestClock()
	k := newJWKSTestKey(t, "k1", jwa.ES256())
	srv := newJWKSServer(t, k)
	var v *JWKSVerifier
	e := newCrEnv(t, func(c *Config) {
		v = newTestJWKSVerifier(t, srv, clock, true, func(vc *JWKSVerifierConfig) {
			vc.Now = c.Now
			vc.PersonIDClaim = "individual_id"
		})
		c.Tokens = v
	})
	claims := jwksClaims(e.clock)
	claims["individual_id"] = crPerson
	delete(claims, "cnf")
	claims["authorization_details"] = []any{}
	tok := k.sign(t, claims, nil)
	w := e.post(tok, crRequest(crNID, e.proof(newCrHolder(t), e.nonce())))
	if w.Code != http.StatusOK {
		t.Fatalf("credential request with an external token = %d %s, want 200", w.Code, w.Body)
	}
	_, entries := e.ledger.snapshot()
	if len(entries) != 1 || entries[0].PersonID != crPerson || entries[0].Subject != "psut-4711" {
		t.Fatalf("ledger = %+v, want one entry for %s / psut-4711", entries, crPerson)
	}

	// A token of the same server for another audience is refused.
	claims["aud"] = "https://other-issuer.example.org"
	w = e.post(k.sign(t, claims, nil), crRequest(crNID, e.proof(newCrHolder(t), e.nonce())))
	crWantError(t, w, http.StatusUnauthorized, CodeInvalidToken)
}

func FuzzJWKSVerifyAccessToken(f *testing.F) {
	clock := jwksTestClock()
	k := newJWKSTestKey(f, "k1", jwa.ES256())
	srv := newJWKSServer(f, k)
	v, err := NewJWKSVerifier(JWKSVerifierConfig{Issuer: jwksTestIssuer, JWKSURL: srv.url(), Audience: jwksTestAudience, Now: clock.Now})
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { _ = v.Close(context.Background()) })
	valid := k.sign(f, jwksClaims(clock), nil)
	parts := strings.Split(valid, ".")
	for _, seed := range []string{
		valid, "", ".", "..", "a.b.c", parts[0] + "." + parts[1] + ".",
		parts[0] + ".e30." + parts[2], "eyJhbGciOiJub25lIn0.e30.",
		base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"ES256","typ":"at+jwt","kid":"k1","crit":["x"]}`)) + "." + parts[1] + "." + parts[2],
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, token string) {
		at, err := v.VerifyAccessToken(context.Background(), token)
		if err == nil && token != valid {
			// Only a token with a valid signature of k verifies; base64
			// padding bits aside, that is the seed.
			if at.Subject != "psut-4711" {
				t.Fatalf("VerifyAccessToken(%q) accepted %+v", token, at)
			}
		}
		if err != nil {
			if e := asError(err); e.Code != CodeInvalidToken {
				t.Fatalf("VerifyAccessToken(%q) = %v, want invalid_token", token, err)
			}
		}
	})
}
