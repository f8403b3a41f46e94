package idgen

import (
	"testing"
)

// fuzzRules derives a valid rule set from the fuzzer's knobs: with the top
// bit set, the UIN defaults; otherwise each filter's limit from a few bits,
// and the length from the input when it fits, so that the filters get to
// run.
func fuzzRules(id string, k uint32) Rules {
	r := DefaultUINRules()
	if k&2 != 0 {
		r = DefaultVIDRules()
	}
	if k&1 == 0 && len(id) >= MinLength && len(id) <= MaxLength {
		r.Length = len(id)
	}
	if k&(1<<31) != 0 {
		r.DigitsGroupLimit = min(r.DigitsGroupLimit, r.Length-1)
		r.ReverseDigitsGroupLimit = min(r.ReverseDigitsGroupLimit, r.Length)
		return r
	}
	r.SequenceLimit = []int{0, 2, 3, 4}[k>>2&3]
	r.RepeatingLimit = int(k >> 4 & 3)
	r.RepeatingBlockLimit = int(k>>6&7) % 5
	r.ConjugativeEvenDigitsLimit = int(k >> 9 & 3)
	r.DigitsGroupLimit = min(int(k>>11&7), r.Length-1)
	r.ReverseDigitsGroupLimit = min(int(k>>14&7), r.Length)
	if k>>17&1 != 0 {
		r.Restricted = []string{"13", "0", "9753"}
		r.NotStartWith = []string{"2", "31"}
	}
	return r
}

// FuzzCheck checks that Check never panics, agrees with the reference
// implementation and with the generator's scanner, and that ValidChecksum
// is the malformed-ID part of Check.
func FuzzCheck(f *testing.F) {
	const defaults = 1 << 31
	for _, tt := range filterTests {
		f.Add(tt.id, uint32(defaults))
		f.Add(tt.id, uint32(0x5a5a))
	}
	for _, s := range []string{
		"", "0", "2363", "2586517944", "258651794O", "٢٥٨٦٥", "2586 17943", "-586517943",
		"99999999999999999999999999999999999999", "\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00",
		"0588235294117647", "142857142857", "7908148758391827",
	} {
		f.Add(s, uint32(defaults))
		f.Add(s, uint32(0))
		f.Add(s, uint32(0x3ffff))
	}
	f.Fuzz(func(t *testing.T, id string, k uint32) {
		r := fuzzRules(id, k)
		if err := r.Validate(); err != nil {
			t.Fatalf("fuzzRules(%q, %#x) = invalid rules: %v", id, k, err)
		}
		got := ruleOf(r.Check(id))
		want := ""
		if fails := refFailures(r, id); len(fails) > 0 {
			want = fails[0]
		}
		if got != want {
			t.Fatalf("rules %+v: Check(%q) fails %q, the reference says %q", r, id, got, want)
		}
		malformed := got == RuleLength || got == RuleNotDigits || got == RuleVerhoeff
		if r.ValidChecksum(id) == malformed {
			t.Fatalf("ValidChecksum(%q) = %v, but Check fails %q", id, r.ValidChecksum(id), got)
		}
		if VerhoeffValid(id) != refVerhoeffValid(id) {
			t.Fatalf("VerhoeffValid(%q) = %v, the reference says %v", id, VerhoeffValid(id), refVerhoeffValid(id))
		}
		if len(id) == r.Length && allDigits(id) {
			filtered := filterFailure(&r, id) != ""
			if rejects := scannerRejects(r, id); rejects != filtered {
				t.Fatalf("rules %+v: scanner rejects %q = %v, filterFailure says %v", r, id, rejects, filtered)
			}
		}

		// Check must not panic even on rules that fail Validate.
		raw := Rules{
			Length:                     len(id),
			SequenceLimit:              int(int8(k)),
			RepeatingLimit:             int(int8(k >> 8)),
			RepeatingBlockLimit:        int(int8(k >> 16)),
			ConjugativeEvenDigitsLimit: int(int8(k >> 24)),
			DigitsGroupLimit:           int(int8(k>>4)) * 2,
			ReverseDigitsGroupLimit:    int(int8(k>>12)) * 2,
			Restricted:                 []string{"", id},
			NotStartWith:               []string{"", id + "0"},
		}
		_ = raw.Check(id)
	})
}
