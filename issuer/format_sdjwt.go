package issuer

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/sanad-id/sanad/credential"
	"github.com/sanad-id/sanad/credential/sdjwt"
)

// sdJWTVCFormat issues IETF SD-JWT VCs (dc+sd-jwt; vc+sd-jwt for a
// configuration with LegacyTyp). The claims a configuration marks
// Disclosable are selectively disclosable; the rest, and the registered
// claims (iss, vct, iat, nbf, exp, cnf, status), are signed in the clear.
type sdJWTVCFormat struct{}

var _ Format = sdJWTVCFormat{}

// Name implements Format.
func (sdJWTVCFormat) Name() string { return credential.FormatSDJWTVC }

// Validate implements Format: a vct, a template that does not set the
// registered claims, and disclosable claims that may be disclosable and
// are in the template (when the configuration has one; LoadTemplates
// requires it).
func (sdJWTVCFormat) Validate(c *Configuration) error {
	var errs []error
	if c.VCT == "" {
		errs = append(errs, errors.New("vct is required for "+credential.FormatSDJWTVC))
	}
	for _, cl := range c.Claims {
		if len(cl.Path) == 0 {
			errs = append(errs, errors.New("a claim has an empty path"))
			continue
		}
		if !cl.Disclosable {
			continue
		}
		p := sdClaimPath(cl.Path)
		if err := sdjwt.CheckVC(nil, []sdjwt.Path{p}); err != nil {
			errs = append(errs, fmt.Errorf("disclosable claim %s: %w", p, err))
			continue
		}
		if c.Subject != nil && !sdTemplateHas(c.Subject, cl.Path) {
			errs = append(errs, fmt.Errorf("disclosable claim %s is not in the template", p))
		}
	}
	if err := sdjwt.CheckVC(c.Subject, nil); err != nil {
		errs = append(errs, fmt.Errorf("template: %w", err))
	}
	return errors.Join(errs...)
}

// Metadata implements Format. OpenID4VCI 1.0 describes claims in
// credential_metadata, which the metadata code builds for every format, so
// only vct is format-specific; draft 13 adds the claims object, nested
// like the claims ({"address": {"locality": {"display": [...]}}}).
func (sdJWTVCFormat) Metadata(c *Configuration, draft13 bool) map[string]any {
	m := map[string]any{"vct": c.VCT}
	if draft13 {
		m["claims"] = draft13ClaimDescriptions(c.Claims)
	}
	return m
}

// MatchesDraft13 implements Format: format dc+sd-jwt or vc+sd-jwt and the
// configuration's vct.
func (sdJWTVCFormat) MatchesDraft13(c *Configuration, req Draft13Selector) bool {
	if req.Format != credential.FormatSDJWTVC && req.Format != credential.FormatSDJWTVCLegacy {
		return false
	}
	return req.VCT != "" && req.VCT == c.VCT
}

// Issue implements Format: the result is the SD-JWT VC string.
func (sdJWTVCFormat) Issue(ctx context.Context, in IssueInput) (any, error) {
	c := in.Config
	if c == nil || in.Signer == nil {
		return nil, errors.New("issuer: SD-JWT VC needs a configuration and a signer")
	}
	var paths []sdjwt.Path
	for _, cl := range c.Claims {
		if cl.Disclosable {
			paths = append(paths, sdClaimPath(cl.Path))
		}
	}
	var status map[string]any
	if in.Status != nil {
		m, ok := in.Status.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("issuer: SD-JWT VC status must be an object, got %T", in.Status)
		}
		status = m
	}
	vc := sdjwt.VC{
		Issuer:      in.Issuer,
		VCT:         c.VCT,
		IssuedAt:    in.IssuedAt,
		NotBefore:   in.ValidFrom,
		Expires:     in.ValidUntil,
		Status:      status,
		Claims:      in.Claims,
		Disclosable: paths,
		X5C:         in.X5C,
		LegacyTyp:   c.LegacyTyp,
	}
	if in.Holder != nil {
		if in.Holder.JWK == nil {
			return nil, errors.New("issuer: holder key without a JWK")
		}
		vc.Holder = in.Holder.JWK
	}
	s, err := sdjwt.IssueVC(ctx, in.Signer, vc)
	if err != nil {
		return nil, fmt.Errorf("issuer: configuration %q: %w", c.ID, err)
	}
	return s, nil
}

// sdClaimPath is a configuration claim path as an sdjwt.Path.
func sdClaimPath(p []string) sdjwt.Path {
	out := make(sdjwt.Path, len(p))
	for i, k := range p {
		out[i] = k
	}
	return out
}

// sdTemplateHas reports whether the template has a member at path (object
// keys only, as configuration claim paths are), or a path leading into a
// "{{ expr }}" leaf, whose rendered value may be an object.
func sdTemplateHas(tmpl map[string]any, path []string) bool {
	var v any = tmpl
	for _, k := range path {
		switch x := v.(type) {
		case map[string]any:
			var ok bool
			if v, ok = x[k]; !ok {
				return false
			}
		case string:
			return sdIsExpression(x)
		default:
			return false
		}
	}
	return true
}

// sdIsExpression reports whether a template string is exactly one
// {{ expression }}, which renders to a value of any JSON type.
func sdIsExpression(s string) bool {
	s = strings.TrimSpace(s)
	return strings.HasPrefix(s, "{{") && strings.HasSuffix(s, "}}") && strings.Count(s, "{{") == 1
}
