package verify

import (
	"context"
	"errors"
	"math"
	"slices"
	"time"

	"github.com/sanad-id/sanad/credential"
	"github.com/sanad-id/sanad/credential/jwtvc"
	"github.com/sanad-id/sanad/credential/sdjwt"
)

func (v *verifier) clock() time.Time { return v.now }

// jwtVC verifies a jwt_vc_json credential. payload is its claims set,
// decoded but not verified: it fills the Result as far as it goes, and
// jwtvc.Verify decides.
func (v *verifier) jwtVC(ctx context.Context, r *Result, token string, payload map[string]any) {
	r.Format = credential.FormatJWTVC
	vc, _ := payload["vc"].(map[string]any)
	r.Issuer, _ = payload["iss"].(string)
	if r.Issuer == "" {
		r.Issuer, _ = issuerOf(vc)
	}
	if r.ID, _ = payload["jti"].(string); r.ID == "" {
		r.ID, _ = vc["id"].(string)
	}
	r.Types = stringList(vc["type"])
	if cs, ok := vc["credentialSubject"].(map[string]any); ok {
		r.Claims = cs
		r.Subject, _ = cs["id"].(string)
	}
	if sub, ok := payload["sub"].(string); ok {
		r.Subject = sub
	}
	r.ValidFrom = numericDate(payload["nbf"])
	r.ValidUntil = numericDate(payload["exp"])
	if from, until, err := period(vc); err == nil {
		if r.ValidFrom.IsZero() {
			r.ValidFrom = from
		}
		if r.ValidUntil.IsZero() {
			r.ValidUntil = until
		}
	}

	verified, err := jwtvc.Verify(ctx, token, jwtvc.VerifyOptions{Keys: v.keys, Algs: v.algs, Now: v.clock, Leeway: v.skew})
	switch {
	case err == nil:
		c := verified.Credential
		r.Issuer, r.ID, r.Types, r.Subject = c.Issuer, c.ID, c.Types, c.SubjectID
		r.ValidFrom, r.ValidUntil = c.ValidFrom, c.ValidUntil
		r.pass(CheckFormat)
		r.pass(CheckSignature)
		v.checkIssuer(r)
		r.pass(CheckValidity)
	case errors.Is(err, credential.ErrExpired), errors.Is(err, credential.ErrNotYetValid):
		r.pass(CheckFormat)
		r.pass(CheckSignature)
		v.checkIssuer(r)
		r.fail(CheckValidity, err)
	case errors.Is(err, credential.ErrSignature):
		r.pass(CheckFormat)
		r.fail(CheckSignature, err)
		v.checkIssuer(r)
		r.skip(CheckValidity, "not checked: the signature did not verify")
	default:
		r.fail(CheckFormat, err)
		v.skipRest(r, "the credential did not parse")
		return
	}
	_, bound := payload["cnf"]
	v.noHolderProof(r, bound)
	if v.statusBlocked(r) {
		return
	}
	v.w3cStatus(ctx, r, vc["credentialStatus"])
}

// numericDate reads a JWT NumericDate decoded by encoding/json; zero when
// absent or not a usable number.
func numericDate(v any) time.Time {
	f, ok := v.(float64)
	if !ok || math.IsNaN(f) || f < 0 || f > 1e11 {
		return time.Time{}
	}
	sec, frac := math.Modf(f)
	return time.Unix(int64(sec), int64(frac*1e9)).UTC()
}

// registeredVC are the SD-JWT VC claims that describe the credential
// rather than its subject; Result.Claims leaves them out (they are in the
// Result's other fields).
var registeredVC = []string{"iss", "sub", "iat", "nbf", "exp", "cnf", "vct", "vct#integrity", "status", "jti"}

// sdJWT verifies an SD-JWT VC, with or without a KB-JWT.
func (v *verifier) sdJWT(ctx context.Context, r *Result, s string) {
	r.Format = credential.FormatSDJWTVC
	tok, err := sdjwt.Parse(s)
	if err != nil {
		r.fail(CheckFormat, err)
		v.skipRest(r, "the credential did not parse")
		return
	}
	if typ, _ := tok.Header["typ"].(string); typIs(typ, credential.FormatSDJWTVCLegacy) {
		r.Format = credential.FormatSDJWTVCLegacy
	}
	r.Issuer, r.Subject = tok.Issuer, tok.Subject
	r.ID, _ = tok.Claims["jti"].(string)
	if tok.VCT != "" {
		r.Types = []string{tok.VCT}
	}
	r.Claims = make(map[string]any, len(tok.Claims))
	for k, c := range tok.Claims {
		if !slices.Contains(registeredVC, k) {
			r.Claims[k] = c
		}
	}
	r.ValidFrom, r.ValidUntil = tok.NotBefore, tok.Expires
	if r.ValidFrom.IsZero() {
		r.ValidFrom = tok.IssuedAt
	}

	leeway := v.skew
	if leeway == 0 {
		leeway = -1 // sdjwt reads zero as its default
	}
	_, err = sdjwt.VerifyVC(ctx, s, sdjwt.VerifyOptions{
		Keys:              v.keys,
		Algs:              v.algs,
		Now:               v.clock,
		Leeway:            leeway,
		RequireKeyBinding: v.opts.RequireHolderBinding,
		Nonce:             v.opts.Nonce,
		Audience:          v.opts.Audience,
	})
	switch {
	case err == nil:
		r.pass(CheckFormat)
		r.pass(CheckSignature)
		v.checkIssuer(r)
		r.pass(CheckValidity)
		switch {
		case tok.KBJWT != "":
			r.pass(CheckHolderBinding)
		case tok.HolderKey != nil:
			r.skip(CheckHolderBinding, "presented without a key binding JWT, which was not required")
		default:
			r.skip(CheckHolderBinding, "the credential is not bound to a holder key")
		}
	case errors.Is(err, credential.ErrHolderBinding):
		r.pass(CheckFormat)
		r.pass(CheckSignature)
		v.checkIssuer(r)
		r.pass(CheckValidity)
		r.fail(CheckHolderBinding, err)
	case errors.Is(err, credential.ErrExpired), errors.Is(err, credential.ErrNotYetValid):
		r.pass(CheckFormat)
		r.pass(CheckSignature)
		v.checkIssuer(r)
		r.fail(CheckValidity, err)
		r.skip(CheckHolderBinding, "not checked: the credential is outside its validity period")
	case errors.Is(err, credential.ErrSignature), errors.Is(err, credential.ErrDisclosure):
		r.pass(CheckFormat)
		r.fail(CheckSignature, err)
		v.checkIssuer(r)
		r.skip(CheckValidity, "not checked: the signature did not verify")
		r.skip(CheckHolderBinding, "not checked: the signature did not verify")
	default:
		r.fail(CheckFormat, err)
		v.skipRest(r, "the credential did not parse")
		return
	}
	if v.statusBlocked(r) {
		return
	}
	v.tokenStatus(ctx, r, tok.Status)
}
