package authn

import (
	"fmt"
	"testing"
	"time"
)

// BenchmarkArgon2idVerify measures one PIN verification, the cost an
// attacker pays per guess and a server per sign-in, at OWASP's minimum
// (19 MiB, t=2, the default) and at 64 MiB, t=2.
//
//	go test -run '^$' -bench Argon2idVerify ./idrepo/authn/
func BenchmarkArgon2idVerify(b *testing.B) {
	for _, p := range []Argon2Params{
		{Memory: 19 * 1024, Time: 2, Threads: 1, SaltLength: 16, KeyLength: 32},
		{Memory: 64 * 1024, Time: 2, Threads: 1, SaltLength: 16, KeyLength: 32},
	} {
		b.Run(fmt.Sprintf("m=%dMiB,t=%d,p=%d", p.Memory/1024, p.Time, p.Threads), func(b *testing.B) {
			a := &Authenticator{policy: Policy{Argon2: p}, hashSlots: make(chan struct{}, 1)}
			phc, err := a.hashSecret(b.Context(), "482916")
			if err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			start := time.Now()
			for b.Loop() {
				ok, _, err := a.verifyPHC(b.Context(), phc, "482916")
				if err != nil || !ok {
					b.Fatalf("verifyPHC = %v, %v", ok, err)
				}
			}
			b.ReportMetric(float64(time.Since(start).Microseconds())/1000/float64(b.N), "ms/op")
		})
	}
}
