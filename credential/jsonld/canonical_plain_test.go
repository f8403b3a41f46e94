package jsonld

import (
	"encoding/json"
	"errors"
	"testing"
)

// TestCanonicalizeGoValues: documents built in Go code (ints, []string,
// json.Number) canonicalize like their JSON decoding, and values JSON
// cannot carry exactly are refused with ErrInvalid instead of a panic.
func TestCanonicalizeGoValues(t *testing.T) {
	l := Bundled()
	decoded := func(s string) map[string]any {
		var m map[string]any
		if err := json.Unmarshal([]byte(s), &m); err != nil {
			t.Fatal(err)
		}
		return m
	}
	want, err := l.Canonicalize(decoded(`{"@context":["https://www.w3.org/ns/credentials/v2",{"ttl":"https://example.org/ns#ttl"}],"id":"urn:x","type":["VerifiableCredential"],"name":"n","credentialSubject":{"id":"did:example:1","ttl":300000}}`))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		ttl     any
		types   any
		wantErr error
	}{
		{"float64 and []any", float64(300000), []any{"VerifiableCredential"}, nil},
		{"int", 300000, []string{"VerifiableCredential"}, nil},
		{"int64", int64(300000), []string{"VerifiableCredential"}, nil},
		{"json.Number", json.Number("300000"), []any{"VerifiableCredential"}, nil},
		{"int64 beyond 2^53", int64(1) << 60, []any{"VerifiableCredential"}, ErrInvalid},
		{"struct", struct{}{}, []any{"VerifiableCredential"}, ErrInvalid},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			doc := map[string]any{
				"@context": []any{"https://www.w3.org/ns/credentials/v2", map[string]any{"ttl": "https://example.org/ns#ttl"}}, "id": "urn:x", "type": tc.types, "name": "n",
				"credentialSubject": map[string]any{"id": "did:example:1", "ttl": tc.ttl},
			}
			got, err := l.Canonicalize(doc)
			if tc.wantErr != nil {
				if !errors.Is(err, tc.wantErr) {
					t.Fatalf("Canonicalize(%s) = %v, want %v", tc.name, err, tc.wantErr)
				}
				return
			}
			if err != nil || got != want {
				t.Fatalf("Canonicalize(%s) = %q, %v, want %q", tc.name, got, err, want)
			}
		})
	}
}
