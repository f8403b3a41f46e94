package idrepo

import (
	"bytes"
	"testing"
)

func TestSealOpen(t *testing.T) {
	dek := newDataKey()
	pt := []byte(`{"fullName":"x"}`)
	sealed, err := seal(dek, pt, identityAAD("resident-1"))
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(sealed, pt) {
		t.Error("sealed blob contains the plaintext")
	}
	got, err := open(dek, sealed, identityAAD("resident-1"))
	if err != nil || !bytes.Equal(got, pt) {
		t.Fatalf("open = %q, %v; want %q", got, err, pt)
	}
	if _, err := open(dek, sealed, identityAAD("resident-2")); err == nil {
		t.Error("open with another resident's id succeeded; the blob must be bound to its row")
	}
	if _, err := open(newDataKey(), sealed, identityAAD("resident-1")); err == nil {
		t.Error("open with another key succeeded")
	}
	tampered := bytes.Clone(sealed)
	tampered[len(tampered)-1] ^= 1
	if _, err := open(dek, tampered, identityAAD("resident-1")); err == nil {
		t.Error("open of a tampered blob succeeded")
	}
	if _, err := open(dek, sealed[:10], identityAAD("resident-1")); err == nil {
		t.Error("open of a truncated blob succeeded")
	}
	again, _ := seal(dek, pt, identityAAD("resident-1"))
	if bytes.Equal(again, sealed) {
		t.Error("two seals of the same plaintext are equal; the nonce must be random")
	}
	if _, err := seal(dek[:16], pt, nil); err == nil {
		t.Error("seal with a 128-bit key succeeded, want AES-256 only")
	}
}

func TestVIDAADDiffersFromIdentityAAD(t *testing.T) {
	if bytes.Equal(vidAAD("r1", []byte{1}), identityAAD("r1")) || bytes.Equal(vidAAD("r1", []byte{1}), vidAAD("r1", []byte{2})) {
		t.Error("VID additional data must bind the VID hash and differ from the identity's")
	}
}

func TestNormalizePhone(t *testing.T) {
	tests := []struct {
		name, in, want string
		ok             bool
	}{
		{"e164", "+447700900555", "+447700900555", true},
		{"spaces", "+44 7700 900555", "+447700900555", true},
		{"dashes and parentheses", "+1 (555) 010-0199", "+15550100199", true},
		{"dots and padding", "  +33.6.12.34.56.78 ", "+33612345678", true},
		{"shortest", "+12345678", "+12345678", true},
		{"longest", "+123456789012345", "+123456789012345", true},
		{"too short", "+1234567", "", false},
		{"too long", "+1234567890123456", "", false},
		{"no plus", "447700900555", "", false},
		{"letters", "+44770090055a", "", false},
		{"plus inside", "+44+7700900555", "", false},
		{"empty", "", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := NormalizePhone(tt.in)
			if got != tt.want || (err == nil) != tt.ok {
				t.Errorf("NormalizePhone(%q) = %q, %v; want %q, ok=%v", tt.in, got, err, tt.want, tt.ok)
			}
		})
	}
}

func TestNormalizeEmail(t *testing.T) {
	if got := NormalizeEmail("  Amina.D@Example.ORG\t"); got != "amina.d@example.org" {
		t.Errorf("NormalizeEmail = %q, want amina.d@example.org", got)
	}
}

func TestIndexInputSeparatesKinds(t *testing.T) {
	if got, want := indexInput(KindPhone, "+123"), []byte("phone\x00+123"); !bytes.Equal(got, want) {
		t.Errorf("indexInput = %q, want %q", got, want)
	}
	if bytes.Equal(indexInput(KindUIN, "1234567890"), indexInput(KindVID, "1234567890")) {
		t.Error("a UIN and a VID with the same digits hash alike")
	}
}
