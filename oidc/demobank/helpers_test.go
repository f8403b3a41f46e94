package demobank

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/lestrrat-go/jwx/v3/jwa"
	"github.com/lestrrat-go/jwx/v3/jwk"
	"github.com/lestrrat-go/jwx/v3/jws"
)

// fakeOP is a small OpenID provider for the bank's tests: discovery, JWKS,
// PAR, an authorize endpoint that approves at once, token and userinfo.
// It checks what the bank sends (client assertions, PKCE, DPoP proofs and
// their binding) just enough to catch a broken client; the real provider's
// end-to-end test does the rest.
type fakeOP struct {
	t         *testing.T
	srv       *httptest.Server
	issuer    string
	key       jwk.Key // the provider's signing key (ES256)
	clientID  string
	clientPub jwk.Key

	mu sync.Mutex
	// Options, set by tests before a login.
	issParamSupported bool
	sendIss           bool
	requireNonce      bool   // token and userinfo ask for a DPoP nonce
	nonce             string // the current DPoP nonce
	userinfoJSON      bool   // plain JSON userinfo
	userinfoSub       string // "" for the ID token's
	idTokenNonce      string // overrides the nonce in the ID token
	deny              string // authorize answers this error
	// down makes every endpoint answer 503 (a provider still starting).
	down     atomic.Bool
	downHits atomic.Int32
	// Recorded.
	par          map[string]url.Values // request_uri → pushed parameters
	codes        map[string]url.Values // code → pushed parameters
	tokenCalls   int
	infoCalls    int
	assertionIDs []string
	parForms     []url.Values
}

func newFakeOP(t *testing.T, clientID string, clientPub jwk.Key) *fakeOP {
	t.Helper()
	key, err := newES256Key()
	if err != nil {
		t.Fatal(err)
	}
	if err := setKeyMeta(key); err != nil {
		t.Fatal(err)
	}
	op := &fakeOP{t: t, key: key, clientID: clientID, clientPub: clientPub,
		issParamSupported: true, sendIss: true, nonce: "nonce-1",
		par: map[string]url.Values{}, codes: map[string]url.Values{}}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /.well-known/openid-configuration", op.discovery)
	mux.HandleFunc("GET /jwks", op.jwks)
	mux.HandleFunc("POST /par", op.handlePAR)
	mux.HandleFunc("GET /authorize", op.authorize)
	mux.HandleFunc("POST /token", op.token)
	mux.HandleFunc("GET /userinfo", op.userinfo)
	op.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if op.down.Load() {
			op.downHits.Add(1)
			http.Error(w, "starting", http.StatusServiceUnavailable)
			return
		}
		mux.ServeHTTP(w, r)
	}))
	t.Cleanup(op.srv.Close)
	op.issuer = op.srv.URL
	return op
}

func (op *fakeOP) set(f func(op *fakeOP)) {
	op.mu.Lock()
	defer op.mu.Unlock()
	f(op)
}

func (op *fakeOP) discovery(w http.ResponseWriter, r *http.Request) {
	op.mu.Lock()
	iss := op.issParamSupported
	op.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]any{
		"issuer":                                         op.issuer,
		"authorization_endpoint":                         op.issuer + "/authorize",
		"token_endpoint":                                 op.issuer + "/token",
		"userinfo_endpoint":                              op.issuer + "/userinfo",
		"jwks_uri":                                       op.issuer + "/jwks",
		"pushed_authorization_request_endpoint":          op.issuer + "/par",
		"id_token_signing_alg_values_supported":          []string{"ES256", "RS256"},
		"userinfo_signing_alg_values_supported":          []string{"ES256"},
		"token_endpoint_auth_methods_supported":          []string{"private_key_jwt"},
		"code_challenge_methods_supported":               []string{"S256"},
		"dpop_signing_alg_values_supported":              []string{"ES256", "PS256"},
		"authorization_response_iss_parameter_supported": iss,
		"response_types_supported":                       []string{"code"},
		"subject_types_supported":                        []string{"pairwise"},
	})
}

func (op *fakeOP) jwks(w http.ResponseWriter, r *http.Request) {
	pub, _ := op.key.PublicKey()
	writeJSON(w, http.StatusOK, map[string]any{"keys": []any{pub}})
}

// checkAssertion verifies a private_key_jwt assertion as the provider does.
func (op *fakeOP) checkAssertion(form url.Values) error {
	if form.Get("client_assertion_type") != clientAssertionType {
		return fmt.Errorf("client_assertion_type %q", form.Get("client_assertion_type"))
	}
	payload, err := jws.Verify([]byte(form.Get("client_assertion")), jws.WithKey(jwa.ES256(), op.clientPub))
	if err != nil {
		return err
	}
	var c assertionClaims
	if err := json.Unmarshal(payload, &c); err != nil {
		return err
	}
	if c.Iss != op.clientID || c.Sub != op.clientID || c.Aud != op.issuer || c.Jti == "" || c.Exp-c.Iat != 60 {
		return fmt.Errorf("assertion claims %+v", c)
	}
	op.assertionIDs = append(op.assertionIDs, c.Jti)
	return nil
}

// checkProof verifies a DPoP proof and returns its claims and the
// thumbprint of its key.
func (op *fakeOP) checkProof(r *http.Request, accessToken string) (dpopClaims, string, error) {
	var c dpopClaims
	proof := r.Header.Get("DPoP")
	msg, err := jws.Parse([]byte(proof))
	if err != nil {
		return c, "", err
	}
	h := msg.Signatures()[0].ProtectedHeaders()
	key, ok := h.JWK()
	if !ok {
		return c, "", fmt.Errorf("no jwk header")
	}
	if typ, _ := h.Type(); typ != "dpop+jwt" {
		return c, "", fmt.Errorf("typ %q", typ)
	}
	payload, err := jws.Verify([]byte(proof), jws.WithKey(jwa.ES256(), key))
	if err != nil {
		return c, "", err
	}
	if err := json.Unmarshal(payload, &c); err != nil {
		return c, "", err
	}
	if c.Htm != r.Method || c.Htu != op.issuer+r.URL.Path {
		return c, "", fmt.Errorf("htm/htu %s %s", c.Htm, c.Htu)
	}
	if accessToken != "" && c.Ath != accessTokenHash(accessToken) {
		return c, "", fmt.Errorf("ath")
	}
	tp, err := thumbprint(key)
	return c, tp, err
}

func (op *fakeOP) handlePAR(w http.ResponseWriter, r *http.Request) {
	op.mu.Lock()
	defer op.mu.Unlock()
	if err := r.ParseForm(); err != nil {
		writeJSON(w, http.StatusBadRequest, oauthError{Code: "invalid_request"})
		return
	}
	op.parForms = append(op.parForms, r.PostForm)
	if err := op.checkAssertion(r.PostForm); err != nil {
		op.t.Logf("fake PAR: %v", err)
		writeJSON(w, http.StatusUnauthorized, oauthError{Code: "invalid_client"})
		return
	}
	uri := "urn:ietf:params:oauth:request_uri:" + randomOrFail(op.t)
	op.par[uri] = r.PostForm
	writeJSON(w, http.StatusCreated, parResponse{RequestURI: uri, ExpiresIn: 60})
}

func (op *fakeOP) authorize(w http.ResponseWriter, r *http.Request) {
	op.mu.Lock()
	defer op.mu.Unlock()
	q := r.URL.Query()
	p, ok := op.par[q.Get("request_uri")]
	if !ok || q.Get("client_id") != op.clientID || len(q) != 2 {
		http.Error(w, "bad request_uri", http.StatusBadRequest)
		return
	}
	delete(op.par, q.Get("request_uri"))
	resp := url.Values{"state": {p.Get("state")}}
	if op.sendIss {
		resp.Set("iss", op.issuer)
	}
	if op.deny != "" {
		resp.Set("error", op.deny)
		resp.Set("error_description", "The resident cancelled <b>the login</b>")
	} else {
		code := randomOrFail(op.t)
		op.codes[code] = p
		resp.Set("code", code)
	}
	http.Redirect(w, r, p.Get("redirect_uri")+"?"+resp.Encode(), http.StatusFound)
}

func (op *fakeOP) askNonce(w http.ResponseWriter, status int) {
	op.nonce = "nonce-" + randomOrFail(op.t)[:8]
	w.Header().Set("DPoP-Nonce", op.nonce)
	if status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `DPoP error="use_dpop_nonce", error_description="Resource server requires nonce in DPoP proof"`)
		w.WriteHeader(status)
		return
	}
	writeJSON(w, status, oauthError{Code: "use_dpop_nonce", Description: "Authorization server requires nonce in DPoP proof"})
}

func (op *fakeOP) token(w http.ResponseWriter, r *http.Request) {
	op.mu.Lock()
	defer op.mu.Unlock()
	op.tokenCalls++
	if err := r.ParseForm(); err != nil {
		writeJSON(w, http.StatusBadRequest, oauthError{Code: "invalid_request"})
		return
	}
	proof, jkt, err := op.checkProof(r, "")
	if err != nil {
		op.t.Logf("fake token: DPoP: %v", err)
		writeJSON(w, http.StatusBadRequest, oauthError{Code: "invalid_dpop_proof"})
		return
	}
	if op.requireNonce && proof.Nonce != op.nonce {
		op.askNonce(w, http.StatusBadRequest)
		return
	}
	if err := op.checkAssertion(r.PostForm); err != nil {
		op.t.Logf("fake token: %v", err)
		writeJSON(w, http.StatusUnauthorized, oauthError{Code: "invalid_client"})
		return
	}
	p, ok := op.codes[r.PostForm.Get("code")]
	if !ok || r.PostForm.Get("redirect_uri") != p.Get("redirect_uri") {
		writeJSON(w, http.StatusBadRequest, oauthError{Code: "invalid_grant"})
		return
	}
	delete(op.codes, r.PostForm.Get("code"))
	if pkceChallenge(r.PostForm.Get("code_verifier")) != p.Get("code_challenge") || p.Get("code_challenge_method") != "S256" {
		writeJSON(w, http.StatusBadRequest, oauthError{Code: "invalid_grant", Description: "PKCE"})
		return
	}
	if jkt != p.Get("dpop_jkt") {
		writeJSON(w, http.StatusBadRequest, oauthError{Code: "invalid_dpop_proof", Description: "dpop_jkt"})
		return
	}
	at := "at-" + randomOrFail(op.t)
	sum := sha256.Sum256([]byte(at))
	acr := p.Get("acr_values")
	if acr == "" {
		acr = acrPIN
	}
	nonce := p.Get("nonce")
	if op.idTokenNonce != "" {
		nonce = op.idTokenNonce
	}
	now := time.Now()
	idt := op.sign(map[string]any{
		"iss": op.issuer, "sub": "pairwise-sub-1", "aud": op.clientID,
		"iat": now.Unix(), "exp": now.Add(time.Hour).Unix(), "auth_time": now.Unix() - 5,
		"nonce": nonce, "acr": acr, "amr": []string{"pin"},
		"at_hash": base64.RawURLEncoding.EncodeToString(sum[:16]),
	})
	op.codes["at:"+at] = p
	writeJSON(w, http.StatusOK, tokenResponse{AccessToken: at, TokenType: "DPoP", IDToken: idt, ExpiresIn: 3600})
}

func (op *fakeOP) userinfo(w http.ResponseWriter, r *http.Request) {
	op.mu.Lock()
	defer op.mu.Unlock()
	op.infoCalls++
	at, ok := strings.CutPrefix(r.Header.Get("Authorization"), "DPoP ")
	if _, known := op.codes["at:"+at]; !ok || !known {
		w.Header().Set("WWW-Authenticate", `DPoP error="invalid_token"`)
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	proof, _, err := op.checkProof(r, at)
	if err != nil {
		op.t.Logf("fake userinfo: DPoP: %v", err)
		w.Header().Set("WWW-Authenticate", `DPoP error="invalid_dpop_proof"`)
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	if op.requireNonce && proof.Nonce != op.nonce {
		op.askNonce(w, http.StatusUnauthorized)
		return
	}
	sub := op.userinfoSub
	if sub == "" {
		sub = "pairwise-sub-1"
	}
	claims := map[string]any{
		"iss": op.issuer, "aud": op.clientID, "sub": sub,
		"name": "Amina Diallo", "name#eng": "Amina Diallo", "name#fra": "Amina Diallo", "name#ara": "أمينة ديالو",
		"birthdate": "1990-04-12", "email": "amina@example.org",
		"address": map[string]any{"street_address": "12 Rue des Palmiers", "locality": "Dakar", "postal_code": "10000"},
		"picture": "data:image/png;base64,iVBORw0KGgo=",
	}
	if op.userinfoJSON {
		writeJSON(w, http.StatusOK, claims)
		return
	}
	w.Header().Set("Content-Type", "application/jwt")
	_, _ = io.WriteString(w, op.sign(claims))
}

func (op *fakeOP) sign(claims map[string]any) string {
	payload, err := json.Marshal(claims)
	if err != nil {
		op.t.Fatal(err)
	}
	h := jws.NewHeaders()
	_ = h.Set(jws.TypeKey, "JWT")
	out, err := jws.Sign(payload, jws.WithKey(jwa.ES256(), op.key, jws.WithProtectedHeaders(h)))
	if err != nil {
		op.t.Fatal(err)
	}
	return string(out)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func randomOrFail(t *testing.T) string {
	s, err := randomString(16)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// clock is a settable clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// testBank is a Bank served at /demo/bank of an httptest server, with a
// fake provider beside it and a browser (a client with a cookie jar that
// does not follow redirects by itself).
type testBank struct {
	*Bank
	op      *fakeOP
	srv     *httptest.Server
	base    string
	clock   *clock
	browser *http.Client
}

func newTestBank(t *testing.T) *testBank {
	t.Helper()
	key, err := newES256Key()
	if err != nil {
		t.Fatal(err)
	}
	if err := setKeyMeta(key); err != nil {
		t.Fatal(err)
	}
	pub, err := key.PublicKey()
	if err != nil {
		t.Fatal(err)
	}
	op := newFakeOP(t, "demo-bank", pub)
	var h http.Handler
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { h.ServeHTTP(w, r) }))
	t.Cleanup(srv.Close)
	clk := &clock{t: time.Now()}
	b, err := New(t.Context(), Config{
		Issuer:     op.issuer,
		ClientID:   "demo-bank",
		SigningKey: key,
		BaseURL:    srv.URL + "/demo/bank",
		Logger:     slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelDebug})),
		Now:        clk.Now,
	})
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("/demo/bank/", b.Handler())
	mux.Handle("/demo/bank", b.Handler())
	h = mux
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	browser := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	return &testBank{Bank: b, op: op, srv: srv, base: srv.URL + "/demo/bank", clock: clk, browser: browser}
}

type page struct {
	status   int
	location string
	body     string
	header   http.Header
}

func (tb *testBank) get(t *testing.T, u string) page {
	t.Helper()
	resp, err := tb.browser.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	return readPage(t, resp)
}

func (tb *testBank) post(t *testing.T, u string, form url.Values) page {
	t.Helper()
	resp, err := tb.browser.PostForm(u, form)
	if err != nil {
		t.Fatal(err)
	}
	return readPage(t, resp)
}

func readPage(t *testing.T, resp *http.Response) page {
	t.Helper()
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	loc := resp.Header.Get("Location")
	if loc != "" {
		u, err := resp.Request.URL.Parse(loc)
		if err != nil {
			t.Fatal(err)
		}
		loc = u.String()
	}
	return page{status: resp.StatusCode, location: loc, body: string(b), header: resp.Header}
}

var csrfField = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// startLogin loads the home page and submits the login form; it returns
// the provider's authorization URL the bank redirected to.
func (tb *testBank) startLogin(t *testing.T, acr, lang string) string {
	t.Helper()
	home := tb.get(t, tb.base+"/")
	m := csrfField.FindStringSubmatch(home.body)
	if home.status != http.StatusOK || m == nil {
		t.Fatalf("home: status %d, no csrf field", home.status)
	}
	p := tb.post(t, tb.base+"/login", url.Values{"csrf": {m[1]}, "acr": {acr}, "lang": {lang}})
	if p.status != http.StatusSeeOther || !strings.HasPrefix(p.location, tb.op.issuer+"/authorize?") {
		t.Fatalf("POST /login = %d %q, want 303 to the authorization endpoint\n%s", p.status, p.location, p.body)
	}
	return p.location
}

// authorize has the fake provider approve and returns the callback URL.
func (tb *testBank) authorize(t *testing.T, authURL string) string {
	t.Helper()
	p := tb.get(t, authURL)
	if p.status != http.StatusFound || !strings.HasPrefix(p.location, tb.base+"/callback?") {
		t.Fatalf("authorize = %d %q, want a redirect to the callback", p.status, p.location)
	}
	return p.location
}

// withQuery returns u with its query parameter name set to value (deleted
// for "").
func withQuery(t *testing.T, u, name, value string) string {
	t.Helper()
	x, err := url.Parse(u)
	if err != nil {
		t.Fatal(err)
	}
	q := x.Query()
	if value == "" {
		q.Del(name)
	} else {
		q.Set(name, value)
	}
	x.RawQuery = q.Encode()
	return x.String()
}
