package oidc

import (
	"encoding/json"
	"net/http"
	"net/url"
	"reflect"
	"strings"
	"testing"
)

// pcRegistration is a valid public client registration.
func pcRegistration(id string) ClientRegistration {
	return ClientRegistration{
		ClientID: id, ClientName: "Wallet " + id, RelyingPartyID: "rp-" + id, UserClaims: []string{},
		AuthContextRefs: []string{"mosip:idp:acr:generated-code"}, LogoURI: "https://wallet.example/logo.png",
		RedirectURIs: []string{"io.sanad.wallet://callback"},
		GrantTypes:   []string{GrantTypeAuthorizationCode, GrantTypePreAuthorizedCode}, ClientAuthMethods: []string{AuthMethodNone},
		AdditionalConfig: json.RawMessage(`{"scope":"national_id_vc farmer_vc","dpop_bound_access_tokens":true}`),
	}
}

func TestPublicClientRegistration(t *testing.T) {
	tests := []struct {
		name   string
		change func(q *ClientRegistration)
		want   string
	}{
		{"valid", func(q *ClientRegistration) {}, ""},
		{"publicKey null", func(q *ClientRegistration) { q.PublicKey = json.RawMessage("null") }, ""},
		{"with a public key", func(q *ClientRegistration) { q.PublicKey = crEdJWK(t, nil) }, ClientMgmtInvalidPublicKey},
		{"with claims", func(q *ClientRegistration) { q.UserClaims = []string{"name"} }, ClientMgmtInvalidClientAuth},
		{"without scope", func(q *ClientRegistration) { q.AdditionalConfig = json.RawMessage(`{"require_pkce":true}`) }, ClientMgmtInvalidClientAuth},
		{"without additionalConfig", func(q *ClientRegistration) { q.AdditionalConfig = nil }, ClientMgmtInvalidClientAuth},
		{"openid scope", func(q *ClientRegistration) { q.AdditionalConfig = json.RawMessage(`{"scope":"national_id_vc openid"}`) },
			ClientMgmtInvalidAdditionalConfig},
		{"profile scope", func(q *ClientRegistration) { q.AdditionalConfig = json.RawMessage(`{"scope":"profile"}`) },
			ClientMgmtInvalidAdditionalConfig},
		{"consent scope", func(q *ClientRegistration) { q.AdditionalConfig = json.RawMessage(`{"scope":"sanad:consents"}`) },
			ClientMgmtInvalidAdditionalConfig},
		{"repeated scope", func(q *ClientRegistration) { q.AdditionalConfig = json.RawMessage(`{"scope":"a a"}`) },
			ClientMgmtInvalidAdditionalConfig},
		{"scope with a quote", func(q *ClientRegistration) { q.AdditionalConfig = json.RawMessage(`{"scope":"a\"b"}`) },
			ClientMgmtInvalidAdditionalConfig},
		{"scope as a list", func(q *ClientRegistration) { q.AdditionalConfig = json.RawMessage(`{"scope":["a"]}`) },
			ClientMgmtInvalidAdditionalConfig},
		{"consent management", func(q *ClientRegistration) {
			q.AdditionalConfig = json.RawMessage(`{"scope":"national_id_vc","consent_management":true}`)
		}, ClientMgmtInvalidAdditionalConfig},
		{"introspection", func(q *ClientRegistration) {
			q.AdditionalConfig = json.RawMessage(`{"scope":"national_id_vc","introspection":true}`)
		}, ClientMgmtInvalidAdditionalConfig},
		{"userinfo type", func(q *ClientRegistration) {
			q.AdditionalConfig = json.RawMessage(`{"scope":"national_id_vc","userinfo_response_type":"JSON"}`)
		}, ClientMgmtInvalidAdditionalConfig},
		{"none and private_key_jwt", func(q *ClientRegistration) {
			q.ClientAuthMethods = []string{AuthMethodNone, AuthMethodPrivateKeyJWT}
			q.PublicKey = crEdJWK(t, nil)
		}, ClientMgmtInvalidClientAuth},
		{"confidential client with a scope", func(q *ClientRegistration) {
			q.ClientAuthMethods = []string{AuthMethodPrivateKeyJWT}
			q.PublicKey = crEdJWK(t, nil)
		}, ClientMgmtInvalidAdditionalConfig},
		{"confidential client with the pre-authorized grant", func(q *ClientRegistration) {
			q.ClientAuthMethods = []string{AuthMethodPrivateKeyJWT}
			q.PublicKey = crEdJWK(t, nil)
			q.AdditionalConfig = nil
		}, ""},
		{"unknown grant type", func(q *ClientRegistration) { q.GrantTypes = []string{"urn:ietf:params:oauth:grant-type:jwt-bearer"} },
			ClientMgmtInvalidGrantType},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			q := pcRegistration("wallet")
			tt.change(&q)
			if got := crCode(q.Validate()); got != tt.want {
				t.Errorf("Validate() = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestPublicClientRegistry(t *testing.T) {
	r, d := crNewRegistry(t)
	ctx := t.Context()
	// Two public clients: their key hashes differ although neither has a
	// key.
	for _, id := range []string{"wallet", "wallet-2"} {
		if _, err := r.Create(ctx, pcRegistration(id)); err != nil {
			t.Fatalf("Create(%s) = %v, want nil", id, err)
		}
	}
	stored, err := d.GetClient(ctx, "wallet")
	if err != nil {
		t.Fatal(err)
	}
	if string(stored.PublicKeys) != `{"keys":[]}` || len(stored.PublicKeyHash) != 32 {
		t.Errorf("stored public client keys %s, hash %x, want an empty set and a 32-byte hash", stored.PublicKeys, stored.PublicKeyHash)
	}
	if key, err := ClientPublicJWK(stored); err != nil || string(key) != "null" {
		t.Errorf("ClientPublicJWK(public client) = %s, %v, want null", key, err)
	}
	update := ClientUpdate{ClientName: "Wallet", Status: ClientStatusActive, LogoURI: "https://wallet.example/logo.png",
		RedirectURIs: []string{"io.sanad.wallet://callback"}, UserClaims: []string{}, AuthContextRefs: []string{"mosip:idp:acr:password"},
		GrantTypes: []string{GrantTypeAuthorizationCode}, ClientAuthMethods: []string{AuthMethodNone},
		AdditionalConfig: json.RawMessage(`{"scope":"national_id_vc"}`)}
	if _, err := r.Update(ctx, "wallet", update); err != nil {
		t.Errorf("Update(public client) = %v, want nil", err)
	}
	// Without a key it cannot become confidential.
	update.ClientAuthMethods, update.AdditionalConfig = []string{AuthMethodPrivateKeyJWT}, nil
	if _, err := r.Update(ctx, "wallet", update); crCode(err) != ClientMgmtInvalidClientAuth {
		t.Errorf("Update(public client to private_key_jwt) = %v, want %s", err, ClientMgmtInvalidClientAuth)
	}

	// The API shows it with a null publicKey.
	s := crServer(t)
	if status, env := crDo(t, s, http.MethodPost, "/client-mgmt/client", crWrap(pcRegistration("api-wallet"))); status != 200 {
		t.Fatalf("create public client = %d %+v", status, env)
	}
	status, env := crDo(t, s, http.MethodGet, "/client-mgmt/client/api-wallet", nil)
	var got map[string]any
	_ = json.Unmarshal(env.Response, &got)
	if status != 200 || got["publicKey"] != nil || !reflect.DeepEqual(got["clientAuthMethods"], []any{"none"}) {
		t.Errorf("GET public client = %d %s, want publicKey null, clientAuthMethods [none]", status, env.Response)
	}
}

func TestPublicClientToken(t *testing.T) {
	e, _ := cgNewEnv(t)
	cgRegisterPublic(t, e, "inji", "national_id_vc", []string{GrantTypeAuthorizationCode})
	inji := &tkClient{id: "inji"}
	bank := e.register("bank", "ES256", nil, "")

	// grant is a credential code grant of inji.
	grant := func() *codeGrant {
		g := e.grant(inji)
		g.Scopes, g.CredentialScopes = []string{"national_id_vc"}, []string{"national_id_vc"}
		g.AcceptedClaims, g.IDTokenClaims, g.Claims = nil, nil, nil
		return g
	}
	form := func(code string) url.Values {
		return url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {tkRedirect},
			"code_verifier": {tkVerifier}, "client_id": {"inji"}}
	}
	w := e.postForm(PathToken, form(e.putCode(grant())), nil)
	if w.Code != http.StatusOK {
		t.Fatalf("public client token request = %d %s, want 200", w.Code, w.Body)
	}
	resp := tkDecode[cgTokenResponse](t, w)
	_, at := e.verifyJWT(resp.AccessToken)
	if resp.IDToken != "" || resp.CNonce == "" || at["client_id"] != "inji" || at["aud"] != cgIssuer {
		t.Errorf("public client token = %+v, claims %v, want no ID token, a c_nonce, client inji, aud the issuer", resp, at)
	}

	tests := []struct {
		name   string
		grant  func(g *codeGrant)
		form   func(f url.Values)
		status int
		err    string
	}{
		{name: "openid in the code", grant: func(g *codeGrant) { g.Scopes = append(g.Scopes, "openid") }, status: 400, err: CodeInvalidGrant},
		{name: "unregistered credential scope", grant: func(g *codeGrant) {
			g.Scopes, g.CredentialScopes = []string{"farmer_vc"}, []string{"farmer_vc"}
		}, status: 400, err: CodeInvalidGrant},
		{name: "claims in the code", grant: func(g *codeGrant) { g.AcceptedClaims = []string{"name"} }, status: 400, err: CodeInvalidGrant},
		{name: "no PKCE", grant: func(g *codeGrant) { g.CodeChallenge, g.CodeChallengeMethod = "", "" },
			form: func(f url.Values) { f.Del("code_verifier") }, status: 400, err: CodeInvalidGrant},
		{name: "wrong verifier", form: func(f url.Values) { f.Set("code_verifier", strings.Repeat("x", 43)) }, status: 400, err: CodeInvalidGrant},
		{name: "with an assertion", form: func(f url.Values) {
			f.Set("client_assertion_type", ClientAssertionType)
			f.Set("client_assertion", e.assertion(bank, e.assertionClaims(bank, testTokenURL)))
		}, status: 401, err: CodeInvalidClient},
		{name: "confidential client without assertion", form: func(f url.Values) { f.Set("client_id", "bank") }, status: 401, err: CodeInvalidClient},
		{name: "unknown client", form: func(f url.Values) { f.Set("client_id", "nobody") }, status: 401, err: CodeInvalidClient},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := grant()
			if tt.grant != nil {
				tt.grant(g)
			}
			f := form(e.putCode(g))
			if tt.form != nil {
				tt.form(f)
			}
			if w := e.postForm(PathToken, f, nil); w.Code != tt.status || errorOf(w) != tt.err {
				t.Errorf("token request = %d %s, want %d %s", w.Code, w.Body, tt.status, tt.err)
			}
		})
	}

	// A public client cannot introspect or revoke.
	for _, path := range []string{PathIntrospect, PathRevoke} {
		w := e.postForm(path, url.Values{"client_id": {"inji"}, "token": {resp.AccessToken}}, nil)
		if w.Code != http.StatusUnauthorized || errorOf(w) != CodeInvalidClient {
			t.Errorf("%s as a public client = %d %s, want 401 invalid_client", path, w.Code, w.Body)
		}
	}
}

func TestPublicClientAuthorize(t *testing.T) {
	e, _ := cgNewEnv(t)
	cgRegisterPublic(t, e, "inji", "national_id_vc", []string{GrantTypeAuthorizationCode})
	challenge := S256Challenge(tkVerifier)
	base := func() url.Values {
		return url.Values{"client_id": {"inji"}, "response_type": {"code"}, "redirect_uri": {tkRedirect},
			"scope": {"national_id_vc"}, "state": {"st"}, "code_challenge": {challenge}, "code_challenge_method": {"S256"}}
	}
	tests := []struct {
		name   string
		change func(v url.Values)
		err    string // "" for success
	}{
		{name: "valid", change: func(url.Values) {}},
		{name: "authorization_details", change: func(v url.Values) {
			v.Set("authorization_details", `[{"type":"openid_credential","credential_configuration_id":"NationalID_SDJWT"}]`)
		}},
		{name: "no PKCE", change: func(v url.Values) { v.Del("code_challenge"); v.Del("code_challenge_method") }, err: CodeUsePKCE},
		{name: "plain PKCE", change: func(v url.Values) { v.Set("code_challenge_method", "plain") }, err: CodeInvalidRequest},
		{name: "openid", change: func(v url.Values) { v.Set("scope", "openid national_id_vc") }, err: CodeInvalidScope},
		{name: "a scope it did not register", change: func(v url.Values) { v.Set("scope", "national_id_vc farmer_vc") }, err: CodeInvalidScope},
		{name: "claims", change: func(v url.Values) { v.Set("claims", `{"userinfo":{"name":null}}`) }, err: CodeInvalidRequest},
		{name: "unknown credential_configuration_id", change: func(v url.Values) {
			v.Set("authorization_details", `[{"type":"openid_credential","credential_configuration_id":"Passport"}]`)
		}, err: CodeInvalidAuthorizationDetails},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// PAR, with the client_id alone.
			v := base()
			tt.change(v)
			w := e.postForm(PathPAR, v, nil)
			if tt.err == "" && w.Code != http.StatusCreated || tt.err != "" && (w.Code != http.StatusBadRequest || errorOf(w) != tt.err) {
				t.Errorf("PAR = %d %s, want %s", w.Code, w.Body, orText(tt.err, "201"))
			}
			// /authorize: errors go back to the redirect URI.
			v = base()
			tt.change(v)
			w = e.do(httptestGet(PathAuthorize + "?" + v.Encode()))
			loc, _ := url.Parse(w.Header().Get("Location"))
			if w.Code != http.StatusSeeOther || loc == nil {
				t.Fatalf("/authorize = %d %s, want a redirect", w.Code, w.Body)
			}
			if tt.err == "" && !strings.HasPrefix(loc.Path, PathLogin+"/") || tt.err != "" && loc.Query().Get("error") != tt.err {
				t.Errorf("/authorize redirects to %s, want %s", loc, orText(tt.err, "the login page"))
			}
		})
	}

	// Under FAPI 2.0 public clients are refused.
	f, _ := cgNewEnv(t, func(c *Config) { c.Profile = ProfileFAPI2 })
	cgRegisterPublic(t, f, "inji", "national_id_vc", []string{GrantTypeAuthorizationCode})
	if w := f.postForm(PathPAR, base(), nil); w.Code != http.StatusUnauthorized || errorOf(w) != CodeInvalidClient {
		t.Errorf("PAR of a public client under FAPI 2.0 = %d %s, want 401 invalid_client", w.Code, w.Body)
	}
}

func orText(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

func TestAuthorizationDetails(t *testing.T) {
	e, _ := cgNewEnv(t)
	tests := []struct {
		name string
		in   string
		want string // the granted details, or the error code
	}{
		{"one", `[{"type":"openid_credential","credential_configuration_id":"NationalID_LDP"}]`,
			`[{"credential_configuration_id":"NationalID_LDP","credential_identifiers":["NationalID_LDP"],"type":"openid_credential"}]`},
		{"with locations, identifiers replaced",
			`[{"type":"openid_credential","credential_configuration_id":"Farmer_LDP","locations":["` + cgIssuer + `"],"credential_identifiers":["x"]}]`,
			`[{"credential_configuration_id":"Farmer_LDP","credential_identifiers":["Farmer_LDP"],"locations":["` + cgIssuer + `"],"type":"openid_credential"}]`},
		{"unknown configuration", `[{"type":"openid_credential","credential_configuration_id":"Passport"}]`, CodeInvalidAuthorizationDetails},
		{"one of two unknown", `[{"type":"openid_credential","credential_configuration_id":"Farmer_LDP"},` +
			`{"type":"openid_credential","credential_configuration_id":"farmer_ldp"}]`, CodeInvalidAuthorizationDetails},
		{"no configuration", `[{"type":"openid_credential","format":"ldp_vc"}]`, CodeInvalidAuthorizationDetails},
		{"another type", `[{"type":"payment_initiation","credential_configuration_id":"Farmer_LDP"}]`, CodeInvalidAuthorizationDetails},
		{"other locations", `[{"type":"openid_credential","credential_configuration_id":"Farmer_LDP","locations":["https://evil.example"]}]`,
			CodeInvalidAuthorizationDetails},
		{"empty", `[]`, CodeInvalidAuthorizationDetails},
		{"null element", `[null]`, CodeInvalidAuthorizationDetails},
		{"object", `{"type":"openid_credential"}`, CodeInvalidAuthorizationDetails},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := e.p.validateAuthorizationDetails(tt.in)
			if err != nil {
				if err.Code != tt.want {
					t.Errorf("validateAuthorizationDetails(%s) = %v, want %s", tt.in, err, tt.want)
				}
				return
			}
			if string(got) != tt.want {
				t.Errorf("validateAuthorizationDetails(%s) = %s, want %s", tt.in, got, tt.want)
			}
		})
	}
}

func TestClientSector(t *testing.T) {
	tests := []struct {
		name     string
		uris     []string
		sectorID string
		want     string
	}{
		{"https host", []string{"https://Bank.example/cb", "https://bank.example/cb2"}, "", "bank.example"},
		{"two hosts", []string{"https://bank.example/cb", "https://other.example/cb"}, "", "client:c1"},
		{"sector identifier", []string{"https://bank.example/cb", "https://other.example/cb"}, "bank.example", "bank.example"},
		{"app scheme", []string{"io.sanad.wallet://callback"}, "", "app:io.sanad.wallet"},
		{"another app, same word after ://", []string{"org.other.wallet://callback"}, "", "app:org.other.wallet"},
		{"app and web", []string{"io.bank.app://cb", "https://cb"}, "", "client:c1"},
		{"loopback", []string{"http://127.0.0.1:8080/cb"}, "", "127.0.0.1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := &client{Config: ClientAdditionalConfig{SectorIdentifier: tt.sectorID}}
			c.ID, c.RedirectURIs = "c1", tt.uris
			if got := c.sector(); got != tt.want {
				t.Errorf("sector(%v) = %q, want %q", tt.uris, got, tt.want)
			}
		})
	}
}
