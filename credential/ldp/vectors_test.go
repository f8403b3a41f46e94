package ldp

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"encoding/hex"
	"encoding/json"
	"math/big"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/sanad-id/sanad/credential"
	"github.com/sanad-id/sanad/credential/credtest"
	"github.com/sanad-id/sanad/credential/did"
	"github.com/sanad-id/sanad/credential/jsonld"
	"github.com/sanad-id/sanad/credential/multibase"
)

// Context URLs the W3C vectors use besides the bundled ones.
const (
	examplesV2     = "https://www.w3.org/ns/credentials/examples/v2"
	citizenshipV4  = "https://w3id.org/citizenship/v4rc1"
	w3cVectorsRoot = "testdata/w3c"
)

// vectorLoader is a Loader with the bundled contexts and those of the W3C
// vectors (testdata/w3c/README.md).
func vectorLoader(t testing.TB) *jsonld.Loader {
	t.Helper()
	l, err := jsonld.NewLoader(map[string][]byte{
		examplesV2:    readFile(t, filepath.Join(w3cVectorsRoot, "credentials-examples-v2.jsonld")),
		citizenshipV4: readFile(t, filepath.Join(w3cVectorsRoot, "citizenship-v4rc1.jsonld")),
	})
	if err != nil {
		t.Fatal(err)
	}
	return l
}

func readFile(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func readJSON(t testing.TB, name string) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(readFile(t, name), &m); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return m
}

func readHex(t testing.TB, name string) []byte {
	t.Helper()
	b, err := hex.DecodeString(strings.TrimSpace(string(readFile(t, name))))
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return b
}

// vectorKey decodes a vector key pair file: the private key (multicodec
// ed25519-priv, p256-priv or p384-priv) and the public key it must match.
func vectorKey(t testing.TB, name string) crypto.Signer {
	t.Helper()
	m := readJSON(t, name)
	privMB, _ := m["privateKeyMultibase"].(string)
	if privMB == "" {
		privMB, _ = m["secretKeyMultibase"].(string)
	}
	raw, err := multibase.Decode(privMB)
	if err != nil || len(raw) < 2 {
		t.Fatalf("%s: private key: %v", name, err)
	}
	var priv crypto.Signer
	switch {
	case raw[0] == 0x80 && raw[1] == 0x26 && len(raw) == 2+ed25519.SeedSize: // ed25519-priv 0x1300
		priv = ed25519.NewKeyFromSeed(raw[2:])
	case raw[0] == 0x86 && raw[1] == 0x26: // p256-priv 0x1306
		priv, err = ecdsa.ParseRawPrivateKey(elliptic.P256(), raw[2:])
	case raw[0] == 0x87 && raw[1] == 0x26: // p384-priv 0x1307
		priv, err = ecdsa.ParseRawPrivateKey(elliptic.P384(), raw[2:])
	default:
		t.Fatalf("%s: unexpected private key codec % x", name, raw[:2])
	}
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	pubMB, err := did.EncodeMultikey(priv.Public())
	if err != nil {
		t.Fatal(err)
	}
	if want := m["publicKeyMultibase"]; pubMB != want {
		t.Fatalf("%s: public key of the private key = %s, want %s", name, pubMB, want)
	}
	return priv
}

// vector is one W3C test vector set: the files of one directory, named
// with a suffix ("DataInt", "EdSig", "ECDSAP256", ...).
type vector struct {
	name   string
	dir    string
	suffix string
	suite  string
	key    string // key pair file
	hash   crypto.Hash
	// deterministic: signing reproduces the vector's proofValue (Ed25519).
	deterministic bool
}

var vectors = []vector{
	{"eddsa-rdfc-2022/alumni", "vc-di-eddsa/eddsa-rdfc-2022", "DataInt", SuiteEdDSARDFC2022, "vc-di-eddsa/keyPair.json", crypto.SHA256, true},
	{"eddsa-rdfc-2022/employ", "vc-di-eddsa/eddsa-rdfc-2022/employ", "DataInt", SuiteEdDSARDFC2022, "vc-di-eddsa/keyPair.json", crypto.SHA256, true},
	{"Ed25519Signature2020/alumni", "vc-di-eddsa/Ed25519Signature2020", "EdSig", SuiteEd25519Signature2020, "vc-di-eddsa/keyPair.json", crypto.SHA256, true},
	{"ecdsa-rdfc-2019-p256/alumni", "vc-di-ecdsa/ecdsa-rdfc-2019-p256", "ECDSAP256", SuiteECDSARDFC2019, "vc-di-ecdsa/p256KeyPair.json", crypto.SHA256, false},
	{"ecdsa-rdfc-2019-p256/employ", "vc-di-ecdsa/ecdsa-rdfc-2019-p256/employ", "ECDSAP256", SuiteECDSARDFC2019, "vc-di-ecdsa/p256KeyPair.json", crypto.SHA256, false},
	{"ecdsa-rdfc-2019-p384/alumni", "vc-di-ecdsa/ecdsa-rdfc-2019-p384", "ECDSAP384", SuiteECDSARDFC2019, "vc-di-ecdsa/p384KeyPair.json", crypto.SHA384, false},
	{"ecdsa-rdfc-2019-p384/employ", "vc-di-ecdsa/ecdsa-rdfc-2019-p384/employ", "ECDSAP384", SuiteECDSARDFC2019, "vc-di-ecdsa/p384KeyPair.json", crypto.SHA384, false},
}

func (v vector) file(kind, ext string) string {
	return filepath.Join(w3cVectorsRoot, v.dir, kind+v.suffix+ext)
}

// TestW3CVectors checks every intermediate value of the W3C test vectors:
// canonical document and proof configuration, their hashes, the hash
// data, the signature, and the signed document; then verifies the signed
// vector and, for ECDSA, a fresh signature.
func TestW3CVectors(t *testing.T) {
	l := vectorLoader(t)
	ctx := context.Background()
	for _, v := range vectors {
		t.Run(v.name, func(t *testing.T) {
			signed := readJSON(t, v.file("signed", ".json"))
			proofConfig := readJSON(t, v.file("proofConfig", ".json"))
			unsigned := map[string]any{}
			for k, val := range signed {
				if k != "proof" {
					unsigned[k] = val
				}
			}

			canonDoc, err := l.CanonicalizeHash(unsigned, v.hash)
			if err != nil {
				t.Fatalf("Canonicalize(document) error: %v", err)
			}
			if want := string(readFile(t, v.file("canonDoc", ".txt"))); canonDoc != want {
				t.Errorf("Canonicalize(document) =\n%s\nwant\n%s", canonDoc, want)
			}
			canonProof, err := l.CanonicalizeHash(proofConfig, v.hash)
			if err != nil {
				t.Fatalf("Canonicalize(proof config) error: %v", err)
			}
			if want := string(readFile(t, v.file("proofCanon", ".txt"))); canonProof != want {
				t.Errorf("Canonicalize(proof config) =\n%s\nwant\n%s", canonProof, want)
			}
			if got, want := sum(v.hash, canonDoc), readHex(t, v.file("docHash", ".txt")); !bytes.Equal(got, want) {
				t.Errorf("hash(canonical document) = %x, want %x", got, want)
			}
			if got, want := sum(v.hash, canonProof), readHex(t, v.file("proofHash", ".txt")); !bytes.Equal(got, want) {
				t.Errorf("hash(canonical proof config) = %x, want %x", got, want)
			}

			// hashData builds the proof config itself from the proof.
			proof := signed["proof"].(map[string]any)
			config := map[string]any{}
			for k, val := range proof {
				if k != "proofValue" {
					config[k] = val
				}
			}
			combined := readHex(t, v.file("combinedHash", ".txt"))
			data, err := hashData(l, unsigned, config, v.hash)
			if err != nil {
				t.Fatalf("hashData error: %v", err)
			}
			if !bytes.Equal(data, combined) {
				t.Errorf("hashData = %x, want %x", data, combined)
			}

			sig := readHex(t, v.file("sigHex", ".txt"))
			pv := strings.TrimSpace(string(readFile(t, v.file("sigBTC58", ".txt"))))
			if got := multibase.EncodeBase58(sig); got != pv {
				t.Errorf("EncodeBase58(sigHex) = %s, want %s", got, pv)
			}
			if proof["proofValue"] != pv {
				t.Errorf("signed proofValue = %v, want %s", proof["proofValue"], pv)
			}
			priv := vectorKey(t, filepath.Join(w3cVectorsRoot, v.key))
			switch k := priv.Public().(type) {
			case ed25519.PublicKey:
				if !ed25519.Verify(k, combined, sig) {
					t.Errorf("ed25519.Verify(combined hash, sigHex) = false")
				}
			case *ecdsa.PublicKey:
				n := len(sig) / 2
				r, s := new(big.Int).SetBytes(sig[:n]), new(big.Int).SetBytes(sig[n:])
				if !ecdsa.Verify(k, sum(v.hash, string(combined)), r, s) {
					t.Errorf("ecdsa.Verify(hash(combined hash), sigHex) = false")
				}
			}

			opts := VerifyOptions{Loader: l, Methods: did.NewOfflineResolver(), Suites: []string{v.suite}}
			res, err := Verify(ctx, signed, opts)
			if err != nil {
				t.Fatalf("Verify(signed vector) error: %v", err)
			}
			if res.Suite != v.suite || res.VerificationMethod.ID != proof["verificationMethod"] || !res.Created.Equal(time.Date(2023, 2, 24, 23, 36, 38, 0, time.UTC)) {
				t.Errorf("Verify(signed vector) = %+v, want suite %s, method %v, created 2023-02-24T23:36:38Z", res, v.suite, proof["verificationMethod"])
			}

			created, err := time.Parse(time.RFC3339, proof["created"].(string))
			if err != nil {
				t.Fatal(err)
			}
			signer := credtest.NewSignerFromKey(t, proof["verificationMethod"].(string), priv)
			resigned, err := Sign(ctx, l, unsigned, signer, SignOptions{Suite: v.suite, Created: created})
			if err != nil {
				t.Fatalf("Sign error: %v", err)
			}
			if v.deterministic {
				if !reflect.DeepEqual(resigned, signed) {
					got, _ := json.MarshalIndent(resigned, "", "  ")
					t.Errorf("Sign(unsigned vector) =\n%s\nwant the signed vector", got)
				}
			} else if _, err := Verify(ctx, resigned, opts); err != nil {
				t.Errorf("Verify(Sign(unsigned vector)) error: %v", err)
			}
			if _, ok := unsigned["proof"]; ok {
				t.Errorf("Sign modified its input document")
			}
		})
	}
}

// TestW3CVectorsTampered checks that each signed vector fails once its
// signature or claims change.
func TestW3CVectorsTampered(t *testing.T) {
	l := vectorLoader(t)
	for _, v := range vectors {
		t.Run(v.name, func(t *testing.T) {
			signed := readJSON(t, v.file("signed", ".json"))
			signed["validFrom"] = "2023-01-02T00:00:00Z"
			_, err := Verify(context.Background(), signed, VerifyOptions{Loader: l, Methods: did.NewOfflineResolver()})
			if !isErr(err, credential.ErrSignature) {
				t.Errorf("Verify(vector with changed validFrom) = %v, want %v", err, credential.ErrSignature)
			}
		})
	}
}

func sum(h crypto.Hash, s string) []byte {
	d := h.New()
	d.Write([]byte(s))
	return d.Sum(nil)
}
