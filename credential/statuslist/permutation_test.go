package statuslist_test

import (
	"bytes"
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/sanad-id/sanad/credential/statuslist"
)

var (
	keyA = bytes.Repeat([]byte{0xA5}, 32)
	keyB = bytes.Repeat([]byte{0x5A}, 32)
)

// orders caches order's results: the same maps are checked several ways.
var orders sync.Map // "<key>/<size>" -> []int

// order returns Index(0..size-1).
func order(t testing.TB, key []byte, size int) []int {
	t.Helper()
	name := fmt.Sprintf("%x/%d", key, size)
	if o, ok := orders.Load(name); ok {
		return o.([]int)
	}
	p, err := statuslist.NewPermutation(key, size)
	if err != nil {
		t.Fatalf("NewPermutation(%d bytes, %d) = %v", len(key), size, err)
	}
	out := make([]int, size)
	for c := range out {
		if out[c], err = p.Index(int64(c)); err != nil {
			t.Fatalf("Index(%d) = %v", c, err)
		}
	}
	orders.Store(name, out)
	return out
}

func TestPermutationBijection(t *testing.T) {
	for _, size := range []int{1, 2, 3, 4, 5, 7, 1000, 65536, 65537, statuslist.DefaultSize} {
		t.Run(fmt.Sprint(size), func(t *testing.T) {
			seen := make([]bool, size)
			for c, i := range order(t, keyA, size) {
				if i < 0 || i >= size {
					t.Fatalf("Index(%d) = %d, want in [0, %d)", c, i, size)
				}
				if seen[i] {
					t.Fatalf("Index(%d) = %d, already given to an earlier counter", c, i)
				}
				seen[i] = true
			}
		})
	}
}

func TestPermutationDeterministic(t *testing.T) {
	p, err := statuslist.NewPermutation(bytes.Clone(keyA), 1000)
	if err != nil {
		t.Fatal(err)
	}
	a := order(t, keyA, 1000)
	b := make([]int, 1000)
	for c := range b {
		b[c], _ = p.Index(int64(c))
	}
	for c := range a {
		if a[c] != b[c] {
			t.Fatalf("Index(%d) = %d and %d under the same key, want equal", c, a[c], b[c])
		}
	}
}

func TestPermutationUnpredictable(t *testing.T) {
	tests := []struct {
		name string
		size int
	}{{"default size", statuslist.DefaultSize}, {"awkward size", 65537}, {"small", 1000}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := order(t, keyA, tt.size)
			pb, err := statuslist.NewPermutation(keyB, tt.size)
			if err != nil {
				t.Fatal(err)
			}
			// Two keys: compared on a prefix, where a random pair of
			// permutations agrees about prefix/size times.
			prefix := min(tt.size, 4096)
			same := 0
			for c := 0; c < prefix; c++ {
				i, err := pb.Index(int64(c))
				if err != nil {
					t.Fatal(err)
				}
				if i == a[c] {
					same++
				}
			}
			fixed, consecutive := 0, 0
			for c := range a {
				if a[c] == c {
					fixed++
				}
				if c > 0 && (a[c]-a[c-1] == 1 || a[c-1]-a[c] == 1) {
					consecutive++
				}
			}
			// A random permutation has about 1 fixed point and 2
			// consecutive neighbours; allow generous slack.
			if same > 8 {
				t.Errorf("two keys agree on %d of the first %d counters, want about %d", same, prefix, prefix/tt.size)
			}
			if fixed > 10 {
				t.Errorf("Index(c) = c for %d of %d counters, want about 1", fixed, tt.size)
			}
			if consecutive > 12 {
				t.Errorf("consecutive counters give adjacent indices %d times of %d, want about 2", consecutive, tt.size)
			}
		})
	}
}

func TestPermutationSizeSeparation(t *testing.T) {
	a, b := order(t, keyA, 1000), order(t, keyA, 1001)
	same := 0
	for c := range a {
		if a[c] == b[c] {
			same++
		}
	}
	if same > 10 {
		t.Errorf("sizes 1000 and 1001 agree on %d of 1000 counters under one key, want about 1", same)
	}
}

func TestPermutationErrors(t *testing.T) {
	tests := []struct {
		name    string
		key     []byte
		size    int
		wantErr error
	}{
		{"no key", nil, 10, statuslist.ErrPermutationKey},
		{"15-byte key", make([]byte, 15), 10, statuslist.ErrPermutationKey},
		{"size 0", keyA, 0, nil},
		{"size negative", keyA, -1, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := statuslist.NewPermutation(tt.key, tt.size)
			if err == nil || (tt.wantErr != nil && !errors.Is(err, tt.wantErr)) {
				t.Errorf("NewPermutation(%d bytes, %d) = %v, %v, want an error (%v)", len(tt.key), tt.size, p, err, tt.wantErr)
			}
		})
	}
	p, err := statuslist.NewPermutation(make([]byte, 16), 10)
	if err != nil {
		t.Fatalf("NewPermutation(16 bytes, 10) = %v", err)
	}
	if p.Size() != 10 {
		t.Errorf("Size() = %d, want 10", p.Size())
	}
	for _, c := range []int64{-1, 10, 1 << 62} {
		if i, err := p.Index(c); !errors.Is(err, statuslist.ErrRange) {
			t.Errorf("Index(%d) = %d, %v, want ErrRange", c, i, err)
		}
	}
}

func TestPermutationConcurrent(t *testing.T) {
	const size = 4096
	want := order(t, keyA, size)
	p, err := statuslist.NewPermutation(keyA, size)
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for c := g; c < size; c += 8 {
				i, err := p.Index(int64(c))
				if err != nil || i != want[c] {
					errs <- fmt.Errorf("Index(%d) = %d, %v, want %d", c, i, err, want[c])
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

func BenchmarkPermutationIndex(b *testing.B) {
	for _, size := range []int{statuslist.DefaultSize, 1 << 20} {
		b.Run(fmt.Sprint(size), func(b *testing.B) {
			p, err := statuslist.NewPermutation(keyA, size)
			if err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			c := int64(0)
			for b.Loop() {
				if _, err := p.Index(c); err != nil {
					b.Fatal(err)
				}
				if c++; c == int64(size) {
					c = 0
				}
			}
		})
	}
}
