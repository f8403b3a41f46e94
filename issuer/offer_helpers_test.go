package issuer

// Fixtures of the offer, pre-authorized code, authentication and
// notification tests: an Issuer wired to fakes (persons, notifier, token
// and DPoP verifiers, a format and signers), an in-memory State and a
// SQLite ledger. Names start with "pa" so they cannot collide with the
// fixtures of the issuer's other test files.

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/lestrrat-go/jwx/v3/jwk"

	"github.com/sanad-id/sanad/credential"
	"github.com/sanad-id/sanad/idrepo/notify"
	"github.com/sanad-id/sanad/storage"
	"github.com/sanad-id/sanad/storage/memory"
	"github.com/sanad-id/sanad/storage/storagetest"
)

const (
	paIssuer       = "https://issuer.example.org/vci"
	paOfferPath    = "/vci" + PathOffer
	paNotifyPath   = "/vci" + PathNotification
	paAdminOffers  = "/admin" + AdminOffers
	paNID          = "NationalID"
	paHealth       = "HealthInsurance"
	paScopeNID     = "national_id"
	paScopeHealth  = "health_insurance"
	paFormatName   = "pa_format"
	paUIN          = "4829103756"
	paPerson       = "person-0001"
	paPhone        = "+971501234567"
	paEmail        = "resident@example.org"
	paSubject      = "pairwise-subject-1"
	paOtherSubject = "pairwise-subject-2"
)

// paClock is a settable clock.
type paClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *paClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *paClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// paPersons is a PersonFinder over a table of individual ids.
type paPersons struct {
	mu      sync.Mutex
	persons map[string]paPersonEntry
	err     error // returned for every lookup when set
}

type paPersonEntry struct {
	id       string
	identity map[string]any
}

func (p *paPersons) FindPerson(_ context.Context, individualID string) (string, map[string]any, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.err != nil {
		return "", nil, p.err
	}
	e, ok := p.persons[individualID]
	if !ok {
		return "", nil, ErrUnknownPerson
	}
	return e.id, e.identity, nil
}

// paIdentity is the identity of the fixture's resident: a phone, an e-mail
// and a name in Arabic first.
func paIdentity() map[string]any {
	return map[string]any{
		"phone": paPhone,
		"email": paEmail,
		"fullName": []any{
			map[string]any{"language": "ara", "value": "سارة"},
			map[string]any{"language": "eng", "value": "Sara"},
		},
	}
}

// paNotifier records the messages it is given; err makes it fail.
type paNotifier struct {
	mu   sync.Mutex
	msgs []notify.Message
	err  error
}

func (n *paNotifier) Notify(_ context.Context, m notify.Message) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.err != nil {
		return n.err
	}
	n.msgs = append(n.msgs, m)
	return nil
}

func (n *paNotifier) messages() []notify.Message {
	n.mu.Lock()
	defer n.mu.Unlock()
	return append([]notify.Message(nil), n.msgs...)
}

// paTokens is a TokenVerifier over a table of tokens; err, when set, is
// what every verification returns.
type paTokens struct {
	mu     sync.Mutex
	tokens map[string]*AccessToken
	err    error
}

func (v *paTokens) VerifyAccessToken(_ context.Context, token string) (*AccessToken, error) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.err != nil {
		return nil, v.err
	}
	at, ok := v.tokens[token]
	if !ok {
		return nil, errors.New("unknown token")
	}
	cp := *at
	return &cp, nil
}

// paDPoP accepts proofs "proof:<jkt>" and records what it was asked; err,
// when set, is what every verification returns.
type paDPoP struct {
	mu    sync.Mutex
	calls []paDPoPCall
	err   error
}

type paDPoPCall struct{ proof, method, url, accessToken string }

func (v *paDPoP) VerifyProof(_ context.Context, proof, method, url, accessToken string) (string, error) {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.calls = append(v.calls, paDPoPCall{proof, method, url, accessToken})
	if v.err != nil {
		return "", v.err
	}
	jkt, ok := strings.CutPrefix(proof, "proof:")
	if !ok {
		return "", errors.New("bad proof")
	}
	return jkt, nil
}

func (v *paDPoP) lastCall() (paDPoPCall, bool) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if len(v.calls) == 0 {
		return paDPoPCall{}, false
	}
	return v.calls[len(v.calls)-1], true
}

// paFormat is a Format that is never asked to issue here.
type paFormat struct{}

func (paFormat) Name() string                                        { return paFormatName }
func (paFormat) Validate(*Configuration) error                       { return nil }
func (paFormat) Metadata(*Configuration, bool) map[string]any        { return map[string]any{} }
func (paFormat) MatchesDraft13(*Configuration, Draft13Selector) bool { return false }
func (paFormat) Issue(context.Context, IssueInput) (any, error) {
	return nil, errors.New("paFormat does not issue")
}

// paSigners has an ES256 key and no signer.
type paSigners struct{}

func (paSigners) Signer(string) (credential.Signer, error) { return nil, errors.New("no signer") }
func (paSigners) Algs() []string                           { return []string{"ES256"} }
func (paSigners) JWKS(context.Context) (jwk.Set, error)    { return jwk.NewSet(), nil }

// paState is a State that records the keys put, to check what a failed
// request left behind.
type paState struct {
	storage.State
	mu  sync.Mutex
	put []string
}

func (s *paState) Put(ctx context.Context, key string, value []byte, ttl time.Duration) error {
	s.mu.Lock()
	s.put = append(s.put, key)
	s.mu.Unlock()
	return s.State.Put(ctx, key, value, ttl)
}

func (s *paState) keysPut() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.put...)
}

// paLogs collects log output.
type paLogs struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *paLogs) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *paLogs) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

// paEnv is an Issuer with its fakes, mounted on a router with the admin
// API under /admin.
type paEnv struct {
	t        testing.TB
	is       *Issuer
	router   *gin.Engine
	clock    *paClock
	state    *paState
	ledger   storage.Ledger
	persons  *paPersons
	notifier *paNotifier
	tokens   *paTokens
	dpop     *paDPoP
	logs     *paLogs
}

// paOption adjusts the fixture's Config before New.
type paOption func(*Config)

// paWithState replaces the in-memory State.
func paWithState(s storage.State) paOption { return func(c *Config) { c.State = s } }

// paWithLedger replaces the SQLite ledger.
func paWithLedger(l storage.Ledger) paOption { return func(c *Config) { c.Ledger = l } }

func newPaEnv(t testing.TB, opts ...paOption) *paEnv {
	t.Helper()
	clock := &paClock{now: time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)}
	mem := memory.New(memory.Config{Now: clock.Now})
	t.Cleanup(func() { mem.Close() })
	e := &paEnv{
		t:     t,
		clock: clock,
		persons: &paPersons{persons: map[string]paPersonEntry{
			paUIN:        {paPerson, paIdentity()},
			"email-only": {"person-0002", map[string]any{"email": paEmail}},
			"no-contact": {"person-0003", map[string]any{"fullName": []any{}}},
		}},
		notifier: &paNotifier{},
		tokens:   &paTokens{tokens: map[string]*AccessToken{}},
		dpop:     &paDPoP{},
		logs:     &paLogs{},
	}
	cfg := Config{
		CredentialIssuer: paIssuer,
		Configurations: []*Configuration{
			{ID: paNID, Format: paFormatName, Scope: paScopeNID, SigningAlg: "ES256"},
			{ID: paHealth, Format: paFormatName, Scope: paScopeHealth, SigningAlg: "ES256"},
		},
		Formats:  map[string]Format{paFormatName: paFormat{}},
		Tokens:   e.tokens,
		DPoP:     e.dpop,
		Data:     paNoData{},
		Persons:  e.persons,
		State:    mem,
		Signers:  paSigners{},
		Notifier: e.notifier,
		Now:      clock.Now,
		Logger:   slog.New(slog.NewJSONHandler(e.logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
	}
	for _, o := range opts {
		o(&cfg)
	}
	if cfg.Ledger == nil {
		cfg.Ledger = storagetest.OpenSQLite(t)
	}
	e.state = &paState{State: cfg.State}
	cfg.State = e.state
	e.ledger = cfg.Ledger
	is, err := New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	e.is = is
	gin.SetMode(gin.TestMode)
	e.router = gin.New()
	is.Register(e.router, e.router.Group("/admin"))
	return e
}

// paNoData is a DataProvider the tests here never reach.
type paNoData struct{}

func (paNoData) IdentityData(context.Context, string) (map[string]any, error) {
	return nil, errors.New("no data")
}

// do sends a request to the fixture's router.
func (e *paEnv) do(method, target string, body []byte, header http.Header) *httptest.ResponseRecorder {
	e.t.Helper()
	var r *http.Request
	if body == nil {
		r = httptest.NewRequest(method, target, nil)
	} else {
		r = httptest.NewRequest(method, target, bytes.NewReader(body))
	}
	for k, vs := range header {
		for _, v := range vs {
			r.Header.Add(k, v)
		}
	}
	w := httptest.NewRecorder()
	e.router.ServeHTTP(w, r)
	return w
}

// paJSON decodes a JSON response body.
func paJSON(t *testing.T, w *httptest.ResponseRecorder) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(w.Body.Bytes(), &m); err != nil {
		t.Fatalf("response body %q is not a JSON object: %v", w.Body.String(), err)
	}
	return m
}

// paWantError checks an error response: status, error code and no-store.
func paWantError(t *testing.T, w *httptest.ResponseRecorder, status int, code string) map[string]any {
	t.Helper()
	if w.Code != status {
		t.Errorf("status = %d, want %d (body %s)", w.Code, status, w.Body.String())
	}
	if cc := w.Header().Get("Cache-Control"); cc != "no-store" {
		t.Errorf("Cache-Control = %q, want no-store", cc)
	}
	m := paJSON(t, w)
	if m["error"] != code {
		t.Errorf("error = %v, want %q (body %s)", m["error"], code, w.Body.String())
	}
	return m
}

// paWantGrantError checks that err is an *Error with code and status.
func paWantGrantError(t *testing.T, call string, err error, code string, status int) {
	t.Helper()
	var e *Error
	if !errors.As(err, &e) {
		t.Fatalf("%s = %v, want an *Error %s", call, err, code)
	}
	if c, s, _ := e.OAuthError(); c != code || s != status {
		t.Errorf("%s = %s (%d), want %s (%d)", call, c, s, code, status)
	}
}
