package issuer

import (
	"crypto/subtle"
	"errors"
	"mime"
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"
)

// Access tokens at the issuer's protected endpoints (credential,
// notification): RFC 6750 section 2.1 and RFC 9449 section 7. The token
// comes in the Authorization header only, with the Bearer scheme, or the
// DPoP scheme and a DPoP proof for a DPoP-bound token.

// Authorization schemes.
const (
	SchemeBearer = "Bearer"
	SchemeDPoP   = "DPoP"
)

// Limits of what authenticate reads.
const (
	// maxAccessTokenLen bounds the access token handed to the verifier.
	maxAccessTokenLen = 16 << 10
	// maxAuthFormBytes bounds a form body searched for an access token.
	maxAuthFormBytes = 64 << 10
)

// errTokenDesc is invalid_token (401) with a description that says what
// the client must change; the cause is only logged.
func errTokenDesc(desc string, cause error) *Error {
	return newError(CodeInvalidToken, http.StatusUnauthorized, desc, cause)
}

// errDPoP is invalid_dpop_proof (401).
func errDPoP(desc string, cause error) *Error {
	return newError(CodeInvalidDPoPProof, http.StatusUnauthorized, desc, cause)
}

// errRequest is invalid_request (400).
func errRequest(desc string, cause error) *Error {
	return newError(CodeInvalidRequest, http.StatusBadRequest, desc, cause)
}

// authenticate checks the access token of a request to a protected
// endpoint and returns it with the scheme it came with (SchemeBearer or
// SchemeDPoP; the scheme of an error's WWW-Authenticate challenge, so
// SchemeBearer when the request had none).
//
// The token must be in the one Authorization header: a token in the query
// string or a form body is refused with invalid_request. Config.Tokens
// verifies it (any error but an *Error it returns is invalid_token). A
// DPoP-bound token (JKT set) must come with the DPoP scheme and exactly one
// DPoP proof that Config.DPoP accepts for this request, whose URL is the
// issuer's public URL and the request's path (never the Host header), and
// whose key is the token's; an unbound token must come with the Bearer
// scheme. Errors are *Error values, ready for writeError.
func (is *Issuer) authenticate(c *gin.Context) (*AccessToken, string, error) {
	r := c.Request
	if r.URL.Query().Has("access_token") {
		return nil, SchemeBearer, errRequest("the access token must be sent in the Authorization header", nil)
	}
	if hasFormBody(r) {
		r.Body = http.MaxBytesReader(c.Writer, r.Body, maxAuthFormBytes)
		if err := r.ParseForm(); err != nil {
			return nil, SchemeBearer, errRequest("the request body is not a valid form", err)
		}
		if r.PostForm.Has("access_token") {
			return nil, SchemeBearer, errRequest("the access token must be sent in the Authorization header", nil)
		}
	}
	scheme, token, err := parseAuthorization(r.Header.Values("Authorization"))
	if err != nil {
		return nil, scheme, err
	}
	tok, err := is.cfg.Tokens.VerifyAccessToken(r.Context(), token)
	if err != nil {
		var e *Error
		if errors.As(err, &e) {
			return nil, scheme, e
		}
		return nil, scheme, errToken(err)
	}
	if tok == nil {
		return nil, scheme, errToken(errors.New("the token verifier returned no token"))
	}
	if tok.JKT == "" {
		if scheme != SchemeBearer {
			return nil, scheme, errTokenDesc("the access token is not DPoP-bound; send it with the Bearer scheme", nil)
		}
		return tok, scheme, nil
	}
	if scheme != SchemeDPoP {
		return nil, scheme, errTokenDesc("a DPoP-bound access token must be sent with the DPoP scheme", nil)
	}
	if is.cfg.DPoP == nil {
		return nil, scheme, errToken(errors.New("DPoP-bound token, and no DPoP verifier is configured"))
	}
	proofs := r.Header.Values("DPoP")
	switch len(proofs) {
	case 0:
		return nil, scheme, errDPoP("DPoP proof required", nil)
	case 1:
	default:
		return nil, scheme, errDPoP("more than one DPoP proof", nil)
	}
	jkt, err := is.cfg.DPoP.VerifyProof(r.Context(), proofs[0], r.Method, is.requestURL(r), token)
	if err != nil {
		var e *Error
		if errors.As(err, &e) {
			return nil, scheme, e
		}
		return nil, scheme, errDPoP("DPoP proof is invalid", err)
	}
	if subtle.ConstantTimeCompare([]byte(jkt), []byte(tok.JKT)) != 1 {
		return nil, scheme, errTokenDesc("the access token is not bound to the DPoP proof key", nil)
	}
	return tok, scheme, nil
}

// requestURL is the public URL of the endpoint r was sent to, for a DPoP
// proof's htu: the scheme and host of the issuer identifier and r's path,
// without query. The Host header and any proxy headers are ignored: a
// proof must name the issuer's own URL.
func (is *Issuer) requestURL(r *http.Request) string {
	return is.id.Scheme + "://" + is.id.Host + r.URL.EscapedPath()
}

// parseAuthorization reads the access token of the Authorization header
// values: the scheme (SchemeBearer or SchemeDPoP, case-insensitively) and
// the token (RFC 6750 section 2.1 b64token syntax, at most
// maxAccessTokenLen characters). The scheme is SchemeBearer when no
// header has a known scheme.
func parseAuthorization(values []string) (scheme, token string, err error) {
	switch len(values) {
	case 0:
		return SchemeBearer, "", errTokenDesc("access token required", nil)
	case 1:
	default:
		return SchemeBearer, "", errRequest("more than one Authorization header", nil)
	}
	s, tok, _ := strings.Cut(values[0], " ")
	switch {
	case strings.EqualFold(s, SchemeBearer):
		scheme = SchemeBearer
	case strings.EqualFold(s, SchemeDPoP):
		scheme = SchemeDPoP
	default:
		return SchemeBearer, "", errTokenDesc("access token required", nil)
	}
	tok = strings.TrimLeft(tok, " ")
	switch {
	case tok == "":
		return scheme, "", errRequest("malformed Authorization header", nil)
	case len(tok) > maxAccessTokenLen:
		return scheme, "", errToken(errors.New("access token too long"))
	case !isB64Token(tok):
		return scheme, "", errRequest("malformed Authorization header", nil)
	}
	return scheme, tok, nil
}

// isB64Token reports whether s has the syntax of RFC 6750's b64token:
// ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/", then "=" padding.
func isB64Token(s string) bool {
	i := 0
	for ; i < len(s); i++ {
		ch := s[i]
		if 'a' <= ch && ch <= 'z' || 'A' <= ch && ch <= 'Z' || '0' <= ch && ch <= '9' || strings.IndexByte("-._~+/", ch) >= 0 {
			continue
		}
		break
	}
	if i == 0 {
		return false
	}
	for ; i < len(s); i++ {
		if s[i] != '=' {
			return false
		}
	}
	return true
}

// hasFormBody reports whether r carries a URL-encoded form body.
func hasFormBody(r *http.Request) bool {
	if r.Body == nil || r.Body == http.NoBody {
		return false
	}
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	return err == nil && mt == "application/x-www-form-urlencoded"
}
