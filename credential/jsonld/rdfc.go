package jsonld

import (
	"crypto"
	_ "crypto/sha256" // RDFC-1.0's default hash
	_ "crypto/sha512" // SHA-384, for ecdsa-rdfc-2019 with P-384
	"encoding/hex"
	"fmt"
	"hash"
	"slices"
	"sort"
	"strconv"
	"strings"
)

// This file is RDF Dataset Canonicalization (RDFC-1.0,
// https://www.w3.org/TR/rdf-canon/) over the quads canonical.go converts
// a document to (json-gold expands it and builds its node map). json-gold's
// own canonicalization cannot be used for Data Integrity: it
// hashes with SHA-256 only (ecdsa-rdfc-2019 canonicalizes with SHA-384
// for P-384 keys), it escapes literals differently from the canonical
// N-Quads form (control characters other than tab, LF and CR), and it has
// no bound on the Hash N-Degree Quads work, so a small "poison" document
// could stall a verifier.

// Bounds on the work of the Hash N-Degree Quads algorithm. A document
// needing more is refused with ErrInvalid; credentials need none of it
// (their blank nodes are told apart by their own statements) or very
// little.
const (
	// maxWorkFactor: the Hash N-Degree Quads algorithm may run n^3 times
	// for n blank nodes that need it (rdf-canonize's work factor; the
	// "poison" graphs of the RDFC-1.0 test suite need 468 runs for n =
	// 12), and never more than maxDeepIterations times.
	maxWorkFactor     = 3
	maxDeepIterations = 2048
	// maxAmbiguousBlankNodes bounds n.
	maxAmbiguousBlankNodes = 128
	// maxPermutationGroup bounds a group of related blank nodes whose
	// orders are all tried (n! permutations).
	maxPermutationGroup = 8
	// maxPermutations bounds the permutations tried in all.
	maxPermutations = 1 << 15
)

// Term kinds of rdfTerm.
const (
	termNone    = 0 // the default graph
	termIRI     = 'i'
	termBlank   = 'b'
	termLiteral = 'l'
)

// rdfTerm is an RDF term. Blank node values carry their "_:" prefix.
type rdfTerm struct {
	kind     byte
	value    string
	datatype string // literals: the datatype IRI
	language string // literals: the language tag (datatype rdf:langString)
}

type rdfQuad struct{ s, p, o, g rdfTerm }

// nodeTerm is the term of a node identifier: a blank node or an IRI.
func nodeTerm(v string) rdfTerm {
	if strings.HasPrefix(v, "_:") {
		return rdfTerm{kind: termBlank, value: v}
	}
	return rdfTerm{kind: termIRI, value: v}
}

// rdfc is the state of one canonicalization.
type rdfc struct {
	hash   crypto.Hash
	quads  []rdfQuad
	bnodes map[string]*bnodeInfo
	canon  *idIssuer

	deepLeft  int
	permsLeft int
}

type bnodeInfo struct {
	quads []int // indexes into rdfc.quads, each once
	hash  string
}

// canonicalize returns the canonical N-Quads of quads, a set of quads
// (RDFC-1.0 with hash h: crypto.SHA256 or crypto.SHA384).
func canonicalize(quads []rdfQuad, h crypto.Hash) (string, error) {
	if !h.Available() {
		return "", fmt.Errorf("%w: hash %v is not available", ErrInvalid, h)
	}
	c := &rdfc{hash: h, bnodes: map[string]*bnodeInfo{}, canon: newIssuer("_:c14n"), permsLeft: maxPermutations}

	// quads is a set (the node map never yields a statement twice; the
	// test suite's parser drops duplicates).
	c.quads = quads
	var order []string // blank nodes in order of appearance
	for i := range c.quads {
		q := &c.quads[i]
		for _, t := range [...]*rdfTerm{&q.s, &q.o, &q.g} {
			if t.kind != termBlank {
				continue
			}
			info := c.bnodes[t.value]
			if info == nil {
				info = &bnodeInfo{}
				c.bnodes[t.value] = info
				order = append(order, t.value)
			}
			if n := len(info.quads); n == 0 || info.quads[n-1] != i {
				info.quads = append(info.quads, i)
			}
		}
	}

	// Steps 3-5: first-degree hashes; blank nodes with a unique one get
	// their canonical identifier in hash order. (Running the loop of step
	// 5 once is enough: first-degree hashes do not change.)
	byHash := map[string][]string{}
	for _, id := range order {
		h := c.hashFirstDegree(id)
		byHash[h] = append(byHash[h], id)
	}
	hashes := make([]string, 0, len(byHash))
	for h := range byHash {
		hashes = append(hashes, h)
	}
	sort.Strings(hashes)
	var nonUnique [][]string
	count := 0
	for _, h := range hashes {
		ids := byHash[h]
		if len(ids) > 1 {
			nonUnique = append(nonUnique, ids)
			count += len(ids)
			continue
		}
		c.canon.get(ids[0])
	}

	// Step 6: the others, by Hash N-Degree Quads.
	if count > maxAmbiguousBlankNodes {
		return "", fmt.Errorf("%w: %d blank nodes are not told apart by their own statements (at most %d)", ErrInvalid, count, maxAmbiguousBlankNodes)
	}
	c.deepLeft = 1
	for range maxWorkFactor {
		c.deepLeft = min(c.deepLeft*count, maxDeepIterations)
	}
	for _, ids := range nonUnique {
		type result struct {
			hash   string
			issuer *idIssuer
		}
		var results []result
		for _, id := range ids {
			if c.canon.has(id) {
				continue
			}
			is := newIssuer("_:b")
			is.get(id)
			h, is, err := c.hashNDegree(id, is)
			if err != nil {
				return "", err
			}
			results = append(results, result{h, is})
		}
		sort.SliceStable(results, func(i, j int) bool { return results[i].hash < results[j].hash })
		for _, r := range results {
			for _, old := range r.issuer.order {
				c.canon.get(old)
			}
		}
	}

	// Step 7: relabel, serialize, sort.
	lines := make([]string, len(c.quads))
	var buf []byte
	for i := range c.quads {
		q := &c.quads[i]
		buf = appendQuad(buf[:0], q, func(id string) string { return c.canon.get(id) })
		lines[i] = string(buf)
	}
	slices.Sort(lines)
	n := 0
	for _, l := range lines {
		n += len(l)
	}
	var b strings.Builder
	b.Grow(n)
	for _, l := range lines {
		b.WriteString(l)
	}
	return b.String(), nil
}

// hashFirstDegree is Hash First Degree Quads (section 4.6).
func (c *rdfc) hashFirstDegree(id string) string {
	info := c.bnodes[id]
	if info.hash != "" {
		return info.hash
	}
	lines := make([]string, 0, len(info.quads))
	var buf []byte
	label := func(b string) string {
		if b == id {
			return "_:a"
		}
		return "_:z"
	}
	for _, qi := range info.quads {
		buf = appendQuad(buf[:0], &c.quads[qi], label)
		lines = append(lines, string(buf))
	}
	slices.Sort(lines)
	h := c.hash.New()
	for _, l := range lines {
		h.Write([]byte(l))
	}
	info.hash = hexSum(h)
	return info.hash
}

// hashRelated is Hash Related Blank Node (section 4.7).
func (c *rdfc) hashRelated(related string, q *rdfQuad, is *idIssuer, position byte) string {
	h := c.hash.New()
	h.Write([]byte{position})
	if position != 'g' {
		h.Write([]byte("<" + q.p.value + ">"))
	}
	var id string
	switch {
	case c.canon.has(related):
		id = c.canon.get(related)
	case is.has(related):
		id = is.get(related)
	default:
		id = c.hashFirstDegree(related)
	}
	h.Write([]byte(id))
	return hexSum(h)
}

// hashNDegree is Hash N-Degree Quads (section 4.8), bounded by the
// work limits.
func (c *rdfc) hashNDegree(id string, is *idIssuer) (string, *idIssuer, error) {
	if c.deepLeft <= 0 {
		return "", nil, fmt.Errorf("%w: the document's blank nodes are too ambiguous to canonicalize", ErrInvalid)
	}
	c.deepLeft--

	related := map[string][]string{}
	for _, qi := range c.bnodes[id].quads {
		q := &c.quads[qi]
		for _, comp := range [...]struct {
			t   *rdfTerm
			pos byte
		}{{&q.s, 's'}, {&q.o, 'o'}, {&q.g, 'g'}} {
			if comp.t.kind == termBlank && comp.t.value != id {
				h := c.hashRelated(comp.t.value, q, is, comp.pos)
				related[h] = append(related[h], comp.t.value)
			}
		}
	}
	hashes := make([]string, 0, len(related))
	for h := range related {
		hashes = append(hashes, h)
	}
	sort.Strings(hashes)

	data := c.hash.New()
	for _, rh := range hashes {
		data.Write([]byte(rh))
		group := related[rh]
		if len(group) > maxPermutationGroup {
			return "", nil, fmt.Errorf("%w: a blank node has %d indistinguishable neighbours (at most %d)", ErrInvalid, len(group), maxPermutationGroup)
		}
		var chosenPath string
		var chosen *idIssuer
		var err error
		permute(group, func(perm []string) bool {
			if c.permsLeft--; c.permsLeft < 0 {
				err = fmt.Errorf("%w: the document's blank nodes are too ambiguous to canonicalize", ErrInvalid)
				return false
			}
			copyIs := is.clone()
			var path strings.Builder
			var recursion []string
			for _, r := range perm {
				if c.canon.has(r) {
					path.WriteString(c.canon.get(r))
				} else {
					if !copyIs.has(r) {
						recursion = append(recursion, r)
					}
					path.WriteString(copyIs.get(r))
				}
				if chosenPath != "" && path.Len() >= len(chosenPath) && path.String() > chosenPath {
					return true
				}
			}
			for _, r := range recursion {
				var h string
				h, copyIs, err = c.hashNDegree(r, copyIs)
				if err != nil {
					return false
				}
				path.WriteString(copyIs.get(r))
				path.WriteString("<" + h + ">")
				if chosenPath != "" && path.Len() >= len(chosenPath) && path.String() > chosenPath {
					return true
				}
			}
			if p := path.String(); chosenPath == "" || p < chosenPath {
				chosenPath, chosen = p, copyIs
			}
			return true
		})
		if err != nil {
			return "", nil, err
		}
		data.Write([]byte(chosenPath))
		is = chosen
	}
	return hexSum(data), is, nil
}

// permute calls f with every permutation of list until f returns false.
func permute(list []string, f func([]string) bool) {
	p := slices.Clone(list)
	slices.Sort(p)
	for {
		if !f(p) {
			return
		}
		// Next lexicographic permutation.
		i := len(p) - 2
		for i >= 0 && p[i] >= p[i+1] {
			i--
		}
		if i < 0 {
			return
		}
		j := len(p) - 1
		for p[j] <= p[i] {
			j--
		}
		p[i], p[j] = p[j], p[i]
		slices.Reverse(p[i+1:])
	}
}

func hexSum(h hash.Hash) string {
	var sum [64]byte
	return hex.EncodeToString(h.Sum(sum[:0]))
}

// idIssuer is the Issue Identifier algorithm's state (section 4.5).
type idIssuer struct {
	prefix string
	ids    map[string]string
	order  []string
}

func newIssuer(prefix string) *idIssuer {
	return &idIssuer{prefix: prefix, ids: map[string]string{}}
}

func (is *idIssuer) has(old string) bool { _, ok := is.ids[old]; return ok }

func (is *idIssuer) get(old string) string {
	if id, ok := is.ids[old]; ok {
		return id
	}
	id := is.prefix + strconv.Itoa(len(is.order))
	is.ids[old] = id
	is.order = append(is.order, old)
	return id
}

func (is *idIssuer) clone() *idIssuer {
	c := &idIssuer{prefix: is.prefix, ids: make(map[string]string, len(is.ids)+4), order: slices.Clone(is.order)}
	for k, v := range is.ids {
		c.ids[k] = v
	}
	return c
}

// appendQuad appends the canonical N-Quads line of q, with blank nodes
// written as label(their identifier).
func appendQuad(b []byte, q *rdfQuad, label func(string) string) []byte {
	b = appendTerm(b, &q.s, label)
	b = append(b, ' ')
	b = appendTerm(b, &q.p, label)
	b = append(b, ' ')
	b = appendTerm(b, &q.o, label)
	if q.g.kind != termNone {
		b = append(b, ' ')
		b = appendTerm(b, &q.g, label)
	}
	return append(b, " .\n"...)
}

func appendTerm(b []byte, t *rdfTerm, label func(string) string) []byte {
	switch t.kind {
	case termIRI:
		return appendIRI(b, t.value)
	case termBlank:
		return append(b, label(t.value)...)
	case termLiteral:
		b = append(b, '"')
		b = appendEscaped(b, t.value)
		b = append(b, '"')
		if t.datatype == langString {
			return append(append(b, '@'), t.language...)
		}
		if t.datatype != xsdString {
			b = append(b, "^^"...)
			b = appendIRI(b, t.datatype)
		}
	}
	return b
}

const hexDigits = "0123456789ABCDEF"

// appendIRI writes <iri>, escaping what an IRIREF cannot hold as \u00XX
// (canonical N-Quads, as rdf-canonize writes it).
func appendIRI(b []byte, s string) []byte {
	b = append(b, '<')
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c <= 0x20, c == '<', c == '>', c == '"', c == '{', c == '}', c == '|', c == '^', c == '`', c == '\\':
			b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
		default:
			b = append(b, c)
		}
	}
	return append(b, '>')
}

// appendEscaped writes a literal's characters in canonical N-Quads form:
// ECHAR for \b \t \n \f \r " \, \u00XX for the other controls and DEL,
// everything else as is.
func appendEscaped(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch c {
		case '\b':
			b = append(b, '\\', 'b')
		case '\t':
			b = append(b, '\\', 't')
		case '\n':
			b = append(b, '\\', 'n')
		case '\f':
			b = append(b, '\\', 'f')
		case '\r':
			b = append(b, '\\', 'r')
		case '"':
			b = append(b, '\\', '"')
		case '\\':
			b = append(b, '\\', '\\')
		default:
			if c < 0x20 || c == 0x7f {
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			} else {
				b = append(b, c)
			}
		}
	}
	return b
}
