package issuertest

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/lestrrat-go/jwx/v3/jwk"

	"github.com/sanad-id/sanad/credential/did"
	"github.com/sanad-id/sanad/issuer"
	"github.com/sanad-id/sanad/oidc/oidctest"
)

// Wallet is a wallet's back channel to the credential issuer: the nonce,
// credential and notification endpoints, with an access token sent in the
// Authorization header (Bearer, or DPoP with a fresh proof of DPoPKey).
type Wallet struct {
	// Issuer is the credential issuer identifier.
	Issuer string
	// HTTP is the client; nil: http.DefaultClient.
	HTTP *http.Client
	// DPoPKey signs the DPoP proofs of DPoP-bound tokens.
	DPoPKey jwk.Key
}

func (w *Wallet) client() *http.Client {
	if w.HTTP != nil {
		return w.HTTP
	}
	return http.DefaultClient
}

// Nonce asks the nonce endpoint for a c_nonce.
func (w *Wallet) Nonce(ctx context.Context) (string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, w.Issuer+issuer.PathNonce, nil)
	if err != nil {
		return "", err
	}
	resp, err := send(w.client(), req)
	if err != nil {
		return "", err
	}
	if resp.Status != http.StatusOK {
		return "", resp.Err(issuer.PathNonce)
	}
	nonce, _ := resp.JSON()["c_nonce"].(string)
	if nonce == "" {
		return "", &oidctest.Error{Endpoint: issuer.PathNonce, Status: resp.Status, Code: oidctest.CodeBadResponse, Description: "no c_nonce"}
	}
	return nonce, nil
}

// Credential posts a credential request (a value marshalled to JSON) with
// an access token of tokenType ("Bearer" or "DPoP") and returns the answer
// whatever its status.
func (w *Wallet) Credential(ctx context.Context, accessToken, tokenType string, request any) (*Response, error) {
	body, err := json.Marshal(request)
	if err != nil {
		return nil, err
	}
	return w.Post(ctx, issuer.PathCredential, accessToken, tokenType, "application/json", body, nil)
}

// Notification posts a notification request.
func (w *Wallet) Notification(ctx context.Context, accessToken, tokenType, notificationID, event string) (*Response, error) {
	body, err := json.Marshal(map[string]string{"notification_id": notificationID, "event": event})
	if err != nil {
		return nil, err
	}
	return w.Post(ctx, issuer.PathNotification, accessToken, tokenType, "application/json", body, nil)
}

// Post posts body to an issuer endpoint (path relative to the issuer
// identifier, query included) with an access token of tokenType in the
// Authorization header (none when accessToken is empty) and a DPoP proof of
// DPoPKey for a DPoP token. header adds or replaces headers.
func (w *Wallet) Post(ctx context.Context, path, accessToken, tokenType, contentType string, body []byte, header http.Header) (*Response, error) {
	u := w.Issuer + path
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if accessToken != "" {
		if strings.EqualFold(tokenType, "DPoP") {
			if w.DPoPKey == nil {
				return nil, errors.New("issuertest: a DPoP token needs Wallet.DPoPKey")
			}
			htu, _, _ := strings.Cut(u, "?")
			proof, err := oidctest.DPoPProof(w.DPoPKey, http.MethodPost, htu, accessToken, "")
			if err != nil {
				return nil, err
			}
			req.Header.Set("Authorization", "DPoP "+accessToken)
			req.Header.Set("DPoP", proof)
		} else {
			req.Header.Set("Authorization", "Bearer "+accessToken)
		}
	}
	for k, v := range header {
		req.Header[k] = v
	}
	return send(w.client(), req)
}

// ---- Key proofs

// Proof describes a key proof JWT (OpenID4VCI 1.0 appendix F.1). Its zero
// value, with Key, Audience and Nonce set, is a valid proof of the key
// named by jwk.
type Proof struct {
	// Key is the holder's private key.
	Key jwk.Key
	// Audience is the credential issuer identifier (aud).
	Audience string
	// Nonce is the c_nonce; empty: no nonce claim.
	Nonce string
	// ClientID is iss; empty: no iss (anonymous pre-authorized access).
	ClientID string
	// IssuedAt is iat; zero: now.
	IssuedAt time.Time
	// Binding names the key in the header: "jwk" ("" too), "did:jwk" or
	// "did:key" (in kid).
	Binding string
	// SignWith signs the proof with this key instead of Key, whose public
	// key the header still names: a proof of a key the wallet does not hold.
	SignWith jwk.Key
	// Header sets header members after the others (typ, alg, jwk, ...); a
	// nil value removes one.
	Header map[string]any
}

// Sign returns the proof JWT.
func (p Proof) Sign() (string, error) {
	if p.Key == nil {
		return "", errors.New("issuertest: Proof.Key is nil")
	}
	signer := p.Key
	if p.SignWith != nil {
		signer = p.SignWith
	}
	alg, err := oidctest.KeyAlg(signer)
	if err != nil {
		return "", err
	}
	pub, err := publicJWK(p.Key)
	if err != nil {
		return "", err
	}
	header := map[string]any{"typ": issuer.ProofTyp, "alg": alg.String()}
	switch p.Binding {
	case "", issuer.BindingJWK:
		header["jwk"] = pub
	case issuer.BindingDIDJWK:
		id, err := did.JWKDID(pub)
		if err != nil {
			return "", err
		}
		header["kid"] = id + "#0"
	case issuer.BindingDIDKey:
		var raw any
		if err := jwk.Export(pub, &raw); err != nil {
			return "", err
		}
		id, err := did.KeyDID(raw)
		if err != nil {
			return "", err
		}
		header["kid"] = id + "#" + strings.TrimPrefix(id, "did:key:")
	default:
		return "", fmt.Errorf("issuertest: binding %q", p.Binding)
	}
	for k, v := range p.Header {
		if v == nil {
			delete(header, k)
		} else {
			header[k] = v
		}
	}
	iat := p.IssuedAt
	if iat.IsZero() {
		iat = time.Now()
	}
	claims := map[string]any{"aud": p.Audience, "iat": iat.Unix()}
	if p.Nonce != "" {
		claims["nonce"] = p.Nonce
	}
	if p.ClientID != "" {
		claims["iss"] = p.ClientID
	}
	return SignJWS(signer, header, claims)
}

// SignJWS signs claims with key under exactly the protected header given,
// byte for byte (alg included: it must be key's algorithm, ES256, EdDSA,
// RS256 or PS256, for the signature to verify).
func SignJWS(key jwk.Key, header, claims map[string]any) (string, error) {
	h, err := json.Marshal(header)
	if err != nil {
		return "", err
	}
	payload, err := json.Marshal(claims)
	if err != nil {
		return "", err
	}
	input := base64.RawURLEncoding.EncodeToString(h) + "." + base64.RawURLEncoding.EncodeToString(payload)
	alg, err := oidctest.KeyAlg(key)
	if err != nil {
		return "", err
	}
	var raw any
	if err := jwk.Export(key, &raw); err != nil {
		return "", err
	}
	sig, err := signRaw(alg.String(), raw, []byte(input))
	if err != nil {
		return "", err
	}
	return input + "." + base64.RawURLEncoding.EncodeToString(sig), nil
}

// signRaw signs the JWS signing input with a private key.
func signRaw(alg string, key any, input []byte) ([]byte, error) {
	sum := sha256.Sum256(input)
	switch k := key.(type) {
	case *ecdsa.PrivateKey:
		if alg != "ES256" || k.Curve != elliptic.P256() {
			return nil, fmt.Errorf("issuertest: cannot sign %s with an EC key of %s", alg, k.Curve.Params().Name)
		}
		r, s, err := ecdsa.Sign(rand.Reader, k, sum[:])
		if err != nil {
			return nil, err
		}
		out := make([]byte, 64)
		r.FillBytes(out[:32])
		s.FillBytes(out[32:])
		return out, nil
	case ed25519.PrivateKey:
		return ed25519.Sign(k, input), nil
	case *ed25519.PrivateKey:
		return ed25519.Sign(*k, input), nil
	case *rsa.PrivateKey:
		if alg == "PS256" {
			return rsa.SignPSS(rand.Reader, k, crypto.SHA256, sum[:], &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthEqualsHash})
		}
		return rsa.SignPKCS1v15(rand.Reader, k, crypto.SHA256, sum[:])
	}
	return nil, fmt.Errorf("issuertest: cannot sign with a %T", key)
}

// Unsigned returns an unsecured JWT (alg none, RFC 7519 section 6): the
// header and claims, and an empty signature.
func Unsigned(header, claims map[string]any) (string, error) {
	h, err := json.Marshal(header)
	if err != nil {
		return "", err
	}
	c, err := json.Marshal(claims)
	if err != nil {
		return "", err
	}
	return base64.RawURLEncoding.EncodeToString(h) + "." + base64.RawURLEncoding.EncodeToString(c) + ".", nil
}

// NewKey generates an ES256 holder key.
func NewKey() (jwk.Key, error) {
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	return jwk.Import(priv)
}

// publicJWK is key's bare public key: no kid, alg or use.
func publicJWK(key jwk.Key) (jwk.Key, error) {
	pub, err := key.PublicKey()
	if err != nil {
		return nil, err
	}
	for _, k := range []string{jwk.KeyIDKey, jwk.AlgorithmKey, jwk.KeyUsageKey} {
		_ = pub.Remove(k)
	}
	return pub, nil
}

// ---- Credential requests

// Request is a credential request of OpenID4VCI 1.0: by configuration or
// by identifier, with proofs.jwt.
func Request(configurationID string, proofs ...string) map[string]any {
	r := map[string]any{"credential_configuration_id": configurationID}
	if len(proofs) > 0 {
		r["proofs"] = map[string]any{"jwt": proofs}
	}
	return r
}

// RequestByIdentifier is a 1.0 credential request by credential_identifier.
func RequestByIdentifier(identifier string, proofs ...string) map[string]any {
	r := map[string]any{"credential_identifier": identifier}
	if len(proofs) > 0 {
		r["proofs"] = map[string]any{"jwt": proofs}
	}
	return r
}

// Draft13SDJWT is a draft-13 request of an SD-JWT VC: format, vct and a
// single proof.
func Draft13SDJWT(format, vct, proof string) map[string]any {
	return map[string]any{"format": format, "vct": vct, "proof": map[string]any{"proof_type": "jwt", "jwt": proof}}
}

// Draft13JWTVC is a draft-13 request of a jwt_vc_json credential: format,
// credential_definition.type and a single proof.
func Draft13JWTVC(types []string, proof string) map[string]any {
	return map[string]any{
		"format":                "jwt_vc_json",
		"credential_definition": map[string]any{"type": types},
		"proof":                 map[string]any{"proof_type": "jwt", "jwt": proof},
	}
}
