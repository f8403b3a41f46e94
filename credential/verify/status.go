package verify

import (
	"bytes"
	"context"
	"crypto"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/sanad-id/sanad/credential"
	"github.com/sanad-id/sanad/credential/jwtvc"
	"github.com/sanad-id/sanad/credential/ldp"
	"github.com/sanad-id/sanad/credential/statuslist"
	"github.com/sanad-id/sanad/internal/josekey"
)

// Accept headers of status list fetches.
const (
	// AcceptListCredential asks for a W3C status list credential: secured
	// with a Data Integrity proof (JSON-LD), or as a VCDM 1.1 VC-JWT
	// (application/jwt). VC-JOSE-COSE's application/vc+jwt (a VCDM 2.0
	// payload) is not asked for: it is not read.
	AcceptListCredential = "application/vc+ld+json, application/vc, application/jwt;q=0.8"
	// AcceptStatusListToken asks for an IETF status list token.
	AcceptStatusListToken = statuslist.MediaType
)

// statusBlocked adds a skipped status check, and reports true, when the
// status must not be fetched: the URLs a credential names are followed
// only once its signature verified and its issuer is trusted.
func (v *verifier) statusBlocked(r *Result) bool {
	switch {
	case r.failed(CheckSignature):
		r.skip(CheckStatus, "not checked: the signature did not verify")
	case r.failed(CheckIssuer):
		r.skip(CheckStatus, "not checked: the issuer is not trusted")
	default:
		return false
	}
	return true
}

// w3cStatus checks each BitstringStatusListEntry of credentialStatus.
func (v *verifier) w3cStatus(ctx context.Context, r *Result, credentialStatus any) {
	if credentialStatus == nil {
		r.skip(CheckStatus, "the credential has no status entry")
		return
	}
	entries, err := statuslist.ParseEntries(credentialStatus)
	if err != nil {
		r.fail(CheckStatus, fmt.Errorf("%w: credentialStatus: %w", credential.ErrMalformed, err))
		return
	}
	if len(entries) == 0 {
		r.skip(CheckStatus, "the credential has no BitstringStatusListEntry (other status types are not read)")
		return
	}
	for _, e := range entries {
		c := Check{Name: CheckStatus, Entry: e.StatusPurpose + " " + clipURL(e.StatusListCredential) + "#" + strconv.Itoa(e.StatusListIndex)}
		if v.opts.Status == nil {
			c.Status, c.Reason = Skipped, "not checked: no status fetcher (offline)"
			r.add(c)
			continue
		}
		if e.StatusPurpose != statuslist.PurposeRevocation && e.StatusPurpose != statuslist.PurposeSuspension {
			c.Status, c.Reason = Skipped, "status purpose is neither revocation nor suspension"
			r.add(c)
			continue
		}
		if err := v.w3cEntry(ctx, r.Issuer, e); err != nil {
			c.Status, c.Error, c.Err = Failure, message(err), err
		} else {
			c.Status = Success
		}
		r.add(c)
	}
}

// w3cEntry fetches and verifies the status list credential of e and reads
// e's bit. The list must be issued by the credential's issuer, exactly
// (the same identifier; digitalbazaar's checkStatus has the same rule),
// and verify with that issuer's keys: a Data Integrity proof by a
// verification method the issuer controls, or a VC-JWT whose iss is the
// issuer, signed with a key Options.Keys resolves for it. It must be
// within its validity and have e's purpose.
//
// Bitstring Status List 1.0 (the note of its Validate Algorithm) allows a
// list issued by another party the verifier trusts; Sanad does not relate
// identifiers (an issuer URL and a did:web of the same host are two
// issuers), so such a list is refused.
func (v *verifier) w3cEntry(ctx context.Context, issuer string, e statuslist.Entry) error {
	u := e.StatusListCredential
	body, _, err := v.fetch(ctx, u, AcceptListCredential)
	if err != nil {
		return fmt.Errorf("%w: %s: %v", ErrStatusUnavailable, clipURL(u), err)
	}
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%w: %s: "+format, append([]any{ErrStatusList, clipURL(u)}, args...)...)
	}
	notIssuer := func(listIssuer string) error {
		return bad("issued by %q, not by the credential's issuer", clip(listIssuer))
	}
	var doc map[string]any
	if b := bytes.TrimSpace(body); len(b) > 0 && b[0] == '{' {
		if err = josekey.DecodeObject(b, &doc); err != nil {
			return bad("not a JSON object: %v", err)
		}
		listIssuer, err := issuerOf(doc)
		if err != nil {
			return bad("%v", err)
		}
		if listIssuer != issuer {
			return notIssuer(listIssuer)
		}
		if err := v.checkContexts(doc); err != nil {
			return bad("%w", err)
		}
		if _, err := ldp.Verify(ctx, doc, v.ldpOptions(issuer)); err != nil {
			return bad("proof: %w", err)
		}
	} else {
		token := string(b)
		// The claims are read unverified only to refuse another issuer's
		// list before any key is resolved.
		_, claims, err := decodeJWS(token)
		if err != nil {
			return bad("neither a JSON-LD credential nor a JWT: %v", err)
		}
		if iss, _ := claims["iss"].(string); iss != issuer {
			return notIssuer(iss)
		}
		keys := issuerKeys{keys: v.keys, issuer: issuer}
		verified, err := jwtvc.Verify(ctx, token, jwtvc.VerifyOptions{Keys: keys, Algs: v.algs, Now: v.clock, Leeway: v.skew})
		if err != nil {
			return bad("%w", err)
		}
		doc = jwtListDocument(verified.Credential)
	}
	list, err := statuslist.ParseListCredential(doc)
	if err != nil {
		return bad("%w", err)
	}
	if list.Issuer != issuer {
		return notIssuer(list.Issuer)
	}
	if err := v.checkPeriod(list.ValidFrom, list.ValidUntil); err != nil {
		return bad("list credential %w", err)
	}
	set, err := list.Check(e)
	if err != nil {
		return bad("%w", err)
	}
	if !set {
		return nil
	}
	if e.StatusPurpose == statuslist.PurposeSuspension {
		return fmt.Errorf("%w (status list %s, index %d)", ErrSuspended, clipURL(u), e.StatusListIndex)
	}
	return fmt.Errorf("%w (status list %s, index %d)", ErrRevoked, clipURL(u), e.StatusListIndex)
}

// jwtListDocument is the credential a verified VC-JWT list secures, as
// VCDM 1.1 section 6.3.1 decodes it: the vc claim with iss as issuer, jti
// as id, sub as credentialSubject.id, nbf and exp as the validity period
// (jwtvc.Verify checked that the copies present agree). The period is
// written under the names of the vc's data model, which
// statuslist.ParseListCredential reads: validFrom and validUntil when the
// first @context is VCDM 2.0's, issuanceDate and expirationDate otherwise;
// a bound that is not set is left out.
func jwtListDocument(c jwtvc.Credential) map[string]any {
	subject := make(map[string]any, len(c.Subject)+1)
	for k, val := range c.Subject {
		subject[k] = val
	}
	if c.SubjectID != "" {
		subject["id"] = c.SubjectID
	}
	contexts := make([]any, len(c.Contexts))
	for i, x := range c.Contexts {
		contexts[i] = x
	}
	types := make([]any, len(c.Types))
	for i, x := range c.Types {
		types[i] = x
	}
	doc := map[string]any{
		"@context":          contexts,
		"type":              types,
		"issuer":            c.Issuer,
		"credentialSubject": subject,
	}
	if c.ID != "" {
		doc["id"] = c.ID
	}
	from, until := "issuanceDate", "expirationDate"
	if len(c.Contexts) > 0 && c.Contexts[0] == statuslist.ContextV2 {
		from, until = "validFrom", "validUntil"
	}
	if !c.ValidFrom.IsZero() {
		doc[from] = c.ValidFrom.UTC().Format(time.RFC3339)
	}
	if !c.ValidUntil.IsZero() {
		doc[until] = c.ValidUntil.UTC().Format(time.RFC3339)
	}
	return doc
}

// issuerKeys resolves the keys of one issuer only: a status list is
// verified with the keys of the credential's issuer, whatever it names.
type issuerKeys struct {
	keys   credential.KeyResolver
	issuer string
}

// ResolveKey implements credential.KeyResolver.
func (k issuerKeys) ResolveKey(ctx context.Context, issuer, kid string) (crypto.PublicKey, error) {
	if issuer != k.issuer {
		return nil, fmt.Errorf("a key of %q, not of the credential's issuer", clip(issuer))
	}
	return k.keys.ResolveKey(ctx, issuer, kid)
}

// tokenStatus checks the status.status_list reference of an SD-JWT VC.
func (v *verifier) tokenStatus(ctx context.Context, r *Result, status map[string]any) {
	if status == nil {
		r.skip(CheckStatus, "the credential has no status claim")
		return
	}
	if _, ok := status["status_list"]; !ok {
		r.skip(CheckStatus, "the status claim has no status_list (other mechanisms are not read)")
		return
	}
	ref, err := statuslist.ParseTokenReference(status)
	if err != nil {
		r.fail(CheckStatus, fmt.Errorf("%w: status: %w", credential.ErrMalformed, err))
		return
	}
	c := Check{Name: CheckStatus, Entry: "status_list " + clipURL(ref.URI) + "#" + strconv.Itoa(ref.Index)}
	if v.opts.Status == nil {
		c.Status, c.Reason = Skipped, "not checked: no status fetcher (offline)"
		r.add(c)
		return
	}
	if err := v.tokenEntry(ctx, r.Issuer, ref); err != nil {
		c.Status, c.Error, c.Err = Failure, message(err), err
	} else {
		c.Status = Success
	}
	r.add(c)
}

// tokenEntry fetches the status list token ref names, verifies it with
// the keys of the credential's issuer, and reads ref's status.
func (v *verifier) tokenEntry(ctx context.Context, issuer string, ref statuslist.TokenReference) error {
	u := ref.URI
	body, _, err := v.fetch(ctx, u, AcceptStatusListToken)
	if err != nil {
		return fmt.Errorf("%w: %s: %v", ErrStatusUnavailable, clipURL(u), err)
	}
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%w: %s: "+format, append([]any{ErrStatusList, clipURL(u)}, args...)...)
	}
	keys := func(kid string) (crypto.PublicKey, error) { return v.keys.ResolveKey(ctx, issuer, kid) }
	// VerifyToken allows no skew on exp: a token is fresh or it is not.
	tok, err := statuslist.VerifyToken(ctx, string(bytes.TrimSpace(body)), u, keys, v.now)
	if err != nil {
		return bad("%w", err)
	}
	if tok.Issuer != "" && tok.Issuer != issuer {
		return bad("issued by %q, not by the credential's issuer", clip(tok.Issuer))
	}
	val, err := tok.List.Get(ref.Index)
	if err != nil {
		return bad("%w", err)
	}
	switch val {
	case statuslist.TokenValid:
		return nil
	case statuslist.TokenInvalid:
		return fmt.Errorf("%w (status list %s, index %d: INVALID)", ErrRevoked, clipURL(u), ref.Index)
	case statuslist.TokenSuspended:
		return fmt.Errorf("%w (status list %s, index %d: SUSPENDED)", ErrSuspended, clipURL(u), ref.Index)
	}
	return fmt.Errorf("%w: 0x%02x (status list %s, index %d)", ErrStatusValue, val, clipURL(u), ref.Index)
}

// fetch fetches a status list once per run.
func (v *verifier) fetch(ctx context.Context, u, accept string) ([]byte, string, error) {
	key := accept + " " + u
	if f, ok := v.fetched[key]; ok {
		return f.body, f.contentType, f.err
	}
	body, ct, err := v.opts.Status.Fetch(ctx, u, accept)
	if err == nil && len(body) == 0 {
		err = errors.New("empty response")
	}
	if v.fetched == nil {
		v.fetched = map[string]fetchResult{}
	}
	v.fetched[key] = fetchResult{body: body, contentType: ct, err: err}
	return body, ct, err
}

// clipURL shortens a URL from a credential for a message.
func clipURL(u string) string {
	if len(u) > 200 {
		return u[:200] + "…"
	}
	return u
}
