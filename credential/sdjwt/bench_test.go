package sdjwt_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/lestrrat-go/jwx/v3/jwk"

	"github.com/sanad-id/sanad/credential/credtest"
	"github.com/sanad-id/sanad/credential/sdjwt"
)

// benchVC is a 10-claim SD-JWT VC, every claim disclosable, bound to a
// holder key, with a status entry: what the issuer signs per request.
func benchVC(b *testing.B, holder any) sdjwt.VC {
	claims := map[string]any{
		"given_name":     "Amina",
		"family_name":    "Yusuf",
		"birthdate":      "1990-04-01",
		"gender":         "female",
		"email":          "amina@example.org",
		"phone_number":   "+2348012345678",
		"nationality":    "NG",
		"place_of_birth": "Kano",
		"uin":            "4829137465",
		"address":        map[string]any{"locality": "Kano", "country": "NG", "street_address": "12 Bello Road"},
	}
	var paths []sdjwt.Path
	for k := range claims {
		paths = append(paths, sdjwt.Path{k})
	}
	return sdjwt.VC{
		Issuer: issuerID, VCT: vct, IssuedAt: t0, NotBefore: t0, Expires: t0.AddDate(1, 0, 0),
		Status:      map[string]any{"status_list": map[string]any{"idx": 412, "uri": "https://issuer.example/status/1"}},
		Claims:      claims,
		Disclosable: paths,
		Holder:      holder,
	}
}

// BenchmarkSDJWTIssueVC measures issuing with ES256; the issuer's budget
// is 3000 credentials/s on 2 cores with everything else it does.
func BenchmarkSDJWTIssueVC(b *testing.B) {
	issuer := credtest.NewSigner(b, "ES256", "issuer-key-1")
	holder := credtest.NewSigner(b, "ES256", "holder")
	jk, err := jwk.Import(holder.Public())
	if err != nil {
		b.Fatal(err)
	}
	for _, bc := range []struct {
		name   string
		holder any
	}{
		{"ecdsa-holder", holder.Public()},
		{"jwk-holder", jk},
	} {
		b.Run(bc.name, func(b *testing.B) {
			vc := benchVC(b, bc.holder)
			ctx := context.Background()
			b.ReportAllocs()
			start := cpuTime()
			for b.Loop() {
				if _, err := sdjwt.IssueVC(ctx, issuer, vc); err != nil {
					b.Fatal(err)
				}
			}
			reportCPU(b, start)
		})
	}
	// The share of the signature alone, for reading the numbers above.
	b.Run("es256-signjws-only", func(b *testing.B) {
		s, err := sdjwt.IssueVC(context.Background(), issuer, benchVC(b, holder.Public()))
		if err != nil {
			b.Fatal(err)
		}
		tok, err := sdjwt.Parse(s)
		if err != nil {
			b.Fatal(err)
		}
		payload := []byte(strings.Split(tok.JWT, ".")[1])
		ctx := context.Background()
		b.ReportAllocs()
		start := cpuTime()
		for b.Loop() {
			if _, err := issuer.SignJWS(ctx, payload, map[string]any{"typ": sdjwt.TypVC}); err != nil {
				b.Fatal(err)
			}
		}
		reportCPU(b, start)
	})
	b.Run("parallel", func(b *testing.B) {
		vc := benchVC(b, holder.Public())
		ctx := context.Background()
		b.ReportAllocs()
		start := cpuTime()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if _, err := sdjwt.IssueVC(ctx, issuer, vc); err != nil {
					b.Error(err)
					return
				}
			}
		})
		reportCPU(b, start)
	})
}

// BenchmarkSDJWTVerifyVC measures verifying a presentation of every claim
// with a key binding.
func BenchmarkSDJWTVerifyVC(b *testing.B) {
	f := newFixture(b)
	vc := benchVC(b, f.holder.Public())
	s := f.issue(b, vc)
	p := f.present(b, s, vc.Disclosable)
	opts := f.opts()
	ctx := context.Background()
	b.ReportAllocs()
	start := cpuTime()
	for b.Loop() {
		if _, err := sdjwt.VerifyVC(ctx, p, opts); err != nil {
			b.Fatal(err)
		}
	}
	reportCPU(b, start)
}

// reportCPU reports the process CPU time per operation since start
// (cpu-ns/op), and what it allows on 2 cores (creds/s@2cores).
func reportCPU(b *testing.B, start time.Duration) {
	used := cpuTime() - start
	if used <= 0 || b.N == 0 {
		return
	}
	per := float64(used.Nanoseconds()) / float64(b.N)
	b.ReportMetric(per, "cpu-ns/op")
	b.ReportMetric(2e9/per, "ops/s@2cores")
}
