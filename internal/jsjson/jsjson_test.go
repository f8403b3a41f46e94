package jsjson

import "testing"

func TestStringify(t *testing.T) {
	for in, want := range map[string]string{
		`{"b":1,"10":2,"9":3,"a":[1e21,-0,"\u003c\u2028"]}`: `{"9":3,"10":2,"b":1,"a":[1e+21,0,"<` + "\u2028" + `"]}`,
		`{"a":1,"b":2,"a":3}`:                               `{"a":3,"b":2}`,
		`[1e400,-1e400,1e-7,1e20]`:                          `[null,null,1e-7,100000000000000000000]`,
		` "\u0001\b" `:                                      `"\u0001\b"`,
	} {
		if got, err := Stringify([]byte(in)); err != nil || string(got) != want {
			t.Errorf("Stringify(%s) = %s, %v; want %s", in, got, err, want)
		}
	}
	for _, bad := range []string{`{"a":}`, `[1] [2]`, ``} {
		if got, err := Stringify([]byte(bad)); err == nil {
			t.Errorf("Stringify(%q) = %s, want an error", bad, got)
		}
	}
}
