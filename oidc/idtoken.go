package oidc

import (
	"context"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"fmt"
	"hash"
	"maps"
	"slices"
	"strings"

	"github.com/sanad-id/sanad/keys"
)

// defaultIDTokenAlg is OpenID Connect's default ID token algorithm
// (Core section 3.1.3.7 and Registration's id_token_signed_response_alg).
const defaultIDTokenAlg = keys.AlgRS256

// idTokenTyp is the typ header of ID tokens.
const idTokenTyp = "JWT"

// idTokenProtocolClaims are the claims of an ID token that only the
// provider sets.
var idTokenProtocolClaims = []string{
	"iss", "sub", "aud", "iat", "exp", "nbf", "jti", "auth_time", "nonce", "acr", "amr", "azp", "sid",
	"at_hash", "c_hash", "cnf",
}

// idTokenAlg returns the algorithm the client's ID tokens (and signed
// userinfo responses) are signed with: its id_token_signed_response_alg
// or RS256. An algorithm the key service does not offer is a server_error:
// the deployment's key sets do not match the client's registration.
func (p *Provider) idTokenAlg(cl *client) (string, error) {
	alg := cl.Config.IDTokenSignedResponseAlg
	if alg == "" {
		alg = defaultIDTokenAlg
	}
	if !slices.Contains(p.cfg.Keys.Algorithms(keys.PurposeOIDCSigning), alg) {
		return "", ErrServerError(fmt.Errorf("oidc: client %q wants ID tokens signed with %s, which the %s key set does not offer",
			cl.ID, alg, keys.PurposeOIDCSigning))
	}
	return alg, nil
}

// idToken signs the ID token of a grant (OpenID Connect Core section 2 and
// 3.1.3.6): the protocol claims, at_hash of accessToken, and the user
// claims the claims parameter asked in the ID token, with their language
// variants.
func (p *Provider) idToken(ctx context.Context, cl *client, g *codeGrant, accessToken string) (string, error) {
	alg, err := p.idTokenAlg(cl)
	if err != nil {
		return "", err
	}
	claims := map[string]any{}
	if len(g.IDTokenClaims) > 0 && g.Claims != nil {
		var values map[string]any
		if err := g.Claims.open(ctx, p.cfg.Sealer, &values, cl.ID); err != nil {
			return "", ErrServerError(err)
		}
		maps.Copy(claims, selectClaims(values, g.IDTokenClaims))
	}
	// No user claim may stand in for a protocol claim.
	for _, name := range idTokenProtocolClaims {
		delete(claims, name)
	}
	now := p.now()
	claims["iss"] = p.issuer
	claims["sub"] = g.Subject
	claims["aud"] = cl.ID
	claims["iat"] = now.Unix()
	claims["exp"] = now.Add(p.cfg.IDTokenTTL).Unix()
	claims["auth_time"] = g.AuthTime
	claims["acr"] = g.ACR
	claims["at_hash"] = tokenHash(alg, accessToken)
	if g.Nonce != "" {
		claims["nonce"] = g.Nonce
	}
	if len(g.AMR) > 0 {
		claims["amr"] = g.AMR
	}
	if g.SID != "" {
		claims["sid"] = g.SID
	}
	tok, err := p.cfg.Keys.SignJWT(ctx, keys.PurposeOIDCSigning, alg, claims, keys.Header{"typ": idTokenTyp})
	if err != nil {
		return "", ErrServerError(fmt.Errorf("oidc: sign ID token: %w", err))
	}
	return tok, nil
}

// tokenHash is at_hash (OpenID Connect Core section 3.1.3.6): the
// base64url left half of the hash of the token's ASCII, with the hash of
// the signature algorithm: SHA-256 for ES256, RS256 and PS256, SHA-512 for
// EdDSA (as coreos/go-oidc verifies it).
func tokenHash(alg, token string) string {
	var h hash.Hash
	if alg == keys.AlgEdDSA {
		h = sha512.New()
	} else {
		h = sha256.New()
	}
	h.Write([]byte(token))
	sum := h.Sum(nil)
	return base64.RawURLEncoding.EncodeToString(sum[:len(sum)/2])
}

// selectClaims returns the values of the claims names from values, each
// with its language variants ("name#fra" for "name").
func selectClaims(values map[string]any, names []string) map[string]any {
	out := map[string]any{}
	for _, name := range names {
		if v, ok := values[name]; ok {
			out[name] = v
		}
		prefix := name + "#"
		for k, v := range values {
			if strings.HasPrefix(k, prefix) {
				out[k] = v
			}
		}
	}
	return out
}
