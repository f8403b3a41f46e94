package ldp

import (
	"fmt"
	"net/url"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/sanad-id/sanad/credential"
	"github.com/sanad-id/sanad/credential/multibase"
)

// Proof is the parsed, not yet verified, proof of a document: what a
// verifier needs to choose a key resolver or report on a credential
// before checking it.
type Proof struct {
	// Type is the proof type (TypeDataIntegrityProof, TypeEd25519Signature2020).
	Type string
	// Cryptosuite is empty for Ed25519Signature2020.
	Cryptosuite string
	// Suite is one of the Suite constants.
	Suite string
	// Created is zero when the proof has no created member; Expires too.
	Created, Expires time.Time
	// VerificationMethod is the URL of the signing key.
	VerificationMethod string
	ProofPurpose       string
	Challenge          string
	// Domain lists the proof's domain values (a string or an array).
	Domain []string
	// Signature is the decoded proofValue.
	Signature []byte

	raw map[string]any
}

// xsdDateTimeStamp is the lexical form of xsd:dateTimeStamp (a dateTime
// with a time zone) with a four-digit year, as Data Integrity requires for
// created and expires.
var xsdDateTimeStamp = regexp.MustCompile(`^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$`)

// ParseProof returns the single proof of doc. It checks the proof's shape
// (member types, a supported suite, dates, multibase proofValue), not the
// signature. Failures wrap credential.ErrMalformed or ErrUnsupportedSuite.
func ParseProof(doc map[string]any) (Proof, error) {
	var p Proof
	if doc == nil {
		return p, fmt.Errorf("%w: no document", credential.ErrMalformed)
	}
	raw, ok := doc["proof"]
	if !ok {
		return p, fmt.Errorf("%w: the document has no proof", credential.ErrMalformed)
	}
	if list, ok := raw.([]any); ok {
		switch len(list) {
		case 0:
			return p, fmt.Errorf("%w: empty proof array", credential.ErrMalformed)
		case 1:
			raw = list[0]
		default:
			return p, fmt.Errorf("%w: proof sets (%d proofs) are not supported: a document must carry exactly one proof", credential.ErrMalformed, len(list))
		}
	}
	m, ok := raw.(map[string]any)
	if !ok {
		return p, fmt.Errorf("%w: proof is a %s, not an object", credential.ErrMalformed, jsonType(raw))
	}
	p.raw = m
	str := func(name string, required bool) (string, error) {
		v, ok := m[name]
		if !ok {
			if required {
				return "", fmt.Errorf("%w: proof has no %s", credential.ErrMalformed, name)
			}
			return "", nil
		}
		s, ok := v.(string)
		if !ok {
			return "", fmt.Errorf("%w: proof %s is a %s, not a string", credential.ErrMalformed, name, jsonType(v))
		}
		if required && s == "" {
			return "", fmt.Errorf("%w: proof %s is empty", credential.ErrMalformed, name)
		}
		return s, nil
	}
	var err error
	if p.Type, err = str("type", true); err != nil {
		return p, err
	}
	_, hasSuite := m["cryptosuite"]
	if p.Cryptosuite, err = str("cryptosuite", false); err != nil {
		return p, err
	}
	s, err := suiteOf(p.Type, p.Cryptosuite, hasSuite)
	if err != nil {
		return p, err
	}
	p.Suite = s.name
	if _, ok := m["previousProof"]; ok {
		return p, fmt.Errorf("%w: proof chains (previousProof) are not supported", credential.ErrMalformed)
	}
	if p.VerificationMethod, err = str("verificationMethod", true); err != nil {
		return p, err
	}
	if !absoluteIRI(p.VerificationMethod) {
		return p, fmt.Errorf("%w: proof verificationMethod %q is not an absolute URL", credential.ErrMalformed, p.VerificationMethod)
	}
	if p.ProofPurpose, err = str("proofPurpose", true); err != nil {
		return p, err
	}
	for _, d := range []struct {
		name string
		t    *time.Time
	}{{"created", &p.Created}, {"expires", &p.Expires}} {
		v, err := str(d.name, false)
		if err != nil {
			return p, err
		}
		if _, ok := m[d.name]; !ok {
			continue
		}
		if *d.t, err = parseDateTimeStamp(v); err != nil {
			return p, fmt.Errorf("%w: proof %s: %v", credential.ErrMalformed, d.name, err)
		}
	}
	if p.Challenge, err = str("challenge", false); err != nil {
		return p, err
	}
	switch d := m["domain"].(type) {
	case nil:
		if _, ok := m["domain"]; ok {
			return p, fmt.Errorf("%w: proof domain is null", credential.ErrMalformed)
		}
	case string:
		p.Domain = []string{d}
	case []any:
		for _, e := range d {
			s, ok := e.(string)
			if !ok {
				return p, fmt.Errorf("%w: proof domain holds a %s", credential.ErrMalformed, jsonType(e))
			}
			p.Domain = append(p.Domain, s)
		}
	default:
		return p, fmt.Errorf("%w: proof domain is a %s", credential.ErrMalformed, jsonType(d))
	}
	pv, err := str("proofValue", true)
	if err != nil {
		return p, err
	}
	if pv[0] != 'z' {
		return p, fmt.Errorf("%w: proofValue must be multibase base58btc (z...), got prefix %q", credential.ErrMalformed, pv[:1])
	}
	if p.Signature, err = multibase.Decode(pv); err != nil {
		return p, fmt.Errorf("%w: proofValue: %w", credential.ErrMalformed, err)
	}
	return p, nil
}

// parseDateTimeStamp parses an xsd:dateTimeStamp.
func parseDateTimeStamp(s string) (time.Time, error) {
	if !xsdDateTimeStamp.MatchString(s) {
		return time.Time{}, fmt.Errorf("%q is not an XML Schema dateTimeStamp", s)
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("%q is not a valid date and time", s)
	}
	return t, nil
}

// checkProofContext: a proof that carries its own @context must name a
// prefix of the document's contexts, in order (Data Integrity "verify
// proof"); the proof is then canonicalized under the document's.
func checkProofContext(proofCtx, docCtx any) error {
	if proofCtx == nil {
		return nil
	}
	pc, dc := asList(proofCtx), asList(docCtx)
	if len(pc) > len(dc) {
		return fmt.Errorf("%w: the proof's @context is not a prefix of the document's", credential.ErrMalformed)
	}
	for i := range pc {
		if !reflect.DeepEqual(pc[i], dc[i]) {
			return fmt.Errorf("%w: the proof's @context is not a prefix of the document's", credential.ErrMalformed)
		}
	}
	return nil
}

func asList(v any) []any {
	if l, ok := v.([]any); ok {
		return l
	}
	return []any{v}
}

// absoluteIRI reports whether s is an absolute URL without spaces or
// control characters (a DID URL, an https URL).
func absoluteIRI(s string) bool {
	if s == "" || len(s) > 4096 || strings.ContainsFunc(s, func(r rune) bool { return r <= ' ' || r == 0x7f }) {
		return false
	}
	u, err := url.Parse(s)
	return err == nil && u.IsAbs()
}

func contains(list []string, s string) bool { return slices.Contains(list, s) }

func jsonType(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case string:
		return "string"
	case bool:
		return "boolean"
	case float64:
		return "number"
	case []any:
		return "array"
	case map[string]any:
		return "object"
	}
	return fmt.Sprintf("%T", v)
}
