package statuslist_test

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/lestrrat-go/jwx/v3/jwk"

	"github.com/sanad-id/sanad/credential"
	"github.com/sanad-id/sanad/credential/credtest"
	"github.com/sanad-id/sanad/credential/statuslist"
)

const tokenURI = "https://issuer.example/statuslists/1"

// keysOf returns a keys function that knows the signers by kid.
func keysOf(signers ...*credtest.Signer) func(string) (crypto.PublicKey, error) {
	return func(kid string) (crypto.PublicKey, error) {
		for _, s := range signers {
			if s.KeyID() == kid {
				return s.Public(), nil
			}
		}
		return nil, fmt.Errorf("unknown kid %q", kid)
	}
}

// draftToken is testdata/tsl_token.json.
type draftToken struct {
	Token string          `json:"token"`
	JWK   json.RawMessage `json:"jwk"`
	URI   string          `json:"uri"`
	Iat   int64           `json:"iat"`
	Exp   int64           `json:"exp"`
	TTL   int64           `json:"ttl"`
	Iss   string          `json:"iss"`
}

func TestVerifyTokenDraftExample(t *testing.T) {
	var d draftToken
	readJSON(t, "tsl_token.json", &d)
	key, err := jwk.ParseKey(d.JWK)
	if err != nil {
		t.Fatal(err)
	}
	keys := func(kid string) (crypto.PublicKey, error) {
		if kid != "12" {
			return nil, fmt.Errorf("unknown kid %q", kid)
		}
		return key, nil
	}
	now := time.Unix(d.Iat, 0).Add(time.Hour)
	tok, err := statuslist.VerifyToken(context.Background(), d.Token, d.URI, keys, now)
	if err != nil {
		t.Fatalf("VerifyToken(draft example) = %v", err)
	}
	if tok.Subject != d.URI || tok.Issuer != d.Iss || tok.KeyID != "12" || tok.IssuedAt.Unix() != d.Iat ||
		tok.ExpiresAt.Unix() != d.Exp || tok.TTL != time.Duration(d.TTL)*time.Second {
		t.Errorf("VerifyToken(draft example) = %+v, want sub %s, iss %s, kid 12, iat %d, exp %d, ttl %ds", tok, d.URI, d.Iss, d.Iat, d.Exp, d.TTL)
	}
	want := []uint8{1, 0, 0, 1, 1, 1, 0, 1, 1, 1, 0, 0, 0, 1, 0, 1}
	if tok.List.Len() != len(want) {
		t.Fatalf("VerifyToken(draft example).List.Len() = %d, want %d", tok.List.Len(), len(want))
	}
	for i, w := range want {
		if got, _ := tok.List.Get(i); got != w {
			t.Errorf("VerifyToken(draft example).List.Get(%d) = %d, want %d", i, got, w)
		}
	}
	// The same token fails where it should.
	if _, err := statuslist.ParseToken(context.Background(), d.Token, d.URI, keys, time.Unix(d.Exp, 0)); !errors.Is(err, credential.ErrExpired) {
		t.Errorf("ParseToken(draft example, at exp) = %v, want ErrExpired", err)
	}
	if _, err := statuslist.ParseToken(context.Background(), d.Token, d.URI+"x", keys, now); !errors.Is(err, statuslist.ErrMalformed) {
		t.Errorf("ParseToken(draft example, other uri) = %v, want ErrMalformed", err)
	}
	other := credtest.NewSigner(t, "ES256", "12")
	if _, err := statuslist.ParseToken(context.Background(), d.Token, d.URI, keysOf(other), now); !errors.Is(err, credential.ErrSignature) {
		t.Errorf("ParseToken(draft example, other key) = %v, want ErrSignature", err)
	}
}

func TestIssueParseToken(t *testing.T) {
	list, err := statuslist.NewTokenList(2, 1024)
	if err != nil {
		t.Fatal(err)
	}
	list.Set(5, statuslist.TokenInvalid)
	list.Set(1023, statuslist.TokenSuspended)
	cert := []byte{0x30, 0x03, 0x02, 0x01, 0x01}
	tests := []struct {
		name    string
		alg     string
		opts    statuslist.TokenOptions
		wantTTL time.Duration
	}{
		{"ES256, all claims", "ES256", statuslist.TokenOptions{URI: tokenURI, Issuer: "https://issuer.example", IssuedAt: t0, ExpiresAt: t1, TTL: 90 * time.Second, X5C: [][]byte{cert}}, 90 * time.Second},
		{"EdDSA, required claims only", "EdDSA", statuslist.TokenOptions{URI: tokenURI, IssuedAt: t0}, 0},
		{"TTL rounded up", "ES256", statuslist.TokenOptions{URI: tokenURI, IssuedAt: t0, TTL: 1500 * time.Millisecond}, 2 * time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := credtest.NewSigner(t, tt.alg, "status-key")
			token, err := statuslist.IssueToken(context.Background(), s, list, tt.opts)
			if err != nil {
				t.Fatalf("IssueToken(%s) = %v", tt.name, err)
			}
			h, err := statuslist.PeekTokenHeader(token)
			if err != nil {
				t.Fatalf("PeekTokenHeader(IssueToken()) = %v", err)
			}
			if h.Typ != "statuslist+jwt" || h.Alg != tt.alg || h.KID != "status-key" || len(h.X5C) != len(tt.opts.X5C) {
				t.Errorf("PeekTokenHeader(IssueToken(%s)) = %+v, want typ statuslist+jwt, alg %s, kid status-key, %d certificates", tt.name, h, tt.alg, len(tt.opts.X5C))
			}
			tok, err := statuslist.VerifyToken(context.Background(), token, tokenURI, keysOf(s), t0.Add(time.Minute))
			if err != nil {
				t.Fatalf("VerifyToken(IssueToken(%s)) = %v", tt.name, err)
			}
			if tok.Subject != tokenURI || tok.Issuer != tt.opts.Issuer || !tok.IssuedAt.Equal(t0) ||
				!tok.ExpiresAt.Equal(tt.opts.ExpiresAt) || tok.TTL != tt.wantTTL {
				t.Errorf("VerifyToken(IssueToken(%s)) = %+v, want the options back (ttl %v)", tt.name, tok, tt.wantTTL)
			}
			for i, want := range map[int]uint8{0: 0, 5: 1, 6: 0, 1023: 2} {
				if got, err := tok.List.Get(i); err != nil || got != want {
					t.Errorf("VerifyToken(IssueToken(%s)).List.Get(%d) = %d, %v, want %d", tt.name, i, got, err, want)
				}
			}
		})
	}
}

// hmacSigner claims HS256, which IssueToken must refuse.
type hmacSigner struct{ *credtest.Signer }

func (hmacSigner) Alg() string { return "HS256" }

func TestIssueTokenErrors(t *testing.T) {
	s := credtest.NewSigner(t, "ES256", "k")
	list, _ := statuslist.NewTokenList(1, 8)
	ok := statuslist.TokenOptions{URI: tokenURI, IssuedAt: t0}
	with := func(f func(*statuslist.TokenOptions)) statuslist.TokenOptions {
		o := ok
		f(&o)
		return o
	}
	tests := []struct {
		name   string
		signer credential.Signer
		list   *statuslist.TokenList
		opts   statuslist.TokenOptions
	}{
		{"no signer", nil, list, ok},
		{"MAC signer", hmacSigner{s}, list, ok},
		{"no list", s, nil, ok},
		{"no URI", s, list, with(func(o *statuslist.TokenOptions) { o.URI = "" })},
		{"relative URI", s, list, with(func(o *statuslist.TokenOptions) { o.URI = "/statuslists/1" })},
		{"no iat", s, list, with(func(o *statuslist.TokenOptions) { o.IssuedAt = time.Time{} })},
		{"exp before iat", s, list, with(func(o *statuslist.TokenOptions) { o.ExpiresAt = t0.Add(-time.Hour) })},
		{"negative ttl", s, list, with(func(o *statuslist.TokenOptions) { o.TTL = -time.Second })},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if token, err := statuslist.IssueToken(context.Background(), tt.signer, tt.list, tt.opts); err == nil {
				t.Errorf("IssueToken(%s) = %q, want an error", tt.name, token)
			}
		})
	}
}

// signed builds a token from a raw header and claims, signed by s (which
// sets alg and kid).
func signed(t testing.TB, s *credtest.Signer, header map[string]any, claims any) string {
	t.Helper()
	payload, err := json.Marshal(claims)
	if err != nil {
		t.Fatal(err)
	}
	token, err := s.SignJWS(context.Background(), payload, header)
	if err != nil {
		t.Fatal(err)
	}
	return token
}

// unsigned builds header.payload.signature from raw JSON.
func unsigned(header, payload, sig string) string {
	enc := base64.RawURLEncoding
	return enc.EncodeToString([]byte(header)) + "." + enc.EncodeToString([]byte(payload)) + "." + sig
}

func TestVerifyTokenRejects(t *testing.T) {
	s := credtest.NewSigner(t, "ES256", "k1")
	other := credtest.NewSigner(t, "ES256", "k1")
	ed := credtest.NewSigner(t, "EdDSA", "ed")
	sl := map[string]any{"bits": 1, "lst": "eNrbuRgAAhcBXQ"}
	claims := func(changes map[string]any) map[string]any {
		c := map[string]any{"sub": tokenURI, "iat": t0.Unix(), "exp": t1.Unix(), "status_list": sl}
		for k, v := range changes {
			if v == nil {
				delete(c, k)
			} else {
				c[k] = v
			}
		}
		return c
	}
	typ := map[string]any{"typ": "statuslist+jwt"}
	good := signed(t, s, typ, claims(nil))
	parts := strings.Split(good, ".")
	tampered := parts[0] + "." + base64.RawURLEncoding.EncodeToString([]byte(`{"sub":"`+tokenURI+`","iat":1,"status_list":{"bits":1,"lst":"eNrbuRgAAhcBXQ"}}`)) + "." + parts[2]
	rsaKey, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		t.Fatal(err)
	}
	p384, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	privJWK, err := jwk.Import(s.Private())
	if err != nil {
		t.Fatal(err)
	}
	fixedKey := func(k crypto.PublicKey) func(string) (crypto.PublicKey, error) {
		return func(string) (crypto.PublicKey, error) { return k, nil }
	}
	now := t0.Add(time.Hour)
	tests := []struct {
		name    string
		token   string
		keys    func(string) (crypto.PublicKey, error)
		now     time.Time
		wantErr error
	}{
		{"empty", "", keysOf(s), now, statuslist.ErrMalformed},
		{"two parts", parts[0] + "." + parts[1], keysOf(s), now, statuslist.ErrMalformed},
		{"four parts", good + ".x", keysOf(s), now, statuslist.ErrMalformed},
		{"no signature", parts[0] + "." + parts[1] + ".", keysOf(s), now, statuslist.ErrMalformed},
		{"header not JSON", "bm90IGpzb24." + parts[1] + "." + parts[2], keysOf(s), now, statuslist.ErrMalformed},
		{"header padded", parts[0] + "=." + parts[1] + "." + parts[2], keysOf(s), now, statuslist.ErrMalformed},
		{"too large", strings.Repeat("a", statuslist.MaxTokenSize+1), keysOf(s), now, statuslist.ErrMalformed},
		{"no typ", signed(t, s, nil, claims(nil)), keysOf(s), now, statuslist.ErrMalformed},
		{"typ JWT", signed(t, s, map[string]any{"typ": "JWT"}, claims(nil)), keysOf(s), now, statuslist.ErrMalformed},
		{"typ of another token", signed(t, s, map[string]any{"typ": "dc+sd-jwt"}, claims(nil)), keysOf(s), now, statuslist.ErrMalformed},
		{"crit header", signed(t, s, map[string]any{"typ": "statuslist+jwt", "crit": []string{"x"}, "x": 1}, claims(nil)), keysOf(s), now, statuslist.ErrMalformed},
		{"alg none", unsigned(`{"alg":"none","typ":"statuslist+jwt"}`, `{"sub":"`+tokenURI+`","iat":1}`, "e30"), keysOf(s), now, credential.ErrSignature},
		{"alg HS256", unsigned(`{"alg":"HS256","typ":"statuslist+jwt","kid":"k1"}`, `{"sub":"`+tokenURI+`","iat":1}`, "c2ln"), keysOf(s), now, credential.ErrSignature},
		{"alg ES512", unsigned(`{"alg":"ES512","typ":"statuslist+jwt","kid":"k1"}`, `{"sub":"`+tokenURI+`","iat":1}`, "c2ln"), keysOf(s), now, credential.ErrSignature},
		{"other key, same kid", good, keysOf(other), now, credential.ErrSignature},
		{"unknown kid", good, keysOf(ed), now, credential.ErrSignature},
		{"no keys", good, nil, now, credential.ErrSignature},
		{"key of another type", good, keysOf(ed, credtest.NewSigner(t, "EdDSA", "k1")), now, credential.ErrSignature},
		{"P-384 key for ES256", good, fixedKey(&p384.PublicKey), now, credential.ErrSignature},
		{"short RSA key", good, fixedKey(&rsaKey.PublicKey), now, credential.ErrSignature},
		{"private JWK", good, fixedKey(privJWK), now, credential.ErrSignature},
		{"tampered payload", tampered, keysOf(s), now, credential.ErrSignature},
		{"payload not an object", signed(t, s, typ, []any{1}), keysOf(s), now, statuslist.ErrMalformed},
		{"no sub", signed(t, s, typ, claims(map[string]any{"sub": nil})), keysOf(s), now, statuslist.ErrMalformed},
		{"sub of another list", signed(t, s, typ, claims(map[string]any{"sub": tokenURI + "/2"})), keysOf(s), now, statuslist.ErrMalformed},
		{"sub not a string", signed(t, s, typ, claims(map[string]any{"sub": 1})), keysOf(s), now, statuslist.ErrMalformed},
		{"no iat", signed(t, s, typ, claims(map[string]any{"iat": nil})), keysOf(s), now, statuslist.ErrMalformed},
		{"iat string", signed(t, s, typ, claims(map[string]any{"iat": "1"})), keysOf(s), now, statuslist.ErrMalformed},
		{"exp string", signed(t, s, typ, claims(map[string]any{"exp": "2030"})), keysOf(s), now, statuslist.ErrMalformed},
		{"ttl zero", signed(t, s, typ, claims(map[string]any{"ttl": 0})), keysOf(s), now, statuslist.ErrMalformed},
		{"ttl negative", signed(t, s, typ, claims(map[string]any{"ttl": -5})), keysOf(s), now, statuslist.ErrMalformed},
		{"iss number", signed(t, s, typ, claims(map[string]any{"iss": 5})), keysOf(s), now, statuslist.ErrMalformed},
		{"no status_list", signed(t, s, typ, claims(map[string]any{"status_list": nil})), keysOf(s), now, statuslist.ErrMalformed},
		{"status_list bits 3", signed(t, s, typ, claims(map[string]any{"status_list": map[string]any{"bits": 3, "lst": "eNrbuRgAAhcBXQ"}})), keysOf(s), now, statuslist.ErrMalformed},
		{"status_list lst broken", signed(t, s, typ, claims(map[string]any{"status_list": map[string]any{"bits": 1, "lst": "eNrbuRgAAhcBXX"}})), keysOf(s), now, statuslist.ErrMalformed},
		{"expired", good, keysOf(s), t1, credential.ErrExpired},
		{"not yet valid", signed(t, s, typ, claims(map[string]any{"nbf": t0.Add(2 * time.Hour).Unix()})), keysOf(s), now, credential.ErrNotYetValid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := statuslist.ParseToken(context.Background(), tt.token, tokenURI, tt.keys, tt.now)
			if !errors.Is(err, tt.wantErr) {
				t.Errorf("ParseToken(%s) = %v, %v, want %v", tt.name, got, err, tt.wantErr)
			}
		})
	}
	if _, err := statuslist.ParseToken(context.Background(), good, tokenURI, keysOf(s), now); err != nil {
		t.Errorf("ParseToken(good) = %v, want nil (the rows must differ from it)", err)
	}
	// A JWK public key and the media type as typ are accepted.
	pubJWK, err := jwk.Import(s.Public())
	if err != nil {
		t.Fatal(err)
	}
	media := signed(t, s, map[string]any{"typ": "application/statuslist+jwt"}, claims(nil))
	if _, err := statuslist.ParseToken(context.Background(), media, tokenURI, fixedKey(pubJWK), now); err != nil {
		t.Errorf("ParseToken(typ application/statuslist+jwt, JWK key) = %v, want nil", err)
	}
	edTok := signed(t, ed, typ, claims(nil))
	if _, err := statuslist.ParseToken(context.Background(), edTok, tokenURI, fixedKey(ed25519.PublicKey(ed.Public().(ed25519.PublicKey))), now); err != nil {
		t.Errorf("ParseToken(EdDSA) = %v, want nil", err)
	}
}

func TestVerifyTokenRSA(t *testing.T) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	list, _ := statuslist.NewTokenList(1, 16)
	for _, alg := range []string{"RS256", "PS256"} {
		t.Run(alg, func(t *testing.T) {
			s := &rsaSigner{alg: alg, key: key}
			token, err := statuslist.IssueToken(context.Background(), s, list, statuslist.TokenOptions{URI: tokenURI, IssuedAt: t0})
			if err != nil {
				t.Fatal(err)
			}
			keys := func(string) (crypto.PublicKey, error) { return &key.PublicKey, nil }
			if _, err := statuslist.ParseToken(context.Background(), token, tokenURI, keys, t0); err != nil {
				t.Errorf("ParseToken(%s) = %v, want nil", alg, err)
			}
		})
	}
}

// rsaSigner is a credential.Signer over an RSA key (credtest has none).
type rsaSigner struct {
	alg string
	key *rsa.PrivateKey
}

func (s *rsaSigner) Alg() string   { return s.alg }
func (s *rsaSigner) KeyID() string { return "rsa" }

func (s *rsaSigner) Sign(_ context.Context, message []byte) ([]byte, error) {
	h := sha256.Sum256(message)
	if s.alg == "PS256" {
		return rsa.SignPSS(rand.Reader, s.key, crypto.SHA256, h[:], &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthEqualsHash})
	}
	return rsa.SignPKCS1v15(rand.Reader, s.key, crypto.SHA256, h[:])
}

func (s *rsaSigner) SignJWS(ctx context.Context, payload []byte, header map[string]any) (string, error) {
	h := map[string]any{}
	for k, v := range header {
		h[k] = v
	}
	h["alg"], h["kid"] = s.alg, s.KeyID()
	hj, err := json.Marshal(h)
	if err != nil {
		return "", err
	}
	enc := base64.RawURLEncoding
	input := enc.EncodeToString(hj) + "." + enc.EncodeToString(payload)
	sig, err := s.Sign(ctx, []byte(input))
	if err != nil {
		return "", err
	}
	return input + "." + enc.EncodeToString(sig), nil
}
