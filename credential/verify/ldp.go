package verify

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"net/url"
	"slices"
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
	if err := v.checkContexts(doc); err != nil {
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

// checkContexts is Data Integrity's context validation, unless
// Options.AllowInlineContexts: every @context of doc (the credential's, its
// proof's, one embedded in a claim) must be a context URL or an array of
// them. An inline context object can re-label terms while the RDF, and so
// the signature, stays the same (two claims' names swapped, say), so the
// JSON a user is shown could say other than what the issuer signed; a
// context named by URL is one of the loader's, fixed in advance.
func (v *verifier) checkContexts(doc map[string]any) error {
	if v.opts.AllowInlineContexts || onlyContextURLs(doc) {
		return nil
	}
	return contextURLsOnly(doc, "")
}

// onlyContextURLs is contextURLsOnly's verdict without the message: it
// builds no paths and sorts no keys, for the credentials that pass.
func onlyContextURLs(val any) bool {
	switch t := val.(type) {
	case map[string]any:
		for k, member := range t {
			if k == "@context" {
				if !contextValueOK(member) {
					return false
				}
			} else if !onlyContextURLs(member) {
				return false
			}
		}
	case []any:
		for _, e := range t {
			if !onlyContextURLs(e) {
				return false
			}
		}
	}
	return true
}

// contextURLsOnly walks a JSON value and refuses any @context member that
// is not an absolute URL string or an array of them. path names the value,
// for the message; members are visited in order, so that the message names
// the same one every time.
func contextURLsOnly(val any, path string) error {
	switch t := val.(type) {
	case map[string]any:
		for _, k := range slices.Sorted(maps.Keys(t)) {
			member := t[k]
			p := k
			if path != "" {
				p = path + "." + k
			}
			if k == "@context" {
				if err := contextURLs(member, p); err != nil {
					return err
				}
				continue
			}
			if err := contextURLsOnly(member, p); err != nil {
				return err
			}
		}
	case []any:
		for i, e := range t {
			if err := contextURLsOnly(e, fmt.Sprintf("%s[%d]", path, i)); err != nil {
				return err
			}
		}
	}
	return nil
}

// contextValueOK reports whether a @context value is a context URL or an
// array of them.
func contextValueOK(val any) bool {
	list, ok := val.([]any)
	if !ok {
		return isContextURL(val)
	}
	for _, e := range list {
		if !isContextURL(e) {
			return false
		}
	}
	return true
}

// isContextURL reports whether e is an absolute URL string.
func isContextURL(e any) bool {
	s, ok := e.(string)
	if !ok {
		return false
	}
	u, err := url.Parse(s)
	return err == nil && u.IsAbs()
}

// contextURLs checks one @context value, saying what is wrong with it.
func contextURLs(val any, path string) error {
	list, isList := val.([]any)
	if !isList {
		list = []any{val}
	}
	for i, e := range list {
		if isContextURL(e) {
			continue
		}
		p := path
		if isList {
			p = fmt.Sprintf("%s[%d]", path, i)
		}
		if s, ok := e.(string); ok {
			return malformed("%s %q is not an absolute URL: only context URLs are accepted (context validation)", p, clip(s))
		}
		return malformed("%s is %s, not a context URL: inline contexts are refused (context validation; Options.AllowInlineContexts)", p, jsonKind(e))
	}
	return nil
}

// jsonKind names the JSON type of a decoded value.
func jsonKind(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case map[string]any:
		return "an object"
	case []any:
		return "an array"
	case string:
		return "a string"
	case bool:
		return "a boolean"
	}
	return "a number"
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
