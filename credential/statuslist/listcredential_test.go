package statuslist_test

import (
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/sanad-id/sanad/credential"
	"github.com/sanad-id/sanad/credential/statuslist"
)

var (
	t0 = time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	t1 = t0.Add(24 * time.Hour)
)

const issuerDID = "did:web:issuer.example"

// newList returns a DefaultSize bitstring with bits set.
func newList(t testing.TB, set ...int) *statuslist.Bitstring {
	t.Helper()
	b := statuslist.NewBitstring(statuslist.DefaultSize)
	for _, i := range set {
		if err := b.Set(i, true); err != nil {
			t.Fatal(err)
		}
	}
	return b
}

// listCredential returns ListCredential's output after a JSON round trip.
func listCredential(t testing.TB, purpose string, v2 bool, set ...int) map[string]any {
	t.Helper()
	c, err := statuslist.ListCredential(listURL, issuerDID, purpose, newList(t, set...), t0, t1, v2)
	if err != nil {
		t.Fatal(err)
	}
	return roundTrip(t, c).(map[string]any)
}

func TestListCredentialGolden(t *testing.T) {
	tests := []struct {
		name       string
		file       string
		from, till time.Time
		v2         bool
	}{
		{"VCDM 2.0", "list_credential_v2.golden.json", t0, t1, true},
		{"VCDM 2.0 without dates", "list_credential_v2_nodates.golden.json", time.Time{}, time.Time{}, true},
		{"VCDM 1.1", "list_credential_v1.golden.json", t0, t1, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := statuslist.ListCredential(listURL, issuerDID, statuslist.PurposeRevocation, newList(t, 3, 131071), tt.from, tt.till, tt.v2)
			if err != nil {
				t.Fatalf("ListCredential(%s) = %v", tt.name, err)
			}
			golden(t, tt.file, c)
		})
	}
}

func TestListCredentialErrors(t *testing.T) {
	list := newList(t)
	tests := []struct {
		name       string
		id, issuer string
		purpose    string
		list       *statuslist.Bitstring
		from, till time.Time
		v2         bool
		wantErr    error
	}{
		{name: "relative id", id: "/status/1", issuer: issuerDID, purpose: "revocation", list: list, v2: true},
		{name: "no issuer", id: listURL, purpose: "revocation", list: list, v2: true},
		{name: "no purpose", id: listURL, issuer: issuerDID, list: list, v2: true},
		{name: "no list", id: listURL, issuer: issuerDID, purpose: "revocation", v2: true},
		{name: "short list", id: listURL, issuer: issuerDID, purpose: "revocation", list: statuslist.NewBitstring(1024), v2: true, wantErr: statuslist.ErrListLength},
		{name: "1.1 without issuanceDate", id: listURL, issuer: issuerDID, purpose: "revocation", list: list},
		{name: "until before from", id: listURL, issuer: issuerDID, purpose: "revocation", list: list, from: t1, till: t0, v2: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := statuslist.ListCredential(tt.id, tt.issuer, tt.purpose, tt.list, tt.from, tt.till, tt.v2)
			if err == nil || (tt.wantErr != nil && !errors.Is(err, tt.wantErr)) {
				t.Errorf("ListCredential(%s) = %v, %v, want an error (%v)", tt.name, c, err, tt.wantErr)
			}
		})
	}
}

func TestParseListCredential(t *testing.T) {
	tests := []struct {
		name string
		v2   bool
	}{{"VCDM 2.0", true}, {"VCDM 1.1", false}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := listCredential(t, statuslist.PurposeSuspension, tt.v2, 3, 131071)
			l, err := statuslist.ParseListCredential(c)
			if err != nil {
				t.Fatalf("ParseListCredential(%s) = %v", tt.name, err)
			}
			if l.ID != listURL || l.Issuer != issuerDID || l.Type != statuslist.TypeListCredential ||
				!slices.Equal(l.Purposes, []string{"suspension"}) || !l.ValidFrom.Equal(t0) || !l.ValidUntil.Equal(t1) || l.TTL != 0 {
				t.Errorf("ParseListCredential(%s) = %+v, want id %s, issuer %s, purposes [suspension], valid %s to %s", tt.name, l, listURL, issuerDID, t0, t1)
			}
			if got := setBits(t, l.Bits); !slices.Equal(got, []int{3, 131071}) {
				t.Errorf("ParseListCredential(%s) set bits = %v, want [3 131071]", tt.name, got)
			}
			purpose, list, err := statuslist.ReadListCredential(c)
			if err != nil || purpose != "suspension" || list.Len() != statuslist.DefaultSize {
				t.Errorf("ReadListCredential(%s) = %q, %v, %v, want suspension and the list", tt.name, purpose, list, err)
			}
		})
	}
}

// mutate returns a copy of the JSON value c with changes applied at
// dotted paths ("credentialSubject.type"); a nil value deletes the member.
func mutate(t testing.TB, c map[string]any, changes map[string]any) map[string]any {
	t.Helper()
	out := roundTrip(t, c).(map[string]any)
	for path, v := range changes {
		m := out
		keys := splitPath(path)
		for _, k := range keys[:len(keys)-1] {
			m = m[k].(map[string]any)
		}
		if v == nil {
			delete(m, keys[len(keys)-1])
		} else {
			m[keys[len(keys)-1]] = v
		}
	}
	return out
}

func splitPath(p string) []string {
	var out []string
	start := 0
	for i := 0; i < len(p); i++ {
		if p[i] == '.' {
			out = append(out, p[start:i])
			start = i + 1
		}
	}
	return append(out, p[start:])
}

func TestParseListCredentialVariants(t *testing.T) {
	v2 := listCredential(t, "revocation", true, 9)
	enc := v2["credentialSubject"].(map[string]any)["encodedList"].(string)
	tests := []struct {
		name         string
		in           map[string]any
		wantPurposes []string
		wantIssuer   string
		wantTTL      time.Duration
	}{
		{"issuer object", mutate(t, v2, map[string]any{"issuer": map[string]any{"id": issuerDID, "name": "Issuer"}}), []string{"revocation"}, issuerDID, 0},
		{"several purposes", mutate(t, v2, map[string]any{"credentialSubject.statusPurpose": []any{"revocation", "suspension"}}), []string{"revocation", "suspension"}, issuerDID, 0},
		{"ttl", mutate(t, v2, map[string]any{"credentialSubject.ttl": 300000.0}), []string{"revocation"}, issuerDID, 5 * time.Minute},
		{"subject array of one", mutate(t, v2, map[string]any{"credentialSubject": []any{v2["credentialSubject"]}}), []string{"revocation"}, issuerDID, 0},
		{"inline context object", mutate(t, v2, map[string]any{"@context": []any{statuslist.ContextV2, map[string]any{"ex": "https://example.org/#"}}}), []string{"revocation"}, issuerDID, 0},
		{"StatusList2021 without multibase prefix", mutate(t, v2, map[string]any{
			"@context":                      []any{statuslist.ContextV1, statuslist.ContextStatusList2021},
			"type":                          []any{"VerifiableCredential", "StatusList2021Credential"},
			"validFrom":                     nil,
			"validUntil":                    nil,
			"issuanceDate":                  "2025-03-01T12:00:00Z",
			"credentialSubject.type":        "StatusList2021",
			"credentialSubject.encodedList": enc[1:],
		}), []string{"revocation"}, issuerDID, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l, err := statuslist.ParseListCredential(tt.in)
			if err != nil {
				t.Fatalf("ParseListCredential(%s) = %v", tt.name, err)
			}
			if !slices.Equal(l.Purposes, tt.wantPurposes) || l.Issuer != tt.wantIssuer || l.TTL != tt.wantTTL {
				t.Errorf("ParseListCredential(%s) = purposes %v, issuer %q, ttl %v, want %v, %q, %v", tt.name, l.Purposes, l.Issuer, l.TTL, tt.wantPurposes, tt.wantIssuer, tt.wantTTL)
			}
			if got := setBits(t, l.Bits); !slices.Equal(got, []int{9}) {
				t.Errorf("ParseListCredential(%s) set bits = %v, want [9]", tt.name, got)
			}
		})
	}
}

func TestParseListCredentialMalformed(t *testing.T) {
	v2 := listCredential(t, "revocation", true)
	v1 := listCredential(t, "revocation", false)
	short := gzipU(t, make([]byte, 1024))
	tests := []struct {
		name    string
		in      map[string]any
		wantErr error
	}{
		{"nil", nil, statuslist.ErrMalformed},
		{"no context", mutate(t, v2, map[string]any{"@context": nil}), statuslist.ErrMalformed},
		{"foreign first context", mutate(t, v2, map[string]any{"@context": []any{"https://example.org/ctx"}}), statuslist.ErrMalformed},
		{"object first context", mutate(t, v2, map[string]any{"@context": []any{map[string]any{}}}), statuslist.ErrMalformed},
		{"1.1 without the status context", mutate(t, v1, map[string]any{"@context": []any{statuslist.ContextV1}}), statuslist.ErrMalformed},
		{"no type", mutate(t, v2, map[string]any{"type": nil}), statuslist.ErrMalformed},
		{"not a status list credential", mutate(t, v2, map[string]any{"type": []any{"VerifiableCredential"}}), statuslist.ErrMalformed},
		{"no VerifiableCredential", mutate(t, v2, map[string]any{"type": []any{"BitstringStatusListCredential"}}), statuslist.ErrMalformed},
		{"relative id", mutate(t, v2, map[string]any{"id": "status/1"}), statuslist.ErrMalformed},
		{"id number", mutate(t, v2, map[string]any{"id": 1.0}), statuslist.ErrMalformed},
		{"no issuer", mutate(t, v2, map[string]any{"issuer": nil}), statuslist.ErrMalformed},
		{"issuer object without id", mutate(t, v2, map[string]any{"issuer": map[string]any{"name": "x"}}), statuslist.ErrMalformed},
		{"bad validFrom", mutate(t, v2, map[string]any{"validFrom": "2025-03-01"}), statuslist.ErrMalformed},
		{"validUntil number", mutate(t, v2, map[string]any{"validUntil": 1.0}), statuslist.ErrMalformed},
		{"bad issuanceDate", mutate(t, v1, map[string]any{"issuanceDate": "yesterday"}), statuslist.ErrMalformed},
		{"no subject", mutate(t, v2, map[string]any{"credentialSubject": nil}), statuslist.ErrMalformed},
		{"two subjects", mutate(t, v2, map[string]any{"credentialSubject": []any{v2["credentialSubject"], v2["credentialSubject"]}}), statuslist.ErrMalformed},
		{"subject type", mutate(t, v2, map[string]any{"credentialSubject.type": "StatusList2021"}), statuslist.ErrMalformed},
		{"no purpose", mutate(t, v2, map[string]any{"credentialSubject.statusPurpose": nil}), statuslist.ErrMalformed},
		{"empty purpose list", mutate(t, v2, map[string]any{"credentialSubject.statusPurpose": []any{}}), statuslist.ErrMalformed},
		{"empty purpose", mutate(t, v2, map[string]any{"credentialSubject.statusPurpose": []any{"revocation", ""}}), statuslist.ErrMalformed},
		{"no encodedList", mutate(t, v2, map[string]any{"credentialSubject.encodedList": nil}), statuslist.ErrMalformed},
		{"encodedList without prefix", mutate(t, v2, map[string]any{"credentialSubject.encodedList": specExample[1:]}), statuslist.ErrMalformed},
		{"short list", mutate(t, v2, map[string]any{"credentialSubject.encodedList": short}), statuslist.ErrListLength},
		{"negative ttl", mutate(t, v2, map[string]any{"credentialSubject.ttl": -1.0}), statuslist.ErrMalformed},
		{"ttl string", mutate(t, v2, map[string]any{"credentialSubject.ttl": "60"}), statuslist.ErrMalformed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := statuslist.ParseListCredential(tt.in)
			if !errors.Is(err, tt.wantErr) {
				t.Errorf("ParseListCredential(%s) = %+v, %v, want %v", tt.name, got, err, tt.wantErr)
			}
			if _, _, err := statuslist.ReadListCredential(tt.in); !errors.Is(err, tt.wantErr) {
				t.Errorf("ReadListCredential(%s) = %v, want %v", tt.name, err, tt.wantErr)
			}
		})
	}
}

func TestCheckEntry(t *testing.T) {
	revocation := listCredential(t, "revocation", true, 3, 131071)
	both := mutate(t, revocation, map[string]any{"credentialSubject.statusPurpose": []any{"revocation", "suspension"}})
	noID := mutate(t, revocation, map[string]any{"id": nil})
	legacyList := mutate(t, revocation, map[string]any{
		"type":                   []any{"VerifiableCredential", "StatusList2021Credential"},
		"credentialSubject.type": "StatusList2021",
	})
	entry := func(purpose string, i int) statuslist.Entry { return statuslist.NewEntry(listURL, purpose, i) }
	legacy := func(i int) statuslist.Entry {
		e := entry("revocation", i)
		e.Type = statuslist.TypeEntry2021
		return e
	}
	sized := entry("revocation", 3)
	sized.StatusSize = 2
	other := entry("revocation", 3)
	other.StatusListCredential = "https://issuer.example/status/2"
	during := t0.Add(time.Hour)
	tests := []struct {
		name    string
		e       statuslist.Entry
		list    map[string]any
		now     time.Time
		want    bool
		wantErr error
	}{
		{"set", entry("revocation", 3), revocation, during, true, nil},
		{"unset", entry("revocation", 4), revocation, during, false, nil},
		{"first", entry("revocation", 0), revocation, during, false, nil},
		{"last", entry("revocation", 131071), revocation, during, true, nil},
		{"second purpose", entry("suspension", 3), both, during, true, nil},
		{"legacy entry and list", legacy(3), legacyList, during, true, nil},
		{"at validFrom", entry("revocation", 3), revocation, t0, true, nil},
		{"at validUntil", entry("revocation", 3), revocation, t1, true, nil},
		{"index out of range", entry("revocation", 131072), revocation, during, false, statuslist.ErrRange},
		{"purpose differs", entry("suspension", 3), revocation, during, false, statuslist.ErrMismatch},
		{"other list", other, revocation, during, false, statuslist.ErrMismatch},
		{"list without id", entry("revocation", 3), noID, during, false, statuslist.ErrMismatch},
		{"legacy entry, bitstring list", legacy(3), revocation, during, false, statuslist.ErrMismatch},
		{"bitstring entry, legacy list", entry("revocation", 3), legacyList, during, false, statuslist.ErrMismatch},
		{"statusSize 2", sized, revocation, during, false, statuslist.ErrUnsupported},
		{"list expired", entry("revocation", 3), revocation, t1.Add(time.Second), false, credential.ErrExpired},
		{"list not yet valid", entry("revocation", 3), revocation, t0.Add(-time.Second), false, credential.ErrNotYetValid},
		{"list malformed", entry("revocation", 3), mutate(t, revocation, map[string]any{"credentialSubject.encodedList": "u"}), during, false, statuslist.ErrMalformed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := statuslist.CheckEntry(tt.e, tt.list, tt.now)
			if !errors.Is(err, tt.wantErr) || got != tt.want {
				t.Errorf("CheckEntry(%+v, list, %s) = %v, %v, want %v, %v", tt.e, tt.now.Format(time.RFC3339), got, err, tt.want, tt.wantErr)
			}
		})
	}
}
