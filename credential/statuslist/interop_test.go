package statuslist_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/sanad-id/sanad/credential/statuslist"
)

// The files of this test come from testdata/gen.mjs, which runs Digital
// Bazaar's @digitalbazaar/vc-bitstring-status-list: `go test -run Interop
// -update` writes its inputs (go_list.json, go_credential.json), then
// gen.mjs writes digitalbazaar_list.json, go_list_node.json and
// go_credential_node.json.

// goList is the list Go encodes for digitalbazaar to decode.
var goListBits = []int{0, 1, 7, 8, 9, 4095, 65536, 100000, 131070, 131071}

type listFile struct {
	Generator    string         `json:"generator"`
	Length       int            `json:"length"`
	Set          []int          `json:"set"`
	EncodedList  string         `json:"encodedList"`
	CredentialV2 map[string]any `json:"credentialV2"`
	CredentialV1 map[string]any `json:"credentialV1"`
}

func TestInteropDigitalBazaarList(t *testing.T) {
	var f listFile
	readJSON(t, "digitalbazaar_list.json", &f)
	if len(f.Set) < 20 || f.Length != statuslist.DefaultSize {
		t.Fatalf("digitalbazaar_list.json: %d bits set of %d, want a default-size list with bits set", len(f.Set), f.Length)
	}
	b, err := statuslist.DecodeBitstring(f.EncodedList)
	if err != nil {
		t.Fatalf("DecodeBitstring(%s list) = %v", f.Generator, err)
	}
	if got := setBits(t, b); b.Len() != f.Length || !slices.Equal(got, f.Set) {
		t.Errorf("DecodeBitstring(%s list) = %d bits, set %v, want %d, %v", f.Generator, b.Len(), got, f.Length, f.Set)
	}
	tests := []struct {
		name    string
		c       map[string]any
		purpose string
	}{
		{"VCDM 2.0", f.CredentialV2, "revocation"},
		{"VCDM 1.1", f.CredentialV1, "suspension"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l, err := statuslist.ParseListCredential(tt.c)
			if err != nil {
				t.Fatalf("ParseListCredential(%s %s) = %v", f.Generator, tt.name, err)
			}
			if len(l.Purposes) != 1 || l.Purposes[0] != tt.purpose {
				t.Errorf("ParseListCredential(%s %s) purposes = %v, want [%s]", f.Generator, tt.name, l.Purposes, tt.purpose)
			}
			if got := setBits(t, l.Bits); !slices.Equal(got, f.Set) {
				t.Errorf("ParseListCredential(%s %s) set bits = %v, want %v", f.Generator, tt.name, got, f.Set)
			}
			bit, err := l.Check(statuslist.NewEntry(l.ID, tt.purpose, f.Set[3]))
			if err != nil || !bit {
				t.Errorf("Check(entry %d) = %v, %v, want true", f.Set[3], bit, err)
			}
		})
	}
	// Sanad's encoding of the same bits inflates to the same bytes.
	ours := newList(t, f.Set...)
	enc, err := ours.Encode()
	if err != nil {
		t.Fatal(err)
	}
	back, err := statuslist.DecodeBitstring(enc)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(back.Bytes(), b.Bytes()) {
		t.Errorf("Sanad's encoding of %s's bits inflates to other bytes", f.Generator)
	}
}

// goCredential is go_credential.json: a credential whose entries point into
// Go-made list credentials.
type goCredential struct {
	Credential map[string]any            `json:"credential"`
	Lists      map[string]map[string]any `json:"lists"`
}

// goCredentialCase is what go_credential.json holds and what every entry's
// status is.
func goCredentialCase(t *testing.T) (goCredential, []bool) {
	const (
		list1 = "https://sanad.example/status/1"
		list2 = "https://sanad.example/status/2"
	)
	revocation := newList(t, 3, 131071)
	suspension := newList(t, 5)
	c1, err := statuslist.ListCredential(list1, "did:web:sanad.example", "revocation", revocation, t0, t1, true)
	if err != nil {
		t.Fatal(err)
	}
	c2, err := statuslist.ListCredential(list2, "did:web:sanad.example", "suspension", suspension, t0, t1, true)
	if err != nil {
		t.Fatal(err)
	}
	entries := []statuslist.Entry{
		statuslist.NewEntry(list1, "revocation", 3),
		statuslist.NewEntry(list1, "revocation", 4),
		statuslist.NewEntry(list1, "revocation", 131071),
		statuslist.NewEntry(list2, "suspension", 5),
		statuslist.NewEntry(list2, "suspension", 0),
	}
	want := []bool{true, false, true, true, false}
	var status []any
	for _, e := range entries {
		status = append(status, e.Map())
	}
	g := goCredential{
		Credential: map[string]any{
			"@context":          []any{statuslist.ContextV2},
			"type":              []any{"VerifiableCredential"},
			"issuer":            "did:web:sanad.example",
			"validFrom":         "2025-03-01T12:00:00Z",
			"credentialSubject": map[string]any{"id": "did:example:holder"},
			"credentialStatus":  status,
		},
		Lists: map[string]map[string]any{list1: c1, list2: c2},
	}
	return g, want
}

// writeInput writes testdata/name for gen.mjs.
func writeInput(t *testing.T, name string, v any) {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join("testdata", name), append(b, '\n'), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestInteropGoListDecodedByDigitalBazaar(t *testing.T) {
	b := newList(t, goListBits...)
	enc, err := b.Encode()
	if err != nil {
		t.Fatal(err)
	}
	if *update {
		writeInput(t, "go_list.json", map[string]any{"length": b.Len(), "set": goListBits, "encodedList": enc})
	}
	var in listFile
	readJSON(t, "go_list.json", &in)
	if !slices.Equal(in.Set, goListBits) {
		t.Fatalf("go_list.json set = %v, want %v (run with -update, then gen.mjs)", in.Set, goListBits)
	}
	if dec, err := statuslist.DecodeBitstring(in.EncodedList); err != nil || !slices.Equal(dec.Bytes(), b.Bytes()) {
		t.Fatalf("go_list.json encodedList does not decode to today's bits (%v): run with -update, then gen.mjs", err)
	}
	var node listFile
	readJSON(t, "go_list_node.json", &node)
	if node.Length != b.Len() || !slices.Equal(node.Set, goListBits) {
		t.Errorf("%s decodes Go's list as %d bits, set %v, want %d, %v", node.Generator, node.Length, node.Set, b.Len(), goListBits)
	}
}

func TestInteropGoEntriesCheckedByDigitalBazaar(t *testing.T) {
	g, want := goCredentialCase(t)
	if *update {
		writeInput(t, "go_credential.json", g)
	}
	var file goCredential
	readJSON(t, "go_credential.json", &file)
	entries, err := statuslist.ParseEntries(file.Credential["credentialStatus"])
	if err != nil || len(entries) != len(want) {
		t.Fatalf("ParseEntries(go_credential.json) = %d entries, %v, want %d (run with -update, then gen.mjs)", len(entries), err, len(want))
	}
	for i, e := range entries {
		got, err := statuslist.CheckEntry(e, file.Lists[e.StatusListCredential], t0)
		if err != nil || got != want[i] {
			t.Errorf("CheckEntry(%+v) = %v, %v, want %v", e, got, err, want[i])
		}
	}
	var node struct {
		Generator string `json:"generator"`
		Results   []struct {
			ID       string  `json:"id"`
			Verified bool    `json:"verified"`
			Status   *bool   `json:"status"`
			Error    *string `json:"error"`
		} `json:"results"`
	}
	readJSON(t, "go_credential_node.json", &node)
	if len(node.Results) != len(want) {
		t.Fatalf("%s checked %d entries, want %d", node.Generator, len(node.Results), len(want))
	}
	for i, r := range node.Results {
		if r.ID != entries[i].ID || !r.Verified || r.Status == nil || *r.Status != want[i] {
			t.Errorf("%s checkStatus(%s) = verified %v, status %v, error %v, want verified, status %v", node.Generator, entries[i].ID, r.Verified, r.Status, r.Error, want[i])
		}
	}
}
