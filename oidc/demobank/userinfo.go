package demobank

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"mime"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/lestrrat-go/jwx/v3/jwk"
)

// userinfo is a verified userinfo response.
type userinfo struct {
	Claims map[string]any
	Signed bool
}

// fetchUserinfo calls the userinfo endpoint with the DPoP-bound access
// token (Authorization: DPoP, a proof with ath; on use_dpop_nonce doDPoP
// retries once) and verifies the answer:
//
//   - application/jwt: a JWS (Sanad's default, eSignet's only form), whose
//     signature is verified with the provider's JWKS under an asymmetric
//     algorithm discovery lists, and whose iss must be the issuer and aud
//     this client; a JWE (five parts) is refused, since the bank registers
//     userinfo_response_type JWS and holds no decryption key;
//   - application/json: plain claims, trusted as coming over TLS from the
//     endpoint the token was sent to (OpenID Connect Core section 5.3.2).
//
// Either way sub must be the ID token's sub (Core section 5.3.4), else the
// claims could be someone else's.
func (b *Bank) fetchUserinfo(ctx context.Context, d *discovered, dpopKey jwk.Key, accessToken, subject string) (*userinfo, error) {
	fail := func(err error) (*userinfo, error) { return nil, &flowError{Stage: "userinfo", Cause: err} }
	endpoint := d.meta.UserinfoEndpoint
	resp, err := b.doDPoP(ctx, dpopKey, dpopRequest{
		Method:      http.MethodGet,
		URL:         endpoint,
		AccessToken: accessToken,
		Build: func(ctx context.Context) (*http.Request, error) {
			req, err := http.NewRequestWithContext(ctx, http.MethodGet, endpoint, nil)
			if err != nil {
				return nil, fmt.Errorf("demobank: userinfo request: %w", err)
			}
			req.Header.Set("Accept", "application/jwt, application/json;q=0.5")
			return req, nil
		},
	})
	if err != nil {
		return fail(err)
	}
	if resp.Status != http.StatusOK {
		e := &flowError{Stage: "userinfo", Status: resp.Status, OAuth: oauthErrorOf(resp)}
		if e.OAuth.Code == "" {
			for _, v := range resp.Header.Values("WWW-Authenticate") {
				if code := authParam(v, "error"); code != "" {
					e.OAuth = oauthError{Code: truncate(code, 64), Description: truncate(authParam(v, "error_description"), 200)}
				}
			}
		}
		return nil, e
	}
	mt, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type"))
	var ui userinfo
	switch mt {
	case "application/jwt":
		claims, err := b.verifyUserinfoJWT(ctx, d, strings.TrimSpace(string(resp.Body)))
		if err != nil {
			return fail(err)
		}
		ui = userinfo{Claims: claims, Signed: true}
	case "application/json":
		claims, err := decodeObject(resp.Body)
		if err != nil {
			return fail(err)
		}
		ui = userinfo{Claims: claims}
	default:
		return fail(fmt.Errorf("userinfo response is %q", truncate(mt, 64)))
	}
	if sub, _ := ui.Claims["sub"].(string); sub == "" || sub != subject {
		return fail(errors.New("userinfo sub is not the ID token's sub"))
	}
	return &ui, nil
}

// verifyUserinfoJWT verifies a signed userinfo response and returns its
// claims.
func (b *Bank) verifyUserinfoJWT(ctx context.Context, d *discovered, compact string) (map[string]any, error) {
	switch strings.Count(compact, ".") {
	case 2:
	case 4:
		return nil, errors.New("userinfo is encrypted (JWE); register userinfo_response_type JWS, or decrypt with the client's encryption key first")
	default:
		return nil, errors.New("userinfo is not a compact JWS")
	}
	// Name the accepted algorithms ourselves: RemoteKeySet.VerifySignature
	// takes any asymmetric one.
	alg, err := jwsAlg(compact)
	if err != nil {
		return nil, err
	}
	allowed := intersect(d.meta.UserinfoSigningAlgs, signingAlgs)
	if len(allowed) == 0 {
		allowed = intersect(d.meta.IDTokenSigningAlgs, signingAlgs)
	}
	if !slices.Contains(allowed, alg) {
		return nil, fmt.Errorf("userinfo signed with %q, not one of %v", truncate(alg, 16), allowed)
	}
	payload, err := d.keys.VerifySignature(ctx, compact)
	if err != nil {
		return nil, fmt.Errorf("userinfo signature: %w", err)
	}
	claims, err := decodeObject(payload)
	if err != nil {
		return nil, err
	}
	if iss, _ := claims["iss"].(string); iss != b.issuer {
		return nil, errors.New("userinfo iss is not the issuer")
	}
	if !audienceHas(claims["aud"], b.clientID) {
		return nil, errors.New("userinfo aud does not name this client")
	}
	if exp, ok := claims["exp"].(json.Number); ok {
		if sec, err := exp.Int64(); err != nil || !b.now().Before(time.Unix(sec, 0).Add(clockSkew)) {
			return nil, errors.New("userinfo has expired")
		}
	}
	return claims, nil
}

// jwsAlg returns the alg of a compact JWS's protected header.
func jwsAlg(compact string) (string, error) {
	head, _, _ := strings.Cut(compact, ".")
	raw, err := base64.RawURLEncoding.DecodeString(head)
	if err != nil {
		return "", errors.New("JWS header is not base64url")
	}
	var h struct {
		Alg string `json:"alg"`
	}
	if err := json.Unmarshal(raw, &h); err != nil {
		return "", errors.New("JWS header is not JSON")
	}
	return h.Alg, nil
}

// audienceHas reports whether an aud claim (a string or an array of
// strings) names id.
func audienceHas(aud any, id string) bool {
	switch a := aud.(type) {
	case string:
		return a == id
	case []any:
		for _, v := range a {
			if s, ok := v.(string); ok && s == id {
				return true
			}
		}
	}
	return false
}

// decodeObject decodes one JSON object, numbers kept as json.Number.
func decodeObject(b []byte) (map[string]any, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var m map[string]any
	if err := dec.Decode(&m); err != nil || m == nil {
		return nil, errors.New("not a JSON object")
	}
	if dec.More() {
		return nil, errors.New("trailing data after the JSON object")
	}
	return m, nil
}
