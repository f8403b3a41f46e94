package oidc

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/gin-gonic/gin"
	"golang.org/x/net/html"

	"github.com/sanad-id/sanad/idrepo/authn"
)

// The resident of the fake flow and their factors.
const (
	pagesLoginID  = "5830174926"
	pagesOTP      = "111111"
	pagesPIN      = "482916"
	pagesPassword = "correct-horse-9"
	pagesName     = "Amina Diallo"
	pagesDOB      = "1990-07-25"
)

// pagesFlow is an in-memory LoginFlow for the pages' tests.
type pagesFlow struct {
	mu       sync.Mutex
	txs      map[string]*TxView
	claims   []ClaimStatus
	consent  string // the consent action of a successful Authenticate
	sendErr  error
	calls    []string // every call but Transaction
	loginID  string
	channels []string
	chals    []authn.Challenge
	accepted []string
	permits  []string
	aborted  string
}

var _ LoginFlow = (*pagesFlow)(nil)

func newPagesFlow(txs ...*TxView) *pagesFlow {
	f := &pagesFlow{txs: map[string]*TxView{}, consent: ConsentCapture, claims: []ClaimStatus{
		{Claim: "name", Available: true, Verified: true, Essential: true},
		{Claim: "birthdate", Available: true, Essential: true},
		{Claim: "email", Available: true},
		{Claim: "phone_number", Available: true},
		{Claim: "picture", Available: false},
	}}
	for _, tx := range txs {
		f.txs[tx.TransactionID] = tx
	}
	return f
}

// pagesTx is a transaction of the demo bank with factor lists.
func pagesTx(id string, lists ...[]string) *TxView {
	tx := &TxView{
		TransactionID: id, State: TxNew, ClientID: "demo-bank",
		ClientName:      map[string]string{"@none": "Demo Bank", "fra": "Banque Démo", "ara": "البنك التجريبي"},
		LogoURL:         "https://bank.example/logo.png",
		RedirectURI:     "https://bank.example/callback",
		EssentialClaims: []string{"birthdate", "name"},
		VoluntaryClaims: []string{"email", "phone_number", "picture"},
		AuthorizeScopes: []string{"payments"},
		Purpose:         &ClientPurpose{Type: "login", Title: map[string]string{"@none": "Open an account"}},
		FormToken:       "form-token-" + id,
	}
	for _, l := range lists {
		var fl []AuthFactor
		for _, t := range l {
			fl = append(fl, AuthFactor{Type: t})
		}
		tx.AuthFactors = append(tx.AuthFactors, fl)
	}
	return tx
}

func (f *pagesFlow) call(name string) {
	f.calls = append(f.calls, name)
}

func (f *pagesFlow) tx(id string, state string) (*TxView, error) {
	tx, ok := f.txs[id]
	if !ok || (state != "" && tx.State != state) {
		return nil, &UIError{Code: UIInvalidTransaction, Description: "invalid transaction"}
	}
	return tx, nil
}

func (f *pagesFlow) callList() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.calls)
}

func (f *pagesFlow) StartTransaction(context.Context, AuthorizationRequest) (*TxView, error) {
	return nil, errors.New("not used")
}

func (f *pagesFlow) StartPARTransaction(context.Context, string, string) (*TxView, error) {
	return nil, errors.New("not used")
}

func (f *pagesFlow) Transaction(_ context.Context, txID string) (*TxView, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	tx, err := f.tx(txID, "")
	if err != nil {
		return nil, err
	}
	cp := *tx
	return &cp, nil
}

func (f *pagesFlow) SendOTP(_ context.Context, txID, loginID string, channels []string) (authn.SendOTPResult, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.call("SendOTP")
	if _, err := f.tx(txID, TxNew); err != nil {
		return authn.SendOTPResult{}, err
	}
	f.loginID, f.channels = loginID, slices.Clone(channels)
	if f.sendErr != nil {
		return authn.SendOTPResult{}, f.sendErr
	}
	var res authn.SendOTPResult
	if slices.Contains(channels, "email") {
		res.MaskedEmail = "am***@example.org"
	}
	if slices.Contains(channels, "phone") {
		res.MaskedPhone = "******4926"
	}
	return res, nil
}

func (f *pagesFlow) Authenticate(_ context.Context, txID, loginID string, challenges []authn.Challenge) (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.call("Authenticate")
	tx, err := f.tx(txID, TxNew)
	if err != nil {
		return "", err
	}
	f.loginID, f.chals = loginID, slices.Clone(challenges)
	var got []string
	for _, c := range challenges {
		got = append(got, c.Factor)
	}
	if !slices.ContainsFunc(tx.AuthFactors, func(l []AuthFactor) bool {
		var want []string
		for _, a := range l {
			want = append(want, a.Type)
		}
		return slices.Equal(want, got)
	}) {
		return "", &authn.Error{Code: "auth_factor_mismatch", Description: "auth factor mismatch"}
	}
	ok := loginID == pagesLoginID
	for _, c := range challenges {
		switch c.Factor {
		case "OTP":
			ok = ok && c.Value == pagesOTP && c.Format == "alpha-numeric"
		case "PIN":
			ok = ok && c.Value == pagesPIN && c.Format == "number"
		case "PWD":
			ok = ok && c.Value == pagesPassword && c.Format == "alpha-numeric"
		case "KBI":
			b, err := base64.RawURLEncoding.DecodeString(c.Value)
			var a map[string]string
			ok = ok && err == nil && json.Unmarshal(b, &a) == nil && a["fullName"] == pagesName &&
				a["dateOfBirth"] == pagesDOB && c.Format == "base64url-encoded-json"
		}
	}
	if !ok {
		return "", &authn.Error{Code: "auth_failed", Description: "authentication failed"}
	}
	tx.State, tx.ConsentAction = TxAuthenticated, f.consent
	return f.consent, nil
}

func (f *pagesFlow) ClaimDetails(_ context.Context, txID string) (*ClaimDetails, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.call("ClaimDetails")
	tx, err := f.tx(txID, TxAuthenticated)
	if err != nil {
		return nil, err
	}
	return &ClaimDetails{TransactionID: txID, ConsentAction: tx.ConsentAction, ClaimStatus: slices.Clone(f.claims)}, nil
}

func (f *pagesFlow) AuthCode(_ context.Context, txID string, accepted, permitted []string) (*AuthResponse, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.call("AuthCode")
	tx, err := f.tx(txID, TxAuthenticated)
	if err != nil {
		return nil, err
	}
	f.accepted, f.permits = accepted, permitted
	for _, c := range tx.EssentialClaims {
		if tx.ConsentAction == ConsentCapture && !slices.Contains(accepted, c) {
			return nil, &UIError{Code: UIInvalidAcceptedClaim, Description: "essential claim missing"}
		}
	}
	delete(f.txs, txID)
	return &AuthResponse{RedirectURI: tx.RedirectURI, Code: "code-" + txID, State: "st-1", Issuer: "https://id.example"}, nil
}

func (f *pagesFlow) Abort(_ context.Context, txID, errorCode, description string) (*AuthResponse, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.call("Abort")
	tx, err := f.tx(txID, "")
	if err != nil {
		return nil, err
	}
	f.aborted = errorCode
	delete(f.txs, txID)
	return &AuthResponse{RedirectURI: tx.RedirectURI, Error: errorCode, ErrorDescription: description,
		State: "st-1", Issuer: "https://id.example"}, nil
}

// pagesClock is a settable clock.
type pagesClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *pagesClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *pagesClock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// pagesEnv is a test server with the pages of a fake flow.
type pagesEnv struct {
	srv    *httptest.Server
	flow   *pagesFlow
	clock  *pagesClock
	client *http.Client
}

func newPagesEnv(t *testing.T, flow *pagesFlow, edit ...func(*frontEndOptions)) *pagesEnv {
	t.Helper()
	clock := &pagesClock{t: time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)}
	opts := frontEndOptions{
		Issuer:      "https://id.example",
		Languages:   []string{"eng", "fra", "ara"},
		OTPLength:   6,
		ResendDelay: 30 * time.Second,
		Now:         clock.Now,
	}
	for _, e := range edit {
		e(&opts)
	}
	r := gin.New()
	registerPages(r, flow, opts)
	r.GET("/authorize", func(c *gin.Context) {
		renderAuthorizeError(c, opts, &Error{Code: c.Query("code"), Description: c.Query("desc"), Status: 400}, c.Query("ui_locales"))
	})
	srv := httptest.NewServer(r)
	t.Cleanup(srv.Close)
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	client := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	return &pagesEnv{srv: srv, flow: flow, clock: clock, client: client}
}

// pagesPage is a response: status, headers, body and parsed document.
type pagesPage struct {
	status int
	header http.Header
	body   string
	doc    *html.Node
}

func (e *pagesEnv) do(t *testing.T, method, path string, form url.Values, header ...string) *pagesPage {
	t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, e.srv.URL+path, body)
	if err != nil {
		t.Fatal(err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := e.client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	p := &pagesPage{status: resp.StatusCode, header: resp.Header, body: string(b)}
	if strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") {
		if p.doc, err = html.Parse(strings.NewReader(p.body)); err != nil {
			t.Fatal(err)
		}
	}
	return p
}

func (e *pagesEnv) get(t *testing.T, path string, header ...string) *pagesPage {
	t.Helper()
	return e.do(t, http.MethodGet, path, nil, header...)
}

// submit posts form id of page p the way a browser would, with the
// submitting button's action value and the fields in set replaced.
func (e *pagesEnv) submit(t *testing.T, p *pagesPage, id, action string, set url.Values) *pagesPage {
	t.Helper()
	path, v := pagesForm(t, p, id)
	if action != "" {
		v.Set("action", action)
	}
	for k, vs := range set {
		v[k] = vs
	}
	return e.do(t, http.MethodPost, path, v)
}

func pagesWalk(n *html.Node, f func(*html.Node)) {
	f(n)
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		pagesWalk(c, f)
	}
}

func pagesAttr(n *html.Node, key string) (string, bool) {
	for _, a := range n.Attr {
		if a.Key == key {
			return a.Val, true
		}
	}
	return "", false
}

func pagesByID(doc *html.Node, id string) *html.Node {
	var found *html.Node
	pagesWalk(doc, func(n *html.Node) {
		if v, _ := pagesAttr(n, "id"); n.Type == html.ElementNode && v == id && found == nil {
			found = n
		}
	})
	return found
}

func (p *pagesPage) el(t *testing.T, id string) *html.Node {
	t.Helper()
	n := pagesByID(p.doc, id)
	if n == nil {
		t.Fatalf("no element #%s in page:\n%s", id, p.body)
	}
	return n
}

func (p *pagesPage) attr(t *testing.T, id, key string) string {
	t.Helper()
	v, _ := pagesAttr(p.el(t, id), key)
	return v
}

func pagesText(n *html.Node) string {
	var b strings.Builder
	pagesWalk(n, func(n *html.Node) {
		if n.Type == html.TextNode {
			b.WriteString(n.Data)
		}
	})
	return strings.Join(strings.Fields(b.String()), " ")
}

// pagesForm returns a form's action and the values a browser would send
// without a submit button: enabled named inputs, checkboxes if checked.
func pagesForm(t *testing.T, p *pagesPage, id string) (string, url.Values) {
	t.Helper()
	form := p.el(t, id)
	action, _ := pagesAttr(form, "action")
	v := url.Values{}
	pagesWalk(form, func(n *html.Node) {
		if n.Type != html.ElementNode || n.Data != "input" {
			return
		}
		name, _ := pagesAttr(n, "name")
		if _, disabled := pagesAttr(n, "disabled"); disabled || name == "" {
			return
		}
		typ, _ := pagesAttr(n, "type")
		value, _ := pagesAttr(n, "value")
		if typ == "checkbox" || typ == "radio" {
			if _, checked := pagesAttr(n, "checked"); !checked {
				return
			}
			if value == "" {
				value = "on"
			}
		}
		v.Add(name, value)
	})
	return action, v
}

// pagesLoad returns the embedded assets.
func pagesLoad(t testing.TB) *pageAssets {
	t.Helper()
	a, err := loadedPageAssets()
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func pagesT(t testing.TB, lang, key string) string {
	a := pagesLoad(t)
	return pageText{lang: a.langs[lang], eng: a.langs["eng"]}.T(key)
}

// checkPage checks what every page must have: security headers, the
// language, valid ids, labels, described-by targets, weight.
func checkPage(t *testing.T, p *pagesPage, lang string) {
	t.Helper()
	a := pagesLoad(t)
	l := a.langs[lang]
	csp := p.header.Get("Content-Security-Policy")
	for _, want := range []string{"default-src 'none'", "style-src 'self'", "form-action 'self'", "frame-ancestors 'none'", "base-uri 'none'"} {
		if !strings.Contains(csp, want) {
			t.Errorf("CSP %q lacks %q", csp, want)
		}
	}
	if strings.Contains(csp, "unsafe-inline") || strings.Contains(csp, "unsafe-eval") || strings.Contains(csp, "script-src") {
		t.Errorf("CSP %q allows scripts or inline code", csp)
	}
	for k, want := range map[string]string{"Cache-Control": "no-store", "Referrer-Policy": "no-referrer",
		"X-Frame-Options": "DENY", "X-Content-Type-Options": "nosniff", "Content-Type": "text/html; charset=utf-8"} {
		if got := p.header.Get(k); got != want {
			t.Errorf("header %s = %q, want %q", k, got, want)
		}
	}
	var root *html.Node
	pagesWalk(p.doc, func(n *html.Node) {
		if n.Type == html.ElementNode && n.Data == "html" {
			root = n
		}
	})
	if got, _ := pagesAttr(root, "lang"); got != l.Tag {
		t.Errorf("html lang = %q, want %q", got, l.Tag)
	}
	if got, _ := pagesAttr(root, "dir"); got != l.Dir {
		t.Errorf("html dir = %q, want %q", got, l.Dir)
	}
	ids := map[string]bool{}
	labels := map[string]bool{}
	pagesWalk(p.doc, func(n *html.Node) {
		if n.Type != html.ElementNode {
			return
		}
		switch n.Data {
		case "script", "style":
			t.Errorf("page has a <%s> element", n.Data)
		case "label":
			f, _ := pagesAttr(n, "for")
			labels[f] = true
		}
		for _, a := range n.Attr {
			if a.Key == "style" || strings.HasPrefix(a.Key, "on") {
				t.Errorf("<%s> has inline %s", n.Data, a.Key)
			}
		}
		if id, ok := pagesAttr(n, "id"); ok {
			if ids[id] {
				t.Errorf("id %q is not unique", id)
			}
			ids[id] = true
		}
	})
	pagesWalk(p.doc, func(n *html.Node) {
		if n.Type != html.ElementNode {
			return
		}
		id, _ := pagesAttr(n, "id")
		typ, _ := pagesAttr(n, "type")
		if n.Data == "input" && typ != "hidden" {
			if name, _ := pagesAttr(n, "name"); id == "" || (name == "" && !hasAttr(n, "disabled")) {
				t.Errorf("input %v lacks an id or a name", n.Attr)
			}
			if !labels[id] {
				t.Errorf("input #%s has no label", id)
			}
		}
		if n.Data == "button" {
			if name, _ := pagesAttr(n, "name"); id == "" || name != "action" {
				t.Errorf("button %v lacks an id or name=action", n.Attr)
			}
		}
		if d, ok := pagesAttr(n, "aria-describedby"); ok {
			for ref := range strings.FieldsSeq(d) {
				if !ids[ref] {
					t.Errorf("aria-describedby names #%s, which is not in the page", ref)
				}
			}
		}
	})
	// No message key or placeholder leaks into the text.
	text := pagesText(p.doc)
	for key := range a.langs["eng"].msgs {
		if regexp.MustCompile(`(^|\s)` + regexp.QuoteMeta(key) + `(\s|$)`).MatchString(text) {
			t.Errorf("page shows the message key %q", key)
		}
	}
	if strings.Contains(text, "{") {
		t.Errorf("page shows a placeholder: %s", text)
	}
	if weight := len(p.body) + len(a.css); weight >= 30<<10 {
		t.Errorf("page weight (HTML + CSS) = %d bytes, want < 30 KB", weight)
	}
}

func hasAttr(n *html.Node, key string) bool {
	_, ok := pagesAttr(n, key)
	return ok
}

func TestPagesTranslationsComplete(t *testing.T) {
	a := pagesLoad(t)
	for _, code := range []string{"eng", "fra", "ara"} {
		l := a.langs[code]
		if l == nil {
			t.Fatalf("no %s translation", code)
		}
		for key, m := range a.langs["eng"].msgs {
			lm, ok := l.msgs[key]
			if !ok {
				t.Errorf("%s lacks %q", code, key)
				continue
			}
			if (m.forms == nil) != (lm.forms == nil) {
				t.Errorf("%s %q: plural forms in one language and not the other", code, key)
			}
		}
		for key := range l.msgs {
			if _, ok := a.langs["eng"].msgs[key]; !ok {
				t.Errorf("%s has %q, which English lacks", code, key)
			}
		}
	}
	if l := a.langs["ara"]; l.Tag != "ar" || l.Dir != "rtl" {
		t.Errorf("ara = %s %s, want ar rtl", l.Tag, l.Dir)
	}
	// Arabic plurals: 1, 2, 3-10 and 11-99 take different forms.
	tx := pageText{lang: a.langs["ara"], eng: a.langs["eng"]}
	seen := map[string]int{}
	for _, n := range []int{1, 2, 6, 30} {
		s := tx.TN("otp.resend_in", n)
		if _, dup := seen[s]; dup || strings.Contains(s, "{n}") {
			t.Errorf("TN(otp.resend_in, %d) = %q: not a distinct form", n, s)
		}
		seen[s] = n
	}
	if got := (pageText{lang: a.langs["eng"], eng: a.langs["eng"]}).TN("otp.resend_in", 1); got != "You can ask for a new code in 1 second." {
		t.Errorf("TN(otp.resend_in, 1) = %q", got)
	}
}

func TestPagesRenderLanguages(t *testing.T) {
	for _, lang := range []string{"eng", "fra", "ara"} {
		t.Run(lang, func(t *testing.T) {
			flow := newPagesFlow(pagesTx("tx1", []string{"OTP"}, []string{"PIN"}, []string{"PWD", "KBI"}))
			e := newPagesEnv(t, flow)
			weights := map[string]int{}
			css := len(pagesLoad(t).css)

			login := e.get(t, "/login/tx1?lang="+lang)
			if login.status != http.StatusOK {
				t.Fatalf("GET login = %d:\n%s", login.status, login.body)
			}
			checkPage(t, login, lang)
			weights["login"] = len(login.body)
			if got, want := pagesText(login.el(t, "login-form")), pagesT(t, lang, "field.login_id"); !strings.Contains(got, want) {
				t.Errorf("login form %q lacks %q", got, want)
			}
			if name := map[string]string{"eng": "Demo Bank", "fra": "Banque Démo", "ara": "البنك التجريبي"}[lang]; !strings.Contains(login.body, name) {
				t.Errorf("login page lacks the client name %q", name)
			}
			for _, id := range []string{"factor-OTP", "factor-PIN", "factor-PWD-KBI", "login-id", "channel-phone", "channel-email", "send-otp", "cancel", "lang-eng", "lang-fra", "lang-ara"} {
				login.el(t, id)
			}
			if got := login.attr(t, "factor-OTP", "aria-current"); got != "true" {
				t.Errorf("factor-OTP aria-current = %q, want true", got)
			}
			if !strings.Contains(login.body, "bank.example") || !strings.Contains(login.body, "https://bank.example/logo.png") {
				t.Error("login page lacks the redirect host or the logo")
			}

			pin := e.get(t, "/login/tx1?lang="+lang+"&f=1")
			checkPage(t, pin, lang)
			pin.el(t, "pin")
			pin.el(t, "submit")
			weights["login-pin"] = len(pin.body)
			kbi := e.get(t, "/login/tx1?lang="+lang+"&f=2")
			checkPage(t, kbi, lang)
			for _, id := range []string{"password", "kbi-full-name", "kbi-dob"} {
				kbi.el(t, id)
			}
			weights["login-pwd-kbi"] = len(kbi.body)

			otp := e.submit(t, login, "login-form", "send-otp", url.Values{"login_id": {pagesLoginID}})
			if otp.status != http.StatusOK {
				t.Fatalf("send OTP = %d:\n%s", otp.status, otp.body)
			}
			checkPage(t, otp, lang)
			weights["otp"] = len(otp.body)
			if want := pagesT(t, lang, "otp.title"); !strings.Contains(otp.body, want) {
				t.Errorf("OTP page lacks %q", want)
			}

			done := e.submit(t, otp, "otp-form", "submit", url.Values{"otp": {pagesOTP}})
			if done.status != http.StatusSeeOther {
				t.Fatalf("authenticate = %d:\n%s", done.status, done.body)
			}
			consent := e.get(t, done.header.Get("Location"))
			if consent.status != http.StatusOK {
				t.Fatalf("GET consent = %d:\n%s", consent.status, consent.body)
			}
			checkPage(t, consent, lang)
			weights["consent"] = len(consent.body)
			if want := ClaimLabel("birthdate", lang); !strings.Contains(pagesText(consent.el(t, "consent-form")), want) {
				t.Errorf("consent page lacks the label %q", want)
			}

			expired := e.get(t, "/login/nope?lang="+lang)
			if expired.status != http.StatusBadRequest {
				t.Errorf("GET unknown transaction = %d, want 400", expired.status)
			}
			checkPage(t, expired, lang)
			weights["expired"] = len(expired.body)

			authz := e.get(t, "/authorize?code=invalid_client&desc=unknown+client&ui_locales="+pagesLoad(t).langs[lang].Tag)
			checkPage(t, authz, lang)
			weights["authorize-error"] = len(authz.body)
			for page, w := range weights {
				t.Logf("%s: %d bytes HTML + %d bytes CSS", page, w, css)
			}
		})
	}
}

func TestPagesLanguageSelection(t *testing.T) {
	a := pagesLoad(t)
	langs := a.pageLangs([]string{"fra", "eng", "ara"})
	tests := []struct {
		name                     string
		explicit, cookie, accept string
		ui                       []string
		want                     string
	}{
		{"default is the first configured", "", "", "", nil, "fra"},
		{"explicit wins", "ara", "eng", "en", []string{"eng"}, "ara"},
		{"explicit BCP 47", "ar", "", "", nil, "ara"},
		{"unsupported explicit ignored", "deu", "eng", "", nil, "eng"},
		{"cookie before ui_locales", "", "ara", "", []string{"eng"}, "ara"},
		{"first supported ui_locale", "", "", "ar", []string{"deu", "eng", "ara"}, "eng"},
		{"Accept-Language by weight", "", "", "de, ar;q=0.9, en;q=0.8", nil, "ara"},
		{"Accept-Language weight order", "", "", "en;q=0.2, fr-CA;q=0.7", nil, "fra"},
		{"Accept-Language q=0 dropped", "", "", "ar;q=0, en", nil, "eng"},
		{"bad Accept-Language entries skipped", "", "", "!!, en-GB;q=x, ar-EG", nil, "ara"},
		{"und is nothing", "", "", "*, und", nil, "fra"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := pickPageLang(langs, tt.explicit, tt.cookie, tt.ui, tt.accept).Code; got != tt.want {
				t.Errorf("pickPageLang(%q, %q, %v, %q) = %s, want %s", tt.explicit, tt.cookie, tt.ui, tt.accept, got, tt.want)
			}
		})
	}

	tx := pagesTx("tx1", []string{"PIN"})
	tx.UILocales = []string{"fra"}
	e := newPagesEnv(t, newPagesFlow(tx))
	lang := func(p *pagesPage) string {
		m := regexp.MustCompile(`<html lang="([^"]+)"`).FindStringSubmatch(p.body)
		if m == nil {
			t.Fatalf("no html lang in %s", p.body)
		}
		return m[1]
	}
	if got := lang(e.get(t, "/login/tx1", "Accept-Language", "ar")); got != "fr" {
		t.Errorf("with ui_locales fra and Accept-Language ar: lang %s, want fr", got)
	}
	p := e.get(t, "/login/tx1?lang=ara")
	if got := lang(p); got != "ar" {
		t.Errorf("?lang=ara: lang %s, want ar", got)
	}
	if c := p.header.Get("Set-Cookie"); !strings.Contains(c, "sanad_lang=ara") || !strings.Contains(c, "HttpOnly") {
		t.Errorf("?lang=ara: Set-Cookie %q, want sanad_lang=ara; HttpOnly", c)
	}
	if got := lang(e.get(t, "/login/tx1")); got != "ar" {
		t.Errorf("after choosing ara: lang %s, want ar (cookie)", got)
	}
	if got := e.get(t, "/login/tx1?lang=xx").header.Get("Set-Cookie"); got != "" {
		t.Errorf("?lang=xx: Set-Cookie %q, want none", got)
	}
}

func TestPagesOTPFlow(t *testing.T) {
	flow := newPagesFlow(pagesTx("tx1", []string{"OTP"}, []string{"PIN"}))
	e := newPagesEnv(t, flow)
	login := e.get(t, "/login/tx1")
	csp := login.header.Get("Content-Security-Policy")
	if !strings.Contains(csp, "form-action 'self' https://bank.example;") {
		t.Errorf("CSP %q: form-action does not allow the client's redirect origin", csp)
	}
	otp := e.submit(t, login, "login-form", "send-otp", url.Values{"login_id": {" " + pagesLoginID + " "}})
	if otp.status != http.StatusOK {
		t.Fatalf("send OTP = %d:\n%s", otp.status, otp.body)
	}
	if flow.loginID != pagesLoginID || !slices.Equal(flow.channels, []string{"phone", "email"}) {
		t.Errorf("SendOTP(%q, %v), want (%q, [phone email])", flow.loginID, flow.channels, pagesLoginID)
	}
	for _, want := range []string{"******4926", "am***@example.org", pagesLoginID} {
		if !strings.Contains(otp.body, want) {
			t.Errorf("OTP page lacks %q", want)
		}
	}
	in := otp.el(t, "otp")
	for k, want := range map[string]string{"inputmode": "numeric", "autocomplete": "one-time-code", "maxlength": "6", "minlength": "6"} {
		if got, _ := pagesAttr(in, k); got != want {
			t.Errorf("otp input %s = %q, want %q", k, got, want)
		}
	}
	if got, want := pagesText(otp.el(t, "resend-wait")), "You can ask for a new code in 30 seconds."; got != want {
		t.Errorf("resend timer = %q, want %q", got, want)
	}

	done := e.submit(t, otp, "otp-form", "submit", url.Values{"otp": {"111 111"}})
	if done.status != http.StatusSeeOther || done.header.Get("Location") != "/login/tx1/consent?lang=eng" {
		t.Fatalf("authenticate = %d to %q, want 303 to the consent page:\n%s", done.status, done.header.Get("Location"), done.body)
	}
	if want := []authn.Challenge{{Factor: "OTP", Value: pagesOTP, Format: "alpha-numeric"}}; !slices.Equal(flow.chals, want) {
		t.Errorf("challenges = %v, want %v", flow.chals, want)
	}
	consent := e.get(t, done.header.Get("Location"))
	if consent.status != http.StatusOK {
		t.Fatalf("GET consent = %d:\n%s", consent.status, consent.body)
	}
	// Page 1 of an authenticated transaction leads to consent.
	if p := e.get(t, "/login/tx1"); p.status != http.StatusSeeOther || !strings.HasSuffix(p.header.Get("Location"), "/consent?lang=eng") {
		t.Errorf("GET login when authenticated = %d to %q, want 303 to consent", p.status, p.header.Get("Location"))
	}
	end := e.submit(t, consent, "consent-form", "allow", url.Values{"claim": {"email"}, "scope": {"payments"}})
	loc, _ := url.Parse(end.header.Get("Location"))
	if end.status != http.StatusSeeOther || loc.Host != "bank.example" || loc.Query().Get("code") != "code-tx1" ||
		loc.Query().Get("state") != "st-1" || loc.Query().Get("iss") != "https://id.example" {
		t.Fatalf("allow = %d to %q, want 303 to the client with code, state and iss", end.status, loc)
	}
	if want := []string{"birthdate", "name", "email"}; !slices.Equal(flow.accepted, want) {
		t.Errorf("accepted claims = %v, want %v", flow.accepted, want)
	}
	if want := []string{"payments"}; !slices.Equal(flow.permits, want) {
		t.Errorf("permitted scopes = %v, want %v", flow.permits, want)
	}
	if !strings.Contains(end.header.Get("Cache-Control"), "no-store") {
		t.Error("redirect lacks Cache-Control: no-store")
	}
}

func TestPagesPINNoCapture(t *testing.T) {
	flow := newPagesFlow(pagesTx("tx1", []string{"OTP"}, []string{"PIN"}))
	flow.consent = ConsentNoCapture
	e := newPagesEnv(t, flow)
	login := e.get(t, "/login/tx1?f=1")
	end := e.submit(t, login, "login-form", "submit", url.Values{"login_id": {pagesLoginID}, "pin": {pagesPIN}})
	loc, _ := url.Parse(end.header.Get("Location"))
	if end.status != http.StatusSeeOther || loc.Host != "bank.example" || loc.Query().Get("code") != "code-tx1" {
		t.Fatalf("PIN sign-in = %d to %q, want 303 to the client with a code:\n%s", end.status, loc, end.body)
	}
	if want := []string{"Authenticate", "AuthCode"}; !slices.Equal(flow.callList(), want) {
		t.Errorf("calls = %v, want %v", flow.callList(), want)
	}
	if flow.accepted != nil || flow.permits != nil {
		t.Errorf("AuthCode(%v, %v), want (nil, nil) for NOCAPTURE", flow.accepted, flow.permits)
	}
	if want := []authn.Challenge{{Factor: "PIN", Value: pagesPIN, Format: "number"}}; !slices.Equal(flow.chals, want) {
		t.Errorf("challenges = %v, want %v", flow.chals, want)
	}
}

func TestPagesPasswordAndKBI(t *testing.T) {
	flow := newPagesFlow(pagesTx("tx1", []string{"PWD", "KBI"}))
	flow.consent = ConsentNoCapture
	e := newPagesEnv(t, flow)
	login := e.get(t, "/login/tx1")
	if pagesByID(login.doc, "factor-PWD-KBI") != nil {
		t.Error("a single factor list shows a choice")
	}
	if got := login.attr(t, "kbi-dob", "type"); got != "date" {
		t.Errorf("kbi-dob type = %q, want date", got)
	}
	end := e.submit(t, login, "login-form", "submit", url.Values{"login_id": {pagesLoginID}, "password": {pagesPassword},
		"kbi_full_name": {pagesName}, "kbi_dob": {pagesDOB}})
	if end.status != http.StatusSeeOther {
		t.Fatalf("PWD+KBI sign-in = %d:\n%s", end.status, end.body)
	}
	if len(flow.chals) != 2 || flow.chals[0].Factor != "PWD" || flow.chals[1].Factor != "KBI" ||
		flow.chals[1].Format != "base64url-encoded-json" {
		t.Fatalf("challenges = %v, want PWD then KBI", flow.chals)
	}
	b, err := base64.RawURLEncoding.DecodeString(flow.chals[1].Value)
	if err != nil || string(b) != `{"fullName":"Amina Diallo","dateOfBirth":"1990-07-25"}` {
		t.Errorf("KBI challenge = %s (%v), want the JSON of fullName and dateOfBirth", b, err)
	}
}

func TestPagesMissingFields(t *testing.T) {
	flow := newPagesFlow(pagesTx("tx1", []string{"PWD", "KBI"}))
	e := newPagesEnv(t, flow)
	login := e.get(t, "/login/tx1")
	p := e.submit(t, login, "login-form", "submit", url.Values{"login_id": {pagesLoginID}, "password": {pagesPassword}})
	if p.status != http.StatusBadRequest || !strings.Contains(p.body, pagesT(t, "eng", "err.missing_value")) {
		t.Fatalf("missing KBI answers = %d, want 400 with err.missing_value:\n%s", p.status, p.body)
	}
	if got := p.attr(t, "kbi-full-name", "aria-invalid"); got != "true" {
		t.Errorf("kbi-full-name aria-invalid = %q, want true", got)
	}
	if got := p.attr(t, "password", "aria-invalid"); got != "" {
		t.Errorf("password aria-invalid = %q, want none", got)
	}
	if len(flow.callList()) != 0 {
		t.Errorf("calls = %v, want none", flow.callList())
	}
	p = e.submit(t, login, "login-form", "submit", url.Values{"login_id": {"  "}, "password": {"x"}})
	if p.status != http.StatusBadRequest || p.attr(t, "login-id", "aria-invalid") != "true" ||
		!strings.Contains(p.body, pagesT(t, "eng", "err.invalid_identifier")) {
		t.Errorf("empty login ID = %d, want 400 with the error on login-id:\n%s", p.status, p.body)
	}
}

func TestPagesDeclineConsent(t *testing.T) {
	flow := newPagesFlow(pagesTx("tx1", []string{"PIN"}))
	e := newPagesEnv(t, flow)
	login := e.get(t, "/login/tx1")
	done := e.submit(t, login, "login-form", "submit", url.Values{"login_id": {pagesLoginID}, "pin": {pagesPIN}})
	consent := e.get(t, done.header.Get("Location"))
	end := e.submit(t, consent, "consent-form", "decline", nil)
	loc, _ := url.Parse(end.header.Get("Location"))
	if end.status != http.StatusSeeOther || loc.Host != "bank.example" || loc.Query().Get("error") != "consent_rejected" ||
		loc.Query().Get("code") != "" {
		t.Fatalf("decline = %d to %q, want 303 to the client with error=consent_rejected", end.status, loc)
	}
	if slices.Contains(flow.callList(), "AuthCode") {
		t.Error("decline issued a code")
	}
}

func TestPagesCancel(t *testing.T) {
	for _, page := range []string{"login", "otp"} {
		t.Run(page, func(t *testing.T) {
			flow := newPagesFlow(pagesTx("tx1", []string{"OTP"}))
			e := newPagesEnv(t, flow)
			p := e.get(t, "/login/tx1")
			if page == "otp" {
				p = e.submit(t, p, "login-form", "send-otp", url.Values{"login_id": {pagesLoginID}})
			}
			end := e.submit(t, p, "cancel-form", "cancel", nil)
			loc, _ := url.Parse(end.header.Get("Location"))
			if end.status != http.StatusSeeOther || loc.Host != "bank.example" || loc.Query().Get("error") != "access_denied" ||
				loc.Query().Get("state") != "st-1" {
				t.Fatalf("cancel = %d to %q, want 303 to the client with error=access_denied", end.status, loc)
			}
		})
	}
}

func TestPagesCSRF(t *testing.T) {
	for _, route := range []string{"otp", "authenticate", "consent", "cancel"} {
		for name, token := range map[string][]string{"wrong": {"form-token-tx2"}, "missing": nil, "prefix": {"form-token-tx"}, "repeated": {"x", "form-token-tx1"}} {
			t.Run(route+"/"+name, func(t *testing.T) {
				tx := pagesTx("tx1", []string{"PIN"})
				if route == "consent" {
					tx.State = TxAuthenticated
				}
				flow := newPagesFlow(tx)
				e := newPagesEnv(t, flow)
				v := url.Values{"login_id": {pagesLoginID}, "pin": {pagesPIN}, "action": {"allow"}, "channel": {"phone"}}
				if token != nil {
					v["csrf"] = token
				}
				p := e.do(t, http.MethodPost, "/login/tx1/"+route, v)
				if p.status != http.StatusForbidden {
					t.Fatalf("POST %s with a %s token = %d, want 403", route, name, p.status)
				}
				if !strings.Contains(p.body, pagesT(t, "eng", "forbidden.title")) {
					t.Errorf("403 page lacks its title:\n%s", p.body)
				}
				checkPage(t, p, "eng")
				if calls := flow.callList(); len(calls) != 0 {
					t.Errorf("the flow was called: %v", calls)
				}
			})
		}
	}
	// A transaction without a token accepts no form.
	tx := pagesTx("tx1", []string{"PIN"})
	tx.FormToken = ""
	e := newPagesEnv(t, newPagesFlow(tx))
	if p := e.do(t, http.MethodPost, "/login/tx1/cancel", url.Values{"csrf": {""}}); p.status != http.StatusForbidden {
		t.Errorf("empty token = %d, want 403", p.status)
	}
}

func TestPagesAuthFailed(t *testing.T) {
	for _, lang := range []string{"eng", "fra", "ara"} {
		t.Run(lang, func(t *testing.T) {
			flow := newPagesFlow(pagesTx("tx1", []string{"PIN"}))
			e := newPagesEnv(t, flow)
			login := e.get(t, "/login/tx1?lang="+lang)
			const wrongPIN = "907153"
			p := e.submit(t, login, "login-form", "submit", url.Values{"login_id": {pagesLoginID}, "pin": {wrongPIN}})
			if p.status != http.StatusBadRequest {
				t.Fatalf("wrong PIN = %d, want 400", p.status)
			}
			checkPage(t, p, lang)
			if got, want := pagesText(p.el(t, "form-error")), pagesT(t, lang, "err.auth_failed"); got != want {
				t.Errorf("error = %q, want %q", got, want)
			}
			if got, _ := pagesAttr(p.el(t, "form-error"), "role"); got != "alert" {
				t.Errorf("error role = %q, want alert", got)
			}
			if strings.Contains(p.body, wrongPIN) {
				t.Error("the page echoes the PIN")
			}
			if got := p.attr(t, "login-id", "value"); got != pagesLoginID {
				t.Errorf("login ID kept = %q, want %q", got, pagesLoginID)
			}
			if got := p.attr(t, "pin", "value"); got != "" {
				t.Errorf("pin value = %q, want empty", got)
			}
			if got := p.attr(t, "pin", "aria-describedby"); !strings.Contains(got, "form-error") {
				t.Errorf("pin aria-describedby = %q, want form-error", got)
			}
			if got := p.attr(t, "pin", "aria-invalid"); got != "true" {
				t.Errorf("pin aria-invalid = %q, want true", got)
			}
		})
	}
}

func TestPagesOTPErrors(t *testing.T) {
	tests := []struct {
		name    string
		err     error
		page    string // element that must be there: login-id (login page) or otp
		field   string // element that carries the error
		message string
	}{
		{"blocked", &authn.Error{Code: "individual_id_blocked"}, "login-id", "login-id", "err.individual_id_blocked"},
		{"no channel", &authn.Error{Code: "invalid_otp_channel"}, "login-id", "", "err.invalid_otp_channel"},
		{"send failed", &authn.Error{Code: "send_otp_failed"}, "login-id", "", "err.send_otp_failed"},
		{"too soon", &authn.Error{Code: "otp_resend_too_soon"}, "otp", "resend-otp", "err.otp_resend_too_soon"},
		{"no attempts", &authn.Error{Code: "no_attempts_left"}, "login-id", "login-id", "err.no_attempts_left"},
		{"unknown code", &authn.Error{Code: "something_new"}, "login-id", "", "err.unknown"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			flow := newPagesFlow(pagesTx("tx1", []string{"OTP"}))
			flow.sendErr = tt.err
			e := newPagesEnv(t, flow)
			p := e.submit(t, e.get(t, "/login/tx1?lang=fra"), "login-form", "send-otp", url.Values{"login_id": {pagesLoginID}})
			if p.status != http.StatusBadRequest {
				t.Fatalf("send OTP = %d, want 400", p.status)
			}
			checkPage(t, p, "fra")
			p.el(t, tt.page)
			if got, want := pagesText(p.el(t, "form-error")), pagesT(t, "fra", tt.message); got != want {
				t.Errorf("error = %q, want %q", got, want)
			}
			if tt.field != "" && !strings.Contains(p.attr(t, tt.field, "aria-describedby"), "form-error") {
				t.Errorf("#%s is not described by the error", tt.field)
			}
		})
	}
	// Both channels unchecked: the server says so without calling the flow.
	flow := newPagesFlow(pagesTx("tx1", []string{"OTP"}))
	e := newPagesEnv(t, flow)
	p := e.submit(t, e.get(t, "/login/tx1"), "login-form", "send-otp", url.Values{"login_id": {pagesLoginID}, "channel": nil})
	if p.status != http.StatusBadRequest || !strings.Contains(p.body, pagesT(t, "eng", "err.invalid_otp_channel")) {
		t.Errorf("no channel = %d, want 400 with err.invalid_otp_channel", p.status)
	}
	if p.attr(t, "channel-phone", "checked") != "" || len(flow.callList()) != 0 {
		t.Errorf("no channel: phone re-checked or flow called (%v)", flow.callList())
	}
}

func TestPagesOTPResend(t *testing.T) {
	flow := newPagesFlow(pagesTx("tx1", []string{"OTP", "PIN"}))
	e := newPagesEnv(t, flow)
	login := e.get(t, "/login/tx1")
	otp := e.submit(t, login, "login-form", "send-otp", url.Values{"login_id": {pagesLoginID}, "channel": {"phone"}})
	if otp.status != http.StatusOK {
		t.Fatalf("send OTP = %d:\n%s", otp.status, otp.body)
	}
	if strings.Contains(otp.body, "am***@example.org") || !slices.Equal(flow.channels, []string{"phone"}) {
		t.Errorf("phone only: SendOTP channels %v, page shows e-mail: %v", flow.channels, strings.Contains(otp.body, "am***"))
	}
	otp.el(t, "pin") // the list's other factor is on the OTP page

	e.clock.Add(12 * time.Second)
	flow.sendErr = &authn.Error{Code: "otp_resend_too_soon"}
	again := e.submit(t, otp, "resend-form", "resend", nil)
	if again.status != http.StatusBadRequest {
		t.Fatalf("resend too soon = %d, want 400", again.status)
	}
	if got, want := pagesText(again.el(t, "resend-wait")), "You can ask for a new code in 18 seconds."; got != want {
		t.Errorf("timer = %q, want %q", got, want)
	}
	if !strings.Contains(again.body, "******4926") || !slices.Equal(flow.channels, []string{"phone"}) || flow.loginID != pagesLoginID {
		t.Errorf("resend lost the destination, channels or login ID (%v, %q)", flow.channels, flow.loginID)
	}

	e.clock.Add(30 * time.Second)
	flow.sendErr = nil
	again = e.submit(t, again, "resend-form", "resend", nil)
	if again.status != http.StatusOK || pagesText(again.el(t, "resend-wait")) != "You can ask for a new code in 30 seconds." {
		t.Fatalf("resend = %d, timer %q", again.status, pagesText(again.el(t, "resend-wait")))
	}
	e.clock.Add(40 * time.Second)
	failed := e.submit(t, again, "otp-form", "submit", url.Values{"otp": {"000000"}, "pin": {pagesPIN}})
	if failed.status != http.StatusBadRequest || pagesByID(failed.doc, "otp") == nil {
		t.Fatalf("wrong OTP = %d, want 400 with the OTP page again", failed.status)
	}
	if got := pagesText(failed.el(t, "resend-wait")); got != pagesT(t, "eng", "otp.resend_now") {
		t.Errorf("timer after the delay = %q, want otp.resend_now", got)
	}
	if strings.Contains(failed.body, pagesPIN) || strings.Contains(failed.body, "000000") {
		t.Error("the OTP page echoes a secret")
	}
	end := e.submit(t, failed, "otp-form", "submit", url.Values{"otp": {pagesOTP}, "pin": {pagesPIN}})
	if end.status != http.StatusSeeOther {
		t.Fatalf("OTP+PIN = %d, want 303:\n%s", end.status, end.body)
	}
}

func TestPagesInvalidTransaction(t *testing.T) {
	flow := newPagesFlow()
	e := newPagesEnv(t, flow)
	for _, req := range []struct{ method, path string }{
		{http.MethodGet, "/login/gone"}, {http.MethodGet, "/login/gone/consent"},
		{http.MethodPost, "/login/gone/otp"}, {http.MethodPost, "/login/gone/authenticate"},
		{http.MethodPost, "/login/gone/consent"}, {http.MethodPost, "/login/gone/cancel"},
	} {
		var form url.Values
		if req.method == http.MethodPost {
			form = url.Values{"csrf": {"x"}}
		}
		p := e.do(t, req.method, req.path+"?lang=ara", form)
		if p.status != http.StatusBadRequest || !strings.Contains(p.body, pagesT(t, "ara", "expired.title")) {
			t.Errorf("%s %s = %d, want 400 and the expired page", req.method, req.path, p.status)
		}
	}
	// A transaction that expires between pages.
	flow = newPagesFlow(pagesTx("tx1", []string{"PIN"}))
	e = newPagesEnv(t, flow)
	login := e.get(t, "/login/tx1")
	delete(flow.txs, "tx1")
	p := e.submit(t, login, "login-form", "submit", url.Values{"login_id": {pagesLoginID}, "pin": {pagesPIN}})
	if p.status != http.StatusBadRequest || !strings.Contains(p.body, pagesT(t, "eng", "expired.body")) {
		t.Errorf("expired between pages = %d, want 400 and the expired page", p.status)
	}
}

func TestPagesEssentialClaims(t *testing.T) {
	tx := pagesTx("tx1", []string{"PIN"})
	tx.State, tx.ConsentAction = TxAuthenticated, ConsentCapture
	flow := newPagesFlow(tx)
	e := newPagesEnv(t, flow)
	consent := e.get(t, "/login/tx1/consent?lang=fra")
	checkPage(t, consent, "fra")
	name := consent.el(t, "claim-name")
	if !hasAttr(name, "checked") || !hasAttr(name, "disabled") || hasAttr(name, "name") {
		t.Errorf("essential claim checkbox %v, want checked, disabled, no name", name.Attr)
	}
	if !strings.Contains(pagesText(consent.el(t, "claim-name-note")), pagesT(t, "fra", "consent.required")) {
		t.Error("essential claim not marked required")
	}
	if email := consent.el(t, "claim-email"); hasAttr(email, "checked") || hasAttr(email, "disabled") {
		t.Errorf("voluntary claim %v, want unchecked and enabled", email.Attr)
	}
	if pic := consent.el(t, "claim-picture"); !hasAttr(pic, "disabled") ||
		!strings.Contains(pagesText(consent.el(t, "claim-picture-note")), pagesT(t, "fra", "consent.unavailable")) {
		t.Errorf("unavailable claim %v not disabled and marked", pic.Attr)
	}
	if got, want := pagesText(consent.el(t, "claim-email").Parent), ClaimLabel("email", "fra"); !strings.Contains(got, want) {
		t.Errorf("email label = %q, want %q", got, want)
	}
	if hasAttr(consent.el(t, "scope-payments"), "checked") {
		t.Error("authorize scope checked by default")
	}
	// A post without the essential claims' hidden fields, with names the
	// transaction never asked for: the essentials are added, the rest dropped.
	end := e.do(t, http.MethodPost, "/login/tx1/consent", url.Values{"csrf": {tx.FormToken}, "action": {"allow"},
		"claim": {"phone_number", "address", "phone_number"}, "scope": {"admin", "payments"}})
	if end.status != http.StatusSeeOther {
		t.Fatalf("allow = %d:\n%s", end.status, end.body)
	}
	if want := []string{"birthdate", "name", "phone_number"}; !slices.Equal(flow.accepted, want) {
		t.Errorf("accepted = %v, want %v", flow.accepted, want)
	}
	if want := []string{"payments"}; !slices.Equal(flow.permits, want) {
		t.Errorf("permitted = %v, want %v", flow.permits, want)
	}
	// Nothing chosen: still every essential claim, and empty lists, not nil.
	accepted, permitted := consentForm{}.choice(tx)
	if !slices.Equal(accepted, []string{"birthdate", "name"}) || permitted == nil || len(permitted) != 0 {
		t.Errorf("choice() = %v, %v, want the essentials and []", accepted, permitted)
	}
	// Consent before authentication goes back to page 1.
	tx2 := pagesTx("tx2", []string{"PIN"})
	flow.txs["tx2"] = tx2
	if p := e.get(t, "/login/tx2/consent"); p.status != http.StatusSeeOther || p.header.Get("Location") != "/login/tx2?lang=fra" {
		t.Errorf("consent before authentication = %d to %q, want 303 to /login/tx2?lang=fra", p.status, p.header.Get("Location"))
	}
}

func TestPagesXSS(t *testing.T) {
	const evil = `<script>alert(1)</script>`
	tx := pagesTx("tx1", []string{"PIN"}, []string{"OTP"})
	tx.ClientName = map[string]string{"@none": evil}
	tx.Purpose = &ClientPurpose{Title: map[string]string{"@none": `"><img src=x onerror=alert(2)>`}}
	tx.LogoURL = "javascript:alert(3)"
	flow := newPagesFlow(tx)
	e := newPagesEnv(t, flow)
	login := e.get(t, "/login/tx1")
	failed := e.submit(t, login, "login-form", "submit", url.Values{"login_id": {`"><script>alert(4)</script>`}, "pin": {"1"}})
	authz := e.get(t, "/authorize?code=invalid_request&desc="+url.QueryEscape(evil)+"&ui_locales="+url.QueryEscape(evil))
	for name, p := range map[string]*pagesPage{"login": login, "failed": failed, "authorize": authz} {
		checkPage(t, p, "eng")
		if strings.Contains(p.body, "<script") || strings.Contains(p.body, "<img src=x") || strings.Contains(p.body, "javascript:") {
			t.Errorf("%s page reflects markup unescaped:\n%s", name, p.body)
		}
	}
	if !strings.Contains(login.body, "&lt;script&gt;alert(1)&lt;/script&gt;") {
		t.Error("the client name is not shown escaped")
	}
	if !strings.Contains(authz.body, "&lt;script&gt;alert(1)&lt;/script&gt;") {
		t.Error("the error description is not shown escaped")
	}
}

func TestPagesAuthorizeError(t *testing.T) {
	e := newPagesEnv(t, newPagesFlow())
	p := e.get(t, "/authorize?code=invalid_client&desc=unknown+client&ui_locales=de+fr-CA")
	if p.status != http.StatusBadRequest {
		t.Errorf("status = %d, want 400", p.status)
	}
	checkPage(t, p, "fra")
	for _, want := range []string{pagesT(t, "fra", "authz.title"), "unknown client", "invalid_client"} {
		if !strings.Contains(p.body, want) {
			t.Errorf("page lacks %q", want)
		}
	}
	if got := p.attr(t, "lang-ara", "href"); !strings.HasPrefix(got, "?") || !strings.Contains(got, "lang=ara") || !strings.Contains(got, "code=invalid_client") {
		t.Errorf("lang-ara href = %q, want the same request with lang=ara", got)
	}
	if got := e.get(t, "/authorize"+p.attr(t, "lang-ara", "href")); !strings.Contains(got.body, pagesT(t, "ara", "authz.title")) {
		t.Error("the Arabic link does not give the Arabic page")
	}

	for _, tt := range []struct {
		name   string
		err    *Error
		status int
	}{
		{"status kept", &Error{Code: "unauthorized_client", Description: "no", Status: 403}, 403},
		{"no status", &Error{Code: "invalid_request", Description: "no"}, 400},
		{"server error", ErrServerError(errors.New("db down: secret detail")), 500},
		{"nil", nil, 500},
	} {
		t.Run(tt.name, func(t *testing.T) {
			w := httptest.NewRecorder()
			c, _ := gin.CreateTestContext(w)
			c.Request = httptest.NewRequest(http.MethodPost, "/authorize", nil)
			renderAuthorizeError(c, frontEndOptions{Languages: []string{"eng"}}, tt.err, "")
			if w.Code != tt.status {
				t.Errorf("status = %d, want %d", w.Code, tt.status)
			}
			if strings.Contains(w.Body.String(), "secret detail") || strings.Contains(w.Body.String(), "lang-") {
				t.Errorf("page shows the cause or a language switcher:\n%s", w.Body.String())
			}
			if !strings.Contains(w.Header().Get("Content-Security-Policy"), "default-src 'none'") {
				t.Error("no CSP")
			}
		})
	}
}

func TestPagesCSS(t *testing.T) {
	e := newPagesEnv(t, newPagesFlow(pagesTx("tx1", []string{"PIN"})))
	login := e.get(t, "/login/tx1")
	var href string
	pagesWalk(login.doc, func(n *html.Node) {
		if rel, _ := pagesAttr(n, "rel"); n.Data == "link" && rel == "stylesheet" {
			href, _ = pagesAttr(n, "href")
		}
	})
	if !regexp.MustCompile(`^/login/static/sanad-[0-9a-f]{12}\.css$`).MatchString(href) {
		t.Fatalf("stylesheet href = %q, want /login/static/sanad-<hash>.css", href)
	}
	req, _ := http.NewRequest(http.MethodGet, e.srv.URL+href, nil)
	resp, err := e.client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "text/css; charset=utf-8" ||
		resp.Header.Get("Cache-Control") != "public, max-age=31536000, immutable" {
		t.Errorf("GET %s = %d, %q, %q", href, resp.StatusCode, resp.Header.Get("Content-Type"), resp.Header.Get("Cache-Control"))
	}
	if string(b) != string(pagesLoad(t).css) {
		t.Error("served CSS differs from the embedded file")
	}
	// Mirroring for Arabic comes from logical properties: no physical sides.
	if m := regexp.MustCompile(`(?i)(margin|padding|border)-(left|right)|text-align:\s*(left|right)|float:|\b(left|right)\s*:`).FindString(string(b)); m != "" {
		t.Errorf("CSS uses a physical direction: %q", m)
	}
	if p := e.get(t, "/login/static/sanad-000000000000.css"); p.status == http.StatusOK && strings.HasPrefix(p.header.Get("Content-Type"), "text/css") {
		t.Error("a stylesheet with another hash is served")
	}
}

func TestPagesIssuerPath(t *testing.T) {
	flow := newPagesFlow(pagesTx("tx1", []string{"PIN"}))
	r := gin.New()
	registerPages(r.Group("/sanad"), flow, frontEndOptions{Issuer: "https://id.example/sanad/", Languages: []string{"eng"}})
	srv := httptest.NewServer(r)
	defer srv.Close()
	resp, err := http.Get(srv.URL + "/sanad/login/tx1")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	body := string(b)
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, `action="/sanad/login/tx1/authenticate?lang=eng"`) ||
		!strings.Contains(body, `href="/sanad/login/static/sanad-`) {
		t.Errorf("GET /sanad/login/tx1 = %d, links without the issuer path:\n%s", resp.StatusCode, body)
	}
	if strings.Contains(body, `id="lang-`) {
		t.Error("a single language shows a language switcher")
	}
}

func TestPagesRateLimit(t *testing.T) {
	var mu sync.Mutex
	var limited []string
	flow := newPagesFlow(pagesTx("tx1", []string{"PIN"}))
	e := newPagesEnv(t, flow, func(o *frontEndOptions) {
		o.RateLimit = func(c *gin.Context) {
			mu.Lock()
			defer mu.Unlock()
			limited = append(limited, c.Request.Method+" "+c.FullPath())
			c.AbortWithStatus(http.StatusTooManyRequests)
		}
	})
	login := e.get(t, "/login/tx1")
	if login.status != http.StatusOK {
		t.Fatalf("GET login = %d: GETs must not be limited", login.status)
	}
	for _, route := range []string{"otp", "authenticate", "consent", "cancel"} {
		if p := e.do(t, http.MethodPost, "/login/tx1/"+route, url.Values{"csrf": {"form-token-tx1"}}); p.status != http.StatusTooManyRequests {
			t.Errorf("POST %s = %d, want 429", route, p.status)
		}
	}
	if len(limited) != 4 || len(flow.callList()) != 0 {
		t.Errorf("limited %v, calls %v; want the 4 POSTs limited and no call", limited, flow.callList())
	}
}

func TestPagesCSPSource(t *testing.T) {
	tests := []struct{ in, want string }{
		{"https://bank.example/cb", "https://bank.example"},
		{"https://Bank.Example:8443/cb?x=1", "https://bank.example:8443"},
		{"http://127.0.0.1:9000/cb", "http://127.0.0.1:9000"},
		{"com.example.app:/oauth", "com.example.app:"},
		{"https://user@bank.example/cb", "https://bank.example"},
		{"http://[::1]:9000/cb", ""},
		{"https://bank.example;script-src/cb", ""},
		{"", ""},
		{"/relative", ""},
	}
	for _, tt := range tests {
		if got := cspSource(tt.in); got != tt.want {
			t.Errorf("cspSource(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestPagesNoUsableFactor(t *testing.T) {
	e := newPagesEnv(t, newPagesFlow(pagesTx("tx1", []string{"BIO"}, []string{"WLA"})))
	p := e.get(t, "/login/tx1")
	if p.status != http.StatusOK || pagesByID(p.doc, "login-form") != nil || pagesByID(p.doc, "cancel") == nil ||
		!strings.Contains(p.body, pagesT(t, "eng", "login.none")) {
		t.Errorf("only biometrics = %d; want the login.none message and Cancel only:\n%s", p.status, p.body)
	}
	checkPage(t, p, "eng")
}

// FuzzLoginForm checks the login form parser and the challenges built from
// it: no panic, limits kept, and every accepted form gives challenges that
// authn's own validation accepts.
func FuzzLoginForm(f *testing.F) {
	for _, s := range []string{
		"csrf=t&factor=0&login_id=5830174926&channel=phone&channel=email&action=send-otp",
		"csrf=t&factor=1&login_id=5830174926&pin=482916&action=submit",
		"factor=3&login_id=%2B33+6+12+34+56+78&otp=111+111&pin=4829",
		"factor=2&login_id=a%40b.example&password=correct-horse-9&kbi_full_name=Amina+Diallo&kbi_dob=1990-07-25",
		"login_id=x&kbi_full_name=%3Cb%3E%22%26&kbi_dob=%E2%80%A8",
		"factor=-1", "factor=99999999999999999999", "factor=+1", "login_id=%00", "login_id=a&login_id=b",
		"channel=fax", "channel=phone&channel=phone", "%zz", "otp=%ff%fe", "sent_at=-5&masked_phone=%3Cb%3E",
		"login_id=" + strings.Repeat("9", 300), "password=" + strings.Repeat("p", 2000),
	} {
		f.Add(s)
	}
	lists := [][]string{{"OTP"}, {"PIN"}, {"PWD", "KBI"}, {"OTP", "PIN"}, {"KBI"}, {"PWD"}}
	codes := []string{"invalid_identifier", "invalid_otp_channel", "auth_factor_mismatch", "invalid_request"}
	f.Fuzz(func(t *testing.T, body string) {
		v, _ := url.ParseQuery(body)
		form, err := parseLoginForm(v)
		if err != nil {
			var ae *authn.Error
			if !errors.As(err, &ae) || !slices.Contains(codes, ae.Code) {
				t.Fatalf("parseLoginForm(%q) error %v, want an authn error with one of %v", body, err, codes)
			}
		}
		if len(form.LoginID) > maxFormLoginID || !utf8.ValidString(form.LoginID) || form.LoginID != strings.TrimSpace(form.LoginID) {
			t.Fatalf("parseLoginForm(%q).LoginID = %q", body, form.LoginID)
		}
		if form.Factor < 0 || form.Factor >= maxFormFactor || form.SentAt < 0 || len(form.Channels) > 2 {
			t.Fatalf("parseLoginForm(%q) = factor %d, sent_at %d, channels %v", body, form.Factor, form.SentAt, form.Channels)
		}
		for i, ch := range form.Channels {
			if !slices.Contains(pageOTPChannels, ch) || slices.Index(form.Channels, ch) != i {
				t.Fatalf("parseLoginForm(%q).Channels = %v", body, form.Channels)
			}
		}
		if err != nil {
			return
		}
		for _, types := range lists {
			chals, missing := form.challenges(types)
			if len(missing) > 0 {
				if chals != nil {
					t.Fatalf("challenges(%v) = %v with missing %v", types, chals, missing)
				}
				continue
			}
			if len(chals) != len(types) {
				t.Fatalf("challenges(%v) = %v", types, chals)
			}
			for i, c := range chals {
				if c.Factor != types[i] || c.Value == "" {
					t.Fatalf("challenges(%v)[%d] = %v", types, i, c)
				}
				if c.Factor == "KBI" {
					b, err := base64.RawURLEncoding.DecodeString(c.Value)
					var a kbiAnswers
					if err != nil || json.Unmarshal(b, &a) != nil || a.FullName != form.FullName || a.DateOfBirth != form.DateOfBirth {
						t.Fatalf("KBI challenge %q does not decode to the answers (%v)", c.Value, err)
					}
				}
			}
			req := authn.AuthRequest{TransactionID: "tx1", LoginID: form.LoginID, Sector: "bank.example", Challenges: chals}
			if err := req.Validate(); err != nil {
				t.Fatalf("parseLoginForm(%q).challenges(%v): authn refuses the request: %v", body, types, err)
			}
		}
	})
}
