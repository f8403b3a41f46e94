package demobank

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/net/html"

	"github.com/sanad-id/sanad/oidc/oidctest"
	"github.com/sanad-id/sanad/storage/memory"
	"github.com/sanad-id/sanad/storage/sqlite"
)

func TestScratchE2E(t *testing.T) {
	ctx := t.Context()
	db, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "s.db"))
	if err != nil {
		t.Fatal(err)
	}
	st := memory.New(memory.Config{})
	log := slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelDebug}))
	stack := oidctest.New(t, db, st, func(o *oidctest.Options) { o.Logger = log })

	var h http.Handler
	bsrv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { h.ServeHTTP(w, r) }))
	defer bsrv.Close()
	key, err := LoadOrCreateKey(filepath.Join(t.TempDir(), "bank.jwk"))
	if err != nil {
		t.Fatal(err)
	}
	reg := Registration("demo-bank", key, bsrv.URL+"/demo/bank/callback")
	if _, err := stack.Clients.Create(ctx, reg); err != nil {
		t.Fatal(err)
	}
	bank, err := New(ctx, Config{Issuer: stack.Issuer, ClientID: "demo-bank", SigningKey: key, BaseURL: bsrv.URL + "/demo/bank", Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	h = bank.Handler()

	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	do := func(method, u string, form url.Values) (int, string, string) {
		t.Helper()
		var body io.Reader
		if form != nil {
			body = strings.NewReader(form.Encode())
		}
		req, _ := http.NewRequest(method, u, body)
		if form != nil {
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		}
		resp, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		loc := resp.Header.Get("Location")
		if loc != "" {
			l, _ := resp.Request.URL.Parse(loc)
			loc = l.String()
		}
		return resp.StatusCode, loc, string(b)
	}
	_, _, home := do("GET", bsrv.URL+"/demo/bank/", nil)
	csrf := csrfField.FindStringSubmatch(home)[1]
	r := stack.Residents[0]
	for round, acr := range []string{"pin", "any"} {
		st, loc, body := do("POST", bsrv.URL+"/demo/bank/login", url.Values{"csrf": {csrf}, "acr": {acr}, "lang": {"fra"}})
		t.Logf("round %d login: %d %s", round, st, loc)
		if st != 303 {
			t.Fatal(body)
		}
		st, loc, body = do("GET", loc, nil)
		t.Logf("authorize: %d %s", st, loc)
		if st != 303 {
			t.Fatal(body)
		}
		st, _, body = do("GET", loc, nil)
		loginURL := loc
		action, form := formOf(t, body, "login-form")
		form.Set("action", "submit")
		form.Set("login_id", r.UIN)
		form.Set("pin", r.PIN)
		if acr == "any" {
			form.Set("password", r.Password)
		}
		u, _ := url.Parse(loginURL)
		au, _ := u.Parse(action)
		st, loc, body = do("POST", au.String(), form)
		t.Logf("authenticate: %d %s", st, loc)
		if strings.Contains(loc, "/consent") {
			_, _, body = do("GET", loc, nil)
			action, form = formOf(t, body, "consent-form")
			form.Set("action", "allow")
			cu, _ := url.Parse(loc)
			au, _ = cu.Parse(action)
			st, loc, body = do("POST", au.String(), form)
			t.Logf("consent: %d %s", st, strings.SplitN(loc, "?", 2)[0])
		}
		if !strings.HasPrefix(loc, bsrv.URL+"/demo/bank/callback") {
			t.Fatalf("no callback: %d %s\n%s", st, loc, body)
		}
		st, loc, body = do("GET", loc, nil)
		t.Logf("callback: %d %s", st, loc)
		if st != 303 {
			t.Fatal(body)
		}
		_, _, body = do("GET", loc, nil)
		i := strings.Index(body, "<table>")
		t.Logf("account page:\n%s", body[i:])
		_, _, home = do("GET", bsrv.URL+"/demo/bank/", nil)
		csrf = csrfField.FindStringSubmatch(home)[1]
	}
}

func formOf(t *testing.T, page, id string) (string, url.Values) {
	t.Helper()
	doc, err := html.Parse(strings.NewReader(page))
	if err != nil {
		t.Fatal(err)
	}
	var form *html.Node
	var walk func(n *html.Node, f func(*html.Node))
	walk = func(n *html.Node, f func(*html.Node)) {
		f(n)
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c, f)
		}
	}
	attr := func(n *html.Node, k string) (string, bool) {
		for _, a := range n.Attr {
			if a.Key == k {
				return a.Val, true
			}
		}
		return "", false
	}
	walk(doc, func(n *html.Node) {
		if v, _ := attr(n, "id"); n.Type == html.ElementNode && v == id && form == nil {
			form = n
		}
	})
	if form == nil {
		t.Fatalf("no form %s in\n%s", id, page)
	}
	action, _ := attr(form, "action")
	v := url.Values{}
	walk(form, func(n *html.Node) {
		if n.Type != html.ElementNode || n.Data != "input" {
			return
		}
		name, _ := attr(n, "name")
		if _, dis := attr(n, "disabled"); dis || name == "" {
			return
		}
		typ, _ := attr(n, "type")
		val, _ := attr(n, "value")
		if typ == "checkbox" || typ == "radio" {
			if _, ch := attr(n, "checked"); !ch {
				return
			}
			if val == "" {
				val = "on"
			}
		}
		v.Add(name, val)
	})
	return action, v
}
