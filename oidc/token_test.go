package oidc

import (
	"crypto"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	gooidc "github.com/coreos/go-oidc/v3/oidc"
	"github.com/lestrrat-go/jwx/v3/jwk"

	"github.com/sanad-id/sanad/storage"
)

func TestTokenSuccess(t *testing.T) {
	e := tkNewEnv(t)
	cl := e.register("bank", "ES256", nil, "")
	w := e.postForm(PathToken, e.tokenForm(cl, e.putCode(e.grant(cl))), nil)
	if w.Code != http.StatusOK {
		t.Fatalf("token = %d %s, want 200", w.Code, w.Body)
	}
	for h, want := range map[string]string{"Cache-Control": "no-store", "Pragma": "no-cache"} {
		if got := w.Header().Get(h); got != want {
			t.Errorf("token response %s = %q, want %q", h, got, want)
		}
	}
	resp := tkDecode[tkTokenResponse](t, w)
	if resp.TokenType != "Bearer" || resp.ExpiresIn != 3600 || resp.Scope != "openid profile email" || resp.IDToken == "" {
		t.Errorf("token response = %+v, want Bearer, 3600 s, scope openid profile email, an ID token", resp)
	}

	// The access token.
	h, at := e.verifyJWT(resp.AccessToken)
	if h["typ"] != "at+jwt" || h["alg"] != "ES256" {
		t.Errorf("access token header = %v, want typ at+jwt, alg ES256", h)
	}
	now := float64(testNow.Unix())
	wantAT := map[string]any{
		"iss": testIssuer, "sub": tkSubject, "aud": testIssuer, "client_id": "bank", "scope": "openid profile email",
		"iat": now, "exp": now + 3600, "auth_time": now - 60, "acr": "mosip:idp:acr:generated-code",
	}
	for k, want := range wantAT {
		if at[k] != want {
			t.Errorf("access token %s = %v, want %v", k, at[k], want)
		}
	}
	if jti, _ := at["jti"].(string); len(jti) < 22 {
		t.Errorf("access token jti = %q, want 128 random bits", jti)
	}
	if _, ok := at["cnf"]; ok {
		t.Errorf("bearer access token has cnf %v", at["cnf"])
	}
	if _, err := e.state.Get(t.Context(), tokenKey(at["jti"].(string))); err != nil {
		t.Errorf("token record = %v, want stored", err)
	}

	// The ID token.
	h, id := e.verifyJWT(resp.IDToken)
	if h["typ"] != "JWT" || h["alg"] != "RS256" {
		t.Errorf("ID token header = %v, want typ JWT, alg RS256 (the default)", h)
	}
	wantID := map[string]any{
		"iss": testIssuer, "sub": tkSubject, "aud": "bank", "iat": now, "exp": now + 3600, "auth_time": now - 60,
		"nonce": "nonce-xyz", "acr": "mosip:idp:acr:generated-code", "sid": "sid-1",
		"at_hash": atHash("RS256", resp.AccessToken),
		"name":    "Amina Diallo", "name#fr": "Amina Diallo (fr)", "name#ar": "أمينة ديالو",
	}
	for k, want := range wantID {
		if id[k] != want {
			t.Errorf("ID token %s = %v, want %v", k, id[k], want)
		}
	}
	if amr, _ := id["amr"].([]any); len(amr) != 1 || amr[0] != "otp" {
		t.Errorf("ID token amr = %v, want [otp]", id["amr"])
	}
	for _, k := range []string{"email", "gender"} {
		if _, ok := id[k]; ok {
			t.Errorf("ID token has %s, which the claims parameter did not ask in the ID token", k)
		}
	}
	e.verifyIDTokenRP("bank", "RS256", resp.IDToken, resp.AccessToken)
	// Neither token carries the person id or the UIN.
	for _, tok := range []string{resp.AccessToken, resp.IDToken} {
		_, claims := e.verifyJWT(tok)
		b, _ := json.Marshal(claims)
		if strings.Contains(string(b), tkPerson) || strings.Contains(string(b), tkUIN) {
			t.Errorf("token claims %s carry the person id or the UIN", b)
		}
	}
}

// verifyIDTokenRP verifies an ID token and its at_hash as a relying party
// does, with coreos/go-oidc and the published keys.
func (e *tkEnv) verifyIDTokenRP(clientID, alg, idToken, accessToken string) *gooidc.IDToken {
	e.t.Helper()
	var pubs []crypto.PublicKey
	for i := range e.jwks.Len() {
		k, _ := e.jwks.Key(i)
		var raw any
		if err := jwk.Export(k, &raw); err != nil {
			e.t.Fatal(err)
		}
		pubs = append(pubs, raw)
	}
	v := gooidc.NewVerifier(testIssuer, &gooidc.StaticKeySet{PublicKeys: pubs}, &gooidc.Config{
		ClientID: clientID, SupportedSigningAlgs: []string{alg}, Now: e.clock.Now,
	})
	tok, err := v.Verify(e.t.Context(), idToken)
	if err != nil {
		e.t.Fatalf("go-oidc Verify(ID token) = %v", err)
	}
	if err := tok.VerifyAccessToken(accessToken); err != nil {
		e.t.Errorf("go-oidc VerifyAccessToken = %v, want nil (at_hash)", err)
	}
	if err := tok.VerifyAccessToken(accessToken + "x"); err == nil {
		e.t.Errorf("go-oidc VerifyAccessToken(another token) = nil, want an error")
	}
	return tok
}

func TestTokenIDTokenAlgs(t *testing.T) {
	e := tkNewEnv(t)
	for _, alg := range []string{"RS256", "ES256", "PS256", "EdDSA"} {
		t.Run(alg, func(t *testing.T) {
			cl := e.register("rp-"+strings.ToLower(alg), "ES256", nil, `{"id_token_signed_response_alg":"`+alg+`"}`)
			resp := e.exchange(cl, e.grant(cl), nil)
			h, id := e.verifyJWT(resp.IDToken)
			if h["alg"] != alg {
				t.Errorf("ID token alg = %v, want %s", h["alg"], alg)
			}
			if want := atHash(alg, resp.AccessToken); id["at_hash"] != want {
				t.Errorf("ID token at_hash = %v, want %s", id["at_hash"], want)
			}
			if got := tokenHash(alg, resp.AccessToken); got != id["at_hash"] {
				t.Errorf("tokenHash(%s) = %s, want %v", alg, got, id["at_hash"])
			}
			tok := e.verifyIDTokenRP(cl.id, alg, resp.IDToken, resp.AccessToken)
			if tok.Subject != tkSubject || tok.Nonce != "nonce-xyz" {
				t.Errorf("go-oidc ID token sub, nonce = %q, %q, want %q, nonce-xyz", tok.Subject, tok.Nonce, tkSubject)
			}
		})
	}
}

func TestTokenIDTokenAlgNotOffered(t *testing.T) {
	e := tkNewEnvAlgs(t, []string{"ES256"})
	cl := e.register("bank", "ES256", nil, "") // RS256 ID tokens by default
	w := e.postForm(PathToken, e.tokenForm(cl, e.putCode(e.grant(cl))), nil)
	if w.Code != http.StatusInternalServerError || errorOf(w) != CodeServerError {
		t.Errorf("token with an ID token alg the keys lack = %d %s, want 500 server_error", w.Code, w.Body)
	}
	g := e.grant(cl)
	g.Scopes = []string{"profile"} // no openid: no ID token
	if w := e.postForm(PathToken, e.tokenForm(cl, e.putCode(g)), nil); w.Code != http.StatusOK {
		t.Errorf("token without openid = %d %s, want 200", w.Code, w.Body)
	} else if resp := tkDecode[tkTokenResponse](t, w); resp.IDToken != "" {
		t.Errorf("token without openid has an ID token")
	}
}

func TestTokenErrors(t *testing.T) {
	e := tkNewEnv(t)
	bank := e.register("bank", "ES256", nil, "")
	other := e.register("other", "ES256", nil, "")
	rsaRP := e.register("rsa-rp", "RS256", nil, "")
	dpopRP := e.register("dpop-rp", "ES256", nil, `{"dpop_bound_access_tokens":true}`)
	gone := e.register("gone", "ES256", nil, "")
	if _, err := e.reg.Update(t.Context(), "gone", ClientUpdate{ClientName: "gone", Status: ClientStatusInactive,
		LogoURI: "https://rp.example/l.png", RedirectURIs: []string{tkRedirect}, UserClaims: []string{},
		AuthContextRefs: []string{"mosip:idp:acr:generated-code"}, GrantTypes: []string{"authorization_code"},
		ClientAuthMethods: []string{"private_key_jwt"}}); err != nil {
		t.Fatal(err)
	}
	proofKey := tkKey(t, "ES256")
	otherKey := tkKey(t, "ES256")
	rsaPub, err := x509.MarshalPKIXPublicKey(rsaRP.key.Public())
	if err != nil {
		t.Fatal(err)
	}
	rsaPEM := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: rsaPub})

	tests := []struct {
		name   string
		client *tkClient
		grant  func(g *codeGrant)               // adjusts the code's grant
		form   func(f url.Values, cl *tkClient) // adjusts the request
		header func(h http.Header)              // adds headers
		status int
		code   string
	}{
		{name: "unknown client", client: bank, form: func(f url.Values, _ *tkClient) { f.Set("client_id", "nobody") },
			status: 401, code: CodeInvalidClient},
		{name: "no client_id, unknown assertion issuer", client: bank, form: func(f url.Values, _ *tkClient) {
			f.Del("client_id")
			c := e.assertionClaims(bank, testTokenURL)
			c["iss"], c["sub"] = "nobody", "nobody"
			f.Set("client_assertion", e.assertion(bank, c))
		}, status: 401, code: CodeInvalidClient},
		{name: "inactive client", client: gone, status: 401, code: CodeInvalidClient},
		{name: "no assertion", client: bank, form: func(f url.Values, _ *tkClient) { f.Del("client_assertion") },
			status: 401, code: CodeInvalidClient},
		{name: "wrong assertion type", client: bank, form: func(f url.Values, _ *tkClient) {
			f.Set("client_assertion_type", "urn:ietf:params:oauth:client-assertion-type:saml2-bearer")
		}, status: 401, code: CodeInvalidClient},
		{name: "assertion signed by another key", client: bank, form: func(f url.Values, cl *tkClient) {
			f.Set("client_assertion", signJWS(t, "ES256", otherKey, map[string]any{"kid": cl.kid}, e.assertionClaims(cl, testTokenURL)))
		}, status: 401, code: CodeInvalidClient},
		{name: "assertion of another client", client: bank, form: func(f url.Values, _ *tkClient) {
			f.Set("client_assertion", e.assertion(other, e.assertionClaims(other, testTokenURL)))
		}, status: 401, code: CodeInvalidClient},
		{name: "alg none", client: bank, form: func(f url.Values, cl *tkClient) {
			f.Set("client_assertion", signJWS(t, "none", nil, map[string]any{"kid": cl.kid}, e.assertionClaims(cl, testTokenURL)))
		}, status: 401, code: CodeInvalidClient},
		{name: "HS256 with the public key as secret", client: rsaRP, form: func(f url.Values, cl *tkClient) {
			f.Set("client_assertion", signJWS(t, "HS256", rsaPEM, map[string]any{"kid": cl.kid}, e.assertionClaims(cl, testTokenURL)))
		}, status: 401, code: CodeInvalidClient},
		{name: "expired assertion", client: bank, form: func(f url.Values, cl *tkClient) {
			c := e.assertionClaims(cl, testTokenURL)
			c["iat"], c["exp"] = testNow.Add(-4*time.Minute).Unix(), testNow.Add(-2*time.Minute).Unix()
			f.Set("client_assertion", e.assertion(cl, c))
		}, status: 401, code: CodeInvalidClient},
		{name: "wrong audience", client: bank, form: func(f url.Values, cl *tkClient) {
			f.Set("client_assertion", e.assertion(cl, e.assertionClaims(cl, "https://other.example/token")))
		}, status: 401, code: CodeInvalidClient},
		{name: "audience of another endpoint", client: bank, form: func(f url.Values, cl *tkClient) {
			f.Set("client_assertion", e.assertion(cl, e.assertionClaims(cl, testIssuer+PathPAR)))
		}, status: 401, code: CodeInvalidClient},
		{name: "issuer as audience", client: bank, form: func(f url.Values, cl *tkClient) {
			f.Set("client_assertion", e.assertion(cl, e.assertionClaims(cl, testIssuer)))
		}, status: 200},
		{name: "client id from the assertion", client: bank, form: func(f url.Values, _ *tkClient) { f.Del("client_id") },
			status: 200},
		{name: "unsupported grant type", client: bank, form: func(f url.Values, _ *tkClient) { f.Set("grant_type", "refresh_token") },
			status: 400, code: CodeUnsupportedGrantType},
		{name: "no grant type", client: bank, form: func(f url.Values, _ *tkClient) { f.Del("grant_type") },
			status: 400, code: CodeInvalidRequest},
		{name: "repeated code", client: bank, form: func(f url.Values, _ *tkClient) { f.Add("code", "x") },
			status: 400, code: CodeInvalidRequest},
		{name: "no redirect_uri", client: bank, form: func(f url.Values, _ *tkClient) { f.Del("redirect_uri") },
			status: 400, code: CodeInvalidRequest},
		{name: "unknown code", client: bank, form: func(f url.Values, _ *tkClient) { f.Set("code", randomToken(32)) },
			status: 400, code: CodeInvalidGrant},
		{name: "wrong PKCE verifier", client: bank, form: func(f url.Values, _ *tkClient) {
			f.Set("code_verifier", strings.Repeat("a", 43))
		}, status: 400, code: CodeInvalidGrant},
		{name: "no PKCE verifier", client: bank, form: func(f url.Values, _ *tkClient) { f.Del("code_verifier") },
			status: 400, code: CodeInvalidRequest},
		{name: "verifier for a code without challenge", client: bank,
			grant:  func(g *codeGrant) { g.CodeChallenge, g.CodeChallengeMethod = "", "" },
			status: 400, code: CodeInvalidGrant},
		{name: "no challenge, no verifier", client: bank,
			grant: func(g *codeGrant) { g.CodeChallenge, g.CodeChallengeMethod = "", "" },
			form:  func(f url.Values, _ *tkClient) { f.Del("code_verifier") }, status: 200},
		{name: "wrong redirect_uri", client: bank, form: func(f url.Values, _ *tkClient) {
			f.Set("redirect_uri", "https://rp.example/other")
		}, status: 400, code: CodeInvalidGrant},
		{name: "code of another client", client: bank, grant: func(g *codeGrant) { g.ClientID = "other" },
			status: 400, code: CodeInvalidGrant},
		{name: "DPoP required but missing", client: dpopRP, status: 400, code: CodeInvalidDPoPProof},
		{name: "DPoP proof with wrong htu", client: bank, header: func(h http.Header) {
			h.Set("DPoP", e.proof(proofKey, "POST", testIssuer+PathUserinfo, "", ""))
		}, status: 400, code: CodeInvalidDPoPProof},
		{name: "DPoP proof with wrong htm", client: bank, header: func(h http.Header) {
			h.Set("DPoP", e.proof(proofKey, "GET", testTokenURL, "", ""))
		}, status: 400, code: CodeInvalidDPoPProof},
		{name: "two DPoP proofs", client: bank, header: func(h http.Header) {
			h.Add("DPoP", e.proof(proofKey, "POST", testTokenURL, "", ""))
			h.Add("DPoP", e.proof(proofKey, "POST", testTokenURL, "", ""))
		}, status: 400, code: CodeInvalidDPoPProof},
		{name: "dpop_jkt of another key", client: bank,
			grant:  func(g *codeGrant) { g.DPoPJKT = thumbprint(t, otherKey) },
			header: func(h http.Header) { h.Set("DPoP", e.proof(proofKey, "POST", testTokenURL, "", "")) },
			status: 400, code: CodeInvalidDPoPProof},
		{name: "dpop_jkt without proof", client: bank, grant: func(g *codeGrant) { g.DPoPJKT = thumbprint(t, proofKey) },
			status: 400, code: CodeInvalidDPoPProof},
		{name: "dpop_jkt matching", client: bank, grant: func(g *codeGrant) { g.DPoPJKT = thumbprint(t, proofKey) },
			header: func(h http.Header) { h.Set("DPoP", e.proof(proofKey, "POST", testTokenURL, "", "")) }, status: 200},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := e.grant(tt.client)
			if tt.grant != nil {
				tt.grant(g)
			}
			f := e.tokenForm(tt.client, e.putCode(g))
			if tt.form != nil {
				tt.form(f, tt.client)
			}
			h := http.Header{}
			if tt.header != nil {
				tt.header(h)
			}
			w := e.postForm(PathToken, f, h)
			if w.Code != tt.status || errorOf(w) != tt.code {
				t.Fatalf("token = %d %s, want %d %q", w.Code, w.Body, tt.status, tt.code)
			}
			if tt.status == 200 {
				return
			}
			if got := w.Header().Get("Cache-Control"); got != "no-store" {
				t.Errorf("error Cache-Control = %q, want no-store", got)
			}
			if tt.code == CodeInvalidClient {
				if wa := w.Header().Get("WWW-Authenticate"); !strings.Contains(wa, `error="invalid_client"`) {
					t.Errorf("invalid_client WWW-Authenticate = %q, want the error", wa)
				}
				if body := tkDecode[tkTokenResponse](t, w); body.ErrorDescription != "client authentication failed" {
					t.Errorf("invalid_client description = %q, want the same for every failure", body.ErrorDescription)
				}
			}
		})
	}
}

func TestTokenAssertionReplay(t *testing.T) {
	e := tkNewEnv(t)
	cl := e.register("bank", "ES256", nil, "")
	f := e.tokenForm(cl, e.putCode(e.grant(cl)))
	if w := e.postForm(PathToken, f, nil); w.Code != http.StatusOK {
		t.Fatalf("first token = %d %s, want 200", w.Code, w.Body)
	}
	f.Set("code", e.putCode(e.grant(cl))) // same assertion, fresh code
	if w := e.postForm(PathToken, f, nil); w.Code != http.StatusUnauthorized || errorOf(w) != CodeInvalidClient {
		t.Errorf("replayed assertion = %d %s, want 401 invalid_client", w.Code, w.Body)
	}
}

func TestTokenFAPI2Audience(t *testing.T) {
	e := tkNewEnv(t, func(c *Config) { c.Profile = ProfileFAPI2 })
	cl := e.register("bank", "ES256", nil, `{"require_pkce":true,"require_pushed_authorization_requests":true}`)
	key := tkKey(t, "ES256")

	// The token endpoint URL is not an accepted audience under FAPI 2.0.
	f := e.tokenForm(cl, e.putCode(e.grant(cl)))
	if w := e.postForm(PathToken, f, nil); w.Code != http.StatusUnauthorized || errorOf(w) != CodeInvalidClient {
		t.Fatalf("FAPI 2.0 token with aud = token URL = %d %s, want 401 invalid_client", w.Code, w.Body)
	}
	issuerAud := func(f url.Values) {
		f.Set("client_assertion", e.assertion(cl, e.assertionClaims(cl, testIssuer)))
	}
	// DPoP is required.
	issuerAud(f)
	if w := e.postForm(PathToken, f, nil); w.Code != http.StatusBadRequest || errorOf(w) != CodeInvalidDPoPProof {
		t.Fatalf("FAPI 2.0 token without DPoP = %d %s, want 400 invalid_dpop_proof", w.Code, w.Body)
	}
	// With a server nonce.
	issuerAud(f)
	w := e.postForm(PathToken, f, http.Header{"DPoP": {e.proof(key, "POST", testTokenURL, "", "")}})
	nonce := w.Header().Get("DPoP-Nonce")
	if w.Code != http.StatusBadRequest || errorOf(w) != CodeUseDPoPNonce || nonce == "" {
		t.Fatalf("FAPI 2.0 token without nonce = %d %s (DPoP-Nonce %q), want 400 use_dpop_nonce and a nonce", w.Code, w.Body, nonce)
	}
	issuerAud(f)
	w = e.postForm(PathToken, f, http.Header{"DPoP": {e.proof(key, "POST", testTokenURL, "", nonce)}})
	if w.Code != http.StatusOK {
		t.Fatalf("FAPI 2.0 token = %d %s, want 200", w.Code, w.Body)
	}
	if resp := tkDecode[tkTokenResponse](t, w); resp.TokenType != "DPoP" {
		t.Errorf("FAPI 2.0 token_type = %q, want DPoP", resp.TokenType)
	}
}

// TestTokenDPoPNonce: a client registered for DPoP-bound tokens must use a
// server nonce; the code survives the use_dpop_nonce round trip.
func TestTokenDPoPNonce(t *testing.T) {
	e := tkNewEnv(t)
	cl := e.register("dpop-rp", "ES256", nil, `{"dpop_bound_access_tokens":true}`)
	key := tkKey(t, "ES256")
	code := e.putCode(e.grant(cl))

	w := e.postForm(PathToken, e.tokenForm(cl, code), http.Header{"DPoP": {e.proof(key, "POST", testTokenURL, "", "")}})
	nonce := w.Header().Get("DPoP-Nonce")
	if w.Code != http.StatusBadRequest || errorOf(w) != CodeUseDPoPNonce || nonce == "" {
		t.Fatalf("token without nonce = %d %s (DPoP-Nonce %q), want 400 use_dpop_nonce and a nonce", w.Code, w.Body, nonce)
	}
	w = e.postForm(PathToken, e.tokenForm(cl, code), http.Header{"DPoP": {e.proof(key, "POST", testTokenURL, "", "made-up")}})
	if w.Code != http.StatusBadRequest || errorOf(w) != CodeUseDPoPNonce {
		t.Fatalf("token with an unknown nonce = %d %s, want 400 use_dpop_nonce", w.Code, w.Body)
	}
	proof := e.proof(key, "POST", testTokenURL, "", nonce)
	w = e.postForm(PathToken, e.tokenForm(cl, code), http.Header{"DPoP": {proof}})
	if w.Code != http.StatusOK {
		t.Fatalf("token with nonce = %d %s, want 200 (the code must survive use_dpop_nonce)", w.Code, w.Body)
	}
	resp := tkDecode[tkTokenResponse](t, w)
	if resp.TokenType != "DPoP" {
		t.Errorf("token_type = %q, want DPoP", resp.TokenType)
	}
	_, at := e.verifyJWT(resp.AccessToken)
	if cnf, _ := at["cnf"].(map[string]any); cnf["jkt"] != thumbprint(t, key) {
		t.Errorf("access token cnf = %v, want jkt %s", at["cnf"], thumbprint(t, key))
	}

	// The same proof again is a replay.
	w = e.postForm(PathToken, e.tokenForm(cl, e.putCode(e.grant(cl))), http.Header{"DPoP": {proof}})
	if w.Code != http.StatusBadRequest || errorOf(w) != CodeInvalidDPoPProof {
		t.Errorf("replayed DPoP proof = %d %s, want 400 invalid_dpop_proof", w.Code, w.Body)
	}
}

// TestTokenCodeReplay: a code redeemed twice fails, and the token it
// issued is revoked.
func TestTokenCodeReplay(t *testing.T) {
	e := tkNewEnv(t)
	cl := e.register("bank", "ES256", nil, "")
	code := e.putCode(e.grant(cl))
	w := e.postForm(PathToken, e.tokenForm(cl, code), nil)
	if w.Code != http.StatusOK {
		t.Fatalf("token = %d %s, want 200", w.Code, w.Body)
	}
	first := tkDecode[tkTokenResponse](t, w)
	if w := e.resource("GET", PathUserinfo, "Bearer", first.AccessToken, "", nil); w.Code != http.StatusOK {
		t.Fatalf("userinfo = %d %s, want 200", w.Code, w.Body)
	}
	w = e.postForm(PathToken, e.tokenForm(cl, code), nil)
	if body := tkDecode[tkTokenResponse](t, w); w.Code != 400 || body.Error != CodeInvalidGrant || body.ErrorDescription != "authorization code already used" {
		t.Fatalf("reused code = %d %s, want 400 invalid_grant: authorization code already used", w.Code, w.Body)
	}
	w = e.resource("GET", PathUserinfo, "Bearer", first.AccessToken, "", nil)
	if w.Code != http.StatusUnauthorized || errorOf(w) != CodeInvalidToken {
		t.Errorf("userinfo with the token of a reused code = %d %s, want 401 invalid_token", w.Code, w.Body)
	}
}

// TestTokenConcurrent: of many requests redeeming one code, one succeeds.
func TestTokenConcurrent(t *testing.T) {
	e := tkNewEnv(t)
	cl := e.register("bank", "ES256", nil, "")
	code := e.putCode(e.grant(cl))
	forms := make([]url.Values, 20)
	for i := range forms {
		forms[i] = e.tokenForm(cl, code)
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	ok := 0
	for _, f := range forms {
		wg.Go(func() {
			if w := e.postForm(PathToken, f, nil); w.Code == http.StatusOK {
				mu.Lock()
				ok++
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if ok != 1 {
		t.Errorf("%d concurrent redemptions of one code succeeded, want 1", ok)
	}
}

func TestTokenCredentialScopes(t *testing.T) {
	e := tkNewEnv(t)
	cl := e.register("wallet", "ES256", nil, "")
	key := tkKey(t, "ES256")
	g := e.grant(cl)
	g.Scopes = []string{"national_id_vc"}
	g.CredentialScopes = []string{"national_id_vc"}
	g.AuthorizationDetails = json.RawMessage(`[{"type":"openid_credential","credential_configuration_id":"national_id_vc"}]`)
	resp := e.exchange(cl, g, http.Header{"DPoP": {e.proof(key, "POST", testTokenURL, "", "")}})
	if resp.IDToken != "" || resp.TokenType != "DPoP" || string(resp.AuthorizationDetails) != string(g.AuthorizationDetails) {
		t.Errorf("credential token response = %+v, want DPoP, no ID token, the authorization details", resp)
	}
	_, at := e.verifyJWT(resp.AccessToken)
	if at["aud"] != "https://issuer.example.org" || at["scope"] != "national_id_vc" {
		t.Errorf("credential access token aud, scope = %v, %v, want the credential issuer, national_id_vc", at["aud"], at["scope"])
	}
	got, err := e.p.VerifyAccessToken(t.Context(), resp.AccessToken)
	if err != nil {
		t.Fatalf("VerifyAccessToken = %v, want nil", err)
	}
	want := AccessToken{Subject: tkSubject, ClientID: "wallet", Scopes: []string{"national_id_vc"},
		CredentialScopes: []string{"national_id_vc"}, AuthorizationDetails: g.AuthorizationDetails,
		JKT: thumbprint(t, key), PersonID: tkPerson, Expires: testNow.Add(time.Hour)}
	if got.Subject != want.Subject || got.ClientID != want.ClientID || !slices.Equal(got.Scopes, want.Scopes) ||
		!slices.Equal(got.CredentialScopes, want.CredentialScopes) || string(got.AuthorizationDetails) != string(want.AuthorizationDetails) ||
		got.JKT != want.JKT || got.PersonID != want.PersonID || !got.Expires.Equal(want.Expires) {
		t.Errorf("VerifyAccessToken = %+v, want %+v", got, want)
	}
	// Not usable at userinfo.
	w := e.resource("GET", PathUserinfo, "DPoP", resp.AccessToken, e.proof(key, "GET", testIssuer+PathUserinfo, resp.AccessToken, ""), nil)
	if w.Code != http.StatusUnauthorized || errorOf(w) != CodeInvalidToken {
		t.Errorf("userinfo with a credential token = %d %s, want 401 invalid_token", w.Code, w.Body)
	}
	// An ordinary token is not for the credential issuer.
	plain := e.exchange(cl, e.grant(cl), nil)
	if _, err := e.p.VerifyAccessToken(t.Context(), plain.AccessToken); !HasCode(err, CodeInvalidToken) {
		t.Errorf("VerifyAccessToken(token for the provider) = %v, want invalid_token", err)
	}
	if _, err := e.p.VerifyAccessToken(t.Context(), plain.IDToken); !HasCode(err, CodeInvalidToken) {
		t.Errorf("VerifyAccessToken(ID token) = %v, want invalid_token", err)
	}
}

func TestTokenStoredGrantIsSingleUse(t *testing.T) {
	e := tkNewEnv(t)
	cl := e.register("bank", "ES256", nil, "")
	code := e.putCode(e.grant(cl))
	f := e.tokenForm(cl, code)
	f.Set("redirect_uri", "https://rp.example/wrong")
	if w := e.postForm(PathToken, f, nil); errorOf(w) != CodeInvalidGrant {
		t.Fatalf("wrong redirect_uri = %d %s, want invalid_grant", w.Code, w.Body)
	}
	// A failed redemption consumes the code.
	if _, err := e.state.Get(t.Context(), stateKey("code", code)); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("code after a failed redemption = %v, want consumed", err)
	}
}

func FuzzTokenRequest(f *testing.F) {
	f.Add("grant_type=authorization_code&code=abc&redirect_uri=https%3A%2F%2Frp.example%2Fcb&code_verifier=" + tkVerifier)
	f.Add("grant_type=refresh_token&refresh_token=x")
	f.Add("grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Apre-authorized_code&pre-authorized_code=abc&tx_code=1234")
	f.Add("grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Apre-authorized_code&tx_code=1234")
	f.Add("grant_type=authorization_code&code=a&code=b")
	f.Add("grant_type=&code=")
	f.Add("%zz=1&grant_type")
	f.Add("grant_type=authorization_code&code=" + strings.Repeat("x", 20000))
	f.Add("")
	f.Fuzz(func(t *testing.T, body string) {
		form, err := url.ParseQuery(body)
		if err != nil {
			return
		}
		q, err := parseTokenRequest(form)
		if err != nil {
			if !HasCode(err, CodeInvalidRequest) {
				t.Fatalf("parseTokenRequest(%q) = %v, want invalid_request", body, err)
			}
			return
		}
		err = q.Validate()
		switch {
		case err == nil:
			code := q.GrantType == GrantTypeAuthorizationCode && q.Code != "" && q.RedirectURI != ""
			pre := q.GrantType == GrantTypePreAuthorizedCode && q.PreAuthorizedCode != "" &&
				len(q.PreAuthorizedCode) <= maxPreAuthorizedParamLength && len(q.TxCode) <= maxPreAuthorizedParamLength
			if !code && !pre {
				t.Fatalf("Validate(%+v) = nil for an incomplete request", q)
			}
		case HasCode(err, CodeInvalidRequest), HasCode(err, CodeUnsupportedGrantType):
		default:
			t.Fatalf("Validate(%+v) = %v, want invalid_request or unsupported_grant_type", q, err)
		}
		for _, v := range []string{q.GrantType, q.Code, q.RedirectURI, q.CodeVerifier, q.PreAuthorizedCode, q.TxCode} {
			if len(v) > maxTokenParamLength {
				t.Fatalf("parseTokenRequest(%q) accepted a parameter of %d bytes", body, len(v))
			}
		}
	})
}
