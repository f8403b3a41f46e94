package jwtclaims

import (
	"encoding/json"
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
