package idgen

import (
	"fmt"
	"math/big"
	"regexp"
	"strings"
	"sync"
)

// This file holds a slow reference implementation of the rules, written
// independently of the package code and as close as Go allows to MOSIP's
// own (regular expressions and substring searches), for the tests and the
// fuzz target to compare against.

// refVerhoeffValid computes the Verhoeff checksum from the structure of
// the dihedral group D5 rather than from tables: digits 0-4 are rotations
// and 5-9 reflections, the position permutation is
// σ = (1 5 8 9 4 2 7)(3 6) applied once per position.
func refVerhoeffValid(id string) bool {
	if id == "" {
		return false
	}
	mul := func(j, k int) int {
		switch {
		case j < 5 && k < 5:
			return (j + k) % 5
		case j < 5:
			return 5 + (j+k-5)%5
		case k < 5:
			return 5 + (j-5-k+10)%5
		default:
			return (j - k + 10) % 5
		}
	}
	sigma := [10]int{1, 5, 7, 6, 2, 8, 3, 0, 9, 4}
	c := 0
	for pos := 0; pos < len(id); pos++ {
		ch := id[len(id)-1-pos]
		if ch < '0' || ch > '9' {
			return false
		}
		d := int(ch - '0')
		for range pos % 8 {
			d = sigma[d]
		}
		c = mul(c, d)
	}
	return c == 0
}

// refCyclicNumbers computes the cyclic numbers of the full-reptend primes
// below 100 (those p for which 10 has order p-1 modulo p, above 5): the
// repetend of 1/p, padded with its leading zeros to p-1 digits.
func refCyclicNumbers() []string {
	var out []string
	for p := int64(7); p < 100; p++ {
		if !big.NewInt(p).ProbablyPrime(0) {
			continue
		}
		order, x := int64(1), int64(10%p)
		for x != 1 {
			x = x * 10 % p
			order++
		}
		if order != p-1 {
			continue
		}
		// (10^(p-1) - 1) / p is the repetend.
		r := new(big.Int).Exp(big.NewInt(10), big.NewInt(p-1), nil)
		r.Sub(r, big.NewInt(1))
		r.Div(r, big.NewInt(p))
		out = append(out, fmt.Sprintf("%0*s", p-1, r.String()))
	}
	return out
}

var refDigits = regexp.MustCompile(`^[0-9]*$`)

var refCyclic = refCyclicNumbers()

// refFailures returns every rule id fails, in Check's order. For a
// malformed id (wrong length, not digits) it returns that alone.
func refFailures(r Rules, id string) []string {
	if len(id) != r.Length {
		return []string{RuleLength}
	}
	if !refDigits.MatchString(id) {
		return []string{RuleNotDigits}
	}
	var fails []string
	if !refVerhoeffValid(id) {
		fails = append(fails, RuleVerhoeff)
	}
	return append(fails, refFilterFailures(r, id)...)
}

// refFilterFailures returns every filter the digit string id fails.
func refFilterFailures(r Rules, id string) []string {
	var fails []string
	fail := func(rule string) { fails = append(fails, rule) }

	for _, p := range r.NotStartWith {
		if strings.HasPrefix(id, p) {
			fail(RuleNotStartWith)
			break
		}
	}

	if l := r.SequenceLimit; l > 0 {
		const asc, desc = "01234567890123456789", "98765432109876543210"
		for i := 0; i+l <= len(id); i++ {
			if w := id[i : i+l]; strings.Contains(asc, w) || strings.Contains(desc, w) {
				fail(RuleSequence)
				break
			}
		}
	}

	// (\d)\d{0,R-1}\1 with the back reference spelled out digit by digit,
	// since Go's regular expressions have none.
	if rl := r.RepeatingLimit; rl > 0 {
		var alts []string
		for d := '0'; d <= '9'; d++ {
			alts = append(alts, fmt.Sprintf(`%c\d{0,%d}%c`, d, rl-1, d))
		}
		if refRegexp(strings.Join(alts, "|")).MatchString(id) {
			fail(RuleRepeating)
		}
	}

	// (\d{B,}).*?\1: some block of B or more digits occurs again after it.
	if b := r.RepeatingBlockLimit; b > 0 && refRepeatingBlock(id, b) {
		fail(RuleRepeatingBlock)
	}

	if c := r.ConjugativeEvenDigitsLimit; c > 0 {
		if refRegexp(fmt.Sprintf(`[2468]{%d}`, c)).MatchString(id) {
			fail(RuleConjugativeEven)
		}
	}

	if n := r.DigitsGroupLimit; n > 0 && n <= len(id) && id[:n] == id[len(id)-n:] {
		fail(RuleDigitsGroup)
	}
	if n := r.ReverseDigitsGroupLimit; n > 0 && n <= len(id) && id[:n] == refReverse(id[len(id)-n:]) {
		fail(RuleReverseDigitsGroup)
	}

	for _, p := range r.Restricted {
		if strings.Contains(id, p) {
			fail(RuleRestricted)
			break
		}
	}

	for _, c := range refCyclic {
		if len(c) <= len(id) && strings.Contains(id, c) {
			fail(RuleCyclic)
			break
		}
	}
	return fails
}

// refRepeatingBlock reports whether (\d{b,}).*?\1 matches id. Go's
// regular expressions have no back references, so it tries what the
// backtracking matcher would: every block of at least b digits, looked for
// after its end. For b <= 2 it also asks a regular expression with the back
// reference spelled out as an alternation over all blocks of b digits
// (00.*00|01.*01|...), which is equivalent because a repeated longer block
// starts with a repeated block of b digits, and panics if the two disagree.
func refRepeatingBlock(id string, b int) bool {
	found := false
	for i := 0; i < len(id) && !found; i++ {
		for l := b; i+l <= len(id); l++ {
			if strings.Contains(id[i+l:], id[i:i+l]) {
				found = true
				break
			}
		}
	}
	if b <= 2 {
		var alts []string
		n := 1
		for range b {
			n *= 10
		}
		for v := range n {
			block := fmt.Sprintf("%0*d", b, v)
			alts = append(alts, block+".*"+block)
		}
		if re := refRegexp(strings.Join(alts, "|")).MatchString(id); re != found {
			panic(fmt.Sprintf("repeating block %d in %q: scan says %v, regexp says %v", b, id, found, re))
		}
	}
	return found
}

var refRegexps sync.Map // expression -> *regexp.Regexp

// refRegexp compiles expr once.
func refRegexp(expr string) *regexp.Regexp {
	if re, ok := refRegexps.Load(expr); ok {
		return re.(*regexp.Regexp)
	}
	re, _ := refRegexps.LoadOrStore(expr, regexp.MustCompile(expr))
	return re.(*regexp.Regexp)
}

func refReverse(s string) string {
	b := []byte(s)
	for i, j := 0, len(b)-1; i < j; i, j = i+1, j-1 {
		b[i], b[j] = b[j], b[i]
	}
	return string(b)
}
