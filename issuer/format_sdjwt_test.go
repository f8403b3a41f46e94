package issuer

import (
	"context"
	"crypto/ecdsa"
	"encoding/base64"
	"encoding/json"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/lestrrat-go/jwx/v3/jwk"

	"github.com/sanad-id/sanad/credential"
	"github.com/sanad-id/sanad/credential/credtest"
	"github.com/sanad-id/sanad/credential/sdjwt"
	"github.com/sanad-id/sanad/templates"
)

const sdfVCT = "https://id.example/issuer/national-id"

func sdfConfig() *Configuration {
	return &Configuration{
		ID:         "national-id-sd-jwt",
		Format:     credential.FormatSDJWTVC,
		Scope:      "national_id_sd_jwt",
		VCT:        sdfVCT,
		SigningAlg: "ES256",
		Claims: []Claim{
			{Path: []string{"name"}, Mandatory: true, Disclosable: true,
				Display: []ClaimDisplay{{Name: "Full name", Locale: "en"}, {Name: "Nom complet", Locale: "fr"}}},
			{Path: []string{"birthdate"}, Disclosable: true, Display: []ClaimDisplay{{Name: "Date of birth", Locale: "en"}}},
			{Path: []string{"address"}, Disclosable: true, Display: []ClaimDisplay{{Name: "Address", Locale: "en"}}},
			{Path: []string{"address", "locality"}, Disclosable: true, Display: []ClaimDisplay{{Name: "City", Locale: "en"}}},
			{Path: []string{"address", "country"}},
			{Path: []string{"uin"}},
		},
		Subject: map[string]any{
			"name":      `{{ fullName | lang "eng" }}`,
			"birthdate": "{{ dateOfBirth | date }}",
			"address":   map[string]any{"locality": "{{ city }}", "country": "NG"},
			"uin":       "{{ uin }}",
		},
	}
}

func TestSDJWTFormatName(t *testing.T) {
	if got := (sdJWTVCFormat{}).Name(); got != credential.FormatSDJWTVC {
		t.Errorf("Name() = %q, want %q", got, credential.FormatSDJWTVC)
	}
}

func TestSDJWTFormatValidate(t *testing.T) {
	tests := []struct {
		name string
		edit func(*Configuration)
		want []string // substrings of the error; nil: valid
	}{
		{"valid", func(*Configuration) {}, nil},
		{"path into an expression leaf", func(c *Configuration) {
			c.Subject["address"] = "{{ address }}"
		}, nil},
		{"non-disclosable claim absent from the template", func(c *Configuration) {
			c.Claims = append(c.Claims, Claim{Path: []string{"email"}})
		}, nil},
		{"no template", func(c *Configuration) { c.Subject = nil }, nil},
		{"no vct", func(c *Configuration) { c.VCT = "" }, []string{"vct is required"}},
		{"disclosable claim not in the template", func(c *Configuration) {
			c.Claims = append(c.Claims, Claim{Path: []string{"email"}, Disclosable: true})
		}, []string{`["email"] is not in the template`}},
		{"disclosable path through a literal", func(c *Configuration) {
			c.Claims = append(c.Claims, Claim{Path: []string{"address", "country", "code"}, Disclosable: true})
		}, []string{`["address","country","code"] is not in the template`}},
		{"disclosable iss", func(c *Configuration) {
			c.Claims = append(c.Claims, Claim{Path: []string{"iss"}, Disclosable: true})
		}, []string{`"iss" is never selectively disclosable`}},
		{"disclosable status", func(c *Configuration) {
			c.Claims = append(c.Claims, Claim{Path: []string{"status", "status_list"}, Disclosable: true})
		}, []string{`"status" is never selectively disclosable`}},
		{"disclosable cnf", func(c *Configuration) {
			c.Claims = append(c.Claims, Claim{Path: []string{"cnf"}, Disclosable: true})
		}, []string{`"cnf" is never selectively disclosable`}},
		{"template sets vct", func(c *Configuration) { c.Subject["vct"] = "other" }, []string{`claim "vct" is set by the SD-JWT VC layer`}},
		{"template uses _sd", func(c *Configuration) {
			c.Subject["address"].(map[string]any)["_sd"] = []any{}
		}, []string{`reserved name "_sd"`}},
		{"empty path", func(c *Configuration) { c.Claims = append(c.Claims, Claim{}) }, []string{"empty path"}},
		{"every problem at once", func(c *Configuration) {
			c.VCT = ""
			c.Claims = append(c.Claims, Claim{Path: []string{"exp"}, Disclosable: true}, Claim{Path: []string{"phone"}, Disclosable: true})
		}, []string{"vct is required", `"exp" is never selectively disclosable`, `["phone"] is not in the template`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := sdfConfig()
			tt.edit(c)
			err := (sdJWTVCFormat{}).Validate(c)
			if tt.want == nil {
				if err != nil {
					t.Errorf("Validate(%s) = %v, want nil", tt.name, err)
				}
				return
			}
			if err == nil {
				t.Fatalf("Validate(%s) = nil, want an error with %q", tt.name, tt.want)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("Validate(%s) = %v, want it to contain %q", tt.name, err, w)
				}
			}
		})
	}
}

func sdfJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestSDJWTFormatMetadata(t *testing.T) {
	c := sdfConfig()
	if got, want := sdfJSON(t, (sdJWTVCFormat{}).Metadata(c, false)), `{"vct":"`+sdfVCT+`"}`; got != want {
		t.Errorf("Metadata(1.0) = %s, want %s", got, want)
	}
	want := `{"claims":{` +
		`"address":{"country":{},"display":[{"name":"Address","locale":"en"}],"locality":{"display":[{"name":"City","locale":"en"}]}},` +
		`"birthdate":{"display":[{"name":"Date of birth","locale":"en"}]},` +
		`"name":{"display":[{"name":"Full name","locale":"en"},{"name":"Nom complet","locale":"fr"}],"mandatory":true},` +
		`"uin":{}},` +
		`"vct":"` + sdfVCT + `"}`
	if got := sdfJSON(t, (sdJWTVCFormat{}).Metadata(c, true)); got != want {
		t.Errorf("Metadata(draft13) =\n%s\nwant\n%s", got, want)
	}
}

func TestSDJWTFormatMatchesDraft13(t *testing.T) {
	c := sdfConfig()
	tests := []struct {
		name string
		sel  Draft13Selector
		want bool
	}{
		{"vc+sd-jwt and vct", Draft13Selector{Format: credential.FormatSDJWTVCLegacy, VCT: sdfVCT}, true},
		{"dc+sd-jwt and vct", Draft13Selector{Format: credential.FormatSDJWTVC, VCT: sdfVCT}, true},
		{"other vct", Draft13Selector{Format: credential.FormatSDJWTVCLegacy, VCT: sdfVCT + "2"}, false},
		{"no vct", Draft13Selector{Format: credential.FormatSDJWTVCLegacy}, false},
		{"jwt_vc_json", Draft13Selector{Format: credential.FormatJWTVC, VCT: sdfVCT}, false},
		{"no format", Draft13Selector{VCT: sdfVCT}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := (sdJWTVCFormat{}).MatchesDraft13(c, tt.sel); got != tt.want {
				t.Errorf("MatchesDraft13(%+v) = %v, want %v", tt.sel, got, tt.want)
			}
		})
	}
}

// sdfInput is what the credential endpoint hands the format.
func sdfInput(t *testing.T, signer *credtest.Signer, holder *credtest.Signer) IssueInput {
	t.Helper()
	now := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	in := IssueInput{
		Config: sdfConfig(),
		ID:     "urn:uuid:6f1c1d8e-3f59-4c1e-9a55-0d7b5c0e2a11",
		Issuer: "https://id.example/issuer",
		Claims: map[string]any{
			"name":      "Amina Yusuf",
			"birthdate": "1990-04-01",
			"address":   map[string]any{"locality": "Kano", "country": "NG"},
			"uin":       "4829137465",
		},
		IssuedAt:   now,
		ValidFrom:  now,
		ValidUntil: now.AddDate(1, 0, 0),
		Status:     map[string]any{"status_list": map[string]any{"idx": 7, "uri": "https://id.example/issuer/status/1"}},
		Signer:     signer,
	}
	if holder != nil {
		k, err := jwk.Import(holder.Public())
		if err != nil {
			t.Fatal(err)
		}
		in.Holder = &HolderKey{JWK: k}
	}
	return in
}

func TestSDJWTFormatIssue(t *testing.T) {
	signer := credtest.NewSigner(t, "ES256", "issuer-1")
	holder := credtest.NewSigner(t, "ES256", "holder")
	in := sdfInput(t, signer, holder)
	in.X5C = [][]byte{[]byte("leaf"), []byte("ca")}
	out, err := (sdJWTVCFormat{}).Issue(context.Background(), in)
	if err != nil {
		t.Fatalf("Issue() error = %v", err)
	}
	s, ok := out.(string)
	if !ok {
		t.Fatalf("Issue() = %T, want a string", out)
	}
	tok, err := sdjwt.VerifyVC(context.Background(), s, sdjwt.VerifyOptions{
		Keys:   credtest.Resolver(signer),
		Algs:   []string{"ES256"},
		Issuer: in.Issuer,
		Typs:   []string{credential.FormatSDJWTVC},
		Now:    func() time.Time { return in.IssuedAt.Add(time.Minute) },
	})
	if err != nil {
		t.Fatalf("VerifyVC(Issue()) error = %v", err)
	}
	want := map[string]any{
		"name": "Amina Yusuf", "birthdate": "1990-04-01", "uin": "4829137465",
		"address": map[string]any{"locality": "Kano", "country": "NG"},
	}
	for k, v := range want {
		if !reflect.DeepEqual(tok.Claims[k], v) {
			t.Errorf("Claims[%q] = %v, want %v", k, tok.Claims[k], v)
		}
	}
	if tok.VCT != sdfVCT || tok.Issuer != in.Issuer || !tok.IssuedAt.Equal(in.IssuedAt) ||
		!tok.NotBefore.Equal(in.ValidFrom) || !tok.Expires.Equal(in.ValidUntil) {
		t.Errorf("Issue() = vct %q iss %q iat %v nbf %v exp %v, want %q %q %v %v %v",
			tok.VCT, tok.Issuer, tok.IssuedAt, tok.NotBefore, tok.Expires, sdfVCT, in.Issuer, in.IssuedAt, in.ValidFrom, in.ValidUntil)
	}
	if got, want := sdfJSON(t, tok.Status), sdfJSON(t, in.Status); got != want {
		t.Errorf("Issue() status = %s, want %s", got, want)
	}
	if hk, ok := tok.HolderKey.(*ecdsa.PublicKey); !ok || !hk.Equal(holder.Public()) {
		t.Errorf("Issue() cnf.jwk = %v, want the holder's key", tok.HolderKey)
	}
	wantX5C := []any{base64.StdEncoding.EncodeToString([]byte("leaf")), base64.StdEncoding.EncodeToString([]byte("ca"))}
	if !reflect.DeepEqual(tok.Header["x5c"], wantX5C) {
		t.Errorf("Issue() x5c = %v, want %v", tok.Header["x5c"], wantX5C)
	}
	var paths []string
	for _, d := range tok.Disclosures {
		paths = append(paths, d.Path.String())
	}
	sort.Strings(paths)
	if got, want := strings.Join(paths, " "), `["address","locality"] ["address"] ["birthdate"] ["name"]`; got != want {
		t.Errorf("Issue() disclosures at %s, want %s", got, want)
	}
	if _, ok := tok.Payload["uin"]; !ok {
		t.Errorf("Issue() payload lacks uin, want the non-disclosable claim in the clear")
	}
}

func TestSDJWTFormatIssueVariants(t *testing.T) {
	signer := credtest.NewSigner(t, "ES256", "issuer-1")
	holder := credtest.NewSigner(t, "ES256", "holder")
	tests := []struct {
		name    string
		edit    func(*IssueInput)
		wantTyp string
		wantErr bool
		check   func(t *testing.T, tok *sdjwt.Token)
	}{
		{"legacy typ", func(in *IssueInput) { in.Config.LegacyTyp = true }, credential.FormatSDJWTVCLegacy, false, nil},
		{"unbound, no status, no expiry", func(in *IssueInput) {
			in.Holder, in.Status, in.ValidUntil = nil, nil, time.Time{}
		}, credential.FormatSDJWTVC, false, func(t *testing.T, tok *sdjwt.Token) {
			if _, ok := tok.Claims["cnf"]; ok {
				t.Errorf("unbound credential has cnf %v", tok.Claims["cnf"])
			}
			if _, ok := tok.Claims["status"]; ok {
				t.Errorf("credential without status has status %v", tok.Claims["status"])
			}
			if _, ok := tok.Claims["exp"]; ok {
				t.Errorf("credential without expiry has exp %v", tok.Claims["exp"])
			}
			if _, ok := tok.Header["x5c"]; ok {
				t.Errorf("credential without X5C has x5c")
			}
		}},
		{"optional disclosable claim missing", func(in *IssueInput) { delete(in.Claims, "birthdate") }, credential.FormatSDJWTVC, false, nil},
		{"holder without JWK", func(in *IssueInput) { in.Holder = &HolderKey{} }, "", true, nil},
		{"claims set iss", func(in *IssueInput) { in.Claims["iss"] = "https://evil.example" }, "", true, nil},
		{"no signer", func(in *IssueInput) { in.Signer = nil }, "", true, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := sdfInput(t, signer, holder)
			tt.edit(&in)
			out, err := (sdJWTVCFormat{}).Issue(context.Background(), in)
			if tt.wantErr {
				if err == nil {
					t.Errorf("Issue(%s) = %v, want an error", tt.name, out)
				}
				return
			}
			if err != nil {
				t.Fatalf("Issue(%s) error = %v", tt.name, err)
			}
			tok, err := sdjwt.VerifyVC(context.Background(), out.(string), sdjwt.VerifyOptions{
				Keys: credtest.Resolver(signer),
				Algs: []string{"ES256"},
				Now:  func() time.Time { return in.IssuedAt },
			})
			if err != nil {
				t.Fatalf("VerifyVC(Issue(%s)) error = %v", tt.name, err)
			}
			if got := tok.Header["typ"]; got != tt.wantTyp {
				t.Errorf("Issue(%s) typ = %v, want %s", tt.name, got, tt.wantTyp)
			}
			if tt.check != nil {
				tt.check(t, tok)
			}
		})
	}
}

// TestSDJWTFormatShippedTemplates checks the SD-JWT VC templates shipped
// in templates/: they pass Validate, and a credential issued from claims
// shaped like the template verifies with every Disclosable claim
// disclosable.
func TestSDJWTFormatShippedTemplates(t *testing.T) {
	configs, err := LoadTemplates(templates.FS(), "https://id.example/issuer")
	if err != nil {
		t.Fatalf("LoadTemplates() error = %v", err)
	}
	signer := credtest.NewSigner(t, "ES256", "issuer-1")
	n := 0
	for _, c := range configs {
		if c.Format != credential.FormatSDJWTVC {
			continue
		}
		n++
		if err := (sdJWTVCFormat{}).Validate(c); err != nil {
			t.Errorf("Validate(%s) = %v, want nil", c.ID, err)
		}
		in := sdfInput(t, signer, nil)
		in.Config = c
		in.Claims = sdfFill(c.Subject).(map[string]any)
		out, err := (sdJWTVCFormat{}).Issue(context.Background(), in)
		if err != nil {
			t.Errorf("Issue(%s) error = %v", c.ID, err)
			continue
		}
		tok, err := sdjwt.VerifyVC(context.Background(), out.(string), sdjwt.VerifyOptions{
			Keys: credtest.Resolver(signer), Algs: []string{"ES256"}, Now: func() time.Time { return in.IssuedAt },
		})
		if err != nil {
			t.Errorf("VerifyVC(Issue(%s)) error = %v", c.ID, err)
			continue
		}
		disclosed := map[string]bool{}
		for _, d := range tok.Disclosures {
			disclosed[d.Path.String()] = true
		}
		for _, cl := range c.Claims {
			_, reached := sdLookup(c.Subject, cl.Path)
			if p := sdClaimPath(cl.Path).String(); cl.Disclosable && reached && !disclosed[p] {
				t.Errorf("Issue(%s) has no disclosure at %s, want the Disclosable claim disclosable", c.ID, p)
			}
		}
	}
	if n == 0 {
		t.Skip("no dc+sd-jwt template in templates/")
	}
}

// sdfFill replaces every template string with a plain value, as rendering
// would.
func sdfFill(v any) any {
	switch x := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = sdfFill(e)
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = sdfFill(e)
		}
		return out
	case string:
		return "value"
	}
	return v
}

// sdLookup reports whether path reaches a value in the template without
// going through an expression (whose rendered shape the test cannot know).
func sdLookup(tmpl map[string]any, path []string) (any, bool) {
	var v any = tmpl
	for _, k := range path {
		m, ok := v.(map[string]any)
		if !ok {
			return nil, false
		}
		if v, ok = m[k]; !ok {
			return nil, false
		}
	}
	return v, true
}
