package oidc

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rsa"
	"errors"
	"fmt"
	"maps"
	"mime"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"
	"github.com/lestrrat-go/jwx/v3/jwa"
	"github.com/lestrrat-go/jwx/v3/jwe"
	"github.com/lestrrat-go/jwx/v3/jwk"

	"github.com/sanad-id/sanad/keys"
	"github.com/sanad-id/sanad/storage"
)

// Media types of userinfo responses.
const (
	mediaTypeJWT  = "application/jwt"
	mediaTypeJSON = "application/json"
)

// handleUserinfo serves the userinfo endpoint (OpenID Connect Core section
// 5.3) for GET and POST. The access token must be one for the issuer with
// the openid scope. The response is, by the client's registration, a JWS
// signed with its ID token algorithm (the default, and eSignet's), that JWS
// encrypted to the client (JWE), or plain JSON; a JWS client whose Accept
// header asks for application/json alone gets JSON too.
func (p *Provider) handleUserinfo(c *gin.Context) {
	ctx := c.Request.Context()
	rec, _, err := p.checkAccessToken(c, p.issuer)
	if err != nil {
		p.renderResourceError(c, err, "")
		return
	}
	if !slices.Contains(rec.Scopes, "openid") {
		p.renderResourceError(c, ErrInsufficientScope("the access token lacks the openid scope"), "openid")
		return
	}
	cl, err := p.clients.get(ctx, rec.ClientID)
	if errors.Is(err, storage.ErrNotFound) || err == nil && !cl.active() {
		p.renderResourceError(c, ErrInvalidToken("the client of the access token is no longer active", err), "")
		return
	}
	if err != nil {
		p.renderResourceError(c, ErrServerError(err), "")
		return
	}
	claims, err := p.userinfoClaims(ctx, rec)
	if err != nil {
		p.renderResourceError(c, err, "")
		return
	}
	c.Header("Cache-Control", "no-store")
	c.Header("Pragma", "no-cache")
	c.Header("Vary", "Accept")
	kind := cl.Config.UserinfoResponseType
	if kind == "" {
		kind = UserinfoJWS
	}
	if kind == UserinfoJSON || kind == UserinfoJWS && acceptsOnlyJSON(c.Request.Header.Values("Accept")) {
		c.JSON(http.StatusOK, claims)
		return
	}
	body, err := p.signUserinfo(ctx, cl, claims)
	if err == nil && kind == UserinfoJWE {
		body, err = encryptUserinfo(cl, body)
	}
	if err != nil {
		p.renderResourceError(c, err, "")
		return
	}
	c.Data(http.StatusOK, mediaTypeJWT, body)
}

// userinfoClaims are the claims of a userinfo response: sub and the claims
// the resident released, with their language variants.
func (p *Provider) userinfoClaims(ctx context.Context, rec *tokenRecord) (map[string]any, error) {
	claims := map[string]any{}
	if len(rec.AcceptedClaims) > 0 && rec.Claims != nil {
		var values map[string]any
		if err := rec.Claims.open(ctx, p.cfg.Sealer, &values, rec.ClientID); err != nil {
			return nil, ErrServerError(err)
		}
		maps.Copy(claims, selectClaims(values, rec.AcceptedClaims))
	}
	for _, name := range idTokenProtocolClaims {
		delete(claims, name)
	}
	claims["sub"] = rec.Subject
	return claims, nil
}

// signUserinfo signs a userinfo response for the client with its ID token
// algorithm, adding iss, aud and iat (Core section 5.3.2).
func (p *Provider) signUserinfo(ctx context.Context, cl *client, claims map[string]any) ([]byte, error) {
	alg, err := p.idTokenAlg(cl)
	if err != nil {
		return nil, err
	}
	signed := maps.Clone(claims)
	signed["iss"] = p.issuer
	signed["aud"] = cl.ID
	signed["iat"] = p.now().Unix()
	tok, err := p.cfg.Keys.SignJWT(ctx, keys.PurposeOIDCSigning, alg, signed, nil)
	if err != nil {
		return nil, ErrServerError(fmt.Errorf("oidc: sign userinfo: %w", err))
	}
	return []byte(tok), nil
}

// encryptUserinfo nests a signed userinfo response in a JWE (cty JWT,
// A256GCM) encrypted to the client's userinfo encryption key.
func encryptUserinfo(cl *client, jws []byte) ([]byte, error) {
	key, alg, err := userinfoEncryptionKey(cl)
	if err != nil {
		return nil, ErrServerError(fmt.Errorf("oidc: client %q userinfo encryption key: %w", cl.ID, err))
	}
	var pub any
	if err := jwk.Export(key, &pub); err != nil {
		return nil, ErrServerError(fmt.Errorf("oidc: client %q userinfo encryption key: %w", cl.ID, err))
	}
	kalg, ok := jwa.LookupKeyEncryptionAlgorithm(alg)
	if !ok {
		return nil, ErrServerError(fmt.Errorf("oidc: key encryption %s not available", alg))
	}
	h := jwe.NewHeaders()
	if err := h.Set(jwe.ContentTypeKey, "JWT"); err != nil {
		return nil, ErrServerError(err)
	}
	if kid, ok := key.KeyID(); ok && kid != "" {
		if err := h.Set(jwe.KeyIDKey, kid); err != nil {
			return nil, ErrServerError(err)
		}
	}
	out, err := jwe.Encrypt(jws, jwe.WithKey(kalg, pub), jwe.WithContentEncryption(jwa.A256GCM()),
		jwe.WithProtectedHeaders(h), jwe.WithCompact())
	if err != nil {
		return nil, ErrServerError(fmt.Errorf("oidc: encrypt userinfo for %q: %w", cl.ID, err))
	}
	return out, nil
}

// userinfoEncryptionKey returns the key userinfo is encrypted to and its
// key management algorithm: the client's userinfo_encryption_jwk, or else
// its registered key when that is RSA or EC P-256, as in eSignet.
func userinfoEncryptionKey(cl *client) (jwk.Key, string, error) {
	if cl.Config.UserinfoEncryptionJWK != nil {
		return parseEncryptionJWK(*cl.Config.UserinfoEncryptionJWK)
	}
	for i := range cl.Keys.Len() {
		k, ok := cl.Keys.Key(i)
		if !ok {
			continue
		}
		pk, err := k.PublicKey()
		if err != nil {
			continue
		}
		var pub any
		if err := jwk.Export(pk, &pub); err != nil {
			continue
		}
		switch pub := pub.(type) {
		case *rsa.PublicKey:
			if pub.N.BitLen() >= minClientRSABits {
				return pk, userinfoAlgRSA, nil
			}
		case *ecdsa.PublicKey:
			if pub.Curve == elliptic.P256() {
				return pk, userinfoAlgEC, nil
			}
		}
	}
	return nil, "", errors.New("no userinfo_encryption_jwk and no RSA or EC P-256 registered key")
}

// acceptsOnlyJSON reports whether the Accept header values ask for
// application/json and nothing else (q=0 ranges are refusals).
func acceptsOnlyJSON(values []string) bool {
	seen := false
	for _, v := range values {
		for _, r := range strings.Split(v, ",") {
			r = strings.TrimSpace(r)
			if r == "" {
				continue
			}
			mt, params, err := mime.ParseMediaType(r)
			if err != nil {
				return false
			}
			if q, ok := params["q"]; ok {
				if f, err := strconv.ParseFloat(q, 64); err == nil && f == 0 {
					continue
				}
			}
			if mt != mediaTypeJSON {
				return false
			}
			seen = true
		}
	}
	return seen
}
