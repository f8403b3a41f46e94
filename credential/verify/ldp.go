package verify

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/sanad-id/sanad/credential"
	"github.com/sanad-id/sanad/credential/ldp"
)

// ldp verifies an ldp_vc credential.
func (v *verifier) ldp(ctx context.Context, r *Result, doc map[string]any) {
	r.Format = credential.FormatLDPVC
	issuer, err := issuerOf(doc)
	if err != nil {
		r.fail(CheckFormat, err)
		v.skipRest(r, "the credential did not parse")
		return
	}
	r.Issuer = issuer
	r.ID, _ = doc["id"].(string)
	r.Types = stringList(doc["type"])
	switch s := doc["credentialSubject"].(type) {
	case map[string]any:
		r.Claims = s
		r.Subject, _ = s["id"].(string)
	case []any:
		r.Claims = map[string]any{"credentialSubject": s}
	default:
		r.fail(CheckFormat, malformed("credentialSubject is neither an object nor an array"))
		v.skipRest(r, "the credential did not parse")
		return
	}
	from, until, err := period(doc)
	if err != nil {
		r.fail(CheckFormat, err)
		v.skipRest(r, "the credential did not parse")
		return
	}
	r.ValidFrom, r.ValidUntil = from, until
	r.pass(CheckFormat)

	_, err = ldp.Verify(ctx, doc, v.ldpOptions(issuer))
	if err != nil {
		r.fail(CheckSignature, signatureError(err))
	} else {
		r.pass(CheckSignature)
	}
	v.checkIssuer(r)
	if r.failed(CheckSignature) {
		r.skip(CheckValidity, "not checked: the signature did not verify")
		v.noHolderProof(r, false)
		r.skip(CheckStatus, "not checked: the signature did not verify")
		return
	}
	if err := v.checkPeriod(from, until); err != nil {
		r.fail(CheckValidity, err)
	} else {
		r.pass(CheckValidity)
	}
	v.noHolderProof(r, false)
	if v.statusBlocked(r) {
		return
	}
	v.w3cStatus(ctx, r, doc["credentialStatus"])
}

func (v *verifier) ldpOptions(controller string) ldp.VerifyOptions {
	return ldp.VerifyOptions{
		Loader:     v.loader,
		Methods:    v.methods,
		Suites:     v.opts.Suites,
		Controller: controller,
		Now:        v.clock,
	}
}

// signatureError makes sure a proof failure matches
// credential.ErrSignature (an unsupported suite is one) while keeping what
// it wraps.
func signatureError(err error) error {
	if errors.Is(err, credential.ErrSignature) || errors.Is(err, credential.ErrMalformed) {
		return err
	}
	return fmt.Errorf("%w: %w", credential.ErrSignature, err)
}

// skipRest adds the checks that were not run because the credential did
// not parse.
func (v *verifier) skipRest(r *Result, reason string) {
	names := []string{CheckSignature, CheckIssuer, CheckValidity, CheckHolderBinding, CheckStatus}
	for _, name := range names {
		if name == CheckIssuer && len(v.opts.TrustedIssuers) == 0 {
			continue
		}
		r.skip(name, "not checked: "+reason)
	}
}

// issuerOf reads a JSON-LD credential's issuer: a string, or an object
// whose id is one.
func issuerOf(doc map[string]any) (string, error) {
	switch is := doc["issuer"].(type) {
	case string:
		if is != "" {
			return is, nil
		}
	case map[string]any:
		if id, ok := is["id"].(string); ok && id != "" {
			return id, nil
		}
	}
	return "", malformed("issuer is neither a string nor an object with an id")
}

// stringList reads a JSON-LD value that is a string or an array of them.
func stringList(v any) []string {
	switch t := v.(type) {
	case string:
		return []string{t}
	case []any:
		out := make([]string, 0, len(t))
		for _, e := range t {
			if s, ok := e.(string); ok {
				out = append(out, s)
			}
		}
		return out
	}
	return nil
}

// period reads the validity period of a JSON-LD credential: validFrom and
// validUntil (VCDM 2.0) or issuanceDate and expirationDate (VCDM 1.1).
// When a credential has both, the narrower bounds apply.
func period(doc map[string]any) (from, until time.Time, err error) {
	for _, f := range []struct {
		name  string
		start bool
	}{{"issuanceDate", true}, {"validFrom", true}, {"expirationDate", false}, {"validUntil", false}} {
		raw, ok := doc[f.name]
		if !ok {
			continue
		}
		s, ok := raw.(string)
		if !ok {
			return time.Time{}, time.Time{}, malformed("%s is not a string", f.name)
		}
		t, err := parseDateTime(s)
		if err != nil {
			return time.Time{}, time.Time{}, malformed("%s is not an XML Schema dateTime", f.name)
		}
		switch {
		case f.start && (from.IsZero() || t.After(from)):
			from = t
		case !f.start && (until.IsZero() || t.Before(until)):
			until = t
		}
	}
	return from, until, nil
}

// parseDateTime parses an xsd:dateTime; one without a time zone (VCDM 1.1
// allows it) is read as UTC.
func parseDateTime(s string) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t, nil
	}
	return time.Parse("2006-01-02T15:04:05.999999999", s)
}
