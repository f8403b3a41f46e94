package oidc_test

import (
	"cmp"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/sanad-id/sanad/oidc"
	"github.com/sanad-id/sanad/oidc/oidctest"
	"github.com/sanad-id/sanad/storage/storagetest"
)

const (
	// browserChromiumEnv names the browser to drive (a path, or a name
	// looked up in $PATH); browserDefaultChromium when unset.
	browserChromiumEnv     = "SANAD_TEST_CHROMIUM"
	browserDefaultChromium = "/usr/bin/chromium"
	// browserRequireEnv, set to 1 (as in CI), turns a missing browser from
	// a skip into a failure.
	browserRequireEnv = "SANAD_TEST_REQUIRE_BROWSER"

	// Every wait is bounded, so that a hung browser fails the test rather
	// than hanging it: starting the browser, and one step (a navigation, a
	// click and the page it loads, a check).
	browserStartTimeout = 20 * time.Second
	browserStepTimeout  = 10 * time.Second
	// browserTestTimeout bounds the browser's whole life.
	browserTestTimeout = 90 * time.Second
)

// TestBrowserLogin signs residents in through the real login pages in a
// headless Chromium: PIN in English, OTP in Arabic (right to left), a wrong
// PIN in French, and a cancellation after switching to French. Each subtest
// starts with no cookies and ends on the relying party's callback.
//
// On a failure the subtest saves a full-page screenshot and the page's HTML
// in its artifact directory; the Arabic subtest always saves its login page
// (login-ara.png) there. Run with -artifacts -outputdir DIR to keep them.
func TestBrowserLogin(t *testing.T) {
	execPath := browserExecPath(t)
	ctx := t.Context()
	browserReady := startBrowser(t, execPath) // starts while the provider does

	s := oidctest.New(t, storagetest.OpenSQLite(t), storagetest.OpenMemory(t))
	rp := newBrowserCallback(t)
	cl, err := s.RegisterClient(ctx, "browser-rp", rp.URL+"/cb", "")
	if err != nil {
		t.Fatalf("RegisterClient: %v", err)
	}
	browser := browserReady()
	residents := s.Residents
	if len(residents) < 3 {
		t.Fatalf("%d demo residents, want at least 3", len(residents))
	}

	t.Run("eng_PIN", func(t *testing.T) {
		r := residents[0]
		req := newBrowserAuthRequest(t, s.Issuer, cl, "en")
		tb := openBrowserTab(t, browser)
		tb.load("open the authorization URL", 200, chromedp.Navigate(req.URL))
		tb.wantDocument("en", "ltr")
		tb.load("choose the PIN factor", 200, chromedp.Click(chromedp.ID("factor-PIN")))
		tb.do("fill in the login form",
			chromedp.SendKeys(chromedp.ID("login-id"), r.UIN),
			chromedp.SendKeys(chromedp.ID("pin"), r.PIN))
		tb.load("sign in", 200, chromedp.Click(chromedp.ID("submit")))
		tb.wantText("consent-form", "Full name", "Email address", "Phone number")
		tb.wantText("allow", "Allow")
		tb.load("allow", 200, chromedp.Click(chromedp.ID("allow")))
		rp.wantCode(tb, req, s.Issuer)
	})

	t.Run("ara_OTP", func(t *testing.T) {
		r := residents[2]
		phone, _ := r.Identity["phone"].(string)
		if phone == "" {
			t.Fatal("the demo resident has no phone number")
		}
		req := newBrowserAuthRequest(t, s.Issuer, cl, "ar")
		tb := openBrowserTab(t, browser)
		tb.load("open the authorization URL", 200, chromedp.Navigate(req.URL))
		tb.load("choose the OTP factor", 200, chromedp.Click(chromedp.ID("factor-OTP")))
		if loc := browserRun(tb, "read the location", chromedp.Location()); !strings.Contains(loc, "lang=ara") {
			tb.errorf("login page at %s, want ?lang=ara", loc)
		}
		tb.wantDocument("ar", "rtl")
		tb.wantText("send-otp", "أرسل الرمز")
		tb.wantText("login-form", "رقم الهوية أو الرقم الافتراضي أو الهاتف أو البريد الإلكتروني", "رسالة نصية (SMS)")
		l := browserRun(tb, "measure the layout", chromedp.Evaluate[browserRTLLayout](browserRTLLayoutJS))
		if l.FormDirection != "rtl" {
			tb.errorf("computed direction of #login-form = %q, want rtl", l.FormDirection)
		}
		if l.BrandLeft <= l.LangsLeft {
			tb.errorf("header: site name at x=%v, language links at x=%v; want the site name on the right", l.BrandLeft, l.LangsLeft)
		}
		if d := l.FormRight - l.LabelRight; d < 0 || d > 2 {
			tb.errorf("#login-id's label ends at x=%v, the form at x=%v; want the label against the right edge", l.LabelRight, l.FormRight)
		}
		tb.saveScreenshot("login-ara.png")

		tb.do("type the login ID", chromedp.SendKeys(chromedp.ID("login-id"), r.UIN))
		tb.load("send the code", 200, chromedp.Click(chromedp.ID("send-otp")))
		tb.wantDocument("ar", "rtl")
		tb.wantText("otp-form", "رمز لمرة واحدة")
		otp := s.Inbox.OTP(phone)
		if otp == "" {
			tb.fatalf("no OTP in the inbox for the resident's phone")
		}
		tb.do("type the code", chromedp.SendKeys(chromedp.ID("otp"), otp))
		tb.load("sign in", 200, chromedp.Click(chromedp.ID("submit")))
		tb.wantDocument("ar", "rtl")
		tb.wantText("consent-form", "الاسم الكامل", "رقم الهاتف")
		tb.wantText("allow", "السماح")
		tb.load("allow", 200, chromedp.Click(chromedp.ID("allow")))
		rp.wantCode(tb, req, s.Issuer)
	})

	t.Run("fra_wrong_PIN", func(t *testing.T) {
		r := residents[1]
		wrong := "000000"
		if r.PIN == wrong {
			wrong = "111111"
		}
		req := newBrowserAuthRequest(t, s.Issuer, cl, "fr")
		tb := openBrowserTab(t, browser)
		tb.load("open the authorization URL", 200, chromedp.Navigate(req.URL))
		tb.wantDocument("fr", "ltr")
		tb.load("choose the PIN factor", 200, chromedp.Click(chromedp.ID("factor-PIN")))
		tb.do("fill in the login form",
			chromedp.SendKeys(chromedp.ID("login-id"), r.UIN),
			chromedp.SendKeys(chromedp.ID("pin"), wrong))
		tb.load("sign in with a wrong PIN", 400, chromedp.Click(chromedp.ID("submit")))
		tb.wantDocument("fr", "ltr")
		tb.wantText("form-error", "La connexion a échoué. Vérifiez ce que vous avez saisi et réessayez.")
		f := browserRun(tb, "read the form", chromedp.Evaluate[browserLoginFields](browserLoginFieldsJS))
		if f.LoginID != r.UIN || f.PIN != "" || f.PINInvalid != "true" || !strings.Contains(f.PINDescribedBy, "form-error") {
			tb.errorf("after a wrong PIN: login-id %q, pin %d characters, pin aria-invalid %q, aria-describedby %q; "+
				"want the UIN kept, the PIN cleared and marked invalid, described by form-error",
				f.LoginID, len(f.PIN), f.PINInvalid, f.PINDescribedBy)
		}
		// The page stays usable: the right PIN signs in.
		tb.do("type the right PIN", chromedp.SendKeys(chromedp.ID("pin"), r.PIN))
		tb.load("sign in", 200, chromedp.Click(chromedp.ID("submit")))
		tb.wantText("consent-form", "Nom complet", "Numéro de téléphone")
		tb.load("allow", 200, chromedp.Click(chromedp.ID("allow")))
		rp.wantCode(tb, req, s.Issuer)
	})

	t.Run("fra_cancel", func(t *testing.T) {
		req := newBrowserAuthRequest(t, s.Issuer, cl, "")
		tb := openBrowserTab(t, browser)
		tb.load("open the authorization URL", 200, chromedp.Navigate(req.URL))
		tb.wantDocument("en", "ltr")
		tb.load("switch to French", 200, chromedp.Click(chromedp.ID("lang-fra")))
		tb.wantDocument("fr", "ltr")
		tb.wantText("cancel", "Annuler et revenir au service")
		tb.load("cancel", 200, chromedp.Click(chromedp.ID("cancel")))
		q := rp.result(tb, req)
		if q.Get("error") != "access_denied" || q.Get("code") != "" || q.Get("iss") != s.Issuer {
			tb.errorf("callback query %v, want error=access_denied, no code, iss=%s", q, s.Issuer)
		}
	})
}

// browserExecPath returns the browser to drive, or skips t (fails it when
// SANAD_TEST_REQUIRE_BROWSER=1) when there is none.
func browserExecPath(t *testing.T) string {
	t.Helper()
	want := cmp.Or(os.Getenv(browserChromiumEnv), browserDefaultChromium)
	path, err := exec.LookPath(want)
	if err == nil {
		return path
	}
	if v := os.Getenv(browserRequireEnv); v != "" {
		require, perr := strconv.ParseBool(v)
		if perr != nil {
			t.Fatalf("%s=%q: want 1 or 0", browserRequireEnv, v)
		}
		if require {
			t.Fatalf("no browser at %s (%v), and %s=%s requires one", want, err, browserRequireEnv, v)
		}
	}
	t.Skipf("skipping: no Chromium at %s; install it (apt-get install chromium) or set %s to its path", want, browserChromiumEnv)
	return ""
}

// startBrowser starts one headless Chromium for the whole test, in the
// background; the func it returns waits for it, and gives the context of
// its tab. The browser stops when t ends, or after browserTestTimeout.
func startBrowser(t *testing.T, execPath string) func() context.Context {
	t.Helper()
	life, cancelLife := context.WithTimeout(context.Background(), browserTestTimeout)
	alloc, cancelAlloc := chromedp.NewExecAllocator(life,
		chromedp.ExecPath(execPath),
		chromedp.Headless,
		chromedp.NoSandbox, // tests run as root in CI
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1024, 768),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("disable-extensions", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("lang", "en-US"),
		// Hermetic: only the test's own servers resolve (the client's logo
		// host does not, so pages never wait for the internet).
		chromedp.Flag("host-resolver-rules", "MAP * ~NOTFOUND, EXCLUDE 127.0.0.1"),
	)
	ctx, cancelBrowser := chromedp.NewContext(alloc)
	t.Cleanup(func() {
		cctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		defer cancel()
		_ = chromedp.Cancel(cctx) // close gracefully; the cancels below make sure
		cancelBrowser()
		cancelAlloc()
		cancelLife()
	})
	// The first Do starts the browser and binds its life to ctx, so it
	// gets no deadline of its own; a start that hangs is cut off below.
	started := make(chan error, 1)
	begin := time.Now()
	go func() { started <- chromedp.Do(ctx) }()
	return func() context.Context {
		t.Helper()
		select {
		case err := <-started:
			if err != nil {
				t.Fatalf("starting %s: %v", execPath, err)
			}
		case <-time.After(browserStartTimeout - time.Since(begin)):
			cancelBrowser()
			<-started
			t.Fatalf("starting %s: no answer after %v", execPath, browserStartTimeout)
		}
		t.Logf("browser ready after %v", time.Since(begin).Round(time.Millisecond))
		return ctx
	}
}

// browserTab is the browser's tab as one subtest uses it. Every step has
// its own deadline. The first failure saves what the page shows.
type browserTab struct {
	t     *testing.T
	ctx   context.Context
	saved bool // the page was saved after a failure
}

// errorf reports a failure, after saving the page.
func (tb *browserTab) errorf(format string, args ...any) {
	tb.t.Helper()
	tb.saveFailure()
	tb.t.Errorf(format, args...)
}

// fatalf reports a failure and ends the subtest, after saving the page.
func (tb *browserTab) fatalf(format string, args ...any) {
	tb.t.Helper()
	tb.saveFailure()
	tb.t.Fatalf(format, args...)
}

// openBrowserTab readies the browser's tab for t: no cookies (the pages'
// only state in the browser), a blank page. Subtests share the one tab,
// which costs nothing, where opening a tab costs a second or more on a
// busy machine.
func openBrowserTab(t *testing.T, browser context.Context) *browserTab {
	t.Helper()
	tb := &browserTab{t: t, ctx: browser}
	tb.do("clear the cookies", chromedp.Func(func(ctx context.Context, target *chromedp.Target) error {
		return target.Call(ctx, "Network.clearBrowserCookies", nil, nil)
	}))
	tb.do("open a blank page", chromedp.Navigate("about:blank"))
	t.Cleanup(func() {
		if t.Failed() {
			tb.saveFailure() // a failure reported by t itself
		}
	})
	return tb
}

// do runs steps that load no page.
func (tb *browserTab) do(what string, steps ...chromedp.Action[chromedp.Void]) {
	tb.t.Helper()
	ctx, cancel := context.WithTimeout(tb.ctx, browserStepTimeout)
	defer cancel()
	if err := chromedp.Do(ctx, steps...); err != nil {
		tb.fatalf("%s: %v", what, err)
	}
}

// load runs steps that load a page (following redirects) and checks the
// page's HTTP status.
func (tb *browserTab) load(what string, status int64, steps ...chromedp.Action[chromedp.Void]) {
	tb.t.Helper()
	ctx, cancel := context.WithTimeout(tb.ctx, browserStepTimeout)
	defer cancel()
	resp, err := chromedp.RunResponse(ctx, steps...)
	if err != nil {
		tb.fatalf("%s: %v", what, err)
	}
	if resp == nil || resp.Status != status {
		got := "no response"
		if resp != nil {
			got = fmt.Sprintf("%d %s", resp.Status, resp.URL)
		}
		tb.fatalf("%s: got %s, want status %d", what, got, status)
	}
}

// browserRun runs one action that returns a value.
func browserRun[T any](tb *browserTab, what string, a chromedp.Action[T]) T {
	tb.t.Helper()
	ctx, cancel := context.WithTimeout(tb.ctx, browserStepTimeout)
	defer cancel()
	v, err := chromedp.Run(ctx, a)
	if err != nil {
		tb.fatalf("%s: %v", what, err)
	}
	return v
}

// wantDocument checks the page's language and direction.
func (tb *browserTab) wantDocument(lang, dir string) {
	tb.t.Helper()
	got := browserRun(tb, "read <html>", chromedp.Evaluate[[]string](`[document.documentElement.lang, document.documentElement.dir]`))
	if len(got) != 2 || got[0] != lang || got[1] != dir {
		tb.fatalf(`<html lang dir> = %q, want lang=%q dir=%q`, got, lang, dir)
	}
}

// wantText waits for element id to be visible and checks that its text
// holds every one of texts.
func (tb *browserTab) wantText(id string, texts ...string) {
	tb.t.Helper()
	tb.do("wait for #"+id, chromedp.WaitVisible(chromedp.ID(id)))
	got := browserRun(tb, "read #"+id, chromedp.Text(chromedp.ID(id)))
	for _, s := range texts {
		if !strings.Contains(got, s) {
			tb.errorf("text of #%s = %q, want it to contain %q", id, got, s)
		}
	}
}

// saveScreenshot writes a full-page PNG of the tab to t's artifact
// directory.
func (tb *browserTab) saveScreenshot(name string) {
	tb.t.Helper()
	png := browserRun(tb, "screenshot", chromedp.FullScreenshot(100))
	path := filepath.Join(tb.t.ArtifactDir(), name)
	if err := os.WriteFile(path, png, 0o644); err != nil {
		tb.fatalf("saving the screenshot: %v", err)
	}
	tb.t.Logf("screenshot: %s", path)
}

// saveFailure saves what the tab shows (screenshot and HTML) at the
// first failure of the subtest. It reports problems without failing again.
func (tb *browserTab) saveFailure() {
	tb.t.Helper()
	if tb.saved {
		return
	}
	tb.saved = true
	ctx, cancel := context.WithTimeout(tb.ctx, 5*time.Second)
	defer cancel()
	dir := tb.t.ArtifactDir()
	if loc, err := chromedp.Run(ctx, chromedp.Location()); err == nil {
		tb.t.Logf("the page at the failure: %s", loc)
	}
	if png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100)); err != nil {
		tb.t.Logf("no screenshot: %v", err)
	} else if err := os.WriteFile(filepath.Join(dir, "failure.png"), png, 0o644); err != nil {
		tb.t.Logf("no screenshot: %v", err)
	} else {
		tb.t.Logf("screenshot: %s", filepath.Join(dir, "failure.png"))
	}
	if html, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.documentElement.outerHTML`)); err != nil {
		tb.t.Logf("no HTML: %v", err)
	} else if err := os.WriteFile(filepath.Join(dir, "failure.html"), []byte(html), 0o644); err != nil {
		tb.t.Logf("no HTML: %v", err)
	} else {
		tb.t.Logf("page HTML: %s", filepath.Join(dir, "failure.html"))
	}
}

// browserRTLLayout is where things are on the Arabic login page (CSS pixels).
type browserRTLLayout struct {
	FormDirection string  `json:"formDirection"`
	BrandLeft     float64 `json:"brandLeft"`
	LangsLeft     float64 `json:"langsLeft"`
	LabelRight    float64 `json:"labelRight"`
	FormRight     float64 `json:"formRight"`
}

const browserRTLLayoutJS = `(() => {
	const form = document.getElementById("login-form");
	const label = document.querySelector("label[for=login-id]");
	const text = document.createRange();
	text.selectNodeContents(label);
	return {
		formDirection: getComputedStyle(form).direction,
		brandLeft: document.querySelector("header .brand").getBoundingClientRect().left,
		langsLeft: document.querySelector("header .langs").getBoundingClientRect().left,
		labelRight: text.getBoundingClientRect().right,
		formRight: form.getBoundingClientRect().right,
	};
})()`

// browserLoginFields are the login form's fields after an error.
type browserLoginFields struct {
	LoginID        string `json:"loginID"`
	PIN            string `json:"pin"`
	PINInvalid     string `json:"pinInvalid"`
	PINDescribedBy string `json:"pinDescribedBy"`
}

const browserLoginFieldsJS = `(() => {
	const pin = document.getElementById("pin");
	return {
		loginID: document.getElementById("login-id").value,
		pin: pin.value,
		pinInvalid: pin.getAttribute("aria-invalid") || "",
		pinDescribedBy: pin.getAttribute("aria-describedby") || "",
	};
})()`

// browserAuthRequest is an authorization request and the secrets the
// relying party keeps for it.
type browserAuthRequest struct {
	URL, State, Nonce, Verifier string
}

// newBrowserAuthRequest builds an authorization code request with PKCE
// (S256), in locale (ui_locales and claims_locales; none if "").
func newBrowserAuthRequest(t *testing.T, issuer string, cl *oidctest.Client, locale string) browserAuthRequest {
	t.Helper()
	r := browserAuthRequest{State: rand.Text(), Nonce: rand.Text(), Verifier: rand.Text() + rand.Text()}
	sum := sha256.Sum256([]byte(r.Verifier))
	q := url.Values{
		"response_type":         {"code"},
		"client_id":             {cl.ID},
		"redirect_uri":          {cl.RedirectURI},
		"scope":                 {"openid profile email phone"},
		"state":                 {r.State},
		"nonce":                 {r.Nonce},
		"code_challenge":        {base64.RawURLEncoding.EncodeToString(sum[:])},
		"code_challenge_method": {"S256"},
	}
	if locale != "" {
		q.Set("ui_locales", locale)
		q.Set("claims_locales", locale)
	}
	r.URL = issuer + oidc.PathAuthorize + "?" + q.Encode()
	return r
}

// browserCallback is the relying party's redirect URI: it records each
// response's query by state and shows a page.
type browserCallback struct {
	*httptest.Server
	mu      sync.Mutex
	byState map[string]url.Values
}

func newBrowserCallback(t *testing.T) *browserCallback {
	t.Helper()
	cs := &browserCallback{byState: map[string]url.Values{}}
	cs.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/cb" {
			http.NotFound(w, r)
			return
		}
		q := r.URL.Query()
		cs.mu.Lock()
		cs.byState[q.Get("state")] = q
		cs.mu.Unlock()
		msg := "signed in"
		if q.Get("error") != "" {
			msg = "not signed in"
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprintf(w, "<!doctype html><html lang=en><title>Relying party</title><p id=result>%s</p></html>", msg)
	}))
	t.Cleanup(cs.Close)
	return cs
}

// result waits for tb to show the callback page and returns the query the
// callback received for req.
func (cs *browserCallback) result(tb *browserTab, req browserAuthRequest) url.Values {
	tb.t.Helper()
	tb.do("wait for the callback page", chromedp.WaitVisible(chromedp.ID("result")))
	loc := browserRun(tb, "read the location", chromedp.Location())
	if !strings.HasPrefix(loc, cs.URL+"/cb?") {
		tb.fatalf("the browser is at %s, want the callback %s/cb", loc, cs.URL)
	}
	cs.mu.Lock()
	q, ok := cs.byState[req.State]
	cs.mu.Unlock()
	if !ok {
		tb.fatalf("the callback got no response with this request's state; the browser is at %s", loc)
	}
	return q
}

// wantCode checks that the callback got a code for req, from issuer.
func (cs *browserCallback) wantCode(tb *browserTab, req browserAuthRequest, issuer string) {
	tb.t.Helper()
	q := cs.result(tb, req)
	if q.Get("code") == "" || q.Get("error") != "" || q.Get("state") != req.State || q.Get("iss") != issuer {
		tb.errorf("callback query %v, want a code, state=%s, iss=%s", q, req.State, issuer)
	}
	tb.wantText("result", "signed in")
}
