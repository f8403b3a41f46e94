package keys

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/sanad-id/sanad/storage"
)

func TestCurrentKeyID(t *testing.T) {
	forEachStore(t, func(t *testing.T, open func(t *testing.T) storage.Durable) {
		testCurrentKeyID(t, newEnv(t, open, fastSets()))
	})
}

func testCurrentKeyID(t *testing.T, e *env) {
	ctx := context.Background()
	s := e.service(t)

	// The kid is the one SignJWS and Sign use.
	kid, err := s.CurrentKeyID(PurposeOIDCSigning, AlgES256)
	if err != nil {
		t.Fatalf("CurrentKeyID(oidc, ES256) = %v", err)
	}
	tok, err := s.SignJWS(ctx, PurposeOIDCSigning, AlgES256, []byte(`{}`), nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := tokenKID(t, tok); got != kid {
		t.Errorf("CurrentKeyID(oidc, ES256) = %q, want %q (the kid SignJWS uses)", kid, got)
	}
	edKID, err := s.CurrentKeyID(PurposeOIDCSigning, AlgEdDSA)
	if err != nil || edKID == kid {
		t.Errorf("CurrentKeyID(oidc, EdDSA) = %q, %v, want another key than ES256's %q", edKID, err, kid)
	}

	// A rotation with prepublish keeps the old key current until the new
	// one starts signing.
	if _, err := s.Rotate(ctx, PurposeOIDCSigning, time.Hour); err != nil {
		t.Fatal(err)
	}
	if got, err := s.CurrentKeyID(PurposeOIDCSigning, AlgES256); err != nil || got != kid {
		t.Errorf("CurrentKeyID during prepublish = %q, %v, want the old key %q", got, err, kid)
	}
	e.clock.Advance(time.Hour)
	next, err := s.CurrentKeyID(PurposeOIDCSigning, AlgES256)
	if err != nil || next == kid {
		t.Fatalf("CurrentKeyID after prepublish = %q, %v, want a new key", next, err)
	}
	_, signedWith, err := s.Sign(ctx, PurposeOIDCSigning, AlgES256, []byte("m"))
	if err != nil || signedWith != next {
		t.Errorf("Sign() kid = %q, %v, want CurrentKeyID %q", signedWith, err, next)
	}

	for _, tc := range []struct {
		purpose, alg string
		want         error
	}{
		{"no-such-purpose", AlgES256, ErrUnknownPurpose},
		{PurposeStatusList, AlgEdDSA, ErrUnsupportedAlg},
		{PurposeOIDCEncryption, AlgECDHES, ErrUnsupportedAlg},
	} {
		if got, err := s.CurrentKeyID(tc.purpose, tc.alg); !errors.Is(err, tc.want) {
			t.Errorf("CurrentKeyID(%q, %q) = %q, %v, want %v", tc.purpose, tc.alg, got, err, tc.want)
		}
	}
}
