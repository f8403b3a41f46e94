package statuslist

import (
	"context"
	"crypto"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/lestrrat-go/jwx/v3/jwa"
	"github.com/lestrrat-go/jwx/v3/jws"

	"github.com/sanad-id/sanad/credential"
	"github.com/sanad-id/sanad/internal/josekey"
	"github.com/sanad-id/sanad/internal/jwtclaims"
)

// TokenType is the typ of a status list token, and with "application/"
// its media type.
const TokenType = "statuslist+jwt"

// MediaType is the Content-Type a status list token is served with.
const MediaType = "application/" + TokenType

// TokenAlgs are the signature algorithms ParseToken accepts. MAC
// algorithms (HS*) and none are never accepted: a status list is checked
// by parties that must not be able to forge it.
var TokenAlgs = []string{"ES256", "ES384", "EdDSA", "PS256", "RS256"}

// MaxTokenSize bounds a status list token ParseToken reads: 8 MiB, enough
// for 4 MiB of incompressible statuses (32 million 1-bit entries with
// random values).
const MaxTokenSize = 8 << 20

// TokenReference is an SD-JWT VC's status.status_list member.
type TokenReference struct {
	Index int
	URI   string
}

// Map is the referenced token's whole status claim:
// {"status_list": {"idx": Index, "uri": URI}}.
func (r TokenReference) Map() map[string]any {
	return map[string]any{"status_list": map[string]any{"idx": r.Index, "uri": r.URI}}
}

// ParseTokenReference reads a referenced token's status claim (the object
// holding status_list): idx a non-negative JSON integer, uri an absolute
// URI. Other status mechanisms next to status_list are ignored; a status
// without status_list is malformed for this package. Errors wrap
// ErrMalformed.
func ParseTokenReference(status any) (TokenReference, error) {
	s, ok := status.(map[string]any)
	if !ok {
		return TokenReference{}, malformed("status is a %T, not an object", status)
	}
	sl, ok := s["status_list"].(map[string]any)
	if !ok {
		return TokenReference{}, malformed("status has no status_list object")
	}
	idx, ok := integer(sl["idx"])
	if !ok || idx < 0 || idx > math.MaxInt32 {
		return TokenReference{}, malformed("status_list idx is not a non-negative integer")
	}
	uri, ok := sl["uri"].(string)
	if !ok || !absoluteURL(uri) {
		return TokenReference{}, malformed("status_list uri is not an absolute URI")
	}
	return TokenReference{Index: int(idx), URI: uri}, nil
}

// TokenOptions are the claims of a status list token.
type TokenOptions struct {
	URI       string // sub
	Issuer    string // iss, optional
	IssuedAt  time.Time
	ExpiresAt time.Time     // zero: no exp
	TTL       time.Duration // zero: no ttl
	X5C       [][]byte
}

// IssueToken signs a status list token: header typ statuslist+jwt (and x5c
// when o.X5C is set; alg and kid come from s), claims sub, iat, exp and
// ttl (whole seconds, rounded up) when set, iss when set, and status_list.
// s must use one of TokenAlgs.
func IssueToken(ctx context.Context, s credential.Signer, list *TokenList, o TokenOptions) (string, error) {
	switch {
	case s == nil:
		return "", errors.New("statuslist: IssueToken needs a signer")
	case !slices.Contains(TokenAlgs, s.Alg()):
		return "", fmt.Errorf("statuslist: signer alg %q is not one of %v", s.Alg(), TokenAlgs)
	case list == nil:
		return "", errors.New("statuslist: IssueToken needs a list")
	case !absoluteURL(o.URI):
		return "", fmt.Errorf("statuslist: token URI %q is not an absolute URI", truncate(o.URI))
	case o.IssuedAt.IsZero():
		return "", errors.New("statuslist: token needs IssuedAt")
	case !o.ExpiresAt.IsZero() && o.ExpiresAt.Unix() <= o.IssuedAt.Unix():
		return "", errors.New("statuslist: token ExpiresAt is not after IssuedAt")
	case o.TTL < 0:
		return "", errors.New("statuslist: token TTL is negative")
	}
	sl, err := list.Map()
	if err != nil {
		return "", err
	}
	claims := map[string]any{
		"sub":         o.URI,
		"iat":         o.IssuedAt.Unix(),
		"status_list": sl,
	}
	if o.Issuer != "" {
		claims["iss"] = o.Issuer
	}
	if !o.ExpiresAt.IsZero() {
		claims["exp"] = o.ExpiresAt.Unix()
	}
	if o.TTL > 0 {
		claims["ttl"] = int64((o.TTL + time.Second - 1) / time.Second)
	}
	payload, err := json.Marshal(claims)
	if err != nil {
		return "", fmt.Errorf("statuslist: token claims: %w", err)
	}
	header := map[string]any{"typ": TokenType}
	if len(o.X5C) > 0 {
		chain := make([]string, len(o.X5C))
		for i, der := range o.X5C {
			chain[i] = base64.StdEncoding.EncodeToString(der)
		}
		header["x5c"] = chain
	}
	token, err := s.SignJWS(ctx, payload, header)
	if err != nil {
		return "", fmt.Errorf("statuslist: sign token: %w", err)
	}
	return token, nil
}

// Token is a verified status list token.
type Token struct {
	List      *TokenList
	Subject   string // sub, the URI of the list
	Issuer    string // iss, when present
	KeyID     string // kid of the header, when present
	IssuedAt  time.Time
	ExpiresAt time.Time     // zero when the token has no exp
	TTL       time.Duration // zero when the token has no ttl
}

// TokenHeader is the unverified protected header of a status list token,
// for a keys function that needs more than the kid (an x5c chain to check
// against trust anchors before returning its leaf key).
type TokenHeader struct {
	Alg string
	Typ string
	KID string
	// X5C is the DER certificate chain of the header's x5c, leaf first.
	X5C [][]byte
}

// tokenHeader is the protected header as read.
type tokenHeader struct {
	Alg  string          `json:"alg"`
	Typ  string          `json:"typ"`
	KID  string          `json:"kid"`
	X5C  []string        `json:"x5c"`
	Crit json.RawMessage `json:"crit"`
	B64  json.RawMessage `json:"b64"`
	Zip  json.RawMessage `json:"zip"`
}

// tokenClaims are the claims ParseToken reads.
type tokenClaims struct {
	Sub        *string                `json:"sub"`
	Iss        string                 `json:"iss"`
	Iat        *jwtclaims.NumericDate `json:"iat"`
	Exp        *jwtclaims.NumericDate `json:"exp"`
	Nbf        *jwtclaims.NumericDate `json:"nbf"`
	TTL        *float64               `json:"ttl"`
	StatusList map[string]any         `json:"status_list"`
}

// PeekTokenHeader decodes a status list token's protected header without
// verifying anything but its shape.
func PeekTokenHeader(token string) (TokenHeader, error) {
	h, _, err := splitToken(token)
	if err != nil {
		return TokenHeader{}, err
	}
	out := TokenHeader{Alg: h.Alg, Typ: h.Typ, KID: h.KID}
	for i, c := range h.X5C {
		der, err := base64.StdEncoding.DecodeString(c)
		if err != nil {
			return TokenHeader{}, malformed("token x5c[%d] is not base64", i)
		}
		out.X5C = append(out.X5C, der)
	}
	return out, nil
}

// splitToken checks the token's size and compact form and decodes its
// header; the payload is returned still encoded.
func splitToken(token string) (tokenHeader, string, error) {
	var h tokenHeader
	if len(token) > MaxTokenSize {
		return h, "", malformed("token longer than %d bytes", MaxTokenSize)
	}
	h64, rest, ok1 := strings.Cut(token, ".")
	p64, s64, ok2 := strings.Cut(rest, ".")
	if !ok1 || !ok2 || strings.Contains(s64, ".") || s64 == "" {
		return h, "", malformed("token is not a signed compact JWS")
	}
	raw, err := base64.RawURLEncoding.Strict().DecodeString(h64)
	if err != nil {
		return h, "", malformed("token header is not base64url")
	}
	if err := josekey.DecodeObject(raw, &h); err != nil {
		return h, "", malformed("token header: %v", err)
	}
	if h.Crit != nil || h.B64 != nil || h.Zip != nil {
		return h, "", malformed("token header has crit, b64 or zip")
	}
	return h, p64, nil
}

// ParseToken verifies a status list token (typ statuslist+jwt) with
// resolver keys for issuer, its sub = uri, its exp and returns the list.
// See VerifyToken.
func ParseToken(ctx context.Context, token, uri string, keys func(kid string) (crypto.PublicKey, error), now time.Time) (*TokenList, error) {
	t, err := VerifyToken(ctx, token, uri, keys, now)
	if err != nil {
		return nil, err
	}
	return t.List, nil
}

// VerifyToken verifies a status list token and returns it: its size (at
// most MaxTokenSize), typ statuslist+jwt (or application/statuslist+jwt),
// alg one of TokenAlgs, the signature with the key keys returns for the
// header's kid (empty when absent), sub equal to uri, iat present, exp
// not reached at now and nbf reached (no leeway), ttl positive when
// present, and status_list (ParseTokenList). A zero now is the current
// time.
//
// Errors wrap ErrMalformed, or credential.ErrSignature (alg, key,
// signature), credential.ErrExpired or credential.ErrNotYetValid.
func VerifyToken(_ context.Context, token, uri string, keys func(kid string) (crypto.PublicKey, error), now time.Time) (*Token, error) {
	h, p64, err := splitToken(token)
	if err != nil {
		return nil, err
	}
	if typ := strings.ToLower(h.Typ); typ != TokenType && typ != MediaType {
		return nil, malformed("token typ %q is not %s", truncate(h.Typ), TokenType)
	}
	if !slices.Contains(TokenAlgs, h.Alg) {
		return nil, fmt.Errorf("%w: statuslist: token alg %q not allowed", credential.ErrSignature, truncate(h.Alg))
	}
	if keys == nil {
		return nil, fmt.Errorf("%w: statuslist: no keys to verify the token", credential.ErrSignature)
	}
	pub, err := keys(h.KID)
	if err != nil {
		return nil, fmt.Errorf("%w: statuslist: token key %q: %v", credential.ErrSignature, truncate(h.KID), err)
	}
	pub, err = josekey.ForAlg(pub, h.Alg)
	if err != nil {
		return nil, fmt.Errorf("%w: statuslist: %v", credential.ErrSignature, err)
	}
	alg, ok := jwa.LookupSignatureAlgorithm(h.Alg)
	if !ok {
		return nil, fmt.Errorf("%w: statuslist: token alg %q not supported", credential.ErrSignature, h.Alg)
	}
	if _, err := jws.VerifyCompactFast(pub, []byte(token), alg); err != nil {
		return nil, fmt.Errorf("%w: statuslist: token: %v", credential.ErrSignature, err)
	}
	payload, err := base64.RawURLEncoding.Strict().DecodeString(p64)
	if err != nil {
		return nil, malformed("token payload is not base64url")
	}
	var cl tokenClaims
	if err := josekey.DecodeObject(payload, &cl); err != nil {
		return nil, malformed("token claims: %v", err)
	}
	switch {
	case cl.Sub == nil:
		return nil, malformed("token has no sub")
	case uri == "" || *cl.Sub != uri:
		return nil, malformed("token sub %q is not the list URI %q", truncate(*cl.Sub), truncate(uri))
	case cl.Iat == nil:
		return nil, malformed("token has no iat")
	case cl.TTL != nil && !(*cl.TTL > 0 && *cl.TTL < 1<<40):
		return nil, malformed("token ttl is not a positive number of seconds")
	case cl.StatusList == nil:
		return nil, malformed("token has no status_list object")
	}
	if now.IsZero() {
		now = time.Now()
	}
	t := &Token{Subject: *cl.Sub, Issuer: cl.Iss, KeyID: h.KID, IssuedAt: cl.Iat.Time()}
	if cl.Exp != nil {
		t.ExpiresAt = cl.Exp.Time()
		if !now.Before(t.ExpiresAt) {
			return nil, fmt.Errorf("%w: statuslist: token expired at %s", credential.ErrExpired, formatDate(t.ExpiresAt))
		}
	}
	if cl.Nbf != nil && now.Before(cl.Nbf.Time()) {
		return nil, fmt.Errorf("%w: statuslist: token valid from %s", credential.ErrNotYetValid, formatDate(cl.Nbf.Time()))
	}
	if cl.TTL != nil {
		t.TTL = time.Duration(*cl.TTL * float64(time.Second))
	}
	if t.List, err = ParseTokenList(cl.StatusList); err != nil {
		return nil, err
	}
	return t, nil
}
