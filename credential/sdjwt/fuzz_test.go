package sdjwt_test

import (
	"context"
	"crypto"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/sanad-id/sanad/credential"
	"github.com/sanad-id/sanad/credential/sdjwt"
)

// edSigner is a credential.Signer over a fixed Ed25519 key, so that fuzz
// corpus entries stay valid across fuzzing processes.
type edSigner struct {
	kid  string
	priv ed25519.PrivateKey
}

func newEdSigner(kid string, seed byte) *edSigner {
	s := make([]byte, ed25519.SeedSize)
	for i := range s {
		s[i] = seed
	}
	return &edSigner{kid: kid, priv: ed25519.NewKeyFromSeed(s)}
}

func (s *edSigner) Alg() string   { return "EdDSA" }
func (s *edSigner) KeyID() string { return s.kid }
func (s *edSigner) Sign(_ context.Context, m []byte) ([]byte, error) {
	return ed25519.Sign(s.priv, m), nil
}

func (s *edSigner) SignJWS(ctx context.Context, payload []byte, header map[string]any) (string, error) {
	h := map[string]any{"alg": "EdDSA", "kid": s.kid}
	for k, v := range header {
		h[k] = v
	}
	hj, err := json.Marshal(h)
	if err != nil {
		return "", err
	}
	in := base64.RawURLEncoding.EncodeToString(hj) + "." + base64.RawURLEncoding.EncodeToString(payload)
	sig, _ := s.Sign(ctx, []byte(in))
	return in + "." + base64.RawURLEncoding.EncodeToString(sig), nil
}

var (
	fuzzIssuer = newEdSigner("fuzz-issuer", 1)
	fuzzHolder = newEdSigner("fuzz-holder", 2)
)

func fuzzOpts() sdjwt.VerifyOptions {
	return sdjwt.VerifyOptions{
		Keys: credential.KeyResolverFunc(func(context.Context, string, string) (crypto.PublicKey, error) {
			return fuzzIssuer.priv.Public(), nil
		}),
		Algs:     []string{"EdDSA"},
		Now:      func() time.Time { return t0 },
		Nonce:    nonce,
		Audience: aud,
	}
}

// fuzzSeeds are valid credentials and presentations, and broken ones.
func fuzzSeeds(t testing.TB) []string {
	vc := sdjwt.VC{
		Issuer: issuerID, VCT: vct, IssuedAt: t0, Expires: t0.AddDate(1, 0, 0),
		Claims:      sampleClaims(),
		Disclosable: []sdjwt.Path{{"given_name"}, {"address"}, {"address", "locality"}, {"nationalities", nil}},
		Holder:      fuzzHolder.priv.Public(),
		Decoys:      2,
	}
	issued, err := sdjwt.IssueVC(context.Background(), fuzzIssuer, vc)
	if err != nil {
		t.Fatal(err)
	}
	tok, err := sdjwt.Parse(issued)
	if err != nil {
		t.Fatal(err)
	}
	pres, err := tok.Present(context.Background(), []sdjwt.Path{{"address", "locality"}, {"nationalities", 1}},
		&sdjwt.KeyBinding{Signer: fuzzHolder, Audience: aud, Nonce: nonce, IssuedAt: t0})
	if err != nil {
		t.Fatal(err)
	}
	p := splitPresentation(pres)
	return []string{
		issued,
		pres,
		p.jwt + "~",
		p.jwt + "~" + p.discs[0] + "~" + p.discs[0] + "~",
		strings.Replace(pres, ".", "..", 1),
		p.jwt,
		"~",
		"",
		"a.b.c~",
		"eyJhbGciOiJub25lIn0.e30.~",
		"eyJhbGciOiJFZERTQSJ9.e30.AAAA~WyJhIiwiYiJd~",
		p.jwt + "~~",
		p.jwt + "~" + p.discs[0] + "~x.y",
	}
}

func checkClassified(t *testing.T, fn string, err error) {
	if err != nil && errorKind(err) == nil {
		t.Fatalf("%s error = %v, want a credential.Err* value", fn, err)
	}
}

// checkProcessed checks what every successfully processed token must be.
func checkProcessed(t *testing.T, tok *sdjwt.Token) {
	for i, d := range tok.Disclosures {
		if len(d.Path) == 0 {
			t.Fatalf("Disclosures[%d].Path is empty", i)
		}
	}
	if _, ok := tok.Claims["_sd_alg"]; ok {
		t.Fatalf("Claims has _sd_alg")
	}
	var walk func(v any)
	walk = func(v any) {
		switch x := v.(type) {
		case map[string]any:
			for k, e := range x {
				if k == "_sd" || k == "..." {
					t.Fatalf("Claims has the reserved name %q", k)
				}
				walk(e)
			}
		case []any:
			for _, e := range x {
				walk(e)
			}
		}
	}
	walk(tok.Claims)
}

func FuzzParse(f *testing.F) {
	for _, s := range fuzzSeeds(f) {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		tok, err := sdjwt.Parse(s)
		checkClassified(t, "Parse", err)
		if err != nil {
			return
		}
		checkProcessed(t, tok)
		// Withholding every disclosure cannot make a valid SD-JWT invalid.
		bare, err := tok.Present(context.Background(), nil, nil)
		if err != nil {
			t.Fatalf("Present(nil) error = %v", err)
		}
		if _, err := sdjwt.Parse(bare); err != nil {
			t.Fatalf("Parse(Present(nil)) error = %v, want nil as Parse(full) succeeded", err)
		}
	})
}

func FuzzVerify(f *testing.F) {
	for _, s := range fuzzSeeds(f) {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		tok, err := sdjwt.VerifyVC(context.Background(), s, fuzzOpts())
		checkClassified(t, "VerifyVC", err)
		if err != nil {
			return
		}
		checkProcessed(t, tok)
		if tok.VCT == "" {
			t.Fatalf("VerifyVC() accepted a credential without vct")
		}
		parsed, err := sdjwt.Parse(s)
		if err != nil {
			t.Fatalf("Parse() error = %v after VerifyVC() succeeded", err)
		}
		if !reflect.DeepEqual(parsed.Claims, tok.Claims) {
			t.Fatalf("Parse().Claims = %v, VerifyVC().Claims = %v", parsed.Claims, tok.Claims)
		}
	})
}

// FuzzVerifyStructure signs fuzzed payloads, so that the fuzzer explores
// the disclosure processing behind a valid signature. discs holds JSON
// disclosures separated by newlines; "@N" in the payload becomes the
// digest of disclosure N.
func FuzzVerifyStructure(f *testing.F) {
	seeds := []struct{ payload, discs string }{
		{`{"vct":"x","_sd":["@0"],"a":[{"...":"@1"},2]}`, `["s0","given_name","A"]` + "\n" + `["s1","NG"]`},
		{`{"vct":"x","_sd":["@0"]}`, `["s0","address",{"_sd":["@1"],"country":"NG"}]` + "\n" + `["s1","locality","Kano"]`},
		{`{"vct":"x","_sd":["@0","@0"]}`, `["s0","given_name","A"]`},
		{`{"vct":"x","_sd":["@0"],"given_name":"B"}`, `["s0","given_name","A"]`},
		{`{"vct":"x","a":[{"...":"@0","b":1}]}`, `["s0","NG"]`},
		{`{"vct":"x","_sd":["@0"]}`, `["s0","_sd",["@0"]]`},
		{`{"vct":"x","_sd":["@0"]}`, `["s0",{"...":"@1"}]` + "\n" + `["s1",[{"...":"@0"}]]`},
		{`{"vct":"x","cnf":{"jwk":{"kty":"OKP","crv":"Ed25519","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}}}`, ``},
		{`{"vct":"x","exp":1e300,"_sd_alg":"sha-512","_sd":["@0"]}`, `["s0","a",1]`},
	}
	for _, s := range seeds {
		f.Add(s.payload, s.discs)
	}
	f.Fuzz(func(t *testing.T, payload, discs string) {
		var encs []string
		if discs != "" {
			for _, d := range strings.Split(discs, "\n") {
				encs = append(encs, base64.RawURLEncoding.EncodeToString([]byte(d)))
			}
		}
		if len(encs) > 10 {
			return
		}
		for i := len(encs) - 1; i >= 0; i-- {
			payload = strings.ReplaceAll(payload, "@"+strconv.Itoa(i), digestOf(encs[i]))
		}
		jws, err := fuzzIssuer.SignJWS(context.Background(), []byte(payload), map[string]any{"typ": "dc+sd-jwt"})
		if err != nil {
			t.Fatal(err)
		}
		s := pieces{jwt: jws, discs: encs}.String()
		opts := fuzzOpts()
		opts.Now = func() time.Time { return time.Unix(0, 0) }
		tok, err := sdjwt.VerifyVC(context.Background(), s, opts)
		checkClassified(t, "VerifyVC", err)
		if err != nil {
			return
		}
		checkProcessed(t, tok)
		if len(tok.Disclosures) != len(encs) {
			t.Fatalf("VerifyVC() kept %d disclosures of %d", len(tok.Disclosures), len(encs))
		}
	})
}
