package oidc_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sanad-id/sanad/oidc"
	"github.com/sanad-id/sanad/oidc/oidctest"
)

// End-to-end tests of the provider as a credential issuer's authorization
// server, driven as a wallet would: a public client (token_endpoint_auth_
// method none) through the UI API and PAR, and the pre-authorized code
// grant, against a fake issuer (walletGrants).

const walletIssuer = "https://issuer.example.org"

// walletGrants is a fake credential issuer: single-use pre-authorized
// codes, nonces counted.
type walletGrants struct {
	mu     sync.Mutex
	codes  map[string]*oidc.PreAuthorizedGrant
	nonces int
}

// walletOAuthError is the issuer's error for a code it does not know.
type walletOAuthError struct{}

func (walletOAuthError) Error() string { return "issuer: unknown pre-authorized code" }
func (walletOAuthError) OAuthError() (string, int, string) {
	return "invalid_grant", http.StatusBadRequest, "pre-authorized code is invalid, used or expired"
}

func (w *walletGrants) offer(code string, g *oidc.PreAuthorizedGrant) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.codes[code] = g
}

func (w *walletGrants) RedeemPreAuthorizedCode(_ context.Context, code, txCode string) (*oidc.PreAuthorizedGrant, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	g, ok := w.codes[code]
	if !ok || txCode != "" {
		return nil, walletOAuthError{}
	}
	delete(w.codes, code)
	return g, nil
}

func (w *walletGrants) NewCNonce(context.Context) (string, time.Duration, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.nonces++
	return fmt.Sprintf("c-nonce-%d", w.nonces), time.Minute, nil
}

// walletStack is a stack serving walletGrants.
func walletStack(t *testing.T, stores e2eStores) (*e2e, *walletGrants) {
	t.Helper()
	grants := &walletGrants{codes: map[string]*oidc.PreAuthorizedGrant{}}
	e := newE2E(t, stores, func(o *oidctest.Options) {
		prev := o.Provider
		o.Provider = func(c *oidc.Config) {
			if prev != nil {
				prev(c)
			}
			c.CredentialIssuer = walletIssuer
			c.CredentialScopes = []string{"national_id_vc", "farmer_vc"}
			c.CredentialConfigurationIDs = []string{"NationalID_SDJWT", "Farmer_LDP"}
			c.CredentialGrants = grants
		}
	})
	return e, grants
}

func TestE2EWallet(t *testing.T) {
	t.Parallel()
	runE2EWallet(t, e2eSQLiteMemory)
}

func TestE2EWalletPostgresRedis(t *testing.T) {
	t.Parallel()
	runE2EWallet(t, e2ePostgresRedis)
}

func runE2EWallet(t *testing.T, stores e2eStores) {
	e, grants := walletStack(t, stores)
	for _, tc := range []struct {
		name string
		test func(*testing.T, *e2e, *walletGrants)
	}{
		{"PublicClient", testE2EWalletPublicClient},
		{"PublicClientPAR", testE2EWalletPublicClientPAR},
		{"PublicClientRefused", testE2EWalletPublicClientRefused},
		{"PreAuthorized", testE2EWalletPreAuthorized},
	} {
		t.Run(tc.name, func(t *testing.T) { tc.test(t, e, grants) })
	}
}

// wallet registers a public client for national_id_vc and returns its RP.
func (e *e2e) wallet(t *testing.T, id string) *oidctest.RP {
	t.Helper()
	cl, err := e.s.RegisterPublicClient(t.Context(), id, "io.sanad."+id+"://callback", "national_id_vc", "")
	if err != nil {
		t.Fatalf("RegisterPublicClient(%s) = %v", id, err)
	}
	return &oidctest.RP{Issuer: e.s.Issuer, Client: cl}
}

// testE2EWalletPublicClient: a wallet app signs a resident in through the
// UI API with PKCE and redeems the code with its client_id alone.
func testE2EWalletPublicClient(t *testing.T, e *e2e, _ *walletGrants) {
	rp := e.wallet(t, "inji")
	r := e.resident(0)
	o := e.login(r, "PIN")
	o.Scope = "national_id_vc"
	_, res := e2eRun(t, rp, o)
	tok := res.Token
	if tok.IDToken != "" || tok.Scope != "national_id_vc" || tok.TokenType != "Bearer" || !strings.HasPrefix(tok.CNonce, "c-nonce-") ||
		tok.CNonceExpiresIn != 60 || res.ConsentAction != oidc.ConsentNoCapture {
		t.Errorf("wallet token = %+v (consent %s), want no ID token, national_id_vc, Bearer, a c_nonce for 60 s, no consent asked", tok, res.ConsentAction)
	}
	at, err := e.s.Provider.VerifyAccessToken(t.Context(), tok.AccessToken)
	if err != nil {
		t.Fatalf("VerifyAccessToken = %v", err)
	}
	if at.ClientID != "inji" || at.PersonID != r.ResidentID || at.Subject == "" || len(at.CredentialScopes) != 1 {
		t.Errorf("VerifyAccessToken = %+v, want client inji, resident %s, national_id_vc", at, r.ResidentID)
	}
}

// testE2EWalletPublicClientPAR: PAR with authorization_details and a DPoP
// key, by a public client.
func testE2EWalletPublicClientPAR(t *testing.T, e *e2e, _ *walletGrants) {
	rp := e.wallet(t, "inji-par")
	rp.DPoPKey = e2eKey(t, "ES256")
	o := e.login(e.resident(1), "PWD")
	o.Scope, o.PAR = "national_id_vc", true
	f, err := rp.NewFlow(o)
	if err != nil {
		t.Fatal(err)
	}
	f.Request.AuthorizationDetails = `[{"type":"openid_credential","credential_configuration_id":"NationalID_SDJWT"}]`
	res, err := f.Run(t.Context())
	if err != nil {
		t.Fatalf("wallet login with PAR = %v", err)
	}
	want := `[{"credential_configuration_id":"NationalID_SDJWT","credential_identifiers":["NationalID_SDJWT"],"type":"openid_credential"}]`
	if string(res.Token.AuthorizationDetails) != want || res.Token.TokenType != "DPoP" {
		t.Errorf("token authorization_details, type = %s, %s, want %s, DPoP", res.Token.AuthorizationDetails, res.Token.TokenType, want)
	}
	jkt, _ := oidctest.Thumbprint(rp.DPoPKey)
	if at, err := e.s.Provider.VerifyAccessToken(t.Context(), res.Token.AccessToken); err != nil || at.JKT != jkt {
		t.Errorf("VerifyAccessToken = %+v, %v, want JKT %s", at, err, jkt)
	}
}

// testE2EWalletPublicClientRefused: what a public client may not do.
func testE2EWalletPublicClientRefused(t *testing.T, e *e2e, _ *walletGrants) {
	ctx := t.Context()
	rp := e.wallet(t, "inji-refused")
	o := e.login(e.resident(2), "PIN")
	o.Scope = "national_id_vc"

	// No PKCE, by oauth-details and by PAR.
	f, _ := rp.NewFlow(o)
	f.Request.CodeChallenge, f.Request.CodeChallengeMethod = "", ""
	_, err := f.OAuthDetails(ctx)
	e2eWantCode(t, "oauth-details of a public client without PKCE", err, oidc.CodeUsePKCE, 0)
	err = f.PAR(ctx)
	e2eWantCode(t, "PAR of a public client without PKCE", err, oidc.CodeUsePKCE, http.StatusBadRequest)

	// openid, by PAR and by /authorize.
	f, _ = rp.NewFlow(o)
	f.Request.Scope = "openid national_id_vc"
	err = f.PAR(ctx)
	e2eWantCode(t, "PAR of a public client asking openid", err, oidc.CodeInvalidScope, http.StatusBadRequest)
	ar, err := f.Authorize(ctx)
	if err != nil {
		t.Fatal(err)
	}
	loc, _ := url.Parse(ar.Location)
	if ar.Status != http.StatusSeeOther || loc == nil || loc.Query().Get("error") != oidc.CodeInvalidScope ||
		!strings.HasPrefix(ar.Location, rp.Client.RedirectURI) {
		t.Errorf("/authorize of a public client asking openid = %d %s, want a redirect with invalid_scope", ar.Status, ar.Location)
	}

	// An unknown credential configuration.
	f, _ = rp.NewFlow(o)
	f.Request.AuthorizationDetails = `[{"type":"openid_credential","credential_configuration_id":"Passport"}]`
	err = f.PAR(ctx)
	e2eWantCode(t, "PAR with an unknown credential_configuration_id", err, oidc.CodeInvalidAuthorizationDetails, http.StatusBadRequest)

	// A public client cannot introspect.
	_, err = rp.Introspect(ctx, "x")
	e2eWantCode(t, "introspection by a public client", err, oidc.CodeInvalidClient, http.StatusUnauthorized)
}

// testE2EWalletPreAuthorized: a wallet redeems an offer's pre-authorized
// code anonymously, then with a DPoP key, and gets the same subject.
func testE2EWalletPreAuthorized(t *testing.T, e *e2e, grants *walletGrants) {
	ctx := t.Context()
	r := e.resident(0)
	grant := &oidc.PreAuthorizedGrant{PersonID: r.ResidentID, ConfigurationIDs: []string{"NationalID_SDJWT"}, Scopes: []string{"national_id_vc"}}
	grants.offer("offer-1", grant)
	grants.offer("offer-2", grant)
	anon := &oidctest.RP{Issuer: e.s.Issuer}

	tok, err := anon.PreAuthorizedToken(ctx, oidctest.PreAuthorizedTokenRequest{Code: "offer-1"})
	if err != nil {
		t.Fatalf("anonymous pre-authorized token = %v", err)
	}
	want := `[{"type":"openid_credential","credential_configuration_id":"NationalID_SDJWT","credential_identifiers":["NationalID_SDJWT"]}]`
	if tok.TokenType != "Bearer" || tok.IDToken != "" || tok.Scope != "national_id_vc" || string(tok.AuthorizationDetails) != want || tok.CNonce == "" {
		t.Errorf("pre-authorized token = %+v, want Bearer, national_id_vc, %s, a c_nonce", tok, want)
	}
	at, err := e.s.Provider.VerifyAccessToken(ctx, tok.AccessToken)
	if err != nil || at.ClientID != "" || at.PersonID != r.ResidentID {
		t.Fatalf("VerifyAccessToken = %+v, %v, want no client, resident %s", at, err, r.ResidentID)
	}

	_, err = anon.PreAuthorizedToken(ctx, oidctest.PreAuthorizedTokenRequest{Code: "offer-1"})
	e2eWantCode(t, "redeeming a pre-authorized code twice", err, oidc.CodeInvalidGrant, http.StatusBadRequest)

	bound := &oidctest.RP{Issuer: e.s.Issuer, DPoPKey: e2eKey(t, "ES256")}
	tok2, err := bound.PreAuthorizedToken(ctx, oidctest.PreAuthorizedTokenRequest{Code: "offer-2"})
	if err != nil {
		t.Fatalf("DPoP pre-authorized token = %v", err)
	}
	at2, err := e.s.Provider.VerifyAccessToken(ctx, tok2.AccessToken)
	jkt, _ := oidctest.Thumbprint(bound.DPoPKey)
	if err != nil || tok2.TokenType != "DPoP" || at2.JKT != jkt || at2.Subject != at.Subject {
		t.Errorf("DPoP pre-authorized token %+v: VerifyAccessToken = %+v, %v, want DPoP, JKT %s, subject %s", tok2, at2, err, jkt, at.Subject)
	}

	// Discovery says so.
	resp, err := http.Get(e.s.Issuer + oidc.PathDiscoveryAS)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var doc struct {
		GrantTypes  []string `json:"grant_types_supported"`
		Anonymous   bool     `json:"pre-authorized_grant_anonymous_access_supported"`
		AuthMethods []string `json:"token_endpoint_auth_methods_supported"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&doc); err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(doc.GrantTypes) != "[authorization_code "+oidc.GrantTypePreAuthorizedCode+"]" || !doc.Anonymous ||
		fmt.Sprint(doc.AuthMethods) != "[private_key_jwt none]" {
		t.Errorf("discovery = %+v, want both grants, anonymous access, private_key_jwt and none", doc)
	}
}
