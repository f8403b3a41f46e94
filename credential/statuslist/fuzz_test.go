package statuslist_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/sanad-id/sanad/credential"
	"github.com/sanad-id/sanad/credential/credtest"
	"github.com/sanad-id/sanad/credential/statuslist"
)

// FuzzDecodeBitstring: no panic, only ErrMalformed, and what decodes
// re-encodes to the same bits.
func FuzzDecodeBitstring(f *testing.F) {
	valid, err := newList(f, 1, 2, 131071).Encode()
	if err != nil {
		f.Fatal(err)
	}
	f.Add(valid)
	f.Add(specExample)
	f.Add(specExample[1:])
	f.Add(gzipU(f, make([]byte, 100)))
	f.Add(gzipU(f, make([]byte, 16384), 1, 2))
	f.Add("u")
	f.Add("")
	f.Add("zQmXXX")
	f.Add("uH4sI")
	f.Fuzz(func(t *testing.T, in string) {
		b, err := statuslist.DecodeBitstringMin(in, 0)
		if err != nil {
			if !errors.Is(err, statuslist.ErrMalformed) {
				t.Fatalf("DecodeBitstringMin(%q, 0) = %v, not ErrMalformed", in, err)
			}
			return
		}
		enc, err := b.Encode()
		if err != nil {
			t.Fatal(err)
		}
		back, err := statuslist.DecodeBitstringMin(enc, 0)
		if err != nil || string(back.Bytes()) != string(b.Bytes()) {
			t.Fatalf("DecodeBitstringMin(Encode(DecodeBitstringMin(%q))) = %v, differs", in, err)
		}
		if _, err := statuslist.DecodeBitstring(in); err != nil && !errors.Is(err, statuslist.ErrListLength) {
			t.Fatalf("DecodeBitstring(%q) = %v, but DecodeBitstringMin(0) accepted it", in, err)
		}
	})
}

// jsonSeeds adds values as JSON seeds.
func jsonSeeds(f *testing.F, values ...any) {
	for _, v := range values {
		b, err := json.Marshal(v)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
}

// decodeJSON decodes b, or reports false.
func decodeJSON(b []byte) (any, bool) {
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		return nil, false
	}
	return v, true
}

// FuzzParseEntries: no panic, only ErrMalformed, and accepted entries
// survive Map and ParseEntries unchanged.
func FuzzParseEntries(f *testing.F) {
	jsonSeeds(f,
		entryJSON(nil),
		[]any{entryJSON(nil), entryJSON(map[string]any{"type": "StatusList2021Entry", "statusSize": 1})},
		entryJSON(map[string]any{"statusListIndex": "05"}),
		entryJSON(map[string]any{"statusListIndex": 5}),
		entryJSON(map[string]any{"id": listURL}),
		map[string]any{"type": "Other"},
		[]any{1, "x"},
		nil,
	)
	f.Add([]byte(`{"type":["BitstringStatusListEntry"],"statusPurpose":"r","statusListIndex":"99999999999","statusListCredential":"a:b"}`))
	f.Fuzz(func(t *testing.T, in []byte) {
		v, ok := decodeJSON(in)
		if !ok {
			return
		}
		entries, err := statuslist.ParseEntries(v)
		if err != nil {
			if !errors.Is(err, statuslist.ErrMalformed) {
				t.Fatalf("ParseEntries(%s) = %v, not ErrMalformed", in, err)
			}
			return
		}
		for _, e := range entries {
			if e.StatusListIndex < 0 || e.StatusPurpose == "" || e.StatusListCredential == "" {
				t.Fatalf("ParseEntries(%s) accepted %+v", in, e)
			}
			back, err := statuslist.ParseEntries(roundTrip(t, e.Map()))
			if err != nil || len(back) != 1 || back[0] != e {
				t.Fatalf("ParseEntries(%+v.Map()) = %+v, %v, want it back", e, back, err)
			}
		}
	})
}

// FuzzReadListCredential: no panic, only ErrMalformed.
func FuzzReadListCredential(f *testing.F) {
	v2 := listCredential(f, "revocation", true, 5)
	v1 := listCredential(f, "suspension", false)
	jsonSeeds(f, v2, v1,
		mutate(f, v2, map[string]any{"credentialSubject.encodedList": "u"}),
		mutate(f, v2, map[string]any{"type": []any{"VerifiableCredential", "StatusList2021Credential"}, "credentialSubject.type": "StatusList2021", "credentialSubject.encodedList": specExample[1:]}),
		mutate(f, v2, map[string]any{"credentialSubject.statusPurpose": []any{"a", "b"}, "credentialSubject.ttl": 1000}),
		mutate(f, v1, map[string]any{"issuanceDate": "x"}),
		map[string]any{},
	)
	f.Fuzz(func(t *testing.T, in []byte) {
		v, ok := decodeJSON(in)
		if !ok {
			return
		}
		m, _ := v.(map[string]any)
		purpose, list, err := statuslist.ReadListCredential(m)
		if err != nil {
			if !errors.Is(err, statuslist.ErrMalformed) {
				t.Fatalf("ReadListCredential(%s) = %v, not ErrMalformed", in, err)
			}
			return
		}
		if purpose == "" || list.Len() < statuslist.MinEntries {
			t.Fatalf("ReadListCredential(%s) = %q, %d bits", in, purpose, list.Len())
		}
	})
}

// FuzzParseTokenList: no panic, only ErrMalformed, and what parses
// re-encodes to the same statuses.
func FuzzParseTokenList(f *testing.F) {
	l, _ := statuslist.NewTokenList(2, 100)
	l.Set(7, 3)
	m, _ := l.Map()
	jsonSeeds(f, m,
		map[string]any{"bits": 1, "lst": "eNrbuRgAAhcBXQ"},
		map[string]any{"bits": 2, "lst": "eNo76fITAAPfAgc"},
		map[string]any{"bits": 3, "lst": "eNrbuRgAAhcBXQ"},
		map[string]any{"bits": 1, "lst": "eNrbuRgAAhcBXX"},
		map[string]any{"bits": 8, "lst": ""},
		map[string]any{"bits": "1"},
	)
	f.Fuzz(func(t *testing.T, in []byte) {
		v, ok := decodeJSON(in)
		if !ok {
			return
		}
		m, _ := v.(map[string]any)
		l, err := statuslist.ParseTokenList(m)
		if err != nil {
			if !errors.Is(err, statuslist.ErrMalformed) {
				t.Fatalf("ParseTokenList(%s) = %v, not ErrMalformed", in, err)
			}
			return
		}
		out, err := l.Map()
		if err != nil {
			t.Fatal(err)
		}
		back, err := statuslist.ParseTokenList(roundTrip(t, out).(map[string]any))
		if err != nil || back.Len() != l.Len() || back.Bits() != l.Bits() {
			t.Fatalf("ParseTokenList(Map(ParseTokenList(%s))) = %v, differs", in, err)
		}
		for i := 0; i < l.Len() && i < 4096; i++ {
			a, _ := l.Get(i)
			b, _ := back.Get(i)
			if a != b {
				t.Fatalf("entry %d: %d then %d", i, a, b)
			}
		}
	})
}

// FuzzParseTokenReference: no panic, only ErrMalformed, round trip.
func FuzzParseTokenReference(f *testing.F) {
	jsonSeeds(f,
		statuslist.TokenReference{Index: 3, URI: tokenURI}.Map(),
		map[string]any{"status_list": map[string]any{"idx": -1, "uri": tokenURI}},
		map[string]any{"status_list": map[string]any{"idx": 1.5, "uri": "x"}},
		map[string]any{"status_list": []any{}},
		"status",
	)
	f.Fuzz(func(t *testing.T, in []byte) {
		v, ok := decodeJSON(in)
		if !ok {
			return
		}
		r, err := statuslist.ParseTokenReference(v)
		if err != nil {
			if !errors.Is(err, statuslist.ErrMalformed) {
				t.Fatalf("ParseTokenReference(%s) = %v, not ErrMalformed", in, err)
			}
			return
		}
		back, err := statuslist.ParseTokenReference(roundTrip(t, r.Map()))
		if err != nil || back != r {
			t.Fatalf("ParseTokenReference(%+v.Map()) = %+v, %v", r, back, err)
		}
	})
}

// FuzzParseToken: no panic, only the package's and the credential
// package's errors, and nothing but the seeds signed by the key verifies.
func FuzzParseToken(f *testing.F) {
	s := credtest.NewSigner(f, "ES256", "k1")
	list, _ := statuslist.NewTokenList(1, 64)
	good, err := statuslist.IssueToken(context.Background(), s, list, statuslist.TokenOptions{URI: tokenURI, IssuedAt: t0, ExpiresAt: t1, TTL: time.Minute})
	if err != nil {
		f.Fatal(err)
	}
	parts := strings.Split(good, ".")
	f.Add(good)
	f.Add(parts[0] + "." + parts[1] + ".")
	f.Add(parts[0] + ".." + parts[2])
	f.Add(signed(f, s, map[string]any{"typ": "statuslist+jwt"}, map[string]any{"sub": tokenURI}))
	f.Add(signed(f, s, map[string]any{"typ": "JWT"}, map[string]any{"sub": tokenURI, "iat": 1}))
	f.Add(unsigned(`{"alg":"none","typ":"statuslist+jwt"}`, `{}`, "e30"))
	f.Add("..")
	f.Add("")
	keys := keysOf(s)
	now := t0.Add(time.Hour)
	f.Fuzz(func(t *testing.T, token string) {
		l, err := statuslist.ParseToken(context.Background(), token, tokenURI, keys, now)
		if err != nil {
			if !errors.Is(err, statuslist.ErrMalformed) && !errors.Is(err, credential.ErrSignature) &&
				!errors.Is(err, credential.ErrExpired) && !errors.Is(err, credential.ErrNotYetValid) {
				t.Fatalf("ParseToken(%q) = %v, not a status list error", token, err)
			}
			return
		}
		if l == nil || l.Len() == 0 {
			t.Fatalf("ParseToken(%q) = %v, empty", token, l)
		}
	})
}
