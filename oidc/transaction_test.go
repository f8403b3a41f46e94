package oidc

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
)

// txTestRequest is an authorization request of client id that opens a
// transaction.
func txTestRequest(id string) AuthorizationRequest {
	return AuthorizationRequest{
		ClientID: id, ResponseType: "code", RedirectURI: tkRedirect, Scope: "openid profile",
		State: "st", Nonce: "n-" + id, CodeChallenge: S256Challenge(strings.Repeat("v", 43)), CodeChallengeMethod: PKCEMethodS256,
	}
}

// TestTransactionBinding checks that a transaction's oauth-details
// responses and their hashes are made once, when it opens: they are the
// hashes of the responses oauth-details sends, the transaction keeps them,
// and an administrator's edit of the client during the sign-in changes
// neither them nor the client's name and logo that the transaction shows.
func TestTransactionBinding(t *testing.T) {
	ctx := t.Context()
	e := tkNewEnv(t)
	e.register("binding", "ES256", nil, "")
	v, err := e.p.StartTransaction(ctx, txTestRequest("binding"))
	if err != nil {
		t.Fatal(err)
	}
	opts := e.p.frontEndOptions()
	if len(v.OAuthDetailsHashes) != 2 {
		t.Fatalf("StartTransaction: OAuthDetailsHashes = %q, want 2", v.OAuthDetailsHashes)
	}
	for _, version := range []int{oauthDetailsV1, oauthDetailsV2, oauthDetailsV3} {
		shape := oauthDetailsShape(version)
		want, err := oauthDetailsJSON(opts, v, version)
		if err != nil {
			t.Fatal(err)
		}
		if got := v.oauthDetails[shape]; string(got) != string(want) {
			t.Errorf("v%d: response kept = %s, want %s", version, got, want)
		}
		if got := v.OAuthDetailsHashes[shape]; got != oauthDetailsHashOf(want) {
			t.Errorf("v%d: hash %s, want the hash of the response %s", version, got, oauthDetailsHashOf(want))
		}
	}
	if v.OAuthDetailsHashes[0] == v.OAuthDetailsHashes[1] {
		t.Error("the v1 and v3 responses hash alike")
	}

	// The administrator renames the client and changes its logo; the
	// client cache forgets the old record.
	c, err := e.db.GetClient(ctx, "binding")
	if err != nil {
		t.Fatal(err)
	}
	c.Name, c.NameLangMap, c.LogoURI = "Renamed", map[string]string{"fra": "Renommé"}, "https://rp.example/new.png"
	c.Version++
	if err := e.db.UpdateClient(ctx, c); err != nil {
		t.Fatal(err)
	}
	e.clock.Advance(clientCacheTTL + time.Second)

	got, err := e.p.Transaction(ctx, v.TransactionID)
	if err != nil {
		t.Fatal(err)
	}
	if got.ClientName["@none"] != "RP binding" || got.ClientName["fra"] != "" || got.LogoURL != "https://rp.example/binding.png" {
		t.Errorf("after the edit, Transaction shows %q and logo %s, want the client as the transaction opened", got.ClientName, got.LogoURL)
	}
	if !slices.Equal(got.OAuthDetailsHashes, v.OAuthDetailsHashes) {
		t.Errorf("after the edit, OAuthDetailsHashes = %q, want %q", got.OAuthDetailsHashes, v.OAuthDetailsHashes)
	}
	a := &uiAPI{flow: e.p, opts: opts}
	for _, h := range v.OAuthDetailsHashes {
		if ok, err := a.hashMatches(got, h); err != nil || !ok {
			t.Errorf("hashMatches(the hash oidc-ui computed when it opened) = %t, %v; want true", ok, err)
		}
	}
	// What the response would be with the client as it is now does not
	// bind: the binding is not recomputed.
	live := *got
	live.ClientName, live.LogoURL = map[string]string{"@none": "Renamed", "fra": "Renommé"}, c.LogoURI
	b, err := oauthDetailsJSON(opts, &live, oauthDetailsV3)
	if err != nil {
		t.Fatal(err)
	}
	if ok, _ := a.hashMatches(got, oauthDetailsHashOf(b)); ok {
		t.Error("hashMatches(hash of the response with the edited client) = true, want false")
	}

	// A transaction opened after the edit shows the client as it is.
	req := txTestRequest("binding")
	req.Nonce = "n-next"
	next, err := e.p.StartTransaction(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	if next.ClientName["@none"] != "Renamed" || next.LogoURL != c.LogoURI {
		t.Errorf("a new transaction shows %q and logo %s, want the edited client", next.ClientName, next.LogoURL)
	}
}

// TestTransactionBoundCalls drives the UI API over a Provider, which checks
// a bound call's oauth-details-hash in its own read of the transaction:
// the hash is checked before anything else about the call, as eSignet's
// header filter does, and a call with the wrong hash reaches nothing.
func TestTransactionBoundCalls(t *testing.T) {
	ctx := t.Context()
	e := tkNewEnv(t)
	e.register("bound", "ES256", nil, "")
	v, err := e.p.StartTransaction(ctx, txTestRequest("bound"))
	if err != nil {
		t.Fatal(err)
	}
	r := gin.New()
	registerUIAPI(r, e.p, e.p.frontEndOptions())
	csrf := strings.Repeat("C", 43)
	call := func(method, path, hash, body string) string {
		t.Helper()
		req := httptest.NewRequest(method, path, strings.NewReader(body))
		req.AddCookie(&http.Cookie{Name: csrfCookieName, Value: csrf})
		req.Header.Set(csrfHeaderName, csrf)
		req.Header.Set(headerOAuthDetailsKey, v.TransactionID)
		req.Header.Set(headerOAuthDetailsHash, hash)
		w := httptest.NewRecorder()
		r.ServeHTTP(w, req)
		var env struct {
			Errors []struct{ ErrorCode string } `json:"errors"`
		}
		if err := json.Unmarshal(w.Body.Bytes(), &env); err != nil || w.Code != http.StatusOK {
			t.Fatalf("%s %s = %d %s", method, path, w.Code, w.Body)
		}
		if len(env.Errors) == 0 {
			return ""
		}
		return env.Errors[0].ErrorCode
	}
	envelope := func(req map[string]any) string {
		b, _ := json.Marshal(map[string]any{"requestTime": e.clock.Now().UTC().Format(uiRequestTimeLayout), "request": req})
		return string(b)
	}
	good, wrong := v.OAuthDetailsHashes[0], v.OAuthDetailsHashes[1]+"x"
	sendOTP := envelope(map[string]any{"transactionId": v.TransactionID, "individualId": "5830174926", "otpChannels": []string{"email"}})
	noIndividual := envelope(map[string]any{"transactionId": v.TransactionID, "otpChannels": []string{"email"}})
	otherTx := envelope(map[string]any{"transactionId": "other", "individualId": "5830174926", "otpChannels": []string{"email"}})
	tests := []struct {
		name, method, path, hash, body, code string
	}{
		// tkNoAuthn fails every call that reaches it: unknown_error.
		{"send-otp reaches the authenticator", http.MethodPost, "/authorization/send-otp", good, sendOTP, UIUnknownError},
		{"send-otp with the v1 hash", http.MethodPost, "/authorization/send-otp", v.OAuthDetailsHashes[1], sendOTP, UIUnknownError},
		{"send-otp with a wrong hash", http.MethodPost, "/authorization/send-otp", wrong, sendOTP, uiCodeBindingMismatch},
		{"send-otp without a hash", http.MethodPost, "/authorization/send-otp", "", sendOTP, uiCodeBindingMismatch},
		{"bad body", http.MethodPost, "/authorization/send-otp", good, noIndividual, uiCodeInvalidIdentifier},
		{"bad body, wrong hash", http.MethodPost, "/authorization/send-otp", wrong, noIndividual, uiCodeBindingMismatch},
		{"body names another transaction", http.MethodPost, "/authorization/send-otp", good, otherTx, UIInvalidTransaction},
		{"another transaction, wrong hash", http.MethodPost, "/authorization/send-otp", wrong, otherTx, uiCodeBindingMismatch},
		{"claim-details before authenticate", http.MethodGet, "/authorization/claim-details", good, "", UIInvalidTransaction},
		{"claim-details with a wrong hash", http.MethodGet, "/authorization/claim-details", wrong, "", uiCodeBindingMismatch},
		{"auth-code with a wrong hash", http.MethodPost, "/authorization/auth-code", wrong,
			envelope(map[string]any{"transactionId": v.TransactionID}), uiCodeBindingMismatch},
		{"authenticate with a wrong hash", http.MethodPost, "/authorization/v3/authenticate", wrong,
			envelope(map[string]any{"transactionId": v.TransactionID, "individualId": "5830174926",
				"challengeList": []map[string]string{{"authFactorType": "OTP", "challenge": "111111", "format": "alpha-numeric"}}}),
			uiCodeBindingMismatch},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := call(tt.method, tt.path, tt.hash, tt.body); got != tt.code {
				t.Errorf("%s %s = %q, want %q", tt.method, tt.path, got, tt.code)
			}
		})
	}
}
