package oidc

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"mime"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/sanad-id/sanad/keys"
	"github.com/sanad-id/sanad/storage"
)

// Access tokens are JWTs (RFC 9068) signed with the oidc-signing keys, so a
// resource server can verify them with the JWKS alone; the provider keeps a
// tokenRecord for each, which carries what the token must not (the person,
// the sealed claims) and whose deletion revokes it. This file checks them
// for the provider's own protected endpoints (userinfo, the consent API) and
// for the credential issuer (VerifyAccessToken).

// accessTokenTyp is the typ header of an access token (RFC 9068 section 2.1).
const accessTokenTyp = "at+jwt"

// accessTokenLeeway is the clock skew allowed on exp and iat.
const accessTokenLeeway = 30 * time.Second

// maxAccessTokenSize bounds the size of an access token we parse.
const maxAccessTokenSize = 16 << 10

// accessTokenAlgPreference is the order in which the provider picks the
// access token signature algorithm among those of the key set.
var accessTokenAlgPreference = []string{keys.AlgES256, keys.AlgEdDSA, keys.AlgPS256, keys.AlgRS256}

// CodeInsufficientScope is a token without the scope the resource needs
// (RFC 6750 section 3.1).
const CodeInsufficientScope = "insufficient_scope"

// ErrInsufficientScope is an access token that lacks a scope the resource
// needs (403).
func ErrInsufficientScope(desc string) *Error {
	return newError(CodeInsufficientScope, http.StatusForbidden, desc, nil)
}

// accessClaims are the claims of an access token.
type accessClaims struct {
	Iss                  string          `json:"iss"`
	Sub                  string          `json:"sub"`
	Aud                  audience        `json:"aud"`
	ClientID             string          `json:"client_id"`
	Scope                string          `json:"scope,omitempty"`
	Iat                  int64           `json:"iat"`
	Exp                  int64           `json:"exp"`
	Jti                  string          `json:"jti"`
	AuthTime             int64           `json:"auth_time,omitempty"`
	ACR                  string          `json:"acr,omitempty"`
	Cnf                  *confirmation   `json:"cnf,omitempty"`
	AuthorizationDetails json.RawMessage `json:"authorization_details,omitempty"`
}

// confirmation is the cnf claim of a DPoP-bound token (RFC 9449 section 6).
type confirmation struct {
	JKT string `json:"jkt"`
}

// MarshalJSON writes a single audience as a string, several as an array
// (RFC 7519 section 4.1.3).
func (a audience) MarshalJSON() ([]byte, error) {
	if len(a) == 1 {
		return json.Marshal(a[0])
	}
	return json.Marshal([]string(a))
}

func (c *accessClaims) jkt() string {
	if c.Cnf == nil {
		return ""
	}
	return c.Cnf.JKT
}

// AccessToken is a verified access token, for the credential issuer.
type AccessToken struct {
	// Subject is the pairwise subject of the resident for the client (for
	// the credential issuer, with the pre-authorized grant).
	Subject string
	// ClientID is the client the token was issued to: empty for a wallet
	// that redeemed a pre-authorized code anonymously (a proof of
	// possession then carries no iss, OpenID4VCI section 8.2.1.1); for a
	// wallet that sent a client_id without authenticating, the id it sent.
	ClientID string
	// Scopes are all the token's scopes; CredentialScopes those of them
	// that name credential configurations.
	Scopes               []string
	CredentialScopes     []string
	AuthorizationDetails json.RawMessage
	// JKT is the SHA-256 thumbprint of the DPoP key the token is bound to;
	// empty for a bearer token. The caller checks the DPoP proof.
	JKT string
	// PersonID is the resident's internal id in the ID repository, for the
	// issuer to fetch the credential's data. It is internal: it must never
	// be sent to a client, logged or put in a credential (Subject is what
	// the client knows).
	PersonID string
	Expires  time.Time
}

// VerifyAccessToken verifies an access token presented to the credential
// issuer: its signature, typ, iss, an aud naming Config.CredentialIssuer,
// its lifetime, that it was not revoked and that the resident did not
// withdraw the client's consent since it was issued, and that its client
// (unless the wallet was unregistered) is still active. Errors are *Error
// values with code invalid_token (server_error for a storage failure). The
// DPoP binding (JKT) is the caller's to check.
func (p *Provider) VerifyAccessToken(ctx context.Context, token string) (*AccessToken, error) {
	if p.cfg.CredentialIssuer == "" {
		return nil, ErrInvalidToken("access token is invalid", errors.New("oidc: no credential issuer is configured"))
	}
	rec, claims, err := p.verifyAccessJWT(ctx, token, p.cfg.CredentialIssuer)
	if err != nil {
		return nil, err
	}
	if !rec.Unregistered {
		cl, err := p.clients.get(ctx, rec.ClientID)
		if errors.Is(err, storage.ErrNotFound) || err == nil && !cl.active() {
			return nil, ErrInvalidToken("access token is invalid", fmt.Errorf("client %q is no longer active", truncate(rec.ClientID)))
		}
		if err != nil {
			return nil, ErrServerError(err)
		}
	}
	clientID := rec.ClientID
	if clientID == anonymousClientID {
		clientID = ""
	}
	return &AccessToken{
		Subject:              rec.Subject,
		ClientID:             clientID,
		Scopes:               slices.Clone(rec.Scopes),
		CredentialScopes:     slices.Clone(rec.CredentialScopes),
		AuthorizationDetails: rec.AuthorizationDetails,
		JKT:                  rec.JKT,
		PersonID:             rec.PersonID,
		Expires:              time.Unix(claims.Exp, 0),
	}, nil
}

// accessTokenAlg is the algorithm new access tokens are signed with.
func (p *Provider) accessTokenAlg() (string, error) {
	offered := p.cfg.Keys.Algorithms(keys.PurposeOIDCSigning)
	for _, alg := range accessTokenAlgPreference {
		if slices.Contains(offered, alg) {
			return alg, nil
		}
	}
	return "", fmt.Errorf("oidc: the oidc-signing key set offers none of %v", accessTokenAlgPreference)
}

// accessTokenAlgs are the algorithms access tokens are accepted with: any
// the key set has (a preference may change while tokens are in flight).
func (p *Provider) accessTokenAlgs() []string {
	offered := p.cfg.Keys.Algorithms(keys.PurposeOIDCSigning)
	var out []string
	for _, alg := range accessTokenAlgPreference {
		if slices.Contains(offered, alg) {
			out = append(out, alg)
		}
	}
	return out
}

// parseAccessJWT verifies an access token's signature, typ and issuer and
// returns its claims. It does not look at time or audience.
func (p *Provider) parseAccessJWT(ctx context.Context, token string) (accessClaims, error) {
	var claims accessClaims
	if len(token) > maxAccessTokenSize {
		return claims, ErrInvalidToken("access token is invalid", errors.New("too large"))
	}
	tok, err := parseCompact(token)
	if err != nil {
		return claims, ErrInvalidToken("access token is invalid", err)
	}
	if mediaType(tok.header.Typ) != accessTokenTyp {
		return claims, ErrInvalidToken("access token is invalid", fmt.Errorf("typ %q", truncate(tok.header.Typ)))
	}
	algs := p.accessTokenAlgs()
	if len(algs) == 0 {
		return claims, ErrServerError(errors.New("oidc: no access token algorithm"))
	}
	payload, err := p.cfg.Keys.Verify(ctx, keys.PurposeOIDCSigning, token, algs...)
	if err != nil {
		return claims, ErrInvalidToken("access token is invalid", err)
	}
	if err := decodeClaims(payload, &claims); err != nil {
		return claims, ErrInvalidToken("access token is invalid", err)
	}
	if claims.Iss != p.issuer {
		return claims, ErrInvalidToken("access token is invalid", fmt.Errorf("iss %q", truncate(claims.Iss)))
	}
	if claims.Jti == "" || claims.ClientID == "" || claims.Sub == "" {
		return claims, ErrInvalidToken("access token is invalid", errors.New("jti, client_id or sub missing"))
	}
	return claims, nil
}

// verifyAccessJWT verifies an access token and returns its record: the
// checks of parseAccessJWT, then aud (when wantAudience is set), exp and
// iat, the record (missing: revoked or expired), its agreement with the
// token, and consent withdrawal.
func (p *Provider) verifyAccessJWT(ctx context.Context, token, wantAudience string) (*tokenRecord, accessClaims, error) {
	claims, err := p.parseAccessJWT(ctx, token)
	if err != nil {
		return nil, claims, err
	}
	if wantAudience != "" && !slices.Contains(claims.Aud, wantAudience) {
		return nil, claims, ErrInvalidToken("access token is not meant for this resource", fmt.Errorf("aud %q", claims.Aud))
	}
	now := p.now()
	if !now.Before(time.Unix(claims.Exp, 0).Add(accessTokenLeeway)) {
		return nil, claims, ErrInvalidToken("access token expired", nil)
	}
	if time.Unix(claims.Iat, 0).After(now.Add(accessTokenLeeway)) {
		return nil, claims, ErrInvalidToken("access token is invalid", errors.New("iat in the future"))
	}
	raw, err := p.cfg.State.Get(ctx, tokenKey(claims.Jti))
	if errors.Is(err, storage.ErrNotFound) {
		return nil, claims, ErrInvalidToken("token revoked or expired", nil)
	}
	if err != nil {
		return nil, claims, ErrServerError(fmt.Errorf("oidc: load access token record: %w", err))
	}
	var rec tokenRecord
	if err := json.Unmarshal(raw, &rec); err != nil {
		return nil, claims, ErrServerError(fmt.Errorf("oidc: decode access token record: %w", err))
	}
	if rec.ClientID != claims.ClientID || rec.Subject != claims.Sub || rec.JKT != claims.jkt() || rec.IssuedAt != claims.Iat {
		return nil, claims, ErrInvalidToken("access token is invalid", errors.New("token does not match its record"))
	}
	if err := p.checkWithdrawn(ctx, &rec); err != nil {
		return nil, claims, err
	}
	return &rec, claims, nil
}

// checkWithdrawn fails with invalid_token if the resident withdrew the
// client's consent at or after the microsecond the token's grant (its
// authorization code) was issued.
func (p *Provider) checkWithdrawn(ctx context.Context, rec *tokenRecord) error {
	granted := rec.GrantedAtMicro
	if granted == 0 { // a record written before microseconds were kept
		granted = rec.IssuedAt * 1e6
	}
	return p.withdrawnSince(ctx, rec.ClientID, rec.PersonID, granted)
}

// withdrawnSince fails with invalid_token if the resident withdrew the
// client's consent at or after grantedMicro (unix microseconds). A second
// is too coarse: a sign-in right after a withdrawal must get a live token.
func (p *Provider) withdrawnSince(ctx context.Context, clientID, personID string, grantedMicro int64) error {
	raw, err := p.cfg.State.Get(ctx, withdrawnKey(clientID, personID))
	if errors.Is(err, storage.ErrNotFound) {
		return nil
	}
	if err != nil {
		return ErrServerError(fmt.Errorf("oidc: look up consent withdrawal: %w", err))
	}
	at, err := strconv.ParseInt(string(raw), 10, 64)
	if err != nil {
		return ErrServerError(fmt.Errorf("oidc: consent withdrawal record: %w", err))
	}
	if at < 1e12 { // a withdrawal recorded in seconds
		at *= 1e6
	}
	if at >= grantedMicro {
		return ErrInvalidToken("consent withdrawn", nil)
	}
	return nil
}

// Authorization schemes of protected resources.
const (
	schemeBearer = "Bearer"
	schemeDPoP   = "DPoP"
)

// errNoAccessToken is a request to a protected resource without
// credentials: 401 with a challenge that carries no error code (RFC 6750
// section 3.1).
var errNoAccessToken = errors.New("oidc: no access token")

// checkAccessToken authenticates a request to one of the provider's
// protected resources with the access token of its Authorization header
// (Bearer or DPoP scheme; RFC 6750 section 2.1, RFC 9449 section 7). A token
// in the query string or form body is refused (invalid_request). The token
// must name wantAudience; a DPoP-bound token needs the DPoP scheme and a
// proof of its key for this request, and an unbound one the Bearer scheme.
// Errors are rendered with renderResourceError.
func (p *Provider) checkAccessToken(c *gin.Context, wantAudience string) (*tokenRecord, accessClaims, error) {
	ctx := c.Request.Context()
	r := c.Request
	if r.URL.Query().Has("access_token") {
		return nil, accessClaims{}, ErrInvalidRequest("the access token must be sent in the Authorization header", nil)
	}
	if hasFormBody(r) {
		r.Body = http.MaxBytesReader(c.Writer, r.Body, maxFormBytes)
		if err := r.ParseForm(); err != nil {
			return nil, accessClaims{}, ErrInvalidRequest("the request body is not a valid form", err)
		}
		if r.PostForm.Has("access_token") {
			return nil, accessClaims{}, ErrInvalidRequest("the access token must be sent in the Authorization header", nil)
		}
	}
	scheme, token, err := authorizationToken(r)
	if err != nil {
		return nil, accessClaims{}, err
	}
	rec, claims, err := p.verifyAccessJWT(ctx, token, wantAudience)
	if err != nil {
		return nil, claims, err
	}
	if rec.JKT == "" {
		if scheme != schemeBearer {
			return nil, claims, ErrInvalidToken("access token is not DPoP-bound", nil)
		}
		return rec, claims, nil
	}
	if scheme != schemeDPoP {
		return nil, claims, ErrInvalidToken("DPoP-bound access token must be sent with the DPoP scheme", nil)
	}
	proofs := r.Header.Values("DPoP")
	switch len(proofs) {
	case 0:
		return nil, claims, ErrInvalidDPoPProof("DPoP proof required", nil)
	case 1:
	default:
		return nil, claims, ErrInvalidDPoPProof("more than one DPoP proof", nil)
	}
	jkt, err := p.dpop.Verify(ctx, DPoPRequest{
		Proof:       proofs[0],
		Method:      r.Method,
		URL:         p.endpoint(p.relativePath(r.URL.EscapedPath())),
		AccessToken: token,
	})
	if err != nil {
		return nil, claims, err
	}
	if err := CheckTokenJKT(rec.JKT, jkt); err != nil {
		return nil, claims, err
	}
	return rec, claims, nil
}

// relativePath returns a request path relative to the issuer: without the
// issuer's own path when the router was mounted under it.
func (p *Provider) relativePath(path string) string {
	u, err := url.Parse(p.issuer)
	if err != nil || u.Path == "" || u.Path == "/" {
		return path
	}
	if strings.HasPrefix(path, u.Path+"/") {
		return path[len(u.Path):]
	}
	return path
}

// hasFormBody reports whether r carries a URL-encoded form body.
func hasFormBody(r *http.Request) bool {
	if r.Body == nil || r.Body == http.NoBody {
		return false
	}
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	return err == nil && mt == "application/x-www-form-urlencoded"
}

// authorizationToken reads the access token of the Authorization header:
// the scheme (schemeBearer or schemeDPoP) and the token.
func authorizationToken(r *http.Request) (scheme, token string, err error) {
	hs := r.Header.Values("Authorization")
	switch len(hs) {
	case 0:
		return "", "", errNoAccessToken
	case 1:
	default:
		return "", "", ErrInvalidRequest("more than one Authorization header", nil)
	}
	s, tok, ok := strings.Cut(hs[0], " ")
	switch {
	case strings.EqualFold(s, schemeBearer):
		scheme = schemeBearer
	case strings.EqualFold(s, schemeDPoP):
		scheme = schemeDPoP
	default:
		return "", "", errNoAccessToken
	}
	tok = strings.TrimSpace(tok)
	if !ok || tok == "" || strings.ContainsAny(tok, " \t,") {
		return "", "", ErrInvalidRequest("malformed Authorization header", nil)
	}
	return scheme, tok, nil
}

// renderResourceError answers a protected-resource request that failed
// (RFC 6750 section 3, RFC 9449 section 7.1): 401 with a WWW-Authenticate
// challenge for the scheme the client used (both schemes when it sent no
// token), 400 for invalid_request, 403 for insufficient_scope naming scope,
// and a DPoP-Nonce header for use_dpop_nonce. The body is the error as JSON.
// The cause is logged through c.Error, never sent.
func (p *Provider) renderResourceError(c *gin.Context, err error, scope string) {
	_ = c.Error(err)
	c.Header("Cache-Control", "no-store")
	if errors.Is(err, errNoAccessToken) {
		c.Writer.Header().Add("WWW-Authenticate", schemeBearer+` realm="`+p.issuer+`"`)
		c.Writer.Header().Add("WWW-Authenticate", schemeDPoP+` algs="`+strings.Join(DPoPAlgs, " ")+`"`)
		c.AbortWithStatusJSON(http.StatusUnauthorized, gin.H{"error": CodeInvalidToken, "error_description": "access token required"})
		return
	}
	e := asError(err)
	status := e.Status
	switch e.Code {
	case CodeInvalidToken, CodeInvalidDPoPProof, CodeUseDPoPNonce:
		status = http.StatusUnauthorized
	case CodeInsufficientScope:
		status = http.StatusForbidden
	case CodeInvalidRequest:
		status = http.StatusBadRequest
	}
	if status == 0 {
		status = http.StatusInternalServerError
	}
	if e.Code != CodeServerError {
		dpop := e.Code == CodeInvalidDPoPProof || e.Code == CodeUseDPoPNonce
		if s, _, _ := strings.Cut(c.GetHeader("Authorization"), " "); strings.EqualFold(s, schemeDPoP) {
			dpop = true
		}
		params := `error="` + e.Code + `", error_description="` + quotable(e.Description) + `"`
		if e.Code == CodeInsufficientScope && scope != "" {
			params += `, scope="` + quotable(scope) + `"`
		}
		if dpop {
			c.Header("WWW-Authenticate", schemeDPoP+` algs="`+strings.Join(DPoPAlgs, " ")+`", `+params)
		} else {
			c.Header("WWW-Authenticate", schemeBearer+` realm="`+p.issuer+`", `+params)
		}
	}
	if e.DPoPNonce != "" {
		c.Header("DPoP-Nonce", e.DPoPNonce)
	}
	c.AbortWithStatusJSON(status, gin.H{"error": e.Code, "error_description": e.Description})
}

// quotable makes s safe inside a quoted-string of an auth-param: RFC 6750
// limits error_description to printable ASCII without '"' and '\'.
func quotable(s string) string {
	b := []byte(s)
	for i, ch := range b {
		if ch < 0x20 || ch > 0x7e || ch == '"' || ch == '\\' {
			b[i] = '?'
		}
	}
	return string(b)
}

// mediaType normalizes a typ header value (RFC 7515 section 4.1.9):
// lower case, without "application/" when the rest has no '/'.
func mediaType(typ string) string {
	typ = strings.ToLower(typ)
	if rest := strings.TrimPrefix(typ, "application/"); !strings.Contains(rest, "/") {
		return rest
	}
	return typ
}
