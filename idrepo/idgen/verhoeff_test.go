package idgen

import (
	"math/rand/v2"
	"strings"
	"testing"
)

func TestVerhoeffDigit(t *testing.T) {
	tests := []struct {
		name    string
		payload string
		want    byte
	}{
		{"wikipedia example", "236", '3'},
		{"rosetta code 12345", "12345", '1'},
		{"rosetta code 123456789012", "123456789012", '0'},
		{"cyclic 142857", "142857", '0'},
		{"empty", "", '0'},
		{"letter", "23a", 0},
		{"space", "23 6", 0},
		{"non-ascii digit", "٢٣٦", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := VerhoeffDigit(tt.payload); got != tt.want {
				t.Errorf("VerhoeffDigit(%q) = %q, want %q", tt.payload, got, tt.want)
			}
			if tt.want != 0 {
				id := tt.payload + string(tt.want)
				if !VerhoeffValid(id) {
					t.Errorf("VerhoeffValid(%q) = false, want true", id)
				}
				if !refVerhoeffValid(id) {
					t.Errorf("refVerhoeffValid(%q) = false, want true", id)
				}
			}
		})
	}
}

func TestVerhoeffValid(t *testing.T) {
	tests := []struct {
		id   string
		want bool
	}{
		{"2363", true},
		{"2364", false},
		{"2336", false}, // 3 and 6 swapped
		{"123451", true},
		{"123450", false},
		{"1428570", true},
		{"1234567890120", true},
		{"0", true},
		{"", false},
		{"236x", false},
		{" 2363", false},
		{"2363\n", false},
	}
	for _, tt := range tests {
		if got := VerhoeffValid(tt.id); got != tt.want {
			t.Errorf("VerhoeffValid(%q) = %v, want %v", tt.id, got, tt.want)
		}
	}
}

// The tables must agree with the group structure they encode.
func TestVerhoeffMatchesGroupFormula(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 1))
	for range 20000 {
		payload := randomDigits(rng, 1+rng.IntN(30))
		id := payload + string(VerhoeffDigit(payload))
		if !refVerhoeffValid(id) {
			t.Fatalf("refVerhoeffValid(%q) = false, want true", id)
		}
		bad := id[:len(id)-1] + string('0'+(id[len(id)-1]-'0'+1)%10)
		if VerhoeffValid(bad) != refVerhoeffValid(bad) {
			t.Fatalf("VerhoeffValid(%q) = %v, refVerhoeffValid says %v", bad, VerhoeffValid(bad), refVerhoeffValid(bad))
		}
	}
}

// Verhoeff's guarantee: every single-digit substitution and every
// transposition of two different adjacent digits is caught.
func TestVerhoeffCatchesTypos(t *testing.T) {
	rng := rand.New(rand.NewPCG(2, 2))
	for range 2000 {
		payload := randomDigits(rng, 1+rng.IntN(23))
		id := []byte(payload + string(VerhoeffDigit(payload)))
		for i := range id {
			orig := id[i]
			for d := byte('0'); d <= '9'; d++ {
				if d == orig {
					continue
				}
				id[i] = d
				if VerhoeffValid(string(id)) {
					t.Fatalf("VerhoeffValid(%q) = true after substituting position %d of a valid number", id, i)
				}
			}
			id[i] = orig
		}
		for i := 0; i+1 < len(id); i++ {
			if id[i] == id[i+1] {
				continue
			}
			id[i], id[i+1] = id[i+1], id[i]
			if VerhoeffValid(string(id)) {
				t.Fatalf("VerhoeffValid(%q) = true after swapping positions %d and %d of a valid number", id, i, i+1)
			}
			id[i], id[i+1] = id[i+1], id[i]
		}
	}
}

func randomDigits(rng *rand.Rand, n int) string {
	var b strings.Builder
	for range n {
		b.WriteByte(byte('0' + rng.IntN(10)))
	}
	return b.String()
}
