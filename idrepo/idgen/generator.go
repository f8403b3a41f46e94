package idgen

import (
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"slices"
	"sync"
)

const (
	// randBufSize is how many random bytes the generator reads at once.
	randBufSize = 4096

	// maxCandidates bounds the candidates Next draws before giving up, a
	// couple of seconds' work. With the default filters about one 10-digit
	// candidate in 17 passes, one 16-digit candidate in 180 and one
	// 24-digit candidate in 8000, so an honest source of randomness never
	// gets near it; it turns rules that admit (almost) no ID into an error
	// instead of a hang.
	maxCandidates = 1 << 24
)

// ErrRulesTooStrict is returned by Generator.Next when no candidate passed
// the filters in a very large number of tries: the rules admit (almost) no
// ID.
var ErrRulesTooStrict = errors.New("idgen: no candidate passed the filters; the rules admit (almost) no ID")

// Generator issues random IDs that pass its Rules. It draws digits from a
// cryptographically secure source and keeps no pool: each call to Next makes
// a fresh ID. A Generator is safe for concurrent use.
//
// Next is a rejection sampler: it draws the Length-1 random digits, appends
// the Verhoeff check digit and starts over if any filter fails, so every
// valid ID is equally likely. It tests the filters as each digit is drawn
// and starts over as soon as one fails, which rejects exactly the same
// candidates as testing the finished ID, only sooner.
//
// Next does not know which IDs were issued before; the caller keeps IDs
// unique (for example with a unique index, retrying Next on a collision).
type Generator struct {
	rules Rules
	rand  io.Reader

	mu   sync.Mutex
	buf  [randBufSize]byte
	next int             // index of the next unused byte in buf
	id   [MaxLength]byte // the candidate being built
	scan *scanner

	// maxCandidates is the constant of the same name, lowered in tests.
	maxCandidates int
	// candidates and issued count Next's work, for the acceptance ratio.
	candidates, issued uint64
}

// New returns a Generator for rules, which must pass Rules.Validate. It
// reads randomness from random, or from crypto/rand if random is nil; pass
// anything else only in tests.
func New(rules Rules, random io.Reader) (*Generator, error) {
	if err := rules.Validate(); err != nil {
		return nil, err
	}
	if random == nil {
		random = rand.Reader
	}
	rules.Restricted = slices.Clone(rules.Restricted)
	rules.NotStartWith = slices.Clone(rules.NotStartWith)
	g := &Generator{rules: rules, rand: random, scan: newScanner(rules), maxCandidates: maxCandidates}
	g.next = len(g.buf)
	return g, nil
}

// Rules returns a copy of the generator's rules, for checking the IDs it
// issues.
func (g *Generator) Rules() Rules {
	r := g.rules
	r.Restricted = slices.Clone(r.Restricted)
	r.NotStartWith = slices.Clone(r.NotStartWith)
	return r
}

// Next returns a new random ID that passes Rules.Check. It fails only if the
// source of randomness fails, or with ErrRulesTooStrict.
func (g *Generator) Next() (string, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	id := g.id[:g.rules.Length]
	for range g.maxCandidates {
		g.candidates++
		ok, err := g.candidate(id)
		if err != nil {
			return "", err
		}
		if ok {
			g.issued++
			return string(id), nil
		}
	}
	return "", ErrRulesTooStrict
}

// candidate fills id with random digits and a check digit and reports
// whether it passes every filter, stopping at the first digit that breaks
// one.
func (g *Generator) candidate(id []byte) (bool, error) {
	g.scan.reset()
	last := len(id) - 1
	for i := range last {
		d, err := g.digit()
		if err != nil {
			return false, err
		}
		id[i] = '0' + d
		if g.scan.push(id, i) {
			return false, nil
		}
	}
	id[last] = verhoeffDigit(id[:last])
	return !g.scan.push(id, last) && !g.scan.complete(id), nil
}

// digit returns a uniformly random digit. It takes one random byte and keeps
// it if below 250, the largest multiple of 10 that fits, so that every
// digit is equally likely (taking every byte modulo 10 would favour 0 to 5).
func (g *Generator) digit() (byte, error) {
	for skipped := 0; ; skipped++ {
		if g.next == len(g.buf) {
			if skipped > len(g.buf) {
				return 0, errors.New("idgen: source of randomness returns only bytes >= 250")
			}
			if _, err := io.ReadFull(g.rand, g.buf[:]); err != nil {
				return 0, fmt.Errorf("idgen: reading randomness: %w", err)
			}
			g.next = 0
		}
		b := g.buf[g.next]
		g.next++
		if b < 250 {
			return b % 10, nil
		}
	}
}
