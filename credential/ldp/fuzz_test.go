package ldp_test

import (
	"context"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/sanad-id/sanad/credential"
	"github.com/sanad-id/sanad/credential/credtest"
	"github.com/sanad-id/sanad/credential/did"
	"github.com/sanad-id/sanad/credential/ldp"
)

// FuzzVerify: whatever the document, Verify neither panics nor accepts a
// proof it cannot check; its errors are the package's.
func FuzzVerify(f *testing.F) {
	l := testLoader(f)
	ctx := context.Background()
	ed := credtest.NewSignerFromKey(f, "", ed25519.NewKeyFromSeed(make([]byte, ed25519.SeedSize)))
	p256 := credtest.NewSigner(f, "ES256", "")
	seeds := []map[string]any{}
	for _, s := range []struct {
		suite  string
		signer *credtest.Signer
		doc    map[string]any
	}{
		{ldp.SuiteEdDSARDFC2022, ed, credentialV2(f)},
		{ldp.SuiteECDSARDFC2019, p256, credentialV2(f)},
		{ldp.SuiteEd25519Signature2020, ed, credentialV1(f)},
	} {
		signed, err := ldp.Sign(ctx, l, s.doc, s.signer, ldp.SignOptions{Suite: s.suite, VerificationMethod: keyMethod(f, s.signer), Created: created})
		if err != nil {
			f.Fatal(err)
		}
		seeds = append(seeds, signed)
	}
	// Malformed variants of the first.
	variants := []func(d, p map[string]any){
		func(d, p map[string]any) { d["proof"] = []any{p, p} },
		func(d, p map[string]any) { d["proof"] = []any{} },
		func(d, p map[string]any) { d["proof"] = "proof" },
		func(d, p map[string]any) { delete(p, "proofValue") },
		func(d, p map[string]any) { p["proofValue"] = "u" + "AAAA" },
		func(d, p map[string]any) { p["created"] = 1 },
		func(d, p map[string]any) { p["domain"] = []any{"a", 1} },
		func(d, p map[string]any) { p["verificationMethod"] = "did:key:z6Mk" },
		func(d, p map[string]any) { p["type"] = []any{"DataIntegrityProof"} },
		func(d, p map[string]any) { p["@context"] = "https://www.w3.org/ns/credentials/v2" },
		func(d, p map[string]any) { d["@context"] = nil },
	}
	for _, v := range variants {
		b, _ := json.Marshal(seeds[0])
		var d map[string]any
		if err := json.Unmarshal(b, &d); err != nil {
			f.Fatal(err)
		}
		v(d, d["proof"].(map[string]any))
		seeds = append(seeds, d)
	}
	for _, d := range seeds {
		b, err := json.Marshal(d)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	for _, name := range []string{
		"w3c/vc-di-eddsa/eddsa-rdfc-2022/signedDataInt.json",
		"w3c/vc-di-eddsa/Ed25519Signature2020/signedEdSig.json",
		"w3c/vc-di-ecdsa/ecdsa-rdfc-2019-p384/signedECDSAP384.json",
	} {
		b, err := os.ReadFile(filepath.Join("testdata", name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte(`{}`))
	f.Add([]byte(`{"proof":{}}`))

	opts := ldp.VerifyOptions{Loader: l, Methods: did.NewOfflineResolver(), Now: func() time.Time { return created }}
	f.Fuzz(func(t *testing.T, data []byte) {
		var doc map[string]any
		if json.Unmarshal(data, &doc) != nil {
			return
		}
		_, err := ldp.Verify(ctx, doc, opts)
		if err != nil && !errors.Is(err, credential.ErrMalformed) && !errors.Is(err, credential.ErrSignature) && !errors.Is(err, ldp.ErrUnsupportedSuite) {
			t.Fatalf("Verify error %v matches none of the documented errors", err)
		}
		if _, perr := ldp.ParseProof(doc); err == nil && perr != nil {
			t.Fatalf("Verify accepted a document whose proof ParseProof refuses: %v", perr)
		}
	})
}
