package issuer_test

import (
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/lestrrat-go/jwx/v3/jwk"

	"github.com/sanad-id/sanad/credential"
	"github.com/sanad-id/sanad/credential/did"
	"github.com/sanad-id/sanad/credential/jsonld"
	"github.com/sanad-id/sanad/credential/ldp"
	"github.com/sanad-id/sanad/idrepo"
	"github.com/sanad-id/sanad/issuer"
	"github.com/sanad-id/sanad/issuer/issuertest"
	"github.com/sanad-id/sanad/oidc/oidctest"
	"github.com/sanad-id/sanad/storage"
)

// End-to-end tests of ldp_vc issuance: the built-in national-id-ldp (VCDM
// 2.0, eddsa-rdfc-2022) and national-id-ldp-2020 (VCDM 1.1,
// Ed25519Signature2020) templates through the credential endpoint, in
// OpenID4VCI 1.0 and draft-13 requests, verified as an independent
// verifier would: the issuer's did:web DID resolved through the DID
// document the server publishes, the templates' contexts taken from the
// URLs the server serves them at (and nothing fetched while verifying).

const (
	ldpConfig     = "national-id-ldp"
	ldpScope      = "national_id_ldp"
	ldp2020Config = "national-id-ldp-2020"
	ldp2020Scope  = "national_id_ldp_2020"
)

// ldpVerifier is a verifier's view of the stack's issuer.
type ldpVerifier struct {
	did     string
	methods *did.Resolver
	loader  *jsonld.Loader
	// contexts are the @context of each configuration, from the metadata.
	contexts map[string][]string
}

// newLDPVerifier reads the issuer metadata, fetches the contexts it names
// that are not bundled (the templates' own, served by the issuer) and
// resolves the issuer's DID over HTTP.
func newLDPVerifier(t *testing.T, e *e2e) *ldpVerifier {
	t.Helper()
	var meta struct {
		Configs map[string]struct {
			Format     string `json:"format"`
			Definition struct {
				Context []string `json:"@context"`
				Type    []string `json:"type"`
			} `json:"credential_definition"`
			Algs []string `json:"credential_signing_alg_values_supported"`
		} `json:"credential_configurations_supported"`
	}
	e.getJSON(t, e.s.OIDC.Issuer+issuer.WellKnownIssuer+issuertest.IssuerPath, &meta)
	v := &ldpVerifier{
		did:      did.WebDID(e.s.OIDC.Issuer),
		methods:  did.NewResolver(did.NewWebMethod(did.WebConfig{AllowInsecureLocalhost: true}), did.KeyMethod{}, did.JWKMethod{}),
		contexts: map[string][]string{},
	}
	extra := map[string][]byte{}
	bundled := jsonld.Bundled()
	for id, want := range map[string]string{ldpConfig: ldp.SuiteEdDSARDFC2022, ldp2020Config: ldp.SuiteEd25519Signature2020} {
		c := meta.Configs[id]
		if c.Format != credential.FormatLDPVC || !slices.Equal(c.Algs, []string{want}) || !slices.Equal(c.Definition.Type, vcTypes) {
			t.Fatalf("metadata of %s = %+v, want ldp_vc, %s, types %v", id, c, want, vcTypes)
		}
		v.contexts[id] = c.Definition.Context
		for _, u := range c.Definition.Context {
			if _, ok := bundled.Context(u); ok {
				continue
			}
			if !strings.HasPrefix(u, e.s.ID+issuer.PathContexts+"/"+id+"/") {
				t.Fatalf("%s names the context %s, neither bundled nor served by the issuer", id, u)
			}
			resp, err := http.Get(u)
			if err != nil {
				t.Fatal(err)
			}
			var body json.RawMessage
			if err := json.NewDecoder(resp.Body).Decode(&body); err != nil || resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "application/ld+json" {
				t.Fatalf("GET %s = %d %s, %v; want 200 application/ld+json", u, resp.StatusCode, resp.Header.Get("Content-Type"), err)
			}
			resp.Body.Close()
			extra[u] = body
		}
	}
	l, err := jsonld.NewLoader(extra)
	if err != nil {
		t.Fatal(err)
	}
	v.loader = l
	if v.did == "" || !strings.HasPrefix(v.did, "did:web:127.0.0.1%3A") {
		t.Fatalf("issuer DID = %q", v.did)
	}
	return v
}

// verify verifies an ldp_vc credential of config for r bound to holder's
// DID.
func (v *ldpVerifier) verify(t *testing.T, e *e2e, config string, cred map[string]any, r idrepo.DemoResident, holderDID string) {
	t.Helper()
	res, err := ldp.Verify(t.Context(), cred, ldp.VerifyOptions{Loader: v.loader, Methods: v.methods, Controller: v.did})
	if err != nil {
		t.Fatalf("ldp.Verify(%s) = %v", config, err)
	}
	subject, _ := cred["credentialSubject"].(map[string]any)
	types, _ := json.Marshal(cred["type"])
	ctxs, _ := json.Marshal(cred["@context"])
	from, model := "validFrom", jsonld.CredentialsV2
	suite := ldp.SuiteEdDSARDFC2022
	if config == ldp2020Config {
		from, model, suite = "issuanceDate", jsonld.CredentialsV1, ldp.SuiteEd25519Signature2020
	}
	if res.Suite != suite || cred["issuer"] != v.did || string(types) != `["VerifiableCredential","NationalIDCredential"]` ||
		!strings.HasPrefix(string(ctxs), `["`+model+`"`) || subject["id"] != holderDID || subject["dateOfBirth"] != birthdate(r) {
		t.Errorf("%s credential: suite %s, issuer %v, type %s, @context %s, subject id %v, dateOfBirth %v; want %s, %s, %v, %s first, %s, %s",
			config, res.Suite, cred["issuer"], types, ctxs, subject["id"], subject["dateOfBirth"], suite, v.did, vcTypes, model, holderDID, birthdate(r))
	}
	for _, c := range v.contexts[config] {
		if !slices.Contains(cred["@context"].([]any), any(c)) {
			t.Errorf("%s credential @context %s lacks %s of the metadata", config, ctxs, c)
		}
	}
	// The stack has status lists: the credential's entries are signed with
	// it, and VCDM 1.1 names the status list context that defines them.
	if _, ok := cred["credentialStatus"]; !ok {
		t.Errorf("%s credential has no credentialStatus", config)
	}
	if hasStatusCtx := slices.Contains(cred["@context"].([]any), any(jsonld.StatusListV1)); hasStatusCtx != (config == ldp2020Config) {
		t.Errorf("%s credential @context %s: status list context present = %v, want %v", config, ctxs, hasStatusCtx, config == ldp2020Config)
	}
	issued, err := time.Parse(time.RFC3339, cred[from].(string))
	if err != nil || time.Since(issued) > time.Minute || time.Since(issued) < -time.Minute {
		t.Errorf("%s credential %s = %v, want now", config, from, cred[from])
	}
	names, _ := json.Marshal(subject["fullName"])
	if !strings.Contains(string(names), englishName(r)) {
		t.Errorf("%s credential fullName = %s, want %s among them", config, names, englishName(r))
	}
	all, _ := json.Marshal(cred)
	for _, s := range secrets(r)[:2] {
		if strings.Contains(string(all), s) {
			t.Errorf("%s credential carries the resident's UIN or internal id", config)
		}
	}
	// A changed claim does not verify.
	var tampered map[string]any
	_ = json.Unmarshal(all, &tampered)
	tampered["credentialSubject"].(map[string]any)["id"] = "did:example:mallory"
	if _, err := ldp.Verify(t.Context(), tampered, ldp.VerifyOptions{Loader: v.loader, Methods: v.methods, Controller: v.did}); err == nil {
		t.Errorf("%s credential verified with another holder", config)
	}
}

// holderDID is the DID a credential bound by a proof of key (binding
// "jwk", "did:jwk" or "did:key") names as its subject.
func holderDID(t *testing.T, key jwk.Key, binding string) string {
	t.Helper()
	pub, err := key.PublicKey()
	if err != nil {
		t.Fatal(err)
	}
	if binding == issuer.BindingDIDKey {
		var raw any
		if err := jwk.Export(pub, &raw); err != nil {
			t.Fatal(err)
		}
		d, err := did.KeyDID(raw)
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	d, err := did.JWKDID(pub)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// ldpIssued decodes a 1.0 credential response of n ldp_vc credentials.
func ldpIssued(t *testing.T, what string, resp *issuertest.Response, n int) ([]map[string]any, issued) {
	t.Helper()
	if resp.Status != http.StatusOK || resp.Header.Get("Cache-Control") != "no-store" {
		t.Fatalf("%s = HTTP %d (Cache-Control %q) %s, want 200 no-store", what, resp.Status, resp.Header.Get("Cache-Control"), short(resp.Body))
	}
	var body struct {
		Credentials []struct {
			Credential map[string]any `json:"credential"`
		} `json:"credentials"`
		NotificationID string `json:"notification_id"`
	}
	if err := json.Unmarshal(resp.Body, &body); err != nil {
		t.Fatalf("%s: %v (%s)", what, err, short(resp.Body))
	}
	if len(body.Credentials) != n || body.NotificationID == "" {
		t.Fatalf("%s = %d credentials, notification_id %q; want %d and a notification_id", what, len(body.Credentials), body.NotificationID, n)
	}
	var out []map[string]any
	for _, c := range body.Credentials {
		if c.Credential == nil {
			t.Fatalf("%s: a credential that is not a JSON object", what)
		}
		out = append(out, c.Credential)
	}
	return out, issued{notificationID: body.NotificationID}
}

func TestE2ELDP(t *testing.T) {
	t.Parallel()
	e := newE2E(t, e2eSQLiteMemory)
	v := newLDPVerifier(t, e)

	// The DID document: every key under assertionMethod, Ed25519 keys also
	// as Ed25519VerificationKey2020 for the Ed25519Signature2020 template.
	resp, err := http.Get(e.s.OIDC.Issuer + issuer.WellKnownDID)
	if err != nil {
		t.Fatal(err)
	}
	var doc did.Document
	if err := json.NewDecoder(resp.Body).Decode(&doc); err != nil || resp.StatusCode != http.StatusOK || doc.ID != v.did || len(doc.AssertionMethod) == 0 {
		t.Fatalf("GET %s = %d, %+v, %v; want the document of %s", issuer.WellKnownDID, resp.StatusCode, doc, err, v.did)
	}
	resp.Body.Close()
	if e.s.Issuer.DID() != v.did {
		t.Errorf("Issuer.DID() = %s, want %s", e.s.Issuer.DID(), v.did)
	}

	t.Run("1.0 pre-authorized, each binding, batch", func(t *testing.T) {
		for _, config := range []string{ldpConfig, ldp2020Config} {
			r := e.resident(0)
			tok := e.bearerToken(t, r, config)
			nonce := e.nonce(t)
			bindings := []string{issuer.BindingJWK, issuer.BindingDIDJWK, issuer.BindingDIDKey}
			var keys []jwk.Key
			var proofs []string
			for _, b := range bindings {
				k := e2eKey(t)
				p, err := issuertest.Proof{Key: k, Audience: e.s.ID, Nonce: nonce, Binding: b}.Sign()
				if err != nil {
					t.Fatal(err)
				}
				keys, proofs = append(keys, k), append(proofs, p)
			}
			creds, got := ldpIssued(t, config+" request", post(t, e.wallet(nil), tok, issuertest.Request(config, proofs...)), len(proofs))
			for i, c := range creds {
				v.verify(t, e, config, c, r, holderDID(t, keys[i], bindings[i]))
			}
			entries := e.checkLedger(t, r, got, config, credential.FormatLDPVC, keys...)
			for _, c := range creds {
				if !slices.ContainsFunc(entries, func(en storage.IssuedCredential) bool { return en.ID == c["id"] }) {
					t.Errorf("%s credential id %v is not in the ledger", config, c["id"])
				}
			}
		}
	})

	t.Run("draft 13 by format, type and @context", func(t *testing.T) {
		ctx := t.Context()
		r := e.resident(1)
		cl, err := e.s.OIDC.RegisterPublicClient(ctx, "inji-ldp", "io.mosip.residentapp.inji://oauthredirect", ldpScope+" "+ldp2020Scope, "")
		if err != nil {
			t.Fatal(err)
		}
		rp := &oidctest.RP{Issuer: e.s.OIDC.Issuer, Client: cl}
		tok := e2eToken(t, rp, e.login(r, ldpScope+" "+ldp2020Scope), "")
		nonce := tok.CNonce
		for _, tc := range []struct {
			name, config string
			contexts     []string
		}{
			{"VCDM 1.1 by its @context", ldp2020Config, v.contexts[ldp2020Config]},
			{"VCDM 2.0 by its @context", ldpConfig, v.contexts[ldpConfig]},
			{"no @context: the first the token allows", ldpConfig, nil},
		} {
			holder := e2eKey(t)
			def := map[string]any{"type": vcTypes}
			if tc.contexts != nil {
				def["@context"] = tc.contexts
			}
			req := map[string]any{"format": "ldp_vc", "credential_definition": def,
				"proof": map[string]any{"proof_type": "jwt", "jwt": e.proof(t, holder, nonce, cl.ID)}}
			resp := post(t, e.wallet(nil), tok, req)
			var got struct {
				Credential map[string]any `json:"credential"`
				Format     string         `json:"format"`
				CNonce     string         `json:"c_nonce"`
			}
			if err := json.Unmarshal(resp.Body, &got); err != nil || resp.Status != http.StatusOK || got.Credential == nil || got.Format != "ldp_vc" || got.CNonce == "" {
				t.Fatalf("%s: draft-13 request = HTTP %d %s, want a credential object, ldp_vc, a c_nonce", tc.name, resp.Status, short(resp.Body))
			}
			v.verify(t, e, tc.config, got.Credential, r, holderDID(t, holder, issuer.BindingJWK))
			nonce = got.CNonce
		}
		// An @context of no configuration.
		req := map[string]any{"format": "ldp_vc", "credential_definition": map[string]any{"type": vcTypes, "@context": []string{jsonld.CredentialsV2}},
			"proof": map[string]any{"proof_type": "jwt", "jwt": e.proof(t, e2eKey(t), nonce, cl.ID)}}
		wantError(t, "draft-13 request of an unknown @context", post(t, e.wallet(nil), tok, req), http.StatusBadRequest, issuer.CodeUnsupportedCredentialType)
	})
}
