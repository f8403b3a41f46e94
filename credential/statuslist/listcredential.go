package statuslist

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/sanad-id/sanad/credential"
)

// JSON-LD contexts of status list credentials.
const (
	ContextV2 = "https://www.w3.org/ns/credentials/v2"
	ContextV1 = "https://www.w3.org/2018/credentials/v1"
	// ContextStatusV1 defines the Bitstring Status List terms for VCDM 1.1
	// credentials (VCDM 2.0 has them in its base context).
	ContextStatusV1 = "https://www.w3.org/ns/credentials/status/v1"
	// ContextStatusList2021 defines the legacy StatusList2021 terms.
	ContextStatusList2021 = "https://w3id.org/vc/status-list/2021/v1"
)

// ListCredential returns the unsigned status list credential for VCDM 2.0
// (v2) or 1.1 with the bitstring status list context.
//
// VCDM 2.0: @context [v2], type [VerifiableCredential,
// BitstringStatusListCredential], validFrom and validUntil (each left out
// when zero). VCDM 1.1: @context [v1, status/v1], issuanceDate (validFrom,
// required) and expirationDate. The credentialSubject is {id: id+"#list",
// type: BitstringStatusList, statusPurpose, encodedList}. The list must
// hold at least MinEntries bits (the specification's minimum; else
// ErrListLength). Arrays are []any, as JSON-LD processors expect.
func ListCredential(id, issuer, purpose string, list *Bitstring, validFrom, validUntil time.Time, v2 bool) (map[string]any, error) {
	switch {
	case !absoluteURL(id):
		return nil, fmt.Errorf("statuslist: list credential id %q is not an absolute URL", truncate(id))
	case issuer == "":
		return nil, fmt.Errorf("statuslist: list credential has no issuer")
	case purpose == "":
		return nil, fmt.Errorf("statuslist: list credential has no purpose")
	case list == nil:
		return nil, fmt.Errorf("statuslist: list credential has no list")
	case list.Len() < MinEntries:
		return nil, fmt.Errorf("%w: %d", ErrListLength, list.Len())
	case !v2 && validFrom.IsZero():
		return nil, fmt.Errorf("statuslist: a VCDM 1.1 list credential needs validFrom (issuanceDate)")
	case !validFrom.IsZero() && !validUntil.IsZero() && !validUntil.After(validFrom):
		return nil, fmt.Errorf("statuslist: validUntil %s is not after validFrom %s", formatDate(validUntil), formatDate(validFrom))
	}
	encoded, err := list.Encode()
	if err != nil {
		return nil, err
	}
	c := map[string]any{
		"id":     id,
		"type":   []any{"VerifiableCredential", TypeListCredential},
		"issuer": issuer,
		"credentialSubject": map[string]any{
			"id":            id + "#list",
			"type":          TypeList,
			"statusPurpose": purpose,
			"encodedList":   encoded,
		},
	}
	from, until := "validFrom", "validUntil"
	if v2 {
		c["@context"] = []any{ContextV2}
	} else {
		c["@context"] = []any{ContextV1, ContextStatusV1}
		from, until = "issuanceDate", "expirationDate"
	}
	if !validFrom.IsZero() {
		c[from] = formatDate(validFrom)
	}
	if !validUntil.IsZero() {
		c[until] = formatDate(validUntil)
	}
	return c, nil
}

// formatDate writes an XML Schema dateTimeStamp in UTC, to the second.
func formatDate(t time.Time) string { return t.UTC().Format(time.RFC3339) }

// ReadListCredential returns the purpose and bitstring of a status list
// credential (its proof is checked by the caller). A list with several
// purposes gives the first; ParseListCredential gives them all, with the
// list's identifiers and validity, and List.Check checks an entry.
func ReadListCredential(c map[string]any) (purpose string, list *Bitstring, err error) {
	l, err := ParseListCredential(c)
	if err != nil {
		return "", nil, err
	}
	return l.Purposes[0], l.Bits, nil
}

// List is a parsed status list credential.
type List struct {
	// ID is the credential's id, which entries name as statusListCredential.
	ID string
	// Issuer is the issuer's id (the issuer may differ from the issuer of
	// the credentials the list covers; callers decide whom they trust).
	Issuer string
	// Type is TypeListCredential or TypeListCredential2021.
	Type string
	// Purposes are the credentialSubject's statusPurpose values.
	Purposes []string
	// Bits is the decoded list.
	Bits *Bitstring
	// ValidFrom and ValidUntil are validFrom/validUntil (VCDM 2.0) or
	// issuanceDate/expirationDate (1.1); zero when absent.
	ValidFrom, ValidUntil time.Time
	// TTL is credentialSubject.ttl, how long the list may be cached; zero
	// when absent.
	TTL time.Duration
}

// ParseListCredential reads a status list credential without checking its
// proof: its @context (the first VCDM 1.1 or 2.0, and for 1.1 the status
// list context), type, issuer, validity dates, and a single
// credentialSubject of type BitstringStatusList with one or more purposes
// and an encodedList of at least MinEntries bits. StatusList2021
// credentials are read too; their encodedList may lack the multibase "u"
// (their specification predates it). Errors wrap ErrMalformed.
func ParseListCredential(c map[string]any) (*List, error) {
	if c == nil {
		return nil, malformed("no list credential")
	}
	contexts := contextURLs(c["@context"])
	if len(contexts) == 0 {
		return nil, malformed("list credential has no @context")
	}
	types, err := typesOf(c["type"])
	if err != nil {
		return nil, malformed("list credential type: %v", err)
	}
	l := &List{}
	var subjectType string
	switch {
	case slices.Contains(types, TypeListCredential):
		l.Type, subjectType = TypeListCredential, TypeList
	case slices.Contains(types, TypeListCredential2021):
		l.Type, subjectType = TypeListCredential2021, TypeList2021
	default:
		return nil, malformed("list credential type has neither %s nor %s", TypeListCredential, TypeListCredential2021)
	}
	if !slices.Contains(types, "VerifiableCredential") {
		return nil, malformed("list credential type lacks VerifiableCredential")
	}
	v2 := false
	switch contexts[0] {
	case ContextV2:
		v2 = true
	case ContextV1:
		want := ContextStatusV1
		if l.Type == TypeListCredential2021 {
			want = ContextStatusList2021
		}
		if !slices.Contains(contexts, want) {
			return nil, malformed("VCDM 1.1 list credential lacks the context %s", want)
		}
	default:
		return nil, malformed("list credential's first @context %q is not VCDM 1.1 or 2.0", truncate(contexts[0]))
	}
	if id, present := c["id"]; present {
		s, ok := id.(string)
		if !ok || !absoluteURL(s) {
			return nil, malformed("list credential id is not an absolute URL")
		}
		l.ID = s
	}
	switch iss := c["issuer"].(type) {
	case string:
		l.Issuer = iss
	case map[string]any:
		l.Issuer, _ = iss["id"].(string)
	}
	if l.Issuer == "" {
		return nil, malformed("list credential has no issuer")
	}
	from, until := "validFrom", "validUntil"
	if !v2 {
		from, until = "issuanceDate", "expirationDate"
	}
	if l.ValidFrom, err = readDate(c, from); err != nil {
		return nil, err
	}
	if l.ValidUntil, err = readDate(c, until); err != nil {
		return nil, err
	}
	subject, err := singleSubject(c["credentialSubject"])
	if err != nil {
		return nil, err
	}
	st, err := typesOf(subject["type"])
	if err != nil || !slices.Contains(st, subjectType) {
		return nil, malformed("list credentialSubject type is not %s", subjectType)
	}
	if l.Purposes, err = purposes(subject["statusPurpose"]); err != nil {
		return nil, err
	}
	encoded, ok := subject["encodedList"].(string)
	if !ok {
		return nil, malformed("list credentialSubject has no encodedList string")
	}
	if l.Type == TypeListCredential2021 {
		l.Bits, err = decodeGzip(encoded, MinEntries)
	} else {
		l.Bits, err = DecodeBitstring(encoded)
	}
	if err != nil {
		return nil, err
	}
	if ttl, present := subject["ttl"]; present {
		ms, ok := integer(ttl)
		if !ok || ms < 0 || ms > int64(time.Duration(1<<62)/time.Millisecond) {
			return nil, malformed("list credentialSubject ttl is not a non-negative integer of milliseconds")
		}
		l.TTL = time.Duration(ms) * time.Millisecond
	}
	return l, nil
}

// contextURLs returns the string members of an @context (a string or an
// array whose members are strings or inline context objects), nil if the
// first member is not a string.
func contextURLs(v any) []string {
	switch t := v.(type) {
	case string:
		return []string{t}
	case []any:
		var out []string
		for i, x := range t {
			s, ok := x.(string)
			if !ok && i == 0 {
				return nil
			}
			if ok {
				out = append(out, s)
			}
		}
		return out
	case []string:
		return t
	}
	return nil
}

// readDate reads an optional dateTimeStamp member of c.
func readDate(c map[string]any, name string) (time.Time, error) {
	v, present := c[name]
	if !present {
		return time.Time{}, nil
	}
	s, ok := v.(string)
	if !ok {
		return time.Time{}, malformed("list credential %s is not a string", name)
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return time.Time{}, malformed("list credential %s %q is not a dateTimeStamp", name, truncate(s))
	}
	return t, nil
}

// singleSubject reads a credentialSubject that is one object (or an array
// of one).
func singleSubject(v any) (map[string]any, error) {
	if a, ok := v.([]any); ok && len(a) == 1 {
		v = a[0]
	}
	m, ok := v.(map[string]any)
	if !ok {
		return nil, malformed("list credentialSubject is not one object")
	}
	return m, nil
}

// purposes reads a statusPurpose: one or more non-empty strings.
func purposes(v any) ([]string, error) {
	ps, err := typesOf(v)
	if err != nil || len(ps) == 0 || slices.Contains(ps, "") {
		return nil, malformed("list credentialSubject statusPurpose is not one or more strings")
	}
	return ps, nil
}

// Valid checks the list's validity period at now: ErrNotYetValid before
// ValidFrom, ErrExpired after ValidUntil (both from the credential package).
func (l *List) Valid(now time.Time) error {
	if !l.ValidFrom.IsZero() && now.Before(l.ValidFrom) {
		return fmt.Errorf("%w: statuslist: list credential valid from %s", credential.ErrNotYetValid, formatDate(l.ValidFrom))
	}
	if !l.ValidUntil.IsZero() && now.After(l.ValidUntil) {
		return fmt.Errorf("%w: statuslist: list credential expired at %s", credential.ErrExpired, formatDate(l.ValidUntil))
	}
	return nil
}

// Check returns the status bit of e in the list: true means the status
// (revoked, suspended, ...) is set. e must name this list (its
// statusListCredential equal to the list's id), have one of its purposes,
// be of the same family (Bitstring or 2021), have a statusSize of 1 (else
// ErrUnsupported), and an index within the list (else ErrRange). A
// mismatch is ErrMismatch.
func (l *List) Check(e Entry) (bool, error) {
	if l.ID == "" || e.StatusListCredential != l.ID {
		return false, fmt.Errorf("%w: entry names %q, the list is %q", ErrMismatch, truncate(e.StatusListCredential), truncate(l.ID))
	}
	if !slices.Contains(l.Purposes, e.StatusPurpose) {
		return false, fmt.Errorf("%w: purpose %q is not the list's (%s)", ErrMismatch, truncate(e.StatusPurpose), truncate(strings.Join(l.Purposes, ", ")))
	}
	legacy := e.Type == TypeEntry2021
	if legacy != (l.Type == TypeListCredential2021) {
		return false, fmt.Errorf("%w: a %s checked against a %s", ErrMismatch, entryType(e), l.Type)
	}
	if e.StatusSize > 1 {
		return false, fmt.Errorf("%w: statusSize %d", ErrUnsupported, e.StatusSize)
	}
	return l.Bits.Get(e.StatusListIndex)
}

// entryType is e's type, TypeEntry when unset.
func entryType(e Entry) string {
	if e.Type == "" {
		return TypeEntry
	}
	return e.Type
}

// CheckEntry checks one entry against a status list credential whose proof
// the caller has verified: it parses the credential (ParseListCredential),
// checks its validity period at now (List.Valid) and returns the entry's
// bit (List.Check).
func CheckEntry(e Entry, c map[string]any, now time.Time) (bool, error) {
	l, err := ParseListCredential(c)
	if err != nil {
		return false, err
	}
	if err := l.Valid(now); err != nil {
		return false, err
	}
	return l.Check(e)
}
