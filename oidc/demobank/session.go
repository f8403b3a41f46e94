package demobank

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"net/http"
	"sync"
	"time"

	"github.com/lestrrat-go/jwx/v3/jwk"
)

// Session lifetimes.
const (
	// loginTTL is how long a started login may take to come back to the
	// callback: PAR's request_uri lives 60 s, but the resident then types
	// an ID, waits for an OTP and consents.
	loginTTL = 10 * time.Minute
	// sessionTTL is how long a signed-in session lasts, from the login
	// (absolute, not sliding: this is a bank).
	sessionTTL = 30 * time.Minute
	// maxSessions bounds the memory sessions take; beyond it new logins
	// are refused until some expire.
	maxSessions = 10000
	// sweepEvery is how often expired sessions are dropped.
	sweepEvery = time.Minute
)

// sessionCookie is the session cookie's name. It cannot have the __Host-
// prefix: its Path is the bank's path, not "/".
const sessionCookie = "demobank_session"

// pendingLogin is a login between its start and its callback.
type pendingLogin struct {
	State    string
	Nonce    string
	Verifier string  // PKCE code_verifier
	DPoPKey  jwk.Key // this login's DPoP key (private)
	// ACRs are the ACRs asked for as essential; nil for any.
	ACRs    []string
	Started time.Time
}

// Account is a signed-in resident as the bank sees them: the verified
// claims and what the ID token says about the authentication.
type Account struct {
	// Subject is the ID token's sub: a pairwise identifier, the same for
	// this resident at this bank every time, different at other clients.
	Subject string
	// Claims are the verified userinfo claims, JWT claims (iss, aud, sub,
	// iat, exp, nbf, jti) removed. Multi-language claims have a member per
	// language ("name#fra").
	Claims map[string]any
	// UserinfoSigned reports whether userinfo came as a verified JWS
	// (false: plain JSON over TLS).
	UserinfoSigned bool
	Issuer         string
	ACR            string
	AMR            []string
	AuthTime       time.Time
	SignedIn       time.Time
}

// session is a server-side session record.
type session struct {
	expires time.Time
	login   *pendingLogin // set between login start and callback
	account *Account      // set once signed in
}

// sessionStore keeps sessions in memory, by random id, each with an
// expiry. Expired sessions are invisible at once and dropped by a sweep
// every minute, run by whichever call comes along (no goroutine to stop).
type sessionStore struct {
	now       func() time.Time
	max       int
	mu        sync.Mutex
	m         map[string]*session
	nextSweep time.Time
}

func newSessionStore(now func() time.Time, max int) *sessionStore {
	return &sessionStore{now: now, max: max, m: make(map[string]*session)}
}

// get returns a copy of the live session id names; false if there is none
// or it has expired.
func (s *sessionStore) get(id string) (session, bool) {
	if id == "" {
		return session{}, false
	}
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sweepLocked(now)
	e, ok := s.m[id]
	if !ok || !now.Before(e.expires) {
		return session{}, false
	}
	return *e, true
}

// put stores a session under id for ttl, replacing any; false if the store
// is full.
func (s *sessionStore) put(id string, v session, ttl time.Duration) bool {
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sweepLocked(now)
	if _, exists := s.m[id]; !exists && len(s.m) >= s.max {
		s.sweepLocked(time.Time{}) // force
		if len(s.m) >= s.max {
			return false
		}
	}
	v.expires = now.Add(ttl)
	s.m[id] = &v
	return true
}

// takeLogin removes and returns the pending login of session id if its
// state is state: a callback consumes its login, and the session with it,
// once. A state that does not match leaves the session alone, so that a
// forged callback cannot cancel a resident's login.
func (s *sessionStore) takeLogin(id, state string) (*pendingLogin, bool) {
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	e, ok := s.m[id]
	if !ok || !now.Before(e.expires) || e.login == nil || !hmac.Equal([]byte(e.login.State), []byte(state)) {
		return nil, false
	}
	delete(s.m, id)
	return e.login, true
}

// delete removes a session.
func (s *sessionStore) delete(id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.m, id)
}

// len is the number of stored sessions, expired or not (for tests).
func (s *sessionStore) len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.m)
}

// sweepLocked drops expired sessions, at most once per sweepEvery unless
// now is the zero time (forced, with the clock read again).
func (s *sessionStore) sweepLocked(now time.Time) {
	if now.IsZero() {
		now = s.now()
	} else if now.Before(s.nextSweep) {
		return
	}
	s.nextSweep = now.Add(sweepEvery)
	for id, e := range s.m {
		if !now.Before(e.expires) {
			delete(s.m, id)
		}
	}
}

// sessionID returns the session id of the request's cookie, "" if none.
func sessionID(r *http.Request) string {
	c, err := r.Cookie(sessionCookie)
	if err != nil || len(c.Value) != 43 { // 32 random bytes, base64url
		return ""
	}
	return c.Value
}

// setSessionCookie sets the session cookie: HttpOnly, SameSite=Lax (the
// callback is a top-level navigation from the provider, which Lax lets
// through; cross-site POSTs and subrequests carry no cookie), Secure on
// https, scoped to the bank's path. It has no Max-Age: the browser drops
// it when it closes, and the server-side record expires on its own.
func (b *Bank) setSessionCookie(w http.ResponseWriter, id string) {
	http.SetCookie(w, &http.Cookie{
		Name:     sessionCookie,
		Value:    id,
		Path:     b.cookiePath(),
		HttpOnly: true,
		Secure:   b.secure,
		SameSite: http.SameSiteLaxMode,
	})
}

func (b *Bank) clearSessionCookie(w http.ResponseWriter) {
	http.SetCookie(w, &http.Cookie{
		Name: sessionCookie, Value: "", Path: b.cookiePath(), MaxAge: -1,
		HttpOnly: true, Secure: b.secure, SameSite: http.SameSiteLaxMode,
	})
}

func (b *Bank) cookiePath() string {
	if b.basePath == "" {
		return "/"
	}
	return b.basePath + "/"
}

// csrfToken is the anti-CSRF token of the forms of session id:
// HMAC-SHA256 under a per-process key. It needs no server-side record, so
// the home page can be shown to anyone without creating sessions.
func (b *Bank) csrfToken(id string) string {
	m := hmac.New(sha256.New, b.csrfKey)
	m.Write([]byte("demobank csrf\x00" + id))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// checkCSRF reports whether a form's token is the session's.
func (b *Bank) checkCSRF(id, token string) bool {
	return id != "" && hmac.Equal([]byte(b.csrfToken(id)), []byte(token))
}

// Account returns the signed-in account of the request's session, for
// tests and for pages mounted beside the bank; false if the request's
// session is not signed in.
func (b *Bank) Account(r *http.Request) (Account, bool) {
	s, ok := b.sessions.get(sessionID(r))
	if !ok || s.account == nil {
		return Account{}, false
	}
	return *s.account, true
}
