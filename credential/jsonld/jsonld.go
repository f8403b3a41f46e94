// Package jsonld turns JSON-LD documents (ldp_vc credentials, status list
// credentials, DID documents) into canonical RDF (RDFC-1.0, formerly
// URDNA2015) for Data Integrity proofs, without ever touching the network.
//
// Every context a document may use is bundled: the W3C and security
// contexts Sanad needs are embedded in the binary (see contexts/README.md),
// and an issuer or verifier registers its templates' own contexts at start
// (NewLoader). A context URL that is not registered is refused with
// ErrUnknownContext; it is never fetched. Context loading, not signing, is
// what makes naive ldp_vc slow, so a Loader parses each context once.
//
// Canonicalization runs in safe mode: a term that no context defines, or a
// value that would be silently dropped, is an error (ErrUndefinedTerm), so a
// tampered credential cannot smuggle claims that the signature does not
// cover.
package jsonld

import (
	"bytes"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/piprate/json-gold/ld"
)

// Context URLs of the bundled contexts.
const (
	CredentialsV1      = "https://www.w3.org/2018/credentials/v1"
	CredentialsV2      = "https://www.w3.org/ns/credentials/v2"
	DataIntegrityV1    = "https://w3id.org/security/data-integrity/v1"
	DataIntegrityV2    = "https://w3id.org/security/data-integrity/v2"
	Ed25519Suite2020V1 = "https://w3id.org/security/suites/ed25519-2020/v1"
	MultikeyV1         = "https://w3id.org/security/multikey/v1"
	StatusListV1       = "https://www.w3.org/ns/credentials/status/v1"
	DIDV1              = "https://www.w3.org/ns/did/v1"
)

//go:embed contexts/*.jsonld
var bundledFS embed.FS

var bundledFiles = map[string]string{
	CredentialsV1:      "contexts/credentials-v1.jsonld",
	CredentialsV2:      "contexts/credentials-v2.jsonld",
	DataIntegrityV1:    "contexts/data-integrity-v1.jsonld",
	DataIntegrityV2:    "contexts/data-integrity-v2.jsonld",
	Ed25519Suite2020V1: "contexts/ed25519-signature-2020-v1.jsonld",
	MultikeyV1:         "contexts/multikey-v1.jsonld",
	StatusListV1:       "contexts/vc-bitstring-status-list-v1.jsonld",
	DIDV1:              "contexts/did-v1.jsonld",
}

// Errors. Match them with errors.Is; the wrapped message says which
// context, term or value.
var (
	// ErrUnknownContext: the document names a context URL that is not
	// bundled or registered. It is never fetched.
	ErrUnknownContext = errors.New("jsonld: unknown context")
	// ErrInvalid: the document or a context is not valid JSON-LD.
	ErrInvalid = errors.New("jsonld: invalid document")
	// ErrUndefinedTerm: a property or type is not defined by any context
	// in scope (safe mode), so it would not be covered by a proof.
	ErrUndefinedTerm = errors.New("jsonld: undefined term")
)

// MaxContextSize bounds a registered context document.
const MaxContextSize = 256 << 10

// Loader is an offline ld.DocumentLoader over the bundled contexts and
// those registered with it. It is safe for concurrent use.
type Loader struct {
	docs map[string]*ld.RemoteDocument
	raw  map[string][]byte
	// cache holds processed contexts (canonical.go).
	cache contextCache
}

var _ ld.DocumentLoader = (*Loader)(nil)

// NewLoader returns a Loader with the bundled contexts and extra, a map
// from context URL to the context document's JSON. A URL of extra that is
// also bundled must carry the same document.
func NewLoader(extra map[string][]byte) (*Loader, error) {
	l := &Loader{docs: map[string]*ld.RemoteDocument{}, raw: map[string][]byte{}}
	for u, name := range bundledFiles {
		b, err := bundledFS.ReadFile(name)
		if err != nil {
			return nil, fmt.Errorf("jsonld: bundled context %s: %w", u, err)
		}
		if err := l.add(u, b); err != nil {
			return nil, err
		}
	}
	urls := make([]string, 0, len(extra))
	for u := range extra {
		urls = append(urls, u)
	}
	sort.Strings(urls)
	var errs []error
	for _, u := range urls {
		b := extra[u]
		if old, ok := l.raw[u]; ok {
			if !bytes.Equal(bytes.TrimSpace(old), bytes.TrimSpace(b)) {
				errs = append(errs, fmt.Errorf("jsonld: context %s is bundled with other content", u))
			}
			continue
		}
		if err := l.add(u, b); err != nil {
			errs = append(errs, err)
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return l, nil
}

// Bundled returns a Loader with the bundled contexts only.
func Bundled() *Loader {
	l, err := NewLoader(nil)
	if err != nil {
		panic(err) // the embedded files are part of the build
	}
	return l
}

func (l *Loader) add(u string, b []byte) error {
	if !strings.HasPrefix(u, "https://") && !strings.HasPrefix(u, "http://") && !strings.HasPrefix(u, "urn:") {
		return fmt.Errorf("%w: context URL %q is not absolute", ErrInvalid, u)
	}
	if len(b) > MaxContextSize {
		return fmt.Errorf("%w: context %s is larger than %d bytes", ErrInvalid, u, MaxContextSize)
	}
	var doc map[string]any
	if err := json.Unmarshal(b, &doc); err != nil {
		return fmt.Errorf("%w: context %s: %v", ErrInvalid, u, err)
	}
	if _, ok := doc["@context"]; !ok {
		return fmt.Errorf("%w: context %s has no @context member", ErrInvalid, u)
	}
	l.docs[u] = &ld.RemoteDocument{DocumentURL: u, Document: doc}
	l.raw[u] = b
	return nil
}

// LoadDocument implements ld.DocumentLoader: a registered context, or
// ErrUnknownContext.
func (l *Loader) LoadDocument(u string) (*ld.RemoteDocument, error) {
	if d, ok := l.docs[u]; ok {
		return d, nil
	}
	return nil, ld.NewJsonLdError(ld.LoadingDocumentFailed, fmt.Errorf("%w: %q", ErrUnknownContext, u))
}

// Context returns the JSON of a registered context, for serving it.
func (l *Loader) Context(u string) ([]byte, bool) {
	b, ok := l.raw[u]
	return b, ok
}

// URLs lists the registered context URLs, sorted.
func (l *Loader) URLs() []string {
	us := make([]string, 0, len(l.docs))
	for u := range l.docs {
		us = append(us, u)
	}
	sort.Strings(us)
	return us
}
