package oidc

import (
	"encoding/json"
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/sanad-id/sanad/storage"
)

func TestConsentAPI(t *testing.T) {
	e := tkNewEnv(t)
	ctx := t.Context()
	portal := e.register("portal", "ES256", nil, `{"consent_management":true}`)
	bank := e.register("bank", "ES256", nil, "")
	e.register("shop", "ES256", nil, "")
	created := testNow.Add(-time.Hour).UTC()
	for _, c := range []storage.Consent{
		{ClientID: "bank", PersonID: tkPerson, Hash: []byte{1}, AcceptedClaims: []string{"name", "email"},
			PermittedScopes: []string{}, CreatedAt: created},
		{ClientID: "shop", PersonID: tkPerson, Hash: []byte{2}, AcceptedClaims: []string{"email"},
			PermittedScopes: []string{"national_id_vc"}, CreatedAt: created, ExpiresAt: testNow.Add(time.Hour).UTC()},
		{ClientID: "expired", PersonID: tkPerson, Hash: []byte{3}, AcceptedClaims: []string{"name"},
			CreatedAt: created.Add(-48 * time.Hour), ExpiresAt: testNow.Add(-time.Hour).UTC()},
		{ClientID: "bank", PersonID: "someone-else", Hash: []byte{4}, AcceptedClaims: []string{"name"}, CreatedAt: created},
	} {
		if err := e.db.PutConsent(ctx, c); err != nil {
			t.Fatal(err)
		}
	}
	g := e.grant(portal)
	g.Scopes = []string{"openid", ConsentScope}
	manage := e.exchange(portal, g, nil)
	noScope := e.exchange(portal, e.grant(portal), nil)
	bankToken := e.exchange(bank, e.grant(bank), nil)

	// List.
	w := e.resource("GET", PathConsents, "Bearer", manage.AccessToken, "", nil)
	if w.Code != http.StatusOK || w.Header().Get("Cache-Control") != "no-store" {
		t.Fatalf("GET consents = %d %s (Cache-Control %q), want 200, no-store", w.Code, w.Body, w.Header().Get("Cache-Control"))
	}
	var list struct {
		Consents []json.RawMessage `json:"consents"`
	}
	if err := json.Unmarshal(w.Body.Bytes(), &list); err != nil {
		t.Fatal(err)
	}
	want := []string{
		`{"clientId":"bank","clientName":"RP bank","logoUri":"https://rp.example/bank.png","acceptedClaims":["name","email"],` +
			`"permittedScopes":[],"createdAt":"2027-01-15T07:00:00Z"}`,
		`{"clientId":"shop","clientName":"RP shop","logoUri":"https://rp.example/shop.png","acceptedClaims":["email"],` +
			`"permittedScopes":["national_id_vc"],"createdAt":"2027-01-15T07:00:00Z","expiresAt":"2027-01-15T09:00:00Z"}`,
	}
	if len(list.Consents) != len(want) {
		t.Fatalf("GET consents = %s, want %d consents", w.Body, len(want))
	}
	for i, c := range list.Consents {
		if string(c) != want[i] {
			t.Errorf("consent %d = %s, want %s", i, c, want[i])
		}
	}

	tests := []struct {
		name   string
		method string
		path   string
		token  string
		status int
		code   string
	}{
		{name: "list without the scope", method: "GET", path: PathConsents, token: noScope.AccessToken, status: 403, code: CodeInsufficientScope},
		{name: "list without a token", method: "GET", path: PathConsents, status: 401, code: CodeInvalidToken},
		{name: "withdraw without the scope", method: "DELETE", path: PathConsents + "/bank", token: noScope.AccessToken, status: 403, code: CodeInsufficientScope},
		{name: "withdraw a consent there is not", method: "DELETE", path: PathConsents + "/nobody", token: manage.AccessToken, status: 404, code: "not_found"},
		{name: "withdraw", method: "DELETE", path: PathConsents + "/bank", token: manage.AccessToken, status: 204},
		{name: "withdraw again", method: "DELETE", path: PathConsents + "/bank", token: manage.AccessToken, status: 404, code: "not_found"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := e.resource(tt.method, tt.path, "Bearer", tt.token, "", nil)
			if w.Code != tt.status || errorOf(w) != tt.code {
				t.Errorf("%s %s = %d %s, want %d %q", tt.method, tt.path, w.Code, w.Body, tt.status, tt.code)
			}
		})
	}

	// The withdrawal is recorded and kills the bank's older token.
	if _, err := e.db.GetConsent(ctx, "bank", tkPerson); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("GetConsent(bank) after withdrawal = %v, want ErrNotFound", err)
	}
	if _, err := e.db.GetConsent(ctx, "bank", "someone-else"); err != nil {
		t.Errorf("GetConsent(bank, someone else) after withdrawal = %v, want nil", err)
	}
	w = e.resource("GET", PathUserinfo, "Bearer", bankToken.AccessToken, "", nil)
	if w.Code != http.StatusUnauthorized || errorOf(w) != CodeInvalidToken {
		t.Errorf("userinfo with a token issued before the withdrawal = %d %s, want 401 invalid_token", w.Code, w.Body)
	}
	// A token issued after the withdrawal (the resident consented again)
	// works.
	e.clock.Advance(time.Second)
	fresh := e.exchange(bank, e.grant(bank), nil)
	if w := e.resource("GET", PathUserinfo, "Bearer", fresh.AccessToken, "", nil); w.Code != http.StatusOK {
		t.Errorf("userinfo with a token issued after the withdrawal = %d %s, want 200", w.Code, w.Body)
	}
	// The portal's own token is the portal's: still good.
	if w := e.resource("GET", PathConsents, "Bearer", manage.AccessToken, "", nil); w.Code != http.StatusOK {
		t.Errorf("GET consents after a withdrawal = %d %s, want 200", w.Code, w.Body)
	}
}
