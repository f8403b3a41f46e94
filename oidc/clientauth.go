package oidc

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/sanad-id/sanad/internal/josekey"
	"github.com/sanad-id/sanad/internal/jwtclaims"
	"reflect"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/lestrrat-go/jwx/v3/jwa"
	"github.com/lestrrat-go/jwx/v3/jwk"
	"github.com/lestrrat-go/jwx/v3/jws"

	"github.com/sanad-id/sanad/storage"
)

// ClientAssertionType is the only client_assertion_type accepted (RFC 7523
// section 2.2).
const ClientAssertionType = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"

// ClientAssertionAlgs are the signature algorithms accepted for
// private_key_jwt. "none" and HMAC algorithms are never accepted: an
// assertion is verified only with the client's registered asymmetric keys.
var ClientAssertionAlgs = []string{"RS256", "PS256", "ES256", "EdDSA"}

// Defaults for ClientAssertionVerifier.
const (
	DefaultAssertionLeeway      = 30 * time.Second
	DefaultAssertionMaxLifetime = 5 * time.Minute
)

// jtiMargin is how long a jti is remembered beyond the last moment its
// assertion can be accepted (exp plus the leeway): it covers the rounding
// of the state's TTLs and small differences between the clocks of servers
// sharing the state.
const jtiMargin = 5 * time.Second

// maxJWTSize bounds the size of a client assertion or DPoP proof we parse.
const maxJWTSize = 16 << 10

// ClientAssertion is what the token (or PAR) request carries for
// private_key_jwt: client_assertion_type, client_assertion and the optional
// client_id form parameter.
type ClientAssertion struct {
	Type     string
	JWT      string
	ClientID string
}

// ClientKeys is a registered client: its id and its public JWK set.
type ClientKeys struct {
	ID   string
	Keys jwk.Set
}

// ClientAssertionVerifier verifies private_key_jwt client assertions (RFC
// 7523, OpenID Connect Core section 9). The zero values of Now, Leeway,
// MaxLifetime mean time.Now and the Default... constants. State is required:
// it remembers each jti until its assertion has expired for good (exp plus
// Leeway, plus jtiMargin), and at least ReplayWindow when that is set.
type ClientAssertionVerifier struct {
	State        storage.State
	Now          func() time.Time
	Leeway       time.Duration
	MaxLifetime  time.Duration
	ReplayWindow time.Duration

	keys rawKeyCache
}

// Verify authenticates client with the assertion in. audiences are the
// values the assertion's aud may name, at least one of which it must
// contain: the issuer identifier and the token endpoint URL, or (FAPI 2.0)
// the issuer identifier alone.
//
// Every authentication failure is an *Error with code invalid_client and
// the same description; the reason is in its Cause. A storage failure is a
// server_error. The jti is recorded only once everything else has passed,
// so among concurrent requests presenting one assertion exactly one
// succeeds.
func (v *ClientAssertionVerifier) Verify(ctx context.Context, in ClientAssertion, client ClientKeys, audiences []string) error {
	if v.State == nil {
		return ErrServerError(errors.New("oidc: ClientAssertionVerifier has no State"))
	}
	if len(audiences) == 0 {
		return ErrServerError(errors.New("oidc: client assertion verification needs audiences"))
	}
	if in.Type != ClientAssertionType {
		return ErrInvalidClient(fmt.Errorf("client_assertion_type %q", truncate(in.Type)))
	}
	if client.ID == "" {
		return ErrInvalidClient(errors.New("no client id"))
	}
	if in.ClientID != "" && in.ClientID != client.ID {
		return ErrInvalidClient(errors.New("client_id parameter does not match the client"))
	}
	if client.Keys == nil || client.Keys.Len() == 0 {
		return ErrInvalidClient(errors.New("client has no registered keys"))
	}
	tok, err := parseCompact(in.JWT)
	if err != nil {
		return ErrInvalidClient(err)
	}
	if !slices.Contains(ClientAssertionAlgs, tok.header.Alg) {
		return ErrInvalidClient(fmt.Errorf("alg %q not allowed", truncate(tok.header.Alg)))
	}
	payload, err := verifyWithSet(client.Keys, tok, in.JWT, &v.keys)
	if err != nil {
		return ErrInvalidClient(err)
	}
	var c assertionClaims
	if err := decodeClaims(payload, &c); err != nil {
		return ErrInvalidClient(err)
	}
	now := v.now()
	leeway := orDefault(v.Leeway, DefaultAssertionLeeway)
	if err := v.checkClaims(&c, client.ID, audiences, now, leeway); err != nil {
		return ErrInvalidClient(err)
	}

	// The jti is remembered until the assertion has expired for good:
	// after exp plus the leeway, checkClaims refuses it whatever its jti,
	// so remembering it longer protects nothing (RFC 7523 section 3 asks
	// for the jti to be kept for the assertion's validity). checkClaims
	// bounds exp to MaxLifetime plus the leeway ahead, so an entry lives
	// minutes, not the 24 hours it used to: at 1 000 sign-ins a second that
	// was 86 million entries. ReplayWindow, if set, keeps it longer.
	ttl := c.Exp.Time().Add(leeway).Sub(now) + jtiMargin
	if v.ReplayWindow > ttl {
		ttl = v.ReplayWindow
	}
	sum := sha256.Sum256([]byte(c.Jti))
	key := "oidc:jti:" + client.ID + ":" + hex.EncodeToString(sum[:])
	fresh, err := v.State.PutNew(ctx, key, []byte{1}, ttl)
	if err != nil {
		return ErrServerError(fmt.Errorf("oidc: record client assertion jti: %w", err))
	}
	if !fresh {
		return ErrInvalidClient(errors.New("client assertion jti replayed"))
	}
	return nil
}

func (v *ClientAssertionVerifier) now() time.Time {
	if v.Now != nil {
		return v.Now()
	}
	return time.Now()
}

func (v *ClientAssertionVerifier) checkClaims(c *assertionClaims, clientID string, audiences []string, now time.Time, leeway time.Duration) error {
	if c.Iss != clientID {
		return errors.New("iss is not the client id")
	}
	if c.Sub != clientID {
		return errors.New("sub is not the client id")
	}
	if !slices.ContainsFunc(c.Aud, func(a string) bool { return slices.Contains(audiences, a) }) {
		return errors.New("aud does not name this server")
	}
	if c.Jti == "" {
		return errors.New("no jti")
	}
	if c.Exp == nil {
		return errors.New("no exp")
	}
	exp := c.Exp.Time()
	if !now.Before(exp.Add(leeway)) {
		return errors.New("expired")
	}
	if c.Nbf != nil && now.Add(leeway).Before(c.Nbf.Time()) {
		return errors.New("not yet valid (nbf)")
	}
	maxLife := orDefault(v.MaxLifetime, DefaultAssertionMaxLifetime)
	if c.Iat != nil {
		iat := c.Iat.Time()
		if iat.After(now.Add(leeway)) {
			return errors.New("iat in the future")
		}
		if exp.Sub(iat) > maxLife {
			return fmt.Errorf("lifetime %s exceeds %s", exp.Sub(iat), maxLife)
		}
	} else if exp.Sub(now) > maxLife+leeway {
		return fmt.Errorf("exp more than %s ahead and no iat", maxLife)
	}
	return nil
}

// assertionClaims are the claims of a client assertion we check.
type assertionClaims struct {
	Iss string       `json:"iss"`
	Sub string       `json:"sub"`
	Aud audience     `json:"aud"`
	Exp *numericDate `json:"exp"`
	Iat *numericDate `json:"iat"`
	Nbf *numericDate `json:"nbf"`
	Jti string       `json:"jti"`
}

// audience is the aud claim: a string or an array of strings.
type audience []string

func (a *audience) UnmarshalJSON(b []byte) error {
	var s jwtclaims.Strings
	if err := s.UnmarshalJSON(b); err != nil {
		return errors.New("aud is neither a string nor an array of strings")
	}
	*a = audience(s)
	return nil
}

// decodeClaims decodes a JWT claims set, refusing anything but one JSON
// object.
func decodeClaims(payload []byte, dst any) error {
	if err := josekey.DecodeObject(payload, dst); err != nil {
		return fmt.Errorf("claims: %w", err)
	}
	return nil
}

// joseHeader is the protected header of a JWS as far as we read it.
type joseHeader struct {
	Alg  string          `json:"alg"`
	KID  string          `json:"kid"`
	Typ  string          `json:"typ"`
	JWK  json.RawMessage `json:"jwk"`
	Crit json.RawMessage `json:"crit"`
	B64  json.RawMessage `json:"b64"`
	Zip  json.RawMessage `json:"zip"`
}

// compactJWS is a compact JWS split but not yet verified.
type compactJWS struct {
	header joseHeader
}

// parseCompact splits a compact JWS and decodes its protected header. It
// does not verify anything but shape.
func parseCompact(compact string) (compactJWS, error) {
	var tok compactJWS
	if compact == "" {
		return tok, errors.New("empty JWT")
	}
	if len(compact) > maxJWTSize {
		return tok, errors.New("JWT too large")
	}
	parts := strings.Split(compact, ".")
	if len(parts) != 3 {
		return tok, errors.New("not a compact JWS")
	}
	if parts[2] == "" {
		return tok, errors.New("JWS has no signature")
	}
	raw, err := base64.RawURLEncoding.Strict().DecodeString(parts[0])
	if err != nil {
		return tok, errors.New("header is not base64url")
	}
	if t := bytes.TrimSpace(raw); len(t) == 0 || t[0] != '{' {
		return tok, errors.New("header is not a JSON object")
	}
	if err := json.Unmarshal(raw, &tok.header); err != nil {
		return tok, errors.New("header is not a JSON object")
	}
	if tok.header.Crit != nil {
		return tok, errors.New("crit header not supported")
	}
	if tok.header.B64 != nil {
		return tok, errors.New("b64 header not supported")
	}
	if tok.header.Zip != nil {
		return tok, errors.New("zip header not supported")
	}
	return tok, nil
}

// verifyWithSet verifies compact with each key of set that fits the
// header's alg (and kid, when both name one) and returns the payload of the
// first that verifies. The keys' raw forms come from cache.
func verifyWithSet(set jwk.Set, tok compactJWS, compact string, cache *rawKeyCache) ([]byte, error) {
	tried := 0
	for i := range set.Len() {
		k, ok := set.Key(i)
		if !ok {
			continue
		}
		if kid, ok := k.KeyID(); ok && tok.header.KID != "" && kid != tok.header.KID {
			continue
		}
		if use, ok := k.KeyUsage(); ok && use != "sig" {
			continue
		}
		if alg, ok := k.Algorithm(); ok && alg.String() != tok.header.Alg {
			continue
		}
		raw, err := cache.export(k)
		if err != nil {
			continue
		}
		pub, err := josekey.ForAlg(raw, tok.header.Alg)
		if err != nil {
			continue
		}
		tried++
		if payload, err := verifySignature(pub, tok.header.Alg, compact); err == nil {
			return payload, nil
		}
	}
	if tried == 0 {
		return nil, fmt.Errorf("no registered key fits alg %s", tok.header.Alg)
	}
	return nil, errors.New("signature does not verify with any registered key")
}

// publicKeyFor returns the raw public key of k if k is an asymmetric key
// usable with alg (one of the allowed algorithms, see josekey.ForAlg).
func publicKeyFor(k jwk.Key, alg string) (any, error) {
	raw, err := exportPublic(k)
	if err != nil {
		return nil, err
	}
	pub, err := josekey.ForAlg(raw, alg)
	if err != nil {
		return nil, fmt.Errorf("key type %s does not fit alg %s", k.KeyType(), alg)
	}
	return pub, nil
}

// exportPublic returns the raw public key of k.
func exportPublic(k jwk.Key) (any, error) {
	pk, err := k.PublicKey()
	if err != nil {
		return nil, fmt.Errorf("public key: %w", err)
	}
	var raw any
	if err := jwk.Export(pk, &raw); err != nil {
		return nil, fmt.Errorf("export key: %w", err)
	}
	return raw, nil
}

// maxRawKeys bounds a rawKeyCache.
const maxRawKeys = 1024

// rawKeyCache keeps the raw public keys of registered clients' JWKs, by
// key. A client's key set is parsed once per refresh of the client cache
// and then verifies every assertion of the client until the next; exporting
// a JWK (a copy of the key, then its conversion) for every assertion cost
// about as much as a tenth of the signature check. Entries are never stale:
// a changed key set is new jwk.Key values. When full, the cache starts
// over. The zero value is ready to use.
type rawKeyCache struct {
	mu sync.Mutex
	m  map[jwk.Key]any
}

// export returns exportPublic(k), cached when k is a pointer (jwx's keys
// are): other types may not be usable as map keys.
func (c *rawKeyCache) export(k jwk.Key) (any, error) {
	if reflect.ValueOf(k).Kind() != reflect.Pointer {
		return exportPublic(k)
	}
	c.mu.Lock()
	raw, ok := c.m[k]
	c.mu.Unlock()
	if ok {
		return raw, nil
	}
	raw, err := exportPublic(k)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	if c.m == nil || len(c.m) >= maxRawKeys {
		c.m = make(map[jwk.Key]any)
	}
	c.m[k] = raw
	c.mu.Unlock()
	return raw, nil
}

// verifySignature checks compact's signature with pub under alg (already
// checked against an allow-list) and returns the payload.
func verifySignature(pub any, alg, compact string) ([]byte, error) {
	a, ok := jwa.LookupSignatureAlgorithm(alg)
	if !ok {
		return nil, fmt.Errorf("alg %s not supported", alg)
	}
	payload, err := jws.VerifyCompactFast(pub, []byte(compact), a)
	if err != nil {
		return nil, fmt.Errorf("signature: %w", err)
	}
	return payload, nil
}

func orDefault(d, def time.Duration) time.Duration {
	if d > 0 {
		return d
	}
	return def
}

// truncate shortens attacker-supplied text before it goes into a cause.
func truncate(s string) string {
	const n = 64
	if len(s) > n {
		return s[:n] + "…"
	}
	return s
}

// numericDate is a JWT NumericDate (package jwtclaims).
type numericDate = jwtclaims.NumericDate
