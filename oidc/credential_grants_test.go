package oidc

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/sanad-id/sanad/storage"
)

// Tests of the provider as the credential issuer's authorization server:
// the pre-authorized code grant against a fake CredentialGrants, c_nonce,
// openid_credential authorization details and public (wallet) clients.

// cgIssuer is the credential issuer of tkNewEnv.
const cgIssuer = "https://issuer.example.org"

// cgOAuthError is an issuer error naming its OAuth error, as issuer's
// errors do.
type cgOAuthError struct {
	code, desc string
	status     int
}

func (e *cgOAuthError) Error() string { return "issuer: " + e.code + ": " + e.desc }
func (e *cgOAuthError) OAuthError() (string, int, string) {
	return e.code, e.status, e.desc
}

// cgCode is a pre-authorized code the fake issuer knows.
type cgCode struct {
	txCode string
	grant  PreAuthorizedGrant
	err    error // returned instead of the grant
}

// cgGrants is a fake credential issuer: single-use codes in a map, and
// counted nonces.
type cgGrants struct {
	mu       sync.Mutex
	codes    map[string]cgCode
	nonces   int
	nonceErr error
	redeemed int
}

func (f *cgGrants) add(code string, c cgCode) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.codes == nil {
		f.codes = map[string]cgCode{}
	}
	f.codes[code] = c
}

func (f *cgGrants) RedeemPreAuthorizedCode(_ context.Context, code, txCode string) (*PreAuthorizedGrant, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	c, ok := f.codes[code]
	if !ok {
		return nil, &cgOAuthError{code: "invalid_grant", desc: "pre-authorized code is invalid, used or expired", status: 400}
	}
	delete(f.codes, code)
	if c.err != nil {
		return nil, c.err
	}
	if c.txCode != txCode {
		return nil, &cgOAuthError{code: "invalid_grant", desc: "tx_code does not match", status: 400}
	}
	f.redeemed++
	g := c.grant
	return &g, nil
}

func (f *cgGrants) NewCNonce(context.Context) (string, time.Duration, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.nonceErr != nil {
		return "", 0, f.nonceErr
	}
	f.nonces++
	return fmt.Sprintf("c-nonce-%d", f.nonces), 5 * time.Minute, nil
}

// cgAuthn derives pairwise subjects as idrepo/authn does, with a hash.
type cgAuthn struct{ tkNoAuthn }

func (cgAuthn) PairwiseSubject(_ context.Context, sector, personID string) (string, error) {
	sum := sha256.Sum256([]byte(sector + "\x00" + personID))
	return b64(sum[:]), nil
}

// cgSubject is the subject a resident has with the credential issuer.
func cgSubject(personID string) string {
	sub, _ := cgAuthn{}.PairwiseSubject(context.Background(), "credential-issuer:"+cgIssuer, personID)
	return sub
}

// cgGrant is a grant of the national ID credential to tkPerson.
var cgGrant = PreAuthorizedGrant{PersonID: tkPerson, ConfigurationIDs: []string{"NationalID_SDJWT", "NationalID_LDP"},
	Scopes: []string{"national_id_vc"}}

// cgDetails is what cgGrant's authorization_details must be.
const cgDetails = `[{"type":"openid_credential","credential_configuration_id":"NationalID_SDJWT","credential_identifiers":["NationalID_SDJWT"]},` +
	`{"type":"openid_credential","credential_configuration_id":"NationalID_LDP","credential_identifiers":["NationalID_LDP"]}]`

// cgNewEnv is a provider serving a fake credential issuer, with PAR and
// /authorize mounted too.
func cgNewEnv(t *testing.T, opts ...func(*Config)) (*tkEnv, *cgGrants) {
	t.Helper()
	f := &cgGrants{}
	e := tkNewEnv(t, append([]func(*Config){func(c *Config) {
		c.CredentialGrants = f
		c.Authn = cgAuthn{}
		c.CredentialConfigurationIDs = []string{"NationalID_SDJWT", "NationalID_LDP", "Farmer_LDP"}
		c.CredentialScopes = []string{"national_id_vc", "farmer_vc"}
	}}, opts...)...)
	eng := e.h.(*gin.Engine)
	eng.POST(PathPAR, e.p.handlePAR)
	eng.GET(PathAuthorize, e.p.handleAuthorize)
	return e, f
}

// preAuthForm is a pre-authorized token request for code.
func preAuthForm(code, txCode string) url.Values {
	f := url.Values{"grant_type": {GrantTypePreAuthorizedCode}, "pre-authorized_code": {code}}
	if txCode != "" {
		f.Set("tx_code", txCode)
	}
	return f
}

// cgTokenResponse is a decoded token response with OpenID4VCI's members.
type cgTokenResponse struct {
	tkTokenResponse
	CNonce          string `json:"c_nonce"`
	CNonceExpiresIn int64  `json:"c_nonce_expires_in"`
}

func TestPreAuthorizedGrant(t *testing.T) {
	e, f := cgNewEnv(t)
	f.add("code-1", cgCode{txCode: "4821", grant: cgGrant})
	f.add("code-2", cgCode{grant: cgGrant})

	w := e.postForm(PathToken, preAuthForm("code-1", "4821"), nil)
	if w.Code != http.StatusOK || w.Header().Get("Cache-Control") != "no-store" {
		t.Fatalf("pre-authorized token request = %d %s (Cache-Control %q), want 200, no-store", w.Code, w.Body, w.Header().Get("Cache-Control"))
	}
	resp := tkDecode[cgTokenResponse](t, w)
	if resp.TokenType != tokenTypeBearer || resp.IDToken != "" || resp.Scope != "national_id_vc" || resp.ExpiresIn != 3600 {
		t.Errorf("token response = %+v, want Bearer, no ID token, scope national_id_vc, 3600 s", resp)
	}
	if string(resp.AuthorizationDetails) != cgDetails {
		t.Errorf("authorization_details = %s, want %s", resp.AuthorizationDetails, cgDetails)
	}
	if resp.CNonce != "c-nonce-1" || resp.CNonceExpiresIn != 300 {
		t.Errorf("c_nonce, c_nonce_expires_in = %q, %d, want c-nonce-1, 300", resp.CNonce, resp.CNonceExpiresIn)
	}
	_, at := e.verifyJWT(resp.AccessToken)
	var wantDetails any
	if err := json.Unmarshal([]byte(cgDetails), &wantDetails); err != nil {
		t.Fatal(err)
	}
	if at["aud"] != cgIssuer || at["scope"] != "national_id_vc" || at["sub"] != cgSubject(tkPerson) ||
		at["client_id"] != anonymousClientID || !reflect.DeepEqual(at["authorization_details"], wantDetails) || at["cnf"] != nil {
		t.Errorf("access token = %v, want aud %s, scope national_id_vc, pairwise sub, anonymous client, the details, no cnf", at, cgIssuer)
	}
	if strings.Contains(w.Body.String(), tkPerson) {
		t.Errorf("token response %s holds the internal person id", w.Body)
	}
	got, err := e.p.VerifyAccessToken(t.Context(), resp.AccessToken)
	if err != nil {
		t.Fatalf("VerifyAccessToken = %v, want nil", err)
	}
	if got.PersonID != tkPerson || got.Subject != cgSubject(tkPerson) || got.ClientID != "" ||
		!slices.Equal(got.CredentialScopes, []string{"national_id_vc"}) || string(got.AuthorizationDetails) != cgDetails || got.JKT != "" {
		t.Errorf("VerifyAccessToken = %+v, want person %s, the pairwise subject, no client, national_id_vc, the details, unbound", got, tkPerson)
	}

	// The same resident gets the same subject from another code.
	resp2 := tkDecode[cgTokenResponse](t, e.postForm(PathToken, preAuthForm("code-2", ""), nil))
	got2, err := e.p.VerifyAccessToken(t.Context(), resp2.AccessToken)
	if err != nil || got2.Subject != got.Subject {
		t.Errorf("second token: VerifyAccessToken = %+v, %v, want subject %s", got2, err, got.Subject)
	}
	if resp2.CNonce != "c-nonce-2" {
		t.Errorf("second c_nonce = %q, want a fresh one (c-nonce-2)", resp2.CNonce)
	}
	// Not usable at userinfo.
	if w := e.resource("GET", PathUserinfo, "Bearer", resp.AccessToken, "", nil); w.Code != http.StatusUnauthorized || errorOf(w) != CodeInvalidToken {
		t.Errorf("userinfo with a pre-authorized token = %d %s, want 401 invalid_token", w.Code, w.Body)
	}
}

func TestPreAuthorizedGrantDPoP(t *testing.T) {
	e, f := cgNewEnv(t)
	f.add("code-1", cgCode{grant: cgGrant})
	key := tkKey(t, "ES256")
	w := e.postForm(PathToken, preAuthForm("code-1", ""), http.Header{"DPoP": {e.proof(key, "POST", testTokenURL, "", "")}})
	if w.Code != http.StatusOK {
		t.Fatalf("pre-authorized token request with DPoP = %d %s, want 200", w.Code, w.Body)
	}
	resp := tkDecode[cgTokenResponse](t, w)
	if resp.TokenType != tokenTypeDPoP {
		t.Errorf("token_type = %q, want DPoP", resp.TokenType)
	}
	_, at := e.verifyJWT(resp.AccessToken)
	if cnf, _ := at["cnf"].(map[string]any); cnf["jkt"] != thumbprint(t, key) {
		t.Errorf("cnf = %v, want jkt %s", at["cnf"], thumbprint(t, key))
	}
	got, err := e.p.VerifyAccessToken(t.Context(), resp.AccessToken)
	if err != nil || got.JKT != thumbprint(t, key) {
		t.Errorf("VerifyAccessToken = %+v, %v, want JKT %s", got, err, thumbprint(t, key))
	}
	// The issuer checks proofs through VerifyProof.
	proof := e.proof(key, "POST", cgIssuer+"/credential", resp.AccessToken, "")
	jkt, err := e.p.dpop.VerifyProof(t.Context(), proof, "POST", cgIssuer+"/credential", resp.AccessToken)
	if err != nil || jkt != got.JKT {
		t.Errorf("VerifyProof = %q, %v, want %q", jkt, err, got.JKT)
	}
	if _, err := e.p.dpop.VerifyProof(t.Context(), proof, "POST", cgIssuer+"/credential", resp.AccessToken); !HasCode(err, CodeInvalidDPoPProof) {
		t.Errorf("VerifyProof(replayed proof) = %v, want invalid_dpop_proof", err)
	}

	// A bad proof fails before the code is consumed: the wallet can retry.
	f.add("code-2", cgCode{grant: cgGrant})
	bad := e.proof(key, "POST", testIssuer+"/elsewhere", "", "")
	if w := e.postForm(PathToken, preAuthForm("code-2", ""), http.Header{"DPoP": {bad}}); errorOf(w) != CodeInvalidDPoPProof {
		t.Fatalf("pre-authorized request with a proof for another URL = %d %s, want invalid_dpop_proof", w.Code, w.Body)
	}
	if w := e.postForm(PathToken, preAuthForm("code-2", ""), nil); w.Code != http.StatusOK {
		t.Errorf("retry after a bad proof = %d %s, want 200", w.Code, w.Body)
	}
}

func TestPreAuthorizedGrantErrors(t *testing.T) {
	e, f := cgNewEnv(t)
	tests := []struct {
		name   string
		code   cgCode
		form   func(url.Values)
		status int
		err    string
		desc   string
		kept   bool // the request fails before the code is redeemed
	}{
		{name: "wrong code", form: func(f url.Values) { f.Set("pre-authorized_code", "nope") },
			status: 400, err: CodeInvalidGrant, desc: "pre-authorized code is invalid, used or expired", kept: true},
		{name: "wrong tx_code", code: cgCode{txCode: "1234", grant: cgGrant}, form: func(f url.Values) { f.Set("tx_code", "9999") },
			status: 400, err: CodeInvalidGrant, desc: "tx_code does not match"},
		{name: "issuer's own code and status", code: cgCode{err: fmt.Errorf("wrapped: %w", &cgOAuthError{code: "invalid_request", desc: "tx_code required", status: 400})},
			status: 400, err: CodeInvalidRequest, desc: "tx_code required"},
		{name: "issuer's 429", code: cgCode{err: &cgOAuthError{code: "slow_down", desc: "too many attempts", status: 429}},
			status: 429, err: "slow_down", desc: "too many attempts"},
		{name: "status out of range", code: cgCode{err: &cgOAuthError{code: "invalid_grant", desc: "used", status: 200}},
			status: 400, err: CodeInvalidGrant, desc: "used"},
		{name: "an *Error", code: cgCode{err: ErrInvalidGrant("offer expired", nil)},
			status: 400, err: CodeInvalidGrant, desc: "offer expired"},
		{name: "malformed code", code: cgCode{err: &cgOAuthError{code: "Bad Code\"", desc: "x", status: 400}},
			status: 500, err: CodeServerError, desc: "internal error"},
		{name: "plain error", code: cgCode{err: errors.New("database down")},
			status: 500, err: CodeServerError, desc: "internal error"},
		{name: "unknown configuration", code: cgCode{grant: PreAuthorizedGrant{PersonID: tkPerson, ConfigurationIDs: []string{"Nope"}}},
			status: 500, err: CodeServerError, desc: "internal error"},
		{name: "not a credential scope", code: cgCode{grant: PreAuthorizedGrant{PersonID: tkPerson, ConfigurationIDs: []string{"Farmer_LDP"}, Scopes: []string{"openid"}}},
			status: 500, err: CodeServerError, desc: "internal error"},
		{name: "no person", code: cgCode{grant: PreAuthorizedGrant{ConfigurationIDs: []string{"Farmer_LDP"}}},
			status: 500, err: CodeServerError, desc: "internal error"},
		{name: "no code", form: func(f url.Values) { f.Del("pre-authorized_code") },
			status: 400, err: CodeInvalidRequest, desc: "pre-authorized_code required", kept: true},
		{name: "repeated code", form: func(f url.Values) { f.Add("pre-authorized_code", "x") },
			status: 400, err: CodeInvalidRequest, desc: "parameter pre-authorized_code is repeated", kept: true},
		{name: "overlong tx_code", form: func(f url.Values) { f.Set("tx_code", strings.Repeat("1", 513)) },
			status: 400, err: CodeInvalidRequest, desc: "pre-authorized_code or tx_code is too long", kept: true},
		{name: "confidential client without assertion", form: func(f url.Values) { f.Set("client_id", "bank") },
			status: 401, err: CodeInvalidClient, desc: "client authentication failed", kept: true},
		{name: "malformed client_id", form: func(f url.Values) { f.Set("client_id", "a wallet") },
			status: 400, err: CodeInvalidRequest, desc: "client_id is malformed", kept: true},
		{name: "the anonymous marker as client_id", form: func(f url.Values) { f.Set("client_id", anonymousClientID) },
			status: 400, err: CodeInvalidRequest, desc: "client_id is malformed", kept: true},
	}
	e.register("bank", "ES256", nil, "")
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code := fmt.Sprintf("code-%d", i)
			f.add(code, tt.code)
			form := preAuthForm(code, tt.code.txCode)
			if tt.form != nil {
				tt.form(form)
			}
			w := e.postForm(PathToken, form, nil)
			var body struct {
				Error       string `json:"error"`
				Description string `json:"error_description"`
			}
			_ = json.Unmarshal(w.Body.Bytes(), &body)
			if w.Code != tt.status || body.Error != tt.err || body.Description != tt.desc {
				t.Errorf("token request = %d %s, want %d %s %q", w.Code, w.Body, tt.status, tt.err, tt.desc)
			}
			f.mu.Lock()
			_, kept := f.codes[code]
			f.mu.Unlock()
			if kept != tt.kept {
				t.Errorf("code kept = %v, want %v", kept, tt.kept)
			}
		})
	}
}

func TestPreAuthorizedGrantReplay(t *testing.T) {
	e, f := cgNewEnv(t)
	f.add("code-1", cgCode{grant: cgGrant})
	if w := e.postForm(PathToken, preAuthForm("code-1", ""), nil); w.Code != http.StatusOK {
		t.Fatalf("first redemption = %d %s, want 200", w.Code, w.Body)
	}
	w := e.postForm(PathToken, preAuthForm("code-1", ""), nil)
	if w.Code != http.StatusBadRequest || errorOf(w) != CodeInvalidGrant {
		t.Errorf("second redemption = %d %s, want 400 invalid_grant", w.Code, w.Body)
	}
}

func TestPreAuthorizedGrantClients(t *testing.T) {
	e, f := cgNewEnv(t)
	wallet := e.register("mimoto", "ES256", nil, "")
	if _, err := e.reg.Update(t.Context(), "mimoto", ClientUpdate{ClientName: "Mimoto", Status: ClientStatusActive,
		LogoURI: "https://rp.example/l.png", RedirectURIs: []string{tkRedirect}, UserClaims: []string{},
		AuthContextRefs: []string{"mosip:idp:acr:generated-code"},
		GrantTypes:      []string{GrantTypeAuthorizationCode, GrantTypePreAuthorizedCode}, ClientAuthMethods: []string{"private_key_jwt"}}); err != nil {
		t.Fatal(err)
	}
	bank := e.register("bank", "ES256", nil, "")
	cgRegisterPublic(t, e, "inji", "national_id_vc", []string{GrantTypeAuthorizationCode, GrantTypePreAuthorizedCode})
	cgRegisterPublic(t, e, "code-only", "national_id_vc", []string{GrantTypeAuthorizationCode})

	tests := []struct {
		name     string
		form     func(url.Values)
		status   int
		err      string
		clientID string // of the access token
	}{
		{name: "anonymous", status: 200, clientID: anonymousClientID},
		{name: "unregistered wallet's client_id", form: func(f url.Values) { f.Set("client_id", "did:key:z6Mk") },
			status: 200, clientID: "did:key:z6Mk"},
		{name: "public client", form: func(f url.Values) { f.Set("client_id", "inji") }, status: 200, clientID: "inji"},
		{name: "public client without the grant", form: func(f url.Values) { f.Set("client_id", "code-only") },
			status: 400, err: CodeUnauthorizedClient},
		{name: "confidential client", form: func(f url.Values) {
			for k, v := range e.authForm(wallet, PathToken) {
				f[k] = v
			}
		}, status: 200, clientID: "mimoto"},
		{name: "confidential client without the grant", form: func(f url.Values) {
			for k, v := range e.authForm(bank, PathToken) {
				f[k] = v
			}
		}, status: 400, err: CodeUnauthorizedClient},
		{name: "bad assertion", form: func(f url.Values) {
			for k, v := range e.authForm(wallet, PathToken) {
				f[k] = v
			}
			f.Set("client_assertion", e.assertion(bank, e.assertionClaims(bank, testTokenURL)))
		}, status: 401, err: CodeInvalidClient},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code := fmt.Sprintf("code-%d", i)
			f.add(code, cgCode{grant: cgGrant})
			form := preAuthForm(code, "")
			if tt.form != nil {
				tt.form(form)
			}
			w := e.postForm(PathToken, form, nil)
			if w.Code != tt.status || errorOf(w) != tt.err {
				t.Fatalf("token request = %d %s, want %d %q", w.Code, w.Body, tt.status, tt.err)
			}
			if tt.status != 200 {
				return
			}
			_, at := e.verifyJWT(tkDecode[cgTokenResponse](t, w).AccessToken)
			if at["client_id"] != tt.clientID || at["sub"] != cgSubject(tkPerson) {
				t.Errorf("access token client_id, sub = %v, %v, want %s and the issuer's pairwise subject", at["client_id"], at["sub"], tt.clientID)
			}
		})
	}
}

func TestPreAuthorizedGrantDisabled(t *testing.T) {
	e := tkNewEnv(t)
	cl := e.register("bank", "ES256", nil, "")
	for _, form := range []url.Values{preAuthForm("code", ""), func() url.Values {
		f := e.authForm(cl, PathToken)
		for k, v := range preAuthForm("code", "") {
			f[k] = v
		}
		return f
	}()} {
		w := e.postForm(PathToken, form, nil)
		if form.Has("client_assertion") {
			if w.Code != http.StatusBadRequest || errorOf(w) != CodeUnsupportedGrantType {
				t.Errorf("pre-authorized grant without CredentialGrants = %d %s, want 400 unsupported_grant_type", w.Code, w.Body)
			}
		} else if w.Code != http.StatusUnauthorized || errorOf(w) != CodeInvalidClient {
			t.Errorf("anonymous pre-authorized grant without CredentialGrants = %d %s, want 401 invalid_client", w.Code, w.Body)
		}
	}
}

// cgTokenRecords is a State that remembers which access token records
// were stored and which deleted.
type cgTokenRecords struct {
	storage.State
	mu      sync.Mutex
	put     []string
	deleted []string
}

func (s *cgTokenRecords) Put(ctx context.Context, key string, v []byte, ttl time.Duration) error {
	if strings.HasPrefix(key, "oidc:at:") {
		s.mu.Lock()
		s.put = append(s.put, key)
		s.mu.Unlock()
	}
	return s.State.Put(ctx, key, v, ttl)
}

func (s *cgTokenRecords) Delete(ctx context.Context, key string) error {
	if strings.HasPrefix(key, "oidc:at:") {
		s.mu.Lock()
		s.deleted = append(s.deleted, key)
		s.mu.Unlock()
	}
	return s.State.Delete(ctx, key)
}

func TestCNonce(t *testing.T) {
	var rec *cgTokenRecords
	e, f := cgNewEnv(t, func(c *Config) {
		rec = &cgTokenRecords{State: c.State}
		c.State = rec
	})
	cl := e.register("bank", "ES256", nil, "")

	// A credential grant by authorization code gets a c_nonce; a login does
	// not.
	g := e.grant(cl)
	g.Scopes, g.CredentialScopes, g.AcceptedClaims, g.IDTokenClaims, g.Claims = []string{"national_id_vc"}, []string{"national_id_vc"}, nil, nil, nil
	w := e.postForm(PathToken, e.tokenForm(cl, e.putCode(g)), nil)
	if resp := tkDecode[cgTokenResponse](t, w); w.Code != 200 || resp.CNonce != "c-nonce-1" || resp.CNonceExpiresIn != 300 {
		t.Errorf("credential token response = %d %s, want c_nonce c-nonce-1, 300 s", w.Code, w.Body)
	}
	w = e.postForm(PathToken, e.tokenForm(cl, e.putCode(e.grant(cl))), nil)
	if w.Code != 200 || strings.Contains(w.Body.String(), "c_nonce") {
		t.Errorf("login token response = %d %s, want no c_nonce", w.Code, w.Body)
	}

	// The issuer failing to issue a nonce fails the request, and the token
	// that was not returned is withdrawn.
	f.nonceErr = errors.New("nonce store down")
	for name, form := range map[string]url.Values{
		"pre-authorized":     preAuthForm("code-1", ""),
		"authorization code": e.tokenForm(cl, e.putCode(g)),
	} {
		f.add("code-1", cgCode{grant: cgGrant})
		rec.put, rec.deleted = nil, nil
		w = e.postForm(PathToken, form, nil)
		if w.Code != http.StatusInternalServerError || errorOf(w) != CodeServerError {
			t.Errorf("%s: token request when NewCNonce fails = %d %s, want 500 server_error", name, w.Code, w.Body)
		}
		if len(rec.put) != 1 || !slices.Equal(rec.put, rec.deleted) {
			t.Errorf("%s: token records stored %v, deleted %v, want the one stored deleted", name, rec.put, rec.deleted)
		}
	}
}

// cgRegisterPublic registers a public client with scope.
func cgRegisterPublic(t *testing.T, e *tkEnv, id, scope string, grants []string) {
	t.Helper()
	_, err := e.reg.Create(t.Context(), ClientRegistration{
		ClientID: id, ClientName: "Wallet " + id, RelyingPartyID: id, UserClaims: []string{},
		AuthContextRefs: []string{"mosip:idp:acr:generated-code"}, LogoURI: "https://wallet.example/logo.png",
		RedirectURIs: []string{tkRedirect}, GrantTypes: grants, ClientAuthMethods: []string{AuthMethodNone},
		AdditionalConfig: json.RawMessage(`{"scope":"` + scope + `"}`),
	})
	if err != nil {
		t.Fatalf("register public client %s: %v", id, err)
	}
}
