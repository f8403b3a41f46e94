package demobank

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

// login runs a whole login through the fake provider and returns the
// account page.
func (tb *testBank) login(t *testing.T, acr, lang string) page {
	t.Helper()
	cb := tb.authorize(t, tb.startLogin(t, acr, lang))
	p := tb.get(t, cb)
	if p.status != http.StatusSeeOther || p.location != tb.base+"/account" {
		t.Fatalf("callback = %d %q, want 303 to the account page\n%s", p.status, p.location, p.body)
	}
	return tb.get(t, p.location)
}

func TestLogin(t *testing.T) {
	tests := []struct {
		name     string
		acr      string
		lang     string
		setup    func(op *fakeOP)
		wantACR  string
		unsigned bool
	}{
		{name: "OTP in French", acr: "otp", lang: "fra", wantACR: acrOTP},
		{name: "any method", acr: "any", lang: "eng", wantACR: acrPIN},
		{name: "DPoP nonces everywhere", acr: "pin", lang: "ara", wantACR: acrPIN,
			setup: func(op *fakeOP) { op.requireNonce = true }},
		{name: "plain JSON userinfo", acr: "password", lang: "eng", wantACR: acrPassword, unsigned: true,
			setup: func(op *fakeOP) { op.userinfoJSON = true }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tb := newTestBank(t)
			if tt.setup != nil {
				tb.op.set(tt.setup)
			}
			p := tb.login(t, tt.acr, tt.lang)
			if p.status != http.StatusOK {
				t.Fatalf("account page = %d", p.status)
			}
			for _, want := range []string{"Amina Diallo", "أمينة ديالو", `lang="ar"`, ">fra<", "1990-04-12", "12 Rue des Palmiers",
				`src="data:image/png;base64,iVBORw0KGgo="`, "pairwise-sub-1", tt.wantACR, "Sign out"} {
				if !strings.Contains(p.body, want) {
					t.Errorf("account page lacks %q", want)
				}
			}
			if tt.unsigned == strings.Contains(p.body, "signed by it") {
				t.Errorf("account page says signed = %v, want %v", !tt.unsigned, !tt.unsigned)
			}

			// What the bank pushed.
			form := tb.op.parForms[0]
			for name, want := range map[string]string{
				"response_type": "code", "scope": "openid", "code_challenge_method": "S256",
				"redirect_uri": tb.base + "/callback", "client_id": "demo-bank", "prompt": "login",
				"ui_locales": tt.lang, "claims_locales": claimsLocales(tt.lang),
			} {
				if got := form.Get(name); got != want {
					t.Errorf("PAR %s = %q, want %q", name, got, want)
				}
			}
			for _, name := range []string{"state", "nonce", "code_challenge", "dpop_jkt"} {
				if len(form.Get(name)) < 43 {
					t.Errorf("PAR %s = %q, want 256 bits", name, form.Get(name))
				}
			}
			var claims map[string]map[string]*struct {
				Essential bool     `json:"essential"`
				Values    []string `json:"values"`
			}
			if err := json.Unmarshal([]byte(form.Get("claims")), &claims); err != nil {
				t.Fatalf("PAR claims: %v", err)
			}
			if c := claims["userinfo"]["name"]; c == nil || !c.Essential {
				t.Error("claims.userinfo.name is not essential")
			}
			if _, ok := claims["userinfo"]["picture"]; !ok {
				t.Error("claims.userinfo lacks picture")
			}
			acr := claims["id_token"]["acr"]
			if tt.acr == "any" {
				if acr != nil || form.Has("acr_values") {
					t.Error("any method asked for an ACR")
				}
			} else if acr == nil || !acr.Essential || len(acr.Values) != 1 || acr.Values[0] != tt.wantACR || form.Get("acr_values") != tt.wantACR {
				t.Errorf("acr request = %+v, acr_values %q; want %s essential", acr, form.Get("acr_values"), tt.wantACR)
			}

			// The session holds the account, and the login's secrets are gone.
			req, _ := http.NewRequest("GET", tb.base+"/account", nil)
			for _, c := range tb.browser.Jar.Cookies(req.URL) {
				req.AddCookie(c)
			}
			acct, ok := tb.Account(req)
			if !ok || acct.Subject != "pairwise-sub-1" || acct.ACR != tt.wantACR || acct.Claims["name#fra"] != "Amina Diallo" {
				t.Errorf("Account = %+v, %v", acct, ok)
			}
			if _, has := acct.Claims["iss"]; has {
				t.Error("Account.Claims keeps iss")
			}
			if tt.setup != nil && tb.op.requireNonce && (tb.op.tokenCalls != 2 || tb.op.infoCalls != 2) {
				t.Errorf("token, userinfo calls = %d, %d; want 2 each (one nonce retry)", tb.op.tokenCalls, tb.op.infoCalls)
			}

			// Sign out.
			home := tb.get(t, tb.base+"/")
			if !strings.Contains(home.body, "You are signed in") {
				t.Error("home page does not show the signed-in state")
			}
			csrf := csrfField.FindStringSubmatch(p.body)[1]
			if out := tb.post(t, tb.base+"/logout", url.Values{"csrf": {"forged"}}); out.status != http.StatusForbidden {
				t.Errorf("logout with a forged token = %d, want 403", out.status)
			}
			if out := tb.post(t, tb.base+"/logout", url.Values{"csrf": {csrf}}); out.status != http.StatusSeeOther {
				t.Errorf("logout = %d, want 303", out.status)
			}
			if after := tb.get(t, tb.base+"/account"); after.status != http.StatusSeeOther {
				t.Errorf("account after sign-out = %d, want 303 to home", after.status)
			}
			if _, ok := tb.Account(req); ok {
				t.Error("Account still signed in after sign-out")
			}
		})
	}
}

// TestSessionRotated: the signed-in session has a new id (no fixation).
func TestSessionRotated(t *testing.T) {
	tb := newTestBank(t)
	u, _ := url.Parse(tb.base + "/")
	tb.get(t, tb.base+"/")
	before := tb.browser.Jar.Cookies(u)
	tb.login(t, "pin", "eng")
	after := tb.browser.Jar.Cookies(u)
	if len(before) != 1 || len(after) != 1 || before[0].Value == after[0].Value {
		t.Errorf("session cookie before %v, after %v: want a new id", before, after)
	}
}

func TestCallbackRejects(t *testing.T) {
	tests := []struct {
		name string
		// forge turns the genuine callback URL into the one sent.
		forge      func(t *testing.T, tb *testBank, cb string) string
		setup      func(op *fakeOP)
		wantStatus int
		wantBody   []string
		notBody    []string
		// consumed: the genuine callback no longer works afterwards.
		consumed bool
	}{
		{name: "state mismatch", wantStatus: 400, wantBody: []string{"not valid, or has expired"},
			forge: func(t *testing.T, tb *testBank, cb string) string { return withQuery(t, cb, "state", "forged-state") }},
		{name: "no state", wantStatus: 400,
			forge: func(t *testing.T, tb *testBank, cb string) string { return withQuery(t, cb, "state", "") }},
		{name: "repeated code", wantStatus: 400,
			forge: func(t *testing.T, tb *testBank, cb string) string { return cb + "&code=second" }},
		{name: "iss mismatch", wantStatus: 400, consumed: true, wantBody: []string{"not valid, or has expired"},
			forge: func(t *testing.T, tb *testBank, cb string) string {
				return withQuery(t, cb, "iss", "https://attacker.example")
			}},
		{name: "iss missing though advertised", wantStatus: 400, consumed: true,
			forge: func(t *testing.T, tb *testBank, cb string) string { return withQuery(t, cb, "iss", "") }},
		{name: "error response shown", wantStatus: 200, consumed: true,
			setup:    func(op *fakeOP) { op.deny = "access_denied" },
			wantBody: []string{"was not completed", "access_denied", "The resident cancelled &lt;b&gt;the login&lt;/b&gt;"},
			notBody:  []string{"<b>the login</b>"}},
		{name: "error response with a forged state not shown", wantStatus: 400,
			setup:    func(op *fakeOP) { op.deny = "access_denied" },
			forge:    func(t *testing.T, tb *testBank, cb string) string { return withQuery(t, cb, "state", "x") },
			notBody:  []string{"access_denied"},
			wantBody: []string{"not valid, or has expired"}},
		{name: "ID token nonce mismatch", wantStatus: 502, consumed: true,
			setup:    func(op *fakeOP) { op.idTokenNonce = "another-login" },
			wantBody: []string{"could not verify"}},
		{name: "userinfo sub mismatch", wantStatus: 502, consumed: true,
			setup:    func(op *fakeOP) { op.userinfoSub = "someone-else" },
			wantBody: []string{"could not verify"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tb := newTestBank(t)
			if tt.setup != nil {
				tb.op.set(tt.setup)
			}
			cb := tb.authorize(t, tb.startLogin(t, "otp", "eng"))
			sent := cb
			if tt.forge != nil {
				sent = tt.forge(t, tb, cb)
			}
			p := tb.get(t, sent)
			if p.status != tt.wantStatus {
				t.Fatalf("callback = %d, want %d\n%s", p.status, tt.wantStatus, p.body)
			}
			for _, w := range tt.wantBody {
				if !strings.Contains(p.body, w) {
					t.Errorf("page lacks %q", w)
				}
			}
			for _, w := range tt.notBody {
				if strings.Contains(p.body, w) {
					t.Errorf("page shows %q", w)
				}
			}
			if tt.forge == nil || tb.op.deny != "" {
				return
			}
			// A forged callback that failed before the state check leaves the
			// login alone; one that got past it has consumed it.
			genuine := tb.get(t, cb)
			if tt.consumed && genuine.status != http.StatusBadRequest {
				t.Errorf("genuine callback after %s = %d, want 400 (login consumed)", tt.name, genuine.status)
			}
			if !tt.consumed && (genuine.status != http.StatusSeeOther || genuine.location != tb.base+"/account") {
				t.Errorf("genuine callback after %s = %d %q, want the login to complete", tt.name, genuine.status, genuine.location)
			}
		})
	}
}

func TestLoginForm(t *testing.T) {
	tb := newTestBank(t)
	home := tb.get(t, tb.base+"/")
	csrf := csrfField.FindStringSubmatch(home.body)[1]
	tests := []struct {
		name string
		form url.Values
		want int
	}{
		{"no token", url.Values{"acr": {"otp"}}, http.StatusForbidden},
		{"forged token", url.Values{"csrf": {"AAAA"}, "acr": {"otp"}}, http.StatusForbidden},
		{"unknown acr", url.Values{"csrf": {csrf}, "acr": {"biometrics"}}, http.StatusBadRequest},
		{"unknown language", url.Values{"csrf": {csrf}, "lang": {"deu"}}, http.StatusBadRequest},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if p := tb.post(t, tb.base+"/login", tt.form); p.status != tt.want {
				t.Errorf("POST /login = %d, want %d", p.status, tt.want)
			}
		})
	}
	if len(tb.op.parForms) != 0 {
		t.Error("a refused form reached the PAR endpoint")
	}
}

func TestSecurityHeaders(t *testing.T) {
	tb := newTestBank(t)
	p := tb.get(t, tb.base+"/")
	csp := p.header.Get("Content-Security-Policy")
	for _, want := range []string{"default-src 'none'", "form-action 'self' " + tb.op.issuer, "frame-ancestors 'none'"} {
		if !strings.Contains(csp, want) {
			t.Errorf("CSP %q lacks %q", csp, want)
		}
	}
	if strings.Contains(csp, "script-src") || strings.Contains(p.body, "<script") {
		t.Error("the bank serves scripts")
	}
	for h, want := range map[string]string{"X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer", "Cache-Control": "no-store"} {
		if got := p.header.Get(h); got != want {
			t.Errorf("%s = %q, want %q", h, got, want)
		}
	}
	if r := tb.get(t, tb.base); r.status != http.StatusSeeOther || r.location != tb.base+"/" {
		t.Errorf("GET %s = %d %q, want 303 to the slash", tb.base, r.status, r.location)
	}
}

// TestDiscoveryRetried: the bank may start before the provider; a login
// attempted while the provider is down fails politely after a few tries,
// and the next one discovers it.
func TestDiscoveryRetried(t *testing.T) {
	saved := discoveryBackoff
	discoveryBackoff = []time.Duration{0, time.Millisecond, time.Millisecond}
	t.Cleanup(func() { discoveryBackoff = saved })

	tb := newTestBank(t)
	tb.op.down.Store(true)
	home := tb.get(t, tb.base+"/")
	csrf := csrfField.FindStringSubmatch(home.body)[1]
	if p := tb.post(t, tb.base+"/login", url.Values{"csrf": {csrf}}); p.status != http.StatusServiceUnavailable ||
		!strings.Contains(p.body, "cannot be reached") {
		t.Fatalf("login with the provider down = %d, want 503", p.status)
	}
	if n := tb.op.downHits.Load(); n != 3 {
		t.Errorf("discovery tried %d times, want 3", n)
	}
	tb.op.down.Store(false)
	tb.login(t, "otp", "eng")
}
