package jwtclaims

import (
	"encoding/json"
	"slices"
	"testing"
	"time"
)

func TestNumericDate(t *testing.T) {
	for _, tt := range []struct {
		in   string
		want time.Time
		ok   bool
	}{
		{"1700000000", time.Unix(1700000000, 0).UTC(), true},
		{"1700000000.5", time.Unix(1700000000, 500000000).UTC(), true},
		{"-1", time.Unix(-1, 0).UTC(), true},
		{`"1700000000"`, time.Time{}, false},
		{"1e13", time.Time{}, false},
		{"null", time.Time{}, true},
	} {
		var d NumericDate
		err := json.Unmarshal([]byte(tt.in), &d)
		if (err == nil) != tt.ok {
			t.Errorf("Unmarshal(%s) = %v, want ok %v", tt.in, err, tt.ok)
			continue
		}
		if err == nil && tt.in != "null" && !d.Time().Equal(tt.want) {
			t.Errorf("Unmarshal(%s).Time() = %v, want %v", tt.in, d.Time(), tt.want)
		}
	}
}

func TestStringsUnmarshal(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    []string
		wantErr bool
	}{
		{"one string", `"a"`, []string{"a"}, false},
		{"array", `["a","b"]`, []string{"a", "b"}, false},
		{"empty array", `[]`, []string{}, false},
		{"number", `1`, nil, true},
		{"mixed array", `["a",1]`, nil, true},
		{"object", `{"a":1}`, nil, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var s Strings
			err := json.Unmarshal([]byte(tc.in), &s)
			if tc.wantErr {
				if err == nil {
					t.Fatalf("Unmarshal(%s) = %q, want an error", tc.in, s)
				}
				return
			}
			if err != nil || !slices.Equal(s, tc.want) {
				t.Fatalf("Unmarshal(%s) = %q, %v, want %q", tc.in, s, err, tc.want)
			}
		})
	}
}
