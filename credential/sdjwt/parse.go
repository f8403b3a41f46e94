package sdjwt

import (
	"errors"
	"hash"
	"strings"
	"time"

	"github.com/sanad-id/sanad/credential"
)

// Parse reads an SD-JWT or SD-JWT+KB, applies its disclosures and returns
// the token, WITHOUT checking any signature or validity time: it is for
// the holder, who received the credential from its issuer over TLS. A
// verifier uses Verify or VerifyVC.
//
// Errors wrap credential.ErrMalformed or credential.ErrDisclosure.
func Parse(s string) (*Token, error) {
	t, err := split(s)
	if err != nil {
		return nil, err
	}
	if err := t.process(); err != nil {
		return nil, err
	}
	return t, nil
}

// jws is a decoded compact JWS.
type jws struct {
	header    map[string]any
	payload   map[string]any
	signed    string // header.payload, what the signature covers
	signature []byte
}

// parseJWS decodes a compact JWS. It checks structure only.
func parseJWS(s string) (*jws, error) {
	h, rest, ok := strings.Cut(s, ".")
	if !ok {
		return nil, errors.New("JWT has no payload")
	}
	p, sig, ok := strings.Cut(rest, ".")
	if !ok {
		return nil, errors.New("JWT has no signature")
	}
	if strings.Contains(sig, ".") {
		return nil, errors.New("JWT has more than three parts")
	}
	header, err := decodeObject(h)
	if err != nil {
		return nil, errors.New("JWT header: " + err.Error())
	}
	payload, err := decodeObject(p)
	if err != nil {
		return nil, errors.New("JWT payload: " + err.Error())
	}
	rawSig, err := b64Strict.DecodeString(sig)
	if err != nil {
		return nil, errors.New("JWT signature: " + err.Error())
	}
	if _, ok := header["alg"].(string); !ok {
		return nil, errors.New("JWT header has no alg")
	}
	if _, ok := header["crit"]; ok {
		// No extension is understood, so any critical one is refused.
		return nil, errors.New("JWT header has crit")
	}
	for _, name := range []string{"typ", "kid"} {
		if v, ok := header[name]; ok {
			if _, ok := v.(string); !ok {
				return nil, errors.New("JWT header " + name + " is not a string")
			}
		}
	}
	return &jws{header: header, payload: payload, signed: s[:len(h)+1+len(p)], signature: rawSig}, nil
}

// split takes an SD-JWT apart and decodes its pieces: the issuer JWT, the
// disclosures and the KB-JWT (kept encoded; Verify decodes it).
func split(s string) (*Token, error) {
	if len(s) > MaxSize {
		return nil, fail(credential.ErrMalformed, "SD-JWT of %d bytes exceeds %d", len(s), MaxSize)
	}
	last := strings.LastIndexByte(s, '~')
	if last < 0 {
		return nil, fail(credential.ErrMalformed, "not an SD-JWT: no ~ separator")
	}
	if n := strings.Count(s, "~") - 1; n > MaxDisclosures {
		return nil, fail(credential.ErrMalformed, "%d disclosures exceed %d", n, MaxDisclosures)
	}
	presented, kb := s[:last+1], s[last+1:]
	parts := strings.Split(presented[:last], "~")
	j, err := parseJWS(parts[0])
	if err != nil {
		return nil, fail(credential.ErrMalformed, "issuer JWT: %v", err)
	}
	if kb != "" && strings.Count(kb, ".") != 2 {
		return nil, fail(credential.ErrMalformed, "key binding JWT is not a compact JWS")
	}
	t := &Token{
		JWT:       parts[0],
		Header:    j.header,
		Payload:   j.payload,
		KBJWT:     kb,
		presented: presented,
		signed:    j.signed,
		signature: j.signature,
	}
	t.HashAlg = HashSHA256
	if v, ok := t.Payload[claimSDAlg]; ok {
		a, ok := v.(string)
		if !ok {
			return nil, fail(credential.ErrMalformed, "_sd_alg is not a string")
		}
		t.HashAlg = a
	}
	h, err := hashFor(t.HashAlg)
	if err != nil {
		return nil, fail(credential.ErrMalformed, "%v", err)
	}
	t.Disclosures = make([]*Disclosure, 0, len(parts)-1)
	for i, enc := range parts[1:] {
		d, err := parseDisclosure(h, enc)
		if err != nil {
			return nil, fail(credential.ErrDisclosure, "disclosure %d: %v", i+1, err)
		}
		t.Disclosures = append(t.Disclosures, d)
	}
	return t, nil
}

// parseDisclosure decodes one disclosure.
func parseDisclosure(h func() hash.Hash, enc string) (*Disclosure, error) {
	if enc == "" {
		return nil, errors.New("empty")
	}
	raw, err := b64Strict.DecodeString(enc)
	if err != nil {
		return nil, errors.New("base64url: " + err.Error())
	}
	v, err := decodeJSON(raw)
	if err != nil {
		return nil, err
	}
	arr, ok := v.([]any)
	if !ok {
		return nil, errors.New("not a JSON array")
	}
	d := &Disclosure{Encoded: enc, Digest: digest(h, enc)}
	switch len(arr) {
	case 2:
		d.Element = true
		d.Value = arr[1]
	case 3:
		name, ok := arr[1].(string)
		if !ok {
			return nil, errors.New("claim name is not a string")
		}
		if name == claimSD || name == claimArray || name == claimSDAlg {
			return nil, errors.New("discloses the reserved name " + name)
		}
		d.Name = name
		d.Value = arr[2]
	default:
		return nil, errors.New("not an array of 2 or 3 elements")
	}
	salt, ok := arr[0].(string)
	if !ok {
		return nil, errors.New("salt is not a string")
	}
	d.Salt = salt
	return d, nil
}

// process applies the disclosures to the payload (RFC 9901 section 7.1)
// and reads the registered claims.
func (t *Token) process() error {
	p := &processor{
		byDigest: make(map[string]*Disclosure, len(t.Disclosures)),
		seen:     map[string]struct{}{},
	}
	for i, d := range t.Disclosures {
		if _, dup := p.byDigest[d.Digest]; dup {
			return fail(credential.ErrDisclosure, "disclosure %d appears twice", i+1)
		}
		p.byDigest[d.Digest] = d
	}
	claims, err := p.object(t.Payload, Path{}, 0)
	if err != nil {
		return err
	}
	delete(claims, claimSDAlg)
	for i, d := range t.Disclosures {
		if d.Path == nil {
			return fail(credential.ErrDisclosure, "disclosure %d is not referenced by the issuer JWT", i+1)
		}
	}
	if err := t.checkSigned(alwaysSigned); err != nil {
		return err
	}
	t.Claims = claims
	return t.registered()
}

// checkSigned refuses a token that discloses one of names, or anything
// inside one of them, instead of signing it in the clear.
func (t *Token) checkSigned(names []string) error {
	for _, d := range t.Disclosures {
		if k, ok := d.Path[0].(string); ok && contains(names, k) {
			return fail(credential.ErrDisclosure, "claim %q is selectively disclosed (at %s) but must be signed in the clear", k, d.Path)
		}
	}
	return nil
}

// registered reads the registered claims from Claims.
func (t *Token) registered() error {
	str := func(name string, dst *string) error {
		v, ok := t.Claims[name]
		if !ok {
			return nil
		}
		s, ok := v.(string)
		if !ok {
			return fail(credential.ErrMalformed, "claim %s is not a string", name)
		}
		*dst = s
		return nil
	}
	date := func(name string, dst *time.Time) error {
		v, ok := t.Claims[name]
		if !ok {
			return nil
		}
		tm, ok := numericDate(v)
		if !ok {
			return fail(credential.ErrMalformed, "claim %s is not a NumericDate", name)
		}
		*dst = tm
		return nil
	}
	for _, err := range []error{
		str("iss", &t.Issuer), str("sub", &t.Subject), str("vct", &t.VCT),
		date("iat", &t.IssuedAt), date("nbf", &t.NotBefore), date("exp", &t.Expires),
	} {
		if err != nil {
			return err
		}
	}
	if v, ok := t.Claims["status"]; ok {
		m, ok := v.(map[string]any)
		if !ok {
			return fail(credential.ErrMalformed, "claim status is not an object")
		}
		t.Status = m
	}
	if v, ok := t.Claims["cnf"]; ok {
		cnf, ok := v.(map[string]any)
		if !ok {
			return fail(credential.ErrMalformed, "claim cnf is not an object")
		}
		if jv, ok := cnf["jwk"]; ok {
			j, ok := jv.(map[string]any)
			if !ok {
				return fail(credential.ErrMalformed, "cnf.jwk is not an object")
			}
			k, err := parseJWK(j)
			if err != nil {
				return fail(credential.ErrMalformed, "cnf.jwk: %v", err)
			}
			t.HolderKey = k
		}
	}
	return nil
}

// processor rebuilds the claims of one token.
type processor struct {
	byDigest map[string]*Disclosure
	// seen are the digests met so far: a digest may appear once only.
	seen map[string]struct{}
}

func (p *processor) use(dg string) (*Disclosure, error) {
	if _, dup := p.seen[dg]; dup {
		return nil, fail(credential.ErrDisclosure, "digest %s appears more than once", dg)
	}
	p.seen[dg] = struct{}{}
	return p.byDigest[dg], nil
}

func (p *processor) value(v any, path Path, depth int) (any, error) {
	switch x := v.(type) {
	case map[string]any:
		return p.object(x, path, depth)
	case []any:
		return p.array(x, path, depth)
	}
	return v, nil
}

func (p *processor) object(obj map[string]any, path Path, depth int) (map[string]any, error) {
	if depth > MaxDepth {
		return nil, fail(credential.ErrMalformed, "claims nested deeper than %d", MaxDepth)
	}
	out := make(map[string]any, len(obj))
	for k, v := range obj {
		switch {
		case k == claimSD:
			continue
		case k == claimArray:
			return nil, fail(credential.ErrMalformed, "object at %s has a \"...\" member outside an array element", path)
		case k == claimSDAlg && depth > 0:
			return nil, fail(credential.ErrMalformed, "_sd_alg at %s, not at the top level", path)
		}
		nv, err := p.value(v, path.with(k), depth+1)
		if err != nil {
			return nil, err
		}
		out[k] = nv
	}
	sdv, ok := obj[claimSD]
	if !ok {
		return out, nil
	}
	sd, ok := sdv.([]any)
	if !ok {
		return nil, fail(credential.ErrMalformed, "_sd at %s is not an array", path)
	}
	for _, e := range sd {
		dg, ok := e.(string)
		if !ok {
			return nil, fail(credential.ErrMalformed, "_sd at %s has a non-string digest", path)
		}
		d, err := p.use(dg)
		if err != nil {
			return nil, err
		}
		if d == nil {
			continue // a decoy, or a claim the holder did not disclose
		}
		if d.Element {
			return nil, fail(credential.ErrDisclosure, "array-element disclosure referenced from _sd at %s", path)
		}
		if _, exists := out[d.Name]; exists {
			return nil, fail(credential.ErrDisclosure, "disclosed claim %q already exists at %s", d.Name, path)
		}
		d.Path = path.with(d.Name)
		nv, err := p.value(d.Value, d.Path, depth+1)
		if err != nil {
			return nil, err
		}
		out[d.Name] = nv
	}
	return out, nil
}

func (p *processor) array(arr []any, path Path, depth int) ([]any, error) {
	if depth > MaxDepth {
		return nil, fail(credential.ErrMalformed, "claims nested deeper than %d", MaxDepth)
	}
	out := make([]any, 0, len(arr))
	for _, e := range arr {
		if m, ok := e.(map[string]any); ok {
			if dv, ok := m[claimArray]; ok {
				dg, ok := dv.(string)
				if len(m) != 1 || !ok {
					return nil, fail(credential.ErrMalformed, "array element at %s mixes \"...\" with other members or has a non-string digest", path)
				}
				d, err := p.use(dg)
				if err != nil {
					return nil, err
				}
				if d == nil {
					continue
				}
				if !d.Element {
					return nil, fail(credential.ErrDisclosure, "object-member disclosure %q referenced as an array element at %s", d.Name, path)
				}
				d.Path = path.with(len(out))
				nv, err := p.value(d.Value, d.Path, depth+1)
				if err != nil {
					return nil, err
				}
				out = append(out, nv)
				continue
			}
		}
		nv, err := p.value(e, path.with(len(out)), depth+1)
		if err != nil {
			return nil, err
		}
		out = append(out, nv)
	}
	return out, nil
}
