package statuslist

import (
	"encoding/json"
	"fmt"
	"math"
	"net/url"
	"slices"
	"strconv"
)

// Entry and list types.
const (
	// TypeEntry is the type of a W3C Bitstring Status List entry.
	TypeEntry = "BitstringStatusListEntry"
	// TypeEntry2021 is the type of a legacy StatusList2021 entry, read
	// only.
	TypeEntry2021 = "StatusList2021Entry"
	// TypeListCredential and TypeList are the types of a status list
	// credential and of its credentialSubject.
	TypeListCredential = "BitstringStatusListCredential"
	TypeList           = "BitstringStatusList"
	// TypeListCredential2021 and TypeList2021 are their StatusList2021
	// predecessors, read only.
	TypeListCredential2021 = "StatusList2021Credential"
	TypeList2021           = "StatusList2021"
)

// maxEntries bounds the number of credentialStatus members ParseEntries reads.
const maxEntries = 64

// Entry is a W3C BitstringStatusListEntry.
type Entry struct {
	ID                   string
	StatusPurpose        string
	StatusListIndex      int
	StatusListCredential string
	// Type is TypeEntry, or TypeEntry2021 for a legacy entry; empty means
	// TypeEntry.
	Type string
	// StatusSize is the number of bits of the entry's status; 0 means 1.
	// Only 1 is evaluated (CheckEntry returns ErrUnsupported otherwise).
	StatusSize int
}

// NewEntry returns the entry for bit index of the list credential at
// listURL, with the id "<listURL>#<index>".
func NewEntry(listURL, purpose string, index int) Entry {
	return Entry{
		ID:                   listURL + "#" + strconv.Itoa(index),
		StatusPurpose:        purpose,
		StatusListIndex:      index,
		StatusListCredential: listURL,
	}
}

// KnownPurpose says whether the entry's purpose is one the specification
// defines (revocation, suspension, refresh, message). An entry with
// another purpose is valid; what it means is up to its issuer.
func (e Entry) KnownPurpose() bool {
	switch e.StatusPurpose {
	case PurposeRevocation, PurposeSuspension, PurposeRefresh, PurposeMessage:
		return true
	}
	return false
}

// Map is the entry as a credentialStatus member; statusListIndex is a
// decimal string, as the specification requires.
func (e Entry) Map() map[string]any {
	typ := e.Type
	if typ == "" {
		typ = TypeEntry
	}
	m := map[string]any{
		"type":                 typ,
		"statusPurpose":        e.StatusPurpose,
		"statusListIndex":      strconv.Itoa(e.StatusListIndex),
		"statusListCredential": e.StatusListCredential,
	}
	if e.ID != "" {
		m["id"] = e.ID
	}
	if e.StatusSize != 0 {
		m["statusSize"] = e.StatusSize
	}
	return m
}

// ParseEntries reads a credential's credentialStatus (an object or an
// array); entries of other types are skipped. BitstringStatusListEntry and
// StatusList2021Entry members must be well formed: a statusPurpose string,
// a statusListIndex that is a canonical non-negative decimal string
// ("0", "42", never "042", "+1" or a JSON number), an absolute
// statusListCredential URL, an optional id that is a string other than
// that URL, and an optional integer statusSize >= 1. A nil
// credentialStatus has no entries. Errors wrap ErrMalformed.
func ParseEntries(credentialStatus any) ([]Entry, error) {
	var members []any
	switch v := credentialStatus.(type) {
	case nil:
		return nil, nil
	case map[string]any:
		members = []any{v}
	case []any:
		members = v
	case []map[string]any:
		for _, m := range v {
			members = append(members, m)
		}
	default:
		return nil, malformed("credentialStatus is a %T, not an object or array", credentialStatus)
	}
	if len(members) > maxEntries {
		return nil, malformed("more than %d credentialStatus members", maxEntries)
	}
	var out []Entry
	for i, member := range members {
		m, ok := member.(map[string]any)
		if !ok {
			return nil, malformed("credentialStatus[%d] is a %T, not an object", i, member)
		}
		types, err := typesOf(m["type"])
		if err != nil || len(types) == 0 {
			return nil, malformed("credentialStatus[%d] has no type", i)
		}
		typ := ""
		switch {
		case slices.Contains(types, TypeEntry):
			typ = TypeEntry
		case slices.Contains(types, TypeEntry2021):
			typ = TypeEntry2021
		default:
			continue
		}
		e, err := parseEntry(m, typ)
		if err != nil {
			return nil, fmt.Errorf("credentialStatus[%d]: %w", i, err)
		}
		out = append(out, e)
	}
	return out, nil
}

// parseEntry reads one entry of type typ.
func parseEntry(m map[string]any, typ string) (Entry, error) {
	e := Entry{Type: typ}
	var ok bool
	if e.StatusPurpose, ok = m["statusPurpose"].(string); !ok || e.StatusPurpose == "" {
		return Entry{}, malformed("%s: statusPurpose is not a non-empty string", typ)
	}
	idx, ok := m["statusListIndex"].(string)
	if !ok {
		return Entry{}, malformed("%s: statusListIndex is not a string", typ)
	}
	n, err := parseIndex(idx)
	if err != nil {
		return Entry{}, malformed("%s: statusListIndex %q: %v", typ, truncate(idx), err)
	}
	e.StatusListIndex = n
	if e.StatusListCredential, ok = m["statusListCredential"].(string); !ok || e.StatusListCredential == "" {
		return Entry{}, malformed("%s: statusListCredential is not a non-empty string", typ)
	}
	if !absoluteURL(e.StatusListCredential) {
		return Entry{}, malformed("%s: statusListCredential %q is not an absolute URL", typ, truncate(e.StatusListCredential))
	}
	if id, present := m["id"]; present {
		if e.ID, ok = id.(string); !ok || e.ID == "" {
			return Entry{}, malformed("%s: id is not a non-empty string", typ)
		}
		if e.ID == e.StatusListCredential {
			return Entry{}, malformed("%s: id is the status list URL", typ)
		}
	}
	if size, present := m["statusSize"]; present {
		n, ok := integer(size)
		if !ok || n < 1 || n > 8 {
			return Entry{}, malformed("%s: statusSize is not an integer from 1 to 8", typ)
		}
		e.StatusSize = int(n)
	}
	return e, nil
}

// maxIndexDigits bounds a statusListIndex: no list holds more than
// MaxListBytes*8 entries, an 9-digit number.
const maxIndexDigits = 12

// parseIndex parses a canonical non-negative decimal: digits only, no
// leading zero unless the value is 0.
func parseIndex(s string) (int, error) {
	if s == "" {
		return 0, fmt.Errorf("empty")
	}
	if len(s) > maxIndexDigits {
		return 0, fmt.Errorf("more than %d digits", maxIndexDigits)
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, fmt.Errorf("not a decimal integer")
		}
	}
	if s[0] == '0' && len(s) > 1 {
		return 0, fmt.Errorf("leading zero")
	}
	n, err := strconv.Atoi(s)
	if err != nil {
		return 0, fmt.Errorf("not a decimal integer")
	}
	return n, nil
}

// absoluteURL says whether s parses as a URL with a scheme (https://...,
// did:web:...#...).
func absoluteURL(s string) bool {
	u, err := url.Parse(s)
	return err == nil && u.Scheme != ""
}

// typesOf reads a JSON-LD type: a string or an array of strings.
func typesOf(v any) ([]string, error) {
	switch t := v.(type) {
	case string:
		return []string{t}, nil
	case []string:
		return t, nil
	case []any:
		out := make([]string, 0, len(t))
		for _, x := range t {
			s, ok := x.(string)
			if !ok {
				return nil, fmt.Errorf("type member is a %T, not a string", x)
			}
			out = append(out, s)
		}
		return out, nil
	}
	return nil, fmt.Errorf("type is a %T", v)
}

// integer reads a JSON integer decoded as float64 or json.Number, or a Go
// integer, no larger in magnitude than 2^53.
func integer(v any) (int64, bool) {
	const max = 1 << 53
	switch n := v.(type) {
	case float64:
		if n != math.Trunc(n) || math.Abs(n) > max {
			return 0, false
		}
		return int64(n), true
	case json.Number:
		i, err := n.Int64()
		if err != nil || i > max || i < -max {
			return 0, false
		}
		return i, true
	case int:
		return int64(n), n <= max && n >= -max
	case int64:
		return n, n <= max && n >= -max
	case int32:
		return int64(n), true
	case uint8:
		return int64(n), true
	}
	return 0, false
}
