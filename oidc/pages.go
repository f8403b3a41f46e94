package oidc

// The login pages residents use: server-rendered with html/template, usable
// without JavaScript, in English, French and Arabic (right to left). They
// drive a LoginFlow exactly as eSignet's oidc-ui drives the UI API.
//
// Routes (under PathLogin, the issuer's path prefixed):
//
//	GET  /login/:tx               page 1: the client, a login-ID field, one form per factor list (?f=N picks list N)
//	POST /login/:tx/otp           send (or resend) an OTP → the OTP page
//	POST /login/:tx/authenticate  verify the factors → 303 to the client (NOCAPTURE) or to the consent page
//	GET  /login/:tx/consent       the claims and scopes to share
//	POST /login/:tx/consent       action=allow → code, action=decline → consent_rejected; 303 to the client
//	POST /login/:tx/cancel        access_denied; 303 to the client
//	GET  /login/static/sanad-<hash>.css   the only stylesheet, cached for a year (immutable)
//
// Every page takes ?lang=eng|fra|ara. The language is, in order: ?lang (a
// GET remembers it in the sanad_lang cookie), the cookie, the first
// supported TxView.UILocales, Accept-Language, opts.Languages[0]. The OTP
// page has no language switcher: it is the answer to a POST, and switching
// would mean sending another code.
//
// Stable element ids (for browser tests) and form field names:
//
//	header          lang-eng, lang-fra, lang-ara (links; only with several languages)
//	login page      factor-<TYPES> links, one per factor list, e.g. factor-OTP, factor-PIN, factor-OTP-PIN
//	                (only when there are several lists); form login-form: login-id (name login_id),
//	                channel-phone, channel-email (name channel, values phone, email; both checked at first),
//	                button send-otp; or, for a list without OTP: pin, password, kbi-full-name (kbi_full_name),
//	                kbi-dob (kbi_dob, type=date), button submit
//	OTP page        form otp-form: otp, plus pin/password/kbi-* if the list has them, button submit;
//	                form resend-form: button resend-otp; link change-id back to page 1
//	consent page    form consent-form: claim-<name> checkboxes (name claim), scope-<name> (name scope),
//	                buttons allow, decline
//	login, OTP      form cancel-form, button cancel (the consent page's cancel is decline)
//	errors          form-error (the message every invalid field's aria-describedby names); link back
//
// Buttons are named "action" (values send-otp, submit, resend, allow,
// decline, cancel), never "submit", which would shadow form.submit().
// Hidden fields have names and no ids (they repeat across forms): csrf,
// factor (the factor list's index), login_id, channel, masked_phone,
// masked_email, sent_at (unix seconds of the last OTP, for the resend
// timer). Claim and scope ids keep [A-Za-z0-9_-] of the name and replace
// anything else with "_".
//
// CSRF: every form carries TxView.FormToken as csrf, compared in constant
// time with the transaction's; a mismatch is a 403 page and the flow is not
// asked to do anything. No extra same-site cookie is set, because it would
// add nothing: the token is random, per transaction, and only ever in the
// body of pages served to the browser holding the transaction (never in a
// URL or a cookie), which other origins cannot read (same-origin policy,
// frame-ancestors 'none'); a resident whose browser drops cookies still
// signs in. An attacker who forces the resident's browser to finish the
// attacker's own transaction gains nothing the RP does not already refuse:
// the code comes back without the RP session's state and PKCE verifier.
//
// Consent: essential claims are shown checked and disabled, and the server
// always adds every essential claim to what it accepts, whatever the form
// says: the only way to refuse them is Decline, which ends the transaction.
// Voluntary claims and authorize scopes are opt-in (unchecked); only names
// the transaction requested are passed on.
//
// A form shown again with an error answers 400; the secrets typed (OTP, PIN,
// password, personal details) are never written back, the login ID is.

import (
	"bytes"
	"cmp"
	"crypto/sha256"
	"crypto/subtle"
	"embed"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"maps"
	"net/http"
	"net/url"
	"path"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/gin-gonic/gin"
	"golang.org/x/text/feature/plural"
	"golang.org/x/text/language"

	"github.com/sanad-id/sanad/idrepo/authn"
)

//go:embed pages/templates/*.html pages/static/sanad.css pages/i18n/*.json
var pagesFS embed.FS

// pageLangCookie remembers the language a resident chose.
const pageLangCookie = "sanad_lang"

// pageAssets are the parsed templates, the stylesheet and the translations.
type pageAssets struct {
	tmpl    *template.Template
	css     []byte
	cssFile string // sanad-<first 12 hex digits of SHA-256>.css
	langs   map[string]*pageLang
}

// loadedPageAssets parses the embedded assets once; they are part of the
// binary, so an error is a bug that the tests catch.
var loadedPageAssets = sync.OnceValues(loadPageAssets)

func mustPageAssets() *pageAssets {
	a, err := loadedPageAssets()
	if err != nil {
		panic(err)
	}
	return a
}

func loadPageAssets() (*pageAssets, error) {
	a := &pageAssets{langs: make(map[string]*pageLang)}
	css, err := pagesFS.ReadFile("pages/static/sanad.css")
	if err != nil {
		return nil, err
	}
	sum := sha256.Sum256(css)
	a.css, a.cssFile = css, "sanad-"+hex.EncodeToString(sum[:6])+".css"
	files, err := fs.Glob(pagesFS, "pages/i18n/*.json")
	if err != nil {
		return nil, err
	}
	for _, f := range files {
		b, err := pagesFS.ReadFile(f)
		if err != nil {
			return nil, err
		}
		l, err := parsePageLang(strings.TrimSuffix(path.Base(f), ".json"), b)
		if err != nil {
			return nil, fmt.Errorf("oidc: %s: %w", f, err)
		}
		a.langs[l.Code] = l
	}
	if a.langs["eng"] == nil {
		return nil, errors.New("oidc: the login pages have no English translation")
	}
	a.tmpl, err = template.New("pages").Option("missingkey=error").ParseFS(pagesFS, "pages/templates/*.html")
	if err != nil {
		return nil, err
	}
	return a, nil
}

// pageLang is one language of the pages: pages/i18n/<code>.json.
type pageLang struct {
	Code string // ISO 639-3, as in config and TxView.UILocales
	Tag  string // BCP 47, for lang attributes
	Dir  string // ltr or rtl
	Name string // the language's own name
	tag  language.Tag
	msgs map[string]pageMessage
}

// pageMessage is a text, or texts by plural form ("zero", "one", "two",
// "few", "many", "other") for messages with a count {n}.
type pageMessage struct {
	text  string
	forms map[plural.Form]string
}

var pluralForms = map[string]plural.Form{
	"zero": plural.Zero, "one": plural.One, "two": plural.Two,
	"few": plural.Few, "many": plural.Many, "other": plural.Other,
}

func (m *pageMessage) UnmarshalJSON(b []byte) error {
	if err := json.Unmarshal(b, &m.text); err == nil {
		return nil
	}
	var forms map[string]string
	if err := json.Unmarshal(b, &forms); err != nil {
		return errors.New("a message is a string or an object of plural forms")
	}
	if forms["other"] == "" {
		return errors.New(`a plural message needs an "other" form`)
	}
	m.forms = make(map[plural.Form]string, len(forms))
	for k, v := range forms {
		f, ok := pluralForms[k]
		if !ok {
			return fmt.Errorf("unknown plural form %q", k)
		}
		m.forms[f] = v
	}
	return nil
}

func parsePageLang(code string, b []byte) (*pageLang, error) {
	var msgs map[string]pageMessage
	if err := json.Unmarshal(b, &msgs); err != nil {
		return nil, err
	}
	l := &pageLang{Code: code, Tag: msgs["meta.lang"].text, Dir: msgs["meta.dir"].text, Name: msgs["meta.name"].text, msgs: msgs}
	if l.Tag == "" || l.Name == "" || (l.Dir != "ltr" && l.Dir != "rtl") {
		return nil, errors.New("meta.lang, meta.name and meta.dir (ltr or rtl) are required")
	}
	t, err := language.Parse(l.Tag)
	if err != nil {
		return nil, err
	}
	if b, _ := t.Base(); b.ISO3() != code {
		return nil, fmt.Errorf("meta.lang %q is not language %q", l.Tag, code)
	}
	l.tag = t
	return l, nil
}

// pageText translates: the page's language, then English, then the key
// itself (a missing key shows up instead of vanishing).
type pageText struct {
	lang, eng *pageLang
}

func (t pageText) msg(key string) (pageMessage, *pageLang) {
	if m, ok := t.lang.msgs[key]; ok {
		return m, t.lang
	}
	if m, ok := t.eng.msgs[key]; ok {
		return m, t.eng
	}
	return pageMessage{text: key}, t.eng
}

// T is the text of key.
func (t pageText) T(key string) string {
	m, _ := t.msg(key)
	if m.forms != nil {
		return m.forms[plural.Other]
	}
	return m.text
}

// Tf is the text of key with {name} placeholders replaced: Tf(key, "client",
// name). The result is plain text; html/template escapes it.
func (t pageText) Tf(key string, kv ...string) string {
	s := t.T(key)
	for i := 0; i+1 < len(kv); i += 2 {
		s = strings.ReplaceAll(s, "{"+kv[i]+"}", kv[i+1])
	}
	return s
}

// TN is the text of key in the plural form for n, with {n} replaced.
func (t pageText) TN(key string, n int) string {
	m, l := t.msg(key)
	s := m.text
	if m.forms != nil {
		form := plural.Cardinal.MatchPlural(l.tag, max(n, 0)%10000000, 0, 0, 0, 0)
		var ok bool
		if s, ok = m.forms[form]; !ok {
			s = m.forms[plural.Other]
		}
	}
	return strings.ReplaceAll(s, "{n}", strconv.Itoa(n))
}

// pageLangCode returns the ISO 639-3 code of a language given as ISO 639-3
// ("ara") or BCP 47 ("ar", "fr-CA"); "" if there is none.
func pageLangCode(s string) string {
	s = strings.TrimSpace(s)
	if s == "" || len(s) > 64 {
		return ""
	}
	t, err := language.Parse(s)
	if err != nil {
		return ""
	}
	b, conf := t.Base()
	if conf != language.Exact {
		return ""
	}
	return b.ISO3()
}

// acceptLanguages returns the languages of an Accept-Language header, most
// wanted first, skipping entries it cannot read and q=0.
func acceptLanguages(h string) []string {
	if len(h) > 1024 {
		h = h[:1024]
	}
	type entry struct {
		code string
		q    float64
	}
	var es []entry
	for part := range strings.SplitSeq(h, ",") {
		tag, params, _ := strings.Cut(part, ";")
		q := 1.0
		if v, ok := strings.CutPrefix(strings.TrimSpace(params), "q="); ok {
			f, err := strconv.ParseFloat(v, 64)
			if err != nil {
				continue
			}
			q = f
		}
		if code := pageLangCode(tag); code != "" && q > 0 {
			es = append(es, entry{code, q})
		}
	}
	slices.SortStableFunc(es, func(a, b entry) int { return cmp.Compare(b.q, a.q) })
	out := make([]string, len(es))
	for i, e := range es {
		out[i] = e.code
	}
	return out
}

// pickPageLang chooses the page language among langs (not empty): the
// explicit choice (?lang), the remembered one (cookie), the request's
// ui_locales, Accept-Language, and else the first of langs.
func pickPageLang(langs []*pageLang, explicit, remembered string, uiLocales []string, acceptLanguage string) *pageLang {
	find := func(s string) *pageLang {
		code := pageLangCode(s)
		for _, l := range langs {
			if l.Code == code {
				return l
			}
		}
		return nil
	}
	for _, s := range slices.Concat([]string{explicit, remembered}, uiLocales, acceptLanguages(acceptLanguage)) {
		if l := find(s); l != nil {
			return l
		}
	}
	return langs[0]
}

// pageLangs are the configured languages that have translations, in order;
// all translated languages (English first) if none is configured.
func (a *pageAssets) pageLangs(configured []string) []*pageLang {
	var out []*pageLang
	for _, c := range configured {
		if l := a.langs[pageLangCode(c)]; l != nil && !slices.Contains(out, l) {
			out = append(out, l)
		}
	}
	if len(out) == 0 {
		out = append(out, a.langs["eng"])
		for _, c := range slices.Sorted(maps.Keys(a.langs)) {
			if c != "eng" {
				out = append(out, a.langs[c])
			}
		}
	}
	return out
}

// pageSecurityHeaders are the headers of every page and redirect: a strict
// CSP whose form-action allows this origin and, when known, the client's
// redirect origin (Chromium applies form-action to the 303 that follows a
// form post), no caching, no referrer, no framing.
func pageSecurityHeaders(h http.Header, clientSource string) {
	formAction := "'self'"
	if clientSource != "" {
		formAction += " " + clientSource
	}
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'self'; img-src 'self' data: https:; form-action "+
		formAction+"; frame-ancestors 'none'; base-uri 'none'")
	h.Set("Cache-Control", "no-store")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("X-Frame-Options", "DENY")
	h.Set("X-Content-Type-Options", "nosniff")
}

// cspSource returns the CSP source expression of a redirect URI's origin:
// scheme://host[:port] for http(s), scheme: for an app's private-use
// scheme; "" if it cannot be written safely (then form-action stays 'self').
func cspSource(redirectURI string) string {
	u, err := url.Parse(redirectURI)
	if err != nil || u.Scheme == "" {
		return ""
	}
	scheme := strings.ToLower(u.Scheme)
	for i, r := range scheme {
		if !(r >= 'a' && r <= 'z' || i > 0 && (r >= '0' && r <= '9' || r == '+' || r == '-' || r == '.')) {
			return ""
		}
	}
	if scheme != "http" && scheme != "https" {
		return scheme + ":"
	}
	host := strings.ToLower(u.Host)
	if host == "" {
		return ""
	}
	for _, r := range host {
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '.' || r == '-' || r == ':') {
			return "" // IPv6 literals and anything odd: CSP host-source cannot say them
		}
	}
	return scheme + "://" + host
}

// pages serves the login pages of one provider.
type pages struct {
	flow   LoginFlow
	opts   frontEndOptions
	a      *pageAssets
	langs  []*pageLang
	prefix string // the issuer's path, "" at the root
}

func newPages(flow LoginFlow, opts frontEndOptions) *pages {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.OTPLength <= 0 {
		opts.OTPLength = 6
	}
	a := mustPageAssets()
	prefix := ""
	if u, err := url.Parse(opts.Issuer); err == nil {
		prefix = strings.TrimRight(u.Path, "/")
	}
	return &pages{flow: flow, opts: opts, a: a, langs: a.pageLangs(opts.Languages), prefix: prefix}
}

// registerPages mounts the login pages on r (see the top of this file).
func registerPages(r gin.IRouter, flow LoginFlow, opts frontEndOptions) {
	pg := newPages(flow, opts)
	r.GET(PathLogin+"/static/"+pg.a.cssFile, pg.serveCSS)
	g := r.Group(PathLogin, func(c *gin.Context) { pageSecurityHeaders(c.Writer.Header(), "") })
	post := func(h gin.HandlerFunc) []gin.HandlerFunc {
		if opts.RateLimit != nil {
			return []gin.HandlerFunc{opts.RateLimit, h}
		}
		return []gin.HandlerFunc{h}
	}
	g.GET("/:tx", pg.getLogin)
	g.POST("/:tx/otp", post(pg.postOTP)...)
	g.POST("/:tx/authenticate", post(pg.postAuthenticate)...)
	g.GET("/:tx/consent", pg.getConsent)
	g.POST("/:tx/consent", post(pg.postConsent)...)
	g.POST("/:tx/cancel", post(pg.postCancel)...)
}

func (pg *pages) serveCSS(c *gin.Context) {
	c.Header("Cache-Control", "public, max-age=31536000, immutable")
	c.Data(http.StatusOK, "text/css; charset=utf-8", pg.a.css)
}

// cssURL is the stylesheet's URL.
func (pg *pages) cssURL() string { return pg.prefix + PathLogin + "/static/" + pg.a.cssFile }

// txURL is the URL of a transaction's page (sub is "", "/otp", ...) in lang.
func (pg *pages) txURL(txID, sub string, lang *pageLang) string {
	u := pg.prefix + PathLogin + "/" + url.PathEscape(txID) + sub
	if lang != nil {
		u += "?lang=" + url.QueryEscape(lang.Code)
	}
	return u
}

// lang chooses the language of a page about a transaction, remembering an
// explicit choice made with a GET.
func (pg *pages) lang(c *gin.Context, uiLocales []string) *pageLang {
	explicit := c.Query("lang")
	remembered, _ := c.Cookie(pageLangCookie)
	l := pickPageLang(pg.langs, explicit, remembered, uiLocales, c.GetHeader("Accept-Language"))
	if c.Request.Method == http.MethodGet && explicit != "" && pageLangCode(explicit) == l.Code && remembered != l.Code {
		http.SetCookie(c.Writer, &http.Cookie{
			Name: pageLangCookie, Value: l.Code, Path: cmp.Or(pg.prefix, "/"), MaxAge: 365 * 24 * 3600,
			HttpOnly: true, Secure: pg.opts.SecureCookies, SameSite: http.SameSiteLaxMode,
		})
	}
	return l
}

// pageData is what every template gets; a page uses the fields it needs.
type pageData struct {
	pageText
	Lang  *pageLang
	Title string
	CSS   string
	Langs []pageLangLink

	Client    *pageClient
	Error     *pageError
	CSRF      string
	Action    string // the main form's action
	ActOTP    string
	ActAuth   string
	ActCancel string
	LoginURL  string

	// Login and OTP pages.
	Choices     []pageChoice
	Factor      int
	Factors     []string // the chosen list's factor types
	HasOTP      bool
	LoginID     string
	Channels    map[string]bool
	MaskedPhone string
	MaskedEmail string
	SentAt      int64
	ResendIn    int // seconds
	OTPLength   int

	// Consent page.
	Essential []pageClaim
	Voluntary []pageClaim
	Scopes    []pageScope

	// Message pages.
	Msg *pageMsg
}

type pageLangLink struct {
	Code, Tag, Dir, Name, URL string
	Current                   bool
}

type pageClient struct {
	Name, Logo, Host, Purpose, PurposeSub string
}

// pageError is an error shown above a form; Fields are the form fields
// (names) it is about, which get aria-invalid and aria-describedby.
type pageError struct {
	Code    string
	Message string
	Fields  []string
}

type pageChoice struct {
	ID, Label, URL string
	Current        bool
}

type pageClaim struct {
	ID, Name, Label       string
	Essential, Available  bool
	Required, Unavailable string // the notes' texts
}

type pageScope struct {
	ID, Name, Label string
}

type pageMsg struct {
	Title, Body, Detail, Code, Back string
}

// Has reports whether the chosen factor list has factor type f.
func (d *pageData) Has(f string) bool { return slices.Contains(d.Factors, f) }

// ErrorOn reports whether the page's error is about field.
func (d *pageData) ErrorOn(field string) bool {
	return d.Error != nil && slices.Contains(d.Error.Fields, field)
}

// Describe is the aria-describedby of field: its hint's id, and the error's
// when the error is about it.
func (d *pageData) Describe(field, hint string) string {
	if d.ErrorOn(field) {
		return strings.TrimSpace(hint + " form-error")
	}
	return hint
}

// Channel reports whether OTP channel ch is chosen.
func (d *pageData) Channel(ch string) bool { return d.Channels[ch] }

// ChannelList is the chosen channels, in a fixed order.
func (d *pageData) ChannelList() []string {
	var out []string
	for _, ch := range pageOTPChannels {
		if d.Channels[ch] {
			out = append(out, ch)
		}
	}
	return out
}

func (pg *pages) data(lang *pageLang, title string) *pageData {
	t := pageText{lang: lang, eng: pg.a.langs["eng"]}
	return &pageData{pageText: t, Lang: lang, Title: t.T(title), CSS: pg.cssURL(), OTPLength: pg.opts.OTPLength}
}

// links fills the language switcher: each language's URL is link(lang).
func (pg *pages) links(d *pageData, link func(*pageLang) string) {
	if len(pg.langs) < 2 {
		return
	}
	for _, l := range pg.langs {
		d.Langs = append(d.Langs, pageLangLink{Code: l.Code, Tag: l.Tag, Dir: l.Dir, Name: l.Name, URL: link(l), Current: l == d.Lang})
	}
}

// txData is the data of a page about tx.
func (pg *pages) txData(c *gin.Context, lang *pageLang, tx *TxView, title string) *pageData {
	pageSecurityHeaders(c.Writer.Header(), cspSource(tx.RedirectURI))
	d := pg.data(lang, title)
	d.Client = pageClientOf(tx, lang)
	d.CSRF = tx.FormToken
	d.ActOTP = pg.txURL(tx.TransactionID, "/otp", lang)
	d.ActAuth = pg.txURL(tx.TransactionID, "/authenticate", lang)
	d.ActCancel = pg.txURL(tx.TransactionID, "/cancel", lang)
	d.LoginURL = pg.txURL(tx.TransactionID, "", lang)
	return d
}

// pageLocalized picks a text of a language map: the language's, the
// default ("@none"), English, else the first by key.
func pageLocalized(m map[string]string, lang *pageLang) string {
	for _, k := range []string{lang.Code, lang.Tag, "@none", "eng", "en"} {
		if s := strings.TrimSpace(m[k]); s != "" {
			return s
		}
	}
	for _, k := range slices.Sorted(maps.Keys(m)) {
		if s := strings.TrimSpace(m[k]); s != "" {
			return s
		}
	}
	return ""
}

func pageClientOf(tx *TxView, lang *pageLang) *pageClient {
	pc := &pageClient{Name: cmp.Or(pageLocalized(tx.ClientName, lang), tx.ClientID)}
	if u, err := url.Parse(tx.LogoURL); err == nil && u.Scheme == "https" && u.Host != "" {
		pc.Logo = u.String()
	}
	if u, err := url.Parse(tx.RedirectURI); err == nil {
		pc.Host = u.Host
		if pc.Host == "" {
			pc.Host = u.Scheme + ":"
		}
	}
	if p := tx.Purpose; p != nil {
		pc.Purpose = pageLocalized(p.Title, lang)
		pc.PurposeSub = pageLocalized(p.SubTitle, lang)
	}
	return pc
}

func (pg *pages) render(c *gin.Context, status int, name string, d *pageData) {
	var buf bytes.Buffer
	if err := pg.a.tmpl.ExecuteTemplate(&buf, name, d); err != nil {
		_ = c.Error(fmt.Errorf("oidc: login page %s: %w", name, err))
		c.String(http.StatusInternalServerError, "internal error")
		return
	}
	c.Data(status, "text/html; charset=utf-8", buf.Bytes())
}

// message renders a message page. txID, if not empty, gives the language
// links and the back link (with back set).
func (pg *pages) message(c *gin.Context, status int, lang *pageLang, txID, key string, back bool) {
	d := pg.data(lang, key+".title")
	d.Msg = &pageMsg{Title: d.T(key + ".title"), Body: d.T(key + ".body")}
	if txID != "" {
		pg.links(d, func(l *pageLang) string { return pg.txURL(txID, "", l) })
		if back {
			d.Msg.Back = pg.txURL(txID, "", lang)
		}
	}
	pg.render(c, status, "message", d)
}

// fail renders a failure of the flow: an unknown or expired transaction,
// or anything else (logged through c.Error, never shown).
func (pg *pages) fail(c *gin.Context, lang *pageLang, txID string, err error) {
	var ue *UIError
	var ae *authn.Error
	switch {
	case errors.As(err, &ue) && ue.Code == UIInvalidTransaction,
		errors.As(err, &ae) && ae.Code == authn.ErrInvalidTransaction.Code:
		pg.message(c, http.StatusBadRequest, lang, txID, "expired", false)
	case errors.As(err, &ue) && ue.Code != UIUnknownError:
		_ = c.Error(err)
		pg.message(c, http.StatusBadRequest, lang, txID, "error", false)
	default:
		_ = c.Error(err)
		pg.message(c, http.StatusInternalServerError, lang, txID, "error", false)
	}
}

// redirect sends the browser back to the client.
func (pg *pages) redirect(c *gin.Context, resp *AuthResponse) {
	c.Redirect(http.StatusSeeOther, resp.URL())
}

// pageFactors are the factor types the pages can collect, in field order.
var pageFactors = []string{authn.FactorOTP, authn.FactorPIN, authn.FactorPassword, authn.FactorKBI}

// pageOTPChannels are the OTP channels, in the order shown.
var pageOTPChannels = []string{"phone", "email"}

// factorList returns the types of factor list i if the pages can collect
// all of them.
func factorList(tx *TxView, i int) ([]string, bool) {
	if i < 0 || i >= len(tx.AuthFactors) || len(tx.AuthFactors[i]) == 0 {
		return nil, false
	}
	var types []string
	for _, f := range tx.AuthFactors[i] {
		if !slices.Contains(pageFactors, f.Type) || slices.Contains(types, f.Type) {
			return nil, false
		}
		types = append(types, f.Type)
	}
	return types, true
}

// loginData is the login page: factor list f (the first usable one if f is
// not usable), with form's login ID and channels.
func (pg *pages) loginData(c *gin.Context, lang *pageLang, tx *TxView, f int, form loginForm) *pageData {
	d := pg.txData(c, lang, tx, "login.title")
	d.Title = d.Tf("login.title", "client", d.Client.Name)
	if _, ok := factorList(tx, f); !ok {
		f = -1
		for i := range tx.AuthFactors {
			if _, ok := factorList(tx, i); ok {
				f = i
				break
			}
		}
	}
	listURL := func(i int, l *pageLang) string {
		u := pg.txURL(tx.TransactionID, "", l)
		if i > 0 {
			u += "&f=" + strconv.Itoa(i)
		}
		return u
	}
	seen := map[string]int{}
	for i := range tx.AuthFactors {
		types, ok := factorList(tx, i)
		if !ok {
			continue
		}
		id := "factor-" + strings.Join(types, "-")
		if seen[id]++; seen[id] > 1 {
			id += "-" + strconv.Itoa(i)
		}
		labels := make([]string, len(types))
		for j, t := range types {
			labels[j] = d.T("factor." + t)
		}
		d.Choices = append(d.Choices, pageChoice{ID: id, Label: strings.Join(labels, d.T("factor.and")),
			URL: listURL(i, lang), Current: i == f})
	}
	pg.links(d, func(l *pageLang) string { return listURL(max(f, 0), l) })
	d.Factor = f
	if f >= 0 {
		d.Factors, _ = factorList(tx, f)
	}
	d.HasOTP = d.Has(authn.FactorOTP)
	d.Action = d.ActAuth
	if d.HasOTP {
		d.Action = d.ActOTP
	}
	d.LoginID = form.LoginID
	d.Channels = form.channelSet()
	return d
}

// otpData is the OTP entry page.
func (pg *pages) otpData(c *gin.Context, lang *pageLang, tx *TxView, form loginForm) *pageData {
	d := pg.txData(c, lang, tx, "otp.title")
	d.Factor = form.Factor
	d.Factors, _ = factorList(tx, form.Factor)
	d.HasOTP = true
	d.LoginID = form.LoginID
	d.Channels = form.channelSet()
	d.MaskedPhone, d.MaskedEmail, d.SentAt = form.MaskedPhone, form.MaskedEmail, form.SentAt
	if form.SentAt > 0 {
		left := time.Unix(form.SentAt, 0).Add(pg.opts.ResendDelay).Sub(pg.opts.Now())
		d.ResendIn = int(min(max(left, 0), pg.opts.ResendDelay).Round(time.Second) / time.Second)
	}
	return d
}

// pageErrorOf is the error shown for an authentication error code on a
// form with factor types.
func pageErrorOf(t pageText, code string, types []string) *pageError {
	e := &pageError{Code: code}
	switch code {
	case authn.ErrInvalidIdentifier.Code, authn.ErrIndividualBlocked.Code, authn.ErrNoAttemptsLeft.Code:
		e.Fields = []string{"login_id"}
	case authn.ErrInvalidOTPChannel.Code, authn.ErrSendOTPFailed.Code:
		e.Fields = []string{"channel"}
	case authn.ErrOTPResendTooSoon.Code:
		e.Fields = []string{"resend"}
	case authn.ErrAuthFailed.Code, authn.ErrAuthFactorMismatch.Code:
		e.Fields = secretFields(types)
	case authn.ErrInvalidRequest.Code:
	default:
		code = "unknown"
	}
	e.Message = t.T("err." + code)
	return e
}

// secretFields are the form fields of factor types.
func secretFields(types []string) []string {
	var out []string
	for _, t := range types {
		switch t {
		case authn.FactorOTP:
			out = append(out, "otp")
		case authn.FactorPIN:
			out = append(out, "pin")
		case authn.FactorPassword:
			out = append(out, "password")
		case authn.FactorKBI:
			out = append(out, "kbi_full_name", "kbi_dob")
		}
	}
	return out
}

// postTx reads a form post about a transaction: the form, the transaction,
// the CSRF token. It renders the failure and returns false if any is wrong.
func (pg *pages) postTx(c *gin.Context) (*TxView, *pageLang, bool) {
	txID := c.Param("tx")
	if err := c.Request.ParseForm(); err != nil {
		_ = c.Error(fmt.Errorf("oidc: login form: %w", err))
		pg.message(c, http.StatusBadRequest, pg.lang(c, nil), txID, "error", false)
		return nil, nil, false
	}
	tx, err := pg.flow.Transaction(c.Request.Context(), txID)
	if err != nil {
		pg.fail(c, pg.lang(c, nil), txID, err)
		return nil, nil, false
	}
	lang := pg.lang(c, tx.UILocales)
	token := c.Request.PostForm["csrf"]
	if tx.FormToken == "" || len(token) != 1 || subtle.ConstantTimeCompare([]byte(token[0]), []byte(tx.FormToken)) != 1 {
		pg.message(c, http.StatusForbidden, lang, txID, "forbidden", true)
		return nil, nil, false
	}
	return tx, lang, true
}

func (pg *pages) getLogin(c *gin.Context) {
	txID := c.Param("tx")
	tx, err := pg.flow.Transaction(c.Request.Context(), txID)
	if err != nil {
		pg.fail(c, pg.lang(c, nil), txID, err)
		return
	}
	lang := pg.lang(c, tx.UILocales)
	if tx.State == TxAuthenticated {
		c.Redirect(http.StatusSeeOther, pg.txURL(tx.TransactionID, "/consent", lang))
		return
	}
	f, err := strconv.Atoi(c.Query("f"))
	if err != nil {
		f = 0
	}
	d := pg.loginData(c, lang, tx, f, loginForm{Channels: pageOTPChannels})
	pg.render(c, http.StatusOK, "login", d)
}

// showLogin renders the login page again with an error.
func (pg *pages) showLogin(c *gin.Context, lang *pageLang, tx *TxView, form loginForm, e *pageError) {
	d := pg.loginData(c, lang, tx, form.Factor, form)
	d.Error = e
	pg.render(c, http.StatusBadRequest, "login", d)
}

// showOTP renders the OTP page, with an error if e is not nil.
func (pg *pages) showOTP(c *gin.Context, lang *pageLang, tx *TxView, form loginForm, e *pageError) {
	d := pg.otpData(c, lang, tx, form)
	d.Error = e
	status := http.StatusOK
	if e != nil {
		status = http.StatusBadRequest
	}
	pg.render(c, status, "otp", d)
}

func (pg *pages) postOTP(c *gin.Context) {
	tx, lang, ok := pg.postTx(c)
	if !ok {
		return
	}
	t := pageText{lang: lang, eng: pg.a.langs["eng"]}
	form, err := parseLoginForm(c.Request.PostForm)
	types, usable := factorList(tx, form.Factor)
	var ae *authn.Error
	switch {
	case err != nil && errors.As(err, &ae):
		pg.showLogin(c, lang, tx, form, pageErrorOf(t, ae.Code, types))
		return
	case !usable || !slices.Contains(types, authn.FactorOTP):
		pg.showLogin(c, lang, tx, form, pageErrorOf(t, authn.ErrAuthFactorMismatch.Code, types))
		return
	case len(form.Channels) == 0:
		pg.showLogin(c, lang, tx, form, pageErrorOf(t, authn.ErrInvalidOTPChannel.Code, types))
		return
	}
	res, err := pg.flow.SendOTP(c.Request.Context(), tx.TransactionID, form.LoginID, form.Channels)
	if err != nil {
		if !errors.As(err, &ae) || ae.Code == authn.ErrInvalidTransaction.Code {
			pg.fail(c, lang, tx.TransactionID, err)
			return
		}
		if ae.Code == authn.ErrOTPResendTooSoon.Code || form.SentAt > 0 {
			// A code was sent a moment ago: it can still be entered.
			pg.showOTP(c, lang, tx, form, pageErrorOf(t, ae.Code, types))
			return
		}
		pg.showLogin(c, lang, tx, form, pageErrorOf(t, ae.Code, types))
		return
	}
	form.MaskedPhone, form.MaskedEmail = res.MaskedPhone, res.MaskedEmail
	form.SentAt = pg.opts.Now().Unix()
	pg.showOTP(c, lang, tx, form, nil)
}

func (pg *pages) postAuthenticate(c *gin.Context) {
	tx, lang, ok := pg.postTx(c)
	if !ok {
		return
	}
	t := pageText{lang: lang, eng: pg.a.langs["eng"]}
	form, err := parseLoginForm(c.Request.PostForm)
	types, usable := factorList(tx, form.Factor)
	show := func(e *pageError) {
		if usable && slices.Contains(types, authn.FactorOTP) {
			pg.showOTP(c, lang, tx, form, e)
		} else {
			pg.showLogin(c, lang, tx, form, e)
		}
	}
	var ae *authn.Error
	if err != nil && errors.As(err, &ae) {
		show(pageErrorOf(t, ae.Code, types))
		return
	}
	if !usable {
		show(pageErrorOf(t, authn.ErrAuthFactorMismatch.Code, types))
		return
	}
	challenges, missing := form.challenges(types)
	if len(missing) > 0 {
		show(&pageError{Code: "missing_value", Message: t.T("err.missing_value"), Fields: missing})
		return
	}
	action, err := pg.flow.Authenticate(c.Request.Context(), tx.TransactionID, form.LoginID, challenges)
	if err != nil {
		if !errors.As(err, &ae) || ae.Code == authn.ErrInvalidTransaction.Code {
			pg.fail(c, lang, tx.TransactionID, err)
			return
		}
		show(pageErrorOf(t, ae.Code, types))
		return
	}
	if action == ConsentNoCapture {
		resp, err := pg.flow.AuthCode(c.Request.Context(), tx.TransactionID, nil, nil)
		if err != nil {
			pg.fail(c, lang, tx.TransactionID, err)
			return
		}
		pg.redirect(c, resp)
		return
	}
	c.Redirect(http.StatusSeeOther, pg.txURL(tx.TransactionID, "/consent", lang))
}

// consentData is the consent page.
func (pg *pages) consentData(c *gin.Context, lang *pageLang, tx *TxView, cd *ClaimDetails) *pageData {
	d := pg.txData(c, lang, tx, "consent.title")
	d.Title = d.Tf("consent.title", "client", d.Client.Name)
	d.Action = pg.txURL(tx.TransactionID, "/consent", lang)
	d.ActCancel = "" // Decline is the consent page's cancel
	pg.links(d, func(l *pageLang) string { return pg.txURL(tx.TransactionID, "/consent", l) })
	statuses := slices.Clone(cd.ClaimStatus)
	for _, name := range slices.Concat(tx.EssentialClaims, tx.VoluntaryClaims) {
		if !slices.ContainsFunc(statuses, func(s ClaimStatus) bool { return s.Claim == name }) {
			statuses = append(statuses, ClaimStatus{Claim: name, Available: true})
		}
	}
	seen := map[string]bool{}
	for _, s := range statuses {
		if seen[s.Claim] {
			continue
		}
		seen[s.Claim] = true
		pc := pageClaim{ID: "claim-" + pageIDPart(s.Claim), Name: s.Claim, Label: ClaimLabel(s.Claim, lang.Code),
			Essential: s.Essential || slices.Contains(tx.EssentialClaims, s.Claim), Available: s.Available,
			Required: d.T("consent.required"), Unavailable: d.T("consent.unavailable")}
		if pc.Essential {
			d.Essential = append(d.Essential, pc)
		} else {
			d.Voluntary = append(d.Voluntary, pc)
		}
	}
	for _, s := range tx.AuthorizeScopes {
		d.Scopes = append(d.Scopes, pageScope{ID: "scope-" + pageIDPart(s), Name: s, Label: s})
	}
	return d
}

// pageIDPart makes a name usable in an id: [A-Za-z0-9_-] kept, anything
// else "_".
func pageIDPart(s string) string {
	return strings.Map(func(r rune) rune {
		if r < unicode.MaxASCII && (unicode.IsLetter(r) || unicode.IsDigit(r) || r == '_' || r == '-') {
			return r
		}
		return '_'
	}, s)
}

func (pg *pages) getConsent(c *gin.Context) {
	txID := c.Param("tx")
	ctx := c.Request.Context()
	tx, err := pg.flow.Transaction(ctx, txID)
	if err != nil {
		pg.fail(c, pg.lang(c, nil), txID, err)
		return
	}
	lang := pg.lang(c, tx.UILocales)
	if tx.State != TxAuthenticated {
		c.Redirect(http.StatusSeeOther, pg.txURL(tx.TransactionID, "", lang))
		return
	}
	cd, err := pg.flow.ClaimDetails(ctx, tx.TransactionID)
	if err != nil {
		pg.fail(c, lang, tx.TransactionID, err)
		return
	}
	pg.render(c, http.StatusOK, "consent", pg.consentData(c, lang, tx, cd))
}

func (pg *pages) postConsent(c *gin.Context) {
	tx, lang, ok := pg.postTx(c)
	if !ok {
		return
	}
	ctx := c.Request.Context()
	form := parseConsentForm(c.Request.PostForm)
	switch form.Action {
	case "decline":
		resp, err := pg.flow.Abort(ctx, tx.TransactionID, "consent_rejected", "the resident declined to share the requested claims")
		if err != nil {
			pg.fail(c, lang, tx.TransactionID, err)
			return
		}
		pg.redirect(c, resp)
	case "allow":
		accepted, permitted := form.choice(tx)
		resp, err := pg.flow.AuthCode(ctx, tx.TransactionID, accepted, permitted)
		if err != nil {
			pg.fail(c, lang, tx.TransactionID, err)
			return
		}
		pg.redirect(c, resp)
	default:
		cd, err := pg.flow.ClaimDetails(ctx, tx.TransactionID)
		if err != nil {
			pg.fail(c, lang, tx.TransactionID, err)
			return
		}
		d := pg.consentData(c, lang, tx, cd)
		d.Error = &pageError{Code: "invalid_request", Message: d.T("err.invalid_request")}
		pg.render(c, http.StatusBadRequest, "consent", d)
	}
}

func (pg *pages) postCancel(c *gin.Context) {
	tx, lang, ok := pg.postTx(c)
	if !ok {
		return
	}
	resp, err := pg.flow.Abort(c.Request.Context(), tx.TransactionID, "access_denied", "the resident cancelled the sign-in")
	if err != nil {
		pg.fail(c, lang, tx.TransactionID, err)
		return
	}
	pg.redirect(c, resp)
}

// Limits on login form values.
const (
	maxFormLoginID = 256
	maxFormToken   = 256
	maxFormSecret  = 1024
	maxFormShort   = 128
	maxFormFactor  = 64
)

// loginForm is a post of the login or OTP page, parsed once.
type loginForm struct {
	CSRF        string
	Action      string
	LoginID     string
	Factor      int // index into TxView.AuthFactors
	Channels    []string
	OTP         string
	PIN         string
	Password    string
	FullName    string // KBI
	DateOfBirth string // KBI, as typed or YYYY-MM-DD from a date input
	MaskedPhone string
	MaskedEmail string
	SentAt      int64 // unix seconds
}

// pageFormText reads a single-valued text field: "" if absent; ok false if
// repeated, over max bytes, not UTF-8 or holding control characters.
func pageFormText(v url.Values, name string, max int) (string, bool) {
	vs := v[name]
	if len(vs) == 0 {
		return "", true
	}
	s := vs[0]
	if len(vs) > 1 || len(s) > max || !utf8.ValidString(s) || strings.ContainsFunc(s, unicode.IsControl) {
		return "", false
	}
	return s, true
}

func pageAuthnError(sentinel *authn.Error) *authn.Error {
	return &authn.Error{Code: sentinel.Code, Description: sentinel.Description}
}

// parseLoginForm reads a login form post. On error (an *authn.Error:
// invalid_identifier, invalid_otp_channel, auth_factor_mismatch or
// invalid_request) the form holds what could be read, for showing the page
// again.
func parseLoginForm(v url.Values) (loginForm, error) {
	var f loginForm
	var errs []*authn.Error
	text := func(name string, max int, sentinel *authn.Error) string {
		s, ok := pageFormText(v, name, max)
		if !ok {
			errs = append(errs, pageAuthnError(sentinel))
		}
		return s
	}
	f.CSRF = text("csrf", maxFormToken, authn.ErrInvalidRequest)
	f.Action = text("action", maxFormShort, authn.ErrInvalidRequest)
	f.LoginID = strings.TrimSpace(text("login_id", maxFormLoginID, authn.ErrInvalidIdentifier))
	if s := text("factor", maxFormShort, authn.ErrAuthFactorMismatch); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 0 || n >= maxFormFactor {
			errs = append(errs, pageAuthnError(authn.ErrAuthFactorMismatch))
		} else {
			f.Factor = n
		}
	}
	for _, ch := range v["channel"] {
		if !slices.Contains(pageOTPChannels, ch) {
			errs = append(errs, pageAuthnError(authn.ErrInvalidOTPChannel))
			break
		}
		if !slices.Contains(f.Channels, ch) {
			f.Channels = append(f.Channels, ch)
		}
	}
	f.OTP = strings.Join(strings.Fields(text("otp", maxFormShort, authn.ErrAuthFactorMismatch)), "")
	f.PIN = strings.TrimSpace(text("pin", maxFormShort, authn.ErrAuthFactorMismatch))
	f.Password = text("password", maxFormSecret, authn.ErrAuthFactorMismatch)
	f.FullName = strings.TrimSpace(text("kbi_full_name", maxFormLoginID, authn.ErrAuthFactorMismatch))
	f.DateOfBirth = strings.TrimSpace(text("kbi_dob", maxFormShort, authn.ErrAuthFactorMismatch))
	// The rest only feeds the OTP page's display; a bad value is dropped.
	f.MaskedPhone, _ = pageFormText(v, "masked_phone", maxFormShort)
	f.MaskedEmail, _ = pageFormText(v, "masked_email", maxFormShort)
	if s, ok := pageFormText(v, "sent_at", maxFormShort); ok && s != "" {
		if n, err := strconv.ParseInt(s, 10, 64); err == nil && n > 0 {
			f.SentAt = n
		}
	}
	if len(errs) > 0 {
		return f, errs[0]
	}
	return f, f.Validate()
}

// Validate checks what every post needs: a login ID. Which secrets are
// needed depends on the factor list (see challenges).
func (f loginForm) Validate() error {
	if f.LoginID == "" {
		return pageAuthnError(authn.ErrInvalidIdentifier)
	}
	return nil
}

// channelSet is the chosen channels as a set.
func (f loginForm) channelSet() map[string]bool {
	m := make(map[string]bool, len(f.Channels))
	for _, ch := range f.Channels {
		m[ch] = true
	}
	return m
}

// kbiAnswers is a knowledge-based challenge's JSON (authn's KBIFields,
// fullName and dateOfBirth by default).
type kbiAnswers struct {
	FullName    string `json:"fullName"`
	DateOfBirth string `json:"dateOfBirth"`
}

// challenges builds the challenges of factor types from the form, in the
// list's order, or returns the fields left empty.
func (f loginForm) challenges(types []string) (challenges []authn.Challenge, missing []string) {
	need := func(field, value string) bool {
		if value == "" {
			missing = append(missing, field)
			return false
		}
		return true
	}
	for _, t := range types {
		switch t {
		case authn.FactorOTP:
			if need("otp", f.OTP) {
				challenges = append(challenges, authn.Challenge{Factor: t, Value: f.OTP, Format: "alpha-numeric"})
			}
		case authn.FactorPIN:
			if need("pin", f.PIN) {
				challenges = append(challenges, authn.Challenge{Factor: t, Value: f.PIN, Format: "number"})
			}
		case authn.FactorPassword:
			if need("password", f.Password) {
				challenges = append(challenges, authn.Challenge{Factor: t, Value: f.Password, Format: "alpha-numeric"})
			}
		case authn.FactorKBI:
			okName, okDOB := need("kbi_full_name", f.FullName), need("kbi_dob", f.DateOfBirth)
			if okName && okDOB {
				b, _ := json.Marshal(kbiAnswers{FullName: f.FullName, DateOfBirth: f.DateOfBirth})
				challenges = append(challenges, authn.Challenge{Factor: t, Value: base64.RawURLEncoding.EncodeToString(b),
					Format: "base64url-encoded-json"})
			}
		default:
			missing = append(missing, t)
		}
	}
	if len(missing) > 0 {
		return nil, missing
	}
	return challenges, nil
}

// consentForm is a post of the consent page.
type consentForm struct {
	Action string
	Claims []string
	Scopes []string
}

// parseConsentForm reads a consent post. Unknown names are kept here and
// dropped by choice.
func parseConsentForm(v url.Values) consentForm {
	f := consentForm{}
	f.Action, _ = pageFormText(v, "action", maxFormShort)
	f.Claims = v["claim"]
	f.Scopes = v["scope"]
	return f
}

// choice is what the resident accepted: every essential claim (always; see
// the top of this file), the voluntary claims and authorize scopes checked,
// in the transaction's order, without names it did not request.
func (f consentForm) choice(tx *TxView) (accepted, permitted []string) {
	accepted, permitted = []string{}, []string{}
	for _, c := range tx.EssentialClaims {
		if !slices.Contains(accepted, c) {
			accepted = append(accepted, c)
		}
	}
	for _, c := range tx.VoluntaryClaims {
		if slices.Contains(f.Claims, c) && !slices.Contains(accepted, c) {
			accepted = append(accepted, c)
		}
	}
	for _, s := range tx.AuthorizeScopes {
		if slices.Contains(f.Scopes, s) && !slices.Contains(permitted, s) {
			permitted = append(permitted, s)
		}
	}
	return accepted, permitted
}

// renderAuthorizeError shows an authorization error that must not be
// redirected (unknown client, unregistered redirect URI, ...): a title and
// explanation in the resident's language, the error's Description (safe
// to show, in English) and code. Status e.Status, 400 if unset.
func renderAuthorizeError(c *gin.Context, opts frontEndOptions, e *Error, uiLocales string) {
	if e == nil {
		e = ErrServerError(nil)
	}
	pg := newPages(nil, opts)
	remembered, _ := c.Cookie(pageLangCookie)
	explicit := c.Query("lang")
	lang := pickPageLang(pg.langs, explicit, remembered, strings.Fields(uiLocales), c.GetHeader("Accept-Language"))
	pageSecurityHeaders(c.Writer.Header(), "")
	d := pg.data(lang, "authz.title")
	d.Msg = &pageMsg{Title: d.T("authz.title"), Body: d.T("authz.body"), Detail: e.Description, Code: e.Code}
	if e.Code == CodeServerError {
		d.Msg.Body, d.Msg.Detail = d.T("authz.server_error"), ""
	}
	if c.Request.Method == http.MethodGet {
		// A query-only reference: the same /authorize request in another
		// language, wherever the provider is mounted.
		pg.links(d, func(l *pageLang) string {
			q := c.Request.URL.Query()
			q.Set("lang", l.Code)
			return "?" + q.Encode()
		})
	}
	status := e.Status
	if status < 400 || status > 599 {
		status = http.StatusBadRequest
	}
	pg.render(c, status, "message", d)
}
