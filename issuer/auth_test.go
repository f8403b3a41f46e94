package issuer

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/gin-gonic/gin"
)

// paAuthPath is a protected test endpoint on the fixture's router: it
// answers 200 with the token's subject, or the error of authenticate.
const paAuthPath = "/vci/protected"

func (e *paEnv) mountAuthProbe() {
	e.router.Any(paAuthPath, func(c *gin.Context) {
		tok, scheme, err := e.is.authenticate(c)
		if err != nil {
			e.is.writeError(c, err, scheme)
			return
		}
		c.String(http.StatusOK, scheme+" "+tok.Subject)
	})
}

// addTokens registers a bearer token and a DPoP-bound one.
func (e *paEnv) addTokens() {
	e.tokens.mu.Lock()
	defer e.tokens.mu.Unlock()
	e.tokens.tokens["bearer-token"] = &AccessToken{ID: "jti-1", Subject: paSubject, ClientID: "wallet", PersonID: paPerson}
	e.tokens.tokens["dpop-token"] = &AccessToken{ID: "jti-2", Subject: paSubject, ClientID: "wallet", PersonID: paPerson, JKT: "thumbprint-1"}
	e.tokens.tokens["other-token"] = &AccessToken{ID: "jti-3", Subject: paOtherSubject, ClientID: "wallet", PersonID: "person-0002"}
}

func TestAuthenticate(t *testing.T) {
	tests := []struct {
		name     string
		method   string
		target   string
		header   http.Header
		body     string
		noDPoP   bool // no DPoP verifier configured
		status   int
		code     string // "" for success
		scheme   string // of the answer or the challenge
		wantBody string
	}{
		{name: "bearer", header: http.Header{"Authorization": {"Bearer bearer-token"}},
			status: 200, scheme: "Bearer", wantBody: "Bearer " + paSubject},
		{name: "scheme in lower case", header: http.Header{"Authorization": {"bearer bearer-token"}},
			status: 200, scheme: "Bearer", wantBody: "Bearer " + paSubject},
		{name: "dpop", header: http.Header{"Authorization": {"DPoP dpop-token"}, "Dpop": {"proof:thumbprint-1"}},
			status: 200, scheme: "DPoP", wantBody: "DPoP " + paSubject},
		{name: "no Authorization header", status: 401, code: CodeInvalidToken, scheme: "Bearer"},
		{name: "Basic scheme", header: http.Header{"Authorization": {"Basic d2FsbGV0OnNlY3JldA=="}},
			status: 401, code: CodeInvalidToken, scheme: "Bearer"},
		{name: "two Authorization headers", header: http.Header{"Authorization": {"Bearer bearer-token", "Bearer bearer-token"}},
			status: 400, code: CodeInvalidRequest, scheme: "Bearer"},
		{name: "scheme without token", header: http.Header{"Authorization": {"Bearer"}},
			status: 400, code: CodeInvalidRequest, scheme: "Bearer"},
		{name: "token with a space", header: http.Header{"Authorization": {"Bearer bearer-token extra"}},
			status: 400, code: CodeInvalidRequest, scheme: "Bearer"},
		{name: "token with a comma", header: http.Header{"Authorization": {"Bearer a,b"}},
			status: 400, code: CodeInvalidRequest, scheme: "Bearer"},
		{name: "token too long", header: http.Header{"Authorization": {"Bearer " + strings.Repeat("a", maxAccessTokenLen+1)}},
			status: 401, code: CodeInvalidToken, scheme: "Bearer"},
		{name: "token in the query", target: paAuthPath + "?access_token=bearer-token",
			status: 400, code: CodeInvalidRequest, scheme: "Bearer"},
		{name: "token in the query besides the header", target: paAuthPath + "?access_token=bearer-token",
			header: http.Header{"Authorization": {"Bearer bearer-token"}}, status: 400, code: CodeInvalidRequest},
		{name: "token in a form body", method: http.MethodPost, body: "access_token=bearer-token",
			header: http.Header{"Content-Type": {"application/x-www-form-urlencoded"}}, status: 400, code: CodeInvalidRequest},
		{name: "unknown token", header: http.Header{"Authorization": {"Bearer forged-token"}},
			status: 401, code: CodeInvalidToken, scheme: "Bearer"},
		{name: "unbound token with the DPoP scheme", header: http.Header{"Authorization": {"DPoP bearer-token"}, "Dpop": {"proof:thumbprint-1"}},
			status: 401, code: CodeInvalidToken, scheme: "DPoP"},
		{name: "bound token with the Bearer scheme", header: http.Header{"Authorization": {"Bearer dpop-token"}, "Dpop": {"proof:thumbprint-1"}},
			status: 401, code: CodeInvalidToken, scheme: "Bearer"},
		{name: "bound token without a proof", header: http.Header{"Authorization": {"DPoP dpop-token"}},
			status: 401, code: CodeInvalidDPoPProof, scheme: "DPoP"},
		{name: "bound token with two proofs", header: http.Header{"Authorization": {"DPoP dpop-token"}, "Dpop": {"proof:thumbprint-1", "proof:thumbprint-1"}},
			status: 401, code: CodeInvalidDPoPProof, scheme: "DPoP"},
		{name: "invalid proof", header: http.Header{"Authorization": {"DPoP dpop-token"}, "Dpop": {"garbage"}},
			status: 401, code: CodeInvalidDPoPProof, scheme: "DPoP"},
		{name: "proof of another key", header: http.Header{"Authorization": {"DPoP dpop-token"}, "Dpop": {"proof:thumbprint-2"}},
			status: 401, code: CodeInvalidToken, scheme: "DPoP"},
		{name: "bound token and no DPoP verifier", noDPoP: true,
			header: http.Header{"Authorization": {"DPoP dpop-token"}, "Dpop": {"proof:thumbprint-1"}},
			status: 401, code: CodeInvalidToken, scheme: "DPoP"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var opts []paOption
			if tt.noDPoP {
				opts = append(opts, func(c *Config) { c.DPoP = nil })
			}
			e := newPaEnv(t, append(opts, paWithLedger(paNoLedger{}))...)
			e.mountAuthProbe()
			e.addTokens()
			method, target := tt.method, tt.target
			if method == "" {
				method = http.MethodGet
			}
			if target == "" {
				target = paAuthPath
			}
			var body []byte
			if tt.body != "" {
				body = []byte(tt.body)
			}
			w := e.do(method, target, body, tt.header)
			if tt.code == "" {
				if w.Code != tt.status || w.Body.String() != tt.wantBody {
					t.Errorf("authenticate = %d %q, want %d %q", w.Code, w.Body.String(), tt.status, tt.wantBody)
				}
				return
			}
			paWantError(t, w, tt.status, tt.code)
			if tt.status == http.StatusUnauthorized {
				challenge := w.Header().Get("WWW-Authenticate")
				if !strings.HasPrefix(challenge, tt.scheme+" ") || !strings.Contains(challenge, `error="`+tt.code+`"`) {
					t.Errorf("WWW-Authenticate = %q, want a %s challenge with error %q", challenge, tt.scheme, tt.code)
				}
			}
		})
	}
}

func TestAuthenticateDPoPRequest(t *testing.T) {
	// The proof is checked against the issuer's public URL, whatever Host
	// the request came with, and the method and token of the request.
	e := newPaEnv(t, paWithLedger(paNoLedger{}))
	e.mountAuthProbe()
	e.addTokens()
	r := httptest.NewRequest(http.MethodPost, "http://internal.local:8080"+paAuthPath+"?x=1", strings.NewReader("{}"))
	r.Host = "evil.example"
	r.Header.Set("X-Forwarded-Host", "evil.example")
	r.Header.Set("Authorization", "DPoP dpop-token")
	r.Header.Set("DPoP", "proof:thumbprint-1")
	w := httptest.NewRecorder()
	e.router.ServeHTTP(w, r)
	if w.Code != http.StatusOK {
		t.Fatalf("authenticate = %d %s, want 200", w.Code, w.Body.String())
	}
	call, ok := e.dpop.lastCall()
	want := paDPoPCall{proof: "proof:thumbprint-1", method: http.MethodPost, url: "https://issuer.example.org" + paAuthPath, accessToken: "dpop-token"}
	if !ok || call != want {
		t.Errorf("DPoP verifier called with %+v, want %+v", call, want)
	}
}

func TestAuthenticatePassesVerifierErrors(t *testing.T) {
	// An *Error of the verifiers is kept (a storage failure stays a 500);
	// anything else is invalid_token or invalid_dpop_proof.
	tests := []struct {
		name     string
		tokenErr error
		dpopErr  error
		header   http.Header
		status   int
		code     string
	}{
		{"token verifier *Error", errServer(errors.New("state down")), nil,
			http.Header{"Authorization": {"Bearer bearer-token"}}, 500, CodeServerError},
		{"token verifier other error", errors.New("expired"), nil,
			http.Header{"Authorization": {"Bearer bearer-token"}}, 401, CodeInvalidToken},
		{"DPoP verifier *Error", nil, errServer(errors.New("replay cache down")),
			http.Header{"Authorization": {"DPoP dpop-token"}, "Dpop": {"proof:thumbprint-1"}}, 500, CodeServerError},
		{"DPoP verifier other error", nil, errors.New("replayed"),
			http.Header{"Authorization": {"DPoP dpop-token"}, "Dpop": {"proof:thumbprint-1"}}, 401, CodeInvalidDPoPProof},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newPaEnv(t, paWithLedger(paNoLedger{}))
			e.mountAuthProbe()
			e.addTokens()
			e.tokens.err, e.dpop.err = tt.tokenErr, tt.dpopErr
			m := paWantError(t, e.do(http.MethodGet, paAuthPath, nil, tt.header), tt.status, tt.code)
			for _, leak := range []string{"state down", "replay cache down", "expired", "replayed"} {
				if desc, _ := m["error_description"].(string); strings.Contains(desc, leak) {
					t.Errorf("error_description %q holds the cause %q", desc, leak)
				}
			}
		})
	}
}

func TestIsB64Token(t *testing.T) {
	tests := []struct {
		in   string
		want bool
	}{
		{"abc", true}, {"eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJ4In0.sig-_~+/", true}, {"YWJj==", true},
		{"", false}, {"=", false}, {"a=b", false}, {"a b", false}, {"a,b", false}, {"ä", false}, {"a\x00", false},
	}
	for _, tt := range tests {
		if got := isB64Token(tt.in); got != tt.want {
			t.Errorf("isB64Token(%q) = %v, want %v", tt.in, got, tt.want)
		}
	}
}

func FuzzParseAuthorization(f *testing.F) {
	for _, s := range []string{
		"Bearer abc", "DPoP eyJ.eyJ.sig", "bearer  abc", "Basic xyz", "Bearer", "Bearer ", "Bearer a b",
		"DPoP a,b", "Bearer YWJj==", "Bearer =", "Bearer\tabc", "", "Bearer ä",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, header string) {
		scheme, token, err := parseAuthorization([]string{header})
		if scheme != SchemeBearer && scheme != SchemeDPoP {
			t.Fatalf("parseAuthorization(%q) scheme = %q", header, scheme)
		}
		if err != nil {
			var e *Error
			if !errors.As(err, &e) || (e.Code != CodeInvalidToken && e.Code != CodeInvalidRequest) {
				t.Fatalf("parseAuthorization(%q) = %v, want invalid_token or invalid_request", header, err)
			}
			return
		}
		if token == "" || len(token) > maxAccessTokenLen || strings.ContainsAny(token, " \t,\"\\") || !strings.HasSuffix(header, token) {
			t.Fatalf("parseAuthorization(%q) token = %q", header, token)
		}
	})
}
