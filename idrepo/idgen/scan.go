package idgen

// blockTableMax is the largest repeating block limit for which the scanner
// remembers blocks in a table indexed by their value (10^3 entries); above
// it, it compares blocks directly.
const blockTableMax = 3

// scanner tests a candidate ID digit by digit as the generator draws it, so
// that a candidate is dropped at the first digit that breaks a filter. It
// keeps the length of the current ascending, descending and even runs, and
// the blocks seen so far, instead of looking back over the candidate. It
// applies the same filters as Rules.Check, except the digits group filters,
// which need the whole ID (see scanner.complete).
type scanner struct {
	rules Rules

	// tails lists the restricted and cyclic numbers that fit in an ID,
	// by their last digit: only those can end at a digit just drawn.
	tails [10][]string
	// prefixLen is the length of the longest NotStartWith prefix.
	prefixLen int

	// Running state over the current candidate.
	up, down, even int
	// seen[v] == stamp if the block of value v ended early enough to count
	// as a repeat of the block ending at the current digit. Bumping stamp
	// forgets every block at once.
	seen  []uint32
	stamp uint32
}

func newScanner(r Rules) *scanner {
	s := &scanner{rules: r}
	for _, p := range r.Restricted {
		s.addTail(p)
	}
	for _, p := range cyclicNumbers {
		if len(p) <= r.Length {
			s.addTail(p)
		}
	}
	for _, p := range r.NotStartWith {
		s.prefixLen = max(s.prefixLen, len(p))
	}
	if b := r.RepeatingBlockLimit; b > 0 && b <= blockTableMax {
		size := 1
		for range b {
			size *= 10
		}
		s.seen = make([]uint32, size)
	}
	return s
}

func (s *scanner) addTail(p string) {
	if p == "" || !allDigits(p) {
		return
	}
	last := p[len(p)-1] - '0'
	s.tails[last] = append(s.tails[last], p)
}

// reset starts a new candidate.
func (s *scanner) reset() {
	s.up, s.down, s.even = 0, 0, 0
	s.stamp++
	if s.stamp == 0 {
		clear(s.seen)
		s.stamp = 1
	}
}

// push reports whether id breaks a filter in a window ending at index i. It
// must be called for i = 0, 1, 2, ... in turn after reset; once it reports
// true the candidate is dead and the state is meaningless until reset.
func (s *scanner) push(id []byte, i int) bool {
	r := &s.rules
	d := id[i]

	for k := 1; k <= r.RepeatingLimit && k <= i; k++ {
		if id[i-k] == d {
			return true
		}
	}

	if i == 0 {
		s.up, s.down = 1, 1
	} else {
		step := int(d) - int(id[i-1]) + 10
		if step >= 10 {
			step -= 10
		}
		if step == 1 {
			s.up++
		} else {
			s.up = 1
		}
		if step == 9 {
			s.down++
		} else {
			s.down = 1
		}
	}
	if l := r.SequenceLimit; l > 0 && (s.up >= l || s.down >= l) {
		return true
	}

	if v := d - '0'; v >= 2 && v <= 8 && v&1 == 0 {
		s.even++
	} else {
		s.even = 0
	}
	if c := r.ConjugativeEvenDigitsLimit; c > 0 && s.even >= c {
		return true
	}

	if b := r.RepeatingBlockLimit; b > 0 {
		if s.seen != nil {
			// The block ending at i-b is the latest that cannot overlap
			// the block ending at i; earlier ones were added before.
			if j := i - b; j >= b-1 {
				s.seen[blockValue(id, j, b)] = s.stamp
			}
			if i >= b-1 && s.seen[blockValue(id, i, b)] == s.stamp {
				return true
			}
		} else if repeatingBlockAt(id, i, b) {
			return true
		}
	}

	for _, p := range s.tails[d-'0'] {
		if start := i - len(p) + 1; start >= 0 && equalAt(id, start, p) {
			return true
		}
	}

	if i < s.prefixLen {
		for _, p := range r.NotStartWith {
			if len(p) == i+1 && equalAt(id, 0, p) {
				return true
			}
		}
	}
	return false
}

// complete reports whether the finished id, every digit of which passed
// push, breaks a digits group filter.
func (s *scanner) complete(id []byte) bool {
	return digitsGroup(id, s.rules.DigitsGroupLimit) ||
		reverseDigitsGroup(id, s.rules.ReverseDigitsGroupLimit)
}

// blockValue returns the b digits of id ending at index end as a number.
func blockValue(id []byte, end, b int) int {
	v := 0
	for k := end - b + 1; k <= end; k++ {
		v = v*10 + int(id[k]-'0')
	}
	return v
}
