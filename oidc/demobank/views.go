package demobank

import (
	"bytes"
	"encoding/json"
	"fmt"
	"html/template"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"time"
)

// The pages: English only (the bank's own language); the resident's
// language choice goes to the provider's login pages (ui_locales) and to
// the claims (claims_locales). Claim values carry their language (lang and
// dir="auto"), so Arabic names read right to left.
var pages = template.Must(template.New("").Parse(`
{{define "top"}}<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.}} · Demo Bank</title>
<link rel="stylesheet" href="bank.css"></head>
<body><header><img src="logo.svg" alt="" width="32" height="32"> <a href="./">Demo Bank</a></header><main>
{{end}}
{{define "bottom"}}</main><footer>A demonstration relying party of Sanad. Not a real bank.</footer></body></html>
{{end}}

{{define "home"}}{{template "top" "Welcome"}}
<h1>Welcome to Demo Bank</h1>
{{with .Account}}<p class="ok">You are signed in{{with .Name}} as <bdi>{{.}}</bdi>{{end}}. <a href="account">Go to your account</a>.</p>{{end}}
<p>Open an account or sign in with your national identity: no forms to fill in, no documents to upload.</p>
<form method="post" action="login">
<input type="hidden" name="csrf" value="{{.CSRF}}">
<fieldset><legend>Sign in with</legend>
{{range $i, $c := .ACRs}}<label><input type="radio" name="acr" value="{{$c.Key}}"{{if eq $c.Key "any"}} checked{{end}}> {{$c.Label}}</label>
{{end}}</fieldset>
<fieldset><legend>Language</legend>
<select name="lang" aria-label="Language">{{range .Langs}}<option value="{{.Code}}" lang="{{.Code}}">{{.Label}}</option>{{end}}</select>
</fieldset>
<button type="submit" class="primary">Login with National ID</button>
</form>
{{template "bottom"}}{{end}}

{{define "account"}}{{template "top" "Your account"}}
{{with .Account}}<h1>Hello{{with .Name}}, <bdi>{{.}}</bdi>{{end}}</h1>
<p>These details come from the national ID system, {{if .UserinfoSigned}}signed by it{{else}}over a secure connection{{end}}, with your consent.</p>
<table>
{{range .Claims}}<tr><th>{{.Label}}</th><td>{{range $v := .Values}}<div>
{{- with .Lang}}<span class="tag">{{.}}</span> {{end -}}
{{- if .Picture}}<img src="{{.Picture}}" alt="Photo" class="photo">
{{- else if .Link}}<a href="{{.Link}}" rel="noreferrer">{{.Link}}</a>
{{- else}}{{range $i, $l := .Lines}}{{if $i}}<br>{{end}}<bdi{{with $v.HTMLLang}} lang="{{.}}"{{end}} dir="auto">{{$l}}</bdi>{{end}}{{end -}}
</div>{{end}}</td></tr>
{{else}}<tr><td>No details were released.</td></tr>
{{end}}</table>
<h2>About this sign-in</h2>
<table>
<tr><th>Identifier at this bank (pairwise <code>sub</code>)</th><td><code>{{.Subject}}</code></td></tr>
<tr><th>Method (<code>acr</code>)</th><td>{{.ACRLabel}} <code>{{.ACR}}</code></td></tr>
<tr><th>Factors (<code>amr</code>)</th><td><code>{{.AMR}}</code></td></tr>
<tr><th>Authenticated at (<code>auth_time</code>)</th><td>{{.AuthTime}}</td></tr>
<tr><th>Provider (<code>iss</code>)</th><td><code>{{.Issuer}}</code></td></tr>
</table>
{{end}}
<form method="post" action="logout"><input type="hidden" name="csrf" value="{{.CSRF}}"><button type="submit">Sign out</button></form>
{{template "bottom"}}{{end}}

{{define "error"}}{{template "top" "Sign-in problem"}}
<h1>Sign-in problem</h1>
<p class="error">{{.Message}}</p>
{{with .Code}}<p>The National ID service said: <code>{{.}}</code>{{with $.Description}}: {{.}}{{end}}</p>{{end}}
<p><a href="./">Back to the home page</a></p>
{{template "bottom"}}{{end}}
`))

type homeView struct {
	CSRF    string
	ACRs    []acrChoice
	Langs   []langChoice
	Account *accountView
}

type accountPage struct {
	CSRF    string
	Account *accountView
}

// accountView is an Account as the pages show it.
type accountView struct {
	Name           string
	Subject        string
	Issuer         string
	ACR, ACRLabel  string
	AMR            string
	AuthTime       string
	UserinfoSigned bool
	Claims         []claimGroup
}

// claimGroup is a claim with its values, one per language.
type claimGroup struct {
	Label  string
	Values []claimValue
}

type claimValue struct {
	Lang     string // ISO 639-3, as in "name#fra"; "" for the plain claim
	HTMLLang string // BCP 47, for the lang attribute
	Lines    []string
	Picture  template.URL // a checked data:image URI
	Link     string
}

// claimOrder and claimLabels: the claims in the order and words a bank
// shows them.
var claimOrder = []string{"name", "given_name", "middle_name", "family_name", "birthdate", "gender",
	"phone_number", "phone_number_verified", "email", "email_verified", "address", "locale", "picture"}

var claimLabels = map[string]string{
	"name": "Full name", "given_name": "Given name", "middle_name": "Middle name", "family_name": "Family name",
	"birthdate": "Date of birth", "gender": "Gender", "phone_number": "Phone", "phone_number_verified": "Phone verified",
	"email": "Email", "email_verified": "Email verified", "address": "Address", "locale": "Language", "picture": "Photo",
}

var htmlLangs = map[string]string{"eng": "en", "fra": "fr", "ara": "ar"}

var languageTag = regexp.MustCompile(`^[A-Za-z]{2,8}(-[A-Za-z0-9]{1,8})*$`)

func newAccountView(a *Account) *accountView {
	v := &accountView{
		Subject:        a.Subject,
		Issuer:         a.Issuer,
		ACR:            a.ACR,
		ACRLabel:       acrLabel(a.ACR),
		AMR:            strings.Join(a.AMR, " "),
		AuthTime:       a.AuthTime.UTC().Format(time.RFC1123),
		UserinfoSigned: a.UserinfoSigned,
	}
	groups := map[string]*claimGroup{}
	var names []string
	for full, raw := range a.Claims {
		name, lang, _ := strings.Cut(full, "#")
		g, ok := groups[name]
		if !ok {
			label := claimLabels[name]
			if label == "" {
				label = name
			}
			g = &claimGroup{Label: label}
			groups[name] = g
			names = append(names, name)
		}
		cv := claimValue{Lang: lang}
		if h, ok := htmlLangs[lang]; ok {
			cv.HTMLLang = h
		} else if languageTag.MatchString(lang) {
			cv.HTMLLang = lang
		}
		fillClaimValue(&cv, name, raw)
		g.Values = append(g.Values, cv)
	}
	slices.SortFunc(names, func(x, y string) int {
		ix, iy := slices.Index(claimOrder, x), slices.Index(claimOrder, y)
		switch {
		case ix >= 0 && iy >= 0:
			return ix - iy
		case ix >= 0:
			return -1
		case iy >= 0:
			return 1
		}
		return strings.Compare(x, y)
	})
	for _, n := range names {
		g := groups[n]
		// The plain claim first, then by language.
		slices.SortFunc(g.Values, func(x, y claimValue) int { return strings.Compare(x.Lang, y.Lang) })
		v.Claims = append(v.Claims, *g)
	}
	v.Name = displayName(a.Claims)
	return v
}

// displayName is the plain name claim, else the first language's.
func displayName(claims map[string]any) string {
	if s, ok := claims["name"].(string); ok {
		return s
	}
	for _, l := range langChoices {
		if s, ok := claims["name#"+l.Code].(string); ok {
			return s
		}
	}
	return ""
}

// pictureURI matches the data URIs the provider releases photos as.
var pictureURI = regexp.MustCompile(`^data:image/(jpeg|jpg|png|webp);base64,[A-Za-z0-9+/]+=*$`)

// fillClaimValue renders a claim value: text, address lines, a photo.
func fillClaimValue(cv *claimValue, name string, raw any) {
	switch x := raw.(type) {
	case string:
		if name == "picture" {
			switch {
			case pictureURI.MatchString(x):
				cv.Picture = template.URL(x) // checked just above: an image, base64 only
				return
			case strings.HasPrefix(x, "https://"):
				cv.Link = x
				return
			}
		}
		cv.Lines = []string{x}
	case bool:
		cv.Lines = []string{map[bool]string{true: "yes", false: "no"}[x]}
	case json.Number:
		cv.Lines = []string{x.String()}
	case map[string]any:
		if name == "address" {
			for _, f := range []string{"street_address", "locality", "region", "postal_code", "country"} {
				if s, ok := x[f].(string); ok && s != "" {
					cv.Lines = append(cv.Lines, strings.Split(s, "\n")...)
				}
			}
			if len(cv.Lines) == 0 {
				if s, ok := x["formatted"].(string); ok {
					cv.Lines = strings.Split(s, "\n")
				}
			}
			if len(cv.Lines) > 0 {
				return
			}
		}
		cv.Lines = []string{jsonText(x)}
	default:
		cv.Lines = []string{jsonText(x)}
	}
}

func jsonText(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}

func acrLabel(acr string) string {
	for _, c := range acrChoices {
		if c.ACR != "" && c.ACR == acr {
			return c.Label
		}
	}
	if acr == acrKBI {
		return "Knowledge-based"
	}
	return ""
}

// render writes a page; a template error is a bug, answered with a plain
// 500.
func (b *Bank) render(w http.ResponseWriter, status int, name string, data any) {
	var buf bytes.Buffer
	if err := pages.ExecuteTemplate(&buf, name, data); err != nil {
		b.log.Error("demobank: render", "page", name, "error", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

func serveStatic(contentType, body string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", contentType)
		w.Header().Set("Cache-Control", "public, max-age=3600")
		_, _ = w.Write([]byte(body))
	}
}

const bankCSS = `body{font:16px/1.5 system-ui,sans-serif;margin:0;color:#1b2a3a;background:#f4f6f8}
header{background:#0b3d5c;color:#fff;padding:.6em 1em;display:flex;align-items:center;gap:.5em}
header a{color:#fff;text-decoration:none;font-weight:600}
main{max-width:44em;margin:1.5em auto;background:#fff;padding:1em 1.5em;border-radius:8px}
fieldset{border:1px solid #ccd5de;border-radius:6px;margin:0 0 1em}
label{display:block}
button{font:inherit;padding:.5em 1em;border-radius:6px;border:1px solid #0b3d5c;background:#fff;cursor:pointer}
button.primary{background:#0b3d5c;color:#fff}
table{border-collapse:collapse;width:100%;margin-bottom:1em}
th,td{text-align:start;vertical-align:top;padding:.4em;border-bottom:1px solid #e3e8ee}
th{width:35%;font-weight:600}
.tag{font:12px monospace;background:#e3e8ee;border-radius:3px;padding:0 .3em}
.photo{max-width:120px;border-radius:4px}
.ok{background:#e6f4ea;padding:.5em}
.error{background:#fdecea;padding:.5em}
footer{text-align:center;font-size:13px;color:#5a6b7b;margin:1em}
`

const bankLogo = `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32"><rect width="32" height="32" rx="6" fill="#0b3d5c"/><path d="M6 13 16 6l10 7zM8 15h3v9H8zm6.5 0h3v9h-3zM21 15h3v9h-3zM6 26h20v2H6z" fill="#fff"/></svg>
`
