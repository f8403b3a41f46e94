package issuer

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/sanad-id/sanad/credential"
	"github.com/sanad-id/sanad/credential/did"
	"github.com/sanad-id/sanad/credential/jsonld"
	"github.com/sanad-id/sanad/credential/jwtvc"
)

// jwtVCFormat issues jwt_vc_json credentials: W3C VCDM 1.1 credentials
// secured as JWTs (package credential/jwtvc). The rendered claims are the
// credentialSubject; a bound credential's subject id is the holder's DID,
// or the did:jwk of its key when the proof named the key by jwk or x5c.
type jwtVCFormat struct{}

var _ Format = jwtVCFormat{}

// Name implements Format.
func (jwtVCFormat) Name() string { return credential.FormatJWTVC }

// Validate implements Format: the types include VerifiableCredential and
// at least one more, and the contexts start with the VCDM 1.1 context (no
// contexts means that context alone).
func (jwtVCFormat) Validate(c *Configuration) error {
	var errs []error
	if !slices.Contains(c.Types, jwtvc.TypeVerifiableCredential) {
		errs = append(errs, fmt.Errorf("types must include %s", jwtvc.TypeVerifiableCredential))
	}
	if len(c.Types) < 2 {
		errs = append(errs, fmt.Errorf("types must name the credential's own type besides %s", jwtvc.TypeVerifiableCredential))
	}
	for i, t := range c.Types {
		if t == "" || slices.Contains(c.Types[:i], t) {
			errs = append(errs, fmt.Errorf("type %q is empty or listed twice", t))
		}
	}
	if len(c.Contexts) > 0 && c.Contexts[0] != jwtvc.ContextV1 {
		errs = append(errs, fmt.Errorf("contexts must start with %s", jwtvc.ContextV1))
	}
	if _, ok := c.Subject["id"]; ok {
		errs = append(errs, errors.New("the template must not set credentialSubject id: it is the holder's DID"))
	}
	return errors.Join(errs...)
}

// Metadata implements Format. OpenID4VCI 1.0 (appendix A.1.1.2) has
// credential_definition.type, the claims being in credential_metadata;
// draft 13 also describes the claims in
// credential_definition.credentialSubject and gives the @context, which
// draft-13 wallets send back in the request.
func (jwtVCFormat) Metadata(c *Configuration, draft13 bool) map[string]any {
	def := map[string]any{"type": c.Types}
	if draft13 {
		def["@context"] = jwtVCContexts(c, false)
		def["credentialSubject"] = draft13ClaimDescriptions(c.Claims)
	}
	return map[string]any{"credential_definition": def}
}

// MatchesDraft13 implements Format: format jwt_vc_json and the same set of
// types (in any order).
func (jwtVCFormat) MatchesDraft13(c *Configuration, req Draft13Selector) bool {
	if req.Format != credential.FormatJWTVC {
		return false
	}
	return sameStringSet(req.Types, c.Types)
}

// Issue implements Format: the result is the JWT.
func (jwtVCFormat) Issue(ctx context.Context, in IssueInput) (any, error) {
	c := in.Config
	if c == nil || in.Signer == nil {
		return nil, errors.New("issuer: jwt_vc_json needs a configuration and a signer")
	}
	cred := jwtvc.Credential{
		ID:         in.ID,
		Issuer:     in.Issuer,
		Types:      c.Types,
		Contexts:   jwtVCContexts(c, in.Status != nil),
		Subject:    in.Claims,
		IssuedAt:   in.IssuedAt,
		ValidFrom:  in.ValidFrom,
		ValidUntil: in.ValidUntil,
		Status:     in.Status,
	}
	if cred.ValidFrom.IsZero() {
		cred.ValidFrom = in.IssuedAt
	}
	if h := in.Holder; h != nil {
		if h.JWK == nil {
			return nil, errors.New("issuer: holder key without a JWK")
		}
		cred.HolderJWK = h.JWK
		cred.SubjectID = h.DID
		if cred.SubjectID == "" {
			id, err := did.JWKDID(h.JWK)
			if err != nil {
				return nil, fmt.Errorf("issuer: holder did:jwk: %w", err)
			}
			cred.SubjectID = id
		}
	}
	jwt, err := jwtvc.Issue(ctx, in.Signer, cred)
	if err != nil {
		return nil, fmt.Errorf("issuer: configuration %q: %w", c.ID, err)
	}
	return jwt, nil
}

// jwtVCContexts are c's contexts, [ContextV1] when it lists none.
// With a credentialStatus, the Bitstring Status List context is added
// (when the configuration does not list it) so that the status entry's
// terms are defined for verifiers that process the credential as JSON-LD.
func jwtVCContexts(c *Configuration, status bool) []string {
	ctxs := c.Contexts
	if len(ctxs) == 0 {
		ctxs = []string{jwtvc.ContextV1}
	}
	if status && !slices.Contains(ctxs, jsonld.StatusListV1) {
		ctxs = append(slices.Clip(ctxs), jsonld.StatusListV1)
	}
	return ctxs
}

// sameStringSet reports whether a and b hold the same strings, ignoring
// order and repetition.
func sameStringSet(a, b []string) bool {
	if len(a) == 0 || len(b) == 0 {
		return false
	}
	for _, s := range a {
		if !slices.Contains(b, s) {
			return false
		}
	}
	for _, s := range b {
		if !slices.Contains(a, s) {
			return false
		}
	}
	return true
}
