package oidc

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"
)

var claimsUpdate = flag.Bool("update-claims", false, "rewrite the golden files of claims_test.go")

// claimsDemoResident is an entry of idrepo/demo/residents.json.
type claimsDemoResident struct {
	UIN      string         `json:"uin"`
	Identity map[string]any `json:"identity"`
}

// claimsDemo loads the demo residents afresh (tests may modify them).
func claimsDemo(t testing.TB) []claimsDemoResident {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "idrepo", "demo", "residents.json"))
	if err != nil {
		t.Fatal(err)
	}
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	var rs []claimsDemoResident
	if err := d.Decode(&rs); err != nil {
		t.Fatal(err)
	}
	if len(rs) < 4 {
		t.Fatalf("demo residents: %d, want at least 4", len(rs))
	}
	return rs
}

// claimsML builds a multi-language field: language, value, language, value...
func claimsML(pairs ...string) []any {
	var out []any
	for i := 0; i+1 < len(pairs); i += 2 {
		out = append(out, map[string]any{"language": pairs[i], "value": pairs[i+1]})
	}
	return out
}

// claimsHas reports whether claims holds claim name or a language variant.
func claimsHas(claims map[string]any, name string) bool {
	for k := range claims {
		if k == name || strings.HasPrefix(k, name+"#") {
			return true
		}
	}
	return false
}

func claimsJSON(t testing.TB, v any) string {
	t.Helper()
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		t.Fatal(err)
	}
	return strings.TrimSuffix(b.String(), "\n")
}

func TestParseClaimsRequest(t *testing.T) {
	many := func(n int, sec string) string {
		var m []string
		for i := range n {
			m = append(m, `"c`+strconv.Itoa(i)+`":null`)
		}
		return `"` + sec + `":{` + strings.Join(m, ",") + `}`
	}
	values := func(n int) string {
		return `{"id_token":{"acr":{"values":["` + strings.Repeat(`a","`, n-1) + `a"]}}}`
	}
	arabic300 := strings.Repeat("ب", 300)
	tests := []struct {
		name string
		in   string
		want *ClaimsRequest
		err  string // the error description, "" for success
	}{
		{name: "absent", in: "", want: &ClaimsRequest{}},
		{name: "empty object", in: `{}`, want: &ClaimsRequest{}},
		{name: "whitespace", in: " \n\t{ } \n", want: &ClaimsRequest{}},
		{name: "eSignet sample",
			in: `{"userinfo":{"name":{"essential":true},"email":null,"phone_number":{"essential":false,"purpose":"To call you"}},` +
				`"id_token":{"acr":{"values":["mosip:idp:acr:generated-code","mosip:idp:acr:static-code"]}}}`,
			want: &ClaimsRequest{
				UserInfo: map[string]*ClaimRequest{"name": {Essential: true}, "email": nil, "phone_number": {Purpose: "To call you"}},
				IDToken:  map[string]*ClaimRequest{"acr": {Values: []string{"mosip:idp:acr:generated-code", "mosip:idp:acr:static-code"}}},
			}},
		{name: "empty sections", in: `{"userinfo":{},"id_token":{}}`, want: &ClaimsRequest{}},
		{name: "unknown top-level members ignored", in: `{"credential":{"x":[1,{"y":null}]},"userinfo":{"email":null},"n":5}`,
			want: &ClaimsRequest{UserInfo: map[string]*ClaimRequest{"email": nil}}},
		{name: "unknown claim members ignored", in: `{"userinfo":{"name":{"essential":true,"verification":{"trust_framework":"x"},"max_age":3}}}`,
			want: &ClaimsRequest{UserInfo: map[string]*ClaimRequest{"name": {Essential: true}}}},
		{name: "null members are absent", in: `{"userinfo":{"name":{"essential":null,"value":null,"values":null,"purpose":null}}}`,
			want: &ClaimsRequest{UserInfo: map[string]*ClaimRequest{"name": {}}}},
		{name: "empty values", in: `{"id_token":{"acr":{"values":[]}}}`,
			want: &ClaimsRequest{IDToken: map[string]*ClaimRequest{"acr": {}}}},
		{name: "value and values", in: `{"id_token":{"acr":{"value":"a","values":["b","c"],"essential":true}}}`,
			want: &ClaimsRequest{IDToken: map[string]*ClaimRequest{"acr": {Essential: true, Value: "a", Values: []string{"b", "c"}}}}},
		{name: "language-tagged claim", in: `{"userinfo":{"name#fra":null}}`,
			want: &ClaimsRequest{UserInfo: map[string]*ClaimRequest{"name#fra": nil}}},
		{name: "purpose of 3 characters", in: `{"userinfo":{"name":{"purpose":"abc"}}}`,
			want: &ClaimsRequest{UserInfo: map[string]*ClaimRequest{"name": {Purpose: "abc"}}}},
		{name: "purpose of 300 Arabic characters", in: `{"userinfo":{"name":{"purpose":"` + arabic300 + `"}}}`,
			want: &ClaimsRequest{UserInfo: map[string]*ClaimRequest{"name": {Purpose: arabic300}}}},
		{name: "escapes decoded", in: `{"userinfo":{"name":{"purpose":"\u003cb\u003e \"x\""}}}`,
			want: &ClaimsRequest{UserInfo: map[string]*ClaimRequest{"name": {Purpose: `<b> "x"`}}}},
		{name: "100 members", in: `{` + many(60, "userinfo") + `,` + many(40, "id_token") + `}`},
		{name: "100 values", in: values(100)},

		{name: "null", in: `null`, err: "claims: must be a JSON object"},
		{name: "array", in: `[{"userinfo":{}}]`, err: "claims: must be a JSON object"},
		{name: "string", in: `"userinfo"`, err: "claims: must be a JSON object"},
		{name: "number", in: `42`, err: "claims: must be a JSON object"},
		{name: "userinfo null", in: `{"userinfo":null}`, err: "claims: userinfo must be an object"},
		{name: "userinfo array", in: `{"userinfo":["name"]}`, err: "claims: userinfo must be an object"},
		{name: "id_token string", in: `{"id_token":"acr"}`, err: "claims: id_token must be an object"},
		{name: "claim true", in: `{"userinfo":{"name":true}}`, err: "claims: userinfo.name: must be an object or null"},
		{name: "claim array", in: `{"id_token":{"acr":["x"]}}`, err: "claims: id_token.acr: must be an object or null"},
		{name: "claim string", in: `{"userinfo":{"name":"essential"}}`, err: "claims: userinfo.name: must be an object or null"},
		{name: "essential string", in: `{"userinfo":{"name":{"essential":"true"}}}`, err: "claims: userinfo.name: essential must be a boolean"},
		{name: "essential number", in: `{"userinfo":{"name":{"essential":1}}}`, err: "claims: userinfo.name: essential must be a boolean"},
		{name: "essential object", in: `{"id_token":{"acr":{"essential":{}}}}`, err: "claims: id_token.acr: essential must be a boolean"},
		{name: "value number", in: `{"userinfo":{"email":{"value":5}}}`, err: "claims: userinfo.email: value must be a string"},
		{name: "value object", in: `{"userinfo":{"email":{"value":{"a":"b"}}}}`, err: "claims: userinfo.email: value must be a string"},
		{name: "values string", in: `{"id_token":{"acr":{"values":"a"}}}`, err: "claims: id_token.acr: values must be an array of strings"},
		{name: "values numbers", in: `{"id_token":{"acr":{"values":[1]}}}`, err: "claims: id_token.acr: values must be an array of strings"},
		{name: "values null item", in: `{"id_token":{"acr":{"values":["a",null]}}}`, err: "claims: id_token.acr: values must be an array of strings"},
		{name: "values nested", in: `{"id_token":{"acr":{"values":[["a"]]}}}`, err: "claims: id_token.acr: values must be an array of strings"},
		{name: "101 values", in: values(101), err: "claims: id_token.acr: more than 100 values"},
		{name: "purpose too short", in: `{"userinfo":{"name":{"purpose":"ab"}}}`, err: "claims: userinfo.name: purpose must be 3 to 300 characters"},
		{name: "purpose empty", in: `{"userinfo":{"name":{"purpose":""}}}`, err: "claims: userinfo.name: purpose must be 3 to 300 characters"},
		{name: "purpose too long", in: `{"userinfo":{"name":{"purpose":"` + arabic300 + `b"}}}`, err: "claims: userinfo.name: purpose must be 3 to 300 characters"},
		{name: "purpose number", in: `{"userinfo":{"name":{"purpose":300}}}`, err: "claims: userinfo.name: purpose must be a string"},
		{name: "101 members", in: `{` + many(61, "userinfo") + `,` + many(40, "id_token") + `}`, err: "claims: more than 100 claims"},
		{name: "too large", in: `{"x":"` + strings.Repeat("a", 8<<10) + `"}`, err: "claims: larger than 8 KiB"},
		{name: "invalid UTF-8", in: "{\"userinfo\":{\"name\":{\"purpose\":\"ab\xffc\"}}}", err: "claims: not valid UTF-8"},
		{name: "truncated", in: `{"userinfo":`, err: "claims: not valid JSON"},
		{name: "truncated claim", in: `{"userinfo":{"name":{"essential":true`, err: "claims: not valid JSON"},
		{name: "syntax error", in: `{"userinfo":{"name":{"essential":tru}}}`, err: "claims: not valid JSON"},
		{name: "bad unknown member", in: `{"x":[}`, err: "claims: not valid JSON"},
		{name: "missing comma", in: `{"userinfo":{} "id_token":{}}`, err: "claims: not valid JSON"},
		{name: "trailing object", in: `{}{}`, err: "claims: data after the JSON object"},
		{name: "trailing garbage", in: `{} x`, err: "claims: data after the JSON object"},
		{name: "duplicate section", in: `{"userinfo":{},"userinfo":{"name":null}}`, err: "claims: duplicate top-level member"},
		{name: "duplicate claim", in: `{"userinfo":{"name":null,"name":{"essential":true}}}`, err: "claims: userinfo.name: duplicate claim"},
		{name: "duplicate essential", in: `{"userinfo":{"name":{"essential":false,"essential":true}}}`, err: "claims: userinfo.name: duplicate essential"},
		{name: "duplicate unknown member", in: `{"userinfo":{"name":{"x":1,"x":2}}}`, err: "claims: userinfo.name: duplicate member"},
		{name: "empty claim name", in: `{"userinfo":{"":null}}`, err: "claims: userinfo.(member 1): empty claim name"},
		{name: "long claim name", in: `{"userinfo":{"a":null,"` + strings.Repeat("n", 129) + `":null}}`, err: "claims: userinfo.(member 2): claim name longer than 128 bytes"},
		{name: "claim name not echoed", in: `{"userinfo":{"<script>alert(1)</script>":{"essential":"yes"}}}`,
			err: "claims: userinfo.(member 1): essential must be a boolean"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseClaimsRequest(tc.in)
			if tc.err != "" {
				var e *Error
				if !errors.As(err, &e) || e.Code != CodeInvalidRequest || e.Status != http.StatusBadRequest || e.Description != tc.err {
					t.Fatalf("ParseClaimsRequest(%.80q) = %v, want invalid_request %q", tc.in, err, tc.err)
				}
				if got != nil {
					t.Errorf("ParseClaimsRequest(%.80q) = %+v with an error, want nil", tc.in, got)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseClaimsRequest(%.80q) = %v, want no error", tc.in, err)
			}
			if tc.want != nil && !reflect.DeepEqual(got, tc.want) {
				t.Errorf("ParseClaimsRequest(%.80q) = %s, want %s", tc.in, claimsJSON(t, got), claimsJSON(t, tc.want))
			}
		})
	}
}

func TestClaimsRequestHelpers(t *testing.T) {
	tests := []struct {
		name         string
		in           string
		acr          []string
		acrEssential bool
		essential    []string
		voluntary    []string
	}{
		{name: "absent", in: "", essential: []string{}, voluntary: []string{}},
		{name: "acr values", in: `{"id_token":{"acr":{"essential":true,"values":["b","a","b",""]}}}`,
			acr: []string{"b", "a"}, acrEssential: true, essential: []string{"acr"}, voluntary: []string{}},
		{name: "acr value", in: `{"id_token":{"acr":{"value":"a"}}}`, acr: []string{"a"}, essential: []string{}, voluntary: []string{"acr"}},
		{name: "acr value and values", in: `{"id_token":{"acr":{"value":"c","values":["a","c"]}}}`, acr: []string{"a", "c"},
			essential: []string{}, voluntary: []string{"acr"}},
		{name: "acr null", in: `{"id_token":{"acr":null}}`, essential: []string{}, voluntary: []string{"acr"}},
		{name: "acr in userinfo is not an ACR request", in: `{"userinfo":{"acr":{"essential":true,"values":["a"]}}}`,
			essential: []string{"acr"}, voluntary: []string{}},
		{name: "essential in either section wins",
			in:        `{"userinfo":{"name":null,"email":{"essential":true},"gender":{}},"id_token":{"name":{"essential":true},"email":null,"birthdate":{"essential":false}}}`,
			essential: []string{"email", "name"}, voluntary: []string{"birthdate", "gender"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r, err := ParseClaimsRequest(tc.in)
			if err != nil {
				t.Fatal(err)
			}
			if got := r.ACRValues(); !slices.Equal(got, tc.acr) {
				t.Errorf("ACRValues() = %q, want %q", got, tc.acr)
			}
			if got := r.ACREssential(); got != tc.acrEssential {
				t.Errorf("ACREssential() = %v, want %v", got, tc.acrEssential)
			}
			if got := r.Essential(); !reflect.DeepEqual(got, tc.essential) {
				t.Errorf("Essential() = %q, want %q", got, tc.essential)
			}
			if got := r.Voluntary(); !reflect.DeepEqual(got, tc.voluntary) {
				t.Errorf("Voluntary() = %q, want %q", got, tc.voluntary)
			}
		})
	}
	t.Run("nil request", func(t *testing.T) {
		var r *ClaimsRequest
		if r.ACRValues() != nil || r.ACREssential() || r.Essential() != nil || r.Voluntary() != nil {
			t.Errorf("nil *ClaimsRequest helpers = %q %v %q %q, want zero values", r.ACRValues(), r.ACREssential(), r.Essential(), r.Voluntary())
		}
	})
}

func TestRequestedClaims(t *testing.T) {
	all := SupportedClientClaims
	profile := []string{"birthdate", "family_name", "gender", "given_name", "locale", "middle_name", "name", "nickname", "picture", "preferred_username"}
	tests := []struct {
		name         string
		scopes       []string
		claims       string
		registered   []string
		essential    []string
		voluntary    []string
		unregistered []string
	}{
		{name: "nothing", registered: all, essential: []string{}, voluntary: []string{}, unregistered: []string{}},
		{name: "openid only", scopes: []string{"openid"}, registered: all, essential: []string{}, voluntary: []string{}, unregistered: []string{}},
		{name: "profile keeps supported claims", scopes: []string{"openid", "profile"}, registered: all,
			essential: []string{}, voluntary: profile, unregistered: []string{}},
		{name: "all standard scopes", scopes: []string{"openid", "profile", "email", "phone", "address"}, registered: all,
			essential: []string{}, voluntary: slices.Sorted(slices.Values(append(slices.Clone(profile),
				"email", "email_verified", "phone_number", "phone_number_verified", "address"))), unregistered: []string{}},
		{name: "restricted to registered", scopes: []string{"openid", "profile", "email"}, registered: []string{"name", "email", "birthdate"},
			essential: []string{}, voluntary: []string{"birthdate", "email", "name"},
			unregistered: []string{"email_verified", "family_name", "gender", "given_name", "locale", "middle_name", "nickname", "picture", "preferred_username"}},
		{name: "nothing registered", scopes: []string{"profile"}, claims: `{"userinfo":{"email":{"essential":true}}}`, registered: nil,
			essential: []string{}, voluntary: []string{}, unregistered: slices.Sorted(slices.Values(append(slices.Clone(profile), "email")))},
		{name: "essential wins over scope", scopes: []string{"openid", "email"}, claims: `{"userinfo":{"email":{"essential":true}}}`,
			registered: all, essential: []string{"email"}, voluntary: []string{"email_verified"}, unregistered: []string{}},
		{name: "essential in id_token wins over userinfo",
			claims:     `{"userinfo":{"name":null,"gender":{"essential":false}},"id_token":{"name":{"essential":true}}}`,
			registered: all, essential: []string{"name"}, voluntary: []string{"gender"}, unregistered: []string{}},
		{name: "language tag removed", claims: `{"userinfo":{"name#fra":{"essential":true},"gender#ara":null}}`,
			registered: all, essential: []string{"name"}, voluntary: []string{"gender"}, unregistered: []string{}},
		{name: "unsupported claims dropped", scopes: []string{"offline_access", "uin"},
			claims:     `{"userinfo":{"website":{"essential":true},"UIN":{"essential":true},"uin":null},"id_token":{"acr":{"essential":true},"auth_time":null}}`,
			registered: append(slices.Clone(all), "uin", "UIN", "website"), essential: []string{}, voluntary: []string{}, unregistered: []string{}},
		{name: "essential unregistered claim dropped", claims: `{"userinfo":{"phone_number":{"essential":true},"name":{"essential":true}}}`,
			registered: []string{"name"}, essential: []string{"name"}, voluntary: []string{}, unregistered: []string{"phone_number"}},
		{name: "individual_id passes (IdentityClaims never fills it)", claims: `{"userinfo":{"individual_id":{"essential":true}}}`,
			registered: all, essential: []string{"individual_id"}, voluntary: []string{}, unregistered: []string{}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cr, err := ParseClaimsRequest(tc.claims)
			if err != nil {
				t.Fatal(err)
			}
			if tc.claims == "" {
				cr = nil // nil is accepted too
			}
			e, v := RequestedClaims(tc.scopes, cr, tc.registered)
			if !reflect.DeepEqual(e, tc.essential) || !reflect.DeepEqual(v, tc.voluntary) {
				t.Errorf("RequestedClaims(%q, %s, %q) = %q, %q, want %q, %q", tc.scopes, tc.claims, tc.registered, e, v, tc.essential, tc.voluntary)
			}
			if u := UnregisteredClaims(tc.scopes, cr, tc.registered); !reflect.DeepEqual(u, tc.unregistered) {
				t.Errorf("UnregisteredClaims(%q, %s, %q) = %q, want %q", tc.scopes, tc.claims, tc.registered, u, tc.unregistered)
			}
		})
	}
}

func TestScopeClaims(t *testing.T) {
	if got := ScopeClaims("email"); !slices.Equal(got, []string{"email", "email_verified"}) {
		t.Errorf(`ScopeClaims("email") = %q`, got)
	}
	if got := ScopeClaims("openid"); got != nil {
		t.Errorf(`ScopeClaims("openid") = %q, want nil`, got)
	}
	ScopeClaims("phone")[0] = "x"
	if got := ScopeClaims("phone"); got[0] != "phone_number" {
		t.Errorf(`ScopeClaims("phone") = %q after the caller changed a copy`, got)
	}
}

func TestIdentityClaimsDemo(t *testing.T) {
	rs := claimsDemo(t)
	amina, jean, fatima, kwame := rs[0].Identity, rs[1].Identity, rs[2].Identity, rs[3].Identity
	tests := []struct {
		name     string
		identity map[string]any
		names    []string
		locales  []string
		want     map[string]any
	}{
		{name: "no locale: first language of the data", identity: amina, names: []string{"gender"},
			want: map[string]any{"gender": "Female"}},
		{name: "no locale, French first", identity: jean, names: []string{"gender"}, want: map[string]any{"gender": "Homme"}},
		{name: "no locale, Arabic first", identity: fatima, names: []string{"name"}, want: map[string]any{"name": "فاطمة الزهراء العمراني"}},
		{name: "one ISO 639-3 locale", identity: amina, names: []string{"gender"}, locales: []string{"fra"},
			want: map[string]any{"gender#fra": "Femme", "gender": "Femme"}},
		{name: "one BCP 47 locale", identity: amina, names: []string{"gender"}, locales: []string{"fr"},
			want: map[string]any{"gender#fr": "Femme", "gender": "Femme"}},
		{name: "BCP 47 locale with region", identity: amina, names: []string{"gender"}, locales: []string{"ar-SN"},
			want: map[string]any{"gender#ar-SN": "أنثى", "gender": "أنثى"}},
		{name: "two locales matched: tagged only", identity: amina, names: []string{"gender", "given_name"}, locales: []string{"ar", "fr"},
			want: map[string]any{"gender#ar": "أنثى", "gender#fr": "Femme", "given_name#ar": "أمينة", "given_name#fr": "Amina"}},
		{name: "three locales matched", identity: fatima, names: []string{"family_name"}, locales: []string{"eng", "fra", "ara"},
			want: map[string]any{"family_name#eng": "El Amrani", "family_name#fra": "El Amrani", "family_name#ara": "العمراني"}},
		{name: "same language twice: first tag wins", identity: amina, names: []string{"gender"}, locales: []string{"fra", "fr", "fr-FR"},
			want: map[string]any{"gender#fra": "Femme", "gender": "Femme"}},
		{name: "two requested, one matched", identity: jean, names: []string{"gender"}, locales: []string{"ara", "fra"},
			want: map[string]any{"gender#fra": "Homme", "gender": "Homme"}},
		{name: "none matched: plain in first language", identity: kwame, names: []string{"gender"}, locales: []string{"ara", "deu"},
			want: map[string]any{"gender": "Male"}},
		{name: "unknown and malformed locales ignored", identity: fatima, names: []string{"gender"}, locales: []string{"xx-YY", "@@@", "", "english", "fra\"}"},
			want: map[string]any{"gender": "أنثى"}},
		{name: "unknown locale then known", identity: jean, names: []string{"gender"}, locales: []string{"qq", "en"},
			want: map[string]any{"gender#en": "Male", "gender": "Male"}},
		{name: "address, no locale", identity: amina, names: []string{"address"},
			want: map[string]any{"address": map[string]any{"street_address": "12 Baobab Street", "locality": "Dakar", "postal_code": "10200",
				"formatted": "12 Baobab Street, Dakar, 10200"}}},
		{name: "address in French", identity: amina, names: []string{"address"}, locales: []string{"fra"},
			want: map[string]any{
				"address#fra": map[string]any{"street_address": "12 rue des Baobabs", "locality": "Dakar", "postal_code": "10200", "formatted": "12 rue des Baobabs, Dakar, 10200"},
				"address":     map[string]any{"street_address": "12 rue des Baobabs", "locality": "Dakar", "postal_code": "10200", "formatted": "12 rue des Baobabs, Dakar, 10200"},
			}},
		{name: "address members in the language only", identity: amina, names: []string{"address"}, locales: []string{"ar", "en"},
			want: map[string]any{
				"address#ar": map[string]any{"locality": "داكار", "postal_code": "10200", "formatted": "داكار, 10200"},
				"address#en": map[string]any{"street_address": "12 Baobab Street", "locality": "Dakar", "postal_code": "10200", "formatted": "12 Baobab Street, Dakar, 10200"},
			}},
		{name: "address, Arabic city first", identity: fatima, names: []string{"address"},
			want: map[string]any{"address": map[string]any{"locality": "الرباط", "postal_code": "10000", "formatted": "الرباط, 10000"}}},
		{name: "address without postal code", identity: kwame, names: []string{"address"}, locales: []string{"fr"},
			want: map[string]any{"address#fr": map[string]any{"locality": "Accra", "formatted": "Accra"}, "address": map[string]any{"locality": "Accra", "formatted": "Accra"}}},
		{name: "scalars", identity: amina, names: []string{"birthdate", "email", "phone_number"}, locales: []string{"fra", "ara"},
			want: map[string]any{"birthdate": "1990-05-14", "email": "amina.diallo@example.org", "phone_number": "+447700900101"}},
		{name: "locale claim, no locale", identity: amina, names: []string{"locale"}, want: map[string]any{"locale": "en"}},
		{name: "locale claim, French", identity: amina, names: []string{"locale"}, locales: []string{"fra"}, want: map[string]any{"locale": "fr"}},
		{name: "locale claim, first matching", identity: jean, names: []string{"locale"}, locales: []string{"deu", "ar", "eng", "fra"}, want: map[string]any{"locale": "en"}},
		{name: "locale claim, none matching", identity: fatima, names: []string{"locale"}, locales: []string{"deu"}, want: map[string]any{"locale": "ar"}},
		{name: "never available", identity: amina, names: []string{"individual_id", "nickname", "preferred_username", "middle_name",
			"email_verified", "phone_number_verified", "picture", "uin", "UIN", "website", "name#fra"}, locales: []string{"fra"},
			want: map[string]any{}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			claims, available := IdentityClaims(tc.identity, tc.names, tc.locales)
			if !reflect.DeepEqual(claims, tc.want) {
				t.Errorf("IdentityClaims(%q, %q) = %s, want %s", tc.names, tc.locales, claimsJSON(t, claims), claimsJSON(t, tc.want))
			}
			for _, n := range tc.names {
				if has := claimsHas(claims, n); available[n] != has {
					t.Errorf("IdentityClaims(%q, %q) available[%q] = %v, want %v", tc.names, tc.locales, n, available[n], has)
				}
			}
			if len(available) != len(tc.names) {
				t.Errorf("IdentityClaims(%q, %q) available = %v, want one entry per name", tc.names, tc.locales, available)
			}
		})
	}
}

// TestIdentityClaimsGolden keeps every claim of every demo resident in a few
// locale combinations in testdata/claims/demo.golden.json.
func TestIdentityClaimsGolden(t *testing.T) {
	localeSets := [][]string{nil, {"eng"}, {"fr"}, {"ara", "fra"}, {"en", "fr", "ar"}, {"deu"}}
	got := map[string]map[string]any{}
	for i, r := range claimsDemo(t) {
		for _, ls := range localeSets {
			claims, available := IdentityClaims(r.Identity, SupportedClientClaims, ls)
			key := strconv.Itoa(i) + " claims_locales=" + strings.Join(ls, " ")
			got[key] = map[string]any{"claims": claims, "available": available}
		}
	}
	b, err := json.MarshalIndent(got, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	b = append(b, '\n')
	path := filepath.Join("testdata", "claims", "demo.golden.json")
	if *claimsUpdate {
		if err := os.WriteFile(path, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -run TestIdentityClaimsGolden ./oidc/ -update-claims)", err)
	}
	if !bytes.Equal(b, want) {
		t.Errorf("IdentityClaims of the demo residents differ from %s (rerun with -update-claims and review the diff); got:\n%s", path, b)
	}
}

func TestIdentityClaimsFields(t *testing.T) {
	jpeg := "/9j/4AAQSkZJRgABAQAAAQABAAD/2wBDAA=="
	photo := func(format, data any) map[string]any {
		return map[string]any{"photo": map[string]any{"format": format, "data": data}}
	}
	tests := []struct {
		name     string
		identity map[string]any
		names    []string
		locales  []string
		want     map[string]any
	}{
		{name: "nil identity", identity: nil, names: SupportedClientClaims, want: map[string]any{}},
		{name: "empty identity", identity: map[string]any{}, names: SupportedClientClaims, want: map[string]any{}},
		{name: "birthdate YYYY/MM/DD", identity: map[string]any{"dateOfBirth": "2000/02/29"}, names: []string{"birthdate"},
			want: map[string]any{"birthdate": "2000-02-29"}},
		{name: "birthdate YYYY-MM-DD", identity: map[string]any{"dateOfBirth": "1999-12-31"}, names: []string{"birthdate"},
			want: map[string]any{"birthdate": "1999-12-31"}},
		{name: "birthdate YYYY", identity: map[string]any{"dateOfBirth": "1987"}, names: []string{"birthdate"},
			want: map[string]any{"birthdate": "1987"}},
		{name: "birthdate 29 February of a common year", identity: map[string]any{"dateOfBirth": "2001/02/29"}, names: []string{"birthdate"}, want: map[string]any{}},
		{name: "birthdate month 13", identity: map[string]any{"dateOfBirth": "2001/13/01"}, names: []string{"birthdate"}, want: map[string]any{}},
		{name: "birthdate mixed separators", identity: map[string]any{"dateOfBirth": "1990-05/14"}, names: []string{"birthdate"}, want: map[string]any{}},
		{name: "birthdate short year", identity: map[string]any{"dateOfBirth": "90/05/14"}, names: []string{"birthdate"}, want: map[string]any{}},
		{name: "birthdate with time", identity: map[string]any{"dateOfBirth": "1990/05/14T00:00"}, names: []string{"birthdate"}, want: map[string]any{}},
		{name: "birthdate one-digit month", identity: map[string]any{"dateOfBirth": "1990/5/14"}, names: []string{"birthdate"}, want: map[string]any{}},
		{name: "birthdate number", identity: map[string]any{"dateOfBirth": json.Number("19900514")}, names: []string{"birthdate"}, want: map[string]any{}},
		{name: "birthdate empty", identity: map[string]any{"dateOfBirth": ""}, names: []string{"birthdate"}, want: map[string]any{}},
		{name: "email_verified only with its flag", identity: map[string]any{"email": "a@example.org", "phone": "+441234567890"},
			names: []string{"email", "email_verified", "phone_number", "phone_number_verified"},
			want:  map[string]any{"email": "a@example.org", "phone_number": "+441234567890"}},
		{name: "verified flags", identity: map[string]any{"email": "a@example.org", "emailVerified": true, "phone": "+441234567890", "phoneVerified": false},
			names: []string{"email_verified", "phone_number_verified"},
			want:  map[string]any{"email_verified": true, "phone_number_verified": false}},
		{name: "verified flag without the address", identity: map[string]any{"emailVerified": true, "phoneVerified": true},
			names: []string{"email_verified", "phone_number_verified"}, want: map[string]any{}},
		{name: "verified flag not a boolean", identity: map[string]any{"email": "a@example.org", "emailVerified": "true"},
			names: []string{"email_verified"}, want: map[string]any{}},
		{name: "scalars of the wrong type", identity: map[string]any{"email": 5, "phone": []any{"+441234567890"}, "postalCode": true},
			names: []string{"email", "phone_number", "address"}, want: map[string]any{}},
		{name: "photo jpeg", identity: photo("jpeg", jpeg), names: []string{"picture"}, want: map[string]any{"picture": "data:image/jpeg;base64," + jpeg}},
		{name: "photo jpg", identity: photo("jpg", jpeg), names: []string{"picture"}, want: map[string]any{"picture": "data:image/jpeg;base64," + jpeg}},
		{name: "photo JPEG", identity: photo("JPEG", jpeg), names: []string{"picture"}, want: map[string]any{"picture": "data:image/jpeg;base64," + jpeg}},
		{name: "photo png", identity: photo("png", "iVBORw0KGgo="), names: []string{"picture"}, want: map[string]any{"picture": "data:image/png;base64,iVBORw0KGgo="}},
		{name: "photo webp", identity: photo("webp", "UklGRg=="), names: []string{"picture"}, want: map[string]any{"picture": "data:image/webp;base64,UklGRg=="}},
		{name: "photo unpadded quantum", identity: photo("webp", "UklG"), names: []string{"picture"}, want: map[string]any{"picture": "data:image/webp;base64,UklG"}},
		{name: "photo gif", identity: photo("gif", "R0lGODlh"), names: []string{"picture"}, want: map[string]any{}},
		{name: "photo svg", identity: photo("svg+xml", "PHN2Zz4="), names: []string{"picture"}, want: map[string]any{}},
		{name: "photo format injection", identity: photo("jpeg;charset=x", jpeg), names: []string{"picture"}, want: map[string]any{}},
		{name: "photo format not a string", identity: photo(1, jpeg), names: []string{"picture"}, want: map[string]any{}},
		{name: "photo data not a string", identity: photo("jpeg", []byte("x")), names: []string{"picture"}, want: map[string]any{}},
		{name: "photo data empty", identity: photo("jpeg", ""), names: []string{"picture"}, want: map[string]any{}},
		{name: "photo data with a line break", identity: photo("jpeg", "/9j/\n4AAQ"), names: []string{"picture"}, want: map[string]any{}},
		{name: "photo data URL-safe base64", identity: photo("jpeg", "_9j_4AAQ"), names: []string{"picture"}, want: map[string]any{}},
		{name: "photo data bad length", identity: photo("jpeg", "/9j/4"), names: []string{"picture"}, want: map[string]any{}},
		{name: "photo data three pads", identity: photo("jpeg", "A==="), names: []string{"picture"}, want: map[string]any{}},
		{name: "photo data pad inside", identity: photo("jpeg", "AA==AAAA"), names: []string{"picture"}, want: map[string]any{}},
		{name: "photo data with a quote", identity: photo("jpeg", `AA"A`), names: []string{"picture"}, want: map[string]any{}},
		{name: "photo not an object", identity: map[string]any{"photo": "data:image/jpeg;base64," + jpeg}, names: []string{"picture"}, want: map[string]any{}},
		{name: "multi-language field not an array", identity: map[string]any{"fullName": "Amina Diallo"}, names: []string{"name"}, want: map[string]any{}},
		{name: "malformed entries skipped", names: []string{"name"}, identity: map[string]any{"fullName": []any{
			1, "x", nil, []any{"eng", "No"}, map[string]any{"language": 5, "value": "No"}, map[string]any{"language": "eng", "value": 7},
			map[string]any{"language": "eng", "value": ""}, map[string]any{"language": "english", "value": "No"},
			map[string]any{"value": "No"}, map[string]any{"language": "eng", "value": "Yes"}, map[string]any{"language": "eng", "value": "Duplicate"},
		}}, want: map[string]any{"name": "Yes"}},
		{name: "upper-case and short data languages", names: []string{"name"}, locales: []string{"fra", "eng"},
			identity: map[string]any{"fullName": claimsML("ENG", "Ann", "fr", "Anne")},
			want:     map[string]any{"name#eng": "Ann", "name#fra": "Anne"}},
		{name: "middle name", identity: map[string]any{"middleName": claimsML("eng", "Lee")}, names: []string{"middle_name"},
			want: map[string]any{"middle_name": "Lee"}},
		{name: "address lines, region", identity: map[string]any{
			"addressLine1": claimsML("eng", "Flat 2"), "addressLine2": claimsML("eng", "3 High Street"), "addressLine3": claimsML("eng", "Old Town"),
			"city": claimsML("eng", "Bristol"), "region": claimsML("eng", "South West"), "province": claimsML("eng", "Avon"), "postalCode": "BS1 4DJ",
		}, names: []string{"address"}, want: map[string]any{"address": map[string]any{
			"street_address": "Flat 2, 3 High Street, Old Town", "locality": "Bristol", "region": "South West", "postal_code": "BS1 4DJ",
			"formatted": "Flat 2, 3 High Street, Old Town, Bristol, South West, BS1 4DJ"}}},
		{name: "address province when no region", identity: map[string]any{
			"addressLine2": claimsML("fra", "Bâtiment B"), "province": claimsML("fra", "Atsinanana", "eng", "Atsinanana Region"),
		}, names: []string{"address"}, locales: []string{"en"}, want: map[string]any{
			"address#en": map[string]any{"region": "Atsinanana Region", "formatted": "Atsinanana Region"},
			"address":    map[string]any{"region": "Atsinanana Region", "formatted": "Atsinanana Region"}}},
		{name: "address postal code alone has no language", identity: map[string]any{"postalCode": "10200"}, names: []string{"address"},
			locales: []string{"fra"}, want: map[string]any{"address": map[string]any{"postal_code": "10200", "formatted": "10200"}}},
		{name: "locale from address languages", identity: map[string]any{"city": claimsML("khm", "ភ្នំពេញ"), "fullName": claimsML("eng", "Sok")},
			names: []string{"locale"}, locales: []string{"km"}, want: map[string]any{"locale": "km"}},
		{name: "locale of an unlisted language", identity: map[string]any{"fullName": claimsML("kab", "Ɣ")}, names: []string{"locale"},
			want: map[string]any{"locale": "kab"}},
		{name: "locale without languages", identity: map[string]any{"email": "a@example.org"}, names: []string{"locale"}, want: map[string]any{}},
		{name: "Filipino via tl", identity: map[string]any{"gender": claimsML("fil", "Babae", "eng", "Female")}, names: []string{"gender", "locale"},
			locales: []string{"tl"}, want: map[string]any{"gender#tl": "Babae", "gender": "Babae", "locale": "tl"}},
		{name: "duplicate names", identity: map[string]any{"email": "a@example.org"}, names: []string{"email", "email"},
			want: map[string]any{"email": "a@example.org"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			claims, available := IdentityClaims(tc.identity, tc.names, tc.locales)
			if !reflect.DeepEqual(claims, tc.want) {
				t.Errorf("IdentityClaims(%s, %q, %q) = %s, want %s", claimsJSON(t, tc.identity), tc.names, tc.locales, claimsJSON(t, claims), claimsJSON(t, tc.want))
			}
			for _, n := range tc.names {
				if has := claimsHas(claims, n); available[n] != has {
					t.Errorf("IdentityClaims(..., %q, %q) available[%q] = %v, want %v", tc.names, tc.locales, n, available[n], has)
				}
			}
		})
	}
}

// TestIdentityClaimsExactValues checks that values are copied byte for byte:
// no escaping, no Unicode normalisation, Arabic as it is stored.
func TestIdentityClaimsExactValues(t *testing.T) {
	rs := claimsDemo(t)
	tests := []struct {
		name  string
		value string
	}{
		{name: "Arabic from the demo", value: claimsMLValue(t, rs[2].Identity, "fullName", "ara")},
		{name: "Arabic with diacritics and marks", value: "مُحَمَّد\u200f بن\u200c علي"},
		{name: "decomposed accent stays decomposed", value: "Rene\u0301e"},
		{name: "JSON injection", value: `"},"admin":true,"x":{"`},
		{name: "HTML", value: `<script>alert("x")</script> & <b>`},
		{name: "line separators and controls", value: "a\u2028b\u2029c\td"},
		{name: "emoji and astral", value: "👩🏽‍💻 𝒜"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if !utf8.ValidString(tc.value) || tc.value == "" {
				t.Fatalf("bad test value %q", tc.value)
			}
			identity := map[string]any{"fullName": claimsML("ara", tc.value, "eng", "x"), "addressLine1": claimsML("ara", tc.value), "email": tc.value}
			claims, _ := IdentityClaims(identity, []string{"name", "address", "email"}, []string{"ar"})
			for _, got := range []any{claims["name"], claims["name#ar"], claims["email"]} {
				if s, ok := got.(string); !ok || s != tc.value || !bytes.Equal([]byte(s), []byte(tc.value)) {
					t.Errorf("IdentityClaims copied %q as %q", tc.value, got)
				}
			}
			if got := claims["address"].(map[string]any)["street_address"]; got != tc.value {
				t.Errorf("IdentityClaims copied street %q as %q", tc.value, got)
			}
			// The claims survive a JSON round trip unchanged, with no member
			// smuggled in.
			var back map[string]any
			if err := json.Unmarshal([]byte(claimsJSON(t, claims)), &back); err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(back, claims) {
				t.Errorf("JSON round trip of %s = %v", claimsJSON(t, claims), back)
			}
		})
	}
}

func claimsMLValue(t *testing.T, identity map[string]any, field, lang string) string {
	t.Helper()
	for _, e := range identity[field].([]any) {
		if m := e.(map[string]any); m["language"] == lang {
			return m["value"].(string)
		}
	}
	t.Fatalf("no %s in %s", lang, field)
	return ""
}

// TestIdentityClaimsNeverReleasesUIN requests every supported claim, one at a
// time and all together, in several locale combinations, from the demo
// identities carrying their UIN under every key a repository might use, and
// checks that the UIN appears nowhere.
func TestIdentityClaimsNeverReleasesUIN(t *testing.T) {
	localeSets := [][]string{nil, {"eng"}, {"fra", "ara"}, {"en", "fr", "ar", "am"}, {"UIN"}, {"uin"}}
	for _, r := range claimsDemo(t) {
		id := r.Identity
		for _, k := range []string{"UIN", "uin", "individualId", "individual_id", "id", "sub", "VID"} {
			id[k] = r.UIN
		}
		id["registrationId"] = claimsML("eng", r.UIN)
		id["photo"] = map[string]any{"format": "jpeg", "data": "/9j/4AAQ"}
		id["emailVerified"], id["phoneVerified"] = true, true
		nameSets := [][]string{SupportedClientClaims, {"UIN", "uin", "VID", "id", "sub", "individualId", "registrationId"}}
		for _, c := range SupportedClientClaims {
			nameSets = append(nameSets, []string{c})
		}
		for _, names := range nameSets {
			for _, ls := range localeSets {
				claims, available := IdentityClaims(id, names, ls)
				if s := claimsJSON(t, claims); strings.Contains(s, r.UIN) {
					t.Errorf("IdentityClaims(%q, %q) = %s, which holds the UIN", names, ls, s)
				}
				if available["individual_id"] {
					t.Errorf("IdentityClaims(%q, %q) says individual_id is available", names, ls)
				}
			}
		}
	}
}

func TestClaimLabel(t *testing.T) {
	for _, c := range SupportedClientClaims {
		eng := ClaimLabel(c, "eng")
		for _, lang := range []string{"eng", "fra", "ara", "en", "fr", "ar", "fr-CA"} {
			l := ClaimLabel(c, lang)
			if l == "" || l == c || strings.ContainsAny(l, "_") {
				t.Errorf("ClaimLabel(%q, %q) = %q, want a label", c, lang, l)
			}
			if lang == "ara" && (l == eng || !strings.ContainsFunc(l, func(r rune) bool { return r >= 0x600 && r <= 0x6ff })) {
				t.Errorf("ClaimLabel(%q, %q) = %q, want Arabic", c, lang, l)
			}
		}
	}
	tests := []struct {
		name, claim, lang, want string
	}{
		{name: "English", claim: "birthdate", lang: "eng", want: "Date of birth"},
		{name: "French by ISO 639-1", claim: "birthdate", lang: "fr", want: "Date de naissance"},
		{name: "Arabic", claim: "phone_number", lang: "ara", want: "رقم الهاتف"},
		{name: "unknown language falls back to English", claim: "gender", lang: "deu", want: "Gender"},
		{name: "no language", claim: "gender", lang: "", want: "Gender"},
		{name: "malformed language", claim: "gender", lang: "f!", want: "Gender"},
		{name: "language tag on the claim", claim: "name#ara", lang: "fra", want: "Nom complet"},
		{name: "unknown claim", claim: "website", lang: "fra", want: "website"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := ClaimLabel(tc.claim, tc.lang); got != tc.want {
				t.Errorf("ClaimLabel(%q, %q) = %q, want %q", tc.claim, tc.lang, got, tc.want)
			}
		})
	}
}

func TestClaimsLanguageTable(t *testing.T) {
	pairs := [][2]string{{"en", "eng"}, {"fr", "fra"}, {"ar", "ara"}, {"es", "spa"}, {"pt", "por"}, {"am", "amh"},
		{"sw", "swa"}, {"hi", "hin"}, {"km", "khm"}, {"tl", "fil"}}
	for _, p := range pairs {
		if got, ok := claimsLanguage(p[0]); !ok || got != p[1] {
			t.Errorf("claimsLanguage(%q) = %q, %v, want %q", p[0], got, ok, p[1])
		}
		if got := claimsBCP47(p[1]); got != p[0] {
			t.Errorf("claimsBCP47(%q) = %q, want %q", p[1], got, p[0])
		}
	}
	for short, long := range claimsLanguages {
		if len(short) != 2 || len(long) != 3 || claimsBCP47(long) != short {
			t.Errorf("claimsLanguages[%q] = %q: not a two-way ISO 639-1 to 639-3 pair", short, long)
		}
	}
	tests := []struct {
		in   string
		want string
		ok   bool
	}{
		{"ara", "ara", true}, {"AR", "ara", true}, {"fr-CA", "fra", true}, {"pt_BR", "por", true}, {"kab", "kab", true},
		{"xx", "", false}, {"", "", false}, {"e", "", false}, {"engl", "", false}, {"é", "", false}, {"1a-b", "", false},
	}
	for _, tc := range tests {
		if got, ok := claimsLanguage(tc.in); got != tc.want || ok != tc.ok {
			t.Errorf("claimsLanguage(%q) = %q, %v, want %q, %v", tc.in, got, ok, tc.want, tc.ok)
		}
	}
}

func FuzzParseClaimsRequest(f *testing.F) {
	for _, s := range []string{
		``, `{}`, `null`, `[]`, `"x"`, `{"userinfo":null}`, `{"userinfo":[]}`,
		`{"userinfo":{"name":{"essential":true},"email":null,"phone_number":{"purpose":"To call you"}},"id_token":{"acr":{"values":["mosip:idp:acr:generated-code"]}}}`,
		`{"userinfo":{"name#fra":{"essential":false,"value":"x","values":["a","b"],"purpose":"abc"}}}`,
		`{"userinfo":{"name":{"essential":"true"}}}`, `{"userinfo":{"name":{"values":[1]}}}`,
		`{"userinfo":{"name":{"purpose":"ab"}}}`, `{"userinfo":{"name":null,"name":null}}`, `{"x":{"y":[1,2,{"z":null}]}}`,
		`{"userinfo":{"":null}}`, `{} {}`, `{"userinfo":{"n":{"essential":null,"value":null,"values":null,"purpose":null}}}`,
		`{"id_token":{"acr":{"values":[]}}}`, `{"userinfo":{}}`, "{\"userinfo\":{\"\xff\":null}}", `{"userinfo":{"a":{"b":`,
		`{"userinfo":{"<script>":{"value":"\u003c\u2028"}}}`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		r, err := ParseClaimsRequest(s)
		if err != nil {
			var e *Error
			if !errors.As(err, &e) || e.Code != CodeInvalidRequest || !strings.HasPrefix(e.Description, "claims: ") || r != nil {
				t.Fatalf("ParseClaimsRequest(%q) = %v, %v, want nil and an invalid_request error", s, r, err)
			}
			if !utf8.ValidString(e.Description) || strings.ContainsAny(e.Description, "<>\"'\n") {
				t.Fatalf("ParseClaimsRequest(%q) error description %q is not safe to show", s, e.Description)
			}
			return
		}
		if len(s) > maxClaimsRequestSize || len(r.UserInfo)+len(r.IDToken) > maxClaimsRequestMembers {
			t.Fatalf("ParseClaimsRequest(%q) accepted a request over the limits", s)
		}
		for _, sec := range []map[string]*ClaimRequest{r.UserInfo, r.IDToken} {
			for name, c := range sec {
				if name == "" || len(name) > maxClaimNameLength {
					t.Fatalf("ParseClaimsRequest(%q) accepted claim name %q", s, name)
				}
				if c == nil {
					continue
				}
				if n := utf8.RuneCountInString(c.Purpose); c.Purpose != "" && (n < 3 || n > 300) {
					t.Fatalf("ParseClaimsRequest(%q) accepted purpose %q", s, c.Purpose)
				}
				if c.Values != nil && len(c.Values) == 0 || len(c.Values) > maxClaimsRequestValues {
					t.Fatalf("ParseClaimsRequest(%q) values = %q", s, c.Values)
				}
			}
		}
		// What was accepted reads back the same once written out.
		var b bytes.Buffer
		enc := json.NewEncoder(&b)
		enc.SetEscapeHTML(false)
		if err := enc.Encode(r); err != nil {
			t.Fatal(err)
		}
		if b.Len() > maxClaimsRequestSize {
			return // escapes can make it longer than the input
		}
		r2, err := ParseClaimsRequest(b.String())
		if err != nil || !reflect.DeepEqual(r, r2) {
			t.Fatalf("ParseClaimsRequest(%q) = %+v; written out as %s it reads %+v, %v", s, r, b.String(), r2, err)
		}
		RequestedClaims([]string{"openid", "profile"}, r, SupportedClientClaims)
		r.ACRValues()
	})
}

func FuzzIdentityClaims(f *testing.F) {
	for _, r := range claimsDemo(f) {
		b, err := json.Marshal(r.Identity)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(string(b), "fra ara")
	}
	for _, s := range []string{
		`{}`, `null`, `[]`, `{"fullName":"x"}`, `{"fullName":[1,null,{"language":1,"value":"x"},{"language":"eng","value":{}}]}`,
		`{"dateOfBirth":"2001/02/29","photo":{"format":"png","data":"AA=="}}`, `{"photo":{"format":"jpeg","data":"A==="}}`,
		`{"photo":[],"emailVerified":"yes","email":5}`, `{"addressLine1":[{"language":"eng","value":"a"}],"province":{"language":"eng"}}`,
		`{"fullName":[{"language":"ENG","value":"\"},\"admin\":true,\"x\":{\""}]}`, `{"postalCode":"1","city":[{"language":"e","value":"x"}]}`,
	} {
		f.Add(s, "")
		f.Add(s, "en fr-CA ar_MA xx-YY fil")
	}
	const uin = "UIN-7391548260"
	f.Fuzz(func(t *testing.T, identityJSON, locales string) {
		var identity map[string]any
		d := json.NewDecoder(strings.NewReader(identityJSON))
		d.UseNumber()
		if d.Decode(&identity) != nil {
			return
		}
		if identity == nil {
			identity = map[string]any{}
		}
		identity["UIN"] = uin
		names := append(slices.Clone(SupportedClientClaims), "UIN", "uin")
		ls := strings.Fields(locales)
		claims, available := IdentityClaims(identity, names, ls)
		claims2, available2 := IdentityClaims(identity, names, ls)
		if !reflect.DeepEqual(claims, claims2) || !reflect.DeepEqual(available, available2) {
			t.Fatalf("IdentityClaims(%s, %q) is not deterministic", identityJSON, ls)
		}
		if available["individual_id"] || available["UIN"] || available["uin"] {
			t.Fatalf("IdentityClaims(%s, %q) available = %v", identityJSON, ls, available)
		}
		out := claimsJSON(t, claims)
		if strings.Contains(out, uin) && !strings.Contains(identityJSON, uin) {
			t.Fatalf("IdentityClaims(%s, %q) = %s, which holds the UIN", identityJSON, ls, out)
		}
		for k, v := range claims {
			base, _, _ := strings.Cut(k, "#")
			if !available[base] {
				t.Fatalf("IdentityClaims(%s, %q) released %q but says %q is unavailable", identityJSON, ls, k, base)
			}
			switch v := v.(type) {
			case string:
				if v == "" {
					t.Fatalf("IdentityClaims(%s, %q) released an empty %q", identityJSON, ls, k)
				}
			case bool, map[string]any:
			default:
				t.Fatalf("IdentityClaims(%s, %q) released %q of type %T", identityJSON, ls, k, v)
			}
		}
	})
}
