package issuer

// Fixtures of the nonce and credential endpoint tests: an Issuer wired to
// fakes (token verifier, identity data, ledger, formats) and in-memory
// State and signer. Names start with "cr" so they cannot collide with the
// fixtures of the issuer's other test files.

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/lestrrat-go/jwx/v3/jwa"
	"github.com/lestrrat-go/jwx/v3/jwk"
	"github.com/lestrrat-go/jwx/v3/jws"

	"github.com/sanad-id/sanad/credential"
	"github.com/sanad-id/sanad/credential/credtest"
	"github.com/sanad-id/sanad/storage"
	"github.com/sanad-id/sanad/storage/memory"
)

const (
	crIssuer    = "https://issuer.example.org/vci"
	crCredPath  = "/vci" + PathCredential
	crNoncePath = "/vci" + PathNonce
	crClientID  = "wallet-app"
	crSubject   = "pairwise-subject-1"
	crPerson    = "person-0001"
)

// Configurations of the fixture.
const (
	crNID         = "NationalIDCredential" // jwt_vc_json, bound, scope crScopeNID
	crNIDSD       = "NationalIDSDJWT"      // dc+sd-jwt, bound, scope crScopeSD
	crMembership  = "MembershipCredential" // jwt_vc_json, unbound, scope crScopeMember
	crScopeNID    = "national_id_vc"
	crScopeSD     = "national_id_sd"
	crScopeMember = "membership_vc"
	crVCT         = crIssuer + "/vct/national-id"
)

// crClock is a settable clock.
type crClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *crClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *crClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// crTokens is a TokenVerifier over a fixed table of tokens; a token past
// its Expires is refused, as a real verifier would.
type crTokens struct {
	clock  *crClock
	mu     sync.Mutex
	tokens map[string]*AccessToken
}

func (v *crTokens) VerifyAccessToken(_ context.Context, token string) (*AccessToken, error) {
	v.mu.Lock()
	defer v.mu.Unlock()
	at, ok := v.tokens[token]
	if !ok {
		return nil, errors.New("crTokens: unknown token")
	}
	if !v.clock.Now().Before(at.Expires) {
		return nil, errors.New("crTokens: expired")
	}
	cp := *at
	return &cp, nil
}

func (v *crTokens) add(token string, at *AccessToken) {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.tokens[token] = at
}

// crData is a DataProvider with one resident.
type crData struct {
	mu    sync.Mutex
	calls []string
	err   error
}

func crIdentity() map[string]any {
	return map[string]any{
		"fullName":    []any{map[string]any{"language": "eng", "value": "Amina Yusuf"}},
		"dateOfBirth": "1990/01/02",
	}
}

func (d *crData) IdentityData(_ context.Context, personID string) (map[string]any, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.calls = append(d.calls, personID)
	if d.err != nil {
		return nil, d.err
	}
	if personID != crPerson {
		return nil, storage.ErrNotFound
	}
	return crIdentity(), nil
}

// crNotFound is an error like idrepo's not_found.
type crNotFound struct{}

func (crNotFound) Error() string   { return "no such resident" }
func (crNotFound) HTTPStatus() int { return http.StatusNotFound }

// crLedger is an in-memory storage.Ledger that records RecordCredentials
// calls and can be made to fail.
type crLedger struct {
	mu      sync.Mutex
	calls   int
	entries []storage.IssuedCredential
	fail    error
}

var _ storage.Ledger = (*crLedger)(nil)

func (l *crLedger) RecordCredentials(_ context.Context, cs []storage.IssuedCredential) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.calls++
	if l.fail != nil {
		return l.fail
	}
	for _, c := range cs {
		if slices.ContainsFunc(l.entries, func(e storage.IssuedCredential) bool { return e.ID == c.ID }) {
			return storage.ErrAlreadyExists
		}
	}
	l.entries = append(l.entries, cs...)
	return nil
}

func (l *crLedger) GetCredential(_ context.Context, id string) (storage.IssuedCredential, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, e := range l.entries {
		if e.ID == id {
			return e, nil
		}
	}
	return storage.IssuedCredential{}, storage.ErrNotFound
}

func (l *crLedger) ListCredentials(context.Context, storage.CredentialFilter) ([]storage.IssuedCredential, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.entries), nil
}

func (l *crLedger) SetWalletEvent(_ context.Context, notificationID, subject, event string, at time.Time) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := 0
	for i := range l.entries {
		if e := &l.entries[i]; notificationID != "" && e.NotificationID == notificationID && e.Subject == subject {
			e.WalletEvent, e.WalletEventAt = event, at
			n++
		}
	}
	return n, nil
}

func (l *crLedger) SetCredentialStatus(_ context.Context, id, status string) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	for i := range l.entries {
		if l.entries[i].ID == id {
			l.entries[i].Status = status
			return nil
		}
	}
	return storage.ErrNotFound
}

func (l *crLedger) TransitionCredentialStatus(_ context.Context, id string, from []string, to string) (string, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for i := range l.entries {
		if e := &l.entries[i]; e.ID == id {
			previous := e.Status
			if !slices.Contains(from, previous) {
				return previous, storage.ErrConflict
			}
			e.Status = to
			return previous, nil
		}
	}
	return "", storage.ErrNotFound
}

func (l *crLedger) snapshot() (int, []storage.IssuedCredential) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.calls, slices.Clone(l.entries)
}

// crSigners holds one in-memory ES256 issuer key.
type crSigners struct{ es256 *credtest.Signer }

func (s *crSigners) Signer(alg string) (credential.Signer, error) {
	if alg == "ES256" {
		return s.es256, nil
	}
	return nil, fmt.Errorf("crSigners: no %s key", alg)
}

func (s *crSigners) Algs() []string { return []string{"ES256"} }

func (s *crSigners) JWKS(context.Context) (jwk.Set, error) { return jwk.NewSet(), nil }

// crFormat is a Format that records what it is asked to issue and returns
// "<name>:<credential id>" as the credential.
type crFormat struct {
	name string
	mu   sync.Mutex
	ins  []IssueInput
	fail error
}

func (f *crFormat) Name() string                                 { return f.name }
func (f *crFormat) Validate(*Configuration) error                { return nil }
func (f *crFormat) Metadata(*Configuration, bool) map[string]any { return map[string]any{} }

// MatchesDraft13: W3C formats by format and exactly equal types; SD-JWT VC
// by either of its names and vct.
func (f *crFormat) MatchesDraft13(c *Configuration, sel Draft13Selector) bool {
	if f.name == credential.FormatSDJWTVC {
		return (sel.Format == credential.FormatSDJWTVC || sel.Format == credential.FormatSDJWTVCLegacy) && sel.VCT == c.VCT
	}
	return sel.Format == f.name && slices.Equal(sel.Types, c.Types)
}

func (f *crFormat) Issue(_ context.Context, in IssueInput) (any, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.fail != nil {
		return nil, f.fail
	}
	f.ins = append(f.ins, in)
	return f.name + ":" + in.ID, nil
}

func (f *crFormat) inputs() []IssueInput {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.ins)
}

// crEnv is an issuer wired to the fakes, mounted on a gin engine.
type crEnv struct {
	t      *testing.T
	is     *Issuer
	router *gin.Engine
	clock  *crClock
	state  *memory.State
	tokens *crTokens
	data   *crData
	ledger *crLedger
	jwtvc  *crFormat
	sdjwt  *crFormat
	signer *credtest.Signer
	x5c    [][]byte
}

// crOptions adjusts the fixture's Config before New.
type crOptions func(*Config)

func newCrEnv(t *testing.T, opts ...crOptions) *crEnv {
	t.Helper()
	clock := &crClock{now: time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)}
	state := memory.New(memory.Config{Now: clock.Now})
	t.Cleanup(func() { state.Close() })
	e := &crEnv{
		t:      t,
		clock:  clock,
		state:  state,
		tokens: &crTokens{clock: clock, tokens: map[string]*AccessToken{}},
		data:   &crData{},
		ledger: &crLedger{},
		jwtvc:  &crFormat{name: credential.FormatJWTVC},
		sdjwt:  &crFormat{name: credential.FormatSDJWTVC},
		signer: credtest.NewSigner(t, "ES256", "issuer-key-1"),
		x5c:    [][]byte{[]byte("leaf certificate"), []byte("ca certificate")},
	}
	template := map[string]any{"type": "national-id", "birthdate": "{{ dateOfBirth }}"}
	mandatory := []Claim{{Path: []string{"birthdate"}, Mandatory: true}}
	cfg := Config{
		CredentialIssuer: crIssuer,
		Configurations: []*Configuration{
			{
				ID: crNID, Format: credential.FormatJWTVC, Scope: crScopeNID,
				Types:    []string{"VerifiableCredential", "NationalIDCredential"},
				Contexts: []string{"https://www.w3.org/2018/credentials/v1"},
				Validity: 365 * 24 * time.Hour, SigningAlg: "ES256",
				ProofAlgs: []string{"ES256", "EdDSA"}, BindingMethods: []string{"jwk", "did:key", "did:jwk"},
				Subject: template, Claims: mandatory,
			},
			{
				ID: crNIDSD, Format: credential.FormatSDJWTVC, Scope: crScopeSD, VCT: crVCT,
				SigningAlg: "ES256", ProofAlgs: []string{"ES256"}, BindingMethods: []string{"jwk"},
				Subject: template,
			},
			{
				ID: crMembership, Format: credential.FormatJWTVC, Scope: crScopeMember,
				Types:      []string{"VerifiableCredential", "MembershipCredential"},
				SigningAlg: "ES256", Subject: template,
			},
		},
		Formats: map[string]Format{credential.FormatJWTVC: e.jwtvc, credential.FormatSDJWTVC: e.sdjwt},
		Tokens:  e.tokens,
		Data:    e.data,
		Ledger:  e.ledger,
		State:   state,
		Signers: &crSigners{es256: e.signer},
		X5C:     e.x5c,
		Now:     clock.Now,
		Logger:  nil,
	}
	for _, o := range opts {
		o(&cfg)
	}
	is, err := New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	e.is = is
	gin.SetMode(gin.TestMode)
	e.router = gin.New()
	is.Register(e.router, nil)
	// The default token allows the jwt_vc_json national id.
	e.token("tok-nid", crScopeNID)
	return e
}

// token registers an access token with scopes; it returns its record for
// the test to adjust.
func (e *crEnv) token(token string, scopes ...string) *AccessToken {
	at := &AccessToken{
		ID: "jti-" + token, Subject: crSubject, ClientID: crClientID,
		Scopes: append([]string{"openid"}, scopes...), PersonID: crPerson,
		Expires: e.clock.Now().Add(time.Hour),
	}
	e.tokens.add(token, at)
	return at
}

// nonce issues a c_nonce.
func (e *crEnv) nonce() string {
	e.t.Helper()
	n, _, err := e.is.NewCNonce(context.Background())
	if err != nil {
		e.t.Fatalf("NewCNonce: %v", err)
	}
	return n
}

// post sends a credential request. body is a string (sent as is) or a
// value marshalled as JSON.
func (e *crEnv) post(token string, body any, mods ...func(*http.Request)) *httptest.ResponseRecorder {
	e.t.Helper()
	var raw []byte
	switch b := body.(type) {
	case string:
		raw = []byte(b)
	case []byte:
		raw = b
	default:
		var err error
		if raw, err = json.Marshal(b); err != nil {
			e.t.Fatal(err)
		}
	}
	r := httptest.NewRequest(http.MethodPost, crCredPath, bytes.NewReader(raw))
	r.Header.Set("Content-Type", "application/json")
	if token != "" {
		r.Header.Set("Authorization", "Bearer "+token)
	}
	for _, m := range mods {
		m(r)
	}
	w := httptest.NewRecorder()
	e.router.ServeHTTP(w, r)
	return w
}

// crHolder is a wallet key.
type crHolder struct {
	priv  *ecdsa.PrivateKey
	pub   jwk.Key
	thumb string
}

func newCrHolder(t *testing.T) *crHolder {
	t.Helper()
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	pub, err := jwk.Import(priv.Public())
	if err != nil {
		t.Fatal(err)
	}
	tp, err := pub.Thumbprint(crypto.SHA256)
	if err != nil {
		t.Fatal(err)
	}
	return &crHolder{priv: priv, pub: pub, thumb: base64.RawURLEncoding.EncodeToString(tp)}
}

// proof returns a key proof JWT (OpenID4VCI 1.0 appendix F.1) by h for
// the fixture's issuer, with nonce (none when empty), issued now.
func (e *crEnv) proof(h *crHolder, nonce string) string {
	e.t.Helper()
	claims := map[string]any{"iss": crClientID, "aud": crIssuer, "iat": e.clock.Now().Unix()}
	if nonce != "" {
		claims["nonce"] = nonce
	}
	payload, err := json.Marshal(claims)
	if err != nil {
		e.t.Fatal(err)
	}
	hdr := jws.NewHeaders()
	for k, v := range map[string]any{jws.TypeKey: "openid4vci-proof+jwt", jws.JWKKey: h.pub} {
		if err := hdr.Set(k, v); err != nil {
			e.t.Fatal(err)
		}
	}
	out, err := jws.Sign(payload, jws.WithKey(jwa.ES256(), h.priv, jws.WithProtectedHeaders(hdr)))
	if err != nil {
		e.t.Fatal(err)
	}
	return string(out)
}

// crJSON decodes a JSON response body.
func crJSON(t *testing.T, w *httptest.ResponseRecorder) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(w.Body.Bytes(), &m); err != nil {
		t.Fatalf("response body %q is not a JSON object: %v", w.Body.String(), err)
	}
	return m
}

// crWantError checks an error response: status, error code, no-store, and
// no credential in the body.
func crWantError(t *testing.T, w *httptest.ResponseRecorder, status int, code string) map[string]any {
	t.Helper()
	body := crJSON(t, w)
	if w.Code != status || body["error"] != code {
		t.Fatalf("response = %d %v, want %d error %q", w.Code, body, status, code)
	}
	if got := w.Header().Get("Cache-Control"); got != "no-store" {
		t.Errorf("Cache-Control = %q, want no-store", got)
	}
	for _, k := range []string{"credential", "credentials", "notification_id"} {
		if _, ok := body[k]; ok {
			t.Errorf("error response carries %q: %v", k, body)
		}
	}
	return body
}

// crWantAuthChallenge checks the WWW-Authenticate header of a token error.
func crWantAuthChallenge(t *testing.T, w *httptest.ResponseRecorder, code string) {
	t.Helper()
	h := w.Header().Get("WWW-Authenticate")
	if !strings.HasPrefix(h, "Bearer") || (code != "" && !strings.Contains(h, `error="`+code+`"`)) {
		t.Errorf("WWW-Authenticate = %q, want a Bearer challenge with error %q", h, code)
	}
}
