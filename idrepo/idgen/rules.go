package idgen

import (
	"errors"
	"fmt"
)

// Length bounds accepted by Rules.Validate. Below MinLength the filters leave
// too few numbers to be worth issuing. Longer IDs are ever rarer among
// random digit strings (the repeating and repeating-block filters forbid
// long ones): with the default filters, 1 candidate in 17 passes at 10
// digits, 1 in 180 at 16 and 1 in 8000 at 24, so generation slows down
// accordingly.
const (
	MinLength = 4
	MaxLength = 24
)

// Names of the rules, as reported in RuleError.Rule. The first three make an
// ID malformed (a typing mistake or garbage); the others are the generation
// filters an issued ID always passes.
const (
	RuleLength             = "length"               // not exactly Rules.Length bytes
	RuleNotDigits          = "not-digits"           // holds a byte other than an ASCII digit
	RuleVerhoeff           = "verhoeff"             // the check digit does not match
	RuleNotStartWith       = "not-start-with"       // starts with one of Rules.NotStartWith
	RuleSequence           = "sequence"             // holds an ascending or descending run
	RuleRepeating          = "repeating"            // a digit recurs too close to itself
	RuleRepeatingBlock     = "repeating-block"      // a block of digits occurs twice
	RuleConjugativeEven    = "conjugative-even"     // too many adjacent digits from {2,4,6,8}
	RuleDigitsGroup        = "digits-group"         // starts with the digits it ends with
	RuleReverseDigitsGroup = "reverse-digits-group" // starts with the reverse of its last digits
	RuleRestricted         = "restricted"           // holds one of Rules.Restricted
	RuleCyclic             = "cyclic"               // holds a cyclic number such as 142857
)

// RuleError reports the rule an ID fails. It never carries the ID itself,
// so it is safe to log. Match it with errors.As, or with errors.Is against a
// RuleError naming the same rule:
//
//	errors.Is(err, &idgen.RuleError{Rule: idgen.RuleVerhoeff})
type RuleError struct {
	Rule string // one of the Rule... constants
}

func (e *RuleError) Error() string {
	return "idgen: id fails the " + e.Rule + " rule"
}

// Is reports whether target is a *RuleError naming the same rule.
func (e *RuleError) Is(target error) bool {
	t, ok := target.(*RuleError)
	return ok && t.Rule == e.Rule
}

// cyclicNumbers are the repetends of 1/p for the full-reptend primes below
// 100 (p = 7, 17, 19, 23, 29, 47, 59, 61 and 97), each p-1 digits long with
// its leading zero. MOSIP's id generator rejects any ID containing one of
// them; only those no longer than the ID can match.
var cyclicNumbers = [...]string{
	"142857",
	"0588235294117647",
	"052631578947368421",
	"0434782608695652173913",
	"0344827586206896551724137931",
	"0212765957446808510638297872340425531914893617",
	"0169491525423728813559322033898305084745762711864406779661",
	"016393442622950819672131147540983606557377049180327868852459",
	"010309278350515463917525773195876288659793814432989690721649484536082474226804123711340206185567",
}

// Rules says what a valid ID looks like: its length and the filters, named
// after MOSIP's id generator properties (mosip.kernel.uin.*), that it must
// pass. A limit of 0 turns its filter off. Every filter applies to the whole
// ID, check digit included. An ID containing a cyclic number (142857 and the
// longer full-reptend repetends no longer than the ID) is always rejected,
// as in MOSIP.
type Rules struct {
	// Length is the number of digits, check digit included.
	Length int

	// SequenceLimit forbids a run of this many digits each one more, or each
	// one less, than the one before, counting cyclically: with 3, "123",
	// "321", "901" and "109" are all forbidden. 0, or 2 to 10.
	SequenceLimit int

	// RepeatingLimit forbids a digit recurring within this many positions:
	// with 2, "11" and "1x1" are forbidden, "1xx1" is allowed.
	RepeatingLimit int

	// RepeatingBlockLimit forbids a block of this many digits or more
	// occurring again later in the ID, after the first occurrence ends: with
	// 2, "48xx48" and "4848" are forbidden. MOSIP states it as the regular
	// expression (\d{N,}).*?\1.
	RepeatingBlockLimit int

	// ConjugativeEvenDigitsLimit forbids this many adjacent digits from
	// {2, 4, 6, 8}: with 3, "482" is forbidden.
	ConjugativeEvenDigitsLimit int

	// DigitsGroupLimit forbids the first N digits equal to the last N:
	// with 5, "4345643456". At most Length-1.
	DigitsGroupLimit int

	// ReverseDigitsGroupLimit forbids the first N digits equal to the last
	// N reversed: with 5, "4345665434". At most Length.
	ReverseDigitsGroupLimit int

	// Restricted lists numbers an ID may not contain anywhere.
	Restricted []string

	// NotStartWith lists prefixes an ID may not start with.
	NotStartWith []string
}

// DefaultUINRules returns MOSIP's default UIN rules: 10 digits, sequence
// limit 3, repeating limit 2, repeating block limit 2, conjugative even
// digits limit 3, digits group and reverse digits group limits 5, restricted
// numbers 786 and 666, and no leading 0 or 1.
func DefaultUINRules() Rules {
	return Rules{
		Length:                     10,
		SequenceLimit:              3,
		RepeatingLimit:             2,
		RepeatingBlockLimit:        2,
		ConjugativeEvenDigitsLimit: 3,
		DigitsGroupLimit:           5,
		ReverseDigitsGroupLimit:    5,
		Restricted:                 []string{"786", "666"},
		NotStartWith:               []string{"0", "1"},
	}
}

// DefaultVIDRules returns the default VID rules: the UIN filters on 16
// digits. MOSIP configures fewer filters for VIDs (sequence, repeating,
// repeating block, restricted numbers, not-start-with); applying all of them
// only makes Sanad's VIDs a subset of what MOSIP would issue.
func DefaultVIDRules() Rules {
	r := DefaultUINRules()
	r.Length = 16
	return r
}

// Validate reports every problem with r at once, or nil.
func (r Rules) Validate() error {
	var errs []error
	bad := func(format string, args ...any) {
		errs = append(errs, fmt.Errorf("idgen: "+format, args...))
	}
	if r.Length < MinLength || r.Length > MaxLength {
		bad("Length %d is outside [%d, %d]", r.Length, MinLength, MaxLength)
	}
	if r.SequenceLimit != 0 && (r.SequenceLimit < 2 || r.SequenceLimit > 10) {
		bad("SequenceLimit %d is neither 0 (off) nor in [2, 10]", r.SequenceLimit)
	}
	for _, l := range []struct {
		name  string
		value int
	}{
		{"RepeatingLimit", r.RepeatingLimit},
		{"RepeatingBlockLimit", r.RepeatingBlockLimit},
		{"ConjugativeEvenDigitsLimit", r.ConjugativeEvenDigitsLimit},
		{"DigitsGroupLimit", r.DigitsGroupLimit},
		{"ReverseDigitsGroupLimit", r.ReverseDigitsGroupLimit},
	} {
		if l.value < 0 {
			bad("%s %d is negative (0 turns the filter off)", l.name, l.value)
		}
	}
	if r.Length >= MinLength {
		if r.DigitsGroupLimit >= r.Length {
			bad("DigitsGroupLimit %d must be below Length %d (or every ID fails)", r.DigitsGroupLimit, r.Length)
		}
		if r.ReverseDigitsGroupLimit > r.Length {
			bad("ReverseDigitsGroupLimit %d exceeds Length %d", r.ReverseDigitsGroupLimit, r.Length)
		}
	}
	for _, l := range []struct {
		name  string
		items []string
	}{
		{"Restricted", r.Restricted},
		{"NotStartWith", r.NotStartWith},
	} {
		for i, s := range l.items {
			if s == "" || !allDigits(s) {
				bad("%s[%d] %q is not a non-empty string of ASCII digits", l.name, i, s)
			} else if r.Length >= MinLength && len(s) > r.Length {
				bad("%s[%d] %q is longer than Length %d", l.name, i, s, r.Length)
			}
		}
	}
	var firsts [10]bool
	for _, s := range r.NotStartWith {
		if len(s) == 1 && allDigits(s) {
			firsts[s[0]-'0'] = true
		}
	}
	if firsts == [10]bool{true, true, true, true, true, true, true, true, true, true} {
		bad("NotStartWith forbids every first digit")
	}
	return errors.Join(errs...)
}

// ValidChecksum reports whether id has the right length, only ASCII digits
// and a correct Verhoeff check digit. It is the cheap test that catches a
// mistyped ID before any lookup; Check runs it first.
func (r Rules) ValidChecksum(id string) bool {
	return len(id) == r.Length && VerhoeffValid(id)
}

// Check returns nil if id is a well-formed ID that passes every filter of r,
// and otherwise a *RuleError naming the first rule it fails, in this order:
// length, not-digits, verhoeff, then the filters (not-start-with, sequence,
// repeating, repeating-block, conjugative-even, digits-group,
// reverse-digits-group, restricted, cyclic). Check neither allocates nor
// looks anything up, except for the error it returns.
func (r Rules) Check(id string) error {
	if rule := firstFailure(&r, id); rule != "" {
		return &RuleError{Rule: rule}
	}
	return nil
}

// firstFailure returns the name of the first rule s fails, or "".
func firstFailure[S ~string | ~[]byte](r *Rules, s S) string {
	if len(s) != r.Length {
		return RuleLength
	}
	if !allDigits(s) {
		return RuleNotDigits
	}
	if c, _ := verhoeffSum(s, 0); c != 0 || len(s) == 0 {
		return RuleVerhoeff
	}
	return filterFailure(r, s)
}

// filterFailure returns the name of the first filter the digit string s
// fails, or "".
func filterFailure[S ~string | ~[]byte](r *Rules, s S) string {
	for _, p := range r.NotStartWith {
		if p != "" && len(p) <= len(s) && equalAt(s, 0, p) {
			return RuleNotStartWith
		}
	}
	for i := range len(s) {
		if sequenceAt(s, i, r.SequenceLimit) {
			return RuleSequence
		}
	}
	for i := range len(s) {
		if repeatingAt(s, i, r.RepeatingLimit) {
			return RuleRepeating
		}
	}
	for i := range len(s) {
		if repeatingBlockAt(s, i, r.RepeatingBlockLimit) {
			return RuleRepeatingBlock
		}
	}
	for i := range len(s) {
		if evenRunAt(s, i, r.ConjugativeEvenDigitsLimit) {
			return RuleConjugativeEven
		}
	}
	if digitsGroup(s, r.DigitsGroupLimit) {
		return RuleDigitsGroup
	}
	if reverseDigitsGroup(s, r.ReverseDigitsGroupLimit) {
		return RuleReverseDigitsGroup
	}
	for i := range len(s) {
		if containsAnyAt(s, i, r.Restricted) {
			return RuleRestricted
		}
	}
	for i := range len(s) {
		if containsAnyAt(s, i, cyclicNumbers[:]) {
			return RuleCyclic
		}
	}
	return ""
}

// The ...At predicates report whether s breaks a filter in a window ending
// at index i; they read only s[:i+1], so an ID breaks a filter if and only if
// some window does. Check tests every index with them; the generator's
// scanner (scan.go) keeps running state instead and is tested against them.
// A limit of 0 or less turns a predicate off.

// sequenceAt: s[i-limit+1:i+1] steps by +1 throughout, or by -1, modulo 10.
func sequenceAt[S ~string | ~[]byte](s S, i, limit int) bool {
	if limit <= 0 || i < limit-1 {
		return false
	}
	up, down := true, true
	for k := i - limit + 2; k <= i; k++ {
		step := (int(s[k]) - int(s[k-1]) + 10) % 10
		up = up && step == 1
		down = down && step == 9
	}
	return up || down
}

// repeatingAt: s[i] equals one of the limit digits before it.
func repeatingAt[S ~string | ~[]byte](s S, i, limit int) bool {
	for d := 1; d <= limit && d <= i; d++ {
		if s[i] == s[i-d] {
			return true
		}
	}
	return false
}

// repeatingBlockAt: the block of limit digits ending at i occurs earlier
// without overlapping it. A longer repeated block always contains a repeated
// block of exactly limit digits, so this is all (\d{limit,}).*?\1 can match.
func repeatingBlockAt[S ~string | ~[]byte](s S, i, limit int) bool {
	if limit <= 0 {
		return false
	}
	start := i - limit + 1
	for j := 0; j+limit <= start; j++ {
		k := 0
		for k < limit && s[j+k] == s[start+k] {
			k++
		}
		if k == limit {
			return true
		}
	}
	return false
}

// evenRunAt: the limit digits ending at i are all in {2, 4, 6, 8}.
func evenRunAt[S ~string | ~[]byte](s S, i, limit int) bool {
	if limit <= 0 || i < limit-1 {
		return false
	}
	for k := i - limit + 1; k <= i; k++ {
		if d := s[k] - '0'; d < 2 || d > 8 || d&1 != 0 {
			return false
		}
	}
	return true
}

// containsAnyAt: one of the (non-empty) patterns ends at index i.
func containsAnyAt[S ~string | ~[]byte](s S, i int, patterns []string) bool {
	for _, p := range patterns {
		if start := i - len(p) + 1; p != "" && start >= 0 && equalAt(s, start, p) {
			return true
		}
	}
	return false
}

// digitsGroup: the first n digits equal the last n.
func digitsGroup[S ~string | ~[]byte](s S, n int) bool {
	if n <= 0 || n > len(s) {
		return false
	}
	for k := range n {
		if s[k] != s[len(s)-n+k] {
			return false
		}
	}
	return true
}

// reverseDigitsGroup: the first n digits equal the last n reversed.
func reverseDigitsGroup[S ~string | ~[]byte](s S, n int) bool {
	if n <= 0 || n > len(s) {
		return false
	}
	for k := range n {
		if s[k] != s[len(s)-1-k] {
			return false
		}
	}
	return true
}

// equalAt reports whether p occurs in s at index start; p must fit.
func equalAt[S ~string | ~[]byte](s S, start int, p string) bool {
	for k := range len(p) {
		if s[start+k] != p[k] {
			return false
		}
	}
	return true
}

func allDigits[S ~string | ~[]byte](s S) bool {
	for i := range len(s) {
		if s[i]-'0' > 9 {
			return false
		}
	}
	return true
}
