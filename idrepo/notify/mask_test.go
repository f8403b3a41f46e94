package notify

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestMaskPhone(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"international", "+971501234589", "+97*****89"},
		{"national", "0501234589", "050*****89"},
		{"eight characters", "12345678", "123*****78"},
		{"short hidden entirely", "1234567", "*****"},
		{"empty", "", ""},
		{"arabic-indic digits", "+٩٧١٥٠١٢٣٤٥٨٩", "+٩٧*****٨٩"},
		{"invalid UTF-8 hidden", "+97150\xff234589", "*****"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := MaskPhone(tt.in); got != tt.want {
				t.Errorf("MaskPhone(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestMaskEmail(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"plain", "jane.doe@example.com", "j***@example.com"},
		{"one-letter local part", "j@example.com", "j***@example.com"},
		{"non-ASCII local part", "élodie@exemple.fr", "é***@exemple.fr"},
		{"arabic local part", "سند@example.com", "س***@example.com"},
		{"last @ splits", `"a@b"@example.com`, `"***@example.com`},
		{"no @", "jane.doe", "*****"},
		{"nothing before @", "@example.com", "*****"},
		{"empty", "", ""},
		{"invalid UTF-8 hidden", "\xffjane@example.com", "*****"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := MaskEmail(tt.in); got != tt.want {
				t.Errorf("MaskEmail(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

// FuzzMask checks that masking never shows more than it promises: at most
// five characters of a phone number, and at most the first character of an
// e-mail address's local part.
func FuzzMask(f *testing.F) {
	for _, s := range []string{"+971501234589", "0501234589", "jane.doe@example.com", "a@b@c", "", "@", "\xff@x", "سند@example.com"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		p := MaskPhone(in)
		if !utf8.ValidString(p) {
			t.Fatalf("MaskPhone(%q) = %q, not valid UTF-8", in, p)
		}
		if shown := utf8.RuneCountInString(p) - utf8.RuneCountInString(hidden); in != "" && shown > 5 {
			t.Fatalf("MaskPhone(%q) = %q, shows %d characters, want at most 5", in, p, shown)
		}
		e := MaskEmail(in)
		if !utf8.ValidString(e) {
			t.Fatalf("MaskEmail(%q) = %q, not valid UTF-8", in, e)
		}
		if e == "" || e == hidden {
			return
		}
		at := strings.LastIndexByte(e, '@')
		local, domain := e[:at], e[at+1:]
		if utf8.RuneCountInString(local) != 4 || !strings.HasSuffix(local, "***") {
			t.Fatalf("MaskEmail(%q) = %q, want one character and *** before @", in, e)
		}
		if !strings.HasSuffix(in, "@"+domain) {
			t.Fatalf("MaskEmail(%q) = %q, domain not taken from the end of the input", in, e)
		}
	})
}
