package oidc

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/rsa"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/lestrrat-go/jwx/v3/jwa"
	"github.com/lestrrat-go/jwx/v3/jwe"
)

// wantUserinfo are the claims of e.grant's userinfo response.
var wantUserinfo = map[string]any{
	"sub": tkSubject, "name": "Amina Diallo", "name#fr": "Amina Diallo (fr)", "name#ar": "أمينة ديالو",
	"email": "amina@example.org",
}

// checkUserinfoClaims compares claims with wantUserinfo plus extra.
func checkUserinfoClaims(t *testing.T, claims map[string]any, extra map[string]any) {
	t.Helper()
	want := map[string]any{}
	for k, v := range wantUserinfo {
		want[k] = v
	}
	for k, v := range extra {
		want[k] = v
	}
	for k, v := range want {
		if claims[k] != v {
			t.Errorf("userinfo %s = %v, want %v", k, claims[k], v)
		}
	}
	for k := range claims {
		if _, ok := want[k]; !ok {
			t.Errorf("userinfo has %s = %v, not released", k, claims[k])
		}
	}
}

func TestUserinfoResponses(t *testing.T) {
	e := tkNewEnv(t)
	rsaKey := tkKey(t, "RS256")
	rsaKey2 := tkKey(t, "RS256")
	ecKey := tkKey(t, "ES256")
	encKey := tkKey(t, "RS256")
	encJWK := mustJSON(t, publicJWK(t, encKey, "enc-1"))
	jwtClaims := map[string]any{"iss": testIssuer, "iat": float64(testNow.Unix())}

	tests := []struct {
		name    string
		alg     string        // client key
		key     crypto.Signer // client key, nil for a fresh one
		config  string
		method  string
		accept  string
		json    bool          // a plain JSON answer
		idAlg   string        // signature of the JWS
		decrypt crypto.Signer // the JWE's key; nil for a JWS
		encAlg  string
		kid     string // the JWE's kid; "" for the registered key's
	}{
		{name: "JWS by default", alg: "ES256", idAlg: "RS256"},
		{name: "JWS registered", alg: "ES256", config: `{"userinfo_response_type":"JWS","id_token_signed_response_alg":"ES256"}`, idAlg: "ES256"},
		{name: "JWS with POST", alg: "ES256", method: http.MethodPost, idAlg: "RS256"},
		{name: "JWS asked for JSON", alg: "ES256", accept: "application/json", json: true},
		{name: "JWS asked for JSON or JWT", alg: "ES256", accept: "application/json, application/jwt", idAlg: "RS256"},
		{name: "JWS asked for anything", alg: "ES256", accept: "*/*", idAlg: "RS256"},
		{name: "JWS refusing JWT", alg: "ES256", accept: "application/json, application/jwt;q=0", json: true},
		{name: "JSON registered", alg: "EdDSA", config: `{"userinfo_response_type":"JSON"}`, json: true},
		{name: "JWE to the registered RSA key", alg: "RS256", key: rsaKey, config: `{"userinfo_response_type":"JWE"}`,
			idAlg: "RS256", decrypt: rsaKey, encAlg: "RSA-OAEP-256"},
		{name: "JWE to the registered EC key", alg: "ES256", key: ecKey,
			config: `{"userinfo_response_type":"JWE","id_token_signed_response_alg":"EdDSA"}`,
			idAlg:  "EdDSA", decrypt: ecKey, encAlg: "ECDH-ES"},
		{name: "JWE to userinfo_encryption_jwk", alg: "EdDSA",
			config: `{"userinfo_response_type":"JWE","userinfo_encryption_jwk":` + string(encJWK) + `}`,
			idAlg:  "RS256", decrypt: encKey, encAlg: "RSA-OAEP-256", kid: "enc-1"},
		{name: "JWE asked for JSON", alg: "RS256", key: rsaKey2, config: `{"userinfo_response_type":"JWE"}`,
			accept: "application/json", idAlg: "RS256", decrypt: rsaKey2, encAlg: "RSA-OAEP-256"},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			id := "rp-" + string(rune('a'+i))
			cl := e.register(id, tt.alg, tt.key, tt.config)
			resp := e.exchange(cl, e.grant(cl), nil)
			method := tt.method
			if method == "" {
				method = http.MethodGet
			}
			h := http.Header{}
			if tt.accept != "" {
				h.Set("Accept", tt.accept)
			}
			w := e.resource(method, PathUserinfo, "Bearer", resp.AccessToken, "", h)
			if w.Code != http.StatusOK {
				t.Fatalf("userinfo = %d %s, want 200", w.Code, w.Body)
			}
			if got := w.Header().Get("Cache-Control"); got != "no-store" {
				t.Errorf("userinfo Cache-Control = %q, want no-store", got)
			}
			ct := w.Header().Get("Content-Type")
			if tt.json {
				if !strings.HasPrefix(ct, "application/json") {
					t.Fatalf("userinfo Content-Type = %q, want application/json", ct)
				}
				checkUserinfoClaims(t, tkDecode[map[string]any](t, w), nil)
				return
			}
			if ct != "application/jwt" {
				t.Fatalf("userinfo Content-Type = %q, want application/jwt", ct)
			}
			body := w.Body.String()
			if tt.decrypt != nil {
				kid := tt.kid
				if kid == "" {
					kid = "kid-" + id
				}
				body = decryptUserinfo(t, body, tt.decrypt, tt.encAlg, kid)
			}
			hdr, claims := e.verifyJWT(body)
			if hdr["alg"] != tt.idAlg {
				t.Errorf("userinfo JWS alg = %v, want %s", hdr["alg"], tt.idAlg)
			}
			checkUserinfoClaims(t, claims, map[string]any{"aud": id, "iss": jwtClaims["iss"], "iat": jwtClaims["iat"]})
		})
	}
}

// decryptUserinfo decrypts a userinfo JWE with the client's private key
// and checks its header.
func decryptUserinfo(t *testing.T, compact string, key crypto.Signer, alg, kid string) string {
	t.Helper()
	msg, err := jwe.Parse([]byte(compact))
	if err != nil {
		t.Fatalf("userinfo is not a JWE: %v", err)
	}
	h := msg.ProtectedHeaders()
	if got, _ := h.Algorithm(); got.String() != alg {
		t.Errorf("JWE alg = %v, want %s", got, alg)
	}
	if got, _ := h.ContentEncryption(); got.String() != "A256GCM" {
		t.Errorf("JWE enc = %v, want A256GCM", got)
	}
	if got, _ := h.ContentType(); got != "JWT" {
		t.Errorf("JWE cty = %q, want JWT", got)
	}
	if got, _ := h.KeyID(); got != kid {
		t.Errorf("JWE kid = %q, want %q", got, kid)
	}
	var ka jwa.KeyEncryptionAlgorithm
	switch key.(type) {
	case *rsa.PrivateKey:
		ka = jwa.RSA_OAEP_256()
	case *ecdsa.PrivateKey:
		ka = jwa.ECDH_ES()
	}
	plain, err := jwe.Decrypt([]byte(compact), jwe.WithKey(ka, key))
	if err != nil {
		t.Fatalf("decrypt userinfo: %v", err)
	}
	return string(plain)
}

func TestUserinfoErrors(t *testing.T) {
	e := tkNewEnv(t)
	bank := e.register("bank", "ES256", nil, "")
	dpopRP := e.register("dpop-rp", "ES256", nil, "")
	key := tkKey(t, "ES256")
	otherKey := tkKey(t, "ES256")
	plain := e.exchange(bank, e.grant(bank), nil)
	bound := e.exchange(dpopRP, e.grant(dpopRP), http.Header{"DPoP": {e.proof(key, "POST", testTokenURL, "", "")}})
	noOpenID := e.grant(bank)
	noOpenID.Scopes = []string{"profile"}
	profileOnly := e.exchange(bank, noOpenID, nil)
	withdrawnGrant := e.grant(bank)
	withdrawnGrant.PersonID = "person-withdrawn"
	withdrawn := e.exchange(bank, withdrawnGrant, nil)
	if err := e.state.Put(t.Context(), withdrawnKey("bank", "person-withdrawn"), []byte("1800000000"), time.Hour); err != nil {
		t.Fatal(err)
	}
	userinfoURL := testIssuer + PathUserinfo

	tests := []struct {
		name      string
		req       func() *http.Request
		status    int
		code      string // "" for none in the body
		challenge string // a substring of WWW-Authenticate
	}{
		{name: "no token", req: func() *http.Request { return httptest.NewRequest("GET", userinfoURL, nil) },
			status: 401, code: CodeInvalidToken, challenge: `Bearer realm="` + testIssuer + `"`},
		{name: "token in the query", req: func() *http.Request {
			return httptest.NewRequest("GET", userinfoURL+"?access_token="+url.QueryEscape(plain.AccessToken), nil)
		}, status: 400, code: CodeInvalidRequest, challenge: `error="invalid_request"`},
		{name: "token in the form body", req: func() *http.Request {
			r := httptest.NewRequest("POST", userinfoURL, strings.NewReader("access_token="+url.QueryEscape(plain.AccessToken)))
			r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			return r
		}, status: 400, code: CodeInvalidRequest},
		{name: "garbage token", req: bearer(userinfoURL, "Bearer", "not.a.token", ""),
			status: 401, code: CodeInvalidToken, challenge: `Bearer realm="` + testIssuer + `", error="invalid_token"`},
		{name: "ID token as access token", req: bearer(userinfoURL, "Bearer", plain.IDToken, ""),
			status: 401, code: CodeInvalidToken},
		{name: "tampered token", req: bearer(userinfoURL, "Bearer", plain.AccessToken[:len(plain.AccessToken)-4]+"AAAA", ""),
			status: 401, code: CodeInvalidToken},
		{name: "two Authorization headers", req: func() *http.Request {
			r := httptest.NewRequest("GET", userinfoURL, nil)
			r.Header.Add("Authorization", "Bearer "+plain.AccessToken)
			r.Header.Add("Authorization", "Bearer "+plain.AccessToken)
			return r
		}, status: 400, code: CodeInvalidRequest},
		{name: "no openid scope", req: bearer(userinfoURL, "Bearer", profileOnly.AccessToken, ""),
			status: 403, code: CodeInsufficientScope, challenge: `error="insufficient_scope", error_description="the access token lacks the openid scope", scope="openid"`},
		{name: "bearer token with the DPoP scheme", req: func() *http.Request {
			return bearer(userinfoURL, "DPoP", plain.AccessToken, e.proof(key, "GET", userinfoURL, plain.AccessToken, ""))()
		}, status: 401, code: CodeInvalidToken, challenge: `DPoP algs="ES256 PS256 RS256 EdDSA", error="invalid_token"`},
		{name: "bound token with the Bearer scheme", req: bearer(userinfoURL, "Bearer", bound.AccessToken, ""),
			status: 401, code: CodeInvalidToken},
		{name: "bound token without proof", req: bearer(userinfoURL, "DPoP", bound.AccessToken, ""),
			status: 401, code: CodeInvalidDPoPProof, challenge: `DPoP algs=`},
		{name: "bound token with the proof of another key", req: func() *http.Request {
			return bearer(userinfoURL, "DPoP", bound.AccessToken, e.proof(otherKey, "GET", userinfoURL, bound.AccessToken, ""))()
		}, status: 401, code: CodeInvalidToken},
		{name: "proof for another token", req: func() *http.Request {
			return bearer(userinfoURL, "DPoP", bound.AccessToken, e.proof(key, "GET", userinfoURL, plain.AccessToken, ""))()
		}, status: 401, code: CodeInvalidDPoPProof},
		{name: "proof without ath", req: func() *http.Request {
			return bearer(userinfoURL, "DPoP", bound.AccessToken, e.proof(key, "GET", userinfoURL, "", ""))()
		}, status: 401, code: CodeInvalidDPoPProof},
		{name: "proof for another URL", req: func() *http.Request {
			return bearer(userinfoURL, "DPoP", bound.AccessToken, e.proof(key, "GET", testTokenURL, bound.AccessToken, ""))()
		}, status: 401, code: CodeInvalidDPoPProof},
		{name: "proof for another method", req: func() *http.Request {
			return bearer(userinfoURL, "DPoP", bound.AccessToken, e.proof(key, "POST", userinfoURL, bound.AccessToken, ""))()
		}, status: 401, code: CodeInvalidDPoPProof},
		{name: "withdrawn consent", req: bearer(userinfoURL, "Bearer", withdrawn.AccessToken, ""),
			status: 401, code: CodeInvalidToken, challenge: `error_description="consent withdrawn"`},
		{name: "bound token with its proof", req: func() *http.Request {
			return bearer(userinfoURL, "DPoP", bound.AccessToken, e.proof(key, "GET", userinfoURL, bound.AccessToken, ""))()
		}, status: 200},
		{name: "bearer token", req: bearer(userinfoURL, "bearer", plain.AccessToken, ""), status: 200},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := e.do(tt.req())
			if w.Code != tt.status {
				t.Fatalf("userinfo = %d %s, want %d", w.Code, w.Body, tt.status)
			}
			if tt.status == 200 {
				return
			}
			if got := errorOf(w); got != tt.code {
				t.Errorf("userinfo error = %q, want %q", got, tt.code)
			}
			if wa := strings.Join(w.Header().Values("WWW-Authenticate"), "; "); !strings.Contains(wa, tt.challenge) {
				t.Errorf("WWW-Authenticate = %q, want it to contain %q", wa, tt.challenge)
			}
		})
	}

	// A proof can't be replayed at the resource either.
	proof := e.proof(key, "GET", userinfoURL, bound.AccessToken, "")
	if w := e.do(bearer(userinfoURL, "DPoP", bound.AccessToken, proof)()); w.Code != 200 {
		t.Fatalf("userinfo with a bound token = %d %s", w.Code, w.Body)
	}
	if w := e.do(bearer(userinfoURL, "DPoP", bound.AccessToken, proof)()); w.Code != 401 || errorOf(w) != CodeInvalidDPoPProof {
		t.Errorf("userinfo with a replayed proof = %d %s, want 401 invalid_dpop_proof", w.Code, w.Body)
	}
}

// bearer returns a request maker for a resource request.
func bearer(u, scheme, token, proof string) func() *http.Request {
	return func() *http.Request {
		r := httptest.NewRequest("GET", u, nil)
		r.Header.Set("Authorization", scheme+" "+token)
		if proof != "" {
			r.Header.Set("DPoP", proof)
		}
		return r
	}
}

func TestUserinfoExpired(t *testing.T) {
	e := tkNewEnv(t)
	cl := e.register("bank", "ES256", nil, "")
	resp := e.exchange(cl, e.grant(cl), nil)
	e.clock.Advance(time.Hour + time.Minute)
	w := e.resource("GET", PathUserinfo, "Bearer", resp.AccessToken, "", nil)
	if w.Code != http.StatusUnauthorized || errorOf(w) != CodeInvalidToken {
		t.Errorf("userinfo with an expired token = %d %s, want 401 invalid_token", w.Code, w.Body)
	}
}

func TestUserinfoInactiveClient(t *testing.T) {
	e := tkNewEnv(t)
	cl := e.register("bank", "ES256", nil, "")
	resp := e.exchange(cl, e.grant(cl), nil)
	if err := e.reg.Delete(t.Context(), "bank"); err != nil {
		t.Fatal(err)
	}
	e.clock.Advance(clientCacheTTL + time.Second)
	w := e.resource("GET", PathUserinfo, "Bearer", resp.AccessToken, "", nil)
	if w.Code != http.StatusUnauthorized || errorOf(w) != CodeInvalidToken {
		t.Errorf("userinfo for a deleted client = %d %s, want 401 invalid_token", w.Code, w.Body)
	}
}

func TestAcceptsOnlyJSON(t *testing.T) {
	tests := []struct {
		accept []string
		want   bool
	}{
		{nil, false},
		{[]string{"application/json"}, true},
		{[]string{"application/json; charset=utf-8"}, true},
		{[]string{"application/json", "application/jwt"}, false},
		{[]string{"application/json, */*;q=0"}, true},
		{[]string{"*/*"}, false},
		{[]string{"application/jwt"}, false},
		{[]string{"application/json;q=0"}, false},
		{[]string{"garbage;;"}, false},
	}
	for _, tt := range tests {
		if got := acceptsOnlyJSON(tt.accept); got != tt.want {
			t.Errorf("acceptsOnlyJSON(%q) = %v, want %v", tt.accept, got, tt.want)
		}
	}
}
