package idgen

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"sync"
	"testing"
	"testing/iotest"
)

// newTestGenerator returns a generator drawing from a seeded ChaCha8, so
// that the test is repeatable.
func newTestGenerator(t testing.TB, r Rules, seed byte) *Generator {
	t.Helper()
	g, err := New(r, rand.NewChaCha8([32]byte{seed}))
	if err != nil {
		t.Fatalf("New(%+v) = %v", r, err)
	}
	return g
}

func TestNextPassesCheck(t *testing.T) {
	shortest := DefaultUINRules()
	shortest.Length, shortest.DigitsGroupLimit, shortest.ReverseDigitsGroupLimit = MinLength, 3, 4
	longest := DefaultUINRules()
	longest.Length = MaxLength
	bare := Rules{Length: 12}
	tests := []struct {
		name  string
		rules Rules
		n     int
	}{
		{"uin 10", DefaultUINRules(), 3000},
		{"uin 12", uin12, 2000},
		{"vid 16", DefaultVIDRules(), 500},
		{"shortest", shortest, 500},
		{"longest", longest, 10},
		{"no filters", bare, 500},
		{"repeating block 4", func() Rules { r := DefaultVIDRules(); r.RepeatingBlockLimit = 4; return r }(), 200},
		{"multi-digit prefixes", func() Rules {
			r := DefaultUINRules()
			r.NotStartWith = []string{"0", "1", "29", "3", "456"}
			r.Restricted = []string{"13", "97"}
			return r
		}(), 1000},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := newTestGenerator(t, tt.rules, byte(i))
			for range tt.n {
				id, err := g.Next()
				if err != nil {
					t.Fatalf("Next() = %v", err)
				}
				if len(id) != tt.rules.Length {
					t.Fatalf("Next() = %s, %d digits, want %d", id, len(id), tt.rules.Length)
				}
				if err := tt.rules.Check(id); err != nil {
					t.Fatalf("Check(Next() = %s) = %v, want nil", id, err)
				}
				if fails := refFailures(tt.rules, id); len(fails) != 0 {
					t.Fatalf("refFailures(Next() = %s) = %q, want none", id, fails)
				}
			}
		})
	}
}

func TestNextCryptoRand(t *testing.T) {
	for _, r := range []Rules{DefaultUINRules(), DefaultVIDRules()} {
		g, err := New(r, nil)
		if err != nil {
			t.Fatalf("New() = %v", err)
		}
		seen := map[string]bool{}
		for range 200 {
			id, err := g.Next()
			if err != nil {
				t.Fatalf("Next() = %v", err)
			}
			if err := r.Check(id); err != nil {
				t.Fatalf("Check(Next() = %s) = %v, want nil", id, err)
			}
			seen[id] = true
		}
		// 200 draws from 58 million 10-digit UINs almost never collide.
		if len(seen) < 199 {
			t.Errorf("%d distinct IDs in 200 draws of %d digits", len(seen), r.Length)
		}
	}
}

// The first digit of a UIN is never 0 or 1 and spread over 2 to 9.
func TestNextFirstDigitSpread(t *testing.T) {
	const n = 16000
	g := newTestGenerator(t, DefaultUINRules(), 42)
	var counts [10]int
	for range n {
		id, err := g.Next()
		if err != nil {
			t.Fatalf("Next() = %v", err)
		}
		counts[id[0]-'0']++
	}
	for d, c := range counts {
		if d < 2 {
			if c != 0 {
				t.Errorf("%d UINs start with %d, want 0", c, d)
			}
			continue
		}
		if lo, hi := n/8*6/10, n/8*14/10; c < lo || c > hi {
			t.Errorf("%d of %d UINs start with %d, want between %d and %d (counts %v)", c, n, d, lo, hi, counts)
		}
	}
	t.Logf("first digits 0-9: %v", counts)
}

// On a space small enough to list, the generator issues every valid ID and
// no other, about equally often: pruning candidates early does not bias it.
func TestNextUniform(t *testing.T) {
	r := DefaultUINRules()
	r.Length, r.DigitsGroupLimit, r.ReverseDigitsGroupLimit = 5, 2, 2
	valid := map[string]int{}
	for n := range 10000 {
		payload := fmt.Sprintf("%04d", n)
		id := payload + string(VerhoeffDigit(payload))
		if r.Check(id) == nil {
			valid[id] = 0
		}
	}
	if len(valid) < 100 {
		t.Fatalf("only %d valid 5-digit IDs; pick looser rules", len(valid))
	}
	const perID = 50
	draws := perID * len(valid)
	g := newTestGenerator(t, r, 7)
	for range draws {
		id, err := g.Next()
		if err != nil {
			t.Fatalf("Next() = %v", err)
		}
		if _, ok := valid[id]; !ok {
			t.Fatalf("Next() = %s, which Check rejects", id)
		}
		valid[id]++
	}
	var chi2 float64
	for id, c := range valid {
		if c == 0 {
			t.Errorf("valid ID %s never issued in %d draws", id, draws)
		}
		chi2 += float64((c-perID)*(c-perID)) / perID
	}
	// Chi-squared with k-1 degrees of freedom: mean k-1, deviation
	// sqrt(2(k-1)). Allow five deviations.
	df := float64(len(valid) - 1)
	if limit := df + 5*math.Sqrt(2*df); chi2 > limit {
		t.Errorf("chi-squared = %.1f over %d valid IDs, want below %.1f", chi2, len(valid), limit)
	}
	t.Logf("%d valid IDs, %d draws, chi-squared %.1f (df %.0f)", len(valid), draws, chi2, df)
}

// The generator's digit-by-digit scanner accepts exactly the IDs Check
// accepts: tried on every ID of 4 to 6 digits with a valid check digit.
func TestScannerExhaustive(t *testing.T) {
	for length := MinLength; length <= 6; length++ {
		for _, r := range scannerRuleSets(length) {
			limit := 1
			for range length - 1 {
				limit *= 10
			}
			id := make([]byte, length)
			for n := range limit {
				for k := length - 2; k >= 0; k-- {
					id[k] = byte('0' + n%10)
					n /= 10
				}
				id[length-1] = verhoeffDigit(id[:length-1])
				want := filterFailure(&r, id) != ""
				if got := scannerRejects(r, string(id)); got != want {
					t.Fatalf("rules %+v: scanner rejects %s = %v, Check says %v (%s)", r, id, got, want, filterFailure(&r, id))
				}
			}
		}
	}
}

// The scanner and Check agree on random longer digit strings too, drawn so
// that they pass the repeating filter and so get to the others; so do Check
// and the reference implementation.
func TestScannerRandom(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 5))
	for _, length := range []int{10, 12, 16, 24} {
		for _, r := range scannerRuleSets(length) {
			for n := range 3000 {
				id := spreadDigits(rng, length)
				want := filterFailure(&r, id) != ""
				if got := scannerRejects(r, id); got != want {
					t.Fatalf("rules %+v: scanner rejects %s = %v, Check says %v (%s)", r, id, got, want, filterFailure(&r, id))
				}
				if n%10 != 0 {
					continue // the reference is slow; FuzzCheck compares more
				}
				if ref := len(refFilterFailures(r, id)) != 0; ref != want {
					t.Fatalf("rules %+v: Check rejects %s = %v, the reference says %v", r, id, want, ref)
				}
			}
		}
	}
}

// scannerRuleSets returns rule sets of the given length that exercise each
// path of the scanner.
func scannerRuleSets(length int) []Rules {
	base := DefaultUINRules()
	base.Length = length
	base.DigitsGroupLimit = min(base.DigitsGroupLimit, length-1)
	base.ReverseDigitsGroupLimit = min(base.ReverseDigitsGroupLimit, length)
	sets := []Rules{base, {Length: length}}
	add := func(f func(*Rules)) {
		r := base
		f(&r)
		sets = append(sets, r)
	}
	add(func(r *Rules) { r.RepeatingLimit = 1 })
	add(func(r *Rules) { r.RepeatingLimit = 0; r.RepeatingBlockLimit = 1 })
	add(func(r *Rules) { r.RepeatingLimit = 0; r.RepeatingBlockLimit = 3 })
	add(func(r *Rules) { r.RepeatingLimit = 0; r.RepeatingBlockLimit = 4 }) // beyond the table
	add(func(r *Rules) { r.SequenceLimit = 2; r.ConjugativeEvenDigitsLimit = 2 })
	add(func(r *Rules) { r.SequenceLimit = 4; r.ConjugativeEvenDigitsLimit = 1 })
	add(func(r *Rules) {
		r.NotStartWith = []string{"2", "31", "987"}
		r.Restricted = []string{"0", "45", "9753"}
		r.DigitsGroupLimit, r.ReverseDigitsGroupLimit = 1, 2
	})
	return sets
}

// spreadDigits returns n random digits, each different from the two
// before it.
func spreadDigits(rng *rand.Rand, n int) string {
	b := make([]byte, n)
	for i := range b {
		for {
			b[i] = byte('0' + rng.IntN(10))
			if (i < 1 || b[i] != b[i-1]) && (i < 2 || b[i] != b[i-2]) {
				break
			}
		}
	}
	return string(b)
}

func TestNextConcurrent(t *testing.T) {
	g, err := New(DefaultUINRules(), nil)
	if err != nil {
		t.Fatalf("New() = %v", err)
	}
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for range 8 {
		wg.Go(func() {
			for range 300 {
				id, err := g.Next()
				if err == nil {
					err = g.Rules().Check(id)
				}
				if err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Errorf("concurrent Next: %v", err)
	}
}

func TestNextRandomnessFails(t *testing.T) {
	boom := errors.New("boom")
	g, err := New(DefaultUINRules(), iotest.ErrReader(boom))
	if err != nil {
		t.Fatalf("New() = %v", err)
	}
	if id, err := g.Next(); !errors.Is(err, boom) {
		t.Errorf("Next() = %q, %v, want an error wrapping %v", id, err, boom)
	}
	// A source that runs dry part way fails too, and Next can be retried.
	g, _ = New(DefaultUINRules(), io.MultiReader(bytes.NewReader(make([]byte, 100))))
	if _, err := g.Next(); !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Errorf("Next() with 100 random bytes = %v, want %v", err, io.ErrUnexpectedEOF)
	}
}

type constReader byte

func (c constReader) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = byte(c)
	}
	return len(p), nil
}

func TestNextBrokenSource(t *testing.T) {
	g, _ := New(DefaultUINRules(), constReader(0xff)) // every byte is rejected
	if _, err := g.Next(); err == nil {
		t.Error("Next() with a source of 0xff bytes = nil error, want an error")
	}
	g, _ = New(DefaultUINRules(), constReader(0)) // always digit 0, always rejected
	g.maxCandidates = 1000
	if _, err := g.Next(); !errors.Is(err, ErrRulesTooStrict) {
		t.Errorf("Next() with a source of zeros = %v, want %v", err, ErrRulesTooStrict)
	}
}

func TestNextRulesTooStrict(t *testing.T) {
	r := DefaultUINRules()
	r.NotStartWith = []string{"0", "1", "2", "3", "4", "5", "6", "7", "8"}
	r.Restricted = []string{"9"} // no ID can start anywhere
	g := newTestGenerator(t, r, 1)
	g.maxCandidates = 10000
	if id, err := g.Next(); !errors.Is(err, ErrRulesTooStrict) {
		t.Errorf("Next() = %q, %v, want %v", id, err, ErrRulesTooStrict)
	}
}

func TestNewInvalidRules(t *testing.T) {
	r := DefaultUINRules()
	r.Length = 3
	if g, err := New(r, nil); err == nil || g != nil {
		t.Errorf("New(Length 3) = %v, %v, want nil and an error", g, err)
	}
}

// The generator keeps its own copy of the rules.
func TestNewCopiesRules(t *testing.T) {
	r := DefaultUINRules()
	g := newTestGenerator(t, r, 3)
	r.NotStartWith[0], r.Restricted[0] = "2", "3"
	got := g.Rules()
	if got.NotStartWith[0] != "0" || got.Restricted[0] != "786" {
		t.Errorf("Rules() = %+v after the caller changed its copy, want the defaults", got)
	}
	got.NotStartWith[1] = "9"
	if g.Rules().NotStartWith[1] != "1" {
		t.Errorf("changing the result of Rules() changed the generator's rules")
	}
}

// The share of candidates that pass the filters, measured on seeded
// randomness: about 5.8% at 10 digits (exactly 58,106,898 of 10^9 payloads)
// and 0.55% at 16.
func TestAcceptanceRatio(t *testing.T) {
	tests := []struct {
		name   string
		rules  Rules
		n      int
		lo, hi float64
	}{
		{"uin 10", DefaultUINRules(), 4000, 0.053, 0.063},
		{"uin 12", uin12, 2000, 0.024, 0.032},
		{"vid 16", DefaultVIDRules(), 400, 0.0045, 0.0065},
	}
	for _, tt := range tests {
		g := newTestGenerator(t, tt.rules, 9)
		for range tt.n {
			if _, err := g.Next(); err != nil {
				t.Fatalf("Next() = %v", err)
			}
		}
		ratio := float64(g.issued) / float64(g.candidates)
		t.Logf("%s: %d issued of %d candidates, acceptance %.4f%%", tt.name, g.issued, g.candidates, 100*ratio)
		if ratio < tt.lo || ratio > tt.hi {
			t.Errorf("%s: acceptance %.5f, want between %.4f and %.4f", tt.name, ratio, tt.lo, tt.hi)
		}
	}
}

func benchmarkNext(b *testing.B, r Rules, metric string) {
	g, err := New(r, nil)
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if _, err := g.Next(); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), metric)
	b.ReportMetric(100*float64(g.issued)/float64(g.candidates), "accept-%")
}

// BenchmarkNextUIN measures UIN generation with crypto/rand; the target is
// at least 100 000 UINs/s on one core (go test -run x -bench . -cpu 1).
func BenchmarkNextUIN(b *testing.B) { benchmarkNext(b, DefaultUINRules(), "uins/s") }

func BenchmarkNextVID(b *testing.B) { benchmarkNext(b, DefaultVIDRules(), "vids/s") }

func BenchmarkCheck(b *testing.B) {
	r := DefaultUINRules()
	for b.Loop() {
		if err := r.Check("2586517943"); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkValidChecksum(b *testing.B) {
	r := DefaultUINRules()
	for b.Loop() {
		if r.ValidChecksum("2586517944") {
			b.Fatal("ValidChecksum accepted a wrong check digit")
		}
	}
}
