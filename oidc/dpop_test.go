package oidc

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/lestrrat-go/jwx/v3/jwk"

	"github.com/sanad-id/sanad/storage"
	"github.com/sanad-id/sanad/storage/storagetest"
)

const testTokenEndpoint = "https://id.example.org/oauth/v2/token"

func newDPoPVerifier(s storage.State) *DPoPVerifier {
	return &DPoPVerifier{State: s, Now: func() time.Time { return testNow }}
}

func dpopClaimsAt(now time.Time) map[string]any {
	return map[string]any{
		"jti": rand.Text(),
		"htm": "POST",
		"htu": testTokenEndpoint,
		"iat": now.Unix(),
	}
}

// dpopHeader is the header of a proof signed by key.
func dpopHeader(t testing.TB, key crypto.Signer) map[string]any {
	t.Helper()
	return map[string]any{"typ": "dpop+jwt", "jwk": publicJWK(t, key, "")}
}

// ecThumbprint computes the RFC 7638 thumbprint of an EC P-256 key by hand.
func ecThumbprint(k *ecdsa.PrivateKey) string {
	pub, err := k.PublicKey.Bytes() // 0x04 || X || Y
	if err != nil {
		panic(err)
	}
	canon := `{"crv":"P-256","kty":"EC","x":"` + b64(pub[1:33]) + `","y":"` + b64(pub[33:]) + `"}`
	sum := sha256.Sum256([]byte(canon))
	return b64(sum[:])
}

func TestDPoP(t *testing.T) {
	keys := newTestKeys(t)
	privJWK, err := jwk.Import(keys.ec)
	if err != nil {
		t.Fatal(err)
	}
	privRSA, err := jwk.Import(keys.rsa)
	if err != nil {
		t.Fatal(err)
	}
	const token = "access-token-value"
	tokenSum := sha256.Sum256([]byte(token))
	ath := b64(tokenSum[:])

	type mutate func(h, c map[string]any)
	tests := []struct {
		name   string
		alg    string // default ES256
		key    any    // signing key; default keys.signer(alg)
		jwkKey crypto.Signer
		method string
		url    string
		token  string
		mutate mutate
		raw    string
		want   string
	}{
		{name: "valid ES256"},
		{name: "valid RS256", alg: "RS256", jwkKey: keys.rsa},
		{name: "valid PS256", alg: "PS256", jwkKey: keys.rsa},
		{name: "valid EdDSA", alg: "EdDSA", jwkKey: keys.ed},
		{name: "typ case-insensitive", mutate: func(h, c map[string]any) { h["typ"] = "DPoP+JWT" }},
		{name: "htu query stripped", url: testTokenEndpoint + "?x=1#f"},
		{name: "htu with query in proof", mutate: func(h, c map[string]any) { c["htu"] = testTokenEndpoint + "?a=b" }},
		{name: "htu host case", mutate: func(h, c map[string]any) { c["htu"] = "HTTPS://ID.Example.ORG/oauth/v2/token" }},
		{name: "htu default port", mutate: func(h, c map[string]any) { c["htu"] = "https://id.example.org:443/oauth/v2/token" }},
		{name: "htu default port in request URL", url: "https://id.example.org:443/oauth/v2/token"},
		{name: "htu http default port", url: "http://localhost/token", mutate: func(h, c map[string]any) { c["htu"] = "http://LOCALHOST:80/token" }},
		{name: "htu empty path", url: "https://id.example.org/", mutate: func(h, c map[string]any) { c["htu"] = "https://id.example.org" }},
		{name: "iat at window edge", mutate: func(h, c map[string]any) { c["iat"] = testNow.Add(-60 * time.Second).Unix() }},
		{name: "iat slightly ahead", mutate: func(h, c map[string]any) { c["iat"] = testNow.Add(30 * time.Second).Unix() }},
		{name: "ath matches", method: "GET", url: "https://id.example.org/oidc/userinfo", token: token, mutate: func(h, c map[string]any) {
			c["htm"], c["htu"], c["ath"] = "GET", "https://id.example.org/oidc/userinfo", ath
		}},

		{name: "wrong htm", method: "GET", want: CodeInvalidDPoPProof},
		{name: "htm lower case", mutate: func(h, c map[string]any) { c["htm"] = "post" }, want: CodeInvalidDPoPProof},
		{name: "wrong htu path", mutate: func(h, c map[string]any) { c["htu"] = "https://id.example.org/oauth/token" }, want: CodeInvalidDPoPProof},
		{name: "wrong htu host", mutate: func(h, c map[string]any) { c["htu"] = "https://evil.example.org/oauth/v2/token" }, want: CodeInvalidDPoPProof},
		{name: "wrong htu scheme", mutate: func(h, c map[string]any) { c["htu"] = "http://id.example.org/oauth/v2/token" }, want: CodeInvalidDPoPProof},
		{name: "wrong htu port", mutate: func(h, c map[string]any) { c["htu"] = "https://id.example.org:8443/oauth/v2/token" }, want: CodeInvalidDPoPProof},
		{name: "htu relative", mutate: func(h, c map[string]any) { c["htu"] = "/oauth/v2/token" }, want: CodeInvalidDPoPProof},
		{name: "no htu", mutate: func(h, c map[string]any) { delete(c, "htu") }, want: CodeInvalidDPoPProof},
		{name: "iat too old", mutate: func(h, c map[string]any) { c["iat"] = testNow.Add(-61 * time.Second).Unix() }, want: CodeInvalidDPoPProof},
		{name: "iat too new", mutate: func(h, c map[string]any) { c["iat"] = testNow.Add(61 * time.Second).Unix() }, want: CodeInvalidDPoPProof},
		{name: "no iat", mutate: func(h, c map[string]any) { delete(c, "iat") }, want: CodeInvalidDPoPProof},
		{name: "no jti", mutate: func(h, c map[string]any) { delete(c, "jti") }, want: CodeInvalidDPoPProof},
		{name: "typ JWT", mutate: func(h, c map[string]any) { h["typ"] = "JWT" }, want: CodeInvalidDPoPProof},
		{name: "no typ", mutate: func(h, c map[string]any) { delete(h, "typ") }, want: CodeInvalidDPoPProof},
		{name: "private EC key in jwk", mutate: func(h, c map[string]any) { h["jwk"] = privJWK }, want: CodeInvalidDPoPProof},
		{name: "private RSA key in jwk", alg: "RS256", mutate: func(h, c map[string]any) { h["jwk"] = privRSA }, want: CodeInvalidDPoPProof},
		{name: "no jwk", mutate: func(h, c map[string]any) { delete(h, "jwk") }, want: CodeInvalidDPoPProof},
		{name: "jwk not an object", mutate: func(h, c map[string]any) { h["jwk"] = "key" }, want: CodeInvalidDPoPProof},
		{name: "kid instead of jwk", mutate: func(h, c map[string]any) { delete(h, "jwk"); h["kid"] = "k1" }, want: CodeInvalidDPoPProof},
		{name: "alg none", alg: "none", want: CodeInvalidDPoPProof},
		{name: "HS256 with oct jwk", alg: "HS256", key: []byte("secret-secret-secret-secret-1234"), mutate: func(h, c map[string]any) {
			h["jwk"] = map[string]string{"kty": "oct", "k": b64([]byte("secret-secret-secret-secret-1234"))}
		}, want: CodeInvalidDPoPProof},
		{name: "HS256 with EC jwk JSON as secret", alg: "HS256", key: mustJSON(t, publicJWK(t, keys.ec, "")), want: CodeInvalidDPoPProof},
		{name: "alg does not fit jwk", alg: "RS256", jwkKey: keys.ec, key: keys.rsa, want: CodeInvalidDPoPProof},
		{name: "signed by another key", key: keys.otherEC, want: CodeInvalidDPoPProof},
		{name: "ath mismatch", method: "GET", url: "https://id.example.org/oidc/userinfo", token: "other-token", mutate: func(h, c map[string]any) {
			c["htm"], c["htu"], c["ath"] = "GET", "https://id.example.org/oidc/userinfo", ath
		}, want: CodeInvalidDPoPProof},
		{name: "ath missing", method: "GET", url: "https://id.example.org/oidc/userinfo", token: token, mutate: func(h, c map[string]any) {
			c["htm"], c["htu"] = "GET", "https://id.example.org/oidc/userinfo"
		}, want: CodeInvalidDPoPProof},
		{name: "claims not an object", raw: "claims", want: CodeInvalidDPoPProof},
		{name: "malformed", raw: "not.a.jwt", want: CodeInvalidDPoPProof},
		{name: "empty", raw: "empty", want: CodeInvalidDPoPProof},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			alg := tc.alg
			if alg == "" {
				alg = "ES256"
			}
			jwkKey := tc.jwkKey
			if jwkKey == nil {
				jwkKey = keys.ec
			}
			key := tc.key
			if key == nil {
				key = keys.signer(alg)
			}
			h, c := dpopHeader(t, jwkKey), dpopClaimsAt(testNow)
			if tc.mutate != nil {
				tc.mutate(h, c)
			}
			var proof string
			switch tc.raw {
			case "":
				proof = signJWS(t, alg, key, h, c)
			case "claims":
				proof = signJWS(t, alg, key, h, []byte(`["htm"]`))
			case "empty":
			default:
				proof = tc.raw
			}
			req := DPoPRequest{Proof: proof, Method: "POST", URL: testTokenEndpoint, AccessToken: tc.token}
			if tc.method != "" {
				req.Method = tc.method
			}
			if tc.url != "" {
				req.URL = tc.url
			}
			v := newDPoPVerifier(storagetest.OpenMemory(t))
			jkt, err := v.Verify(t.Context(), req)
			t.Logf("Verify = %q, %v", jkt, err)
			wantCode(t, "Verify("+tc.name+")", err, tc.want)
			if err != nil {
				return
			}
			pk, err := jwk.Import(jwkKey.Public())
			if err != nil {
				t.Fatal(err)
			}
			tp, err := pk.Thumbprint(crypto.SHA256)
			if err != nil {
				t.Fatal(err)
			}
			if jkt != b64(tp) {
				t.Errorf("Verify(%s) jkt = %q, want %q", tc.name, jkt, b64(tp))
			}
		})
	}
}

func TestDPoPThumbprint(t *testing.T) {
	keys := newTestKeys(t)
	v := newDPoPVerifier(storagetest.OpenMemory(t))
	h := dpopHeader(t, keys.ec)
	// Members beyond the required ones do not change the thumbprint.
	k := publicJWK(t, keys.ec, "some-kid")
	if err := k.Set(jwk.AlgorithmKey, "ES256"); err != nil {
		t.Fatal(err)
	}
	h["jwk"] = k
	proof := signJWS(t, "ES256", keys.ec, h, dpopClaimsAt(testNow))
	jkt, err := v.Verify(t.Context(), DPoPRequest{Proof: proof, Method: "POST", URL: testTokenEndpoint})
	if err != nil {
		t.Fatalf("Verify = %v", err)
	}
	if want := ecThumbprint(keys.ec); jkt != want {
		t.Errorf("Verify jkt = %q, want RFC 7638 thumbprint %q", jkt, want)
	}
	tp, err := k.Thumbprint(crypto.SHA256)
	if err != nil {
		t.Fatal(err)
	}
	if jkt != b64(tp) {
		t.Errorf("Verify jkt = %q, want jwx thumbprint %q", jkt, b64(tp))
	}
}

func TestDPoPReplay(t *testing.T) {
	keys := newTestKeys(t)
	v := newDPoPVerifier(storagetest.OpenMemory(t))
	c := dpopClaimsAt(testNow)
	proof := signJWS(t, "ES256", keys.ec, dpopHeader(t, keys.ec), c)
	req := DPoPRequest{Proof: proof, Method: "POST", URL: testTokenEndpoint}
	if _, err := v.Verify(t.Context(), req); err != nil {
		t.Fatalf("Verify(first) = %v", err)
	}
	_, err := v.Verify(t.Context(), req)
	wantCode(t, "Verify(replay)", err, CodeInvalidDPoPProof)

	// The same jti under another key is that key's own.
	other := signJWS(t, "ES256", keys.otherEC, dpopHeader(t, keys.otherEC), c)
	if _, err := v.Verify(t.Context(), DPoPRequest{Proof: other, Method: "POST", URL: testTokenEndpoint}); err != nil {
		t.Errorf("Verify(other key, same jti) = %v, want nil", err)
	}
}

func TestDPoPConcurrent(t *testing.T) {
	backends := []struct {
		name string
		open func(t *testing.T) storage.State
	}{
		{"memory", func(t *testing.T) storage.State { return storagetest.OpenMemory(t) }},
		{"redis", func(t *testing.T) storage.State { return storagetest.OpenRedis(t) }},
	}
	keys := newTestKeys(t)
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			v := newDPoPVerifier(b.open(t))
			req := DPoPRequest{Proof: signJWS(t, "ES256", keys.ec, dpopHeader(t, keys.ec), dpopClaimsAt(testNow)), Method: "POST", URL: testTokenEndpoint}
			const n = 50
			var ok atomic.Int32
			var wg sync.WaitGroup
			for range n {
				wg.Go(func() {
					_, err := v.Verify(t.Context(), req)
					switch {
					case err == nil:
						ok.Add(1)
					case !HasCode(err, CodeInvalidDPoPProof):
						t.Errorf("Verify = %v, want nil or invalid_dpop_proof", err)
					}
				})
			}
			wg.Wait()
			if ok.Load() != 1 {
				t.Errorf("%d concurrent Verify accepted %d, want 1", n, ok.Load())
			}
		})
	}
}

func TestDPoPNonce(t *testing.T) {
	keys := newTestKeys(t)
	v := newDPoPVerifier(storagetest.OpenMemory(t))
	v.RequireNonce = true
	proof := func(nonce string) DPoPRequest {
		c := dpopClaimsAt(testNow)
		if nonce != "" {
			c["nonce"] = nonce
		}
		return DPoPRequest{Proof: signJWS(t, "ES256", keys.ec, dpopHeader(t, keys.ec), c), Method: "POST", URL: testTokenEndpoint}
	}

	_, err := v.Verify(t.Context(), proof(""))
	wantCode(t, "Verify(no nonce)", err, CodeUseDPoPNonce)
	var e *Error
	errors.As(err, &e)
	if e.DPoPNonce == "" {
		t.Fatalf("Verify(no nonce) = %v with no DPoPNonce", err)
	}
	if _, err := v.Verify(t.Context(), proof(e.DPoPNonce)); err != nil {
		t.Fatalf("Verify(with issued nonce) = %v, want nil", err)
	}
	// A nonce serves several proofs while it lives.
	if _, err := v.Verify(t.Context(), proof(e.DPoPNonce)); err != nil {
		t.Fatalf("Verify(issued nonce again, new jti) = %v, want nil", err)
	}

	_, err = v.Verify(t.Context(), proof("made-up-nonce"))
	wantCode(t, "Verify(unknown nonce)", err, CodeUseDPoPNonce)
	var e2 *Error
	errors.As(err, &e2)
	if e2.DPoPNonce == "" || e2.DPoPNonce == e.DPoPNonce {
		t.Errorf("Verify(unknown nonce) DPoPNonce = %q, want a fresh nonce", e2.DPoPNonce)
	}

	n, err := v.NewNonce(t.Context())
	if err != nil {
		t.Fatalf("NewNonce = %v", err)
	}
	if _, err := v.Verify(t.Context(), proof(n)); err != nil {
		t.Errorf("Verify(NewNonce value) = %v, want nil", err)
	}

	// A nonce from another verifier's state (expired here) is stale.
	other := newDPoPVerifier(storagetest.OpenMemory(t))
	stale, err := other.NewNonce(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	_, err = v.Verify(t.Context(), proof(stale))
	wantCode(t, "Verify(stale nonce)", err, CodeUseDPoPNonce)

	// Without RequireNonce, nonces are not checked.
	v.RequireNonce = false
	if _, err := v.Verify(t.Context(), proof("whatever")); err != nil {
		t.Errorf("Verify(nonce not required) = %v, want nil", err)
	}
}

func TestDPoPStorageDown(t *testing.T) {
	keys := newTestKeys(t)
	for _, requireNonce := range []bool{false, true} {
		v := newDPoPVerifier(brokenState{})
		v.RequireNonce = requireNonce
		c := dpopClaimsAt(testNow)
		c["nonce"] = "n"
		req := DPoPRequest{Proof: signJWS(t, "ES256", keys.ec, dpopHeader(t, keys.ec), c), Method: "POST", URL: testTokenEndpoint}
		_, err := v.Verify(t.Context(), req)
		wantCode(t, fmt.Sprintf("Verify(RequireNonce=%v)", requireNonce), err, CodeServerError)
	}
	_, err := newDPoPVerifier(brokenState{}).NewNonce(t.Context())
	wantCode(t, "NewNonce", err, CodeServerError)
}

func TestNormalizeHTU(t *testing.T) {
	tests := []struct {
		in, want string
	}{
		{"https://id.example.org/token", "https://id.example.org/token"},
		{"HTTPS://ID.EXAMPLE.ORG/token", "https://id.example.org/token"},
		{"https://id.example.org:443/token?x=1#y", "https://id.example.org/token"},
		{"http://id.example.org:80/token", "http://id.example.org/token"},
		{"http://id.example.org:443/token", "http://id.example.org:443/token"},
		{"https://id.example.org:8443/token", "https://id.example.org:8443/token"},
		{"https://id.example.org", "https://id.example.org/"},
		{"https://[::1]:443/t", "https://[::1]/t"},
		{"https://[::1]:8443/t", "https://[::1]:8443/t"},
		{"https://id.example.org/a%2fb", "https://id.example.org/a%2Fb"},
		{"https://id.example.org/Token", "https://id.example.org/Token"},
		{"ftp://id.example.org/t", ""},
		{"/token", ""},
		{"https:///token", ""},
		{"https://user@id.example.org/t", ""},
		{"mailto:a@b", ""},
		{"%", ""},
	}
	for _, tc := range tests {
		got, err := NormalizeHTU(tc.in)
		if tc.want == "" {
			if err == nil {
				t.Errorf("NormalizeHTU(%q) = %q, want an error", tc.in, got)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("NormalizeHTU(%q) = %q, %v, want %q", tc.in, got, err, tc.want)
		}
	}
}

func TestDPoPBinding(t *testing.T) {
	tests := []struct {
		name string
		fn   func(bound, proof string) error
		bound, proof,
		want string
	}{
		{"authorize match", CheckAuthorizeJKT, "abc", "abc", ""},
		{"authorize unbound", CheckAuthorizeJKT, "", "abc", ""},
		{"authorize mismatch", CheckAuthorizeJKT, "abc", "abd", CodeInvalidDPoPProof},
		{"authorize no proof", CheckAuthorizeJKT, "abc", "", CodeInvalidDPoPProof},
		{"token match", CheckTokenJKT, "abc", "abc", ""},
		{"token mismatch", CheckTokenJKT, "abc", "xyz", CodeInvalidToken},
		{"token not bound", CheckTokenJKT, "", "abc", CodeInvalidToken},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			wantCode(t, tc.name, tc.fn(tc.bound, tc.proof), tc.want)
		})
	}
}

func FuzzDPoP(f *testing.F) {
	keys := newTestKeys(f)
	for _, alg := range []string{"ES256", "RS256", "PS256", "EdDSA"} {
		signer := keys.signer(alg).(crypto.Signer)
		f.Add(signJWS(f, alg, signer, dpopHeader(f, signer), dpopClaimsAt(testNow)), "POST", testTokenEndpoint, "")
	}
	c := dpopClaimsAt(testNow)
	c["ath"] = "x"
	f.Add(signJWS(f, "ES256", keys.ec, dpopHeader(f, keys.ec), c), "GET", "https://id.example.org/oidc/userinfo?x", "tok")
	f.Add(signJWS(f, "none", nil, dpopHeader(f, keys.ec), dpopClaimsAt(testNow)), "POST", testTokenEndpoint, "")
	f.Add(signJWS(f, "ES256", keys.ec, map[string]any{"typ": "dpop+jwt", "jwk": json.RawMessage(`{"kty":"EC","crv":"P-256","x":"","y":""}`)}, dpopClaimsAt(testNow)), "POST", testTokenEndpoint, "")
	f.Add(signJWS(f, "ES256", keys.ec, map[string]any{"typ": "dpop+jwt", "jwk": json.RawMessage(`{"kty":"RSA","n":"AQAB","e":"AQAB"}`)}, []byte(`{"iat":1e309}`)), "POST", "http://[::1", "")
	f.Add("", "", "", "")
	f.Add("..", "POST", "https://x", "t")
	f.Add("eyJ0eXAiOiJkcG9wK2p3dCIsImFsZyI6IkVTMjU2IiwiandrIjp7fX0.e30.AA", "POST", testTokenEndpoint, "")
	v := newDPoPVerifier(storagetest.OpenMemory(f))
	v.RequireNonce = true
	f.Fuzz(func(t *testing.T, proof, method, url, token string) {
		jkt, err := v.Verify(t.Context(), DPoPRequest{Proof: proof, Method: method, URL: url, AccessToken: token})
		if err == nil && jkt == "" {
			t.Fatal("Verify accepted a proof without returning a thumbprint")
		}
		var e *Error
		if err != nil && !errors.As(err, &e) {
			t.Fatalf("Verify = %v, not an *Error", err)
		}
		if err != nil && len(proof) >= 16 && strings.Contains(e.Description, proof) {
			t.Fatalf("Verify description %q echoes the proof", e.Description)
		}
	})
}
