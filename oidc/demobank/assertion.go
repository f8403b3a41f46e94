package demobank

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"time"

	"github.com/lestrrat-go/jwx/v3/jwa"
	"github.com/lestrrat-go/jwx/v3/jwk"
	"github.com/lestrrat-go/jwx/v3/jws"
)

// clientAssertionType is the client_assertion_type of private_key_jwt
// (RFC 7523 section 2.2).
const clientAssertionType = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"

// assertionLifetime is how long a client assertion is valid: long enough
// for one request, short enough that a leaked one is soon useless.
const assertionLifetime = 60 * time.Second

// assertionClaims are the claims of a client assertion (RFC 7523 section 3,
// OpenID Connect Core section 9).
type assertionClaims struct {
	Iss string `json:"iss"`
	Sub string `json:"sub"`
	Aud string `json:"aud"`
	Jti string `json:"jti"`
	Iat int64  `json:"iat"`
	Exp int64  `json:"exp"`
}

// clientAssertion returns a private_key_jwt client assertion: signed ES256
// with key (its kid in the header), iss = sub = clientID, aud = audience,
// a random jti, iat now and exp 60 s later. Sanad accepts the issuer
// identifier and the token endpoint URL as aud; the bank sends the issuer
// identifier, which FAPI 2.0 requires and which suits every endpoint (PAR,
// token), so one builder serves both.
func clientAssertion(key jwk.Key, clientID, audience string, now time.Time) (string, error) {
	jti, err := randomString(32)
	if err != nil {
		return "", err
	}
	c := assertionClaims{
		Iss: clientID,
		Sub: clientID,
		Aud: audience,
		Jti: jti,
		Iat: now.Unix(),
		Exp: now.Add(assertionLifetime).Unix(),
	}
	h := jws.NewHeaders()
	if err := h.Set(jws.TypeKey, "JWT"); err != nil {
		return "", fmt.Errorf("demobank: assertion header: %w", err)
	}
	return signJSON(key, c, h)
}

// signJSON signs the JSON of v with key under ES256 and the protected
// headers h, as a compact JWS. A kid of key goes into the header.
func signJSON(key jwk.Key, v any, h jws.Headers) (string, error) {
	payload, err := json.Marshal(v)
	if err != nil {
		return "", fmt.Errorf("demobank: encode claims: %w", err)
	}
	out, err := jws.Sign(payload, jws.WithKey(jwa.ES256(), key, jws.WithProtectedHeaders(h)))
	if err != nil {
		return "", fmt.Errorf("demobank: sign: %w", err)
	}
	return string(out), nil
}

// randomString returns n random bytes, base64url without padding.
func randomString(n int) (string, error) {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("demobank: random: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}
