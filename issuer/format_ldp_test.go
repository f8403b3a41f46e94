package issuer

import (
	"bytes"
	"context"
	"crypto"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/lestrrat-go/jwx/v3/jwk"

	"github.com/sanad-id/sanad/credential"
	"github.com/sanad-id/sanad/credential/credtest"
	"github.com/sanad-id/sanad/credential/did"
	"github.com/sanad-id/sanad/credential/jsonld"
	"github.com/sanad-id/sanad/credential/ldp"
	"github.com/sanad-id/sanad/templates"
)

// Built-in ldp_vc configurations (templates/).
const (
	ldConfig2022 = "national-id-ldp"
	ldConfig2020 = "national-id-ldp-2020"
)

// ldSigners is a Signers over in-memory keys (credtest): a current key
// per algorithm and retired public keys, all in the JWKS.
type ldSigners struct {
	mu      sync.Mutex
	current map[string]*credtest.Signer
	retired map[string]crypto.PublicKey // kid → key
	calls   int
}

func newLDSigners(t testing.TB) *ldSigners {
	return &ldSigners{
		current: map[string]*credtest.Signer{
			"ES256": credtest.NewSigner(t, "ES256", "es-current"),
			"EdDSA": credtest.NewSigner(t, "EdDSA", "ed-current"),
		},
		retired: map[string]crypto.PublicKey{},
	}
}

func (s *ldSigners) Signer(alg string) (credential.Signer, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if k, ok := s.current[alg]; ok {
		return k, nil
	}
	return nil, errors.New("ldSigners: no key for " + alg)
}

func (s *ldSigners) Algs() []string { return []string{"ES256", "EdDSA"} }

func (s *ldSigners) JWKS(context.Context) (jwk.Set, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls++
	set := jwk.NewSet()
	add := func(kid string, pub crypto.PublicKey) error {
		k, err := jwk.Import(pub)
		if err != nil {
			return err
		}
		if err := k.Set(jwk.KeyIDKey, kid); err != nil {
			return err
		}
		return set.AddKey(k)
	}
	for _, k := range s.current {
		if err := add(k.KeyID(), k.Public()); err != nil {
			return nil, err
		}
	}
	for kid, pub := range s.retired {
		if err := add(kid, pub); err != nil {
			return nil, err
		}
	}
	return set, nil
}

// rotate retires the current key of alg and makes a new one current.
func (s *ldSigners) rotate(t testing.TB, alg, kid string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	old := s.current[alg]
	s.retired[old.KeyID()] = old.Public()
	s.current[alg] = credtest.NewSigner(t, alg, kid)
}

// ldEnv is an issuer with the built-in templates behind a real HTTP server
// on 127.0.0.1, so that its did:web DID resolves through the did.json it
// serves.
type ldEnv struct {
	is      *Issuer
	signers *ldSigners
	srv     *httptest.Server
	router  *gin.Engine
	// methods resolves did:web (over plain HTTP to 127.0.0.1), did:key
	// and did:jwk.
	methods *did.Resolver
	configs map[string]*Configuration
	now     time.Time
}

func newLDEnv(t *testing.T, opts ...func(*Config)) *ldEnv {
	t.Helper()
	e := &ldEnv{signers: newLDSigners(t), now: time.Now().UTC().Truncate(time.Second)}
	var handler http.Handler = http.NotFoundHandler()
	e.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { handler.ServeHTTP(w, r) }))
	t.Cleanup(e.srv.Close)
	id := e.srv.URL + "/issuer"
	configs, err := LoadTemplates(templates.FS(), id)
	if err != nil {
		t.Fatal(err)
	}
	e.configs = map[string]*Configuration{}
	for _, c := range configs {
		e.configs[c.ID] = c
	}
	cfg := Config{
		CredentialIssuer: id,
		Configurations:   configs,
		Tokens:           mdTokens{},
		Data:             mdData{},
		Ledger:           mdLedger{},
		State:            mdState{},
		Signers:          e.signers,
		Now:              func() time.Time { return e.now },
	}
	for _, o := range opts {
		o(&cfg)
	}
	is, err := New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	e.is = is
	gin.SetMode(gin.TestMode)
	e.router = gin.New()
	is.Register(e.router, nil)
	handler = e.router
	e.methods = did.NewResolver(did.NewWebMethod(did.WebConfig{AllowInsecureLocalhost: true, MinTTL: time.Nanosecond, TTL: time.Nanosecond}), did.KeyMethod{}, did.JWKMethod{})
	return e
}

// get serves a GET request in process.
func (e *ldEnv) get(target string, header ...string) *httptest.ResponseRecorder {
	w := httptest.NewRecorder()
	r := httptest.NewRequest(http.MethodGet, target, nil)
	for i := 0; i+1 < len(header); i += 2 {
		r.Header.Set(header[i], header[i+1])
	}
	e.router.ServeHTTP(w, r)
	return w
}

// verify verifies an ldp_vc credential of e's issuer as a verifier does:
// the contexts offline, the issuer's key through its did:web document.
func (e *ldEnv) verify(ctx context.Context, cred map[string]any) (ldp.ProofResult, error) {
	return ldp.Verify(ctx, cred, ldp.VerifyOptions{Loader: e.is.Contexts(), Methods: e.methods, Controller: e.is.DID()})
}

// ldResident is the first demo resident's identity data, with a photo.
func ldResident(t testing.TB) map[string]any {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("..", "idrepo", "demo", "residents.json"))
	if err != nil {
		t.Fatal(err)
	}
	var residents []struct {
		UIN      string         `json:"uin"`
		Identity map[string]any `json:"identity"`
	}
	if err := json.Unmarshal(raw, &residents); err != nil {
		t.Fatal(err)
	}
	id := residents[0].Identity
	id["UIN"] = residents[0].UIN
	id["photo"] = map[string]any{"format": "jpeg", "data": "/9j/4AAQSkZJRgABAQAAAQABAAD/2wBDAA=="}
	id["region"] = []any{map[string]any{"language": "eng", "value": "Dakar Region"}, map[string]any{"language": "ara", "value": "جهة داكار"}}
	return id
}

// ldHolder is a holder key and the HolderKey a proof of it gives.
func ldHolder(t testing.TB, binding string) (*HolderKey, string) {
	t.Helper()
	s := credtest.NewSigner(t, "ES256", "holder")
	pub, err := jwk.Import(s.Public())
	if err != nil {
		t.Fatal(err)
	}
	jwkDID, err := did.JWKDID(pub)
	if err != nil {
		t.Fatal(err)
	}
	keyDID, err := did.KeyDID(s.Public())
	if err != nil {
		t.Fatal(err)
	}
	switch binding {
	case BindingDIDKey:
		return &HolderKey{JWK: pub, DID: keyDID}, keyDID
	case BindingDIDJWK:
		return &HolderKey{JWK: pub, DID: jwkDID}, jwkDID
	}
	return &HolderKey{JWK: pub}, jwkDID
}

// issue issues a credential of configuration id for the demo resident.
func (e *ldEnv) issue(t *testing.T, id string, holder *HolderKey, status any) map[string]any {
	t.Helper()
	c := e.configs[id]
	claims, err := c.Render(ldResident(t), RenderEnv{Now: e.now})
	if err != nil {
		t.Fatalf("Render(%s) = %v", id, err)
	}
	signer, err := e.signers.Signer(c.SigningAlg)
	if err != nil {
		t.Fatal(err)
	}
	out, err := ldpVCFormat{}.Issue(t.Context(), IssueInput{
		Config: c, ID: "urn:uuid:6f1c1f57-5b0a-4d0e-9d7e-3c5b2f4a1e10", Issuer: e.is.Identifier(), IssuerDID: e.is.DID(),
		Contexts: e.is.Contexts(), Claims: claims, Holder: holder,
		IssuedAt: e.now, ValidFrom: e.now, ValidUntil: e.now.Add(c.Validity), Status: status, Signer: signer,
	})
	if err != nil {
		t.Fatalf("Issue(%s) = %v", id, err)
	}
	cred, ok := out.(map[string]any)
	if !ok {
		t.Fatalf("Issue(%s) = %T, want a JSON object", id, out)
	}
	// What the credential response carries: the object as JSON.
	b, err := json.Marshal(cred)
	if err != nil {
		t.Fatal(err)
	}
	var decoded map[string]any
	if err := json.Unmarshal(b, &decoded); err != nil {
		t.Fatal(err)
	}
	return decoded
}

// ldStatus is a credentialStatus as the status lists give it.
func ldStatus(base string) []any {
	return []any{
		map[string]any{"id": base + "/status/l1/revocation#94567", "type": "BitstringStatusListEntry", "statusPurpose": "revocation",
			"statusListIndex": "94567", "statusListCredential": base + "/status/l1/revocation"},
		map[string]any{"id": base + "/status/l1/suspension#94567", "type": "BitstringStatusListEntry", "statusPurpose": "suspension",
			"statusListIndex": "94567", "statusListCredential": base + "/status/l1/suspension"},
	}
}

func TestLDPFormatIssueVerifies(t *testing.T) {
	e := newLDEnv(t)
	tests := []struct {
		name, config, binding string
		status                bool
		// want
		contexts  []string
		from, to  string
		proofType string
		suite     string
	}{
		{name: "VCDM 2.0 eddsa-rdfc-2022, did:jwk of a jwk proof", config: ldConfig2022, binding: BindingJWK,
			contexts: []string{jsonld.CredentialsV2, e.is.Identifier() + "/contexts/national-id-ldp/context.jsonld"},
			from:     "validFrom", to: "validUntil", proofType: ldp.TypeDataIntegrityProof, suite: ldp.SuiteEdDSARDFC2022},
		{name: "VCDM 2.0 with status, did:key", config: ldConfig2022, binding: BindingDIDKey, status: true,
			contexts: []string{jsonld.CredentialsV2, e.is.Identifier() + "/contexts/national-id-ldp/context.jsonld"},
			from:     "validFrom", to: "validUntil", proofType: ldp.TypeDataIntegrityProof, suite: ldp.SuiteEdDSARDFC2022},
		{name: "VCDM 1.1 Ed25519Signature2020, did:jwk", config: ldConfig2020, binding: BindingDIDJWK,
			contexts: []string{jsonld.CredentialsV1, jsonld.Ed25519Suite2020V1, e.is.Identifier() + "/contexts/national-id-ldp-2020/context.jsonld"},
			from:     "issuanceDate", to: "expirationDate", proofType: ldp.TypeEd25519Signature2020, suite: ldp.SuiteEd25519Signature2020},
		{name: "VCDM 1.1 with status adds the status list context", config: ldConfig2020, binding: BindingJWK, status: true,
			contexts: []string{jsonld.CredentialsV1, jsonld.Ed25519Suite2020V1, e.is.Identifier() + "/contexts/national-id-ldp-2020/context.jsonld", jsonld.StatusListV1},
			from:     "issuanceDate", to: "expirationDate", proofType: ldp.TypeEd25519Signature2020, suite: ldp.SuiteEd25519Signature2020},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			holder, holderDID := ldHolder(t, tt.binding)
			var status any
			if tt.status {
				status = ldStatus(e.is.Identifier())
			}
			cred := e.issue(t, tt.config, holder, status)
			res, err := e.verify(t.Context(), cred)
			if err != nil {
				t.Fatalf("ldp.Verify(%s credential) = %v", tt.config, err)
			}
			if res.Suite != tt.suite || !strings.HasPrefix(res.VerificationMethod.ID, e.is.DID()+"#") || !res.Created.Equal(e.now) {
				t.Errorf("ldp.Verify = %+v, want %s by a method of %s created %s", res, tt.suite, e.is.DID(), e.now)
			}
			// Ed25519Signature2020 verifiers (Inji Verify) read the key of an
			// Ed25519VerificationKey2020 only.
			wantType := did.TypeMultikey
			if tt.suite == ldp.SuiteEd25519Signature2020 {
				wantType = did.TypeEd25519VerificationKey2020
			}
			if res.VerificationMethod.Type != wantType {
				t.Errorf("verification method %s is a %s, want a %s", res.VerificationMethod.ID, res.VerificationMethod.Type, wantType)
			}
			ctxs, _ := json.Marshal(cred["@context"])
			if want, _ := json.Marshal(tt.contexts); !bytes.Equal(ctxs, want) {
				t.Errorf("@context = %s, want %s", ctxs, want)
			}
			subject, _ := cred["credentialSubject"].(map[string]any)
			proof, _ := cred["proof"].(map[string]any)
			types, _ := json.Marshal(cred["type"])
			if cred["issuer"] != e.is.DID() || cred["id"] != "urn:uuid:6f1c1f57-5b0a-4d0e-9d7e-3c5b2f4a1e10" ||
				string(types) != `["VerifiableCredential","NationalIDCredential"]` || subject["id"] != holderDID ||
				proof["type"] != tt.proofType || proof["proofPurpose"] != ldp.ProofPurposeAssertion {
				t.Errorf("credential issuer %v, id %v, type %s, subject id %v, proof %v; want %s, the id, the types, %s, a %s assertion proof",
					cred["issuer"], cred["id"], types, subject["id"], proof, e.is.DID(), holderDID, tt.proofType)
			}
			if cred[tt.from] != e.now.Format(time.RFC3339) || cred[tt.to] != e.now.Add(365*24*time.Hour).Format(time.RFC3339) {
				t.Errorf("%s %v, %s %v; want %s and a year later", tt.from, cred[tt.from], tt.to, cred[tt.to], e.now.Format(time.RFC3339))
			}
			for _, k := range []string{"validFrom", "validUntil", "issuanceDate", "expirationDate"} {
				if _, ok := cred[k]; ok && k != tt.from && k != tt.to {
					t.Errorf("credential has %s, which its data model does not", k)
				}
			}
			if _, ok := cred["credentialStatus"]; ok != tt.status {
				t.Errorf("credentialStatus present = %v, want %v", ok, tt.status)
			}
			names, _ := json.Marshal(subject["fullName"])
			if !strings.Contains(string(names), "Amina Diallo") || subject["dateOfBirth"] != "1990-05-14" ||
				!strings.HasPrefix(subject["face"].(string), "data:image/jpeg;base64,") {
				t.Errorf("credentialSubject = %v, want the resident's claims", subject)
			}

			// Tampered copies fail.
			for _, tamper := range []struct {
				name string
				edit func(c map[string]any)
			}{
				{"changed claim", func(c map[string]any) { c["credentialSubject"].(map[string]any)["dateOfBirth"] = "1991-05-14" }},
				{"other holder", func(c map[string]any) { c["credentialSubject"].(map[string]any)["id"] = "did:example:mallory" }},
				{"injected claim", func(c map[string]any) { c["credentialSubject"].(map[string]any)["nationality"] = "Atlantis" }},
				{"claims context dropped", func(c map[string]any) {
					c["@context"] = slices.DeleteFunc(slices.Clone(c["@context"].([]any)), func(u any) bool {
						return strings.HasSuffix(u.(string), "/context.jsonld")
					})
				}},
				{"redefined term", func(c map[string]any) {
					c["@context"] = append(slices.Clone(c["@context"].([]any)), map[string]any{"dateOfBirth": "https://evil.example/dob"})
				}},
				{"later expiry", func(c map[string]any) { c[tt.to] = e.now.Add(10 * 365 * 24 * time.Hour).Format(time.RFC3339) }},
			} {
				c := ldClone(t, cred)
				tamper.edit(c)
				if _, err := e.verify(t.Context(), c); err == nil {
					t.Errorf("ldp.Verify(%s) succeeded, want an error", tamper.name)
				}
			}
		})
	}
}

// ldClone deep-copies a credential through JSON.
func ldClone(t testing.TB, c map[string]any) map[string]any {
	t.Helper()
	b, err := json.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	var out map[string]any
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	return out
}

// TestLDPFormatRetiredKey: a credential signed before a rotation still
// verifies, its key being listed as retired in the DID document.
func TestLDPFormatRetiredKey(t *testing.T) {
	e := newLDEnv(t)
	holder, _ := ldHolder(t, BindingJWK)
	before := map[string]map[string]any{}
	for _, id := range []string{ldConfig2022, ldConfig2020} {
		before[id] = e.issue(t, id, holder, nil)
	}
	e.signers.rotate(t, "EdDSA", "ed-next")
	e.now = e.now.Add(time.Hour) // past the issuer's DID document cache
	for _, id := range []string{ldConfig2022, ldConfig2020} {
		after := e.issue(t, id, holder, nil)
		if _, err := e.verify(t.Context(), after); err != nil {
			t.Errorf("%s credential of the new key: ldp.Verify = %v", id, err)
		}
		if _, err := e.verify(t.Context(), before[id]); err != nil {
			t.Errorf("%s credential of the retired key: ldp.Verify = %v", id, err)
		}
		vm := func(c map[string]any) any { return c["proof"].(map[string]any)["verificationMethod"] }
		if vm(after) == vm(before[id]) {
			t.Errorf("%s: the new credential names the retired key %v", id, vm(after))
		}
	}
}

func TestLDPFormatIssueErrors(t *testing.T) {
	e := newLDEnv(t)
	c := e.configs[ldConfig2022]
	ed, _ := e.signers.Signer("EdDSA")
	es, _ := e.signers.Signer("ES256")
	valid := func() IssueInput {
		return IssueInput{Config: c, ID: "urn:uuid:1", IssuerDID: e.is.DID(), Contexts: e.is.Contexts(),
			Claims: map[string]any{"dateOfBirth": "1990-05-14"}, IssuedAt: e.now, Signer: ed}
	}
	tests := []struct {
		name string
		edit func(*IssueInput)
	}{
		{"no configuration", func(in *IssueInput) { in.Config = nil }},
		{"no signer", func(in *IssueInput) { in.Signer = nil }},
		{"no issuer DID", func(in *IssueInput) { in.IssuerDID = "" }},
		{"no contexts", func(in *IssueInput) { in.Contexts = nil }},
		{"signer of another algorithm", func(in *IssueInput) { in.Signer = es }},
		{"holder without a key", func(in *IssueInput) { in.Holder = &HolderKey{} }},
		{"undefined claim", func(in *IssueInput) {
			cc := *e.configs[ldConfig2020]
			in.Config = &cc
			in.Claims = map[string]any{"nationality": "SN"}
		}},
		{"context not loaded", func(in *IssueInput) { in.Contexts = jsonld.Bundled() }},
		{"claims not JSON", func(in *IssueInput) { in.Claims = map[string]any{"x": func() {}} }},
	}
	if _, err := (ldpVCFormat{}).Issue(t.Context(), valid()); err != nil {
		t.Fatalf("Issue(valid) = %v", err)
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := valid()
			tt.edit(&in)
			if in.Config != nil && in.Config.Cryptosuite == ldp.SuiteEd25519Signature2020 {
				in.Signer = ed
			}
			if got, err := (ldpVCFormat{}).Issue(t.Context(), in); err == nil {
				t.Errorf("Issue(%s) = %v, want an error", tt.name, got)
			}
		})
	}
}

func TestLDPFormatValidate(t *testing.T) {
	valid := func() *Configuration {
		return &Configuration{ID: "t", Format: credential.FormatLDPVC, Types: []string{"VerifiableCredential", "X"},
			DataModel: DataModel20, Cryptosuite: ldp.SuiteEdDSARDFC2022, SigningAlg: "EdDSA",
			Subject: map[string]any{"name": "{{ fullName }}"}}
	}
	if err := (ldpVCFormat{}).Validate(valid()); err != nil {
		t.Fatalf("Validate(valid) = %v", err)
	}
	tests := []struct {
		name string
		edit func(*Configuration)
		want string
	}{
		{"no VerifiableCredential", func(c *Configuration) { c.Types = []string{"X", "Y"} }, "must include VerifiableCredential"},
		{"only VerifiableCredential", func(c *Configuration) { c.Types = []string{"VerifiableCredential"} }, "own type"},
		{"type twice", func(c *Configuration) { c.Types = []string{"VerifiableCredential", "X", "X"} }, `type "X" is empty or listed twice`},
		{"unknown data model", func(c *Configuration) { c.DataModel = "3.0" }, `data model "3.0"`},
		{"unknown suite", func(c *Configuration) { c.Cryptosuite = "bbs-2023" }, `cryptosuite "bbs-2023"`},
		{"alg of another suite", func(c *Configuration) { c.SigningAlg = "ES256" }, `signing_alg "ES256" does not sign eddsa-rdfc-2022`},
		{"2020 with VCDM 2.0", func(c *Configuration) { c.Cryptosuite = ldp.SuiteEd25519Signature2020 }, "secures VCDM 1.1 credentials only"},
		{"1.1 context in 2.0", func(c *Configuration) { c.Contexts = []string{jsonld.CredentialsV1} }, "belongs to the other data model"},
		{"2.0 context in 1.1", func(c *Configuration) { c.DataModel = DataModel11; c.Contexts = []string{jsonld.CredentialsV2} }, "belongs to the other data model"},
		{"subject id", func(c *Configuration) { c.Subject["id"] = "x" }, "must not set credentialSubject id"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := valid()
			tt.edit(c)
			err := (ldpVCFormat{}).Validate(c)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Validate(%s) = %v, want an error with %q", tt.name, err, tt.want)
			}
		})
	}
}

func TestLDPContexts(t *testing.T) {
	own := "https://id.example/issuer/contexts/x/context.jsonld"
	tests := []struct {
		name   string
		c      Configuration
		status bool
		want   []string
	}{
		{"2.0", Configuration{DataModel: DataModel20, Cryptosuite: ldp.SuiteEdDSARDFC2022, Contexts: []string{own}}, false,
			[]string{jsonld.CredentialsV2, own}},
		{"2.0 with status", Configuration{DataModel: DataModel20, Cryptosuite: ldp.SuiteECDSARDFC2019, Contexts: []string{own}}, true,
			[]string{jsonld.CredentialsV2, own}},
		{"2.0 base context listed", Configuration{DataModel: DataModel20, Cryptosuite: ldp.SuiteEdDSARDFC2022, Contexts: []string{jsonld.CredentialsV2, own}}, false,
			[]string{jsonld.CredentialsV2, own}},
		{"1.1 DataIntegrityProof", Configuration{DataModel: DataModel11, Cryptosuite: ldp.SuiteEdDSARDFC2022, Contexts: []string{own}}, false,
			[]string{jsonld.CredentialsV1, jsonld.DataIntegrityV2, own}},
		{"1.1 Ed25519Signature2020 with status", Configuration{DataModel: DataModel11, Cryptosuite: ldp.SuiteEd25519Signature2020, Contexts: []string{jsonld.CredentialsV1, own}}, true,
			[]string{jsonld.CredentialsV1, jsonld.Ed25519Suite2020V1, own, jsonld.StatusListV1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := ldpContexts(&tt.c, tt.status); !slices.Equal(got, tt.want) {
				t.Errorf("ldpContexts(%+v, %v) = %v, want %v", tt.c, tt.status, got, tt.want)
			}
		})
	}
}

func TestLDPFormatMatchesDraft13(t *testing.T) {
	e := newLDEnv(t)
	c20, c11 := e.configs[ldConfig2022], e.configs[ldConfig2020]
	types := []string{"NationalIDCredential", "VerifiableCredential"}
	tests := []struct {
		name     string
		req      Draft13Selector
		c20, c11 bool
	}{
		{"types only: both", Draft13Selector{Format: "ldp_vc", Types: types}, true, true},
		{"2.0 contexts", Draft13Selector{Format: "ldp_vc", Types: types, Contexts: ldpContexts(c20, false)}, true, false},
		{"1.1 contexts", Draft13Selector{Format: "ldp_vc", Types: types, Contexts: ldpContexts(c11, false)}, false, true},
		{"1.1 contexts with status", Draft13Selector{Format: "ldp_vc", Types: types, Contexts: ldpContexts(c11, true)}, false, true},
		{"contexts in another order", Draft13Selector{Format: "ldp_vc", Types: types, Contexts: ldReversed(ldpContexts(c20, false))}, true, false},
		{"a context missing", Draft13Selector{Format: "ldp_vc", Types: types, Contexts: []string{jsonld.CredentialsV2}}, false, false},
		{"another format", Draft13Selector{Format: "jwt_vc_json", Types: types}, false, false},
		{"other types", Draft13Selector{Format: "ldp_vc", Types: []string{"VerifiableCredential"}}, false, false},
		{"no types", Draft13Selector{Format: "ldp_vc"}, false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := (ldpVCFormat{}).MatchesDraft13(c20, tt.req); got != tt.c20 {
				t.Errorf("MatchesDraft13(%s, %+v) = %v, want %v", c20.ID, tt.req, got, tt.c20)
			}
			if got := (ldpVCFormat{}).MatchesDraft13(c11, tt.req); got != tt.c11 {
				t.Errorf("MatchesDraft13(%s, %+v) = %v, want %v", c11.ID, tt.req, got, tt.c11)
			}
		})
	}
}

func ldReversed(s []string) []string {
	out := slices.Clone(s)
	slices.Reverse(out)
	return out
}

func TestLDPFormatMetadata(t *testing.T) {
	e := newLDEnv(t)
	for _, id := range []string{ldConfig2022, ldConfig2020} {
		c := e.configs[id]
		for _, draft13 := range []bool{false, true} {
			m := (ldpVCFormat{}).Metadata(c, draft13)
			def, _ := m["credential_definition"].(map[string]any)
			if !slices.Equal(def["@context"].([]string), ldpContexts(c, false)) || !slices.Equal(def["type"].([]string), c.Types) {
				t.Errorf("Metadata(%s, %v) credential_definition = %v, want the @context and type of the credentials", id, draft13, def)
			}
			if _, ok := def["credentialSubject"]; ok != draft13 {
				t.Errorf("Metadata(%s, %v) credentialSubject present = %v, want %v", id, draft13, ok, draft13)
			}
			if got := m["credential_signing_alg_values_supported"]; !slices.Equal(got.([]string), []string{c.Cryptosuite}) {
				t.Errorf("Metadata(%s, %v) credential_signing_alg_values_supported = %v, want [%s]", id, draft13, got, c.Cryptosuite)
			}
		}
	}
}

// TestSignLDP: what the status lists sign with signLDP verifies through the
// DID document, for each suite.
func TestSignLDP(t *testing.T) {
	e := newLDEnv(t)
	doc := map[string]any{
		"@context":          []any{jsonld.CredentialsV2},
		"type":              []any{"VerifiableCredential"},
		"issuer":            e.is.DID(),
		"credentialSubject": map[string]any{"name": "x"},
	}
	for _, suite := range []string{ldp.SuiteEdDSARDFC2022, ldp.SuiteECDSARDFC2019, ldp.SuiteEd25519Signature2020} {
		t.Run(suite, func(t *testing.T) {
			d := doc
			if suite == ldp.SuiteEd25519Signature2020 {
				d = ldClone(t, doc)
				d["@context"] = []any{jsonld.CredentialsV1, jsonld.Ed25519Suite2020V1}
				d["issuanceDate"] = e.now.Format(time.RFC3339)
				d["credentialSubject"] = map[string]any{"id": "did:example:x"}
			}
			signed, err := e.is.signLDP(t.Context(), d, suite)
			if err != nil {
				t.Fatalf("signLDP(%s) = %v", suite, err)
			}
			res, err := e.verify(t.Context(), signed)
			if err != nil || res.Suite != suite || !res.Created.Equal(e.now) {
				t.Errorf("ldp.Verify(signLDP(%s)) = %+v, %v; want the suite, created now", suite, res, err)
			}
		})
	}
	if _, err := e.is.signLDP(t.Context(), doc, "bbs-2023"); !errors.Is(err, ldp.ErrUnsupportedSuite) {
		t.Errorf("signLDP(bbs-2023) = %v, want ldp.ErrUnsupportedSuite", err)
	}
}

func TestLDPJSON(t *testing.T) {
	in := map[string]any{
		"i": int64(3), "n": json.Number("2.5"), "s": "x", "b": true, "z": nil, "f": 1.5,
		"l":  []any{int(1), map[string]any{"k": int64(2)}},
		"ss": []string{"a", "b"},
		"st": struct {
			A int `json:"a"`
		}{4},
	}
	got, err := ldpJSON(in)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]any{
		"i": 3.0, "n": 2.5, "s": "x", "b": true, "z": nil, "f": 1.5,
		"l":  []any{1.0, map[string]any{"k": 2.0}},
		"ss": []any{"a", "b"},
		"st": map[string]any{"a": 4.0},
	}
	gj, _ := json.Marshal(got)
	wj, _ := json.Marshal(want)
	if !bytes.Equal(gj, wj) {
		t.Errorf("ldpJSON = %s, want %s", gj, wj)
	}
	if g := got.(map[string]any)["l"].([]any)[1].(map[string]any)["k"]; g != 2.0 {
		t.Errorf("ldpJSON nested int = %T %v, want float64 2", g, g)
	}
	if _, err := ldpJSON(map[string]any{"n": json.Number("x")}); err == nil {
		t.Error("ldpJSON(bad json.Number) succeeded")
	}
	if _, err := ldpJSON(map[string]any{"c": make(chan int)}); err == nil {
		t.Error("ldpJSON(channel) succeeded")
	}
}

// TestLDPFormatIssueNumbers: numbers in the claims (json.Number identity
// data as written, int64 template literals) reach the credential as
// float64, whose JSON is the shortest form ("1.50" is 1.5), and the
// credential still verifies.
func TestLDPFormatIssueNumbers(t *testing.T) {
	e := newLDEnv(t)
	c := e.configs[ldConfig2022]
	signer, err := e.signers.Signer(c.SigningAlg)
	if err != nil {
		t.Fatal(err)
	}
	claims := map[string]any{
		"postalCode":  json.Number("1.50"),
		"dateOfBirth": json.Number("1E3"),
		"city":        []any{int64(7), json.Number("2.0"), "Dakar"},
	}
	out, err := ldpVCFormat{}.Issue(t.Context(), IssueInput{Config: c, ID: "urn:uuid:1", IssuerDID: e.is.DID(),
		Contexts: e.is.Contexts(), Claims: claims, IssuedAt: e.now, Signer: signer})
	if err != nil {
		t.Fatalf("Issue = %v", err)
	}
	cred := out.(map[string]any)
	got, err := json.Marshal(cred["credentialSubject"])
	if err != nil {
		t.Fatal(err)
	}
	if want := `{"city":[7,2,"Dakar"],"dateOfBirth":1000,"postalCode":1.5}`; string(got) != want {
		t.Errorf("Issue(numbers) credentialSubject = %s, want %s", got, want)
	}
	// As a verifier reads the credential response.
	b, err := json.Marshal(cred)
	if err != nil {
		t.Fatal(err)
	}
	var decoded map[string]any
	if err := json.Unmarshal(b, &decoded); err != nil {
		t.Fatal(err)
	}
	if _, err := e.verify(t.Context(), decoded); err != nil {
		t.Errorf("verify(issued with numbers) = %v", err)
	}
}

// BenchmarkLDPFormatIssue signs one demo credential per iteration, both
// templates (the contexts parsed once, as in the issuer).
func BenchmarkLDPFormatIssue(b *testing.B) {
	for _, id := range []string{ldConfig2022, ldConfig2020} {
		b.Run(id, func(b *testing.B) {
			configs, err := LoadTemplates(templates.FS(), "https://id.example/issuer")
			if err != nil {
				b.Fatal(err)
			}
			var c *Configuration
			extra := map[string][]byte{}
			for _, cc := range configs {
				for u, body := range cc.ContextFiles {
					extra[u] = body
				}
				if cc.ID == id {
					c = cc
				}
			}
			loader, err := jsonld.NewLoader(extra)
			if err != nil {
				b.Fatal(err)
			}
			claims, err := c.Render(ldResident(b), RenderEnv{Now: time.Now()})
			if err != nil {
				b.Fatal(err)
			}
			holder, _ := ldHolder(b, BindingDIDJWK)
			signer := credtest.NewSigner(b, c.SigningAlg, "k1")
			in := IssueInput{Config: c, ID: "urn:uuid:1", IssuerDID: "did:web:id.example", Contexts: loader, Claims: claims,
				Holder: holder, IssuedAt: time.Now(), ValidUntil: time.Now().Add(time.Hour), Signer: signer}
			for b.Loop() {
				if _, err := (ldpVCFormat{}).Issue(b.Context(), in); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// TestDraft13SelectorContexts: a draft-13 request's
// credential_definition.@context is read when it is a URL or a list of
// URLs, and ignored otherwise (as before ldp_vc).
func TestDraft13SelectorContexts(t *testing.T) {
	tests := []struct {
		name, def string
		want      []string
	}{
		{"list", `{"type":["VerifiableCredential"],"@context":["https://a.example","https://b.example"]}`, []string{"https://a.example", "https://b.example"}},
		{"one URL", `{"type":["VerifiableCredential"],"@context":"https://a.example"}`, []string{"https://a.example"}},
		{"absent", `{"type":["VerifiableCredential"]}`, nil},
		{"inline context ignored", `{"type":["VerifiableCredential"],"@context":["https://a.example",{"x":"https://x.example"}]}`, nil},
		{"number ignored", `{"type":["VerifiableCredential"],"@context":3}`, nil},
		{"empty string ignored", `{"type":["VerifiableCredential"],"@context":""}`, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var w credentialRequestWire
			body := `{"format":"ldp_vc","credential_definition":` + tt.def + `,"proof":{"proof_type":"jwt","jwt":"a.b.c"}}`
			if err := decodeJSONObject([]byte(body), &w); err != nil {
				t.Fatal(err)
			}
			req, err := w.Validate(3)
			if err != nil {
				t.Fatalf("Validate(%s) = %v", body, err)
			}
			if req.Draft13 == nil || !slices.Equal(req.Draft13.Contexts, tt.want) || !slices.Equal(req.Draft13.Types, []string{"VerifiableCredential"}) {
				t.Errorf("Validate(%s).Draft13 = %+v, want contexts %v", body, req.Draft13, tt.want)
			}
		})
	}
}
