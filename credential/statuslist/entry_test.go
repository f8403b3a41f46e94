package statuslist_test

import (
	"encoding/json"
	"errors"
	"reflect"
	"testing"

	"github.com/sanad-id/sanad/credential/statuslist"
)

const listURL = "https://issuer.example/status/1"

func TestEntryMapGolden(t *testing.T) {
	golden(t, "entry.golden.json", []map[string]any{
		statuslist.NewEntry(listURL, statuslist.PurposeRevocation, 94567).Map(),
		statuslist.NewEntry(listURL, statuslist.PurposeSuspension, 0).Map(),
		statuslist.Entry{StatusPurpose: "message", StatusListIndex: 7, StatusListCredential: listURL, StatusSize: 2}.Map(),
		statuslist.Entry{Type: statuslist.TypeEntry2021, StatusPurpose: "revocation", StatusListIndex: 3, StatusListCredential: listURL}.Map(),
	})
}

func TestNewEntry(t *testing.T) {
	got := statuslist.NewEntry(listURL, statuslist.PurposeRevocation, 42)
	want := statuslist.Entry{ID: listURL + "#42", StatusPurpose: "revocation", StatusListIndex: 42, StatusListCredential: listURL}
	if got != want {
		t.Errorf("NewEntry(%q, revocation, 42) = %+v, want %+v", listURL, got, want)
	}
}

// entryJSON is a valid entry with changes: a nil value deletes the member.
func entryJSON(changes map[string]any) map[string]any {
	m := map[string]any{
		"id":                   listURL + "#5",
		"type":                 "BitstringStatusListEntry",
		"statusPurpose":        "revocation",
		"statusListIndex":      "5",
		"statusListCredential": listURL,
	}
	for k, v := range changes {
		if v == nil {
			delete(m, k)
		} else {
			m[k] = v
		}
	}
	return m
}

func TestParseEntries(t *testing.T) {
	e5 := statuslist.Entry{ID: listURL + "#5", Type: statuslist.TypeEntry, StatusPurpose: "revocation", StatusListIndex: 5, StatusListCredential: listURL}
	susp := e5
	susp.StatusPurpose = "suspension"
	noID := e5
	noID.ID = ""
	legacy := e5
	legacy.Type = statuslist.TypeEntry2021
	custom := e5
	custom.StatusPurpose = "x-custom"
	sized := e5
	sized.StatusSize = 2
	zero := e5
	zero.StatusListIndex = 0
	big := e5
	big.StatusListIndex = 134217727
	didList := e5
	didList.StatusListCredential = "did:web:issuer.example:status:1"
	tests := []struct {
		name string
		in   any
		want []statuslist.Entry
	}{
		{"absent", nil, nil},
		{"object", entryJSON(nil), []statuslist.Entry{e5}},
		{"array", []any{entryJSON(nil), entryJSON(map[string]any{"statusPurpose": "suspension"})}, []statuslist.Entry{e5, susp}},
		{"typed array", []map[string]any{entryJSON(nil)}, []statuslist.Entry{e5}},
		{"empty array", []any{}, nil},
		{"other types skipped", []any{map[string]any{"type": "CredentialStatusList2017", "id": "x"}, entryJSON(nil)}, []statuslist.Entry{e5}},
		{"type array", entryJSON(map[string]any{"type": []any{"BitstringStatusListEntry"}}), []statuslist.Entry{e5}},
		{"no id", entryJSON(map[string]any{"id": nil}), []statuslist.Entry{noID}},
		{"StatusList2021Entry", entryJSON(map[string]any{"type": "StatusList2021Entry"}), []statuslist.Entry{legacy}},
		{"unknown purpose kept", entryJSON(map[string]any{"statusPurpose": "x-custom"}), []statuslist.Entry{custom}},
		{"statusSize", entryJSON(map[string]any{"statusSize": 2.0}), []statuslist.Entry{sized}},
		{"statusSize json.Number", entryJSON(map[string]any{"statusSize": json.Number("2")}), []statuslist.Entry{sized}},
		{"index zero", entryJSON(map[string]any{"statusListIndex": "0"}), []statuslist.Entry{zero}},
		{"large index", entryJSON(map[string]any{"statusListIndex": "134217727"}), []statuslist.Entry{big}},
		{"DID URL list", entryJSON(map[string]any{"statusListCredential": "did:web:issuer.example:status:1"}), []statuslist.Entry{didList}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := statuslist.ParseEntries(tt.in)
			if err != nil {
				t.Fatalf("ParseEntries(%v) = %v", tt.in, err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("ParseEntries(%v) = %+v, want %+v", tt.in, got, tt.want)
			}
		})
	}
}

func TestParseEntriesMalformed(t *testing.T) {
	many := make([]any, 65)
	for i := range many {
		many[i] = entryJSON(nil)
	}
	tests := []struct {
		name string
		in   any
	}{
		{"string", "https://issuer.example/status/1#5"},
		{"number", 5.0},
		{"array member not an object", []any{entryJSON(nil), "x"}},
		{"no type", entryJSON(map[string]any{"type": nil})},
		{"type number", entryJSON(map[string]any{"type": 1.0})},
		{"type array with a number", entryJSON(map[string]any{"type": []any{"BitstringStatusListEntry", 1.0}})},
		{"index is a JSON number", entryJSON(map[string]any{"statusListIndex": 5.0})},
		{"index missing", entryJSON(map[string]any{"statusListIndex": nil})},
		{"index empty", entryJSON(map[string]any{"statusListIndex": ""})},
		{"index negative", entryJSON(map[string]any{"statusListIndex": "-1"})},
		{"index plus sign", entryJSON(map[string]any{"statusListIndex": "+1"})},
		{"index leading zero", entryJSON(map[string]any{"statusListIndex": "05"})},
		{"index hexadecimal", entryJSON(map[string]any{"statusListIndex": "0x5"})},
		{"index with space", entryJSON(map[string]any{"statusListIndex": " 5"})},
		{"index fraction", entryJSON(map[string]any{"statusListIndex": "5.0"})},
		{"index exponent", entryJSON(map[string]any{"statusListIndex": "5e3"})},
		{"index too large", entryJSON(map[string]any{"statusListIndex": "99999999999999999999"})},
		{"index Unicode digit", entryJSON(map[string]any{"statusListIndex": "٥"})},
		{"no purpose", entryJSON(map[string]any{"statusPurpose": nil})},
		{"empty purpose", entryJSON(map[string]any{"statusPurpose": ""})},
		{"purpose array", entryJSON(map[string]any{"statusPurpose": []any{"revocation"}})},
		{"no list URL", entryJSON(map[string]any{"statusListCredential": nil})},
		{"empty list URL", entryJSON(map[string]any{"statusListCredential": ""})},
		{"relative list URL", entryJSON(map[string]any{"statusListCredential": "/status/1"})},
		{"list URL not a string", entryJSON(map[string]any{"statusListCredential": map[string]any{"id": listURL}})},
		{"id not a string", entryJSON(map[string]any{"id": 5.0})},
		{"id empty", entryJSON(map[string]any{"id": ""})},
		{"id is the list URL", entryJSON(map[string]any{"id": listURL})},
		{"statusSize zero", entryJSON(map[string]any{"statusSize": 0.0})},
		{"statusSize fraction", entryJSON(map[string]any{"statusSize": 1.5})},
		{"statusSize string", entryJSON(map[string]any{"statusSize": "1"})},
		{"statusSize too large", entryJSON(map[string]any{"statusSize": 9.0})},
		{"legacy entry malformed too", entryJSON(map[string]any{"type": "StatusList2021Entry", "statusListIndex": 5.0})},
		{"too many members", many},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := statuslist.ParseEntries(tt.in)
			if !errors.Is(err, statuslist.ErrMalformed) {
				t.Errorf("ParseEntries(%v) = %+v, %v, want ErrMalformed", tt.in, got, err)
			}
		})
	}
}

func TestEntryRoundTrip(t *testing.T) {
	tests := []struct {
		name string
		in   statuslist.Entry
	}{
		{"new entry", statuslist.NewEntry(listURL, statuslist.PurposeRevocation, 131071)},
		{"no id", statuslist.Entry{Type: statuslist.TypeEntry, StatusPurpose: "suspension", StatusListIndex: 9, StatusListCredential: listURL}},
		{"legacy", statuslist.Entry{Type: statuslist.TypeEntry2021, StatusPurpose: "revocation", StatusListIndex: 1, StatusListCredential: listURL}},
		{"status size", statuslist.Entry{Type: statuslist.TypeEntry, StatusPurpose: "message", StatusListIndex: 1, StatusListCredential: listURL, StatusSize: 2}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := statuslist.ParseEntries(roundTrip(t, tt.in.Map()))
			if err != nil {
				t.Fatalf("ParseEntries(%+v.Map()) = %v", tt.in, err)
			}
			want := tt.in
			want.Type = statuslist.TypeEntry
			if tt.in.Type != "" {
				want.Type = tt.in.Type
			}
			if len(got) != 1 || got[0] != want {
				t.Errorf("ParseEntries(%+v.Map()) = %+v, want [%+v]", tt.in, got, want)
			}
		})
	}
}

func TestEntryKnownPurpose(t *testing.T) {
	tests := []struct {
		purpose string
		want    bool
	}{
		{"revocation", true},
		{"suspension", true},
		{"refresh", true},
		{"message", true},
		{"Revocation", false},
		{"x-custom", false},
		{"", false},
	}
	for _, tt := range tests {
		t.Run(tt.purpose, func(t *testing.T) {
			if got := (statuslist.Entry{StatusPurpose: tt.purpose}).KnownPurpose(); got != tt.want {
				t.Errorf("Entry{StatusPurpose: %q}.KnownPurpose() = %v, want %v", tt.purpose, got, tt.want)
			}
		})
	}
}
