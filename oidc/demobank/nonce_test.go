package demobank

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/lestrrat-go/jwx/v3/jwa"
	"github.com/lestrrat-go/jwx/v3/jws"
)

// nonceServer answers like a DPoP server that requires nonces: a proof
// without the current nonce gets use_dpop_nonce and a fresh nonce (as a
// 400 JSON error, or a 401 challenge when resource is set).
type nonceServer struct {
	resource bool
	always   bool // ask for a new nonce every time
	mu       sync.Mutex
	current  string
	n        int
	proofs   []dpopClaims
	auth     []string
	forms    []string
}

func (s *nonceServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	_ = r.ParseForm()
	s.forms = append(s.forms, r.PostForm.Get("client_assertion"))
	s.auth = append(s.auth, r.Header.Get("Authorization"))
	msg, err := jws.Parse([]byte(r.Header.Get("DPoP")))
	if err != nil {
		http.Error(w, "no proof", http.StatusBadRequest)
		return
	}
	key, _ := msg.Signatures()[0].ProtectedHeaders().JWK()
	payload, err := jws.Verify([]byte(r.Header.Get("DPoP")), jws.WithKey(jwa.ES256(), key))
	if err != nil {
		http.Error(w, "bad proof", http.StatusBadRequest)
		return
	}
	var c dpopClaims
	_ = json.Unmarshal(payload, &c)
	s.proofs = append(s.proofs, c)
	if s.always || c.Nonce == "" || c.Nonce != s.current {
		s.n++
		s.current = "server-nonce-" + string(rune('a'+s.n))
		w.Header().Set("DPoP-Nonce", s.current)
		if s.resource {
			w.Header().Set("WWW-Authenticate", `DPoP algs="ES256", error="use_dpop_nonce", error_description="Resource server requires nonce in DPoP proof"`)
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		writeJSON(w, http.StatusBadRequest, oauthError{Code: "use_dpop_nonce", Description: "nonce required"})
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"ok": "yes"})
}

func newPlainBank(t *testing.T) *Bank {
	t.Helper()
	b, err := New(t.Context(), Config{
		Issuer: "https://id.example.gov", ClientID: "demo-bank", SigningKey: testKey(t),
		BaseURL: "http://127.0.0.1:1/demo/bank",
	})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestDoDPoPNonceRetry(t *testing.T) {
	tests := []struct {
		name        string
		resource    bool
		always      bool
		wantCalls   int
		wantStatus  int
		accessToken string
	}{
		{name: "token endpoint: 400 use_dpop_nonce, then success", wantCalls: 2, wantStatus: 200},
		{name: "resource: 401 WWW-Authenticate, then success", resource: true, accessToken: "tok", wantCalls: 2, wantStatus: 200},
		{name: "retries once only", always: true, wantCalls: 2, wantStatus: 400},
		{name: "resource retries once only", resource: true, always: true, accessToken: "tok", wantCalls: 2, wantStatus: 401},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := &nonceServer{resource: tt.resource, always: tt.always}
			srv := httptest.NewServer(s)
			defer srv.Close()
			b := newPlainBank(t)
			key := testKey(t)
			builds := 0
			method := http.MethodPost
			if tt.resource {
				method = http.MethodGet
			}
			req := dpopRequest{Method: method, URL: srv.URL + "/token", AccessToken: tt.accessToken,
				Build: func(ctx context.Context) (*http.Request, error) {
					builds++
					return http.NewRequestWithContext(ctx, method, srv.URL+"/token", nil)
				}}
			resp, err := b.doDPoP(t.Context(), key, req)
			if err != nil {
				t.Fatal(err)
			}
			if resp.Status != tt.wantStatus {
				t.Errorf("status = %d, want %d", resp.Status, tt.wantStatus)
			}
			if len(s.proofs) != tt.wantCalls || builds != tt.wantCalls {
				t.Fatalf("%d requests, %d builds; want %d", len(s.proofs), builds, tt.wantCalls)
			}
			if s.proofs[0].Nonce != "" {
				t.Errorf("first proof nonce = %q, want none (nothing known yet)", s.proofs[0].Nonce)
			}
			if s.proofs[1].Nonce != "server-nonce-b" {
				t.Errorf("retry proof nonce = %q, want the server's server-nonce-b", s.proofs[1].Nonce)
			}
			if s.proofs[0].Jti == s.proofs[1].Jti {
				t.Error("retry reused the proof's jti")
			}
			for i, a := range s.auth {
				if want := map[bool]string{true: "DPoP tok", false: ""}[tt.accessToken != ""]; a != want {
					t.Errorf("request %d Authorization = %q, want %q", i, a, want)
				}
				if tt.accessToken != "" && s.proofs[i].Ath != accessTokenHash("tok") {
					t.Errorf("request %d ath = %q", i, s.proofs[i].Ath)
				}
			}
			if tt.always {
				return
			}
			// The nonce is remembered: the next request needs no retry.
			if _, err := b.doDPoP(t.Context(), key, req); err != nil {
				t.Fatal(err)
			}
			if len(s.proofs) != tt.wantCalls+1 || s.proofs[tt.wantCalls].Nonce != "server-nonce-b" {
				t.Errorf("next request: %d requests, nonce %q; want one with the remembered nonce", len(s.proofs)-tt.wantCalls, s.proofs[len(s.proofs)-1].Nonce)
			}
		})
	}
}

func TestDoDPoPNoRetryOnOtherErrors(t *testing.T) {
	calls := 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls++
		w.Header().Set("DPoP-Nonce", "fresh")
		writeJSON(w, http.StatusBadRequest, oauthError{Code: "invalid_grant"})
	}))
	defer srv.Close()
	b := newPlainBank(t)
	resp, err := b.doDPoP(t.Context(), testKey(t), dpopRequest{Method: "POST", URL: srv.URL,
		Build: func(ctx context.Context) (*http.Request, error) {
			return http.NewRequestWithContext(ctx, "POST", srv.URL, nil)
		}})
	if err != nil {
		t.Fatal(err)
	}
	if calls != 1 || resp.Status != http.StatusBadRequest || oauthErrorOf(resp).Code != "invalid_grant" {
		t.Errorf("calls = %d, status %d; want one call answered invalid_grant", calls, resp.Status)
	}
	if got := b.nonces.get(srv.URL); got != "fresh" {
		t.Errorf("remembered nonce = %q, want the one the error carried", got)
	}
}

// TestExchangeCodeNonceRetry: the token request's retry carries a new
// client assertion (the first one's jti may have been recorded).
func TestExchangeCodeNonceRetry(t *testing.T) {
	s := &nonceServer{}
	srv := httptest.NewServer(s)
	defer srv.Close()
	b := newPlainBank(t)
	l := &pendingLogin{Verifier: "v", DPoPKey: testKey(t)}
	d := &discovered{meta: providerMetadata{TokenEndpoint: srv.URL + "/oauth/v2/token"}}
	_, err := b.exchangeCode(t.Context(), d, l, "the-code")
	// The fake answers {"ok":"yes"}: not a token response, which is the
	// point where exchangeCode complains.
	if err == nil || !strings.Contains(err.Error(), "no access_token") {
		t.Fatalf("exchangeCode = %v, want the fake's non-token answer refused", err)
	}
	if len(s.forms) != 2 || s.forms[0] == "" || s.forms[0] == s.forms[1] {
		t.Fatalf("client assertions %d, equal %v; want two different ones", len(s.forms), len(s.forms) == 2 && s.forms[0] == s.forms[1])
	}
	if !slices.Contains([]string{"server-nonce-b"}, s.proofs[1].Nonce) {
		t.Errorf("retry nonce = %q", s.proofs[1].Nonce)
	}
}

func TestAuthParam(t *testing.T) {
	tests := []struct {
		name, header, param, want string
	}{
		{"quoted", `DPoP error="use_dpop_nonce", error_description="Resource server requires nonce in DPoP proof"`, "error", "use_dpop_nonce"},
		{"description with comma", `DPoP error_description="a, b", error="use_dpop_nonce"`, "error", "use_dpop_nonce"},
		{"token form", `DPoP error=use_dpop_nonce`, "error", "use_dpop_nonce"},
		{"case-insensitive name", `DPoP ERROR="use_dpop_nonce"`, "error", "use_dpop_nonce"},
		{"escaped quote", `DPoP error_description="say \"hi\"", error="invalid_token"`, "error_description", `say "hi"`},
		{"after algs", `DPoP algs="ES256 PS256", error="use_dpop_nonce"`, "error", "use_dpop_nonce"},
		{"absent", `DPoP algs="ES256"`, "error", ""},
		{"bearer", `Bearer realm="x"`, "error", ""},
		{"empty", ``, "error", ""},
		{"not fooled by a value", `DPoP error_description="error=use_dpop_nonce"`, "error", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := authParam(tt.header, tt.param); got != tt.want {
				t.Errorf("authParam(%q, %q) = %q, want %q", tt.header, tt.param, got, tt.want)
			}
		})
	}
}

func FuzzAuthParam(f *testing.F) {
	for _, s := range []string{`DPoP error="use_dpop_nonce"`, `DPoP a="b\"c", error=x`, `=`, `"`, `a=`, `a="`, `, , ,`, `DPoP error="x\`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		_ = authParam(s, "error") // must terminate without panicking
	})
}
