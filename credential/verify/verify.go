// Package verify checks a credential of any format Sanad handles (ldp_vc,
// jwt_vc_json, SD-JWT VC) in one call and reports each check separately:
// format, signature, trusted issuer, validity period, holder binding and
// status (revocation and suspension, with the status list's own signature
// checked). It is what the verifier, the wallet and the `sanad credential
// verify` command call, so that they all accept and refuse the same
// credentials for the same reasons.
//
// The format packages (ldp, jwtvc, sdjwt, statuslist) do the cryptography;
// this package detects the format, runs them, classifies their errors into
// checks, and fetches status lists. Credential never touches the network
// itself: status lists come through the StatusFetcher (HTTPStatusFetcher
// over HTTPS), keys and DID documents through the resolvers the caller
// passes, and JSON-LD contexts from an offline Loader. A status list is
// fetched only for a credential whose signature verified and whose issuer
// is trusted (when Options.TrustedIssuers is set), so unauthenticated
// input cannot make a verifier call the URLs it names.
package verify

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/sanad-id/sanad/credential"
	"github.com/sanad-id/sanad/credential/did"
	"github.com/sanad-id/sanad/credential/jsonld"
	"github.com/sanad-id/sanad/credential/jwtvc"
	"github.com/sanad-id/sanad/internal/josekey"
)

// Names of the checks, in the order a Result lists them.
const (
	// CheckFormat: the credential parses as one of the supported formats.
	CheckFormat = "format"
	// CheckSignature: the issuer's proof or JWS signature verifies with a
	// key its issuer controls (key resolution included).
	CheckSignature = "signature"
	// CheckIssuer: the issuer is on Options.TrustedIssuers (only when a
	// list is given).
	CheckIssuer = "issuer"
	// CheckValidity: the validity period (validFrom/validUntil,
	// issuanceDate/expirationDate, nbf/exp) includes now, with the skew.
	CheckValidity = "validity"
	// CheckHolderBinding: the presentation proves possession of the
	// holder key the credential is bound to (SD-JWT KB-JWT).
	CheckHolderBinding = "holder_binding"
	// CheckStatus: one status entry (a W3C BitstringStatusListEntry or an
	// IETF Token Status List reference) says the credential is valid.
	CheckStatus = "status"
)

// Outcomes of a check.
const (
	Success = "success"
	Failure = "failure"
	Skipped = "skipped"
)

// Overall results (Result.Status), as Inji Verify names them.
const (
	StatusSuccess   = "SUCCESS"
	StatusInvalid   = "INVALID"
	StatusExpired   = "EXPIRED"
	StatusRevoked   = "REVOKED"
	StatusSuspended = "SUSPENDED"
)

// Errors of the checks this package adds to the format packages' (which
// wrap credential.ErrMalformed, ErrSignature, ErrExpired, ErrNotYetValid,
// ErrHolderBinding or ErrDisclosure). Check.Err wraps one of them.
var (
	// ErrUntrustedIssuer: the issuer is not on Options.TrustedIssuers.
	ErrUntrustedIssuer = errors.New("verify: issuer not trusted")
	// ErrRevoked: a revocation status entry is set (W3C), or the token
	// status is 0x01 INVALID.
	ErrRevoked = errors.New("verify: credential revoked")
	// ErrSuspended: a suspension status entry is set (W3C), or the token
	// status is 0x02 SUSPENDED.
	ErrSuspended = errors.New("verify: credential suspended")
	// ErrStatusUnavailable: the status list could not be fetched.
	ErrStatusUnavailable = errors.New("verify: status list unavailable")
	// ErrStatusList: the status list was fetched but cannot be trusted or
	// read: bad signature, another issuer, outside its validity, wrong
	// purpose, malformed, index out of range.
	ErrStatusList = errors.New("verify: invalid status list")
	// ErrStatusValue: the token status is a value Sanad does not know
	// (0x03 and above are application-specific).
	ErrStatusValue = errors.New("verify: unknown status value")
)

// MaxSize is the largest credential Credential reads (credentials carry
// photos).
const MaxSize = 2 << 20

// DefaultClockSkew is the clock skew tolerated on validity dates when
// Options.ClockSkew is zero.
const DefaultClockSkew = time.Minute

// StatusFetcher fetches a status list (a status list credential or token)
// by URL. accept is the Accept header to send; contentType is the
// response's. Implementations decide the transport and caching:
// HTTPStatusFetcher fetches over HTTPS with a small cache.
type StatusFetcher interface {
	Fetch(ctx context.Context, url, accept string) (body []byte, contentType string, err error)
}

// Options say what Credential trusts and expects. The zero value verifies
// offline: bundled JSON-LD contexts, did:key and did:jwk issuers, no status
// check.
type Options struct {
	// Contexts loads JSON-LD contexts for ldp_vc; nil means
	// jsonld.Bundled().
	Contexts *jsonld.Loader
	// Methods resolves the verification methods Data Integrity proofs
	// name; nil means did:key and did:jwk, offline.
	Methods did.MethodResolver
	// Keys resolves the issuer keys of JWT formats (JWT VC, SD-JWT VC,
	// status list tokens) by issuer and kid: a JWKS, a trust list, a DID
	// resolver. Nil means did:key and did:jwk issuers, offline.
	Keys credential.KeyResolver
	// Status fetches status lists; nil means status is not checked (the
	// status checks are skipped).
	Status StatusFetcher
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// ClockSkew is the skew tolerated on validity dates (of the credential,
	// the status list and the KB-JWT); zero means DefaultClockSkew,
	// negative means none.
	ClockSkew time.Duration
	// Suites are the Data Integrity suites accepted; empty accepts every
	// suite the ldp package verifies.
	Suites []string
	// AllowInlineContexts turns off Data Integrity's context validation
	// for ldp_vc credentials and status list credentials. By default every
	// @context (the credential's, its proof's, any embedded one) must be a
	// context URL or an array of them, and anything else fails the format
	// check: an inline context object can re-label terms without changing
	// the signed RDF, so the JSON claims shown could differ from what was
	// signed.
	AllowInlineContexts bool
	// Algs are the JOSE algorithms accepted for issuer signatures of JWT
	// formats; empty means jwtvc.SafeAlgs ("none" and MACs are never
	// accepted).
	Algs []string
	// TrustedIssuers, when not empty, lists the issuer identifiers (URLs,
	// DIDs) accepted; another issuer fails the issuer check.
	TrustedIssuers []string
	// RequireHolderBinding fails a credential presented without proof of
	// possession of its holder key (an SD-JWT VC without a KB-JWT, or a
	// format whose binding is proven outside the credential). Nonce and
	// Audience must then be set.
	RequireHolderBinding bool
	// Nonce and Audience are what a KB-JWT's nonce and aud must be (the
	// verifier's request nonce and client_id). When empty, a KB-JWT is
	// still checked (signature by cnf.jwk, sd_hash, iat) but not bound to
	// a request.
	Nonce, Audience string
}

func (o *Options) validate() error {
	if o.RequireHolderBinding && (o.Nonce == "" || o.Audience == "") {
		return errors.New("verify: RequireHolderBinding needs Nonce and Audience")
	}
	return nil
}

// Check is the outcome of one check.
type Check struct {
	// Name is one of the Check constants.
	Name string `json:"name"`
	// Status is Success, Failure or Skipped.
	Status string `json:"status"`
	// Entry names the status entry a status check is about
	// ("revocation https://issuer.example/status/1#7"); empty otherwise.
	Entry string `json:"entry,omitempty"`
	// Error says what failed; empty unless Status is Failure. It holds no
	// claim values or personal data.
	Error string `json:"error,omitempty"`
	// Reason says why the check was skipped.
	Reason string `json:"reason,omitempty"`
	// Err is the failure, for errors.Is: it wraps a credential.Err* value
	// or one of this package's errors.
	Err error `json:"-"`
}

// Result is what Credential found. The credential's fields are filled in
// as far as the credential parsed, whether or not it verified: read them
// only when Status is StatusSuccess (or knowing which check failed).
type Result struct {
	// Status is the summary: StatusSuccess when no check failed; otherwise
	// StatusInvalid for a format, signature, issuer or holder-binding
	// failure, then StatusRevoked, StatusSuspended, StatusExpired in that
	// order, and StatusInvalid for any other failure (not yet valid, a
	// status list that cannot be fetched or trusted).
	Status string `json:"status"`
	// Format is credential.FormatLDPVC, FormatJWTVC, FormatSDJWTVC or
	// FormatSDJWTVCLegacy; empty when the format was not recognised.
	Format string `json:"format,omitempty"`
	// ID is the credential's id (id, jti), if any.
	ID string `json:"id,omitempty"`
	// Types are the credential's types (type, or the vct of an SD-JWT VC).
	Types []string `json:"type,omitempty"`
	// Issuer is the issuer's identifier (issuer, iss).
	Issuer string `json:"issuer,omitempty"`
	// Subject is the subject's identifier (credentialSubject.id, sub).
	Subject string `json:"subject,omitempty"`
	// Claims are the credentialSubject (an object; an array of subjects is
	// under the "credentialSubject" key), or the disclosed claims of an
	// SD-JWT VC.
	Claims map[string]any `json:"claims,omitempty"`
	// ValidFrom and ValidUntil bound the validity period; zero when the
	// credential does not say.
	ValidFrom  time.Time `json:"validFrom,omitzero"`
	ValidUntil time.Time `json:"validUntil,omitzero"`
	// Checks are the checks in order: format, signature, issuer (when
	// configured), validity, holder_binding, then one status check per
	// status entry.
	Checks []Check `json:"checks"`
}

// LogValue keeps the claims out of logs: only the status and the checks.
func (r Result) LogValue() slog.Value {
	attrs := []slog.Attr{slog.String("status", r.Status), slog.String("format", r.Format)}
	for _, c := range r.Checks {
		attrs = append(attrs, slog.String(c.Name, c.Status))
	}
	return slog.GroupValue(attrs...)
}

// Check returns the first check named name.
func (r *Result) Check(name string) (Check, bool) {
	for _, c := range r.Checks {
		if c.Name == name {
			return c, true
		}
	}
	return Check{}, false
}

// Err joins the errors of the failed checks; nil when none failed.
func (r *Result) Err() error {
	var errs []error
	for _, c := range r.Checks {
		if c.Status == Failure {
			errs = append(errs, c.Err)
		}
	}
	return errors.Join(errs...)
}

func (r *Result) add(c Check) { r.Checks = append(r.Checks, c) }

func (r *Result) pass(name string) { r.add(Check{Name: name, Status: Success}) }

func (r *Result) skip(name, reason string) {
	r.add(Check{Name: name, Status: Skipped, Reason: reason})
}

func (r *Result) fail(name string, err error) {
	r.add(Check{Name: name, Status: Failure, Error: message(err), Err: err})
}

// failed reports whether the check named name failed.
func (r *Result) failed(name string) bool {
	for _, c := range r.Checks {
		if c.Name == name && c.Status == Failure {
			return true
		}
	}
	return false
}

// summarize sets r.Status from the checks.
func (r *Result) summarize() {
	for _, name := range []string{CheckFormat, CheckSignature, CheckIssuer, CheckHolderBinding} {
		if r.failed(name) {
			r.Status = StatusInvalid
			return
		}
	}
	// Only the credential's own validity makes it EXPIRED: an expired
	// status list is a status failure (INVALID).
	var revoked, suspended, expired, other bool
	for _, c := range r.Checks {
		if c.Status != Failure {
			continue
		}
		switch {
		case c.Name == CheckStatus && errors.Is(c.Err, ErrRevoked):
			revoked = true
		case c.Name == CheckStatus && errors.Is(c.Err, ErrSuspended):
			suspended = true
		case c.Name == CheckValidity && errors.Is(c.Err, credential.ErrExpired):
			expired = true
		default:
			other = true
		}
	}
	switch {
	case revoked:
		r.Status = StatusRevoked
	case suspended:
		r.Status = StatusSuspended
	case expired:
		r.Status = StatusExpired
	case other:
		r.Status = StatusInvalid
	default:
		r.Status = StatusSuccess
	}
}

// message is the text of a check's error: the format packages' messages
// name fields and reasons, not values. The sentinel prefix
// ("credential: invalid signature: ...") is kept: it says the kind.
func message(err error) string {
	if err == nil {
		return ""
	}
	s := err.Error()
	const limit = 512
	if len(s) > limit {
		s = s[:limit] + "…"
	}
	return s
}

var (
	bundledContexts = sync.OnceValue(jsonld.Bundled)
	offlineDIDs     = sync.OnceValue(did.NewOfflineResolver)
)

// verifier is one run of Credential.
type verifier struct {
	opts    Options
	loader  *jsonld.Loader
	methods did.MethodResolver
	keys    credential.KeyResolver
	algs    []string
	now     time.Time
	skew    time.Duration
	// fetched memoizes status list fetches within the run: a revocation
	// and a suspension entry may share a list.
	fetched map[string]fetchResult
}

type fetchResult struct {
	body        []byte
	contentType string
	err         error
}

// Credential verifies raw, a credential in any supported format, and
// reports every check. Verification failures are in the Result (its
// Status and Checks), not in the error, which is only for unusable
// Options.
//
// The format is detected: a JSON object with a proof is an ldp_vc; a
// compact JWS whose payload has a vc claim is a jwt_vc_json; an SD-JWT
// (with "~") with typ dc+sd-jwt or vc+sd-jwt is an SD-JWT VC, with or
// without a KB-JWT.
//
// Credential is safe for concurrent use when the Options' resolvers and
// fetcher are (those of the credential packages and HTTPStatusFetcher
// are).
func Credential(ctx context.Context, raw []byte, opts Options) (Result, error) {
	if err := opts.validate(); err != nil {
		return Result{}, err
	}
	v := &verifier{opts: opts, loader: opts.Contexts, methods: opts.Methods, keys: opts.Keys, algs: opts.Algs}
	if v.loader == nil {
		v.loader = bundledContexts()
	}
	if v.methods == nil {
		v.methods = offlineDIDs()
	}
	if v.keys == nil {
		v.keys = offlineDIDs()
	}
	if len(v.algs) == 0 {
		v.algs = jwtvc.SafeAlgs
	}
	v.now = time.Now()
	if opts.Now != nil {
		v.now = opts.Now()
	}
	switch {
	case opts.ClockSkew == 0:
		v.skew = DefaultClockSkew
	case opts.ClockSkew > 0:
		v.skew = opts.ClockSkew
	}

	var r Result
	in, err := detect(raw)
	switch {
	case err != nil:
		r.fail(CheckFormat, err)
		v.skipRest(&r, "the credential did not parse")
	case in.doc != nil:
		v.ldp(ctx, &r, in.doc)
	case in.sdjwt:
		v.sdJWT(ctx, &r, in.text)
	default:
		v.jwtVC(ctx, &r, in.text, in.payload)
	}
	r.summarize()
	return r, nil
}

// input is a credential whose format was detected.
type input struct {
	doc     map[string]any // ldp_vc
	text    string         // jwt_vc_json or SD-JWT VC
	payload map[string]any // jwt_vc_json claims, not verified
	sdjwt   bool
}

func malformed(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{credential.ErrMalformed}, args...)...)
}

// detect recognises the format of raw.
func detect(raw []byte) (input, error) {
	if len(raw) > MaxSize {
		return input{}, malformed("larger than %d bytes", MaxSize)
	}
	b := bytes.TrimSpace(raw)
	if len(b) == 0 {
		return input{}, malformed("empty")
	}
	if b[0] == '{' {
		var doc map[string]any
		if err := josekey.DecodeObject(b, &doc); err != nil {
			return input{}, malformed("JSON: %v", err)
		}
		if _, ok := doc["proof"]; !ok {
			return input{}, malformed("JSON credential has no proof (unsecured, or an enveloped form Sanad does not read)")
		}
		return input{doc: doc}, nil
	}
	s := string(b)
	if strings.ContainsAny(s, " \t\r\n") {
		return input{}, malformed("not a JSON-LD credential, a JWT or an SD-JWT")
	}
	if strings.Contains(s, "~") {
		jwt, _, _ := strings.Cut(s, "~")
		h, _, err := decodeJWS(jwt)
		if err != nil {
			return input{}, malformed("SD-JWT issuer JWT: %v", err)
		}
		typ, _ := h["typ"].(string)
		if !typIs(typ, credential.FormatSDJWTVC) && !typIs(typ, credential.FormatSDJWTVCLegacy) {
			return input{}, malformed("SD-JWT typ %q is not %s or %s", clip(typ), credential.FormatSDJWTVC, credential.FormatSDJWTVCLegacy)
		}
		return input{text: s, sdjwt: true}, nil
	}
	if strings.Count(s, ".") == 2 {
		h, p, err := decodeJWS(s)
		if err != nil {
			return input{}, malformed("JWT: %v", err)
		}
		typ, _ := h["typ"].(string)
		if typ != "" && !typIs(typ, "JWT") && !typIs(typ, "vc+jwt") {
			return input{}, malformed("JWT typ %q is not JWT or vc+jwt", clip(typ))
		}
		if _, ok := p["vc"].(map[string]any); !ok {
			return input{}, malformed("JWT has no vc claim: not a jwt_vc_json credential")
		}
		return input{text: s, payload: p}, nil
	}
	return input{}, malformed("not a JSON-LD credential, a JWT or an SD-JWT")
}

// decodeJWS decodes the header and payload of a compact JWS, unverified.
func decodeJWS(s string) (header, payload map[string]any, err error) {
	parts := strings.Split(s, ".")
	if len(parts) != 3 {
		return nil, nil, errors.New("not a compact JWS")
	}
	enc := base64.RawURLEncoding.Strict()
	hb, err := enc.DecodeString(parts[0])
	if err != nil {
		return nil, nil, errors.New("header is not base64url")
	}
	if err = josekey.DecodeObject(hb, &header); err != nil {
		return nil, nil, fmt.Errorf("header: %v", err)
	}
	pb, err := enc.DecodeString(parts[1])
	if err != nil {
		return nil, nil, errors.New("payload is not base64url")
	}
	if err = josekey.DecodeObject(pb, &payload); err != nil {
		return nil, nil, fmt.Errorf("payload: %v", err)
	}
	return header, payload, nil
}

// typIs compares a typ header with a media type (RFC 7515 section 4.1.9:
// case-insensitive, "application/" optional).
func typIs(typ, want string) bool {
	if len(typ) > len("application/") && strings.EqualFold(typ[:len("application/")], "application/") {
		typ = typ[len("application/"):]
	}
	return strings.EqualFold(typ, want)
}

// clip shortens attacker-supplied text before it goes into a message.
func clip(s string) string {
	if len(s) > 120 {
		return s[:120] + "…"
	}
	return s
}

// checkIssuer adds the issuer check when a trust list is configured.
func (v *verifier) checkIssuer(r *Result) {
	if len(v.opts.TrustedIssuers) == 0 {
		return
	}
	if r.Issuer != "" && slices.Contains(v.opts.TrustedIssuers, r.Issuer) {
		r.pass(CheckIssuer)
		return
	}
	r.fail(CheckIssuer, fmt.Errorf("%w: %q is not a trusted issuer", ErrUntrustedIssuer, clip(r.Issuer)))
}

// checkPeriod checks now against a validity period, with the skew.
func (v *verifier) checkPeriod(from, until time.Time) error {
	if !until.IsZero() && v.now.After(until.Add(v.skew)) {
		return fmt.Errorf("%w: valid until %s", credential.ErrExpired, until.UTC().Format(time.RFC3339))
	}
	if !from.IsZero() && v.now.Add(v.skew).Before(from) {
		return fmt.Errorf("%w: valid from %s", credential.ErrNotYetValid, from.UTC().Format(time.RFC3339))
	}
	return nil
}

// noHolderProof is the holder-binding check of a credential presented
// without a proof of possession (ldp_vc and jwt_vc_json: the presentation
// around it binds it, and is checked by whoever reads the presentation).
func (v *verifier) noHolderProof(r *Result, bound bool) {
	switch {
	case v.opts.RequireHolderBinding:
		r.fail(CheckHolderBinding, fmt.Errorf("%w: a %s credential alone carries no proof of possession; verify the presentation", credential.ErrHolderBinding, r.Format))
	case bound:
		r.skip(CheckHolderBinding, "the credential is bound to a holder key; the presentation proves possession, not the credential")
	default:
		r.skip(CheckHolderBinding, "the credential is not bound to a holder key")
	}
}
