package ldp_test

import (
	"context"
	"testing"
	"time"

	"github.com/sanad-id/sanad/credential/credtest"
	"github.com/sanad-id/sanad/credential/did"
	"github.com/sanad-id/sanad/credential/ldp"
)

// benchSuites are the suites benchmarked on the benchmark credential
// (testdata/bench-credential-*.json), with in-memory keys and a did:web
// verification method.
var benchSuites = []struct {
	name, suite, alg, methodType string
	doc                          func(testing.TB) map[string]any
}{
	{"eddsa-rdfc-2022", ldp.SuiteEdDSARDFC2022, "EdDSA", did.TypeMultikey, credentialV2},
	{"ecdsa-rdfc-2019-P256", ldp.SuiteECDSARDFC2019, "ES256", did.TypeMultikey, credentialV2},
	{"Ed25519Signature2020", ldp.SuiteEd25519Signature2020, "EdDSA", did.TypeEd25519VerificationKey2020, credentialV1},
}

func BenchmarkSign(b *testing.B) {
	l := testLoader(b)
	ctx := context.Background()
	for _, s := range benchSuites {
		b.Run(s.name, func(b *testing.B) {
			signer := credtest.NewSigner(b, s.alg, issuerDID+"#key-1")
			doc := s.doc(b)
			o := ldp.SignOptions{Suite: s.suite, Created: created}
			b.ReportAllocs()
			start := cpuTime()
			for b.Loop() {
				if _, err := ldp.Sign(ctx, l, doc, signer, o); err != nil {
					b.Fatal(err)
				}
			}
			reportCPU(b, start)
		})
	}
}

func BenchmarkVerify(b *testing.B) {
	l := testLoader(b)
	ctx := context.Background()
	for _, s := range benchSuites {
		b.Run(s.name, func(b *testing.B) {
			signer := credtest.NewSigner(b, s.alg, issuerDID+"#key-1")
			vm := webMethod(b, "key-1", s.methodType, signer.Public())
			signed, err := ldp.Sign(ctx, l, s.doc(b), signer, ldp.SignOptions{Suite: s.suite, Created: created})
			if err != nil {
				b.Fatal(err)
			}
			signed = clone(b, signed)
			o := ldp.VerifyOptions{Loader: l, Methods: methods{vm.ID: vm}, Suites: []string{s.suite}, Controller: issuerDID}
			b.ReportAllocs()
			start := cpuTime()
			for b.Loop() {
				if _, err := ldp.Verify(ctx, signed, o); err != nil {
					b.Fatal(err)
				}
			}
			reportCPU(b, start)
		})
	}
}

// reportCPU reports the process CPU time per operation since start
// (cpu-ns/op): on a shared machine, other processes inflate wall time,
// not CPU time. Run with -cpu 1 for the cost per core.
func reportCPU(b *testing.B, start time.Duration) {
	used := cpuTime() - start
	if used <= 0 || b.N == 0 {
		return
	}
	b.ReportMetric(float64(used.Nanoseconds())/float64(b.N), "cpu-ns/op")
}
