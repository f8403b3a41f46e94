package oidc

import (
	"strings"
	"testing"
)

// RFC 7636 Appendix B.
const (
	rfcVerifier  = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
	rfcChallenge = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
)

func TestS256Challenge(t *testing.T) {
	if got := S256Challenge(rfcVerifier); got != rfcChallenge {
		t.Errorf("S256Challenge(%q) = %q, want %q", rfcVerifier, got, rfcChallenge)
	}
}

func TestValidateChallenge(t *testing.T) {
	tests := []struct {
		name, challenge, method, want string
	}{
		{"RFC 7636 vector", rfcChallenge, "S256", ""},
		{"missing challenge", "", "S256", CodeUsePKCE},
		{"missing challenge and method", "", "", CodeUsePKCE},
		{"plain", rfcVerifier, "plain", CodeInvalidRequest},
		{"no method (plain by default)", rfcChallenge, "", CodeInvalidRequest},
		{"method lower case", rfcChallenge, "s256", CodeInvalidRequest},
		{"too short", rfcChallenge[:42], "S256", CodeInvalidPKCEChallenge},
		{"too long", rfcChallenge + "A", "S256", CodeInvalidPKCEChallenge},
		{"padding", rfcChallenge[:42] + "=", "S256", CodeInvalidPKCEChallenge},
		{"standard base64", strings.ReplaceAll(rfcChallenge, "-", "+"), "S256", CodeInvalidPKCEChallenge},
		{"non-canonical trailing bits", rfcChallenge[:42] + "N", "S256", CodeInvalidPKCEChallenge},
		{"verifier characters", strings.Repeat("~", 43), "S256", CodeInvalidPKCEChallenge},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			wantCode(t, "ValidateChallenge("+tc.challenge+", "+tc.method+")", ValidateChallenge(tc.challenge, tc.method), tc.want)
		})
	}
}

func TestVerifyPKCE(t *testing.T) {
	long := strings.Repeat("a", 128)
	tests := []struct {
		name, challenge, method, verifier, want string
	}{
		{"RFC 7636 vector", rfcChallenge, "S256", rfcVerifier, ""},
		{"128-char verifier", S256Challenge(long), "S256", long, ""},
		{"all allowed characters", S256Challenge("AZaz09-._~" + strings.Repeat("x", 33)), "S256", "AZaz09-._~" + strings.Repeat("x", 33), ""},
		{"mismatch", rfcChallenge, "S256", strings.Repeat("a", 43), CodeInvalidGrant},
		{"verifier one char off", rfcChallenge, "S256", rfcVerifier[:42] + "l", CodeInvalidGrant},
		{"plain refused", rfcVerifier, "plain", rfcVerifier, CodeInvalidRequest},
		{"missing verifier", rfcChallenge, "S256", "", CodeInvalidRequest},
		{"verifier too short", S256Challenge(rfcVerifier[:42]), "S256", rfcVerifier[:42], CodeInvalidRequest},
		{"verifier too long", S256Challenge(long + "a"), "S256", long + "a", CodeInvalidRequest},
		{"verifier bad character", S256Challenge(rfcVerifier[:42] + "+"), "S256", rfcVerifier[:42] + "+", CodeInvalidRequest},
		{"verifier space", S256Challenge(rfcVerifier[:42] + " "), "S256", rfcVerifier[:42] + " ", CodeInvalidRequest},
		{"verifier non-ASCII", S256Challenge(rfcVerifier[:41] + "é"), "S256", rfcVerifier[:41] + "é", CodeInvalidRequest},
		{"stored challenge missing", "", "S256", rfcVerifier, CodeUsePKCE},
		{"stored challenge malformed", "abc", "S256", rfcVerifier, CodeInvalidPKCEChallenge},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			wantCode(t, "VerifyPKCE("+tc.name+")", VerifyPKCE(tc.challenge, tc.method, tc.verifier), tc.want)
		})
	}
}
