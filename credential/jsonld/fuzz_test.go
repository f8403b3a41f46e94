package jsonld_test

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sanad-id/sanad/credential/jsonld"
)

// FuzzCanonicalize: any JSON document either canonicalizes, the same way
// twice, into well-formed canonical N-Quads, or fails with one of the
// package's errors; never a panic.
func FuzzCanonicalize(f *testing.F) {
	edge, err := os.ReadFile(filepath.Join("testdata", "jsonldjs", "edge.json"))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(edge)
	for _, s := range []string{
		`{}`,
		`{"@context":5}`,
		`{"@context":null,"@id":"urn:x"}`,
		`{"@context":["https://www.w3.org/2018/credentials/v1"],"id":"urn:uuid:1","type":["VerifiableCredential"],"issuer":"did:example:1","issuanceDate":"2025-01-01T00:00:00Z","credentialSubject":{"id":"did:example:2"}}`,
		`{"@context":["https://www.w3.org/ns/credentials/v2"],"type":["VerifiableCredential"],"issuer":{"id":"did:example:1","name":"Issuer"},"credentialSubject":[{"name":"a"},{"name":"a"}],"proof":{"type":"DataIntegrityProof","cryptosuite":"eddsa-rdfc-2022","proofValue":"z1"}}`,
		`{"@context":["https://www.w3.org/ns/credentials/v2"],"type":["VerifiablePresentation"],"verifiableCredential":[{"@context":["https://www.w3.org/ns/credentials/v2"],"type":["VerifiableCredential"],"credentialSubject":{"id":"did:example:2"}}]}`,
		`{"@context":{"p":{"@id":"https://example.org/p","@container":"@list"}},"p":[[1,2],[],[{"@value":"x","@language":"en"}]]}`,
		`{"@context":{"p":"https://example.org/p","r":{"@reverse":"https://example.org/r"}},"@id":"https://example.org/s","r":{"@id":"https://example.org/o"},"@included":[{"@id":"_:b","p":1.5}]}`,
		`{"@context":{"@vocab":"https://example.org/","n":"@nest"},"n":{"a":true},"b":{"@value":"x","@direction":"rtl"}}`,
		`{"@context":{"@vocab":"https://example.org/"},"@graph":[{"@id":"_:a","p":{"@id":"_:b"}},{"@id":"_:b","p":{"@id":"_:a"}}]}`,
		`{"@context":"https://unknown.example/ctx","x":1}`,
		`{"@context":{"a":{"@id":"https://example.org/a","@context":{"b":"https://example.org/b"}}},"a":{"b":{"a":{"b":"deep"}}}}`,
		`{"@context":{"p":{"@id":"https://example.org/p","@type":"@id"}},"p":"relative"}`,
	} {
		f.Add([]byte(s))
	}
	l := jsonld.Bundled()
	f.Fuzz(func(t *testing.T, data []byte) {
		var doc map[string]any
		if json.Unmarshal(data, &doc) != nil {
			return
		}
		out, err := l.Canonicalize(doc)
		if err != nil {
			if !errors.Is(err, jsonld.ErrInvalid) && !errors.Is(err, jsonld.ErrUndefinedTerm) && !errors.Is(err, jsonld.ErrUnknownContext) {
				t.Fatalf("Canonicalize error %v matches none of the package's errors", err)
			}
			return
		}
		for _, line := range strings.SplitAfter(out, "\n") {
			if line == "" {
				continue
			}
			if !strings.HasSuffix(line, " .\n") || !(strings.HasPrefix(line, "<") || strings.HasPrefix(line, "_:c14n")) {
				t.Fatalf("Canonicalize gave a malformed line %q", line)
			}
		}
		again, err := l.Canonicalize(doc)
		if err != nil || again != out {
			t.Fatalf("Canonicalize is not deterministic: %v\n%s\nthen\n%s", err, out, again)
		}
	})
}
