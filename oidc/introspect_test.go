package oidc

import (
	"net/http"
	"net/url"
	"testing"
)

func TestIntrospect(t *testing.T) {
	e := tkNewEnv(t)
	bank := e.register("bank", "ES256", nil, "")
	other := e.register("other", "EdDSA", nil, "")
	rs := e.register("resource-server", "ES256", nil, `{"introspection":true}`)
	key := tkKey(t, "ES256")
	plain := e.exchange(bank, e.grant(bank), nil)
	bound := e.exchange(bank, e.grant(bank), http.Header{"DPoP": {e.proof(key, "POST", testTokenURL, "", "")}})
	revoked := e.exchange(bank, e.grant(bank), nil)
	if w := e.postForm(PathRevoke, withToken(e.authForm(bank, PathRevoke), revoked.AccessToken), nil); w.Code != 200 {
		t.Fatalf("revoke = %d %s", w.Code, w.Body)
	}
	now := float64(testNow.Unix())
	activeBearer := map[string]any{
		"active": true, "scope": "openid profile email", "client_id": "bank", "sub": tkSubject,
		"exp": now + 3600, "iat": now, "iss": testIssuer, "aud": testIssuer, "token_type": "Bearer",
		"auth_time": now - 60, "acr": "mosip:idp:acr:generated-code",
	}
	activeDPoP := map[string]any{}
	for k, v := range activeBearer {
		activeDPoP[k] = v
	}
	activeDPoP["token_type"] = "DPoP"
	activeDPoP["cnf"] = map[string]any{"jkt": thumbprint(t, key)}
	inactive := map[string]any{"active": false}

	tests := []struct {
		name   string
		form   url.Values
		status int
		code   string
		want   map[string]any
	}{
		{name: "own token", form: withToken(e.authForm(bank, PathIntrospect), plain.AccessToken), status: 200, want: activeBearer},
		{name: "own DPoP-bound token", form: withToken(e.authForm(bank, PathIntrospect), bound.AccessToken), status: 200, want: activeDPoP},
		{name: "token of another client", form: withToken(e.authForm(other, PathIntrospect), plain.AccessToken), status: 200, want: inactive},
		{name: "resource server", form: withToken(e.authForm(rs, PathIntrospect), plain.AccessToken), status: 200, want: activeBearer},
		{name: "revoked token", form: withToken(e.authForm(bank, PathIntrospect), revoked.AccessToken), status: 200, want: inactive},
		{name: "ID token", form: withToken(e.authForm(bank, PathIntrospect), plain.IDToken), status: 200, want: inactive},
		{name: "garbage", form: withToken(e.authForm(bank, PathIntrospect), "garbage"), status: 200, want: inactive},
		{name: "with a hint", form: func() url.Values {
			f := withToken(e.authForm(bank, PathIntrospect), plain.AccessToken)
			f.Set("token_type_hint", "refresh_token")
			return f
		}(), status: 200, want: activeBearer},
		{name: "no token", form: e.authForm(bank, PathIntrospect), status: 400, code: CodeInvalidRequest},
		{name: "assertion for the token endpoint", form: withToken(e.authForm(bank, PathToken), plain.AccessToken),
			status: 401, code: CodeInvalidClient},
		{name: "no client authentication", form: url.Values{"token": {plain.AccessToken}}, status: 401, code: CodeInvalidClient},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := e.postForm(PathIntrospect, tt.form, nil)
			if w.Code != tt.status || errorOf(w) != tt.code {
				t.Fatalf("introspect = %d %s, want %d %q", w.Code, w.Body, tt.status, tt.code)
			}
			if got := w.Header().Get("Cache-Control"); got != "no-store" {
				t.Errorf("introspect Cache-Control = %q, want no-store", got)
			}
			if tt.want == nil {
				return
			}
			got := tkDecode[map[string]any](t, w)
			if len(got) != len(tt.want) {
				t.Errorf("introspect = %v, want %v", got, tt.want)
			}
			for k, v := range tt.want {
				if m, ok := v.(map[string]any); ok {
					if gm, _ := got[k].(map[string]any); gm["jkt"] != m["jkt"] {
						t.Errorf("introspect %s = %v, want %v", k, got[k], v)
					}
					continue
				}
				if got[k] != v {
					t.Errorf("introspect %s = %v, want %v", k, got[k], v)
				}
			}
		})
	}
}

func withToken(f url.Values, token string) url.Values {
	f.Set("token", token)
	return f
}
