package oidc

import (
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"
)

func TestErrorMatching(t *testing.T) {
	cause := errors.New("secret internal detail")
	tests := []struct {
		name   string
		err    *Error
		code   string
		status int
	}{
		{"invalid_request", ErrInvalidRequest("bad", cause), CodeInvalidRequest, 400},
		{"invalid_client", ErrInvalidClient(cause), CodeInvalidClient, 401},
		{"invalid_grant", ErrInvalidGrant("bad", cause), CodeInvalidGrant, 400},
		{"unauthorized_client", ErrUnauthorizedClient("no", cause), CodeUnauthorizedClient, 400},
		{"invalid_token", ErrInvalidToken("no", cause), CodeInvalidToken, 401},
		{"invalid_dpop_proof", ErrInvalidDPoPProof("bad", cause), CodeInvalidDPoPProof, 400},
		{"use_dpop_nonce", ErrUseDPoPNonce("n", cause), CodeUseDPoPNonce, 400},
		{"use_pkce", ErrUsePKCE("need", cause), CodeUsePKCE, 400},
		{"invalid_pkce_challenge", ErrInvalidPKCEChallenge("bad", cause), CodeInvalidPKCEChallenge, 400},
		{"server_error", ErrServerError(cause), CodeServerError, 500},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			wrapped := fmt.Errorf("token: %w", tc.err)
			if tc.err.Code != tc.code || tc.err.Status != tc.status {
				t.Errorf("%s = {%s %d}, want {%s %d}", tc.name, tc.err.Code, tc.err.Status, tc.code, tc.status)
			}
			if !errors.Is(wrapped, &Error{Code: tc.code}) {
				t.Errorf("errors.Is(%v, &Error{Code: %s}) = false, want true", wrapped, tc.code)
			}
			if errors.Is(wrapped, &Error{Code: "other"}) {
				t.Errorf("errors.Is(%v, &Error{Code: other}) = true, want false", wrapped)
			}
			if !errors.Is(wrapped, cause) {
				t.Errorf("errors.Is(%v, cause) = false, want true", wrapped)
			}
			if !HasCode(wrapped, tc.code) || HasCode(wrapped, "other") {
				t.Errorf("HasCode(%v, %s) wrong", wrapped, tc.code)
			}
			if strings.Contains(tc.err.Description, cause.Error()) {
				t.Errorf("%s description %q contains the cause", tc.name, tc.err.Description)
			}
			if !strings.Contains(tc.err.Error(), cause.Error()) {
				t.Errorf("%s Error() = %q, want the cause for logs", tc.name, tc.err.Error())
			}
			if v := tc.err.LogValue(); v.Kind() != slog.KindGroup {
				t.Errorf("%s LogValue kind = %v, want group", tc.name, v.Kind())
			}
		})
	}
	// Constructors return fresh values.
	a, b := ErrInvalidClient(nil), ErrInvalidClient(nil)
	if a == b {
		t.Error("ErrInvalidClient returned the same pointer twice")
	}
	a.Description = "changed"
	if b.Description == "changed" {
		t.Error("ErrInvalidClient values share state")
	}
}
