package issuer_test

import (
	"bytes"
	"context"
	"crypto"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/sanad-id/sanad/credential/did"
	"github.com/sanad-id/sanad/credential/jwtvc"
	"github.com/sanad-id/sanad/credential/ldp"
	"github.com/sanad-id/sanad/credential/sdjwt"
	"github.com/sanad-id/sanad/credential/statuslist"
	"github.com/sanad-id/sanad/credential/verify"
	"github.com/sanad-id/sanad/idrepo"
	"github.com/sanad-id/sanad/issuer"
	"github.com/sanad-id/sanad/issuer/issuertest"
	"github.com/sanad-id/sanad/oidc/oidctest"
	"github.com/sanad-id/sanad/storage"
)

// End-to-end tests of revocation and suspension on the real stack: the
// wallet gets credentials of every demo configuration, each carrying a
// status entry; the operator revokes, suspends and reinstates them through
// the admin API, one by one and by resident; the published lists are
// fetched as a verifier fetches them, their signatures checked against the
// issuer's DID document (the Data Integrity form of W3C lists that ldp_vc
// credentials name, ldp.Verify) and JWKS (the VC-JWT form that jwt_vc_json
// credentials name, jwtvc.Verify; status list tokens,
// statuslist.ParseToken), and show every change at once; the verification
// API (credential/verify) reports each change for every format; the
// ledger is searched by configuration, date and status. TestStatusE2E runs
// on SQLite and memory, TestStatusE2EPostgresRedis on PostgreSQL and Redis.

// The built-in ldp_vc configurations.
const (
	stLDPConfig     = "national-id-ldp"
	stLDP2020Config = "national-id-ldp-2020"
)

func TestStatusE2E(t *testing.T) {
	t.Parallel()
	runStatusE2E(t, e2eSQLiteMemory)
}

func TestStatusE2EPostgresRedis(t *testing.T) {
	t.Parallel()
	runStatusE2E(t, e2ePostgresRedis)
}

// stE2E is the stack of a status test, and what a verifier knows of the
// issuer: its JWKS (e2e.keys) and its DID document.
type stE2E struct {
	*e2e
	methods did.MethodResolver
}

// heldCredential is a credential a wallet holds: as issued (a string or
// a JSON object) with its ledger id and configuration.
type heldCredential struct {
	config string
	raw    any
	id     string
}

func runStatusE2E(t *testing.T, stores e2eStores) {
	start := time.Now().Add(-time.Second)
	e := &stE2E{e2e: newE2E(t, stores)}
	e.methods = e.didMethods(t)

	// Resident 0 holds one credential of every configuration; resident 1
	// holds a jwt_vc_json and an SD-JWT VC.
	all := []string{sdConfig, vcConfig, stLDPConfig, stLDP2020Config}
	held := e.issueAll(t, e.resident(0), all...)
	other := e.issueAll(t, e.resident(1), sdConfig, vcConfig)

	t.Run("EntriesInCredentials", func(t *testing.T) {
		for _, c := range append(slices.Clone(held), other...) {
			e.checkEntry(t, c)
		}
	})
	t.Run("RevokeW3C", func(t *testing.T) {
		for _, c := range []heldCredential{held[1], held[2]} { // jwt_vc_json, ldp_vc
			rec := e.action(t, c.id, issuer.ActionRevoke, http.StatusOK, "")
			if rec.Status != storage.CredentialRevoked {
				t.Errorf("revoke %s = status %s, want REVOKED", c.config, rec.Status)
			}
			e.wantW3C(t, c, true, false)
			// Final: neither suspension nor reinstatement undoes it.
			e.action(t, c.id, issuer.ActionReinstate, http.StatusConflict, issuer.CodeCredentialRevoked)
			e.action(t, c.id, issuer.ActionSuspend, http.StatusConflict, issuer.CodeCredentialRevoked)
			e.wantW3C(t, c, true, false)
		}
		// The verification API sees both revoked: each credential's lists
		// are issued by the credential's own issuer.
		e.wantVerifier(t, held[1], verify.StatusRevoked)
		e.wantVerifier(t, held[2], verify.StatusRevoked)
	})
	t.Run("SuspendReinstateToken", func(t *testing.T) {
		c := held[0] // SD-JWT VC
		e.action(t, c.id, issuer.ActionSuspend, http.StatusOK, "")
		e.wantToken(t, c, statuslist.TokenSuspended)
		e.wantVerifier(t, c, verify.StatusSuspended)
		e.action(t, c.id, issuer.ActionReinstate, http.StatusOK, "")
		e.wantToken(t, c, statuslist.TokenValid)
		e.wantVerifier(t, c, verify.StatusSuccess)
		e.action(t, c.id, issuer.ActionReinstate, http.StatusConflict, issuer.CodeCredentialNotSuspended)
	})
	t.Run("SuspendReinstateW3C", func(t *testing.T) {
		for _, c := range []heldCredential{held[3], other[1]} { // ldp_vc (VCDM 1.1), jwt_vc_json
			e.wantVerifier(t, c, verify.StatusSuccess)
			e.action(t, c.id, issuer.ActionSuspend, http.StatusOK, "")
			e.wantW3C(t, c, false, true)
			e.wantVerifier(t, c, verify.StatusSuspended)
			e.action(t, c.id, issuer.ActionReinstate, http.StatusOK, "")
			e.wantW3C(t, c, false, false)
			e.wantVerifier(t, c, verify.StatusSuccess)
		}
	})
	t.Run("CachingJWT", func(t *testing.T) {
		e.testListCaching(t, other[1])
	})
	t.Run("RevokeByResident", func(t *testing.T) {
		r := e.resident(1)
		got := e.residentAction(t, r.UIN, issuer.ActionRevoke, `{"configuration_id":"`+sdConfig+`"}`)
		if got.Changed != 1 || got.Status != storage.CredentialRevoked || got.ConfigurationID != sdConfig {
			t.Errorf("revoke the resident's SD-JWT VCs = %+v, want 1 changed", got)
		}
		e.wantToken(t, other[0], statuslist.TokenInvalid)
		e.wantW3C(t, other[1], false, false)
		// Then everything left; again, nothing more.
		if got := e.residentAction(t, r.UIN, issuer.ActionRevoke, ""); got.Changed != 1 {
			t.Errorf("revoke the rest = %+v, want 1 changed", got)
		}
		e.wantW3C(t, other[1], true, false)
		if got := e.residentAction(t, r.UIN, issuer.ActionReinstate, ""); got.Changed != 0 {
			t.Errorf("reinstate a resident whose credentials are revoked = %+v, want 0 changed", got)
		}
		e.wantW3C(t, other[1], true, false)
	})
	t.Run("LedgerSearch", func(t *testing.T) {
		e.testLedgerSearch(t, start, held, other)
	})
	t.Run("Caching", func(t *testing.T) {
		e.testListCaching(t, held[3])
	})
}

// didMethods resolves the issuer's verification methods from the DID
// document it serves.
func (e *stE2E) didMethods(t *testing.T) did.MethodResolver {
	t.Helper()
	u, err := did.WebDocumentURL(e.s.Issuer.DID())
	if err != nil {
		t.Fatal(err)
	}
	// did:web is https; the test server is http on the same host.
	u = strings.Replace(u, "https://", "http://", 1)
	resp := e.get(t, u, "")
	doc, err := did.ParseDocument(resp.body)
	if err != nil {
		t.Fatalf("issuer DID document: %v", err)
	}
	trust, err := did.NewTrustList(doc)
	if err != nil {
		t.Fatal(err)
	}
	return trust
}

// stResponse is an HTTP answer.
type stResponse struct {
	status int
	header http.Header
	body   []byte
}

// get fetches url with an Accept header (none when empty) and extra header
// pairs.
func (e *stE2E) get(t *testing.T, u, accept string, header ...string) stResponse {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, u, nil)
	if err != nil {
		t.Fatal(err)
	}
	if accept != "" {
		req.Header.Set("Accept", accept)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	return e.do(t, req)
}

func (e *stE2E) do(t *testing.T, req *http.Request) stResponse {
	t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return stResponse{resp.StatusCode, resp.Header, body}
}

// admin sends an admin API request with the admin token.
func (e *stE2E) admin(t *testing.T, method, path string, body string) stResponse {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequestWithContext(t.Context(), method, e.s.OIDC.Issuer+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+e.s.AdminToken)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	return e.do(t, req)
}

// issueAll gets one credential of each configuration for r with one
// pre-authorized offer, and returns them in order.
func (e *stE2E) issueAll(t *testing.T, r idrepo.DemoResident, configs ...string) []heldCredential {
	t.Helper()
	o, _ := e.offer(t, r, 0, configs...)
	tok, err := (&oidctest.RP{Issuer: e.s.OIDC.Issuer}).PreAuthorizedToken(t.Context(), oidctest.PreAuthorizedTokenRequest{Code: preAuthorizedCode(t, o)})
	if err != nil {
		t.Fatalf("pre-authorized token: %v", err)
	}
	var out []heldCredential
	for _, config := range configs {
		resp := post(t, e.wallet(nil), tok, issuertest.Request(config, e.proof(t, e2eKey(t), e.nonce(t), "")))
		if resp.Status != http.StatusOK {
			t.Fatalf("credential request of %s = %d %s", config, resp.Status, short(resp.Body))
		}
		var body struct {
			Credentials []struct {
				Credential any `json:"credential"`
			} `json:"credentials"`
			NotificationID string `json:"notification_id"`
		}
		if err := json.Unmarshal(resp.Body, &body); err != nil || len(body.Credentials) != 1 {
			t.Fatalf("credential response of %s: %v, %d credentials", config, err, len(body.Credentials))
		}
		entries := e.ledger(t, r, body.NotificationID)
		if len(entries) != 1 {
			t.Fatalf("%d ledger entries of %s's response, want 1", len(entries), config)
		}
		out = append(out, heldCredential{config: config, raw: body.Credentials[0].Credential, id: entries[0].ID})
	}
	return out
}

// record reads a credential through the admin API.
func (e *stE2E) record(t *testing.T, id string) issuer.CredentialRecord {
	t.Helper()
	resp := e.admin(t, http.MethodGet, issuer.AdminCredentials+"/"+url.PathEscape(id), "")
	if resp.status != http.StatusOK {
		t.Fatalf("GET credential %s = %d %s", id, resp.status, short(resp.body))
	}
	var rec issuer.CredentialRecord
	if err := json.Unmarshal(resp.body, &rec); err != nil {
		t.Fatal(err)
	}
	return rec
}

// w3cEntries returns the verified credential's W3C status entries.
func (e *stE2E) w3cEntries(t *testing.T, c heldCredential) []statuslist.Entry {
	t.Helper()
	var status any
	switch c.config {
	case vcConfig:
		v, err := jwtvc.Verify(t.Context(), c.raw.(string), jwtvc.VerifyOptions{Keys: e.keys, Algs: []string{"ES256"}})
		if err != nil {
			t.Fatalf("jwtvc.Verify = %v", err)
		}
		status = v.Credential.Status
	case stLDPConfig, stLDP2020Config:
		doc := c.raw.(map[string]any)
		if _, err := ldp.Verify(t.Context(), doc, ldp.VerifyOptions{Loader: e.s.Issuer.Contexts(), Methods: e.methods, Controller: e.s.Issuer.DID()}); err != nil {
			t.Fatalf("ldp.Verify(%s) = %v", c.config, err)
		}
		status = doc["credentialStatus"]
	default:
		t.Fatalf("%s has no W3C status", c.config)
	}
	entries, err := statuslist.ParseEntries(status)
	if err != nil {
		t.Fatalf("ParseEntries(%s) = %v", c.config, err)
	}
	return entries
}

// tokenReference returns the verified SD-JWT VC's status reference.
func (e *stE2E) tokenReference(t *testing.T, c heldCredential) statuslist.TokenReference {
	t.Helper()
	tok, err := sdjwt.VerifyVC(t.Context(), c.raw.(string), sdjwt.VerifyOptions{Keys: e.keys, Algs: []string{"ES256"}, Issuer: e.s.ID, Typs: []string{sdjwt.TypVC}})
	if err != nil {
		t.Fatalf("sdjwt.VerifyVC = %v", err)
	}
	ref, err := statuslist.ParseTokenReference(tok.Status)
	if err != nil {
		t.Fatalf("ParseTokenReference = %v", err)
	}
	return ref
}

// w3cURLs are the URLs of the W3C status list credentials (revocation,
// suspension) of list base that credentials of config name: the VC-JWT
// form for jwt_vc_json, the Data Integrity form for ldp_vc.
func w3cURLs(config, base string) []string {
	if config == vcConfig {
		base += "/jwt"
	}
	return []string{base + "/revocation", base + "/suspension"}
}

// checkEntry checks that a credential carries the status entry the ledger
// records for it, at the URLs the admin API names.
func (e *stE2E) checkEntry(t *testing.T, c heldCredential) {
	t.Helper()
	rec := e.record(t, c.id)
	if !rec.Revocable || rec.StatusList == nil {
		t.Fatalf("%s credential is not revocable: %+v", c.config, rec)
	}
	base := e.s.URL(issuer.PathStatus + "/" + rec.StatusList.ID)
	if c.config == sdConfig {
		ref := e.tokenReference(t, c)
		if ref.URI != base || int64(ref.Index) != rec.StatusList.Index || !slices.Equal(rec.StatusList.URLs, []string{base}) {
			t.Errorf("SD-JWT VC status %+v, ledger %+v, want %s index %d", ref, rec.StatusList, base, rec.StatusList.Index)
		}
		return
	}
	entries := e.w3cEntries(t, c)
	want := w3cURLs(c.config, base)
	if len(entries) != 2 {
		t.Fatalf("%s credentialStatus %+v, want revocation and suspension entries at %v", c.config, entries, want)
	}
	if !slices.Equal(rec.StatusList.URLs, want) {
		t.Errorf("%s admin URLs %v, want the lists its credentialStatus names, %v", c.config, rec.StatusList.URLs, want)
	}
	for i, en := range entries {
		purpose := []string{statuslist.PurposeRevocation, statuslist.PurposeSuspension}[i]
		if en.StatusPurpose != purpose || en.StatusListCredential != want[i] || int64(en.StatusListIndex) != rec.StatusList.Index || en.Type != statuslist.TypeEntry {
			t.Errorf("%s entry %d = %+v, want %s at %s index %d", c.config, i, en, purpose, want[i], rec.StatusList.Index)
		}
	}
}

// action posts a status action for credential id and checks the answer:
// status and, for an error, its code.
func (e *stE2E) action(t *testing.T, id, action string, status int, code string) issuer.CredentialRecord {
	t.Helper()
	resp := e.admin(t, http.MethodPost, issuer.AdminCredentials+"/"+url.PathEscape(id)+"/"+action, "")
	if resp.status != status {
		t.Fatalf("POST %s %s = %d %s, want %d", action, id, resp.status, short(resp.body), status)
	}
	var rec issuer.CredentialRecord
	if code != "" {
		var body map[string]any
		if json.Unmarshal(resp.body, &body) != nil || body["error"] != code {
			t.Errorf("POST %s = %s, want error %s", action, resp.body, code)
		}
		return rec
	}
	if err := json.Unmarshal(resp.body, &rec); err != nil {
		t.Fatal(err)
	}
	return rec
}

// residentAction posts a status action for the resident individualID.
func (e *stE2E) residentAction(t *testing.T, individualID, action, body string) issuer.ResidentStatusChange {
	t.Helper()
	resp := e.admin(t, http.MethodPost, issuer.AdminResidents+"/"+individualID+"/credentials/"+action, body)
	if resp.status != http.StatusOK {
		t.Fatalf("POST resident %s = %d %s", action, resp.status, short(resp.body))
	}
	if bytes.Contains(resp.body, []byte(individualID)) {
		t.Errorf("resident action answer %s echoes the individual id", resp.body)
	}
	var out issuer.ResidentStatusChange
	if err := json.Unmarshal(resp.body, &out); err != nil {
		t.Fatal(err)
	}
	return out
}

// w3cList fetches the W3C status list credential at u, which credentials
// of config name, as a verifier does, and verifies it: the Data Integrity
// form with the issuer's DID document, the VC-JWT form with its JWKS. It
// returns the list credential.
func (e *stE2E) w3cList(t *testing.T, config, u string) map[string]any {
	t.Helper()
	resp := e.get(t, u, verify.AcceptListCredential)
	if resp.status != http.StatusOK {
		t.Fatalf("GET %s = %d %s", u, resp.status, short(resp.body))
	}
	ct := resp.header.Get("Content-Type")
	if config == vcConfig {
		if ct != issuer.MediaTypeJWT {
			t.Errorf("GET %s: Content-Type %q, want %s", u, ct, issuer.MediaTypeJWT)
		}
		v, err := jwtvc.Verify(t.Context(), string(resp.body), jwtvc.VerifyOptions{Keys: e.keys, Algs: []string{"ES256"}})
		if err != nil {
			t.Fatalf("jwtvc.Verify(status list credential %s) = %v", u, err)
		}
		if typ, _ := v.Header["typ"].(string); typ != jwtvc.Typ || v.Credential.Issuer != e.s.ID || v.Credential.ID != u {
			t.Errorf("status list JWT typ %q, iss %s, jti %s; want %s, the issuer identifier %s, %s", typ, v.Credential.Issuer, v.Credential.ID, jwtvc.Typ, e.s.ID, u)
		}
		doc, _ := v.Claims["vc"].(map[string]any)
		if doc == nil {
			t.Fatalf("status list JWT %s has no vc claim", u)
		}
		return doc
	}
	if ct != issuer.MediaTypeVC && ct != "application/vc+ld+json" {
		t.Errorf("GET %s: Content-Type %q, want a W3C credential media type", u, ct)
	}
	var doc map[string]any
	if err := json.Unmarshal(resp.body, &doc); err != nil {
		t.Fatal(err)
	}
	res, err := ldp.Verify(t.Context(), doc, ldp.VerifyOptions{
		Loader: e.s.Issuer.Contexts(), Methods: e.methods, Controller: e.s.Issuer.DID(),
		Suites: []string{ldp.SuiteEdDSARDFC2022},
	})
	if err != nil {
		t.Fatalf("ldp.Verify(status list credential %s) = %v", u, err)
	}
	if res.Suite != ldp.SuiteEdDSARDFC2022 {
		t.Errorf("status list proof suite = %s, want %s", res.Suite, ldp.SuiteEdDSARDFC2022)
	}
	return doc
}

// wantW3C checks a W3C credential's bits in the published lists.
func (e *stE2E) wantW3C(t *testing.T, c heldCredential, revoked, suspended bool) {
	t.Helper()
	for _, en := range e.w3cEntries(t, c) {
		doc := e.w3cList(t, c.config, en.StatusListCredential)
		on, err := statuslist.CheckEntry(en, doc, time.Now())
		if err != nil {
			t.Fatalf("CheckEntry(%s) = %v", en.StatusPurpose, err)
		}
		want := map[string]bool{statuslist.PurposeRevocation: revoked, statuslist.PurposeSuspension: suspended}[en.StatusPurpose]
		if on != want {
			t.Errorf("%s credential: %s bit = %v, want %v", c.config, en.StatusPurpose, on, want)
		}
	}
}

// statusKeys resolves the issuer's JWKS keys for status list tokens.
func (e *stE2E) statusKeys(ctx context.Context) func(kid string) (crypto.PublicKey, error) {
	return func(kid string) (crypto.PublicKey, error) { return e.keys.ResolveKey(ctx, e.s.ID, kid) }
}

// wantToken checks an SD-JWT VC's value in its published status list
// token.
func (e *stE2E) wantToken(t *testing.T, c heldCredential, want uint8) {
	t.Helper()
	ref := e.tokenReference(t, c)
	resp := e.get(t, ref.URI, statuslist.MediaType)
	if resp.status != http.StatusOK || resp.header.Get("Content-Type") != statuslist.MediaType {
		t.Fatalf("GET %s = %d %s (%s)", ref.URI, resp.status, short(resp.body), resp.header.Get("Content-Type"))
	}
	l, err := statuslist.ParseToken(t.Context(), string(resp.body), ref.URI, e.statusKeys(t.Context()), time.Now())
	if err != nil {
		t.Fatalf("ParseToken = %v", err)
	}
	if v, err := l.Get(ref.Index); err != nil || v != want {
		t.Errorf("status list token entry %d = %d (%v), want %d", ref.Index, v, err, want)
	}
	if resp := e.get(t, ref.URI, "application/statuslist+cwt"); resp.status != http.StatusNotAcceptable {
		t.Errorf("GET %s as CWT = %d, want 406", ref.URI, resp.status)
	}
}

// stFetcher fetches status lists from the test server over plain HTTP.
type stFetcher struct{}

func (stFetcher) Fetch(ctx context.Context, u, accept string) ([]byte, string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, "", err
	}
	req.Header.Set("Accept", accept)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, "", err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, "", &oidctest.Error{Endpoint: u, Status: resp.StatusCode, Code: oidctest.CodeBadResponse}
	}
	b, err := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
	return b, resp.Header.Get("Content-Type"), err
}

// wantVerifier checks what the verification API (credential/verify) makes
// of a credential, its status fetched from the issuer.
func (e *stE2E) wantVerifier(t *testing.T, c heldCredential, want string) {
	t.Helper()
	var raw []byte
	switch v := c.raw.(type) {
	case string:
		raw = []byte(v)
	default:
		var err error
		if raw, err = json.Marshal(v); err != nil {
			t.Fatal(err)
		}
	}
	res, err := verify.Credential(t.Context(), raw, verify.Options{
		Contexts: e.s.Issuer.Contexts(), Methods: e.methods, Keys: e.keys, Status: stFetcher{},
	})
	if err != nil {
		t.Fatalf("verify.Credential(%s) = %v", c.config, err)
	}
	if res.Status != want {
		t.Errorf("verify.Credential(%s) = %s (%v), want %s", c.config, res.Status, res.Err(), want)
	}
}

// testLedgerSearch searches the ledger by configuration, date and status.
func (e *stE2E) testLedgerSearch(t *testing.T, start time.Time, held, other []heldCredential) {
	list := func(q url.Values) issuer.CredentialList {
		t.Helper()
		resp := e.admin(t, http.MethodGet, issuer.AdminCredentials+"?"+q.Encode(), "")
		if resp.status != http.StatusOK {
			t.Fatalf("GET credentials?%s = %d %s", q.Encode(), resp.status, short(resp.body))
		}
		for _, r := range []idrepo.DemoResident{e.resident(0), e.resident(1)} {
			if bytes.Contains(resp.body, []byte(r.UIN)) || bytes.Contains(resp.body, []byte(r.ResidentID)) {
				t.Fatalf("ledger search carries a resident's UIN or internal id")
			}
		}
		var out issuer.CredentialList
		if err := json.Unmarshal(resp.body, &out); err != nil {
			t.Fatal(err)
		}
		return out
	}
	ids := func(l issuer.CredentialList) []string {
		var out []string
		for _, c := range l.Credentials {
			out = append(out, c.ID)
		}
		slices.Sort(out)
		return out
	}
	sorted := func(cs ...heldCredential) []string {
		var out []string
		for _, c := range cs {
			out = append(out, c.id)
		}
		slices.Sort(out)
		return out
	}
	now := time.Now().Add(time.Second)
	from, before := start.UTC().Format(time.RFC3339Nano), now.UTC().Format(time.RFC3339Nano)
	for _, tc := range []struct {
		name  string
		query url.Values
		want  []string
	}{
		{"revoked SD-JWT VCs", url.Values{"configuration_id": {sdConfig}, "status": {"REVOKED"}}, sorted(other[0])},
		{"valid SD-JWT VCs", url.Values{"configuration_id": {sdConfig}, "status": {"valid"}}, sorted(held[0])},
		{"all revoked", url.Values{"status": {"REVOKED"}, "issued_from": {from}, "issued_before": {before}}, sorted(held[1], held[2], other[0], other[1])},
		{"none suspended", url.Values{"status": {"SUSPENDED"}}, nil},
		{"ldp_vc 2020 in the window", url.Values{"configuration_id": {stLDP2020Config}, "issued_from": {from}, "issued_before": {before}}, sorted(held[3])},
		{"issued later", url.Values{"issued_from": {now.UTC().Format(time.RFC3339)}}, nil},
		{"issued earlier", url.Values{"issued_before": {start.UTC().Format(time.RFC3339)}}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := ids(list(tc.query)); !slices.Equal(got, tc.want) {
				t.Errorf("search %s = %v, want %v", tc.query.Encode(), got, tc.want)
			}
		})
	}
	// Pages of 2 give all 6, in issue order.
	var got []string
	after := ""
	for page := 0; page < 5; page++ {
		q := url.Values{"limit": {"2"}, "issued_from": {from}}
		if after != "" {
			q.Set("after", after)
		}
		l := list(q)
		for _, c := range l.Credentials {
			got = append(got, c.ID)
		}
		if l.NextAfter == "" {
			break
		}
		after = l.NextAfter
	}
	slices.Sort(got)
	if want := sorted(append(slices.Clone(held), other...)...); !slices.Equal(got, want) {
		t.Errorf("paged listing = %v, want %v", got, want)
	}
	// Precise errors.
	for q, want := range map[string]string{
		"issued_from=yesterday":  "issued_from must be an RFC 3339 time",
		"status=GONE":            "status must be VALID, REVOKED or SUSPENDED",
		"after=urn:uuid:nothing": "after names no credential",
		"limit=5000":             "limit must be an integer from 1 to 1000",
	} {
		resp := e.admin(t, http.MethodGet, issuer.AdminCredentials+"?"+q, "")
		if resp.status != http.StatusBadRequest || !strings.Contains(string(resp.body), want) {
			t.Errorf("GET credentials?%s = %d %s, want 400 %q", q, resp.status, resp.body, want)
		}
	}
	// The admin API needs the admin token.
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, e.s.OIDC.Issuer+issuer.AdminCredentials, nil)
	if resp := e.do(t, req); resp.status != http.StatusUnauthorized {
		t.Errorf("GET credentials without the admin token = %d, want 401", resp.status)
	}
	req, _ = http.NewRequestWithContext(t.Context(), http.MethodPost, e.s.OIDC.Issuer+issuer.AdminCredentials+"/"+held[0].id+"/revoke", nil)
	if resp := e.do(t, req); resp.status != http.StatusUnauthorized {
		t.Errorf("revoke without the admin token = %d, want 401", resp.status)
	}
}

// testListCaching: the caching headers a verifier gets, 304 while nothing
// changes, and a new list at once after a change, for the form of the
// list c's credentialStatus names.
func (e *stE2E) testListCaching(t *testing.T, c heldCredential) {
	u := e.w3cEntries(t, c)[1].StatusListCredential // suspension
	mediaType := issuer.MediaTypeVC
	if c.config == vcConfig {
		mediaType = issuer.MediaTypeJWT
	}
	first := e.get(t, u, "")
	h := first.header
	if first.status != http.StatusOK || h.Get("Cache-Control") != "public, max-age="+strconv.Itoa(int(issuer.DefaultStatusListTTL/time.Second)) ||
		h.Get("ETag") == "" || h.Get("Last-Modified") == "" || h.Get("Content-Type") != mediaType {
		t.Fatalf("GET %s = %d, headers %v; want 200 %s, public max-age=5, ETag, Last-Modified", u, first.status, h, mediaType)
	}
	if again := e.get(t, u, "", "If-None-Match", h.Get("ETag")); again.status != http.StatusNotModified {
		t.Errorf("GET with If-None-Match = %d, want 304", again.status)
	}
	e.action(t, c.id, issuer.ActionSuspend, http.StatusOK, "")
	changed := e.get(t, u, "", "If-None-Match", h.Get("ETag"))
	if changed.status != http.StatusOK || changed.header.Get("ETag") == h.Get("ETag") {
		t.Fatalf("GET after a suspension = %d, ETag %s; want a new list", changed.status, changed.header.Get("ETag"))
	}
	e.wantW3C(t, c, false, true)
	e.action(t, c.id, issuer.ActionReinstate, http.StatusOK, "")
	e.wantW3C(t, c, false, false)
}
