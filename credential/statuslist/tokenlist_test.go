package statuslist_test

import (
	"bytes"
	"compress/zlib"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"reflect"
	"strconv"
	"testing"

	"github.com/sanad-id/sanad/credential/statuslist"
)

// tslVectors are the Token Status List draft's examples and test vectors
// (testdata/tsl_vectors.json, extracted from the draft's repository).
type tslVectors struct {
	Vectors []struct {
		Name     string         `json:"name"`
		Size     int            `json:"size"`
		Bits     int            `json:"bits"`
		Lst      string         `json:"lst"`
		Statuses map[string]int `json:"statuses"`
	} `json:"vectors"`
}

// lstBytes inflates a status_list's lst.
func lstBytes(t testing.TB, m map[string]any) []byte {
	t.Helper()
	z, err := base64.RawURLEncoding.DecodeString(m["lst"].(string))
	if err != nil {
		t.Fatal(err)
	}
	r, err := zlib.NewReader(bytes.NewReader(z))
	if err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(r)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestTokenListDraftVectors(t *testing.T) {
	var v tslVectors
	readJSON(t, "tsl_vectors.json", &v)
	if len(v.Vectors) != 6 {
		t.Fatalf("tsl_vectors.json has %d vectors, want 6", len(v.Vectors))
	}
	for _, vec := range v.Vectors {
		t.Run(vec.Name, func(t *testing.T) {
			in := map[string]any{"bits": float64(vec.Bits), "lst": vec.Lst}
			l, err := statuslist.ParseTokenList(in)
			if err != nil {
				t.Fatalf("ParseTokenList(%v) = %v", in, err)
			}
			if l.Bits() != vec.Bits || l.Len() < vec.Size {
				t.Errorf("ParseTokenList(%s) = bits %d, len %d, want %d, at least %d", vec.Name, l.Bits(), l.Len(), vec.Bits, vec.Size)
			}
			built, err := statuslist.NewTokenList(vec.Bits, vec.Size)
			if err != nil {
				t.Fatal(err)
			}
			for i := 0; i < vec.Size; i++ {
				want := vec.Statuses[strconv.Itoa(i)]
				got, err := l.Get(i)
				if err != nil || int(got) != want {
					t.Fatalf("ParseTokenList(%s).Get(%d) = %d, %v, want %d", vec.Name, i, got, err, want)
				}
				if want != 0 {
					if err := built.Set(i, uint8(want)); err != nil {
						t.Fatal(err)
					}
				}
			}
			// Sanad's encoding of the same statuses holds the same bytes.
			m, err := built.Map()
			if err != nil {
				t.Fatalf("Map() = %v", err)
			}
			if m["bits"] != vec.Bits {
				t.Errorf("Map()[bits] = %v, want %d", m["bits"], vec.Bits)
			}
			theirs := lstBytes(t, map[string]any{"lst": vec.Lst})
			if ours := lstBytes(t, m); !bytes.Equal(ours, theirs) {
				t.Errorf("Map() of the %s statuses inflates to %d bytes differing from the draft's %d", vec.Name, len(ours), len(theirs))
			}
		})
	}
}

func TestTokenListByteLayout(t *testing.T) {
	tests := []struct {
		name     string
		bits     int
		statuses []uint8
		want     []byte
	}{
		// Token Status List section 4.1: index 0 in the least significant bits.
		{"1 bit", 1, []uint8{1, 0, 0, 1, 1, 1, 0, 1, 1, 1, 0, 0, 0, 1, 0, 1}, []byte{0xB9, 0xA3}},
		{"2 bits", 2, []uint8{1, 2, 0, 3, 0, 1, 0, 1, 1, 2, 3, 3}, []byte{0xC9, 0x44, 0xF9}},
		{"4 bits", 4, []uint8{0x1, 0xA, 0xF}, []byte{0xA1, 0x0F}},
		{"8 bits", 8, []uint8{0x01, 0xFE}, []byte{0x01, 0xFE}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l, err := statuslist.NewTokenList(tt.bits, len(tt.statuses))
			if err != nil {
				t.Fatal(err)
			}
			for i, s := range tt.statuses {
				if err := l.Set(i, s); err != nil {
					t.Fatalf("Set(%d, %d) = %v", i, s, err)
				}
			}
			m, err := l.Map()
			if err != nil {
				t.Fatal(err)
			}
			if got := lstBytes(t, m); !bytes.Equal(got, tt.want) {
				t.Errorf("bytes of %v at %d bits = %x, want %x", tt.statuses, tt.bits, got, tt.want)
			}
			back, err := statuslist.ParseTokenList(roundTrip(t, m).(map[string]any))
			if err != nil {
				t.Fatalf("ParseTokenList(Map()) = %v", err)
			}
			for i, s := range tt.statuses {
				if got, err := back.Get(i); err != nil || got != s {
					t.Errorf("ParseTokenList(Map()).Get(%d) = %d, %v, want %d", i, got, err, s)
				}
			}
		})
	}
}

func TestTokenListOverwrite(t *testing.T) {
	l, err := statuslist.NewTokenList(2, 8)
	if err != nil {
		t.Fatal(err)
	}
	steps := []struct {
		i int
		v uint8
	}{{1, 3}, {2, 1}, {1, 2}, {2, 0}}
	for _, s := range steps {
		if err := l.Set(s.i, s.v); err != nil {
			t.Fatal(err)
		}
	}
	want := []uint8{0, 2, 0, 0, 0, 0, 0, 0}
	for i, w := range want {
		if got, _ := l.Get(i); got != w {
			t.Errorf("Get(%d) after %v = %d, want %d", i, steps, got, w)
		}
	}
}

func TestNewTokenListErrors(t *testing.T) {
	tests := []struct {
		name       string
		bits, size int
	}{
		{"bits 0", 0, 8},
		{"bits 3", 3, 8},
		{"bits 16", 16, 8},
		{"size 0", 1, 0},
		{"size negative", 2, -1},
		{"too large", 8, statuslist.MaxListBytes + 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if l, err := statuslist.NewTokenList(tt.bits, tt.size); !errors.Is(err, statuslist.ErrMalformed) {
				t.Errorf("NewTokenList(%d, %d) = %v, %v, want ErrMalformed", tt.bits, tt.size, l, err)
			}
		})
	}
}

func TestTokenListRange(t *testing.T) {
	l, err := statuslist.NewTokenList(2, 10)
	if err != nil {
		t.Fatal(err)
	}
	if l.Len() != 10 || l.Bits() != 2 {
		t.Errorf("NewTokenList(2, 10) = len %d, bits %d, want 10, 2", l.Len(), l.Bits())
	}
	tests := []struct {
		name string
		i    int
		v    uint8
	}{
		{"negative index", -1, 1},
		{"index = size", 10, 1},
		{"value too wide", 0, 4},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := l.Set(tt.i, tt.v); !errors.Is(err, statuslist.ErrRange) {
				t.Errorf("Set(%d, %d) = %v, want ErrRange", tt.i, tt.v, err)
			}
		})
	}
	if _, err := l.Get(10); !errors.Is(err, statuslist.ErrRange) {
		t.Errorf("Get(10) = %v, want ErrRange", err)
	}
}

// zlibB64 compresses b and encodes it as an lst, with extra bytes after
// the stream.
func zlibB64(t testing.TB, b []byte, trailer ...byte) string {
	t.Helper()
	var buf bytes.Buffer
	w := zlib.NewWriter(&buf)
	w.Write(b)
	w.Close()
	buf.Write(trailer)
	return base64.RawURLEncoding.EncodeToString(buf.Bytes())
}

func TestParseTokenListMalformed(t *testing.T) {
	good := zlibB64(t, []byte{0xB9, 0xA3})
	z, _ := base64.RawURLEncoding.DecodeString(good)
	corrupt := bytes.Clone(z)
	corrupt[len(corrupt)-1] ^= 1 // Adler-32
	tests := []struct {
		name string
		in   map[string]any
	}{
		{"nil", nil},
		{"no bits", map[string]any{"lst": good}},
		{"bits 3", map[string]any{"bits": 3.0, "lst": good}},
		{"bits fraction", map[string]any{"bits": 1.5, "lst": good}},
		{"bits string", map[string]any{"bits": "1", "lst": good}},
		{"bits huge", map[string]any{"bits": json.Number("4294967297"), "lst": good}},
		{"no lst", map[string]any{"bits": 1.0}},
		{"lst number", map[string]any{"bits": 1.0, "lst": 5.0}},
		{"lst padded", map[string]any{"bits": 1.0, "lst": good + "=="}},
		{"lst standard base64", map[string]any{"bits": 1.0, "lst": "eNrbuRgAAhcBXQ+/"}},
		{"lst not zlib", map[string]any{"bits": 1.0, "lst": base64.RawURLEncoding.EncodeToString([]byte("hello"))}},
		{"lst gzip", map[string]any{"bits": 1.0, "lst": gzipU(t, []byte{1})[1:]}},
		{"bad checksum", map[string]any{"bits": 1.0, "lst": base64.RawURLEncoding.EncodeToString(corrupt)}},
		{"truncated", map[string]any{"bits": 1.0, "lst": base64.RawURLEncoding.EncodeToString(z[:len(z)-2])}},
		{"data after the stream", map[string]any{"bits": 1.0, "lst": zlibB64(t, []byte{1}, 0)}},
		{"empty", map[string]any{"bits": 1.0, "lst": zlibB64(t, nil)}},
		{"zip bomb", map[string]any{"bits": 1.0, "lst": zlibB64(t, make([]byte, statuslist.MaxListBytes+1))}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got, err := statuslist.ParseTokenList(tt.in); !errors.Is(err, statuslist.ErrMalformed) {
				t.Errorf("ParseTokenList(%.60v) = %v, %v, want ErrMalformed", tt.in, got, err)
			}
		})
	}
	if _, err := statuslist.ParseTokenList(map[string]any{"bits": 1.0, "lst": good}); err != nil {
		t.Errorf("ParseTokenList(good) = %v, want nil (the error rows must differ from it)", err)
	}
}

func TestParseTokenListNumbers(t *testing.T) {
	lst := zlibB64(t, []byte{0x02})
	for _, bits := range []any{2.0, json.Number("2"), 2, int64(2)} {
		l, err := statuslist.ParseTokenList(map[string]any{"bits": bits, "lst": lst, "aggregation_uri": "https://issuer.example/agg"})
		if err != nil {
			t.Errorf("ParseTokenList(bits %T) = %v", bits, err)
			continue
		}
		if got, _ := l.Get(0); l.Len() != 4 || got != 2 {
			t.Errorf("ParseTokenList(bits %T) = len %d, Get(0) %d, want 4, 2", bits, l.Len(), got)
		}
	}
}

func TestTokenReference(t *testing.T) {
	r := statuslist.TokenReference{Index: 1993, URI: "https://issuer.example/statuslists/1"}
	want := map[string]any{"status_list": map[string]any{"idx": 1993.0, "uri": "https://issuer.example/statuslists/1"}}
	if got := roundTrip(t, r.Map()); !reflect.DeepEqual(got, want) {
		t.Errorf("%+v.Map() = %v, want %v", r, got, want)
	}
	tests := []struct {
		name string
		in   any
		want statuslist.TokenReference
	}{
		{"round trip", roundTrip(t, r.Map()), r},
		{"draft example", map[string]any{"status_list": map[string]any{"idx": 0.0, "uri": "https://example.com/statuslists/1"}}, statuslist.TokenReference{URI: "https://example.com/statuslists/1"}},
		{"other mechanisms beside", map[string]any{"other": true, "status_list": map[string]any{"idx": json.Number("7"), "uri": "https://example.com/s"}}, statuslist.TokenReference{Index: 7, URI: "https://example.com/s"}},
		{"Go integers", r.Map(), r},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := statuslist.ParseTokenReference(tt.in)
			if err != nil || got != tt.want {
				t.Errorf("ParseTokenReference(%v) = %+v, %v, want %+v", tt.in, got, err, tt.want)
			}
		})
	}
}

func TestParseTokenReferenceMalformed(t *testing.T) {
	ref := func(idx, uri any) map[string]any {
		return map[string]any{"status_list": map[string]any{"idx": idx, "uri": uri}}
	}
	tests := []struct {
		name string
		in   any
	}{
		{"nil", nil},
		{"string", "https://example.com/statuslists/1"},
		{"no status_list", map[string]any{"other": map[string]any{}}},
		{"status_list array", map[string]any{"status_list": []any{}}},
		{"idx missing", map[string]any{"status_list": map[string]any{"uri": "https://example.com/s"}}},
		{"idx negative", ref(-1.0, "https://example.com/s")},
		{"idx fraction", ref(1.5, "https://example.com/s")},
		{"idx string", ref("1", "https://example.com/s")},
		{"idx huge", ref(1e20, "https://example.com/s")},
		{"uri missing", map[string]any{"status_list": map[string]any{"idx": 1.0}}},
		{"uri relative", ref(1.0, "/statuslists/1")},
		{"uri empty", ref(1.0, "")},
		{"uri number", ref(1.0, 1.0)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got, err := statuslist.ParseTokenReference(tt.in); !errors.Is(err, statuslist.ErrMalformed) {
				t.Errorf("ParseTokenReference(%v) = %+v, %v, want ErrMalformed", tt.in, got, err)
			}
		})
	}
}
