package oidc

import (
	"net/http"
	"net/url"
	"testing"
)

func TestRevoke(t *testing.T) {
	e := tkNewEnv(t)
	bank := e.register("bank", "ES256", nil, "")
	other := e.register("other", "ES256", nil, "")

	tests := []struct {
		name string
		// form builds the request for a token of bank.
		form         func(token string) url.Values
		status       int
		code         string
		stillWorking bool // the token still works at userinfo afterwards
	}{
		{name: "own token", form: func(tok string) url.Values { return withToken(e.authForm(bank, PathRevoke), tok) },
			status: 200},
		{name: "own token with a refresh_token hint", form: func(tok string) url.Values {
			f := withToken(e.authForm(bank, PathRevoke), tok)
			f.Set("token_type_hint", "refresh_token")
			return f
		}, status: 200},
		{name: "token of another client", form: func(tok string) url.Values { return withToken(e.authForm(other, PathRevoke), tok) },
			status: 200, stillWorking: true},
		{name: "garbage", form: func(string) url.Values { return withToken(e.authForm(bank, PathRevoke), "garbage") },
			status: 200, stillWorking: true},
		{name: "no token", form: func(string) url.Values { return e.authForm(bank, PathRevoke) },
			status: 400, code: CodeInvalidRequest, stillWorking: true},
		{name: "no client authentication", form: func(tok string) url.Values { return url.Values{"token": {tok}} },
			status: 401, code: CodeInvalidClient, stillWorking: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp := e.exchange(bank, e.grant(bank), nil)
			w := e.postForm(PathRevoke, tt.form(resp.AccessToken), nil)
			if w.Code != tt.status || errorOf(w) != tt.code {
				t.Fatalf("revoke = %d %s, want %d %q", w.Code, w.Body, tt.status, tt.code)
			}
			w = e.resource("GET", PathUserinfo, "Bearer", resp.AccessToken, "", nil)
			if tt.stillWorking && w.Code != http.StatusOK {
				t.Errorf("userinfo after revoke = %d %s, want 200", w.Code, w.Body)
			}
			if !tt.stillWorking && (w.Code != http.StatusUnauthorized || errorOf(w) != CodeInvalidToken) {
				t.Errorf("userinfo after revoke = %d %s, want 401 invalid_token", w.Code, w.Body)
			}
		})
	}

	// Revoking twice is fine.
	resp := e.exchange(bank, e.grant(bank), nil)
	for range 2 {
		if w := e.postForm(PathRevoke, withToken(e.authForm(bank, PathRevoke), resp.AccessToken), nil); w.Code != 200 {
			t.Errorf("revoke = %d %s, want 200", w.Code, w.Body)
		}
	}
}
