package did

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"sort"
)

// MaxTrustListFile bounds one trust list file (a JSON array may hold many
// documents; each is still at most MaxDocumentSize).
const MaxTrustListFile = 16 << 20

// TrustList is a set of pinned DID documents, keyed by their id, that the
// operator loads from files: resolution uses them first and without any
// network call (WebConfig.Trust). It is immutable and safe for concurrent
// use; a nil *TrustList is empty.
type TrustList struct {
	docs map[string]*resolvedDoc
}

var _ MethodResolver = (*TrustList)(nil)

// NewTrustList returns a trust list of docs, checked as ParseDocument
// checks a document read. Two documents with one id are an error.
func NewTrustList(docs ...*Document) (*TrustList, error) {
	t := &TrustList{docs: make(map[string]*resolvedDoc, len(docs))}
	for _, d := range docs {
		r, err := d.resolve()
		if err != nil {
			return nil, err
		}
		if err := t.add(r, ""); err != nil {
			return nil, err
		}
	}
	return t, nil
}

// ParseTrustList reads a trust list: one DID document, or a JSON array of
// DID documents.
func ParseTrustList(b []byte) (*TrustList, error) {
	t := &TrustList{docs: map[string]*resolvedDoc{}}
	if err := t.parse(b, "trust list"); err != nil {
		return nil, err
	}
	return t, nil
}

// LoadTrustList reads the trust list files at paths (each one document or
// an array of documents, at most MaxTrustListFile bytes). A DID pinned by
// two files is an error.
func LoadTrustList(paths ...string) (*TrustList, error) {
	t := &TrustList{docs: map[string]*resolvedDoc{}}
	for _, p := range paths {
		b, err := readFileLimited(p, MaxTrustListFile)
		if err != nil {
			return nil, fmt.Errorf("did: trust list %s: %w", p, err)
		}
		if err := t.parse(b, p); err != nil {
			return nil, err
		}
	}
	return t, nil
}

func readFileLimited(path string, limit int64) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(b)) > limit {
		return nil, fmt.Errorf("%w: larger than %d bytes", ErrInvalidDocument, limit)
	}
	return b, nil
}

func (t *TrustList) parse(b []byte, source string) error {
	docs := []json.RawMessage{b}
	if firstByte(b) == '[' {
		if err := json.Unmarshal(b, &docs); err != nil {
			return fmt.Errorf("%w: %s: %v", ErrInvalidDocument, source, err)
		}
		if len(docs) == 0 {
			return fmt.Errorf("%w: %s holds no DID document", ErrInvalidDocument, source)
		}
	}
	for i, raw := range docs {
		r, err := parseResolved(bytes.TrimSpace(raw))
		if err != nil {
			return fmt.Errorf("%s: document %d: %w", source, i, err)
		}
		if err := t.add(r, source); err != nil {
			return err
		}
	}
	return nil
}

func (t *TrustList) add(r *resolvedDoc, source string) error {
	if _, dup := t.docs[r.id]; dup {
		if source != "" {
			source += ": "
		}
		return fmt.Errorf("%w: %s%s is pinned twice", ErrInvalidDocument, source, r.id)
	}
	t.docs[r.id] = r
	return nil
}

func (t *TrustList) lookup(did string) (*resolvedDoc, bool) {
	if t == nil {
		return nil, false
	}
	r, ok := t.docs[did]
	return r, ok
}

// DIDs lists the pinned DIDs, sorted.
func (t *TrustList) DIDs() []string {
	if t == nil {
		return nil
	}
	ids := make([]string, 0, len(t.docs))
	for id := range t.docs {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	return ids
}

// VerificationMethod implements MethodResolver for the pinned documents,
// whatever their DID method: ErrNotFound for a DID that is not pinned.
func (t *TrustList) VerificationMethod(_ context.Context, didURL string) (VerificationMethod, error) {
	u, err := Parse(didURL)
	if err != nil {
		return VerificationMethod{}, err
	}
	r, ok := t.lookup(u.DID())
	if !ok {
		return VerificationMethod{}, fmt.Errorf("%w: %s is not in the trust list", ErrNotFound, u.DID())
	}
	if u.Fragment == "" {
		return VerificationMethod{}, fmt.Errorf("%w: a verification method is a DID URL with a fragment", ErrNotFound)
	}
	return r.lookup(u.String())
}
