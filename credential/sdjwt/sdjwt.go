package sdjwt

import (
	"crypto"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"hash"
	"log/slog"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/sanad-id/sanad/credential"
)

// Header typ values.
const (
	// TypVC is the typ of an SD-JWT VC (and its OpenID4VCI format name).
	TypVC = credential.FormatSDJWTVC
	// TypVCLegacy is the pre-final typ of an SD-JWT VC, still accepted.
	TypVCLegacy = credential.FormatSDJWTVCLegacy
	// TypKB is the typ of a Key Binding JWT.
	TypKB = "kb+jwt"
)

// HashSHA256 is the _sd_alg this package issues with. Verification also
// accepts sha-384 and sha-512.
const HashSHA256 = "sha-256"

// Limits on what Parse and Verify accept.
const (
	// MaxSize is the largest SD-JWT (with disclosures and KB-JWT), in bytes.
	// Credentials carry photos, so it is generous.
	MaxSize = 1 << 20
	// MaxDisclosures is the largest number of disclosures.
	MaxDisclosures = 1024
	// MaxDepth is the deepest nesting of JSON objects and arrays.
	MaxDepth = 32
)

// Defaults of VerifyOptions.
const (
	// DefaultLeeway is the clock skew tolerated on exp, nbf and iat.
	DefaultLeeway = time.Minute
	// DefaultKeyBindingMaxAge is how old a KB-JWT's iat may be.
	DefaultKeyBindingMaxAge = 5 * time.Minute
)

// DefaultHolderAlgs are the KB-JWT algorithms accepted when
// VerifyOptions.HolderAlgs is empty.
var DefaultHolderAlgs = []string{"ES256", "ES384", "ES512", "EdDSA", "Ed25519", "PS256", "PS384", "PS512", "RS256", "RS384", "RS512"}

// Reserved claim names of the SD-JWT payload.
const (
	claimSD    = "_sd"
	claimSDAlg = "_sd_alg"
	claimArray = "..."
)

// Claims that are never selectively disclosable: their values decide
// whether and how the credential is verified, so a holder must not be able
// to withhold them.
var (
	// alwaysSigned applies to every SD-JWT.
	alwaysSigned = []string{"iss", "nbf", "exp", "cnf"}
	// alwaysSignedVC adds the SD-JWT VC claims. iat is disclosable per the
	// SD-JWT VC draft, so it is accepted disclosed but never issued so.
	alwaysSignedVC = []string{"iss", "nbf", "exp", "cnf", "vct", "vct#integrity", "status"}
	// neverIssuedVC is what IssueVC refuses to make disclosable.
	neverIssuedVC = []string{"iss", "nbf", "exp", "cnf", "vct", "vct#integrity", "status", "iat"}
)

// Path names a claim: a claims path pointer as OpenID4VCI 1.0 and DCQL
// write them. Each element is a string (an object member), a non-negative
// integer (an array element; int, or a float64 with an integral value as
// JSON decoding gives) or nil (every element of an array).
type Path []any

// String renders p as JSON, for messages.
func (p Path) String() string {
	b, err := json.Marshal([]any(p))
	if err != nil {
		return fmt.Sprint([]any(p))
	}
	return string(b)
}

// step is one checked element of a Path.
type step struct {
	kind  stepKind
	key   string
	index int
}

type stepKind uint8

const (
	stepKey stepKind = iota
	stepIndex
	stepAll
)

// steps checks p.
func (p Path) steps() ([]step, error) {
	if len(p) == 0 {
		return nil, fmt.Errorf("sdjwt: empty claim path")
	}
	out := make([]step, len(p))
	for i, e := range p {
		switch v := e.(type) {
		case string:
			out[i] = step{kind: stepKey, key: v}
		case nil:
			out[i] = step{kind: stepAll}
		case int:
			if v < 0 {
				return nil, fmt.Errorf("sdjwt: claim path %s: negative index", p)
			}
			out[i] = step{kind: stepIndex, index: v}
		case float64:
			if v < 0 || v != math.Trunc(v) || v > math.MaxInt32 {
				return nil, fmt.Errorf("sdjwt: claim path %s: index %v is not a non-negative integer", p, v)
			}
			out[i] = step{kind: stepIndex, index: int(v)}
		default:
			return nil, fmt.Errorf("sdjwt: claim path %s: element %d has type %T", p, i, e)
		}
	}
	return out, nil
}

// with returns a copy of p with e appended; Paths recorded in disclosures
// never share backing arrays.
func (p Path) with(e any) Path {
	out := make(Path, len(p)+1)
	copy(out, p)
	out[len(p)] = e
	return out
}

// Disclosure is one disclosure of a parsed SD-JWT.
type Disclosure struct {
	// Encoded is the disclosure as it appears in the SD-JWT (base64url).
	Encoded string
	// Digest is the base64url digest of Encoded under the token's _sd_alg:
	// what the payload refers to it by.
	Digest string
	Salt   string
	// Element is true for an array-element disclosure ([salt, value]),
	// false for an object member ([salt, name, value]).
	Element bool
	// Name is the claim name of an object-member disclosure.
	Name string
	// Value is the disclosed value as encoded: nested disclosures are still
	// digests here (Token.Claims has them applied).
	Value any
	// Path is where the value sits in Token.Claims.
	Path Path
}

// Token is a parsed SD-JWT: the issuer-signed JWT, its disclosures, and
// the claims they rebuild. Parse fills it without checking the signature;
// Verify and VerifyVC return it verified.
type Token struct {
	// JWT is the issuer-signed JWT (compact JWS).
	JWT string
	// Header is the JWT's protected header.
	Header map[string]any
	// Payload is the signed payload as issued (digests, not claims).
	Payload map[string]any
	// Disclosures are in the order the SD-JWT lists them.
	Disclosures []*Disclosure
	// KBJWT is the Key Binding JWT of a presentation, "" if none.
	KBJWT string
	// HashAlg is the _sd_alg (sha-256 when the payload has none).
	HashAlg string
	// Claims is the payload with the disclosures applied, and _sd, _sd_alg
	// and undisclosed array elements removed. Numbers are float64.
	Claims map[string]any

	// The registered claims, read from Claims; zero when absent.
	Issuer    string
	Subject   string
	VCT       string
	IssuedAt  time.Time
	NotBefore time.Time
	Expires   time.Time
	Status    map[string]any
	// HolderKey is the public key of cnf.jwk (*ecdsa.PublicKey,
	// ed25519.PublicKey or *rsa.PublicKey), nil when there is none.
	HolderKey crypto.PublicKey

	// presented is the SD-JWT without its KB-JWT (what sd_hash covers).
	presented string
	// signed and signature are the issuer JWT's signing input and
	// signature.
	signed    string
	signature []byte
}

// String does not print the credential: it carries personal data.
func (t *Token) String() string { return "sdjwt.Token{REDACTED}" }

// LogValue keeps the credential out of logs.
func (t *Token) LogValue() slog.Value { return slog.StringValue("REDACTED") }

// hashFor returns the hash of an _sd_alg name.
func hashFor(alg string) (func() hash.Hash, error) {
	switch alg {
	case "sha-256":
		return sha256.New, nil
	case "sha-384":
		return sha512.New384, nil
	case "sha-512":
		return sha512.New, nil
	}
	return nil, fmt.Errorf("unsupported _sd_alg %q", alg)
}

// digest is the base64url hash of the ASCII string s.
func digest(h func() hash.Hash, s string) string {
	hh := h()
	hh.Write([]byte(s))
	return b64.EncodeToString(hh.Sum(nil))
}

var b64 = base64.RawURLEncoding

// b64Strict rejects padding and non-zero trailing bits, so that each value
// has exactly one encoding.
var b64Strict = base64.RawURLEncoding.Strict()

// fail wraps kind (a credential.Err* value) with detail.
func fail(kind error, format string, args ...any) error {
	return fmt.Errorf("sdjwt: %s: %w", fmt.Sprintf(format, args...), kind)
}

// numericDate reads a JWT NumericDate.
func numericDate(v any) (time.Time, bool) {
	f, ok := v.(float64)
	if !ok || math.IsNaN(f) || math.IsInf(f, 0) || math.Abs(f) > 1<<53 {
		return time.Time{}, false
	}
	sec, frac := math.Modf(f)
	return time.Unix(int64(sec), int64(frac*1e9)), true
}

// contains reports whether list has s.
func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// quoteList renders names for messages.
func quoteList(list []string) string {
	q := make([]string, len(list))
	for i, s := range list {
		q[i] = strconv.Quote(s)
	}
	return strings.Join(q, ", ")
}
