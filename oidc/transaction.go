package oidc

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/sanad-id/sanad/idrepo/authn"
	"github.com/sanad-id/sanad/storage"
)

// ACRs and the factor list each one stands for (eSignet's
// amr-acr-mapping). Biometrics and linked wallets are not offered.
var acrFactors = map[string][]string{
	"mosip:idp:acr:generated-code": {authn.FactorOTP},
	"mosip:idp:acr:static-code":    {authn.FactorPIN},
	"mosip:idp:acr:password":       {authn.FactorPassword},
	"mosip:idp:acr:knowledge":      {authn.FactorKBI},
}

// SupportedACRs are the ACRs the provider can satisfy, strongest first.
var SupportedACRs = []string{
	"mosip:idp:acr:static-code", "mosip:idp:acr:password", "mosip:idp:acr:generated-code", "mosip:idp:acr:knowledge",
}

// standardScopes are the OpenID Connect scopes that ask for claims.
var standardScopes = []string{"openid", "profile", "email", "phone", "address"}

// txRecord is a transaction as kept in State.
type txRecord struct {
	ID                   string          `json:"id"`
	Status               string          `json:"st"`
	ClientID             string          `json:"cid"`
	RedirectURI          string          `json:"ru"`
	Scopes               []string        `json:"sc"`
	State                string          `json:"s,omitempty"`
	Nonce                string          `json:"n,omitempty"`
	Prompt               []string        `json:"pr,omitempty"`
	MaxAge               int64           `json:"ma"`
	ACRs                 []string        `json:"acr"`
	Essential            []string        `json:"ess,omitempty"`
	Voluntary            []string        `json:"vol,omitempty"`
	IDTokenClaims        []string        `json:"idc,omitempty"`
	ClaimsLocales        []string        `json:"cl,omitempty"`
	UILocales            []string        `json:"ul,omitempty"`
	CodeChallenge        string          `json:"cc,omitempty"`
	CodeChallengeMethod  string          `json:"ccm,omitempty"`
	DPoPJKT              string          `json:"jkt,omitempty"`
	AuthorizeScopes      []string        `json:"as,omitempty"`
	CredentialScopes     []string        `json:"crs,omitempty"`
	AuthorizationDetails json.RawMessage `json:"ad,omitempty"`
	Purpose              *ClientPurpose  `json:"pu,omitempty"`
	FormToken            string          `json:"ft"`
	Created              int64           `json:"c"`
	// ClientName (by language, "@none" for the default) and LogoURI are
	// the client's as the transaction opened: what the front ends show,
	// and what the oauth-details response and its hash are made of, do not
	// change if an administrator edits the client during the sign-in.
	// Empty in records written before they were kept (view falls back to
	// the client).
	ClientName map[string]string `json:"cn,omitempty"`
	LogoURI    string            `json:"lg,omitempty"`
	// BindingHashes are TxView.OAuthDetailsHashes, computed once, when the
	// transaction opened.
	BindingHashes []string `json:"bh,omitempty"`

	// Set by Authenticate.
	PersonID      string          `json:"p,omitempty"`
	Subject       string          `json:"sub,omitempty"`
	ACR           string          `json:"a,omitempty"`
	AMR           []string        `json:"amr,omitempty"`
	AuthTime      int64           `json:"at,omitempty"`
	Claims        *sealed         `json:"cl2,omitempty"`
	Available     map[string]bool `json:"av,omitempty"`
	ConsentAction string          `json:"ca,omitempty"`
	ConsentHash   []byte          `json:"ch,omitempty"`
	// Consented are the stored consent's claims and scopes (NOCAPTURE).
	ConsentedClaims []string `json:"cc2,omitempty"`
	ConsentedScopes []string `json:"cs2,omitempty"`
}

// parRecord is a pushed authorization request.
type parRecord struct {
	ClientID string               `json:"cid"`
	Request  AuthorizationRequest `json:"r"`
}

func txKey(id string) string { return stateKey("tx", id) }

// StartTransaction implements LoginFlow.
func (p *Provider) StartTransaction(ctx context.Context, req AuthorizationRequest) (*TxView, error) {
	if req.RequestURI != "" {
		return p.StartPARTransaction(ctx, req.ClientID, req.RequestURI)
	}
	cl, err := p.authorizeClient(ctx, req.ClientID, req.RedirectURI)
	if err != nil {
		return nil, err
	}
	if p.cfg.RequirePAR || cl.Config.RequirePAR {
		return nil, p.redirectError(req, ErrInvalidRequest("this client must use pushed authorization requests (PAR)", nil))
	}
	return p.start(ctx, cl, req)
}

// StartPARTransaction implements LoginFlow.
func (p *Provider) StartPARTransaction(ctx context.Context, clientID, requestURI string) (*TxView, error) {
	if !strings.HasPrefix(requestURI, requestURIPrefix) {
		return nil, &AuthorizeError{Err: ErrInvalidRequestURI("request_uri is not one this server issued", nil)}
	}
	b, err := p.cfg.State.Take(ctx, stateKey("par", requestURI))
	if errors.Is(err, storage.ErrNotFound) {
		return nil, &AuthorizeError{Err: ErrInvalidRequestURI("request_uri is unknown, used or expired", nil)}
	}
	if err != nil {
		return nil, &AuthorizeError{Err: ErrServerError(err)}
	}
	var rec parRecord
	if err := json.Unmarshal(b, &rec); err != nil {
		return nil, &AuthorizeError{Err: ErrServerError(err)}
	}
	if clientID == "" || subtle.ConstantTimeCompare([]byte(clientID), []byte(rec.ClientID)) != 1 {
		return nil, &AuthorizeError{Err: ErrInvalidRequestURI("request_uri was pushed by another client", nil)}
	}
	cl, err := p.authorizeClient(ctx, rec.ClientID, rec.Request.RedirectURI)
	if err != nil {
		return nil, err
	}
	return p.start(ctx, cl, rec.Request)
}

// authorizeClient finds the client and checks the redirect URI: the two
// things that must hold before any error may be redirected.
func (p *Provider) authorizeClient(ctx context.Context, clientID, redirectURI string) (*client, error) {
	if clientID == "" {
		return nil, &AuthorizeError{Err: ErrInvalidRequest("client_id is missing", nil)}
	}
	cl, err := p.clients.get(ctx, clientID)
	if errors.Is(err, storage.ErrNotFound) {
		return nil, &AuthorizeError{Err: newError(CodeInvalidClient, http.StatusBadRequest, "unknown client", nil)}
	}
	if err != nil {
		return nil, &AuthorizeError{Err: ErrServerError(err)}
	}
	if !cl.active() {
		return nil, &AuthorizeError{Err: newError(CodeInvalidClient, http.StatusBadRequest, "the client is disabled", nil)}
	}
	if redirectURI == "" {
		return nil, &AuthorizeError{Err: newError(CodeInvalidRedirectURI, http.StatusBadRequest, "redirect_uri is missing", nil)}
	}
	if !slices.Contains(cl.RedirectURIs, redirectURI) {
		return nil, &AuthorizeError{Err: newError(CodeInvalidRedirectURI, http.StatusBadRequest, "redirect_uri is not registered for this client", nil)}
	}
	return cl, nil
}

// redirectError is an error to send back to a verified redirect URI.
func (p *Provider) redirectError(req AuthorizationRequest, e *Error) *AuthorizeError {
	return &AuthorizeError{Err: e, Redirect: &AuthResponse{
		RedirectURI: req.RedirectURI, Error: e.Code, ErrorDescription: e.Description,
		State: req.State, Issuer: p.issuer,
	}}
}

// validate checks an authorization request of a known client with a
// verified redirect URI and returns the transaction it opens.
func (p *Provider) validate(cl *client, req AuthorizationRequest) (*txRecord, *Error) {
	// Wallets registered as public clients may ask for credentials only,
	// with PKCE; checked first, on every path (/authorize, PAR, the UI
	// API's oauth-details).
	if perr := p.validatePublicClient(cl, req); perr != nil {
		return nil, perr
	}
	if req.Request != "" {
		return nil, newError(CodeRequestNotSupported, http.StatusBadRequest, "request objects are not supported; use PAR", nil)
	}
	if req.ResponseType != "code" {
		if req.ResponseType == "" {
			return nil, ErrInvalidRequest("response_type is missing", nil)
		}
		return nil, newError(CodeUnsupportedResponseType, http.StatusBadRequest, "only response_type=code is supported", nil)
	}
	if req.ResponseMode != "" && req.ResponseMode != "query" {
		return nil, ErrInvalidRequest("only response_mode=query is supported", nil)
	}
	tx := &txRecord{ClientID: cl.ID, RedirectURI: req.RedirectURI, State: req.State, Nonce: req.Nonce, MaxAge: -1}
	if len(req.State) > 512 || len(req.Nonce) > 512 {
		return nil, ErrInvalidRequest("state and nonce are limited to 512 characters", nil)
	}

	// Scopes.
	scopes := strings.Fields(req.Scope)
	if len(scopes) == 0 {
		return nil, newError(CodeInvalidScope, http.StatusBadRequest, "scope is missing", nil)
	}
	for _, s := range scopes {
		switch {
		case slices.Contains(standardScopes, s):
		case s == ConsentScope:
			if !cl.Config.ConsentManagement {
				return nil, newError(CodeInvalidScope, http.StatusBadRequest, "this client may not ask for "+ConsentScope, nil)
			}
			tx.AuthorizeScopes = appendUnique(tx.AuthorizeScopes, s)
		case slices.Contains(p.cfg.CredentialScopes, s) && p.cfg.CredentialIssuer != "":
			tx.CredentialScopes = appendUnique(tx.CredentialScopes, s)
		default:
			return nil, newError(CodeInvalidScope, http.StatusBadRequest, "unknown scope "+quoteShort(s), nil)
		}
		tx.Scopes = appendUnique(tx.Scopes, s)
	}
	if !slices.Contains(tx.Scopes, "openid") && len(tx.CredentialScopes) == 0 {
		return nil, newError(CodeInvalidScope, http.StatusBadRequest, "scope must include openid", nil)
	}

	// Claims.
	var claims *ClaimsRequest
	if req.Claims != "" {
		var err error
		if claims, err = ParseClaimsRequest(req.Claims); err != nil {
			return nil, asError(err)
		}
	}
	tx.Essential, tx.Voluntary = RequestedClaims(tx.Scopes, claims, cl.UserClaims)
	if claims != nil {
		for name := range claims.IDToken {
			if name == "acr" {
				continue
			}
			if slices.Contains(tx.Essential, name) || slices.Contains(tx.Voluntary, name) {
				tx.IDTokenClaims = appendUnique(tx.IDTokenClaims, name)
			}
		}
		sort.Strings(tx.IDTokenClaims)
	}

	// Prompt and max_age.
	for _, v := range strings.Fields(req.Prompt) {
		switch v {
		case "none", "login", "consent":
		case "select_account":
			return nil, newError(CodeAccountSelectionRequired, http.StatusBadRequest, "account selection is not supported", nil)
		default:
			return nil, ErrInvalidRequest("unknown prompt value "+quoteShort(v), nil)
		}
		tx.Prompt = appendUnique(tx.Prompt, v)
	}
	if slices.Contains(tx.Prompt, "none") {
		if len(tx.Prompt) > 1 {
			return nil, ErrInvalidRequest("prompt=none cannot be combined with other values", nil)
		}
		// No single sign-on session exists, so a login is always needed.
		return nil, newError(CodeLoginRequired, http.StatusBadRequest, "the resident must sign in", nil)
	}
	maxAge, has, err := parseMaxAge(req.MaxAge)
	if err != nil {
		return nil, asError(err)
	}
	if has {
		tx.MaxAge = maxAge
	}

	// ACRs: claims.id_token.acr values, else acr_values, else all of the
	// client's; kept only if the client registered them and Sanad can
	// satisfy them.
	var asked []string
	if claims != nil {
		asked = claims.ACRValues()
	}
	if len(asked) == 0 {
		asked = strings.Fields(req.ACRValues)
	}
	tx.ACRs = resolveACRs(asked, cl.ACRs)
	if len(tx.ACRs) == 0 {
		return nil, ErrInvalidRequest("none of the requested authentication methods is available to this client", nil)
	}
	// An essential acr must be met (Core section 5.5.1.1): resolveACRs'
	// fallback to the client's ACRs does not apply.
	if want := claims.ACRValues(); claims.ACREssential() && len(want) > 0 &&
		!slices.ContainsFunc(tx.ACRs, func(a string) bool { return slices.Contains(want, a) }) {
		return nil, newError(CodeUnmetAuthenticationRequirements, http.StatusBadRequest,
			"none of the essential acr values can be satisfied for this client", nil)
	}

	// Locales.
	tx.ClaimsLocales = splitLocales(req.ClaimsLocales)
	tx.UILocales = splitLocales(req.UILocales)

	// PKCE.
	mustPKCE := !p.cfg.PKCEOptional || cl.Config.RequirePKCE || p.cfg.Profile == ProfileFAPI2
	if req.CodeChallenge != "" || req.CodeChallengeMethod != "" || mustPKCE {
		if err := ValidateChallenge(req.CodeChallenge, req.CodeChallengeMethod); err != nil {
			return nil, asError(err)
		}
		tx.CodeChallenge, tx.CodeChallengeMethod = req.CodeChallenge, PKCEMethodS256
	}

	// DPoP key binding of the code (RFC 9449 section 10).
	if req.DPoPJKT != "" {
		if len(req.DPoPJKT) != 43 || !isBase64URL(req.DPoPJKT) {
			return nil, ErrInvalidRequest("dpop_jkt must be a base64url SHA-256 JWK thumbprint", nil)
		}
		tx.DPoPJKT = req.DPoPJKT
	}

	// authorization_details (RFC 9396), for the credential issuer.
	if req.AuthorizationDetails != "" {
		ad, err := p.validateAuthorizationDetails(req.AuthorizationDetails)
		if err != nil {
			return nil, err
		}
		tx.AuthorizationDetails = ad
	}

	switch req.Display {
	case "", "page", "popup", "touch", "wap":
	default:
		return nil, ErrInvalidRequest("unknown display value", nil)
	}
	tx.Purpose = cl.Config.Purpose
	return tx, nil
}

// start validates the request and opens the transaction.
func (p *Provider) start(ctx context.Context, cl *client, req AuthorizationRequest) (*TxView, error) {
	tx, perr := p.validate(cl, req)
	if perr != nil {
		return nil, p.redirectError(req, perr)
	}
	now := p.now()
	tx.ID = randomToken(32)
	tx.Status = TxNew
	tx.FormToken = randomToken(24)
	tx.Created = now.Unix()
	tx.ClientName, tx.LogoURI = clientNames(cl), cl.LogoURI
	if tx.Nonce != "" {
		// The nonce is remembered for NonceWindow (nonce_window, 24 h by
		// default). The last ID token that can carry it expires
		// TransactionTTL + AuthenticatedTTL + CodeTTL + IDTokenTTL from
		// now (1 h 8 min with the defaults); a window that long would still
		// keep two live ID tokens of a client from sharing a nonce, with a
		// twentieth of the entries. A shorter window than that would not.
		// The window is the operator's setting, so it is used as
		// configured: a shorter default belongs with DefaultNonceWindow.
		fresh, err := p.cfg.State.PutNew(ctx, "oidc:nonce:"+stateKey(cl.ID, tx.Nonce)[len("oidc:"):], []byte{1}, p.cfg.NonceWindow)
		if err != nil {
			return nil, p.redirectError(req, ErrServerError(err))
		}
		if !fresh {
			return nil, p.redirectError(req, ErrInvalidRequest("nonce was used before; use a fresh nonce for every request", nil))
		}
	}
	// The oauth-details response and the hashes that bind the UI API's
	// calls are made once, here: every bound call compares the hash its
	// caller sends with the stored ones instead of re-encoding the
	// response, and nothing they are made of changes afterwards.
	v := p.view(cl, tx)
	bodies, hashes, err := oauthDetailsBinding(p.frontEndOptions(), v)
	if err != nil {
		return nil, p.redirectError(req, ErrServerError(err))
	}
	tx.BindingHashes = hashes
	v.OAuthDetailsHashes, v.oauthDetails = hashes, bodies
	if err := putJSON(ctx, p.cfg.State, txKey(tx.ID), tx, p.cfg.TransactionTTL); err != nil {
		return nil, p.redirectError(req, ErrServerError(err))
	}
	p.log.LogAttrs(ctx, slogInfo, "oidc: transaction opened", attrClient(cl.ID), attrACRs(tx.ACRs))
	return v, nil
}

// clientNames is the client's name by language, with "@none" for its
// default name.
func clientNames(cl *client) map[string]string {
	names := make(map[string]string, len(cl.NameLangMap)+1)
	names["@none"] = cl.Name
	maps.Copy(names, cl.NameLangMap)
	return names
}

// view is the front ends' view of a transaction. The client's name and logo
// are the transaction's (as it opened); only a record written before they
// were kept takes them from cl.
func (p *Provider) view(cl *client, tx *txRecord) *TxView {
	names, logo := tx.ClientName, tx.LogoURI
	if names == nil {
		names, logo = clientNames(cl), cl.LogoURI
	}
	v := &TxView{
		TransactionID:      tx.ID,
		State:              tx.Status,
		ClientID:           tx.ClientID,
		ClientName:         names,
		LogoURL:            logo,
		RedirectURI:        tx.RedirectURI,
		AuthorizeScopes:    nonNil(tx.AuthorizeScopes),
		CredentialScopes:   nonNil(tx.CredentialScopes),
		EssentialClaims:    nonNil(tx.Essential),
		VoluntaryClaims:    nonNil(tx.Voluntary),
		Purpose:            tx.Purpose,
		UILocales:          tx.UILocales,
		ClaimsLocales:      tx.ClaimsLocales,
		Prompt:             tx.Prompt,
		FormToken:          tx.FormToken,
		ConsentAction:      tx.ConsentAction,
		OAuthDetailsHashes: tx.BindingHashes,
		Configs: map[string]any{
			"otp.length":                     p.cfg.OTPLength,
			"send.otp.channels":              []string{"email", "phone"},
			"resend.otp.delay.secs":          int(p.cfg.OTPResendDelay / time.Second),
			"consent.screen.timeout-in-secs": int(p.cfg.AuthenticatedTTL / time.Second),
			"sbi.env":                        "",
			"auth.txnid.length":              len(tx.ID),
			"username.regex":                 "",
			"username.input-type":            "text",
		},
	}
	v.AuthFactors = make([][]AuthFactor, 0, len(tx.ACRs))
	for _, acr := range tx.ACRs {
		fs := acrFactors[acr]
		list := make([]AuthFactor, len(fs))
		for i, f := range fs {
			list[i] = AuthFactor{Type: f}
		}
		v.AuthFactors = append(v.AuthFactors, list)
	}
	return v
}

var _ boundFlow = (*Provider)(nil)

// load reads a transaction in the wanted status, and its client. For a UI
// API call (b.check) the hash must be one of the transaction's
// BindingHashes: that is checked before the status, as the UI API's bind
// would, in the same read.
func (p *Provider) load(ctx context.Context, b binding, want string) (*txRecord, []byte, *client, error) {
	txID := b.txID
	if txID == "" || len(txID) > 128 {
		return nil, nil, nil, errInvalidTransaction(nil)
	}
	raw, err := p.cfg.State.Get(ctx, txKey(txID))
	if errors.Is(err, storage.ErrNotFound) {
		return nil, nil, nil, errInvalidTransaction(nil)
	}
	if err != nil {
		return nil, nil, nil, &UIError{Code: UIUnknownError, Description: "internal error", Cause: err}
	}
	var tx txRecord
	if err := json.Unmarshal(raw, &tx); err != nil {
		return nil, nil, nil, &UIError{Code: UIUnknownError, Description: "internal error", Cause: err}
	}
	cl, err := p.clients.get(ctx, tx.ClientID)
	if err != nil || !cl.active() {
		return nil, nil, nil, errInvalidTransaction(fmt.Errorf("client %q unavailable: %v", tx.ClientID, err))
	}
	if b.check {
		hashes := tx.BindingHashes
		if len(hashes) == 0 {
			// A record written before the hashes were kept.
			if _, hashes, err = oauthDetailsBinding(p.frontEndOptions(), p.view(cl, &tx)); err != nil {
				return nil, nil, nil, &UIError{Code: UIUnknownError, Description: "internal error", Cause: err}
			}
		}
		if !anyHashMatches(hashes, b.hash) {
			return nil, nil, nil, errBindingMismatch()
		}
	}
	if want != "" && tx.Status != want {
		return nil, nil, nil, errInvalidTransaction(fmt.Errorf("transaction is %s, not %s", tx.Status, want))
	}
	return &tx, raw, cl, nil
}

func errInvalidTransaction(cause error) *UIError {
	return &UIError{Code: UIInvalidTransaction, Description: "the sign-in is unknown or has expired", Cause: cause}
}

// Transaction implements LoginFlow.
func (p *Provider) Transaction(ctx context.Context, txID string) (*TxView, error) {
	tx, _, cl, err := p.load(ctx, binding{txID: txID}, "")
	if err != nil {
		return nil, err
	}
	return p.view(cl, tx), nil
}

// SendOTP implements LoginFlow.
func (p *Provider) SendOTP(ctx context.Context, txID, loginID string, channels []string) (authn.SendOTPResult, error) {
	return p.sendOTPBound(ctx, binding{txID: txID}, loginID, channels)
}

func (p *Provider) sendOTPBound(ctx context.Context, b binding, loginID string, channels []string) (authn.SendOTPResult, error) {
	tx, _, cl, err := p.load(ctx, b, TxNew)
	if err != nil {
		return authn.SendOTPResult{}, err
	}
	if !p.offers(tx, authn.FactorOTP) {
		return authn.SendOTPResult{}, &authn.Error{Code: authn.ErrAuthFactorMismatch.Code, Description: "this sign-in does not use one-time codes"}
	}
	lang := ""
	if len(tx.UILocales) > 0 {
		lang = tx.UILocales[0]
	}
	return p.cfg.Authn.SendOTP(ctx, authn.SendOTPRequest{
		TransactionID: tx.ID, LoginID: loginID, Channels: channels, Language: lang, ClientID: cl.ID,
	})
}

// offers reports whether any factor list of the transaction has factor.
func (p *Provider) offers(tx *txRecord, factor string) bool {
	for _, acr := range tx.ACRs {
		if slices.Contains(acrFactors[acr], factor) {
			return true
		}
	}
	return false
}

// matchACR returns the ACR whose factor list the challenges satisfy
// exactly.
func matchACR(acrs []string, challenges []authn.Challenge) (string, bool) {
	got := make([]string, 0, len(challenges))
	for _, c := range challenges {
		got = append(got, c.Factor)
	}
	sort.Strings(got)
	for _, acr := range acrs {
		want := slices.Clone(acrFactors[acr])
		sort.Strings(want)
		if slices.Equal(got, want) {
			return acr, true
		}
	}
	return "", false
}

// Authenticate implements LoginFlow.
func (p *Provider) Authenticate(ctx context.Context, txID, loginID string, challenges []authn.Challenge) (string, error) {
	return p.authenticateBound(ctx, binding{txID: txID}, loginID, challenges)
}

func (p *Provider) authenticateBound(ctx context.Context, b binding, loginID string, challenges []authn.Challenge) (string, error) {
	tx, old, cl, err := p.load(ctx, b, TxNew)
	if err != nil {
		return "", err
	}
	acr, ok := matchACR(tx.ACRs, challenges)
	if !ok {
		return "", &authn.Error{Code: authn.ErrAuthFactorMismatch.Code, Description: "the factors do not match any allowed authentication method"}
	}
	res, err := p.cfg.Authn.Authenticate(ctx, authn.AuthRequest{
		TransactionID: tx.ID, LoginID: loginID, ClientID: cl.ID, Sector: cl.sector(), Challenges: challenges,
	})
	if err != nil {
		return "", err
	}
	tx.Status = TxAuthenticated
	tx.PersonID, tx.Subject, tx.ACR, tx.AMR, tx.AuthTime = res.PersonID, res.Subject, acr, res.Factors, res.AuthTime.Unix()

	requested := append(slices.Clone(tx.Essential), tx.Voluntary...)
	values, available := IdentityClaims(res.Identity, requested, tx.ClaimsLocales)
	tx.Available = available
	if len(values) > 0 {
		if tx.Claims, err = seal(ctx, p.cfg.Sealer, values, cl.ID); err != nil {
			return "", &UIError{Code: UIUnknownError, Description: "internal error", Cause: err}
		}
	}

	// Consent: nothing to consent to, or a stored consent for the same
	// request that has not expired, unless prompt=consent.
	tx.ConsentHash = consentHash(tx)
	tx.ConsentAction = ConsentCapture
	if len(requested) == 0 && len(tx.AuthorizeScopes) == 0 {
		tx.ConsentAction = ConsentNoCapture
	} else if !slices.Contains(tx.Prompt, "consent") {
		c, err := p.cfg.Consents.GetConsent(ctx, cl.ID, tx.PersonID)
		switch {
		case err == nil:
			if subtle.ConstantTimeCompare(c.Hash, tx.ConsentHash) == 1 && (c.ExpiresAt.IsZero() || p.now().Before(c.ExpiresAt)) {
				tx.ConsentAction = ConsentNoCapture
				tx.ConsentedClaims, tx.ConsentedScopes = nonNil(c.AcceptedClaims), nonNil(c.PermittedScopes)
			}
		case !errors.Is(err, storage.ErrNotFound):
			return "", &UIError{Code: UIUnknownError, Description: "internal error", Cause: err}
		}
	}
	rec, err := json.Marshal(tx)
	if err != nil {
		return "", &UIError{Code: UIUnknownError, Description: "internal error", Cause: err}
	}
	if err := p.cfg.State.Swap(ctx, txKey(tx.ID), old, rec, p.cfg.AuthenticatedTTL); err != nil {
		// Another request advanced or ended the transaction first.
		return "", errInvalidTransaction(err)
	}
	return tx.ConsentAction, nil
}

// consentHash identifies what a consent covers: the requested essential
// and voluntary claims and the scopes to permit.
func consentHash(tx *txRecord) []byte {
	h := sha256.New()
	for _, part := range [][]string{tx.Essential, tx.Voluntary, tx.AuthorizeScopes} {
		s := slices.Clone(part)
		sort.Strings(s)
		for _, v := range s {
			h.Write([]byte(v))
			h.Write([]byte{0})
		}
		h.Write([]byte{1})
	}
	return h.Sum(nil)
}

// ClaimDetails implements LoginFlow.
func (p *Provider) ClaimDetails(ctx context.Context, txID string) (*ClaimDetails, error) {
	return p.claimDetailsBound(ctx, binding{txID: txID})
}

func (p *Provider) claimDetailsBound(ctx context.Context, b binding) (*ClaimDetails, error) {
	tx, _, _, err := p.load(ctx, b, TxAuthenticated)
	if err != nil {
		return nil, err
	}
	d := &ClaimDetails{TransactionID: tx.ID, ConsentAction: tx.ConsentAction, ClaimStatus: []ClaimStatus{}}
	for _, list := range []struct {
		names     []string
		essential bool
	}{{tx.Essential, true}, {tx.Voluntary, false}} {
		for _, name := range list.names {
			d.ClaimStatus = append(d.ClaimStatus, ClaimStatus{Claim: name, Available: tx.Available[name], Essential: list.essential})
		}
	}
	return d, nil
}

// AuthCode implements LoginFlow.
func (p *Provider) AuthCode(ctx context.Context, txID string, acceptedClaims, permittedScopes []string) (*AuthResponse, error) {
	return p.authCodeBound(ctx, binding{txID: txID}, acceptedClaims, permittedScopes)
}

func (p *Provider) authCodeBound(ctx context.Context, b binding, acceptedClaims, permittedScopes []string) (*AuthResponse, error) {
	tx, _, cl, err := p.load(ctx, b, TxAuthenticated)
	if err != nil {
		return nil, err
	}
	accepted, permitted, capture, err := p.consented(tx, acceptedClaims, permittedScopes)
	if err != nil {
		return nil, err
	}
	// Taking the transaction makes the code single: of concurrent calls,
	// one gets it.
	if _, err := p.cfg.State.Take(ctx, txKey(tx.ID)); err != nil {
		return nil, errInvalidTransaction(err)
	}
	now := p.now()
	if capture && (len(tx.Essential)+len(tx.Voluntary)+len(tx.AuthorizeScopes) > 0) {
		c := storage.Consent{ClientID: cl.ID, PersonID: tx.PersonID, Hash: tx.ConsentHash,
			AcceptedClaims: accepted, PermittedScopes: permitted, CreatedAt: now}
		if m := cl.Config.ConsentExpireInMins; m > 0 {
			c.ExpiresAt = now.Add(time.Duration(m) * time.Minute)
		}
		if err := p.cfg.Consents.PutConsent(ctx, c); err != nil {
			return nil, &UIError{Code: UIUnknownError, Description: "internal error", Cause: err}
		}
	}
	// A scope the resident must permit (AuthorizeScopes) is granted only
	// if permitted.
	var scopes []string
	for _, sc := range tx.Scopes {
		if !slices.Contains(tx.AuthorizeScopes, sc) || slices.Contains(permitted, sc) {
			scopes = append(scopes, sc)
		}
	}
	g := codeGrant{
		ClientID: cl.ID, RedirectURI: tx.RedirectURI, CodeChallenge: tx.CodeChallenge,
		CodeChallengeMethod: tx.CodeChallengeMethod, DPoPJKT: tx.DPoPJKT, Nonce: tx.Nonce,
		Scopes: scopes, AcceptedClaims: accepted, PermittedScopes: permitted,
		ClaimsLocales: tx.ClaimsLocales, PersonID: tx.PersonID, Subject: tx.Subject, AuthTime: tx.AuthTime,
		ACR: tx.ACR, AMR: tx.AMR, SID: randomToken(16), CredentialScopes: tx.CredentialScopes,
		AuthorizationDetails: tx.AuthorizationDetails, IssuedAt: now.Unix(), IssuedAtMicro: now.UnixMicro(),
	}
	for _, name := range tx.IDTokenClaims {
		if slices.Contains(accepted, name) {
			g.IDTokenClaims = append(g.IDTokenClaims, name)
		}
	}
	if len(accepted) > 0 && tx.Claims != nil {
		// Keep only what the resident released.
		var all map[string]any
		if err := tx.Claims.open(ctx, p.cfg.Sealer, &all, cl.ID); err != nil {
			return nil, &UIError{Code: UIUnknownError, Description: "internal error", Cause: err}
		}
		released := make(map[string]any)
		for k, v := range all {
			if slices.Contains(accepted, baseClaim(k)) {
				released[k] = v
			}
		}
		if g.Claims, err = seal(ctx, p.cfg.Sealer, released, cl.ID); err != nil {
			return nil, &UIError{Code: UIUnknownError, Description: "internal error", Cause: err}
		}
	}
	code := randomToken(32)
	if err := putJSON(ctx, p.cfg.State, stateKey("code", code), g, p.cfg.CodeTTL); err != nil {
		return nil, &UIError{Code: UIUnknownError, Description: "internal error", Cause: err}
	}
	p.log.LogAttrs(ctx, slogInfo, "oidc: authorization code issued", attrClient(cl.ID), attrACRs([]string{tx.ACR}))
	return &AuthResponse{RedirectURI: tx.RedirectURI, Code: code, State: tx.State, Nonce: tx.Nonce, Issuer: p.issuer}, nil
}

// consented works out the released claims and permitted scopes.
func (p *Provider) consented(tx *txRecord, acceptedClaims, permittedScopes []string) (claims, scopes []string, capture bool, err error) {
	if tx.ConsentAction == ConsentNoCapture {
		if len(acceptedClaims) > 0 && !sameSet(acceptedClaims, tx.ConsentedClaims) ||
			len(permittedScopes) > 0 && !sameSet(permittedScopes, tx.ConsentedScopes) {
			return nil, nil, false, &UIError{Code: UIInvalidAcceptedClaim, Description: "the accepted claims differ from the stored consent"}
		}
		return tx.ConsentedClaims, tx.ConsentedScopes, false, nil
	}
	for _, c := range acceptedClaims {
		if !slices.Contains(tx.Essential, c) && !slices.Contains(tx.Voluntary, c) {
			return nil, nil, false, &UIError{Code: UIInvalidAcceptedClaim, Description: "a claim that was not requested was accepted"}
		}
		claims = appendUnique(claims, c)
	}
	for _, c := range tx.Essential {
		if !slices.Contains(claims, c) {
			return nil, nil, false, &UIError{Code: UIInvalidAcceptedClaim, Description: "every essential claim must be accepted"}
		}
	}
	for _, s := range permittedScopes {
		if !slices.Contains(tx.AuthorizeScopes, s) {
			return nil, nil, false, &UIError{Code: UIInvalidPermitted, Description: "a scope that was not requested was permitted"}
		}
		scopes = appendUnique(scopes, s)
	}
	sort.Strings(claims)
	sort.Strings(scopes)
	return nonNil(claims), nonNil(scopes), true, nil
}

// Abort implements LoginFlow.
func (p *Provider) Abort(ctx context.Context, txID, errorCode, description string) (*AuthResponse, error) {
	switch errorCode {
	case CodeAccessDenied, CodeConsentRejected:
	default:
		return nil, &UIError{Code: UIInvalidRequest, Description: "unknown error code"}
	}
	tx, _, cl, err := p.load(ctx, binding{txID: txID}, "")
	if err != nil {
		return nil, err
	}
	if _, err := p.cfg.State.Take(ctx, txKey(tx.ID)); err != nil {
		return nil, errInvalidTransaction(err)
	}
	if description == "" {
		description = "the resident cancelled the sign-in"
		if errorCode == CodeConsentRejected {
			description = "the resident declined to share the requested information"
		}
	}
	p.log.LogAttrs(ctx, slogInfo, "oidc: transaction aborted", attrClient(cl.ID), attrCode(errorCode))
	return &AuthResponse{RedirectURI: tx.RedirectURI, Error: errorCode, ErrorDescription: description, State: tx.State, Issuer: p.issuer}, nil
}

// resolveACRs keeps the asked ACRs the client registered and Sanad
// supports, in the order asked; with none asked, the client's supported
// ACRs. If none of the asked ones is available, the client's are used, as
// eSignet does (the ID token's acr says what was done).
func resolveACRs(asked, registered []string) []string {
	var out []string
	for _, a := range asked {
		if slices.Contains(registered, a) && acrFactors[a] != nil {
			out = appendUnique(out, a)
		}
	}
	if len(out) > 0 {
		return out
	}
	for _, a := range SupportedACRs {
		if slices.Contains(registered, a) {
			out = append(out, a)
		}
	}
	return out
}

// splitLocales splits a space-separated locale list, keeping at most 10.
func splitLocales(s string) []string {
	f := strings.Fields(s)
	if len(f) > 10 {
		f = f[:10]
	}
	var out []string
	for _, l := range f {
		if len(l) <= 35 {
			out = appendUnique(out, l)
		}
	}
	return out
}

func appendUnique(s []string, v string) []string {
	if slices.Contains(s, v) {
		return s
	}
	return append(s, v)
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func sameSet(a, b []string) bool {
	x, y := slices.Clone(a), slices.Clone(b)
	sort.Strings(x)
	sort.Strings(y)
	return slices.Equal(slices.Compact(x), slices.Compact(y))
}

// baseClaim is a claim name without its language tag (name#fra → name).
func baseClaim(k string) string {
	if i := strings.IndexByte(k, '#'); i >= 0 {
		return k[:i]
	}
	return k
}

func quoteShort(s string) string {
	if len(s) > 40 {
		s = s[:40] + "…"
	}
	return fmt.Sprintf("%q", s)
}
