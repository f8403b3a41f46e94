package issuer_test

import (
	"context"
	"crypto"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lestrrat-go/jwx/v3/jwk"

	"github.com/sanad-id/sanad/credential"
	"github.com/sanad-id/sanad/credential/did"
	"github.com/sanad-id/sanad/credential/jwtvc"
	"github.com/sanad-id/sanad/credential/sdjwt"
	"github.com/sanad-id/sanad/idrepo"
	"github.com/sanad-id/sanad/issuer"
	"github.com/sanad-id/sanad/issuer/issuertest"
	"github.com/sanad-id/sanad/oidc"
	"github.com/sanad-id/sanad/oidc/oidctest"
	"github.com/sanad-id/sanad/storage"
	"github.com/sanad-id/sanad/storage/sqldb"
	"github.com/sanad-id/sanad/storage/storagetest"
)

// End-to-end tests of issuance through the real stack (issuertest): the
// issuer with the built-in templates, Sanad's OpenID provider as its
// authorization server, the ID repository with the demo residents, the
// ledger in the durable store, keys from the keys service. Wallets are
// driven over HTTP as a wallet would drive them (oidctest for the
// authorization server, issuertest.Wallet for the issuer) and every
// credential is verified with credential/sdjwt or credential/jwtvc against
// the issuer's published JWKS. TestE2E runs on SQLite and memory,
// TestE2EPostgresRedis on PostgreSQL and Redis (skipped without
// SANAD_TEST_POSTGRES_URL and SANAD_TEST_REDIS_URL).

// The built-in configurations (templates/).
const (
	sdConfig = "national-id-sd-jwt"
	sdScope  = "national_id_sd_jwt"
	vcConfig = "national-id-jwt-vc"
	vcScope  = "national_id_jwt_vc"
)

// vcTypes are the types of vcConfig.
var vcTypes = []string{"VerifiableCredential", "NationalIDCredential"}

// e2eStores opens the stores of one stack.
type e2eStores func(t *testing.T) (*sqldb.DB, storage.State)

func e2eSQLiteMemory(t *testing.T) (*sqldb.DB, storage.State) {
	return storagetest.OpenSQLite(t), storagetest.OpenMemory(t)
}

func e2ePostgresRedis(t *testing.T) (*sqldb.DB, storage.State) {
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
		{"Metadata", testE2EMetadata},
		{"AuthCodeScope", testE2EAuthCodeScope},
		{"AuthCodeAuthorizationDetails", testE2EAuthCodeDetails},
		{"PublicClient", testE2EPublicClient},
		{"PreAuthorized", testE2EPreAuthorized},
		{"PreAuthorizedBothConfigurations", testE2EPreAuthorizedBoth},
		{"Batch", testE2EBatch},
		{"Draft13", testE2EDraft13},
		{"Notification", testE2ENotification},
		{"Proofs", testE2EProofs},
		{"Nonces", testE2ENonces},
		{"Selection", testE2ESelection},
		{"PreAuthorizedCodes", testE2EPreAuthorizedCodes},
		{"AccessTokens", testE2EAccessTokens},
		{"LedgerHoldsNoClaims", testE2ELedgerNoClaims},
	} {
		t.Run(tc.name, func(t *testing.T) { tc.test(t, e) })
	}
	// Their own stacks, with a clock the test moves.
	t.Run("Clock", func(t *testing.T) {
		t.Parallel()
		testE2EClock(t, stores)
	})
	t.Run("DisabledClient", func(t *testing.T) {
		t.Parallel()
		testE2EDisabledClient(t, stores)
	})
}

// e2e is a running stack with the wallet's and the verifier's view of it.
type e2e struct {
	s  *issuertest.Stack
	db *sqldb.DB
	// keys resolves the issuer's keys from its published JWKS.
	keys credential.KeyResolver
}

func newE2E(t *testing.T, stores e2eStores, opts ...func(*issuertest.Options)) *e2e {
	t.Helper()
	db, state := stores(t)
	rate := func(o *issuertest.Options) {
		o.Stack = func(so *oidctest.Options) {
			prev := so.Provider
			so.Provider = func(c *oidc.Config) {
				if prev != nil {
					prev(c)
				}
				// Every request comes from 127.0.0.1.
				c.LoginRateLimit = 1 << 20
			}
		}
	}
	s := issuertest.New(t, db, state, append([]func(*issuertest.Options){rate}, opts...)...)
	e := &e2e{s: s, db: db}
	e.keys = e.jwksResolver(t)
	return e
}

// jwksResolver fetches the issuer's JWKS (PathJWKS, and the same keys in
// /.well-known/jwt-vc-issuer) and resolves keys of the issuer by kid.
func (e *e2e) jwksResolver(t *testing.T) credential.KeyResolver {
	t.Helper()
	var set struct {
		Keys []json.RawMessage `json:"keys"`
	}
	e.getJSON(t, e.s.URL(issuer.PathJWKS), &set)
	var doc struct {
		Issuer string `json:"issuer"`
		JWKS   struct {
			Keys []json.RawMessage `json:"keys"`
		} `json:"jwks"`
	}
	e.getJSON(t, e.s.OIDC.Issuer+issuer.WellKnownJWTIssuer+issuertest.IssuerPath, &doc)
	if doc.Issuer != e.s.ID || len(doc.JWKS.Keys) != len(set.Keys) || len(set.Keys) == 0 {
		t.Fatalf("jwt-vc-issuer metadata = issuer %s, %d keys; JWKS %d keys; want issuer %s and the same keys", doc.Issuer, len(doc.JWKS.Keys), len(set.Keys), e.s.ID)
	}
	byKID := map[string]crypto.PublicKey{}
	for _, raw := range set.Keys {
		k, err := jwk.ParseKey(raw)
		if err != nil {
			t.Fatalf("issuer JWKS key: %v", err)
		}
		if private, _ := jwk.IsPrivateKey(k); private {
			t.Fatalf("issuer JWKS publishes a private key")
		}
		kid, _ := k.KeyID()
		var pub any
		if err := jwk.Export(k, &pub); err != nil {
			t.Fatal(err)
		}
		byKID[kid] = pub
	}
	id := e.s.ID
	return credential.KeyResolverFunc(func(_ context.Context, iss, kid string) (crypto.PublicKey, error) {
		if iss != id {
			return nil, fmt.Errorf("unknown issuer %q", iss)
		}
		if k, ok := byKID[kid]; ok {
			return k, nil
		}
		return nil, fmt.Errorf("no issuer key %q", kid)
	})
}

func (e *e2e) getJSON(t *testing.T, url string, out any) http.Header {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s = HTTP %d, want 200", url, resp.StatusCode)
	}
	if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	return resp.Header
}

// resident returns demo resident i (0 to 3).
func (e *e2e) resident(i int) idrepo.DemoResident { return e.s.OIDC.Residents[i] }

// login returns the options of a PIN sign-in of r asking scope.
func (e *e2e) login(r idrepo.DemoResident, scope string) oidctest.LoginOptions {
	return oidctest.LoginOptions{Factor: "PIN", LoginID: r.UIN, Secret: r.PIN, Scope: scope}
}

// confidential registers a wallet backend with private_key_jwt (and a
// DPoP key when dpop is set) and returns its relying party.
func (e *e2e) confidential(t *testing.T, id string, dpop bool) *oidctest.RP {
	t.Helper()
	cl, err := e.s.OIDC.RegisterClient(t.Context(), id, "https://"+id+".example/cb", "")
	if err != nil {
		t.Fatalf("RegisterClient(%s) = %v", id, err)
	}
	rp := &oidctest.RP{Issuer: e.s.OIDC.Issuer, Client: cl}
	if dpop {
		rp.DPoPKey = e2eKey(t)
	}
	return rp
}

// wallet is the issuer's client for tokens of rp (its DPoP key).
func (e *e2e) wallet(dpopKey jwk.Key) *issuertest.Wallet {
	return &issuertest.Wallet{Issuer: e.s.ID, DPoPKey: dpopKey}
}

func e2eKey(t testing.TB) jwk.Key {
	t.Helper()
	k, err := issuertest.NewKey()
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// e2eToken runs a sign-in to the token response, without userinfo (a
// credential token is not for userinfo). details, when set, is sent as
// authorization_details, which needs PAR.
func e2eToken(t *testing.T, rp *oidctest.RP, o oidctest.LoginOptions, details string) *oidctest.TokenResponse {
	t.Helper()
	ctx := t.Context()
	fail := func(step string, err error) {
		t.Helper()
		t.Fatalf("sign-in of %s (PAR %v, DPoP %v): %s: %v", rp.Client.ID, o.PAR, rp.DPoPKey != nil, step, err)
	}
	f, err := rp.NewFlow(o)
	if err != nil {
		t.Fatal(err)
	}
	f.Request.AuthorizationDetails = details
	if o.PAR {
		if err := f.PAR(ctx); err != nil {
			fail("PAR", err)
		}
	}
	if _, err := f.OAuthDetails(ctx); err != nil {
		fail("oauth-details", err)
	}
	action, err := f.Authenticate(ctx)
	if err != nil {
		fail("authenticate", err)
	}
	var accepted, permitted []string
	if action == oidc.ConsentCapture {
		d, err := f.ClaimDetails(ctx)
		if err != nil {
			fail("claim-details", err)
		}
		accepted, permitted = oidctest.AcceptAvailable(*d), f.Details.AuthorizeScopes
	}
	if _, err := f.AuthCode(ctx, accepted, permitted); err != nil {
		fail("auth-code", err)
	}
	tok, err := f.Token(ctx)
	if err != nil {
		fail("token", err)
	}
	return tok
}

// proof signs a valid key proof of key for the issuer.
func (e *e2e) proof(t *testing.T, key jwk.Key, nonce, clientID string) string {
	t.Helper()
	p, err := issuertest.Proof{Key: key, Audience: e.s.ID, Nonce: nonce, ClientID: clientID}.Sign()
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// nonce asks the nonce endpoint for a c_nonce.
func (e *e2e) nonce(t *testing.T) string {
	t.Helper()
	n, err := e.wallet(nil).Nonce(t.Context())
	if err != nil {
		t.Fatalf("nonce endpoint: %v", err)
	}
	return n
}

// post sends a credential request and fails t on a transport error.
func post(t *testing.T, w *issuertest.Wallet, tok *oidctest.TokenResponse, req any) *issuertest.Response {
	t.Helper()
	resp, err := w.Credential(t.Context(), tok.AccessToken, tok.TokenType, req)
	if err != nil {
		t.Fatalf("credential request: %v", err)
	}
	return resp
}

// wantError checks an issuer answer: HTTP status and error code, and for
// errors of the access token a WWW-Authenticate challenge of scheme with
// that code.
func wantError(t *testing.T, what string, resp *issuertest.Response, status int, code string) {
	t.Helper()
	body := resp.JSON()
	if resp.Status != status || body["error"] != code {
		t.Errorf("%s = HTTP %d %s, want HTTP %d %s", what, resp.Status, short(resp.Body), status, code)
		return
	}
	if cc := resp.Header.Get("Cache-Control"); cc != "no-store" {
		t.Errorf("%s: Cache-Control = %q, want no-store", what, cc)
	}
	switch code {
	case issuer.CodeInvalidToken, issuer.CodeInsufficientScope, issuer.CodeInvalidDPoPProof:
		if h := resp.Header.Get("WWW-Authenticate"); !strings.Contains(h, `error="`+code+`"`) {
			t.Errorf("%s: WWW-Authenticate = %q, want error=%q", what, h, code)
		}
	}
}

// wantOAuth checks an error of the authorization server as oidctest
// reports it.
func wantOAuth(t *testing.T, what string, err error, status int, code string) {
	t.Helper()
	var e *oidctest.Error
	switch {
	case err == nil:
		t.Errorf("%s = success, want HTTP %d %s", what, status, code)
	case !errors.As(err, &e):
		t.Errorf("%s = %v, want the protocol error %s", what, err, code)
	case e.Code != code || e.Status != status:
		t.Errorf("%s = %v (HTTP %d), want HTTP %d %s", what, err, e.Status, status, code)
	}
}

// short is the start of a response body, for failure messages: enough for
// an error, not a whole credential.
func short(body []byte) string {
	if len(body) > 160 {
		return string(body[:160]) + "…"
	}
	return string(body)
}

// issued is a successful 1.0 credential response.
type issued struct {
	credentials    []string
	notificationID string
}

// wantIssued checks a 1.0 credential response: 200, no-store, n
// credentials and a notification_id.
func wantIssued(t *testing.T, what string, resp *issuertest.Response, n int) issued {
	t.Helper()
	if resp.Status != http.StatusOK {
		t.Fatalf("%s = HTTP %d %s, want 200", what, resp.Status, short(resp.Body))
	}
	if cc := resp.Header.Get("Cache-Control"); cc != "no-store" {
		t.Errorf("%s: Cache-Control = %q, want no-store", what, cc)
	}
	var body struct {
		Credentials []struct {
			Credential string `json:"credential"`
		} `json:"credentials"`
		NotificationID string          `json:"notification_id"`
		Credential     json.RawMessage `json:"credential"`
	}
	if err := json.Unmarshal(resp.Body, &body); err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	if len(body.Credentials) != n || body.NotificationID == "" || body.Credential != nil {
		t.Fatalf("%s = %d credentials, notification_id %q, credential %s; want %d credentials in credentials, a notification_id", what, len(body.Credentials), body.NotificationID, body.Credential, n)
	}
	out := issued{notificationID: body.NotificationID}
	for _, c := range body.Credentials {
		if c.Credential == "" {
			t.Fatalf("%s: an empty credential", what)
		}
		out.credentials = append(out.credentials, c.Credential)
	}
	return out
}

// ---- What a credential and a token must be

// englishName is r's name in English (what the SD-JWT VC template picks).
func englishName(r idrepo.DemoResident) string {
	names, _ := r.Identity["fullName"].([]any)
	for _, n := range names {
		m, _ := n.(map[string]any)
		if m["language"] == "eng" {
			s, _ := m["value"].(string)
			return s
		}
	}
	return ""
}

// birthdate is r's date of birth as credentials carry it.
func birthdate(r idrepo.DemoResident) string {
	s, _ := r.Identity["dateOfBirth"].(string)
	return strings.ReplaceAll(s, "/", "-")
}

// secrets are values of r that no token may carry, and no credential
// except for the claims its template puts there: the UIN and the internal
// id above all.
func secrets(r idrepo.DemoResident) []string {
	phone, _ := r.Identity["phone"].(string)
	email, _ := r.Identity["email"].(string)
	return []string{r.UIN, r.ResidentID, phone, email}
}

// thumbprint is the RFC 7638 thumbprint of k's public key.
func thumbprint(t *testing.T, k any) string {
	t.Helper()
	var key jwk.Key
	switch v := k.(type) {
	case jwk.Key:
		key = v
	default:
		var err error
		if key, err = jwk.Import(v); err != nil {
			t.Fatalf("import %T: %v", k, err)
		}
	}
	pub, err := key.PublicKey()
	if err != nil {
		t.Fatal(err)
	}
	tp, err := pub.Thumbprint(crypto.SHA256)
	if err != nil {
		t.Fatal(err)
	}
	return base64.RawURLEncoding.EncodeToString(tp)
}

// verifySDJWT verifies an SD-JWT VC of sdConfig for r bound to holder.
func (e *e2e) verifySDJWT(t *testing.T, cred string, r idrepo.DemoResident, holder jwk.Key) *sdjwt.Token {
	t.Helper()
	tok, err := sdjwt.VerifyVC(t.Context(), cred, sdjwt.VerifyOptions{
		Keys: e.keys, Algs: []string{"ES256"}, Issuer: e.s.ID, Typs: []string{sdjwt.TypVC},
	})
	if err != nil {
		t.Fatalf("sdjwt.VerifyVC = %v", err)
	}
	if tok.VCT != e.s.ID+"/national-id" || tok.Claims["name"] != englishName(r) || tok.Claims["birthdate"] != birthdate(r) {
		t.Errorf("SD-JWT VC vct %s, name %v, birthdate %v; want %s/national-id, %s, %s", tok.VCT, tok.Claims["name"], tok.Claims["birthdate"], e.s.ID, englishName(r), birthdate(r))
	}
	if tok.HolderKey == nil || thumbprint(t, tok.HolderKey) != thumbprint(t, holder) {
		t.Errorf("SD-JWT VC cnf.jwk is not the proof's key")
	}
	if len(tok.Disclosures) == 0 {
		t.Errorf("SD-JWT VC has no disclosures; the template makes every claim disclosable")
	}
	claims, _ := json.Marshal(tok.Claims)
	for _, s := range secrets(r)[:2] {
		if strings.Contains(string(claims), s) || strings.Contains(cred, s) {
			t.Errorf("SD-JWT VC carries the resident's UIN or internal id")
		}
	}
	return tok
}

// verifyJWTVC verifies a jwt_vc_json credential of vcConfig for r bound to
// holder.
func (e *e2e) verifyJWTVC(t *testing.T, cred string, r idrepo.DemoResident, holder jwk.Key) *jwtvc.Verified {
	t.Helper()
	v, err := jwtvc.Verify(t.Context(), cred, jwtvc.VerifyOptions{Keys: e.keys, Algs: []string{"ES256"}})
	if err != nil {
		t.Fatalf("jwtvc.Verify = %v", err)
	}
	c := v.Credential
	if c.Issuer != e.s.ID || !slices.Equal(c.Types, vcTypes) || c.Subject["dateOfBirth"] != birthdate(r) {
		t.Errorf("JWT VC issuer %s, types %v, dateOfBirth %v; want %s, %v, %s", c.Issuer, c.Types, c.Subject["dateOfBirth"], e.s.ID, vcTypes, birthdate(r))
	}
	names, _ := json.Marshal(c.Subject["fullName"])
	if !strings.Contains(string(names), englishName(r)) {
		t.Errorf("JWT VC fullName = %s, want %s among them", names, englishName(r))
	}
	if c.HolderJWK == nil || thumbprint(t, c.HolderJWK) != thumbprint(t, holder) {
		t.Errorf("JWT VC cnf.jwk is not the proof's key")
	}
	pub, _ := holder.PublicKey()
	if want, _ := did.JWKDID(pub); c.SubjectID != want {
		t.Errorf("JWT VC credentialSubject.id = %s, want the holder's did:jwk %s", c.SubjectID, want)
	}
	claims, _ := json.Marshal(v.Claims)
	for _, s := range secrets(r)[:2] {
		if strings.Contains(string(claims), s) {
			t.Errorf("JWT VC carries the resident's UIN or internal id")
		}
	}
	return v
}

// verify verifies a credential of configuration config.
func (e *e2e) verify(t *testing.T, config, cred string, r idrepo.DemoResident, holder jwk.Key) {
	t.Helper()
	switch config {
	case sdConfig:
		e.verifySDJWT(t, cred, r, holder)
	case vcConfig:
		e.verifyJWTVC(t, cred, r, holder)
	default:
		t.Fatalf("verify: configuration %s", config)
	}
}

// checkAccessToken decodes a credential access token: it is for the
// credential issuer, and carries neither the UIN nor anything else that
// identifies the resident besides the pairwise subject.
func (e *e2e) checkAccessToken(t *testing.T, tok *oidctest.TokenResponse, r idrepo.DemoResident) {
	t.Helper()
	parts := strings.Split(tok.AccessToken, ".")
	if len(parts) != 3 {
		t.Fatalf("access token is not a JWS")
	}
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range secrets(r) {
		if strings.Contains(string(payload), s) {
			t.Errorf("access token payload %s carries the resident's UIN, internal id, phone or e-mail", payload)
		}
	}
	if strings.Contains(string(payload), englishName(r)) {
		t.Errorf("access token payload %s carries the resident's name", payload)
	}
	var claims struct {
		Aud any    `json:"aud"`
		Sub string `json:"sub"`
	}
	if err := json.Unmarshal(payload, &claims); err != nil {
		t.Fatal(err)
	}
	if claims.Aud != e.s.ID || claims.Sub == "" {
		t.Errorf("access token aud %v, sub %q; want %s and a pairwise subject", claims.Aud, claims.Sub, e.s.ID)
	}
}

// ledger returns the ledger entries of r with notificationID.
func (e *e2e) ledger(t *testing.T, r idrepo.DemoResident, notificationID string) []storage.IssuedCredential {
	t.Helper()
	all, err := e.s.Ledger.ListCredentials(t.Context(), storage.CredentialFilter{PersonID: r.ResidentID, Limit: 1000})
	if err != nil {
		t.Fatalf("ListCredentials = %v", err)
	}
	var out []storage.IssuedCredential
	for _, c := range all {
		if c.NotificationID == notificationID {
			out = append(out, c)
		}
	}
	return out
}

// checkLedger checks the ledger entries of one credential response: one
// per holder key, of config, for r, valid, no wallet event yet.
func (e *e2e) checkLedger(t *testing.T, r idrepo.DemoResident, got issued, config, format string, holders ...jwk.Key) []storage.IssuedCredential {
	t.Helper()
	entries := e.ledger(t, r, got.notificationID)
	if len(entries) != len(holders) {
		t.Fatalf("ledger has %d entries with notification_id %s, want %d", len(entries), got.notificationID, len(holders))
	}
	want := map[string]bool{}
	for _, h := range holders {
		want[thumbprint(t, h)] = true
	}
	for _, c := range entries {
		if c.ConfigurationID != config || c.Format != format || c.Subject == "" || c.Status != storage.CredentialValid ||
			c.WalletEvent != "" || !want[c.HolderKeyThumbprint] || !strings.HasPrefix(c.ID, "urn:uuid:") {
			t.Errorf("ledger entry %+v, want %s %s, valid, no wallet event, bound to one of the proof keys", c, config, format)
		}
		delete(want, c.HolderKeyThumbprint)
	}
	return entries
}

// ---- Tests

// testE2EMetadata: the metadata a wallet reads first, in both shapes, and
// the authorization server's view of the issuer.
func testE2EMetadata(t *testing.T, e *e2e) {
	var meta struct {
		CredentialIssuer     string   `json:"credential_issuer"`
		AuthorizationServers []string `json:"authorization_servers"`
		CredentialEndpoint   string   `json:"credential_endpoint"`
		NonceEndpoint        string   `json:"nonce_endpoint"`
		NotificationEndpoint string   `json:"notification_endpoint"`
		Batch                struct {
			BatchSize int `json:"batch_size"`
		} `json:"batch_credential_issuance"`
		Configs map[string]map[string]any `json:"credential_configurations_supported"`
	}
	e.getJSON(t, e.s.OIDC.Issuer+issuer.WellKnownIssuer+issuertest.IssuerPath, &meta)
	if meta.CredentialIssuer != e.s.ID || !slices.Equal(meta.AuthorizationServers, []string{e.s.OIDC.Issuer}) ||
		meta.CredentialEndpoint != e.s.URL(issuer.PathCredential) || meta.NonceEndpoint != e.s.URL(issuer.PathNonce) ||
		meta.NotificationEndpoint != e.s.URL(issuer.PathNotification) || len(meta.Configs) != 4 ||
		meta.Batch.BatchSize != issuer.DefaultBatchSize ||
		meta.Configs[sdConfig]["scope"] != sdScope || meta.Configs[vcConfig]["scope"] != vcScope {
		t.Errorf("issuer metadata = %+v", meta)
	}
	// RFC 8414 path insertion and the path appended both serve it.
	var appended struct {
		CredentialIssuer string `json:"credential_issuer"`
	}
	e.getJSON(t, e.s.ID+issuer.WellKnownIssuer, &appended)
	if appended.CredentialIssuer != e.s.ID {
		t.Errorf("metadata at <issuer>%s = %s", issuer.WellKnownIssuer, appended.CredentialIssuer)
	}

	var d13 struct {
		Configs map[string]map[string]any `json:"credential_configurations_supported"`
	}
	e.getJSON(t, e.s.OIDC.Issuer+issuer.WellKnownIssuer+issuertest.IssuerPath+"?version="+issuer.Draft13Query, &d13)
	sd, vc := d13.Configs[sdConfig], d13.Configs[vcConfig]
	if sd["format"] != credential.FormatSDJWTVCLegacy || sd["vct"] != e.s.ID+"/national-id" || sd["claims"] == nil ||
		vc["format"] != credential.FormatJWTVC || vc["credential_definition"] == nil {
		t.Errorf("draft-13 metadata = %v, want the draft-13 shapes (vc+sd-jwt with claims, credential_definition)", d13.Configs)
	}

	var as struct {
		GrantTypes []string `json:"grant_types_supported"`
		Anonymous  bool     `json:"pre-authorized_grant_anonymous_access_supported"`
		Scopes     []string `json:"scopes_supported"`
	}
	e.getJSON(t, e.s.OIDC.Issuer+oidc.PathDiscoveryAS, &as)
	if !slices.Contains(as.GrantTypes, oidc.GrantTypePreAuthorizedCode) || !as.Anonymous ||
		!slices.Contains(as.Scopes, sdScope) || !slices.Contains(as.Scopes, vcScope) {
		t.Errorf("authorization server metadata = %+v, want the pre-authorized grant, anonymous access and both credential scopes", as)
	}
}

// testE2EAuthCodeScope: a registered wallet backend (private_key_jwt)
// signs a resident in asking for a credential scope, with a bearer token
// and with a DPoP-bound one, and gets the credential of that scope by
// credential_configuration_id.
func testE2EAuthCodeScope(t *testing.T, e *e2e) {
	for _, tc := range []struct {
		name          string
		dpop, par     bool
		config, scope string
	}{
		{"Bearer", false, false, sdConfig, sdScope},
		{"DPoP", true, false, vcConfig, vcScope},
		{"DPoPPAR", true, true, sdConfig, sdScope},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := e.resident(0)
			rp := e.confidential(t, "scope-"+strings.ToLower(tc.name), tc.dpop)
			o := e.login(r, tc.scope)
			o.PAR = tc.par
			tok := e2eToken(t, rp, o, "")
			wantType := map[bool]string{false: "Bearer", true: "DPoP"}[tc.dpop]
			if tok.TokenType != wantType || tok.Scope != tc.scope || tok.IDToken != "" || tok.CNonce == "" || tok.CNonceExpiresIn != int64(issuer.DefaultNonceTTL/time.Second) {
				t.Errorf("token response = %+v, want %s, scope %s, no ID token, a c_nonce for %s", tok, wantType, tc.scope, issuer.DefaultNonceTTL)
			}
			e.checkAccessToken(t, tok, r)

			holder := e2eKey(t)
			w := e.wallet(rp.DPoPKey)
			got := wantIssued(t, "credential request", post(t, w, tok, issuertest.Request(tc.config, e.proof(t, holder, e.nonce(t), rp.Client.ID))), 1)
			e.verify(t, tc.config, got.credentials[0], r, holder)
			format := map[string]string{sdConfig: credential.FormatSDJWTVC, vcConfig: credential.FormatJWTVC}[tc.config]
			e.checkLedger(t, r, got, tc.config, format, holder)
		})
	}
}

// testE2EAuthCodeDetails: the same wallet backend asks with
// authorization_details (openid_credential, by PAR) instead of a scope, and
// gets the credential by credential_identifier or by
// credential_configuration_id.
func testE2EAuthCodeDetails(t *testing.T, e *e2e) {
	for _, tc := range []struct {
		name         string
		dpop         bool
		config       string
		byIdentifier bool
	}{
		{"Bearer", false, vcConfig, false},
		{"BearerIdentifier", false, sdConfig, true},
		{"DPoP", true, sdConfig, true},
		{"DPoPConfiguration", true, vcConfig, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := e.resident(1)
			rp := e.confidential(t, "details-"+strings.ToLower(tc.name), tc.dpop)
			o := e.login(r, "openid")
			o.PAR = true
			tok := e2eToken(t, rp, o, `[{"type":"openid_credential","credential_configuration_id":"`+tc.config+`"}]`)
			var details []struct {
				Type        string   `json:"type"`
				Config      string   `json:"credential_configuration_id"`
				Identifiers []string `json:"credential_identifiers"`
			}
			if err := json.Unmarshal(tok.AuthorizationDetails, &details); err != nil || len(details) != 1 ||
				details[0].Type != "openid_credential" || details[0].Config != tc.config || len(details[0].Identifiers) != 1 {
				t.Fatalf("token authorization_details = %s, want one openid_credential entry for %s with a credential identifier", tok.AuthorizationDetails, tc.config)
			}
			if tok.Scope != "openid" || tok.CNonce == "" {
				t.Errorf("token scope %q, c_nonce %q; want openid and a c_nonce", tok.Scope, tok.CNonce)
			}
			e.checkAccessToken(t, tok, r)

			holder := e2eKey(t)
			proof := e.proof(t, holder, e.nonce(t), rp.Client.ID)
			req := issuertest.Request(tc.config, proof)
			if tc.byIdentifier {
				req = issuertest.RequestByIdentifier(details[0].Identifiers[0], proof)
			}
			w := e.wallet(rp.DPoPKey)
			got := wantIssued(t, "credential request", post(t, w, tok, req), 1)
			e.verify(t, tc.config, got.credentials[0], r, holder)

			// The details name one configuration: the other is refused.
			other := map[string]string{sdConfig: vcConfig, vcConfig: sdConfig}[tc.config]
			resp := post(t, w, tok, issuertest.Request(other, e.proof(t, e2eKey(t), e.nonce(t), rp.Client.ID)))
			wantError(t, "request for a configuration the details do not name", resp, http.StatusForbidden, issuer.CodeInsufficientScope)
			resp = post(t, w, tok, issuertest.RequestByIdentifier("no-such-identifier", e.proof(t, e2eKey(t), e.nonce(t), rp.Client.ID)))
			wantError(t, "request by an unknown credential_identifier", resp, http.StatusBadRequest, issuer.CodeUnknownCredentialIdentifier)
		})
	}
}

// testE2EPublicClient: a wallet app (public client: PKCE, no secret) signs
// a resident in for both credentials, with a bearer and with a DPoP-bound
// token, and gets both; without PKCE it gets no code.
func testE2EPublicClient(t *testing.T, e *e2e) {
	ctx := t.Context()
	cl, err := e.s.OIDC.RegisterPublicClient(ctx, "wallet-app", "io.sanad.wallet://callback", sdScope+" "+vcScope, "")
	if err != nil {
		t.Fatal(err)
	}
	r := e.resident(2)
	for _, dpop := range []bool{false, true} {
		t.Run(map[bool]string{false: "Bearer", true: "DPoP"}[dpop], func(t *testing.T) {
			rp := &oidctest.RP{Issuer: e.s.OIDC.Issuer, Client: cl}
			if dpop {
				rp.DPoPKey = e2eKey(t)
			}
			tok := e2eToken(t, rp, e.login(r, sdScope+" "+vcScope), "")
			if tok.IDToken != "" || tok.Scope != sdScope+" "+vcScope || tok.CNonce == "" {
				t.Errorf("wallet app token = %+v, want no ID token, both scopes, a c_nonce", tok)
			}
			e.checkAccessToken(t, tok, r)
			w := e.wallet(rp.DPoPKey)
			// The token response's c_nonce serves the first request.
			nonce := tok.CNonce
			for _, config := range []string{sdConfig, vcConfig} {
				holder := e2eKey(t)
				got := wantIssued(t, "credential request of "+config, post(t, w, tok, issuertest.Request(config, e.proof(t, holder, nonce, cl.ID))), 1)
				e.verify(t, config, got.credentials[0], r, holder)
				nonce = e.nonce(t)
			}
		})
	}

	// Without PKCE the wallet app gets no code.
	rp := &oidctest.RP{Issuer: e.s.OIDC.Issuer, Client: cl}
	f, _ := rp.NewFlow(e.login(r, sdScope))
	f.Request.CodeChallenge, f.Request.CodeChallengeMethod = "", ""
	_, err = f.OAuthDetails(ctx)
	wantOAuth(t, "oauth-details of a wallet app without PKCE", err, http.StatusOK, oidc.CodeUsePKCE)
}

// offer creates a pre-authorized offer of configs for r through the
// operator API (with a tx_code of txLen digits unless 0) and returns it
// with the tx_code the resident received by SMS.
func (e *e2e) offer(t *testing.T, r idrepo.DemoResident, txLen int, configs ...string) (*issuer.OfferResponse, string) {
	t.Helper()
	q := issuertest.OfferRequest{IndividualID: r.UIN, CredentialConfigurationIDs: configs}
	if txLen > 0 {
		q.TxCode = &issuer.TxCodeRequest{Length: txLen, InputMode: issuer.TxCodeNumeric, Description: "The code sent to your phone"}
	}
	sent := e.s.OIDC.Inbox.Sent()
	o, err := e.s.CreateOffer(t.Context(), q)
	if err != nil {
		t.Fatalf("create offer: %v", err)
	}
	if txLen == 0 {
		if e.s.OIDC.Inbox.Sent() != sent {
			t.Errorf("an offer without tx_code sent a message")
		}
		return o, ""
	}
	phone, _ := r.Identity["phone"].(string)
	tx := e.s.OIDC.Inbox.OTP(phone)
	if e.s.OIDC.Inbox.Sent() != sent+1 || len(tx) != txLen || strings.Trim(tx, "0123456789") != "" {
		t.Fatalf("tx_code sent to the resident = %q (%d messages), want %d digits in one message", tx, e.s.OIDC.Inbox.Sent()-sent, txLen)
	}
	return o, tx
}

// preAuthorizedCode is the pre-authorized code of an offer.
func preAuthorizedCode(t *testing.T, o *issuer.OfferResponse) string {
	t.Helper()
	b, _ := json.Marshal(o.CredentialOffer.Grants[issuer.GrantTypePreAuthorizedCode])
	var g issuer.PreAuthorizedCodeGrant
	if err := json.Unmarshal(b, &g); err != nil || g.PreAuthorizedCode == "" {
		t.Fatalf("offer grants = %s, want a pre-authorized code", b)
	}
	return g.PreAuthorizedCode
}

// testE2EPreAuthorized: an operator offers each demo configuration with a
// tx_code; the wallet resolves the offer by reference, redeems the code
// with the tx_code the resident received (anonymously, then as a wallet
// app with DPoP) and gets the credential.
func testE2EPreAuthorized(t *testing.T, e *e2e) {
	for _, tc := range []struct {
		config string
		dpop   bool
	}{
		{sdConfig, false},
		{vcConfig, true},
	} {
		t.Run(tc.config, func(t *testing.T) {
			ctx := t.Context()
			r := e.resident(0)
			o, tx := e.offer(t, r, 6, tc.config)
			if !strings.HasPrefix(o.OfferURL, issuer.OfferURLScheme+"?credential_offer_uri=") || len(o.QRPNG) == 0 {
				t.Errorf("offer URL %s, QR code of %d bytes", o.OfferURL, len(o.QRPNG))
			}
			byRef, err := issuertest.ResolveOffer(ctx, o.CredentialOfferURI)
			if err != nil {
				t.Fatalf("resolve the offer: %v", err)
			}
			a, _ := json.Marshal(byRef)
			b, _ := json.Marshal(o.CredentialOffer)
			if string(a) != string(b) || byRef.CredentialIssuer != e.s.ID || !slices.Equal(byRef.CredentialConfigurationIDs, []string{tc.config}) {
				t.Errorf("offer by reference %s, by value %s", a, b)
			}
			g := o.CredentialOffer.Grants[issuer.GrantTypePreAuthorizedCode].(map[string]any)
			if txd, _ := g["tx_code"].(map[string]any); txd["length"] != float64(6) || txd["input_mode"] != "numeric" {
				t.Errorf("offer tx_code = %v, want length 6, numeric", g["tx_code"])
			}

			rp := &oidctest.RP{Issuer: e.s.OIDC.Issuer}
			if tc.dpop {
				rp.DPoPKey = e2eKey(t)
			}
			tok, err := rp.PreAuthorizedToken(ctx, oidctest.PreAuthorizedTokenRequest{Code: preAuthorizedCode(t, o), TxCode: tx})
			if err != nil {
				t.Fatalf("pre-authorized token: %v", err)
			}
			scope := map[string]string{sdConfig: sdScope, vcConfig: vcScope}[tc.config]
			if tok.Scope != scope || tok.IDToken != "" || tok.CNonce == "" || !strings.Contains(string(tok.AuthorizationDetails), `"credential_configuration_id":"`+tc.config+`"`) {
				t.Errorf("pre-authorized token = %+v, want scope %s, no ID token, a c_nonce, details of %s", tok, scope, tc.config)
			}
			e.checkAccessToken(t, tok, r)
			// Redeemed: the offer is gone.
			if _, err := issuertest.ResolveOffer(ctx, o.CredentialOfferURI); err == nil || !strings.Contains(err.Error(), "HTTP 404") {
				t.Errorf("resolve a redeemed offer = %v, want HTTP 404", err)
			}

			holder := e2eKey(t)
			// Anonymous: the proof has no iss.
			got := wantIssued(t, "credential request", post(t, e.wallet(rp.DPoPKey), tok, issuertest.Request(tc.config, e.proof(t, holder, tok.CNonce, ""))), 1)
			e.verify(t, tc.config, got.credentials[0], r, holder)
			format := map[string]string{sdConfig: credential.FormatSDJWTVC, vcConfig: credential.FormatJWTVC}[tc.config]
			e.checkLedger(t, r, got, tc.config, format, holder)
		})
	}
}

// testE2EPreAuthorizedBoth: one offer of both configurations, redeemed by
// a wallet app with its client_id alone: one token for both credentials.
func testE2EPreAuthorizedBoth(t *testing.T, e *e2e) {
	ctx := t.Context()
	cl, err := e.s.OIDC.RegisterPublicClient(ctx, "offer-wallet", "io.sanad.offer://callback", sdScope+" "+vcScope, "")
	if err != nil {
		t.Fatal(err)
	}
	r := e.resident(3)
	o, tx := e.offer(t, r, 8, sdConfig, vcConfig)
	tok, err := (&oidctest.RP{Issuer: e.s.OIDC.Issuer, Client: cl}).PreAuthorizedToken(ctx, oidctest.PreAuthorizedTokenRequest{Code: preAuthorizedCode(t, o), TxCode: tx})
	if err != nil {
		t.Fatalf("pre-authorized token of a wallet app: %v", err)
	}
	if tok.Scope != sdScope+" "+vcScope {
		t.Errorf("token scope = %q, want both credential scopes", tok.Scope)
	}
	e.checkAccessToken(t, tok, r)
	for _, config := range []string{sdConfig, vcConfig} {
		holder := e2eKey(t)
		got := wantIssued(t, "credential request of "+config, post(t, e.wallet(nil), tok, issuertest.RequestByIdentifier(config, e.proof(t, holder, e.nonce(t), cl.ID))), 1)
		e.verify(t, config, got.credentials[0], r, holder)
	}
}

// testE2EBatch: three proofs of three keys get three credentials, each
// bound to its own key, recorded with one notification_id.
func testE2EBatch(t *testing.T, e *e2e) {
	for _, tc := range []struct {
		config, format string
		binding        string
	}{
		{sdConfig, credential.FormatSDJWTVC, issuer.BindingJWK},
		{vcConfig, credential.FormatJWTVC, issuer.BindingDIDJWK},
	} {
		t.Run(tc.config, func(t *testing.T) {
			r := e.resident(1)
			o, tx := e.offer(t, r, 4, tc.config)
			tok, err := (&oidctest.RP{Issuer: e.s.OIDC.Issuer}).PreAuthorizedToken(t.Context(), oidctest.PreAuthorizedTokenRequest{Code: preAuthorizedCode(t, o), TxCode: tx})
			if err != nil {
				t.Fatal(err)
			}
			nonce := e.nonce(t)
			holders := []jwk.Key{e2eKey(t), e2eKey(t), e2eKey(t)}
			var proofs []string
			for _, h := range holders {
				p, err := issuertest.Proof{Key: h, Audience: e.s.ID, Nonce: nonce, Binding: tc.binding}.Sign()
				if err != nil {
					t.Fatal(err)
				}
				proofs = append(proofs, p)
			}
			got := wantIssued(t, "batch request", post(t, e.wallet(nil), tok, issuertest.Request(tc.config, proofs...)), 3)
			for i, cred := range got.credentials {
				e.verify(t, tc.config, cred, r, holders[i])
			}
			if got.credentials[0] == got.credentials[1] || got.credentials[1] == got.credentials[2] {
				t.Errorf("a batch holds the same credential twice")
			}
			entries := e.checkLedger(t, r, got, tc.config, tc.format, holders...)
			if entries[0].ID == entries[1].ID || entries[1].ID == entries[2].ID {
				t.Errorf("ledger entries share an id: %v", entries)
			}

			// The same key twice in a batch is refused, and so is a batch
			// over the limit.
			nonce = e.nonce(t)
			k := e2eKey(t)
			resp := post(t, e.wallet(nil), tok, issuertest.Request(tc.config, e.proof(t, k, nonce, ""), e.proof(t, k, nonce, "")))
			wantError(t, "batch with one key twice", resp, http.StatusBadRequest, issuer.CodeInvalidProof)
			proofs = nil
			for range issuer.DefaultBatchSize + 1 {
				proofs = append(proofs, e.proof(t, e2eKey(t), nonce, ""))
			}
			resp = post(t, e.wallet(nil), tok, issuertest.Request(tc.config, proofs...))
			wantError(t, "batch over batch_size", resp, http.StatusBadRequest, issuer.CodeInvalidCredentialRequest)
		})
	}
}

// testE2EDraft13: what Inji wallets send (OpenID4VCI draft 13): format and
// vct or credential_definition, a single proof with the c_nonce of the
// token response, and a credential in credential; an invalid proof gets
// invalid_proof with a fresh c_nonce to retry with.
func testE2EDraft13(t *testing.T, e *e2e) {
	ctx := t.Context()
	r := e.resident(0)
	cl, err := e.s.OIDC.RegisterPublicClient(ctx, "inji-draft13", "io.mosip.residentapp.inji://oauthredirect", sdScope+" "+vcScope, "")
	if err != nil {
		t.Fatal(err)
	}
	rp := &oidctest.RP{Issuer: e.s.OIDC.Issuer, Client: cl}
	tok := e2eToken(t, rp, e.login(r, sdScope+" "+vcScope), "")
	w := e.wallet(nil)

	type d13Response struct {
		Credential       string          `json:"credential"`
		Credentials      json.RawMessage `json:"credentials"`
		Format           string          `json:"format"`
		CNonce           string          `json:"c_nonce"`
		CNonceExpiresIn  int64           `json:"c_nonce_expires_in"`
		NotificationID   string          `json:"notification_id"`
		Error            string          `json:"error"`
		ErrorDescription string          `json:"error_description"`
	}
	decode := func(t *testing.T, what string, resp *issuertest.Response, status int) d13Response {
		t.Helper()
		var out d13Response
		if err := json.Unmarshal(resp.Body, &out); err != nil || resp.Status != status {
			t.Fatalf("%s = HTTP %d %s, want HTTP %d", what, resp.Status, short(resp.Body), status)
		}
		return out
	}

	// The SD-JWT VC by format and vct, with the token response's c_nonce.
	holder := e2eKey(t)
	resp := post(t, w, tok, issuertest.Draft13SDJWT(credential.FormatSDJWTVCLegacy, e.s.ID+"/national-id", e.proof(t, holder, tok.CNonce, cl.ID)))
	got := decode(t, "draft-13 SD-JWT VC request", resp, http.StatusOK)
	if got.Credential == "" || got.Credentials != nil || got.Format != credential.FormatSDJWTVCLegacy || got.CNonce == "" ||
		got.CNonceExpiresIn != int64(issuer.DefaultNonceTTL/time.Second) || got.NotificationID == "" {
		t.Errorf("draft-13 response = %+v, want credential, the request's format, a fresh c_nonce, a notification_id", got)
	}
	e.verifySDJWT(t, got.Credential, r, holder)

	// The JWT VC by credential_definition, with the c_nonce of that answer.
	holder = e2eKey(t)
	resp = post(t, w, tok, issuertest.Draft13JWTVC(vcTypes, e.proof(t, holder, got.CNonce, cl.ID)))
	got = decode(t, "draft-13 JWT VC request", resp, http.StatusOK)
	if got.Credential == "" || got.Format != credential.FormatJWTVC || got.CNonce == "" {
		t.Errorf("draft-13 response = %+v, want credential, jwt_vc_json, a c_nonce", got)
	}
	e.verifyJWTVC(t, got.Credential, r, holder)

	// A spent c_nonce: invalid_proof (draft 13 has no invalid_nonce) with a
	// fresh c_nonce, which works.
	spent := e.proof(t, e2eKey(t), tok.CNonce, cl.ID)
	resp = post(t, w, tok, issuertest.Draft13JWTVC(vcTypes, spent))
	wantError(t, "draft-13 request with a spent c_nonce", resp, http.StatusBadRequest, issuer.CodeInvalidProof)
	fresh := decode(t, "draft-13 error", resp, http.StatusBadRequest).CNonce
	if fresh == "" {
		t.Fatalf("draft-13 invalid_proof carries no c_nonce: %s", resp.Body)
	}
	holder = e2eKey(t)
	got = decode(t, "draft-13 retry with the error's c_nonce", post(t, w, tok, issuertest.Draft13JWTVC(vcTypes, e.proof(t, holder, fresh, cl.ID))), http.StatusOK)
	e.verifyJWTVC(t, got.Credential, r, holder)

	// Unknown format and type.
	resp = post(t, w, tok, map[string]any{"format": "mso_mdoc", "doctype": "org.iso.18013.5.1.mDL", "proof": map[string]any{"proof_type": "jwt", "jwt": e.proof(t, e2eKey(t), e.nonce(t), cl.ID)}})
	wantError(t, "draft-13 request of an unknown format", resp, http.StatusBadRequest, issuer.CodeUnsupportedCredentialFormat)
	resp = post(t, w, tok, issuertest.Draft13JWTVC([]string{"VerifiableCredential", "Passport"}, e.proof(t, e2eKey(t), e.nonce(t), cl.ID)))
	wantError(t, "draft-13 request of an unknown type", resp, http.StatusBadRequest, issuer.CodeUnsupportedCredentialType)
}

// testE2ENotification: the wallet reports on a response's credentials by
// its notification_id; the ledger records the event on every one of them,
// and only the token's subject may report.
func testE2ENotification(t *testing.T, e *e2e) {
	ctx := t.Context()
	r := e.resident(2)
	o, tx := e.offer(t, r, 6, sdConfig)
	tok, err := (&oidctest.RP{Issuer: e.s.OIDC.Issuer}).PreAuthorizedToken(ctx, oidctest.PreAuthorizedTokenRequest{Code: preAuthorizedCode(t, o), TxCode: tx})
	if err != nil {
		t.Fatal(err)
	}
	w := e.wallet(nil)
	nonce := e.nonce(t)
	holders := []jwk.Key{e2eKey(t), e2eKey(t)}
	got := wantIssued(t, "credential request", post(t, w, tok, issuertest.Request(sdConfig, e.proof(t, holders[0], nonce, ""), e.proof(t, holders[1], nonce, ""))), 2)

	// Another resident's token cannot report on them.
	other := e.resident(3)
	o2, tx2 := e.offer(t, other, 6, sdConfig)
	tok2, err := (&oidctest.RP{Issuer: e.s.OIDC.Issuer}).PreAuthorizedToken(ctx, oidctest.PreAuthorizedTokenRequest{Code: preAuthorizedCode(t, o2), TxCode: tx2})
	if err != nil {
		t.Fatal(err)
	}
	resp, err := w.Notification(ctx, tok2.AccessToken, tok2.TokenType, got.notificationID, storage.WalletAccepted)
	if err != nil {
		t.Fatal(err)
	}
	wantError(t, "notification with another resident's token", resp, http.StatusBadRequest, issuer.CodeInvalidNotificationID)

	resp, err = w.Notification(ctx, tok.AccessToken, tok.TokenType, got.notificationID, storage.WalletAccepted)
	if err != nil {
		t.Fatal(err)
	}
	if resp.Status != http.StatusNoContent {
		t.Fatalf("notification credential_accepted = HTTP %d %s, want 204", resp.Status, short(resp.Body))
	}
	entries := e.ledger(t, r, got.notificationID)
	if len(entries) != 2 {
		t.Fatalf("ledger has %d entries of the response, want 2", len(entries))
	}
	for _, c := range entries {
		if c.WalletEvent != storage.WalletAccepted || c.WalletEventAt.IsZero() || time.Since(c.WalletEventAt) > time.Minute {
			t.Errorf("ledger entry %s: wallet event %q at %s, want credential_accepted now", c.ID, c.WalletEvent, c.WalletEventAt)
		}
	}

	resp, _ = w.Notification(ctx, tok.AccessToken, tok.TokenType, "no-such-notification", storage.WalletAccepted)
	wantError(t, "notification of an unknown notification_id", resp, http.StatusBadRequest, issuer.CodeInvalidNotificationID)
	resp, _ = w.Notification(ctx, tok.AccessToken, tok.TokenType, got.notificationID, "credential_lost")
	wantError(t, "notification of an unknown event", resp, http.StatusBadRequest, issuer.CodeInvalidNotificationRequest)
	resp, _ = w.Notification(ctx, "", "", got.notificationID, storage.WalletDeleted)
	wantError(t, "notification without an access token", resp, http.StatusUnauthorized, issuer.CodeInvalidToken)
}

// bearerToken gets a bearer token of a pre-authorized offer of configs for
// r, redeemed anonymously.
func (e *e2e) bearerToken(t *testing.T, r idrepo.DemoResident, configs ...string) *oidctest.TokenResponse {
	t.Helper()
	o, _ := e.offer(t, r, 0, configs...)
	tok, err := (&oidctest.RP{Issuer: e.s.OIDC.Issuer}).PreAuthorizedToken(t.Context(), oidctest.PreAuthorizedTokenRequest{Code: preAuthorizedCode(t, o)})
	if err != nil {
		t.Fatalf("pre-authorized token: %v", err)
	}
	return tok
}

// testE2EProofs: key proofs the issuer must refuse, each with
// invalid_proof, through the real stack.
func testE2EProofs(t *testing.T, e *e2e) {
	r := e.resident(0)
	tok := e.bearerToken(t, r, sdConfig)
	w := e.wallet(nil)
	holder := e2eKey(t)
	private, _ := json.Marshal(holder)
	if !strings.Contains(string(private), `"d":`) {
		t.Fatalf("the private JWK has no d: %s", private)
	}
	pub, _ := holder.PublicKey()
	now := time.Now()

	for _, tc := range []struct {
		name  string
		proof func(nonce string) (string, error)
	}{
		{"NoNonce", func(string) (string, error) {
			return issuertest.Proof{Key: holder, Audience: e.s.ID}.Sign()
		}},
		{"SignedByAnotherKey", func(n string) (string, error) {
			return issuertest.Proof{Key: holder, Audience: e.s.ID, Nonce: n, SignWith: e2eKey(t)}.Sign()
		}},
		{"WrongAudience", func(n string) (string, error) {
			return issuertest.Proof{Key: holder, Audience: e.s.OIDC.Issuer, Nonce: n}.Sign()
		}},
		{"AlgNone", func(n string) (string, error) {
			return issuertest.Unsigned(map[string]any{"typ": issuer.ProofTyp, "alg": "none", "jwk": pub},
				map[string]any{"aud": e.s.ID, "iat": now.Unix(), "nonce": n})
		}},
		{"AlgHS256", func(n string) (string, error) {
			// A MAC keyed with the public key, the classic confusion.
			h, _ := json.Marshal(map[string]any{"typ": issuer.ProofTyp, "alg": "HS256", "jwk": pub})
			c, _ := json.Marshal(map[string]any{"aud": e.s.ID, "iat": now.Unix(), "nonce": n})
			input := base64.RawURLEncoding.EncodeToString(h) + "." + base64.RawURLEncoding.EncodeToString(c)
			pubJSON, _ := json.Marshal(pub)
			m := hmac.New(sha256.New, pubJSON)
			m.Write([]byte(input))
			return input + "." + base64.RawURLEncoding.EncodeToString(m.Sum(nil)), nil
		}},
		{"PrivateKeyInJWK", func(n string) (string, error) {
			return issuertest.Proof{Key: holder, Audience: e.s.ID, Nonce: n, Header: map[string]any{"jwk": json.RawMessage(private)}}.Sign()
		}},
		{"WrongTyp", func(n string) (string, error) {
			return issuertest.Proof{Key: holder, Audience: e.s.ID, Nonce: n, Header: map[string]any{"typ": "JWT"}}.Sign()
		}},
		{"KIDAndJWK", func(n string) (string, error) {
			id, _ := did.JWKDID(pub)
			return issuertest.Proof{Key: holder, Audience: e.s.ID, Nonce: n, Header: map[string]any{"kid": id + "#0"}}.Sign()
		}},
		{"OldIAT", func(n string) (string, error) {
			return issuertest.Proof{Key: holder, Audience: e.s.ID, Nonce: n, IssuedAt: now.Add(-issuer.DefaultProofIATWindow - time.Minute)}.Sign()
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, err := tc.proof(e.nonce(t))
			if err != nil {
				t.Fatal(err)
			}
			resp := post(t, w, tok, issuertest.Request(sdConfig, p))
			wantError(t, "credential request with a proof "+tc.name, resp, http.StatusBadRequest, issuer.CodeInvalidProof)
			if resp.JSON()["c_nonce"] != nil {
				t.Errorf("a 1.0 error carries a c_nonce: %s", resp.Body)
			}
		})
	}

	// No proof at all, and the control: the same holder key with a valid
	// proof by did:key.
	resp := post(t, w, tok, issuertest.Request(sdConfig))
	wantError(t, "credential request without a proof", resp, http.StatusBadRequest, issuer.CodeInvalidProof)
	p, err := issuertest.Proof{Key: holder, Audience: e.s.ID, Nonce: e.nonce(t), Binding: issuer.BindingDIDKey}.Sign()
	if err != nil {
		t.Fatal(err)
	}
	got := wantIssued(t, "credential request with a did:key proof", post(t, w, tok, issuertest.Request(sdConfig, p)), 1)
	e.verifySDJWT(t, got.credentials[0], r, holder)

	// A wallet app's proof must name the app in iss when it has one.
	cl, err := e.s.OIDC.RegisterPublicClient(t.Context(), "proof-iss", "io.sanad.proof://cb", sdScope, "")
	if err != nil {
		t.Fatal(err)
	}
	apptok := e2eToken(t, &oidctest.RP{Issuer: e.s.OIDC.Issuer, Client: cl}, e.login(r, sdScope), "")
	resp = post(t, w, apptok, issuertest.Request(sdConfig, e.proof(t, holder, e.nonce(t), "another-wallet")))
	wantError(t, "credential request with a proof whose iss is another client", resp, http.StatusBadRequest, issuer.CodeInvalidProof)
}

// testE2ENonces: a c_nonce is spent by one credential request; a replay,
// and a nonce the issuer never made, get invalid_nonce.
func testE2ENonces(t *testing.T, e *e2e) {
	r := e.resident(1)
	tok := e.bearerToken(t, r, vcConfig)
	w := e.wallet(nil)
	nonce := e.nonce(t)
	holder := e2eKey(t)
	wantIssued(t, "first use of a c_nonce", post(t, w, tok, issuertest.Request(vcConfig, e.proof(t, holder, nonce, ""))), 1)
	resp := post(t, w, tok, issuertest.Request(vcConfig, e.proof(t, e2eKey(t), nonce, "")))
	wantError(t, "replayed c_nonce", resp, http.StatusBadRequest, issuer.CodeInvalidNonce)
	resp = post(t, w, tok, issuertest.Request(vcConfig, e.proof(t, e2eKey(t), "not-a-nonce-of-this-issuer", "")))
	wantError(t, "unknown c_nonce", resp, http.StatusBadRequest, issuer.CodeInvalidNonce)
	// The token response's c_nonce is one of the issuer's, single use too.
	wantIssued(t, "token response c_nonce", post(t, w, tok, issuertest.Request(vcConfig, e.proof(t, e2eKey(t), tok.CNonce, ""))), 1)
	resp = post(t, w, tok, issuertest.Request(vcConfig, e.proof(t, e2eKey(t), tok.CNonce, "")))
	wantError(t, "replayed token response c_nonce", resp, http.StatusBadRequest, issuer.CodeInvalidNonce)

	// Two requests racing with one nonce: exactly one is served.
	nonce = e.nonce(t)
	statuses := make([]int, 8)
	var wg sync.WaitGroup
	for i := range statuses {
		p := e.proof(t, e2eKey(t), nonce, "")
		wg.Go(func() {
			resp, err := w.Credential(context.Background(), tok.AccessToken, tok.TokenType, issuertest.Request(vcConfig, p))
			if err == nil {
				statuses[i] = resp.Status
			}
		})
	}
	wg.Wait()
	if n := countStatus(statuses, http.StatusOK); n != 1 || countStatus(statuses, http.StatusBadRequest) != len(statuses)-1 {
		t.Errorf("%d concurrent requests with one c_nonce: statuses %v, want one 200 and the rest 400", len(statuses), statuses)
	}
}

func countStatus(statuses []int, want int) int {
	n := 0
	for _, s := range statuses {
		if s == want {
			n++
		}
	}
	return n
}

// testE2ESelection: what a token allows.
func testE2ESelection(t *testing.T, e *e2e) {
	r := e.resident(2)
	w := e.wallet(nil)
	// A token of the SD-JWT VC's scope, from a wallet backend's sign-in.
	rp := e.confidential(t, "selection", false)
	tok := e2eToken(t, rp, e.login(r, sdScope), "")
	resp := post(t, w, tok, issuertest.Request(vcConfig, e.proof(t, e2eKey(t), e.nonce(t), rp.Client.ID)))
	wantError(t, "request for another configuration's scope", resp, http.StatusForbidden, issuer.CodeInsufficientScope)
	resp = post(t, w, tok, issuertest.Draft13JWTVC(vcTypes, e.proof(t, e2eKey(t), e.nonce(t), rp.Client.ID)))
	wantError(t, "draft-13 request for another configuration's scope", resp, http.StatusForbidden, issuer.CodeInsufficientScope)
	// The same for a pre-authorized token.
	pre := e.bearerToken(t, r, vcConfig)
	resp = post(t, w, pre, issuertest.Request(sdConfig, e.proof(t, e2eKey(t), e.nonce(t), "")))
	wantError(t, "pre-authorized token for another configuration", resp, http.StatusForbidden, issuer.CodeInsufficientScope)

	resp = post(t, w, tok, issuertest.Request("passport", e.proof(t, e2eKey(t), e.nonce(t), rp.Client.ID)))
	wantError(t, "unknown configuration", resp, http.StatusBadRequest, issuer.CodeUnknownCredentialConfiguration)
	resp = post(t, w, tok, map[string]any{"credential_configuration_id": sdConfig, "credential_identifier": sdConfig})
	wantError(t, "configuration and identifier together", resp, http.StatusBadRequest, issuer.CodeInvalidCredentialRequest)
	resp = post(t, w, tok, map[string]any{
		"credential_configuration_id":    sdConfig,
		"proofs":                         map[string]any{"jwt": []string{e.proof(t, e2eKey(t), e.nonce(t), rp.Client.ID)}},
		"credential_response_encryption": map[string]any{"alg": "ECDH-ES", "enc": "A128GCM"},
	})
	wantError(t, "response encryption (not supported)", resp, http.StatusBadRequest, issuer.CodeInvalidEncryptionParameters)
	resp, err := w.Post(t.Context(), issuer.PathCredential, tok.AccessToken, tok.TokenType, "application/x-www-form-urlencoded", []byte("credential_configuration_id="+sdConfig), nil)
	if err != nil {
		t.Fatal(err)
	}
	wantError(t, "form-encoded credential request", resp, http.StatusBadRequest, issuer.CodeInvalidCredentialRequest)
}

// testE2EPreAuthorizedCodes: a pre-authorized code is single use, and a
// wrong tx_code counts against TxCodeAttempts, after which the code is void
// even with the right tx_code.
func testE2EPreAuthorizedCodes(t *testing.T, e *e2e) {
	ctx := t.Context()
	anon := &oidctest.RP{Issuer: e.s.OIDC.Issuer}
	r := e.resident(3)

	o, tx := e.offer(t, r, 6, vcConfig)
	code := preAuthorizedCode(t, o)
	_, err := anon.PreAuthorizedToken(ctx, oidctest.PreAuthorizedTokenRequest{Code: code})
	wantOAuth(t, "redeem without the tx_code", err, http.StatusBadRequest, oidc.CodeInvalidRequest)
	if _, err := anon.PreAuthorizedToken(ctx, oidctest.PreAuthorizedTokenRequest{Code: code, TxCode: tx}); err != nil {
		t.Fatalf("redeem with the tx_code = %v", err)
	}
	_, err = anon.PreAuthorizedToken(ctx, oidctest.PreAuthorizedTokenRequest{Code: code, TxCode: tx})
	wantOAuth(t, "redeem a code twice", err, http.StatusBadRequest, oidc.CodeInvalidGrant)

	// An offer without tx_code refuses one.
	o, _ = e.offer(t, r, 0, vcConfig)
	_, err = anon.PreAuthorizedToken(ctx, oidctest.PreAuthorizedTokenRequest{Code: preAuthorizedCode(t, o), TxCode: "123456"})
	wantOAuth(t, "redeem an offer without tx_code with one", err, http.StatusBadRequest, oidc.CodeInvalidRequest)

	// Wrong tx_codes until the lock-out.
	o, tx = e.offer(t, r, 6, vcConfig)
	code = preAuthorizedCode(t, o)
	wrong := fmt.Sprintf("%06d", (atoi(tx)+1)%1000000)
	for i := range issuer.DefaultTxCodeAttempts {
		_, err := anon.PreAuthorizedToken(ctx, oidctest.PreAuthorizedTokenRequest{Code: code, TxCode: wrong})
		wantOAuth(t, fmt.Sprintf("wrong tx_code, attempt %d", i+1), err, http.StatusBadRequest, oidc.CodeInvalidGrant)
	}
	_, err = anon.PreAuthorizedToken(ctx, oidctest.PreAuthorizedTokenRequest{Code: code, TxCode: tx})
	wantOAuth(t, "the right tx_code after the lock-out", err, http.StatusBadRequest, oidc.CodeInvalidGrant)

	// Fewer wrong attempts than the limit leave the code usable.
	o, tx = e.offer(t, r, 6, vcConfig)
	code = preAuthorizedCode(t, o)
	for range issuer.DefaultTxCodeAttempts - 1 {
		_, err := anon.PreAuthorizedToken(ctx, oidctest.PreAuthorizedTokenRequest{Code: code, TxCode: "000000x"})
		wantOAuth(t, "wrong tx_code", err, http.StatusBadRequest, oidc.CodeInvalidGrant)
	}
	if _, err := anon.PreAuthorizedToken(ctx, oidctest.PreAuthorizedTokenRequest{Code: code, TxCode: tx}); err != nil {
		t.Errorf("the right tx_code on the last attempt = %v", err)
	}

	// An unknown code, and the operator API refusing bad offers.
	_, err = anon.PreAuthorizedToken(ctx, oidctest.PreAuthorizedTokenRequest{Code: "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"})
	wantOAuth(t, "redeem an unknown code", err, http.StatusBadRequest, oidc.CodeInvalidGrant)
	_, err = e.s.CreateOffer(ctx, issuertest.OfferRequest{IndividualID: "0000000000", CredentialConfigurationIDs: []string{vcConfig}})
	wantOAuth(t, "offer for an unknown resident", err, http.StatusNotFound, issuer.CodeUnknownIndividual)
	_, err = e.s.CreateOffer(ctx, issuertest.OfferRequest{IndividualID: r.UIN, CredentialConfigurationIDs: []string{"passport"}})
	wantOAuth(t, "offer of an unknown configuration", err, http.StatusBadRequest, issuer.CodeUnknownCredentialConfiguration)
	noAdmin := *e.s
	noAdmin.AdminToken = "not-the-admin-token"
	_, err = noAdmin.CreateOffer(ctx, issuertest.OfferRequest{IndividualID: r.UIN, CredentialConfigurationIDs: []string{vcConfig}})
	wantOAuth(t, "offer without the admin token", err, http.StatusUnauthorized, "unauthorized")
}

func atoi(s string) int {
	n := 0
	for _, c := range s {
		n = n*10 + int(c-'0')
	}
	return n
}

// testE2EAccessTokens: how the issuer takes access tokens, and that a
// credential token is for the issuer alone.
func testE2EAccessTokens(t *testing.T, e *e2e) {
	ctx := t.Context()
	r := e.resident(0)
	rp := e.confidential(t, "tokens", true)
	tok := e2eToken(t, rp, e.login(r, sdScope), "")
	if tok.TokenType != "DPoP" {
		t.Fatalf("token type %s, want DPoP", tok.TokenType)
	}
	body, _ := json.Marshal(issuertest.Request(sdConfig, e.proof(t, e2eKey(t), e.nonce(t), rp.Client.ID)))

	// In the query string, not the Authorization header.
	resp, err := e.wallet(nil).Post(ctx, issuer.PathCredential+"?access_token="+tok.AccessToken, "", "", "application/json", body, nil)
	if err != nil {
		t.Fatal(err)
	}
	wantError(t, "access token in the query string", resp, http.StatusBadRequest, issuer.CodeInvalidRequest)
	// None.
	resp, _ = e.wallet(nil).Post(ctx, issuer.PathCredential, "", "", "application/json", body, nil)
	wantError(t, "no access token", resp, http.StatusUnauthorized, issuer.CodeInvalidToken)
	// A DPoP-bound token as a bearer token.
	resp, _ = e.wallet(nil).Post(ctx, issuer.PathCredential, tok.AccessToken, "Bearer", "application/json", body, nil)
	wantError(t, "DPoP-bound token with the Bearer scheme", resp, http.StatusUnauthorized, issuer.CodeInvalidToken)
	// Without a DPoP proof, and with a proof of another key.
	resp, _ = e.wallet(nil).Post(ctx, issuer.PathCredential, tok.AccessToken, "", "application/json", body, http.Header{"Authorization": {"DPoP " + tok.AccessToken}})
	wantError(t, "DPoP token without a proof", resp, http.StatusUnauthorized, issuer.CodeInvalidDPoPProof)
	resp, _ = e.wallet(e2eKey(t)).Post(ctx, issuer.PathCredential, tok.AccessToken, "DPoP", "application/json", body, nil)
	wantError(t, "DPoP token with a proof of another key", resp, http.StatusUnauthorized, issuer.CodeInvalidToken)
	// A proof for another URL.
	other, _ := oidctest.DPoPProof(rp.DPoPKey, http.MethodPost, e.s.URL(issuer.PathNotification), tok.AccessToken, "")
	resp, _ = e.wallet(nil).Post(ctx, issuer.PathCredential, tok.AccessToken, "", "application/json", body, http.Header{"Authorization": {"DPoP " + tok.AccessToken}, "Dpop": {other}})
	wantError(t, "DPoP proof of another endpoint", resp, http.StatusUnauthorized, issuer.CodeInvalidDPoPProof)
	// A DPoP proof is single use.
	proof, _ := oidctest.DPoPProof(rp.DPoPKey, http.MethodPost, e.s.URL(issuer.PathCredential), tok.AccessToken, "")
	h := http.Header{"Authorization": {"DPoP " + tok.AccessToken}, "Dpop": {proof}}
	resp, _ = e.wallet(nil).Post(ctx, issuer.PathCredential, "", "", "application/json", body, h)
	wantIssued(t, "credential request", resp, 1)
	body, _ = json.Marshal(issuertest.Request(sdConfig, e.proof(t, e2eKey(t), e.nonce(t), rp.Client.ID)))
	resp, _ = e.wallet(nil).Post(ctx, issuer.PathCredential, "", "", "application/json", body, h)
	wantError(t, "replayed DPoP proof", resp, http.StatusUnauthorized, issuer.CodeInvalidDPoPProof)
	// A forged token.
	parts := strings.Split(tok.AccessToken, ".")
	forged := parts[0] + "." + parts[1] + "." + base64.RawURLEncoding.EncodeToString(make([]byte, 64))
	resp, _ = e.wallet(rp.DPoPKey).Post(ctx, issuer.PathCredential, forged, "DPoP", "application/json", body, nil)
	wantError(t, "forged access token", resp, http.StatusUnauthorized, issuer.CodeInvalidToken)
	// The right way works (the nonce was not spent by the refusals).
	wantIssued(t, "credential request", post(t, e.wallet(rp.DPoPKey), tok, json.RawMessage(body)), 1)

	// A credential token is refused at userinfo: its audience is the
	// issuer.
	_, err = rp.Userinfo(ctx, tok.AccessToken, tok.TokenType)
	wantOAuth(t, "userinfo with a credential token", err, http.StatusUnauthorized, oidc.CodeInvalidToken)
	// Revoked (RFC 7009) by its client, it is refused at the issuer too.
	if err := rp.Revoke(ctx, tok.AccessToken); err != nil {
		t.Fatalf("revoke the credential token: %v", err)
	}
	resp = post(t, e.wallet(rp.DPoPKey), tok, issuertest.Request(sdConfig, e.proof(t, e2eKey(t), e.nonce(t), rp.Client.ID)))
	wantError(t, "credential request with a revoked token", resp, http.StatusUnauthorized, issuer.CodeInvalidToken)
	pre := e.bearerToken(t, r, sdConfig)
	_, err = (&oidctest.RP{Issuer: e.s.OIDC.Issuer}).Userinfo(ctx, pre.AccessToken, pre.TokenType)
	wantOAuth(t, "userinfo with a pre-authorized token", err, http.StatusUnauthorized, oidc.CodeInvalidToken)
	// And an OpenID Connect token is refused at the issuer.
	oc := e.confidential(t, "tokens-openid", false)
	res, err := oc.Login(ctx, e.login(r, "openid profile"))
	if err != nil {
		t.Fatalf("OpenID Connect login: %v", err)
	}
	resp = post(t, e.wallet(nil), &res.Token, issuertest.Request(sdConfig, e.proof(t, e2eKey(t), e.nonce(t), oc.Client.ID)))
	wantError(t, "OpenID Connect access token at the issuer", resp, http.StatusUnauthorized, issuer.CodeInvalidToken)
}

// testE2ELedgerNoClaims reads the ledger's table as stored: after every
// test above, no row holds a resident's claims, UIN or contact.
func testE2ELedgerNoClaims(t *testing.T, e *e2e) {
	r := e.resident(3)
	tok := e.bearerToken(t, r, sdConfig, vcConfig)
	nonce := e.nonce(t)
	wantIssued(t, "credential request", post(t, e.wallet(nil), tok, issuertest.Request(vcConfig, e.proof(t, e2eKey(t), nonce, ""), e.proof(t, e2eKey(t), nonce, ""))), 2)
	rows, err := e.db.DB().QueryContext(t.Context(), "SELECT * FROM credentials")
	if err != nil {
		t.Fatalf("read the ledger table: %v", err)
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		t.Fatal(err)
	}
	var forbidden []string
	for _, r := range e.s.OIDC.Residents {
		forbidden = append(forbidden, secrets(r)[0], secrets(r)[2], secrets(r)[3], birthdate(r), strings.ReplaceAll(birthdate(r), "-", "/"))
		names, _ := r.Identity["fullName"].([]any)
		for _, n := range names {
			v, _ := n.(map[string]any)["value"].(string)
			forbidden = append(forbidden, v)
		}
	}
	n := 0
	for rows.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			t.Fatal(err)
		}
		n++
		for i, v := range vals {
			s := fmt.Sprint(v)
			if b, ok := v.([]byte); ok {
				s = string(b)
			}
			for _, f := range forbidden {
				if f != "" && strings.Contains(s, f) {
					t.Errorf("ledger column %s holds a resident's claim or identifier", cols[i])
				}
			}
		}
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	if n < 2 {
		t.Errorf("the ledger table has %d rows, want the 2 just issued at least", n)
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

// testE2EClock runs, on a stack of its own, what depends on time: a
// c_nonce that expired (NonceTTL of 2 s, waited out: the State's clock is
// real) and an access token that expired (the provider's clock moved); and
// a resident deactivated while holding a token.
func testE2EClock(t *testing.T, stores e2eStores) {
	const nonceTTL = 2 * time.Second
	clk := &e2eClock{}
	e := newE2E(t, stores, func(o *issuertest.Options) {
		o.Now = clk.Now
		o.Issuer = func(c *issuer.Config) { c.NonceTTL = nonceTTL }
	})
	r := e.resident(0)
	tok := e.bearerToken(t, r, sdConfig)
	if tok.CNonceExpiresIn != int64(nonceTTL/time.Second) {
		t.Errorf("c_nonce_expires_in = %d, want %d", tok.CNonceExpiresIn, int64(nonceTTL/time.Second))
	}
	w := e.wallet(nil)
	proof := func(nonce string) string {
		p, err := issuertest.Proof{Key: e2eKey(t), Audience: e.s.ID, Nonce: nonce, IssuedAt: clk.Now()}.Sign()
		if err != nil {
			t.Fatal(err)
		}
		return p
	}

	// An expired c_nonce.
	stale := e.nonce(t)
	time.Sleep(nonceTTL + 500*time.Millisecond)
	resp := post(t, w, tok, issuertest.Request(sdConfig, proof(tok.CNonce)))
	wantError(t, "credential request with the token response's expired c_nonce", resp, http.StatusBadRequest, issuer.CodeInvalidNonce)
	resp = post(t, w, tok, issuertest.Request(sdConfig, proof(stale)))
	wantError(t, "credential request with an expired c_nonce", resp, http.StatusBadRequest, issuer.CodeInvalidNonce)
	wantIssued(t, "credential request with a fresh c_nonce", post(t, w, tok, issuertest.Request(sdConfig, proof(e.nonce(t)))), 1)

	// The access token lives an hour (with 30 s of leeway).
	clk.Advance(oidc.DefaultAccessTokenTTL - time.Minute)
	wantIssued(t, "credential request 59 minutes after the token", post(t, w, tok, issuertest.Request(sdConfig, proof(e.nonce(t)))), 1)
	clk.Advance(2 * time.Minute)
	resp = post(t, w, tok, issuertest.Request(sdConfig, proof(e.nonce(t))))
	wantError(t, "credential request 61 minutes after the token", resp, http.StatusUnauthorized, issuer.CodeInvalidToken)
	resp, err := w.Notification(t.Context(), tok.AccessToken, tok.TokenType, "any", storage.WalletAccepted)
	if err != nil {
		t.Fatal(err)
	}
	wantError(t, "notification 61 minutes after the token", resp, http.StatusUnauthorized, issuer.CodeInvalidToken)

	// A resident deactivated after the token was issued gets nothing, and
	// no new offer.
	r = e.resident(1)
	tok = e.bearerToken(t, r, vcConfig)
	if _, err := e.s.OIDC.Repo.SetStatus(t.Context(), "test", r.UIN, idrepo.StatusDeactivated, "test"); err != nil {
		t.Fatalf("deactivate the resident: %v", err)
	}
	resp = post(t, w, tok, issuertest.Request(vcConfig, proof(e.nonce(t))))
	wantError(t, "credential request for a deactivated resident", resp, http.StatusBadRequest, issuer.CodeCredentialRequestDenied)
	_, err = e.s.CreateOffer(t.Context(), issuertest.OfferRequest{IndividualID: r.UIN, CredentialConfigurationIDs: []string{vcConfig}})
	wantOAuth(t, "offer for a deactivated resident", err, http.StatusNotFound, issuer.CodeUnknownIndividual)
}

// testE2EDisabledClient: once a wallet backend's client is disabled, its
// credential tokens are refused at the issuer as its other tokens are at
// userinfo, within the provider's client cache time ("a disabled client is
// refused within clientCacheTTL everywhere", 5 s; the clock moves 10 s).
func testE2EDisabledClient(t *testing.T, stores e2eStores) {
	ctx := t.Context()
	clk := &e2eClock{}
	e := newE2E(t, stores, func(o *issuertest.Options) { o.Now = clk.Now })
	r := e.resident(0)
	rp := e.confidential(t, "disabled-wallet", false)
	tok := e2eToken(t, rp, e.login(r, sdScope), "")
	oc, err := rp.Login(ctx, e.login(r, "openid"))
	if err != nil {
		t.Fatalf("OpenID Connect login: %v", err)
	}
	proof := func() string {
		p, err := issuertest.Proof{Key: e2eKey(t), Audience: e.s.ID, Nonce: e.nonce(t), ClientID: rp.Client.ID, IssuedAt: clk.Now()}.Sign()
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	wantIssued(t, "credential request before the client is disabled", post(t, e.wallet(nil), tok, issuertest.Request(sdConfig, proof())), 1)

	c, err := e.s.OIDC.Clients.Get(ctx, rp.Client.ID)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.s.OIDC.Clients.Update(ctx, rp.Client.ID, oidc.ClientUpdate{
		ClientName: c.Name, ClientNameLangMap: c.NameLangMap, Status: oidc.ClientStatusInactive, LogoURI: c.LogoURI,
		RedirectURIs: c.RedirectURIs, UserClaims: c.UserClaims, AuthContextRefs: c.ACRs, GrantTypes: c.GrantTypes,
		ClientAuthMethods: c.AuthMethods,
	}); err != nil {
		t.Fatalf("disable the client: %v", err)
	}
	clk.Advance(10 * time.Second)
	_, err = rp.Userinfo(ctx, oc.Token.AccessToken, oc.Token.TokenType)
	wantOAuth(t, "userinfo with a disabled client's token", err, http.StatusUnauthorized, oidc.CodeInvalidToken)
	resp := post(t, e.wallet(nil), tok, issuertest.Request(sdConfig, proof()))
	wantError(t, "credential request with a disabled client's token", resp, http.StatusUnauthorized, issuer.CodeInvalidToken)
}
