package oidc

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
	"fmt"
	"maps"
	"math/big"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/lestrrat-go/jwx/v3/jwk"

	"github.com/sanad-id/sanad/storage"
	"github.com/sanad-id/sanad/storage/storagetest"
)

// testNow is the fixed clock of these tests.
var testNow = time.Unix(1_800_000_000, 0)

const (
	testClient   = "client-1"
	testIssuer   = "https://id.example.org"
	testTokenURL = "https://id.example.org/oauth/v2/token"
)

// testKeys are freshly generated keys, one per algorithm.
type testKeys struct {
	rsa     *rsa.PrivateKey
	ec      *ecdsa.PrivateKey
	ed      ed25519.PrivateKey
	otherEC *ecdsa.PrivateKey
}

func newTestKeys(t testing.TB) *testKeys {
	t.Helper()
	rk, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	ek, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	ok, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	_, dk, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return &testKeys{rsa: rk, ec: ek, ed: dk, otherEC: ok}
}

// signer returns the private key the tests sign alg with.
func (k *testKeys) signer(alg string) any {
	switch alg {
	case "RS256", "PS256":
		return k.rsa
	case "EdDSA":
		return k.ed
	default:
		return k.ec
	}
}

// publicJWK returns the public JWK of key (a private key) with kid.
func publicJWK(t testing.TB, key crypto.Signer, kid string) jwk.Key {
	t.Helper()
	k, err := jwk.Import(key.Public())
	if err != nil {
		t.Fatal(err)
	}
	if kid != "" {
		if err := k.Set(jwk.KeyIDKey, kid); err != nil {
			t.Fatal(err)
		}
	}
	return k
}

func (k *testKeys) clientSet(t testing.TB) jwk.Set {
	t.Helper()
	set := jwk.NewSet()
	for i, s := range []crypto.Signer{k.rsa, k.ec, k.ed} {
		if err := set.AddKey(publicJWK(t, s, fmt.Sprintf("k%d", i))); err != nil {
			t.Fatal(err)
		}
	}
	return set
}

func b64(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

func mustJSON(t testing.TB, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// signJWS signs header and claims with key under alg, independently of jwx.
// alg "none" yields an empty signature; HS256 takes a []byte secret.
func signJWS(t testing.TB, alg string, key any, header map[string]any, claims any) string {
	t.Helper()
	h := map[string]any{"alg": alg}
	maps.Copy(h, header)
	var payload []byte
	if raw, ok := claims.([]byte); ok {
		payload = raw
	} else {
		payload = mustJSON(t, claims)
	}
	input := b64(mustJSON(t, h)) + "." + b64(payload)
	digest := sha256.Sum256([]byte(input))
	var sig []byte
	var err error
	switch alg {
	case "none":
	case "HS256":
		m := hmac.New(sha256.New, key.([]byte))
		m.Write([]byte(input))
		sig = m.Sum(nil)
	case "RS256":
		sig, err = rsa.SignPKCS1v15(rand.Reader, key.(*rsa.PrivateKey), crypto.SHA256, digest[:])
	case "PS256":
		sig, err = rsa.SignPSS(rand.Reader, key.(*rsa.PrivateKey), crypto.SHA256, digest[:], &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthEqualsHash})
	case "ES256":
		var r, s *big.Int
		r, s, err = ecdsa.Sign(rand.Reader, key.(*ecdsa.PrivateKey), digest[:])
		if err == nil {
			sig = make([]byte, 64)
			r.FillBytes(sig[:32])
			s.FillBytes(sig[32:])
		}
	case "EdDSA":
		sig = ed25519.Sign(key.(ed25519.PrivateKey), []byte(input))
	default:
		t.Fatalf("signJWS: alg %s", alg)
	}
	if err != nil {
		t.Fatal(err)
	}
	return input + "." + b64(sig)
}

func assertionClaimsAt(now time.Time) map[string]any {
	return map[string]any{
		"iss": testClient,
		"sub": testClient,
		"aud": testTokenURL,
		"iat": now.Unix(),
		"exp": now.Add(2 * time.Minute).Unix(),
		"jti": rand.Text(),
	}
}

func newAssertionVerifier(s storage.State) *ClientAssertionVerifier {
	return &ClientAssertionVerifier{State: s, Now: func() time.Time { return testNow }}
}

// wantCode fails t unless err is an *Error with code want (or nil when want
// is empty).
func wantCode(t testing.TB, call string, err error, want string) {
	t.Helper()
	if want == "" {
		if err != nil {
			t.Fatalf("%s = %v, want nil", call, err)
		}
		return
	}
	var e *Error
	if !errors.As(err, &e) || e.Code != want {
		t.Fatalf("%s = %v, want %s", call, err, want)
	}
	if !errors.Is(err, &Error{Code: want}) {
		t.Fatalf("errors.Is(%v, %s) = false", err, want)
	}
}

func TestClientAssertion(t *testing.T) {
	keys := newTestKeys(t)
	set := keys.clientSet(t)
	client := ClientKeys{ID: testClient, Keys: set}
	audiences := []string{testIssuer, testTokenURL}

	// Secrets an attacker can derive from the client's public key for the
	// "HMAC with the public key" attack.
	der, err := x509.MarshalPKIXPublicKey(keys.rsa.Public())
	if err != nil {
		t.Fatal(err)
	}
	pemKey := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
	pkcs1 := pem.EncodeToMemory(&pem.Block{Type: "RSA PUBLIC KEY", Bytes: x509.MarshalPKCS1PublicKey(&keys.rsa.PublicKey)})
	jwkJSON := mustJSON(t, publicJWK(t, keys.rsa, "k0"))
	ecDER, err := x509.MarshalPKIXPublicKey(keys.ec.Public())
	if err != nil {
		t.Fatal(err)
	}

	noneWithSig := signJWS(t, "none", nil, map[string]any{"kid": "k1"}, assertionClaimsAt(testNow)) + "c2ln"

	type mutate func(h, c map[string]any)
	tests := []struct {
		name      string
		alg       string
		key       any // nil: keys.signer(alg)
		typ       string
		clientID  string
		audiences []string
		mutate    mutate
		raw       string // used instead of a signed JWT when set
		want      string
	}{
		{name: "ES256", alg: "ES256"},
		{name: "RS256", alg: "RS256"},
		{name: "PS256", alg: "PS256"},
		{name: "EdDSA", alg: "EdDSA"},
		{name: "client_id param matches", alg: "ES256", clientID: testClient},
		{name: "aud array with issuer", alg: "ES256", mutate: func(h, c map[string]any) { c["aud"] = []string{"x", testIssuer} }},
		{name: "aud issuer only (FAPI)", alg: "ES256", audiences: []string{testIssuer}, mutate: func(h, c map[string]any) { c["aud"] = testIssuer }},
		{name: "no kid header", alg: "ES256", mutate: func(h, c map[string]any) { delete(h, "kid") }},
		{name: "no iat, short exp", alg: "ES256", mutate: func(h, c map[string]any) { delete(c, "iat") }},
		{name: "exp within leeway", alg: "ES256", mutate: func(h, c map[string]any) {
			c["iat"] = testNow.Add(-time.Minute).Unix()
			c["exp"] = testNow.Add(-20 * time.Second).Unix()
		}},
		{name: "nbf past", alg: "ES256", mutate: func(h, c map[string]any) { c["nbf"] = testNow.Add(-time.Second).Unix() }},

		{name: "signed with another key", alg: "ES256", key: keys.otherEC, want: CodeInvalidClient},
		{name: "wrong kid", alg: "ES256", mutate: func(h, c map[string]any) { h["kid"] = "k0" }, want: CodeInvalidClient},
		{name: "alg none", alg: "none", want: CodeInvalidClient},
		{name: "alg NONE", alg: "none", mutate: func(h, c map[string]any) { h["alg"] = "NONE" }, want: CodeInvalidClient},
		{name: "alg none with a signature", raw: noneWithSig, want: CodeInvalidClient},
		{name: "HS256 with RSA PEM", alg: "HS256", key: pemKey, want: CodeInvalidClient},
		{name: "HS256 with RSA PKCS1 PEM", alg: "HS256", key: pkcs1, want: CodeInvalidClient},
		{name: "HS256 with RSA DER", alg: "HS256", key: der, want: CodeInvalidClient},
		{name: "HS256 with RSA JWK JSON", alg: "HS256", key: jwkJSON, want: CodeInvalidClient},
		{name: "HS256 with EC DER", alg: "HS256", key: ecDER, want: CodeInvalidClient},
		{name: "ES384 not allowed", alg: "ES256", mutate: func(h, c map[string]any) { h["alg"] = "ES384" }, want: CodeInvalidClient},
		{name: "RS256 header, EC signature", alg: "ES256", mutate: func(h, c map[string]any) { h["alg"] = "RS256" }, want: CodeInvalidClient},
		{name: "crit header", alg: "ES256", mutate: func(h, c map[string]any) { h["crit"] = []string{"exp"} }, want: CodeInvalidClient},
		{name: "expired", alg: "ES256", mutate: func(h, c map[string]any) {
			c["iat"] = testNow.Add(-3 * time.Minute).Unix()
			c["exp"] = testNow.Add(-time.Minute).Unix()
		}, want: CodeInvalidClient},
		{name: "no exp", alg: "ES256", mutate: func(h, c map[string]any) { delete(c, "exp") }, want: CodeInvalidClient},
		{name: "exp not a number", alg: "ES256", mutate: func(h, c map[string]any) { c["exp"] = "soon" }, want: CodeInvalidClient},
		{name: "iat in the future", alg: "ES256", mutate: func(h, c map[string]any) {
			c["iat"] = testNow.Add(time.Minute).Unix()
			c["exp"] = testNow.Add(2 * time.Minute).Unix()
		}, want: CodeInvalidClient},
		{name: "nbf in the future", alg: "ES256", mutate: func(h, c map[string]any) { c["nbf"] = testNow.Add(time.Minute).Unix() }, want: CodeInvalidClient},
		{name: "lifetime too long", alg: "ES256", mutate: func(h, c map[string]any) { c["exp"] = testNow.Add(time.Hour).Unix() }, want: CodeInvalidClient},
		{name: "no iat, exp too far", alg: "ES256", mutate: func(h, c map[string]any) {
			delete(c, "iat")
			c["exp"] = testNow.Add(time.Hour).Unix()
		}, want: CodeInvalidClient},
		{name: "wrong aud", alg: "ES256", mutate: func(h, c map[string]any) { c["aud"] = "https://other.example" }, want: CodeInvalidClient},
		{name: "token URL aud under FAPI", alg: "ES256", audiences: []string{testIssuer}, want: CodeInvalidClient},
		{name: "no aud", alg: "ES256", mutate: func(h, c map[string]any) { delete(c, "aud") }, want: CodeInvalidClient},
		{name: "iss != sub", alg: "ES256", mutate: func(h, c map[string]any) { c["sub"] = "client-2" }, want: CodeInvalidClient},
		{name: "iss not the client", alg: "ES256", mutate: func(h, c map[string]any) { c["iss"] = "client-2"; c["sub"] = "client-2" }, want: CodeInvalidClient},
		{name: "client_id mismatch", alg: "ES256", clientID: "client-2", want: CodeInvalidClient},
		{name: "wrong assertion type", alg: "ES256", typ: "urn:ietf:params:oauth:client-assertion-type:saml2-bearer", want: CodeInvalidClient},
		{name: "missing jti", alg: "ES256", mutate: func(h, c map[string]any) { delete(c, "jti") }, want: CodeInvalidClient},
		{name: "empty jti", alg: "ES256", mutate: func(h, c map[string]any) { c["jti"] = "" }, want: CodeInvalidClient},
		{name: "malformed: empty", raw: "", want: CodeInvalidClient},
		{name: "malformed: two parts", raw: "eyJhbGciOiJFUzI1NiJ9.e30", want: CodeInvalidClient},
		{name: "malformed: garbage", raw: "a.b.c", want: CodeInvalidClient},
		{name: "malformed: header array", raw: b64([]byte(`["ES256"]`)) + ".e30.c2ln", want: CodeInvalidClient},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			v := newAssertionVerifier(storagetest.OpenMemory(t))
			h := map[string]any{"typ": "JWT", "kid": map[string]string{"RS256": "k0", "PS256": "k0", "ES256": "k1", "EdDSA": "k2"}[tc.alg]}
			c := assertionClaimsAt(testNow)
			if tc.mutate != nil {
				tc.mutate(h, c)
			}
			jwt := tc.raw
			if jwt == "" && !strings.HasPrefix(tc.name, "malformed") {
				key := tc.key
				if key == nil {
					key = keys.signer(tc.alg)
				}
				jwt = signJWS(t, tc.alg, key, h, c)
			}
			in := ClientAssertion{Type: ClientAssertionType, JWT: jwt, ClientID: tc.clientID}
			if tc.typ != "" {
				in.Type = tc.typ
			}
			auds := audiences
			if tc.audiences != nil {
				auds = tc.audiences
			}
			err := v.Verify(t.Context(), in, client, auds)
			t.Logf("Verify = %v", err)
			wantCode(t, "Verify("+tc.name+")", err, tc.want)
			if err != nil {
				var e *Error
				errors.As(err, &e)
				if e.Description != "client authentication failed" || e.Status != 401 {
					t.Errorf("Verify(%s) = %q status %d, want the generic description and 401", tc.name, e.Description, e.Status)
				}
			}
		})
	}
}

func TestClientAssertionReplay(t *testing.T) {
	keys := newTestKeys(t)
	client := ClientKeys{ID: testClient, Keys: keys.clientSet(t)}
	s := storagetest.OpenMemory(t)
	v := newAssertionVerifier(s)
	c := assertionClaimsAt(testNow)
	jwt := signJWS(t, "ES256", keys.ec, map[string]any{"kid": "k1"}, c)
	in := ClientAssertion{Type: ClientAssertionType, JWT: jwt}
	aud := []string{testIssuer, testTokenURL}
	wantCode(t, "Verify(first)", v.Verify(t.Context(), in, client, aud), "")
	wantCode(t, "Verify(replay)", v.Verify(t.Context(), in, client, aud), CodeInvalidClient)

	// A new assertion with the same jti, even differently signed, is a replay.
	again := signJWS(t, "RS256", keys.rsa, map[string]any{"kid": "k0"}, c)
	wantCode(t, "Verify(same jti)", v.Verify(t.Context(), ClientAssertion{Type: ClientAssertionType, JWT: again}, client, aud), CodeInvalidClient)

	// The jti is recorded under the documented key.
	sum := sha256.Sum256([]byte(c["jti"].(string)))
	if _, err := s.Get(t.Context(), fmt.Sprintf("oidc:jti:%s:%x", testClient, sum)); err != nil {
		t.Errorf("Get(jti key) = %v, want the recorded jti", err)
	}

	// The same jti from another client is that client's own.
	other := ClientKeys{ID: "client-2", Keys: client.Keys}
	c2 := maps.Clone(c)
	c2["iss"], c2["sub"] = "client-2", "client-2"
	jwt2 := signJWS(t, "ES256", keys.ec, nil, c2)
	wantCode(t, "Verify(other client, same jti)", v.Verify(t.Context(), ClientAssertion{Type: ClientAssertionType, JWT: jwt2}, other, aud), "")
}

func TestClientAssertionConfig(t *testing.T) {
	keys := newTestKeys(t)
	client := ClientKeys{ID: testClient, Keys: keys.clientSet(t)}
	jwt := signJWS(t, "ES256", keys.ec, nil, assertionClaimsAt(testNow))
	in := ClientAssertion{Type: ClientAssertionType, JWT: jwt}
	tests := []struct {
		name   string
		v      *ClientAssertionVerifier
		client ClientKeys
		aud    []string
		want   string
	}{
		{"no state", &ClientAssertionVerifier{Now: func() time.Time { return testNow }}, client, []string{testTokenURL}, CodeServerError},
		{"no audiences", newAssertionVerifier(storagetest.OpenMemory(t)), client, nil, CodeServerError},
		{"no client keys", newAssertionVerifier(storagetest.OpenMemory(t)), ClientKeys{ID: testClient}, []string{testTokenURL}, CodeInvalidClient},
		{"empty key set", newAssertionVerifier(storagetest.OpenMemory(t)), ClientKeys{ID: testClient, Keys: jwk.NewSet()}, []string{testTokenURL}, CodeInvalidClient},
		{"storage down", newAssertionVerifier(brokenState{}), client, []string{testTokenURL}, CodeServerError},
		{"short max lifetime", &ClientAssertionVerifier{State: storagetest.OpenMemory(t), Now: func() time.Time { return testNow }, MaxLifetime: time.Minute}, client, []string{testTokenURL}, CodeInvalidClient},
		{"no leeway past exp", &ClientAssertionVerifier{State: storagetest.OpenMemory(t), Now: func() time.Time { return testNow.Add(2*time.Minute + time.Second) }, Leeway: time.Nanosecond}, client, []string{testTokenURL}, CodeInvalidClient},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			wantCode(t, "Verify", tc.v.Verify(t.Context(), in, tc.client, tc.aud), tc.want)
		})
	}
}

// TestClientAssertionKeyTypes checks that symmetric registered keys are
// never used. (RSA keys under 2048 bits are refused by jwx already when
// the client's JWK set is parsed; publicKeyFor refuses them too.)
func TestClientAssertionKeyTypes(t *testing.T) {
	keys := newTestKeys(t)
	secret := []byte("0123456789abcdef0123456789abcdef")
	oct, err := jwk.Import(secret)
	if err != nil {
		t.Fatal(err)
	}
	set := jwk.NewSet()
	if err := set.AddKey(oct); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		set  jwk.Set
		alg  string
		key  any
	}{
		{"HS256 with registered oct key", set, "HS256", secret},
		{"ES256 with registered oct key", set, "ES256", keys.ec},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			v := newAssertionVerifier(storagetest.OpenMemory(t))
			jwt := signJWS(t, tc.alg, tc.key, nil, assertionClaimsAt(testNow))
			err := v.Verify(t.Context(), ClientAssertion{Type: ClientAssertionType, JWT: jwt}, ClientKeys{ID: testClient, Keys: tc.set}, []string{testTokenURL})
			wantCode(t, "Verify", err, CodeInvalidClient)
		})
	}
}

func TestClientAssertionConcurrent(t *testing.T) {
	backends := []struct {
		name string
		open func(t *testing.T) storage.State
	}{
		{"memory", func(t *testing.T) storage.State { return storagetest.OpenMemory(t) }},
		{"redis", func(t *testing.T) storage.State { return storagetest.OpenRedis(t) }},
	}
	keys := newTestKeys(t)
	client := ClientKeys{ID: testClient, Keys: keys.clientSet(t)}
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			v := newAssertionVerifier(b.open(t))
			jwt := signJWS(t, "ES256", keys.ec, map[string]any{"kid": "k1"}, assertionClaimsAt(testNow))
			in := ClientAssertion{Type: ClientAssertionType, JWT: jwt}
			const n = 50
			var ok, refused atomic.Int32
			var wg sync.WaitGroup
			start := make(chan struct{})
			for range n {
				wg.Go(func() {
					<-start
					err := v.Verify(t.Context(), in, client, []string{testTokenURL})
					switch {
					case err == nil:
						ok.Add(1)
					case HasCode(err, CodeInvalidClient):
						refused.Add(1)
					default:
						t.Errorf("Verify = %v, want nil or invalid_client", err)
					}
				})
			}
			close(start)
			wg.Wait()
			if ok.Load() != 1 || refused.Load() != n-1 {
				t.Errorf("%d concurrent Verify: %d accepted, %d refused; want 1 and %d", n, ok.Load(), refused.Load(), n-1)
			}
		})
	}
}

func FuzzClientAssertion(f *testing.F) {
	keys := newTestKeys(f)
	client := ClientKeys{ID: testClient, Keys: keys.clientSet(f)}
	for _, alg := range []string{"ES256", "RS256", "PS256", "EdDSA"} {
		f.Add(signJWS(f, alg, keys.signer(alg), nil, assertionClaimsAt(testNow)), testClient)
	}
	f.Add(signJWS(f, "none", nil, nil, assertionClaimsAt(testNow)), "")
	f.Add(signJWS(f, "HS256", []byte("secret"), nil, assertionClaimsAt(testNow)), testClient)
	f.Add(signJWS(f, "ES256", keys.ec, map[string]any{"crit": []string{"b64"}, "b64": false}, assertionClaimsAt(testNow)), "")
	f.Add(signJWS(f, "ES256", keys.ec, nil, []byte(`{"aud":[1,2],"exp":1e400}`)), "")
	f.Add(signJWS(f, "ES256", keys.ec, nil, []byte(`[]`)), "")
	f.Add("", "")
	f.Add("...", "x")
	f.Add("eyJhbGciOiJFUzI1NiJ9.e30.", testClient)
	f.Add("e30.e30.e30", testClient)
	s := storagetest.OpenMemory(f)
	v := newAssertionVerifier(s)
	f.Fuzz(func(t *testing.T, jwt, clientID string) {
		err := v.Verify(t.Context(), ClientAssertion{Type: ClientAssertionType, JWT: jwt, ClientID: clientID}, client, []string{testIssuer, testTokenURL})
		if err != nil && !HasCode(err, CodeInvalidClient) {
			t.Fatalf("Verify = %v, want nil or invalid_client", err)
		}
	})
}

// brokenState is a State whose backend is down.
type brokenState struct{ storage.State }

var errBackendDown = errors.New("backend down")

func (brokenState) Put(context.Context, string, []byte, time.Duration) error { return errBackendDown }
func (brokenState) PutNew(context.Context, string, []byte, time.Duration) (bool, error) {
	return false, errBackendDown
}
func (brokenState) Get(context.Context, string) ([]byte, error) { return nil, errBackendDown }

// ttlState records the TTL of every PutNew.
type ttlState struct {
	storage.State
	mu   sync.Mutex
	ttls map[string]time.Duration
}

func (s *ttlState) PutNew(ctx context.Context, key string, value []byte, ttl time.Duration) (bool, error) {
	s.mu.Lock()
	s.ttls[key] = ttl
	s.mu.Unlock()
	return s.State.PutNew(ctx, key, value, ttl)
}

// TestClientAssertionJTIRetention checks how long a jti is remembered:
// until its assertion can no longer be accepted (exp plus the leeway, plus
// a margin), not a fixed day; ReplayWindow can lengthen it.
func TestClientAssertionJTIRetention(t *testing.T) {
	keys := newTestKeys(t)
	client := ClientKeys{ID: testClient, Keys: keys.clientSet(t)}
	aud := []string{testIssuer, testTokenURL}
	tests := []struct {
		name   string
		now    time.Time // when the assertion is presented
		exp    time.Time
		window time.Duration
		want   time.Duration
	}{
		{"fresh assertion", testNow, testNow.Add(2 * time.Minute), 0, 2*time.Minute + DefaultAssertionLeeway + jtiMargin},
		{"presented late", testNow.Add(2 * time.Minute), testNow.Add(2 * time.Minute), 0, DefaultAssertionLeeway + jtiMargin},
		{"within the leeway after exp", testNow.Add(2*time.Minute + 20*time.Second), testNow.Add(2 * time.Minute), 0, 10*time.Second + jtiMargin},
		{"fractional exp", testNow, testNow.Add(90*time.Second + 500*time.Millisecond), 0, 90*time.Second + 500*time.Millisecond + DefaultAssertionLeeway + jtiMargin},
		{"longer replay window", testNow, testNow.Add(2 * time.Minute), time.Hour, time.Hour},
		{"shorter replay window", testNow, testNow.Add(2 * time.Minute), time.Second, 2*time.Minute + DefaultAssertionLeeway + jtiMargin},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := &ttlState{State: storagetest.OpenMemory(t), ttls: map[string]time.Duration{}}
			v := &ClientAssertionVerifier{State: s, Now: func() time.Time { return tt.now }, ReplayWindow: tt.window}
			c := assertionClaimsAt(testNow)
			c["exp"] = float64(tt.exp.UnixMilli()) / 1000
			jwt := signJWS(t, "ES256", keys.ec, map[string]any{"kid": "k1"}, c)
			wantCode(t, "Verify", v.Verify(t.Context(), ClientAssertion{Type: ClientAssertionType, JWT: jwt}, client, aud), "")
			sum := sha256.Sum256([]byte(c["jti"].(string)))
			got, ok := s.ttls[fmt.Sprintf("oidc:jti:%s:%x", testClient, sum)]
			if !ok {
				t.Fatalf("no jti recorded; recorded %v", s.ttls)
			}
			if got != tt.want {
				t.Errorf("jti TTL = %s, want %s", got, tt.want)
			}
			// Never shorter than the assertion's acceptance.
			if last := tt.exp.Add(DefaultAssertionLeeway); tt.now.Add(got).Before(last) {
				t.Errorf("jti forgotten at %s, before the assertion stops being accepted at %s", tt.now.Add(got), last)
			}
		})
	}
}

// TestClientAssertionKeyCache checks that assertions are verified with the
// client's keys as exported once, that a new key set (a rotated key) is
// used as it is, and that the cache stays bounded.
func TestClientAssertionKeyCache(t *testing.T) {
	keys := newTestKeys(t)
	v := newAssertionVerifier(storagetest.OpenMemory(t))
	aud := []string{testIssuer, testTokenURL}
	verify := func(set jwk.Set, signer crypto.Signer, alg, kid, want string) {
		t.Helper()
		jwt := signJWS(t, alg, signer, map[string]any{"kid": kid}, assertionClaimsAt(testNow))
		wantCode(t, "Verify("+kid+")", v.Verify(t.Context(), ClientAssertion{Type: ClientAssertionType, JWT: jwt},
			ClientKeys{ID: testClient, Keys: set}, aud), want)
	}
	set := keys.clientSet(t)
	verify(set, keys.ec, "ES256", "k1", "")
	k, _ := set.Key(1)
	first, err := v.keys.export(k)
	if err != nil {
		t.Fatal(err)
	}
	verify(set, keys.ec, "ES256", "k1", "")
	if again, _ := v.keys.export(k); again != first {
		t.Error("the key was exported again, want it cached")
	}
	// The client's key is rotated: a new set with another key under the
	// same kid. The old key no longer verifies, the new one does.
	rotated := jwk.NewSet()
	if err := rotated.AddKey(publicJWK(t, keys.otherEC, "k1")); err != nil {
		t.Fatal(err)
	}
	verify(rotated, keys.ec, "ES256", "k1", CodeInvalidClient)
	verify(rotated, keys.otherEC, "ES256", "k1", "")

	for i := range maxRawKeys + 10 {
		if _, err := v.keys.export(publicJWK(t, keys.ec, fmt.Sprintf("n%d", i))); err != nil {
			t.Fatal(err)
		}
	}
	v.keys.mu.Lock()
	n := len(v.keys.m)
	v.keys.mu.Unlock()
	if n > maxRawKeys {
		t.Errorf("the cache holds %d keys, want at most %d", n, maxRawKeys)
	}
}
