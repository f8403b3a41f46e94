package oidc

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/lestrrat-go/jwx/v3/jwk"
	"github.com/lestrrat-go/jwx/v3/jws"

	"github.com/sanad-id/sanad/idrepo/authn"
	"github.com/sanad-id/sanad/keys"
	"github.com/sanad-id/sanad/storage"
	"github.com/sanad-id/sanad/storage/memory"
	"github.com/sanad-id/sanad/storage/storagetest"
)

// Helpers of the token, userinfo, introspection, revocation, discovery and
// consent API tests: a Provider on real storage (SQLite for clients,
// consents and keys, memory for State) with a real key service, whose
// endpoints are driven with authorization codes put straight into State.

const (
	tkRedirect = "https://rp.example/cb"
	tkPerson   = "person-7f3a"
	tkSubject  = "pairwise-subject-91c2"
	tkUIN      = "4917253068"
	tkVerifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk-long-enough"
)

// tkClock is a settable clock shared by every component of an env.
type tkClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *tkClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *tkClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// tkNoAuthn is an authenticator the token tests never reach.
type tkNoAuthn struct{}

func (tkNoAuthn) SendOTP(context.Context, authn.SendOTPRequest) (authn.SendOTPResult, error) {
	return authn.SendOTPResult{}, errors.New("not in these tests")
}

func (tkNoAuthn) Authenticate(context.Context, authn.AuthRequest) (authn.Result, error) {
	return authn.Result{}, errors.New("not in these tests")
}

// tkEnv is a provider under test.
type tkEnv struct {
	t      *testing.T
	p      *Provider
	h      http.Handler
	clock  *tkClock
	state  storage.State
	db     storage.Durable
	keys   *keys.Service
	sealer *keys.Secrets
	reg    *ClientRegistry
	jwks   jwk.Set
}

// tkAllAlgs are the algorithms of the default oidc-signing key set.
var tkAllAlgs = []string{keys.AlgRS256, keys.AlgES256, keys.AlgPS256, keys.AlgEdDSA}

// tkNewEnv starts a provider with testIssuer and every signing algorithm;
// opts adjust its Config.
func tkNewEnv(t *testing.T, opts ...func(*Config)) *tkEnv {
	t.Helper()
	return tkNewEnvAlgs(t, tkAllAlgs, opts...)
}

// tkNewEnvAlgs is tkNewEnv with an oidc-signing key set of algs.
func tkNewEnvAlgs(t *testing.T, algs []string, opts ...func(*Config)) *tkEnv {
	t.Helper()
	ctx := t.Context()
	clock := &tkClock{t: testNow}
	db := storagetest.OpenSQLite(t)
	st := memory.New(memory.Config{Now: clock.Now})
	t.Cleanup(func() { st.Close() })
	mk, err := keys.GenerateMasterKey()
	if err != nil {
		t.Fatal(err)
	}
	backend, err := keys.NewSoftwareBackend(mk)
	if err != nil {
		t.Fatal(err)
	}
	logger := slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelDebug}))
	ks, err := keys.New(ctx, keys.Config{Store: db, Backend: backend, Now: clock.Now, Logger: logger,
		Sets: []keys.SetConfig{{Purpose: keys.PurposeOIDCSigning, Use: keys.UseSig,
			Algs: algs, PublishFor: 24 * time.Hour},
			{Purpose: keys.PurposeOIDCEncryption, Use: keys.UseEnc, Algs: []string{keys.AlgECDHES}, PublishFor: 24 * time.Hour}}})
	if err != nil {
		t.Fatal(err)
	}
	sec, err := keys.NewSecrets(ctx, keys.SecretsConfig{Store: db, Backend: backend, Now: clock.Now, Logger: logger,
		Purposes: []keys.SecretPurpose{{Purpose: keys.PurposePIIEncryption, Use: keys.UseWrap}}})
	if err != nil {
		t.Fatal(err)
	}
	cfg := Config{Issuer: testIssuer, Clients: db, Consents: db, State: st, Keys: ks, Sealer: sec,
		Authn: tkNoAuthn{}, Now: clock.Now, Logger: logger,
		CredentialIssuer: "https://issuer.example.org", CredentialScopes: []string{"national_id_vc"}}
	for _, o := range opts {
		o(&cfg)
	}
	p, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	gin.SetMode(gin.TestMode)
	e := gin.New()
	p.registerDiscovery(e)
	e.POST(PathToken, p.handleToken)
	e.GET(PathUserinfo, p.handleUserinfo)
	e.POST(PathUserinfo, p.handleUserinfo)
	e.POST(PathIntrospect, p.handleIntrospect)
	e.POST(PathRevoke, p.handleRevoke)
	p.registerConsentAPI(e)

	rec := httptest.NewRecorder()
	ks.JWKSHandler(keys.PurposeOIDCSigning).ServeHTTP(rec, httptest.NewRequest(http.MethodGet, PathJWKS, nil))
	set, err := jwk.Parse(rec.Body.Bytes())
	if err != nil {
		t.Fatalf("parse JWKS: %v", err)
	}
	return &tkEnv{t: t, p: p, h: e, clock: clock, state: st, db: db, keys: ks, sealer: sec,
		reg: NewClientRegistry(db, clock.Now), jwks: set}
}

// tkClient is a registered client and its private key.
type tkClient struct {
	id  string
	alg string // of its client assertions
	key crypto.Signer
	kid string
}

// tkKey generates a private key for alg.
func tkKey(t testing.TB, alg string) crypto.Signer {
	t.Helper()
	var k crypto.Signer
	var err error
	switch alg {
	case "RS256", "PS256":
		k, err = rsa.GenerateKey(rand.Reader, 2048)
	case "EdDSA":
		_, k, err = ed25519.GenerateKey(rand.Reader)
	default:
		k, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	}
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// register registers a client with a key for alg (a fresh one when key is
// nil) and additionalConfig (a JSON object or "").
func (e *tkEnv) register(id, alg string, key crypto.Signer, additionalConfig string) *tkClient {
	e.t.Helper()
	if key == nil {
		key = tkKey(e.t, alg)
	}
	kid := "kid-" + id
	pub := mustJSON(e.t, publicJWK(e.t, key, kid))
	q := ClientRegistration{
		ClientID:          id,
		ClientName:        "RP " + id,
		PublicKey:         pub,
		RelyingPartyID:    "rp-" + id,
		UserClaims:        []string{"name", "email", "gender", "birthdate"},
		AuthContextRefs:   []string{"mosip:idp:acr:generated-code"},
		LogoURI:           "https://rp.example/" + id + ".png",
		RedirectURIs:      []string{tkRedirect},
		GrantTypes:        []string{"authorization_code"},
		ClientAuthMethods: []string{"private_key_jwt"},
	}
	if additionalConfig != "" {
		q.AdditionalConfig = json.RawMessage(additionalConfig)
	}
	if _, err := e.reg.Create(e.t.Context(), q); err != nil {
		e.t.Fatalf("register %s: %v", id, err)
	}
	return &tkClient{id: id, alg: alg, key: key, kid: kid}
}

// assertionClaims are valid client assertion claims for aud.
func (e *tkEnv) assertionClaims(cl *tkClient, aud string) map[string]any {
	now := e.clock.Now()
	return map[string]any{"iss": cl.id, "sub": cl.id, "aud": aud, "jti": rand.Text(),
		"iat": now.Unix(), "exp": now.Add(time.Minute).Unix()}
}

// assertion signs claims as cl.
func (e *tkEnv) assertion(cl *tkClient, claims map[string]any) string {
	e.t.Helper()
	return signJWS(e.t, cl.alg, cl.key, map[string]any{"kid": cl.kid, "typ": "JWT"}, claims)
}

// authForm returns the client authentication parameters of cl for the
// endpoint path.
func (e *tkEnv) authForm(cl *tkClient, path string) url.Values {
	return url.Values{
		"client_id":             {cl.id},
		"client_assertion_type": {ClientAssertionType},
		"client_assertion":      {e.assertion(cl, e.assertionClaims(cl, testIssuer+path))},
	}
}

// grant returns a code grant for cl with every field set.
func (e *tkEnv) grant(cl *tkClient) *codeGrant {
	e.t.Helper()
	values := map[string]any{
		"name": "Amina Diallo", "name#fr": "Amina Diallo (fr)", "name#ar": "أمينة ديالو",
		"email": "amina@example.org", "gender": "Female",
	}
	sealed, err := seal(e.t.Context(), e.sealer, values, cl.id)
	if err != nil {
		e.t.Fatal(err)
	}
	now := e.clock.Now()
	return &codeGrant{
		ClientID:            cl.id,
		RedirectURI:         tkRedirect,
		CodeChallenge:       S256Challenge(tkVerifier),
		CodeChallengeMethod: PKCEMethodS256,
		Nonce:               "nonce-xyz",
		Scopes:              []string{"openid", "profile", "email"},
		AcceptedClaims:      []string{"name", "email"},
		IDTokenClaims:       []string{"name"},
		ClaimsLocales:       []string{"fr", "ar"},
		PersonID:            tkPerson,
		Subject:             tkSubject,
		AuthTime:            now.Add(-time.Minute).Unix(),
		ACR:                 "mosip:idp:acr:generated-code",
		AMR:                 []string{"otp"},
		SID:                 "sid-1",
		Claims:              sealed,
		IssuedAt:            now.Unix(),
	}
}

// putCode stores g under a new code and returns the code.
func (e *tkEnv) putCode(g *codeGrant) string {
	e.t.Helper()
	code := randomToken(32)
	if err := putJSON(e.t.Context(), e.state, stateKey("code", code), g, e.p.cfg.CodeTTL); err != nil {
		e.t.Fatal(err)
	}
	return code
}

// do sends a request to the provider.
func (e *tkEnv) do(r *http.Request) *httptest.ResponseRecorder {
	w := httptest.NewRecorder()
	e.h.ServeHTTP(w, r)
	return w
}

// postForm posts form to path with extra headers.
func (e *tkEnv) postForm(path string, form url.Values, header http.Header) *httptest.ResponseRecorder {
	r := httptest.NewRequest(http.MethodPost, testIssuer+path, strings.NewReader(form.Encode()))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for k, vs := range header {
		for _, v := range vs {
			r.Header.Add(k, v)
		}
	}
	return e.do(r)
}

// tokenForm is a complete token request of cl for code.
func (e *tkEnv) tokenForm(cl *tkClient, code string) url.Values {
	f := e.authForm(cl, PathToken)
	f.Set("grant_type", "authorization_code")
	f.Set("code", code)
	f.Set("redirect_uri", tkRedirect)
	f.Set("code_verifier", tkVerifier)
	return f
}

// tkTokenResponse is a decoded token response.
type tkTokenResponse struct {
	AccessToken          string          `json:"access_token"`
	TokenType            string          `json:"token_type"`
	ExpiresIn            int64           `json:"expires_in"`
	IDToken              string          `json:"id_token"`
	Scope                string          `json:"scope"`
	AuthorizationDetails json.RawMessage `json:"authorization_details"`
	Error                string          `json:"error"`
	ErrorDescription     string          `json:"error_description"`
}

func tkDecode[T any](t testing.TB, w *httptest.ResponseRecorder) T {
	t.Helper()
	var v T
	if err := json.Unmarshal(w.Body.Bytes(), &v); err != nil {
		t.Fatalf("decode %s: %v", w.Body, err)
	}
	return v
}

// exchange redeems a fresh code of g for cl and fails t unless it works.
func (e *tkEnv) exchange(cl *tkClient, g *codeGrant, header http.Header) tkTokenResponse {
	e.t.Helper()
	w := e.postForm(PathToken, e.tokenForm(cl, e.putCode(g)), header)
	if w.Code != http.StatusOK {
		e.t.Fatalf("token request = %d %s, want 200", w.Code, w.Body)
	}
	return tkDecode[tkTokenResponse](e.t, w)
}

// proof is a DPoP proof of key (ES256 for ECDSA keys) for method and URL,
// with ath for accessToken and nonce when set.
func (e *tkEnv) proof(key crypto.Signer, method, u, accessToken, nonce string) string {
	e.t.Helper()
	c := map[string]any{"jti": rand.Text(), "htm": method, "htu": u, "iat": e.clock.Now().Unix()}
	if accessToken != "" {
		sum := sha256.Sum256([]byte(accessToken))
		c["ath"] = b64(sum[:])
	}
	if nonce != "" {
		c["nonce"] = nonce
	}
	alg := "ES256"
	switch key.(type) {
	case *rsa.PrivateKey:
		alg = "PS256"
	case ed25519.PrivateKey:
		alg = "EdDSA"
	}
	return signJWS(e.t, alg, key, dpopHeader(e.t, key), c)
}

// thumbprint is the RFC 7638 thumbprint of key's public part.
func thumbprint(t testing.TB, key crypto.Signer) string {
	t.Helper()
	tp, err := publicJWK(t, key, "").Thumbprint(crypto.SHA256)
	if err != nil {
		t.Fatal(err)
	}
	return b64(tp)
}

// resource sends a request with an access token to a protected resource.
func (e *tkEnv) resource(method, path, scheme, token, proof string, header http.Header) *httptest.ResponseRecorder {
	r := httptest.NewRequest(method, testIssuer+path, nil)
	if token != "" {
		r.Header.Set("Authorization", scheme+" "+token)
	}
	if proof != "" {
		r.Header.Set("DPoP", proof)
	}
	for k, vs := range header {
		for _, v := range vs {
			r.Header.Add(k, v)
		}
	}
	return e.do(r)
}

// verifyJWT verifies a JWT signed by the provider with the published JWKS
// (jwx, independently of the key service) and returns its protected
// header and claims.
func (e *tkEnv) verifyJWT(tok string) (map[string]any, map[string]any) {
	e.t.Helper()
	payload, err := jws.Verify([]byte(tok), jws.WithKeySet(e.jwks, jws.WithRequireKid(true)))
	if err != nil {
		e.t.Fatalf("verify %q with the JWKS: %v", tok, err)
	}
	msg, err := jws.Parse([]byte(tok))
	if err != nil {
		e.t.Fatal(err)
	}
	hb, err := json.Marshal(msg.Signatures()[0].ProtectedHeaders())
	if err != nil {
		e.t.Fatal(err)
	}
	var header, claims map[string]any
	if err := json.Unmarshal(hb, &header); err != nil {
		e.t.Fatal(err)
	}
	if err := json.Unmarshal(payload, &claims); err != nil {
		e.t.Fatal(err)
	}
	return header, claims
}

// atHash computes at_hash independently: SHA-256, or SHA-512 for EdDSA.
func atHash(alg, token string) string {
	if alg == "EdDSA" {
		sum := sha512.Sum512([]byte(token))
		return b64(sum[:32])
	}
	sum := sha256.Sum256([]byte(token))
	return b64(sum[:16])
}

// errorOf returns the error code of an OAuth JSON error response.
func errorOf(w *httptest.ResponseRecorder) string {
	var body struct {
		Error string `json:"error"`
	}
	_ = json.Unmarshal(w.Body.Bytes(), &body)
	return body.Error
}

// httptestGet is a GET request to the provider.
func httptestGet(path string) *http.Request {
	return httptest.NewRequest(http.MethodGet, testIssuer+path, nil)
}
