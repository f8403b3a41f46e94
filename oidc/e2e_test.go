package oidc_test

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/hmac"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	gooidc "github.com/coreos/go-oidc/v3/oidc"
	"github.com/lestrrat-go/jwx/v3/jwa"
	"github.com/lestrrat-go/jwx/v3/jwe"
	"github.com/lestrrat-go/jwx/v3/jwk"
	"golang.org/x/oauth2"

	"github.com/sanad-id/sanad/idrepo"
	"github.com/sanad-id/sanad/oidc"
	"github.com/sanad-id/sanad/oidc/oidctest"
	"github.com/sanad-id/sanad/storage"
	"github.com/sanad-id/sanad/storage/storagetest"
)

// End-to-end tests: a complete provider (oidctest.Stack: real ID
// repository with the demo residents, real authenticator, keys and
// storage) driven as MOSIP's oidc-ui and a relying party would
// (oidctest.RP), with coreos/go-oidc verifying what the relying party
// receives. TestE2E runs them on SQLite and memory, TestE2EPostgresRedis on
// PostgreSQL and Redis (skipped without SANAD_TEST_POSTGRES_URL and
// SANAD_TEST_REDIS_URL).

// e2eStores opens the stores of one stack.
type e2eStores func(t *testing.T) (storage.Durable, storage.State)

func e2eSQLiteMemory(t *testing.T) (storage.Durable, storage.State) {
	return storagetest.OpenSQLite(t), storagetest.OpenMemory(t)
}

func e2ePostgresRedis(t *testing.T) (storage.Durable, storage.State) {
	return storagetest.OpenPostgres(t), storagetest.OpenRedis(t)
}

func TestE2E(t *testing.T) {
	t.Parallel()
	runE2E(t, e2eSQLiteMemory)
}

func TestE2EPostgresRedis(t *testing.T) {
	t.Parallel()
	runE2E(t, e2ePostgresRedis)
}

func runE2E(t *testing.T, stores e2eStores) {
	e := newE2E(t, stores)
	for _, tc := range []struct {
		name string
		test func(*testing.T, *e2e)
	}{
		{"Login", testE2ELogin},
		{"LoginIDs", testE2ELoginIDs},
		{"IDTokenAlgs", testE2EIDTokenAlgs},
		{"UserinfoJWE", testE2EUserinfoJWE},
		{"UserinfoEncryptionJWK", testE2EUserinfoEncryptionJWK},
		{"ConsentReuse", testE2EConsentReuse},
		{"ConsentWithdrawal", testE2EConsentWithdrawal},
		{"ClaimsLocales", testE2EClaimsLocales},
		{"PairwiseSubject", testE2EPairwise},
		{"UnregisteredClaims", testE2EUnregisteredClaims},
		{"IntrospectRevoke", testE2EIntrospectRevoke},
		{"CodeReuse", testE2ECodeReuse},
		{"WrongPKCEVerifier", testE2EWrongVerifier},
		{"RedirectURI", testE2ERedirectURI},
		{"ClientAssertion", testE2EClientAssertion},
		{"DPoP", testE2EDPoP},
		{"NonceReuse", testE2ENonceReuse},
		{"PromptNone", testE2EPromptNone},
		{"OTPBruteForce", testE2EOTPBruteForce},
		{"OpenIDOnly", testE2EOpenIDOnly},
		{"ACRResolution", testE2EACRResolution},
		{"EssentialACR", testE2EEssentialACR},
		{"TransactionStates", testE2ETransactionStates},
		{"JSONEscaping", testE2EJSONEscaping},
		{"ConcurrentRedemption", testE2EConcurrentRedemption},
		{"UserinfoJSON", testE2EUserinfoJSON},
		{"ConcurrentLogins", testE2EConcurrentLogins},
		{"DPoPKeyTypes", testE2EDPoPKeyTypes},
		{"UIPrefix", testE2EUIPrefix},
		{"AuthorizeScopes", testE2EAuthorizeScopes},
	} {
		t.Run(tc.name, func(t *testing.T) { tc.test(t, e) })
	}
	// Their own stacks: in parallel.
	t.Run("FAPI2", func(t *testing.T) {
		t.Parallel()
		testE2EFAPI2(t, stores)
	})
	t.Run("Clock", func(t *testing.T) {
		t.Parallel()
		testE2EClock(t, stores)
	})
}

// e2e is a running stack with the relying party's view of it.
type e2e struct {
	s        *oidctest.Stack
	provider *gooidc.Provider
	keySet   *gooidc.RemoteKeySet
	// vids maps the VIDs issued by tests to their resident's phone.
	vids map[string]string
}

func newE2E(t *testing.T, stores e2eStores, opts ...func(*oidctest.Options)) *e2e {
	t.Helper()
	durable, state := stores(t)
	logs := func(o *oidctest.Options) {
		o.Logger = slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelWarn}))
		// Every request comes from 127.0.0.1: the per-IP login rate limit
		// (600 a minute) would throttle the suite.
		o.Provider = func(c *oidc.Config) { c.LoginRateLimit = 1 << 20 }
	}
	s := oidctest.New(t, durable, state, append([]func(*oidctest.Options){logs}, opts...)...)
	ctx := t.Context()
	p, err := gooidc.NewProvider(ctx, s.Issuer)
	if err != nil {
		t.Fatalf("go-oidc NewProvider(%s) = %v", s.Issuer, err)
	}
	return &e2e{s: s, provider: p, keySet: gooidc.NewRemoteKeySet(ctx, s.Issuer+oidc.PathJWKS), vids: map[string]string{}}
}

// resident returns demo resident i (0 to 3). Resident 3 is the brute-force
// test's alone: it ends blocked.
func (e *e2e) resident(i int) idrepo.DemoResident { return e.s.Residents[i] }

// otp reads the OTP sent to the resident a login ID names.
func (e *e2e) otp(_ context.Context, loginID string) (string, error) {
	for _, r := range e.s.Residents {
		phone, _ := r.Identity["phone"].(string)
		email, _ := r.Identity["email"].(string)
		if loginID == r.UIN || loginID == phone || loginID == email {
			if code := e.s.Inbox.OTP(phone); code != "" {
				return code, nil
			}
			return "", fmt.Errorf("no OTP sent to %s", phone)
		}
	}
	if phone, ok := e.vids[loginID]; ok {
		return e.s.Inbox.OTP(phone), nil
	}
	return "", fmt.Errorf("no resident with login ID %q", loginID)
}

// login returns the options of a sign-in of r with factor.
func (e *e2e) login(r idrepo.DemoResident, factor string) oidctest.LoginOptions {
	o := oidctest.LoginOptions{Factor: factor, LoginID: r.UIN, OTP: e.otp}
	switch factor {
	case "PIN":
		o.Secret = r.PIN
	case "PWD":
		o.Secret = r.Password
	case "KBI":
		names, _ := r.Identity["fullName"].([]any)
		name, _ := names[len(names)-1].(map[string]any)["value"].(string)
		b, _ := json.Marshal(map[string]string{"fullName": name, "dateOfBirth": r.Identity["dateOfBirth"].(string)})
		o.Secret = string(b)
	}
	return o
}

// e2eClientSpec describes a client to register.
type e2eClientSpec struct {
	id string
	// redirect is the redirect URI; "" for https://<id>.example/cb.
	redirect string
	// alg is the client key's algorithm: ES256 (""), RS256, PS256, EdDSA.
	alg string
	// config is additionalConfig (JSON), or "".
	config string
	// claims are the registered claims; nil for every supported one.
	claims []string
	// dpop gives the RP a DPoP key.
	dpop bool
	// name is the client name; "" for "Client <id>".
	name string
}

// client registers a client and returns its relying party.
func (e *e2e) client(t *testing.T, c e2eClientSpec) *oidctest.RP {
	t.Helper()
	ctx := t.Context()
	if c.redirect == "" {
		c.redirect = "https://" + c.id + ".example/cb"
	}
	if c.claims == nil {
		c.claims = oidc.SupportedClientClaims
	}
	key := e2eKey(t, c.alg)
	pub, err := key.PublicKey()
	if err != nil {
		t.Fatal(err)
	}
	pubJSON, err := json.Marshal(pub)
	if err != nil {
		t.Fatal(err)
	}
	if c.name == "" {
		c.name = "Client " + c.id
	}
	reg := oidc.ClientRegistration{
		ClientID: c.id, ClientName: c.name,
		ClientNameLangMap: map[string]string{"eng": c.name, "fra": c.name, "ara": "عميل " + c.id},
		PublicKey:         pubJSON, RelyingPartyID: "rp-" + c.id, UserClaims: c.claims,
		AuthContextRefs: []string{"mosip:idp:acr:generated-code", "mosip:idp:acr:static-code",
			"mosip:idp:acr:password", "mosip:idp:acr:knowledge"},
		LogoURI: "https://" + c.id + ".example/logo.png", RedirectURIs: []string{c.redirect},
		GrantTypes: []string{"authorization_code"}, ClientAuthMethods: []string{"private_key_jwt"},
	}
	if c.config != "" {
		reg.AdditionalConfig = json.RawMessage(c.config)
	}
	if _, err := e.s.Clients.Create(ctx, reg); err != nil {
		t.Fatalf("register client %s: %v", c.id, err)
	}
	rp := &oidctest.RP{Issuer: e.s.Issuer, Client: &oidctest.Client{ID: c.id, Key: key, RedirectURI: c.redirect}}
	if c.dpop {
		rp.DPoPKey = e2eKey(t, "ES256")
	}
	return rp
}

// e2eKey generates a private JWK for alg with a kid.
func e2eKey(t testing.TB, alg string) jwk.Key {
	t.Helper()
	var raw any
	var err error
	switch alg {
	case "", "ES256":
		raw, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	case "RS256", "PS256":
		raw, err = rsa.GenerateKey(rand.Reader, 2048)
	case "EdDSA":
		_, raw, err = ed25519.GenerateKey(rand.Reader)
	default:
		t.Fatalf("newKey: alg %s", alg)
	}
	if err != nil {
		t.Fatal(err)
	}
	key, err := jwk.Import(raw)
	if err != nil {
		t.Fatal(err)
	}
	if alg == "PS256" {
		_ = key.Set(jwk.AlgorithmKey, jwa.PS256())
	}
	tp, err := key.Thumbprint(crypto.SHA256)
	if err != nil {
		t.Fatal(err)
	}
	_ = key.Set(jwk.KeyIDKey, base64.RawURLEncoding.EncodeToString(tp[:12]))
	return key
}

// e2eRun runs a whole sign-in and fails t if it does not complete.
func e2eRun(t *testing.T, rp *oidctest.RP, o oidctest.LoginOptions) (*oidctest.Flow, *oidctest.LoginResult) {
	t.Helper()
	f, err := rp.NewFlow(o)
	if err != nil {
		t.Fatal(err)
	}
	res, err := f.Run(t.Context())
	if err != nil {
		t.Fatalf("login of %s with %s (PAR %v, DPoP %v) = %v", rp.Client.ID, o.Factor, o.PAR, rp.DPoPKey != nil, err)
	}
	return f, res
}

// e2eVerified is what the relying party learnt from a sign-in.
type e2eVerified struct {
	id       *gooidc.IDToken
	idClaims map[string]any
	userinfo map[string]any
}

// verify checks a sign-in's tokens as the relying party does, with
// go-oidc: the ID token (signature with alg, issuer, audience, expiry),
// its nonce and at_hash; the userinfo response (signature, and decryption
// for a JWE client), whose sub must be the ID token's.
func (e *e2e) verify(t *testing.T, rp *oidctest.RP, f *oidctest.Flow, res *oidctest.LoginResult, alg string) e2eVerified {
	t.Helper()
	ctx := t.Context()
	v := e.provider.Verifier(&gooidc.Config{ClientID: rp.Client.ID, SupportedSigningAlgs: []string{alg}})
	idt, err := v.Verify(ctx, res.IDToken)
	if err != nil {
		t.Fatalf("go-oidc Verify(ID token of %s) = %v", rp.Client.ID, err)
	}
	if idt.Nonce != f.Request.Nonce {
		t.Errorf("ID token nonce = %q, want %q", idt.Nonce, f.Request.Nonce)
	}
	if err := idt.VerifyAccessToken(res.Token.AccessToken); err != nil {
		t.Errorf("VerifyAccessToken (at_hash) = %v", err)
	}
	var claims map[string]any
	if err := idt.Claims(&claims); err != nil {
		t.Fatal(err)
	}
	for _, c := range []string{"auth_time", "acr", "amr", "sid", "at_hash", "iat", "exp"} {
		if _, ok := claims[c]; !ok {
			t.Errorf("ID token has no %s: %v", c, claims)
		}
	}
	out := e2eVerified{id: idt, idClaims: claims}
	if res.Userinfo != nil {
		out.userinfo = e.userinfo(t, rp, res.Userinfo, res.UserinfoType, alg)
		if out.userinfo["sub"] != idt.Subject {
			t.Errorf("userinfo sub = %v, ID token sub = %v", out.userinfo["sub"], idt.Subject)
		}
	}
	return out
}

// userinfo verifies a userinfo response (a JWS, or a JWS in a JWE
// decrypted with the client's key) with the provider's JWKS and returns its
// claims.
func (e *e2e) userinfo(t *testing.T, rp *oidctest.RP, body []byte, contentType, alg string) map[string]any {
	t.Helper()
	if contentType != "application/jwt" {
		t.Fatalf("userinfo Content-Type = %q, want application/jwt", contentType)
	}
	tok := string(body)
	if strings.Count(tok, ".") == 4 {
		tok = e2eDecryptJWE(t, rp.Client.Key, tok)
	}
	payload, err := e.keySet.VerifySignature(t.Context(), tok)
	if err != nil {
		t.Fatalf("userinfo signature: %v", err)
	}
	if h := e2eHeader(t, tok); h["alg"] != alg {
		t.Errorf("userinfo alg = %v, want %s", h["alg"], alg)
	}
	var claims map[string]any
	if err := json.Unmarshal(payload, &claims); err != nil {
		t.Fatal(err)
	}
	if claims["iss"] != e.s.Issuer || claims["aud"] != rp.Client.ID {
		t.Errorf("userinfo iss, aud = %v, %v, want %s, %s", claims["iss"], claims["aud"], e.s.Issuer, rp.Client.ID)
	}
	return claims
}

// e2eDecryptJWE decrypts a compact JWE with the client's private key and
// returns the nested JWS.
func e2eDecryptJWE(t *testing.T, key jwk.Key, compact string) string {
	t.Helper()
	h := e2eHeader(t, compact)
	if h["cty"] != "JWT" || h["enc"] != "A256GCM" {
		t.Errorf("JWE header = %v, want cty JWT and enc A256GCM", h)
	}
	alg, ok := jwa.LookupKeyEncryptionAlgorithm(fmt.Sprint(h["alg"]))
	if !ok {
		t.Fatalf("JWE alg %v", h["alg"])
	}
	var raw any
	if err := jwk.Export(key, &raw); err != nil {
		t.Fatal(err)
	}
	plain, err := jwe.Decrypt([]byte(compact), jwe.WithKey(alg, raw))
	if err != nil {
		t.Fatalf("decrypt userinfo JWE: %v", err)
	}
	return string(plain)
}

func e2eHeader(t *testing.T, compact string) map[string]any {
	t.Helper()
	seg, _, _ := strings.Cut(compact, ".")
	b, err := base64.RawURLEncoding.DecodeString(seg)
	if err != nil {
		t.Fatalf("JOSE header: %v", err)
	}
	var h map[string]any
	if err := json.Unmarshal(b, &h); err != nil {
		t.Fatalf("JOSE header: %v", err)
	}
	return h
}

func e2eClaims(t *testing.T, compact string) map[string]any {
	t.Helper()
	parts := strings.Split(compact, ".")
	if len(parts) != 3 {
		t.Fatalf("not a JWS: %q", compact)
	}
	b, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	var c map[string]any
	if err := json.Unmarshal(b, &c); err != nil {
		t.Fatal(err)
	}
	return c
}

// e2eWantCode checks that err is an *oidctest.Error with code (and, if not 0,
// HTTP status).
func e2eWantCode(t *testing.T, what string, err error, code string, status int) {
	t.Helper()
	var e *oidctest.Error
	switch {
	case err == nil:
		t.Errorf("%s = success, want %s", what, code)
	case !errors.As(err, &e):
		t.Errorf("%s = %v, want the protocol error %s", what, err, code)
	case e.Code != code || status != 0 && e.Status != status:
		t.Errorf("%s = %v (HTTP %d), want %s (HTTP %d)", what, err, e.Status, code, status)
	}
}

var e2eFactorACR = map[string]string{
	"OTP": "mosip:idp:acr:generated-code", "PIN": "mosip:idp:acr:static-code",
	"PWD": "mosip:idp:acr:password", "KBI": "mosip:idp:acr:knowledge",
}

var e2eFactorAMR = map[string]string{"OTP": "otp", "PIN": "pin", "PWD": "pwd", "KBI": "kba"}

// testE2ELogin signs in with every factor, with and without PAR, with
// bearer tokens, optional DPoP and required DPoP (server nonces).
func testE2ELogin(t *testing.T, e *e2e) {
	bearer := e.client(t, e2eClientSpec{id: "login-bearer"})
	optional := e.client(t, e2eClientSpec{id: "login-dpop-optional", dpop: true})
	required := e.client(t, e2eClientSpec{id: "login-dpop-required", dpop: true, config: `{"dpop_bound_access_tokens": true}`})
	i := 0
	for _, factor := range []string{"OTP", "PIN", "PWD", "KBI"} {
		for _, par := range []bool{false, true} {
			for _, rp := range []*oidctest.RP{bearer, optional, required} {
				name := fmt.Sprintf("%s/PAR=%v/%s", factor, par, rp.Client.ID)
				r := e.resident(i % 3)
				i++
				t.Run(name, func(t *testing.T) {
					o := e.login(r, factor)
					o.PAR = par
					f, res := e2eRun(t, rp, o)
					v := e.verify(t, rp, f, res, "RS256")
					if got := v.idClaims["acr"]; got != e2eFactorACR[factor] {
						t.Errorf("acr = %v, want %s", got, e2eFactorACR[factor])
					}
					if got := fmt.Sprint(v.idClaims["amr"]); got != "["+e2eFactorAMR[factor]+"]" {
						t.Errorf("amr = %v, want [%s]", got, e2eFactorAMR[factor])
					}
					wantType := "Bearer"
					if rp.DPoPKey != nil {
						wantType = "DPoP"
					}
					if res.Token.TokenType != wantType {
						t.Errorf("token_type = %s, want %s", res.Token.TokenType, wantType)
					}
					at := e2eClaims(t, res.Token.AccessToken)
					if cnf, _ := at["cnf"].(map[string]any); rp.DPoPKey != nil {
						jkt, _ := oidctest.Thumbprint(rp.DPoPKey)
						if cnf["jkt"] != jkt {
							t.Errorf("access token cnf = %v, want jkt %s", at["cnf"], jkt)
						}
					} else if cnf != nil {
						t.Errorf("bearer access token has cnf %v", cnf)
					}
					email, _ := r.Identity["email"].(string)
					if v.userinfo["email"] != email || v.userinfo["name"] == nil || v.userinfo["phone_number"] != r.Identity["phone"] {
						t.Errorf("userinfo = %v, want the resident's name, email and phone_number", v.userinfo)
					}
					if _, ok := v.userinfo["individual_id"]; ok {
						t.Errorf("userinfo releases individual_id")
					}
					if rp.DPoPKey == nil {
						// go-oidc's own userinfo client reads the JWS too.
						ui, err := e.provider.UserInfo(t.Context(), oauth2.StaticTokenSource(&oauth2.Token{
							AccessToken: res.Token.AccessToken, TokenType: res.Token.TokenType}))
						if err != nil || ui.Subject != v.id.Subject || ui.Email != email {
							t.Errorf("go-oidc UserInfo = %+v, %v; want sub %s, email %s", ui, err, v.id.Subject, email)
						}
					}
				})
			}
		}
	}
}

// testE2ELoginIDs signs in by phone number, e-mail address and VID.
func testE2ELoginIDs(t *testing.T, e *e2e) {
	rp := e.client(t, e2eClientSpec{id: "login-ids"})
	r := e.resident(1)
	vid, err := e.s.Repo.CreateVID(t.Context(), "test", r.UIN, idrepo.VIDPerpetual)
	if err != nil {
		t.Fatalf("CreateVID: %v", err)
	}
	e.vids[vid.VID] = r.Identity["phone"].(string)
	var subs []string
	for _, id := range []string{r.UIN, r.Identity["phone"].(string), r.Identity["email"].(string), vid.VID} {
		for _, factor := range []string{"OTP", "PIN"} {
			o := e.login(r, factor)
			o.LoginID = id
			f, res := e2eRun(t, rp, o)
			subs = append(subs, e.verify(t, rp, f, res, "RS256").id.Subject)
		}
	}
	for _, s := range subs[1:] {
		if s != subs[0] {
			t.Errorf("subjects by login ID = %v, want one subject", subs)
			break
		}
	}
}

// testE2EIDTokenAlgs signs ID tokens and userinfo with each client's
// id_token_signed_response_alg; client keys of each type authenticate.
func testE2EIDTokenAlgs(t *testing.T, e *e2e) {
	for _, alg := range []string{"RS256", "ES256", "PS256", "EdDSA"} {
		t.Run(alg, func(t *testing.T) {
			rp := e.client(t, e2eClientSpec{id: "alg-" + strings.ToLower(alg), alg: alg,
				config: `{"id_token_signed_response_alg": "` + alg + `"}`})
			f, res := e2eRun(t, rp, e.login(e.resident(0), "PIN"))
			e.verify(t, rp, f, res, alg)
			if h := e2eHeader(t, res.IDToken); h["alg"] != alg || h["typ"] != "JWT" {
				t.Errorf("ID token header = %v, want alg %s, typ JWT", h, alg)
			}
			if h := e2eHeader(t, res.Token.AccessToken); h["typ"] != "at+jwt" {
				t.Errorf("access token header = %v, want typ at+jwt", h)
			}
		})
	}
}

// testE2EUserinfoJWE: a JWE client gets userinfo encrypted to its key (EC:
// ECDH-ES, RSA: RSA-OAEP-256), nesting a JWS.
func testE2EUserinfoJWE(t *testing.T, e *e2e) {
	for _, alg := range []string{"ES256", "RS256"} {
		t.Run(alg, func(t *testing.T) {
			rp := e.client(t, e2eClientSpec{id: "jwe-" + strings.ToLower(alg), alg: alg, dpop: alg == "ES256",
				config: `{"userinfo_response_type": "JWE"}`})
			o := e.login(e.resident(2), "PWD")
			o.PAR = true
			f, res := e2eRun(t, rp, o)
			if n := strings.Count(string(res.Userinfo), "."); n != 4 {
				t.Fatalf("userinfo has %d dots, want a compact JWE", n)
			}
			want := map[string]string{"ES256": "ECDH-ES", "RS256": "RSA-OAEP-256"}[alg]
			if h := e2eHeader(t, string(res.Userinfo)); h["alg"] != want {
				t.Errorf("JWE alg = %v, want %s", h["alg"], want)
			}
			v := e.verify(t, rp, f, res, "RS256")
			if v.userinfo["email"] != e.resident(2).Identity["email"] {
				t.Errorf("decrypted userinfo = %v", v.userinfo)
			}
		})
	}
}

// testE2EUserinfoEncryptionJWK: a client whose key cannot encrypt
// (Ed25519) registers userinfo_encryption_jwk and gets userinfo encrypted
// to it.
func testE2EUserinfoEncryptionJWK(t *testing.T, e *e2e) {
	enc := e2eKey(t, "ES256")
	pub, _ := enc.PublicKey()
	_ = pub.Remove(jwk.KeyIDKey)
	pubJSON, _ := json.Marshal(pub)
	rp := e.client(t, e2eClientSpec{id: "jwe-eddsa", alg: "EdDSA",
		config: `{"userinfo_response_type": "JWE", "id_token_signed_response_alg": "EdDSA", "userinfo_encryption_jwk": ` + string(pubJSON) + `}`})
	f, res := e2eRun(t, rp, e.login(e.resident(1), "KBI"))
	dec := *rp
	dec.Client = &oidctest.Client{ID: rp.Client.ID, Key: enc, RedirectURI: rp.Client.RedirectURI}
	v := e.verify(t, &dec, f, res, "EdDSA")
	if v.userinfo["email"] != e.resident(1).Identity["email"] {
		t.Errorf("decrypted userinfo = %v", v.userinfo)
	}
}

// testE2EConsentReuse: a second sign-in with the same request reuses the
// stored consent (NOCAPTURE) and releases the same claims; a changed
// request, and prompt=consent, ask again.
func testE2EConsentReuse(t *testing.T, e *e2e) {
	rp := e.client(t, e2eClientSpec{id: "consent-reuse"})
	r := e.resident(0)
	base := e.login(r, "PIN")
	onlyName := func(oidctest.ClaimDetails) []string { return []string{"name"} }

	steps := []struct {
		name   string
		change func(*oidctest.LoginOptions)
		want   string
	}{
		{"first", func(o *oidctest.LoginOptions) { o.AcceptClaims = onlyName }, oidc.ConsentCapture},
		{"same request", nil, oidc.ConsentNoCapture},
		{"same request by PAR", func(o *oidctest.LoginOptions) { o.PAR = true }, oidc.ConsentNoCapture},
		{"more scopes", func(o *oidctest.LoginOptions) { o.Scope = "openid profile email phone address" }, oidc.ConsentCapture},
		{"the new request again", func(o *oidctest.LoginOptions) { o.Scope = "openid profile email phone address" }, oidc.ConsentNoCapture},
		{"prompt=consent", func(o *oidctest.LoginOptions) {
			o.Scope, o.Prompt = "openid profile email phone address", "consent"
		}, oidc.ConsentCapture},
		{"claims parameter", func(o *oidctest.LoginOptions) {
			o.Scope, o.Claims = "openid", `{"userinfo": {"birthdate": {"essential": true}}}`
		}, oidc.ConsentCapture},
	}
	for i, s := range steps {
		o := base
		if s.change != nil {
			s.change(&o)
		}
		f, res := e2eRun(t, rp, o)
		if res.ConsentAction != s.want {
			t.Errorf("%d %s: consent action = %s, want %s", i, s.name, res.ConsentAction, s.want)
		}
		v := e.verify(t, rp, f, res, "RS256")
		switch s.name {
		case "first", "same request", "same request by PAR":
			// Only name was accepted the first time; the stored consent
			// releases only name.
			if _, ok := v.userinfo["email"]; ok || v.userinfo["name"] == nil {
				t.Errorf("%d %s: userinfo = %v, want name and not email", i, s.name, v.userinfo)
			}
		case "claims parameter":
			if v.userinfo["birthdate"] != "1990-05-14" {
				t.Errorf("%d %s: userinfo = %v, want birthdate 1990-05-14", i, s.name, v.userinfo)
			}
		}
	}
}

// testE2EConsentWithdrawal: the resident withdraws a client's consent
// through the consent API (a consent_management client's token); the
// client's older access token dies at userinfo, the next sign-in asks
// again, and the new token works.
func testE2EConsentWithdrawal(t *testing.T, e *e2e) {
	ctx := t.Context()
	bank := e.client(t, e2eClientSpec{id: "withdraw-bank"})
	portal := e.client(t, e2eClientSpec{id: "withdraw-portal", config: `{"consent_management": true}`})
	r := e.resident(1)

	_, old := e2eRun(t, bank, e.login(r, "PIN"))
	if old.ConsentAction != oidc.ConsentCapture {
		t.Errorf("first bank sign-in: consent action %s, want CAPTURE", old.ConsentAction)
	}
	po := e.login(r, "PWD")
	po.Scope = "openid " + oidc.ConsentScope
	_, pres := e2eRun(t, portal, po)
	if !slices.Contains(strings.Fields(pres.Token.Scope), oidc.ConsentScope) {
		t.Fatalf("portal token scope = %q, want %s", pres.Token.Scope, oidc.ConsentScope)
	}

	// The bank cannot use the consent API.
	if status, _, body, err := bank.Resource(ctx, http.MethodGet, oidc.PathConsents, old.Token.AccessToken, "Bearer", ""); err != nil || status != http.StatusForbidden {
		t.Errorf("GET consents with the bank's token = %d %s, %v; want 403", status, body, err)
	}
	status, _, body, err := portal.Resource(ctx, http.MethodGet, oidc.PathConsents, pres.Token.AccessToken, "Bearer", "")
	if err != nil || status != http.StatusOK {
		t.Fatalf("GET consents = %d %s, %v", status, body, err)
	}
	var list struct {
		Consents []struct {
			ClientID       string   `json:"clientId"`
			AcceptedClaims []string `json:"acceptedClaims"`
		} `json:"consents"`
	}
	if err := json.Unmarshal(body, &list); err != nil {
		t.Fatal(err)
	}
	if !slices.ContainsFunc(list.Consents, func(c struct {
		ClientID       string   `json:"clientId"`
		AcceptedClaims []string `json:"acceptedClaims"`
	}) bool {
		return c.ClientID == bank.Client.ID && slices.Contains(c.AcceptedClaims, "name")
	}) {
		t.Errorf("consents = %s, want the bank's with name", body)
	}

	// The old token works until the withdrawal.
	if _, err := bank.Userinfo(ctx, old.Token.AccessToken, old.Token.TokenType); err != nil {
		t.Fatalf("userinfo before the withdrawal = %v", err)
	}
	// A code issued before the withdrawal and redeemed after it.
	pending := e2eSignedIn(t, bank, e.login(r, "PIN"))
	status, _, body, err = portal.Resource(ctx, http.MethodDelete, oidc.PathConsents+"/"+bank.Client.ID, pres.Token.AccessToken, "Bearer", "")
	if err != nil || status != http.StatusNoContent {
		t.Fatalf("DELETE consent = %d %s, %v; want 204", status, body, err)
	}
	_, err = bank.Userinfo(ctx, old.Token.AccessToken, old.Token.TokenType)
	e2eWantCode(t, "userinfo with a token issued before the withdrawal", err, oidc.CodeInvalidToken, http.StatusUnauthorized)
	_, err = pending.Token(ctx)
	e2eWantCode(t, "token for a code issued before the withdrawal", err, oidc.CodeInvalidGrant, http.StatusBadRequest)
	status, _, _, _ = portal.Resource(ctx, http.MethodDelete, oidc.PathConsents+"/"+bank.Client.ID, pres.Token.AccessToken, "Bearer", "")
	if status != http.StatusNotFound {
		t.Errorf("second DELETE = %d, want 404", status)
	}

	// At once, the next sign-in asks again, and its token works.
	f, again := e2eRun(t, bank, e.login(r, "PIN"))
	if again.ConsentAction != oidc.ConsentCapture {
		t.Errorf("sign-in after the withdrawal: consent action %s, want CAPTURE", again.ConsentAction)
	}
	e.verify(t, bank, f, again, "RS256")
	// The portal's own token is untouched.
	if _, err := portal.Userinfo(ctx, pres.Token.AccessToken, pres.Token.TokenType); err != nil {
		t.Errorf("portal userinfo after the withdrawal = %v", err)
	}
}

// testE2EClaimsLocales: claims_locales "fra ara" releases the
// multi-language claims in both languages, in userinfo and, when the claims
// parameter asks, in the ID token.
func testE2EClaimsLocales(t *testing.T, e *e2e) {
	rp := e.client(t, e2eClientSpec{id: "locales"})
	r := e.resident(0)
	o := e.login(r, "OTP")
	o.ClaimsLocales = "fra ara"
	o.Claims = `{"id_token": {"name": {"essential": true}}}`
	f, res := e2eRun(t, rp, o)
	v := e.verify(t, rp, f, res, "RS256")
	for _, claims := range []map[string]any{v.userinfo, v.idClaims} {
		if claims["name#fra"] != "Amina Diallo" || claims["name#ara"] != "أمينة ديالو" {
			t.Errorf("claims = %v, want name#fra Amina Diallo and name#ara أمينة ديالو", claims)
		}
		if _, ok := claims["name#eng"]; ok {
			t.Errorf("claims = %v, want no name#eng", claims)
		}
	}
	if v.userinfo["gender#fra"] != "Femme" || v.userinfo["gender#ara"] != "أنثى" {
		t.Errorf("userinfo gender = %v, %v", v.userinfo["gender#fra"], v.userinfo["gender#ara"])
	}
	if _, ok := v.idClaims["email"]; ok {
		t.Errorf("ID token carries email, which the claims parameter did not ask there: %v", v.idClaims)
	}
	if v.userinfo["locale"] != "fr" {
		t.Errorf("userinfo locale = %v, want fr (the first of claims_locales the resident has)", v.userinfo["locale"])
	}
}

// testE2EPairwise: clients of different sectors (redirect hosts) get
// different subjects for one resident; clients of one sector the same.
func testE2EPairwise(t *testing.T, e *e2e) {
	a := e.client(t, e2eClientSpec{id: "pairwise-a", redirect: "https://shop.example/a/cb"})
	b := e.client(t, e2eClientSpec{id: "pairwise-b", redirect: "https://other.example/cb"})
	c := e.client(t, e2eClientSpec{id: "pairwise-c", redirect: "https://shop.example/c/cb"})
	sub := map[string]string{}
	for _, rp := range []*oidctest.RP{a, b, c} {
		f, res := e2eRun(t, rp, e.login(e.resident(2), "PIN"))
		sub[rp.Client.ID] = e.verify(t, rp, f, res, "RS256").id.Subject
	}
	if sub["pairwise-a"] == sub["pairwise-b"] {
		t.Errorf("clients of different sectors got one sub %s", sub["pairwise-a"])
	}
	if sub["pairwise-a"] != sub["pairwise-c"] {
		t.Errorf("clients of one sector got subs %s and %s", sub["pairwise-a"], sub["pairwise-c"])
	}
	if sub["pairwise-a"] == e.resident(2).UIN || sub["pairwise-a"] == e.resident(2).ResidentID {
		t.Errorf("sub is the UIN or the internal id")
	}
	// Another resident, same client: another sub.
	f, res := e2eRun(t, a, e.login(e.resident(1), "PIN"))
	if s := e.verify(t, a, f, res, "RS256").id.Subject; s == sub["pairwise-a"] {
		t.Errorf("two residents share sub %s", s)
	}
}

// testE2EUnregisteredClaims: claims the client did not register are not
// released, even when asked as essential.
func testE2EUnregisteredClaims(t *testing.T, e *e2e) {
	rp := e.client(t, e2eClientSpec{id: "few-claims", claims: []string{"name", "birthdate"}})
	o := e.login(e.resident(0), "PIN")
	o.Claims = `{"userinfo": {"email": {"essential": true}, "phone_number": null, "birthdate": {"essential": true}}}`
	f, err := rp.NewFlow(o)
	if err != nil {
		t.Fatal(err)
	}
	d, err := f.OAuthDetails(t.Context())
	if err != nil {
		t.Fatalf("oauth-details = %v", err)
	}
	if !slices.Equal(d.EssentialClaims, []string{"birthdate"}) || !slices.Equal(d.VoluntaryClaims, []string{"name"}) {
		t.Errorf("oauth-details claims = %v essential, %v voluntary; want [birthdate], [name]", d.EssentialClaims, d.VoluntaryClaims)
	}
	// Accepting a claim that is not requested is refused.
	if _, err := f.Authenticate(t.Context()); err != nil {
		t.Fatalf("authenticate = %v", err)
	}
	_, err = f.AuthCode(t.Context(), []string{"birthdate", "email"}, nil)
	e2eWantCode(t, "auth-code accepting an unregistered claim", err, oidc.UIInvalidAcceptedClaim, http.StatusOK)
	_, err = f.AuthCode(t.Context(), []string{"name"}, nil)
	e2eWantCode(t, "auth-code without the essential claim", err, oidc.UIInvalidAcceptedClaim, http.StatusOK)
	if _, err := f.AuthCode(t.Context(), []string{"birthdate", "name"}, nil); err != nil {
		t.Fatalf("auth-code = %v", err)
	}
	tok, err := f.Token(t.Context())
	if err != nil {
		t.Fatalf("token = %v", err)
	}
	ui, err := rp.Userinfo(t.Context(), tok.AccessToken, tok.TokenType)
	if err != nil {
		t.Fatal(err)
	}
	claims := e.userinfo(t, rp, ui.Body, ui.ContentType, "RS256")
	for _, c := range []string{"email", "phone_number", "gender"} {
		if _, ok := claims[c]; ok {
			t.Errorf("userinfo releases %s, which the client did not register: %v", c, claims)
		}
	}
	if claims["birthdate"] != "1990-05-14" || claims["name"] == nil {
		t.Errorf("userinfo = %v, want birthdate and name", claims)
	}
}

// testE2EIntrospectRevoke: introspection of an active token, revocation,
// then the token is inactive and refused at userinfo.
func testE2EIntrospectRevoke(t *testing.T, e *e2e) {
	ctx := t.Context()
	rp := e.client(t, e2eClientSpec{id: "introspect", dpop: true})
	other := e.client(t, e2eClientSpec{id: "introspect-other"})
	_, res := e2eRun(t, rp, e.login(e.resident(0), "PIN"))
	in, err := rp.Introspect(ctx, res.Token.AccessToken)
	if err != nil {
		t.Fatalf("introspect = %v", err)
	}
	jkt, _ := oidctest.Thumbprint(rp.DPoPKey)
	if in["active"] != true || in["client_id"] != rp.Client.ID || in["token_type"] != "DPoP" ||
		in["cnf"].(map[string]any)["jkt"] != jkt {
		t.Errorf("introspection = %v", in)
	}
	if in, err := other.Introspect(ctx, res.Token.AccessToken); err != nil || in["active"] != false || len(in) != 1 {
		t.Errorf("introspection by another client = %v, %v; want {active: false}", in, err)
	}
	if err := other.Revoke(ctx, res.Token.AccessToken); err != nil {
		t.Errorf("revocation by another client = %v, want 200", err)
	}
	if _, err := rp.Userinfo(ctx, res.Token.AccessToken, res.Token.TokenType); err != nil {
		t.Errorf("userinfo after another client's revocation = %v", err)
	}
	if err := rp.Revoke(ctx, res.Token.AccessToken); err != nil {
		t.Fatalf("revoke = %v", err)
	}
	if in, err := rp.Introspect(ctx, res.Token.AccessToken); err != nil || in["active"] != false {
		t.Errorf("introspection after revocation = %v, %v", in, err)
	}
	_, err = rp.Userinfo(ctx, res.Token.AccessToken, res.Token.TokenType)
	e2eWantCode(t, "userinfo with a revoked token", err, oidc.CodeInvalidToken, http.StatusUnauthorized)
}

// e2eSignedIn runs a sign-in up to the code.
func e2eSignedIn(t *testing.T, rp *oidctest.RP, o oidctest.LoginOptions) *oidctest.Flow {
	t.Helper()
	ctx := t.Context()
	f, err := rp.NewFlow(o)
	if err != nil {
		t.Fatal(err)
	}
	if o.PAR {
		if err := f.PAR(ctx); err != nil {
			t.Fatalf("PAR = %v", err)
		}
	}
	if _, err := f.OAuthDetails(ctx); err != nil {
		t.Fatalf("oauth-details = %v", err)
	}
	if o.Factor == "OTP" {
		if _, err := f.SendOTP(ctx); err != nil {
			t.Fatalf("send-otp = %v", err)
		}
	}
	action, err := f.Authenticate(ctx)
	if err != nil {
		t.Fatalf("authenticate = %v", err)
	}
	var accepted []string
	if action == oidc.ConsentCapture {
		d, err := f.ClaimDetails(ctx)
		if err != nil {
			t.Fatalf("claim-details = %v", err)
		}
		accepted = oidctest.AcceptAvailable(*d)
	}
	if _, err := f.AuthCode(ctx, accepted, f.Details.AuthorizeScopes); err != nil {
		t.Fatalf("auth-code = %v", err)
	}
	return f
}

// testE2ECodeReuse: a code redeemed twice is invalid_grant, and the access
// token of its first redemption is revoked.
func testE2ECodeReuse(t *testing.T, e *e2e) {
	for _, dpop := range []bool{false, true} {
		t.Run(fmt.Sprintf("DPoP=%v", dpop), func(t *testing.T) {
			ctx := t.Context()
			rp := e.client(t, e2eClientSpec{id: fmt.Sprintf("code-reuse-%v", dpop), dpop: dpop})
			f := e2eSignedIn(t, rp, e.login(e.resident(0), "PIN"))
			tok, err := f.Token(ctx)
			if err != nil {
				t.Fatalf("first token request = %v", err)
			}
			if _, err := rp.Userinfo(ctx, tok.AccessToken, tok.TokenType); err != nil {
				t.Fatalf("userinfo = %v", err)
			}
			_, err = f.Token(ctx)
			e2eWantCode(t, "second token request with the code", err, oidc.CodeInvalidGrant, http.StatusBadRequest)
			_, err = rp.Userinfo(ctx, tok.AccessToken, tok.TokenType)
			e2eWantCode(t, "userinfo with the token of a replayed code", err, oidc.CodeInvalidToken, http.StatusUnauthorized)
		})
	}
}

// testE2EWrongVerifier: a wrong PKCE verifier is invalid_grant.
func testE2EWrongVerifier(t *testing.T, e *e2e) {
	rp := e.client(t, e2eClientSpec{id: "pkce"})
	f := e2eSignedIn(t, rp, e.login(e.resident(0), "PIN"))
	good := f.CodeVerifier
	f.CodeVerifier = strings.Repeat("A", 43)
	_, err := f.Token(t.Context())
	e2eWantCode(t, "token with a wrong code_verifier", err, oidc.CodeInvalidGrant, http.StatusBadRequest)
	// The code is spent.
	f.CodeVerifier = good
	_, err = f.Token(t.Context())
	e2eWantCode(t, "token with the right verifier after a wrong one", err, oidc.CodeInvalidGrant, http.StatusBadRequest)
}

// testE2ERedirectURI: a redirect URI that is not the client's is shown on
// a page (never redirected to) at /authorize, refused by oauth-details and
// PAR, and a token request with another redirect URI is invalid_grant.
func testE2ERedirectURI(t *testing.T, e *e2e) {
	ctx := t.Context()
	rp := e.client(t, e2eClientSpec{id: "redirect"})
	other := e.client(t, e2eClientSpec{id: "redirect-other"})
	for _, uri := range []string{other.Client.RedirectURI, "https://evil.example/cb", rp.Client.RedirectURI + "/x"} {
		f, err := rp.NewFlow(e.login(e.resident(0), "PIN"))
		if err != nil {
			t.Fatal(err)
		}
		f.Request.RedirectURI = uri
		ar, err := f.Authorize(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if ar.Status != http.StatusBadRequest || ar.Location != "" || !strings.Contains(string(ar.Body), oidc.CodeInvalidRedirectURI) {
			t.Errorf("/authorize with redirect_uri %s = %d, Location %q; want a 400 page naming %s", uri, ar.Status, ar.Location, oidc.CodeInvalidRedirectURI)
		}
		_, err = f.OAuthDetails(ctx)
		e2eWantCode(t, "oauth-details with redirect_uri "+uri, err, oidc.CodeInvalidRedirectURI, http.StatusOK)
		err = f.PAR(ctx)
		e2eWantCode(t, "PAR with redirect_uri "+uri, err, oidc.CodeInvalidRedirectURI, http.StatusBadRequest)
	}
	// A well-formed request goes to the login page.
	f, err := rp.NewFlow(e.login(e.resident(0), "PIN"))
	if err != nil {
		t.Fatal(err)
	}
	if ar, err := f.Authorize(ctx); err != nil || ar.Status != http.StatusSeeOther || !strings.HasPrefix(ar.Location, oidc.PathLogin+"/") {
		t.Errorf("/authorize = %+v, %v; want a redirect to the login page", ar, err)
	}

	// At the token endpoint.
	f = e2eSignedIn(t, rp, e.login(e.resident(0), "PIN"))
	_, err = rp.Token(ctx, oidctest.TokenRequest{Code: f.Code, RedirectURI: other.Client.RedirectURI, CodeVerifier: f.CodeVerifier})
	e2eWantCode(t, "token with another redirect_uri", err, oidc.CodeInvalidGrant, http.StatusBadRequest)
	_, err = rp.Token(ctx, oidctest.TokenRequest{Code: f.Code, RedirectURI: rp.Client.RedirectURI, CodeVerifier: f.CodeVerifier})
	e2eWantCode(t, "token after a wrong redirect_uri", err, oidc.CodeInvalidGrant, http.StatusBadRequest)
}

// testE2EClientAssertion: client assertions that must fail do, with
// invalid_client, and leave the code usable.
func testE2EClientAssertion(t *testing.T, e *e2e) {
	ctx := t.Context()
	rp := e.client(t, e2eClientSpec{id: "assertion"})
	other := e.client(t, e2eClientSpec{id: "assertion-other"})
	aud := e.s.Issuer
	now := time.Now()
	claims := func(change func(map[string]any)) map[string]any {
		c := map[string]any{"iss": rp.Client.ID, "sub": rp.Client.ID, "aud": aud, "jti": fmt.Sprint(time.Now().UnixNano()),
			"iat": now.Unix(), "exp": now.Add(time.Minute).Unix()}
		if change != nil {
			change(c)
		}
		return c
	}
	sign := func(key jwk.Key, c map[string]any) string {
		s, err := oidctest.SignJWT(key, "", c)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	pub, _ := rp.Client.Key.PublicKey()
	pubJSON, _ := json.Marshal(pub)
	var rawPub any
	if err := jwk.Export(pub, &rawPub); err != nil {
		t.Fatal(err)
	}
	pubDER, err := x509.MarshalPKIXPublicKey(rawPub)
	if err != nil {
		t.Fatal(err)
	}
	unsigned := func(alg string, secret []byte) string {
		h := base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"` + alg + `","typ":"JWT"}`))
		b, _ := json.Marshal(claims(nil))
		input := h + "." + base64.RawURLEncoding.EncodeToString(b)
		if secret == nil {
			return input + "."
		}
		m := hmac.New(sha256.New, secret)
		m.Write([]byte(input))
		return input + "." + base64.RawURLEncoding.EncodeToString(m.Sum(nil))
	}

	replayed := sign(rp.Client.Key, claims(nil))
	f0 := e2eSignedIn(t, rp, e.login(e.resident(0), "PIN"))
	if _, err := rp.Token(ctx, oidctest.TokenRequest{Code: f0.Code, RedirectURI: f0.Request.RedirectURI, CodeVerifier: f0.CodeVerifier, Assertion: replayed}); err != nil {
		t.Fatalf("token with a fresh assertion = %v", err)
	}

	for _, tc := range []struct {
		name      string
		assertion string
	}{
		{"replayed", replayed},
		{"another client's key", sign(other.Client.Key, claims(nil))},
		{"alg none", unsigned("none", nil)},
		{"HS256 with the public key (JWK)", unsigned("HS256", pubJSON)},
		{"HS256 with the public key (DER)", unsigned("HS256", pubDER)},
		{"expired", sign(rp.Client.Key, claims(func(c map[string]any) {
			c["iat"], c["exp"] = now.Add(-10*time.Minute).Unix(), now.Add(-5*time.Minute).Unix()
		}))},
		{"wrong audience", sign(rp.Client.Key, claims(func(c map[string]any) { c["aud"] = "https://other.example" }))},
		{"another client's id", sign(rp.Client.Key, claims(func(c map[string]any) { c["iss"], c["sub"] = other.Client.ID, other.Client.ID }))},
		{"no jti", sign(rp.Client.Key, claims(func(c map[string]any) { delete(c, "jti") }))},
		{"too long-lived", sign(rp.Client.Key, claims(func(c map[string]any) { c["exp"] = now.Add(time.Hour).Unix() }))},
	} {
		f := e2eSignedIn(t, rp, e.login(e.resident(0), "PIN"))
		_, err := rp.Token(ctx, oidctest.TokenRequest{Code: f.Code, RedirectURI: f.Request.RedirectURI, CodeVerifier: f.CodeVerifier, Assertion: tc.assertion})
		e2eWantCode(t, "token with assertion: "+tc.name, err, oidc.CodeInvalidClient, http.StatusUnauthorized)
		// The code survives a failed client authentication.
		if _, err := f.Token(ctx); err != nil {
			t.Errorf("%s: token with a good assertion afterwards = %v", tc.name, err)
		}
	}
	// The token endpoint's URL is an accepted audience outside FAPI 2.0.
	f := e2eSignedIn(t, rp, e.login(e.resident(0), "PIN"))
	a := sign(rp.Client.Key, claims(func(c map[string]any) { c["aud"] = e.s.Issuer + oidc.PathToken }))
	if _, err := rp.Token(ctx, oidctest.TokenRequest{Code: f.Code, RedirectURI: f.Request.RedirectURI, CodeVerifier: f.CodeVerifier, Assertion: a}); err != nil {
		t.Errorf("token with aud = the token endpoint = %v", err)
	}
}

// testE2EDPoP: proof replay, wrong htu, a DPoP-bound token with another
// key's proof, a bound token sent as a bearer token, and dpop_jkt binding.
func testE2EDPoP(t *testing.T, e *e2e) {
	ctx := t.Context()
	rp := e.client(t, e2eClientSpec{id: "dpop", dpop: true})
	thief := *rp
	thief.DPoPKey = e2eKey(t, "ES256")

	// Wrong htu at the token endpoint.
	f := e2eSignedIn(t, rp, e.login(e.resident(1), "PIN"))
	proof, err := oidctest.DPoPProof(rp.DPoPKey, http.MethodPost, e.s.Issuer+oidc.PathPAR, "", "")
	if err != nil {
		t.Fatal(err)
	}
	_, err = rp.Token(ctx, oidctest.TokenRequest{Code: f.Code, RedirectURI: f.Request.RedirectURI, CodeVerifier: f.CodeVerifier, DPoPProof: proof})
	e2eWantCode(t, "token with a proof for another htu", err, oidc.CodeInvalidDPoPProof, http.StatusBadRequest)
	proof, _ = oidctest.DPoPProof(rp.DPoPKey, http.MethodGet, e.s.Issuer+oidc.PathToken, "", "")
	_, err = rp.Token(ctx, oidctest.TokenRequest{Code: f.Code, RedirectURI: f.Request.RedirectURI, CodeVerifier: f.CodeVerifier, DPoPProof: proof})
	e2eWantCode(t, "token with a proof for another htm", err, oidc.CodeInvalidDPoPProof, http.StatusBadRequest)
	// Replay at the token endpoint: the proof of a successful request.
	proof, _ = oidctest.DPoPProof(rp.DPoPKey, http.MethodPost, e.s.Issuer+oidc.PathToken, "", "")
	tok, err := rp.Token(ctx, oidctest.TokenRequest{Code: f.Code, RedirectURI: f.Request.RedirectURI, CodeVerifier: f.CodeVerifier, DPoPProof: proof})
	if err != nil {
		t.Fatalf("token = %v", err)
	}
	f2 := e2eSignedIn(t, rp, e.login(e.resident(1), "PIN"))
	_, err = rp.Token(ctx, oidctest.TokenRequest{Code: f2.Code, RedirectURI: f2.Request.RedirectURI, CodeVerifier: f2.CodeVerifier, DPoPProof: proof})
	e2eWantCode(t, "token with a replayed proof", err, oidc.CodeInvalidDPoPProof, http.StatusBadRequest)
	if _, err := f2.Token(ctx); err != nil {
		t.Errorf("token with a fresh proof after a replayed one = %v", err)
	}

	// The code is bound to rp's key by dpop_jkt: another key is refused,
	// and the code is spent, as by any failed redemption.
	f4 := e2eSignedIn(t, rp, e.login(e.resident(1), "PIN"))
	_, err = thief.Token(ctx, oidctest.TokenRequest{Code: f4.Code, RedirectURI: f4.Request.RedirectURI, CodeVerifier: f4.CodeVerifier})
	e2eWantCode(t, "token with a key other than dpop_jkt's", err, oidc.CodeInvalidDPoPProof, http.StatusBadRequest)
	_, err = f4.Token(ctx)
	e2eWantCode(t, "token after another key's attempt", err, oidc.CodeInvalidGrant, http.StatusBadRequest)

	// Replay at userinfo.
	uiURL := e.s.Issuer + oidc.PathUserinfo
	proof, _ = oidctest.DPoPProof(rp.DPoPKey, http.MethodGet, uiURL, tok.AccessToken, "")
	if _, err := rp.UserinfoWithProof(ctx, tok.AccessToken, proof); err != nil {
		t.Fatalf("userinfo = %v", err)
	}
	_, err = rp.UserinfoWithProof(ctx, tok.AccessToken, proof)
	e2eWantCode(t, "userinfo with a replayed proof", err, oidc.CodeInvalidDPoPProof, http.StatusUnauthorized)
	// Wrong htu, and no ath.
	proof, _ = oidctest.DPoPProof(rp.DPoPKey, http.MethodGet, e.s.Issuer+oidc.PathConsents, tok.AccessToken, "")
	_, err = rp.UserinfoWithProof(ctx, tok.AccessToken, proof)
	e2eWantCode(t, "userinfo with a proof for another htu", err, oidc.CodeInvalidDPoPProof, http.StatusUnauthorized)
	proof, _ = oidctest.DPoPProof(rp.DPoPKey, http.MethodGet, uiURL, "", "")
	_, err = rp.UserinfoWithProof(ctx, tok.AccessToken, proof)
	e2eWantCode(t, "userinfo with a proof without ath", err, oidc.CodeInvalidDPoPProof, http.StatusUnauthorized)

	// The token with another key's proof, and as a bearer token.
	_, err = thief.Userinfo(ctx, tok.AccessToken, "DPoP")
	e2eWantCode(t, "userinfo with another key's proof", err, oidc.CodeInvalidToken, http.StatusUnauthorized)
	_, err = thief.Userinfo(ctx, tok.AccessToken, "Bearer")
	e2eWantCode(t, "userinfo with a DPoP-bound token as a bearer token", err, oidc.CodeInvalidToken, http.StatusUnauthorized)
	if _, err := rp.Userinfo(ctx, tok.AccessToken, "DPoP"); err != nil {
		t.Errorf("userinfo with a fresh proof = %v", err)
	}

	// Another client's token at userinfo: the DPoP-bound token of one
	// client, presented by another client with its own key.
	other := e.client(t, e2eClientSpec{id: "dpop-other", dpop: true})
	_, err = other.Userinfo(ctx, tok.AccessToken, "DPoP")
	e2eWantCode(t, "userinfo with another client's DPoP-bound token", err, oidc.CodeInvalidToken, http.StatusUnauthorized)

	// A client that must use DPoP: no proof is refused.
	must := e.client(t, e2eClientSpec{id: "dpop-must", dpop: true, config: `{"dpop_bound_access_tokens": true}`})
	bearer := *must
	bearer.DPoPKey = nil
	f3 := e2eSignedIn(t, &bearer, e.login(e.resident(1), "PIN"))
	_, err = f3.Token(ctx)
	e2eWantCode(t, "token without a proof for a DPoP client", err, oidc.CodeInvalidDPoPProof, http.StatusBadRequest)
	f3.RP = must
	if _, err := f3.Token(ctx); err != nil {
		t.Errorf("token with a proof and the server's nonce = %v", err)
	}
}

// testE2ENonceReuse: a nonce is single use.
func testE2ENonceReuse(t *testing.T, e *e2e) {
	rp := e.client(t, e2eClientSpec{id: "nonce"})
	f1, err := rp.NewFlow(e.login(e.resident(0), "PIN"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f1.OAuthDetails(t.Context()); err != nil {
		t.Fatalf("oauth-details = %v", err)
	}
	for _, par := range []bool{false, true} {
		f2, err := rp.NewFlow(e.login(e.resident(0), "PIN"))
		if err != nil {
			t.Fatal(err)
		}
		f2.Request.Nonce = f1.Request.Nonce
		if par {
			if err := f2.PAR(t.Context()); err != nil {
				t.Fatalf("PAR = %v", err)
			}
		}
		_, err = f2.OAuthDetails(t.Context())
		e2eWantCode(t, fmt.Sprintf("oauth-details with a used nonce (PAR %v)", par), err, oidc.CodeInvalidRequest, http.StatusOK)
	}
	// Another client may use the same nonce.
	other := e.client(t, e2eClientSpec{id: "nonce-other"})
	f3, _ := other.NewFlow(e.login(e.resident(0), "PIN"))
	f3.Request.Nonce = f1.Request.Nonce
	if _, err := f3.OAuthDetails(t.Context()); err != nil {
		t.Errorf("another client's oauth-details with the nonce = %v", err)
	}
}

// testE2EPromptNone: without a session, prompt=none is login_required,
// redirected to the client with state and iss.
func testE2EPromptNone(t *testing.T, e *e2e) {
	rp := e.client(t, e2eClientSpec{id: "prompt-none"})
	o := e.login(e.resident(0), "PIN")
	o.Prompt = "none"
	f, err := rp.NewFlow(o)
	if err != nil {
		t.Fatal(err)
	}
	ar, err := f.Authorize(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if ar.Status != http.StatusSeeOther {
		t.Fatalf("/authorize prompt=none = %d %s, want a redirect", ar.Status, ar.Body)
	}
	_, err = rp.ParseRedirect(ar.Location, f.Request.State)
	e2eWantCode(t, "redirect of prompt=none", err, oidc.CodeLoginRequired, 0)
	_, err = f.OAuthDetails(t.Context())
	e2eWantCode(t, "oauth-details prompt=none", err, oidc.CodeLoginRequired, http.StatusOK)
	// With PAR.
	f, _ = rp.NewFlow(o)
	err = f.PAR(t.Context())
	if err == nil {
		ar, err = f.Authorize(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		_, err = rp.ParseRedirect(ar.Location, f.Request.State)
	}
	e2eWantCode(t, "prompt=none by PAR", err, oidc.CodeLoginRequired, 0)
}

// testE2EOTPBruteForce: wrong OTPs use up the transaction's attempts
// (no_attempts_left), which blocks the resident in every transaction
// (individual_id_blocked), whatever the factor.
func testE2EOTPBruteForce(t *testing.T, e *e2e) {
	ctx := t.Context()
	rp := e.client(t, e2eClientSpec{id: "brute-force"})
	r := e.resident(3)
	f, err := rp.NewFlow(e.login(r, "OTP"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.OAuthDetails(ctx); err != nil {
		t.Fatal(err)
	}
	sent, err := f.SendOTP(ctx)
	if err != nil {
		t.Fatalf("send-otp = %v", err)
	}
	if sent.MaskedMobile == nil || strings.Contains(*sent.MaskedMobile, r.Identity["phone"].(string)) {
		t.Errorf("masked mobile = %v", sent.MaskedMobile)
	}
	otp, _ := e.otp(ctx, r.UIN)
	wrong := "000000"
	if otp == wrong {
		wrong = "000001"
	}
	for i := range 3 {
		_, err := f.Authenticate(ctx, oidctest.Challenge{Factor: "OTP", Value: wrong})
		e2eWantCode(t, fmt.Sprintf("wrong OTP %d", i+1), err, "auth_failed", http.StatusOK)
	}
	_, err = f.Authenticate(ctx, oidctest.Challenge{Factor: "OTP", Value: otp})
	e2eWantCode(t, "fourth attempt, with the right OTP", err, "no_attempts_left", http.StatusOK)

	for _, factor := range []string{"PIN", "OTP"} {
		f2, err := rp.NewFlow(e.login(r, factor))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f2.OAuthDetails(ctx); err != nil {
			t.Fatal(err)
		}
		if factor == "OTP" {
			_, err = f2.SendOTP(ctx)
		} else {
			_, err = f2.Authenticate(ctx)
		}
		e2eWantCode(t, "new transaction with "+factor, err, "individual_id_blocked", http.StatusOK)
	}
}

// testE2EFAPI2 runs the FAPI 2.0 profile: PAR, PKCE and DPoP with nonces
// for every client, and client assertions for the issuer alone.
func testE2EFAPI2(t *testing.T, stores e2eStores) {
	ctx := t.Context()
	e := newE2E(t, stores, func(o *oidctest.Options) {
		o.Provider = func(c *oidc.Config) { c.Profile, c.LoginRateLimit = oidc.ProfileFAPI2, 1<<20 }
	})
	rp := e.client(t, e2eClientSpec{id: "fapi", dpop: true})
	r := e.resident(0)

	// A request that is not pushed is refused, redirected to the client.
	f, err := rp.NewFlow(e.login(r, "PIN"))
	if err != nil {
		t.Fatal(err)
	}
	_, err = f.OAuthDetails(ctx)
	e2eWantCode(t, "FAPI 2.0 oauth-details without PAR", err, oidc.CodeInvalidRequest, http.StatusOK)
	ar, err := f.Authorize(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := rp.ParseRedirect(ar.Location, f.Request.State); ar.Status != http.StatusSeeOther {
		t.Errorf("FAPI 2.0 /authorize without PAR = %d, want a redirect", ar.Status)
	} else {
		e2eWantCode(t, "FAPI 2.0 /authorize without PAR", err, oidc.CodeInvalidRequest, 0)
	}

	// PAR without PKCE is refused.
	f, _ = rp.NewFlow(e.login(r, "PIN"))
	f.Request.CodeChallenge, f.Request.CodeChallengeMethod = "", ""
	e2eWantCode(t, "FAPI 2.0 PAR without PKCE", f.PAR(ctx), oidc.CodeUsePKCE, http.StatusBadRequest)

	for _, factor := range []string{"OTP", "PIN", "PWD", "KBI"} {
		o := e.login(r, factor)
		o.PAR = true
		f, res := e2eRun(t, rp, o)
		e.verify(t, rp, f, res, "RS256")
		if res.Token.TokenType != "DPoP" {
			t.Errorf("FAPI 2.0 token_type = %s, want DPoP", res.Token.TokenType)
		}
	}

	// Without DPoP, the token request is refused.
	bearer := *rp
	bearer.DPoPKey = nil
	o := e.login(r, "PIN")
	o.PAR = true
	f = e2eSignedIn(t, &bearer, o)
	_, err = f.Token(ctx)
	e2eWantCode(t, "FAPI 2.0 token without DPoP", err, oidc.CodeInvalidDPoPProof, http.StatusBadRequest)

	// The assertion's aud must be the issuer.
	a, err := oidctest.ClientAssertion(rp.Client.Key, rp.Client.ID, e.s.Issuer+oidc.PathToken)
	if err != nil {
		t.Fatal(err)
	}
	f = e2eSignedIn(t, rp, o)
	_, err = rp.Token(ctx, oidctest.TokenRequest{Code: f.Code, RedirectURI: f.Request.RedirectURI, CodeVerifier: f.CodeVerifier, Assertion: a})
	e2eWantCode(t, "FAPI 2.0 token with aud = the token endpoint", err, oidc.CodeInvalidClient, http.StatusUnauthorized)

	// Discovery says so.
	var doc struct {
		RequirePAR bool `json:"require_pushed_authorization_requests"`
	}
	if err := e.provider.Claims(&doc); err != nil || !doc.RequirePAR {
		t.Errorf("FAPI 2.0 discovery require_pushed_authorization_requests = %v, %v", doc.RequirePAR, err)
	}
}

// testE2EOpenIDOnly: a request for openid alone has nothing to consent
// to, and userinfo carries sub alone; the consent scope needs a
// consent_management client.
func testE2EOpenIDOnly(t *testing.T, e *e2e) {
	rp := e.client(t, e2eClientSpec{id: "openid-only"})
	o := e.login(e.resident(0), "PIN")
	o.Scope = "openid"
	f, res := e2eRun(t, rp, o)
	if res.ConsentAction != oidc.ConsentNoCapture {
		t.Errorf("consent action = %s, want NOCAPTURE", res.ConsentAction)
	}
	v := e.verify(t, rp, f, res, "RS256")
	for k := range v.userinfo {
		if !slices.Contains([]string{"sub", "iss", "aud", "iat"}, k) {
			t.Errorf("userinfo for openid alone has %s: %v", k, v.userinfo)
		}
	}
	o.Scope = "openid " + oidc.ConsentScope
	f, err := rp.NewFlow(o)
	if err != nil {
		t.Fatal(err)
	}
	_, err = f.OAuthDetails(t.Context())
	e2eWantCode(t, "oauth-details with the consent scope by a bank", err, oidc.CodeInvalidScope, http.StatusOK)
}

// testE2EACRResolution: acr_values and the claims parameter's id_token.acr
// narrow the factors offered; authenticating with another is
// auth_factor_mismatch.
func testE2EACRResolution(t *testing.T, e *e2e) {
	ctx := t.Context()
	rp := e.client(t, e2eClientSpec{id: "acr"})
	r := e.resident(0)
	for _, tc := range []struct {
		name       string
		acrValues  string
		claims     string
		wantFactor string
		otherOne   string
	}{
		{"acr_values", "mosip:idp:acr:static-code", "", "PIN", "PWD"},
		{"claims", "mosip:idp:acr:static-code",
			`{"id_token": {"acr": {"essential": true, "values": ["mosip:idp:acr:password"]}}}`, "PWD", "PIN"},
		{"unknown acr", "urn:example:unknown", "", "", ""},
		{"unknown voluntary acr in claims", "", `{"id_token": {"acr": {"values": ["urn:example:unknown"]}}}`, "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := e.login(r, tc.wantFactor)
			o.ACRValues, o.Claims = tc.acrValues, tc.claims
			f, err := rp.NewFlow(o)
			if err != nil {
				t.Fatal(err)
			}
			d, err := f.OAuthDetails(ctx)
			if err != nil {
				t.Fatalf("oauth-details = %v", err)
			}
			if tc.wantFactor == "" {
				// Nothing asked is available: every factor of the client.
				if len(d.AuthFactors) != 4 {
					t.Errorf("authFactors = %v, want the client's four", d.AuthFactors)
				}
				return
			}
			if len(d.AuthFactors) != 1 || len(d.AuthFactors[0]) != 1 || d.AuthFactors[0][0].Type != tc.wantFactor {
				t.Errorf("authFactors = %v, want [[%s]]", d.AuthFactors, tc.wantFactor)
			}
			other := e.login(r, tc.otherOne)
			_, err = f.Authenticate(ctx, oidctest.Challenge{Factor: tc.otherOne, Value: other.Secret})
			e2eWantCode(t, "authenticate with "+tc.otherOne, err, "auth_factor_mismatch", http.StatusOK)
			_, err = f.SendOTP(ctx)
			e2eWantCode(t, "send-otp", err, "auth_factor_mismatch", http.StatusOK)
			res, err := f.Run(ctx)
			if err == nil {
				t.Fatalf("Run after oauth-details = success, want a used nonce")
			}
			// Run starts again with oauth-details and the same nonce.
			e2eWantCode(t, "the same request again", err, oidc.CodeInvalidRequest, http.StatusOK)
			_ = res
			f, res = e2eRun(t, rp, o)
			if v := e.verify(t, rp, f, res, "RS256"); v.idClaims["acr"] != e2eFactorACR[tc.wantFactor] {
				t.Errorf("acr = %v, want %s", v.idClaims["acr"], e2eFactorACR[tc.wantFactor])
			}
		})
	}
}

// testE2EEssentialACR: an essential acr the provider cannot satisfy fails
// the request (Core section 5.5.1.1), redirected to the client with
// unmet_authentication_requirements.
func testE2EEssentialACR(t *testing.T, e *e2e) {
	rp := e.client(t, e2eClientSpec{id: "acr-essential"})
	o := e.login(e.resident(0), "PIN")
	o.Claims = `{"id_token": {"acr": {"essential": true, "values": ["mosip:idp:acr:biometrics", "urn:example:unknown"]}}}`
	f, err := rp.NewFlow(o)
	if err != nil {
		t.Fatal(err)
	}
	ar, err := f.Authorize(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	_, err = rp.ParseRedirect(ar.Location, f.Request.State)
	e2eWantCode(t, "/authorize with an essential acr that cannot be met", err, oidc.CodeUnmetAuthenticationRequirements, 0)
	f, _ = rp.NewFlow(o)
	_, err = f.OAuthDetails(t.Context())
	e2eWantCode(t, "oauth-details with an essential acr that cannot be met", err, oidc.CodeUnmetAuthenticationRequirements, http.StatusOK)
	// One of them available: that one.
	o.Claims = `{"id_token": {"acr": {"essential": true, "values": ["urn:example:unknown", "mosip:idp:acr:static-code"]}}}`
	f, res := e2eRun(t, rp, o)
	if v := e.verify(t, rp, f, res, "RS256"); v.idClaims["acr"] != "mosip:idp:acr:static-code" {
		t.Errorf("acr = %v, want mosip:idp:acr:static-code", v.idClaims["acr"])
	}
}

// testE2ETransactionStates: the UI API follows the transaction's state
// machine and binding; a request_uri is single use and its client's; a
// code is its client's.
func testE2ETransactionStates(t *testing.T, e *e2e) {
	ctx := t.Context()
	rp := e.client(t, e2eClientSpec{id: "states"})
	other := e.client(t, e2eClientSpec{id: "states-other"})
	r := e.resident(1)

	f, err := rp.NewFlow(e.login(r, "PIN"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.OAuthDetails(ctx); err != nil {
		t.Fatal(err)
	}
	_, err = f.ClaimDetails(ctx)
	e2eWantCode(t, "claim-details before authenticate", err, oidc.UIInvalidTransaction, http.StatusOK)
	_, err = f.AuthCode(ctx, nil, nil)
	e2eWantCode(t, "auth-code before authenticate", err, oidc.UIInvalidTransaction, http.StatusOK)
	good := f.Hash
	f.Hash = strings.Repeat("x", len(good))
	_, err = f.Authenticate(ctx)
	e2eWantCode(t, "authenticate with a wrong oauth-details-hash", err, oidc.CodeInvalidRequest, http.StatusOK)
	f.Hash = good
	_, err = f.Authenticate(ctx, oidctest.Challenge{Factor: "PIN", Value: "000000"})
	e2eWantCode(t, "authenticate with a wrong PIN", err, "auth_failed", http.StatusOK)
	if _, err := f.Authenticate(ctx); err != nil {
		t.Fatalf("authenticate = %v", err)
	}
	_, err = f.Authenticate(ctx)
	e2eWantCode(t, "authenticate twice", err, oidc.UIInvalidTransaction, http.StatusOK)
	d, err := f.ClaimDetails(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.AuthCode(ctx, oidctest.AcceptAvailable(*d), nil); err != nil {
		t.Fatal(err)
	}
	_, err = f.AuthCode(ctx, oidctest.AcceptAvailable(*d), nil)
	e2eWantCode(t, "auth-code twice", err, oidc.UIInvalidTransaction, http.StatusOK)

	// Another client redeeming the code: invalid_grant, and the code is
	// spent.
	_, err = other.Token(ctx, oidctest.TokenRequest{Code: f.Code, RedirectURI: f.Request.RedirectURI, CodeVerifier: f.CodeVerifier})
	e2eWantCode(t, "token with another client's code", err, oidc.CodeInvalidGrant, http.StatusBadRequest)
	_, err = f.Token(ctx)
	e2eWantCode(t, "token after another client's attempt", err, oidc.CodeInvalidGrant, http.StatusBadRequest)

	// request_uri.
	o := e.login(r, "PIN")
	o.PAR = true
	f, _ = rp.NewFlow(o)
	if err := f.PAR(ctx); err != nil {
		t.Fatal(err)
	}
	f2, _ := other.NewFlow(o)
	f2.RequestURI = f.RequestURI
	_, err = f2.OAuthDetails(ctx)
	e2eWantCode(t, "par-oauth-details with another client's request_uri", err, oidc.CodeInvalidRequestURI, http.StatusOK)
	f, _ = rp.NewFlow(o)
	if err := f.PAR(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := f.OAuthDetails(ctx); err != nil {
		t.Fatalf("par-oauth-details = %v", err)
	}
	_, err = f.OAuthDetails(ctx)
	e2eWantCode(t, "par-oauth-details with a used request_uri", err, oidc.CodeInvalidRequestURI, http.StatusOK)
	// At /authorize: the login page, once; a used request_uri is shown on
	// a page.
	f, _ = rp.NewFlow(o)
	if err := f.PAR(ctx); err != nil {
		t.Fatal(err)
	}
	f2.RequestURI = f.RequestURI
	if ar, err := f2.Authorize(ctx); err != nil || ar.Status != http.StatusBadRequest || ar.Location != "" {
		t.Errorf("/authorize with another client's request_uri = %+v, %v; want a 400 page", ar, err)
	}
	f, _ = rp.NewFlow(o)
	if err := f.PAR(ctx); err != nil {
		t.Fatal(err)
	}
	if ar, err := f.Authorize(ctx); err != nil || ar.Status != http.StatusSeeOther || !strings.HasPrefix(ar.Location, oidc.PathLogin+"/") {
		t.Errorf("/authorize with a request_uri = %+v, %v; want the login page", ar, err)
	}
	if ar, err := f.Authorize(ctx); err != nil || ar.Status != http.StatusBadRequest || ar.Location != "" ||
		!strings.Contains(string(ar.Body), oidc.CodeInvalidRequestURI) {
		t.Errorf("/authorize with a used request_uri = %d %q; want a 400 page naming %s", ar.Status, ar.Location, oidc.CodeInvalidRequestURI)
	}
	// An OTP is the resident's and the transaction's: another resident's
	// login ID, or another transaction, cannot use it.
	ro := e.resident(0)
	fa, _ := rp.NewFlow(e.login(ro, "OTP"))
	fb, _ := rp.NewFlow(e.login(ro, "OTP"))
	for _, f := range []*oidctest.Flow{fa, fb} {
		if _, err := f.OAuthDetails(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := fa.SendOTP(ctx); err != nil {
		t.Fatal(err)
	}
	code, _ := e.otp(ctx, ro.UIN)
	fa.Options.LoginID = r.UIN
	_, err = fa.Authenticate(ctx, oidctest.Challenge{Factor: "OTP", Value: code})
	e2eWantCode(t, "authenticate as another resident with the OTP", err, "auth_failed", http.StatusOK)
	_, err = fb.Authenticate(ctx, oidctest.Challenge{Factor: "OTP", Value: code})
	e2eWantCode(t, "authenticate in another transaction with the OTP", err, "auth_failed", http.StatusOK)
	fa.Options.LoginID = ro.UIN
	if _, err := fa.Authenticate(ctx, oidctest.Challenge{Factor: "OTP", Value: code}); err != nil {
		t.Errorf("authenticate with the OTP = %v", err)
	}

	// The resident may send an OTP once per resend delay.
	o = e.login(r, "OTP")
	f, _ = rp.NewFlow(o)
	if _, err := f.OAuthDetails(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := f.SendOTP(ctx); err != nil {
		t.Fatal(err)
	}
	_, err = f.SendOTP(ctx)
	e2eWantCode(t, "send-otp again at once", err, "otp_resend_too_soon", http.StatusOK)
}

// testE2EJSONEscaping: a client name and redirect URI with characters Go
// and JavaScript encode differently (<, >, &, U+2028) keep the
// oauth-details-hash and the redirect right.
func testE2EJSONEscaping(t *testing.T, e *e2e) {
	rp := e.client(t, e2eClientSpec{id: "escaping", name: "Bank & Co <Ltd> \u2028\"quoted\"",
		redirect: "https://escaping.example/cb?a=1&b=%3Cx%3E"})
	f, res := e2eRun(t, rp, e.login(e.resident(0), "PWD"))
	e.verify(t, rp, f, res, "RS256")
	if f.Details.ClientName["@none"] != "Bank & Co <Ltd> \u2028\"quoted\"" {
		t.Errorf("clientName = %q", f.Details.ClientName["@none"])
	}
	u, err := url.Parse(f.Redirect)
	if err != nil {
		t.Fatal(err)
	}
	if q := u.Query(); q.Get("a") != "1" || q.Get("b") != "<x>" || q.Get("code") == "" {
		t.Errorf("redirect = %s, want the registered query kept", f.Redirect)
	}
}

// testE2EConcurrentRedemption: of concurrent redemptions of one code,
// exactly one succeeds.
func testE2EConcurrentRedemption(t *testing.T, e *e2e) {
	ctx := t.Context()
	rp := e.client(t, e2eClientSpec{id: "concurrent"})
	f := e2eSignedIn(t, rp, e.login(e.resident(2), "PIN"))
	const n = 16
	errs := make(chan error, n)
	for range n {
		go func() {
			_, err := rp.Token(ctx, oidctest.TokenRequest{Code: f.Code, RedirectURI: f.Request.RedirectURI, CodeVerifier: f.CodeVerifier})
			errs <- err
		}()
	}
	ok := 0
	for range n {
		err := <-errs
		if err == nil {
			ok++
		} else if c := oidctest.ErrorCode(err); c != oidc.CodeInvalidGrant {
			t.Errorf("concurrent redemption = %v, want success or invalid_grant", err)
		}
	}
	if ok != 1 {
		t.Errorf("%d of %d concurrent redemptions succeeded, want 1", ok, n)
	}
}

// testE2EUserinfoJSON: a JWS client asking for application/json alone
// gets JSON; a JSON client always does.
func testE2EUserinfoJSON(t *testing.T, e *e2e) {
	ctx := t.Context()
	rp := e.client(t, e2eClientSpec{id: "userinfo-json", config: `{"userinfo_response_type": "JSON"}`})
	_, res := e2eRun(t, rp, e.login(e.resident(0), "PIN"))
	if !strings.HasPrefix(res.UserinfoType, "application/json") {
		t.Fatalf("userinfo Content-Type = %s, want application/json", res.UserinfoType)
	}
	var claims map[string]any
	if err := json.Unmarshal(res.Userinfo, &claims); err != nil || claims["sub"] == nil || claims["name"] == nil {
		t.Errorf("userinfo = %s, %v", res.Userinfo, err)
	}
	_ = ctx
}

// testE2EConcurrentLogins: one resident signs in to one client many times
// at once (the first consents race), and several residents at once, as
// the load tool does.
func testE2EConcurrentLogins(t *testing.T, e *e2e) {
	ctx := t.Context()
	rp := e.client(t, e2eClientSpec{id: "concurrent-logins", dpop: true})
	const n = 12
	errs := make(chan error, n)
	for i := range n {
		go func() {
			o := e.login(e.resident(i%3), []string{"PIN", "PWD", "KBI"}[i%3])
			o.PAR = i%2 == 0
			_, err := rp.Login(ctx, o)
			errs <- err
		}()
	}
	for range n {
		if err := <-errs; err != nil {
			t.Errorf("concurrent login = %v", err)
		}
	}
}

// e2eClock is time.Now moved forward by a settable offset.
type e2eClock struct {
	mu  sync.Mutex
	off time.Duration
}

func (c *e2eClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return time.Now().Add(c.off)
}

func (c *e2eClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.off += d
}

// testE2EClock runs what depends on time on a stack whose clock the test
// moves: consent expiry and access token expiry.
func testE2EClock(t *testing.T, stores e2eStores) {
	ctx := t.Context()
	clk := &e2eClock{}
	e := newE2E(t, stores, func(o *oidctest.Options) { o.Now = clk.Now })
	rp := e.client(t, e2eClientSpec{id: "clock", config: `{"consent_expire_in_mins": 5}`, dpop: true})
	rp.Now = clk.Now
	r := e.resident(0)

	_, res := e2eRun(t, rp, e.login(r, "PIN"))
	if res.ConsentAction != oidc.ConsentCapture {
		t.Errorf("first sign-in: %s, want CAPTURE", res.ConsentAction)
	}
	clk.Advance(4 * time.Minute)
	if _, res = e2eRun(t, rp, e.login(r, "PIN")); res.ConsentAction != oidc.ConsentNoCapture {
		t.Errorf("sign-in 4 minutes later: %s, want NOCAPTURE", res.ConsentAction)
	}
	clk.Advance(2 * time.Minute)
	if _, res = e2eRun(t, rp, e.login(r, "PIN")); res.ConsentAction != oidc.ConsentCapture {
		t.Errorf("sign-in after the consent expired: %s, want CAPTURE", res.ConsentAction)
	}

	// An access token lives an hour (and 30 s of leeway).
	clk.Advance(oidc.DefaultAccessTokenTTL - time.Minute)
	if _, err := rp.Userinfo(ctx, res.Token.AccessToken, res.Token.TokenType); err != nil {
		t.Errorf("userinfo 59 minutes after the token = %v", err)
	}
	clk.Advance(2 * time.Minute)
	_, err := rp.Userinfo(ctx, res.Token.AccessToken, res.Token.TokenType)
	e2eWantCode(t, "userinfo 61 minutes after the token", err, oidc.CodeInvalidToken, http.StatusUnauthorized)
	if in, err := rp.Introspect(ctx, res.Token.AccessToken); err != nil || in["active"] != false {
		t.Errorf("introspection of an expired token = %v, %v", in, err)
	}
}

// testE2EDPoPKeyTypes: DPoP proofs with RSA and Ed25519 keys, for a client
// that must use DPoP.
func testE2EDPoPKeyTypes(t *testing.T, e *e2e) {
	for _, alg := range []string{"RS256", "PS256", "EdDSA"} {
		t.Run(alg, func(t *testing.T) {
			rp := e.client(t, e2eClientSpec{id: "dpop-key-" + strings.ToLower(alg), config: `{"dpop_bound_access_tokens": true}`})
			rp.DPoPKey = e2eKey(t, alg)
			for _, par := range []bool{false, true} {
				o := e.login(e.resident(2), "PIN")
				o.PAR = par
				f, res := e2eRun(t, rp, o)
				e.verify(t, rp, f, res, "RS256")
				if h := e2eHeader(t, res.Token.AccessToken); res.Token.TokenType != "DPoP" || h["typ"] != "at+jwt" {
					t.Errorf("token_type = %s, access token header %v", res.Token.TokenType, h)
				}
			}
		})
	}
}

// testE2EUIPrefix: the UI API also answers under eSignet's context path,
// oidc-ui's default base URL.
func testE2EUIPrefix(t *testing.T, e *e2e) {
	rp := e.client(t, e2eClientSpec{id: "ui-prefix"})
	rp.UIPrefix = "/v1/esignet"
	o := e.login(e.resident(0), "OTP")
	o.PAR = true
	f, res := e2eRun(t, rp, o)
	e.verify(t, rp, f, res, "RS256")
}

// testE2EAuthorizeScopes: a scope the resident must permit (the consent
// API's) is granted only when permitted.
func testE2EAuthorizeScopes(t *testing.T, e *e2e) {
	ctx := t.Context()
	portal := e.client(t, e2eClientSpec{id: "scopes-portal", config: `{"consent_management": true}`})
	r := e.resident(2)
	o := e.login(r, "PIN")
	o.Scope = "openid profile " + oidc.ConsentScope
	for _, permit := range []bool{false, true, false} {
		f, err := portal.NewFlow(o)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.OAuthDetails(ctx); err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(f.Details.AuthorizeScopes, []string{oidc.ConsentScope}) {
			t.Errorf("authorizeScopes = %v, want [%s]", f.Details.AuthorizeScopes, oidc.ConsentScope)
		}
		if _, err := f.Authenticate(ctx); err != nil {
			t.Fatal(err)
		}
		var permitted []string
		if permit {
			permitted = []string{oidc.ConsentScope}
		}
		if _, err := f.AuthCode(ctx, []string{"name"}, permitted); err != nil {
			t.Fatalf("auth-code = %v", err)
		}
		tok, err := f.Token(ctx)
		if err != nil {
			t.Fatal(err)
		}
		has := slices.Contains(strings.Fields(tok.Scope), oidc.ConsentScope)
		status, _, body, err := portal.Resource(ctx, http.MethodGet, oidc.PathConsents, tok.AccessToken, tok.TokenType, "")
		if err != nil {
			t.Fatal(err)
		}
		if has != permit || (status == http.StatusOK) != permit {
			t.Errorf("permitted %v: token scope %q, GET consents = %d %s", permit, tok.Scope, status, body)
		}
		o.Prompt = "consent"
	}
}
