package authn

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"regexp"
	"strings"

	"golang.org/x/text/cases"
	"golang.org/x/text/unicode/norm"
)

// maxKBIBytes bounds a knowledge-based challenge.
const maxKBIBytes = 8 << 10

// parseKBI decodes a knowledge-based challenge: base64url (padding
// optional) of a JSON object mapping identity field names to answers.
func parseKBI(challenge string) (map[string]any, bool) {
	if len(challenge) > maxKBIBytes {
		return nil, false
	}
	raw, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(challenge, "="))
	if err != nil {
		return nil, false
	}
	var answers map[string]any
	if err := json.Unmarshal(raw, &answers); err != nil || answers == nil {
		return nil, false
	}
	return answers, true
}

// checkKBI verifies a knowledge-based challenge: every field of
// Policy.KBIFields must be answered and match, after normalisation, the
// person's value (any language's value for a multi-language field). Every
// field and every value is compared, in constant time over SHA-256 digests,
// whether or not an earlier one failed; people who cannot authenticate are
// compared with dummy values. Extra fields in the challenge are ignored.
func (a *Authenticator) checkKBI(p principal, challenge string) bool {
	answers, parsed := parseKBI(challenge)
	identity := a.dummy.identity
	if p.active {
		identity = p.person.Identity
	}
	all := 0
	if parsed && p.active {
		all = 1
	}
	for _, field := range a.policy.KBIFields {
		answer, isText := answers[field].(string)
		answer = normaliseKBI(answer)
		got := sha256.Sum256([]byte(answer))
		match := 0
		wants := kbiValues(identity[field])
		for _, w := range wants {
			want := sha256.Sum256([]byte(normaliseKBI(w)))
			match |= subtle.ConstantTimeCompare(got[:], want[:])
		}
		if !isText || answer == "" {
			match = 0
		}
		all &= match
	}
	return all == 1
}

// kbiValues returns the non-empty values of an identity field: a scalar
// string, or every value of a multi-language [{language, value}] list.
func kbiValues(v any) []string {
	var out []string
	add := func(s string) {
		if strings.TrimSpace(s) != "" {
			out = append(out, s)
		}
	}
	switch v := v.(type) {
	case string:
		add(v)
	case []any:
		for _, e := range v {
			if m, ok := e.(map[string]any); ok {
				if s, ok := m["value"].(string); ok {
					add(s)
				}
			}
		}
	case []map[string]any:
		for _, m := range v {
			if s, ok := m["value"].(string); ok {
				add(s)
			}
		}
	}
	return out
}

// dateRE matches a date written with -, / or . between its parts.
var dateRE = regexp.MustCompile(`^[0-9]{4}[-/.][0-9]{2}[-/.][0-9]{2}$`)

// normaliseKBI puts an answer or an identity value in the form they are
// compared in: Unicode NFC, case-folded, runs of white space collapsed to
// one space and trimmed, and a date YYYY-MM-DD or YYYY.MM.DD written as
// MOSIP's YYYY/MM/DD.
func normaliseKBI(s string) string {
	s = norm.NFC.String(s)
	s = cases.Fold().String(s)
	s = norm.NFC.String(s)
	s = strings.Join(strings.Fields(s), " ")
	if dateRE.MatchString(s) {
		s = s[0:4] + "/" + s[5:7] + "/" + s[8:10]
	}
	return s
}
