package demobank

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/lestrrat-go/jwx/v3/jwk"
	"github.com/lestrrat-go/jwx/v3/jws"
)

// dpopClaims are the claims of a DPoP proof (RFC 9449 section 4.2).
type dpopClaims struct {
	Jti   string `json:"jti"`
	Htm   string `json:"htm"`
	Htu   string `json:"htu"`
	Iat   int64  `json:"iat"`
	Ath   string `json:"ath,omitempty"`
	Nonce string `json:"nonce,omitempty"`
}

// dpopProof returns a DPoP proof for one request: typ dpop+jwt, alg ES256,
// the public part of key in the jwk header; claims jti (random), htm, htu
// (the URL without query or fragment), iat, and, when given, ath (the
// base64url SHA-256 of the access token the request presents) and the
// server's nonce.
func dpopProof(key jwk.Key, method, htu, accessToken, nonce string, now time.Time) (string, error) {
	pub, err := key.PublicKey()
	if err != nil {
		return "", fmt.Errorf("demobank: DPoP public key: %w", err)
	}
	jti, err := randomString(24)
	if err != nil {
		return "", err
	}
	c := dpopClaims{Jti: jti, Htm: method, Htu: stripQuery(htu), Iat: now.Unix(), Nonce: nonce}
	if accessToken != "" {
		c.Ath = accessTokenHash(accessToken)
	}
	h := jws.NewHeaders()
	if err := h.Set(jws.TypeKey, "dpop+jwt"); err != nil {
		return "", fmt.Errorf("demobank: DPoP header: %w", err)
	}
	if err := h.Set(jws.JWKKey, pub); err != nil {
		return "", fmt.Errorf("demobank: DPoP header: %w", err)
	}
	return signJSON(key, c, h)
}

// accessTokenHash is the ath of a DPoP proof: base64url(SHA-256(token)).
func accessTokenHash(token string) string {
	sum := sha256.Sum256([]byte(token))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// stripQuery drops the query and fragment of a URL, as htu wants.
func stripQuery(u string) string {
	if i := strings.IndexAny(u, "?#"); i >= 0 {
		return u[:i]
	}
	return u
}

// dpopNonces remembers the last DPoP-Nonce each endpoint sent, so that the
// next proof to that endpoint carries it and usually avoids the
// use_dpop_nonce round trip. Nonces are the server's, not secrets.
type dpopNonces struct {
	mu sync.Mutex
	m  map[string]string // htu → nonce
}

func (n *dpopNonces) get(htu string) string {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.m[htu]
}

func (n *dpopNonces) set(htu, nonce string) {
	if nonce == "" || len(nonce) > 512 {
		return
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.m == nil {
		n.m = make(map[string]string)
	}
	n.m[htu] = nonce
}

// dpopRequest is one request to send with a DPoP proof.
type dpopRequest struct {
	Method string
	URL    string
	// AccessToken is presented as "Authorization: DPoP <token>" and hashed
	// into the proof's ath; empty at the token endpoint.
	AccessToken string
	// Build returns the request without its DPoP and Authorization
	// headers. It is called for each attempt, since a retry must not
	// repeat anything single-use (the client assertion's jti).
	Build func(ctx context.Context) (*http.Request, error)
}

// dpopResponse is a response read whole (bodies are small and bounded).
type dpopResponse struct {
	Status int
	Header http.Header
	Body   []byte
}

// maxResponseBody bounds what is read of any back-channel response.
const maxResponseBody = 1 << 20

// doDPoP sends r with a DPoP proof signed with key. If the server answers
// use_dpop_nonce (400 with that error at the token endpoint, 401 with
// WWW-Authenticate error="use_dpop_nonce" at a resource, RFC 9449 sections
// 8 and 9) and a DPoP-Nonce header with a nonce different from the one
// sent, the request is rebuilt and sent once more with a fresh proof
// carrying the nonce. Nonces the server sends are remembered for the next
// request to the same URL.
func (b *Bank) doDPoP(ctx context.Context, key jwk.Key, r dpopRequest) (*dpopResponse, error) {
	htu := stripQuery(r.URL)
	nonce := b.nonces.get(htu)
	for attempt := 0; ; attempt++ {
		req, err := r.Build(ctx)
		if err != nil {
			return nil, err
		}
		proof, err := dpopProof(key, r.Method, htu, r.AccessToken, nonce, b.now())
		if err != nil {
			return nil, err
		}
		req.Header.Set("DPoP", proof)
		if r.AccessToken != "" {
			req.Header.Set("Authorization", "DPoP "+r.AccessToken)
		}
		resp, err := b.send(req)
		if err != nil {
			return nil, err
		}
		fresh := resp.Header.Get("DPoP-Nonce")
		b.nonces.set(htu, fresh)
		if attempt == 0 && fresh != "" && fresh != nonce && asksForNonce(resp) {
			b.log.Debug("demobank: retrying with the server's DPoP nonce", "endpoint", htu)
			nonce = fresh
			continue
		}
		return resp, nil
	}
}

// send sends req with the back-channel client and reads the response.
func (b *Bank) send(req *http.Request) (*dpopResponse, error) {
	resp, err := b.client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("demobank: %s %s: %w", req.Method, stripQuery(req.URL.String()), err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxResponseBody+1))
	if err != nil {
		return nil, fmt.Errorf("demobank: %s %s: read response: %w", req.Method, stripQuery(req.URL.String()), err)
	}
	if len(body) > maxResponseBody {
		return nil, fmt.Errorf("demobank: %s %s: response larger than %d bytes", req.Method, stripQuery(req.URL.String()), maxResponseBody)
	}
	return &dpopResponse{Status: resp.StatusCode, Header: resp.Header, Body: body}, nil
}

// asksForNonce reports whether a response is use_dpop_nonce: a 400 with a
// JSON error (authorization server) or a 401 with a WWW-Authenticate
// challenge (resource server).
func asksForNonce(resp *dpopResponse) bool {
	switch resp.Status {
	case http.StatusBadRequest:
		return oauthErrorOf(resp).Code == "use_dpop_nonce"
	case http.StatusUnauthorized:
		for _, v := range resp.Header.Values("WWW-Authenticate") {
			if authParam(v, "error") == "use_dpop_nonce" {
				return true
			}
		}
		// Some servers put the error in the body of the 401 too.
		return oauthErrorOf(resp).Code == "use_dpop_nonce"
	}
	return false
}

// oauthError is an OAuth error response (RFC 6749 section 5.2).
type oauthError struct {
	Code        string `json:"error"`
	Description string `json:"error_description"`
}

// oauthErrorOf reads the error of a JSON error response; the zero value
// when there is none. The description is truncated: it is shown and logged.
func oauthErrorOf(resp *dpopResponse) oauthError {
	var e oauthError
	if mt, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type")); mt != "application/json" {
		return e
	}
	if json.NewDecoder(bytes.NewReader(resp.Body)).Decode(&e) != nil {
		return oauthError{}
	}
	e.Code = truncate(e.Code, 64)
	e.Description = truncate(e.Description, 200)
	return e
}

// authParam returns the value of the auth-param name in a WWW-Authenticate
// header value (RFC 9110 section 11.2), "" if absent. It reads
// `DPoP error="use_dpop_nonce", error_description="..."` and unquoted
// values; a value that is a quoted string may contain commas and escaped
// quotes.
func authParam(header, name string) string {
	s := header
	for s != "" {
		s = strings.TrimLeft(s, " \t,")
		// A token: a scheme, or a parameter name followed by '='.
		i := strings.IndexAny(s, " \t,=")
		if i < 0 {
			return ""
		}
		tok := s[:i]
		s = strings.TrimLeft(s[i:], " \t")
		if !strings.HasPrefix(s, "=") {
			continue // an auth-scheme; its parameters follow
		}
		s = strings.TrimLeft(s[1:], " \t")
		var val string
		if strings.HasPrefix(s, `"`) {
			var b strings.Builder
			j := 1
			for ; j < len(s) && s[j] != '"'; j++ {
				if s[j] == '\\' && j+1 < len(s) {
					j++
				}
				b.WriteByte(s[j])
			}
			val, s = b.String(), s[min(j+1, len(s)):]
		} else {
			j := strings.IndexAny(s, " \t,")
			if j < 0 {
				j = len(s)
			}
			val, s = s[:j], s[j:]
		}
		if strings.EqualFold(tok, name) {
			return val
		}
	}
	return ""
}

// truncate shortens text from outside to at most n bytes (on a rune
// boundary) before it is shown or logged.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}
