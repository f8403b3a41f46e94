package statuslist_test

import (
	"bytes"
	"compress/gzip"
	"encoding/base64"
	"encoding/json"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/sanad-id/sanad/credential/statuslist"
)

var update = flag.Bool("update", false, "rewrite the golden files and the inputs of testdata/gen.mjs")

// specExample is the encodedList of the status list credential example of
// Bitstring Status List 1.0 section 2.2: 16 KiB of zeros.
const specExample = "uH4sIAAAAAAAAA-3BMQEAAADCoPVPbQwfoAAAAAAAAAAAAAAAAAAAAIC3AYbSVKsAQAAA"

// gzipU returns "u" + base64url(gzip(b)), optionally with extra bytes
// after the GZIP member.
func gzipU(t testing.TB, b []byte, trailer ...byte) string {
	t.Helper()
	var buf bytes.Buffer
	w := gzip.NewWriter(&buf)
	if _, err := w.Write(b); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	buf.Write(trailer)
	return "u" + base64.RawURLEncoding.EncodeToString(buf.Bytes())
}

// setBits lists the set bits of b.
func setBits(t testing.TB, b *statuslist.Bitstring) []int {
	t.Helper()
	var out []int
	for i := 0; i < b.Len(); i++ {
		v, err := b.Get(i)
		if err != nil {
			t.Fatalf("Get(%d) = %v", i, err)
		}
		if v {
			out = append(out, i)
		}
	}
	return out
}

func TestNewBitstringLen(t *testing.T) {
	tests := []struct {
		name      string
		size      int
		wantLen   int
		wantBytes int
	}{
		{"default", 0, statuslist.DefaultSize, 16384},
		{"negative", -5, statuslist.DefaultSize, 16384},
		{"one", 1, 1, 1},
		{"not a multiple of 8", 1001, 1001, 126},
		{"minimum", statuslist.MinEntries, statuslist.MinEntries, 16384},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := statuslist.NewBitstring(tt.size)
			if got := b.Len(); got != tt.wantLen {
				t.Errorf("NewBitstring(%d).Len() = %d, want %d", tt.size, got, tt.wantLen)
			}
			if got := len(b.Bytes()); got != tt.wantBytes {
				t.Errorf("len(NewBitstring(%d).Bytes()) = %d, want %d", tt.size, got, tt.wantBytes)
			}
		})
	}
}

func TestBitstringBitOrder(t *testing.T) {
	tests := []struct {
		name string
		set  []int
		want []byte
	}{
		{"bit 0 is the most significant bit of byte 0", []int{0}, []byte{0x80, 0, 0}},
		{"bit 7 is the least significant bit of byte 0", []int{7}, []byte{0x01, 0, 0}},
		{"bit 8 starts byte 1", []int{8}, []byte{0, 0x80, 0}},
		{"last bit", []int{23}, []byte{0, 0, 0x01}},
		// The Token Status List example bytes, read the W3C way round.
		{"several", []int{0, 2, 3, 4, 7, 8, 10, 14, 15}, []byte{0xB9, 0xA3, 0}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := statuslist.NewBitstring(24)
			for _, i := range tt.set {
				if err := b.Set(i, true); err != nil {
					t.Fatalf("Set(%d, true) = %v", i, err)
				}
			}
			if got := b.Bytes(); !bytes.Equal(got, tt.want) {
				t.Errorf("Bytes() after setting %v = %x, want %x", tt.set, got, tt.want)
			}
			if got := setBits(t, b); !slices.Equal(got, tt.set) {
				t.Errorf("set bits = %v, want %v", got, tt.set)
			}
		})
	}
}

func TestBitstringClear(t *testing.T) {
	b := statuslist.NewBitstring(16)
	for _, i := range []int{3, 4, 5} {
		if err := b.Set(i, true); err != nil {
			t.Fatal(err)
		}
	}
	if err := b.Set(4, false); err != nil {
		t.Fatal(err)
	}
	if got, want := setBits(t, b), []int{3, 5}; !slices.Equal(got, want) {
		t.Errorf("set bits after Set(4, false) = %v, want %v", got, want)
	}
}

func TestBitstringRange(t *testing.T) {
	b := statuslist.NewBitstring(100)
	for _, i := range []int{-1, 100, 1 << 40} {
		if err := b.Set(i, true); !errors.Is(err, statuslist.ErrRange) || !errors.Is(err, statuslist.ErrMalformed) {
			t.Errorf("Set(%d, true) = %v, want ErrRange", i, err)
		}
		if _, err := b.Get(i); !errors.Is(err, statuslist.ErrRange) {
			t.Errorf("Get(%d) = %v, want ErrRange", i, err)
		}
	}
}

func TestBitstringRoundTrip(t *testing.T) {
	tests := []struct {
		name string
		size int
		set  []int
	}{
		{"empty list", statuslist.DefaultSize, nil},
		{"edges", statuslist.DefaultSize, []int{0, 7, 8, 65535, 131071}},
		{"longer list", 4 * statuslist.DefaultSize, []int{1, 300000, 524287}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := statuslist.NewBitstring(tt.size)
			for _, i := range tt.set {
				if err := b.Set(i, true); err != nil {
					t.Fatal(err)
				}
			}
			enc, err := b.Encode()
			if err != nil {
				t.Fatalf("Encode() = %v", err)
			}
			if enc[0] != 'u' {
				t.Errorf("Encode() = %.10q..., want a \"u\" prefix", enc)
			}
			got, err := statuslist.DecodeBitstring(enc)
			if err != nil {
				t.Fatalf("DecodeBitstring(Encode()) = %v", err)
			}
			if got.Len() != tt.size {
				t.Errorf("DecodeBitstring(Encode()).Len() = %d, want %d", got.Len(), tt.size)
			}
			if bits := setBits(t, got); !slices.Equal(bits, tt.set) {
				t.Errorf("DecodeBitstring(Encode()) set bits = %v, want %v", bits, tt.set)
			}
		})
	}
}

func TestDecodeBitstringSpecExample(t *testing.T) {
	b, err := statuslist.DecodeBitstring(specExample)
	if err != nil {
		t.Fatalf("DecodeBitstring(spec example) = %v", err)
	}
	if b.Len() != 131072 {
		t.Errorf("DecodeBitstring(spec example).Len() = %d, want 131072", b.Len())
	}
	if bits := setBits(t, b); len(bits) != 0 {
		t.Errorf("DecodeBitstring(spec example) set bits = %v, want none", bits)
	}
}

func TestDecodeBitstringErrors(t *testing.T) {
	zeros := make([]byte, statuslist.MinEntries/8)
	valid := gzipU(t, zeros)
	raw, _ := base64.RawURLEncoding.DecodeString(valid[1:])
	corrupt := bytes.Clone(raw)
	corrupt[len(corrupt)-5] ^= 0xff // CRC-32
	truncated := raw[:len(raw)-4]
	tests := []struct {
		name    string
		in      string
		wantErr error
	}{
		{"empty", "", statuslist.ErrMalformed},
		{"prefix only", "u", statuslist.ErrMalformed},
		{"no multibase prefix", valid[1:], statuslist.ErrMalformed},
		{"base58btc", "z" + valid[1:], statuslist.ErrMalformed},
		{"padded base64url", valid + "==", statuslist.ErrMalformed},
		{"standard base64", "u+/+/", statuslist.ErrMalformed},
		{"not gzip", "u" + base64.RawURLEncoding.EncodeToString(zeros[:64]), statuslist.ErrMalformed},
		{"corrupted checksum", "u" + base64.RawURLEncoding.EncodeToString(corrupt), statuslist.ErrMalformed},
		{"truncated", "u" + base64.RawURLEncoding.EncodeToString(truncated), statuslist.ErrMalformed},
		{"garbage after the member", gzipU(t, zeros, 'x', 'y'), statuslist.ErrMalformed},
		{"decompresses to nothing", gzipU(t, nil), statuslist.ErrMalformed},
		{"shorter than the minimum", gzipU(t, zeros[:len(zeros)-1]), statuslist.ErrListLength},
		{"zip bomb", gzipU(t, make([]byte, statuslist.MaxListBytes+1)), statuslist.ErrMalformed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := statuslist.DecodeBitstring(tt.in)
			if !errors.Is(err, tt.wantErr) {
				t.Errorf("DecodeBitstring(%.24q...) = %v, %v, want %v", tt.in, got, err, tt.wantErr)
			}
		})
	}
	if _, err := statuslist.DecodeBitstring(valid); err != nil {
		t.Errorf("DecodeBitstring(valid) = %v, want nil (the error rows must differ from it)", err)
	}
}

func TestDecodeBitstringMaximum(t *testing.T) {
	b, err := statuslist.DecodeBitstring(gzipU(t, make([]byte, statuslist.MaxListBytes)))
	if err != nil {
		t.Fatalf("DecodeBitstring(MaxListBytes) = %v", err)
	}
	if got, want := b.Len(), statuslist.MaxListBytes*8; got != want {
		t.Errorf("DecodeBitstring(MaxListBytes).Len() = %d, want %d", got, want)
	}
}

func TestDecodeBitstringMin(t *testing.T) {
	short := gzipU(t, []byte{0x40})
	tests := []struct {
		name    string
		min     int
		wantErr error
	}{
		{"no bound", 0, nil},
		{"bound met", 8, nil},
		{"bound missed", 9, statuslist.ErrListLength},
		{"default bound", statuslist.MinEntries, statuslist.ErrListLength},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := statuslist.DecodeBitstringMin(short, tt.min)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("DecodeBitstringMin(8 bits, %d) = %v, want %v", tt.min, err, tt.wantErr)
			}
			if err == nil {
				if got := setBits(t, b); !slices.Equal(got, []int{1}) {
					t.Errorf("DecodeBitstringMin(0x40, %d) set bits = %v, want [1]", tt.min, got)
				}
			}
		})
	}
}

// golden compares got, as indented JSON, with testdata/name, or writes it
// with -update.
func golden(t *testing.T, name string, got any) {
	t.Helper()
	b, err := json.MarshalIndent(got, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	b = append(b, '\n')
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, b, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if !bytes.Equal(b, want) {
		t.Errorf("%s differs from the golden file:\n%s\nwant:\n%s", name, b, want)
	}
}

// readJSON decodes testdata/name into v.
func readJSON(t testing.TB, name string, v any) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
}

// roundTrip returns v as it looks after JSON encoding and decoding.
func roundTrip(t testing.TB, v any) any {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	var out any
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	return out
}

// BenchmarkBitstring measures publishing (Encode) and reading
// (DecodeBitstring) a default-size list with 1% of its bits set.
func BenchmarkBitstring(b *testing.B) {
	list := statuslist.NewBitstring(statuslist.DefaultSize)
	for i := 0; i < statuslist.DefaultSize; i += 97 {
		list.Set(i, true)
	}
	enc, err := list.Encode()
	if err != nil {
		b.Fatal(err)
	}
	b.Run("Encode", func(b *testing.B) {
		for b.Loop() {
			if _, err := list.Encode(); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("Decode", func(b *testing.B) {
		for b.Loop() {
			if _, err := statuslist.DecodeBitstring(enc); err != nil {
				b.Fatal(err)
			}
		}
	})
}
