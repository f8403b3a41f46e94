package sdjwt_test

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/lestrrat-go/jwx/v3/jwk"

	"github.com/sanad-id/sanad/credential"
	"github.com/sanad-id/sanad/credential/credtest"
	"github.com/sanad-id/sanad/credential/sdjwt"
)

var (
	t0       = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	issuerID = "https://issuer.example"
	vct      = "https://issuer.example/vct/national-id"
	aud      = "https://verifier.example"
	nonce    = "n-0S6_WzA2Mj"
)

// fixture is an issuer key, a holder key and verify options that trust
// the issuer and expect the holder's key binding.
type fixture struct {
	issuer, holder *credtest.Signer
}

func newFixture(t testing.TB) *fixture {
	return &fixture{
		issuer: credtest.NewSigner(t, "ES256", "issuer-key-1"),
		holder: credtest.NewSigner(t, "ES256", "holder"),
	}
}

func (f *fixture) opts() sdjwt.VerifyOptions {
	return sdjwt.VerifyOptions{
		Keys:              credtest.Resolver(f.issuer),
		Algs:              []string{"ES256"},
		Issuer:            issuerID,
		Now:               func() time.Time { return t0.Add(time.Minute) },
		RequireKeyBinding: true,
		Nonce:             nonce,
		Audience:          aud,
	}
}

func sampleClaims() map[string]any {
	return map[string]any{
		"given_name":  "Amina",
		"family_name": "Yusuf",
		"birthdate":   "1990-04-01",
		"uin":         "4829137465",
		"address": map[string]any{
			"locality":       "Kano",
			"country":        "NG",
			"street_address": "12 Bello Road",
		},
		"nationalities": []any{"NG", "GH"},
	}
}

func (f *fixture) vc() sdjwt.VC {
	return sdjwt.VC{
		Issuer:   issuerID,
		VCT:      vct,
		IssuedAt: t0,
		Expires:  t0.AddDate(1, 0, 0),
		Status:   map[string]any{"status_list": map[string]any{"idx": 412, "uri": "https://issuer.example/status/1"}},
		Claims:   sampleClaims(),
		Disclosable: []sdjwt.Path{
			{"given_name"}, {"family_name"}, {"birthdate"},
			{"address"}, {"address", "locality"},
			{"nationalities", nil},
			{"middle_name"}, // absent: skipped
		},
		Holder: f.holder.Public(),
	}
}

func (f *fixture) issue(t testing.TB, vc sdjwt.VC) string {
	t.Helper()
	s, err := sdjwt.IssueVC(context.Background(), f.issuer, vc)
	if err != nil {
		t.Fatalf("IssueVC() error = %v", err)
	}
	return s
}

// present presents every claim of s with a key binding to nonce and aud.
func (f *fixture) present(t testing.TB, s string, paths []sdjwt.Path) string {
	t.Helper()
	tok, err := sdjwt.Parse(s)
	if err != nil {
		t.Fatalf("Parse() error = %v", err)
	}
	p, err := tok.Present(context.Background(), paths, &sdjwt.KeyBinding{Signer: f.holder, Audience: aud, Nonce: nonce, IssuedAt: t0})
	if err != nil {
		t.Fatalf("Present() error = %v", err)
	}
	return p
}

var allPaths = []sdjwt.Path{{"given_name"}, {"family_name"}, {"birthdate"}, {"address"}, {"nationalities"}}

// normalize turns v into what decoding its JSON gives (float64 numbers).
func normalize(t testing.TB, v any) any {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	var out any
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	return out
}

func decodeSegment(t testing.TB, s string) map[string]any {
	t.Helper()
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func TestSDJWTIssueVCRoundTrip(t *testing.T) {
	f := newFixture(t)
	s := f.issue(t, f.vc())
	if !strings.HasSuffix(s, "~") {
		t.Fatalf("IssueVC() = %q, want a trailing ~", s)
	}
	parts := strings.Split(s, "~")
	jwtParts := strings.Split(parts[0], ".")
	header := decodeSegment(t, jwtParts[0])
	if header["typ"] != "dc+sd-jwt" || header["alg"] != "ES256" || header["kid"] != "issuer-key-1" {
		t.Errorf("header = %v, want typ dc+sd-jwt, alg ES256, kid issuer-key-1", header)
	}
	if _, ok := header["x5c"]; ok {
		t.Errorf("header = %v, want no x5c", header)
	}
	payload := decodeSegment(t, jwtParts[1])
	if payload["_sd_alg"] != "sha-256" {
		t.Errorf("_sd_alg = %v, want sha-256", payload["_sd_alg"])
	}
	for _, hidden := range []string{"given_name", "family_name", "birthdate", "address"} {
		if _, ok := payload[hidden]; ok {
			t.Errorf("payload has %q in the clear, want it disclosable", hidden)
		}
	}
	for _, clear := range []string{"iss", "vct", "iat", "exp", "status", "cnf", "uin"} {
		if _, ok := payload[clear]; !ok {
			t.Errorf("payload lacks %q, want it in the clear", clear)
		}
	}
	sd, _ := payload["_sd"].([]any)
	if len(sd) != 4 {
		t.Errorf("len(_sd) = %d, want 4", len(sd))
	}
	if !slices.IsSortedFunc(sd, func(a, b any) int { return strings.Compare(a.(string), b.(string)) }) {
		t.Errorf("_sd = %v, want sorted", sd)
	}
	nat, _ := payload["nationalities"].([]any)
	for i, e := range nat {
		m, _ := e.(map[string]any)
		if _, ok := m["..."].(string); !ok || len(m) != 1 {
			t.Errorf("nationalities[%d] = %v, want {\"...\": digest}", i, e)
		}
	}
	j := payload["cnf"].(map[string]any)["jwk"].(map[string]any)
	if j["kty"] != "EC" || j["crv"] != "P-256" || len(j) != 4 {
		t.Errorf("cnf.jwk = %v, want exactly kty EC, crv P-256, x, y", j)
	}

	// 4 top-level, locality inside address, 2 nationalities.
	if got := len(parts) - 2; got != 7 {
		t.Errorf("IssueVC() has %d disclosures, want 7", got)
	}
	salts := map[string]bool{}
	for _, d := range parts[1 : len(parts)-1] {
		raw, err := base64.RawURLEncoding.DecodeString(d)
		if err != nil {
			t.Fatalf("disclosure %q: %v", d, err)
		}
		var arr []any
		if err := json.Unmarshal(raw, &arr); err != nil {
			t.Fatalf("disclosure %s: %v", raw, err)
		}
		salt, _ := arr[0].(string)
		if b, err := base64.RawURLEncoding.DecodeString(salt); err != nil || len(b) != 16 {
			t.Errorf("salt %q decodes to %d bytes (%v), want 16", salt, len(b), err)
		}
		if salts[salt] {
			t.Errorf("salt %q used twice", salt)
		}
		salts[salt] = true
	}

	opts := f.opts()
	opts.RequireKeyBinding = false
	tok, err := sdjwt.VerifyVC(context.Background(), s, opts)
	if err != nil {
		t.Fatalf("VerifyVC(issued) error = %v", err)
	}
	want := normalize(t, sampleClaims()).(map[string]any)
	want["iss"] = issuerID
	want["vct"] = vct
	want["iat"] = float64(t0.Unix())
	want["exp"] = float64(t0.AddDate(1, 0, 0).Unix())
	want["status"] = normalize(t, f.vc().Status)
	got := tok.Claims
	if _, ok := got["cnf"]; !ok {
		t.Errorf("VerifyVC().Claims has no cnf")
	}
	delete(got, "cnf")
	if !reflect.DeepEqual(got, want) {
		t.Errorf("VerifyVC().Claims = %v, want %v", got, want)
	}
	if tok.Issuer != issuerID || tok.VCT != vct || !tok.IssuedAt.Equal(t0) || !tok.Expires.Equal(t0.AddDate(1, 0, 0)) {
		t.Errorf("VerifyVC() = iss %q vct %q iat %v exp %v, want %q %q %v %v", tok.Issuer, tok.VCT, tok.IssuedAt, tok.Expires, issuerID, vct, t0, t0.AddDate(1, 0, 0))
	}
	if hk, ok := tok.HolderKey.(*ecdsa.PublicKey); !ok || !hk.Equal(f.holder.Public()) {
		t.Errorf("VerifyVC().HolderKey = %v, want the holder's key", tok.HolderKey)
	}
	wantPaths := map[string]bool{`["given_name"]`: true, `["family_name"]`: true, `["birthdate"]`: true, `["address"]`: true,
		`["address","locality"]`: true, `["nationalities",0]`: true, `["nationalities",1]`: true}
	for _, d := range tok.Disclosures {
		if !wantPaths[d.Path.String()] {
			t.Errorf("disclosure at %s, want one of %v", d.Path, wantPaths)
		}
		delete(wantPaths, d.Path.String())
	}
	if len(wantPaths) != 0 {
		t.Errorf("no disclosures at %v", wantPaths)
	}
}

func TestSDJWTIssueVCOptions(t *testing.T) {
	f := newFixture(t)
	vc := f.vc()
	vc.LegacyTyp = true
	vc.X5C = [][]byte{[]byte("leaf-der"), []byte("ca-der")}
	vc.NotBefore = t0
	vc.Holder = nil
	s := f.issue(t, vc)
	tok, err := sdjwt.Parse(s)
	if err != nil {
		t.Fatalf("Parse() error = %v", err)
	}
	if tok.Header["typ"] != "vc+sd-jwt" {
		t.Errorf("typ = %v, want vc+sd-jwt", tok.Header["typ"])
	}
	wantX5C := []any{base64.StdEncoding.EncodeToString([]byte("leaf-der")), base64.StdEncoding.EncodeToString([]byte("ca-der"))}
	if !reflect.DeepEqual(tok.Header["x5c"], wantX5C) {
		t.Errorf("x5c = %v, want %v", tok.Header["x5c"], wantX5C)
	}
	if !tok.NotBefore.Equal(t0) {
		t.Errorf("nbf = %v, want %v", tok.NotBefore, t0)
	}
	if _, ok := tok.Claims["cnf"]; ok || tok.HolderKey != nil {
		t.Errorf("unbound credential has cnf %v", tok.Claims["cnf"])
	}
	opts := f.opts()
	opts.RequireKeyBinding = false
	if _, err := sdjwt.VerifyVC(context.Background(), s, opts); err != nil {
		t.Errorf("VerifyVC(vc+sd-jwt) error = %v, want nil", err)
	}
}

func TestSDJWTIssueHolderKeys(t *testing.T) {
	f := newFixture(t)
	ed := credtest.NewSigner(t, "EdDSA", "ed")
	jk, err := jwk.Import(f.holder.Public())
	if err != nil {
		t.Fatal(err)
	}
	privJWK, err := jwk.Import(f.holder.Private())
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		holder  any
		wantErr bool
	}{
		{"ecdsa public", f.holder.Public(), false},
		{"ed25519 public", ed.Public(), false},
		{"jwk public", jk, false},
		{"ecdsa private", f.holder.Private(), true},
		{"ed25519 private", ed.Private(), true},
		{"jwk private", privJWK, true},
		{"string", "not a key", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			vc := f.vc()
			vc.Holder = tt.holder
			s, err := sdjwt.IssueVC(context.Background(), f.issuer, vc)
			if (err != nil) != tt.wantErr {
				t.Fatalf("IssueVC(holder %T) error = %v, want error %v", tt.holder, err, tt.wantErr)
			}
			if err != nil {
				return
			}
			tok, err := sdjwt.Parse(s)
			if err != nil {
				t.Fatalf("Parse() error = %v", err)
			}
			type equaler interface{ Equal(crypto.PublicKey) bool }
			want := tt.holder
			if k, ok := want.(jwk.Key); ok {
				var raw any
				if err := jwk.Export(k, &raw); err != nil {
					t.Fatal(err)
				}
				want = raw
			}
			if !want.(equaler).Equal(tok.HolderKey) {
				t.Errorf("HolderKey = %v, want %v", tok.HolderKey, want)
			}
			if _, ok := tok.Claims["cnf"].(map[string]any)["jwk"].(map[string]any)["d"]; ok {
				t.Errorf("cnf.jwk has a private member d")
			}
		})
	}
}

func TestSDJWTIssueVCRefuses(t *testing.T) {
	f := newFixture(t)
	tests := []struct {
		name string
		edit func(*sdjwt.VC)
	}{
		{"no vct", func(vc *sdjwt.VC) { vc.VCT = "" }},
		{"iss disclosable", func(vc *sdjwt.VC) { vc.Disclosable = append(vc.Disclosable, sdjwt.Path{"iss"}) }},
		{"vct disclosable", func(vc *sdjwt.VC) { vc.Disclosable = append(vc.Disclosable, sdjwt.Path{"vct"}) }},
		{"iat disclosable", func(vc *sdjwt.VC) { vc.Disclosable = append(vc.Disclosable, sdjwt.Path{"iat"}) }},
		{"nbf disclosable", func(vc *sdjwt.VC) { vc.Disclosable = append(vc.Disclosable, sdjwt.Path{"nbf"}) }},
		{"exp disclosable", func(vc *sdjwt.VC) { vc.Disclosable = append(vc.Disclosable, sdjwt.Path{"exp"}) }},
		{"cnf disclosable", func(vc *sdjwt.VC) { vc.Disclosable = append(vc.Disclosable, sdjwt.Path{"cnf", "jwk"}) }},
		{"status disclosable", func(vc *sdjwt.VC) { vc.Disclosable = append(vc.Disclosable, sdjwt.Path{"status"}) }},
		{"vct#integrity disclosable", func(vc *sdjwt.VC) { vc.Disclosable = append(vc.Disclosable, sdjwt.Path{"vct#integrity"}) }},
		{"_sd in path", func(vc *sdjwt.VC) { vc.Disclosable = append(vc.Disclosable, sdjwt.Path{"address", "_sd"}) }},
		{"... in path", func(vc *sdjwt.VC) { vc.Disclosable = append(vc.Disclosable, sdjwt.Path{"..."}) }},
		{"empty path", func(vc *sdjwt.VC) { vc.Disclosable = append(vc.Disclosable, sdjwt.Path{}) }},
		{"path starting with index", func(vc *sdjwt.VC) { vc.Disclosable = append(vc.Disclosable, sdjwt.Path{0}) }},
		{"negative index", func(vc *sdjwt.VC) { vc.Disclosable = append(vc.Disclosable, sdjwt.Path{"nationalities", -1}) }},
		{"bool in path", func(vc *sdjwt.VC) { vc.Disclosable = append(vc.Disclosable, sdjwt.Path{"nationalities", true}) }},
		{"iss in claims", func(vc *sdjwt.VC) { vc.Claims["iss"] = "https://other.example" }},
		{"exp in claims", func(vc *sdjwt.VC) { vc.Claims["exp"] = 1 }},
		{"_sd nested in claims", func(vc *sdjwt.VC) { vc.Claims["address"].(map[string]any)["_sd"] = []any{"x"} }},
		{"... nested in claims", func(vc *sdjwt.VC) { vc.Claims["nationalities"] = []any{map[string]any{"...": "x"}} }},
		{"_sd_alg in claims", func(vc *sdjwt.VC) { vc.Claims["_sd_alg"] = "md5" }},
		{"unencodable claim", func(vc *sdjwt.VC) { vc.Claims["given_name"] = func() {} }},
		{"too many decoys", func(vc *sdjwt.VC) { vc.Decoys = 1000 }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			vc := f.vc()
			tt.edit(&vc)
			s, err := sdjwt.IssueVC(context.Background(), f.issuer, vc)
			if err == nil {
				t.Errorf("IssueVC(%s) = %.40q..., want an error", tt.name, s)
			}
		})
	}
}

func TestSDJWTIssueDoesNotModifyClaims(t *testing.T) {
	f := newFixture(t)
	vc := f.vc()
	before := normalize(t, vc.Claims)
	f.issue(t, vc)
	if after := normalize(t, vc.Claims); !reflect.DeepEqual(before, after) {
		t.Errorf("IssueVC changed its claims: %v, want %v", after, before)
	}
}

func TestSDJWTDecoys(t *testing.T) {
	f := newFixture(t)
	vc := f.vc()
	vc.Decoys = 5
	opts := f.opts()
	opts.RequireKeyBinding = false
	extra := 0
	for range 20 {
		s := f.issue(t, vc)
		tok, err := sdjwt.VerifyVC(context.Background(), s, opts)
		if err != nil {
			t.Fatalf("VerifyVC(with decoys) error = %v", err)
		}
		sd := tok.Payload["_sd"].([]any)
		if len(sd) < 4 || len(sd) > 9 {
			t.Fatalf("len(_sd) = %d with 4 claims and up to 5 decoys, want 4 to 9", len(sd))
		}
		extra += len(sd) - 4
		if _, ok := tok.Claims["given_name"]; !ok {
			t.Errorf("VerifyVC().Claims lacks given_name")
		}
	}
	if extra == 0 {
		t.Errorf("20 credentials with Decoys 5 have no decoy digest")
	}
}

func TestSDJWTIssueGeneric(t *testing.T) {
	f := newFixture(t)
	claims := map[string]any{
		"iss":  issuerID,
		"sub":  "user-42",
		"list": []any{"a", map[string]any{"x": 1, "y": 2}, "c"},
		"deep": map[string]any{"a": map[string]any{"b": map[string]any{"c": "leaf"}}},
	}
	s, err := sdjwt.Issue(context.Background(), f.issuer, claims, sdjwt.Options{
		Typ: "example+sd-jwt",
		Disclosable: []sdjwt.Path{
			{"list", 1, "x"}, {"list", nil}, {"deep", "a", "b", "c"}, {"deep", "a"}, {"sub"},
		},
	})
	if err != nil {
		t.Fatalf("Issue() error = %v", err)
	}
	opts := f.opts()
	opts.RequireKeyBinding = false
	opts.Typs = []string{"example+sd-jwt"}
	tok, err := sdjwt.Verify(context.Background(), s, opts)
	if err != nil {
		t.Fatalf("Verify() error = %v", err)
	}
	if want := normalize(t, claims); !reflect.DeepEqual(tok.Claims, want) {
		t.Errorf("Verify().Claims = %v, want %v", tok.Claims, want)
	}
	// list: 3 elements + x; deep.a and deep.a.b.c; sub.
	if len(tok.Disclosures) != 7 {
		t.Errorf("len(Disclosures) = %d, want 7", len(tok.Disclosures))
	}
	for _, bad := range []string{"iss", "exp", "nbf", "cnf"} {
		if _, err := sdjwt.Issue(context.Background(), f.issuer, claims, sdjwt.Options{Disclosable: []sdjwt.Path{{bad}}}); err == nil {
			t.Errorf("Issue(disclosable %q) error = nil, want an error", bad)
		}
	}
}

func TestSDJWTPresent(t *testing.T) {
	f := newFixture(t)
	s := f.issue(t, f.vc())
	tests := []struct {
		name  string
		paths []sdjwt.Path
		want  map[string]any // the disclosable part of the claims
	}{
		{"nothing", nil, map[string]any{"nationalities": []any{}}},
		{"given_name", []sdjwt.Path{{"given_name"}}, map[string]any{"given_name": "Amina", "nationalities": []any{}}},
		{"locality reaches through address", []sdjwt.Path{{"address", "locality"}},
			map[string]any{"address": map[string]any{"locality": "Kano", "country": "NG", "street_address": "12 Bello Road"}, "nationalities": []any{}}},
		{"country leaves locality out", []sdjwt.Path{{"address", "country"}},
			map[string]any{"address": map[string]any{"country": "NG", "street_address": "12 Bello Road"}, "nationalities": []any{}}},
		{"address brings locality", []sdjwt.Path{{"address"}},
			map[string]any{"address": map[string]any{"locality": "Kano", "country": "NG", "street_address": "12 Bello Road"}, "nationalities": []any{}}},
		{"second nationality", []sdjwt.Path{{"nationalities", 1}}, map[string]any{"nationalities": []any{"GH"}}},
		{"every nationality", []sdjwt.Path{{"nationalities", nil}}, map[string]any{"nationalities": []any{"NG", "GH"}}},
		{"float index from JSON", []sdjwt.Path{{"nationalities", float64(0)}}, map[string]any{"nationalities": []any{"NG"}}},
		{"non-disclosable claim", []sdjwt.Path{{"uin"}}, map[string]any{"nationalities": []any{}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := f.present(t, s, tt.paths)
			tok, err := sdjwt.VerifyVC(context.Background(), p, f.opts())
			if err != nil {
				t.Fatalf("VerifyVC(Present(%v)) error = %v", tt.paths, err)
			}
			got := map[string]any{}
			for _, k := range []string{"given_name", "family_name", "birthdate", "address", "nationalities"} {
				if v, ok := tok.Claims[k]; ok {
					got[k] = v
				}
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Present(%v) discloses %v, want %v", tt.paths, got, tt.want)
			}
			if tok.Claims["uin"] != "4829137465" {
				t.Errorf("Present(%v) lost the always-visible uin: %v", tt.paths, tok.Claims["uin"])
			}
		})
	}

	tok, err := sdjwt.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	for _, bad := range [][]sdjwt.Path{{{"middle_name"}}, {{"address", "zip"}}, {{"nationalities", 5}}, {{}}} {
		if p, err := tok.Present(context.Background(), bad, nil); err == nil {
			t.Errorf("Present(%v) = %.40q..., want an error", bad, p)
		}
	}
	if _, err := tok.Present(context.Background(), allPaths, &sdjwt.KeyBinding{Signer: f.holder, Audience: aud}); err == nil {
		t.Errorf("Present(key binding without nonce) error = nil, want an error")
	}
}

func TestSDJWTPresentKeyBindingJWT(t *testing.T) {
	f := newFixture(t)
	s := f.issue(t, f.vc())
	p := f.present(t, s, []sdjwt.Path{{"given_name"}})
	i := strings.LastIndexByte(p, '~')
	kb := strings.Split(p[i+1:], ".")
	if len(kb) != 3 {
		t.Fatalf("Present() KB-JWT = %q, want a compact JWS", p[i+1:])
	}
	h, pl := decodeSegment(t, kb[0]), decodeSegment(t, kb[1])
	if h["typ"] != "kb+jwt" || h["alg"] != "ES256" {
		t.Errorf("KB-JWT header = %v, want typ kb+jwt, alg ES256", h)
	}
	if pl["aud"] != aud || pl["nonce"] != nonce || pl["iat"] != float64(t0.Unix()) {
		t.Errorf("KB-JWT payload = %v, want aud %q nonce %q iat %d", pl, aud, nonce, t0.Unix())
	}
	if len(pl) != 4 {
		t.Errorf("KB-JWT payload = %v, want iat, aud, nonce, sd_hash only", pl)
	}
	if strings.Count(p[:i+1], "~") != 2 {
		t.Errorf("Present(given_name) = %q, want the JWT and one disclosure", p[:i+1])
	}

	unbound := f.vc()
	unbound.Holder = nil
	tok, err := sdjwt.Parse(f.issue(t, unbound))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tok.Present(context.Background(), nil, &sdjwt.KeyBinding{Signer: f.holder, Audience: aud, Nonce: nonce}); err == nil {
		t.Errorf("Present(unbound credential, key binding) error = nil, want an error")
	}
}

// TestSDJWTRFC9901Vectors checks digests against the example disclosures
// of RFC 9901 (given_name "John" and the array element "US").
func TestSDJWTRFC9901Vectors(t *testing.T) {
	f := newFixture(t)
	payload := `{"iss":"https://issuer.example","_sd":["jsu9yVulwQQlhFlM_3JlzMaSFzglhQG0DpfayQwLUK4"],` +
		`"nationalities":[{"...":"pFndjkZ_VCzmyTa6UjlZo3dh-ko8aIKQc9DlGzhaVYo"}],"_sd_alg":"sha-256"}`
	jws, err := f.issuer.SignJWS(context.Background(), []byte(payload), map[string]any{"typ": "example+sd-jwt"})
	if err != nil {
		t.Fatal(err)
	}
	s := jws + "~WyIyR0xDNDJzS1F2ZUNmR2ZyeU5STjl3IiwgImdpdmVuX25hbWUiLCAiSm9obiJd~WyJsa2x4RjVqTVlsR1RQVW92TU5JdkNBIiwgIlVTIl0~"
	opts := f.opts()
	opts.RequireKeyBinding = false
	tok, err := sdjwt.Verify(context.Background(), s, opts)
	if err != nil {
		t.Fatalf("Verify(RFC 9901 example) error = %v", err)
	}
	want := map[string]any{"iss": issuerID, "given_name": "John", "nationalities": []any{"US"}}
	if !reflect.DeepEqual(tok.Claims, want) {
		t.Errorf("Verify(RFC 9901 example).Claims = %v, want %v", tok.Claims, want)
	}
	if tok.Disclosures[0].Salt != "2GLC42sKQveCfGfryNRN9w" || tok.Disclosures[0].Digest != "jsu9yVulwQQlhFlM_3JlzMaSFzglhQG0DpfayQwLUK4" {
		t.Errorf("Disclosures[0] = salt %q digest %q, want the RFC's", tok.Disclosures[0].Salt, tok.Disclosures[0].Digest)
	}
}

func TestSDJWTTokenRedacted(t *testing.T) {
	f := newFixture(t)
	tok, err := sdjwt.Parse(f.issue(t, f.vc()))
	if err != nil {
		t.Fatal(err)
	}
	if s := tok.String(); strings.Contains(s, "Amina") || strings.Contains(s, tok.JWT[:16]) {
		t.Errorf("Token.String() = %q, want it redacted", s)
	}
}

func errorKind(err error) error {
	for _, k := range []error{credential.ErrMalformed, credential.ErrSignature, credential.ErrExpired, credential.ErrNotYetValid, credential.ErrDisclosure, credential.ErrHolderBinding} {
		if errors.Is(err, k) {
			return k
		}
	}
	return nil
}
