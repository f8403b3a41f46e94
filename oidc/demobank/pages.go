package demobank

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// Limits of the pages.
const (
	maxFormBody     = 4 << 10
	callbackTimeout = 30 * time.Second
)

// Handler serves the bank's pages at their full paths below BaseURL's
// path P (mount it at P + "/" without stripping the prefix):
//
//	GET  P/          home: the "Login with National ID" form
//	POST P/login     starts a login (PAR) and redirects to the provider
//	GET  P/callback  the redirect URI
//	GET  P/account   the signed-in resident's verified claims
//	POST P/logout    signs out
//	GET  P/bank.css, P/logo.svg
//
// GET P redirects to P/.
func (b *Bank) Handler() http.Handler {
	mux := http.NewServeMux()
	p := b.basePath
	mux.HandleFunc("GET "+p+"/{$}", b.home)
	mux.HandleFunc("POST "+p+"/login", b.login)
	mux.HandleFunc("GET "+p+"/callback", b.callback)
	mux.HandleFunc("GET "+p+"/account", b.account)
	mux.HandleFunc("POST "+p+"/logout", b.logout)
	mux.HandleFunc("GET "+p+"/bank.css", serveStatic("text/css; charset=utf-8", bankCSS))
	mux.HandleFunc("GET "+p+"/logo.svg", serveStatic("image/svg+xml", bankLogo))
	if p != "" {
		mux.HandleFunc("GET "+p, func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, p+"/", http.StatusSeeOther)
		})
	}
	return b.secureHeaders(mux)
}

// secureHeaders sets the headers of every answer: a strict CSP (no
// scripts at all; forms may go to the bank and, through the login
// redirect, to the provider), no framing, no sniffing, no referrer (the
// callback URL carries the code), no caching (pages show personal data),
// and bounds request bodies.
func (b *Bank) secureHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", "default-src 'none'; style-src 'self'; img-src 'self' data:; "+
			"form-action 'self' "+strings.Join(b.providerOrigins(), " ")+"; frame-ancestors 'none'; base-uri 'none'")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("Cache-Control", "no-store")
		if r.Body != nil {
			r.Body = http.MaxBytesReader(w, r.Body, maxFormBody)
		}
		next.ServeHTTP(w, r)
	})
}

// providerOrigins are the origins the login form's redirect may lead to:
// the issuer's, and the authorization endpoint's once discovered. Browsers
// apply form-action to the redirects that follow a form submission.
func (b *Bank) providerOrigins() []string {
	out := []string{origin(b.issuer)}
	if d := b.disc.Load(); d != nil {
		if o := origin(d.meta.AuthorizationEndpoint); o != out[0] {
			out = append(out, o)
		}
	}
	return out
}

func origin(s string) string {
	u, err := url.Parse(s)
	if err != nil {
		return ""
	}
	return u.Scheme + "://" + u.Host
}

// home shows the login form. A visitor without a session cookie gets one
// (a random id, with no server-side record until a login starts), so the
// form's anti-CSRF token has something to be bound to.
func (b *Bank) home(w http.ResponseWriter, r *http.Request) {
	sid := sessionID(r)
	if sid == "" {
		var err error
		if sid, err = randomString(32); err != nil {
			b.fail(w, r, http.StatusInternalServerError, "home", errPage{Message: msgInternal}, err)
			return
		}
		b.setSessionCookie(w, sid)
	}
	v := homeView{CSRF: b.csrfToken(sid), ACRs: acrChoices, Langs: langChoices}
	if s, ok := b.sessions.get(sid); ok && s.account != nil {
		v.Account = newAccountView(s.account)
	}
	b.render(w, http.StatusOK, "home", v)
}

// login starts a login: it checks the form's anti-CSRF token, discovers
// the provider (on first use), pushes the authorization request and sends
// the browser to the authorization endpoint. The login's secrets (state,
// nonce, PKCE verifier, DPoP key) stay in the server-side session.
//
// Starting a login is a POST with a token, not a link: a GET would let any
// site make a resident's browser start logins, each costing a PAR call and
// replacing a login in progress in another tab.
func (b *Bank) login(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		b.fail(w, r, http.StatusBadRequest, "login", errPage{Message: msgBadForm}, err)
		return
	}
	f, err := parseLoginForm(r.PostForm)
	if err != nil {
		b.fail(w, r, http.StatusBadRequest, "login", errPage{Message: msgBadForm}, err)
		return
	}
	sid := sessionID(r)
	if !b.checkCSRF(sid, f.CSRF) {
		b.fail(w, r, http.StatusForbidden, "login", errPage{Message: msgExpiredForm}, errors.New("csrf token mismatch"))
		return
	}
	d, err := b.discover(r.Context())
	if err != nil {
		b.fail(w, r, http.StatusServiceUnavailable, "discovery", errPage{Message: msgUnavailable}, err)
		return
	}
	l, err := newPendingLogin(f, b.now())
	if err != nil {
		b.fail(w, r, http.StatusInternalServerError, "login", errPage{Message: msgInternal}, err)
		return
	}
	authURL, err := b.pushAuthorizationRequest(r.Context(), d, l, f)
	if err != nil {
		b.fail(w, r, http.StatusBadGateway, "par", errPageFor(err, msgUnavailable), err)
		return
	}
	if !b.sessions.put(sid, session{login: l}, loginTTL) {
		b.fail(w, r, http.StatusServiceUnavailable, "login", errPage{Message: msgBusy}, errors.New("session store full"))
		return
	}
	b.log.Info("demobank: login started", "acr", f.ACR.Key, "lang", f.Lang)
	http.Redirect(w, r, authURL, http.StatusSeeOther)
}

// newPendingLogin makes a login's secrets: state, nonce and PKCE verifier
// (256 random bits each) and a fresh DPoP key.
func newPendingLogin(f loginForm, now time.Time) (*pendingLogin, error) {
	var l pendingLogin
	for _, p := range []*string{&l.State, &l.Nonce, &l.Verifier} {
		v, err := randomString(32)
		if err != nil {
			return nil, err
		}
		*p = v
	}
	key, err := newES256Key()
	if err != nil {
		return nil, err
	}
	l.DPoPKey = key
	if f.ACR.ACR != "" {
		l.ACRs = []string{f.ACR.ACR}
	}
	l.Started = now
	return &l, nil
}

// callback is the redirect URI. In order: the parameters are read once
// (repeats are refused), state must be the session's pending login's (it
// is consumed then, whatever follows), iss must be the issuer (RFC 9207;
// required when discovery says the provider sends it), and only then is an
// error response shown or the code exchanged. On success the session id is
// replaced (no session fixation) and the browser goes to the account page.
func (b *Bank) callback(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	for _, name := range []string{"state", "code", "iss", "error", "error_description"} {
		if len(q[name]) > 1 {
			b.fail(w, r, http.StatusBadRequest, "callback", errPage{Message: msgBadCallback}, errors.New(name+" repeated"))
			return
		}
	}
	sid := sessionID(r)
	l, ok := b.sessions.takeLogin(sid, q.Get("state"))
	if !ok {
		b.fail(w, r, http.StatusBadRequest, "callback", errPage{Message: msgBadCallback},
			errors.New("state does not match a login in progress in this session"))
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), callbackTimeout)
	defer cancel()
	d, err := b.discover(ctx)
	if err != nil {
		b.fail(w, r, http.StatusServiceUnavailable, "discovery", errPage{Message: msgUnavailable}, err)
		return
	}
	switch iss := q.Get("iss"); {
	case iss != "" && iss != b.issuer:
		b.fail(w, r, http.StatusBadRequest, "callback", errPage{Message: msgBadCallback}, errors.New("iss is not the issuer (mix-up?)"))
		return
	case iss == "" && d.meta.IssParameter:
		b.fail(w, r, http.StatusBadRequest, "callback", errPage{Message: msgBadCallback}, errors.New("iss missing"))
		return
	}
	if code := q.Get("error"); code != "" {
		e := &flowError{Stage: "authorize", OAuth: oauthError{Code: truncate(code, 64), Description: truncate(q.Get("error_description"), 200)}}
		b.fail(w, r, http.StatusOK, "authorize", errPageFor(e, msgNotCompleted), e)
		return
	}
	code := q.Get("code")
	if code == "" {
		b.fail(w, r, http.StatusBadRequest, "callback", errPage{Message: msgBadCallback}, errors.New("no code"))
		return
	}
	acct, err := b.finishLogin(ctx, d, l, code)
	if err != nil {
		var fe *flowError
		stage := "login"
		if errors.As(err, &fe) {
			stage = fe.Stage
		}
		b.fail(w, r, http.StatusBadGateway, stage, errPageFor(err, msgFailed), err)
		return
	}
	newSID, err := randomString(32)
	if err != nil {
		b.fail(w, r, http.StatusInternalServerError, "callback", errPage{Message: msgInternal}, err)
		return
	}
	if !b.sessions.put(newSID, session{account: acct}, sessionTTL) {
		b.fail(w, r, http.StatusServiceUnavailable, "callback", errPage{Message: msgBusy}, errors.New("session store full"))
		return
	}
	b.setSessionCookie(w, newSID)
	b.log.Info("demobank: login completed", "acr", acct.ACR, "userinfo_signed", acct.UserinfoSigned)
	http.Redirect(w, r, b.basePath+"/account", http.StatusSeeOther)
}

// finishLogin exchanges the code, verifies the ID token and fetches the
// verified userinfo. The access token is used once, here, and not kept.
func (b *Bank) finishLogin(ctx context.Context, d *discovered, l *pendingLogin, code string) (*Account, error) {
	tr, err := b.exchangeCode(ctx, d, l, code)
	if err != nil {
		return nil, err
	}
	tok, c, err := b.verifyIDToken(ctx, d, l, tr)
	if err != nil {
		return nil, err
	}
	ui, err := b.fetchUserinfo(ctx, d, l.DPoPKey, tr.AccessToken, tok.Subject)
	if err != nil {
		return nil, err
	}
	for _, name := range []string{"iss", "aud", "sub", "iat", "exp", "nbf", "jti"} {
		delete(ui.Claims, name)
	}
	return &Account{
		Subject:        tok.Subject,
		Claims:         ui.Claims,
		UserinfoSigned: ui.Signed,
		Issuer:         tok.Issuer,
		ACR:            c.ACR,
		AMR:            c.AMR,
		AuthTime:       time.Unix(*c.AuthTime, 0),
		SignedIn:       b.now(),
	}, nil
}

// account shows the signed-in resident's claims; the home page otherwise.
func (b *Bank) account(w http.ResponseWriter, r *http.Request) {
	sid := sessionID(r)
	s, ok := b.sessions.get(sid)
	if !ok || s.account == nil {
		http.Redirect(w, r, b.basePath+"/", http.StatusSeeOther)
		return
	}
	b.render(w, http.StatusOK, "account", accountPage{CSRF: b.csrfToken(sid), Account: newAccountView(s.account)})
}

// logout ends the bank's session (a POST with the anti-CSRF token, so no
// other site can sign residents out). eSignet, and Sanad, keep no session
// at the provider, so there is nothing to end there.
func (b *Bank) logout(w http.ResponseWriter, r *http.Request) {
	sid := sessionID(r)
	if err := r.ParseForm(); err != nil || !b.checkCSRF(sid, r.PostForm.Get("csrf")) {
		b.fail(w, r, http.StatusForbidden, "logout", errPage{Message: msgExpiredForm}, errors.New("csrf token mismatch"))
		return
	}
	b.sessions.delete(sid)
	b.clearSessionCookie(w)
	b.log.Info("demobank: signed out")
	http.Redirect(w, r, b.basePath+"/", http.StatusSeeOther)
}

// Messages of the error page.
const (
	msgInternal     = "Something went wrong on our side. Please try again."
	msgBadForm      = "The form was not filled in correctly."
	msgExpiredForm  = "This page has expired. Go back to the home page and try again."
	msgUnavailable  = "The National ID service cannot be reached right now. Please try again in a moment."
	msgBusy         = "Too many people are signing in right now. Please try again in a moment."
	msgBadCallback  = "This sign-in link is not valid, or has expired. Please sign in again from the home page."
	msgNotCompleted = "The sign-in with National ID was not completed."
	msgFailed       = "We could not verify your sign-in with National ID. Please try again."
)

// errPage is what the error page shows.
type errPage struct {
	Message     string
	Code        string // the provider's OAuth error code, if any
	Description string
}

// errPageFor shows the provider's error code and description when err
// carries them.
func errPageFor(err error, msg string) errPage {
	p := errPage{Message: msg}
	var fe *flowError
	if errors.As(err, &fe) {
		p.Code, p.Description = fe.OAuth.Code, fe.OAuth.Description
	}
	return p
}

// fail logs a failed step (its outcome and cause: never tokens, codes or
// claims, which no error here carries) and renders the error page.
func (b *Bank) fail(w http.ResponseWriter, r *http.Request, status int, stage string, p errPage, cause error) {
	level := b.log.Warn
	if status >= 500 {
		level = b.log.Error
	}
	if p.Code != "" && stage == "authorize" {
		level = b.log.Info // the resident cancelled or declined: an outcome, not a fault
	}
	level("demobank: login step failed", "stage", stage, "status", status, "error", cause, "path", r.URL.Path)
	b.render(w, status, "error", p)
}
