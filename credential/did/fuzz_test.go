package did

import (
	"github.com/sanad-id/sanad/credential/multibase"

	"context"
	"crypto"
	"encoding/json"
	"errors"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/lestrrat-go/jwx/v3/jwk"
)

// FuzzResolve feeds arbitrary DID URLs to the offline resolver: it must
// never panic, every error must be one of the package's, and a key that
// comes out must be public and give back a DID that resolves to it.
func FuzzResolve(f *testing.F) {
	for _, v := range ed25519Vectors {
		f.Add(v.did)
		f.Add(v.did + "#" + strings.TrimPrefix(v.did, "did:key:"))
	}
	for _, v := range nistVectors {
		f.Add(v.did)
	}
	f.Add(specJWKP256)
	f.Add(specJWKP256 + "#0")
	f.Add(specJWKX25519)
	f.Add(jwkDID(`{"kty":"EC","crv":"P-256","x":"AA","y":"AA","d":"AA"}`))
	f.Add(jwkDID(`{"kty":"oct","k":"AA"}`))
	f.Add("did:key:z")
	f.Add("did:key:z1111")
	f.Add("did:web:example.com#key-1")
	f.Add("did:jwk:e30")
	f.Add("did:key:zQ3shokFTS3brHcDQrn82RUDfCZESWL1ZdCEJwekUDPQiYBme")
	r := NewOfflineResolver()
	f.Fuzz(func(t *testing.T, in string) {
		k, err := r.Resolve(context.Background(), in)
		if err != nil {
			if !errors.Is(err, ErrInvalid) && !errors.Is(err, ErrUnsupportedMethod) && !errors.Is(err, ErrUnsupportedKey) &&
				!errors.Is(err, ErrPrivateKey) && !errors.Is(err, ErrNotFound) {
				t.Fatalf("Resolve(%q) = %v, not one of the package's errors", in, err)
			}
			return
		}
		if private, err := jwk.IsPrivateKey(k); err != nil || private {
			t.Fatalf("Resolve(%q) returned a private key", in)
		}
		var did string
		if strings.HasPrefix(in, "did:key:") {
			did, err = KeyDID(k)
		} else {
			did, err = JWKDID(k)
		}
		if err != nil {
			t.Fatalf("DID of Resolve(%q) = %v", in, err)
		}
		k2, err := r.Resolve(context.Background(), did)
		if err != nil {
			t.Fatalf("Resolve(%q) (DID of Resolve(%q)) = %v", did, in, err)
		}
		t1, _ := k.Thumbprint(crypto.SHA256)
		t2, _ := k2.Thumbprint(crypto.SHA256)
		if string(t1) != string(t2) {
			t.Fatalf("Resolve(%q) and Resolve(%q) give different keys", in, did)
		}
	})
}

// FuzzBase58 checks that decoding never panics and that encode(decode(s))
// gives s back.
func FuzzBase58(f *testing.F) {
	for _, s := range []string{"1", "2NEpo7TZRRrLZSi2U", "11233QC4", "z", "0", strings.Repeat("z", 100)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if len(s) > 256 {
			return
		}
		b, err := multibase.Base58Decode(s)
		if err != nil {
			return
		}
		if got := multibase.Base58Encode(b); got != s {
			t.Fatalf("multibase.Base58Encode(multibase.Base58Decode(%q)) = %q", s, got)
		}
	})
}

// isPackageError reports whether err is one of the package's errors.
func isPackageError(err error) bool {
	for _, target := range []error{ErrInvalid, ErrUnsupportedMethod, ErrUnsupportedKey, ErrPrivateKey, ErrNotFound, ErrInvalidDocument} {
		if errors.Is(err, target) {
			return true
		}
	}
	return false
}

// FuzzParseDocument feeds arbitrary bytes to ParseDocument: it must never
// panic, refuse with the package's errors only, hand out public keys of
// the document's own methods, and read back what it writes.
func FuzzParseDocument(f *testing.F) {
	golden, err := os.ReadFile(filepath.Join("testdata", "document.golden.json"))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(golden)
	f.Add([]byte(thirdPartyDocument))
	f.Add(minimalDocument(f, nil))
	f.Add(minimalDocument(f, func(m map[string]any) { m["authentication"] = []any{method0(m)} }))
	f.Add(minimalDocument(f, func(m map[string]any) { method0(m)["secretKeyMultibase"] = "z1" }))
	f.Add(minimalDocument(f, func(m map[string]any) {
		method0(m)["type"] = TypeJsonWebKey2020
		delete(method0(m), "publicKeyMultibase")
		method0(m)["publicKeyJwk"] = map[string]any{"kty": "OKP", "crv": "Ed25519", "x": "O2onvM62pC1io6jQKm8Nc2UyFXcd4kOmOsBIoYtZ2ik"}
	}))
	f.Add([]byte(`{"id":"did:web:a.example","id":"did:web:b.example"}`))
	f.Add([]byte(`{"id":"did:web:a.example","verificationMethod":[{"id":"#k","type":"Multikey","controller":"did:web:a.example","publicKeyMultibase":"z6MkiTBz1ymuepAQ4HEHYSF1H8quG5GLVVQR3djdX3mDooWp"}],"assertionMethod":["#k",{"id":"#e"}]}`))
	f.Add([]byte(`{"@context":[1],"id":"did:web:a.example"}`))
	f.Add([]byte(`[{"id":"did:web:a.example"}]`))
	f.Add([]byte(`{"id":"did:web:a.example","controller":["did:web:b.example"],"keyAgreement":["did:web:b.example#x"]}`))
	f.Add([]byte(`{`))
	f.Add([]byte(``))
	f.Fuzz(func(t *testing.T, b []byte) {
		d, err := ParseDocument(b)
		if err != nil {
			if !isPackageError(err) {
				t.Fatalf("ParseDocument = %v, not one of the package's errors", err)
			}
			return
		}
		ids := map[string]VerificationMethod{}
		check := func(e MethodEntry) {
			vm, err := d.VerificationMethod(e.ID)
			if err != nil {
				if !isPackageError(err) {
					t.Fatalf("VerificationMethod(%q) = %v, not one of the package's errors", e.ID, err)
				}
				return
			}
			if !strings.HasPrefix(vm.ID, d.ID+"#") || vm.Type != e.Type || vm.Controller != e.Controller {
				t.Fatalf("VerificationMethod(%q) = %+v in document %s", e.ID, vm, d.ID)
			}
			if private, err := jwk.IsPrivateKey(vm.Key); err != nil || private {
				t.Fatalf("VerificationMethod(%q) gives a private key", e.ID)
			}
			for _, r := range vm.Relationships {
				if !slices.Contains(relationships, r) {
					t.Fatalf("VerificationMethod(%q) relationship %q", e.ID, r)
				}
			}
			ids[vm.ID] = vm
		}
		for _, e := range d.Methods {
			check(e)
		}
		for _, rel := range relationships {
			for _, ref := range *d.relationship(rel) {
				if ref.Method != nil {
					check(*ref.Method)
				}
			}
		}
		out, err := json.Marshal(d)
		if err != nil {
			t.Fatalf("json.Marshal(ParseDocument) = %v", err)
		}
		if len(out) > MaxDocumentSize {
			return // escaping may grow a document near the limit
		}
		again, err := ParseDocument(out)
		if err != nil {
			t.Fatalf("ParseDocument(json.Marshal(ParseDocument)) = %v\n%s", err, out)
		}
		for id, vm := range ids {
			vm2, err := again.VerificationMethod(id)
			if err != nil || vm2.Type != vm.Type || !slices.Equal(vm2.Relationships, vm.Relationships) || !jwk.Equal(vm2.Key, vm.Key) {
				t.Fatalf("re-read VerificationMethod(%q) = %+v, %v, want %+v", id, vm2, err, vm)
			}
		}
	})
}

// FuzzWebDocumentURL checks that a did:web maps to an HTTPS URL of its
// own host whose path cannot climb out of the DID's directory, and that
// WebDID and WebDocumentURL agree; the input is also tried as a URL for
// WebDID.
func FuzzWebDocumentURL(f *testing.F) {
	for _, s := range []string{
		"did:web:w3c-ccg.github.io", "did:web:w3c-ccg.github.io:user:alice", "did:web:example.com%3A3000:user:alice",
		"did:web:example.com:a%20b", "did:web:example.com:..:etc", "did:web:example.com:a%2F..", "did:web:example.com%2Fx",
		"did:web:example.com%3A443", "did:web:EXAMPLE.com:a%7E", "did:web:example.com::a", "did:web:1.2.3.4%3A1",
		"https://id.example:8443/a/b", "http://localhost:8080", "https://[::1]/", "https://id.example/a%2Fb",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if d := WebDID(s); d != "" {
			if _, err := WebDocumentURL(d); err != nil {
				t.Fatalf("WebDocumentURL(WebDID(%q) = %q) = %v", s, d, err)
			}
		}
		target, err := WebDocumentURL(s)
		if err != nil {
			if !isPackageError(err) {
				t.Fatalf("WebDocumentURL(%q) = %v, not one of the package's errors", s, err)
			}
			return
		}
		u, err := url.Parse(target)
		if err != nil || u.Scheme != "https" || u.Host == "" || u.User != nil || u.RawQuery != "" || u.Fragment != "" {
			t.Fatalf("WebDocumentURL(%q) = %q, not an https URL of a host", s, target)
		}
		host, _ := url.PathUnescape(strings.Split(strings.TrimPrefix(s, "did:web:"), ":")[0])
		if u.Host != host {
			t.Fatalf("WebDocumentURL(%q) = %q, host %q, want %q", s, target, u.Host, host)
		}
		if !strings.HasSuffix(u.Path, "/did.json") || strings.Contains(u.Path, "//") {
			t.Fatalf("WebDocumentURL(%q) = %q", s, target)
		}
		for _, seg := range strings.Split(u.Path, "/") {
			if seg == "." || seg == ".." {
				t.Fatalf("WebDocumentURL(%q) = %q has a dot segment", s, target)
			}
		}
		// Back to a base URL, to a DID, to a document URL: a fixed point
		// with the same path.
		base := webBase(u)
		d := WebDID(base)
		if d == "" {
			t.Fatalf("WebDID(%q) (from WebDocumentURL(%q)) = \"\"", base, s)
		}
		target2, err := WebDocumentURL(d)
		if err != nil {
			t.Fatalf("WebDocumentURL(WebDID(%q)) = %v", base, err)
		}
		u2, _ := url.Parse(target2)
		if u2.Path != u.Path {
			t.Fatalf("WebDocumentURL(WebDID(%q)) = %q, path differs from %q", base, target2, target)
		}
		if d2 := WebDID(webBase(u2)); d2 != d {
			t.Fatalf("WebDID is not stable: %q then %q", d, d2)
		}
	})
}

// webBase is the URL whose did:web has its document at u.
func webBase(u *url.URL) string {
	if u.Path == "/.well-known/did.json" {
		return u.Scheme + "://" + u.Host
	}
	return u.Scheme + "://" + u.Host + strings.TrimSuffix(u.EscapedPath(), "/did.json")
}
