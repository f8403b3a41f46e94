package issuer

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/sanad-id/sanad/credential"
	"github.com/sanad-id/sanad/credential/did"
	"github.com/sanad-id/sanad/credential/jsonld"
	"github.com/sanad-id/sanad/credential/ldp"
)

// ldpVCFormat issues ldp_vc credentials: W3C credentials secured with a
// Data Integrity proof (package credential/ldp), in the data model and
// cryptosuite of the configuration. The issuer is the issuer's DID, whose
// document (/.well-known/did.json) lists the signing keys; the rendered
// claims are the credentialSubject, whose id is the holder's DID for a
// bound credential. The credential is a JSON object, put as is in the
// credential response.
type ldpVCFormat struct{}

var _ Format = ldpVCFormat{}

// Name implements Format.
func (ldpVCFormat) Name() string { return credential.FormatLDPVC }

// Validate implements Format: the types include VerifiableCredential and
// at least one more; the data model and cryptosuite are known and agree
// (Ed25519Signature2020 secures VCDM 1.1 only), signing_alg is the
// suite's; the template's contexts do not name the other data model's
// base context. That each context is bundled or registered is checked by
// New, which has the loader.
func (ldpVCFormat) Validate(c *Configuration) error {
	var errs []error
	if !slices.Contains(c.Types, "VerifiableCredential") {
		errs = append(errs, errors.New("types must include VerifiableCredential"))
	}
	if len(c.Types) < 2 {
		errs = append(errs, errors.New("types must name the credential's own type besides VerifiableCredential"))
	}
	for i, t := range c.Types {
		if t == "" || slices.Contains(c.Types[:i], t) {
			errs = append(errs, fmt.Errorf("type %q is empty or listed twice", t))
		}
	}
	switch c.DataModel {
	case DataModel20, DataModel11:
	default:
		errs = append(errs, fmt.Errorf("data model %q is not %s or %s", c.DataModel, DataModel20, DataModel11))
	}
	alg, err := ldp.SuiteAlg(c.Cryptosuite)
	switch {
	case !slices.Contains(templateSuites, c.Cryptosuite) || err != nil:
		errs = append(errs, fmt.Errorf("cryptosuite %q is not one of %v", c.Cryptosuite, templateSuites))
	case c.SigningAlg != alg:
		errs = append(errs, fmt.Errorf("signing_alg %q does not sign %s (%s does)", c.SigningAlg, c.Cryptosuite, alg))
	}
	if c.Cryptosuite == ldp.SuiteEd25519Signature2020 && c.DataModel != DataModel11 {
		errs = append(errs, fmt.Errorf("%s secures VCDM %s credentials only", ldp.SuiteEd25519Signature2020, DataModel11))
	}
	other := jsonld.CredentialsV1
	if c.DataModel == DataModel11 {
		other = jsonld.CredentialsV2
	}
	if slices.Contains(c.Contexts, other) {
		errs = append(errs, fmt.Errorf("context %s belongs to the other data model than %s", other, c.DataModel))
	}
	if _, ok := c.Subject["id"]; ok {
		errs = append(errs, errors.New("the template must not set credentialSubject id: it is the holder's DID"))
	}
	return errors.Join(errs...)
}

// ldpContexts is the @context of c's credentials: the data model's base
// context (VCDM 1.1 also needs the suite's context: Ed25519Signature2020's,
// or Data Integrity's for DataIntegrityProof suites), then the template's
// contexts, without repetition. status adds the Bitstring Status List
// context to VCDM 1.1 credentials that carry a credentialStatus (VCDM
// 2.0's base context defines its terms).
func ldpContexts(c *Configuration, status bool) []string {
	var out []string
	if c.DataModel == DataModel11 {
		out = []string{jsonld.CredentialsV1, jsonld.DataIntegrityV2}
		if c.Cryptosuite == ldp.SuiteEd25519Signature2020 {
			out[1] = jsonld.Ed25519Suite2020V1
		}
	} else {
		out = []string{jsonld.CredentialsV2}
	}
	for _, u := range c.Contexts {
		if !slices.Contains(out, u) {
			out = append(out, u)
		}
	}
	if status && c.DataModel == DataModel11 && !slices.Contains(out, jsonld.StatusListV1) {
		out = append(out, jsonld.StatusListV1)
	}
	return out
}

// Metadata implements Format: credential_definition with @context and type
// (OpenID4VCI 1.0 appendix A.1.2; draft 13 adds credentialSubject, the
// claim display) and the cryptosuite as
// credential_signing_alg_values_supported, which for ldp_vc names
// cryptosuites or proof types, not JOSE algorithms.
func (ldpVCFormat) Metadata(c *Configuration, draft13 bool) map[string]any {
	def := map[string]any{"@context": ldpContexts(c, false), "type": c.Types}
	if draft13 {
		def["credentialSubject"] = draft13ClaimDescriptions(c.Claims)
	}
	return map[string]any{
		"credential_definition":                   def,
		"credential_signing_alg_values_supported": []string{c.Cryptosuite},
	}
}

// MatchesDraft13 implements Format: format ldp_vc, the same set of types
// and, when the request gives an @context, the same set of contexts as
// the metadata (the Bitstring Status List context, which a VCDM 1.1
// credential may add, aside). The @context tells apart configurations of
// the same types in both data models.
func (ldpVCFormat) MatchesDraft13(c *Configuration, req Draft13Selector) bool {
	if req.Format != credential.FormatLDPVC || !sameStringSet(req.Types, c.Types) {
		return false
	}
	if len(req.Contexts) == 0 {
		return true
	}
	ctxs := slices.DeleteFunc(slices.Clone(req.Contexts), func(s string) bool { return s == jsonld.StatusListV1 })
	return sameStringSet(ctxs, ldpContexts(c, false))
}

// Issue implements Format: the result is the signed credential, a JSON
// object (map[string]any). in.Claims becomes its credentialSubject: they
// are converted to plain JSON values and given the holder's id in place.
func (ldpVCFormat) Issue(ctx context.Context, in IssueInput) (any, error) {
	c := in.Config
	switch {
	case c == nil || in.Signer == nil:
		return nil, errors.New("issuer: ldp_vc needs a configuration and a signer")
	case in.IssuerDID == "":
		return nil, errors.New("issuer: ldp_vc needs the issuer's DID")
	case in.Contexts == nil:
		return nil, errors.New("issuer: ldp_vc needs the JSON-LD contexts")
	}
	// issue() gives each credential its own copy of the claims
	// (cloneClaims): they are converted, and the holder's id added, in
	// place.
	claims := in.Claims
	if claims == nil {
		claims = map[string]any{}
	}
	if _, err := ldpJSON(claims); err != nil {
		return nil, fmt.Errorf("issuer: configuration %q: claims: %w", c.ID, err)
	}
	if h := in.Holder; h != nil {
		var err error
		id := h.DID
		if id == "" {
			if h.JWK == nil {
				return nil, errors.New("issuer: holder key without a JWK")
			}
			if id, err = did.JWKDID(h.JWK); err != nil {
				return nil, fmt.Errorf("issuer: holder did:jwk: %w", err)
			}
		}
		claims["id"] = id
	}
	validFrom := in.ValidFrom
	if validFrom.IsZero() {
		validFrom = in.IssuedAt
	}
	doc := map[string]any{
		"@context":          ldpStrings(ldpContexts(c, in.Status != nil)),
		"type":              ldpStrings(c.Types),
		"issuer":            in.IssuerDID,
		"credentialSubject": claims,
	}
	if in.ID != "" {
		doc["id"] = in.ID
	}
	from, until := "validFrom", "validUntil"
	if c.DataModel == DataModel11 {
		from, until = "issuanceDate", "expirationDate"
	}
	doc[from] = ldpDate(validFrom)
	if !in.ValidUntil.IsZero() {
		doc[until] = ldpDate(in.ValidUntil)
	}
	if in.Status != nil {
		status, err := ldpJSON(in.Status)
		if err != nil {
			return nil, fmt.Errorf("issuer: configuration %q: credentialStatus: %w", c.ID, err)
		}
		doc["credentialStatus"] = status
	}
	signed, err := ldp.Sign(ctx, in.Contexts, doc, in.Signer, ldp.SignOptions{
		Suite:              c.Cryptosuite,
		VerificationMethod: ldpMethodID(in.IssuerDID, in.Signer.KeyID(), c.Cryptosuite),
		Created:            in.IssuedAt,
	})
	if err != nil {
		return nil, fmt.Errorf("issuer: configuration %q: %w", c.ID, err)
	}
	return signed, nil
}

// ldpDate formats a credential date: RFC 3339 in UTC, to the second.
func ldpDate(t time.Time) string { return t.UTC().Truncate(time.Second).Format(time.RFC3339) }

// ldpStrings is s as a JSON array value.
func ldpStrings(s []string) []any {
	out := make([]any, len(s))
	for i, v := range s {
		out[i] = v
	}
	return out
}

// ldpJSON returns v as encoding/json decodes JSON (map[string]any, []any,
// string, float64, bool, nil), the values JSON-LD processing takes and
// the credential response carries: rendered claims hold int64 template
// literals and json.Number identity data (written back as float64, so
// "1.50" is 1.5, as before), and a status may be a struct. Maps and
// []any slices are converted in place, not copied: the caller owns them.
func ldpJSON(v any) (any, error) {
	switch t := v.(type) {
	case nil, string, bool, float64:
		return t, nil
	case int:
		return float64(t), nil
	case int64:
		return float64(t), nil
	case json.Number:
		f, err := t.Float64()
		if err != nil {
			return nil, fmt.Errorf("number %q: %w", t, err)
		}
		return f, nil
	case map[string]any:
		for k, e := range t {
			c, err := ldpJSON(e)
			if err != nil {
				return nil, err
			}
			t[k] = c // an existing key: safe while ranging
		}
		return t, nil
	case []any:
		for i, e := range t {
			c, err := ldpJSON(e)
			if err != nil {
				return nil, err
			}
			t[i] = c
		}
		return t, nil
	}
	// Anything else (a struct, a typed map or slice): through JSON.
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	var out any
	if err := json.Unmarshal(b, &out); err != nil {
		return nil, err
	}
	return out, nil
}
