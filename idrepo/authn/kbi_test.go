package authn

import (
	"encoding/base64"
	"encoding/json"
	"testing"
)

func TestKBI(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		// Every row is a fresh transaction; failures must not block the
		// person midway through the table.
		e := newEnv(t, b, func(c *Config) { c.Policy.MaxFailures = 1000 })
		r := e.addResident(t, map[string]any{
			"fullName": []any{
				map[string]any{"language": "eng", "value": "José  María O'Neil"},
				map[string]any{"language": "ara", "value": "خوسيه ماريا"},
			},
			"dateOfBirth": "1990/05/17",
			"postalCode":  "12345",
		})
		raw := func(s string) Challenge { return Challenge{Factor: FactorKBI, Value: s} }
		tests := []struct {
			name string
			c    Challenge
			ok   bool
		}{
			{"exact", kbi(t, map[string]any{"fullName": "José  María O'Neil", "dateOfBirth": "1990/05/17"}), true},
			{"case and spacing", kbi(t, map[string]any{"fullName": "  josé maría\to'neil ", "dateOfBirth": "1990/05/17"}), true},
			{"decomposed accents", kbi(t, map[string]any{"fullName": "Jose\u0301 Mari\u0301a O'Neil", "dateOfBirth": "1990/05/17"}), true},
			{"upper case with decomposed accents", kbi(t, map[string]any{"fullName": "JOSE\u0301 MARI\u0301A O'NEIL", "dateOfBirth": "1990/05/17"}), true},
			{"other language", kbi(t, map[string]any{"fullName": "خوسيه  ماريا", "dateOfBirth": "1990/05/17"}), true},
			{"date with dashes", kbi(t, map[string]any{"fullName": "josé maría o'neil", "dateOfBirth": "1990-05-17"}), true},
			{"extra field ignored", kbi(t, map[string]any{"fullName": "josé maría o'neil", "dateOfBirth": "1990/05/17", "x": 1}), true},
			{"padded base64url", func() Challenge {
				c := kbi(t, map[string]any{"fullName": "josé maría o'neil", "dateOfBirth": "1990/05/17"})
				for len(c.Value)%4 != 0 {
					c.Value += "="
				}
				return c
			}(), true},
			{"unaccented name", kbi(t, map[string]any{"fullName": "Jose Maria O'Neil", "dateOfBirth": "1990/05/17"}), false},
			{"wrong date", kbi(t, map[string]any{"fullName": "José María O'Neil", "dateOfBirth": "1990/05/18"}), false},
			{"swapped month and day", kbi(t, map[string]any{"fullName": "José María O'Neil", "dateOfBirth": "1990/17/05"}), false},
			{"missing date", kbi(t, map[string]any{"fullName": "José María O'Neil"}), false},
			{"empty name", kbi(t, map[string]any{"fullName": "", "dateOfBirth": "1990/05/17"}), false},
			{"name as a list", kbi(t, map[string]any{"fullName": []any{"José María O'Neil"}, "dateOfBirth": "1990/05/17"}), false},
			{"partial name", kbi(t, map[string]any{"fullName": "José", "dateOfBirth": "1990/05/17"}), false},
			{"not base64url", raw("!!!"), false},
			{"standard base64", raw(base64.StdEncoding.EncodeToString([]byte(`{"fullName":"José María O'Neil","dateOfBirth":"1990/05/17"}`)) + "+/"), false},
			{"not JSON", raw(base64.RawURLEncoding.EncodeToString([]byte("fullName=x"))), false},
			{"JSON null", raw(base64.RawURLEncoding.EncodeToString([]byte("null"))), false},
			{"empty", raw(""), false},
		}
		for i, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				_, err := e.auth(t.Context(), "kbi-"+string(rune('a'+i)), r.UIN, tt.c)
				if tt.ok && err != nil {
					t.Errorf("Authenticate(KBI) = %v, want success", err)
				}
				if !tt.ok {
					wantCode(t, "Authenticate(KBI)", err, ErrAuthFailed)
				}
			})
		}
	})
}

func TestKBIConfiguredFields(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		e := newEnv(t, b, func(c *Config) { c.Policy.KBIFields = []string{"postalCode", "familyName"} })
		r := e.addResident(t, map[string]any{
			"familyName": []any{map[string]any{"language": "fra", "value": "Ørsted"}},
			"postalCode": "75001",
		})
		if _, err := e.auth(t.Context(), "tx", r.UIN, kbi(t, map[string]any{"postalCode": "75001", "familyName": "ørsted"})); err != nil {
			t.Errorf("Authenticate(KBI postalCode+familyName) = %v", err)
		}
		_, err := e.auth(t.Context(), "tx2", r.UIN, kbi(t, map[string]any{"fullName": "x", "dateOfBirth": "1990/05/17"}))
		wantCode(t, "Authenticate(KBI with unconfigured fields)", err, ErrAuthFailed)
	})
}

func TestNormaliseKBI(t *testing.T) {
	tests := []struct{ in, want string }{
		{"  Jane \t Doe\n", "jane doe"},
		{"STRASSE", "strasse"},
		{"Straße", "strasse"},
		{"E\u0301COLE", "école"},
		{"1990-05-17", "1990/05/17"},
		{"1990.05.17", "1990/05/17"},
		{"1990-5-17", "1990-5-17"},
		{"١٩٩٠/٠٥/١٧", "١٩٩٠/٠٥/١٧"},
		{"", ""},
	}
	for _, tt := range tests {
		if got := normaliseKBI(tt.in); got != tt.want {
			t.Errorf("normaliseKBI(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func FuzzParseKBI(f *testing.F) {
	valid, _ := json.Marshal(map[string]any{"fullName": "Jane Doe", "dateOfBirth": "1990/05/17"})
	f.Add(base64.RawURLEncoding.EncodeToString(valid))
	f.Add(base64.URLEncoding.EncodeToString(valid))
	f.Add(base64.RawURLEncoding.EncodeToString([]byte(`{"fullName":[{"language":"eng","value":"x"}]}`)))
	f.Add(base64.RawURLEncoding.EncodeToString([]byte(`[]`)))
	f.Add("====")
	f.Add("")
	f.Fuzz(func(t *testing.T, s string) {
		answers, ok := parseKBI(s)
		if ok && answers == nil {
			t.Fatalf("parseKBI(%q) = nil, true", s)
		}
		for _, v := range answers {
			if str, isStr := v.(string); isStr {
				normaliseKBI(str)
			}
		}
	})
}
