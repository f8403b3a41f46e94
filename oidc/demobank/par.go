package demobank

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"mime"
	"net/http"
	"net/url"
	"strings"
)

// The ACRs the bank offers, as eSignet names them.
const (
	acrOTP      = "mosip:idp:acr:generated-code"
	acrPIN      = "mosip:idp:acr:static-code"
	acrPassword = "mosip:idp:acr:password"
	acrKBI      = "mosip:idp:acr:knowledge"
)

// registeredACRs are the ACRs the bank registers: every factor Sanad's ID
// repository implements.
var registeredACRs = []string{acrOTP, acrPIN, acrPassword, acrKBI}

// acrChoice is one option of the home page's "sign in with" picker.
type acrChoice struct {
	Key   string // form value
	Label string
	ACR   string // "" for any registered ACR
}

var acrChoices = []acrChoice{
	{"otp", "One-time code (OTP)", acrOTP},
	{"pin", "PIN", acrPIN},
	{"password", "Password", acrPassword},
	{"any", "Any method", ""},
}

// langChoice is one option of the language picker: an ISO 639-3 code, as
// eSignet and the ID repository name languages.
type langChoice struct {
	Code  string
	Label string
}

var langChoices = []langChoice{
	{"eng", "English"},
	{"fra", "Français"},
	{"ara", "العربية"},
}

// loginForm is the home page's login form, parsed.
type loginForm struct {
	CSRF string
	ACR  acrChoice
	Lang string
}

// parseLoginForm reads the login form; unknown choices are errors.
func parseLoginForm(v url.Values) (loginForm, error) {
	f := loginForm{CSRF: v.Get("csrf")}
	acr := v.Get("acr")
	if acr == "" {
		acr = "any"
	}
	found := false
	for _, c := range acrChoices {
		if c.Key == acr {
			f.ACR, found = c, true
		}
	}
	if !found {
		return f, fmt.Errorf("unknown acr choice %q", truncate(acr, 32))
	}
	f.Lang = v.Get("lang")
	if f.Lang == "" {
		f.Lang = "eng"
	}
	for _, l := range langChoices {
		if l.Code == f.Lang {
			return f, nil
		}
	}
	return f, fmt.Errorf("unknown language %q", truncate(f.Lang, 32))
}

// claimsRequest is the claims parameter (OpenID Connect Core section 5.5)
// the bank sends: what it needs to open an account, with a purpose the
// consent screen shows. name and birthdate are essential: the resident
// cannot consent without releasing them. With a specific ACR, id_token.acr
// is essential with that value, so the provider must authenticate with it
// or fail (Core section 5.5.1.1).
func claimsRequest(acr string) string {
	type claim struct {
		Essential bool     `json:"essential,omitempty"`
		Values    []string `json:"values,omitempty"`
		Purpose   string   `json:"purpose,omitempty"`
	}
	req := map[string]map[string]*claim{
		"userinfo": {
			"name":         {Essential: true, Purpose: "To open your account in your legal name"},
			"birthdate":    {Essential: true, Purpose: "To check that you are of age"},
			"phone_number": {Purpose: "To send you payment confirmations"},
			"email":        {Purpose: "To send you statements"},
			"address":      {Purpose: "To send you your card"},
			"gender":       nil,
			"picture":      {Purpose: "To show your photo to our branch staff"},
		},
	}
	if acr != "" {
		req["id_token"] = map[string]*claim{"acr": {Essential: true, Values: []string{acr}}}
	}
	b, _ := json.Marshal(req) // maps of plain structs always marshal
	return string(b)
}

// claimsLocales puts the chosen language first and keeps the others, so
// that multi-language claims come in every language (name#fra, name#eng).
func claimsLocales(lang string) string {
	out := []string{lang}
	for _, l := range langChoices {
		if l.Code != lang {
			out = append(out, l.Code)
		}
	}
	return strings.Join(out, " ")
}

// pkceChallenge is the S256 code_challenge of a verifier (RFC 7636).
func pkceChallenge(verifier string) string {
	sum := sha256.Sum256([]byte(verifier))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// parResponse is the PAR endpoint's answer (RFC 9126 section 2.2).
type parResponse struct {
	RequestURI string `json:"request_uri"`
	ExpiresIn  int    `json:"expires_in"`
}

// pushAuthorizationRequest sends the authorization request of login to the
// PAR endpoint, authenticated with private_key_jwt, and returns the URL to
// send the browser to: the authorization endpoint with only client_id and
// request_uri.
func (b *Bank) pushAuthorizationRequest(ctx context.Context, d *discovered, l *pendingLogin, f loginForm) (string, error) {
	jkt, err := thumbprint(l.DPoPKey)
	if err != nil {
		return "", err
	}
	assertion, err := clientAssertion(b.key, b.clientID, b.issuer, b.now())
	if err != nil {
		return "", err
	}
	form := url.Values{
		"client_id":             {b.clientID},
		"response_type":         {"code"},
		"redirect_uri":          {b.redirectURI},
		"scope":                 {"openid"},
		"state":                 {l.State},
		"nonce":                 {l.Nonce},
		"code_challenge":        {pkceChallenge(l.Verifier)},
		"code_challenge_method": {"S256"},
		"prompt":                {"login"},
		"claims":                {claimsRequest(f.ACR.ACR)},
		"claims_locales":        {claimsLocales(f.Lang)},
		"ui_locales":            {f.Lang},
		// dpop_jkt binds the code to this login's DPoP key (RFC 9449
		// section 10): a stolen code is useless without the key.
		"dpop_jkt":              {jkt},
		"client_assertion_type": {clientAssertionType},
		"client_assertion":      {assertion},
	}
	if f.ACR.ACR != "" {
		form.Set("acr_values", f.ACR.ACR)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, d.meta.PAREndpoint, strings.NewReader(form.Encode()))
	if err != nil {
		return "", fmt.Errorf("demobank: PAR request: %w", err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	resp, err := b.send(req)
	if err != nil {
		return "", &flowError{Stage: "par", Cause: err}
	}
	if resp.Status != http.StatusCreated && resp.Status != http.StatusOK {
		return "", &flowError{Stage: "par", Status: resp.Status, OAuth: oauthErrorOf(resp)}
	}
	var pr parResponse
	if mt, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type")); mt != "application/json" {
		return "", &flowError{Stage: "par", Cause: fmt.Errorf("PAR response is %q, not JSON", mt)}
	}
	if err := json.Unmarshal(resp.Body, &pr); err != nil || pr.RequestURI == "" {
		return "", &flowError{Stage: "par", Cause: fmt.Errorf("PAR response has no request_uri (%v)", err)}
	}
	u, err := url.Parse(d.meta.AuthorizationEndpoint)
	if err != nil {
		return "", fmt.Errorf("demobank: authorization_endpoint: %w", err)
	}
	q := u.Query()
	q.Set("client_id", b.clientID)
	q.Set("request_uri", pr.RequestURI)
	u.RawQuery = q.Encode()
	return u.String(), nil
}

// flowError is a failure of a login step: the step, the provider's OAuth
// error when it sent one (code and description are safe to show and log),
// and an internal cause that is logged, never shown.
type flowError struct {
	Stage  string // par, callback, token, id_token, userinfo
	Status int
	OAuth  oauthError
	Cause  error
}

func (e *flowError) Error() string {
	s := "demobank: " + e.Stage
	if e.Status != 0 {
		s += fmt.Sprintf(": HTTP %d", e.Status)
	}
	if e.OAuth.Code != "" {
		s += ": " + e.OAuth.Code
		if e.OAuth.Description != "" {
			s += " (" + e.OAuth.Description + ")"
		}
	}
	if e.Cause != nil {
		s += ": " + e.Cause.Error()
	}
	return s
}

func (e *flowError) Unwrap() error { return e.Cause }
