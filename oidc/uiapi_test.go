package oidc

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"github.com/sanad-id/sanad/internal/jsjson"
	"io"
	"math"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/sanad-id/sanad/idrepo/authn"
)

var uiapiUpdate = flag.Bool("update-uiapi", false, "rewrite the golden files of uiapi_test.go")

// uiapiNow is the test clock; uiapiRequestTime is a requestTime at it.
var uiapiNow = time.Date(2025, 6, 1, 10, 0, 0, 123e6, time.UTC)

const (
	uiapiRequestTime = "2025-06-01T10:00:00.123Z"
	uiapiTxID        = "tx-4f1c9a"
	uiapiLoginID     = "5830174926"
)

// uiapiFlow is a LoginFlow that records its calls and answers with one
// transaction, or with the error set for a method.
type uiapiFlow struct {
	mu      sync.Mutex
	tx      *TxView
	errs    map[string]error
	calls   []string // every call but Transaction
	req     AuthorizationRequest
	par     [2]string
	loginID string
	chans   []string
	chals   []authn.Challenge
	claims  []string
	scopes  []string
}

var _ LoginFlow = (*uiapiFlow)(nil)

func newUIAPIFlow() *uiapiFlow { return &uiapiFlow{tx: uiapiTx(), errs: map[string]error{}} }

// uiapiTx is the transaction of the golden files. It has no '<', '>' or '&',
// so the response as sent is the text oidc-ui hashes, and the tests can
// hash what they receive without re-encoding it.
func uiapiTx() *TxView {
	return &TxView{
		TransactionID: uiapiTxID, State: TxNew, ClientID: "demo-bank",
		ClientName:      map[string]string{"@none": "Demo Bank", "fra": "Banque Démo", "ara": "البنك التجريبي"},
		LogoURL:         "https://bank.example/logo.png",
		RedirectURI:     "https://bank.example/callback",
		AuthFactors:     [][]AuthFactor{{{Type: "OTP"}}, {{Type: "PIN"}}, {{Type: "PWD"}, {Type: "KBI"}}},
		AuthorizeScopes: []string{"payments"}, CredentialScopes: []string{},
		EssentialClaims: []string{"birthdate", "name"},
		VoluntaryClaims: []string{"email", "phone_number"},
		Purpose:         &ClientPurpose{Type: "verify", Title: map[string]string{"@none": "Open an account"}},
		Configs: map[string]any{
			"otp.length": 6, "resend.otp.delay.secs": 30, "send.otp.channels": []string{"email", "phone"},
			"consent.screen.timeout-in-secs": 120, "username.input-type": "text",
		},
		FormToken: "form-token", UILocales: []string{"fra"},
	}
}

func (f *uiapiFlow) call(name string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, name)
	return f.errs[name]
}

// locked runs fn holding the flow's lock, to read or change what the
// server's goroutines see.
func (f *uiapiFlow) locked(fn func()) {
	f.mu.Lock()
	defer f.mu.Unlock()
	fn()
}

func (f *uiapiFlow) setErr(method string, err error) { f.locked(func() { f.errs[method] = err }) }

func (f *uiapiFlow) callList() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.calls)
}

func (f *uiapiFlow) StartTransaction(_ context.Context, req AuthorizationRequest) (*TxView, error) {
	err := f.call("StartTransaction")
	f.mu.Lock()
	defer f.mu.Unlock()
	f.req = req
	if err != nil {
		return nil, err
	}
	return f.tx, nil
}

func (f *uiapiFlow) StartPARTransaction(_ context.Context, clientID, requestURI string) (*TxView, error) {
	err := f.call("StartPARTransaction")
	f.mu.Lock()
	defer f.mu.Unlock()
	f.par = [2]string{clientID, requestURI}
	if err != nil {
		return nil, err
	}
	return f.tx, nil
}

func (f *uiapiFlow) Transaction(_ context.Context, txID string) (*TxView, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.errs["Transaction"]; err != nil {
		return nil, err
	}
	if txID != f.tx.TransactionID {
		return nil, &UIError{Code: UIInvalidTransaction, Description: "invalid transaction"}
	}
	return f.tx, nil
}

func (f *uiapiFlow) SendOTP(_ context.Context, txID, loginID string, channels []string) (authn.SendOTPResult, error) {
	if err := f.call("SendOTP"); err != nil {
		return authn.SendOTPResult{}, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.loginID, f.chans = loginID, channels
	return authn.SendOTPResult{MaskedEmail: "a***@example.org", MaskedPhone: "******4926"}, nil
}

func (f *uiapiFlow) Authenticate(_ context.Context, txID, loginID string, challenges []authn.Challenge) (string, error) {
	if err := f.call("Authenticate"); err != nil {
		return "", err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.loginID, f.chals = loginID, challenges
	return ConsentCapture, nil
}

func (f *uiapiFlow) ClaimDetails(_ context.Context, txID string) (*ClaimDetails, error) {
	if err := f.call("ClaimDetails"); err != nil {
		return nil, err
	}
	return &ClaimDetails{TransactionID: txID, ConsentAction: ConsentCapture, ClaimStatus: []ClaimStatus{
		{Claim: "birthdate", Available: true, Essential: true},
		{Claim: "name", Available: true, Verified: true, Essential: true},
		{Claim: "email", Available: true},
		{Claim: "phone_number"},
	}}, nil
}

func (f *uiapiFlow) AuthCode(_ context.Context, txID string, acceptedClaims, permittedScopes []string) (*AuthResponse, error) {
	if err := f.call("AuthCode"); err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.claims, f.scopes = acceptedClaims, permittedScopes
	return &AuthResponse{RedirectURI: "https://bank.example/callback", Code: "code-7d2e", State: "st-81",
		Nonce: "n-0S6", Issuer: "https://id.example"}, nil
}

func (f *uiapiFlow) Abort(context.Context, string, string, string) (*AuthResponse, error) {
	_ = f.call("Abort")
	return nil, errors.New("not used")
}

// uiapiEnv is a test server with the UI API of a fake flow, and a browser
// that holds the CSRF cookie.
type uiapiEnv struct {
	srv    *httptest.Server
	flow   *uiapiFlow
	client *http.Client
	csrf   string
}

func newUIAPIEnv(t *testing.T, edit ...func(*frontEndOptions)) *uiapiEnv {
	t.Helper()
	gin.SetMode(gin.TestMode)
	opts := frontEndOptions{
		Issuer: "https://id.example", Languages: []string{"eng", "fra", "ara"},
		OTPLength: 6, ResendDelay: 30 * time.Second, Now: func() time.Time { return uiapiNow },
	}
	for _, e := range edit {
		e(&opts)
	}
	flow := newUIAPIFlow()
	r := gin.New()
	registerUIAPI(r, flow, opts)
	srv := httptest.NewServer(r)
	t.Cleanup(srv.Close)
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	e := &uiapiEnv{srv: srv, flow: flow, client: &http.Client{Jar: jar}}
	_, raw := e.send(t, http.MethodGet, "/csrf/token", "", nil)
	var tok csrfTokenResponse
	if err := json.Unmarshal(raw, &tok); err != nil || tok.Token == "" {
		t.Fatalf("GET /csrf/token = %s, want a token", raw)
	}
	e.csrf = tok.Token
	return e
}

// uiapiEnvelope is the answer envelope, with the response left raw.
type uiapiEnvelope struct {
	ResponseTime string          `json:"responseTime"`
	Response     json.RawMessage `json:"response"`
	Errors       []struct {
		ErrorCode    string `json:"errorCode"`
		ErrorMessage string `json:"errorMessage"`
	} `json:"errors"`
}

func (v uiapiEnvelope) code() string {
	if len(v.Errors) == 0 {
		return ""
	}
	return v.Errors[0].ErrorCode
}

// send makes a request with the CSRF header (unless header sets it, ""
// removes it) and returns the status and body.
func (e *uiapiEnv) send(t *testing.T, method, path, body string, header map[string]string) (int, []byte) {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequestWithContext(t.Context(), method, e.srv.URL+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	if e.csrf != "" {
		req.Header.Set(csrfHeaderName, e.csrf)
	}
	for k, v := range header {
		if v == "" {
			req.Header.Del(k)
		} else {
			req.Header.Set(k, v)
		}
	}
	res, err := e.client.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	if cc := res.Header.Get("Cache-Control"); cc != "no-store" {
		t.Errorf("%s %s: Cache-Control %q, want no-store", method, path, cc)
	}
	raw, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return res.StatusCode, raw
}

// do sends an API call and decodes the envelope.
func (e *uiapiEnv) do(t *testing.T, method, path, body string, header map[string]string) (int, uiapiEnvelope, []byte) {
	t.Helper()
	status, raw := e.send(t, method, path, body, header)
	var env uiapiEnvelope
	if err := json.Unmarshal(raw, &env); err != nil {
		t.Fatalf("%s %s: body %s is not an envelope: %v", method, path, raw, err)
	}
	if env.ResponseTime != uiapiRequestTime || env.Errors == nil {
		t.Errorf("%s %s: envelope %s, want responseTime %s and errors", method, path, raw, uiapiRequestTime)
	}
	if len(env.Errors) > 0 && string(env.Response) != "null" {
		t.Errorf("%s %s: error envelope %s has a response, want null", method, path, raw)
	}
	return status, env, raw
}

// uiapiBody is a request envelope of req (marshalled unless a string).
func uiapiBody(t testing.TB, req any) string {
	t.Helper()
	r, ok := req.(string)
	if !ok {
		b, err := json.Marshal(req)
		if err != nil {
			t.Fatal(err)
		}
		r = string(b)
	}
	return `{"requestTime":"` + uiapiRequestTime + `","request":` + r + `}`
}

// uiapiHash is oidc-ui's oauth-details-hash of a response as received
// (valid when its text is already JSON.stringify's, as uiapiTx's is).
func uiapiHash(response []byte) string {
	sum := sha256.Sum256(response)
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// bound opens the transaction through oauth-details and returns the
// binding headers oidc-ui would send.
func (e *uiapiEnv) bound(t *testing.T) map[string]string {
	t.Helper()
	_, env, raw := e.do(t, http.MethodPost, "/authorization/v3/oauth-details", uiapiBody(t, uiapiOAuthDetails()), nil)
	if env.code() != "" {
		t.Fatalf("oauth-details = %s, want a response", raw)
	}
	return map[string]string{headerOAuthDetailsKey: uiapiTxID, headerOAuthDetailsHash: uiapiHash(env.Response)}
}

// uiapiOAuthDetails is what oidc-ui sends for an authorize request.
func uiapiOAuthDetails() map[string]any {
	return map[string]any{
		"clientId": "demo-bank", "scope": "openid profile payments", "responseType": "code",
		"redirectUri": "https://bank.example/callback", "display": "page", "prompt": "consent",
		"acrValues": "mosip:idp:acr:generated-code mosip:idp:acr:static-code", "nonce": "n-0S6", "state": "st-81",
		"maxAge": "300", "claimsLocales": "fr en", "uiLocales": "fr",
		"claims": map[string]any{"userinfo": map[string]any{"name": map[string]any{"essential": true},
			"email": nil}, "id_token": map[string]any{}},
		"codeChallenge": "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM", "codeChallengeMethod": "S256",
		"dpopJkt": "0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I", "idTokenHint": "eyJhbGciOiJub25lIn0.e30.",
		"futureMember": "ignored",
	}
}

var (
	uiapiAuthenticateBody = map[string]any{
		"transactionId": uiapiTxID, "individualId": uiapiLoginID, "captchaToken": "c",
		"challengeList": []map[string]any{{"authFactorType": "OTP", "challenge": "111111", "format": "alpha-numeric"}},
	}
	uiapiSendOTPBody = map[string]any{"transactionId": uiapiTxID, "individualId": uiapiLoginID,
		"otpChannels": []string{"email", "phone"}, "captchaToken": "c"}
	uiapiAuthCodeBody = map[string]any{"transactionId": uiapiTxID, "acceptedClaims": []string{"birthdate", "name"},
		"permittedAuthorizeScopes": []string{"payments"}}
)

// uiapiGolden compares the JSON raw, indented, with a golden file.
func uiapiGolden(t *testing.T, name string, raw []byte) {
	t.Helper()
	var b bytes.Buffer
	if err := json.Indent(&b, raw, "", "  "); err != nil {
		t.Fatalf("%s: %s is not JSON: %v", name, raw, err)
	}
	b.WriteByte('\n')
	path := filepath.Join("testdata", "uiapi", name+".golden.json")
	if *uiapiUpdate {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update-uiapi to create it)", err)
	}
	if !bytes.Equal(b.Bytes(), want) {
		t.Errorf("%s = %s\nwant %s (run with -update-uiapi if the change is intended)", name, b.Bytes(), want)
	}
}

// TestUIAPIGolden walks a whole sign-in, at the root and under
// /v1/esignet, and compares every answer with its golden file.
func TestUIAPIGolden(t *testing.T) {
	for _, prefix := range []string{"", uiAPIPrefix} {
		t.Run("prefix="+prefix, func(t *testing.T) {
			e := newUIAPIEnv(t)
			_, raw := e.send(t, http.MethodGet, prefix+"/csrf/token", "", nil)
			uiapiGolden(t, "csrf-token", bytes.ReplaceAll(raw, []byte(e.csrf), []byte("TOKEN")))

			for _, v := range []struct{ path, golden string }{
				{"/authorization/v3/oauth-details", "oauth-details"},
				{"/authorization/v2/oauth-details", "oauth-details"},
				{"/authorization/oauth-details", "oauth-details-v1"},
			} {
				status, env, raw := e.do(t, http.MethodPost, prefix+v.path, uiapiBody(t, uiapiOAuthDetails()), nil)
				if status != http.StatusOK || env.code() != "" {
					t.Fatalf("POST %s = %d %s, want a response", v.path, status, raw)
				}
				uiapiGolden(t, v.golden, raw)
			}
			status, _, raw := e.do(t, http.MethodPost, prefix+"/authorization/par-oauth-details",
				uiapiBody(t, map[string]string{"clientId": "demo-bank", "requestUri": requestURIPrefix + "r1"}), nil)
			if status != http.StatusOK {
				t.Fatalf("par-oauth-details = %d %s", status, raw)
			}
			uiapiGolden(t, "oauth-details", raw)

			bound := e.bound(t)
			for _, v := range []struct{ method, path, body, golden string }{
				{http.MethodPost, "/authorization/send-otp", uiapiBody(t, uiapiSendOTPBody), "send-otp"},
				{http.MethodPost, "/authorization/v3/authenticate", uiapiBody(t, uiapiAuthenticateBody), "authenticate"},
				{http.MethodPost, "/authorization/v2/authenticate", uiapiBody(t, uiapiAuthenticateBody), "authenticate"},
				{http.MethodPost, "/authorization/authenticate", uiapiBody(t, uiapiAuthenticateBody), "authenticate-v1"},
				{http.MethodGet, "/authorization/claim-details", "", "claim-details"},
				{http.MethodPost, "/authorization/auth-code", uiapiBody(t, uiapiAuthCodeBody), "auth-code"},
			} {
				status, env, raw := e.do(t, v.method, prefix+v.path, v.body, bound)
				if status != http.StatusOK || env.code() != "" {
					t.Fatalf("%s %s = %d %s, want a response", v.method, v.path, status, raw)
				}
				uiapiGolden(t, v.golden, raw)
			}
			e.flow.setErr("SendOTP", authn.ErrOTPResendTooSoon)
			_, _, raw = e.do(t, http.MethodPost, prefix+"/authorization/send-otp", uiapiBody(t, uiapiSendOTPBody), bound)
			uiapiGolden(t, "error", raw)
		})
	}
}

// TestUIAPIFlowArguments checks what the flow is given.
func TestUIAPIFlowArguments(t *testing.T) {
	e := newUIAPIEnv(t)
	bound := e.bound(t)
	want := AuthorizationRequest{
		ClientID: "demo-bank", ResponseType: "code", RedirectURI: "https://bank.example/callback",
		Scope: "openid profile payments", State: "st-81", Nonce: "n-0S6", Display: "page", Prompt: "consent",
		MaxAge: "300", UILocales: "fr", ClaimsLocales: "fr en",
		ACRValues:     "mosip:idp:acr:generated-code mosip:idp:acr:static-code",
		Claims:        `{"id_token":{},"userinfo":{"email":null,"name":{"essential":true}}}`,
		IDTokenHint:   "eyJhbGciOiJub25lIn0.e30.",
		CodeChallenge: "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM", CodeChallengeMethod: "S256",
		DPoPJKT: "0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I",
	}
	e.flow.locked(func() {
		if !reflect.DeepEqual(e.flow.req, want) {
			t.Errorf("v3 oauth-details: StartTransaction(%+v), want %+v", e.flow.req, want)
		}
	})
	e.do(t, http.MethodPost, "/authorization/send-otp", uiapiBody(t, uiapiSendOTPBody), bound)
	e.flow.locked(func() {
		if e.flow.loginID != uiapiLoginID || !slices.Equal(e.flow.chans, []string{"email", "phone"}) {
			t.Errorf("send-otp: SendOTP(%q, %v), want %q, [email phone]", e.flow.loginID, e.flow.chans, uiapiLoginID)
		}
	})
	e.do(t, http.MethodPost, "/authorization/v3/authenticate", uiapiBody(t, uiapiAuthenticateBody), bound)
	wantCh := []authn.Challenge{{Factor: "OTP", Value: "111111", Format: "alpha-numeric"}}
	e.flow.locked(func() {
		if !slices.Equal(e.flow.chals, wantCh) {
			t.Errorf("authenticate: Authenticate(%v), want %v", e.flow.chals, wantCh)
		}
	})
	e.do(t, http.MethodPost, "/authorization/auth-code", uiapiBody(t, uiapiAuthCodeBody), bound)
	e.flow.locked(func() {
		if !slices.Equal(e.flow.claims, []string{"birthdate", "name"}) || !slices.Equal(e.flow.scopes, []string{"payments"}) {
			t.Errorf("auth-code: AuthCode(%v, %v), want [birthdate name], [payments]", e.flow.claims, e.flow.scopes)
		}
	})
	e.do(t, http.MethodPost, "/authorization/par-oauth-details",
		uiapiBody(t, map[string]string{"clientId": "demo-bank", "requestUri": requestURIPrefix + "r1"}), nil)
	e.flow.locked(func() {
		if e.flow.par != [2]string{"demo-bank", requestURIPrefix + "r1"} {
			t.Errorf("par-oauth-details: StartPARTransaction(%q), want demo-bank, %sr1", e.flow.par, requestURIPrefix)
		}
	})
}

// TestUIAPIOAuthDetailsConversion checks the request members that need
// converting: claims (an object), maxAge (a number or a string), and the
// members older versions lack.
func TestUIAPIOAuthDetailsConversion(t *testing.T) {
	tests := []struct {
		name    string
		path    string
		edit    func(map[string]any)
		check   func(AuthorizationRequest) bool
		code    string
		comment string
	}{
		{name: "claims object", path: "v3", edit: func(m map[string]any) {
			m["claims"] = json.RawMessage(`{ "userinfo" : { "given_name" : { "essential" : true , "purpose": "KYC" } } }`)
		}, check: func(r AuthorizationRequest) bool {
			return r.Claims == `{"userinfo":{"given_name":{"essential":true,"purpose":"KYC"}}}`
		}},
		{name: "claims null", path: "v3", edit: func(m map[string]any) { m["claims"] = nil },
			check: func(r AuthorizationRequest) bool { return r.Claims == "" }},
		{name: "claims absent", path: "v3", edit: func(m map[string]any) { delete(m, "claims") },
			check: func(r AuthorizationRequest) bool { return r.Claims == "" }},
		{name: "claims as a string", path: "v3", edit: func(m map[string]any) { m["claims"] = `{"userinfo":{}}` },
			code: uiCodeInvalidClaim},
		{name: "claims as an array", path: "v3", edit: func(m map[string]any) { m["claims"] = []int{1} },
			code: uiCodeInvalidClaim},
		{name: "maxAge number", path: "v3", edit: func(m map[string]any) { m["maxAge"] = 600 },
			check: func(r AuthorizationRequest) bool { return r.MaxAge == "600" }},
		{name: "maxAge string", path: "v3", edit: func(m map[string]any) { m["maxAge"] = "0" },
			check: func(r AuthorizationRequest) bool { return r.MaxAge == "0" }},
		{name: "maxAge null", path: "v3", edit: func(m map[string]any) { m["maxAge"] = nil },
			check: func(r AuthorizationRequest) bool { return r.MaxAge == "" }},
		{name: "maxAge fraction", path: "v3", edit: func(m map[string]any) { m["maxAge"] = 1.5 }, code: uiCodeInvalidRequest},
		{name: "maxAge bool", path: "v3", edit: func(m map[string]any) { m["maxAge"] = true }, code: uiCodeInvalidRequest},
		{name: "maxAge huge", path: "v3", edit: func(m map[string]any) { m["maxAge"] = json.Number("1e400") }, code: uiCodeInvalidRequest},
		{name: "v2 has no idTokenHint", path: "v2", check: func(r AuthorizationRequest) bool {
			return r.IDTokenHint == "" && r.CodeChallenge != "" && r.CodeChallengeMethod == "S256"
		}},
		{name: "v1 has no PKCE", path: "", check: func(r AuthorizationRequest) bool {
			return r.IDTokenHint == "" && r.CodeChallenge == "" && r.CodeChallengeMethod == "" && r.DPoPJKT != ""
		}},
		{name: "no client id", path: "v3", edit: func(m map[string]any) { m["clientId"] = " " }, code: uiCodeInvalidClientID},
		{name: "parameter too long", path: "v3", edit: func(m map[string]any) { m["nonce"] = strings.Repeat("n", maxParamLength+1) },
			code: uiCodeInvalidRequest},
		{name: "wrong type", path: "v3", edit: func(m map[string]any) { m["scope"] = []string{"openid"} }, code: uiCodeInvalidRequest},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newUIAPIEnv(t)
			req := uiapiOAuthDetails()
			if tt.edit != nil {
				tt.edit(req)
			}
			path := "/authorization/oauth-details"
			if tt.path != "" {
				path = "/authorization/" + tt.path + "/oauth-details"
			}
			status, env, raw := e.do(t, http.MethodPost, path, uiapiBody(t, req), nil)
			if status != http.StatusOK || env.code() != tt.code {
				t.Fatalf("POST %s = %d %s, want 200 and error %q", path, status, raw, tt.code)
			}
			if tt.code != "" {
				if calls := e.flow.callList(); len(calls) != 0 {
					t.Errorf("flow calls %v, want none", calls)
				}
				return
			}
			e.flow.locked(func() {
				if !tt.check(e.flow.req) {
					t.Errorf("StartTransaction(%+v): not as expected", e.flow.req)
				}
			})
		})
	}
}

// TestUIAPIValidation checks each request's Validate through the API, with
// eSignet's codes, and that the flow is not called.
func TestUIAPIValidation(t *testing.T) {
	with := func(base map[string]any, k string, v any) map[string]any {
		m := make(map[string]any, len(base))
		for bk, bv := range base {
			m[bk] = bv
		}
		if v == nil {
			delete(m, k)
		} else {
			m[k] = v
		}
		return m
	}
	ch := func(typ, challenge, format string) map[string]any {
		return map[string]any{"authFactorType": typ, "challenge": challenge, "format": format}
	}
	otp := ch("OTP", "111111", "alpha-numeric")
	tests := []struct {
		name, path, body, code string
	}{
		{"body not JSON", "/authorization/v3/oauth-details", "requestTime=now", uiCodeInvalidRequest},
		{"data after the body", "/authorization/v3/oauth-details", uiapiBody(t, uiapiOAuthDetails()) + "{}", uiCodeInvalidRequest},
		{"request missing", "/authorization/v3/oauth-details", `{"requestTime":"` + uiapiRequestTime + `"}`, uiCodeInvalidRequest},
		{"request null", "/authorization/v3/oauth-details", uiapiBody(t, "null"), uiCodeInvalidRequest},
		{"par without client", "/authorization/par-oauth-details", uiapiBody(t, map[string]string{"requestUri": requestURIPrefix + "x"}), uiCodeInvalidClientID},
		{"par with another uri", "/authorization/par-oauth-details", uiapiBody(t, map[string]string{"clientId": "c", "requestUri": "https://rp.example/r"}), uiCodeInvalidRequest},
		{"send-otp without transaction", "/authorization/send-otp", uiapiBody(t, with(uiapiSendOTPBody, "transactionId", nil)), uiCodeInvalidTransactionID},
		{"send-otp without individual", "/authorization/send-otp", uiapiBody(t, with(uiapiSendOTPBody, "individualId", "")), uiCodeInvalidIdentifier},
		{"send-otp without channel", "/authorization/send-otp", uiapiBody(t, with(uiapiSendOTPBody, "otpChannels", []string{})), uiCodeInvalidOTPChannel},
		{"send-otp blank channel", "/authorization/send-otp", uiapiBody(t, with(uiapiSendOTPBody, "otpChannels", []string{""})), uiCodeInvalidOTPChannel},
		{"authenticate without transaction", "/authorization/v3/authenticate", uiapiBody(t, with(uiapiAuthenticateBody, "transactionId", "")), uiCodeInvalidTransactionID},
		{"authenticate without individual", "/authorization/v3/authenticate", uiapiBody(t, with(uiapiAuthenticateBody, "individualId", nil)), uiCodeInvalidIdentifier},
		{"no challenge", "/authorization/v3/authenticate", uiapiBody(t, with(uiapiAuthenticateBody, "challengeList", []any{})), uiCodeInvalidNoOfChallenges},
		{"challenge list missing", "/authorization/v3/authenticate", uiapiBody(t, with(uiapiAuthenticateBody, "challengeList", nil)), uiCodeInvalidNoOfChallenges},
		{"six challenges", "/authorization/v3/authenticate", uiapiBody(t, with(uiapiAuthenticateBody, "challengeList", []any{otp, otp, otp, otp, otp, otp})), uiCodeInvalidNoOfChallenges},
		{"lower-case factor", "/authorization/v3/authenticate", uiapiBody(t, with(uiapiAuthenticateBody, "challengeList", []any{ch("otp", "111111", "alpha-numeric")})), uiCodeInvalidAuthFactorType},
		{"unsupported factor", "/authorization/v3/authenticate", uiapiBody(t, with(uiapiAuthenticateBody, "challengeList", []any{ch("BIO", "e30", "encoded-json")})), uiCodeInvalidAuthFactorType},
		{"wrong format", "/authorization/v3/authenticate", uiapiBody(t, with(uiapiAuthenticateBody, "challengeList", []any{ch("PIN", "482916", "alpha-numeric")})), uiCodeInvalidChallengeFormat},
		{"no format", "/authorization/v3/authenticate", uiapiBody(t, with(uiapiAuthenticateBody, "challengeList", []any{ch("OTP", "111111", "")})), uiCodeInvalidChallengeFormat},
		{"empty challenge", "/authorization/v3/authenticate", uiapiBody(t, with(uiapiAuthenticateBody, "challengeList", []any{ch("OTP", "", "alpha-numeric")})), uiCodeInvalidChallenge},
		{"auth-code without transaction", "/authorization/auth-code", uiapiBody(t, with(uiapiAuthCodeBody, "transactionId", nil)), uiCodeInvalidTransactionID},
		{"blank accepted claim", "/authorization/auth-code", uiapiBody(t, with(uiapiAuthCodeBody, "acceptedClaims", []string{"name", ""})), UIInvalidAcceptedClaim},
		{"blank permitted scope", "/authorization/auth-code", uiapiBody(t, with(uiapiAuthCodeBody, "permittedAuthorizeScopes", []string{" "})), UIInvalidPermitted},
	}
	e := newUIAPIEnv(t)
	bound := e.bound(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := len(e.flow.callList())
			status, env, raw := e.do(t, http.MethodPost, tt.path, tt.body, bound)
			if status != http.StatusOK || env.code() != tt.code {
				t.Errorf("POST %s = %d %s, want 200 and %s", tt.path, status, raw, tt.code)
			}
			if calls := e.flow.callList(); len(calls) != before {
				t.Errorf("flow calls %v, want none", calls[before:])
			}
		})
	}
}

// TestUIAPIRequestTime checks the requestTime window (eSignet's ±2 min,
// bounds excluded) and format.
func TestUIAPIRequestTime(t *testing.T) {
	at := func(d time.Duration) string { return uiapiNow.Add(d).Format(uiRequestTimeLayout) }
	tests := []struct {
		name, requestTime string
		ok                bool
	}{
		{"now", at(0), true},
		{"119.999 s ago", at(-2*time.Minute + time.Millisecond), true},
		{"in 119.999 s", at(2*time.Minute - time.Millisecond), true},
		{"2 min ago", at(-2 * time.Minute), false},
		{"in 2 min", at(2 * time.Minute), false},
		{"an hour ago", at(-time.Hour), false},
		{"no milliseconds", "2025-06-01T10:00:00Z", false},
		{"microseconds", "2025-06-01T10:00:00.123456Z", false},
		{"offset", "2025-06-01T12:00:00.123+02:00", false},
		{"empty", "", false},
		{"not a time", "yesterday", false},
	}
	e := newUIAPIEnv(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, _ := json.Marshal(uiapiOAuthDetails())
			body := `{"requestTime":"` + tt.requestTime + `","request":` + string(req) + `}`
			_, env, raw := e.do(t, http.MethodPost, "/authorization/v3/oauth-details", body, nil)
			if got := env.code() == ""; got != tt.ok {
				t.Errorf("requestTime %q: %s, want ok=%v", tt.requestTime, raw, tt.ok)
			} else if !tt.ok && env.code() != uiCodeInvalidRequest {
				t.Errorf("requestTime %q: %s, want %s", tt.requestTime, raw, uiCodeInvalidRequest)
			}
		})
	}
}

// TestUIAPICSRF checks the double-submit check: without a matching
// X-XSRF-TOKEN, POSTs get 403 and the flow is not called.
func TestUIAPICSRF(t *testing.T) {
	other := strings.Repeat("A", 43)
	tests := []struct {
		name   string
		cookie string // "" for none; "keep" for the browser's
		header string // "" for none
	}{
		{"no cookie, no header", "", ""},
		{"cookie, no header", "keep", ""},
		{"header, no cookie", "", "keep"},
		{"mismatch", "keep", other},
		{"malformed pair", "abc", "abc"},
		{"case differs", "keep", "upper"},
	}
	paths := []string{"/authorization/v3/oauth-details", "/authorization/par-oauth-details", "/authorization/send-otp",
		"/authorization/v3/authenticate", "/authorization/auth-code", uiAPIPrefix + "/authorization/v3/oauth-details"}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newUIAPIEnv(t)
			bound := map[string]string{headerOAuthDetailsKey: uiapiTxID, headerOAuthDetailsHash: "h"}
			for _, path := range paths {
				req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, e.srv.URL+path,
					strings.NewReader(uiapiBody(t, uiapiOAuthDetails())))
				if err != nil {
					t.Fatal(err)
				}
				switch tt.cookie {
				case "":
				case "keep":
					req.AddCookie(&http.Cookie{Name: csrfCookieName, Value: e.csrf})
				default:
					req.AddCookie(&http.Cookie{Name: csrfCookieName, Value: tt.cookie})
				}
				switch tt.header {
				case "":
				case "keep":
					req.Header.Set(csrfHeaderName, e.csrf)
				case "upper":
					req.Header.Set(csrfHeaderName, strings.ToUpper(e.csrf))
				default:
					req.Header.Set(csrfHeaderName, tt.header)
				}
				for k, v := range bound {
					req.Header.Set(k, v)
				}
				res, err := http.DefaultClient.Do(req) // no jar: only the cookie set above
				if err != nil {
					t.Fatal(err)
				}
				raw, _ := io.ReadAll(res.Body)
				res.Body.Close()
				var env uiapiEnvelope
				_ = json.Unmarshal(raw, &env)
				if res.StatusCode != http.StatusForbidden || env.code() != uiCodeInvalidCSRFToken {
					t.Errorf("POST %s = %d %s, want 403 and %s", path, res.StatusCode, raw, uiCodeInvalidCSRFToken)
				}
				if cc := res.Header.Get("Cache-Control"); cc != "no-store" {
					t.Errorf("POST %s: Cache-Control %q, want no-store", path, cc)
				}
			}
			if calls := e.flow.callList(); len(calls) != 0 {
				t.Errorf("flow calls %v, want none", calls)
			}
		})
	}
}

// TestUIAPICSRFToken checks the token endpoint: cookie attributes, and
// that a browser's well-formed token is kept.
func TestUIAPICSRFToken(t *testing.T) {
	for _, secure := range []bool{false, true} {
		t.Run(fmt.Sprint("secure=", secure), func(t *testing.T) {
			e := newUIAPIEnv(t, func(o *frontEndOptions) { o.SecureCookies = secure })
			res, err := http.Get(e.srv.URL + uiAPIPrefix + "/csrf/token")
			if err != nil {
				t.Fatal(err)
			}
			res.Body.Close()
			cs := res.Cookies()
			if len(cs) != 1 {
				t.Fatalf("GET /csrf/token set cookies %v, want one", cs)
			}
			c := cs[0]
			if c.Name != csrfCookieName || !wellFormedCSRFToken(c.Value) || c.Path != "/" || c.SameSite != http.SameSiteStrictMode ||
				c.HttpOnly || c.Secure != secure || c.MaxAge != 0 {
				t.Errorf("cookie %s, want XSRF-TOKEN, 43 characters, Path=/, SameSite=Strict, not HttpOnly, Secure=%v, session", c, secure)
			}
		})
	}
	e := newUIAPIEnv(t)
	_, raw := e.send(t, http.MethodGet, "/csrf/token", "", nil)
	if !bytes.Contains(raw, []byte(`"token":"`+e.csrf+`"`)) {
		t.Errorf("second GET /csrf/token = %s, want the same token %s", raw, e.csrf)
	}
	// A malformed cookie is replaced.
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, e.srv.URL+"/csrf/token", nil)
	req.AddCookie(&http.Cookie{Name: csrfCookieName, Value: "known"})
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if cs := res.Cookies(); len(cs) != 1 || !wellFormedCSRFToken(cs[0].Value) {
		t.Errorf("GET /csrf/token with a malformed cookie set %v, want a fresh token", cs)
	}
	// claim-details is a GET: no CSRF token needed.
	bound := e.bound(t)
	bound[csrfHeaderName] = ""
	if _, env, raw := e.do(t, http.MethodGet, "/authorization/claim-details", "", bound); env.code() != "" {
		t.Errorf("claim-details without X-XSRF-TOKEN = %s, want a response", raw)
	}
}

// TestUIAPIBinding checks oauth-details-key and oauth-details-hash.
func TestUIAPIBinding(t *testing.T) {
	e := newUIAPIEnv(t)
	bound := e.bound(t)
	otherTx := map[string]any{}
	for k, v := range uiapiSendOTPBody {
		otherTx[k] = v
	}
	otherTx["transactionId"] = "tx-other"
	tests := []struct {
		name, method, path, body string
		header                   map[string]string
		code                     string
	}{
		{"no key", http.MethodPost, "/authorization/send-otp", uiapiBody(t, uiapiSendOTPBody),
			map[string]string{headerOAuthDetailsHash: bound[headerOAuthDetailsHash]}, UIInvalidTransaction},
		{"unknown key", http.MethodPost, "/authorization/v3/authenticate", uiapiBody(t, uiapiAuthenticateBody),
			map[string]string{headerOAuthDetailsKey: "tx-other", headerOAuthDetailsHash: bound[headerOAuthDetailsHash]}, UIInvalidTransaction},
		{"no hash", http.MethodPost, "/authorization/send-otp", uiapiBody(t, uiapiSendOTPBody),
			map[string]string{headerOAuthDetailsKey: uiapiTxID}, uiCodeBindingMismatch},
		{"wrong hash", http.MethodPost, "/authorization/v3/authenticate", uiapiBody(t, uiapiAuthenticateBody),
			map[string]string{headerOAuthDetailsKey: uiapiTxID, headerOAuthDetailsHash: uiapiHash([]byte("{}"))}, uiCodeBindingMismatch},
		{"wrong hash at auth-code", http.MethodPost, "/authorization/auth-code", uiapiBody(t, uiapiAuthCodeBody),
			map[string]string{headerOAuthDetailsKey: uiapiTxID, headerOAuthDetailsHash: strings.ToUpper(bound[headerOAuthDetailsHash])}, uiCodeBindingMismatch},
		{"wrong hash at claim-details", http.MethodGet, "/authorization/claim-details", "",
			map[string]string{headerOAuthDetailsKey: uiapiTxID, headerOAuthDetailsHash: "x"}, uiCodeBindingMismatch},
		{"claim-details without headers", http.MethodGet, "/authorization/claim-details", "", nil, UIInvalidTransaction},
		{"body names another transaction", http.MethodPost, "/authorization/send-otp", uiapiBody(t, otherTx), bound, UIInvalidTransaction},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := len(e.flow.callList())
			status, env, raw := e.do(t, tt.method, tt.path, tt.body, tt.header)
			if status != http.StatusOK || env.code() != tt.code {
				t.Errorf("%s %s = %d %s, want 200 and %s", tt.method, tt.path, status, raw, tt.code)
			}
			if calls := e.flow.callList(); len(calls) != before {
				t.Errorf("flow calls %v, want none", calls[before:])
			}
		})
	}

	// A UI on the deprecated v1 endpoint hashes v1's response.
	_, env, _ := e.do(t, http.MethodPost, "/authorization/oauth-details", uiapiBody(t, uiapiOAuthDetails()), nil)
	v1 := map[string]string{headerOAuthDetailsKey: uiapiTxID, headerOAuthDetailsHash: uiapiHash(env.Response)}
	if v1[headerOAuthDetailsHash] == bound[headerOAuthDetailsHash] {
		t.Fatal("v1 and v3 responses hash alike")
	}
	if _, env, raw := e.do(t, http.MethodPost, "/authorization/authenticate", uiapiBody(t, uiapiAuthenticateBody), v1); env.code() != "" {
		t.Errorf("authenticate bound to the v1 response = %s, want a response", raw)
	}
}

// TestUIAPIBindingUsesFlowHashes checks that when the flow keeps the
// transaction's oauth-details hashes (and hands over the responses it
// hashed), bound calls compare with those and oauth-details sends those
// responses: nothing is re-encoded, so a view that has changed since does
// not move the binding.
func TestUIAPIBindingUsesFlowHashes(t *testing.T) {
	e := newUIAPIEnv(t)
	computed := e.bound(t)[headerOAuthDetailsHash]
	v3, v1 := []byte(`{"kept":"v3"}`), []byte(`{"kept":"v1"}`)
	e.flow.locked(func() {
		tx := uiapiTx()
		tx.OAuthDetailsHashes = []string{uiapiHash(v3), uiapiHash(v1)}
		tx.oauthDetails = [2][]byte{v3, v1}
		tx.ClientName = map[string]string{"@none": "Renamed since"}
		e.flow.tx = tx
	})
	for path, want := range map[string][]byte{"/authorization/v3/oauth-details": v3, "/authorization/v2/oauth-details": v3,
		"/authorization/oauth-details": v1, "/authorization/par-oauth-details": v3} {
		body := uiapiBody(t, uiapiOAuthDetails())
		if path == "/authorization/par-oauth-details" {
			body = uiapiBody(t, map[string]string{"clientId": "demo-bank", "requestUri": requestURIPrefix + "r"})
		}
		if _, env, raw := e.do(t, http.MethodPost, path, body, nil); string(env.Response) != string(want) {
			t.Errorf("%s = %s, want the flow's response %s", path, raw, want)
		}
	}
	tests := []struct {
		name, hash, code string
	}{
		{"the flow's v3 hash", uiapiHash(v3), ""},
		{"the flow's v1 hash", uiapiHash(v1), ""},
		{"the hash of the first response, not kept", computed, uiCodeBindingMismatch},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := map[string]string{headerOAuthDetailsKey: uiapiTxID, headerOAuthDetailsHash: tt.hash}
			if _, env, raw := e.do(t, http.MethodGet, "/authorization/claim-details", "", h); env.code() != tt.code {
				t.Errorf("claim-details bound with %s = %s, want code %q", tt.name, raw, tt.code)
			}
		})
	}
}

// TestUIAPIErrorMapping checks that each flow error becomes its eSignet
// code in an HTTP 200 envelope, and that internal errors say nothing.
func TestUIAPIErrorMapping(t *testing.T) {
	endpoints := map[string]struct{ method, path, body string }{
		"StartTransaction":    {http.MethodPost, "/authorization/v3/oauth-details", ""},
		"StartPARTransaction": {http.MethodPost, "/authorization/par-oauth-details", ""},
		"Transaction":         {http.MethodPost, "/authorization/send-otp", ""},
		"SendOTP":             {http.MethodPost, "/authorization/send-otp", ""},
		"Authenticate":        {http.MethodPost, "/authorization/v3/authenticate", ""},
		"ClaimDetails":        {http.MethodGet, "/authorization/claim-details", ""},
		"AuthCode":            {http.MethodPost, "/authorization/auth-code", ""},
	}
	bodies := map[string]string{
		"/authorization/v3/oauth-details":  uiapiBody(t, uiapiOAuthDetails()),
		"/authorization/par-oauth-details": uiapiBody(t, map[string]string{"clientId": "demo-bank", "requestUri": requestURIPrefix + "r"}),
		"/authorization/send-otp":          uiapiBody(t, uiapiSendOTPBody),
		"/authorization/v3/authenticate":   uiapiBody(t, uiapiAuthenticateBody),
		"/authorization/claim-details":     "",
		"/authorization/auth-code":         uiapiBody(t, uiapiAuthCodeBody),
	}
	redirect := &AuthResponse{RedirectURI: "https://bank.example/callback", Error: "invalid_request", State: "s"}
	tests := []struct {
		name, method string
		err          error
		code         string
	}{
		{"authorize error with redirect", "StartTransaction", &AuthorizeError{Err: ErrInvalidRequest("bad prompt", nil), Redirect: redirect}, "invalid_request"},
		{"authorize error without redirect", "StartTransaction", &AuthorizeError{Err: &Error{Code: "invalid_client", Description: "unknown client"}}, "invalid_client"},
		{"use_pkce", "StartTransaction", &AuthorizeError{Err: ErrUsePKCE("PKCE required", nil)}, CodeUsePKCE},
		{"authorize server error", "StartTransaction", &AuthorizeError{Err: ErrServerError(errors.New("db: secret-detail"))}, UIUnknownError},
		{"par consumed", "StartPARTransaction", &AuthorizeError{Err: ErrInvalidRequest("request_uri unknown", nil)}, "invalid_request"},
		{"expired transaction", "Transaction", &UIError{Code: UIInvalidTransaction, Description: "expired"}, UIInvalidTransaction},
		{"store down at binding", "Transaction", errors.New("redis: secret-detail"), UIUnknownError},
		{"resend too soon", "SendOTP", authn.ErrOTPResendTooSoon, "otp_resend_too_soon"},
		{"channel", "SendOTP", fmt.Errorf("wrapped: %w", authn.ErrInvalidOTPChannel), "invalid_otp_channel"},
		{"blocked", "SendOTP", authn.ErrIndividualBlocked, "individual_id_blocked"},
		{"auth failed", "Authenticate", authn.ErrAuthFailed, "auth_failed"},
		{"no attempts", "Authenticate", authn.ErrNoAttemptsLeft, "no_attempts_left"},
		{"factor mismatch", "Authenticate", authn.ErrAuthFactorMismatch, "auth_factor_mismatch"},
		{"wrong state", "Authenticate", &UIError{Code: UIInvalidTransaction, Cause: errors.New("AUTHENTICATED")}, UIInvalidTransaction},
		{"unauthenticated", "ClaimDetails", &UIError{Code: UIInvalidTransaction}, UIInvalidTransaction},
		{"essential claim refused", "AuthCode", &UIError{Code: UIInvalidAcceptedClaim, Description: "essential"}, UIInvalidAcceptedClaim},
		{"scope", "AuthCode", &UIError{Code: UIInvalidPermitted}, UIInvalidPermitted},
		{"plain error", "AuthCode", errors.New("signer: secret-detail"), UIUnknownError},
		{"UIError without code", "AuthCode", &UIError{Description: "?"}, UIUnknownError},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newUIAPIEnv(t)
			bound := e.bound(t)
			e.flow.setErr(tt.method, tt.err)
			ep := endpoints[tt.method]
			status, env, raw := e.do(t, ep.method, ep.path, bodies[ep.path], bound)
			if status != http.StatusOK || env.code() != tt.code || len(env.Errors) != 1 {
				t.Errorf("%s failing with %v: %d %s, want 200 and %s", tt.method, tt.err, status, raw, tt.code)
			}
			if bytes.Contains(raw, []byte("secret-detail")) {
				t.Errorf("%s: %s reveals the internal cause", tt.method, raw)
			}
		})
	}
}

// TestUIAPIRateLimit checks that the rate limit guards the endpoints that
// take input, before the flow.
func TestUIAPIRateLimit(t *testing.T) {
	var mu sync.Mutex
	limited := false
	e := newUIAPIEnv(t, func(o *frontEndOptions) {
		o.RateLimit = func(c *gin.Context) {
			mu.Lock()
			defer mu.Unlock()
			if limited {
				c.AbortWithStatusJSON(http.StatusTooManyRequests, gin.H{"error": "slow_down"})
			}
		}
	})
	bound := e.bound(t)
	mu.Lock()
	limited = true
	mu.Unlock()
	before := len(e.flow.callList())
	for _, tt := range []struct{ method, path, body string }{
		{http.MethodPost, "/authorization/send-otp", uiapiBody(t, uiapiSendOTPBody)},
		{http.MethodPost, "/authorization/v3/authenticate", uiapiBody(t, uiapiAuthenticateBody)},
		{http.MethodPost, uiAPIPrefix + "/authorization/v2/authenticate", uiapiBody(t, uiapiAuthenticateBody)},
		{http.MethodPost, "/authorization/v3/oauth-details", uiapiBody(t, uiapiOAuthDetails())},
		{http.MethodPost, "/authorization/par-oauth-details", uiapiBody(t, map[string]string{"clientId": "c", "requestUri": requestURIPrefix + "r"})},
	} {
		if status, raw := e.send(t, tt.method, tt.path, tt.body, bound); status != http.StatusTooManyRequests {
			t.Errorf("%s %s over the limit = %d %s, want 429", tt.method, tt.path, status, raw)
		}
	}
	if calls := e.flow.callList(); len(calls) != before {
		t.Errorf("flow calls %v over the limit, want none", calls[before:])
	}
	for _, tt := range []struct{ method, path, body string }{
		{http.MethodGet, "/authorization/claim-details", ""},
		{http.MethodPost, "/authorization/auth-code", uiapiBody(t, uiapiAuthCodeBody)},
	} {
		if status, _, raw := e.do(t, tt.method, tt.path, tt.body, bound); status != http.StatusOK {
			t.Errorf("%s %s = %d %s, want 200 (not limited)", tt.method, tt.path, status, raw)
		}
	}
}

// TestUIAPIHashMatchesJavaScript checks the oauth-details response against
// Node's JSON.stringify(JSON.parse(...)), which is what oidc-ui hashes, on a
// transaction full of what JSON encoders disagree on. Skipped without node.
func TestUIAPIHashMatchesJavaScript(t *testing.T) {
	node, err := exec.LookPath("node")
	if err != nil {
		t.Skip("node is not installed")
	}
	e := newUIAPIEnv(t)
	tx := uiapiTx()
	tx.ClientName = map[string]string{"@none": "Bank <&> \u2028\u2029 \"q\" \\ \x01\x1f\x7f é 中 😀", "ara": "بنك", "10": "ten", "9": "nine", "01": "zero-one"}
	tx.LogoURL = "https://bank.example/logo.png?a=1&b=<2>"
	tx.Configs = map[string]any{
		"10": 1, "2": 2, "4294967295": "not an index", "4294967294": "index", "-1": 0, "b": 1.5e-7, "a": 1e21,
		"c": 123456789012345680000.0, "big": int64(9007199254740993), "neg0": math.Copysign(0, -1), "sum": 0.1 + 0.2,
		"small": 5e-324, "max": math.MaxFloat64, "nested": map[string]any{"z": 1, "0": true, "y": []any{nil, "x", 1e-6, 1e-7}},
		"html": "<script>alert('x')</script>", "bools": []bool{true, false},
	}
	tx.Purpose = &ClientPurpose{Type: "link", Title: map[string]string{"@none": "Link\taccount"}}
	e.flow.locked(func() { e.flow.tx = tx })
	for _, path := range []string{"/authorization/v3/oauth-details", "/authorization/oauth-details"} {
		_, wire := e.send(t, http.MethodPost, path, uiapiBody(t, uiapiOAuthDetails()), nil)
		cmd := exec.CommandContext(t.Context(), node, "-e", `
const env = JSON.parse(require('fs').readFileSync(0, 'utf8'));
const s = JSON.stringify(env.response);
process.stdout.write(JSON.stringify({text: s, hash: require('crypto').createHash('sha256').update(s, 'utf8').digest('base64url')}));`)
		cmd.Stdin = bytes.NewReader(wire)
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("node: %v", err)
		}
		var js struct{ Text, Hash string }
		if err := json.Unmarshal(out, &js); err != nil {
			t.Fatal(err)
		}
		a := &uiAPI{flow: e.flow, opts: frontEndOptions{Issuer: "https://id.example", OTPLength: 6, ResendDelay: 30 * time.Second}}
		version := oauthDetailsV3
		if path == "/authorization/oauth-details" {
			version = oauthDetailsV1
		}
		got, err := a.oauthDetailsJSON(tx, version)
		if err != nil {
			t.Fatal(err)
		}
		if string(got) != js.Text {
			t.Errorf("%s: oauthDetailsJSON = %s\nJSON.stringify = %s", path, got, js.Text)
		}
		// oidc-ui's hash binds the following calls.
		h := map[string]string{headerOAuthDetailsKey: uiapiTxID, headerOAuthDetailsHash: js.Hash}
		if _, env, raw := e.do(t, http.MethodPost, "/authorization/send-otp", uiapiBody(t, uiapiSendOTPBody), h); env.code() != "" {
			t.Errorf("%s: send-otp with JavaScript's hash = %s, want a response", path, raw)
		}
	}
}

// TestUIAPIChallengeFormats keeps uiChallengeFormats in step with authn:
// authn accepts each format and refuses another.
func TestUIAPIChallengeFormats(t *testing.T) {
	for _, f := range []string{authn.FactorOTP, authn.FactorPIN, authn.FactorPassword, authn.FactorKBI} {
		format, ok := uiChallengeFormats[f]
		if !ok {
			t.Errorf("uiChallengeFormats has no %s", f)
			continue
		}
		req := authn.AuthRequest{TransactionID: uiapiTxID, LoginID: uiapiLoginID, Sector: "bank.example",
			Challenges: []authn.Challenge{{Factor: f, Value: "111111", Format: format}}}
		if err := req.Validate(); err != nil {
			t.Errorf("authn refuses %s with format %q: %v", f, format, err)
		}
		req.Challenges[0].Format = "other"
		if err := req.Validate(); !errors.Is(err, authn.ErrAuthFactorMismatch) {
			t.Errorf("authn accepts %s with format other: %v", f, err)
		}
	}
}

// TestUIAPIRequestRedaction checks that requests print without the
// individual's id or the challenges.
func TestUIAPIRequestRedaction(t *testing.T) {
	a := &uiAuthenticateRequest{TransactionID: uiapiTxID, IndividualID: uiapiLoginID,
		ChallengeList: []uiAuthChallenge{{AuthFactorType: "PIN", Challenge: "482916", Format: "number"}}}
	s := &uiSendOTPRequest{TransactionID: uiapiTxID, IndividualID: uiapiLoginID, OTPChannels: []string{"email"}}
	for _, out := range []string{fmt.Sprint(a), fmt.Sprintf("%+v", a), fmt.Sprintf("%#v", a), fmt.Sprint(a.ChallengeList),
		fmt.Sprint(s), fmt.Sprintf("%#v", s), a.LogValue().String(), s.LogValue().String()} {
		if strings.Contains(out, uiapiLoginID) || strings.Contains(out, "482916") {
			t.Errorf("printed request %q reveals the individual or the challenge", out)
		}
	}
}

// TestUIAPIJSJSONNumbers checks number formatting against JavaScript's
// Number::toString on known values.
func TestUIAPIJSJSONNumbers(t *testing.T) {
	for in, want := range map[string]string{
		"0": "0", "-0": "0", "1": "1", "-1.5": "-1.5", "1e21": "1e+21", "1e20": "100000000000000000000",
		"1e-6": "0.000001", "1e-7": "1e-7", "1.5e-7": "1.5e-7", "1E+2": "100", "9007199254740993": "9007199254740992",
		"0.1": "0.1", "1e400": "null", "5e-324": "5e-324", "1.7976931348623157e308": "1.7976931348623157e+308",
		"123e-20": "1.23e-18",
	} {
		got, err := appendJSNumber(nil, json.Number(in))
		if err != nil || string(got) != want {
			t.Errorf("appendJSNumber(%s) = %s, %v, want %s", in, got, err, want)
		}
	}
}

// jsJSONReference is the plain re-encoding over encoding/json's tokenizer
// (package jsjson, also the test relying party's) that FuzzJSJSON holds the
// text scanner to.
func jsJSONReference(raw []byte) ([]byte, error) { return jsjson.Stringify(raw) }

// jsJSONSamples are JSON texts on which encoders and JavaScript disagree.
var jsJSONSamples = []string{
	`{"b":1,"a":2,"10":3,"9":4,"01":5,"4294967294":6,"4294967295":7,"-1":8,"":9}`,
	`{"a":1,"b":2,"a":3}`, `{"1":1,"0":0,"1":2}`, `[]`, `{}`, `[{},[],[[]]]`, ` { "a" : [ 1 , 2 ] } `,
	`"\u003c\u003e\u0026 \u2028\u2029 \ufffd \"q\" \\ \/ \b\f\n\r\t \u0001\u001f\u007f é 中 😀 \ud83d\ude00"`,
	`"\ud800" `, `"\ud800\u0041"`, `"\udc00\ud800"`, "\"\xff\xfe raw\"", `"\u00e9\u4E2D"`,
	`[0,-0,1,-1,1.5,1e21,1e20,1e-6,1e-7,1E+2,9007199254740993,123456789012345,1234567890123456,0.1,1e400,-1e400,5e-324,0.0,-0.0,100,-100]`,
	`[true,false,null]`, `{"nested":{"z":1,"0":true,"y":[null,"x",1e-6,1e-7]}}`,
	`{"a":`, `[1,]`, `{"a" 1}`, `"unterminated`, `tru`, `01`, `1.`, `-`, `[1 2]`, `{"a":1}x`, `"\x"`, `"\u12"`, "\"tab\tinside\"",
}

// TestJSJSON checks jsJSONText against the reference on samples, and
// against what JavaScript prints.
func TestJSJSON(t *testing.T) {
	for _, in := range jsJSONSamples {
		got, err := jsJSONText([]byte(in))
		want, werr := jsJSONReference([]byte(in))
		if (err != nil) != (werr != nil) || string(got) != string(want) {
			t.Errorf("jsJSONText(%q) = %q, %v; reference %q, %v", in, got, err, want, werr)
		}
	}
	for in, want := range map[string]string{
		`{"b":1,"10":2,"9":3,"a":[1e21,-0,"\u003c\u2028"]}`: `{"9":3,"10":2,"b":1,"a":[1e+21,0,"<` + "\u2028" + `"]}`,
		`{"a":1,"b":2,"a":3}`:                               `{"a":3,"b":2}`,
		`"\u0001\u001f\b"`:                                  `"\u0001\u001f\b"`,
	} {
		if got, err := jsJSONText([]byte(in)); err != nil || string(got) != want {
			t.Errorf("jsJSONText(%s) = %s, %v; want %s", in, got, err, want)
		}
	}
}

// BenchmarkOAuthDetailsJSON re-encodes an oauth-details response for
// JavaScript (once per transaction) with the text scanner and with the
// reference.
func BenchmarkOAuthDetailsJSON(b *testing.B) {
	opts := frontEndOptions{Issuer: "https://id.example", OTPLength: 6, ResendDelay: 30 * time.Second}
	raw, err := json.Marshal(oauthDetailsValue(opts, uiapiTx(), oauthDetailsV3))
	if err != nil {
		b.Fatal(err)
	}
	for _, bc := range []struct {
		name string
		f    func([]byte) ([]byte, error)
	}{{"scanner", jsJSONText}, {"reference", jsJSONReference}} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := bc.f(raw); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// FuzzJSJSON holds jsJSONText to the reference: the same text, or both
// refuse the input.
func FuzzJSJSON(f *testing.F) {
	for _, s := range jsJSONSamples {
		f.Add(s)
	}
	if b, err := json.Marshal(uiapiTx()); err == nil {
		f.Add(string(b))
	}
	f.Fuzz(func(t *testing.T, in string) {
		got, err := jsJSONText([]byte(in))
		want, werr := jsJSONReference([]byte(in))
		if werr != nil {
			if err == nil && json.Valid([]byte(in)) {
				t.Fatalf("jsJSONText(%q) = %q, reference fails: %v", in, got, werr)
			}
			return
		}
		if err != nil || string(got) != string(want) {
			t.Fatalf("jsJSONText(%q) = %q, %v; reference %q", in, got, err, want)
		}
	})
}

// FuzzUIAPIRequests sends arbitrary bodies to oauth-details and
// authenticate: every answer is a well-formed envelope, with a response or
// exactly one error, and never an internal error.
func FuzzUIAPIRequests(f *testing.F) {
	oauth, _ := json.Marshal(uiapiOAuthDetails())
	auth, _ := json.Marshal(uiapiAuthenticateBody)
	for _, s := range []string{string(oauth), string(auth), `{"clientId":"c","claims":"{}"}`, `{"clientId":"c","maxAge":-1}`,
		`{"clientId":"c","claims":{"userinfo":{"name":null}},"maxAge":"x"}`, `null`, `[]`, `{"challengeList":[{}]}`,
		`{"transactionId":"` + uiapiTxID + `","individualId":"x","challengeList":[{"authFactorType":"KBI","challenge":"e30","format":"base64url-encoded-json"}]}`,
	} {
		f.Add(false, uiapiBody(f, s))
		f.Add(true, uiapiBody(f, s))
	}
	f.Add(false, `{"requestTime":"2025-06-01T10:00:00.123Z","request":{"clientId":"\ud800"}}`)
	f.Add(true, `{"requestTime":1,"request":{}}`)
	f.Add(false, `{`)

	gin.SetMode(gin.TestMode)
	flow := newUIAPIFlow()
	opts := frontEndOptions{Issuer: "https://id.example", Now: func() time.Time { return uiapiNow }}
	r := gin.New()
	registerUIAPI(r, flow, opts)
	hash, err := (&uiAPI{flow: flow, opts: opts}).oauthDetailsHash(flow.tx, oauthDetailsV3)
	if err != nil {
		f.Fatal(err)
	}
	csrf := strings.Repeat("Q", 43)
	f.Fuzz(func(t *testing.T, authenticate bool, body string) {
		path := "/authorization/v3/oauth-details"
		if authenticate {
			path = "/authorization/v3/authenticate"
		}
		req := httptest.NewRequest(http.MethodPost, path, strings.NewReader(body))
		req.AddCookie(&http.Cookie{Name: csrfCookieName, Value: csrf})
		req.Header.Set(csrfHeaderName, csrf)
		req.Header.Set(headerOAuthDetailsKey, uiapiTxID)
		req.Header.Set(headerOAuthDetailsHash, hash)
		w := httptest.NewRecorder()
		r.ServeHTTP(w, req)
		if w.Code != http.StatusOK {
			t.Fatalf("POST %s %q = %d, want 200", path, body, w.Code)
		}
		var env uiapiEnvelope
		if err := json.Unmarshal(w.Body.Bytes(), &env); err != nil {
			t.Fatalf("POST %s %q = %s, not an envelope: %v", path, body, w.Body, err)
		}
		switch {
		case env.Errors == nil:
			t.Fatalf("POST %s %q = %s, want errors", path, body, w.Body)
		case len(env.Errors) == 0 && string(env.Response) == "null":
			t.Fatalf("POST %s %q = %s, want a response or an error", path, body, w.Body)
		case len(env.Errors) > 1 || len(env.Errors) == 1 && (string(env.Response) != "null" || env.code() == ""):
			t.Fatalf("POST %s %q = %s, want exactly one error and no response", path, body, w.Body)
		case env.code() == UIUnknownError:
			t.Fatalf("POST %s %q = %s, want no internal error", path, body, w.Body)
		}
		if !authenticate && env.code() == "" {
			flow.mu.Lock()
			claims := flow.req.Claims
			flow.mu.Unlock()
			var m map[string]any
			if claims != "" && (json.Unmarshal([]byte(claims), &m) != nil || m == nil) {
				t.Fatalf("POST %s %q: StartTransaction got claims %q, want a JSON object", path, body, claims)
			}
		}
	})
}
