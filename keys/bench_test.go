package keys

import (
	"context"
	"testing"

	"github.com/sanad-id/sanad/storage/storagetest"
)

// BenchmarkSignJWT measures signing an ID-token-sized JWT with each
// algorithm. Run: go test -run '^$' -bench SignJWT ./keys/
func BenchmarkSignJWT(b *testing.B) {
	master := mustMasterKey(b)
	s, err := New(context.Background(), Config{Store: storagetest.OpenSQLite(b), Backend: mustBackend(b, master), Sets: allAlgSets()})
	if err != nil {
		b.Fatal(err)
	}
	claims := map[string]any{
		"iss": "https://sanad.example", "sub": "4913872650", "aud": "client-1",
		"iat": 1893553445, "exp": 1893557045, "nonce": "n-0S6_WzA2Mj", "acr": "mosip:idp:acr:generated-code",
	}
	ctx := context.Background()
	for _, alg := range []string{AlgES256, AlgEdDSA, AlgRS256, AlgPS256} {
		b.Run(alg, func(b *testing.B) {
			for b.Loop() {
				if _, err := s.SignJWT(ctx, PurposeOIDCSigning, alg, claims, nil); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
