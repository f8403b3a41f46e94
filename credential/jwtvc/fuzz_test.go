package jwtvc

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/sanad-id/sanad/credential"
	"github.com/sanad-id/sanad/credential/credtest"
)

// FuzzVerify feeds arbitrary tokens to Verify: it must not panic, must
// fail only with the credential errors, and anything it accepts must have
// been signed by the issuer key (the fuzzer can't forge ES256, so only the
// seeds verify).
func FuzzVerify(f *testing.F) {
	s := credtest.NewSigner(f, "ES256", "k1")
	good, err := Issue(context.Background(), s, sample(f))
	if err != nil {
		f.Fatal(err)
	}
	minimal, err := Issue(context.Background(), s, Credential{Issuer: testIssuer, Types: []string{TypeVerifiableCredential}, ValidFrom: t0})
	if err != nil {
		f.Fatal(err)
	}
	parts := strings.Split(good, ".")
	f.Add(good)
	f.Add(minimal)
	f.Add(parts[0] + "." + parts[1] + ".")
	f.Add(parts[0] + ".." + parts[2])
	f.Add("eyJhbGciOiJub25lIn0.e30.")
	f.Add("eyJhbGciOiJIUzI1NiJ9.e30.c2ln")
	f.Add("..")
	f.Add("")
	o := VerifyOptions{Keys: credtest.Resolver(s), Algs: []string{"ES256", "EdDSA"}, Now: fixedNow(t0.Add(time.Hour))}
	f.Fuzz(func(t *testing.T, token string) {
		v, err := Verify(context.Background(), token, o)
		if err != nil {
			if !errors.Is(err, credential.ErrMalformed) && !errors.Is(err, credential.ErrSignature) &&
				!errors.Is(err, credential.ErrExpired) && !errors.Is(err, credential.ErrNotYetValid) {
				t.Fatalf("Verify(%q) = %v, not a credential error", token, err)
			}
			return
		}
		if v.Credential.Issuer == "" || v.Header == nil || v.Claims == nil {
			t.Fatalf("Verify(%q) = %+v, incomplete", token, v)
		}
	})
}
