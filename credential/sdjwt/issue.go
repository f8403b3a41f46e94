package sdjwt

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"math/big"
	"slices"
	"strings"
	"time"

	"github.com/sanad-id/sanad/credential"
)

// Options are the SD-JWT-level choices of Issue.
type Options struct {
	// Typ is the header typ; empty leaves it out.
	Typ string
	// X5C is the issuer's certificate chain (DER, leaf first) for the x5c
	// header; nil leaves it out.
	X5C [][]byte
	// Holder is the public key the credential is bound to (cnf.jwk): an
	// *ecdsa.PublicKey, ed25519.PublicKey, *rsa.PublicKey or a public
	// jwk.Key. Nil issues an unbound SD-JWT.
	Holder any
	// Disclosable are the paths of the selectively disclosable claims. A
	// path that names nothing in the claims is skipped (an optional claim
	// the subject does not have). Paths may nest: ["address"] and
	// ["address", "locality"] make locality disclosable inside a
	// disclosable address.
	Disclosable []Path
	// Decoys is the largest number of decoy digests added to each object
	// that has disclosable members (a random number from 0 to Decoys), so
	// that the number of digests does not tell how many claims exist.
	Decoys int
}

// VC is an SD-JWT VC to issue (IssueVC).
type VC struct {
	// Issuer is iss.
	Issuer string
	// VCT is the credential type (required).
	VCT string
	// IssuedAt, NotBefore and Expires are iat, nbf and exp; zero leaves
	// the claim out.
	IssuedAt, NotBefore, Expires time.Time
	// Status is the status claim (a Token Status List reference), nil for
	// none.
	Status map[string]any
	// Claims are the credential's other claims. They must not contain
	// iss, vct, iat, nbf, exp, cnf, status or the SD-JWT reserved names.
	Claims map[string]any
	// Disclosable, Holder, X5C and Decoys are as in Options. iss, vct,
	// vct#integrity, iat, nbf, exp, cnf and status are never disclosable.
	Disclosable []Path
	Holder      any
	X5C         [][]byte
	Decoys      int
	// LegacyTyp issues typ vc+sd-jwt instead of dc+sd-jwt.
	LegacyTyp bool
}

// CheckVC reports what IssueVC would refuse about claims and the
// disclosable paths, without signing: a configuration's template can be
// checked at start-up. It does not require the paths to exist in claims.
func CheckVC(claims map[string]any, disclosable []Path) error {
	if err := checkDisclosable(disclosable, neverIssuedVC); err != nil {
		return err
	}
	if _, err := buildSelector(disclosable); err != nil {
		return err
	}
	for k := range claims {
		if contains(neverIssuedVC, k) || k == claimSDAlg {
			return fmt.Errorf("sdjwt: claim %q is set by the SD-JWT VC layer, not by the claims", k)
		}
	}
	_, err := (&builder{}).value(claims, nil, 0)
	return err
}

// IssueVC issues an SD-JWT VC signed by signer.
func IssueVC(ctx context.Context, signer credential.Signer, vc VC) (string, error) {
	if vc.VCT == "" {
		return "", errors.New("sdjwt: vct is required")
	}
	if err := checkDisclosable(vc.Disclosable, neverIssuedVC); err != nil {
		return "", err
	}
	claims := make(map[string]any, len(vc.Claims)+7)
	for k, v := range vc.Claims {
		if contains(neverIssuedVC, k) {
			return "", fmt.Errorf("sdjwt: claim %q is set by the SD-JWT VC layer, not by the claims", k)
		}
		claims[k] = v
	}
	if vc.Issuer != "" {
		claims["iss"] = vc.Issuer
	}
	claims["vct"] = vc.VCT
	if !vc.IssuedAt.IsZero() {
		claims["iat"] = vc.IssuedAt.Unix()
	}
	if !vc.NotBefore.IsZero() {
		claims["nbf"] = vc.NotBefore.Unix()
	}
	if !vc.Expires.IsZero() {
		claims["exp"] = vc.Expires.Unix()
	}
	if vc.Status != nil {
		claims["status"] = vc.Status
	}
	typ := TypVC
	if vc.LegacyTyp {
		typ = TypVCLegacy
	}
	return Issue(ctx, signer, claims, Options{
		Typ:         typ,
		X5C:         vc.X5C,
		Holder:      vc.Holder,
		Disclosable: vc.Disclosable,
		Decoys:      vc.Decoys,
	})
}

// Issue issues an SD-JWT of claims signed by signer:
// <issuer-jwt>~<disclosure>~...~. claims is not modified. iss, nbf, exp
// and cnf are never disclosable.
func Issue(ctx context.Context, signer credential.Signer, claims map[string]any, opts Options) (string, error) {
	if signer == nil {
		return "", errors.New("sdjwt: no signer")
	}
	if err := checkDisclosable(opts.Disclosable, alwaysSigned); err != nil {
		return "", err
	}
	if _, ok := claims["_sd_alg"]; ok {
		return "", errors.New("sdjwt: claims must not contain _sd_alg")
	}
	if opts.Decoys < 0 || opts.Decoys > 100 {
		return "", fmt.Errorf("sdjwt: %d decoys, want 0 to 100", opts.Decoys)
	}
	sel, err := buildSelector(opts.Disclosable)
	if err != nil {
		return "", err
	}
	b := &builder{decoys: opts.Decoys}
	v, err := b.value(claims, sel, 0)
	if err != nil {
		return "", err
	}
	payload := v.(map[string]any)
	if sel == nil {
		// Nothing was copied; copy the top level before adding to it.
		payload = make(map[string]any, len(claims)+2)
		for k, v := range claims {
			payload[k] = v
		}
	}
	payload[claimSDAlg] = HashSHA256
	if opts.Holder != nil {
		if _, ok := claims["cnf"]; ok {
			return "", errors.New("sdjwt: claims have a cnf and a holder key is given")
		}
		j, err := publicJWK(opts.Holder)
		if err != nil {
			return "", err
		}
		payload["cnf"] = map[string]any{"jwk": j}
	}
	body, err := appendJSON(make([]byte, 0, 1024), payload)
	if err != nil {
		return "", fmt.Errorf("sdjwt: encoding payload: %w", err)
	}
	header := make(map[string]any, 2)
	if opts.Typ != "" {
		header["typ"] = opts.Typ
	}
	if len(opts.X5C) > 0 {
		chain := make([]string, len(opts.X5C))
		for i, der := range opts.X5C {
			chain[i] = base64.StdEncoding.EncodeToString(der)
		}
		header["x5c"] = chain
	}
	jws, err := signer.SignJWS(ctx, body, header)
	if err != nil {
		return "", fmt.Errorf("sdjwt: signing: %w", err)
	}
	n := len(jws) + 1
	for _, d := range b.disclosures {
		n += len(d) + 1
	}
	var sb strings.Builder
	sb.Grow(n)
	sb.WriteString(jws)
	sb.WriteByte('~')
	for _, d := range b.disclosures {
		sb.WriteString(d)
		sb.WriteByte('~')
	}
	return sb.String(), nil
}

// checkDisclosable refuses paths that make a never-disclosable claim or
// a reserved name disclosable.
func checkDisclosable(paths []Path, never []string) error {
	for _, p := range paths {
		if len(p) == 0 {
			return errors.New("sdjwt: empty claim path")
		}
		if k, ok := p[0].(string); ok && contains(never, k) {
			return fmt.Errorf("sdjwt: claim %q is never selectively disclosable (path %s)", k, p)
		}
		for _, e := range p {
			if k, ok := e.(string); ok && (k == claimSD || k == claimSDAlg || k == claimArray) {
				return fmt.Errorf("sdjwt: claim path %s uses the reserved name %q", p, k)
			}
		}
	}
	return nil
}

// selector is the tree of disclosable paths.
type selector struct {
	disclose bool
	keys     map[string]*selector
	elems    map[int]*selector
	all      *selector
}

func buildSelector(paths []Path) (*selector, error) {
	if len(paths) == 0 {
		return nil, nil
	}
	root := &selector{}
	for _, p := range paths {
		steps, err := p.steps()
		if err != nil {
			return nil, err
		}
		if steps[0].kind != stepKey {
			return nil, fmt.Errorf("sdjwt: claim path %s must start with a claim name", p)
		}
		n := root
		for _, s := range steps {
			var c *selector
			switch s.kind {
			case stepKey:
				if n.keys == nil {
					n.keys = map[string]*selector{}
				}
				if c = n.keys[s.key]; c == nil {
					c = &selector{}
					n.keys[s.key] = c
				}
			case stepIndex:
				if n.elems == nil {
					n.elems = map[int]*selector{}
				}
				if c = n.elems[s.index]; c == nil {
					c = &selector{}
					n.elems[s.index] = c
				}
			case stepAll:
				if n.all == nil {
					n.all = &selector{}
				}
				c = n.all
			}
			n = c
		}
		n.disclose = true
	}
	return root, nil
}

// elem is the selector of array element i: the union of the selectors
// for i and for every element.
func (s *selector) elem(i int) *selector {
	e := s.elems[i]
	switch {
	case e == nil:
		return s.all
	case s.all == nil:
		return e
	}
	return merge(e, s.all)
}

func merge(a, b *selector) *selector {
	if a == nil {
		return b
	}
	if b == nil {
		return a
	}
	m := &selector{disclose: a.disclose || b.disclose, all: merge(a.all, b.all)}
	if len(a.keys)+len(b.keys) > 0 {
		m.keys = map[string]*selector{}
		for k, v := range a.keys {
			m.keys[k] = merge(v, b.keys[k])
		}
		for k, v := range b.keys {
			if _, ok := a.keys[k]; !ok {
				m.keys[k] = v
			}
		}
	}
	if len(a.elems)+len(b.elems) > 0 {
		m.elems = map[int]*selector{}
		for k, v := range a.elems {
			m.elems[k] = merge(v, b.elems[k])
		}
		for k, v := range b.elems {
			if _, ok := a.elems[k]; !ok {
				m.elems[k] = v
			}
		}
	}
	return m
}

// builder makes the disclosures of one SD-JWT.
type builder struct {
	decoys      int
	disclosures []string
}

// value returns v with the claims sel selects replaced by digests. It
// copies only what it changes, and refuses reserved names anywhere in the
// claims.
func (b *builder) value(v any, sel *selector, depth int) (any, error) {
	switch x := v.(type) {
	case map[string]any:
		if depth >= MaxDepth {
			return nil, fmt.Errorf("sdjwt: claims nested deeper than %d", MaxDepth)
		}
		var out map[string]any
		var digests []string
		if sel != nil {
			out = make(map[string]any, len(x)+1)
		}
		for k, e := range x {
			if k == claimSD || k == claimArray || (depth > 0 && k == claimSDAlg) {
				return nil, fmt.Errorf("sdjwt: claims use the reserved name %q", k)
			}
			var c *selector
			if sel != nil {
				c = sel.keys[k]
			}
			ne, err := b.value(e, c, depth+1)
			if err != nil {
				return nil, err
			}
			if out == nil {
				continue
			}
			if c != nil && c.disclose {
				d, err := b.disclose(true, k, ne)
				if err != nil {
					return nil, err
				}
				digests = append(digests, d)
				continue
			}
			out[k] = ne
		}
		if out == nil {
			return x, nil
		}
		if len(digests) > 0 {
			if b.decoys > 0 {
				n, err := rand.Int(rand.Reader, big.NewInt(int64(b.decoys)+1))
				if err != nil {
					return nil, err
				}
				for range n.Int64() {
					digests = append(digests, decoy())
				}
			}
			slices.Sort(digests)
			out[claimSD] = digests
		}
		return out, nil
	case []any:
		if depth >= MaxDepth {
			return nil, fmt.Errorf("sdjwt: claims nested deeper than %d", MaxDepth)
		}
		var out []any
		if sel != nil {
			out = make([]any, len(x))
		}
		for i, e := range x {
			var c *selector
			if sel != nil {
				c = sel.elem(i)
			}
			ne, err := b.value(e, c, depth+1)
			if err != nil {
				return nil, err
			}
			if out == nil {
				continue
			}
			if c != nil && c.disclose {
				d, err := b.disclose(false, "", ne)
				if err != nil {
					return nil, err
				}
				ne = map[string]any{claimArray: d}
			}
			out[i] = ne
		}
		if out == nil {
			return x, nil
		}
		return out, nil
	}
	return v, nil
}

// disclose makes the disclosure of one claim (member) or array element
// and returns its digest.
func (b *builder) disclose(member bool, name string, value any) (string, error) {
	var salt [16]byte
	rand.Read(salt[:])
	var saltB64 [22]byte
	b64.Encode(saltB64[:], salt[:])
	buf := make([]byte, 0, 64)
	buf = append(buf, '[', '"')
	buf = append(buf, saltB64[:]...)
	buf = append(buf, '"', ',')
	if member {
		buf = appendString(buf, name)
		buf = append(buf, ',')
	}
	buf, err := appendJSON(buf, value)
	if err != nil {
		return "", fmt.Errorf("sdjwt: encoding disclosure: %w", err)
	}
	buf = append(buf, ']')
	enc := b64.EncodeToString(buf)
	b.disclosures = append(b.disclosures, enc)
	sum := sha256.Sum256([]byte(enc))
	return b64.EncodeToString(sum[:]), nil
}

// decoy is a digest of random data: indistinguishable from the digest of
// an undisclosed claim.
func decoy() string {
	var r [32]byte
	rand.Read(r[:])
	sum := sha256.Sum256(r[:])
	return b64.EncodeToString(sum[:])
}
