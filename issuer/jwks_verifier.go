package issuer

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/lestrrat-go/httprc/v3"
	"github.com/lestrrat-go/jwx/v3/jwa"
	"github.com/lestrrat-go/jwx/v3/jwk"
	"github.com/lestrrat-go/jwx/v3/jws"

	"github.com/sanad-id/sanad/internal/josekey"
)

// JWKSVerifier verifies the access tokens of an external authorization
// server (MOSIP eSignet, for instance) that signs JWT access tokens (RFC
// 9068) with keys it publishes as a JWKS. The JWKS is cached and refreshed
// in the background, and fetched again (at most once per
// MinRefreshInterval) when a token names a key it does not have.
type JWKSVerifier struct {
	cfg   JWKSVerifierConfig
	cache *jwk.Cache

	mu          sync.Mutex
	lastRefresh time.Time
}

var _ TokenVerifier = (*JWKSVerifier)(nil)

// JWKSVerifierConfig configures a JWKSVerifier.
type JWKSVerifierConfig struct {
	// Issuer is the authorization server's issuer identifier; tokens must
	// carry it, exactly, as iss.
	Issuer string
	// JWKSURL is where the authorization server publishes its keys: https,
	// or http on a loopback host (tests, a sidecar).
	JWKSURL string
	// Audience must be one of the token's aud values; usually the
	// credential issuer identifier.
	Audience string
	// Algs are the accepted signature algorithms; nil means
	// DefaultJWKSAlgs. Symmetric algorithms and "none" are never accepted.
	Algs []string
	// Leeway is the clock skew allowed on exp, nbf and iat; 0 means
	// DefaultJWKSLeeway.
	Leeway time.Duration
	// PersonIDClaim is the claim that holds the resident's id in the ID
	// repository (the person id); "" means "sub". Ignored when Resolve is
	// set.
	PersonIDClaim string
	// Resolve, if set, maps a verified token's claims to the resident's
	// person id (when the token carries an individual id or a pairwise
	// subject that has to be looked up). ErrUnknownPerson makes the token
	// invalid; any other error is a server error.
	Resolve func(ctx context.Context, claims map[string]any) (personID string, err error)
	// HTTPClient fetches the JWKS; nil means a client with a 10-second
	// timeout that does not follow redirects.
	HTTPClient *http.Client
	// MinRefreshInterval and MaxRefreshInterval bound how often the JWKS
	// is fetched in the background (the server's Cache-Control decides in
	// between); 0 means 5 minutes and 1 hour. MinRefreshInterval also
	// spaces the fetches caused by unknown key ids.
	MinRefreshInterval time.Duration
	MaxRefreshInterval time.Duration

	Now    func() time.Time
	Logger *slog.Logger
}

// Defaults of JWKSVerifierConfig.
const (
	DefaultJWKSLeeway     = 30 * time.Second
	defaultJWKSMinRefresh = 5 * time.Minute
	defaultJWKSMaxRefresh = time.Hour
	// maxExternalTokenSize bounds the access tokens we parse.
	maxExternalTokenSize = 16 << 10
	// maxJWKSBytes bounds the JWKS document we read.
	maxJWKSBytes = 1 << 20
)

// DefaultJWKSAlgs are the algorithms JWKSVerifier accepts by default.
var DefaultJWKSAlgs = []string{"ES256", "PS256", "RS256", "EdDSA"}

// supportedJWKSAlgs are the algorithms JWKSVerifier can check at all.
var supportedJWKSAlgs = []string{"ES256", "ES384", "ES512", "PS256", "PS384", "PS512", "RS256", "RS384", "RS512", "EdDSA"}

// NewJWKSVerifier checks cfg and starts the JWKS cache; the first fetch
// happens in the background (a JWKS that is down at start-up does not
// stop the server, tokens fail until it answers). Close stops it.
func NewJWKSVerifier(cfg JWKSVerifierConfig) (*JWKSVerifier, error) {
	var errs []error
	iss, err := url.Parse(cfg.Issuer)
	if cfg.Issuer == "" || err != nil || iss.Host == "" {
		errs = append(errs, fmt.Errorf("issuer: JWKS verifier: issuer %q must be a URL", cfg.Issuer))
	}
	if err := checkJWKSURL(cfg.JWKSURL); err != nil {
		errs = append(errs, err)
	}
	if cfg.Audience == "" {
		errs = append(errs, errors.New("issuer: JWKS verifier: an audience is required"))
	}
	if cfg.Algs == nil {
		cfg.Algs = DefaultJWKSAlgs
	}
	if len(cfg.Algs) == 0 {
		errs = append(errs, errors.New("issuer: JWKS verifier: no algorithm allowed"))
	}
	for _, a := range cfg.Algs {
		if !slices.Contains(supportedJWKSAlgs, a) {
			errs = append(errs, fmt.Errorf("issuer: JWKS verifier: algorithm %q is not supported (want some of %v)", a, supportedJWKSAlgs))
		}
	}
	if cfg.Leeway < 0 {
		errs = append(errs, errors.New("issuer: JWKS verifier: leeway must not be negative"))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	if cfg.Leeway == 0 {
		cfg.Leeway = DefaultJWKSLeeway
	}
	if cfg.PersonIDClaim == "" {
		cfg.PersonIDClaim = "sub"
	}
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = &http.Client{
			Timeout: 10 * time.Second,
			// The JWKS is where the operator said it is, not where a
			// redirect points.
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		}
	}
	if cfg.MinRefreshInterval <= 0 {
		cfg.MinRefreshInterval = defaultJWKSMinRefresh
	}
	if cfg.MaxRefreshInterval <= 0 {
		cfg.MaxRefreshInterval = defaultJWKSMaxRefresh
	}
	cfg.MaxRefreshInterval = max(cfg.MaxRefreshInterval, cfg.MinRefreshInterval)
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}

	jwksURL := cfg.JWKSURL
	client := httprc.NewClient(
		httprc.WithWhitelist(httprc.WhitelistFunc(func(u string) bool { return u == jwksURL })),
	)
	// The cache's goroutines live until Close, not for one request.
	cache, err := jwk.NewCache(context.Background(), client)
	if err != nil {
		return nil, fmt.Errorf("issuer: JWKS verifier: %w", err)
	}
	if err := cache.Register(context.Background(), jwksURL,
		jwk.WithHTTPClient(cfg.HTTPClient),
		jwk.WithMaxFetchBodySize(maxJWKSBytes),
		jwk.WithWaitReady(false),
		jwk.WithMinInterval(cfg.MinRefreshInterval),
		jwk.WithMaxInterval(cfg.MaxRefreshInterval),
	); err != nil {
		_ = cache.Shutdown(context.Background())
		return nil, fmt.Errorf("issuer: JWKS verifier: %w", err)
	}
	return &JWKSVerifier{cfg: cfg, cache: cache}, nil
}

// checkJWKSURL accepts https URLs, and http ones on loopback hosts.
func checkJWKSURL(s string) error {
	u, err := url.Parse(s)
	if err != nil || u.Host == "" {
		return fmt.Errorf("issuer: JWKS verifier: JWKS URL %q must be an absolute URL", s)
	}
	switch u.Scheme {
	case "https":
		return nil
	case "http":
		h := u.Hostname()
		if ip := net.ParseIP(h); h == "localhost" || (ip != nil && ip.IsLoopback()) {
			return nil
		}
	}
	return fmt.Errorf("issuer: JWKS verifier: JWKS URL %q must be https (http only on a loopback host)", s)
}

// Close stops the JWKS cache.
func (v *JWKSVerifier) Close(ctx context.Context) error {
	return v.cache.Shutdown(ctx)
}

// jwtHeader is the part of a JOSE header the verifier reads.
type jwtHeader struct {
	Alg string `json:"alg"`
	Kid string `json:"kid"`
	Typ string `json:"typ"`
}

// externalClaims are the claims an external access token is read for.
type externalClaims struct {
	Iss      string          `json:"iss"`
	Sub      string          `json:"sub"`
	Aud      json.RawMessage `json:"aud"`
	Exp      *json.Number    `json:"exp"`
	Nbf      *json.Number    `json:"nbf"`
	Iat      *json.Number    `json:"iat"`
	Jti      string          `json:"jti"`
	ClientID string          `json:"client_id"`
	Azp      string          `json:"azp"`
	Scope    json.RawMessage `json:"scope"`
	Cnf      *struct {
		JKT string `json:"jkt"`
	} `json:"cnf"`
	AuthorizationDetails json.RawMessage `json:"authorization_details"`
}

// VerifyAccessToken verifies token: its signature by a key of the JWKS
// with an allowed algorithm, typ (at+jwt or JWT), iss, aud, exp, nbf and
// iat (with Leeway), and the presence of sub; then it resolves the person
// id. Failures are invalid_token, whatever failed (the cause is only
// logged); an unavailable JWKS or a failing Resolve is server_error.
func (v *JWKSVerifier) VerifyAccessToken(ctx context.Context, token string) (*AccessToken, error) {
	payload, err := v.verifySignature(ctx, token)
	if err != nil {
		return nil, err
	}
	var claims externalClaims
	dec := json.NewDecoder(bytes.NewReader(payload))
	dec.UseNumber()
	if err := dec.Decode(&claims); err != nil {
		return nil, errToken(fmt.Errorf("claims: %w", err))
	}
	if claims.Iss != v.cfg.Issuer {
		return nil, errToken(fmt.Errorf("iss %q", truncateCause(claims.Iss)))
	}
	auds, err := audiences(claims.Aud)
	if err != nil || !slices.Contains(auds, v.cfg.Audience) {
		return nil, errToken(errors.New("aud does not name this issuer"))
	}
	now := v.cfg.Now()
	exp, err := numericDate(claims.Exp)
	if err != nil || exp.IsZero() {
		return nil, errToken(errors.New("exp missing or malformed"))
	}
	if !now.Before(exp.Add(v.cfg.Leeway)) {
		return nil, errToken(errors.New("expired"))
	}
	nbf, err := numericDate(claims.Nbf)
	if err != nil {
		return nil, errToken(errors.New("nbf malformed"))
	}
	if !nbf.IsZero() && now.Add(v.cfg.Leeway).Before(nbf) {
		return nil, errToken(errors.New("not yet valid (nbf)"))
	}
	iat, err := numericDate(claims.Iat)
	if err != nil {
		return nil, errToken(errors.New("iat malformed"))
	}
	if !iat.IsZero() && iat.After(now.Add(v.cfg.Leeway)) {
		return nil, errToken(errors.New("iat in the future"))
	}
	if claims.Sub == "" {
		return nil, errToken(errors.New("no sub"))
	}
	scopes, err := scopeList(claims.Scope)
	if err != nil {
		return nil, errToken(err)
	}
	if present(claims.AuthorizationDetails) && !bytes.HasPrefix(bytes.TrimSpace(claims.AuthorizationDetails), []byte("[")) {
		return nil, errToken(errors.New("authorization_details is not an array"))
	}
	personID, err := v.personID(ctx, payload)
	if err != nil {
		return nil, err
	}
	at := &AccessToken{
		ID:       claims.Jti,
		Subject:  claims.Sub,
		ClientID: claims.ClientID,
		Scopes:   scopes,
		PersonID: personID,
		Expires:  exp,
	}
	if at.ClientID == "" {
		at.ClientID = claims.Azp
	}
	if present(claims.AuthorizationDetails) {
		at.AuthorizationDetails = slices.Clone(claims.AuthorizationDetails)
	}
	if claims.Cnf != nil {
		at.JKT = claims.Cnf.JKT
	}
	return at, nil
}

// personID resolves the person id from the token's claims.
func (v *JWKSVerifier) personID(ctx context.Context, payload []byte) (string, error) {
	var all map[string]any
	dec := json.NewDecoder(bytes.NewReader(payload))
	dec.UseNumber()
	if err := dec.Decode(&all); err != nil {
		return "", errToken(fmt.Errorf("claims: %w", err))
	}
	if v.cfg.Resolve == nil {
		id, _ := all[v.cfg.PersonIDClaim].(string)
		if id == "" {
			return "", errToken(fmt.Errorf("no %s claim", v.cfg.PersonIDClaim))
		}
		return id, nil
	}
	id, err := v.cfg.Resolve(ctx, all)
	switch {
	case errors.Is(err, ErrUnknownPerson):
		return "", errToken(err)
	case err != nil:
		return "", errServer(fmt.Errorf("issuer: resolve the token's resident: %w", err))
	case id == "":
		return "", errToken(errors.New("the token names no resident"))
	}
	return id, nil
}

// verifySignature checks token's header and signature and returns its
// payload.
func (v *JWKSVerifier) verifySignature(ctx context.Context, token string) ([]byte, error) {
	if len(token) > maxExternalTokenSize {
		return nil, errToken(errors.New("too large"))
	}
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return nil, errToken(errors.New("not a compact JWS"))
	}
	raw, err := base64.RawURLEncoding.DecodeString(parts[0])
	if err != nil {
		return nil, errToken(fmt.Errorf("header: %w", err))
	}
	var h jwtHeader
	if err := json.Unmarshal(raw, &h); err != nil {
		return nil, errToken(fmt.Errorf("header: %w", err))
	}
	if typ := strings.TrimPrefix(strings.ToLower(h.Typ), "application/"); typ != "at+jwt" && typ != "jwt" {
		return nil, errToken(fmt.Errorf("typ %q", truncateCause(h.Typ)))
	}
	if !slices.Contains(v.cfg.Algs, h.Alg) {
		return nil, errToken(fmt.Errorf("alg %q not allowed", truncateCause(h.Alg)))
	}
	alg, ok := jwa.LookupSignatureAlgorithm(h.Alg)
	if !ok {
		return nil, errToken(fmt.Errorf("alg %q not supported", truncateCause(h.Alg)))
	}
	set, err := v.keySet(ctx, false)
	if err != nil {
		return nil, err
	}
	keys := candidateKeys(set, h)
	if len(keys) == 0 && h.Kid != "" && v.mayRefresh() {
		if set, err = v.keySet(ctx, true); err != nil {
			return nil, err
		}
		keys = candidateKeys(set, h)
	}
	if len(keys) == 0 {
		return nil, errToken(fmt.Errorf("no key for kid %q and alg %s", truncateCause(h.Kid), h.Alg))
	}
	for _, k := range keys {
		if payload, err := jws.VerifyCompactFast(k, []byte(token), alg); err == nil {
			return payload, nil
		}
	}
	return nil, errToken(errors.New("signature does not verify"))
}

// keySet returns the cached JWKS, or fetches it now (refresh, or when it
// has never been fetched).
func (v *JWKSVerifier) keySet(ctx context.Context, refresh bool) (jwk.Set, error) {
	if !refresh {
		if set, err := v.cache.Lookup(ctx, v.cfg.JWKSURL); err == nil {
			return set, nil
		}
		// Not fetched yet (or the first fetch failed): try now, within the
		// same spacing as refreshes for unknown kids.
		if !v.mayRefresh() {
			return nil, errServer(errors.New("issuer: the authorization server's JWKS is not available"))
		}
	}
	set, err := v.cache.Refresh(ctx, v.cfg.JWKSURL)
	if err != nil {
		v.cfg.Logger.WarnContext(ctx, "fetch the authorization server's JWKS", "url", v.cfg.JWKSURL, "err", err)
		if set, lerr := v.cache.Lookup(ctx, v.cfg.JWKSURL); lerr == nil {
			return set, nil // keep using the keys we have
		}
		return nil, errServer(fmt.Errorf("issuer: fetch JWKS: %w", err))
	}
	return set, nil
}

// mayRefresh reports whether a fetch is allowed now (one per
// MinRefreshInterval) and, if so, counts it.
func (v *JWKSVerifier) mayRefresh() bool {
	v.mu.Lock()
	defer v.mu.Unlock()
	now := v.cfg.Now()
	if !v.lastRefresh.IsZero() && now.Sub(v.lastRefresh) < v.cfg.MinRefreshInterval && !now.Before(v.lastRefresh) {
		return false
	}
	v.lastRefresh = now
	return true
}

// candidateKeys returns the raw public keys of set that may have signed a
// token with header h: matching kid (when the token names one), use sig,
// alg (when the key names one) and a key type and size fit for h.Alg
// (josekey.ForAlg).
func candidateKeys(set jwk.Set, h jwtHeader) []any {
	var out []any
	for i := range set.Len() {
		k, ok := set.Key(i)
		if !ok {
			continue
		}
		if kid, _ := k.KeyID(); h.Kid != "" && kid != h.Kid {
			continue
		}
		if use, ok := k.KeyUsage(); ok && use != "sig" {
			continue
		}
		if a, ok := k.Algorithm(); ok && a.String() != h.Alg {
			continue
		}
		pk, err := k.PublicKey()
		if err != nil {
			continue
		}
		if pub, err := josekey.ForAlg(pk, h.Alg); err == nil {
			out = append(out, pub)
		}
	}
	return out
}

// audiences reads aud: a string or an array of strings.
func audiences(raw json.RawMessage) ([]string, error) {
	if !present(raw) {
		return nil, errors.New("no aud")
	}
	var one string
	if err := json.Unmarshal(raw, &one); err == nil {
		return []string{one}, nil
	}
	var many []string
	if err := json.Unmarshal(raw, &many); err != nil {
		return nil, errors.New("aud malformed")
	}
	return many, nil
}

// scopeList reads scope: a space-separated string (RFC 9068) or, as some
// servers send it, an array of strings.
func scopeList(raw json.RawMessage) ([]string, error) {
	if !present(raw) {
		return nil, nil
	}
	var s string
	if err := json.Unmarshal(raw, &s); err == nil {
		return strings.Fields(s), nil
	}
	var list []string
	if err := json.Unmarshal(raw, &list); err != nil {
		return nil, errors.New("scope malformed")
	}
	return list, nil
}

// numericDate reads a NumericDate (seconds, possibly fractional); zero time
// when absent.
func numericDate(n *json.Number) (time.Time, error) {
	if n == nil {
		return time.Time{}, nil
	}
	f, err := n.Float64()
	if err != nil || f < 0 || f > 1e11 {
		return time.Time{}, errors.New("not a NumericDate")
	}
	sec := int64(f)
	return time.Unix(sec, int64((f-float64(sec))*1e9)), nil
}

// truncateCause shortens attacker-supplied text before it goes into a
// logged cause.
func truncateCause(s string) string {
	const n = 64
	if len(s) > n {
		return s[:n] + "…"
	}
	return s
}
