package jsonld_test

import (
	"crypto"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/sanad-id/sanad/credential/jsonld"
)

func decode(t testing.TB, s string) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(s), &m); err != nil {
		t.Fatalf("decode %s: %v", s, err)
	}
	return m
}

func readDoc(t testing.TB, name string) map[string]any {
	t.Helper()
	b, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	return decode(t, string(b))
}

// TestBundledContexts: every bundled context loads and gives its terms
// their meaning in a sample document.
func TestBundledContexts(t *testing.T) {
	samples := map[string]struct {
		doc  string
		want string // a line of the canonical form
	}{
		jsonld.CredentialsV1: {
			`{"@context":["https://www.w3.org/2018/credentials/v1"],"id":"urn:uuid:1","type":["VerifiableCredential"],"issuer":"did:example:1","issuanceDate":"2025-01-01T00:00:00Z","credentialSubject":{"id":"did:example:2"}}`,
			`<urn:uuid:1> <https://www.w3.org/2018/credentials#issuanceDate> "2025-01-01T00:00:00Z"^^<http://www.w3.org/2001/XMLSchema#dateTime> .`,
		},
		jsonld.CredentialsV2: {
			`{"@context":["https://www.w3.org/ns/credentials/v2"],"id":"urn:uuid:1","type":["VerifiableCredential"],"issuer":"did:example:1","validFrom":"2025-01-01T00:00:00Z","credentialSubject":{"id":"did:example:2"}}`,
			`<urn:uuid:1> <https://www.w3.org/2018/credentials#validFrom> "2025-01-01T00:00:00Z"^^<http://www.w3.org/2001/XMLSchema#dateTime> .`,
		},
		jsonld.DataIntegrityV1: {
			`{"@context":"https://w3id.org/security/data-integrity/v1","id":"urn:uuid:p","type":"DataIntegrityProof","cryptosuite":"eddsa-rdfc-2022","proofPurpose":"assertionMethod"}`,
			`<urn:uuid:p> <https://w3id.org/security#proofPurpose> <https://w3id.org/security#assertionMethod> .`,
		},
		jsonld.DataIntegrityV2: {
			`{"@context":"https://w3id.org/security/data-integrity/v2","id":"urn:uuid:p","type":"DataIntegrityProof","verificationMethod":"did:example:1#k","proofPurpose":"assertionMethod"}`,
			`<urn:uuid:p> <https://w3id.org/security#verificationMethod> <did:example:1#k> .`,
		},
		jsonld.Ed25519Suite2020V1: {
			`{"@context":"https://w3id.org/security/suites/ed25519-2020/v1","id":"did:example:1#k","type":"Ed25519VerificationKey2020","controller":"did:example:1","publicKeyMultibase":"z6MkrJVnaZkeFzdQyMZu1cgjg7k1pZZ6pvBQ7XJPt4swbTQ2"}`,
			`<did:example:1#k> <https://w3id.org/security#controller> <did:example:1> .`,
		},
		jsonld.MultikeyV1: {
			`{"@context":"https://w3id.org/security/multikey/v1","id":"did:example:1#k","type":"Multikey","controller":"did:example:1","publicKeyMultibase":"z6MkrJVnaZkeFzdQyMZu1cgjg7k1pZZ6pvBQ7XJPt4swbTQ2"}`,
			`<did:example:1#k> <https://w3id.org/security#publicKeyMultibase> "z6MkrJVnaZkeFzdQyMZu1cgjg7k1pZZ6pvBQ7XJPt4swbTQ2"^^<https://w3id.org/security#multibase> .`,
		},
		jsonld.StatusListV1: {
			`{"@context":"https://www.w3.org/ns/credentials/status/v1","id":"https://example.org/status/1#7","type":"BitstringStatusListEntry","statusPurpose":"revocation","statusListIndex":"7","statusListCredential":"https://example.org/status/1"}`,
			`<https://example.org/status/1#7> <https://www.w3.org/ns/credentials/status#statusListCredential> <https://example.org/status/1> .`,
		},
		jsonld.DIDV1: {
			`{"@context":"https://www.w3.org/ns/did/v1","id":"did:example:1","assertionMethod":["did:example:1#k"]}`,
			`<did:example:1> <https://w3id.org/security#assertionMethod> <did:example:1#k> .`,
		},
	}
	l := jsonld.Bundled()
	urls := l.URLs()
	if len(urls) != len(samples) {
		t.Errorf("Bundled().URLs() = %v, want a sample for each of them", urls)
	}
	for _, u := range urls {
		t.Run(u, func(t *testing.T) {
			s, ok := samples[u]
			if !ok {
				t.Fatalf("no sample document for bundled context %s", u)
			}
			raw, ok := l.Context(u)
			if !ok || !json.Valid(raw) {
				t.Errorf("Context(%s) = %d bytes, %v; want the JSON document", u, len(raw), ok)
			}
			out, err := l.Canonicalize(decode(t, s.doc))
			if err != nil {
				t.Fatalf("Canonicalize error: %v", err)
			}
			if !strings.Contains(out, s.want+"\n") {
				t.Errorf("Canonicalize(%s) =\n%s\nwant a line\n%s", s.doc, out, s.want)
			}
		})
	}
}

// TestUnknownContextNeverFetched: a context that is not registered is
// refused, and no request leaves the process.
func TestUnknownContextNeverFetched(t *testing.T) {
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		w.Header().Set("Content-Type", "application/ld+json")
		fmt.Fprint(w, `{"@context":{"name":"https://schema.org/name"}}`)
	}))
	defer srv.Close()
	l := jsonld.Bundled()
	tests := []struct {
		name string
		doc  map[string]any
	}{
		{"top-level", map[string]any{"@context": srv.URL + "/ctx", "name": "x"}},
		{"after a bundled one", map[string]any{"@context": []any{jsonld.CredentialsV2, srv.URL + "/ctx"}, "name": "x"}},
		{"scoped", map[string]any{
			"@context": map[string]any{"p": map[string]any{"@id": "https://example.org/p", "@context": srv.URL + "/scoped"}},
			"p":        map[string]any{"name": "x"},
		}},
		{"nested in a node", map[string]any{
			"@context":          jsonld.CredentialsV2,
			"type":              "VerifiableCredential",
			"credentialSubject": map[string]any{"@context": srv.URL + "/nested", "name": "x"},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := l.Canonicalize(tt.doc)
			if !errors.Is(err, jsonld.ErrUnknownContext) {
				t.Errorf("Canonicalize = %v, want %v", err, jsonld.ErrUnknownContext)
			}
		})
	}
	if n := hits.Load(); n != 0 {
		t.Errorf("the context server got %d requests, want none", n)
	}
	if _, err := l.LoadDocument(srv.URL + "/ctx"); !errors.Is(err, jsonld.ErrUnknownContext) {
		t.Errorf("LoadDocument(unregistered) = %v, want %v", err, jsonld.ErrUnknownContext)
	}
}

// TestSafeMode: what the canonical form would silently drop is refused,
// so that no member of a credential escapes its proof.
func TestSafeMode(t *testing.T) {
	l, err := jsonld.NewLoader(map[string][]byte{
		"https://contexts.test/blank-term/v1": []byte(`{"@context":{"secret":"_:secret"}}`),
	})
	if err != nil {
		t.Fatal(err)
	}
	v1 := func(subject string) string {
		return `{"@context":["https://www.w3.org/2018/credentials/v1"],"id":"urn:uuid:1","type":["VerifiableCredential"],"issuer":"did:example:1","issuanceDate":"2025-01-01T00:00:00Z","credentialSubject":` + subject + `}`
	}
	tests := []struct {
		name string
		doc  string
		want error
	}{
		{"VCDM 1.1 with an undefined property", v1(`{"id":"did:example:2","favouriteColour":"blue"}`), jsonld.ErrUndefinedTerm},
		{"VCDM 2.0 with an undefined property", `{"@context":["https://www.w3.org/ns/credentials/v2"],"type":["VerifiableCredential"],"isAdmin":true}`, jsonld.ErrUndefinedTerm},
		{"undefined type", `{"@context":["https://www.w3.org/ns/credentials/v2"],"type":["VerifiableCredential","AdminCredential"]}`, jsonld.ErrUndefinedTerm},
		{"undefined type of a subject", v1(`{"id":"did:example:2","type":"Person"}`), jsonld.ErrUndefinedTerm},
		{"relative id", v1(`{"id":"someone"}`), jsonld.ErrInvalid},
		{"relative IRI value", `{"@context":["https://www.w3.org/ns/credentials/v2"],"type":["VerifiableCredential"],"issuer":"issuer-1"}`, jsonld.ErrInvalid},
		{"IRI with a space", `{"@context":["https://www.w3.org/ns/credentials/v2"],"type":["VerifiableCredential"],"issuer":"did:example:a b"}`, jsonld.ErrInvalid},
		{"relative datatype", `{"@context":{"p":{"@id":"https://example.org/p","@type":"mytype"}},"p":"x"}`, jsonld.ErrInvalid},
		{"property mapped to a blank node", `{"@context":["https://www.w3.org/ns/credentials/v2","https://contexts.test/blank-term/v1"],"type":["VerifiableCredential"],"secret":"x"}`, jsonld.ErrUndefinedTerm},
		{"malformed language tag", `{"@context":{"p":"https://example.org/p"},"p":{"@value":"x","@language":"en us"}}`, jsonld.ErrInvalid},
		{"@index", `{"@context":{"p":{"@id":"https://example.org/p","@container":"@index"}},"p":{"a":"x"}}`, jsonld.ErrInvalid},
		{"@json literal", `{"@context":{"p":{"@id":"https://example.org/p","@type":"@json"}},"p":{"a":1}}`, jsonld.ErrInvalid},
		{"protected term redefined", `{"@context":["https://www.w3.org/ns/credentials/v2",{"name":"https://evil.example/name"}],"type":["VerifiableCredential"],"name":"x"}`, jsonld.ErrInvalid},
		{"invalid context", `{"@context":{"p":42}}`, jsonld.ErrInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, err := l.Canonicalize(decode(t, tt.doc))
			if !errors.Is(err, tt.want) {
				t.Errorf("Canonicalize = %q, %v, want %v", out, err, tt.want)
			}
		})
	}
	if _, err := l.Canonicalize(nil); !errors.Is(err, jsonld.ErrInvalid) {
		t.Errorf("Canonicalize(nil) = %v, want %v", err, jsonld.ErrInvalid)
	}
	if _, err := l.CanonicalizeHash(decode(t, v1(`{"id":"did:example:2"}`)), crypto.SHA1); !errors.Is(err, jsonld.ErrInvalid) {
		t.Errorf("CanonicalizeHash(SHA-1) = %v, want %v", err, jsonld.ErrInvalid)
	}
}

// TestNewLoader: registered contexts are checked, and a bundled URL keeps
// its bundled content.
func TestNewLoader(t *testing.T) {
	bundled, ok := jsonld.Bundled().Context(jsonld.CredentialsV2)
	if !ok {
		t.Fatal("credentials v2 is not bundled")
	}
	tests := []struct {
		name  string
		extra map[string][]byte
		ok    bool
	}{
		{"template context", map[string][]byte{"https://sanad.id/ns/t/v1": []byte(`{"@context":{"t":"https://sanad.id/ns/t#t"}}`)}, true},
		{"bundled URL with the bundled content", map[string][]byte{jsonld.CredentialsV2: append(bundled, '\n')}, true},
		{"bundled URL with other content", map[string][]byte{jsonld.CredentialsV2: []byte(`{"@context":{"issuer":"https://evil.example/issuer"}}`)}, false},
		{"relative URL", map[string][]byte{"contexts/t.jsonld": []byte(`{"@context":{}}`)}, false},
		{"not JSON", map[string][]byte{"https://sanad.id/ns/t/v1": []byte(`{"@context":`)}, false},
		{"no @context", map[string][]byte{"https://sanad.id/ns/t/v1": []byte(`{"t":"https://sanad.id/ns/t#t"}`)}, false},
		{"too large", map[string][]byte{"https://sanad.id/ns/t/v1": []byte(`{"@context":{"t":"` + strings.Repeat("x", jsonld.MaxContextSize) + `"}}`)}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := jsonld.NewLoader(tt.extra)
			if (err == nil) != tt.ok {
				t.Errorf("NewLoader = %v, want ok %v", err, tt.ok)
			}
		})
	}
}

// TestCanonicalizeMatchesJSONLDJS: Canonicalize gives the bytes
// digitalbazaar's jsonld.js computes (testdata/jsonldjs/README.md).
func TestCanonicalizeMatchesJSONLDJS(t *testing.T) {
	want, err := os.ReadFile(filepath.Join("testdata", "jsonldjs", "edge.nq"))
	if err != nil {
		t.Fatal(err)
	}
	got, err := jsonld.Bundled().Canonicalize(readDoc(t, filepath.Join("testdata", "jsonldjs", "edge.json")))
	if err != nil {
		t.Fatalf("Canonicalize error: %v", err)
	}
	if got != string(want) {
		t.Errorf("Canonicalize(edge.json) =\n%s\nwant (jsonld.js)\n%s", got, want)
	}
}

// TestCanonicalizeConcurrent: the processed contexts a Loader caches are
// shared safely, and cached or not the result is the same.
func TestCanonicalizeConcurrent(t *testing.T) {
	l := jsonld.Bundled()
	docs := []map[string]any{
		readDoc(t, filepath.Join("testdata", "jsonldjs", "edge.json")),
		decode(t, `{"@context":["https://www.w3.org/2018/credentials/v1"],"id":"urn:uuid:1","type":["VerifiableCredential"],"issuer":"did:example:1","issuanceDate":"2025-01-01T00:00:00Z","credentialSubject":{"id":"did:example:2"}}`),
		decode(t, `{"@context":"https://www.w3.org/ns/did/v1","id":"did:example:1","assertionMethod":["did:example:1#k"]}`),
	}
	want := make([]string, len(docs))
	for i, d := range docs {
		// A fresh loader: nothing cached.
		out, err := jsonld.Bundled().Canonicalize(d)
		if err != nil {
			t.Fatal(err)
		}
		want[i] = out
	}
	before := make([]string, len(docs))
	for i, d := range docs {
		b, _ := json.Marshal(d)
		before[i] = string(b)
	}
	var wg sync.WaitGroup
	errs := make(chan error, 8*len(docs))
	for range 8 {
		for i, d := range docs {
			wg.Go(func() {
				got, err := l.Canonicalize(d)
				if err != nil || got != want[i] {
					errs <- fmt.Errorf("Canonicalize(doc %d) = %v, differs from the uncached result: %v", i, err, got != want[i])
				}
			})
		}
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	for i, d := range docs {
		b, _ := json.Marshal(d)
		if string(b) != before[i] {
			t.Errorf("Canonicalize modified document %d", i)
		}
	}
}

// TestCanonicalizeHash: the hash changes blank node labels only.
func TestCanonicalizeHash(t *testing.T) {
	doc := readDoc(t, filepath.Join("testdata", "jsonldjs", "edge.json"))
	l := jsonld.Bundled()
	a, err := l.CanonicalizeHash(doc, crypto.SHA256)
	if err != nil {
		t.Fatal(err)
	}
	b, err := l.CanonicalizeHash(doc, crypto.SHA384)
	if err != nil {
		t.Fatal(err)
	}
	if a == b {
		t.Errorf("CanonicalizeHash(SHA-384) = CanonicalizeHash(SHA-256), want other blank node labels")
	}
	strip := func(s string) []string {
		lines := strings.Split(s, "\n")
		for i, line := range lines {
			for _, f := range strings.Fields(line) {
				if strings.HasPrefix(f, "_:c14n") {
					line = strings.ReplaceAll(line, f, "_:")
				}
			}
			lines[i] = line
		}
		return lines
	}
	la, lb := strip(a), strip(b)
	count := func(ls []string) map[string]int {
		m := map[string]int{}
		for _, l := range ls {
			m[l]++
		}
		return m
	}
	if !reflect.DeepEqual(count(la), count(lb)) {
		t.Errorf("CanonicalizeHash(SHA-384) has other statements than with SHA-256")
	}
}
