package oidc

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/lestrrat-go/jwx/v3/jwa"
	"github.com/lestrrat-go/jwx/v3/jwk"

	"github.com/sanad-id/sanad/storage"
)

// DPoPAlgs are the signature algorithms accepted in DPoP proofs; "none" and
// HMAC algorithms are never accepted (RFC 9449 section 4.3).
var DPoPAlgs = []string{"ES256", "PS256", "RS256", "EdDSA"}

// Defaults for DPoPVerifier.
const (
	DefaultDPoPIATWindow     = 60 * time.Second
	DefaultDPoPNonceLifetime = 5 * time.Minute
)

// dpopTyp is the typ header of a DPoP proof.
const dpopTyp = "dpop+jwt"

// DPoPRequest is a request carrying a DPoP proof: the value of its single
// DPoP header, its method, the URL it was sent to as the server sees it from
// outside (scheme and host of the public base URL, not of a proxy hop), and
// the access token when the request presents one (at userinfo and other
// resources; empty at the token endpoint).
type DPoPRequest struct {
	Proof       string
	Method      string
	URL         string
	AccessToken string
}

// DPoPVerifier verifies DPoP proofs (RFC 9449). A proof is accepted while
// its iat is within IATWindow of now, either way; its jti is remembered
// (per key) for twice that, so it cannot be replayed while it would still be
// accepted.
//
// With RequireNonce, a proof must carry a nonce this server issued with
// NewNonce less than NonceLifetime ago. Nonces are 256-bit random values
// stored in State (key "oidc:dpop-nonce:<sha256>") with that TTL: no secret
// to share or rotate between processes, and any process sharing the State
// accepts them. A nonce may be used by several proofs during its lifetime;
// replay is stopped by the jti. Without RequireNonce a nonce claim is
// ignored.
//
// The zero values of Now, IATWindow and NonceLifetime mean time.Now and the
// Default... constants. State is required.
type DPoPVerifier struct {
	State         storage.State
	Now           func() time.Time
	IATWindow     time.Duration
	RequireNonce  bool
	NonceLifetime time.Duration
}

// dpopClaims are the claims of a DPoP proof.
type dpopClaims struct {
	Jti   string       `json:"jti"`
	Htm   string       `json:"htm"`
	Htu   string       `json:"htu"`
	Iat   *numericDate `json:"iat"`
	Ath   *string      `json:"ath"`
	Nonce *string      `json:"nonce"`
}

// Verify checks the proof in r and returns the base64url SHA-256 JWK
// thumbprint (RFC 7638) of its key, the value for cnf.jkt. A proof that
// fails is an *Error with code invalid_dpop_proof; a missing or unknown
// nonce, when nonces are required, is use_dpop_nonce carrying a fresh nonce
// in DPoPNonce; a storage failure is server_error.
func (v *DPoPVerifier) Verify(ctx context.Context, r DPoPRequest) (string, error) {
	if v.State == nil {
		return "", ErrServerError(errors.New("oidc: DPoPVerifier has no State"))
	}
	tok, err := parseCompact(r.Proof)
	if err != nil {
		return "", ErrInvalidDPoPProof("malformed DPoP proof", err)
	}
	h := tok.header
	if !strings.EqualFold(h.Typ, dpopTyp) {
		return "", ErrInvalidDPoPProof("DPoP proof typ must be dpop+jwt", fmt.Errorf("typ %q", truncate(h.Typ)))
	}
	if !slices.Contains(DPoPAlgs, h.Alg) {
		return "", ErrInvalidDPoPProof("DPoP proof alg not supported", fmt.Errorf("alg %q", truncate(h.Alg)))
	}
	key, err := parseDPoPJWK(h.JWK)
	if err != nil {
		return "", ErrInvalidDPoPProof("DPoP proof jwk header invalid", err)
	}
	pub, err := publicKeyFor(key, h.Alg)
	if err != nil {
		return "", ErrInvalidDPoPProof("DPoP proof jwk does not fit alg", err)
	}
	payload, err := verifySignature(pub, h.Alg, r.Proof)
	if err != nil {
		return "", ErrInvalidDPoPProof("DPoP proof signature invalid", err)
	}
	var c dpopClaims
	if err := decodeClaims(payload, &c); err != nil {
		return "", ErrInvalidDPoPProof("DPoP proof claims invalid", err)
	}
	window := orDefault(v.IATWindow, DefaultDPoPIATWindow)
	if err := checkDPoPClaims(&c, r, v.now(), window); err != nil {
		return "", err
	}
	tp, err := key.Thumbprint(crypto.SHA256)
	if err != nil {
		return "", ErrInvalidDPoPProof("DPoP proof jwk invalid", fmt.Errorf("thumbprint: %w", err))
	}
	jkt := base64.RawURLEncoding.EncodeToString(tp)

	if v.RequireNonce {
		if err := v.checkNonce(ctx, c.Nonce); err != nil {
			return "", err
		}
	}

	sum := sha256.Sum256([]byte(jkt + "\x00" + c.Jti))
	fresh, err := v.State.PutNew(ctx, "oidc:dpop-jti:"+hex.EncodeToString(sum[:]), []byte{1}, 2*window)
	if err != nil {
		return "", ErrServerError(fmt.Errorf("oidc: record DPoP jti: %w", err))
	}
	if !fresh {
		return "", ErrInvalidDPoPProof("DPoP proof replayed", errors.New("jti already used"))
	}
	return jkt, nil
}

// VerifyProof is Verify in the shape the credential issuer consumes DPoP
// proofs through: proof is the request's single DPoP header value, method
// and url the request's (url as seen from outside: the public base URL),
// accessToken the token the request presents ("" where it presents none).
// It returns the proof key's thumbprint, to compare with the token's
// cnf.jkt (CheckTokenJKT), and Verify's errors.
func (v *DPoPVerifier) VerifyProof(ctx context.Context, proof, method, url, accessToken string) (string, error) {
	return v.Verify(ctx, DPoPRequest{Proof: proof, Method: method, URL: url, AccessToken: accessToken})
}

func (v *DPoPVerifier) now() time.Time {
	if v.Now != nil {
		return v.Now()
	}
	return time.Now()
}

func checkDPoPClaims(c *dpopClaims, r DPoPRequest, now time.Time, window time.Duration) error {
	if c.Jti == "" {
		return ErrInvalidDPoPProof("DPoP proof has no jti", nil)
	}
	if len(c.Jti) > 512 {
		return ErrInvalidDPoPProof("DPoP proof jti too long", nil)
	}
	if c.Htm == "" || c.Htm != r.Method {
		return ErrInvalidDPoPProof("DPoP proof htm does not match the request", fmt.Errorf("htm %q, method %q", truncate(c.Htm), r.Method))
	}
	want, err := NormalizeHTU(r.URL)
	if err != nil {
		return ErrServerError(fmt.Errorf("oidc: request URL: %w", err))
	}
	got, err := NormalizeHTU(c.Htu)
	if err != nil || got != want {
		return ErrInvalidDPoPProof("DPoP proof htu does not match the request", fmt.Errorf("htu %q, want %q", truncate(c.Htu), want))
	}
	if c.Iat == nil {
		return ErrInvalidDPoPProof("DPoP proof has no iat", nil)
	}
	iat := c.Iat.Time()
	if iat.Before(now.Add(-window)) || iat.After(now.Add(window)) {
		return ErrInvalidDPoPProof("DPoP proof iat outside the accepted window", fmt.Errorf("iat %s, now %s", iat.UTC().Format(time.RFC3339), now.UTC().Format(time.RFC3339)))
	}
	if r.AccessToken != "" {
		if c.Ath == nil {
			return ErrInvalidDPoPProof("DPoP proof has no ath", nil)
		}
		sum := sha256.Sum256([]byte(r.AccessToken))
		want := base64.RawURLEncoding.EncodeToString(sum[:])
		if subtle.ConstantTimeCompare([]byte(*c.Ath), []byte(want)) != 1 {
			return ErrInvalidDPoPProof("DPoP proof ath does not match the access token", nil)
		}
	}
	return nil
}

// checkNonce accepts a nonce issued by NewNonce that has not expired, and
// otherwise answers use_dpop_nonce with a fresh one.
func (v *DPoPVerifier) checkNonce(ctx context.Context, nonce *string) error {
	var cause error
	switch {
	case nonce == nil || *nonce == "":
		cause = errors.New("no nonce")
	case len(*nonce) > 128:
		cause = errors.New("nonce too long")
	default:
		_, err := v.State.Get(ctx, nonceKey(*nonce))
		if err == nil {
			return nil
		}
		if !errors.Is(err, storage.ErrNotFound) {
			return ErrServerError(fmt.Errorf("oidc: look up DPoP nonce: %w", err))
		}
		cause = errors.New("unknown or expired nonce")
	}
	fresh, err := v.NewNonce(ctx)
	if err != nil {
		return err
	}
	return ErrUseDPoPNonce(fresh, cause)
}

// NewNonce issues a DPoP nonce valid for NonceLifetime, for the DPoP-Nonce
// response header.
func (v *DPoPVerifier) NewNonce(ctx context.Context) (string, error) {
	if v.State == nil {
		return "", ErrServerError(errors.New("oidc: DPoPVerifier has no State"))
	}
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", ErrServerError(fmt.Errorf("oidc: DPoP nonce: %w", err))
	}
	nonce := base64.RawURLEncoding.EncodeToString(b)
	if err := v.State.Put(ctx, nonceKey(nonce), []byte{1}, orDefault(v.NonceLifetime, DefaultDPoPNonceLifetime)); err != nil {
		return "", ErrServerError(fmt.Errorf("oidc: store DPoP nonce: %w", err))
	}
	return nonce, nil
}

func nonceKey(nonce string) string {
	sum := sha256.Sum256([]byte(nonce))
	return "oidc:dpop-nonce:" + hex.EncodeToString(sum[:])
}

// privateJWKMembers are the JWK members of private or symmetric keys (RFC
// 7518 section 6); a DPoP proof's jwk must have none of them.
var privateJWKMembers = []string{"d", "p", "q", "dp", "dq", "qi", "oth", "k"}

// parseDPoPJWK parses the jwk header of a DPoP proof: a public RSA, EC or
// OKP key with no private members.
func parseDPoPJWK(raw json.RawMessage) (jwk.Key, error) {
	if len(raw) == 0 || string(raw) == "null" {
		return nil, errors.New("no jwk header")
	}
	var members map[string]json.RawMessage
	if err := json.Unmarshal(raw, &members); err != nil {
		return nil, errors.New("jwk is not a JSON object")
	}
	for _, m := range privateJWKMembers {
		if _, ok := members[m]; ok {
			return nil, fmt.Errorf("jwk has private member %q", m)
		}
	}
	key, err := jwk.ParseKey(raw)
	if err != nil {
		return nil, fmt.Errorf("jwk: %w", err)
	}
	switch key.KeyType() {
	case jwa.RSA(), jwa.EC(), jwa.OKP():
	default:
		return nil, fmt.Errorf("jwk kty %s not allowed", key.KeyType())
	}
	if private, err := jwk.IsPrivateKey(key); err != nil || private {
		return nil, errors.New("jwk is not a public key")
	}
	return key, nil
}

// NormalizeHTU returns the form of an http or https URL that DPoP compares
// (RFC 9449 section 4.3, RFC 3986 section 6.2.2 and 6.2.3): scheme and host
// in lower case, the scheme's default port dropped, an empty path as "/",
// no query or fragment. Percent-encoded octets get upper-case hex digits.
func NormalizeHTU(raw string) (string, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return "", errors.New("not a URL")
	}
	scheme := strings.ToLower(u.Scheme)
	if scheme != "https" && scheme != "http" {
		return "", errors.New("not an http(s) URL")
	}
	if u.Opaque != "" || u.User != nil || u.Host == "" {
		return "", errors.New("not an absolute http(s) URL with a host")
	}
	host := strings.ToLower(u.Hostname())
	if host == "" {
		return "", errors.New("no host")
	}
	port := u.Port()
	if (scheme == "https" && port == "443") || (scheme == "http" && port == "80") {
		port = ""
	}
	if port != "" {
		host = net.JoinHostPort(host, port)
	} else if strings.Contains(host, ":") {
		host = "[" + host + "]"
	}
	path := upperPercent(u.EscapedPath())
	if path == "" {
		path = "/"
	}
	return scheme + "://" + host + path, nil
}

// upperPercent upper-cases the hex digits of percent-encodings.
func upperPercent(s string) string {
	if !strings.Contains(s, "%") {
		return s
	}
	b := []byte(s)
	for i := 0; i+2 < len(b); i++ {
		if b[i] == '%' {
			b[i+1] = upperHex(b[i+1])
			b[i+2] = upperHex(b[i+2])
			i += 2
		}
	}
	return string(b)
}

func upperHex(c byte) byte {
	if c >= 'a' && c <= 'f' {
		return c - 'a' + 'A'
	}
	return c
}

// CheckAuthorizeJKT checks, at the token endpoint, that the proof's key
// is the one the authorization request bound the code to with dpop_jkt
// (RFC 9449 section 10). An empty dpopJKT means the code is not bound.
// A mismatch is invalid_dpop_proof.
func CheckAuthorizeJKT(dpopJKT, proofJKT string) error {
	if dpopJKT == "" {
		return nil
	}
	if subtle.ConstantTimeCompare([]byte(dpopJKT), []byte(proofJKT)) != 1 {
		return ErrInvalidDPoPProof("DPoP proof key does not match dpop_jkt", nil)
	}
	return nil
}

// CheckTokenJKT checks, at a protected resource, that the proof's key is the
// one the access token is bound to by cnf.jkt (RFC 9449 section 7.1).
// A token without cnf.jkt presented with a DPoP proof, or a mismatch, is
// invalid_token.
func CheckTokenJKT(cnfJKT, proofJKT string) error {
	if cnfJKT == "" {
		return ErrInvalidToken("access token is not DPoP-bound", nil)
	}
	if subtle.ConstantTimeCompare([]byte(cnfJKT), []byte(proofJKT)) != 1 {
		return ErrInvalidToken("access token is not bound to the DPoP proof key", nil)
	}
	return nil
}
