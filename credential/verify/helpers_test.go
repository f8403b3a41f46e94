package verify

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sanad-id/sanad/credential/credtest"
	"github.com/sanad-id/sanad/credential/did"
	"github.com/sanad-id/sanad/credential/jsonld"
	"github.com/sanad-id/sanad/credential/jwtvc"
	"github.com/sanad-id/sanad/credential/ldp"
	"github.com/sanad-id/sanad/credential/sdjwt"
	"github.com/sanad-id/sanad/credential/statuslist"
)

// testNow is the clock of the tests.
var testNow = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// testContextURL is a template context registered with the loader, for
// VCDM 1.1 credentials (whose base context defines no subject terms).
const testContextURL = "https://sanad.example/contexts/test/v1"

const testContext = `{"@context": {"@version": 1.1, "@protected": true,
  "name": "https://schema.org/name",
  "TestCredential": "https://sanad.example/vocab#TestCredential"}}`

func testLoader(t testing.TB) *jsonld.Loader {
	t.Helper()
	l, err := jsonld.NewLoader(map[string][]byte{testContextURL: []byte(testContext)})
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// didSigner is an issuer or holder key named by its did:key: the signer's
// kid is the did:key verification method.
type didSigner struct {
	*credtest.Signer
	did, kid string
}

func newDIDSigner(t testing.TB, alg string) *didSigner {
	t.Helper()
	s := credtest.NewSigner(t, alg, "unused")
	d, err := did.KeyDID(s.Public())
	if err != nil {
		t.Fatal(err)
	}
	return &didSigner{Signer: s, did: d, kid: d + "#" + strings.TrimPrefix(d, "did:key:")}
}

func (s *didSigner) KeyID() string { return s.kid }

// SignJWS is credtest's with the did:key kid.
func (s *didSigner) SignJWS(ctx context.Context, payload []byte, header map[string]any) (string, error) {
	h := map[string]any{}
	for k, v := range header {
		h[k] = v
	}
	h["alg"], h["kid"] = s.Alg(), s.kid
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

// memFetcher serves status lists from memory and records what was asked.
type memFetcher struct {
	mu      sync.Mutex
	docs    map[string]served
	fetches []string // accept + " " + url
}

type served struct {
	body []byte
	ct   string
}

func newMemFetcher() *memFetcher { return &memFetcher{docs: map[string]served{}} }

func (m *memFetcher) put(u string, body []byte, ct string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.docs[u] = served{body, ct}
}

func (m *memFetcher) Fetch(_ context.Context, u, accept string) ([]byte, string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.fetches = append(m.fetches, accept+" "+u)
	d, ok := m.docs[u]
	if !ok {
		return nil, "", fmt.Errorf("dial tcp: connection refused")
	}
	return d.body, d.ct, nil
}

// Status list URLs of the tests.
const (
	revocationURL = "https://issuer.example/status/revocation/1"
	suspensionURL = "https://issuer.example/status/suspension/1"
	tokenListURL  = "https://issuer.example/status/token/1"
)

// Indices of the tests: entry idxValid is clear in every list, idxSet is
// set in every list.
const (
	idxValid = 17
	idxSet   = 4242
)

// listOptions change a W3C list credential built by w3cList.
type listOptions struct {
	signer     *didSigner // signs the list; nil: the issuer
	issuer     string     // issuer of the list; empty: the signer's DID
	validUntil time.Time  // zero: testNow + 1 day
	v1         bool       // VCDM 1.1 with Ed25519Signature2020
	jwt        bool       // a jwt_vc_json list instead of a Data Integrity one
}

// w3cList returns the signed status list credential at u with bit idxSet
// set.
func w3cList(t testing.TB, l *jsonld.Loader, signer *didSigner, u, purpose string, o listOptions) []byte {
	t.Helper()
	if o.signer != nil {
		signer = o.signer
	}
	issuer := o.issuer
	if issuer == "" {
		issuer = signer.did
	}
	until := o.validUntil
	if until.IsZero() {
		until = testNow.Add(24 * time.Hour)
	}
	from := testNow.Add(-time.Hour)
	if !until.After(from) {
		from = until.Add(-time.Hour)
	}
	bits := statuslist.NewBitstring(statuslist.DefaultSize)
	if err := bits.Set(idxSet, true); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if o.jwt {
		encoded, err := bits.Encode()
		if err != nil {
			t.Fatal(err)
		}
		jwt, err := jwtvc.Issue(ctx, signer, jwtvc.Credential{
			ID:        u,
			Issuer:    issuer,
			Types:     []string{"VerifiableCredential", statuslist.TypeListCredential},
			Contexts:  []string{jwtvc.ContextV1, statuslist.ContextStatusV1},
			SubjectID: u + "#list",
			Subject: map[string]any{
				"type": statuslist.TypeList, "statusPurpose": purpose, "encodedList": encoded,
			},
			ValidFrom:  from,
			ValidUntil: until,
		})
		if err != nil {
			t.Fatal(err)
		}
		return []byte(jwt)
	}
	doc, err := statuslist.ListCredential(u, issuer, purpose, bits, from, until, !o.v1)
	if err != nil {
		t.Fatal(err)
	}
	suite := suiteFor(signer)
	if o.v1 {
		doc["@context"] = append(doc["@context"].([]any), jsonld.Ed25519Suite2020V1)
		suite = ldp.SuiteEd25519Signature2020
	}
	signed, err := ldp.Sign(ctx, l, doc, signer, ldp.SignOptions{Suite: suite, VerificationMethod: signer.kid, Created: from})
	if err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(signed)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func suiteFor(s *didSigner) string {
	if s.Alg() == "ES256" {
		return ldp.SuiteECDSARDFC2019
	}
	return ldp.SuiteEdDSARDFC2022
}

// tokenList returns a status list token at u, 2 bits per entry, with
// entry idxSet set to value.
func tokenList(t testing.TB, signer *didSigner, u string, value uint8, exp time.Time) []byte {
	t.Helper()
	list, err := statuslist.NewTokenList(2, 8192)
	if err != nil {
		t.Fatal(err)
	}
	if err := list.Set(idxSet, value); err != nil {
		t.Fatal(err)
	}
	tok, err := statuslist.IssueToken(context.Background(), signer, list, statuslist.TokenOptions{
		URI: u, Issuer: signer.did, IssuedAt: testNow.Add(-time.Minute), ExpiresAt: exp,
	})
	if err != nil {
		t.Fatal(err)
	}
	return []byte(tok)
}

// credOptions shape a test credential.
type credOptions struct {
	from, until time.Time // zero: testNow - 1h, testNow + 1 year
	status      []statuslist.Entry
	token       *statuslist.TokenReference
	holder      *didSigner // SD-JWT cnf
}

func (o credOptions) period() (time.Time, time.Time) {
	from, until := o.from, o.until
	if from.IsZero() {
		from = testNow.Add(-time.Hour)
	}
	if until.IsZero() {
		until = testNow.AddDate(1, 0, 0)
	}
	return from, until
}

func statusValue(entries []statuslist.Entry) any {
	switch len(entries) {
	case 0:
		return nil
	case 1:
		return entries[0].Map()
	}
	out := make([]any, len(entries))
	for i, e := range entries {
		out[i] = e.Map()
	}
	return out
}

// ldpCredential signs a credential with suite: VCDM 2.0 for the Data
// Integrity suites, 1.1 for Ed25519Signature2020.
func ldpCredential(t testing.TB, l *jsonld.Loader, issuer *didSigner, suite string, o credOptions) map[string]any {
	t.Helper()
	from, until := o.period()
	doc := map[string]any{
		"id":                "urn:uuid:6a1c2e1e-5f0e-4c39-9d55-0d3f6b1f2c11",
		"type":              []any{"VerifiableCredential", "TestCredential"},
		"issuer":            issuer.did,
		"credentialSubject": map[string]any{"id": "did:example:holder", "name": "Amina"},
	}
	if suite == ldp.SuiteEd25519Signature2020 {
		ctxs := []any{jsonld.CredentialsV1}
		if len(o.status) > 0 {
			ctxs = append(ctxs, jsonld.StatusListV1)
		}
		doc["@context"] = append(ctxs, jsonld.Ed25519Suite2020V1, testContextURL)
		doc["issuanceDate"] = from.Format(time.RFC3339)
		doc["expirationDate"] = until.Format(time.RFC3339)
	} else {
		doc["@context"] = []any{jsonld.CredentialsV2, testContextURL}
		doc["validFrom"] = from.Format(time.RFC3339)
		doc["validUntil"] = until.Format(time.RFC3339)
	}
	if s := statusValue(o.status); s != nil {
		doc["credentialStatus"] = s
	}
	signed, err := ldp.Sign(context.Background(), l, doc, issuer, ldp.SignOptions{Suite: suite, VerificationMethod: issuer.kid, Created: from})
	if err != nil {
		t.Fatal(err)
	}
	return signed
}

func marshal(t testing.TB, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// jwtCredential issues a jwt_vc_json credential.
func jwtCredential(t testing.TB, issuer *didSigner, o credOptions) []byte {
	t.Helper()
	from, until := o.period()
	jwt, err := jwtvc.Issue(context.Background(), issuer, jwtvc.Credential{
		ID:         "urn:uuid:0b9b2f4e-8d7c-4c3e-a6a4-3f7f0c2b9e01",
		Issuer:     issuer.did,
		Types:      []string{"VerifiableCredential", "TestCredential"},
		Subject:    map[string]any{"name": "Amina"},
		SubjectID:  "did:example:holder",
		ValidFrom:  from,
		ValidUntil: until,
		Status:     statusValue(o.status),
	})
	if err != nil {
		t.Fatal(err)
	}
	return []byte(jwt)
}

// sdJWTCredential issues an SD-JWT VC with given_name disclosable.
func sdJWTCredential(t testing.TB, issuer *didSigner, o credOptions) string {
	t.Helper()
	from, until := o.period()
	vc := sdjwt.VC{
		Issuer:      issuer.did,
		VCT:         "https://issuer.example/vct/test",
		IssuedAt:    from,
		NotBefore:   from,
		Expires:     until,
		Claims:      map[string]any{"given_name": "Amina", "sub": "did:example:holder"},
		Disclosable: []sdjwt.Path{{"given_name"}},
	}
	if o.token != nil {
		vc.Status = o.token.Map()
	}
	if o.holder != nil {
		vc.Holder = o.holder.Public()
	}
	s, err := sdjwt.IssueVC(context.Background(), issuer, vc)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// present adds a KB-JWT for nonce and aud to an SD-JWT VC.
func present(t testing.TB, cred string, holder *didSigner, nonce, aud string) string {
	t.Helper()
	tok, err := sdjwt.Parse(cred)
	if err != nil {
		t.Fatal(err)
	}
	p, err := tok.Present(context.Background(), []sdjwt.Path{{"given_name"}}, &sdjwt.KeyBinding{
		Signer: holder, Audience: aud, Nonce: nonce, IssuedAt: testNow,
	})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// tamperJWS changes the payload of the first JWS of s (a JWT or SD-JWT)
// with edit, keeping the signature.
func tamperJWS(t testing.TB, s string, edit func(map[string]any)) string {
	t.Helper()
	jwt, rest, _ := strings.Cut(s, "~")
	parts := strings.Split(jwt, ".")
	b, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	var p map[string]any
	if err := json.Unmarshal(b, &p); err != nil {
		t.Fatal(err)
	}
	edit(p)
	parts[1] = base64.RawURLEncoding.EncodeToString(marshal(t, p))
	out := strings.Join(parts, ".")
	if strings.Contains(s, "~") {
		out += "~" + rest
	}
	return out
}

// checkSummary renders the checks as "name=status ...".
func checkSummary(r Result) string {
	parts := make([]string, len(r.Checks))
	for i, c := range r.Checks {
		parts[i] = c.Name + "=" + c.Status
	}
	return strings.Join(parts, " ")
}
