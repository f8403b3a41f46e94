// Package jwtvc is the jwt_vc_json credential format: a W3C Verifiable
// Credentials Data Model 1.1 credential secured as a JWT, encoded as the
// data model's section 6.3.1 says (VC-JWT 1.1). The credential goes in the
// vc claim; iss, sub, jti, nbf and exp carry the issuer, subject id,
// credential id, issuanceDate and expirationDate, and Issue writes each of
// them in both places so that verifiers reading either find them. Verify
// refuses a credential whose two copies disagree.
package jwtvc

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/sanad-id/sanad/internal/josekey"
	"github.com/sanad-id/sanad/internal/jwtclaims"
	"slices"
	"strings"
	"time"

	"github.com/lestrrat-go/jwx/v3/jwa"
	"github.com/lestrrat-go/jwx/v3/jwk"
	"github.com/lestrrat-go/jwx/v3/jws"

	"github.com/sanad-id/sanad/credential"
)

// Vocabulary of the VCDM 1.1.
const (
	// ContextV1 is the base context of VCDM 1.1; it comes first in @context.
	ContextV1 = "https://www.w3.org/2018/credentials/v1"
	// TypeVerifiableCredential is the type every credential has.
	TypeVerifiableCredential = "VerifiableCredential"
)

// Typ is the typ header Issue writes (VC-JWT 1.1 uses the plain JWT type).
const Typ = "JWT"

// MaxSize is the largest credential Verify parses (credentials can carry a
// photo, so this is generous).
const MaxSize = 1 << 20

// SafeAlgs are the only algorithms Verify can accept: asymmetric signature
// algorithms. VerifyOptions.Algs narrows them; "none" and MAC algorithms
// are never accepted whatever the options say.
var SafeAlgs = []string{"ES256", "ES384", "ES512", "EdDSA", "Ed25519", "PS256", "PS384", "PS512", "RS256", "RS384", "RS512"}

// Credential is a jwt_vc_json credential, as Issue takes it and Verify
// returns it.
type Credential struct {
	// ID is the credential's id (jti and vc.id), a URI such as
	// "urn:uuid:...". Optional.
	ID string
	// Issuer is the issuer's identifier (iss and vc.issuer): an https URL
	// or a DID. Required.
	Issuer string
	// Types are vc.type; they include "VerifiableCredential".
	Types []string
	// Contexts are vc.@context; the first is ContextV1. Issue uses
	// [ContextV1] when empty.
	Contexts []string
	// Subject is vc.credentialSubject without its id.
	Subject map[string]any
	// SubjectID is the holder's DID: sub and vc.credentialSubject.id.
	// Empty for a credential not bound to a DID.
	SubjectID string
	// IssuedAt is iat; Issue uses ValidFrom when it is zero.
	IssuedAt time.Time
	// ValidFrom is nbf and vc.issuanceDate. Required.
	ValidFrom time.Time
	// ValidUntil is exp and vc.expirationDate; zero: no expiry.
	ValidUntil time.Time
	// Status is vc.credentialStatus: an object, or an array of objects
	// (for example a revocation and a suspension entry); nil when the
	// credential has none.
	Status any
	// HolderJWK is the holder's public key, put in cnf.jwk; nil: none.
	HolderJWK jwk.Key
}

// issuedClaims is the JWT claims set Issue writes.
type issuedClaims struct {
	Iss string   `json:"iss"`
	Sub string   `json:"sub,omitempty"`
	Jti string   `json:"jti,omitempty"`
	Nbf int64    `json:"nbf"`
	Iat int64    `json:"iat"`
	Exp int64    `json:"exp,omitempty"`
	Cnf *cnf     `json:"cnf,omitempty"`
	VC  issuedVC `json:"vc"`
}

type cnf struct {
	JWK jwk.Key `json:"jwk"`
}

// issuedVC is the vc claim Issue writes.
type issuedVC struct {
	Context           []string       `json:"@context"`
	ID                string         `json:"id,omitempty"`
	Type              []string       `json:"type"`
	Issuer            string         `json:"issuer"`
	IssuanceDate      string         `json:"issuanceDate"`
	ExpirationDate    string         `json:"expirationDate,omitempty"`
	CredentialSubject map[string]any `json:"credentialSubject"`
	CredentialStatus  any            `json:"credentialStatus,omitempty"`
}

// Issue signs c as a jwt_vc_json credential with signer and returns the
// compact JWT.
func Issue(ctx context.Context, signer credential.Signer, c Credential) (string, error) {
	if signer == nil {
		return "", errors.New("jwtvc: no signer")
	}
	if err := c.check(); err != nil {
		return "", err
	}
	contexts := c.Contexts
	if len(contexts) == 0 {
		contexts = []string{ContextV1}
	}
	subject := make(map[string]any, len(c.Subject)+1)
	for k, v := range c.Subject {
		subject[k] = v
	}
	if c.SubjectID != "" {
		subject["id"] = c.SubjectID
	}
	from := c.ValidFrom.Unix()
	iat := from
	if !c.IssuedAt.IsZero() {
		iat = c.IssuedAt.Unix()
	}
	cl := issuedClaims{
		Iss: c.Issuer,
		Sub: c.SubjectID,
		Jti: c.ID,
		Nbf: from,
		Iat: iat,
		VC: issuedVC{
			Context:           contexts,
			ID:                c.ID,
			Type:              c.Types,
			Issuer:            c.Issuer,
			IssuanceDate:      formatDate(c.ValidFrom),
			CredentialSubject: subject,
			CredentialStatus:  c.Status,
		},
	}
	if !c.ValidUntil.IsZero() {
		cl.Exp = c.ValidUntil.Unix()
		cl.VC.ExpirationDate = formatDate(c.ValidUntil)
	}
	if c.HolderJWK != nil {
		cl.Cnf = &cnf{JWK: c.HolderJWK}
	}
	payload, err := json.Marshal(&cl)
	if err != nil {
		return "", fmt.Errorf("jwtvc: encode claims: %w", err)
	}
	jwt, err := signer.SignJWS(ctx, payload, map[string]any{"typ": Typ})
	if err != nil {
		return "", fmt.Errorf("jwtvc: sign: %w", err)
	}
	return jwt, nil
}

// check reports what makes c impossible to issue.
func (c *Credential) check() error {
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf("jwtvc: "+format, args...)) }
	if c.Issuer == "" {
		bad("credential has no issuer")
	}
	if !slices.Contains(c.Types, TypeVerifiableCredential) {
		bad("types %q do not include %s", c.Types, TypeVerifiableCredential)
	}
	if len(c.Contexts) > 0 && c.Contexts[0] != ContextV1 {
		bad("first @context is %q, want %s", c.Contexts[0], ContextV1)
	}
	if c.ValidFrom.IsZero() {
		bad("credential has no ValidFrom (issuanceDate)")
	}
	if !c.ValidUntil.IsZero() && !c.ValidUntil.After(c.ValidFrom) {
		bad("ValidUntil %s is not after ValidFrom %s", c.ValidUntil, c.ValidFrom)
	}
	if _, ok := c.Subject["id"]; ok {
		bad("credentialSubject id goes in SubjectID, not in Subject")
	}
	if c.HolderJWK != nil {
		if private, err := jwk.IsPrivateKey(c.HolderJWK); err != nil || private {
			bad("holder JWK is not a public key")
		}
	}
	return errors.Join(errs...)
}

// formatDate writes an xsd:dateTime in UTC with second precision, the form
// the VCDM examples use.
func formatDate(t time.Time) string { return t.UTC().Format(time.RFC3339) }

// VerifyOptions says what Verify accepts.
type VerifyOptions struct {
	// Keys finds the issuer's key from iss and the header's kid. Required.
	Keys credential.KeyResolver
	// Algs are the accepted signature algorithms, a subset of SafeAlgs.
	// Required: there is no default.
	Algs []string
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Leeway is the clock skew allowed on nbf and exp.
	Leeway time.Duration
}

// Verified is a credential whose signature and validity period were
// checked.
type Verified struct {
	Credential Credential
	// Header is the JWS protected header.
	Header map[string]any
	// Claims is the whole claims set, vc included.
	Claims map[string]any
}

// Verify checks a jwt_vc_json credential: its size and shape, an allowed
// asymmetric algorithm, the signature with the key opts.Keys resolves for
// its issuer and kid, the validity period (nbf and exp, with opts.Leeway),
// and that the values VC-JWT duplicates (iss and vc.issuer, jti and vc.id,
// sub and vc.credentialSubject.id, nbf and vc.issuanceDate, exp and
// vc.expirationDate) agree. It does not check the status (revocation) or
// the holder binding: those need the status list and the presentation.
//
// Errors wrap credential.ErrMalformed, ErrSignature, ErrExpired or
// ErrNotYetValid.
func Verify(ctx context.Context, token string, opts VerifyOptions) (*Verified, error) {
	if opts.Keys == nil {
		return nil, fmt.Errorf("%w: jwtvc: VerifyOptions.Keys is required", credential.ErrSignature)
	}
	if len(opts.Algs) == 0 {
		return nil, fmt.Errorf("%w: jwtvc: VerifyOptions.Algs is required", credential.ErrSignature)
	}
	tok, err := parse(token)
	if err != nil {
		return nil, err
	}
	alg := tok.header.Alg
	if !slices.Contains(SafeAlgs, alg) || !slices.Contains(opts.Algs, alg) {
		return nil, fmt.Errorf("%w: jwtvc: alg %q not allowed", credential.ErrSignature, truncate(alg))
	}
	if typ := strings.ToLower(tok.header.Typ); typ != "" && typ != "jwt" && typ != "application/jwt" {
		return nil, fmt.Errorf("%w: jwtvc: typ %q is not JWT", credential.ErrMalformed, truncate(tok.header.Typ))
	}
	var cl claimsIn
	if err := josekey.DecodeObject(tok.payload, &cl); err != nil {
		return nil, fmt.Errorf("%w: jwtvc: claims: %v", credential.ErrMalformed, err)
	}
	if cl.Iss == "" {
		return nil, fmt.Errorf("%w: jwtvc: no iss", credential.ErrMalformed)
	}
	pub, err := opts.Keys.ResolveKey(ctx, cl.Iss, tok.header.KID)
	if err != nil {
		return nil, fmt.Errorf("%w: jwtvc: issuer key: %v", credential.ErrSignature, err)
	}
	pub, err = josekey.ForAlg(pub, alg)
	if err != nil {
		return nil, fmt.Errorf("%w: jwtvc: issuer %v", credential.ErrSignature, err)
	}
	a, ok := jwa.LookupSignatureAlgorithm(alg)
	if !ok {
		return nil, fmt.Errorf("%w: jwtvc: alg %q not supported", credential.ErrSignature, alg)
	}
	if _, err := jws.VerifyCompactFast(pub, []byte(token), a); err != nil {
		return nil, fmt.Errorf("%w: jwtvc: %v", credential.ErrSignature, err)
	}

	c, err := cl.credential()
	if err != nil {
		return nil, fmt.Errorf("%w: jwtvc: %v", credential.ErrMalformed, err)
	}
	now := time.Now
	if opts.Now != nil {
		now = opts.Now
	}
	t := now()
	if !c.ValidUntil.IsZero() && t.After(c.ValidUntil.Add(opts.Leeway)) {
		return nil, fmt.Errorf("%w: jwtvc: expired at %s", credential.ErrExpired, formatDate(c.ValidUntil))
	}
	if t.Add(opts.Leeway).Before(c.ValidFrom) {
		return nil, fmt.Errorf("%w: jwtvc: valid from %s", credential.ErrNotYetValid, formatDate(c.ValidFrom))
	}
	v := &Verified{Credential: c}
	if err := json.Unmarshal(tok.rawHeader, &v.Header); err != nil {
		return nil, fmt.Errorf("%w: jwtvc: header: %v", credential.ErrMalformed, err)
	}
	if err := json.Unmarshal(tok.payload, &v.Claims); err != nil {
		return nil, fmt.Errorf("%w: jwtvc: claims: %v", credential.ErrMalformed, err)
	}
	return v, nil
}

// header is what Verify reads from the protected header.
type header struct {
	Alg  string          `json:"alg"`
	KID  string          `json:"kid"`
	Typ  string          `json:"typ"`
	Crit json.RawMessage `json:"crit"`
	B64  json.RawMessage `json:"b64"`
	Zip  json.RawMessage `json:"zip"`
}

// compact is a split, decoded, not yet verified compact JWS.
type compact struct {
	header    header
	rawHeader []byte
	payload   []byte
}

func parse(token string) (*compact, error) {
	malformed := func(format string, args ...any) error {
		return fmt.Errorf("%w: jwtvc: "+format, append([]any{credential.ErrMalformed}, args...)...)
	}
	if len(token) > MaxSize {
		return nil, malformed("larger than %d bytes", MaxSize)
	}
	h64, rest, ok1 := strings.Cut(token, ".")
	p64, s64, ok2 := strings.Cut(rest, ".")
	if !ok1 || !ok2 || strings.Contains(s64, ".") {
		return nil, malformed("not a compact JWS")
	}
	if s64 == "" {
		return nil, malformed("no signature")
	}
	enc := base64.RawURLEncoding.Strict()
	tok := &compact{}
	var err error
	if tok.rawHeader, err = enc.DecodeString(h64); err != nil {
		return nil, malformed("header is not base64url")
	}
	if err := josekey.DecodeObject(tok.rawHeader, &tok.header); err != nil {
		return nil, malformed("header: %v", err)
	}
	if tok.header.Crit != nil || tok.header.B64 != nil || tok.header.Zip != nil {
		return nil, malformed("crit, b64 and zip headers are not supported")
	}
	if tok.payload, err = enc.DecodeString(p64); err != nil {
		return nil, malformed("payload is not base64url")
	}
	if _, err := enc.DecodeString(s64); err != nil {
		return nil, malformed("signature is not base64url")
	}
	return tok, nil
}

// claimsIn is the claims set as Verify reads it.
type claimsIn struct {
	Iss string       `json:"iss"`
	Sub *string      `json:"sub"`
	Jti *string      `json:"jti"`
	Nbf *numericDate `json:"nbf"`
	Iat *numericDate `json:"iat"`
	Exp *numericDate `json:"exp"`
	Cnf *struct {
		JWK json.RawMessage `json:"jwk"`
	} `json:"cnf"`
	VC *vcIn `json:"vc"`
}

// vcIn is the vc claim as Verify reads it.
type vcIn struct {
	Context           []string          `json:"@context"`
	ID                *string           `json:"id"`
	Type              jwtclaims.Strings `json:"type"`
	Issuer            json.RawMessage   `json:"issuer"`
	IssuanceDate      *string           `json:"issuanceDate"`
	ExpirationDate    *string           `json:"expirationDate"`
	CredentialSubject map[string]any    `json:"credentialSubject"`
	CredentialStatus  any               `json:"credentialStatus"`
}

// credential checks the claims' structure and the agreement of the
// duplicated values, and returns the credential.
func (cl *claimsIn) credential() (Credential, error) {
	vc := cl.VC
	if vc == nil {
		return Credential{}, errors.New("no vc claim")
	}
	if len(vc.Context) == 0 || vc.Context[0] != ContextV1 {
		return Credential{}, fmt.Errorf("vc.@context does not start with %s", ContextV1)
	}
	if !slices.Contains(vc.Type, TypeVerifiableCredential) {
		return Credential{}, fmt.Errorf("vc.type does not include %s", TypeVerifiableCredential)
	}
	if vc.CredentialSubject == nil {
		return Credential{}, errors.New("vc.credentialSubject is not an object")
	}
	c := Credential{
		Issuer:   cl.Iss,
		Types:    vc.Type,
		Contexts: vc.Context,
		Status:   vc.CredentialStatus,
	}

	// iss and vc.issuer (a string or an object with an id).
	if len(vc.Issuer) > 0 {
		issuer, err := issuerID(vc.Issuer)
		if err != nil {
			return Credential{}, err
		}
		if issuer != cl.Iss {
			return Credential{}, errors.New("vc.issuer and iss differ")
		}
	}

	// jti and vc.id.
	switch {
	case cl.Jti != nil && vc.ID != nil && *cl.Jti != *vc.ID:
		return Credential{}, errors.New("vc.id and jti differ")
	case cl.Jti != nil:
		c.ID = *cl.Jti
	case vc.ID != nil:
		c.ID = *vc.ID
	}

	// sub and vc.credentialSubject.id.
	c.Subject = make(map[string]any, len(vc.CredentialSubject))
	for k, v := range vc.CredentialSubject {
		if k != "id" {
			c.Subject[k] = v
		}
	}
	var subjectID *string
	if v, ok := vc.CredentialSubject["id"]; ok {
		s, ok := v.(string)
		if !ok {
			return Credential{}, errors.New("vc.credentialSubject.id is not a string")
		}
		subjectID = &s
	}
	switch {
	case cl.Sub != nil && subjectID != nil && *cl.Sub != *subjectID:
		return Credential{}, errors.New("vc.credentialSubject.id and sub differ")
	case cl.Sub != nil:
		c.SubjectID = *cl.Sub
	case subjectID != nil:
		c.SubjectID = *subjectID
	}

	// nbf and vc.issuanceDate; exp and vc.expirationDate.
	var err error
	if c.ValidFrom, err = agreeingDate(cl.Nbf, vc.IssuanceDate, "nbf", "issuanceDate"); err != nil {
		return Credential{}, err
	}
	if c.ValidFrom.IsZero() {
		return Credential{}, errors.New("neither nbf nor vc.issuanceDate")
	}
	if c.ValidUntil, err = agreeingDate(cl.Exp, vc.ExpirationDate, "exp", "expirationDate"); err != nil {
		return Credential{}, err
	}
	if cl.Iat != nil {
		c.IssuedAt = cl.Iat.Time()
	}

	if cl.Cnf != nil {
		if c.HolderJWK, err = parseHolderJWK(cl.Cnf.JWK); err != nil {
			return Credential{}, err
		}
	}
	return c, nil
}

// agreeingDate returns the time a JWT NumericDate and a vc date give, and
// an error if both are present and name different seconds.
func agreeingDate(n *numericDate, s *string, nName, sName string) (time.Time, error) {
	var fromN, fromS time.Time
	if n != nil {
		fromN = n.Time()
	}
	if s != nil {
		t, err := time.Parse(time.RFC3339Nano, *s)
		if err != nil {
			return time.Time{}, fmt.Errorf("vc.%s is not a date-time", sName)
		}
		fromS = t
	}
	switch {
	case n != nil && s != nil:
		if fromN.Unix() != fromS.Unix() {
			return time.Time{}, fmt.Errorf("vc.%s and %s differ", sName, nName)
		}
		return fromN, nil
	case n != nil:
		return fromN, nil
	default:
		return fromS, nil
	}
}

// issuerID reads vc.issuer: a string, or an object whose id is one.
func issuerID(raw json.RawMessage) (string, error) {
	var s string
	if err := json.Unmarshal(raw, &s); err == nil {
		return s, nil
	}
	var o struct {
		ID string `json:"id"`
	}
	if err := json.Unmarshal(raw, &o); err != nil || o.ID == "" {
		return "", errors.New("vc.issuer is neither a string nor an object with an id")
	}
	return o.ID, nil
}

// privateJWKMembers are the members of private or symmetric JWKs.
var privateJWKMembers = []string{"d", "p", "q", "dp", "dq", "qi", "oth", "k"}

// parseHolderJWK parses cnf.jwk, which must be a public key.
func parseHolderJWK(raw json.RawMessage) (jwk.Key, error) {
	var members map[string]json.RawMessage
	if err := json.Unmarshal(raw, &members); err != nil || members == nil {
		return nil, errors.New("cnf.jwk is not a JSON object")
	}
	for _, m := range privateJWKMembers {
		if _, ok := members[m]; ok {
			return nil, errors.New("cnf.jwk has private key members")
		}
	}
	k, err := jwk.ParseKey(raw)
	if err != nil {
		return nil, fmt.Errorf("cnf.jwk: %v", err)
	}
	if private, err := jwk.IsPrivateKey(k); err != nil || private {
		return nil, errors.New("cnf.jwk is not a public key")
	}
	return k, nil
}

// truncate shortens attacker-supplied text before it goes into an error.
func truncate(s string) string {
	if len(s) > 32 {
		return s[:32] + "…"
	}
	return s
}

// numericDate is a JWT NumericDate (package jwtclaims).
type numericDate = jwtclaims.NumericDate
