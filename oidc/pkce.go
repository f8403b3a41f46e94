package oidc

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
)

// PKCEMethodS256 is the only code_challenge_method accepted; "plain" is
// refused, as in eSignet and FAPI 2.0.
const PKCEMethodS256 = "S256"

// s256ChallengeLen is the length of base64url(SHA-256(verifier)) without
// padding.
const s256ChallengeLen = 43

// ValidateChallenge checks the code_challenge and code_challenge_method of
// an authorization (or PAR) request (RFC 7636 section 4.3). A missing
// challenge is use_pkce (call it only when the client must use PKCE or sent
// a challenge); a method other than S256, including the RFC's default
// "plain", is invalid_request; a challenge that is not the base64url form of
// a SHA-256 hash is invalid_pkce_challenge.
func ValidateChallenge(challenge, method string) error {
	if challenge == "" {
		return ErrUsePKCE("code_challenge required", nil)
	}
	if method != PKCEMethodS256 {
		return ErrInvalidRequest("code_challenge_method must be S256", errors.New("method "+truncate(method)))
	}
	if len(challenge) != s256ChallengeLen || !isBase64URL(challenge) {
		return ErrInvalidPKCEChallenge("code_challenge is not a valid S256 challenge", nil)
	}
	if _, err := base64.RawURLEncoding.Strict().DecodeString(challenge); err != nil {
		return ErrInvalidPKCEChallenge("code_challenge is not a valid S256 challenge", err)
	}
	return nil
}

// VerifyPKCE checks a token request's code_verifier against the challenge
// and method stored with the code (RFC 7636 section 4.6). A missing or
// malformed verifier is invalid_request; one that does not match is
// invalid_grant. The comparison takes constant time.
func VerifyPKCE(challenge, method, verifier string) error {
	if err := ValidateChallenge(challenge, method); err != nil {
		return err
	}
	if verifier == "" {
		return ErrInvalidRequest("code_verifier required", nil)
	}
	if !validVerifier(verifier) {
		return ErrInvalidRequest("code_verifier is malformed", nil)
	}
	if subtle.ConstantTimeCompare([]byte(S256Challenge(verifier)), []byte(challenge)) != 1 {
		return ErrInvalidGrant("code_verifier does not match code_challenge", nil)
	}
	return nil
}

// S256Challenge returns BASE64URL(SHA256(verifier)).
func S256Challenge(verifier string) string {
	sum := sha256.Sum256([]byte(verifier))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// validVerifier reports whether v is 43 to 128 characters of
// [A-Za-z0-9-._~] (RFC 7636 section 4.1).
func validVerifier(v string) bool {
	if len(v) < 43 || len(v) > 128 {
		return false
	}
	for i := range len(v) {
		c := v[i]
		if !isAlnum(c) && c != '-' && c != '.' && c != '_' && c != '~' {
			return false
		}
	}
	return true
}

func isBase64URL(s string) bool {
	for i := range len(s) {
		c := s[i]
		if !isAlnum(c) && c != '-' && c != '_' {
			return false
		}
	}
	return true
}

func isAlnum(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}
