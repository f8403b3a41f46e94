package idgen

import (
	"errors"
	"slices"
	"strings"
	"testing"
)

func TestDefaultRules(t *testing.T) {
	u := DefaultUINRules()
	want := Rules{
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
	if !rulesEqual(u, want) {
		t.Errorf("DefaultUINRules() = %+v, want %+v", u, want)
	}
	v := DefaultVIDRules()
	want.Length = 16
	if !rulesEqual(v, want) {
		t.Errorf("DefaultVIDRules() = %+v, want %+v", v, want)
	}
	for _, r := range []Rules{u, v} {
		if err := r.Validate(); err != nil {
			t.Errorf("Rules{Length: %d}.Validate() = %v, want nil", r.Length, err)
		}
	}
	// Each call returns fresh slices.
	u.Restricted[0] = "123"
	if got := DefaultUINRules().Restricted[0]; got != "786" {
		t.Errorf("DefaultUINRules().Restricted[0] = %q after changing an earlier copy, want 786", got)
	}
}

func rulesEqual(a, b Rules) bool {
	return a.Length == b.Length && a.SequenceLimit == b.SequenceLimit &&
		a.RepeatingLimit == b.RepeatingLimit && a.RepeatingBlockLimit == b.RepeatingBlockLimit &&
		a.ConjugativeEvenDigitsLimit == b.ConjugativeEvenDigitsLimit &&
		a.DigitsGroupLimit == b.DigitsGroupLimit && a.ReverseDigitsGroupLimit == b.ReverseDigitsGroupLimit &&
		slices.Equal(a.Restricted, b.Restricted) && slices.Equal(a.NotStartWith, b.NotStartWith)
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name   string
		modify func(*Rules)
		want   []string // substrings of the error; none means valid
	}{
		{"uin defaults", func(*Rules) {}, nil},
		{"every filter off", func(r *Rules) {
			*r = Rules{Length: 12}
		}, nil},
		{"shortest", func(r *Rules) { r.Length, r.DigitsGroupLimit, r.ReverseDigitsGroupLimit = MinLength, 3, 4 }, nil},
		{"longest", func(r *Rules) { r.Length = MaxLength }, nil},
		{"too short", func(r *Rules) { r.Length = MinLength - 1 }, []string{"Length 3"}},
		{"too long", func(r *Rules) { r.Length = MaxLength + 1 }, []string{"Length 25"}},
		{"sequence limit 1", func(r *Rules) { r.SequenceLimit = 1 }, []string{"SequenceLimit 1"}},
		{"sequence limit 11", func(r *Rules) { r.SequenceLimit = 11 }, []string{"SequenceLimit 11"}},
		{"negative limits", func(r *Rules) {
			r.SequenceLimit, r.RepeatingLimit, r.RepeatingBlockLimit = -1, -1, -1
			r.ConjugativeEvenDigitsLimit, r.DigitsGroupLimit, r.ReverseDigitsGroupLimit = -1, -1, -1
		}, []string{"SequenceLimit -1", "RepeatingLimit -1", "RepeatingBlockLimit -1",
			"ConjugativeEvenDigitsLimit -1", "DigitsGroupLimit -1", "ReverseDigitsGroupLimit -1"}},
		{"digits group as long as the id", func(r *Rules) { r.DigitsGroupLimit = 10 }, []string{"DigitsGroupLimit 10"}},
		{"reverse group as long as the id", func(r *Rules) { r.ReverseDigitsGroupLimit = 10 }, nil},
		{"reverse group longer than the id", func(r *Rules) { r.ReverseDigitsGroupLimit = 11 }, []string{"ReverseDigitsGroupLimit 11"}},
		{"bad restricted", func(r *Rules) { r.Restricted = []string{"786", "", "6a6", "12345678901"} },
			[]string{`Restricted[1] ""`, `Restricted[2] "6a6"`, `Restricted[3] "12345678901" is longer`}},
		{"bad not start with", func(r *Rules) { r.NotStartWith = []string{"0", " 1"} }, []string{`NotStartWith[1] " 1"`}},
		{"every first digit forbidden", func(r *Rules) {
			r.NotStartWith = strings.Split("0,1,2,3,4,5,6,7,8,9", ",")
		}, []string{"every first digit"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := DefaultUINRules()
			tt.modify(&r)
			err := r.Validate()
			if len(tt.want) == 0 {
				if err != nil {
					t.Fatalf("Validate() = %v, want nil", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("Validate() = nil, want an error mentioning %q", tt.want)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("Validate() = %v, want it to mention %q", err, w)
				}
			}
		})
	}
}

// Rule sets for the filter table.
var (
	uinRules = DefaultUINRules()
	uin12    = func() Rules { r := DefaultUINRules(); r.Length = 12; return r }()
	vidRules = DefaultVIDRules()
	// The digits group filter never fires alone under the default rules:
	// equal first and last five digits are a repeated block.
	uinNoBlock = func() Rules { r := DefaultUINRules(); r.RepeatingBlockLimit = 0; return r }()
	// Nor does the cyclic filter: every cyclic number holds three adjacent
	// digits from {2,4,6,8} (see TestCyclicNumbersBreakOtherFilters).
	uinNoEven = func() Rules { r := DefaultUINRules(); r.ConjugativeEvenDigitsLimit = 0; return r }()
	len18Bare = func() Rules {
		r := DefaultUINRules()
		r.Length, r.RepeatingLimit, r.ConjugativeEvenDigitsLimit = 18, 0, 0
		return r
	}()
)

// filterTests are IDs with valid check digits that fail exactly the rule
// named (per the reference implementation too), or pass when it is "".
var filterTests = []struct {
	name  string
	rules Rules
	id    string
	want  string
}{
	{"uin", uinRules, "2586517943", ""},
	{"uin 12 digits", uin12, "980483643571", ""},
	{"vid", vidRules, "7908148758391827", ""},

	{"starts with 1", uinRules, "1586517941", RuleNotStartWith},
	{"starts with 0", uinRules, "0586517948", RuleNotStartWith},
	{"starts with 2", uinRules, "2586517943", ""},

	{"ascending 345", uinRules, "8734579419", RuleSequence},
	{"descending 210", uinRules, "9137210754", RuleSequence},
	{"ascending across 9 to 0: 901", uinRules, "6139019834", RuleSequence},
	{"descending across 0 to 9: 109", uinRules, "6139831094", RuleSequence},
	{"ascending 123 ending in the check digit", uinRules, "2458273123", RuleSequence},
	{"descending 987 ending in the check digit", uinRules, "3589431987", RuleSequence},
	{"ascending run of two", uinRules, "7912410271", ""},

	{"adjacent 11", uinRules, "9451165068", RuleRepeating},
	{"1x1", uinRules, "7831710536", RuleRepeating},
	{"check digit repeats the last digit", uinRules, "9406279155", RuleRepeating},
	{"check digit repeats the digit two back", uinRules, "4917208515", RuleRepeating},
	{"repeat three apart", uinRules, "6016419586", ""},

	{"block 48 twice", uinRules, "7487504830", RuleRepeatingBlock},
	{"block 48 twice, once ending in the check digit", uinRules, "3485726048", RuleRepeatingBlock},
	{"block 48 then its reverse 84", uinRules, "7487503840", ""},

	{"even run 482", uinRules, "9482062586", RuleConjugativeEven},
	{"even run 642 ending in the check digit", uinRules, "9613983642", RuleConjugativeEven},
	{"two evens then 0, which is not one", uinRules, "9480172958", ""},

	{"first five equal last five", uinNoBlock, "9160791607", RuleDigitsGroup},
	{"first five equal last five, default rules", uinRules, "9160791607", RuleRepeatingBlock},
	{"first five differ from last five", uinNoBlock, "9160791630", ""},

	{"first five equal last five reversed", uin12, "608394893806", RuleReverseDigitsGroup},
	{"first five almost equal last five reversed", uin12, "457690586754", ""},

	{"restricted 786", uinRules, "6178639832", RuleRestricted},
	{"restricted 786 ending in the check digit", uinRules, "2759831786", RuleRestricted},
	{"78 without 6", uinRules, "4178164910", ""},

	{"cyclic 142857", uinNoEven, "7142857208", RuleCyclic},
	{"cyclic 142857, default rules", uinRules, "7142857208", RuleConjugativeEven},
	{"part of 142857", uinNoEven, "9142851375", ""},
	{"cyclic 0588235294117647", len18Bare, "205882352941176473", RuleCyclic},
}

func TestCheckFilters(t *testing.T) {
	for _, tt := range filterTests {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.rules.Validate(); err != nil {
				t.Fatalf("bad test rules: %v", err)
			}
			if !VerhoeffValid(tt.id) {
				t.Fatalf("bad test id %s: its check digit should be %c", tt.id, VerhoeffDigit(tt.id[:len(tt.id)-1]))
			}
			// The row must fail exactly the rule named, per the reference.
			var want []string
			if tt.want != "" {
				want = []string{tt.want}
			}
			// Rows named "..., default rules" show one filter hiding
			// another: the reference finds both, Check reports the first.
			got := refFailures(tt.rules, tt.id)
			if strings.HasSuffix(tt.name, ", default rules") {
				if len(got) < 2 || got[0] != tt.want {
					t.Fatalf("refFailures(%s) = %q, want %q first and more after it", tt.id, got, tt.want)
				}
			} else if !slices.Equal(got, want) {
				t.Fatalf("refFailures(%s) = %q, want %q", tt.id, got, want)
			}
			if got := ruleOf(tt.rules.Check(tt.id)); got != tt.want {
				t.Errorf("Check(%s) fails %q, want %q", tt.id, got, tt.want)
			}
			if got, want := scannerRejects(tt.rules, tt.id), tt.want != ""; got != want {
				t.Errorf("scanner rejects %s = %v, want %v", tt.id, got, want)
			}
		})
	}
}

func TestCheckMalformed(t *testing.T) {
	tests := []struct {
		name string
		id   string
		want string
	}{
		{"empty", "", RuleLength},
		{"too short", "258651794", RuleLength},
		{"too long", "25865179430", RuleLength},
		{"vid given for uin", "7908148758391827", RuleLength},
		{"letter", "258651794O", RuleNotDigits},
		{"space", "2586 17943", RuleNotDigits},
		{"sign", "+586517943", RuleNotDigits},
		{"arabic-indic digits", "٢٥٨٦٥", RuleNotDigits}, // 10 bytes, 5 runes
		{"last digit wrong", "2586517944", RuleVerhoeff},
		{"one digit wrong", "2586617943", RuleVerhoeff},
		{"adjacent digits swapped", "2586519743", RuleVerhoeff},
		{"valid", "2586517943", ""},
	}
	r := DefaultUINRules()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := r.Check(tt.id)
			if got := ruleOf(err); got != tt.want {
				t.Errorf("Check(%q) fails %q, want %q", tt.id, got, tt.want)
			}
			if got, want := r.ValidChecksum(tt.id), tt.want == ""; got != want {
				t.Errorf("ValidChecksum(%q) = %v, want %v", tt.id, got, want)
			}
		})
	}
}

func TestRuleError(t *testing.T) {
	const id = "2586517944"
	err := DefaultUINRules().Check(id)
	var re *RuleError
	if !errors.As(err, &re) || re.Rule != RuleVerhoeff {
		t.Fatalf("Check(%s) = %v, want a *RuleError for %s", id, err, RuleVerhoeff)
	}
	if !errors.Is(err, &RuleError{Rule: RuleVerhoeff}) {
		t.Errorf("errors.Is(%v, RuleError{verhoeff}) = false, want true", err)
	}
	if errors.Is(err, &RuleError{Rule: RuleLength}) {
		t.Errorf("errors.Is(%v, RuleError{length}) = true, want false", err)
	}
	if strings.Contains(err.Error(), id) || strings.Contains(err.Error(), id[:5]) {
		t.Errorf("Check(%s) = %q, which leaks the ID", id, err)
	}
}

func TestCheckDoesNotAllocate(t *testing.T) {
	r := DefaultVIDRules()
	const id = "7908148758391827"
	if n := testing.AllocsPerRun(100, func() { _ = r.Check(id) }); n != 0 {
		t.Errorf("Check(valid) allocates %v times, want 0", n)
	}
	if n := testing.AllocsPerRun(100, func() { _ = r.ValidChecksum(id) }); n != 0 {
		t.Errorf("ValidChecksum allocates %v times, want 0", n)
	}
}

func TestCyclicNumbers(t *testing.T) {
	if got, want := cyclicNumbers[:], refCyclicNumbers(); !slices.Equal(got, want) {
		t.Errorf("cyclicNumbers = %q, want the repetends of the full-reptend primes below 100, %q", got, want)
	}
}

// Under the default rules the cyclic filter is redundant: each cyclic
// number already breaks the conjugative even filter. This test records the
// fact; if the defaults change, the cyclic filter may start to matter.
func TestCyclicNumbersBreakOtherFilters(t *testing.T) {
	for _, c := range cyclicNumbers {
		r := DefaultUINRules()
		r.Length = len(c)
		r.NotStartWith = nil
		fails := refFilterFailures(r, c)
		if !slices.Contains(fails, RuleCyclic) || !slices.Contains(fails, RuleConjugativeEven) {
			t.Errorf("refFilterFailures(%s) = %q, want it to include cyclic and conjugative-even", c, fails)
		}
	}
}

// ruleOf returns the rule an error from Check names, or "" for nil.
func ruleOf(err error) string {
	if err == nil {
		return ""
	}
	var re *RuleError
	if !errors.As(err, &re) {
		return "unexpected error: " + err.Error()
	}
	return re.Rule
}

// scannerRejects runs the generator's digit-by-digit scanner over a whole
// ID of digits.
func scannerRejects(r Rules, id string) bool {
	s := newScanner(r)
	s.reset()
	b := []byte(id)
	for i := range b {
		if s.push(b, i) {
			return true
		}
	}
	return s.complete(b)
}
