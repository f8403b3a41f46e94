// Package jsjson re-encodes JSON the way JavaScript's
// JSON.stringify(JSON.parse(text)) does, over encoding/json's tokenizer:
// slow but plain. eSignet's login UI hashes the oauth-details response
// that way; the test relying party (oidc/oidctest) uses this to compute the
// hash as a browser would, and the provider's tests hold its own fast
// scanner to it.
package jsjson

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Stringify returns JSON.stringify(JSON.parse(text)) as JavaScript
// computes it, which is what oidc-ui hashes for oauth-details-hash: no
// white space; object members in order, array-index keys first in numeric
// order, the last of repeated keys at the place of the first; numbers as
// JavaScript prints doubles; strings escaping only '"', '\' and control
// characters.
func Stringify(text []byte) ([]byte, error) {
	d := json.NewDecoder(bytes.NewReader(text))
	d.UseNumber()
	out, err := jsValue(nil, d)
	if err != nil {
		return nil, err
	}
	if _, err := d.Token(); err != io.EOF {
		return nil, errors.New("oidctest: data after the JSON value")
	}
	return out, nil
}

func jsValue(out []byte, d *json.Decoder) ([]byte, error) {
	t, err := d.Token()
	if err != nil {
		return nil, err
	}
	switch t := t.(type) {
	case json.Delim:
		if t == '[' {
			out = append(out, '[')
			for i := 0; d.More(); i++ {
				if i > 0 {
					out = append(out, ',')
				}
				if out, err = jsValue(out, d); err != nil {
					return nil, err
				}
			}
			if _, err := d.Token(); err != nil {
				return nil, err
			}
			return append(out, ']'), nil
		}
		type member struct {
			key   string
			value []byte
		}
		var ms []member
		for d.More() {
			kt, err := d.Token()
			if err != nil {
				return nil, err
			}
			k := kt.(string)
			v, err := jsValue(nil, d)
			if err != nil {
				return nil, err
			}
			if i := slices.IndexFunc(ms, func(m member) bool { return m.key == k }); i >= 0 {
				ms[i].value = v
			} else {
				ms = append(ms, member{k, v})
			}
		}
		if _, err := d.Token(); err != nil {
			return nil, err
		}
		index := func(k string) (uint64, bool) {
			n, err := strconv.ParseUint(k, 10, 32)
			return n, err == nil && n < math.MaxUint32 && strconv.FormatUint(n, 10) == k
		}
		slices.SortStableFunc(ms, func(a, b member) int {
			ai, aok := index(a.key)
			bi, bok := index(b.key)
			switch {
			case aok && bok:
				return int(ai) - int(bi)
			case aok:
				return -1
			case bok:
				return 1
			}
			return 0
		})
		out = append(out, '{')
		for i, m := range ms {
			if i > 0 {
				out = append(out, ',')
			}
			out = jsString(out, m.key)
			out = append(out, ':')
			out = append(out, m.value...)
		}
		return append(out, '}'), nil
	case string:
		return jsString(out, t), nil
	case json.Number:
		f, err := strconv.ParseFloat(string(t), 64)
		if math.IsInf(f, 0) {
			// JSON.parse reads 1e400 as Infinity, which JSON.stringify
			// writes as null.
			return append(out, "null"...), nil
		}
		if err != nil {
			return nil, err
		}
		if f == 0 {
			return append(out, '0'), nil
		}
		if a := math.Abs(f); a >= 1e-6 && a < 1e21 {
			return strconv.AppendFloat(out, f, 'f', -1, 64), nil
		}
		s := strconv.FormatFloat(f, 'e', -1, 64)
		mant, exp, _ := strings.Cut(s, "e")
		sign := exp[0]
		exp = strings.TrimLeft(exp[1:], "0")
		return append(out, mant+"e"+string(sign)+exp...), nil
	case bool:
		return strconv.AppendBool(out, t), nil
	case nil:
		return append(out, "null"...), nil
	}
	return nil, fmt.Errorf("oidctest: unexpected JSON token %v", t)
}

func jsString(out []byte, s string) []byte {
	const hex = "0123456789abcdef"
	out = append(out, '"')
	for _, r := range s {
		switch {
		case r == '"':
			out = append(out, '\\', '"')
		case r == '\\':
			out = append(out, '\\', '\\')
		case r == '\b':
			out = append(out, '\\', 'b')
		case r == '\f':
			out = append(out, '\\', 'f')
		case r == '\n':
			out = append(out, '\\', 'n')
		case r == '\r':
			out = append(out, '\\', 'r')
		case r == '\t':
			out = append(out, '\\', 't')
		case r < 0x20:
			out = append(out, '\\', 'u', '0', '0', hex[r>>4], hex[r&0xf])
		default:
			out = utf8.AppendRune(out, r)
		}
	}
	return append(out, '"')
}
