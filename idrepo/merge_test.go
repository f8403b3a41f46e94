package idrepo

import (
	"encoding/json"
	"testing"
)

// TestMergePatch runs the examples of RFC 7396 Appendix A.
func TestMergePatch(t *testing.T) {
	tests := []struct{ target, patch, want string }{
		{`{"a":"b"}`, `{"a":"c"}`, `{"a":"c"}`},
		{`{"a":"b"}`, `{"b":"c"}`, `{"a":"b","b":"c"}`},
		{`{"a":"b"}`, `{"a":null}`, `{}`},
		{`{"a":"b","b":"c"}`, `{"a":null}`, `{"b":"c"}`},
		{`{"a":["b"]}`, `{"a":"c"}`, `{"a":"c"}`},
		{`{"a":"c"}`, `{"a":["b"]}`, `{"a":["b"]}`},
		{`{"a":{"b":"c"}}`, `{"a":{"b":"d","c":null}}`, `{"a":{"b":"d"}}`},
		{`{"a":[{"b":"c"}]}`, `{"a":[1]}`, `{"a":[1]}`},
		{`{"e":null}`, `{"a":1}`, `{"a":1,"e":null}`},
		{`{}`, `{"a":{"bb":{"ccc":null}}}`, `{"a":{"bb":{}}}`},
		{`{"a":"x"}`, `{"a":{"b":"c"}}`, `{"a":{"b":"c"}}`},
	}
	for _, tt := range tests {
		var target, patch map[string]any
		json.Unmarshal([]byte(tt.target), &target)
		json.Unmarshal([]byte(tt.patch), &patch)
		got, _ := json.Marshal(mergePatch(target, patch))
		var g, w any
		json.Unmarshal(got, &g)
		json.Unmarshal([]byte(tt.want), &w)
		gb, _ := json.Marshal(g)
		wb, _ := json.Marshal(w)
		if string(gb) != string(wb) {
			t.Errorf("mergePatch(%s, %s) = %s, want %s", tt.target, tt.patch, gb, wb)
		}
		if tb, _ := json.Marshal(target); len(tb) > 0 && tt.target != "" {
			var again map[string]any
			json.Unmarshal([]byte(tt.target), &again)
			ab, _ := json.Marshal(again)
			if string(ab) != string(tb) {
				t.Errorf("mergePatch modified its target: %s, was %s", tb, ab)
			}
		}
	}
}
